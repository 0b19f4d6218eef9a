//! `revocations`: one row per ended session, deactivated user or revoked client, written in the
//! transaction that ends them, so every server process can end the live streams they hold.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{id, index, tstz};

/// Creates `revocations`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("revocations"))
                .col(pk_uuid(id("id")))
                .col(uuid_null(id("session_id")))
                .col(uuid_null(id("user_id")))
                .col(uuid_null(id("client_id")))
                .col(tstz("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("revocations", &["created_at"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("revocations")).to_owned()).await
    }
}
