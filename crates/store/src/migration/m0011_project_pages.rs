//! A project's own pages (`project_pages`) and team (`project_members`), staff job titles and
//! the first-login introduction (`users.title`, `users.onboarded_at`), a client's invitation
//! mail text (`clients.invitation_text`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, index, tstz};

/// Creates `project_pages` and `project_members`, adds the columns.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("project_pages"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("project_id")))
                .col(string_len(id("title"), 80))
                .col(string_len(id("kind"), 16))
                .col(text(id("body")))
                .col(text_null(id("url")))
                .col(boolean(id("staff_only")))
                .col(integer(id("position")))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .foreign_key(&mut fk("project_pages", "project_id", "projects", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("project_pages", &["project_id", "position"], false)).await?;
        m.create_table(
            Table::create()
                .table(id("project_members"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("project_id")))
                .col(uuid(id("user_id")))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("project_members", "project_id", "projects", true))
                .foreign_key(&mut fk("project_members", "user_id", "users", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("project_members", &["project_id", "user_id"], true)).await?;
        // One column per statement: SQLite alters a table one change at a time.
        let add = |table: &str, col: ColumnDef| Table::alter().table(id(table)).add_column(col).to_owned();
        m.alter_table(add("users", string_len_null(id("title"), 100))).await?;
        m.alter_table(add("users", timestamp_with_time_zone_null(id("onboarded_at")))).await?;
        m.alter_table(add("clients", text_null(id("invitation_text")))).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let drop = |table: &str, col: &str| Table::alter().table(id(table)).drop_column(id(col)).to_owned();
        m.alter_table(drop("clients", "invitation_text")).await?;
        m.alter_table(drop("users", "onboarded_at")).await?;
        m.alter_table(drop("users", "title")).await?;
        m.drop_table(Table::drop().table(id("project_members")).to_owned()).await?;
        m.drop_table(Table::drop().table(id("project_pages")).to_owned()).await
    }
}
