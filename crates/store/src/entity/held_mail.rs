//! The `held_mails` table.

use sea_orm::entity::prelude::*;

/// One inbound mail held for staff: who sent it, what about, an excerpt, and why it was held.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "held_mails")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub from_address: String,
    pub subject: String,
    pub excerpt: String,
    pub reason: String,
    pub received_at: DateTimeUtc,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
