//! An invoice's life: created as a draft (numbered from the sequence in the same transaction),
//! changed while a draft, sent, voided, and re-issued as a new draft copy. Every step is audited.

use atrium_core::ids::{ClientId, InvoiceId, ProjectId, UserId};
use atrium_core::model::{Invoice, InvoiceStatus, NotificationKind};
use atrium_core::money::{self, Currency, Decimal, LineInput, Totals};
use atrium_core::policy::Actor;
use atrium_core::validate::BODY_MAX;
use atrium_core::{Error, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{client, invoice, invoice_line, payment, project};
use crate::notifications::{Created, Notice, Target, invoice_recipients, notify};

use super::lines::{insert_lines, stored_lines};
use super::numbering::next_number;

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

/// An invoice's or a payment's date: from 1900 to 9999.
pub(super) fn check_date(field: &'static str, d: NaiveDate) -> Result<()> {
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

    /// Creates a draft invoice (staff): lines and totals computed exactly, the next number of
    /// the sequence taken in the same transaction.
    pub async fn create_invoice(&self, actor: &Actor, n: NewInvoice, ip: Option<&str>) -> Result<Invoice> {
        let client = self.invoice_client(actor, n.client_id).await?;
        let draft = check_draft(n, client.name)?;
        check_project(&self.db, draft.client, draft.project).await?;
        let tx = self.write_tx().await?;
        let (id, _) = write_draft(&tx, Some(actor), actor.user_id(), &draft, self.now(), ip).await?;
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
        let row = self.managed_invoice_row(actor, id).await?;
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
        check_project(&self.db, client, project).await?;
        let tx = self.write_tx().await?;
        let now = self.now();
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
        let row = self.managed_invoice_row(actor, id).await?;
        let tx = self.write_tx().await?;
        let created = mark_sent(&tx, Some(actor), &row, self.now(), ip).await?;
        tx.commit().await.map_err(db_err)?;
        self.announce(created).await;
        self.invoice(actor, id).await
    }

    /// Voids a draft or an issued invoice without payments (staff). Its number stays used.
    pub async fn void_invoice(&self, actor: &Actor, id: InvoiceId, ip: Option<&str>) -> Result<Invoice> {
        let row = self.managed_invoice_row(actor, id).await?;
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
        let row = self.managed_invoice_row(actor, id).await?;
        if row.status != InvoiceStatus::Void.as_str() {
            return Err(Error::Conflict("only a void invoice can be re-issued: void it first".into()));
        }
        let currency = Currency::parse("currency", &row.currency)?;
        let lines = stored_lines(&self.db, row.id).await?;
        let totals = money::compute(currency, &lines).map_err(|e| Error::internal("stored lines", e))?;
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
            actor.user_id(),
            Utc::now(),
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

async fn insert_invoice<C: ConnectionTrait>(
    c: &C,
    created_by: UserId,
    now: DateTime<Utc>,
    n: InsertInvoice,
    totals: &Totals,
) -> Result<()> {
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
        created_by: Set(created_by.0),
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

/// A new invoice checked and ready to be written: what [`Store::create_invoice`] and the
/// recurring invoices' issue (`recurring_issue`) both write through [`write_draft`].
pub(super) struct Draft {
    pub client: ClientId,
    pub client_name: String,
    pub project: Option<ProjectId>,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub totals: Totals,
    pub notes: String,
    /// `None`: the agency's default instructions.
    pub instructions: Option<String>,
}

/// Checks a new invoice of the client named `client_name`: currency, dates, lines and texts (422
/// naming the field). The project is checked by [`check_project`].
pub(super) fn check_draft(n: NewInvoice, client_name: String) -> Result<Draft> {
    let currency = Currency::parse("currency", &n.currency)?;
    check_dates(n.issue_date, n.due_date)?;
    let totals = money::compute(currency, &n.lines)?;
    let (notes, instructions) = texts(&n.notes, n.payment_instructions.as_deref())?;
    Ok(Draft {
        client: n.client_id,
        client_name,
        project: n.project_id,
        issue_date: n.issue_date,
        due_date: n.due_date,
        totals,
        notes,
        instructions,
    })
}

/// 422 `project_id` unless `project` (if any) is a project of `client`.
pub(super) async fn check_project<C: ConnectionTrait>(
    c: &C,
    client: ClientId,
    project: Option<ProjectId>,
) -> Result<()> {
    if let Some(p) = project {
        let row = project::Entity::find_by_id(p.0).one(c).await.map_err(db_err)?;
        if row.is_none_or(|r| r.client_id != client.0) {
            return Err(Error::invalid("project_id", "must be a project of the invoice's client"));
        }
    }
    Ok(())
}

/// Writes `d` as a draft inside `tx`: the next number of the sequence (taken first, so the
/// settings row stays locked until the transaction ends), the invoice and its lines, and the
/// audit row — by `actor`, or by no person (`None`: the recurring invoices' job). Returns the
/// new invoice's id and number.
pub(super) async fn write_draft<C: ConnectionTrait>(
    tx: &C,
    actor: Option<&Actor>,
    created_by: UserId,
    d: &Draft,
    now: DateTime<Utc>,
    ip: Option<&str>,
) -> Result<(InvoiceId, String)> {
    let id = InvoiceId::new();
    let (seq, number, default_instructions) = next_number(tx).await?;
    let insert = InsertInvoice {
        id,
        client: d.client,
        project: d.project,
        seq,
        number: number.clone(),
        issue_date: d.issue_date,
        due_date: d.due_date,
        notes: d.notes.clone(),
        instructions: d.instructions.clone().unwrap_or(default_instructions),
        replaces: None,
    };
    insert_invoice(tx, created_by, now, insert, &d.totals).await?;
    let currency = d.totals.currency;
    let detail = serde_json::json!({
        "number": number, "client": d.client_name, "currency": currency.code(), "total": currency.format(d.totals.total),
    });
    audit::write(tx, actor, Entry::invoice(AuditAction::InvoiceCreate, id, d.client, ip).with_detail(detail)).await?;
    Ok((id, number))
}

/// Issues the draft `row` to its client inside `tx` (by `actor`, or by no person: the recurring
/// invoices' job): the status changes only if it is still a draft (409 otherwise), the send is
/// audited, and the client's admins and finance users are notified by their own settings.
/// Returns the notifications to announce once `tx` is committed.
pub(super) async fn mark_sent<C: ConnectionTrait>(
    tx: &C,
    actor: Option<&Actor>,
    row: &invoice::Model,
    now: DateTime<Utc>,
    ip: Option<&str>,
) -> Result<Created> {
    let id = InvoiceId(row.id);
    let done = invoice::Entity::update_many()
        .col_expr(invoice::Column::Status, Expr::value(InvoiceStatus::Sent.as_str()))
        .col_expr(invoice::Column::SentAt, Expr::value(now))
        .col_expr(invoice::Column::UpdatedAt, Expr::value(now))
        .filter(invoice::Column::Id.eq(id.0))
        .filter(invoice::Column::Status.eq(InvoiceStatus::Draft.as_str()))
        .exec(tx)
        .await
        .map_err(db_err)?;
    if done.rows_affected != 1 {
        return Err(Error::Conflict("only a draft can be sent; this invoice was already issued".into()));
    }
    let client = ClientId(row.client_id);
    let detail = serde_json::json!({ "number": row.number, "total": row.total, "currency": row.currency });
    audit::write(tx, actor, Entry::invoice(AuditAction::InvoiceSend, id, client, ip).with_detail(detail)).await?;
    // The client's admins and finance users hear of it, by their own notification settings.
    let total = match (Currency::parse("currency", &row.currency), money::stored(&row.total)) {
        (Ok(c), Ok(t)) => c.display(t),
        _ => format!("{} {}", row.currency, row.total),
    };
    let text = format!("Invoice {} for {total} is due {}", row.number, row.due_date.format("%b %-d, %Y"));
    let recipients = invoice_recipients(tx, client).await?;
    let notice = Notice { kind: NotificationKind::InvoiceSent, client, target: Target::Invoice(id), text };
    let created = notify(tx, &notice, &recipients.iter().collect::<Vec<_>>()).await?;
    // The rules that fire on a sent invoice, in the same transaction.
    let sent = invoice::Entity::find_by_id(id.0).one(tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
    crate::automation_fire::on_invoice_sent(tx, now, &sent).await?;
    Ok(created)
}
