//! The help desk's settings and libraries: `helpdesk_settings` (one row: business hours,
//! timezone and the service-level targets per priority), `saved_replies` (the staff's shared
//! library of answers) and `request_forms` (a project's ticket form, its fields as JSON).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, tstz};

/// Creates the three tables and the settings row with the defaults.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The target columns, `<priority>_<first_response|resolution>_minutes`, with their defaults.
const TARGETS: [(&str, i64); 8] = [
    ("low_first_response_minutes", 960),
    ("low_resolution_minutes", 4800),
    ("normal_first_response_minutes", 480),
    ("normal_resolution_minutes", 2880),
    ("high_first_response_minutes", 240),
    ("high_resolution_minutes", 1440),
    ("urgent_first_response_minutes", 60),
    ("urgent_resolution_minutes", 480),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(id("helpdesk_settings"))
            .col(string_len(id("id"), 16).primary_key())
            .col(string_len(id("timezone"), 64))
            .col(string_len(id("days"), 16))
            .col(integer(id("start_minute")))
            .col(integer(id("end_minute")))
            .col(uuid_null(id("updated_by")))
            .col(tstz("updated_at"));
        for (c, _) in TARGETS {
            t.col(big_integer(id(c)));
        }
        m.create_table(t.to_owned()).await?;
        let mut row = Query::insert();
        let mut cols =
            vec![id("id"), id("timezone"), id("days"), id("start_minute"), id("end_minute"), id("updated_at")];
        let mut values: Vec<Expr> = vec![
            "default".into(),
            "UTC".into(),
            "1,2,3,4,5".into(),
            (9 * 60).into(),
            (17 * 60).into(),
            Expr::current_timestamp(),
        ];
        for (c, v) in TARGETS {
            cols.push(id(c));
            values.push(v.into());
        }
        row.into_table(id("helpdesk_settings"))
            .columns(cols)
            .values(values)
            .map_err(|e| DbErr::Custom(format!("helpdesk_settings row: {e}")))?;
        m.exec_stmt(row).await?;
        m.create_table(
            Table::create()
                .table(id("saved_replies"))
                .col(pk_uuid(id("id")))
                .col(string_len(id("title"), 200))
                .col(text(id("body")))
                .col(uuid(id("created_by")))
                .col(uuid(id("updated_by")))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(id("request_forms"))
                .col(uuid(id("project_id")).primary_key())
                .col(text(id("fields")))
                .col(uuid(id("updated_by")))
                .col(tstz("updated_at"))
                .foreign_key(&mut fk("request_forms", "project_id", "projects", true))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(id("request_forms")).to_owned()).await?;
        m.drop_table(Table::drop().table(id("saved_replies")).to_owned()).await?;
        m.drop_table(Table::drop().table(id("helpdesk_settings")).to_owned()).await
    }
}
