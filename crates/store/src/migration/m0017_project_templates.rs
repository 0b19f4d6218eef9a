//! `project_templates`: the agency's library of project templates (their content one JSON
//! document, checked by `atrium_core::template` on the way in), seeded once with the three
//! starter templates.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{id, index, tstz};

/// Creates the template library and adds the starters.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("project_templates"))
                .col(pk_uuid(id("id")))
                .col(string_len(id("name"), 300))
                .col(text(id("description")))
                .col(text(id("content")))
                .col(uuid_null(id("created_by")))
                .col(uuid_null(id("updated_by")))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("project_templates", &["name"], false)).await?;
        let starters =
            atrium_core::template::starters().map_err(|e| DbErr::Custom(format!("starter templates: {e}")))?;
        for s in starters {
            let content =
                serde_json::to_string(&s.content).map_err(|e| DbErr::Custom(format!("starter template: {e}")))?;
            let mut row = Query::insert();
            row.into_table(id("project_templates"))
                .columns([id("id"), id("name"), id("description"), id("content"), id("created_at"), id("updated_at")])
                .values([
                    uuid::Uuid::now_v7().into(),
                    s.name.into(),
                    s.description.into(),
                    content.into(),
                    Expr::current_timestamp(),
                    Expr::current_timestamp(),
                ])
                .map_err(|e| DbErr::Custom(format!("starter template row: {e}")))?;
            m.exec_stmt(row).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("project_templates")).to_owned()).await
    }
}
