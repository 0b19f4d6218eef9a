//! The `recurring_invoices` table: the schedules that issue invoices every interval.

use sea_orm::entity::prelude::*;

/// One schedule. `lines` is a JSON array of [`atrium_core::model::RecurringLine`];
/// `interval` and `status` are the stored names of their enums.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recurring_invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub project_id: Option<Uuid>,
    pub name: String,
    pub currency: String,
    pub lines: String,
    pub notes: String,
    pub interval: String,
    pub anchor_day: i32,
    pub next_issue_date: Date,
    pub due_days: i32,
    pub auto_send: bool,
    pub status: String,
    pub issued_count: i32,
    pub last_issued_on: Option<Date>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
