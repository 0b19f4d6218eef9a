//! Billing pages. Staff: the invoice list across clients (filters: status, overdue, client;
//! outstanding totals per currency), a new-invoice form, an invoice page with edit (drafts),
//! send, void, re-issue and record-payment. Portal: the client's invoices and one invoice, for
//! client admins and finance users (viewers get 404 from the store's billing scope). Every
//! read and write goes through the store, which applies the policy.

use askama::Template;
use atrium_core::Error;
use atrium_core::ids::{ClientId, InvoiceId};
use atrium_core::model::{Invoice, InvoiceStatus, PaymentMethod};
use atrium_core::money::{Currency, LineInput, stored};
use atrium_store::billing::{InvoicePatch, NewInvoice, NewPayment, outstanding_by_currency};
use atrium_store::paging::PageRequest;
use axum::extract::State;
use axum::response::Response;
use chrono::{NaiveDate, Utc};

use super::{Chrome, page, see_other};
use crate::api::billing::InvoiceFilterQuery;
use crate::audience::{PortalAuth, StaffAuth};
use crate::auth::Authed;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, Id, Q};
use crate::state::AppState;

/// Blank line rows offered by the invoice form.
const FORM_LINES: usize = 6;

/// An invoice in a list.
pub struct InvoiceRow {
    pub href: String,
    pub number: String,
    pub client: String,
    pub issued: String,
    pub due: String,
    pub total: String,
    pub balance: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub overdue: bool,
    /// Money is still expected (unpaid or partially paid).
    pub open: bool,
}

/// An amount with its currency, as shown (`€1,200.00`).
pub(crate) fn money(currency: &str, amount: &str) -> String {
    match (Currency::parse("currency", currency), stored(amount)) {
        (Ok(c), Ok(d)) => c.display(d),
        _ => format!("{currency} {amount}"),
    }
}

/// An amount without its currency (line amounts, where the currency heads the column).
fn grouped(currency: &str, amount: &str) -> String {
    match (Currency::parse("currency", currency), stored(amount)) {
        (Ok(c), Ok(d)) => c.grouped(d),
        _ => amount.to_string(),
    }
}

/// A date as shown (`Jan 5, 2026`).
pub(crate) fn date(d: NaiveDate) -> String {
    d.format("%b %-d, %Y").to_string()
}

/// Rows for `list`, linking to the staff or the portal side.
pub fn rows(list: &[Invoice], staff: bool) -> Vec<InvoiceRow> {
    list.iter()
        .map(|i| InvoiceRow {
            href: if staff { format!("/staff/invoices/{}", i.id) } else { format!("/portal/billing/{}", i.id) },
            number: i.number.clone(),
            client: i.client_name.clone(),
            issued: date(i.issue_date),
            due: date(i.due_date),
            total: money(&i.currency, &i.total),
            balance: money(&i.currency, &i.balance),
            status: i.status.as_str(),
            status_label: if i.overdue { "Overdue" } else { i.status.label() },
            overdue: i.overdue,
            open: i.status.is_open(),
        })
        .collect()
}

/// One line of the printed invoice.
pub struct LineView {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub tax_rate: String,
    pub discount: String,
    pub net: String,
}

/// One payment of the history.
pub struct PaymentView {
    pub date: String,
    pub amount: String,
    pub method: &'static str,
    pub reference: String,
}

/// The invoice as printed (shared by staff and portal pages: `invoice_doc.html`).
pub struct DocView {
    pub agency: String,
    pub number: String,
    pub client: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub overdue: bool,
    pub open: bool,
    pub issued: String,
    pub due: String,
    pub currency: String,
    pub lines: Vec<LineView>,
    pub subtotal: String,
    pub taxes: Vec<(String, String)>,
    pub total: String,
    pub paid: String,
    pub balance: String,
    pub notes: String,
    pub instructions: String,
    pub payments: Vec<PaymentView>,
    pub pdf_href: String,
}

fn doc(st: &AppState, i: &Invoice) -> DocView {
    let m = |a: &str| money(&i.currency, a);
    DocView {
        agency: st.brand().name.clone(),
        number: i.number.clone(),
        client: i.client_name.clone(),
        status: i.status.as_str(),
        status_label: if i.overdue { "Overdue" } else { i.status.label() },
        overdue: i.overdue,
        open: i.status.is_open(),
        issued: date(i.issue_date),
        due: date(i.due_date),
        currency: i.currency.clone(),
        lines: i
            .lines
            .iter()
            .map(|l| LineView {
                description: l.description.clone(),
                quantity: l.quantity.clone(),
                unit_price: l.unit_price.clone(),
                tax_rate: format!("{}%", l.tax_rate),
                discount: if l.discount == "0" { String::new() } else { format!("{}%", l.discount) },
                net: grouped(&i.currency, &l.net),
            })
            .collect(),
        subtotal: m(&i.subtotal),
        taxes: i
            .taxes
            .iter()
            .map(|t| (format!("Tax {}% on {}", t.rate, grouped(&i.currency, &t.base)), m(&t.amount)))
            .collect(),
        total: m(&i.total),
        paid: m(&i.paid),
        balance: m(&i.balance),
        notes: i.notes.clone(),
        instructions: i.payment_instructions.clone(),
        payments: i
            .payments
            .iter()
            .map(|p| PaymentView {
                date: date(p.date),
                amount: m(&p.amount),
                method: p.method.label(),
                reference: p.reference.clone(),
            })
            .collect(),
        pdf_href: format!("/api/v1/invoices/{}/pdf", i.id),
    }
}

// ----- staff ---------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "staff_invoices.html")]
struct StaffList {
    chrome: Chrome,
    rows: Vec<InvoiceRow>,
    outstanding: Vec<(String, String)>,
    clients: Vec<(String, String)>,
    client_id: String,
    status: String,
    overdue: bool,
    statuses: Vec<(&'static str, &'static str)>,
    export_href: String,
    show_client: bool,
}

/// `GET /staff/invoices`.
pub async fn staff_list(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Q(q): Q<InvoiceFilterQuery>,
) -> AppResult<Response> {
    let list = st.store.invoices(&auth.actor, &q.filter()?).await?;
    let all = st.store.invoices(&auth.actor, &Default::default()).await?;
    let clients = st
        .store
        .clients(&auth.actor.client_scope(), PageRequest { limit: 200, cursor: None })
        .await?
        .items
        .into_iter()
        .map(|c| (c.id.to_string(), c.name))
        .collect();
    let mut query = Vec::new();
    if let Some(c) = &q.client_id {
        query.push(format!("client_id={c}"));
    }
    if let Some(s) = q.status {
        query.push(format!("status={s}"));
    }
    if let Some(o) = q.overdue {
        query.push(format!("overdue={o}"));
    }
    let view = StaffList {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "Invoices", "/staff/invoices"),
        rows: rows(&list, true),
        outstanding: outstanding_by_currency(&all),
        clients,
        client_id: q.client_id.clone().unwrap_or_default(),
        status: q.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        overdue: q.overdue == Some(true),
        statuses: InvoiceStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        export_href: format!("/api/v1/invoices/export.csv?{}", query.join("&")),
        show_client: true,
    };
    page(&view)
}

/// Values of the invoice form.
#[derive(Default)]
pub struct FormValues {
    pub client_id: String,
    pub project_id: String,
    pub currency: String,
    pub issue_date: String,
    pub due_date: String,
    pub notes: String,
    pub instructions: String,
    pub lines: Vec<(String, String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "invoice_form.html")]
struct FormPage {
    chrome: Chrome,
    action: String,
    heading: String,
    v: FormValues,
    clients: Vec<(String, String)>,
    projects: Vec<(String, String)>,
    editing: bool,
}

/// The client and project choices of the billing forms (`(id, label)` each).
pub(crate) async fn pickers(st: &AppState, auth: &Authed) -> AppResult<(Vec<(String, String)>, Vec<(String, String)>)> {
    let clients = st.store.clients(&auth.actor.client_scope(), PageRequest { limit: 200, cursor: None }).await?.items;
    let names: std::collections::HashMap<ClientId, String> = clients.iter().map(|c| (c.id, c.name.clone())).collect();
    let projects = st.store.projects(&auth.actor.work_scope(), None, PageRequest { limit: 200, cursor: None }).await?;
    let projects = projects
        .items
        .iter()
        .map(|p| (p.id.to_string(), format!("{} — {}", names.get(&p.client_id).cloned().unwrap_or_default(), p.name)))
        .collect();
    Ok((clients.into_iter().map(|c| (c.id.to_string(), c.name)).collect(), projects))
}

/// `lines` with blank rows added, for the lines form.
pub(crate) fn padded(
    mut lines: Vec<(String, String, String, String, String)>,
) -> Vec<(String, String, String, String, String)> {
    let rows = FORM_LINES.max(lines.len() + 2);
    lines.resize_with(rows, Default::default);
    lines
}

/// `?client_id=` of the new-invoice form.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewQuery {
    #[serde(default)]
    client_id: Option<String>,
}

/// `GET /staff/invoices/new`.
pub async fn staff_new(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Q(q): Q<NewQuery>,
) -> AppResult<Response> {
    auth.actor.may_manage_invoices()?;
    let (clients, projects) = pickers(&st, &auth).await?;
    let today = Utc::now().date_naive();
    let settings = st.store.invoice_settings(&auth.actor).await?;
    let v = FormValues {
        client_id: q.client_id.unwrap_or_default(),
        currency: "EUR".into(),
        issue_date: today.to_string(),
        due_date: (today + chrono::Duration::days(30)).to_string(),
        instructions: settings.payment_instructions,
        lines: padded(vec![]),
        ..Default::default()
    };
    let view = FormPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "New invoice", "/staff/invoices"),
        action: "/staff/invoices".into(),
        heading: "New invoice".into(),
        v,
        clients,
        projects,
        editing: false,
    };
    page(&view)
}

/// The invoice form as posted: fields once, line fields repeated in row order.
struct PostedInvoice {
    client_id: String,
    project_id: String,
    currency: String,
    issue_date: String,
    due_date: String,
    notes: String,
    instructions: String,
    lines: Vec<LineInput>,
}

fn posted(body: &[u8]) -> PostedInvoice {
    let mut p = PostedInvoice {
        client_id: String::new(),
        project_id: String::new(),
        currency: String::new(),
        issue_date: String::new(),
        due_date: String::new(),
        notes: String::new(),
        instructions: String::new(),
        lines: form_lines(body),
    };
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match k.as_ref() {
            "client_id" => p.client_id = v,
            "project_id" => p.project_id = v,
            "currency" => p.currency = v,
            "issue_date" => p.issue_date = v,
            "due_date" => p.due_date = v,
            "notes" => p.notes = v,
            "payment_instructions" => p.instructions = v,
            _ => {}
        }
    }
    p
}

/// The lines of a posted invoice form (`invoice_lines_form.html`): the line fields repeated in
/// row order; a row left blank is not a line, a missing tax rate is 0.
pub(crate) fn form_lines(body: &[u8]) -> Vec<LineInput> {
    let (mut desc, mut qty, mut price, mut tax, mut disc) = (vec![], vec![], vec![], vec![], vec![]);
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match k.as_ref() {
            "line_description" => desc.push(v),
            "line_quantity" => qty.push(v),
            "line_unit_price" => price.push(v),
            "line_tax_rate" => tax.push(v),
            "line_discount" => disc.push(v),
            _ => {}
        }
    }
    let at = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
    let n = desc.len().max(qty.len()).max(price.len());
    let mut lines = Vec::new();
    for i in 0..n {
        let l = LineInput {
            description: at(&desc, i),
            quantity: at(&qty, i),
            unit_price: at(&price, i),
            tax_rate: at(&tax, i),
            discount: at(&disc, i),
        };
        if l.description.trim().is_empty() && l.quantity.trim().is_empty() && l.unit_price.trim().is_empty() {
            continue;
        }
        if l.tax_rate.trim().is_empty() {
            lines.push(LineInput { tax_rate: "0".into(), ..l });
        } else {
            lines.push(l);
        }
    }
    lines
}

/// A required date field of a form (422 naming it).
pub(crate) fn form_date(field: &'static str, v: &str) -> Result<NaiveDate, Error> {
    atrium_core::validate::date(field, Some(v))?.ok_or_else(|| Error::invalid(field, "is required"))
}

/// `POST /staff/invoices`: creates a draft.
pub async fn staff_create(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let p = posted(&body);
    let client_id: ClientId = p.client_id.parse().map_err(|_| Error::invalid("client_id", "choose a client"))?;
    let n = NewInvoice {
        client_id,
        project_id: if p.project_id.is_empty() {
            None
        } else {
            Some(p.project_id.parse().map_err(|_| Error::invalid("project_id", "is not a project id"))?)
        },
        currency: p.currency.trim().to_uppercase(),
        issue_date: form_date("issue_date", &p.issue_date)?,
        due_date: form_date("due_date", &p.due_date)?,
        lines: p.lines,
        notes: p.notes,
        payment_instructions: Some(p.instructions),
    };
    let inv = st.store.create_invoice(&auth.actor, n, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/invoices/{}", inv.id)))
}

#[derive(Template)]
#[template(path = "staff_invoice.html")]
struct StaffInvoice {
    chrome: Chrome,
    id: String,
    doc: DocView,
    draft: bool,
    can_void: bool,
    can_pay: bool,
    can_reissue: bool,
    replaces: Option<String>,
    replaced_by: Option<String>,
    v: FormValues,
    editing: bool,
    clients: Vec<(String, String)>,
    projects: Vec<(String, String)>,
    today: String,
    methods: Vec<(&'static str, &'static str)>,
    balance_plain: String,
}

/// `GET /staff/invoices/{id}`.
pub async fn staff_show(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(id): Id<InvoiceId>,
) -> AppResult<Response> {
    let i = st.store.invoice(&auth.actor, id).await?;
    let draft = i.status == InvoiceStatus::Draft;
    let (clients, projects) = if draft { pickers(&st, &auth).await? } else { (vec![], vec![]) };
    let v = FormValues {
        client_id: i.client_id.to_string(),
        project_id: i.project_id.map(|p| p.to_string()).unwrap_or_default(),
        currency: i.currency.clone(),
        issue_date: i.issue_date.to_string(),
        due_date: i.due_date.to_string(),
        notes: i.notes.clone(),
        instructions: i.payment_instructions.clone(),
        lines: padded(
            i.lines
                .iter()
                .map(|l| {
                    let disc = if l.discount == "0" { String::new() } else { l.discount.clone() };
                    (l.description.clone(), l.quantity.clone(), l.unit_price.clone(), l.tax_rate.clone(), disc)
                })
                .collect(),
        ),
    };
    let view = StaffInvoice {
        chrome: Chrome::signed_in(&st, &auth, &csrf, format!("Invoice {}", i.number), "/staff/invoices"),
        id: i.id.to_string(),
        doc: doc(&st, &i),
        draft,
        can_void: matches!(i.status, InvoiceStatus::Draft | InvoiceStatus::Sent) && i.payments.is_empty(),
        can_pay: i.status.is_open(),
        can_reissue: i.status == InvoiceStatus::Void && i.replaced_by_id.is_none(),
        replaces: i.replaces_id.map(|r| r.to_string()),
        replaced_by: i.replaced_by_id.map(|r| r.to_string()),
        v,
        editing: true,
        clients,
        projects,
        today: Utc::now().date_naive().to_string(),
        methods: PaymentMethod::ALL.iter().map(|m| (m.as_str(), m.label())).collect(),
        balance_plain: i.balance.clone(),
    };
    page(&view)
}

/// `POST /staff/invoices/{id}`: changes a draft (a sent invoice: 409).
pub async fn staff_update(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<InvoiceId>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let p = posted(&body);
    let patch = InvoicePatch {
        project_id: Some(if p.project_id.is_empty() {
            None
        } else {
            Some(p.project_id.parse().map_err(|_| Error::invalid("project_id", "is not a project id"))?)
        }),
        currency: Some(p.currency.trim().to_uppercase()),
        issue_date: Some(form_date("issue_date", &p.issue_date)?),
        due_date: Some(form_date("due_date", &p.due_date)?),
        lines: Some(p.lines),
        notes: Some(p.notes),
        payment_instructions: Some(p.instructions),
    };
    st.store.update_invoice(&auth.actor, id, patch, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/invoices/{id}")))
}

/// `POST /staff/invoices/{id}/send`.
pub async fn staff_send(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<InvoiceId>,
) -> AppResult<Response> {
    st.store.send_invoice(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/invoices/{id}")))
}

/// `POST /staff/invoices/{id}/void`.
pub async fn staff_void(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<InvoiceId>,
) -> AppResult<Response> {
    st.store.void_invoice(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/invoices/{id}")))
}

/// `POST /staff/invoices/{id}/reissue`: goes to the new draft.
pub async fn staff_reissue(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<InvoiceId>,
) -> AppResult<Response> {
    let inv = st.store.reissue_invoice(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/invoices/{}", inv.id)))
}

/// The record-payment form.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentForm {
    amount: String,
    date: String,
    method: String,
    #[serde(default)]
    reference: String,
}

/// `POST /staff/invoices/{id}/payments`.
pub async fn staff_payment(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<InvoiceId>,
    crate::extract::FormBody(f): crate::extract::FormBody<PaymentForm>,
) -> AppResult<Response> {
    let p = NewPayment {
        amount: f.amount,
        date: form_date("date", &f.date)?,
        method: atrium_core::validate::parse("method", &f.method)?,
        reference: f.reference,
    };
    st.store.record_payment(&auth.actor, id, p, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/invoices/{id}")))
}

// ----- portal --------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal_billing.html")]
struct PortalList {
    chrome: Chrome,
    rows: Vec<InvoiceRow>,
    outstanding: Vec<(String, String)>,
    show_client: bool,
}

/// `GET /portal/billing`: the client's invoices (admins and finance users; others 404).
pub async fn portal_list(State(st): State<AppState>, auth: PortalAuth, csrf: CsrfToken) -> AppResult<Response> {
    let list = st.store.invoices(&auth.actor, &Default::default()).await?;
    let view = PortalList {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "Billing", "/portal/billing"),
        rows: rows(&list, false),
        outstanding: outstanding_by_currency(&list),
        show_client: false,
    };
    page(&view)
}

#[derive(Template)]
#[template(path = "portal_invoice.html")]
struct PortalInvoice {
    chrome: Chrome,
    doc: DocView,
}

/// `GET /portal/billing/{id}`.
pub async fn portal_show(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    Id(id): Id<InvoiceId>,
) -> AppResult<Response> {
    let i = st.store.invoice(&auth.actor, id).await?;
    let view = PortalInvoice {
        chrome: Chrome::signed_in(&st, &auth, &csrf, format!("Invoice {}", i.number), "/portal/billing"),
        doc: doc(&st, &i),
    };
    page(&view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_rows_are_not_lines_and_a_missing_rate_is_zero() {
        let body = b"client_id=x&currency=EUR&line_description=Design&line_quantity=2&line_unit_price=10&line_tax_rate=&line_discount=&line_description=&line_quantity=&line_unit_price=&line_tax_rate=20&line_discount=";
        let p = posted(body);
        assert_eq!(p.lines.len(), 1);
        assert_eq!(p.lines[0].tax_rate, "0");
        assert_eq!(p.currency, "EUR");
    }
}
