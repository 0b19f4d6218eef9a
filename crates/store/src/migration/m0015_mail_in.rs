//! Mail in: `mail_reply_keys` (the short random key a reply address names, one per recipient
//! and thread), `mail_in_seen` (every inbound message handled, by a hash of its Message-ID or
//! of its bytes, so each is handled once) and `held_mails` (mail staff must look at).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{id, index, tstz};

/// Creates the mail-in tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("mail_reply_keys"))
                .col(string_len(id("key"), 32).primary_key())
                .col(uuid(id("user_id")))
                .col(string_len(id("thread_kind"), 16))
                .col(uuid(id("thread_id")))
                .col(tstz("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mail_reply_keys", &["user_id", "thread_kind", "thread_id"], true)).await?;
        m.create_table(
            Table::create()
                .table(id("mail_in_seen"))
                .col(string_len(id("key_hash"), 64).primary_key())
                .col(string_len(id("outcome"), 32))
                .col(tstz("received_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(id("held_mails"))
                .col(pk_uuid(id("id")))
                .col(string_len(id("from_address"), 254))
                .col(string_len(id("subject"), 300))
                .col(text(id("excerpt")))
                .col(string_len(id("reason"), 32))
                .col(tstz("received_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("held_mails", &["received_at"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["held_mails", "mail_in_seen", "mail_reply_keys"] {
            m.drop_table(Table::drop().table(id(t)).to_owned()).await?;
        }
        Ok(())
    }
}
