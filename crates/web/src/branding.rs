//! The agency's branding on the wire: the public assets (`/favicon.ico`, `/branding.css`, the
//! logo), served with `ETag`s from their content and a `Cache-Control` of their own
//! ([`PublicCache`]; the URLs pages use carry a version, `?v=`, so a change is fetched at once),
//! the logo upload and removal shared by the API and the settings page, and the [`refresh`]
//! layer that keeps [`AppState::brand`] fresh.

use atrium_core::branding::Branding;
use atrium_core::{Error, Result};
use atrium_store::branding::NewLogo;
use axum::body::Body;
use axum::extract::{Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Authed;
pub use crate::brand::PublicCache;
use crate::error::AppResult;
use crate::state::AppState;

/// How long browsers may keep the logo, favicon and stylesheet under an unversioned URL.
pub const ASSET_MAX_AGE: u32 = 300;

/// The default favicon (a calm blue rounded square), when no logo is set.
static DEFAULT_ICON: &[u8] = include_bytes!("../static/favicon.png");

/// Middleware: keeps [`AppState::brand`] fresh (see [`BRAND_REFRESH`]).
pub async fn refresh(State(st): State<AppState>, req: Request, next: Next) -> Response {
    st.brands.refresh(&st.store).await;
    next.run(req).await
}

/// A public asset with its ETag: 304 when the browser has it, else `body` as `content_type`.
/// A request naming the current version (`?v=`) may keep it for a year.
fn asset(headers: &HeaderMap, etag: &str, versioned: bool, content_type: &'static str, body: Body) -> Response {
    let fresh = browser_has(headers, etag);
    let etag = format!("\"{etag}\"");
    let mut res = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { body.into_response() };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let cache = if versioned {
        "public, max-age=31536000, immutable".to_string()
    } else {
        format!("public, max-age={ASSET_MAX_AGE}")
    };
    if let Ok(v) = HeaderValue::from_str(&cache) {
        h.insert(header::CACHE_CONTROL, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    res.extensions_mut().insert(PublicCache);
    res
}

/// Whether the request's `If-None-Match` names the entity tag `etag` (unquoted).
fn browser_has(headers: &HeaderMap, etag: &str) -> bool {
    let quoted = format!("\"{etag}\"");
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.split(',').any(|t| t.trim() == quoted || t.trim() == "*"))
}

/// Whether the query names `version` (`v=<version>`).
fn names_version(query: Option<&str>, version: &str) -> bool {
    query.is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "v" && v == version))
}

async fn blob_asset(st: &AppState, headers: &HeaderMap, sha256: &str, versioned: bool) -> AppResult<Response> {
    // A browser that has it is answered without reading storage.
    let body = if browser_has(headers, sha256) {
        Body::empty()
    } else {
        Body::from_stream(st.blobs.get(sha256, None).await?.stream)
    };
    Ok(asset(headers, sha256, versioned, "image/png", body))
}

/// Serves the logo (PNG), or 404 when none is set.
pub async fn serve_logo(st: &AppState, headers: &HeaderMap, query: Option<&str>) -> AppResult<Response> {
    let brand = st.brand();
    let Some(logo) = &brand.logo else { return Err(Error::NotFound.into()) };
    let versioned = names_version(query, crate::brand::version(&logo.sha256));
    blob_asset(st, headers, &logo.sha256, versioned).await
}

/// `GET /favicon.ico`: the logo's square icon when a logo is set, else a default icon.
pub async fn favicon(State(st): State<AppState>, headers: HeaderMap, req: Request) -> AppResult<Response> {
    let brand = st.brand();
    match &brand.logo {
        Some(l) => {
            let versioned = names_version(req.uri().query(), crate::brand::version(&l.icon_sha256));
            blob_asset(&st, &headers, &l.icon_sha256, versioned).await
        }
        None => Ok(asset(&headers, "default-icon-1", false, "image/png", Body::from(DEFAULT_ICON))),
    }
}

/// `GET /branding.css`: the accent's custom properties (empty when no accent is set).
pub async fn stylesheet(State(st): State<AppState>, headers: HeaderMap, req: Request) -> Response {
    let brand = st.brand();
    let css = brand.css();
    let version = brand.palette.map(|p| p.accent.hex()[1..].to_string()).unwrap_or_else(|| "default".into());
    let versioned = names_version(req.uri().query(), &version);
    asset(&headers, &format!("css-{version}"), versioned, "text/css; charset=utf-8", Body::from(css))
}

/// Reads the `file` part of a logo form (at most [`crate::logo::LOGO_MAX_BYTES`], else 413),
/// re-encodes it, stores it and makes it the logo; removes the previous logo's blobs when
/// nothing else uses them. Shared by the API and the settings page. The policy is asked before
/// a byte is read.
pub async fn receive_logo(st: &AppState, auth: &Authed, ip: &str, mut form: Multipart) -> AppResult<Branding> {
    auth.actor.may_manage_branding()?;
    let bad_form = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::TooLarge
        } else if crate::extract::stalled(&e) {
            Error::BodyTimeout
        } else {
            Error::invalid("file", format!("bad upload form: {e}"))
        }
    };
    let Some(mut field) = form.next_field().await.map_err(bad_form)? else {
        return Err(Error::invalid("file", "is missing").into());
    };
    if field.name() != Some("file") {
        return Err(Error::invalid("file", "unexpected form field (send one part named file)").into());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        if (bytes.len() + chunk.len()) as u64 > crate::logo::LOGO_MAX_BYTES {
            return Err(Error::TooLarge.into());
        }
        bytes.extend_from_slice(&chunk);
    }
    let p = crate::logo::process(bytes).await?;
    let limit = crate::logo::LOGO_MAX_BYTES.max(8 * 1024 * 1024);
    let stored = put(st, p.png, limit).await?;
    let icon = put(st, p.icon, limit).await?;
    let logo = NewLogo { sha256: stored.clone(), width: p.width, height: p.height, icon_sha256: icon.clone() };
    match st.store.set_logo(&auth.actor, logo, Some(ip)).await {
        Ok((b, old)) => {
            forget(st, old).await;
            st.brands.set(b.clone());
            Ok(b)
        }
        Err(e) => {
            forget(st, vec![stored, icon]).await;
            Err(e.into())
        }
    }
}

/// Removes the logo (owners and admins) and its blobs when nothing else uses them.
pub async fn remove_logo(st: &AppState, auth: &Authed, ip: &str) -> AppResult<()> {
    let old = st.store.remove_logo(&auth.actor, Some(ip)).await?;
    forget(st, old).await;
    st.brands.set(st.store.branding().await?);
    Ok(())
}

async fn put(st: &AppState, bytes: Vec<u8>, limit: u64) -> Result<String> {
    let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes::Bytes::from(bytes))]);
    Ok(st.blobs.put_stream(body, limit).await?.sha256)
}

/// Deletes blobs no row references any more (a file of the same content keeps its blob).
async fn forget(st: &AppState, hashes: Vec<String>) {
    for h in hashes {
        if !st.store.blob_referenced(&h).await.unwrap_or(true)
            && let Err(e) = st.blobs.delete(&h).await
        {
            tracing::warn!(error = %e, "could not delete an old logo");
        }
    }
}

/// Saves a change of the name, accent or welcome text and shows it at once.
pub async fn update(
    st: &AppState,
    auth: &Authed,
    ip: &str,
    p: atrium_store::branding::BrandingPatch,
) -> AppResult<Branding> {
    let b = st.store.update_branding(&auth.actor, p, Some(ip)).await?;
    st.brands.set(b.clone());
    Ok(b)
}

/// The branding as invoice PDFs show it; the logo's pixels come from the stored PNG (which the
/// server made itself, at most [`crate::logo::LOGO_STORED_SIDE`] a side). A logo that cannot be
/// read leaves the PDF without one rather than failing it.
pub async fn pdf_brand(st: &AppState) -> crate::pdf::PdfBrand {
    let brand = st.brand();
    let logo = match &brand.logo {
        Some(l) => match stored_bytes(st, &l.sha256).await {
            Ok(png) => tokio::task::spawn_blocking(move || crate::logo::rgba_of_stored(&png)).await.ok().flatten(),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the logo for a PDF");
                None
            }
        },
        None => None,
    };
    crate::pdf::PdfBrand { name: brand.name.clone(), accent: brand.accent_rgb(), logo }
}

async fn stored_bytes(st: &AppState, sha256: &str) -> Result<Vec<u8>> {
    let read = st.blobs.get(sha256, None).await?;
    let parts: Vec<bytes::Bytes> = futures_util::TryStreamExt::try_collect(read.stream).await?;
    Ok(parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_matched_exactly() {
        assert!(names_version(Some("v=abc"), "abc"));
        assert!(!names_version(Some("v=abcd"), "abc"));
        assert!(!names_version(None, "abc"));
    }
}
