//! The `payments` table.

use sea_orm::entity::prelude::*;

/// A payment recorded against an invoice.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub amount: String,
    pub paid_on: Date,
    pub method: String,
    pub reference: String,
    pub recorded_by: Uuid,
    pub created_at: DateTimeUtc,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
