//! `branding`: the agency's one branding row (name, accent colour, welcome text, logo by hash).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{id, tstz};

/// Creates `branding` with its one row (nothing set: the installation's defaults apply).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("branding"))
                .col(string_len(id("id"), 16).primary_key())
                .col(text_null(id("agency_name")))
                .col(string_len_null(id("accent_color"), 7))
                .col(text(id("welcome_text")))
                .col(string_len_null(id("logo_sha256"), 64))
                .col(string_len_null(id("logo_content_type"), 64))
                .col(integer_null(id("logo_width")))
                .col(integer_null(id("logo_height")))
                .col(string_len_null(id("icon_sha256"), 64))
                .col(tstz("updated_at"))
                .to_owned(),
        )
        .await?;
        let mut row = Query::insert();
        row.into_table(id("branding"))
            .columns([id("id"), id("welcome_text"), id("updated_at")])
            .values(["default".into(), "".into(), Expr::current_timestamp()])
            .map_err(|e| DbErr::Custom(format!("branding row: {e}")))?;
        m.exec_stmt(row).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("branding")).to_owned()).await
    }
}
