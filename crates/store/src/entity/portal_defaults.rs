//! The `portal_defaults` table: one row (`id = "default"`) with the pages a new client's portal
//! hides.

use sea_orm::entity::prelude::*;

/// The agency-wide default of the portal pages, copied into each new client.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "portal_defaults")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `PortalPages::to_stored`.
    pub hidden: String,
    /// The quick actions that are on (`QuickActions::to_stored`); `None` = the built-in default.
    pub quick_actions: Option<String>,
    /// The agency's scheduling link for "Book a meeting".
    pub scheduling_url: Option<String>,
    pub updated_at: DateTimeUtc,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
