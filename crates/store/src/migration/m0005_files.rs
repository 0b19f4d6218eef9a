//! Files: folders per project, files with versions pointing at content-addressed blobs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, index, tstz};

/// Creates `folders`, `files`, `file_versions`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            Table::create()
                .table(id("folders"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("project_id")))
                .col(uuid_null(id("parent_id")))
                .col(string_len(id("name"), 255))
                .col(boolean(id("staff_only")))
                .col(uuid(id("created_by")))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("folders", "project_id", "projects", true))
                .foreign_key(&mut fk("folders", "parent_id", "folders", true))
                .foreign_key(&mut fk("folders", "created_by", "users", false))
                .to_owned(),
            Table::create()
                .table(id("files"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("project_id")))
                .col(uuid(id("folder_id")))
                .col(string_len(id("name"), 255))
                .col(boolean(id("staff_only")))
                .col(integer(id("current_version")))
                .col(uuid(id("created_by")))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .col(timestamp_with_time_zone_null(id("deleted_at")))
                .foreign_key(&mut fk("files", "project_id", "projects", true))
                .foreign_key(&mut fk("files", "folder_id", "folders", true))
                .foreign_key(&mut fk("files", "created_by", "users", false))
                .to_owned(),
            Table::create()
                .table(id("file_versions"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("file_id")))
                .col(integer(id("version")))
                .col(string_len(id("sha256"), 64))
                .col(big_integer(id("size")))
                .col(string_len(id("content_type"), 100))
                .col(uuid(id("uploaded_by")))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("file_versions", "file_id", "files", true))
                .foreign_key(&mut fk("file_versions", "uploaded_by", "users", false))
                .to_owned(),
        ];
        for t in tables {
            m.create_table(t).await?;
        }
        m.create_index(index("folders", &["project_id"], false)).await?;
        m.create_index(index("files", &["folder_id", "name"], false)).await?;
        m.create_index(index("files", &["project_id"], false)).await?;
        m.create_index(index("file_versions", &["file_id", "version"], true)).await?;
        m.create_index(index("file_versions", &["sha256"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["file_versions", "files", "folders"] {
            m.drop_table(Table::drop().table(id(t)).to_owned()).await?;
        }
        Ok(())
    }
}
