//! The `audit_log` table.

use sea_orm::entity::prelude::*;

/// One row of `audit_log`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub actor_id: Option<Uuid>,
    pub via_user_id: Option<Uuid>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<String>,
    pub client_id: Option<Uuid>,
    pub ip: Option<String>,
    pub detail: String,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
