//! Atrium's mail: each message is a template with a subject, a plain-text and an HTML body, and
//! goes out through one [`Mailer`]. By default mail is written as `.eml` files into the outbox
//! folder of the data dir, so nothing is lost and a demo works offline.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncTransport, Tokio1Executor};

pub mod templates;

/// A rendered message ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// What can go wrong while sending.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The message could not be built (bad address...).
    #[error("cannot build message: {0}")]
    Build(String),
    /// The transport refused it.
    #[error("cannot deliver message: {0}")]
    Transport(String),
    /// A template failed to render.
    #[error("cannot render template: {0}")]
    Render(#[from] askama::Error),
}

/// Messages kept by a memory mailer (tests).
pub type MailLog = Arc<Mutex<Vec<Mail>>>;

enum Transport {
    Outbox(AsyncFileTransport<Tokio1Executor>),
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
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish()
    }
}

impl Mailer {
    /// Writes every message as an `.eml` file into `dir` (created if missing).
    pub fn outbox(from: &str, dir: PathBuf) -> Result<Self, MailError> {
        std::fs::create_dir_all(&dir).map_err(|e| MailError::Transport(format!("{}: {e}", dir.display())))?;
        Ok(Mailer { from: parse_from(from)?, transport: Arc::new(Transport::Outbox(AsyncFileTransport::new(dir))) })
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
                let to: Mailbox = mail.to.parse().map_err(|e| MailError::Build(format!("{e}")))?;
                let msg = lettre::Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(mail.subject)
                    .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
                    .map_err(|e| MailError::Build(e.to_string()))?;
                t.send(msg).await.map(|_| ()).map_err(|e| MailError::Transport(e.to_string()))
            }
        }
    }
}

fn parse_from(from: &str) -> Result<Mailbox, MailError> {
    from.parse().map_err(|e| MailError::Build(format!("from address {from:?}: {e}")))
}

/// Renders a template pair into a [`Mail`].
pub fn render<T: Template, H: Template>(to: &str, subject: String, text: &T, html: &H) -> Result<Mail, MailError> {
    Ok(Mail { to: to.to_string(), subject, text: text.render()?, html: html.render()? })
}
