//! The help desk's settings and libraries over the API (`../shared/spec/api-v1.md`, "Help
//! desk"): the business hours and service-level targets (staff read, owners and admins change),
//! the staff's saved replies, and a project's request form (read by anyone who sees the
//! project, defined by staff). The policy decides in the store.

use atrium_core::ids::{ProjectId, SavedReplyId};
use atrium_core::request_form::RequestForm;
use atrium_core::saved_reply::SavedReply;
use atrium_core::service_level::ServiceLevelSettings;
use atrium_store::saved_replies::SavedReplyPatch;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id};
use crate::state::AppState;

/// The business hours and targets (staff; client users 404).
#[utoipa::path(get, path = "/api/v1/helpdesk/settings", tag = "helpdesk",
    responses((status = 200, body = ServiceLevelSettings), (status = 404)))]
pub async fn get_settings(State(st): State<AppState>, auth: Authed) -> AppResult<Json<ServiceLevelSettings>> {
    Ok(Json(st.store.helpdesk_settings(&auth.actor).await?.settings()))
}

/// Change the timezone, business hours and the targets per priority, in business minutes
/// (owners and admins; other staff 403). Every part is sent; 422 names the field
/// (`business_hours.start`, `sla.high.first_response_minutes`, …).
#[utoipa::path(put, path = "/api/v1/helpdesk/settings", tag = "helpdesk", request_body = ServiceLevelSettings,
    responses((status = 200, body = ServiceLevelSettings), (status = 403), (status = 404), (status = 422)))]
pub async fn put_settings(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<ServiceLevelSettings>,
) -> AppResult<Json<ServiceLevelSettings>> {
    Ok(Json(st.store.update_helpdesk_settings(&auth.actor, &b, Some(&ip)).await?.settings()))
}

/// `POST /saved-replies`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedReplyBody {
    /// One line, at most 200 characters.
    #[schema(max_length = 200)]
    pub title: String,
    /// Markdown, at most 20,000 characters.
    #[schema(max_length = 20000)]
    pub body: String,
}

/// `PATCH /saved-replies/{id}`: only the parts sent change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedReplyPatchBody {
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 20000)]
    pub body: Option<String>,
}

/// The saved replies, by title (staff; client users 404).
#[utoipa::path(get, path = "/api/v1/saved-replies", tag = "helpdesk",
    responses((status = 200, body = List<SavedReply>), (status = 404)))]
pub async fn list_saved_replies(State(st): State<AppState>, auth: Authed) -> AppResult<Json<List<SavedReply>>> {
    Ok(Json(List { items: st.store.saved_replies(&auth.actor).await?, next_cursor: None }))
}

/// Add a saved reply to the library every staff member shares.
#[utoipa::path(post, path = "/api/v1/saved-replies", tag = "helpdesk", request_body = SavedReplyBody,
    responses((status = 201, body = SavedReply), (status = 404), (status = 422)))]
pub async fn create_saved_reply(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<SavedReplyBody>,
) -> AppResult<(StatusCode, Json<SavedReply>)> {
    let r = st.store.create_saved_reply(&auth.actor, &b.title, &b.body, Some(&ip)).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// Change a saved reply (any staff member).
#[utoipa::path(patch, path = "/api/v1/saved-replies/{id}", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    request_body = SavedReplyPatchBody,
    responses((status = 200, body = SavedReply), (status = 404), (status = 422)))]
pub async fn update_saved_reply(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<SavedReplyId>,
    ApiJson(b): ApiJson<SavedReplyPatchBody>,
) -> AppResult<Json<SavedReply>> {
    let p = SavedReplyPatch { title: b.title, body: b.body };
    Ok(Json(st.store.update_saved_reply(&auth.actor, id, p, Some(&ip)).await?))
}

/// Delete a saved reply (any staff member).
#[utoipa::path(delete, path = "/api/v1/saved-replies/{id}", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404)))]
pub async fn delete_saved_reply(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<SavedReplyId>,
) -> AppResult<StatusCode> {
    st.store.delete_saved_reply(&auth.actor, id, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A project's request form: the fields its tickets ask (anyone who sees the project; no
/// fields when none are defined).
#[utoipa::path(get, path = "/api/v1/projects/{id}/request-form", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = RequestForm), (status = 404)))]
pub async fn get_request_form(
    State(st): State<AppState>,
    auth: Authed,
    Id(pid): Id<ProjectId>,
) -> AppResult<Json<RequestForm>> {
    Ok(Json(st.store.request_form(&auth.actor.work_scope(), pid).await?))
}

/// Define a project's request form (staff): at most 30 fields with unique keys
/// `[a-z0-9_]{1,40}`; `options` (1–50) for `select` and `multiselect` only. 422 names the
/// field (`fields[2].options`). An empty list removes the form.
#[utoipa::path(put, path = "/api/v1/projects/{id}/request-form", tag = "helpdesk", params(("id" = uuid::Uuid, Path)),
    request_body = RequestForm,
    responses((status = 200, body = RequestForm), (status = 403), (status = 404), (status = 422)))]
pub async fn put_request_form(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    ApiJson(b): ApiJson<RequestForm>,
) -> AppResult<Json<RequestForm>> {
    Ok(Json(st.store.set_request_form(&auth.actor, pid, b, Some(&ip)).await?))
}
