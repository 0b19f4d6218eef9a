//! Accounts (staff only): deactivate or reactivate a user, set a staff member's job title.

use atrium_core::ids::UserId;
use atrium_core::model::User;
use atrium_core::validate;
use axum::Json;
use axum::extract::State;

use super::input::UserPatchBody;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id};
use crate::state::AppState;

/// Deactivate (`{"active": false}`: signed out everywhere, every link cancelled) or reactivate a
/// user. Staff manage client users; owners and admins manage staff; nobody their own account.
/// `title` sets a staff member's job title (owners and admins; staff their own).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = uuid::Uuid, Path)),
    request_body = UserPatchBody, responses((status = 200, body = User), (status = 403), (status = 404), (status = 422)))]
pub async fn update_user(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<UserId>,
    ApiJson(b): ApiJson<UserPatchBody>,
) -> AppResult<Json<User>> {
    if b.active.is_none() && b.title.is_none() {
        return Err(atrium_core::Error::invalid("active", "give `active` or `title`").into());
    }
    let title = b.title.map(|t| validate::optional_line("title", &t, validate::JOB_TITLE_MAX)).transpose()?;
    let mut user = None;
    if let Some(t) = title {
        user = Some(st.store.set_job_title(&auth.actor, id, t, Some(&ip)).await?);
    }
    if let Some(active) = b.active {
        user = Some(st.store.set_user_active(&auth.actor, id, active, Some(&ip)).await?);
    }
    user.map(Json).ok_or_else(|| atrium_core::Error::internal_msg("no change made").into())
}
