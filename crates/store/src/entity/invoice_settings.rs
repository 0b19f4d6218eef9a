//! The `invoice_settings` table: one row (`id = "default"`) holding the numbering sequence.

use sea_orm::entity::prelude::*;

/// The agency's numbering: the next number is taken (and incremented) in the same transaction
/// as the invoice that gets it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub prefix: String,
    pub padding: i32,
    pub next_seq: i64,
    pub payment_instructions: String,
    pub updated_at: DateTimeUtc,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
