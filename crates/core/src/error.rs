//! The one error type of Atrium. The web layer maps it to HTTP exactly once.

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
    /// Invalid input; names the offending field.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault (JSON name or path).
        field: std::borrow::Cow<'static, str>,
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
    /// Something broke on our side; the detail is logged, never shown.
    #[error("internal error")]
    Internal(String),
}

impl Error {
    /// Shorthand for an [`Error::Invalid`].
    pub fn invalid(field: impl Into<std::borrow::Cow<'static, str>>, message: impl Into<String>) -> Self {
        Error::Invalid { field: field.into(), message: message.into() }
    }

    /// Stable machine-readable code used in the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthorized => "unauthorized",
            Error::BadCredentials => "bad_credentials",
            Error::NotFound => "not_found",
            Error::Forbidden(_) => "forbidden",
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
