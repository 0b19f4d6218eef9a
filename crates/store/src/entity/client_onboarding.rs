//! The `client_onboarding` table: one row (`id = "default"`) with what new clients start with.

use sea_orm::entity::prelude::*;

/// The onboarding of new clients; `project_templates` is a JSON array of template ids.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_onboarding")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub invitation_text: Option<String>,
    pub welcome_text: Option<String>,
    pub project_templates: String,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
