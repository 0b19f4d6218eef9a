//! The `approvals` table.

use sea_orm::entity::prelude::*;

/// One row of `approvals`. The `signed_*` columns are written once, when it is approved.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "approvals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub project_id: Uuid,
    pub subject_type: String,
    pub file_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub version: Option<i32>,
    pub status: String,
    pub due_date: Option<Date>,
    pub requested_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub signed_by: Option<Uuid>,
    pub signed_at: Option<DateTimeUtc>,
    pub signed_version: Option<i32>,
    pub signed_sha256: Option<String>,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
