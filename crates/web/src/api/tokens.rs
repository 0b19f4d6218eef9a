//! `/api-tokens`: the caller's own personal API tokens (staff and client users alike). Managing
//! tokens needs a signed-in session — an API token cannot list, make or revoke tokens (403,
//! from [`super::token_scope`] before the handler runs, and again here).

use atrium_core::api_token::TokenScopes;
use atrium_core::ids::ApiTokenId;
use atrium_store::api_tokens::{ApiToken, NewApiToken};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id};
use crate::state::AppState;

/// `POST /api-tokens`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiTokenBody {
    /// What the token is for, 1–100 characters of one line.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// 1–20 of `read`, `write`, `<area>:read`, `<area>:write` (areas: clients, projects, tasks,
    /// files, messages, approvals, billing, helpdesk, automations, templates, account, admin);
    /// `write` includes `read` of the same reach.
    #[schema(min_items = 1, max_items = 20)]
    pub scopes: Vec<String>,
    /// When it stops working: in the future, at most 366 days ahead. Absent: never.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token as listed (never its secret).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// The first characters after `atr_`, to tell tokens apart.
    pub prefix: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A token just made: the listed fields and `token`, the secret, shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedApiToken {
    #[serde(flatten)]
    pub view: ApiTokenView,
    /// `atr_…`: use it as `Authorization: Bearer <token>`. It is never shown again.
    pub token: String,
}

impl From<ApiToken> for ApiTokenView {
    fn from(t: ApiToken) -> Self {
        ApiTokenView {
            id: t.id.to_string(),
            name: t.name,
            scopes: t.scopes.names(),
            prefix: t.display_prefix,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            created_at: t.created_at,
        }
    }
}

/// The caller's tokens that are not revoked (expired ones too), newest first.
#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "integrations", security(("session" = [])),
    responses((status = 200, body = List<ApiTokenView>), (status = 401), (status = 403)))]
pub async fn list_api_tokens(State(st): State<AppState>, auth: Authed) -> AppResult<Json<List<ApiTokenView>>> {
    auth.session()?;
    let items = st.store.api_tokens(&auth.actor).await?.into_iter().map(Into::into).collect();
    Ok(Json(List { items, next_cursor: None }))
}

/// Make a token for oneself. Bad input is 422 naming the field (`name`, `scopes[i]`,
/// `expires_at`); the 51st live token is 422 `name`.
#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "integrations", security(("session" = [])), request_body = NewApiTokenBody,
    responses((status = 201, body = CreatedApiToken), (status = 401), (status = 403), (status = 422)))]
pub async fn create_api_token(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<NewApiTokenBody>,
) -> AppResult<(StatusCode, Json<CreatedApiToken>)> {
    auth.session()?;
    let new = NewApiToken { name: b.name, scopes: TokenScopes::parse(&b.scopes)?, expires_at: b.expires_at };
    let (token, secret) = st.store.create_api_token(&auth.actor, new, Some(&ip)).await?;
    Ok((StatusCode::CREATED, Json(CreatedApiToken { view: token.into(), token: secret })))
}

/// Revoke one of the caller's own tokens: it stops working at once (another's is 404).
#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "integrations", security(("session" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
pub async fn revoke_api_token(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<ApiTokenId>,
) -> AppResult<StatusCode> {
    auth.session()?;
    st.store.revoke_api_token(&auth.actor, id, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}
