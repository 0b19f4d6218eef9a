//! Billing: the invoice numbering settings (one row), invoices, their lines and payments.
//!
//! Money and other decimals are stored as canonical decimal **strings** (`"1234.50"`): text
//! maps identically on SQLite and PostgreSQL, holds any scale exactly, and is parsed back with
//! `rust_decimal` only — no float or database-specific numeric type is ever involved. Sums are
//! computed in Rust, never in SQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::m0001_init::{fk, id, index, tstz};

/// Creates `invoice_settings` (with its one row), `invoices`, `invoice_lines`, `payments`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            Table::create()
                .table(id("invoice_settings"))
                .col(string_len(id("id"), 16).primary_key())
                .col(string_len(id("prefix"), 16))
                .col(integer(id("padding")))
                .col(big_integer(id("next_seq")))
                .col(text(id("payment_instructions")))
                .col(tstz("updated_at"))
                .to_owned(),
            Table::create()
                .table(id("invoices"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("client_id")))
                .col(uuid_null(id("project_id")))
                .col(big_integer(id("seq")))
                .col(string_len(id("number"), 64))
                .col(string_len(id("status"), 32))
                .col(string_len(id("currency"), 3))
                .col(date(id("issue_date")))
                .col(date(id("due_date")))
                .col(text(id("notes")))
                .col(text(id("payment_instructions")))
                .col(string_len(id("subtotal"), 48))
                .col(string_len(id("tax_total"), 48))
                .col(string_len(id("total"), 48))
                .col(string_len(id("paid"), 48))
                .col(uuid_null(id("replaces_id")))
                .col(uuid(id("created_by")))
                .col(tstz("created_at"))
                .col(tstz("updated_at"))
                .col(timestamp_with_time_zone_null(id("sent_at")))
                .col(timestamp_with_time_zone_null(id("voided_at")))
                .foreign_key(&mut fk("invoices", "client_id", "clients", true))
                .foreign_key(&mut fk("invoices", "project_id", "projects", false))
                .foreign_key(&mut fk("invoices", "replaces_id", "invoices", false))
                .foreign_key(&mut fk("invoices", "created_by", "users", false))
                .to_owned(),
            Table::create()
                .table(id("invoice_lines"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("invoice_id")))
                .col(integer(id("position")))
                .col(text(id("description")))
                .col(string_len(id("quantity"), 48))
                .col(string_len(id("unit_price"), 48))
                .col(string_len(id("tax_rate"), 16))
                .col(string_len(id("discount"), 16))
                .col(string_len(id("net"), 48))
                .foreign_key(&mut fk("invoice_lines", "invoice_id", "invoices", true))
                .to_owned(),
            Table::create()
                .table(id("payments"))
                .col(pk_uuid(id("id")))
                .col(uuid(id("invoice_id")))
                .col(string_len(id("amount"), 48))
                .col(date(id("paid_on")))
                .col(string_len(id("method"), 32))
                .col(string_len(id("reference"), 200))
                .col(uuid(id("recorded_by")))
                .col(tstz("created_at"))
                .foreign_key(&mut fk("payments", "invoice_id", "invoices", true))
                .foreign_key(&mut fk("payments", "recorded_by", "users", false))
                .to_owned(),
        ];
        for t in tables {
            m.create_table(t).await?;
        }
        // Numbers are unique per agency (one agency per installation), and so is the sequence.
        m.create_index(index("invoices", &["number"], true)).await?;
        m.create_index(index("invoices", &["seq"], true)).await?;
        m.create_index(index("invoices", &["client_id", "status"], false)).await?;
        m.create_index(index("invoices", &["replaces_id"], false)).await?;
        m.create_index(index("invoice_lines", &["invoice_id", "position"], true)).await?;
        m.create_index(index("payments", &["invoice_id"], false)).await?;
        let mut row = Query::insert();
        row.into_table(id("invoice_settings"))
            .columns([
                id("id"),
                id("prefix"),
                id("padding"),
                id("next_seq"),
                id("payment_instructions"),
                id("updated_at"),
            ])
            .values(["default".into(), "INV-".into(), 4i32.into(), 1i64.into(), "".into(), Expr::current_timestamp()])
            .map_err(|e| DbErr::Custom(format!("invoice settings row: {e}")))?;
        m.exec_stmt(row).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["payments", "invoice_lines", "invoices", "invoice_settings"] {
            m.drop_table(Table::drop().table(id(t)).to_owned()).await?;
        }
        Ok(())
    }
}
