//! The `invoices` table.

use sea_orm::entity::prelude::*;

/// One row of `invoices`. Money columns are canonical decimal strings.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub project_id: Option<Uuid>,
    pub seq: i64,
    pub number: String,
    pub status: String,
    pub currency: String,
    pub issue_date: Date,
    pub due_date: Date,
    pub notes: String,
    pub payment_instructions: String,
    pub subtotal: String,
    pub tax_total: String,
    pub total: String,
    pub paid: String,
    pub replaces_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub voided_at: Option<DateTimeUtc>,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
