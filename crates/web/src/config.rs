//! Settings the web layer needs, built by the binary from flags, environment and defaults.

use std::time::Duration;

/// A request's head (request line and headers) must arrive within this long of the server
/// starting to wait for it; an idle keep-alive connection is closed after it too.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A request body must keep arriving: no new bytes for this long answers 408. There is no limit
/// on a body's total time, so a large upload over a slow link works while it keeps sending.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

// The preview workers' default limits (`preview_service` runs the workers).

/// Address space one preview worker may map (`RLIMIT_AS`): the fixture PDF renders within 96 MiB
/// (tested), the pre-check of the 42 MB content stream peaked at 137 MiB RSS
/// (`bench/previews.sh`); a render that needs more fails its allocation and the worker dies.
pub const PREVIEW_MEMORY_LIMIT: u64 = 512 * 1024 * 1024;
/// CPU seconds one preview worker may use (`RLIMIT_CPU`; the kernel kills it after).
pub const PREVIEW_CPU_SECONDS: u64 = 10;
/// Wall-clock time a preview may take before its worker is killed.
pub const PREVIEW_TIME_LIMIT: Duration = Duration::from_secs(15);
/// Longest a thumbnail request waits for its client's turn and then for a slot (then 429).
pub const PREVIEW_QUEUE_WAIT: Duration = Duration::from_secs(30);

/// Web settings. Holds no secrets.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Base of every link in mail and API answers (never the request's Host header).
    pub public_url: url::Url,
    /// The agency's name, shown in pages and mail.
    pub agency_name: String,
    /// A session unused this long expires.
    pub session_idle: Duration,
    /// A session expires this long after sign-in, used or not.
    pub session_lifetime: Duration,
    /// Largest accepted request body (JSON and forms).
    pub body_limit: usize,
    /// Sign-in attempts allowed per account per window.
    pub login_per_account: u32,
    /// Sign-in attempts allowed per IP address per window.
    pub login_per_ip: u32,
    /// The rate-limit window.
    pub rate_window: Duration,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_proxy: bool,
    /// Run queued jobs at the end of each request instead of in a background worker (tests:
    /// a response then means its mail was sent).
    pub jobs_inline: bool,
    /// How often open event streams check that their session is still valid.
    pub stream_recheck: Duration,
    /// Event streams one user may hold open on one server process (a browser opens one per
    /// tab); more is 429.
    pub max_streams_per_user: usize,
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// See [`BODY_READ_TIMEOUT`].
    pub body_read_timeout: Duration,
    /// Largest file one upload may store (bytes).
    pub max_upload: u64,
    /// Storage each client's files may use in all (bytes, every version counted).
    pub client_quota: u64,
    /// The preview worker's program and first arguments (`<pdf|image> <size>` are appended);
    /// the default is this executable's `preview-worker` subcommand.
    pub preview_worker: Vec<std::ffi::OsString>,
    /// Address space one preview worker may use (bytes, `RLIMIT_AS`).
    pub preview_memory: u64,
    /// CPU time one preview worker may use (whole seconds, `RLIMIT_CPU`).
    pub preview_cpu_seconds: u64,
    /// Wall-clock time one preview may take before its worker is killed.
    pub preview_time: Duration,
    /// Previews rendered at once by this process (default: one per core).
    pub preview_slots: usize,
    /// Longest a thumbnail request waits for its client's turn and a slot (then 429).
    pub preview_queue_wait: Duration,
    /// The inbound mail address (`--inbound-address`): when set, notification mail carries a
    /// signed Reply-To `<local>+<token>@<domain>` and mail in reads replies to it.
    pub inbound: Option<atrium_mail::inbound::InboundAddress>,
}

impl WebConfig {
    /// Defaults for a given public URL.
    pub fn new(public_url: url::Url) -> Self {
        WebConfig {
            public_url,
            agency_name: "Atrium".into(),
            session_idle: Duration::from_secs(14 * 24 * 3600),
            session_lifetime: Duration::from_secs(30 * 24 * 3600),
            body_limit: 1024 * 1024,
            login_per_account: 10,
            login_per_ip: 50,
            rate_window: Duration::from_secs(15 * 60),
            trust_proxy: false,
            jobs_inline: false,
            stream_recheck: Duration::from_secs(30),
            max_streams_per_user: 20,
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
            max_upload: 2 * 1024 * 1024 * 1024,
            client_quota: 10 * 1024 * 1024 * 1024,
            preview_worker: vec![
                std::env::current_exe().map_or_else(|_| "atrium".into(), |p| p.into_os_string()),
                "preview-worker".into(),
            ],
            preview_memory: PREVIEW_MEMORY_LIMIT,
            preview_cpu_seconds: PREVIEW_CPU_SECONDS,
            preview_time: PREVIEW_TIME_LIMIT,
            preview_slots: std::thread::available_parallelism().map_or(2, |n| n.get()),
            preview_queue_wait: PREVIEW_QUEUE_WAIT,
            inbound: None,
        }
    }

    /// Whether the portal is served over https (secure cookies, HSTS).
    pub fn https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// An absolute URL for `path` under the public URL.
    pub fn link(&self, path: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }

    /// The host of the public URL: the right-hand side of the Message-IDs Atrium makes.
    pub fn mail_host(&self) -> &str {
        self.public_url.host_str().unwrap_or("localhost")
    }

    /// The public origin (`scheme://host[:port]`), for the Origin check.
    pub fn origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// The session cookie's name (`__Host-` prefixed on https).
    pub fn session_cookie(&self) -> &'static str {
        if self.https() { "__Host-atrium_session" } else { "atrium_session" }
    }

    /// The CSRF cookie's name (`__Host-` prefixed on https).
    pub fn csrf_cookie(&self) -> &'static str {
        if self.https() { "__Host-atrium_csrf" } else { "atrium_csrf" }
    }
}
