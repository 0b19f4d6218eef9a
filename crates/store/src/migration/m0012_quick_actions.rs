//! Home quick actions: the agency's choice on the `portal_defaults` row
//! (`quick_actions`, the slugs of the actions that are on, null = the built-in default;
//! `scheduling_url`) and a per-client override on `clients` (both null = the agency's).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::id;

/// Adds the quick-action columns.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for table in ["portal_defaults", "clients"] {
            m.alter_table(
                Table::alter().table(id(table)).add_column(string_len_null(id("quick_actions"), 64)).to_owned(),
            )
            .await?;
            m.alter_table(Table::alter().table(id(table)).add_column(text_null(id("scheduling_url"))).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["clients", "portal_defaults"] {
            m.alter_table(Table::alter().table(id(table)).drop_column(id("scheduling_url")).to_owned()).await?;
            m.alter_table(Table::alter().table(id(table)).drop_column(id("quick_actions")).to_owned()).await?;
        }
        Ok(())
    }
}
