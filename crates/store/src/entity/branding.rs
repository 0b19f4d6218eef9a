//! The `branding` table: one row (`id = "default"`) with the agency's name, accent colour,
//! welcome text and logo (by content hash; the bytes live in the blob store).

use sea_orm::entity::prelude::*;

/// The agency's branding; `NULL` columns fall back to the installation's defaults.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "branding")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub agency_name: Option<String>,
    pub accent_color: Option<String>,
    pub welcome_text: String,
    pub logo_sha256: Option<String>,
    pub logo_content_type: Option<String>,
    pub logo_width: Option<i32>,
    pub logo_height: Option<i32>,
    pub icon_sha256: Option<String>,
    pub updated_at: DateTimeUtc,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
