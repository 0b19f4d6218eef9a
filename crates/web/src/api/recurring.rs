//! Recurring invoices over the API (staff only: these operations are registered under the
//! staff audience, so a client user's request is refused before any handler runs). A schedule
//! issues an ordinary invoice every interval; its lines are an invoice's lines
//! ([`LineBody`]), checked the same way.

use atrium_core::Error;
use atrium_core::ids::{ClientId, RecurringInvoiceId};
use atrium_core::model::{RecurringInterval, RecurringInvoice, RecurringStatus};
use atrium_store::billing::{NewRecurringInvoice, RecurringPatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;

use super::billing::{LineBody, project};
use super::input::{empty_none, patch_field};
use super::list::List;
use crate::audience::StaffAuth;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id};
use crate::state::AppState;

/// `POST /recurring-invoices`: a new schedule, active from `next_issue_date`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurringBody {
    pub client_id: String,
    /// A project of the same client.
    #[serde(default, deserialize_with = "empty_none")]
    pub project_id: Option<String>,
    /// A label for staff, at most 200 characters (default empty).
    #[serde(default)]
    pub name: Option<String>,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// 1–200 lines, as an invoice's.
    pub lines: Vec<LineBody>,
    /// Copied into each issued invoice (at most 20,000 characters).
    #[serde(default)]
    pub notes: Option<String>,
    pub interval: RecurringInterval,
    /// Today or later in the agency's timezone; its day of the month is the anchor day.
    pub next_issue_date: NaiveDate,
    /// Days from issue to due date, 0–365.
    pub due_days: i64,
    /// `true`: each invoice is sent when issued; `false`: it waits as a draft for review.
    pub auto_send: bool,
}

/// `PATCH /recurring-invoices/{id}`; absent fields are kept, `lines` replaces all lines.
/// `status`: `paused` pauses, `active` resumes (without `next_issue_date`, the next date moves
/// on to the first slot on or after today: paused periods are not issued), `ended` ends for
/// good (an ended schedule cannot change again: 409 naming `status`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurringPatchBody {
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub project_id: Option<Option<String>>,
    pub name: Option<String>,
    pub currency: Option<String>,
    pub lines: Option<Vec<LineBody>>,
    pub notes: Option<String>,
    pub interval: Option<RecurringInterval>,
    pub next_issue_date: Option<NaiveDate>,
    pub due_days: Option<i64>,
    pub auto_send: Option<bool>,
    pub status: Option<RecurringStatus>,
}

/// Turns the body of `POST /recurring-invoices` into the store's input.
fn new_schedule(b: RecurringBody) -> Result<NewRecurringInvoice, Error> {
    let client_id: ClientId = b.client_id.parse().map_err(|_| Error::invalid("client_id", "is not a client id"))?;
    Ok(NewRecurringInvoice {
        client_id,
        project_id: project(b.project_id)?,
        name: b.name.unwrap_or_default(),
        currency: b.currency,
        lines: b.lines.into_iter().map(Into::into).collect(),
        notes: b.notes.unwrap_or_default(),
        interval: b.interval,
        next_issue_date: b.next_issue_date,
        due_days: b.due_days,
        auto_send: b.auto_send,
    })
}

/// The recurring invoices, newest first: every one (at most 500) on one page.
#[utoipa::path(get, path = "/api/v1/recurring-invoices", tag = "billing",
    responses((status = 200, body = List<RecurringInvoice>), (status = 404)))]
pub async fn list_recurring(State(st): State<AppState>, auth: StaffAuth) -> AppResult<Json<List<RecurringInvoice>>> {
    Ok(Json(List { items: st.store.recurring_invoices(&auth.actor).await?, next_cursor: None }))
}

/// Add a recurring invoice (staff). 422 names the field (`interval`, `due_days`,
/// `lines[0].quantity`, `project_id`, …).
#[utoipa::path(post, path = "/api/v1/recurring-invoices", tag = "billing", request_body = RecurringBody,
    responses((status = 201, body = RecurringInvoice), (status = 404), (status = 422)))]
pub async fn create_recurring(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<RecurringBody>,
) -> AppResult<(StatusCode, Json<RecurringInvoice>)> {
    let r = st.store.create_recurring_invoice(&auth.actor, new_schedule(b)?, Some(&ip)).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// One recurring invoice.
#[utoipa::path(get, path = "/api/v1/recurring-invoices/{id}", tag = "billing", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = RecurringInvoice), (status = 404)))]
pub async fn get_recurring(
    State(st): State<AppState>,
    auth: StaffAuth,
    Id(id): Id<RecurringInvoiceId>,
) -> AppResult<Json<RecurringInvoice>> {
    Ok(Json(st.store.recurring_invoice(&auth.actor, id).await?))
}

/// Change a recurring invoice, or pause, resume or end it (staff).
#[utoipa::path(patch, path = "/api/v1/recurring-invoices/{id}", tag = "billing", params(("id" = uuid::Uuid, Path)),
    request_body = RecurringPatchBody,
    responses((status = 200, body = RecurringInvoice), (status = 404), (status = 409), (status = 422)))]
pub async fn update_recurring(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<RecurringInvoiceId>,
    ApiJson(b): ApiJson<RecurringPatchBody>,
) -> AppResult<Json<RecurringInvoice>> {
    let patch = RecurringPatch {
        project_id: b.project_id.map(project).transpose()?,
        name: b.name,
        currency: b.currency,
        lines: b.lines.map(|l| l.into_iter().map(Into::into).collect()),
        notes: b.notes,
        interval: b.interval,
        next_issue_date: b.next_issue_date,
        due_days: b.due_days,
        auto_send: b.auto_send,
        status: b.status,
    };
    Ok(Json(st.store.update_recurring_invoice(&auth.actor, id, patch, Some(&ip)).await?))
}

/// Delete a recurring invoice (staff); the invoices it issued stay.
#[utoipa::path(delete, path = "/api/v1/recurring-invoices/{id}", tag = "billing", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404)))]
pub async fn delete_recurring(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<RecurringInvoiceId>,
) -> AppResult<StatusCode> {
    st.store.delete_recurring_invoice(&auth.actor, id, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}
