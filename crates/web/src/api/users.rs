//! Accounts (staff only): deactivate or reactivate a user.

use atrium_core::ids::UserId;
use atrium_core::model::User;
use axum::Json;
use axum::extract::State;

use super::input::UserPatchBody;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id};
use crate::state::AppState;

/// Deactivate (`{"active": false}`: signed out everywhere, every link cancelled) or reactivate a
/// user. Staff manage client users; owners and admins manage staff; nobody their own account.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = uuid::Uuid, Path)),
    request_body = UserPatchBody, responses((status = 200, body = User), (status = 403), (status = 404), (status = 422)))]
pub async fn update_user(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<UserId>,
    ApiJson(b): ApiJson<UserPatchBody>,
) -> AppResult<Json<User>> {
    Ok(Json(st.store.set_user_active(&auth.actor, id, b.active, Some(&ip)).await?))
}
