//! Session, identity and invitation endpoints.

use atrium_core::model::{Role, TokenPurpose, User};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};

use super::input::{AcceptBody, EmailBody, InvitationBody, LoginBody, MePatchBody};
use crate::auth::{Authed, clear_session_cookie, session_cookie};
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp};
use crate::flows;
use crate::state::AppState;

/// A new session.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SessionCreated {
    /// Bearer token; also set as the session cookie for browsers.
    pub token: String,
    pub user: User,
}

fn user_agent(h: &HeaderMap) -> Option<&str> {
    h.get(header::USER_AGENT).and_then(|v| v.to_str().ok())
}

fn created(st: &AppState, jar: CookieJar, token: atrium_core::token::NewToken, user: User) -> axum::response::Response {
    let jar = jar.add(session_cookie(&st.config, token.secret.clone()));
    (StatusCode::CREATED, jar, Json(SessionCreated { token: token.secret, user })).into_response()
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", security(()), request_body = LoginBody,
    responses((status = 201, body = SessionCreated), (status = 401, description = "wrong credentials"), (status = 429, description = "rate limited")))]
pub async fn login(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(b): ApiJson<LoginBody>,
) -> AppResult<impl IntoResponse> {
    let (token, user) = flows::password_login(&st, &ip, user_agent(&headers), &b.email, &b.password).await?;
    Ok(created(&st, jar, token, user))
}

/// Sign out: the token stops working at once.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", security(("session" = [])),
    responses((status = 204), (status = 401), (status = 403)))]
pub async fn logout(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
) -> AppResult<impl IntoResponse> {
    let session = auth.session()?;
    st.store.revoke_session(&auth.actor, session.user_id, session.id, Some(&ip)).await?;
    Ok((StatusCode::NO_CONTENT, jar.add(clear_session_cookie(&st.config))))
}

/// The signed-in user; a client user's also says whether they have seen the first-login
/// introduction.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub user: User,
    /// Client users: when the first-login introduction was dismissed (`null`: not yet). Absent
    /// for staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DateTime<Utc>>, nullable)]
    pub onboarded_at: Option<Option<DateTime<Utc>>>,
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, body = Me), (status = 401)))]
pub async fn me(State(st): State<AppState>, auth: Authed) -> AppResult<Json<Me>> {
    let acc = st.store.own_account(&auth.actor).await?;
    let onboarded_at = (!acc.user.role.is_staff()).then_some(acc.onboarded_at);
    Ok(Json(Me { user: acc.user, onboarded_at }))
}

/// Change the caller's own settings: their timezone (not while viewing as a client: 403).
#[utoipa::path(patch, path = "/api/v1/me", tag = "session", request_body = MePatchBody,
    responses((status = 200, body = Me), (status = 401), (status = 403), (status = 422)))]
pub async fn update_me(
    State(st): State<AppState>,
    auth: Authed,
    ApiJson(b): ApiJson<MePatchBody>,
) -> AppResult<Json<Me>> {
    if let Some(tz) = b.timezone {
        let tz = atrium_core::local_time::parse_own_timezone(tz.as_deref())?;
        st.store.set_own_timezone(&auth.actor, tz).await?;
    }
    me(State(st), auth).await
}

/// Mark the first-login introduction as seen (client users; staff 404, "View as client" 403).
/// Only the first call records the moment.
#[utoipa::path(post, path = "/api/v1/me/onboarding", tag = "session",
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
pub async fn finish_onboarding(State(st): State<AppState>, auth: Authed) -> AppResult<StatusCode> {
    st.store.finish_onboarding(&auth.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Email a single-use sign-in link (always 202).
#[utoipa::path(post, path = "/api/v1/magic-links", tag = "session", security(()), request_body = EmailBody,
    responses((status = 202), (status = 429)))]
pub async fn magic_link(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<EmailBody>,
) -> AppResult<StatusCode> {
    flows::request_link(&st, &ip, &b.email, TokenPurpose::MagicLink).await?;
    Ok(StatusCode::ACCEPTED)
}

/// A created invitation.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct InvitationCreated {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub client_id: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// Absolute link; its last path segment is the token.
    pub accept_url: String,
}

/// Invite a person (owner/admin: anyone; staff: client users).
#[utoipa::path(post, path = "/api/v1/invitations", tag = "invitations", request_body = InvitationBody,
    responses((status = 201, body = InvitationCreated), (status = 403), (status = 409), (status = 422)))]
pub async fn invite(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<InvitationBody>,
) -> AppResult<impl IntoResponse> {
    let (inv, url) = flows::invite(&st, &auth.actor, &ip, b).await?;
    Ok((
        StatusCode::CREATED,
        Json(InvitationCreated {
            id: inv.id.to_string(),
            email: inv.email,
            role: inv.role,
            client_id: inv.client_id.map(|c| c.to_string()),
            expires_at: inv.expires_at,
            accept_url: url,
        }),
    ))
}

/// Accept an invitation: creates the account and signs in.
#[utoipa::path(post, path = "/api/v1/invitations/{token}/accept", tag = "invitations", security(()), request_body = AcceptBody,
    params(("token" = String, Path, description = "the invitation token")),
    responses((status = 201, body = SessionCreated), (status = 404), (status = 410), (status = 422)))]
pub async fn accept_invitation(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Path(token): Path<String>,
    ApiJson(b): ApiJson<AcceptBody>,
) -> AppResult<impl IntoResponse> {
    let (t, user) =
        flows::accept_invitation(&st, &ip, user_agent(&headers), &token, b.name.as_deref(), &b.password).await?;
    Ok(created(&st, jar, t, user))
}
