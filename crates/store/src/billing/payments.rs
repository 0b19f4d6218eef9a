//! Payments: recorded against a sent invoice in one transaction with the balance check (the
//! invoice row is locked by an update first), so concurrent payments never exceed the balance.

use atrium_core::ids::{ClientId, InvoiceId, PaymentId};
use atrium_core::model::{Invoice, InvoiceStatus, PaymentMethod};
use atrium_core::money::{self, Currency, Decimal};
use atrium_core::policy::Actor;
use atrium_core::{Error, Result};
use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{invoice, payment};

use super::invoices::check_date;

/// Longest payment reference.
pub const REFERENCE_MAX: usize = 200;

/// A payment to record.
#[derive(Clone, Debug)]
pub struct NewPayment {
    pub amount: String,
    pub date: NaiveDate,
    pub method: PaymentMethod,
    pub reference: String,
}

impl Store {
    /// Records a payment (staff) on a sent or partially paid invoice: more than zero, at most
    /// the balance (else 422 `overpayment`), in one transaction with that check.
    pub async fn record_payment(
        &self,
        actor: &Actor,
        id: InvoiceId,
        p: NewPayment,
        ip: Option<&str>,
    ) -> Result<Invoice> {
        let row = self.managed_invoice_row(actor, id).await?;
        let currency = Currency::parse("currency", &row.currency)?;
        let amount = currency.amount("amount", &p.amount)?;
        check_date("date", p.date)?;
        let reference = atrium_core::validate::optional_line("reference", &p.reference, REFERENCE_MAX)?;
        let tx = self.write_tx().await?;
        let now = Utc::now();
        // Lock the invoice row first (PostgreSQL row lock; SQLite holds the write lock already):
        // a concurrent payment waits here and then sees this one's effect.
        let done = invoice::Entity::update_many()
            .col_expr(invoice::Column::UpdatedAt, Expr::value(now))
            .filter(invoice::Column::Id.eq(id.0))
            .filter(
                invoice::Column::Status.is_in([InvoiceStatus::Sent.as_str(), InvoiceStatus::PartiallyPaid.as_str()]),
            )
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected != 1 {
            let current = invoice::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
            return Err(match parse::<InvoiceStatus>("invoice status", &current.status)? {
                InvoiceStatus::Paid => Error::Overpayment(format!(
                    "{} is fully paid; the balance is {}",
                    current.number,
                    currency.display(Decimal::ZERO)
                )),
                InvoiceStatus::Draft => Error::Conflict("send the invoice before recording payments".into()),
                _ => Error::Conflict("a void invoice takes no payments".into()),
            });
        }
        let current = invoice::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let total = money::stored(&current.total)?;
        let paid = sum_payments(&tx, id).await?;
        let balance = total - paid;
        if amount > balance {
            return Err(Error::Overpayment(format!(
                "{} is more than the balance of {} on {}",
                currency.display(amount),
                currency.display(balance),
                current.number
            )));
        }
        let pid = PaymentId::new();
        payment::ActiveModel {
            id: Set(pid.0),
            invoice_id: Set(id.0),
            amount: Set(currency.format(amount)),
            paid_on: Set(p.date),
            method: Set(p.method.as_str().into()),
            reference: Set(reference.clone()),
            recorded_by: Set(actor.user_id().0),
            created_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let paid = paid + amount;
        let status = if paid >= total { InvoiceStatus::Paid } else { InvoiceStatus::PartiallyPaid };
        invoice::Entity::update_many()
            .col_expr(invoice::Column::Paid, Expr::value(currency.format(paid)))
            .col_expr(invoice::Column::Status, Expr::value(status.as_str()))
            .filter(invoice::Column::Id.eq(id.0))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let detail = serde_json::json!({
            "number": current.number, "payment_id": pid, "amount": currency.format(amount), "method": p.method,
            "reference": reference, "date": p.date, "status": status,
        });
        audit::write(
            &tx,
            Some(actor),
            Entry::invoice(AuditAction::PaymentRecord, id, ClientId(row.client_id), ip).with_detail(detail),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        self.invoice(actor, id).await
    }
}

async fn sum_payments<C: ConnectionTrait>(c: &C, id: InvoiceId) -> Result<Decimal> {
    let mut sum = Decimal::ZERO;
    for p in payment::Entity::find().filter(payment::Column::InvoiceId.eq(id.0)).all(c).await.map_err(db_err)? {
        sum += money::stored(&p.amount)?;
    }
    Ok(sum)
}
