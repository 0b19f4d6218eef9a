//! Mail in: one inbound message, from the IMAP poller ([`imap`]) or `atrium mail-in` (an MTA's
//! pipe delivery), becomes a Reply by its sender on the thread its reply address names, a new
//! ticket, a mail held for staff, or nothing.
//!
//! [`MailIn::deliver`] parses the raw bytes (`atrium_mail::inbound`, bounded by
//! [`MAX_RAW`](atrium_mail::inbound::MAX_RAW)), finds our recipient (a reply address or the
//! bare inbound address; neither → [`Outcome::UnknownRecipient`]), claims the message once
//! (by Message-ID, else by the SHA-256 of its bytes), drops auto-replies, bounces and tampered
//! tokens (logged and counted, never answered, never held: no loops), and otherwise resolves the
//! sender through the store's `mail_in()` principal. A verified reply is posted with the
//! sender's own `Actor` through the normal store functions — always `Visibility::Reply` on a
//! task (staff replying by mail too; a note is never made by mail), the thread's channel in a
//! conversation — so the store refuses whatever the sender could not do in the portal (a
//! thread hidden from them, a staff channel, a viewer's comment), and such mail is held.

pub mod imap;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use atrium_core::Error;
use atrium_core::ids::{CommentId, FileId, MessageId, ProjectId, TicketCommentId, TicketId};
use atrium_core::model::Visibility;
use atrium_core::policy::Actor;
use atrium_core::validate::BODY_MAX;
use atrium_mail::inbound::{self, Inbound, InboundError, Recipient};
use atrium_store::Store;
use atrium_store::blobs::Blobs;
use atrium_store::mail_in::{HoldReason, Replier, Thread};

use crate::api::files::UploadTo;
use crate::config::WebConfig;

/// Mail dropped (auto-replies, bounces, bad tokens) since the process started.
pub static DROPPED: AtomicU64 = AtomicU64::new(0);

/// What became of one inbound message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Posted as a comment on a task.
    Comment(CommentId, Vec<FileId>),
    /// Posted as a message in a project's conversation.
    Message(MessageId, Vec<FileId>),
    /// Posted as a Reply on a ticket.
    TicketComment(TicketCommentId, Vec<FileId>),
    /// A new ticket, opened by a known client user writing to the bare address.
    Ticket(TicketId),
    /// Held for staff.
    Held(HoldReason),
    /// Dropped: an auto-reply, a bounce, or a token whose signature failed.
    Dropped(&'static str),
    /// Handled before (the same Message-ID, or the same bytes).
    Duplicate,
    /// Addressed to neither the inbound address nor a reply address of it.
    UnknownRecipient,
}

/// Why a message could not be taken at all.
#[derive(Debug, thiserror::Error)]
pub enum MailInError {
    /// Not a readable message, or over the size limit.
    #[error(transparent)]
    Malformed(#[from] InboundError),
    /// The database failed; the message was not claimed and can be delivered again.
    #[error(transparent)]
    Store(#[from] Error),
}

/// The inbound mail handler.
#[derive(Clone)]
pub struct MailIn {
    store: Store,
    blobs: Blobs,
    config: Arc<WebConfig>,
    address: inbound::InboundAddress,
}

impl MailIn {
    /// A handler for the configured inbound address; `None` without one.
    pub fn new(store: Store, blobs: Blobs, config: Arc<WebConfig>) -> Option<Self> {
        let address = config.inbound.clone()?;
        Some(MailIn { store, blobs, config, address })
    }

    /// Handles one raw RFC 5322 message (see the module documentation).
    pub async fn deliver(&self, raw: &[u8]) -> Result<Outcome, MailInError> {
        let mail = inbound::parse(raw)?;
        let Some(recipient) = self.address.recipient(&mail.recipients) else {
            return Ok(Outcome::UnknownRecipient);
        };
        let key = match &mail.message_id {
            Some(id) => format!("id:{id}"),
            None => {
                use sha2::Digest;
                format!("raw:{}", hex::encode(sha2::Sha256::digest(raw)))
            }
        };
        let principal = self.store.mail_in();
        if !principal.claim(&key).await? {
            tracing::info!(outcome = "duplicate", "mail in: already handled");
            return Ok(Outcome::Duplicate);
        }
        let outcome = match self.place(&mail, recipient).await {
            Ok(o) => o,
            Err(e) => {
                // A database failure: give the claim back so the next delivery handles it.
                let _ = principal.release(&key).await;
                return Err(e.into());
            }
        };
        let recorded = match &outcome {
            Outcome::Comment(..) | Outcome::Message(..) | Outcome::TicketComment(..) => "posted".to_string(),
            Outcome::Ticket(_) => "ticket".to_string(),
            Outcome::Held(r) => format!("held:{}", r.as_str()),
            Outcome::Dropped(why) => format!("dropped:{why}"),
            Outcome::Duplicate | Outcome::UnknownRecipient => "none".to_string(),
        };
        principal.record(&key, &recorded).await?;
        Ok(outcome)
    }

    async fn place(&self, mail: &Inbound, recipient: Recipient) -> Result<Outcome, Error> {
        let from = mail.from.as_deref().unwrap_or_default();
        if let Some(why) = mail.automatic {
            return Ok(drop_mail(why));
        }
        let principal = self.store.mail_in();
        match recipient {
            Recipient::Reply(token) => match principal.replier(&token, from, mail.sender.as_deref()).await? {
                Replier::BadToken => Ok(drop_mail("bad token")),
                Replier::Refused(reason) => self.hold(mail, reason).await,
                Replier::Verified(actor, thread) => match self.post(&actor, thread, mail).await {
                    Ok(o) => Ok(o),
                    Err(Error::Internal(e)) => Err(Error::Internal(e)),
                    Err(e) => {
                        tracing::info!(outcome = "held", user = %actor.user_id(), error = %e, "mail in: the store refused the reply");
                        self.hold(mail, HoldReason::NotPlaced).await
                    }
                },
            },
            Recipient::Bare => match principal.sender(from).await? {
                None => self.hold(mail, HoldReason::UnknownSender).await,
                // A known client user opens a ticket, through the same store call (and so the
                // same policy) as the portal's form; staff and whoever may not open one are
                // held for staff.
                Some(actor) if actor.is_staff() => self.hold(mail, HoldReason::NoTicket).await,
                Some(actor) => {
                    let subject = match mail.subject.trim() {
                        "" => "(no subject)".to_string(),
                        s => s.chars().take(atrium_core::validate::TITLE_MAX).collect(),
                    };
                    let n = atrium_store::tickets::NewTicket { subject, body: body_of(mail), ..Default::default() };
                    match self.store.create_ticket(&actor, n, None).await {
                        Ok(t) => {
                            tracing::info!(outcome = "ticket", ticket = %t.id, "mail in: ticket opened");
                            Ok(Outcome::Ticket(t.id))
                        }
                        Err(Error::Internal(e)) => Err(Error::Internal(e)),
                        Err(e) => {
                            tracing::info!(outcome = "held", user = %actor.user_id(), error = %e, "mail in: no ticket opened");
                            self.hold(mail, HoldReason::NoTicket).await
                        }
                    }
                }
            },
        }
    }

    async fn hold(&self, mail: &Inbound, reason: HoldReason) -> Result<Outcome, Error> {
        let from = mail.from.as_deref().unwrap_or_default();
        let id = self.store.mail_in().hold(from, &mail.subject, &mail.text, reason).await?;
        tracing::info!(outcome = "held", held = %id, reason = reason.as_str(), "mail in: held for staff");
        Ok(Outcome::Held(reason))
    }

    /// Posts the reply as `actor` on `thread`, then its attachments as files of the thread's
    /// project (each dropped, and logged, if the sender may not upload there or it is over
    /// the limits).
    async fn post(&self, actor: &Actor, thread: Thread, mail: &Inbound) -> Result<Outcome, Error> {
        let body = body_of(mail);
        match thread {
            Thread::Task(task) => {
                let c = self.store.create_comment(actor, task, body, Visibility::Reply, None).await?;
                let project = self.store.task(&actor.work_scope(), task).await?.task.project_id;
                let files = self.attach(actor, project, mail).await;
                tracing::info!(outcome = "posted", comment = %c.id, files = files.len(), "mail in: reply posted");
                Ok(Outcome::Comment(c.id, files))
            }
            Thread::Conversation(project, channel) => {
                let m = self.store.create_message(actor, project, channel, body, None).await?;
                let files = self.attach(actor, project, mail).await;
                tracing::info!(outcome = "posted", message = %m.id, files = files.len(), "mail in: reply posted");
                Ok(Outcome::Message(m.id, files))
            }
            Thread::Ticket(ticket) => {
                let c = self.store.create_ticket_comment(actor, ticket, body, Visibility::Reply, None).await?;
                let project = self.store.ticket(&actor.ticket_scope(), ticket).await?.project_id;
                let files = match project {
                    Some(p) => self.attach(actor, p, mail).await,
                    None => Vec::new(),
                };
                tracing::info!(outcome = "posted", ticket_comment = %c.id, files = files.len(), "mail in: ticket reply posted");
                Ok(Outcome::TicketComment(c.id, files))
            }
        }
    }

    async fn attach(&self, actor: &Actor, project: ProjectId, mail: &Inbound) -> Vec<FileId> {
        if mail.attachments_dropped > 0 {
            tracing::info!(dropped = mail.attachments_dropped, "mail in: attachments over the count limit dropped");
        }
        let mut out = Vec::new();
        for a in &mail.attachments {
            match self.attach_one(actor, project, a).await {
                Ok(id) => out.push(id),
                Err(e) => tracing::info!(error = %e, size = a.bytes.len(), "mail in: attachment dropped"),
            }
        }
        out
    }

    async fn attach_one(&self, actor: &Actor, project: ProjectId, a: &inbound::Attachment) -> Result<FileId, Error> {
        let target = self.store.upload_target(actor, project, None, self.config.client_quota).await?;
        let name = atrium_store::files::check_name("file", &a.name)?;
        let to = UploadTo { store: &self.store, blobs: &self.blobs, max_upload: self.config.max_upload };
        let body = futures_util::stream::iter([Ok::<_, Error>(bytes::Bytes::copy_from_slice(&a.bytes))]);
        Ok(to.put(actor, &target, &name, body, None).await?.id)
    }
}

fn drop_mail(why: &'static str) -> Outcome {
    DROPPED.fetch_add(1, Ordering::Relaxed);
    tracing::info!(outcome = "dropped", reason = why, "mail in: dropped");
    Outcome::Dropped(why)
}

/// The text to post: the reply without quoted history, cut to the comment limit
/// ([`BODY_MAX`]) with a note when longer (truncated, not refused: the sender cannot fix a
/// mail they already sent).
fn body_of(mail: &Inbound) -> String {
    const NOTE: &str = "\n\n[…] (cut: the mail was longer than a comment may be)";
    if mail.text.chars().count() <= BODY_MAX {
        return mail.text.clone();
    }
    let mut out: String = mail.text.chars().take(BODY_MAX - NOTE.chars().count()).collect();
    out.push_str(NOTE);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_mail_is_cut_to_the_comment_limit() {
        let raw = format!("From: a@b.example\r\nTo: s@p.example\r\n\r\n{}", "x".repeat(BODY_MAX * 2));
        let m = inbound::parse(raw.as_bytes()).unwrap();
        let body = body_of(&m);
        assert_eq!(body.chars().count(), BODY_MAX);
        assert!(body.ends_with("comment may be)"));
    }
}
