//! Collaboration: project messages with read receipts, notifications and their per-kind
//! delivery settings, and the instance's own secrets (signing unsubscribe links).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, index, tstz};

/// Creates `messages`, `message_reads`, `notifications`, `notification_prefs`, `instance_secrets`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            Table::create()
                .table(id("messages"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("project_id")))
                .col(uuid(id("author_id")))
                .col(string_len(id("channel"), 16))
                .col(text(id("body")))
                .col(tstz("created_at"))
                .col(timestamp_with_time_zone_null(id("edited_at")))
                .col(timestamp_with_time_zone_null(id("deleted_at")))
                .foreign_key(&mut fk("messages", "project_id", "projects", true))
                .foreign_key(&mut fk("messages", "author_id", "users", true))
                .to_owned(),
            Table::create()
                .table(id("message_reads"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("user_id")))
                .col(uuid(id("project_id")))
                .col(string_len(id("channel"), 16))
                .col(uuid(id("last_read_id")))
                .col(tstz("read_at"))
                .foreign_key(&mut fk("message_reads", "user_id", "users", true))
                .foreign_key(&mut fk("message_reads", "project_id", "projects", true))
                .to_owned(),
            Table::create()
                .table(id("notifications"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("user_id")))
                .col(uuid(id("client_id")))
                .col(string_len(id("kind"), 32))
                .col(string_len(id("subject_type"), 16))
                .col(string_len(id("subject_id"), 64))
                .col(string_len(id("text"), 600))
                .col(string_len(id("url"), 600))
                .col(timestamp_with_time_zone_null(id("read_at")))
                .col(timestamp_with_time_zone_null(id("emailed_at")))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("notifications", "user_id", "users", true))
                .foreign_key(&mut fk("notifications", "client_id", "clients", true))
                .to_owned(),
            Table::create()
                .table(id("notification_prefs"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("user_id")))
                .col(string_len(id("kind"), 32))
                .col(string_len(id("delivery"), 16))
                .foreign_key(&mut fk("notification_prefs", "user_id", "users", true))
                .to_owned(),
            Table::create()
                .table(id("instance_secrets"))
                .col(string_len(id("name"), 64).primary_key())
                .col(text(id("value")))
                .col(tstz("created_at"))
                .to_owned(),
        ];
        for t in tables {
            m.create_table(t).await?;
        }
        m.create_index(index("messages", &["project_id", "channel", "id"], false)).await?;
        m.create_index(index("message_reads", &["user_id", "project_id", "channel"], true)).await?;
        m.create_index(index("message_reads", &["project_id", "channel"], false)).await?;
        m.create_index(index("notifications", &["user_id", "id"], false)).await?;
        m.create_index(index("notifications", &["client_id"], false)).await?;
        m.create_index(index("notification_prefs", &["user_id", "kind"], true)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["instance_secrets", "notification_prefs", "notifications", "message_reads", "messages"] {
            m.drop_table(Table::drop().table(id(t)).to_owned()).await?;
        }
        Ok(())
    }
}
