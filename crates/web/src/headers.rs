//! Security headers on every response (SEC-IO-4) and `no-store` on everything dynamic.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

const CSP_BASE: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The pages' policy: [`CSP_BASE`], and `frame-src` naming exactly the origins of the embeddable
/// services of project pages (`atrium_core::embed::EMBED_SERVICES`), nothing else.
static CSP: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
    let frames: Vec<&str> = atrium_core::embed::frame_origins().collect();
    let csp = format!("{CSP_BASE}; frame-src {}", frames.join(" "));
    HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static(CSP_BASE))
});

/// Middleware adding the security headers.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A handler may set a stricter policy (downloads are sandboxed); pages get this one.
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert_with(|| CSP.clone());
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if state.config.https() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    }
    // Public, non-personal assets (the logo, favicon, accent stylesheet) keep their own.
    let public = res.extensions().get::<crate::brand::PublicCache>().is_some();
    let h = res.headers_mut();
    if !is_static && !public {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
