//! `recurring_invoices`: schedules that issue a client the same invoice every month, quarter or
//! year. The lines are one JSON array of decimal strings (checked by `atrium_core::money` on the
//! way in, like an invoice's); `anchor_day` is the day of the month issues return to after a
//! shorter month; `next_issue_date` is what the issuing job's guarded update moves on.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, index, tstz};

/// Creates the schedules' table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("recurring_invoices"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("client_id")))
                .col(uuid_null(id("project_id")))
                .col(string_len(id("name"), 200))
                .col(string_len(id("currency"), 3))
                .col(text(id("lines")))
                .col(text(id("notes")))
                .col(string_len(id("interval"), 16))
                .col(integer(id("anchor_day")))
                .col(date(id("next_issue_date")))
                .col(integer(id("due_days")))
                .col(boolean(id("auto_send")))
                .col(string_len(id("status"), 16))
                .col(integer(id("issued_count")))
                .col(date_null(id("last_issued_on")))
                .col(uuid(id("created_by")))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .foreign_key(&mut fk("recurring_invoices", "client_id", "clients", true))
                .foreign_key(&mut fk("recurring_invoices", "project_id", "projects", false))
                .foreign_key(&mut fk("recurring_invoices", "created_by", "users", false))
                .to_owned(),
        )
        .await?;
        m.create_index(index("recurring_invoices", &["status", "next_issue_date"], false)).await?;
        m.create_index(index("recurring_invoices", &["client_id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("recurring_invoices")).to_owned()).await
    }
}
