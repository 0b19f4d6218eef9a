//! The one error type of Atrium. The web layer maps it to HTTP exactly once.

use std::borrow::Cow;
use std::fmt;

/// Everything that can go wrong, from a caller's point of view.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No credentials, or credentials that no longer work.
    #[error("authentication required")]
    Unauthorized,
    /// Wrong email or password (same message whether or not the account exists).
    #[error("invalid email or password")]
    BadCredentials,
    /// The thing does not exist *for this caller* (missing, or not visible).
    #[error("not found")]
    NotFound,
    /// The caller can see the thing but may not do this to it.
    #[error("{0}")]
    Forbidden(&'static str),
    /// An API token was used for something its scopes do not grant (403, code `forbidden`);
    /// names the scope it would need.
    #[error("this API token lacks the scope {0}")]
    MissingScope(String),
    /// Invalid input; names the offending field.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault (JSON name or path).
        field: Cow<'static, str>,
        /// What is wrong with it.
        message: String,
    },
    /// A link or token that existed but has expired or was used.
    #[error("this link has expired or was already used")]
    Gone,
    /// The write conflicts with existing data (e.g. an email already in use).
    #[error("{0}")]
    Conflict(String),
    /// A payment larger than the invoice's balance (422, code `overpayment`); the message
    /// names the balance.
    #[error("amount: overpayment: {0}")]
    Overpayment(String),
    /// Too many attempts; retry after this many seconds.
    #[error("too many attempts; try again later")]
    RateLimited {
        /// Seconds until the window resets.
        retry_after: u64,
    },
    /// The request body is larger than allowed.
    #[error("request body too large")]
    TooLarge,
    /// The request body stopped arriving (no new bytes within the body-read timeout).
    #[error("the request body stopped arriving; send it again")]
    BodyTimeout,
    /// The upload would take the client past its storage quota.
    #[error("this client's storage quota is used up: delete files or ask the agency for more space")]
    QuotaExceeded,
    /// Something broke on our side; the detail (with the error that caused it) is logged,
    /// never shown.
    #[error("internal error")]
    Internal(#[source] InternalError),
}

/// The detail of an [`Error::Internal`]: what was being done, and the error that broke it (if
/// any), kept as the [`std::error::Error::source`] so whoever logs it can show the whole chain.
#[derive(Debug)]
pub struct InternalError {
    context: Cow<'static, str>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl InternalError {
    /// What was being done (without the source errors).
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The context and every source error below it, joined by `: ` (for logs and operators).
    pub fn chain(&self) -> String {
        let mut out = self.context.to_string();
        let mut next = std::error::Error::source(self);
        while let Some(e) = next {
            out.push_str(": ");
            out.push_str(&e.to_string());
            next = e.source();
        }
        out
    }
}

impl fmt::Display for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)
    }
}

impl std::error::Error for InternalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Error {
    /// An [`Error::Internal`]: `context` says what was being done, `source` is the error that
    /// broke it (kept, not flattened into text).
    pub fn internal(
        context: impl Into<Cow<'static, str>>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Internal(InternalError { context: context.into(), source: Some(source.into()) })
    }

    /// An [`Error::Internal`] with no underlying error (an invariant that does not hold).
    pub fn internal_msg(context: impl Into<Cow<'static, str>>) -> Self {
        Error::Internal(InternalError { context: context.into(), source: None })
    }

    /// Shorthand for an [`Error::Invalid`].
    pub fn invalid(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Error::Invalid { field: field.into(), message: message.into() }
    }

    /// Stable machine-readable code used in the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthorized => "unauthorized",
            Error::BadCredentials => "bad_credentials",
            Error::NotFound => "not_found",
            Error::Forbidden(_) | Error::MissingScope(_) => "forbidden",
            Error::Invalid { .. } => "invalid",
            Error::Gone => "gone",
            Error::Conflict(_) => "conflict",
            Error::Overpayment(_) => "overpayment",
            Error::RateLimited { .. } => "rate_limited",
            Error::TooLarge => "too_large",
            Error::BodyTimeout => "timeout",
            Error::QuotaExceeded => "quota_exceeded",
            Error::Internal(_) => "internal",
        }
    }
}

/// Result with Atrium's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("disk full")]
    struct Disk;

    #[derive(Debug, thiserror::Error)]
    #[error("write failed")]
    struct Write(#[source] Disk);

    #[test]
    fn an_internal_error_keeps_its_sources_and_shows_none_of_them() {
        let e = Error::internal("saving the upload", Write(Disk));
        assert_eq!(e.to_string(), "internal error");
        assert_eq!(e.code(), "internal");
        let Error::Internal(detail) = &e else { panic!("{e:?}") };
        assert_eq!(detail.context(), "saving the upload");
        assert_eq!(detail.chain(), "saving the upload: write failed: disk full");
        let source = std::error::Error::source(&e).expect("the detail is the source");
        assert_eq!(source.to_string(), "saving the upload");
        assert_eq!(source.source().map(|s| s.to_string()).as_deref(), Some("write failed"));
    }

    #[test]
    fn an_internal_message_has_no_source() {
        let Error::Internal(detail) = Error::internal_msg(format!("row {} missing", 7)) else { panic!() };
        assert_eq!(detail.chain(), "row 7 missing");
        assert!(std::error::Error::source(&detail).is_none());
    }
}
