//! The foundation schema: people, clients, access, projects, tasks, comments, audit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates the foundation tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

pub(super) fn id(t: &str) -> DynIden {
    Alias::new(t).into_iden()
}

pub(super) fn fk(table: &str, col: &str, target: &str, cascade: bool) -> ForeignKeyCreateStatement {
    let mut f = ForeignKey::create();
    f.name(format!("fk_{table}_{col}")).from(id(table), id(col)).to(id(target), id("id"));
    if cascade {
        f.on_delete(ForeignKeyAction::Cascade);
    }
    f
}

pub(super) fn index(table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("ix_{table}_{}", cols.join("_"))).table(id(table));
    for c in cols {
        i.col(id(c));
    }
    if unique {
        i.unique();
    }
    i
}

pub(super) fn tstz(c: &str) -> ColumnDef {
    timestamp_with_time_zone(id(c))
}
pub(super) fn tstz_null(c: &str) -> ColumnDef {
    timestamp_with_time_zone_null(id(c))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables: Vec<TableCreateStatement> = vec![
            Table::create()
                .table(id("users"))
                .col(pk_uuid(id("id")))
                .col(string_len_uniq(id("email"), 254))
                .col(string_len(id("name"), 200))
                .col(text_null(id("password_hash")))
                .col(string_len_null(id("staff_role"), 32))
                .col(boolean(id("active")))
                .col(tstz("password_changed_at"))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .to_owned(),
            Table::create()
                .table(id("clients"))
                .col(pk_uuid(id("id")))
                .col(string_len(id("name"), 200))
                .col(string_len(id("status"), 32))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .col(tstz_null("deleted_at"))
                .to_owned(),
            Table::create()
                .table(id("memberships"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("user_id")))
                .col(uuid(id("client_id")))
                .col(string_len(id("role"), 32))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("memberships", "user_id", "users", true))
                .foreign_key(&mut fk("memberships", "client_id", "clients", true))
                .to_owned(),
            Table::create()
                .table(id("sessions"))
                .col(pk_uuid(id("id")))
                .col(string_len_uniq(id("token_hash"), 64))
                .col(uuid(id("user_id")))
                .col(tstz("created_at"))
                .col(tstz("last_seen_at"))
                .col(tstz("expires_at"))
                .col(string_len_null(id("ip"), 64))
                .col(string_len_null(id("user_agent"), 300))
                .col(uuid_null(id("view_as_user_id")))
                .col(tstz_null("revoked_at"))
                .foreign_key(&mut fk("sessions", "user_id", "users", true))
                .foreign_key(&mut fk("sessions", "view_as_user_id", "users", true))
                .to_owned(),
            Table::create()
                .table(id("invitations"))
                .col(pk_uuid(id("id")))
                .col(string_len_uniq(id("token_hash"), 64))
                .col(string_len(id("email"), 254))
                .col(string_len(id("name"), 200))
                .col(string_len(id("role"), 32))
                .col(uuid_null(id("client_id")))
                .col(uuid(id("invited_by")))
                .col(tstz("created_at"))
                .col(tstz("expires_at"))
                .col(tstz_null("accepted_at"))
                .col(tstz_null("revoked_at"))
                .foreign_key(&mut fk("invitations", "client_id", "clients", true))
                .foreign_key(&mut fk("invitations", "invited_by", "users", false))
                .to_owned(),
            Table::create()
                .table(id("login_tokens"))
                .col(pk_uuid(id("id")))
                .col(string_len_uniq(id("token_hash"), 64))
                .col(uuid(id("user_id")))
                .col(string_len(id("purpose"), 32))
                .col(tstz("created_at"))
                .col(tstz("expires_at"))
                .col(tstz_null("used_at"))
                .foreign_key(&mut fk("login_tokens", "user_id", "users", true))
                .to_owned(),
            Table::create()
                .table(id("projects"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("client_id")))
                .col(string_len(id("name"), 300))
                .col(text(id("description")))
                .col(string_len(id("status"), 32))
                .col(date_null(id("start_date")))
                .col(date_null(id("due_date")))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .foreign_key(&mut fk("projects", "client_id", "clients", true))
                .to_owned(),
            Table::create()
                .table(id("milestones"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("project_id")))
                .col(string_len(id("name"), 300))
                .col(date_null(id("due_date")))
                .col(tstz_null("completed_at"))
                .col(integer(id("position")))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("milestones", "project_id", "projects", true))
                .to_owned(),
            Table::create()
                .table(id("tasks"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("project_id")))
                .col(uuid_null(id("milestone_id")))
                .col(string_len(id("title"), 300))
                .col(text(id("description")))
                .col(string_len(id("status"), 32))
                .col(string_len(id("priority"), 32))
                .col(date_null(id("due_date")))
                .col(uuid_null(id("assignee_id")))
                .col(uuid(id("created_by")))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .col(tstz_null("completed_at"))
                .foreign_key(&mut fk("tasks", "project_id", "projects", true))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_tasks_milestone_id")
                        .from(id("tasks"), id("milestone_id"))
                        .to(id("milestones"), id("id"))
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_tasks_assignee_id")
                        .from(id("tasks"), id("assignee_id"))
                        .to(id("users"), id("id"))
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(&mut fk("tasks", "created_by", "users", false))
                .to_owned(),
            Table::create()
                .table(id("comments"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("task_id")))
                .col(uuid(id("author_id")))
                .col(text(id("body")))
                .col(string_len(id("visibility"), 16))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("comments", "task_id", "tasks", true))
                .foreign_key(&mut fk("comments", "author_id", "users", false))
                .to_owned(),
            Table::create()
                .table(id("audit_log"))
                .col(pk_uuid(id("id")))
                .col(tstz("at"))
                .col(uuid_null(id("actor_id")))
                .col(uuid_null(id("via_user_id")))
                .col(string_len(id("action"), 64))
                .col(string_len(id("subject_type"), 32))
                .col(string_len_null(id("subject_id"), 64))
                .col(uuid_null(id("client_id")))
                .col(string_len_null(id("ip"), 64))
                .col(text(id("detail")))
                .to_owned(),
            Table::create()
                .table(id("rate_limits"))
                .col(string_len(id("key"), 300).primary_key())
                .col(tstz("window_start"))
                .col(integer(id("count")))
                .to_owned(),
        ];
        for t in tables {
            m.create_table(t).await?;
        }
        let indexes = [
            index("memberships", &["user_id", "client_id"], true),
            index("memberships", &["client_id"], false),
            index("sessions", &["user_id"], false),
            index("invitations", &["email"], false),
            index("login_tokens", &["user_id", "purpose"], false),
            index("projects", &["client_id"], false),
            index("milestones", &["project_id"], false),
            index("tasks", &["project_id", "status"], false),
            index("tasks", &["assignee_id", "status"], false),
            index("comments", &["task_id", "created_at"], false),
            index("audit_log", &["at"], false),
            index("audit_log", &["client_id"], false),
        ];
        for i in indexes {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "rate_limits",
            "audit_log",
            "comments",
            "tasks",
            "milestones",
            "projects",
            "login_tokens",
            "invitations",
            "sessions",
            "memberships",
            "clients",
            "users",
        ] {
            m.drop_table(Table::drop().table(id(t)).to_owned()).await?;
        }
        Ok(())
    }
}
