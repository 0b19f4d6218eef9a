//! CSRF protection (SEC-IO-6). A signed-in browser's token is derived from its session secret
//! (`SHA-256("atrium-csrf\0" ‖ secret)`): bound to that session, new at every sign-in (a new
//! session), and useless without the `HttpOnly` session cookie it came from. A browser without a
//! session (sign-in, reset and invitation forms) gets a random double-submit token in a cookie.
//! Every state-changing request that could ride on the browser's cookies must echo its token, as
//! the `_csrf` form field or the `X-CSRF-Token` header, and a present `Origin` header must be the
//! public origin. Bearer-token API calls carry no ambient credentials and are exempt.

use atrium_core::{Error, token};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::auth::bearer;
use crate::error::AppError;
use crate::state::AppState;

/// The CSRF token to embed in this response's forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<CsrfToken>().cloned().unwrap_or(CsrfToken(String::new())))
    }
}

/// The header carrying the token for htmx and cookie-authenticated API writes.
pub const HEADER: &str = "x-csrf-token";

/// Middleware enforcing the double-submit check and issuing the cookie.
pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let existing = jar.get(state.config.csrf_cookie()).map(|c| c.value().to_string()).filter(|v| token::well_formed(v));
    let session = jar.get(state.config.session_cookie()).map(|c| c.value()).filter(|v| token::well_formed(v));
    let (cookie_value, fresh) = match existing {
        Some(v) => (v, false),
        None => (token::generate().secret, true),
    };
    let expected = match session {
        Some(secret) => Expected::Session(session_token(secret)),
        None => Expected::Cookie(cookie_value.clone()),
    };
    let value = expected.token().to_string();
    let req = match check(&state, req, &expected).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let mut req = req;
    req.extensions_mut().insert(CsrfToken(value.clone()));
    let mut res = next.run(req).await;
    if fresh {
        let mut c = Cookie::new(state.config.csrf_cookie(), cookie_value);
        c.set_http_only(true);
        c.set_same_site(SameSite::Strict);
        c.set_secure(state.config.https());
        c.set_path("/");
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// The token a signed-in browser must echo: derived from its session secret.
pub fn session_token(session_secret: &str) -> String {
    token::hash(&format!("atrium-csrf\0{session_secret}"))
}

/// What a write must echo, and what it is bound to.
enum Expected {
    /// Derived from the session cookie sent with the request.
    Session(String),
    /// The double-submit cookie sent with the request (no session).
    Cookie(String),
}

impl Expected {
    fn token(&self) -> &str {
        match self {
            Expected::Session(t) | Expected::Cookie(t) => t,
        }
    }
}

async fn check(state: &AppState, req: Request, expected: &Expected) -> Result<Request, AppError> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || bearer(req.headers()).is_some() {
        return Ok(req);
    }
    // A signed unsubscribe link is its own credential (nothing ambient is used), and mail
    // clients' RFC 8058 one-click POSTs carry no token.
    if req.uri().path().starts_with("/unsubscribe/") {
        return Ok(req);
    }
    let jar = CookieJar::from_headers(req.headers());
    let is_api = req.uri().path().starts_with("/api/");
    let has_session = jar.get(state.config.session_cookie()).is_some();
    if is_api && !has_session {
        // No ambient credentials: nothing to forge. JSON bodies also force a CORS preflight.
        return Ok(req);
    }
    let denied = || AppError(Error::Forbidden("missing or invalid CSRF token; reload the page and try again"));
    if let Some(origin) = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && origin != state.config.origin()
    {
        tracing::info!(origin, "cross-origin write refused");
        return Err(denied());
    }
    // Without a session, the cookie must have come with the request (a fresh one proves nothing).
    if let Expected::Cookie(v) = expected
        && jar.get(state.config.csrf_cookie()).map(|c| c.value()) != Some(v.as_str())
    {
        return Err(denied());
    }
    let expected = expected.token();
    if let Some(h) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        return if token::same(h, expected) { Ok(req) } else { Err(denied()) };
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    // A file upload form cannot be read ahead of the handler (it is streamed to storage), so it
    // carries the token in its action's query string instead (never logged; same-origin only).
    if content_type.starts_with("multipart/form-data") {
        let sent = form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.into_owned());
        return match sent {
            Some(s) if token::same(&s, expected) => Ok(req),
            _ => Err(denied()),
        };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(denied());
    }
    let (parts, body) = req.into_parts();
    let bytes = crate::extract::read_body(body, state.config.body_limit).await?;
    let sent = form_urlencoded::parse(&bytes).find(|(k, _)| k == "_csrf").map(|(_, v)| v.into_owned());
    match sent {
        Some(s) if token::same(&s, expected) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(denied()),
    }
}
