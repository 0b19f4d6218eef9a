//! The durable job queue: `jobs`, and the one-row `job_lock` that serialises claims on SQLite.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{id, index, tstz};

/// Creates `jobs` and `job_lock`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("jobs"))
                .col(pk_uuid(id("id")))
                .col(string_len(id("kind"), 64))
                .col(text(id("payload")))
                .col(string_len_null(id("dedupe_key"), 200))
                .col(string_len(id("status"), 16))
                .col(integer(id("attempts")))
                .col(integer(id("max_attempts")))
                .col(tstz("run_at"))
                .col(timestamp_with_time_zone_null(id("locked_until")))
                .col(string_len_null(id("locked_by"), 128))
                .col(text_null(id("last_error")))
                .col(tstz("created_at"))
                .col(timestamp_with_time_zone_null(id("finished_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("jobs", &["dedupe_key"], true)).await?;
        m.create_index(index("jobs", &["status", "run_at"], false)).await?;
        m.create_table(
            Table::create()
                .table(id("job_lock"))
                .col(integer(id("id")).primary_key())
                .col(text_null(id("holder")))
                .col(timestamp_with_time_zone_null(id("taken_at")))
                .to_owned(),
        )
        .await?;
        m.get_connection().execute_unprepared("INSERT INTO job_lock (id) VALUES (1)").await.map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("job_lock")).to_owned()).await?;
        m.drop_table(Table::drop().table(id("jobs")).to_owned()).await
    }
}
