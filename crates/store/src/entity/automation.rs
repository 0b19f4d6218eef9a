//! The `automations` table: the agency's rules and the ready-made ones.

use sea_orm::entity::prelude::*;

/// One rule. `rule` is JSON: `{trigger, conditions, actions}` for the agency's own rules,
/// `{settings}` for a ready-made one (`builtin` set, `trigger_kind` = `builtin`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "automations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub builtin: Option<String>,
    pub name: String,
    pub enabled: bool,
    pub trigger_kind: String,
    pub rule: String,
    /// Raised by every change; a run queued under an older version does not run.
    pub version: i32,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
