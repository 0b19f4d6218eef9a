//! Mapping Atrium's one [`Error`] to HTTP, once. API routes get the JSON error body of the
//! contract; pages get an HTML error page (rendered by [`crate::pages::error_page`]) from the
//! same value, carried in a response extension.

use atrium_core::Error;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The error type every handler returns.
#[derive(Debug)]
pub struct AppError(pub Error);

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        AppError(e)
    }
}

/// What a page needs to render an error, attached to error responses.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub message: String,
}

/// HTTP status of an error.
pub fn status(e: &Error) -> StatusCode {
    match e {
        Error::Unauthorized | Error::BadCredentials => StatusCode::UNAUTHORIZED,
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::Forbidden(_) | Error::MissingScope(_) => StatusCode::FORBIDDEN,
        Error::Invalid { .. } | Error::Overpayment(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Gone => StatusCode::GONE,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::TooLarge | Error::QuotaExceeded => StatusCode::PAYLOAD_TOO_LARGE,
        Error::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = status(&e);
        if let Error::Internal(detail) = &e {
            // The whole chain, source errors included; the client only ever sees "internal error".
            tracing::error!(detail = %detail.chain(), "internal error");
        } else if matches!(e, Error::NotFound | Error::Forbidden(_) | Error::MissingScope(_) | Error::Unauthorized) {
            tracing::info!(code = e.code(), "request denied");
        }
        let message = e.to_string();
        let body = serde_json::json!({ "error": { "code": e.code(), "message": message } });
        let mut res = (status, Json(body)).into_response();
        if let Error::RateLimited { retry_after } = e
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if matches!(e, Error::BodyTimeout) {
            // The rest of the body is not read: this connection cannot carry another request.
            res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        res.extensions_mut().insert(ErrorInfo { status, message });
        res
    }
}

/// Gives a bare rejection of the framework (a plain-text or empty 4xx, such as a path parameter
/// that is not valid UTF-8, or a 405) Atrium's error format: the JSON error body of the API
/// contract plus the [`ErrorInfo`] pages render from. Atrium's own answers are left alone.
pub async fn normalize_rejection(res: Response) -> Response {
    let status = res.status();
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.starts_with("text/plain"));
    if !status.is_client_error() || !plain || res.extensions().get::<ErrorInfo>().is_some() {
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let message =
        if text.is_empty() { status.canonical_reason().unwrap_or("request refused").to_lowercase() } else { text };
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        _ => "bad_request",
    };
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    let mut out = (status, Json(body)).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out.extensions_mut().insert(ErrorInfo { status, message });
    out
}

/// Result type of handlers.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log sink").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn an_internal_error_logs_its_whole_chain_and_answers_a_bare_500() {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        let cause = std::io::Error::other("disk on fire");
        let res = tracing::subscriber::with_default(subscriber, || {
            AppError(Error::internal("writing invoice INV-0007", cause)).into_response()
        });
        let logged = String::from_utf8(sink.0.lock().expect("log sink").clone()).expect("utf-8 log");
        assert!(logged.contains("writing invoice INV-0007: disk on fire"), "{logged}");
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let info = res.extensions().get::<ErrorInfo>().cloned().expect("error info");
        assert_eq!(info.message, "internal error");
        let body = axum::body::to_bytes(res.into_body(), 4096).await.expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body, serde_json::json!({ "error": { "code": "internal", "message": "internal error" } }));
    }
}
