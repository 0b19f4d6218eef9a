//! Recurring invoice schedules: staff add, list, change (pause, resume, end) and delete them;
//! every change is audited in its transaction. Issuing them is `recurring_issue`.
//!
//! * **Checks.** A schedule's lines, currency and texts are checked exactly as an invoice's
//!   (`atrium_core::money::compute`), its client must exist (422 `client_id`) and its project be
//!   one of that client's (422 `project_id`); the calendar rules and limits are
//!   `atrium_core::model::recurring`.
//! * **Concurrency.** A change first touches the row (`UPDATE … SET updated_at`), which locks it
//!   on PostgreSQL (SQLite's write transaction holds the whole database), then reads it: a
//!   change and the issuing job never work from each other's stale copy.

use atrium_core::ids::{ClientId, ProjectId, RecurringInvoiceId};
use atrium_core::model::{
    self as m, RecurringInterval, RecurringInvoice, RecurringLine, RecurringStatus, SCHEDULES_MAX,
};
use atrium_core::money::{self, Currency, LineInput, Totals};
use atrium_core::policy::Actor;
use atrium_core::validate::BODY_MAX;
use atrium_core::{Error, Result};
use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::invoices::check_project;
use super::listing::client_names;
use crate::audit::{self, AuditAction, Entry};
use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{client, recurring_invoice as row};
use crate::helpdesk_settings::service_levels;
use crate::scoping::deleted_clients;

/// A new schedule, as sent (checked by the store).
#[derive(Clone, Debug)]
pub struct NewRecurringInvoice {
    pub client_id: ClientId,
    pub project_id: Option<ProjectId>,
    pub name: String,
    pub currency: String,
    pub lines: Vec<LineInput>,
    pub notes: String,
    pub interval: RecurringInterval,
    /// Today or later in the agency's timezone; its day of the month becomes the anchor day.
    pub next_issue_date: NaiveDate,
    pub due_days: i64,
    pub auto_send: bool,
}

/// Changes to a schedule; `None` keeps a field, `lines` replaces all lines. Setting `status`
/// pauses, resumes or ends it; resuming without a `next_issue_date` moves the next date on to
/// the first slot on or after today, so the paused periods are not issued.
#[derive(Clone, Debug, Default)]
pub struct RecurringPatch {
    pub project_id: Option<Option<ProjectId>>,
    pub name: Option<String>,
    pub currency: Option<String>,
    pub lines: Option<Vec<LineInput>>,
    pub notes: Option<String>,
    pub interval: Option<RecurringInterval>,
    pub next_issue_date: Option<NaiveDate>,
    pub due_days: Option<i64>,
    pub auto_send: Option<bool>,
    pub status: Option<RecurringStatus>,
}

impl RecurringPatch {
    /// Whether the patch changes anything besides the status.
    fn changes_terms(&self) -> bool {
        self.project_id.is_some()
            || self.name.is_some()
            || self.currency.is_some()
            || self.lines.is_some()
            || self.notes.is_some()
            || self.interval.is_some()
            || self.next_issue_date.is_some()
            || self.due_days.is_some()
            || self.auto_send.is_some()
    }
}

/// Lines as stored: the checked values, normalised (`"1.50"` → `"1.5"`), discount `"0"` when none.
fn stored_lines(totals: &Totals) -> Vec<RecurringLine> {
    totals
        .lines
        .iter()
        .map(|l| RecurringLine {
            description: l.description.clone(),
            quantity: l.quantity.normalize().to_string(),
            unit_price: l.unit_price.normalize().to_string(),
            tax_rate: l.tax_rate.normalize().to_string(),
            discount: l.discount.normalize().to_string(),
        })
        .collect()
}

/// The stored lines of a schedule.
pub(super) fn lines_of(r: &row::Model) -> Result<Vec<RecurringLine>> {
    serde_json::from_str(&r.lines).map_err(|e| Error::internal("stored recurring invoice lines", e))
}

fn lines_json(lines: &[RecurringLine]) -> Result<String> {
    serde_json::to_string(lines).map_err(|e| Error::internal("recurring invoice lines", e))
}

/// The API form of a row of `client_name`'s.
fn of_row(r: row::Model, client_name: String) -> Result<RecurringInvoice> {
    let lines = lines_of(&r)?;
    let currency = Currency::parse("currency", &r.currency).map_err(|e| Error::internal("stored currency", e))?;
    let input: Vec<LineInput> = lines.iter().map(Into::into).collect();
    let total = money::compute(currency, &input).map(|t| currency.format(t.total)).unwrap_or_default();
    Ok(RecurringInvoice {
        id: r.id.into(),
        name: r.name,
        client_id: r.client_id.into(),
        client_name,
        project_id: r.project_id.map(ProjectId),
        currency: r.currency,
        lines,
        total,
        notes: r.notes,
        interval: parse("recurring interval", &r.interval)?,
        anchor_day: u32::try_from(r.anchor_day).unwrap_or(1),
        next_issue_date: r.next_issue_date,
        due_days: u32::try_from(r.due_days).unwrap_or(0),
        auto_send: r.auto_send,
        status: parse("recurring status", &r.status)?,
        issued_count: u32::try_from(r.issued_count).unwrap_or(0),
        last_issued_on: r.last_issued_on,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// The terms every schedule is checked for, whether new or changed.
struct Terms {
    currency: Currency,
    lines: Vec<RecurringLine>,
    name: String,
    notes: String,
    due_days: i32,
}

fn check_terms(currency: &str, lines: &[LineInput], name: &str, notes: &str, due_days: i64) -> Result<Terms> {
    let name = m::check_name(name)?;
    let currency = Currency::parse("currency", currency)?;
    let totals = money::compute(currency, lines)?;
    let notes = atrium_core::validate::optional_text("notes", notes, BODY_MAX)?;
    let due_days = i32::try_from(m::check_due_days(due_days)?).map_err(|_| Error::invalid("due_days", "too large"))?;
    Ok(Terms { currency, lines: stored_lines(&totals), name, notes, due_days })
}

fn anchor_of(d: NaiveDate) -> i32 {
    i32::try_from(d.day()).unwrap_or(1)
}

impl Store {
    /// Today in the agency's timezone (the help desk's service-level timezone).
    pub(super) async fn agency_today<C: ConnectionTrait>(&self, c: &C) -> Result<NaiveDate> {
        Ok(self.now().with_timezone(&service_levels(c).await?.timezone()).date_naive())
    }

    /// Every schedule (at most [`SCHEDULES_MAX`]), newest first (staff; client users 404).
    /// Those of deleted clients are gone with them (and come back if the client is restored).
    pub async fn recurring_invoices(&self, actor: &Actor) -> Result<Vec<RecurringInvoice>> {
        actor.may_manage_recurring_invoices()?;
        let rows = row::Entity::find()
            .filter(row::Column::ClientId.not_in_subquery(deleted_clients()))
            .order_by_desc(row::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        self.with_client_names(rows).await
    }

    async fn with_client_names(&self, rows: Vec<row::Model>) -> Result<Vec<RecurringInvoice>> {
        let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.client_id).collect();
        let names = client_names(&self.db, ids).await?;
        rows.into_iter()
            .map(|r| {
                let name = names.get(&r.client_id).cloned().unwrap_or_default();
                of_row(r, name)
            })
            .collect()
    }

    /// One schedule (staff; client users and unknown ids 404).
    pub async fn recurring_invoice(&self, actor: &Actor, id: RecurringInvoiceId) -> Result<RecurringInvoice> {
        actor.may_manage_recurring_invoices()?;
        let r = schedule_row(&self.db, id).await?;
        self.with_client_names(vec![r]).await?.pop().ok_or(Error::NotFound)
    }

    /// Adds a schedule (staff), active from `next_issue_date`; 422 naming the field for a bad
    /// value, beyond [`SCHEDULES_MAX`] schedules 422 `body`.
    pub async fn create_recurring_invoice(
        &self,
        actor: &Actor,
        n: NewRecurringInvoice,
        ip: Option<&str>,
    ) -> Result<RecurringInvoice> {
        actor.may_manage_recurring_invoices()?;
        let t = check_terms(&n.currency, &n.lines, &n.name, &n.notes, n.due_days)?;
        let client = live_client(&self.db, n.client_id).await?;
        check_project(&self.db, n.client_id, n.project_id).await?;
        let tx = self.write_tx().await?;
        m::check_next_issue_date(n.next_issue_date, self.agency_today(&tx).await?)?;
        if row::Entity::find().count(&tx).await.map_err(db_err)? >= SCHEDULES_MAX {
            return Err(Error::invalid(
                "body",
                format!("the agency keeps at most {SCHEDULES_MAX} recurring invoices: delete an ended one first"),
            ));
        }
        let (id, now) = (RecurringInvoiceId::new(), self.now());
        let saved = row::ActiveModel {
            id: Set(id.0),
            client_id: Set(n.client_id.0),
            project_id: Set(n.project_id.map(|p| p.0)),
            name: Set(t.name),
            currency: Set(t.currency.code().into()),
            lines: Set(lines_json(&t.lines)?),
            notes: Set(t.notes),
            interval: Set(n.interval.as_str().into()),
            anchor_day: Set(anchor_of(n.next_issue_date)),
            next_issue_date: Set(n.next_issue_date),
            due_days: Set(t.due_days),
            auto_send: Set(n.auto_send),
            status: Set(RecurringStatus::Active.as_str().into()),
            issued_count: Set(0),
            last_issued_on: Set(None),
            created_by: Set(actor.user_id().0),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let detail = serde_json::json!({
            "client": client.name, "interval": n.interval, "next_issue_date": n.next_issue_date, "auto_send": n.auto_send,
        });
        let e = Entry::recurring_invoice(AuditAction::RecurringInvoiceCreate, id, n.client_id, ip).with_detail(detail);
        audit::write(&tx, Some(actor), e).await?;
        tx.commit().await.map_err(db_err)?;
        of_row(saved, client.name)
    }

    /// Changes a schedule (staff): its terms, or its status (pause, resume, end). An ended
    /// schedule changes no more (409 naming `status`).
    pub async fn update_recurring_invoice(
        &self,
        actor: &Actor,
        id: RecurringInvoiceId,
        p: RecurringPatch,
        ip: Option<&str>,
    ) -> Result<RecurringInvoice> {
        actor.may_manage_recurring_invoices()?;
        let tx = self.write_tx().await?;
        let now = self.now();
        // Lock the row first, then read it (see the module's doc).
        let touched = row::Entity::update_many()
            .col_expr(row::Column::UpdatedAt, Expr::value(now))
            .filter(row::Column::Id.eq(id.0))
            .filter(row::Column::ClientId.not_in_subquery(deleted_clients()))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if touched.rows_affected != 1 {
            return Err(Error::NotFound);
        }
        let r = schedule_row(&tx, id).await?;
        let from: RecurringStatus = parse("recurring status", &r.status)?;
        let to = p.status.unwrap_or(from);
        m::check_status_change(from, to)?;
        if from == RecurringStatus::Ended && p.changes_terms() {
            return Err(Error::Conflict(
                "status: an ended recurring invoice cannot be changed; create a new one instead".into(),
            ));
        }
        let stored: Vec<LineInput> = lines_of(&r)?.iter().map(Into::into).collect();
        let t = check_terms(
            p.currency.as_deref().unwrap_or(&r.currency),
            p.lines.as_deref().unwrap_or(&stored),
            p.name.as_deref().unwrap_or(&r.name),
            p.notes.as_deref().unwrap_or(&r.notes),
            p.due_days.unwrap_or(i64::from(r.due_days)),
        )?;
        let client = ClientId(r.client_id);
        let project = p.project_id.unwrap_or(r.project_id.map(ProjectId));
        check_project(&tx, client, project).await?;
        let interval = p.interval.unwrap_or(parse("recurring interval", &r.interval)?);
        let today = self.agency_today(&tx).await?;
        let (mut next, mut anchor) = (r.next_issue_date, r.anchor_day);
        if let Some(d) = p.next_issue_date {
            m::check_next_issue_date(d, today)?;
            (next, anchor) = (d, anchor_of(d));
        } else if from == RecurringStatus::Paused && to == RecurringStatus::Active {
            next = m::resume_date(next, interval, u32::try_from(anchor).unwrap_or(1), today);
        }
        let mut changed: Vec<&str> = Vec::new();
        let mut am: row::ActiveModel = r.clone().into();
        macro_rules! set {
            ($col:ident, $name:literal, $v:expr) => {{
                let v = $v;
                if r.$col != v {
                    changed.push($name);
                    am.$col = Set(v);
                }
            }};
        }
        set!(project_id, "project_id", project.map(|p| p.0));
        set!(name, "name", t.name);
        set!(currency, "currency", t.currency.code().to_string());
        set!(lines, "lines", lines_json(&t.lines)?);
        set!(notes, "notes", t.notes);
        set!(interval, "interval", interval.as_str().to_string());
        set!(anchor_day, "anchor_day", anchor);
        set!(next_issue_date, "next_issue_date", next);
        set!(due_days, "due_days", t.due_days);
        set!(auto_send, "auto_send", p.auto_send.unwrap_or(r.auto_send));
        set!(status, "status", to.as_str().to_string());
        let saved = am.update(&tx).await.map_err(db_err)?;
        let detail = serde_json::json!({
            "changed": changed, "status": to, "next_issue_date": saved.next_issue_date, "was": from,
        });
        let e = Entry::recurring_invoice(AuditAction::RecurringInvoiceUpdate, id, client, ip).with_detail(detail);
        audit::write(&tx, Some(actor), e).await?;
        tx.commit().await.map_err(db_err)?;
        self.with_client_names(vec![saved]).await?.pop().ok_or(Error::NotFound)
    }

    /// Deletes a schedule (staff). The invoices it issued stay as they are.
    pub async fn delete_recurring_invoice(
        &self,
        actor: &Actor,
        id: RecurringInvoiceId,
        ip: Option<&str>,
    ) -> Result<()> {
        actor.may_manage_recurring_invoices()?;
        let tx = self.write_tx().await?;
        let r = schedule_row(&tx, id).await?;
        row::Entity::delete_by_id(r.id).exec(&tx).await.map_err(db_err)?;
        let detail = serde_json::json!({ "name": r.name, "issued_count": r.issued_count, "status": r.status });
        let e = Entry::recurring_invoice(AuditAction::RecurringInvoiceDelete, id, ClientId(r.client_id), ip)
            .with_detail(detail);
        audit::write(&tx, Some(actor), e).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }
}

/// A schedule of a client that was not deleted (404 otherwise).
pub(super) async fn schedule_row<C: ConnectionTrait>(c: &C, id: RecurringInvoiceId) -> Result<row::Model> {
    row::Entity::find_by_id(id.0)
        .filter(row::Column::ClientId.not_in_subquery(deleted_clients()))
        .one(c)
        .await
        .map_err(db_err)?
        .ok_or(Error::NotFound)
}

/// The client of a new schedule: existing and not deleted (422 `client_id` otherwise).
async fn live_client<C: ConnectionTrait>(c: &C, id: ClientId) -> Result<client::Model> {
    client::Entity::find_by_id(id.0)
        .filter(client::Column::DeletedAt.is_null())
        .one(c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::invalid("client_id", "no such client"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(q: &str, p: &str) -> LineInput {
        LineInput {
            description: "Retainer".into(),
            quantity: q.into(),
            unit_price: p.into(),
            tax_rate: "20.0".into(),
            discount: String::new(),
        }
    }

    #[test]
    fn terms_are_checked_like_an_invoice_and_stored_normalised() {
        let t = check_terms("EUR", &[line("1.50", "100.00")], "Retainer", "", 30).unwrap();
        assert_eq!(t.lines[0].quantity, "1.5");
        assert_eq!(t.lines[0].unit_price, "100");
        assert_eq!(t.lines[0].tax_rate, "20");
        assert_eq!(t.lines[0].discount, "0");
        let field = |r: Result<Terms>| match r {
            Err(Error::Invalid { field, .. }) => field.to_string(),
            _ => "ok".into(),
        };
        assert_eq!(field(check_terms("EUR", &[], "", "", 30)), "lines");
        assert_eq!(field(check_terms("EURO", &[line("1", "1")], "", "", 30)), "currency");
        assert_eq!(field(check_terms("EUR", &[line("0", "1")], "", "", 30)), "lines[0].quantity");
        assert_eq!(field(check_terms("EUR", &[line("1", "1")], "", "", -1)), "due_days");
        assert_eq!(field(check_terms("EUR", &[line("1", "1")], "a\nb", "", 1)), "name");
        assert_eq!(field(check_terms("EUR", &[line("1", "1")], "", &"x".repeat(BODY_MAX + 1), 1)), "notes");
    }
}
