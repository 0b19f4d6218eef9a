//! Notifications: who hears about what, the notification center, per-kind delivery settings,
//! daily digests and signed unsubscribe links. Notifications are written in the same
//! transaction as the change they announce, and so are the mail jobs they need (nothing is
//! lost if the process dies right after).

use std::collections::{HashMap, HashSet};

use atrium_core::ids::{ApprovalId, ClientId, InvoiceId, NotificationId, ProjectId, TaskId, TicketId, UserId};
use atrium_core::live::LiveEvent;
use atrium_core::local_time::{LocalTime, stored_timezone};
use atrium_core::model::{Channel, Delivery, Notification, NotificationKind, NotificationSubject, Role};
use atrium_core::policy::{Actor, PortalPages, person_hears_of, person_receives_invoices, person_sees_work};
use atrium_core::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{instance_secret, membership, notification, notification_pref, user};
use crate::jobs::{NewJob, enqueue};
use crate::paging::{Page, PageRequest, page, page_rows};
use crate::people::account_by_id;
use crate::scoping::deleted_clients;
use crate::system::JobRunner;

/// The job kind that emails one notification.
pub const NOTIFY_JOB: &str = "notify";
/// The job kind that sends the daily digests.
pub const DIGEST_JOB: &str = "digest";

/// A person who may be told about something.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub client_id: Option<ClientId>,
}

/// Active people who can see project work of `client` (`internal`: staff only), by name.
pub(crate) async fn people_seeing<C: ConnectionTrait>(c: &C, client: ClientId, internal: bool) -> Result<Vec<Person>> {
    let mut out = active_people(c, client, !internal).await?;
    out.retain(|p| person_sees_work(p.role, p.client_id, client, internal));
    out.sort_by_key(|p| p.name.to_lowercase());
    Ok(out)
}

/// Active people who are told about `client`'s issued invoices (`policy::person_receives_invoices`).
pub(crate) async fn invoice_recipients<C: ConnectionTrait>(c: &C, client: ClientId) -> Result<Vec<Person>> {
    let mut out = active_people(c, client, true).await?;
    out.retain(|p| person_receives_invoices(p.role, p.client_id, client));
    Ok(out)
}

/// Active staff and the active users of `client`: everyone a ticket of `client` may concern
/// (the ticket code picks its requester, assignee and watchers among them).
pub(crate) async fn staff_and_users_of<C: ConnectionTrait>(c: &C, client: ClientId) -> Result<Vec<Person>> {
    active_people(c, client, true).await
}

/// Active staff, and with `with_client_users` the active users of `client`, unfiltered.
async fn active_people<C: ConnectionTrait>(c: &C, client: ClientId, with_client_users: bool) -> Result<Vec<Person>> {
    let mut out = Vec::new();
    let staff = user::Entity::find()
        .filter(user::Column::StaffRole.is_not_null())
        .filter(user::Column::Active.eq(true))
        .all(c)
        .await
        .map_err(db_err)?;
    for u in staff {
        let role = parse::<Role>("staff role", u.staff_role.as_deref().unwrap_or(""))?;
        out.push(Person { id: u.id.into(), name: u.name, email: u.email, role, client_id: None });
    }
    if with_client_users {
        let members = membership::Entity::find()
            .filter(membership::Column::ClientId.eq(client.0))
            .all(c)
            .await
            .map_err(db_err)?;
        let roles: HashMap<Uuid, String> = members.into_iter().map(|m| (m.user_id, m.role)).collect();
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(roles.keys().copied().collect::<Vec<_>>()))
            .filter(user::Column::Active.eq(true))
            .all(c)
            .await
            .map_err(db_err)?;
        for u in users {
            let role = parse::<Role>("client role", roles.get(&u.id).map(String::as_str).unwrap_or(""))?;
            out.push(Person { id: u.id.into(), name: u.name, email: u.email, role, client_id: Some(client) });
        }
    }
    Ok(out)
}

/// Resolves the `@[Name]` mentions of `body` among the people who can see the thing
/// (SEC-AC-7): a name that matches nobody there is refused, and only staff (who may know
/// everyone) are told that the person exists but cannot see it.
pub(crate) async fn resolve_mentions<C: ConnectionTrait>(
    c: &C,
    actor: &Actor,
    client: ClientId,
    internal: bool,
    body: &str,
) -> Result<Vec<Person>> {
    let names = atrium_core::mention::names(body);
    if names.is_empty() {
        return Ok(vec![]);
    }
    if names.len() > atrium_core::mention::MAX_MENTIONS {
        return Err(Error::invalid("body", "mentions at most 20 people"));
    }
    let seeing = people_seeing(c, client, internal).await?;
    let mut out: Vec<Person> = Vec::new();
    for name in names {
        let found: Vec<&Person> = seeing.iter().filter(|p| p.name.eq_ignore_ascii_case(&name)).collect();
        if found.is_empty() {
            let exists = actor.is_staff()
                && user::Entity::find()
                    .filter(ExprTrait::eq(Expr::expr(Func::lower(Expr::col(user::Column::Name))), name.to_lowercase()))
                    .filter(user::Column::Active.eq(true))
                    .count(c)
                    .await
                    .map_err(db_err)?
                    > 0;
            let what = if internal { "this internal note or message" } else { "this project" };
            return Err(Error::invalid(
                "body",
                if exists {
                    format!("{name} cannot see {what}, so they cannot be mentioned here")
                } else {
                    format!("no one called {name} can be mentioned here")
                },
            ));
        }
        for p in found {
            if p.id != actor.user_id() && !out.iter().any(|o| o.id == p.id) {
                out.push(p.clone());
            }
        }
    }
    Ok(out)
}

/// What a notification points at.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// A task page.
    Task(TaskId),
    /// A project's conversation in a channel.
    Messages(ProjectId, Channel),
    /// An approval request (its pages may not exist yet on every side).
    Approval(ApprovalId),
    /// An issued invoice.
    Invoice(InvoiceId),
    /// A help-desk ticket.
    Ticket(TicketId),
}

impl Target {
    fn subject(self) -> (NotificationSubject, String) {
        match self {
            Target::Task(t) => (NotificationSubject::Task, t.to_string()),
            Target::Messages(p, _) => (NotificationSubject::Project, p.to_string()),
            Target::Approval(a) => (NotificationSubject::Approval, a.to_string()),
            Target::Invoice(i) => (NotificationSubject::Invoice, i.to_string()),
            Target::Ticket(t) => (NotificationSubject::Ticket, t.to_string()),
        }
    }

    /// The path to the thing on the recipient's side of the portal.
    pub fn path(self, staff: bool) -> String {
        match (self, staff) {
            (Target::Task(t), true) => format!("/staff/tasks/{t}"),
            (Target::Task(t), false) => format!("/portal/tasks/{t}"),
            (Target::Messages(p, Channel::Staff), _) => format!("/staff/projects/{p}/messages?channel=staff"),
            (Target::Messages(p, Channel::Client), true) => format!("/staff/projects/{p}/messages"),
            (Target::Messages(p, Channel::Client), false) => format!("/portal/projects/{p}/messages"),
            (Target::Approval(a), true) => format!("/staff/approvals/{a}"),
            (Target::Approval(a), false) => format!("/portal/approvals/{a}"),
            (Target::Invoice(i), true) => format!("/staff/invoices/{i}"),
            (Target::Invoice(i), false) => format!("/portal/billing/{i}"),
            (Target::Ticket(t), true) => format!("/staff/tickets/{t}"),
            (Target::Ticket(t), false) => format!("/portal/helpdesk/{t}"),
        }
    }
}

/// One thing to tell people.
#[derive(Clone, Debug)]
pub(crate) struct Notice {
    pub kind: NotificationKind,
    pub client: ClientId,
    pub target: Target,
    pub text: String,
}

/// The notifications a change created, announced once the change is committed: each one's
/// recipient, id, and the subjects the recipient does not hear of (for their unread count).
#[derive(Debug, Default)]
#[must_use = "announce the notifications after the commit"]
pub(crate) struct Created(Vec<(UserId, NotificationId, Vec<&'static str>)>);

/// The notification subjects a person does not hear of (`policy::person_hears_of`): those of
/// the areas their client's portal hides.
fn unheard(role: Role, pages: PortalPages) -> Vec<&'static str> {
    NotificationSubject::ALL.iter().filter(|s| !person_hears_of(role, pages, **s)).map(|s| s.as_str()).collect()
}

impl Created {
    pub(crate) fn extend(&mut self, other: Created) {
        self.0.extend(other.0);
    }
}

/// Writes `notice` for each recipient as their settings say (skipping `off`), queueing an
/// email job for those who want mail right away. A client user whose portal hides the
/// notice's area (`policy::person_hears_of`) gets nothing: no notification, no mail.
pub(crate) async fn notify<C: ConnectionTrait>(c: &C, notice: &Notice, recipients: &[&Person]) -> Result<Created> {
    if recipients.is_empty() {
        return Ok(Created::default());
    }
    let (subject_type, subject_id) = notice.target.subject();
    let pages = crate::portal::client_pages(c, notice.client).await?;
    let recipients: Vec<&Person> =
        recipients.iter().copied().filter(|p| person_hears_of(p.role, pages, subject_type)).collect();
    if recipients.is_empty() {
        return Ok(Created::default());
    }
    let prefs = deliveries(c, &recipients.iter().map(|p| p.id).collect::<Vec<_>>(), notice.kind).await?;
    let now = Utc::now();
    let mut created = Created::default();
    for p in recipients {
        let delivery = prefs.get(&p.id).copied().unwrap_or(notice.kind.default_delivery());
        if delivery == Delivery::Off {
            continue;
        }
        let id = NotificationId::new();
        notification::ActiveModel {
            id: Set(id.0),
            user_id: Set(p.id.0),
            client_id: Set(notice.client.0),
            kind: Set(notice.kind.as_str().into()),
            subject_type: Set(subject_type.as_str().into()),
            subject_id: Set(subject_id.clone()),
            text: Set(truncate(&notice.text, 600)),
            url: Set(notice.target.path(p.role.is_staff())),
            read_at: Set(None),
            emailed_at: Set(None),
            created_at: Set(now),
        }
        .insert(c)
        .await
        .map_err(db_err)?;
        if delivery == Delivery::Email {
            enqueue(c, NewJob::new(NOTIFY_JOB, serde_json::json!({ "notification_id": id }))).await?;
        }
        created.0.push((p.id, id, unheard(p.role, pages)));
    }
    Ok(created)
}

async fn deliveries<C: ConnectionTrait>(
    c: &C,
    users: &[UserId],
    kind: NotificationKind,
) -> Result<HashMap<UserId, Delivery>> {
    let rows = notification_pref::Entity::find()
        .filter(notification_pref::Column::UserId.is_in(users.iter().map(|u| u.0).collect::<Vec<_>>()))
        .filter(notification_pref::Column::Kind.eq(kind.as_str()))
        .all(c)
        .await
        .map_err(db_err)?;
    rows.into_iter().map(|r| Ok((UserId(r.user_id), parse::<Delivery>("delivery", &r.delivery)?))).collect()
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A plain-text excerpt of user markdown for notification lines.
pub(crate) fn excerpt(markdown: &str) -> String {
    truncate(&atrium_core::markdown::plain_text(markdown), 140)
}

/// What an emailed notification needs.
#[derive(Clone, Debug)]
pub struct MailableNotification {
    pub notification: Notification,
    pub recipient: Person,
    /// The thread it is about, when a reply by mail can go there.
    pub thread: Option<crate::mail_in::Thread>,
}

/// One user's notifications waiting for their daily digest.
#[derive(Clone, Debug)]
pub struct Digest {
    pub recipient: Person,
    /// How the recipient reads times (their timezone, else the agency's).
    pub local: LocalTime,
    pub items: Vec<Notification>,
}

/// A signed unsubscribe link whose signature has been checked: the authority for
/// [`Store::unsubscribe`] when no one is signed in. Only [`Store::verify_unsubscribe`] makes one.
#[derive(Debug)]
pub struct UnsubscribeLink {
    user: UserId,
    what: String,
}

impl Store {
    /// Publishes `notification.created` for what a committed change created.
    pub(crate) async fn announce(&self, created: Created) {
        for (user, id, unheard) in created.0 {
            let unread = self.unread_count(user, &unheard).await.unwrap_or(0);
            self.publish(LiveEvent::notification_created(user, id, unread)).await;
        }
    }

    /// The caller's notifications, newest first (none about a deleted client's work).
    /// Notifications of an area the caller's portal hides are not shown.
    pub async fn notifications(&self, actor: &Actor, req: PageRequest) -> Result<Page<Notification>> {
        let q = notification::Entity::find()
            .filter(notification::Column::UserId.eq(actor.user_id().0))
            .filter(notification::Column::SubjectType.is_not_in(unheard(actor.role(), actor.client_pages())))
            .filter(notification::Column::ClientId.not_in_subquery(deleted_clients()));
        let rows = page_rows(&self.db, q, req, notification::Column::Id, notification::Column::Id).await?;
        let items = rows.into_iter().map(to_notification).collect::<Result<Vec<_>>>()?;
        Ok(page(items, req, |n| n.id.0))
    }

    /// One of the caller's own notifications (anyone else's is 404).
    pub async fn notification(&self, actor: &Actor, id: NotificationId) -> Result<Notification> {
        let row = notification::Entity::find_by_id(id.0)
            .filter(notification::Column::UserId.eq(actor.user_id().0))
            .filter(notification::Column::SubjectType.is_not_in(unheard(actor.role(), actor.client_pages())))
            .filter(notification::Column::ClientId.not_in_subquery(deleted_clients()))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(Error::NotFound)?;
        to_notification(row)
    }

    /// How many of the caller's notifications are unread (none about a deleted client's work).
    pub async fn unread_notifications(&self, actor: &Actor) -> Result<u64> {
        self.unread_count(actor.user_id(), &unheard(actor.role(), actor.client_pages())).await
    }

    async fn unread_count(&self, user: UserId, unheard: &[&'static str]) -> Result<u64> {
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(user.0))
            .filter(notification::Column::SubjectType.is_not_in(unheard.iter().copied()))
            .filter(notification::Column::ReadAt.is_null())
            .filter(notification::Column::ClientId.not_in_subquery(deleted_clients()))
            .count(&self.db)
            .await
            .map_err(db_err)
    }

    /// Marks the caller's notifications read: the given ones (others' ids are ignored), or all.
    pub async fn mark_notifications_read(&self, actor: &Actor, ids: Option<&[NotificationId]>) -> Result<()> {
        actor.may_change_own_settings()?;
        let mut q = notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
            .filter(notification::Column::UserId.eq(actor.user_id().0))
            .filter(notification::Column::ReadAt.is_null());
        if let Some(ids) = ids {
            q = q.filter(notification::Column::Id.is_in(ids.iter().map(|i| i.0).collect::<Vec<_>>()));
        }
        q.exec(&self.db).await.map_err(db_err)?;
        Ok(())
    }

    /// How the caller hears about each kind of notification that can reach them
    /// (`policy::kind_reaches`).
    pub async fn notification_settings(&self, actor: &Actor) -> Result<Vec<(NotificationKind, Delivery)>> {
        let mut all = self.settings_of(actor.user_id()).await?;
        all.retain(|(k, _)| atrium_core::policy::kind_reaches(actor.role(), actor.client_pages(), *k));
        Ok(all)
    }

    async fn settings_of(&self, user: UserId) -> Result<Vec<(NotificationKind, Delivery)>> {
        let rows = notification_pref::Entity::find()
            .filter(notification_pref::Column::UserId.eq(user.0))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let chosen: HashMap<String, String> = rows.into_iter().map(|r| (r.kind, r.delivery)).collect();
        NotificationKind::ALL
            .iter()
            .map(|k| {
                let d = match chosen.get(k.as_str()) {
                    Some(d) => parse::<Delivery>("delivery", d)?,
                    None => k.default_delivery(),
                };
                Ok((*k, d))
            })
            .collect()
    }

    /// Sets how the caller hears about `kind` (not while viewing as a client).
    pub async fn set_notification_delivery(&self, actor: &Actor, kind: NotificationKind, d: Delivery) -> Result<()> {
        actor.may_change_own_settings()?;
        self.set_delivery(actor.user_id(), kind, d).await
    }

    /// What a verified unsubscribe link asks: its kind off, or for `digest` every kind that
    /// goes to the digest back to in-app only. The link's signature is the authority.
    pub async fn unsubscribe(&self, link: &UnsubscribeLink) -> Result<()> {
        if link.what == "digest" {
            for (k, d) in self.settings_of(link.user).await? {
                if d == Delivery::Digest {
                    self.set_delivery(link.user, k, Delivery::InApp).await?;
                }
            }
            Ok(())
        } else {
            let kind: NotificationKind = link.what.parse().map_err(|_| Error::NotFound)?;
            self.set_delivery(link.user, kind, Delivery::Off).await
        }
    }

    async fn set_delivery(&self, user: UserId, kind: NotificationKind, d: Delivery) -> Result<()> {
        let tx = self.write_tx().await?;
        notification_pref::Entity::delete_many()
            .filter(notification_pref::Column::UserId.eq(user.0))
            .filter(notification_pref::Column::Kind.eq(kind.as_str()))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        notification_pref::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.0),
            kind: Set(kind.as_str().into()),
            delivery: Set(d.as_str().into()),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    /// The pages `acc`'s client's portal shows now (everything for staff).
    pub(crate) async fn pages_of(&self, acc: &crate::people::Account) -> Result<PortalPages> {
        match acc.user.client_id {
            Some(c) => crate::portal::client_pages(&self.db, c).await,
            None => Ok(PortalPages::ALL_SHOWN),
        }
    }

    /// Checks an unsubscribe link's signature; a wrong one is [`Error::NotFound`]. The
    /// [`UnsubscribeLink`] it returns is the only way to [`Store::unsubscribe`].
    pub async fn verify_unsubscribe(&self, user: UserId, what: &str, signature: &str) -> Result<UnsubscribeLink> {
        use hmac::Mac;
        let given = hex::decode(signature).map_err(|_| Error::NotFound)?;
        if given.len() != 16 {
            return Err(Error::NotFound);
        }
        self.unsubscribe_mac(user, what).await?.verify_truncated_left(&given).map_err(|_| Error::NotFound)?;
        Ok(UnsubscribeLink { user, what: what.to_string() })
    }

    async fn unsubscribe_mac(&self, user: UserId, what: &str) -> Result<hmac::Hmac<sha2::Sha256>> {
        use hmac::Mac;
        let key = self.instance_secret("unsubscribe").await?;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|e| Error::internal("hmac key", e))?;
        mac.update(format!("unsubscribe:{user}:{what}").as_bytes());
        Ok(mac)
    }

    /// A random 32-byte key stored under `name`, created on first use (concurrent first uses
    /// agree on one key).
    pub(crate) async fn instance_secret(&self, name: &str) -> Result<Vec<u8>> {
        use rand::RngCore;
        if let Some(row) = instance_secret::Entity::find_by_id(name).one(&self.db).await.map_err(db_err)? {
            return hex::decode(row.value).map_err(|e| Error::internal(format!("instance secret {name}"), e));
        }
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        instance_secret::Entity::insert(instance_secret::ActiveModel {
            name: Set(name.into()),
            value: Set(hex::encode(key)),
            created_at: Set(Utc::now()),
        })
        .on_conflict_do_nothing_on([instance_secret::Column::Name])
        .exec_without_returning(&self.db)
        .await
        .map_err(db_err)?;
        let row = instance_secret::Entity::find_by_id(name)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| Error::internal_msg(format!("instance secret {name} missing")))?;
        hex::decode(row.value).map_err(|e| Error::internal(format!("instance secret {name}"), e))
    }
}

/// What the job runner reads and records to send notification mail.
impl JobRunner<'_> {
    /// One notification with its recipient, for the mail job; `None` when it no longer needs
    /// mailing (already read or mailed, recipient gone or deactivated).
    pub async fn notification_to_mail(self, id: NotificationId) -> Result<Option<MailableNotification>> {
        let Some(row) = notification::Entity::find_by_id(id.0)
            .filter(notification::Column::ClientId.not_in_subquery(deleted_clients()))
            .one(&self.store.db)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        if row.read_at.is_some() || row.emailed_at.is_some() {
            return Ok(None);
        }
        // The recipient may have changed their mind (or unsubscribed) since it was queued.
        let kind = parse::<NotificationKind>("notification kind", &row.kind)?;
        let now = deliveries(&self.store.db, &[UserId(row.user_id)], kind).await?;
        if now.get(&UserId(row.user_id)).copied().unwrap_or(kind.default_delivery()) != Delivery::Email {
            return Ok(None);
        }
        let Some(acc) = account_by_id(&self.store.db, UserId(row.user_id)).await? else { return Ok(None) };
        if !acc.user.active {
            return Ok(None);
        }
        // Its area may have been hidden from the recipient's portal since.
        if !person_hears_of(
            acc.user.role,
            self.store.pages_of(&acc).await?,
            parse("notification subject", &row.subject_type)?,
        ) {
            return Ok(None);
        }
        let recipient = Person {
            id: acc.user.id,
            name: acc.user.name,
            email: acc.user.email,
            role: acc.user.role,
            client_id: acc.user.client_id,
        };
        let n = to_notification(row)?;
        let thread = crate::mail_in::Thread::of_notification(n.subject_type, &n.subject_id, &n.url);
        Ok(Some(MailableNotification { notification: n, recipient, thread }))
    }

    /// Records that notifications went out by mail.
    pub async fn mark_notifications_emailed(self, ids: &[NotificationId]) -> Result<()> {
        notification::Entity::update_many()
            .col_expr(notification::Column::EmailedAt, Expr::value(Utc::now()))
            .filter(notification::Column::Id.is_in(ids.iter().map(|i| i.0).collect::<Vec<_>>()))
            .exec(&self.store.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Everyone's unread, unmailed notifications of the kinds they get as a digest, created
    /// before `until`, with how each recipient reads times (the caller picks whose local hour
    /// it is).
    pub async fn pending_digests(self, until: DateTime<Utc>) -> Result<Vec<Digest>> {
        let prefs = notification_pref::Entity::find()
            .filter(notification_pref::Column::Delivery.eq(Delivery::Digest.as_str()))
            .all(&self.store.db)
            .await
            .map_err(db_err)?;
        let mut wanted: HashMap<Uuid, HashSet<String>> = HashMap::new();
        for p in prefs {
            wanted.entry(p.user_id).or_default().insert(p.kind);
        }
        let agency = crate::helpdesk_settings::service_levels(&self.store.db).await?.timezone();
        let mut out = Vec::new();
        for (user, kinds) in wanted {
            let rows = notification::Entity::find()
                .filter(notification::Column::UserId.eq(user))
                .filter(notification::Column::Kind.is_in(kinds.into_iter().collect::<Vec<_>>()))
                .filter(notification::Column::ReadAt.is_null())
                .filter(notification::Column::EmailedAt.is_null())
                .filter(notification::Column::CreatedAt.lt(until))
                .order_by_asc(notification::Column::Id)
                .limit(50)
                .all(&self.store.db)
                .await
                .map_err(db_err)?;
            if rows.is_empty() {
                continue;
            }
            let Some(acc) = account_by_id(&self.store.db, UserId(user)).await?.filter(|a| a.user.active) else {
                continue;
            };
            let pages = self.store.pages_of(&acc).await?;
            let mut items = Vec::new();
            for r in rows {
                if person_hears_of(acc.user.role, pages, parse("notification subject", &r.subject_type)?) {
                    items.push(to_notification(r)?);
                }
            }
            if items.is_empty() {
                continue;
            }
            out.push(Digest {
                local: LocalTime::of(stored_timezone(acc.user.timezone.as_deref()), agency),
                recipient: Person {
                    id: acc.user.id,
                    name: acc.user.name,
                    email: acc.user.email,
                    role: acc.user.role,
                    client_id: acc.user.client_id,
                },
                items,
            });
        }
        Ok(out)
    }

    /// The signature of an unsubscribe link for `user` and `what` (a notification kind, or
    /// `digest`) (HMAC-SHA256 with a key the
    /// instance generated for itself and shares across processes through the database).
    pub async fn unsubscribe_signature(self, user: UserId, what: &str) -> Result<String> {
        use hmac::Mac;
        let mac = self.store.unsubscribe_mac(user, what).await?;
        Ok(hex::encode(&mac.finalize().into_bytes()[..16]))
    }
}

fn to_notification(r: notification::Model) -> Result<Notification> {
    Ok(Notification {
        id: r.id.into(),
        kind: parse("notification kind", &r.kind)?,
        subject_type: parse("notification subject", &r.subject_type)?,
        subject_id: r.subject_id,
        text: r.text,
        url: r.url,
        read_at: r.read_at,
        created_at: r.created_at,
    })
}
