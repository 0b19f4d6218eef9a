//! Each person's own timezone (`users.timezone`, an IANA name; null = the agency's), in which
//! their pages and mail show times and their daily digest is sent.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::id;

/// Adds `users.timezone`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(id("users")).add_column(string_len_null(id("timezone"), 64)).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(id("users")).drop_column(id("timezone")).to_owned()).await
    }
}
