//! Authentication: resolving a bearer token or session cookie into an [`Authed`] actor, and the
//! session cookie itself (SEC-SESS-1).

use atrium_core::policy::Actor;
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

/// An authenticated request: the policy actor, its session, and how it authenticated. Handlers
/// extract it only behind an audience layer (see [`crate::audience`]).
#[derive(Clone, Debug)]
pub struct Authed {
    pub actor: Actor,
    pub session: SessionInfo,
    pub via: Via,
    /// When the request arrived (a live-event stamp): a page rendered for it shows every change
    /// published before, so its event stream starts from here.
    pub at: i64,
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
        let idle = chrono::Duration::from_std(state.config.session_idle).unwrap_or(chrono::Duration::days(14));
        match state.store.session_actor(&secret, idle).await {
            Ok(Some((session, actor))) => {
                tracing::Span::current().record("user", tracing::field::display(session.user_id));
                req.extensions_mut().insert(Authed { actor, session, via, at });
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
