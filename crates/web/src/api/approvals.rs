//! Approvals over the API: staff request one on a file version or a task deliverable from named
//! client admins; an approver approves, requests changes (with a comment) or rejects. The store
//! scopes every read and asks the policy before every write.

use atrium_core::Error;
use atrium_core::ids::{ApprovalId, UserId};
use atrium_core::model::{Approval, ApprovalStatus, ApprovalSubject, Decision};
use atrium_store::approvals::NewApproval;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;

use super::input::empty_none;
use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id, Q};
use crate::state::AppState;

/// `POST /approvals`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    pub subject_type: ApprovalSubject,
    /// The file's or the task's id.
    pub subject_id: String,
    /// Client admins of the subject's client.
    pub approver_ids: Vec<String>,
    #[serde(default, deserialize_with = "empty_none")]
    pub due_date: Option<NaiveDate>,
}

/// `POST /approvals/{id}/decision`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub decision: Decision,
    /// Required for `changes_requested`.
    #[serde(default)]
    pub comment: Option<String>,
}

/// `?status=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsQuery {
    /// `open`, `approved`, `changes_requested` or `rejected`.
    #[param(value_type = Option<String>)]
    #[serde(default, deserialize_with = "empty_none")]
    pub status: Option<ApprovalStatus>,
}

/// Request approval (staff): the file's current version or the task, from named client admins.
#[utoipa::path(post, path = "/api/v1/approvals", tag = "approvals", request_body = ApprovalBody,
    responses((status = 201, body = Approval), (status = 403), (status = 404), (status = 422)))]
pub async fn create_approval(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<ApprovalBody>,
) -> AppResult<(StatusCode, Json<Approval>)> {
    let approver_ids = b
        .approver_ids
        .iter()
        .map(|s| s.parse::<UserId>().map_err(|_| Error::invalid("approver_ids", "must be user ids")))
        .collect::<Result<Vec<_>, _>>()?;
    let n = NewApproval { subject_type: b.subject_type, subject_id: b.subject_id, approver_ids, due_date: b.due_date };
    Ok((StatusCode::CREATED, Json(st.store.request_approval(&auth.actor, n, Some(&ip)).await?)))
}

/// The approvals the caller can see, newest first.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "approvals", params(ApprovalsQuery),
    responses((status = 200, body = List<Approval>)))]
pub async fn list_approvals(
    State(st): State<AppState>,
    auth: Authed,
    Q(q): Q<ApprovalsQuery>,
) -> AppResult<Json<List<Approval>>> {
    let items = st.store.approvals(&auth.actor, q.status).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// One approval with its history and sign-off.
#[utoipa::path(get, path = "/api/v1/approvals/{id}", tag = "approvals", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Approval), (status = 404)))]
pub async fn get_approval(
    State(st): State<AppState>,
    auth: Authed,
    Id(id): Id<ApprovalId>,
) -> AppResult<Json<Approval>> {
    Ok(Json(st.store.approval(&auth.actor, id).await?))
}

/// Decide (a named approver): approve, request changes (comment required) or reject. An
/// approved approval is final: 409.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/decision", tag = "approvals", params(("id" = uuid::Uuid, Path)),
    request_body = DecisionBody,
    responses((status = 201, body = Approval), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn decide(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<ApprovalId>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<(StatusCode, Json<Approval>)> {
    let a = st.store.decide(&auth.actor, id, b.decision, b.comment, Some(&ip)).await?;
    Ok((StatusCode::CREATED, Json(a)))
}
