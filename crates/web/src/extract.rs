//! Request extractors that turn every malformed input into Atrium's error (never a bare 400/500):
//! JSON and form bodies with field-naming errors and the body limit, the client's IP address,
//! and paging parameters.

use std::net::SocketAddr;

use atrium_core::Error;
use atrium_store::paging::PageRequest;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::state::AppState;

/// A JSON body; wrong content type, syntax, types or unknown fields are a 422 naming the field,
/// an oversize body a 413.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ct.starts_with("application/json") {
            return Err(AppError(Error::invalid("body", "Content-Type must be application/json")));
        }
        let bytes = body_bytes(req, state).await?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de).map(ApiJson).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." || path.is_empty() { "body".to_string() } else { path };
            AppError(Error::invalid(field, clean_serde_message(&e.inner().to_string())))
        })
    }
}

/// A urlencoded form body with the same error handling as [`ApiJson`].
pub struct FormBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for FormBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        // The CSRF field was checked by the middleware; it is not part of any form's data.
        let fields: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form_urlencoded::parse(&bytes).filter(|(k, _)| k != "_csrf"))
            .finish();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(fields.as_bytes()));
        serde_path_to_error::deserialize(de).map(FormBody).map_err(|e| {
            let field = e.path().to_string();
            AppError(Error::invalid(
                if field == "." { "form".into() } else { field },
                clean_serde_message(&e.inner().to_string()),
            ))
        })
    }
}

async fn body_bytes(req: Request, state: &AppState) -> Result<Bytes, AppError> {
    read_body(req.into_body(), state.config.body_limit).await
}

/// Reads a whole body of at most `limit` bytes: more is 413, a body that stops arriving 408.
pub(crate) async fn read_body(body: axum::body::Body, limit: usize) -> Result<Bytes, AppError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|e| AppError(if stalled(&e) { Error::BodyTimeout } else { Error::TooLarge }))
}

/// Whether a body read failed because the body stopped arriving (the body-read timeout of
/// `routes::router`), wherever in the error's chain that is.
pub(crate) fn stalled(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cur = e.source();
    }
    false
}

fn clean_serde_message(m: &str) -> String {
    // serde_json appends " at line X column Y"; keep the message human.
    match m.find(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m.to_string(),
    }
}

/// The caller's IP address (from `X-Forwarded-For` only when configured to trust a proxy).
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.config.trust_proxy
            && let Some(ip) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(str::trim)
                .filter(|s| !s.is_empty())
        {
            return Ok(ClientIp(ip.chars().take(64).collect()));
        }
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(ip))
    }
}

impl ClientIp {
    /// As an optional string slice for the audit log.
    pub fn as_deref(&self) -> Option<&str> {
        Some(self.0.as_str())
    }
}

/// `?limit=&cursor=` paging parameters.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Page size, 1..=200 (default 50).
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl Paging {
    /// Validates into a store page request.
    pub fn request(&self) -> Result<PageRequest, Error> {
        let limit = match self.limit.as_deref() {
            None | Some("") => 50,
            Some(s) => match s.parse::<u64>() {
                Ok(n) if (1..=PageRequest::MAX).contains(&n) => n,
                _ => {
                    return Err(Error::invalid(
                        "limit",
                        format!("must be a whole number from 1 to {}", PageRequest::MAX),
                    ));
                }
            },
        };
        let cursor = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(s) => Some(uuid::Uuid::parse_str(s).map_err(|_| atrium_store::paging::bad_cursor())?),
        };
        Ok(PageRequest { limit, cursor })
    }
}

/// Query-string extractor whose errors are Atrium errors.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        query(parts.uri.query().unwrap_or("")).map(Q)
    }
}

/// Parses a query string into `T`, naming the field on error.
fn query<T: DeserializeOwned>(q: &str) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        AppError(Error::invalid(
            if field == "." { "query".into() } else { field },
            clean_serde_message(&e.inner().to_string()),
        ))
    })
}

/// A list's filters `T` (its own query struct, unknown fields refused) and its [`Paging`]
/// (`limit`, `cursor`), from one query string; document it with `params(T, Paging)`.
pub struct Paged<T>(pub T, pub PageRequest);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Paged<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let part = |paging: bool| {
            let pairs = form_urlencoded::parse(q.as_bytes()).filter(|(k, _)| (k == "limit" || k == "cursor") == paging);
            form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
        };
        let page: Paging = query(&part(true))?;
        Ok(Paged(query(&part(false))?, page.request()?))
    }
}
