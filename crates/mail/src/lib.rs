//! Atrium's mail. Each message is a [`templates`] function producing a [`Mail`] (subject,
//! plain-text and HTML body, optional one-click unsubscribe URL); a `Mail` is serializable, so it
//! can wait in a job queue. One [`Mailer`] sends it: by default as `.eml` files into the outbox
//! folder of the data dir, so nothing is lost and a demo works offline, or through an SMTP server
//! with [`Mailer::smtp`]. [`MailError::is_permanent`] tells a retrying caller when to give up.
//!
//! Feature `test-sink` adds `sink`, a loopback SMTP server that decodes what it receives, for
//! tests of this and other crates.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use askama::Template;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

pub mod inbound;
#[cfg(feature = "test-sink")]
pub mod sink;
pub mod templates;

/// How long one SMTP connect or command may take before the send fails (transiently).
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A rendered message ready to send; serializable so it can be a job payload.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Absolute `http(s)` URL that unsubscribes the recipient in one click (RFC 8058); sent as
    /// `List-Unsubscribe` and `List-Unsubscribe-Post` headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe: Option<String>,
    /// The sender's display name (the agency's); the address is always the configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    /// `Message-ID` with its angle brackets; when `None` one is made on the sender's domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The stable id of the thread the mail is about (`<task-…@host>`), sent as `In-Reply-To`
    /// and `References` so mail clients group a thread's notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// `Reply-To` address (the signed `<local>+<token>@<domain>` of the inbound address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// What can go wrong while sending.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The message could not be built (bad address...).
    #[error("cannot build message: {0}")]
    Build(String),
    /// The mailer is misconfigured (bad SMTP URL...).
    #[error("invalid mail configuration: {0}")]
    Config(String),
    /// The transport refused it (outbox folder...).
    #[error("cannot deliver message: {0}")]
    Transport(String),
    /// The SMTP server refused the message, or could not be reached.
    #[error("cannot deliver message over SMTP: {message}")]
    Smtp {
        /// The server's reply code, when it answered with an error.
        code: Option<u16>,
        /// Whether sending the same message again cannot succeed.
        permanent: bool,
        /// What went wrong (never contains credentials).
        message: String,
    },
    /// A template failed to render.
    #[error("cannot render template: {0}")]
    Render(#[from] askama::Error),
}

impl MailError {
    /// True when retrying the same message cannot help: bad addresses, unbuildable or unrenderable
    /// messages, a bad configuration, and SMTP 5xx replies to the message. Connection errors,
    /// timeouts, TLS errors, 4xx replies and authentication failures (5xx to `AUTH`, which a fixed
    /// configuration cures) are transient.
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Build(_) | MailError::Config(_) | MailError::Render(_) => true,
            MailError::Transport(_) => false,
            MailError::Smtp { permanent, .. } => *permanent,
        }
    }

    fn smtp(e: &lettre::transport::smtp::Error) -> Self {
        let code = e.status().map(u16::from);
        // RFC 4954 authentication replies: the account, not the message, is the problem.
        let auth = matches!(code, Some(530 | 534 | 535 | 538));
        MailError::Smtp { code, permanent: e.is_permanent() && !auth, message: e.to_string() }
    }
}

/// Messages kept by a memory mailer (tests).
pub type MailLog = Arc<Mutex<Vec<Mail>>>;

enum Transport {
    Outbox(AsyncFileTransport<Tokio1Executor>),
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The server URL without credentials, for `Debug`.
        server: String,
    },
    Memory(MailLog),
}

/// Sends mail from the agency's address.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Arc<Transport>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match &*self.transport {
            Transport::Outbox(_) => "outbox",
            Transport::Smtp { server, .. } => server,
            Transport::Memory(_) => "memory",
        };
        f.debug_struct("Mailer").field("from", &self.from.to_string()).field("transport", &transport).finish()
    }
}

impl Mailer {
    /// Writes every message as an `.eml` file into `dir` (created if missing).
    pub fn outbox(from: &str, dir: PathBuf) -> Result<Self, MailError> {
        std::fs::create_dir_all(&dir).map_err(|e| MailError::Transport(format!("{}: {e}", dir.display())))?;
        Ok(Mailer { from: parse_from(from)?, transport: Arc::new(Transport::Outbox(AsyncFileTransport::new(dir))) })
    }

    /// Sends through the SMTP server at `url`: `smtp://host:25` (plain, for a local relay),
    /// `smtp://host:587?tls=required` (STARTTLS) or `smtps://host:465` (TLS), with optional
    /// percent-encoded `user:password@` credentials. Each connect and command times out after
    /// [`SMTP_TIMEOUT`].
    pub fn smtp(from: &str, url: &str) -> Result<Self, MailError> {
        let from = parse_from(from)?;
        let server = redact(url);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Config(format!("SMTP URL {server}: {e}")))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Mailer { from, transport: Arc::new(Transport::Smtp { transport, server }) })
    }

    /// Keeps messages in memory (tests); returns the mailer and the shared list.
    pub fn memory(from: &str) -> Result<(Self, MailLog), MailError> {
        let list = Arc::new(Mutex::new(Vec::new()));
        Ok((Mailer { from: parse_from(from)?, transport: Arc::new(Transport::Memory(list.clone())) }, list))
    }

    /// Sends one message.
    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        match &*self.transport {
            Transport::Memory(list) => {
                list.lock().map_err(|_| MailError::Transport("poisoned".into()))?.push(mail);
                Ok(())
            }
            Transport::Outbox(t) => {
                let msg = message(&self.from, mail)?;
                t.send(msg).await.map(|_| ()).map_err(|e| MailError::Transport(e.to_string()))
            }
            Transport::Smtp { transport, .. } => {
                let msg = message(&self.from, mail)?;
                transport.send(msg).await.map(|_| ()).map_err(|e| MailError::smtp(&e))
            }
        }
    }
}

/// Builds the MIME message every transport but memory sends.
fn message(from: &Mailbox, mail: Mail) -> Result<lettre::Message, MailError> {
    let to: Mailbox = mail.to.parse().map_err(|e| MailError::Build(format!("to address {:?}: {e}", mail.to)))?;
    let from = Mailbox::new(mail.from_name.or_else(|| from.name.clone()), from.email.clone());
    let message_id = match mail.message_id {
        Some(id) => message_id_value(&id)?,
        None => new_message_id(from.email.domain()),
    };
    let mut builder = lettre::Message::builder().from(from).to(to).subject(mail.subject).message_id(Some(message_id));
    if let Some(thread) = &mail.thread_id {
        let thread = message_id_value(thread)?;
        builder = builder.in_reply_to(thread.clone()).references(thread);
    }
    if let Some(reply_to) = &mail.reply_to {
        let mbox: Mailbox =
            reply_to.parse().map_err(|e| MailError::Build(format!("reply-to address {reply_to:?}: {e}")))?;
        builder = builder.reply_to(mbox);
    }
    if let Some(url) = &mail.unsubscribe {
        builder = builder.header(ListUnsubscribe(unsubscribe_url(url)?)).header(ListUnsubscribePost);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
        .map_err(|e| MailError::Build(e.to_string()))
}

/// A new unique `Message-ID` (`<uuid@domain>`) on `domain`.
pub fn new_message_id(domain: &str) -> String {
    format!("<{}@{domain}>", uuid::Uuid::now_v7().simple())
}

/// Checks a message id given for a header: `<left@right>`, visible ASCII, no spaces or
/// further brackets, so it can never break a header line.
fn message_id_value(id: &str) -> Result<String, MailError> {
    let inner = id.strip_prefix('<').and_then(|s| s.strip_suffix('>'));
    match inner {
        Some(i) if i.contains('@') && i.bytes().all(|b| b.is_ascii_graphic() && !b"<>\\\"".contains(&b)) => {
            Ok(id.to_string())
        }
        _ => Err(MailError::Build(format!("message id {id:?} is not <left@right>"))),
    }
}

/// Checks an unsubscribe URL and returns it normalized: ASCII, no spaces, no `<` or `>`, so it
/// can stand between angle brackets in a header.
fn unsubscribe_url(url: &str) -> Result<String, MailError> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(u.into()),
        _ => Err(MailError::Build(format!("unsubscribe URL {url:?} is not an absolute http(s) URL"))),
    }
}

type HeaderError = Box<dyn std::error::Error + Send + Sync>;

/// `List-Unsubscribe: <url>` (RFC 2369).
#[derive(Clone, Debug)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, HeaderError> {
        let url = s.trim().strip_prefix('<').and_then(|s| s.strip_suffix('>'));
        url.map(|u| ListUnsubscribe(u.to_string())).ok_or_else(|| "expected <url>".into())
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone, Debug)]
struct ListUnsubscribePost;

impl ListUnsubscribePost {
    const VALUE: &str = "List-Unsubscribe=One-Click";
}

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(s: &str) -> Result<Self, HeaderError> {
        if s.trim() == Self::VALUE {
            Ok(ListUnsubscribePost)
        } else {
            Err("expected List-Unsubscribe=One-Click".into())
        }
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), Self::VALUE.to_string())
    }
}

fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.parse().map_err(|e| MailError::Build(format!("from address {from:?}: {e}")))
}

/// `url` without its user name and password; never echoes an unparsable URL, which may hold them.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            // Both fail only for URLs without a host, which have no credentials either.
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "(unparsable URL)".to_string(),
    }
}

/// Renders a template pair into a [`Mail`].
pub fn render<T: Template, H: Template>(to: &str, subject: String, text: &T, html: &H) -> Result<Mail, MailError> {
    Ok(Mail {
        to: to.to_string(),
        subject,
        text: text.render()?,
        html: html.render()?,
        unsubscribe: None,
        from_name: None,
        message_id: None,
        thread_id: None,
        reply_to: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_debug_hides_credentials() {
        let m = Mailer::smtp("Atrium <portal@agency.test>", "smtps://mailer:s3cr%40t@smtp.example.com:465").unwrap();
        let debug = format!("{m:?}");
        assert!(!debug.contains("s3cr"), "{debug}");
        assert!(!debug.contains("mailer:"), "{debug}");
        assert!(debug.contains("smtp.example.com"), "{debug}");
    }

    #[test]
    fn smtp_urls() {
        let from = "portal@agency.test";
        assert!(Mailer::smtp(from, "smtp://127.0.0.1:2525").is_ok());
        assert!(Mailer::smtp(from, "smtp://user:pw@smtp.example.com:587?tls=required").is_ok());
        let err = Mailer::smtp(from, "ftp://user:hunter2@example.com").unwrap_err();
        assert!(err.is_permanent());
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = Mailer::smtp(from, "not a url hunter2").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    fn mail(to: &str) -> Mail {
        Mail {
            to: to.into(),
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
            unsubscribe: None,
            from_name: None,
            message_id: None,
            thread_id: None,
            reply_to: None,
        }
    }

    fn formatted(mail: Mail) -> Result<String, MailError> {
        let from: Mailbox = "portal@agency.test".parse().unwrap();
        Ok(String::from_utf8(message(&from, mail)?.formatted()).unwrap())
    }

    #[test]
    fn bad_recipient_is_permanent() {
        let err = formatted(mail("not an address")).unwrap_err();
        assert!(err.is_permanent());
    }

    #[test]
    fn unsubscribe_headers() {
        let url = "https://p.example/unsubscribe/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let raw = formatted(Mail { unsubscribe: Some(url.into()), ..mail("a@x.io") }).unwrap();
        assert!(raw.contains(&format!("List-Unsubscribe: <{url}>\r\n")), "{raw}");
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), "{raw}");
        assert!(!formatted(mail("a@x.io")).unwrap().contains("List-Unsubscribe"));
        for bad in ["/relative", "mailto:x@y.z", "https://x.io/a>\r\nBcc: e@vil.io", "javascript:alert(1)"] {
            let raw = formatted(Mail { unsubscribe: Some(bad.into()), ..mail("a@x.io") });
            assert!(raw.as_ref().map_or(true, |r| !r.contains("\r\nBcc:")), "{bad}: {raw:?}");
        }
        assert!(formatted(Mail { unsubscribe: Some("mailto:x@y.z".into()), ..mail("a@x.io") }).is_err());
    }

    #[test]
    fn threading_headers() {
        let raw = formatted(mail("a@x.io")).unwrap();
        assert!(raw.contains("Message-ID: <") && raw.contains("@agency.test>\r\n"), "{raw}");
        assert!(!raw.contains("In-Reply-To") && !raw.contains("Reply-To"), "{raw}");
        let m = Mail {
            message_id: Some("<m1@p.example>".into()),
            thread_id: Some("<task-1@p.example>".into()),
            reply_to: Some("support+abc@p.example".into()),
            ..mail("a@x.io")
        };
        let raw = formatted(m).unwrap();
        assert!(raw.contains("Message-ID: <m1@p.example>\r\n"), "{raw}");
        assert!(raw.contains("In-Reply-To: <task-1@p.example>\r\n"), "{raw}");
        assert!(raw.contains("References: <task-1@p.example>\r\n"), "{raw}");
        assert!(raw.contains("Reply-To: support+abc@p.example\r\n"), "{raw}");
        for bad in ["no-brackets@x", "<a b@x>", "<x>\r\nBcc: e@vil.io", "<noat>"] {
            assert!(formatted(Mail { thread_id: Some(bad.into()), ..mail("a@x.io") }).is_err(), "{bad}");
        }
    }

    #[test]
    fn mail_is_a_serializable_payload() {
        let m = Mail { unsubscribe: Some("https://p.example/u/t".into()), ..mail("a@x.io") };
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Mail>(&json).unwrap(), m);
        let old = r#"{"to":"a@x.io","subject":"s","text":"t","html":"h"}"#;
        assert_eq!(serde_json::from_str::<Mail>(old).unwrap(), mail("a@x.io"));
    }
}
