//! Mail in: reply addresses and what the inbound mail handler may ask.
//!
//! A notification mail's Reply-To is `<local>+<token>@<domain>`. The token is
//! [`TOKEN_LEN`] lower-case hex characters: a random 80-bit key naming one row of
//! `mail_reply_keys` (recipient and [`Thread`], one key per pair), then the first 64 bits of
//! HMAC-SHA256 over the key with the instance's own `mail-reply` secret (separate from the
//! unsubscribe key). A self-contained token (two UUIDs, a kind and a MAC) would not fit
//! RFC 5321's 64-octet local part next to `support+`. The MAC is checked in constant time
//! before the key is looked up, so a tampered token costs no query and confirms nothing.
//!
//! The [`MailIn`] principal (`store.mail_in()`) is the inbound handler's: it claims each
//! message once (`mail_in_seen`), resolves a reply's token into the replier's [`Actor`] —
//! built like session resolution's, with their client's portal pages — and holds mail for
//! staff (`held_mails`). Posting is done with that actor through the normal store functions,
//! so every visibility and policy rule holds by construction.

use atrium_core::ids::{HeldMailId, ProjectId, TaskId, TicketId, UserId};
use atrium_core::model::{Channel, NotificationSubject};
use atrium_core::policy::Actor;
use atrium_core::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::{held_mail, mail_in_seen, mail_reply_key};
use crate::system::{JobRunner, MailIn};

/// Characters of a reply token: 20 hex of key, 16 hex of MAC.
pub const TOKEN_LEN: usize = 36;
const KEY_HEX: usize = 20;
const MAC_BYTES: usize = 8;
/// Characters of a held mail's excerpt.
pub const HELD_EXCERPT_MAX: usize = 2_000;
/// At most this many held mails are listed (oldest are dropped from view, not deleted).
pub const HELD_LIST_MAX: u64 = 200;

/// A conversation a reply address names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Thread {
    /// A task's comments.
    Task(TaskId),
    /// A project's conversation in one channel.
    Conversation(ProjectId, Channel),
    /// A help-desk ticket.
    Ticket(TicketId),
}

impl Thread {
    fn kind(self) -> &'static str {
        match self {
            Thread::Task(_) => "task",
            Thread::Conversation(_, Channel::Client) => "messages",
            Thread::Conversation(_, Channel::Staff) => "staff-messages",
            Thread::Ticket(_) => "ticket",
        }
    }

    fn uuid(self) -> Uuid {
        match self {
            Thread::Task(t) => t.0,
            Thread::Conversation(p, _) => p.0,
            Thread::Ticket(t) => t.0,
        }
    }

    fn from_row(kind: &str, id: Uuid) -> Result<Thread> {
        Ok(match kind {
            "task" => Thread::Task(TaskId(id)),
            "messages" => Thread::Conversation(ProjectId(id), Channel::Client),
            "staff-messages" => Thread::Conversation(ProjectId(id), Channel::Staff),
            "ticket" => Thread::Ticket(TicketId(id)),
            other => return Err(Error::internal_msg(format!("reply key of unknown thread kind {other:?}"))),
        })
    }

    /// The stable message id that names the thread in `In-Reply-To` and `References`
    /// (`<task-<uuid>@host>`), so mail clients group the thread's notifications.
    pub fn header_id(self, host: &str) -> String {
        format!("<{}-{}@{host}>", self.kind(), self.uuid().simple())
    }

    /// The thread a notification is about, if it is one people can reply to.
    pub(crate) fn of_notification(subject: NotificationSubject, subject_id: &str, url: &str) -> Option<Thread> {
        let id = Uuid::parse_str(subject_id).ok()?;
        match subject {
            NotificationSubject::Task => Some(Thread::Task(TaskId(id))),
            // `Target::path` names the staff channel in the URL; the row keeps no channel.
            NotificationSubject::Project if url.contains("channel=staff") => {
                Some(Thread::Conversation(ProjectId(id), Channel::Staff))
            }
            NotificationSubject::Project => Some(Thread::Conversation(ProjectId(id), Channel::Client)),
            NotificationSubject::Ticket => Some(Thread::Ticket(TicketId(id))),
            NotificationSubject::Approval | NotificationSubject::Invoice => None,
        }
    }
}

/// Why mail in held a mail for staff instead of posting it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldReason {
    /// Mail to the bare address from an address that is no active user's.
    UnknownSender,
    /// The reply's sender is not the user its (valid) token names.
    WrongSender,
    /// The token's user is deactivated or their client deleted.
    NoAccess,
    /// The thread is gone or its sender may not post there (any more).
    NotPlaced,
    /// Mail to the bare address from a known user who cannot open a ticket (staff, a viewer, a
    /// client whose portal hides the Help desk).
    NoTicket,
}

impl HoldReason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::UnknownSender => "unknown_sender",
            HoldReason::WrongSender => "wrong_sender",
            HoldReason::NoAccess => "no_access",
            HoldReason::NotPlaced => "not_placed",
            HoldReason::NoTicket => "no_ticket",
        }
    }

    /// What staff read.
    pub fn label(self) -> &'static str {
        match self {
            HoldReason::UnknownSender => "Unknown sender",
            HoldReason::WrongSender => "Sender is not the person the reply address belongs to",
            HoldReason::NoAccess => "The person has no access (deactivated, or their client was deleted)",
            HoldReason::NotPlaced => "The thread is gone or hidden from the sender",
            HoldReason::NoTicket => "Not a client user, so no ticket was opened",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        [Self::UnknownSender, Self::WrongSender, Self::NoAccess, Self::NotPlaced, Self::NoTicket]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::internal_msg(format!("held mail of unknown reason {s:?}")))
    }
}

/// A mail held for staff.
#[derive(Clone, Debug)]
pub struct HeldMail {
    pub id: HeldMailId,
    pub from: String,
    pub subject: String,
    pub excerpt: String,
    pub reason: HoldReason,
    pub received_at: DateTime<Utc>,
}

/// What a reply token resolved to.
#[derive(Debug)]
pub enum Replier {
    /// The token's user, acting, and the thread.
    Verified(Actor, Thread),
    /// The signature failed or the key is unknown: drop the mail.
    BadToken,
    /// A valid token, but another sender or someone without access: hold the mail.
    Refused(HoldReason),
}

impl Store {
    async fn reply_mac(&self, key: &str) -> Result<hmac::Hmac<sha2::Sha256>> {
        use hmac::Mac;
        let secret = self.instance_secret("mail-reply").await?;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).map_err(|e| Error::internal("hmac key", e))?;
        mac.update(format!("mail-reply:{key}").as_bytes());
        Ok(mac)
    }

    /// Mail held for staff, newest first (at most [`HELD_LIST_MAX`]).
    pub async fn held_mails(&self, actor: &Actor) -> Result<Vec<HeldMail>> {
        actor.may_review_held_mail()?;
        let rows = held_mail::Entity::find()
            .order_by_desc(held_mail::Column::ReceivedAt)
            .limit(HELD_LIST_MAX)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(HeldMail {
                    id: r.id.into(),
                    from: r.from_address,
                    subject: r.subject,
                    excerpt: r.excerpt,
                    reason: HoldReason::parse(&r.reason)?,
                    received_at: r.received_at,
                })
            })
            .collect()
    }

    /// Discards a held mail (audited); `false` when it was gone already (a second click).
    pub async fn discard_held_mail(&self, actor: &Actor, id: HeldMailId, ip: Option<&str>) -> Result<bool> {
        actor.may_review_held_mail()?;
        let tx = self.write_tx().await?;
        let gone = held_mail::Entity::delete_by_id(id.0).exec(&tx).await.map_err(db_err)?;
        if gone.rows_affected == 0 {
            return Ok(false);
        }
        audit::write(&tx, Some(actor), Entry::held_mail(AuditAction::HeldMailDiscard, id, ip)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}

impl JobRunner<'_> {
    /// The reply token for `user` in `thread` (the same every time: one key per pair).
    pub async fn reply_token(self, user: UserId, thread: Thread) -> Result<String> {
        use hmac::Mac;
        let key = match self.reply_key(user, thread).await? {
            Some(k) => k,
            None => {
                let mut bytes = [0u8; KEY_HEX / 2];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
                mail_reply_key::Entity::insert(mail_reply_key::ActiveModel {
                    key: Set(hex::encode(bytes)),
                    user_id: Set(user.0),
                    thread_kind: Set(thread.kind().into()),
                    thread_id: Set(thread.uuid()),
                    created_at: Set(Utc::now()),
                })
                .on_conflict_do_nothing_on([
                    mail_reply_key::Column::UserId,
                    mail_reply_key::Column::ThreadKind,
                    mail_reply_key::Column::ThreadId,
                ])
                .exec_without_returning(&self.store.db)
                .await
                .map_err(db_err)?;
                // A concurrent first use may have won: read the one that is stored.
                self.reply_key(user, thread).await?.ok_or_else(|| Error::internal_msg("reply key missing"))?
            }
        };
        let mac = self.store.reply_mac(&key).await?.finalize().into_bytes();
        Ok(format!("{key}{}", hex::encode(&mac[..MAC_BYTES])))
    }

    async fn reply_key(self, user: UserId, thread: Thread) -> Result<Option<String>> {
        let row = mail_reply_key::Entity::find()
            .filter(mail_reply_key::Column::UserId.eq(user.0))
            .filter(mail_reply_key::Column::ThreadKind.eq(thread.kind()))
            .filter(mail_reply_key::Column::ThreadId.eq(thread.uuid()))
            .one(&self.store.db)
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| r.key))
    }
}

impl MailIn<'_> {
    /// Claims an inbound message by `key` (its Message-ID, or a hash of its bytes): `false`
    /// when it was claimed before, so each message is handled once, however often an IMAP
    /// poll or an MTA delivers it. Claiming comes before posting (the store's posting functions
    /// commit on their own), so a crash in between loses the message rather than posting it
    /// twice; [`MailIn::release`] undoes a claim whose handling failed transiently.
    pub async fn claim(self, key: &str) -> Result<bool> {
        let res = mail_in_seen::Entity::insert(mail_in_seen::ActiveModel {
            key_hash: Set(key_hash(key)),
            outcome: Set("claimed".into()),
            received_at: Set(Utc::now()),
        })
        .on_conflict_do_nothing_on([mail_in_seen::Column::KeyHash])
        .exec_without_returning(&self.store.db)
        .await
        .map_err(db_err)?;
        Ok(matches!(res, sea_orm::TryInsertResult::Inserted(1)))
    }

    /// Records what became of a claimed message (`posted`, `held`, `dropped:<why>`).
    pub async fn record(self, key: &str, outcome: &str) -> Result<()> {
        let mut row: mail_in_seen::ActiveModel = mail_in_seen::Entity::find_by_id(key_hash(key))
            .one(&self.store.db)
            .await
            .map_err(db_err)?
            .ok_or(Error::NotFound)?
            .into();
        row.outcome = Set(outcome.chars().take(32).collect());
        row.update(&self.store.db).await.map_err(db_err)?;
        Ok(())
    }

    /// Gives a claim back after a transient failure, so the next delivery handles it.
    pub async fn release(self, key: &str) -> Result<()> {
        mail_in_seen::Entity::delete_by_id(key_hash(key)).exec(&self.store.db).await.map_err(db_err)?;
        Ok(())
    }

    /// Checks a reply token and its sender: the MAC (constant time), the key, then that
    /// `from` (and `sender`, when the mail names one) is the token user's address
    /// (case-insensitive) and that the user is active and their client not deleted.
    pub async fn replier(self, token: &str, from: &str, sender: Option<&str>) -> Result<Replier> {
        use hmac::Mac;
        let token = token.to_ascii_lowercase();
        if token.len() != TOKEN_LEN || !token.is_ascii() {
            return Ok(Replier::BadToken);
        }
        let (key, mac) = token.split_at(KEY_HEX);
        let Ok(given) = hex::decode(mac) else { return Ok(Replier::BadToken) };
        if hex::decode(key).is_err() || self.store.reply_mac(key).await?.verify_truncated_left(&given).is_err() {
            return Ok(Replier::BadToken);
        }
        let Some(row) = mail_reply_key::Entity::find_by_id(key).one(&self.store.db).await.map_err(db_err)? else {
            return Ok(Replier::BadToken);
        };
        let thread = Thread::from_row(&row.thread_kind, row.thread_id)?;
        let Some(acc) = crate::people::account_by_id(&self.store.db, UserId(row.user_id)).await? else {
            // A client user of a deleted client (or without a membership) has no account.
            return Ok(Replier::Refused(HoldReason::NoAccess));
        };
        let is_user = |a: &str| a.trim().eq_ignore_ascii_case(&acc.user.email);
        if !is_user(from) || sender.is_some_and(|s| !is_user(s)) {
            return Ok(Replier::Refused(HoldReason::WrongSender));
        }
        match self.store.actor_of(acc.user.id).await? {
            Some(actor) => Ok(Replier::Verified(actor, thread)),
            None => Ok(Replier::Refused(HoldReason::NoAccess)),
        }
    }

    /// The acting user a mail from `from` to the bare address comes from: an active user of a
    /// client that is not deleted (staff too; the caller decides what they may open).
    pub async fn sender(self, from: &str) -> Result<Option<Actor>> {
        let email = from.trim().to_lowercase();
        match crate::people::account_by_email(&self.store.db, &email).await? {
            Some(acc) => self.store.actor_of(acc.user.id).await,
            None => Ok(None),
        }
    }

    /// Holds a mail for staff.
    pub async fn hold(self, from: &str, subject: &str, text: &str, reason: HoldReason) -> Result<HeldMailId> {
        let id = HeldMailId::new();
        held_mail::ActiveModel {
            id: Set(id.0),
            from_address: Set(from.chars().take(254).collect()),
            subject: Set(subject.chars().take(300).collect()),
            excerpt: Set(text.chars().take(HELD_EXCERPT_MAX).collect()),
            reason: Set(reason.as_str().into()),
            received_at: Set(Utc::now()),
        }
        .insert(&self.store.db)
        .await
        .map_err(db_err)?;
        Ok(id)
    }
}

/// The stored form of a message's key: its SHA-256 in hex (Message-IDs can be long).
fn key_hash(key: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_round_trip_and_name_stable_header_ids() {
        let t = TaskId::new();
        let p = ProjectId::new();
        for th in [
            Thread::Task(t),
            Thread::Conversation(p, Channel::Client),
            Thread::Conversation(p, Channel::Staff),
            Thread::Ticket(TicketId::new()),
        ] {
            assert_eq!(Thread::from_row(th.kind(), th.uuid()).unwrap(), th);
            assert!(th.kind().len() <= 16);
        }
        assert_eq!(Thread::Task(t).header_id("p.example"), format!("<task-{}@p.example>", t.0.simple()));
        let staff = Thread::of_notification(NotificationSubject::Project, &p.to_string(), "/x?channel=staff");
        assert_eq!(staff, Some(Thread::Conversation(p, Channel::Staff)));
        assert_eq!(Thread::of_notification(NotificationSubject::Invoice, &p.to_string(), "/x"), None);
    }

    #[test]
    fn hold_reasons_round_trip() {
        for r in [
            HoldReason::UnknownSender,
            HoldReason::WrongSender,
            HoldReason::NoAccess,
            HoldReason::NotPlaced,
            HoldReason::NoTicket,
        ] {
            assert_eq!(HoldReason::parse(r.as_str()).unwrap(), r);
            assert!(r.as_str().len() <= 32);
        }
    }
}
