//! The `tickets` table.

use sea_orm::entity::prelude::*;

/// One row of `tickets`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: i64,
    pub client_id: Uuid,
    pub project_id: Option<Uuid>,
    pub requester_id: Uuid,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub priority: String,
    pub assignee_id: Option<Uuid>,
    /// The request form's answers, as a JSON object.
    pub fields: String,
    pub task_id: Option<Uuid>,
    pub first_response_due_at: Option<DateTimeUtc>,
    pub resolution_due_at: Option<DateTimeUtc>,
    pub first_responded_at: Option<DateTimeUtc>,
    pub solved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// When the service-level clock stopped (the ticket went to pending).
    pub paused_at: Option<DateTimeUtc>,
    /// When the assignee and admins were warned of an approaching breach.
    pub warned_at: Option<DateTimeUtc>,
    pub satisfaction: Option<String>,
    pub satisfaction_comment: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
