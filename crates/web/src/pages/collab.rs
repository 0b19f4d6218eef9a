//! Pages for project conversations, the notification center, notification settings,
//! unsubscribe links and undelivered mail. Both sides share the handlers; the store scopes
//! every read and asks the policy before every write.

use askama::Template;
use atrium_core::Error;
use atrium_core::ids::{JobId, MessageId, NotificationId, ProjectId, UserId};
use atrium_core::model::{Channel, Delivery, NotificationKind};
use atrium_core::policy::Side;
use atrium_core::validate::{self, BODY_MAX};
use atrium_store::notifications::UnsubscribeLink;
use atrium_store::paging::PageRequest;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::{Chrome, page, see_other};
use crate::api::input::empty_none;
use crate::audience::{PortalAuth, SideAuth, StaffAuth};
use crate::auth::Authed;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::state::AppState;

// ----- conversations -------------------------------------------------------------------------

struct MessageView {
    id: String,
    author: String,
    when: String,
    edited: bool,
    body_html: String,
    mine_editable: bool,
    body: String,
    seen_by: String,
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesPage {
    chrome: Chrome,
    prefix: &'static str,
    project_id: String,
    project_name: String,
    project_href: String,
    /// The client's name, named on the staff side's composer (empty in the portal).
    client_name: String,
    staff: bool,
    channel: &'static str,
    unread_other: u64,
    messages: Vec<MessageView>,
    can_post: bool,
    mention_src: String,
    /// The newest message shown, for the script to mark read (empty: nothing to mark).
    read_up_to: String,
}

/// `?channel=` of the staff conversation page.
#[derive(Debug, Default, Deserialize)]
pub struct ChannelQuery {
    #[serde(default, deserialize_with = "empty_none")]
    channel: Option<Channel>,
}

/// How many messages a conversation page shows (the API pages through all of them).
const PAGE_MESSAGES: u64 = 100;

async fn conversation(
    st: &AppState,
    auth: &SideAuth,
    csrf: &CsrfToken,
    pid: ProjectId,
    channel: Channel,
) -> AppResult<Response> {
    let side = auth.side();
    let a = &auth.actor;
    let p = st.store.project(&a.work_scope(), pid).await?;
    let mut list = st.store.messages(a, pid, channel, PageRequest { limit: PAGE_MESSAGES, cursor: None }).await?;
    list.items.reverse();
    // Reading is recorded by a POST the page's script sends once the page is shown (SEC-IO-6:
    // opening, prefetching or embedding this URL changes nothing); never under "View as
    // client" (no false receipts).
    let read_up_to =
        list.items.last().filter(|_| a.may_change_own_settings().is_ok()).map(|m| m.id.to_string()).unwrap_or_default();
    let unread = st.store.unread_messages(a, pid).await?;
    let now = chrono::Utc::now();
    let local = st.store.local_time(a).await?;
    let messages = list
        .items
        .iter()
        .map(|m| MessageView {
            id: m.id.to_string(),
            author: m.author_name.clone(),
            when: local.short(m.created_at),
            edited: m.edited_at.is_some(),
            body_html: m.body_html.clone(),
            mine_editable: a.may_change_message(m.author_id, m.created_at, now).is_ok(),
            body: m.body.clone(),
            seen_by: m
                .read_by
                .iter()
                .map(|r| format!("{}, {}", r.name, local.clock(r.read_at)))
                .collect::<Vec<_>>()
                .join(" · "),
        })
        .collect();
    let mut chrome = Chrome::signed_in(
        st,
        auth,
        csrf,
        format!("Messages · {}", p.name),
        if side == Side::Staff { "/staff/clients" } else { "/portal/projects" },
    );
    chrome.live = format!("project:{pid}");
    let client_name =
        if side == Side::Staff { st.store.client(&a.client_scope(), p.client_id).await?.name } else { String::new() };
    page(&MessagesPage {
        chrome,
        prefix: super::prefix(side),
        project_id: pid.to_string(),
        project_name: p.name,
        project_href: format!("{}/projects/{pid}", super::prefix(side)),
        client_name,
        staff: side == Side::Staff,
        channel: channel.as_str(),
        unread_other: match channel {
            Channel::Client => unread.staff,
            Channel::Staff => unread.client,
        },
        messages,
        can_post: a.may_post_message(channel).is_ok(),
        mention_src: format!("/api/v1/projects/{pid}/people?internal={}", channel == Channel::Staff),
        read_up_to,
    })
}

/// A project's conversation on the staff side (`?channel=staff` for the staff-only one).
pub async fn staff_messages(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(id): Id<ProjectId>,
    Q(q): Q<ChannelQuery>,
) -> AppResult<Response> {
    conversation(&st, &auth.into(), &csrf, id, q.channel.unwrap_or(Channel::Client)).await
}

/// A project's conversation in the portal.
pub async fn portal_messages(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    Id(id): Id<ProjectId>,
) -> AppResult<Response> {
    conversation(&st, &auth.into(), &csrf, id, Channel::Client).await
}

/// The message composer.
#[derive(Deserialize)]
pub struct MessageForm {
    body: String,
    #[serde(default, deserialize_with = "empty_none")]
    channel: Option<Channel>,
}

async fn post(st: &AppState, auth: &SideAuth, ip: &str, pid: ProjectId, f: MessageForm) -> AppResult<Response> {
    let side = auth.side();
    let channel = if side == Side::Staff { f.channel.unwrap_or(Channel::Client) } else { Channel::Client };
    let body = validate::text("body", &f.body, BODY_MAX)?;
    let m = st.store.create_message(&auth.actor, pid, channel, body, Some(ip)).await?;
    Ok(see_other(&conversation_href(side, pid, channel, Some(m.id))))
}

fn conversation_href(side: Side, pid: ProjectId, channel: Channel, anchor: Option<MessageId>) -> String {
    let q = if channel == Channel::Staff { "?channel=staff" } else { "" };
    let a = anchor.map(|m| format!("#m-{m}")).unwrap_or_default();
    format!("{}/projects/{pid}/messages{q}{a}", super::prefix(side))
}

/// Posts a message (staff side, either channel).
pub async fn staff_post_message(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectId>,
    FormBody(f): FormBody<MessageForm>,
) -> AppResult<Response> {
    post(&st, &auth.into(), &ip, id, f).await
}

/// Posts a message (portal, the client channel).
pub async fn portal_post_message(
    State(st): State<AppState>,
    auth: PortalAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectId>,
    FormBody(f): FormBody<MessageForm>,
) -> AppResult<Response> {
    post(&st, &auth.into(), &ip, id, f).await
}

/// The edit form of one's own message.
#[derive(Deserialize)]
pub struct EditForm {
    body: String,
}

fn back_to(auth: &Authed, m: &atrium_core::model::Message) -> String {
    conversation_href(Side::of(&auth.actor), m.project_id, m.channel, None)
}

/// Edits one's own message (within the edit window).
pub async fn edit_message(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<MessageId>,
    FormBody(f): FormBody<EditForm>,
) -> AppResult<Response> {
    let body = validate::text("body", &f.body, BODY_MAX)?;
    let m = st.store.edit_message(&auth.actor, id, body, Some(&ip)).await?;
    Ok(see_other(&back_to(&auth, &m)))
}

/// Deletes one's own message (within the edit window).
pub async fn delete_message(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<MessageId>,
) -> AppResult<Response> {
    let m = st.store.message(&auth.actor, id).await?;
    st.store.delete_message(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&back_to(&auth, &m)))
}

// ----- notification center -------------------------------------------------------------------

struct NotificationView {
    id: String,
    text: String,
    when: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    items: Vec<NotificationView>,
    unread: u64,
}

/// The notification center: newest first.
pub async fn notifications(State(st): State<AppState>, auth: Authed, csrf: CsrfToken) -> AppResult<Response> {
    let list = st.store.notifications(&auth.actor, PageRequest { limit: 100, cursor: None }).await?;
    let unread = st.store.unread_notifications(&auth.actor).await?;
    let local = st.store.local_time(&auth.actor).await?;
    let items = list
        .items
        .into_iter()
        .map(|n| NotificationView {
            id: n.id.to_string(),
            text: n.text,
            when: local.short(n.created_at),
            unread: n.read_at.is_none(),
        })
        .collect();
    page(&NotificationsPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "Notifications", "/notifications"),
        items,
        unread,
    })
}

/// The unread badge in the header (loaded by htmx, refreshed on live events).
pub async fn badge(State(st): State<AppState>, auth: Authed) -> AppResult<Response> {
    let n = st.store.unread_notifications(&auth.actor).await?;
    // The label is visually hidden on phones (the header shows the bell icon and the count).
    let html = if n == 0 {
        "<span class=\"bell-label\">Notifications</span>".to_string()
    } else {
        format!(
            "<span class=\"bell-label\">Notifications</span> <span class=\"count\">{n}<span class=\"sr-only\"> unread</span></span>"
        )
    };
    Ok(Html(html).into_response())
}

/// Opens a notification: marks it read, then goes to the thing it is about.
pub async fn open_notification(
    State(st): State<AppState>,
    auth: Authed,
    Id(id): Id<NotificationId>,
) -> AppResult<Response> {
    let target = st.store.notification(&auth.actor, id).await?;
    if auth.actor.may_change_own_settings().is_ok() {
        st.store.mark_notifications_read(&auth.actor, Some(&[id])).await?;
    }
    Ok(see_other(&target.url))
}

/// Marks every notification read.
pub async fn read_all(State(st): State<AppState>, auth: Authed) -> AppResult<Response> {
    st.store.mark_notifications_read(&auth.actor, None).await?;
    Ok(see_other("/notifications"))
}

// ----- settings ------------------------------------------------------------------------------

struct SettingRow {
    kind: &'static str,
    label: &'static str,
    options: Vec<super::view::Opt>,
}

#[derive(Template)]
#[template(path = "notification_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    rows: Vec<SettingRow>,
    saved: bool,
}

/// `?saved=1` after a save.
#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// Notification settings: one choice per kind.
pub async fn settings(
    State(st): State<AppState>,
    auth: Authed,
    csrf: CsrfToken,
    Q(q): Q<SavedQuery>,
) -> AppResult<Response> {
    let rows = st
        .store
        .notification_settings(&auth.actor)
        .await?
        .into_iter()
        .map(|(k, d)| SettingRow {
            kind: k.as_str(),
            label: k.label(),
            options: super::view::opts(Delivery::ALL, Some(d), Delivery::as_str, Delivery::label),
        })
        .collect();
    page(&SettingsPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "Notification settings", "/notifications"),
        rows,
        saved: q.saved.is_some(),
    })
}

/// Saves the settings form (every kind at once).
pub async fn save_settings(
    State(st): State<AppState>,
    auth: Authed,
    FormBody(f): FormBody<std::collections::HashMap<String, String>>,
) -> AppResult<Response> {
    auth.actor.may_change_own_settings()?;
    for k in NotificationKind::ALL {
        if let Some(v) = f.get(k.as_str()) {
            let d: Delivery = v.parse().map_err(|e: String| Error::invalid(k.as_str(), e))?;
            st.store.set_notification_delivery(&auth.actor, *k, d).await?;
        }
    }
    Ok(see_other("/account/notifications?saved=1"))
}

// ----- unsubscribe ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    chrome: Chrome,
    what: String,
    done: bool,
}

async fn checked(st: &AppState, user: UserId, what: &str, sig: &str) -> AppResult<(String, UnsubscribeLink)> {
    let label = match what {
        "digest" => "the daily digest".to_string(),
        k => k.parse::<NotificationKind>().map_err(|_| Error::NotFound)?.label().to_string(),
    };
    let link = st.store.verify_unsubscribe(user, what, sig).await?;
    Ok((label, link))
}

/// The confirmation page of an unsubscribe link (a GET never changes anything: mail scanners
/// follow links).
pub async fn unsubscribe_page(
    State(st): State<AppState>,
    csrf: CsrfToken,
    Id((user, what, sig)): Id<(UserId, String, String)>,
) -> AppResult<Response> {
    let (label, _) = checked(&st, user, &what, &sig).await?;
    page(&UnsubscribePage { chrome: Chrome::public(&st, &csrf, "Unsubscribe"), what: label, done: false })
}

/// Unsubscribes (the confirm button, or a mail client's RFC 8058 one-click POST). The signed
/// link is the credential; no session is needed.
pub async fn unsubscribe(
    State(st): State<AppState>,
    csrf: CsrfToken,
    Id((uid, what, sig)): Id<(UserId, String, String)>,
) -> AppResult<Response> {
    let (label, link) = checked(&st, uid, &what, &sig).await?;
    st.store.unsubscribe(&link).await?;
    page(&UnsubscribePage { chrome: Chrome::public(&st, &csrf, "Unsubscribed"), what: label, done: true })
}

// ----- undelivered mail ----------------------------------------------------------------------

struct FailedView {
    id: String,
    kind: String,
    attempts: u32,
    error: String,
    when: String,
}

#[derive(Template)]
#[template(path = "staff_outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    failed: Vec<FailedView>,
    pending: u64,
}

/// Mail that could not be delivered, with a retry button (owners and admins).
pub async fn outbox(State(st): State<AppState>, auth: StaffAuth, csrf: CsrfToken) -> AppResult<Response> {
    let local = st.store.local_time(&auth.actor).await?;
    let failed = st
        .store
        .failed_jobs(&auth.actor, 200)
        .await?
        .into_iter()
        .map(|j| FailedView {
            id: j.id.to_string(),
            kind: j.kind,
            attempts: j.attempts,
            error: j.last_error.unwrap_or_default(),
            when: local.short(j.finished_at.unwrap_or(j.created_at)),
        })
        .collect();
    let pending = st.store.pending_jobs(&auth.actor).await?;
    page(&OutboxPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "Outgoing mail", "/staff/outbox"),
        failed,
        pending,
    })
}

/// Retries a failed job (owners and admins).
pub async fn retry(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<JobId>,
) -> AppResult<Response> {
    st.store.retry_failed_job(&auth.actor, id, Some(&ip)).await?;
    st.wake_worker();
    Ok(see_other("/staff/outbox"))
}
