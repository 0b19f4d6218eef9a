//! Messages, mentions, notifications, live events and the mail queue's failures. Handlers parse
//! input and call the store, which scopes every read and asks the policy before every write.

use std::convert::Infallible;
use std::time::Duration;

use atrium_core::ids::{JobId, MessageId, NotificationId, ProjectId, UserId};
use atrium_core::model::{Channel, Delivery, Message, Notification, NotificationKind};
use atrium_core::validate::{self, BODY_MAX};
use atrium_core::{Error, policy::Actor};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::input::empty_none;
use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id, Paging, Q};
use crate::state::AppState;

// ----- messages ------------------------------------------------------------------------------

/// `?channel=&limit=&cursor=` of a conversation.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// `client` (default) or `staff` (staff only).
    #[serde(default, deserialize_with = "empty_none")]
    #[param(value_type = Option<String>)]
    pub channel: Option<Channel>,
    /// Page size, 1..=200 (default 50).
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `POST /projects/{id}/messages`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// Markdown; `@[Name]` mentions someone who can see the conversation.
    pub body: String,
    /// `client` (default) or `staff`.
    #[serde(default, deserialize_with = "empty_none")]
    pub channel: Option<Channel>,
}

/// `PATCH /messages/{id}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessagePatchBody {
    pub body: String,
}

/// `POST /projects/{id}/messages/read`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// The newest message read.
    pub up_to: String,
}

/// A project's conversation, newest first, with read receipts.
#[utoipa::path(get, path = "/api/v1/projects/{id}/messages", tag = "messages", params(("id" = uuid::Uuid, Path), MessagesQuery),
    responses((status = 200, body = List<Message>), (status = 404)))]
pub async fn list_messages(
    State(st): State<AppState>,
    auth: Authed,
    Id(pid): Id<ProjectId>,
    Q(q): Q<MessagesQuery>,
) -> AppResult<Json<List<Message>>> {
    let req = Paging { limit: q.limit, cursor: q.cursor }.request()?;
    let channel = q.channel.unwrap_or(Channel::Client);
    Ok(Json(st.store.messages(&auth.actor, pid, channel, req).await?.into()))
}

/// Post a message. Client users post only in the `client` channel.
#[utoipa::path(post, path = "/api/v1/projects/{id}/messages", tag = "messages", params(("id" = uuid::Uuid, Path)),
    request_body = MessageBody, responses((status = 201, body = Message), (status = 403), (status = 404), (status = 422)))]
pub async fn create_message(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    ApiJson(b): ApiJson<MessageBody>,
) -> AppResult<(StatusCode, Json<Message>)> {
    let body = validate::text("body", &b.body, BODY_MAX)?;
    let channel = b.channel.unwrap_or(Channel::Client);
    Ok((StatusCode::CREATED, Json(st.store.create_message(&auth.actor, pid, channel, body, Some(&ip)).await?)))
}

/// Edit one's own message (within 15 minutes of posting).
#[utoipa::path(patch, path = "/api/v1/messages/{id}", tag = "messages", params(("id" = uuid::Uuid, Path)),
    request_body = MessagePatchBody, responses((status = 200, body = Message), (status = 403), (status = 404), (status = 422)))]
pub async fn edit_message(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<MessageId>,
    ApiJson(b): ApiJson<MessagePatchBody>,
) -> AppResult<Json<Message>> {
    let body = validate::text("body", &b.body, BODY_MAX)?;
    Ok(Json(st.store.edit_message(&auth.actor, id, body, Some(&ip)).await?))
}

/// Delete one's own message (within 15 minutes of posting).
#[utoipa::path(delete, path = "/api/v1/messages/{id}", tag = "messages", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_message(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<MessageId>,
) -> AppResult<StatusCode> {
    st.store.delete_message(&auth.actor, id, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark a conversation read up to a message (read receipts).
#[utoipa::path(post, path = "/api/v1/projects/{id}/messages/read", tag = "messages", params(("id" = uuid::Uuid, Path)),
    request_body = ReadBody, responses((status = 204), (status = 403), (status = 404), (status = 422)))]
pub async fn read_messages(
    State(st): State<AppState>,
    auth: Authed,
    Id(pid): Id<ProjectId>,
    ApiJson(b): ApiJson<ReadBody>,
) -> AppResult<StatusCode> {
    let up_to: MessageId = b.up_to.parse().map_err(|_| Error::invalid("up_to", "is not a message id"))?;
    st.store.mark_messages_read(&auth.actor, pid, up_to).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?internal=` of the people picker.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeopleQuery {
    /// `true` for a staff-only place (a note, the staff channel): staff only.
    pub internal: Option<bool>,
}

/// Someone who can be mentioned.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Mentionable {
    #[schema(value_type = String)]
    pub id: UserId,
    pub name: String,
    /// `Staff` or the client's name is not shown; only whether they are agency staff.
    pub staff: bool,
}

/// People who can see a project (or, `internal`, its staff-only places): the mention
/// autocomplete. A client user only learns the people on their own project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/people", tag = "messages", params(("id" = uuid::Uuid, Path), PeopleQuery),
    responses((status = 200, body = List<Mentionable>), (status = 404)))]
pub async fn mentionable(
    State(st): State<AppState>,
    auth: Authed,
    Id(pid): Id<ProjectId>,
    Q(q): Q<PeopleQuery>,
) -> AppResult<Json<List<Mentionable>>> {
    let people = st.store.mentionable(&auth.actor, pid, q.internal.unwrap_or(false)).await?;
    let items = people.into_iter().map(|p| Mentionable { id: p.id, name: p.name, staff: p.role.is_staff() }).collect();
    Ok(Json(List { items, next_cursor: None }))
}

// ----- notifications -------------------------------------------------------------------------

/// `POST /notifications/read`: some ids, or all.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationsReadBody {
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(default)]
    pub all: Option<bool>,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(Paging),
    responses((status = 200, body = List<Notification>), (status = 401)))]
pub async fn list_notifications(
    State(st): State<AppState>,
    auth: Authed,
    Q(p): Q<Paging>,
) -> AppResult<Json<List<Notification>>> {
    Ok(Json(st.store.notifications(&auth.actor, p.request()?).await?.into()))
}

/// Mark notifications read (`{"ids": [...]}` or `{"all": true}`); others' ids change nothing.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications", request_body = NotificationsReadBody,
    responses((status = 204), (status = 403), (status = 422)))]
pub async fn read_notifications(
    State(st): State<AppState>,
    auth: Authed,
    ApiJson(b): ApiJson<NotificationsReadBody>,
) -> AppResult<StatusCode> {
    match (b.ids, b.all) {
        (None, Some(true)) => st.store.mark_notifications_read(&auth.actor, None).await?,
        (Some(ids), None | Some(false)) => {
            if ids.len() > 200 {
                return Err(Error::invalid("ids", "at most 200 at a time").into());
            }
            let ids = ids
                .iter()
                .map(|i| i.parse::<NotificationId>().map_err(|_| Error::invalid("ids", "are not notification ids")))
                .collect::<Result<Vec<_>, _>>()?;
            st.store.mark_notifications_read(&auth.actor, Some(&ids)).await?
        }
        _ => return Err(Error::invalid("ids", "send either ids or all: true").into()),
    }
    Ok(StatusCode::NO_CONTENT)
}

/// One kind's delivery choice.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSetting {
    pub kind: NotificationKind,
    pub delivery: Delivery,
}

/// How the caller hears about each kind of notification.
#[utoipa::path(get, path = "/api/v1/notification-settings", tag = "notifications",
    responses((status = 200, body = List<NotificationSetting>), (status = 401)))]
pub async fn get_settings(State(st): State<AppState>, auth: Authed) -> AppResult<Json<List<NotificationSetting>>> {
    let items = st
        .store
        .notification_settings(&auth.actor)
        .await?
        .into_iter()
        .map(|(kind, delivery)| NotificationSetting { kind, delivery })
        .collect();
    Ok(Json(List { items, next_cursor: None }))
}

/// Choose how to hear about one kind: `in_app`, `email`, `digest` or `off`.
#[utoipa::path(put, path = "/api/v1/notification-settings", tag = "notifications", request_body = NotificationSetting,
    responses((status = 204), (status = 403), (status = 422)))]
pub async fn put_setting(
    State(st): State<AppState>,
    auth: Authed,
    ApiJson(b): ApiJson<NotificationSetting>,
) -> AppResult<StatusCode> {
    st.store.set_notification_delivery(&auth.actor, b.kind, b.delivery).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- live events ---------------------------------------------------------------------------

/// `?since=` of the event stream.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Also send the events published after this moment (microseconds since the Unix epoch;
    /// a page's `data-live-since`, when it was rendered) that the server still keeps.
    pub since: Option<i64>,
}

/// Server-Sent Events: every change the caller may see (`task.created`, `task.updated`,
/// `comment.created`, `message.created`/`updated`/`deleted`/`read`, `notification.created`,
/// `ticket.created`/`updated`/`commented`), each `data` holding ids only, each `id` the moment
/// it was published. Filtered by the same policy as every read; the stream ends when the
/// session does. With `?since=` or a `Last-Event-ID` header (the later counts) the stream first
/// sends what was published after that moment, so nothing falls between a page's render and its
/// stream (the server keeps 5 minutes or 1000 events). `event: reload` means events were missed.
/// At most `--max-streams-per-user` (default 20) streams per user per server process (429 beyond).
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "the `id` of the last event received")),
    responses((status = 200, content_type = "text/event-stream", description = "event stream"), (status = 401), (status = 422), (status = 429)))]
pub async fn events(
    State(st): State<AppState>,
    auth: Authed,
    Q(q): Q<EventsQuery>,
    headers: axum::http::HeaderMap,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let last_seen = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .ok_or_else(|| Error::invalid("Last-Event-ID", "must be the id of an event"))?,
        ),
    };
    let since = q.since.max(last_seen);
    let slot = st.open_stream(auth.actor.user_id())?;
    let atrium_store::events::Subscription { missed, rx } = st.store.subscribe(since).await;
    let revocations = st.store.revocations().await;
    let recheck = st.config.stream_recheck;
    // A first check now: a revocation committed while this stream was being set up has been
    // passed on already.
    if !crate::auth::still_alive(&st, &auth.credential).await? {
        return Err(Error::Unauthorized.into());
    }
    let mut users = vec![auth.signed_in_user(), auth.actor.user_id()];
    users.dedup();
    let session = auth.session_id();
    let live = Live {
        client: auth.actor.client_id(),
        st,
        actor: auth.actor,
        session,
        credential: auth.credential,
        users,
        missed: missed.into(),
        rx,
        revocations,
        ticker: recheck_ticker(recheck),
    };
    Ok(Sse::new(live_stream(live, slot)).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))))
}

type Stamped = std::sync::Arc<atrium_store::events::Stamped>;
type Rx = tokio::sync::broadcast::Receiver<Stamped>;

/// An open stream's state.
struct Live {
    st: AppState,
    actor: Actor,
    /// The stream's session (`None` for an API token: no session revocation names it).
    session: Option<atrium_core::ids::SessionId>,
    /// What the stream authenticated with, re-checked when a revocation may concern it.
    credential: crate::auth::Credential,
    /// The session's owner and (for "view as client") the viewed user.
    users: Vec<atrium_core::ids::UserId>,
    client: Option<atrium_core::ids::ClientId>,
    /// Published before the stream opened but after its `since`: sent first.
    missed: std::collections::VecDeque<Stamped>,
    rx: Rx,
    revocations: tokio::sync::broadcast::Receiver<atrium_store::revocations::Revocation>,
    ticker: tokio::time::Interval,
}

/// The backstop re-check of the session, in case a revocation was not heard of. Streams opened
/// together (a deploy, a benchmark) re-check at spread-out moments rather than all at once.
fn recheck_ticker(recheck: Duration) -> tokio::time::Interval {
    let first_check = recheck.mul_f64(rand::random_range(0.5..1.5));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + first_check, recheck);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker
}

/// What ended a wait of [`Live::next`].
enum Step {
    Send(Event),
    End,
}

impl Live {
    /// Waits for the next event to send, or the end: shutdown, or a session that no longer
    /// grants access — told by a revocation (within about a second, from any process) or found
    /// by the periodic re-check.
    async fn next(&mut self) -> Step {
        use tokio::sync::broadcast::error::RecvError;
        while let Some(ev) = self.missed.pop_front() {
            if self.actor.may_receive(&ev.event) {
                return Step::Send(sse(&ev));
            }
        }
        loop {
            let check = tokio::select! {
                () = self.st.stopped() => return Step::End,
                got = self.rx.recv() => match got {
                    Ok(ev) if self.actor.may_receive(&ev.event) => return Step::Send(sse(&ev)),
                    Ok(_) => false,
                    Err(RecvError::Lagged(_)) => return Step::Send(Event::default().event("reload").data("{}")),
                    Err(RecvError::Closed) => return Step::End,
                },
                got = self.revocations.recv() => match got {
                    Ok(r) => r.concerns(self.session, &self.users, self.client),
                    // Revocations were missed: one of them may have been ours.
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return Step::End,
                },
                _ = self.ticker.tick() => true,
            };
            // A revoked session, a deactivated user or a deleted client ends the stream.
            if check && !crate::auth::still_alive(&self.st, &self.credential).await.unwrap_or(false) {
                return Step::End;
            }
            // So does a change of the pages the client's portal shows (the stream's actor was
            // resolved with the old ones; the browser reconnects with the new).
            if check && self.st.store.portal_pages_changed(&self.actor).await.unwrap_or(true) {
                return Step::End;
            }
        }
    }
}

/// The SSE message of an event: its kind, its data, and its stamp as the `id`.
fn sse(ev: &atrium_store::events::Stamped) -> Event {
    Event::default().event(ev.event.kind.as_str()).data(ev.event.data.to_string()).id(ev.at.to_string())
}

fn live_stream(live: Live, slot: crate::state::StreamSlot) -> impl Stream<Item = Result<Event, Infallible>> {
    let first = Event::default().event("ready").data("{}");
    let events = futures_util::stream::unfold((live, Some(first)), |(mut live, first)| async move {
        if let Some(ev) = first {
            return Some((Ok(ev), (live, None)));
        }
        match live.next().await {
            Step::Send(ev) => Some((Ok(ev), (live, None))),
            Step::End => None,
        }
    });
    // The slot is released when the stream is dropped (the client went away or it ended).
    futures_util::StreamExt::map(events, move |item| {
        let _held = &slot;
        item
    })
}

// ----- failed jobs ---------------------------------------------------------------------------

/// A background job that gave up (mail that could not be delivered).
#[derive(Serialize, utoipa::ToSchema)]
pub struct FailedJob {
    #[schema(value_type = String)]
    pub id: JobId,
    pub kind: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<atrium_store::jobs::Job> for FailedJob {
    fn from(j: atrium_store::jobs::Job) -> Self {
        FailedJob {
            id: j.id,
            kind: j.kind,
            attempts: j.attempts,
            last_error: j.last_error,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

/// Jobs that failed for good, newest first (owners and admins).
#[utoipa::path(get, path = "/api/v1/jobs/failed", tag = "jobs",
    responses((status = 200, body = List<FailedJob>), (status = 403), (status = 404)))]
pub async fn failed_jobs(State(st): State<AppState>, auth: Authed) -> AppResult<Json<List<FailedJob>>> {
    let items = st.store.failed_jobs(&auth.actor, 200).await?.into_iter().map(FailedJob::from).collect();
    Ok(Json(List { items, next_cursor: None }))
}

/// Try a failed job again (owners and admins).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn retry_job(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<JobId>,
) -> AppResult<StatusCode> {
    st.store.retry_failed_job(&auth.actor, id, Some(&ip)).await?;
    st.wake_worker();
    Ok(StatusCode::NO_CONTENT)
}
