//! `client_onboarding`: what every new client starts with (one row, `id = "default"`, absent
//! until set), and `tasks.pending_assignee`: a template's task for "the client's admin" made
//! before the client had one, handed to the first Client Admin who joins.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{id, tstz};

/// Creates the onboarding row's table and the tasks' pending assignee.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("client_onboarding"))
                .col(string_len(id("id"), 16).primary_key())
                .col(text_null(id("invitation_text")))
                .col(text_null(id("welcome_text")))
                .col(text(id("project_templates")))
                .col(uuid_null(id("updated_by")))
                .col(tstz("updated_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(id("tasks")).add_column(string_len_null(id("pending_assignee"), 16)).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(id("tasks")).drop_column(id("pending_assignee")).to_owned()).await?;
        m.drop_table(Table::drop().table(id("client_onboarding")).to_owned()).await
    }
}
