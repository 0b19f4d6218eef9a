//! The IMAP source of mail in (`--imap-url`), with `async-imap` on tokio and rustls.
//!
//! [`run`] keeps one session to the mailbox: it handles every unseen message
//! ([`poll_session`]), then waits with IDLE where the server offers it (re-issued every
//! [`IDLE_MAX`], RFC 2177) or for [`POLL_EVERY`], and reconnects after [`POLL_EVERY`] when
//! anything fails. Each message's size is read first (`RFC822.SIZE`); one over
//! [`MAX_RAW`](inbound::MAX_RAW) is never fetched, only flagged. A message is fetched with
//! `BODY.PEEK[]`, handled, then flagged `\Seen`; handling is idempotent (mail in claims each
//! Message-ID once), so a crash between handling and flagging posts nothing twice. A message
//! whose handling failed on the database stays unseen for the next poll.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};

use super::{MailIn, MailInError, Outcome};
use atrium_mail::inbound;

/// How often a server without IDLE is polled, and how long to wait before reconnecting.
pub const POLL_EVERY: Duration = Duration::from_secs(30);
/// Longest one IDLE command is kept open before it is re-issued (servers end it at 30 min).
pub const IDLE_MAX: Duration = Duration::from_secs(25 * 60);
/// Longest connecting, TLS and login may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest one command (search, fetch, store) may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// A checked `--imap-url`: `imaps://user:password@host[:port]/MAILBOX` (TLS, port 993 by
/// default) or `imap://…` (no TLS: loopback hosts only, for tests and a local server), with
/// percent-encoded user and password; the mailbox defaults to `INBOX`. `Debug` hides the
/// credentials.
#[derive(Clone)]
pub struct ImapUrl {
    tls: bool,
    host: String,
    port: u16,
    user: String,
    password: String,
    mailbox: String,
}

impl fmt::Debug for ImapUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "imaps" } else { "imap" };
        write!(f, "{scheme}://{}:{}/{}", self.host, self.port, self.mailbox)
    }
}

impl ImapUrl {
    /// Parses and checks an IMAP URL; the error never repeats the URL (it holds a password).
    pub fn parse(url: &str) -> Result<Self, String> {
        let u = url::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
        let tls = match u.scheme() {
            "imaps" => true,
            "imap" => false,
            _ => return Err("the scheme must be imaps:// (or imap:// on loopback)".into()),
        };
        let host = u.host_str().ok_or("the URL names no host")?.trim_matches(['[', ']']).to_string();
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !tls && !loopback {
            return Err("imap:// sends the password in the clear: use imaps:// for a host that is not loopback".into());
        }
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let user = decode(u.username());
        let password = decode(u.password().unwrap_or_default());
        if user.is_empty() {
            return Err("the URL names no user".into());
        }
        let mailbox = match decode(u.path().trim_start_matches('/')) {
            m if m.is_empty() => "INBOX".to_string(),
            m => m,
        };
        if mailbox.contains(['"', '\\', '\r', '\n']) {
            return Err("the mailbox name has a quote, backslash or line break".into());
        }
        Ok(ImapUrl { tls, host, port: u.port().unwrap_or(if tls { 993 } else { 143 }), user, password, mailbox })
    }
}

/// What went wrong talking to the IMAP server (never holds the password).
#[derive(Debug, thiserror::Error)]
#[error("IMAP: {0}")]
pub struct ImapError(String);

fn imap_err(what: &str) -> impl Fn(async_imap::error::Error) -> ImapError + '_ {
    move |e| ImapError(format!("{what}: {e}"))
}

/// A connection, plain or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Io for T {}

/// A logged-in session with the mailbox selected.
pub type ImapSession = Session<Box<dyn Io>>;

async fn within<T, E: fmt::Display>(
    what: &str,
    limit: Duration,
    f: impl Future<Output = Result<T, E>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r.map_err(|e| ImapError(format!("{what}: {e}"))),
        Err(_) => Err(ImapError(format!("{what}: timed out after {} s", limit.as_secs()))),
    }
}

/// Connects, logs in and selects the mailbox.
pub async fn connect(url: &ImapUrl) -> Result<ImapSession, ImapError> {
    let tcp = within("connect", CONNECT_TIMEOUT, tokio::net::TcpStream::connect((url.host.as_str(), url.port))).await?;
    let io: Box<dyn Io> = if url.tls {
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ImapError(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(url.host.clone())
            .map_err(|e| ImapError(format!("TLS server name: {e}")))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        Box::new(within("TLS", CONNECT_TIMEOUT, connector.connect(name, tcp)).await?)
    } else {
        Box::new(tcp)
    };
    let mut client = async_imap::Client::new(io);
    within("greeting", CONNECT_TIMEOUT, client.read_response()).await?;
    let mut session = match tokio::time::timeout(CONNECT_TIMEOUT, client.login(&url.user, &url.password)).await {
        Ok(Ok(s)) => s,
        Ok(Err((e, _))) => return Err(ImapError(format!("login: {e}"))),
        Err(_) => return Err(ImapError("login: timed out".into())),
    };
    within("select", COMMAND_TIMEOUT, session.select(&url.mailbox)).await?;
    Ok(session)
}

/// What one pass over the mailbox did.
#[derive(Debug, Default)]
pub struct PollReport {
    /// Each handled message's outcome, in UID order.
    pub outcomes: Vec<Outcome>,
    /// Messages over the size limit, flagged without being fetched.
    pub too_large: usize,
    /// Messages that could not be read as mail, flagged.
    pub malformed: usize,
}

/// Handles every unseen message of the selected mailbox once, flagging each `\Seen` after it
/// is handled. Stops at the first database failure (that message stays unseen).
pub async fn poll_session(session: &mut ImapSession, handler: &MailIn) -> Result<PollReport, ImapError> {
    let mut uids: Vec<u32> =
        within("search", COMMAND_TIMEOUT, session.uid_search("UNSEEN")).await?.into_iter().collect();
    uids.sort_unstable();
    let mut report = PollReport::default();
    for uid in uids {
        let set = uid.to_string();
        let sizes: Vec<_> = within("fetch size", COMMAND_TIMEOUT, async {
            session.uid_fetch(&set, "(UID RFC822.SIZE)").await?.try_collect::<Vec<_>>().await
        })
        .await?;
        let size = sizes.iter().find_map(|f| f.size).unwrap_or(0) as usize;
        if size > inbound::MAX_RAW {
            tracing::info!(uid, size, outcome = "dropped", "mail in: message over the size limit, not fetched");
            report.too_large += 1;
        } else {
            let fetched: Vec<_> = within("fetch", COMMAND_TIMEOUT, async {
                session.uid_fetch(&set, "(UID BODY.PEEK[])").await?.try_collect::<Vec<_>>().await
            })
            .await?;
            let raw = fetched.iter().find_map(|f| f.body()).unwrap_or_default();
            match handler.deliver(raw).await {
                Ok(o) => report.outcomes.push(o),
                Err(MailInError::Malformed(e)) => {
                    tracing::info!(uid, error = %e, outcome = "dropped", "mail in: unreadable message");
                    report.malformed += 1;
                }
                Err(MailInError::Store(e)) => return Err(ImapError(format!("handling message {uid}: {e}"))),
            }
        }
        within("store flags", COMMAND_TIMEOUT, async {
            session.uid_store(&set, "+FLAGS.SILENT (\\Seen)").await?.try_collect::<Vec<_>>().await
        })
        .await?;
    }
    Ok(report)
}

/// One pass: connect, handle every unseen message, log out (tests and a one-off run).
pub async fn poll_once(url: &ImapUrl, handler: &MailIn) -> Result<PollReport, ImapError> {
    let mut session = connect(url).await?;
    let report = poll_session(&mut session, handler).await;
    let _ = within("logout", CONNECT_TIMEOUT, session.logout()).await;
    report
}

/// Reads the mailbox until `stop` turns true (see the module documentation).
pub async fn run(url: ImapUrl, handler: MailIn, mut stop: tokio::sync::watch::Receiver<bool>) {
    tracing::info!(mailbox = ?url, "mail in: reading the IMAP mailbox");
    while !*stop.borrow() {
        if let Err(e) = session_loop(&url, &handler, &mut stop).await {
            tracing::warn!(error = %e, "mail in: IMAP session failed; reconnecting");
            tokio::select! {
                () = tokio::time::sleep(POLL_EVERY) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

async fn session_loop(
    url: &ImapUrl,
    handler: &MailIn,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<(), ImapError> {
    let mut session = connect(url).await?;
    let idle = within("capabilities", COMMAND_TIMEOUT, session.capabilities()).await?.has_str("IDLE");
    loop {
        let report = poll_session(&mut session, handler).await?;
        if !report.outcomes.is_empty() || report.too_large + report.malformed > 0 {
            tracing::info!(
                handled = report.outcomes.len(),
                too_large = report.too_large,
                malformed = report.malformed,
                "mail in: mailbox read"
            );
        }
        if *stop.borrow() {
            let _ = within("logout", CONNECT_TIMEOUT, session.logout()).await;
            return Ok(());
        }
        if idle {
            let mut handle = session.idle();
            handle.init().await.map_err(imap_err("idle"))?;
            {
                let (wait, _interrupt) = handle.wait_with_timeout(IDLE_MAX);
                tokio::select! {
                    r = wait => { r.map_err(imap_err("idle"))?; }
                    _ = stop.changed() => {}
                }
            }
            session = within("idle done", COMMAND_TIMEOUT, handle.done()).await?;
        } else {
            tokio::select! {
                () = tokio::time::sleep(POLL_EVERY) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_urls() {
        let u = ImapUrl::parse("imaps://mail%40x.example:s3cr%2Ft@imap.example.com/Support").unwrap();
        assert_eq!((u.tls, u.port, u.user.as_str(), u.password.as_str()), (true, 993, "mail@x.example", "s3cr/t"));
        assert_eq!(u.mailbox, "Support");
        let debug = format!("{u:?}");
        assert!(!debug.contains("s3cr") && !debug.contains("mail@"), "{debug}");
        let local = ImapUrl::parse("imap://t:p@127.0.0.1:1143").unwrap();
        assert_eq!((local.tls, local.port, local.mailbox.as_str()), (false, 1143, "INBOX"));
        for bad in
            ["imap://u:hunter2@mail.example.com/INBOX", "https://u:hunter2@x.example", "imaps://x.example", "nope"]
        {
            let e = ImapUrl::parse(bad).unwrap_err();
            assert!(!e.contains("hunter2"), "{e}");
        }
    }
}
