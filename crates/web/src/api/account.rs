//! The caller's own account (sessions, password) and the activity log (owners and admins):
//! what the account and activity pages do, as JSON.

use atrium_core::ids::{ClientId, SessionId};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use super::input::{PasswordChangeBody, empty_none};
use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id, Paging, Q};
use crate::flows;
use crate::state::AppState;

/// One of the caller's active sessions.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// The caller's active sessions, newest first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "session", responses((status = 200, body = List<SessionView>), (status = 401)))]
pub async fn list_sessions(State(st): State<AppState>, auth: Authed) -> AppResult<Json<List<SessionView>>> {
    let items = st
        .store
        .sessions_of(&auth.actor)
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: Some(s.id) == auth.session_id(),
            id: s.id.to_string(),
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect();
    Ok(Json(List { items, next_cursor: None }))
}

/// End one of the caller's own sessions (another's is 404).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "session", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404)))]
pub async fn revoke_session(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(sid): Id<SessionId>,
) -> AppResult<StatusCode> {
    if !st.store.revoke_session(&auth.actor, auth.signed_in_user(), sid, Some(&ip)).await? {
        return Err(atrium_core::Error::NotFound.into());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Change the caller's password (needs the current one); every session ends, this one too.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session", security(("session" = [])), request_body = PasswordChangeBody,
    responses((status = 204), (status = 401), (status = 403), (status = 422), (status = 429)))]
pub async fn change_password(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<PasswordChangeBody>,
) -> AppResult<StatusCode> {
    flows::change_password(&st, &auth.actor, &ip, &b.current_password, &b.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One entry of the activity log.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    /// Who did it (for "view as", the staff member).
    pub actor_id: Option<String>,
    /// Whom they acted as, if anyone.
    pub via_user_id: Option<String>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    /// JSON detail of the change (never secrets).
    pub detail: serde_json::Value,
}

/// Filter of the activity log.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries about this client.
    #[serde(default, deserialize_with = "empty_none")]
    #[param(value_type = Option<String>)]
    pub client_id: Option<ClientId>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// The activity (audit) log, newest first (owners and admins).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = List<AuditEntry>), (status = 403), (status = 404)))]
pub async fn audit(State(st): State<AppState>, auth: Authed, Q(q): Q<AuditQuery>) -> AppResult<Json<List<AuditEntry>>> {
    let req = Paging { limit: q.limit, cursor: q.cursor }.request()?;
    let p = st.store.audit_log(&auth.actor, q.client_id, req).await?;
    let items = p
        .items
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id.to_string(),
            at: r.at,
            actor_id: r.actor_id.map(|u| u.to_string()),
            via_user_id: r.via_user_id.map(|u| u.to_string()),
            action: r.action,
            subject_type: r.subject_type,
            subject_id: r.subject_id,
            client_id: r.client_id.map(|u| u.to_string()),
            ip: r.ip,
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(Json(List { items, next_cursor: p.next_cursor }))
}
