//! The `clients` table.

use sea_orm::entity::prelude::*;

/// One row of `clients`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    /// The client's own text for invitation mails (markdown-free plain text).
    pub invitation_text: Option<String>,
    /// The portal pages this client hides (`PortalPages::to_stored`).
    pub portal_hidden: String,
    /// The client's own portal welcome text; `None` = the agency's.
    pub welcome_text: Option<String>,
    /// The client's own quick actions (`QuickActions::to_stored`); `None` = the agency's.
    pub quick_actions: Option<String>,
    /// The client's own scheduling link; `None` = the agency's.
    pub scheduling_url: Option<String>,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
