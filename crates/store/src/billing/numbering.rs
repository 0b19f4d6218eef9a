//! The agency's invoice numbering (prefix, padding and the gap-free sequence, taken inside the
//! invoice's own transaction) and the invoice settings it lives in.

use atrium_core::model::InvoiceSettings;
use atrium_core::policy::Actor;
use atrium_core::validate::BODY_MAX;
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::invoice_settings;

/// Longest numbering prefix.
pub const PREFIX_MAX: usize = 16;
/// Most digits a number is padded to.
pub const PADDING_MAX: u32 = 12;
const SETTINGS_ROW: &str = "default";

/// Changes to the numbering and default payment instructions.
#[derive(Clone, Debug, Default)]
pub struct SettingsPatch {
    pub prefix: Option<String>,
    pub padding: Option<u32>,
    pub payment_instructions: Option<String>,
}

fn number(prefix: &str, padding: i32, seq: i64) -> String {
    let width = usize::try_from(padding).unwrap_or(0);
    format!("{prefix}{seq:0width$}")
}

impl Store {
    /// The numbering and default payment instructions (staff).
    pub async fn invoice_settings(&self, actor: &Actor) -> Result<InvoiceSettings> {
        actor.may_manage_invoices().map_err(|_| Error::NotFound)?;
        settings(&self.db).await
    }

    /// Changes the numbering format or the default payment instructions (owners and admins).
    /// The sequence itself only ever moves forward, one invoice at a time.
    pub async fn update_invoice_settings(
        &self,
        actor: &Actor,
        p: SettingsPatch,
        ip: Option<&str>,
    ) -> Result<InvoiceSettings> {
        actor.may_configure_billing()?;
        let tx = self.write_tx().await?;
        let row = invoice_settings::Entity::find_by_id(SETTINGS_ROW)
            .one(&tx)
            .await
            .map_err(db_err)?
            .ok_or_else(|| Error::internal_msg("invoice settings row missing"))?;
        let mut am: invoice_settings::ActiveModel = row.clone().into();
        let mut prefix = row.prefix;
        let mut padding = row.padding;
        if let Some(p) = p.prefix {
            let p = atrium_core::validate::optional_line("prefix", &p, PREFIX_MAX)?;
            if !p.chars().all(|c| c.is_ascii_alphanumeric() || "-_/.#".contains(c)) {
                return Err(Error::invalid("prefix", "may contain letters, digits and - _ / . # only"));
            }
            if p.ends_with(|c: char| c.is_ascii_digit()) {
                return Err(Error::invalid("prefix", "must not end with a digit (numbers would become ambiguous)"));
            }
            prefix = p;
        }
        if let Some(n) = p.padding {
            if !(1..=PADDING_MAX).contains(&n) {
                return Err(Error::invalid("padding", format!("must be from 1 to {PADDING_MAX}")));
            }
            padding = i32::try_from(n).map_err(|_| Error::invalid("padding", "is too large"))?;
        }
        if let Some(t) = p.payment_instructions {
            am.payment_instructions = Set(atrium_core::validate::optional_text("payment_instructions", &t, BODY_MAX)?);
        }
        let detail = serde_json::json!({ "prefix": prefix, "padding": padding });
        am.prefix = Set(prefix);
        am.padding = Set(padding);
        am.updated_at = Set(Utc::now());
        am.update(&tx).await.map_err(db_err)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::invoice_settings(AuditAction::InvoiceSettingsUpdate, ip).with_detail(detail),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        settings(&self.db).await
    }
}

async fn settings<C: ConnectionTrait>(c: &C) -> Result<InvoiceSettings> {
    let row = invoice_settings::Entity::find_by_id(SETTINGS_ROW)
        .one(c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::internal_msg("invoice settings row missing"))?;
    Ok(InvoiceSettings {
        prefix: row.prefix,
        padding: u32::try_from(row.padding).unwrap_or(0),
        next_number: u64::try_from(row.next_seq).unwrap_or(0),
        payment_instructions: row.payment_instructions,
    })
}

/// Takes the next number inside `tx`: the increment comes first so that it locks the settings
/// row until the transaction ends; returns (seq, formatted number, default instructions).
pub(super) async fn next_number<C: ConnectionTrait>(tx: &C) -> Result<(i64, String, String)> {
    let done = invoice_settings::Entity::update_many()
        .col_expr(invoice_settings::Column::NextSeq, Expr::col(invoice_settings::Column::NextSeq).add(1))
        .filter(invoice_settings::Column::Id.eq(SETTINGS_ROW))
        .exec(tx)
        .await
        .map_err(db_err)?;
    if done.rows_affected != 1 {
        return Err(Error::internal_msg("invoice settings row missing"));
    }
    let row = invoice_settings::Entity::find_by_id(SETTINGS_ROW)
        .one(tx)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::internal_msg("invoice settings row missing"))?;
    let seq = row.next_seq - 1;
    Ok((seq, number(&row.prefix, row.padding, seq), row.payment_instructions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_prefixed_and_padded() {
        assert_eq!(number("INV-", 4, 7), "INV-0007");
        assert_eq!(number("", 1, 12345), "12345");
        assert_eq!(number("A/", 2, 123), "A/123");
    }
}
