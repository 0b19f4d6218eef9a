//! `ticket_files`: the files attached to a ticket when it was opened (files of its project,
//! uploaded with the request or chosen from the project's files).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, index, tstz};

/// Creates the ticket attachments table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("ticket_files"))
                .col(uuid(id("ticket_id")))
                .col(uuid(id("file_id")))
                .col(tstz("created_at"))
                .primary_key(Index::create().col(id("ticket_id")).col(id("file_id")))
                .foreign_key(&mut fk("ticket_files", "ticket_id", "tickets", true))
                .foreign_key(&mut fk("ticket_files", "file_id", "files", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ticket_files", &["file_id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("ticket_files")).to_owned()).await
    }
}
