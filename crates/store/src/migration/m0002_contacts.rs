//! Client contacts: the agency's address book per client, independent of portal access.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, index, tstz};

/// Creates `contacts`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("contacts"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("client_id")))
                .col(string_len(id("name"), 200))
                .col(string_len(id("email"), 254))
                .col(string_len(id("phone"), 64))
                .col(string_len(id("title"), 200))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("contacts", "client_id", "clients", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("contacts", &["client_id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("contacts")).to_owned()).await
    }
}
