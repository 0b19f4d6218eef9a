//! Billing: invoices with their lines, numbered from the agency's gap-free sequence, and the
//! payments recorded against them.
//!
//! * **Numbers.** Creating an invoice takes the next number from the one `invoice_settings`
//!   row *in the invoice's own transaction*: an `UPDATE … SET next_seq = next_seq + 1` first
//!   (a row lock on PostgreSQL; on SQLite the transaction already holds the write lock, `BEGIN
//!   IMMEDIATE`), then the insert. A failed insert rolls the increment back, so numbers are
//!   consecutive with no gaps, and unique (also enforced by unique indexes). Invoices are never
//!   deleted — a mistake is voided — so no number disappears either.
//! * **Immutability.** Only a draft can be edited. A sent invoice changes only by payments, or by
//!   voiding it; re-issuing a void invoice creates a new draft copy with a new number that
//!   points at the one it replaces. Every step is audit-logged.
//! * **Payments.** Recorded in one transaction with the balance check: the invoice row is
//!   locked by an update first, then its payments are summed, so two concurrent payments can
//!   never together exceed the balance (the second sees the first).
//! * **Visibility.** Reads go through [`Actor::billing_scope`]: staff see everything, a client
//!   admin or finance user their client's invoices except drafts, anyone else nothing (404).
//!   Money is parsed and computed by `atrium_core::money` only.

use std::collections::{BTreeMap, HashMap};

use atrium_core::ids::{ClientId, InvoiceId, InvoiceLineId, PaymentId, ProjectId};
use atrium_core::model::{
    Invoice, InvoiceLine, InvoiceSettings, InvoiceStatus, InvoiceTax, NotificationKind, Payment, PaymentMethod,
};
use atrium_core::money::{self, Currency, Decimal, LineInput, Totals};
use atrium_core::policy::{Actor, ClientFilter, Scope};
use atrium_core::validate::BODY_MAX;
use atrium_core::{Error, Result};
use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{client, invoice, invoice_line, invoice_settings, payment, project};
use crate::notifications::{Notice, Target, invoice_recipients, notify};
use crate::paging::{Page, PageRequest, page, page_rows};
use crate::scoping::deleted_clients;

/// Longest payment reference.
pub const REFERENCE_MAX: usize = 200;
/// Longest numbering prefix.
pub const PREFIX_MAX: usize = 16;
/// Most digits a number is padded to.
pub const PADDING_MAX: u32 = 12;
const SETTINGS_ROW: &str = "default";

/// A new invoice (always created as a draft).
#[derive(Clone, Debug)]
pub struct NewInvoice {
    pub client_id: ClientId,
    pub project_id: Option<ProjectId>,
    pub currency: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub lines: Vec<LineInput>,
    pub notes: String,
    /// `None`: the agency's default instructions.
    pub payment_instructions: Option<String>,
}

/// Changes to a draft; `None` keeps a field. `lines` replaces all lines.
#[derive(Clone, Debug, Default)]
pub struct InvoicePatch {
    pub project_id: Option<Option<ProjectId>>,
    pub currency: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub lines: Option<Vec<LineInput>>,
    pub notes: Option<String>,
    pub payment_instructions: Option<String>,
}

/// A payment to record.
#[derive(Clone, Debug)]
pub struct NewPayment {
    pub amount: String,
    pub date: NaiveDate,
    pub method: PaymentMethod,
    pub reference: String,
}

/// Which invoices to list.
#[derive(Clone, Debug, Default)]
pub struct InvoiceFilter {
    pub client_id: Option<ClientId>,
    pub status: Option<InvoiceStatus>,
    /// `Some(true)`: only overdue ones; `Some(false)`: only those not overdue.
    pub overdue: Option<bool>,
}

/// Changes to the numbering and default payment instructions.
#[derive(Clone, Debug, Default)]
pub struct SettingsPatch {
    pub prefix: Option<String>,
    pub padding: Option<u32>,
    pub payment_instructions: Option<String>,
}

fn check_date(field: &'static str, d: NaiveDate) -> Result<()> {
    if (1900..=9999).contains(&d.year()) {
        Ok(())
    } else {
        Err(Error::invalid(field, "must be a date from 1900-01-01 to 9999-12-31"))
    }
}

fn check_dates(issue: NaiveDate, due: NaiveDate) -> Result<()> {
    check_date("issue_date", issue)?;
    check_date("due_date", due)?;
    if due < issue {
        return Err(Error::invalid("due_date", "must not be before the issue date"));
    }
    Ok(())
}

fn number(prefix: &str, padding: i32, seq: i64) -> String {
    let width = usize::try_from(padding).unwrap_or(0);
    format!("{prefix}{seq:0width$}")
}

/// Sums the balance of open invoices per currency (the staff list's "outstanding"), as
/// (code, amount for people such as `EUR 1,234.50`).
pub fn outstanding_by_currency(list: &[Invoice]) -> Vec<(String, String)> {
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    for i in list.iter().filter(|i| i.status.is_open()) {
        let Ok(b) = money::stored(&i.balance) else { continue };
        *sums.entry(i.currency.clone()).or_insert(Decimal::ZERO) += b;
    }
    sums.into_iter().filter_map(|(c, d)| Currency::parse("currency", &c).ok().map(|cur| (c, cur.display(d)))).collect()
}

/// Checks the optional text fields of an invoice.
fn texts(notes: &str, instructions: Option<&str>) -> Result<(String, Option<String>)> {
    let notes = atrium_core::validate::optional_text("notes", notes, BODY_MAX)?;
    let instructions = match instructions {
        Some(t) => Some(atrium_core::validate::optional_text("payment_instructions", t, BODY_MAX)?),
        None => None,
    };
    Ok((notes, instructions))
}

impl Store {
    /// Loads an invoice row through the billing scope: a client's invoice for that client's
    /// admins and finance users (never a draft, never of a deleted client), anything for staff.
    async fn visible_invoice_row<C: ConnectionTrait>(
        &self,
        c: &C,
        scope: &Scope,
        id: InvoiceId,
    ) -> Result<invoice::Model> {
        let mut q = invoice::Entity::find_by_id(id.0);
        match scope.clients() {
            ClientFilter::All => {}
            ClientFilter::Only(cid) => {
                q = q
                    .filter(invoice::Column::ClientId.eq(cid.0))
                    .filter(invoice::Column::Status.ne(InvoiceStatus::Draft.as_str()))
                    .filter(invoice::Column::ClientId.not_in_subquery(deleted_clients()))
            }
            ClientFilter::Nothing => return Err(Error::NotFound),
        }
        if !scope.includes_notes() {
            q = q.filter(invoice::Column::Status.ne(InvoiceStatus::Draft.as_str()));
        }
        q.one(c).await.map_err(db_err)?.ok_or(Error::NotFound)
    }

    /// The client a new invoice is for: visible in the caller's billing scope (else 404), the
    /// caller staff (else 403), the client existing and current (else 422).
    async fn invoice_client(&self, actor: &Actor, id: ClientId) -> Result<client::Model> {
        if !actor.billing_scope().allows(id) {
            return Err(Error::NotFound);
        }
        actor.may_manage_invoices()?;
        client::Entity::find_by_id(id.0)
            .filter(client::Column::DeletedAt.is_null())
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| Error::invalid("client_id", "no such client"))
    }

    async fn check_project(&self, client: ClientId, project: Option<ProjectId>) -> Result<()> {
        if let Some(p) = project {
            let row = project::Entity::find_by_id(p.0).one(&self.db).await.map_err(db_err)?;
            if row.is_none_or(|r| r.client_id != client.0) {
                return Err(Error::invalid("project_id", "must be a project of the invoice's client"));
            }
        }
        Ok(())
    }

    /// Creates a draft invoice (staff): lines and totals computed exactly, the next number of
    /// the sequence taken in the same transaction.
    pub async fn create_invoice(&self, actor: &Actor, n: NewInvoice, ip: Option<&str>) -> Result<Invoice> {
        let client = self.invoice_client(actor, n.client_id).await?;
        let currency = Currency::parse("currency", &n.currency)?;
        check_dates(n.issue_date, n.due_date)?;
        let totals = money::compute(currency, &n.lines)?;
        let (notes, instructions) = texts(&n.notes, n.payment_instructions.as_deref())?;
        self.check_project(n.client_id, n.project_id).await?;
        let id = InvoiceId::new();
        let tx = self.write_tx().await?;
        let (seq, number, default_instructions) = next_number(&tx).await?;
        insert_invoice(
            &tx,
            actor,
            InsertInvoice {
                id,
                client: n.client_id,
                project: n.project_id,
                seq,
                number: number.clone(),
                issue_date: n.issue_date,
                due_date: n.due_date,
                notes,
                instructions: instructions.unwrap_or(default_instructions),
                replaces: None,
            },
            &totals,
        )
        .await?;
        let detail = serde_json::json!({
            "number": number, "client": client.name, "currency": currency.code(), "total": currency.format(totals.total),
        });
        audit::write(
            &tx,
            Some(actor),
            Entry::invoice(AuditAction::InvoiceCreate, id, n.client_id, ip).with_detail(detail),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        self.invoice(actor, id).await
    }

    /// Changes a draft (staff). Anything else is immutable: 409.
    pub async fn update_invoice(
        &self,
        actor: &Actor,
        id: InvoiceId,
        p: InvoicePatch,
        ip: Option<&str>,
    ) -> Result<Invoice> {
        let row = self.visible_invoice_row(&self.db, &actor.billing_scope(), id).await?;
        actor.may_manage_invoices()?;
        let client = ClientId(row.client_id);
        let currency = Currency::parse("currency", p.currency.as_deref().unwrap_or(&row.currency))?;
        let issue = p.issue_date.unwrap_or(row.issue_date);
        let due = p.due_date.unwrap_or(row.due_date);
        check_dates(issue, due)?;
        let lines = match p.lines {
            Some(l) => l,
            None => stored_lines(&self.db, row.id).await?,
        };
        let totals = money::compute(currency, &lines)?;
        let (notes, instructions) = texts(p.notes.as_deref().unwrap_or(&row.notes), p.payment_instructions.as_deref())?;
        let project = p.project_id.unwrap_or(row.project_id.map(ProjectId));
        self.check_project(client, project).await?;
        let tx = self.write_tx().await?;
        let now = Utc::now();
        // Only a draft changes; the status is re-checked in the update itself.
        let done = invoice::Entity::update_many()
            .col_expr(invoice::Column::ProjectId, Expr::value(project.map(|p| p.0)))
            .col_expr(invoice::Column::Currency, Expr::value(currency.code()))
            .col_expr(invoice::Column::IssueDate, Expr::value(issue))
            .col_expr(invoice::Column::DueDate, Expr::value(due))
            .col_expr(invoice::Column::Notes, Expr::value(notes))
            .col_expr(
                invoice::Column::PaymentInstructions,
                Expr::value(instructions.unwrap_or(row.payment_instructions.clone())),
            )
            .col_expr(invoice::Column::Subtotal, Expr::value(currency.format(totals.subtotal)))
            .col_expr(invoice::Column::TaxTotal, Expr::value(currency.format(totals.tax_total)))
            .col_expr(invoice::Column::Total, Expr::value(currency.format(totals.total)))
            .col_expr(invoice::Column::Paid, Expr::value(currency.format(Decimal::ZERO)))
            .col_expr(invoice::Column::UpdatedAt, Expr::value(now))
            .filter(invoice::Column::Id.eq(id.0))
            .filter(invoice::Column::Status.eq(InvoiceStatus::Draft.as_str()))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected != 1 {
            return Err(Error::Conflict(
                "a sent invoice cannot be changed: void it and re-issue a corrected copy".into(),
            ));
        }
        invoice_line::Entity::delete_many()
            .filter(invoice_line::Column::InvoiceId.eq(id.0))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        insert_lines(&tx, id, currency, &totals).await?;
        let detail = serde_json::json!({ "number": row.number, "total": currency.format(totals.total) });
        audit::write(&tx, Some(actor), Entry::invoice(AuditAction::InvoiceUpdate, id, client, ip).with_detail(detail))
            .await?;
        tx.commit().await.map_err(db_err)?;
        self.invoice(actor, id).await
    }

    /// Issues a draft to the client (staff): from now on it is immutable and visible to the
    /// client's admins and finance users.
    pub async fn send_invoice(&self, actor: &Actor, id: InvoiceId, ip: Option<&str>) -> Result<Invoice> {
        let row = self.visible_invoice_row(&self.db, &actor.billing_scope(), id).await?;
        actor.may_manage_invoices()?;
        let tx = self.write_tx().await?;
        let now = Utc::now();
        let done = invoice::Entity::update_many()
            .col_expr(invoice::Column::Status, Expr::value(InvoiceStatus::Sent.as_str()))
            .col_expr(invoice::Column::SentAt, Expr::value(now))
            .col_expr(invoice::Column::UpdatedAt, Expr::value(now))
            .filter(invoice::Column::Id.eq(id.0))
            .filter(invoice::Column::Status.eq(InvoiceStatus::Draft.as_str()))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected != 1 {
            return Err(Error::Conflict("only a draft can be sent; this invoice was already issued".into()));
        }
        let detail = serde_json::json!({ "number": row.number, "total": row.total, "currency": row.currency });
        audit::write(
            &tx,
            Some(actor),
            Entry::invoice(AuditAction::InvoiceSend, id, ClientId(row.client_id), ip).with_detail(detail),
        )
        .await?;
        // The client's admins and finance users hear of it, by their own notification settings.
        let client = ClientId(row.client_id);
        let total = match (Currency::parse("currency", &row.currency), money::stored(&row.total)) {
            (Ok(c), Ok(t)) => c.display(t),
            _ => format!("{} {}", row.currency, row.total),
        };
        let text = format!("Invoice {} for {total} is due {}", row.number, row.due_date.format("%b %-d, %Y"));
        let recipients = invoice_recipients(&tx, client).await?;
        let notice = Notice { kind: NotificationKind::InvoiceSent, client, target: Target::Invoice(id), text };
        let created = notify(&tx, &notice, &recipients.iter().collect::<Vec<_>>()).await?;
        tx.commit().await.map_err(db_err)?;
        self.announce(created).await;
        self.invoice(actor, id).await
    }

    /// Voids a draft or an issued invoice without payments (staff). Its number stays used.
    pub async fn void_invoice(&self, actor: &Actor, id: InvoiceId, ip: Option<&str>) -> Result<Invoice> {
        let row = self.visible_invoice_row(&self.db, &actor.billing_scope(), id).await?;
        actor.may_manage_invoices()?;
        let tx = self.write_tx().await?;
        let now = Utc::now();
        // Locks the row, so a payment cannot slip in between the check and the void.
        let done = invoice::Entity::update_many()
            .col_expr(invoice::Column::UpdatedAt, Expr::value(now))
            .filter(invoice::Column::Id.eq(id.0))
            .filter(invoice::Column::Status.is_in([InvoiceStatus::Draft.as_str(), InvoiceStatus::Sent.as_str()]))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let has_payments = payment::Entity::find()
            .filter(payment::Column::InvoiceId.eq(id.0))
            .one(&tx)
            .await
            .map_err(db_err)?
            .is_some();
        if done.rows_affected != 1 || has_payments {
            let why = match parse::<InvoiceStatus>("invoice status", &row.status)? {
                InvoiceStatus::Void => "this invoice is already void",
                _ => "an invoice with payments cannot be voided",
            };
            return Err(Error::Conflict(why.into()));
        }
        invoice::Entity::update_many()
            .col_expr(invoice::Column::Status, Expr::value(InvoiceStatus::Void.as_str()))
            .col_expr(invoice::Column::VoidedAt, Expr::value(now))
            .filter(invoice::Column::Id.eq(id.0))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let detail = serde_json::json!({ "number": row.number, "was": row.status });
        audit::write(
            &tx,
            Some(actor),
            Entry::invoice(AuditAction::InvoiceVoid, id, ClientId(row.client_id), ip).with_detail(detail),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        self.invoice(actor, id).await
    }

    /// Re-issues a void invoice (staff): a new draft copy with the next number, linked to the one
    /// it replaces. A void invoice is re-issued at most once.
    pub async fn reissue_invoice(&self, actor: &Actor, id: InvoiceId, ip: Option<&str>) -> Result<Invoice> {
        let row = self.visible_invoice_row(&self.db, &actor.billing_scope(), id).await?;
        actor.may_manage_invoices()?;
        if row.status != InvoiceStatus::Void.as_str() {
            return Err(Error::Conflict("only a void invoice can be re-issued: void it first".into()));
        }
        let currency = Currency::parse("currency", &row.currency)?;
        let lines = stored_lines(&self.db, row.id).await?;
        let totals = money::compute(currency, &lines).map_err(|e| Error::Internal(format!("stored lines: {e}")))?;
        let new_id = InvoiceId::new();
        let tx = self.write_tx().await?;
        let taken =
            invoice::Entity::find().filter(invoice::Column::ReplacesId.eq(id.0)).one(&tx).await.map_err(db_err)?;
        if let Some(t) = taken {
            return Err(Error::Conflict(format!("this invoice was already re-issued as {}", t.number)));
        }
        let (seq, number, _) = next_number(&tx).await?;
        insert_invoice(
            &tx,
            actor,
            InsertInvoice {
                id: new_id,
                client: ClientId(row.client_id),
                project: row.project_id.map(ProjectId),
                seq,
                number: number.clone(),
                issue_date: Ord::max(Utc::now().date_naive(), row.issue_date),
                due_date: Ord::max(row.due_date, Utc::now().date_naive()),
                notes: row.notes.clone(),
                instructions: row.payment_instructions.clone(),
                replaces: Some(id),
            },
            &totals,
        )
        .await?;
        let client = ClientId(row.client_id);
        let detail = serde_json::json!({ "number": row.number, "reissued_as": number, "new_id": new_id });
        audit::write(&tx, Some(actor), Entry::invoice(AuditAction::InvoiceReissue, id, client, ip).with_detail(detail))
            .await?;
        let detail = serde_json::json!({ "number": number, "replaces": row.number });
        audit::write(
            &tx,
            Some(actor),
            Entry::invoice(AuditAction::InvoiceCreate, new_id, client, ip).with_detail(detail),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        self.invoice(actor, new_id).await
    }

    /// Records a payment (staff) on a sent or partially paid invoice: more than zero, at most
    /// the balance (else 422 `overpayment`), in one transaction with that check.
    pub async fn record_payment(
        &self,
        actor: &Actor,
        id: InvoiceId,
        p: NewPayment,
        ip: Option<&str>,
    ) -> Result<Invoice> {
        let row = self.visible_invoice_row(&self.db, &actor.billing_scope(), id).await?;
        actor.may_manage_invoices()?;
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

    /// One invoice the actor can see, with lines, taxes and payments.
    pub async fn invoice(&self, actor: &Actor, id: InvoiceId) -> Result<Invoice> {
        let row = self.visible_invoice_row(&self.db, &actor.billing_scope(), id).await?;
        self.build_invoices(vec![row]).await?.pop().ok_or(Error::NotFound)
    }

    /// The invoices the actor can see, newest first (by number), filtered. A `client_id` outside
    /// the caller's billing scope is 404; viewers get 404 for the list itself.
    pub async fn invoices(&self, actor: &Actor, f: &InvoiceFilter) -> Result<Vec<Invoice>> {
        let rows =
            self.invoice_query(actor, f)?.order_by_desc(invoice::Column::Seq).all(&self.db).await.map_err(db_err)?;
        self.build_invoices(rows).await
    }

    /// One page of [`Store::invoices`]: at most `req.limit`, after its cursor (an invoice of this list).
    pub async fn invoices_page(&self, actor: &Actor, f: &InvoiceFilter, req: PageRequest) -> Result<Page<Invoice>> {
        let q = self.invoice_query(actor, f)?;
        let rows = page_rows(&self.db, q, req, invoice::Column::Id, invoice::Column::Seq).await?;
        let items = self.build_invoices(rows).await?;
        Ok(page(items, req, |i| i.id.0))
    }

    fn invoice_query(&self, actor: &Actor, f: &InvoiceFilter) -> Result<sea_orm::Select<invoice::Entity>> {
        let scope = actor.billing_scope();
        let mut q = invoice::Entity::find().filter(invoice::Column::ClientId.not_in_subquery(deleted_clients()));
        match scope.clients() {
            ClientFilter::All => {}
            ClientFilter::Only(c) => q = q.filter(invoice::Column::ClientId.eq(c.0)),
            ClientFilter::Nothing => return Err(Error::NotFound),
        }
        if !scope.includes_notes() {
            q = q.filter(invoice::Column::Status.ne(InvoiceStatus::Draft.as_str()));
        }
        if let Some(c) = f.client_id {
            if !scope.allows(c) {
                return Err(Error::NotFound);
            }
            q = q.filter(invoice::Column::ClientId.eq(c.0));
        }
        if let Some(s) = f.status {
            q = q.filter(invoice::Column::Status.eq(s.as_str()));
        }
        let open = [InvoiceStatus::Sent.as_str(), InvoiceStatus::PartiallyPaid.as_str()];
        let today = Utc::now().date_naive();
        match f.overdue {
            Some(true) => q = q.filter(invoice::Column::Status.is_in(open)).filter(invoice::Column::DueDate.lt(today)),
            Some(false) => {
                q = q.filter(
                    sea_orm::Condition::any()
                        .add(invoice::Column::Status.is_not_in(open))
                        .add(invoice::Column::DueDate.gte(today)),
                )
            }
            None => {}
        }
        Ok(q)
    }

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
            .ok_or_else(|| Error::Internal("invoice settings row missing".into()))?;
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

    async fn build_invoices(&self, rows: Vec<invoice::Model>) -> Result<Vec<Invoice>> {
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let client_ids: Vec<Uuid> = rows.iter().map(|r| r.client_id).collect();
        let names: HashMap<Uuid, String> = client::Entity::find()
            .filter(client::Column::Id.is_in(client_ids))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let mut lines: HashMap<Uuid, Vec<invoice_line::Model>> = HashMap::new();
        for l in invoice_line::Entity::find()
            .filter(invoice_line::Column::InvoiceId.is_in(ids.clone()))
            .order_by_asc(invoice_line::Column::Position)
            .all(&self.db)
            .await
            .map_err(db_err)?
        {
            lines.entry(l.invoice_id).or_default().push(l);
        }
        let mut payments: HashMap<Uuid, Vec<payment::Model>> = HashMap::new();
        for p in payment::Entity::find()
            .filter(payment::Column::InvoiceId.is_in(ids.clone()))
            .order_by_asc(payment::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
        {
            payments.entry(p.invoice_id).or_default().push(p);
        }
        let replaced_by: HashMap<Uuid, Uuid> = invoice::Entity::find()
            .filter(invoice::Column::ReplacesId.is_in(ids))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .filter_map(|r| r.replaces_id.map(|old| (old, r.id)))
            .collect();
        let today = Utc::now().date_naive();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let currency = Currency::parse("currency", &r.currency)
                .map_err(|_| Error::Internal(format!("stored currency {:?}", r.currency)))?;
            let my_lines = lines.remove(&r.id).unwrap_or_default();
            let inputs: Vec<LineInput> = my_lines.iter().map(line_input).collect();
            let totals = money::compute(currency, &inputs)
                .map_err(|e| Error::Internal(format!("stored lines of invoice {}: {e}", r.id)))?;
            let pays = payments.remove(&r.id).unwrap_or_default();
            let mut paid = Decimal::ZERO;
            let mut payment_views = Vec::with_capacity(pays.len());
            for p in pays {
                paid += money::stored(&p.amount)?;
                payment_views.push(Payment {
                    id: PaymentId(p.id),
                    amount: p.amount,
                    date: p.paid_on,
                    method: parse("payment method", &p.method)?,
                    reference: p.reference,
                    recorded_at: p.created_at,
                });
            }
            let status: InvoiceStatus = parse("invoice status", &r.status)?;
            let balance = if status == InvoiceStatus::Void { Decimal::ZERO } else { totals.total - paid };
            out.push(Invoice {
                id: InvoiceId(r.id),
                number: r.number,
                client_id: ClientId(r.client_id),
                client_name: names.get(&r.client_id).cloned().unwrap_or_default(),
                project_id: r.project_id.map(ProjectId),
                status,
                overdue: status.is_open() && r.due_date < today && balance > Decimal::ZERO,
                currency: currency.code().into(),
                issue_date: r.issue_date,
                due_date: r.due_date,
                notes: r.notes,
                payment_instructions: r.payment_instructions,
                subtotal: currency.format(totals.subtotal),
                taxes: totals
                    .taxes
                    .iter()
                    .map(|t| InvoiceTax {
                        rate: t.rate.normalize().to_string(),
                        base: currency.format(t.base),
                        amount: currency.format(t.amount),
                    })
                    .collect(),
                tax_total: currency.format(totals.tax_total),
                total: currency.format(totals.total),
                paid: currency.format(paid),
                balance: currency.format(balance),
                lines: totals
                    .lines
                    .iter()
                    .map(|l| InvoiceLine {
                        description: l.description.clone(),
                        quantity: l.quantity.normalize().to_string(),
                        unit_price: price_text(currency, l.unit_price),
                        tax_rate: l.tax_rate.normalize().to_string(),
                        discount: l.discount.normalize().to_string(),
                        net: currency.format(l.net),
                    })
                    .collect(),
                payments: payment_views,
                replaces_id: r.replaces_id.map(InvoiceId),
                replaced_by_id: replaced_by.get(&r.id).copied().map(InvoiceId),
                created_at: r.created_at,
                sent_at: r.sent_at,
            });
        }
        Ok(out)
    }
}

/// A unit price as shown: at least the currency's decimals (`3000.00`), more when entered
/// (`33.333`).
fn price_text(currency: Currency, price: Decimal) -> String {
    let mut p = price.normalize();
    if p.scale() < currency.exponent() {
        p.rescale(currency.exponent());
    }
    p.to_string()
}

fn line_input(l: &invoice_line::Model) -> LineInput {
    LineInput {
        description: l.description.clone(),
        quantity: l.quantity.clone(),
        unit_price: l.unit_price.clone(),
        tax_rate: l.tax_rate.clone(),
        discount: l.discount.clone(),
    }
}

async fn stored_lines<C: ConnectionTrait>(c: &C, id: Uuid) -> Result<Vec<LineInput>> {
    Ok(invoice_line::Entity::find()
        .filter(invoice_line::Column::InvoiceId.eq(id))
        .order_by_asc(invoice_line::Column::Position)
        .all(c)
        .await
        .map_err(db_err)?
        .iter()
        .map(line_input)
        .collect())
}

async fn sum_payments<C: ConnectionTrait>(c: &C, id: InvoiceId) -> Result<Decimal> {
    let mut sum = Decimal::ZERO;
    for p in payment::Entity::find().filter(payment::Column::InvoiceId.eq(id.0)).all(c).await.map_err(db_err)? {
        sum += money::stored(&p.amount)?;
    }
    Ok(sum)
}

async fn settings<C: ConnectionTrait>(c: &C) -> Result<InvoiceSettings> {
    let row = invoice_settings::Entity::find_by_id(SETTINGS_ROW)
        .one(c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::Internal("invoice settings row missing".into()))?;
    Ok(InvoiceSettings {
        prefix: row.prefix,
        padding: u32::try_from(row.padding).unwrap_or(0),
        next_number: u64::try_from(row.next_seq).unwrap_or(0),
        payment_instructions: row.payment_instructions,
    })
}

/// Takes the next number inside `tx`: the increment comes first so that it locks the settings
/// row until the transaction ends; returns (seq, formatted number, default instructions).
async fn next_number<C: ConnectionTrait>(tx: &C) -> Result<(i64, String, String)> {
    let done = invoice_settings::Entity::update_many()
        .col_expr(invoice_settings::Column::NextSeq, Expr::col(invoice_settings::Column::NextSeq).add(1))
        .filter(invoice_settings::Column::Id.eq(SETTINGS_ROW))
        .exec(tx)
        .await
        .map_err(db_err)?;
    if done.rows_affected != 1 {
        return Err(Error::Internal("invoice settings row missing".into()));
    }
    let row = invoice_settings::Entity::find_by_id(SETTINGS_ROW)
        .one(tx)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::Internal("invoice settings row missing".into()))?;
    let seq = row.next_seq - 1;
    Ok((seq, number(&row.prefix, row.padding, seq), row.payment_instructions))
}

struct InsertInvoice {
    id: InvoiceId,
    client: ClientId,
    project: Option<ProjectId>,
    seq: i64,
    number: String,
    issue_date: NaiveDate,
    due_date: NaiveDate,
    notes: String,
    instructions: String,
    replaces: Option<InvoiceId>,
}

async fn insert_invoice<C: ConnectionTrait>(c: &C, actor: &Actor, n: InsertInvoice, totals: &Totals) -> Result<()> {
    let now = Utc::now();
    let currency = totals.currency;
    invoice::ActiveModel {
        id: Set(n.id.0),
        client_id: Set(n.client.0),
        project_id: Set(n.project.map(|p| p.0)),
        seq: Set(n.seq),
        number: Set(n.number),
        status: Set(InvoiceStatus::Draft.as_str().into()),
        currency: Set(currency.code().into()),
        issue_date: Set(n.issue_date),
        due_date: Set(n.due_date),
        notes: Set(n.notes),
        payment_instructions: Set(n.instructions),
        subtotal: Set(currency.format(totals.subtotal)),
        tax_total: Set(currency.format(totals.tax_total)),
        total: Set(currency.format(totals.total)),
        paid: Set(currency.format(Decimal::ZERO)),
        replaces_id: Set(n.replaces.map(|r| r.0)),
        created_by: Set(actor.user_id().0),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
        voided_at: Set(None),
    }
    .insert(c)
    .await
    .map_err(db_err)?;
    insert_lines(c, n.id, currency, totals).await
}

async fn insert_lines<C: ConnectionTrait>(c: &C, id: InvoiceId, currency: Currency, totals: &Totals) -> Result<()> {
    let rows: Vec<invoice_line::ActiveModel> = totals
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| invoice_line::ActiveModel {
            id: Set(InvoiceLineId::new().0),
            invoice_id: Set(id.0),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            description: Set(l.description.clone()),
            quantity: Set(l.quantity.normalize().to_string()),
            unit_price: Set(l.unit_price.normalize().to_string()),
            tax_rate: Set(l.tax_rate.normalize().to_string()),
            discount: Set(l.discount.normalize().to_string()),
            net: Set(currency.format(l.net)),
        })
        .collect();
    invoice_line::Entity::insert_many(rows).exec(c).await.map_err(db_err)?;
    Ok(())
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

    #[test]
    fn prices_show_at_least_the_minor_unit() {
        let eur = Currency::parse("currency", "EUR").unwrap();
        let jpy = Currency::parse("currency", "JPY").unwrap();
        assert_eq!(price_text(eur, Decimal::from(3000)), "3000.00");
        assert_eq!(price_text(eur, "33.333".parse().unwrap()), "33.333");
        assert_eq!(price_text(jpy, "1200".parse().unwrap()), "1200");
    }
}
