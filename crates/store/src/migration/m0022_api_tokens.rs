//! `api_tokens`: personal API tokens. Only the SHA-256 of the secret is stored (unique, looked
//! up on every token request), with the first characters after `atr_` to tell tokens apart in a
//! list; `scopes` is the space-separated scope names (`atrium_core::api_token::TokenScopes`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, index, tstz, tstz_null};

/// Creates the tokens' table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("api_tokens"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("user_id")))
                .col(string_len(id("name"), 100))
                .col(string_len_uniq(id("token_hash"), 64))
                .col(string_len(id("display_prefix"), 16))
                .col(text(id("scopes")))
                .col(tstz_null("expires_at"))
                .col(tstz_null("last_used_at"))
                .col(tstz_null("revoked_at"))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("api_tokens", "user_id", "users", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("api_tokens", &["user_id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("api_tokens")).to_owned()).await
    }
}
