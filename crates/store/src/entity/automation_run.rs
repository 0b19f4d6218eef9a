//! The `automation_runs` table: one row per run of a rule, unique by (rule, subject, step).

use sea_orm::entity::prelude::*;

/// One run.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "automation_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub automation_id: Uuid,
    /// The rule's version when the run was queued.
    pub version: i32,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub step: String,
    pub fired_at: DateTimeUtc,
    pub outcome: String,
    /// What was done, or why not (for the log page).
    pub detail: Option<String>,
    pub finished_at: Option<DateTimeUtc>,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
