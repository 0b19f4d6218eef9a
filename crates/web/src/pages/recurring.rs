//! The staff pages of recurring invoices (Billing): the list with a form to add one, and one
//! schedule's page to edit, pause, resume, end or delete it. Errors are the store's (422 naming
//! the field, 409 for an ended schedule), shown on the error page like the invoice forms'.

use askama::Template;
use atrium_core::Error;
use atrium_core::ids::{ClientId, RecurringInvoiceId};
use atrium_core::model::{RecurringInterval, RecurringInvoice, RecurringStatus};
use atrium_core::money::LineInput;
use atrium_store::billing::{NewRecurringInvoice, RecurringPatch};
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Months, Utc};

use super::billing::{date, form_date, form_lines, money, padded, pickers};
use super::{Chrome, page, see_other};
use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id};
use crate::state::AppState;

/// A schedule in the list.
pub struct RecurringRow {
    pub href: String,
    pub name: String,
    pub client: String,
    pub interval: &'static str,
    pub next: String,
    pub total: String,
    pub delivery: &'static str,
    pub status: &'static str,
    pub status_label: &'static str,
}

/// What a schedule is called on its pages: its name, or its client's name and interval.
fn title(r: &RecurringInvoice) -> String {
    if r.name.is_empty() { format!("{} — {}", r.client_name, r.interval.label()) } else { r.name.clone() }
}

fn row(r: &RecurringInvoice) -> RecurringRow {
    RecurringRow {
        href: format!("/staff/recurring-invoices/{}", r.id),
        name: title(r),
        client: r.client_name.clone(),
        interval: r.interval.label(),
        next: if r.status == RecurringStatus::Ended { "—".into() } else { date(r.next_issue_date) },
        total: money(&r.currency, &r.total),
        delivery: if r.auto_send { "Sent automatically" } else { "Draft for review" },
        status: r.status.as_str(),
        status_label: r.status.label(),
    }
}

/// Values of the schedule form.
#[derive(Default)]
pub struct FormValues {
    pub name: String,
    pub client_id: String,
    pub project_id: String,
    pub currency: String,
    pub interval: String,
    pub next_issue_date: String,
    pub due_days: String,
    pub auto_send: bool,
    pub notes: String,
    pub lines: Vec<(String, String, String, String, String)>,
}

fn intervals() -> Vec<(&'static str, &'static str)> {
    RecurringInterval::ALL.iter().map(|i| (i.as_str(), i.label())).collect()
}

#[derive(Template)]
#[template(path = "staff_recurring_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<RecurringRow>,
    v: FormValues,
    clients: Vec<(String, String)>,
    projects: Vec<(String, String)>,
    intervals: Vec<(&'static str, &'static str)>,
    editing: bool,
}

/// `GET /staff/recurring-invoices`: the list, and the form to add one (first of next month,
/// monthly, due in 30 days, waiting as a draft).
pub async fn staff_list(State(st): State<AppState>, auth: StaffAuth, csrf: CsrfToken) -> AppResult<Response> {
    let list = st.store.recurring_invoices(&auth.actor).await?;
    let (clients, projects) = pickers(&st, &auth).await?;
    let today = Utc::now().date_naive();
    let next_month = today.with_day(1).and_then(|d| d.checked_add_months(Months::new(1))).unwrap_or(today);
    let v = FormValues {
        currency: "EUR".into(),
        interval: RecurringInterval::Monthly.as_str().into(),
        next_issue_date: next_month.to_string(),
        due_days: "30".into(),
        lines: padded(vec![]),
        ..Default::default()
    };
    let view = ListPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "Recurring invoices", "/staff/invoices"),
        rows: list.iter().map(row).collect(),
        v,
        clients,
        projects,
        intervals: intervals(),
        editing: false,
    };
    page(&view)
}

/// The schedule form as posted.
struct Posted {
    name: String,
    client_id: String,
    project_id: String,
    currency: String,
    interval: String,
    next_issue_date: String,
    due_days: String,
    auto_send: bool,
    notes: String,
    lines: Vec<LineInput>,
}

fn posted(body: &[u8]) -> Posted {
    let mut p = Posted {
        name: String::new(),
        client_id: String::new(),
        project_id: String::new(),
        currency: String::new(),
        interval: String::new(),
        next_issue_date: String::new(),
        due_days: String::new(),
        auto_send: false,
        notes: String::new(),
        lines: form_lines(body),
    };
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match k.as_ref() {
            "name" => p.name = v,
            "client_id" => p.client_id = v,
            "project_id" => p.project_id = v,
            "currency" => p.currency = v.trim().to_uppercase(),
            "interval" => p.interval = v,
            "next_issue_date" => p.next_issue_date = v,
            "due_days" => p.due_days = v,
            "auto_send" => p.auto_send = v == "true",
            "notes" => p.notes = v,
            _ => {}
        }
    }
    p
}

impl Posted {
    fn project(&self) -> Result<Option<atrium_core::ids::ProjectId>, Error> {
        crate::api::billing::project(Some(self.project_id.clone()).filter(|p| !p.is_empty()))
    }

    fn interval(&self) -> Result<RecurringInterval, Error> {
        atrium_core::validate::parse("interval", &self.interval)
    }

    fn due_days(&self) -> Result<i64, Error> {
        self.due_days.trim().parse().map_err(|_| Error::invalid("due_days", "must be a whole number of days"))
    }
}

/// `POST /staff/recurring-invoices`: adds a schedule and goes to it.
pub async fn staff_create(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let p = posted(&body);
    let client_id: ClientId = p.client_id.parse().map_err(|_| Error::invalid("client_id", "choose a client"))?;
    let n = NewRecurringInvoice {
        client_id,
        project_id: p.project()?,
        interval: p.interval()?,
        next_issue_date: form_date("next_issue_date", &p.next_issue_date)?,
        due_days: p.due_days()?,
        name: p.name,
        currency: p.currency,
        lines: p.lines,
        notes: p.notes,
        auto_send: p.auto_send,
    };
    let r = st.store.create_recurring_invoice(&auth.actor, n, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/recurring-invoices/{}", r.id)))
}

#[derive(Template)]
#[template(path = "staff_recurring.html")]
struct ShowPage {
    chrome: Chrome,
    id: String,
    heading: String,
    summary: String,
    status: &'static str,
    status_label: &'static str,
    v: FormValues,
    clients: Vec<(String, String)>,
    projects: Vec<(String, String)>,
    intervals: Vec<(&'static str, &'static str)>,
    editing: bool,
}

/// `GET /staff/recurring-invoices/{id}`.
pub async fn staff_show(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(id): Id<RecurringInvoiceId>,
) -> AppResult<Response> {
    let r = st.store.recurring_invoice(&auth.actor, id).await?;
    let (clients, projects) = pickers(&st, &auth).await?;
    let next = match r.status {
        RecurringStatus::Ended => "Ended".to_string(),
        _ => format!("Next invoice {}", date(r.next_issue_date)),
    };
    let summary = format!(
        "{} {} for {}, due {} days after issue. {next}; {} issued so far.",
        r.interval.label(),
        money(&r.currency, &r.total),
        r.client_name,
        r.due_days,
        r.issued_count,
    );
    let v = FormValues {
        name: r.name.clone(),
        client_id: r.client_id.to_string(),
        project_id: r.project_id.map(|p| p.to_string()).unwrap_or_default(),
        currency: r.currency.clone(),
        interval: r.interval.as_str().into(),
        next_issue_date: r.next_issue_date.to_string(),
        due_days: r.due_days.to_string(),
        auto_send: r.auto_send,
        notes: r.notes.clone(),
        lines: padded(
            r.lines
                .iter()
                .map(|l| {
                    let disc = if l.discount == "0" { String::new() } else { l.discount.clone() };
                    (l.description.clone(), l.quantity.clone(), l.unit_price.clone(), l.tax_rate.clone(), disc)
                })
                .collect(),
        ),
    };
    let heading = title(&r);
    let view = ShowPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, heading.clone(), "/staff/invoices"),
        id: r.id.to_string(),
        heading,
        summary,
        status: r.status.as_str(),
        status_label: r.status.label(),
        v,
        clients,
        projects,
        intervals: intervals(),
        editing: true,
    };
    page(&view)
}

/// `POST /staff/recurring-invoices/{id}`: saves the terms. The next issue date is sent on only
/// when it was changed (an unchanged one keeps the anchor day, e.g. the 31st after a February).
pub async fn staff_update(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<RecurringInvoiceId>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let current = st.store.recurring_invoice(&auth.actor, id).await?;
    let p = posted(&body);
    let next = form_date("next_issue_date", &p.next_issue_date)?;
    let patch = RecurringPatch {
        project_id: Some(p.project()?),
        interval: Some(p.interval()?),
        next_issue_date: (next != current.next_issue_date).then_some(next),
        due_days: Some(p.due_days()?),
        name: Some(p.name),
        currency: Some(p.currency),
        lines: Some(p.lines),
        notes: Some(p.notes),
        auto_send: Some(p.auto_send),
        status: None,
    };
    st.store.update_recurring_invoice(&auth.actor, id, patch, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/recurring-invoices/{id}")))
}

/// The pause / resume / end buttons.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusForm {
    status: String,
}

/// `POST /staff/recurring-invoices/{id}/status`: pauses, resumes or ends the schedule.
pub async fn staff_status(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<RecurringInvoiceId>,
    FormBody(f): FormBody<StatusForm>,
) -> AppResult<Response> {
    let status = atrium_core::validate::parse("status", &f.status)?;
    let patch = RecurringPatch { status: Some(status), ..Default::default() };
    st.store.update_recurring_invoice(&auth.actor, id, patch, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/recurring-invoices/{id}")))
}

/// `POST /staff/recurring-invoices/{id}/delete`: goes back to the list.
pub async fn staff_delete(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<RecurringInvoiceId>,
) -> AppResult<Response> {
    st.store.delete_recurring_invoice(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other("/staff/recurring-invoices"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_its_fields_and_its_lines() {
        let body = b"name=Retainer&client_id=c&currency=eur&interval=quarterly&next_issue_date=2026-01-31&due_days=14&auto_send=true&line_description=Design&line_quantity=1&line_unit_price=900&line_tax_rate=&line_description=&line_quantity=&line_unit_price=";
        let p = posted(body);
        assert_eq!(p.currency, "EUR");
        assert_eq!(p.interval().unwrap(), RecurringInterval::Quarterly);
        assert_eq!(p.due_days().unwrap(), 14);
        assert!(p.auto_send);
        assert_eq!(p.lines.len(), 1);
        assert_eq!(p.lines[0].tax_rate, "0");
        let bad = posted(b"interval=weekly&due_days=two");
        assert!(matches!(bad.interval(), Err(Error::Invalid { field, .. }) if field == "interval"));
        assert!(matches!(bad.due_days(), Err(Error::Invalid { field, .. }) if field == "due_days"));
        assert!(!bad.auto_send);
    }
}
