//! Billing over the API: invoices (staff create, edit drafts, send, void, re-issue, record
//! payments; client admins and finance users read their client's issued invoices), the invoice
//! PDF, a CSV export for accounting, and the numbering settings. Money is a decimal string.
//! The store scopes every read through `Actor::billing_scope` and asks the policy before
//! every write.

use atrium_core::Error;
use atrium_core::ids::{ClientId, InvoiceId, ProjectId};
use atrium_core::model::{Invoice, InvoiceSettings, InvoiceStatus, PaymentMethod};
use atrium_core::money::LineInput;
use atrium_store::billing::{InvoiceFilter, InvoicePatch, NewInvoice, NewPayment, SettingsPatch};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::input::{empty_none, patch_field};
use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id, Paged, Q};
use crate::state::AppState;

/// One line of `POST /invoices` and `PATCH /invoices/{id}`; numbers are decimal strings.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    pub description: String,
    /// More than 0, at most 1,000,000, up to 4 decimals.
    pub quantity: String,
    /// From 0 to 1,000,000,000, up to 4 decimals.
    pub unit_price: String,
    /// Percent, 0–100.
    pub tax_rate: String,
    /// Percent off this line, 0–100.
    #[serde(default)]
    pub discount: Option<String>,
}

impl From<LineBody> for LineInput {
    fn from(l: LineBody) -> Self {
        LineInput {
            description: l.description,
            quantity: l.quantity,
            unit_price: l.unit_price,
            tax_rate: l.tax_rate,
            discount: l.discount.unwrap_or_default(),
        }
    }
}

/// `POST /invoices` (a draft).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceBody {
    pub client_id: String,
    #[serde(default, deserialize_with = "empty_none")]
    pub project_id: Option<String>,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub lines: Vec<LineBody>,
    #[serde(default)]
    pub notes: Option<String>,
    /// Bank details; the agency's default when absent.
    #[serde(default)]
    pub payment_instructions: Option<String>,
}

/// `PATCH /invoices/{id}` (drafts only); absent fields are kept, `lines` replaces all lines.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicePatchBody {
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub project_id: Option<Option<String>>,
    pub currency: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub lines: Option<Vec<LineBody>>,
    pub notes: Option<String>,
    pub payment_instructions: Option<String>,
}

/// `POST /invoices/{id}/payments`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// More than 0, at most the balance, in the currency's minor unit.
    pub amount: String,
    pub date: NaiveDate,
    pub method: PaymentMethod,
    #[serde(default)]
    pub reference: Option<String>,
}

/// `?client_id=&status=&overdue=`: the filters of the invoice list, its export and the staff page.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvoiceFilterQuery {
    #[serde(default, deserialize_with = "empty_none")]
    pub client_id: Option<String>,
    /// `draft`, `sent`, `partially_paid`, `paid` or `void`.
    #[param(value_type = Option<String>)]
    #[serde(default, deserialize_with = "empty_none")]
    pub status: Option<InvoiceStatus>,
    /// `true`: only overdue invoices; `false`: only those not overdue.
    #[serde(default, deserialize_with = "empty_none")]
    pub overdue: Option<bool>,
}

impl InvoiceFilterQuery {
    /// The store filter; an unparsable client id names no visible client (404).
    pub fn filter(&self) -> Result<InvoiceFilter, Error> {
        let client_id = match &self.client_id {
            Some(c) => Some(c.parse::<ClientId>()?),
            None => None,
        };
        Ok(InvoiceFilter { client_id, status: self.status, overdue: self.overdue })
    }
}

/// `PUT /invoice-settings`; absent fields are kept.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// Before the number (letters, digits, `-_/.#`; not ending with a digit).
    pub prefix: Option<String>,
    /// Zero-pad the number to this many digits (1–12).
    pub padding: Option<u32>,
    pub payment_instructions: Option<String>,
}

/// A project id as sent (422 `project_id` when it is not one).
pub(crate) fn project(id: Option<String>) -> Result<Option<ProjectId>, Error> {
    id.map(|p| p.parse::<ProjectId>().map_err(|_| Error::invalid("project_id", "is not a project id"))).transpose()
}

/// Turns the body of `POST /invoices` (or the HTML form) into the store's input.
pub fn new_invoice(b: InvoiceBody) -> Result<NewInvoice, Error> {
    let client_id: ClientId = b.client_id.parse().map_err(|_| Error::invalid("client_id", "is not a client id"))?;
    Ok(NewInvoice {
        client_id,
        project_id: project(b.project_id)?,
        currency: b.currency,
        issue_date: b.issue_date,
        due_date: b.due_date,
        lines: b.lines.into_iter().map(Into::into).collect(),
        notes: b.notes.unwrap_or_default(),
        payment_instructions: b.payment_instructions,
    })
}

/// Create a draft invoice (staff). It gets the next number of the agency's sequence.
#[utoipa::path(post, path = "/api/v1/invoices", tag = "billing", request_body = InvoiceBody,
    responses((status = 201, body = Invoice), (status = 403), (status = 404), (status = 422)))]
pub async fn create_invoice(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<InvoiceBody>,
) -> AppResult<(StatusCode, Json<Invoice>)> {
    let inv = st.store.create_invoice(&auth.actor, new_invoice(b)?, Some(&ip)).await?;
    Ok((StatusCode::CREATED, Json(inv)))
}

/// The invoices the caller can see, newest first: staff all (filters: client, status,
/// overdue), client admins and finance users their client's issued ones; others 404.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "billing", params(InvoiceFilterQuery, crate::extract::Paging),
    responses((status = 200, body = List<Invoice>), (status = 404)))]
pub async fn list_invoices(
    State(st): State<AppState>,
    auth: Authed,
    Paged(q, req): Paged<InvoiceFilterQuery>,
) -> AppResult<Json<List<Invoice>>> {
    Ok(Json(st.store.invoices_page(&auth.actor, &q.filter()?, req).await?.into()))
}

/// One invoice with its lines, taxes and payment history.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "billing", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Invoice), (status = 404)))]
pub async fn get_invoice(State(st): State<AppState>, auth: Authed, Id(id): Id<InvoiceId>) -> AppResult<Json<Invoice>> {
    Ok(Json(st.store.invoice(&auth.actor, id).await?))
}

/// Change a draft (staff). A sent invoice is immutable: 409 (void it and re-issue).
#[utoipa::path(patch, path = "/api/v1/invoices/{id}", tag = "billing", params(("id" = uuid::Uuid, Path)),
    request_body = InvoicePatchBody,
    responses((status = 200, body = Invoice), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update_invoice(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<InvoiceId>,
    ApiJson(b): ApiJson<InvoicePatchBody>,
) -> AppResult<Json<Invoice>> {
    let patch = InvoicePatch {
        project_id: b.project_id.map(project).transpose()?,
        currency: b.currency,
        issue_date: b.issue_date,
        due_date: b.due_date,
        lines: b.lines.map(|l| l.into_iter().map(Into::into).collect()),
        notes: b.notes,
        payment_instructions: b.payment_instructions,
    };
    Ok(Json(st.store.update_invoice(&auth.actor, id, patch, Some(&ip)).await?))
}

/// Send (issue) a draft (staff): it becomes visible to the client and immutable.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/send", tag = "billing", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Invoice), (status = 403), (status = 404), (status = 409)))]
pub async fn send_invoice(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<InvoiceId>,
) -> AppResult<Json<Invoice>> {
    Ok(Json(st.store.send_invoice(&auth.actor, id, Some(&ip)).await?))
}

/// Void a draft or an unpaid invoice (staff); its number stays used.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/void", tag = "billing", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Invoice), (status = 403), (status = 404), (status = 409)))]
pub async fn void_invoice(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<InvoiceId>,
) -> AppResult<Json<Invoice>> {
    Ok(Json(st.store.void_invoice(&auth.actor, id, Some(&ip)).await?))
}

/// Re-issue a void invoice (staff): a new draft copy with a new number, linked to it.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/reissue", tag = "billing", params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = Invoice), (status = 403), (status = 404), (status = 409)))]
pub async fn reissue_invoice(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<InvoiceId>,
) -> AppResult<(StatusCode, Json<Invoice>)> {
    Ok((StatusCode::CREATED, Json(st.store.reissue_invoice(&auth.actor, id, Some(&ip)).await?)))
}

/// Record a payment (staff): more than zero and at most the balance (else 422 `overpayment`).
#[utoipa::path(post, path = "/api/v1/invoices/{id}/payments", tag = "billing", params(("id" = uuid::Uuid, Path)),
    request_body = PaymentBody,
    responses((status = 201, body = Invoice), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn record_payment(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<InvoiceId>,
    ApiJson(b): ApiJson<PaymentBody>,
) -> AppResult<(StatusCode, Json<Invoice>)> {
    let p = NewPayment { amount: b.amount, date: b.date, method: b.method, reference: b.reference.unwrap_or_default() };
    Ok((StatusCode::CREATED, Json(st.store.record_payment(&auth.actor, id, p, Some(&ip)).await?)))
}

/// A PDF response for an invoice the actor can see.
pub async fn pdf_response(st: &AppState, auth: &Authed, id: InvoiceId) -> AppResult<Response> {
    let inv = st.store.invoice(&auth.actor, id).await?;
    let brand = crate::branding::pdf_brand(st).await;
    let number = inv.number.clone();
    let bytes = tokio::task::spawn_blocking(move || crate::pdf::invoice_pdf(&brand, &inv))
        .await
        .map_err(|e| Error::internal("PDF task", e))??;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(v) =
        HeaderValue::from_str(&super::files::content_disposition("attachment", &format!("Invoice {number}.pdf")))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// The invoice as a PDF (staff, and the client's admins and finance users for issued ones).
#[utoipa::path(get, path = "/api/v1/invoices/{id}/pdf", tag = "billing", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404)))]
pub async fn invoice_pdf(State(st): State<AppState>, auth: Authed, Id(id): Id<InvoiceId>) -> AppResult<Response> {
    pdf_response(&st, &auth, id).await
}

/// A spreadsheet cell that cannot be read as a formula: a leading `=`, `+`, `-`, `@`, tab or
/// carriage return gets a `'` in front (CSV injection).
pub fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() }
}

/// Invoices as CSV for accounting (staff), with the list's filters: one row per invoice.
#[utoipa::path(get, path = "/api/v1/invoices/export.csv", tag = "billing", params(InvoiceFilterQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403), (status = 404)))]
pub async fn export_csv(State(st): State<AppState>, auth: Authed, Q(q): Q<InvoiceFilterQuery>) -> AppResult<Response> {
    let filter = q.filter()?;
    auth.actor.may_export_invoices()?;
    let list = st.store.invoices(&auth.actor, &filter).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "number",
        "client",
        "status",
        "overdue",
        "issue_date",
        "due_date",
        "currency",
        "subtotal",
        "tax_total",
        "total",
        "paid",
        "balance",
        "sent_at",
    ];
    let fail = |e: csv::Error| Error::internal("csv", e);
    w.write_record(header).map_err(fail)?;
    for i in &list {
        w.write_record([
            cell(&i.number),
            cell(&i.client_name),
            i.status.as_str().to_string(),
            i.overdue.to_string(),
            i.issue_date.to_string(),
            i.due_date.to_string(),
            i.currency.clone(),
            i.subtotal.clone(),
            i.tax_total.clone(),
            i.total.clone(),
            i.paid.clone(),
            i.balance.clone(),
            i.sent_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ])
        .map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::internal("csv", e))?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"invoices.csv\""));
    Ok(res)
}

/// The invoice numbering and default payment instructions (staff).
#[utoipa::path(get, path = "/api/v1/invoice-settings", tag = "billing",
    responses((status = 200, body = InvoiceSettings), (status = 404)))]
pub async fn get_settings(State(st): State<AppState>, auth: Authed) -> AppResult<Json<InvoiceSettings>> {
    Ok(Json(st.store.invoice_settings(&auth.actor).await?))
}

/// Change the numbering format or the default payment instructions (owners and admins).
#[utoipa::path(put, path = "/api/v1/invoice-settings", tag = "billing", request_body = SettingsBody,
    responses((status = 200, body = InvoiceSettings), (status = 403), (status = 404), (status = 422)))]
pub async fn put_settings(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<SettingsBody>,
) -> AppResult<Json<InvoiceSettings>> {
    let p = SettingsPatch { prefix: b.prefix, padding: b.padding, payment_instructions: b.payment_instructions };
    Ok(Json(st.store.update_invoice_settings(&auth.actor, p, Some(&ip)).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Acme"), "Acme");
    }
}
