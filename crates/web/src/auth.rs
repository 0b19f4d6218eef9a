//! Authentication: resolving a bearer token or session cookie into an [`Authed`] actor, and the
//! session cookie itself (SEC-SESS-1). A bearer value with the `atr_` prefix is a personal API
//! token (SEC-INT-3): it is resolved only on `/api/` paths and only from the `Authorization`
//! header — a cookie or an HTML page never takes one — and what it may reach is then limited by
//! its scopes ([`crate::api::token_scope`]).

use atrium_core::ids::{SessionId, UserId};
use atrium_core::policy::Actor;
use atrium_core::{Error, api_token};
use atrium_store::api_tokens::ApiTokenGrant;
use atrium_store::auth::SessionInfo;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::config::WebConfig;
use crate::error::AppError;
use crate::state::AppState;

/// How a request proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// The session cookie (browser).
    Cookie,
}

/// What a request authenticated with.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A session (cookie or bearer).
    Session(SessionInfo),
    /// A personal API token (bearer, API only), with its scopes.
    ApiToken(ApiTokenGrant),
}

/// An authenticated request: the policy actor, its credential, and how it authenticated.
/// Handlers extract it only behind an audience layer (see [`crate::audience`]).
#[derive(Clone, Debug)]
pub struct Authed {
    pub actor: Actor,
    pub credential: Credential,
    pub via: Via,
    /// When the request arrived (a live-event stamp): a page rendered for it shows every change
    /// published before, so its event stream starts from here.
    pub at: i64,
}

impl Authed {
    /// The session, for what only a session may do (signing out, "View as client", making API
    /// tokens); an API token is refused with 403.
    pub fn session(&self) -> Result<&SessionInfo, Error> {
        match &self.credential {
            Credential::Session(s) => Ok(s),
            Credential::ApiToken(_) => {
                Err(Error::Forbidden("this needs a signed-in session; an API token cannot do it"))
            }
        }
    }

    /// The session's id, if the request came with one.
    pub fn session_id(&self) -> Option<SessionId> {
        match &self.credential {
            Credential::Session(s) => Some(s.id),
            Credential::ApiToken(_) => None,
        }
    }

    /// Who signed in: the session's user (for "View as client", the staff member), or the
    /// token's owner.
    pub fn signed_in_user(&self) -> UserId {
        match &self.credential {
            Credential::Session(s) => s.user_id,
            Credential::ApiToken(t) => t.user_id,
        }
    }

    /// The API token's grant, if the request came with one.
    pub fn api_token(&self) -> Option<&ApiTokenGrant> {
        match &self.credential {
            Credential::ApiToken(t) => Some(t),
            Credential::Session(_) => None,
        }
    }
}

/// Whether a credential still grants access (long-lived streams ask when a revocation may
/// concern them, and periodically).
pub async fn still_alive(state: &AppState, credential: &Credential) -> atrium_core::Result<bool> {
    match credential {
        Credential::Session(s) => state.store.session_alive(s.id).await,
        Credential::ApiToken(t) => state.store.api_token_alive(t.id).await,
    }
}

/// The authenticated request if there is one.
#[derive(Clone, Debug)]
pub struct MaybeAuthed(pub Option<Authed>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuthed {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeAuthed(parts.extensions.get::<Authed>().cloned()))
    }
}

/// The bearer token of a request, if it sent one.
pub fn bearer(parts: &axum::http::HeaderMap) -> Option<&str> {
    parts
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
}

/// Middleware: attaches [`Authed`] to the request when a valid token or cookie is presented.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let at = atrium_store::events::stamp_now();
    let jar = CookieJar::from_headers(req.headers());
    let found = match bearer(req.headers()) {
        Some(t) => Some((t.to_string(), Via::Bearer)),
        None => jar.get(state.config.session_cookie()).map(|c| (c.value().to_string(), Via::Cookie)),
    };
    if let Some((secret, via)) = found {
        let resolved = if api_token::is_api_token(&secret) {
            // Only the API takes API tokens, only from the header: elsewhere the request is
            // anonymous (a page sends it to sign in), never served on the session cookie.
            if via == Via::Bearer && req.uri().path().starts_with("/api/") {
                state.store.api_token_actor(&secret).await.map(|r| r.map(|(t, a)| (Credential::ApiToken(t), a)))
            } else {
                Ok(None)
            }
        } else {
            let idle = chrono::Duration::from_std(state.config.session_idle).unwrap_or(chrono::Duration::days(14));
            state.store.session_actor(&secret, idle).await.map(|r| r.map(|(s, a)| (Credential::Session(s), a)))
        };
        match resolved {
            Ok(Some((credential, actor))) => {
                let user = match &credential {
                    Credential::Session(s) => s.user_id,
                    Credential::ApiToken(t) => t.user_id,
                };
                tracing::Span::current().record("user", tracing::field::display(user));
                req.extensions_mut().insert(Authed { actor, credential, via, at });
            }
            Ok(None) => {}
            Err(e) => return AppError(e).into_response(),
        }
    }
    next.run(req).await
}

/// The session cookie for a fresh sign-in.
pub fn session_cookie(config: &WebConfig, secret: String) -> Cookie<'static> {
    let mut c = Cookie::new(config.session_cookie(), secret);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_secure(config.https());
    c.set_path("/");
    c.set_max_age(time_duration(config.session_lifetime));
    c
}

/// A cookie that removes the session cookie.
pub fn clear_session_cookie(config: &WebConfig) -> Cookie<'static> {
    let mut c = session_cookie(config, String::new());
    c.make_removal();
    c
}

fn time_duration(d: std::time::Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
