//! Pages per client: which pages of the portal a client's users see (`clients.portal_hidden`,
//! the hidden pages' names, comma-separated), its own welcome text (`clients.welcome_text`, null
//! = the agency's), and the agency-wide default for new clients (`portal_defaults`, one row).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{id, tstz};

/// Adds the per-client portal settings and their default.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        m.alter_table(
            Table::alter().table(id("clients")).add_column(string_len(id("portal_hidden"), 200).default("")).to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(id("clients")).add_column(text_null(id("welcome_text"))).to_owned()).await?;
        m.create_table(
            Table::create()
                .table(id("portal_defaults"))
                .col(string_len(id("id"), 16).primary_key())
                .col(string_len(id("hidden"), 200))
                .col(tstz("updated_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("portal_defaults")).to_owned()).await?;
        m.alter_table(Table::alter().table(id("clients")).drop_column(id("welcome_text")).to_owned()).await?;
        m.alter_table(Table::alter().table(id("clients")).drop_column(id("portal_hidden")).to_owned()).await
    }
}
