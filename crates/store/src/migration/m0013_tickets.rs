//! The help desk's tickets (`tickets`, numbered from the one-row `ticket_numbering`) and their
//! comments (`ticket_comments`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, index, tstz};

/// Creates `ticket_numbering` (with its row), `tickets`, `ticket_comments`.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The first ticket number an installation hands out (`#1001`): numbers look like numbers.
const FIRST_NUMBER: i64 = 1001;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("ticket_numbering"))
                .col(string_len(id("id"), 16).primary_key())
                .col(big_integer(id("next_number")))
                .to_owned(),
        )
        .await?;
        let mut row = Query::insert();
        row.into_table(id("ticket_numbering"))
            .columns([id("id"), id("next_number")])
            .values(["default".into(), FIRST_NUMBER.into()])
            .map_err(|e| DbErr::Custom(format!("ticket numbering row: {e}")))?;
        m.exec_stmt(row).await?;
        m.create_table(
            Table::create()
                .table(id("tickets"))
                .col(pk_uuid(id("id")))
                .col(big_integer(id("number")))
                .col(uuid(id("client_id")))
                .col(uuid_null(id("project_id")))
                .col(uuid(id("requester_id")))
                .col(string_len(id("subject"), 300))
                .col(text(id("body")))
                .col(string_len(id("status"), 16))
                .col(string_len(id("priority"), 16))
                .col(uuid_null(id("assignee_id")))
                .col(text(id("fields")))
                .col(uuid_null(id("task_id")))
                .col(timestamp_with_time_zone_null(id("first_response_due_at")))
                .col(timestamp_with_time_zone_null(id("resolution_due_at")))
                .col(timestamp_with_time_zone_null(id("first_responded_at")))
                .col(timestamp_with_time_zone_null(id("solved_at")))
                .col(timestamp_with_time_zone_null(id("closed_at")))
                .col(timestamp_with_time_zone_null(id("paused_at")))
                .col(timestamp_with_time_zone_null(id("warned_at")))
                .col(string_len_null(id("satisfaction"), 8))
                .col(text_null(id("satisfaction_comment")))
                .col(uuid(id("created_by")))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .foreign_key(&mut fk("tickets", "client_id", "clients", true))
                .foreign_key(&mut fk("tickets", "requester_id", "users", false))
                .to_owned(),
        )
        .await?;
        m.create_index(index("tickets", &["number"], true)).await?;
        m.create_index(index("tickets", &["client_id", "status"], false)).await?;
        m.create_index(index("tickets", &["assignee_id", "status"], false)).await?;
        m.create_index(index("tickets", &["task_id"], false)).await?;
        m.create_table(
            Table::create()
                .table(id("ticket_comments"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("ticket_id")))
                .col(uuid(id("author_id")))
                .col(text(id("body")))
                .col(string_len(id("visibility"), 8))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("ticket_comments", "ticket_id", "tickets", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ticket_comments", &["ticket_id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("ticket_comments")).to_owned()).await?;
        m.drop_table(Table::drop().table(id("tickets")).to_owned()).await?;
        m.drop_table(Table::drop().table(id("ticket_numbering")).to_owned()).await
    }
}
