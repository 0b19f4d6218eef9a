//! `automations`: the agency's rules (trigger, conditions and actions as JSON checked by
//! `atrium_core::automation`; the trigger's kind in its own column, so a change looks up only
//! its rules), seeded once with the ready-made rules, switched off. `automation_runs`: one row
//! per run, unique by (rule, subject, step) — the key that makes a run happen once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, index, tstz, tstz_null};

/// Creates the rules and their runs and adds the ready-made rules.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("automations"))
                .col(pk_uuid(id("id")))
                .col(string_len_null(id("builtin"), 32).unique_key())
                .col(string_len(id("name"), 200))
                .col(boolean(id("enabled")))
                .col(string_len(id("trigger_kind"), 32))
                .col(text(id("rule")))
                .col(integer(id("version")))
                .col(uuid_null(id("updated_by")))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("automations", &["trigger_kind", "enabled"], false)).await?;
        m.create_table(
            Table::create()
                .table(id("automation_runs"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("automation_id")))
                .col(integer(id("version")))
                .col(string_len(id("subject_type"), 16))
                .col(uuid(id("subject_id")))
                .col(string_len(id("step"), 64))
                .col(tstz("fired_at"))
                .col(string_len(id("outcome"), 16))
                .col(text_null(id("detail")))
                .col(tstz_null("finished_at"))
                .foreign_key(&mut fk("automation_runs", "automation_id", "automations", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("automation_runs", &["automation_id", "subject_type", "subject_id", "step"], true))
            .await?;
        m.create_index(index("automation_runs", &["automation_id", "fired_at"], false)).await?;
        for b in atrium_core::automation::Builtin::ALL {
            let rule = serde_json::json!({ "settings": atrium_core::automation::BuiltinSettings::default() });
            let mut row = Query::insert();
            row.into_table(id("automations"))
                .columns([
                    id("id"),
                    id("builtin"),
                    id("name"),
                    id("enabled"),
                    id("trigger_kind"),
                    id("rule"),
                    id("version"),
                    id("created_at"),
                    id("updated_at"),
                ])
                .values([
                    uuid::Uuid::now_v7().into(),
                    b.as_str().into(),
                    b.name().into(),
                    false.into(),
                    "builtin".into(),
                    rule.to_string().into(),
                    1.into(),
                    Expr::current_timestamp(),
                    Expr::current_timestamp(),
                ])
                .map_err(|e| DbErr::Custom(format!("ready-made rule row: {e}")))?;
            m.exec_stmt(row).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("automation_runs")).to_owned()).await?;
        m.drop_table(Table::drop().table(id("automations")).to_owned()).await
    }
}
