//! Request extractors that turn every malformed input into Atrium's error (never a bare 400/500):
//! typed ids in the path, JSON and form bodies with field-naming errors and the body limit, the
//! client's IP address, and paging parameters.

use std::net::SocketAddr;

use atrium_core::Error;
use atrium_core::ids;
use atrium_store::paging::PageRequest;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::state::AppState;

/// Typed path parameters: `Id(pid): Id<ProjectId>` for a route's one `{id}`, a tuple such as
/// `Id((user, kind, sig)): Id<(UserId, String, String)>` for several (in the route's order).
///
/// A segment that is not a well-formed id is an id that does not exist: [`Error::NotFound`], so
/// the API answers its JSON 404 and a page the HTML 404 page, as when handlers parsed the id
/// themselves. A path the framework cannot read at all (a segment that is not UTF-8) keeps
/// axum's own rejection, which `error::normalize_rejection` gives Atrium's error format.
/// Extractors run before the handler, so a request whose id is malformed and whose body or query
/// is wrong too is now a 404 (it was the body's or the query's error when the handler parsed).
#[derive(Clone, Copy, Debug)]
pub struct Id<T>(pub T);

/// What [`Id`] extracts: one [`Segment`], or a tuple of them.
pub trait PathParams: Sized {
    /// The raw path parameters as axum's [`Path`] reads them.
    type Raw: DeserializeOwned + Send;

    /// Parses the raw parameters.
    fn parse(raw: Self::Raw) -> Result<Self, Error>;
}

/// One path segment: an entity id (malformed is [`Error::NotFound`]), or a `String` kept as sent.
pub trait Segment: Sized {
    /// Parses the segment.
    fn segment(s: String) -> Result<Self, Error>;
}

impl Segment for String {
    fn segment(s: String) -> Result<Self, Error> {
        Ok(s)
    }
}

macro_rules! id_segments {
    ($($name:ident),* $(,)?) => {$(
        impl Segment for ids::$name {
            fn segment(s: String) -> Result<Self, Error> {
                s.parse()
            }
        }

        impl PathParams for ids::$name {
            type Raw = String;

            fn parse(raw: String) -> Result<Self, Error> {
                Segment::segment(raw)
            }
        }
    )*};
}

// Every entity id of `atrium_core::ids`.
id_segments! {
    UserId, ClientId, ProjectId, MilestoneId, TaskId, CommentId, ContactId, InvitationId, SessionId, MessageId,
    NotificationId, JobId, FolderId, FileId, FileVersionId, ApprovalId, ApprovalEventId, InvoiceId, InvoiceLineId,
    PaymentId, ProjectPageId, TicketId, TicketCommentId,
}

id_segments! { SavedReplyId, ProjectTemplateId, AutomationId }

id_segments! { RecurringInvoiceId }

id_segments! { ApiTokenId }

macro_rules! tuple_params {
    ($($t:ident),+) => {
        impl<$($t: Segment),+> PathParams for ($($t,)+) {
            type Raw = ($(tuple_params!(@string $t),)+);

            #[allow(non_snake_case)]
            fn parse(($($t,)+): Self::Raw) -> Result<Self, Error> {
                Ok(($($t::segment($t)?,)+))
            }
        }
    };
    (@string $t:ident) => { String };
}

tuple_params!(A, B);
tuple_params!(A, B, C);

impl<T: PathParams, S: Send + Sync> FromRequestParts<S> for Id<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<T::Raw>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        T::parse(raw).map(Id).map_err(|e| AppError(e).into_response())
    }
}

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

/// A urlencoded form body as its name/value pairs in order (for forms whose fields are not
/// fixed: repeated checkboxes, request-form answers), without the CSRF field.
pub struct FormPairs(pub Vec<(String, String)>);

impl FromRequest<AppState> for FormPairs {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        Ok(FormPairs(
            form_urlencoded::parse(&bytes)
                .filter(|(k, _)| k != "_csrf")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
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

#[cfg(test)]
mod tests {
    use atrium_core::ids::{ProjectId, TaskId, UserId};
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::Id;

    fn app() -> Router {
        Router::new()
            .route("/one/{id}", get(|Id(p): Id<ProjectId>| async move { p.to_string() }))
            .route(
                "/two/{project}/{task}",
                get(|Id((p, t)): Id<(ProjectId, TaskId)>| async move { format!("{p} {t}") }),
            )
            .route(
                "/three/{user}/{kind}/{sig}",
                get(|Id((u, k, s)): Id<(UserId, String, String)>| async move { format!("{u} {k} {s}") }),
            )
    }

    async fn get_path(path: &str) -> (StatusCode, String, String) {
        let res = app().oneshot(Request::get(path).body(Body::empty()).expect("request")).await.expect("answer");
        let status = res.status();
        let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let body = axum::body::to_bytes(res.into_body(), 4096).await.expect("body");
        (status, ct, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn well_formed_ids_are_parsed_in_route_order() {
        let (p, t, u) = (ProjectId::new(), TaskId::new(), UserId::new());
        assert_eq!(
            get_path(&format!("/one/{p}")).await,
            (StatusCode::OK, "text/plain; charset=utf-8".into(), p.to_string())
        );
        assert_eq!(get_path(&format!("/two/{p}/{t}")).await.2, format!("{p} {t}"));
        assert_eq!(get_path(&format!("/three/{u}/mention/abc")).await.2, format!("{u} mention abc"));
    }

    #[tokio::test]
    async fn a_malformed_id_is_atriums_not_found() {
        let p = ProjectId::new();
        for path in [
            "/one/nope".to_string(),
            format!("/two/{p}/nope"),
            format!("/two/nope/{p}"),
            "/three/nope/mention/abc".into(),
        ] {
            let (status, ct, body) = get_path(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(ct, "application/json", "{path}");
            let v: serde_json::Value = serde_json::from_str(&body).expect("JSON error body");
            assert_eq!(v["error"]["code"], "not_found", "{path}: {body}");
        }
    }

    #[tokio::test]
    async fn a_segment_that_is_not_utf8_keeps_the_frameworks_rejection() {
        // `error::normalize_rejection` turns this plain-text 400 into Atrium's format, as before.
        let (status, ct, _) = get_path("/one/%FF%FE").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(ct.starts_with("text/plain"), "{ct}");
    }
}
