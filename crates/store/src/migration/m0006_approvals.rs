//! Approvals: a request for named client users to approve a file version or a task
//! deliverable, its approvers, and its history. The sign-off columns are written once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, index, tstz};

/// Creates `approvals`, `approval_approvers`, `approval_events`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            Table::create()
                .table(id("approvals"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("client_id")))
                .col(uuid(id("project_id")))
                .col(string_len(id("subject_type"), 16))
                .col(uuid_null(id("file_id")))
                .col(uuid_null(id("task_id")))
                .col(integer_null(id("version")))
                .col(string_len(id("status"), 32))
                .col(date_null(id("due_date")))
                .col(uuid(id("requested_by")))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .col(uuid_null(id("signed_by")))
                .col(timestamp_with_time_zone_null(id("signed_at")))
                .col(integer_null(id("signed_version")))
                .col(string_len_null(id("signed_sha256"), 64))
                .foreign_key(&mut fk("approvals", "client_id", "clients", true))
                .foreign_key(&mut fk("approvals", "project_id", "projects", true))
                .foreign_key(&mut fk("approvals", "file_id", "files", true))
                .foreign_key(&mut fk("approvals", "task_id", "tasks", true))
                .foreign_key(&mut fk("approvals", "requested_by", "users", false))
                .foreign_key(&mut fk("approvals", "signed_by", "users", false))
                .to_owned(),
            Table::create()
                .table(id("approval_approvers"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("approval_id")))
                .col(uuid(id("user_id")))
                .foreign_key(&mut fk("approval_approvers", "approval_id", "approvals", true))
                .foreign_key(&mut fk("approval_approvers", "user_id", "users", false))
                .to_owned(),
            Table::create()
                .table(id("approval_events"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("approval_id")))
                .col(uuid(id("user_id")))
                .col(string_len(id("action"), 32))
                .col(integer_null(id("version")))
                .col(text(id("comment")))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("approval_events", "approval_id", "approvals", true))
                .foreign_key(&mut fk("approval_events", "user_id", "users", false))
                .to_owned(),
        ];
        for t in tables {
            m.create_table(t).await?;
        }
        m.create_index(index("approvals", &["client_id", "status"], false)).await?;
        m.create_index(index("approvals", &["file_id"], false)).await?;
        m.create_index(index("approval_approvers", &["approval_id", "user_id"], true)).await?;
        m.create_index(index("approval_approvers", &["user_id"], false)).await?;
        m.create_index(index("approval_events", &["approval_id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["approval_events", "approval_approvers", "approvals"] {
            m.drop_table(Table::drop().table(id(t)).to_owned()).await?;
        }
        Ok(())
    }
}
