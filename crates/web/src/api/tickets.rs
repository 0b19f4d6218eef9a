//! The help desk's tickets: opening, listing (the staff inbox's filters), changing, the
//! conversation, turning a ticket into a task, and the requester's rating. Every route is in
//! the Help desk area (404 for the users of a client whose portal hides it); the store reads
//! through the policy's ticket scope and asks it before every write.

use atrium_core::Error;
use atrium_core::helpdesk::{Satisfaction, SatisfactionScore, Ticket, TicketComment, TicketStatus};
use atrium_core::ids::{ClientId, FileId, ProjectId, TicketId, UserId};
use atrium_core::model::{File, Priority, Task, Visibility};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::input::{empty_none, patch_field};
use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id, Paging, Q};
use crate::state::AppState;
use atrium_store::ticket_files::TicketFiles;
use atrium_store::tickets::{AssigneeFilter, NewTicket, TicketFilter, TicketPatch};

/// `POST /tickets`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketBody {
    pub subject: String,
    /// Markdown.
    pub body: String,
    /// The project it is about (omit for a general request).
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>)]
    pub project_id: Option<ProjectId>,
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>)]
    pub priority: Option<Priority>,
    /// Answers to the project's request form, by field key.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// Staff: the client the ticket is for (required for staff; a client user's own otherwise).
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>)]
    pub client_id: Option<ClientId>,
    /// Staff: who asked (a user of that client; default the caller).
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>)]
    pub requester_id: Option<UserId>,
    /// Files of the ticket's project to attach (upload them first with
    /// `POST /projects/{id}/files`); at most 10.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub attachment_ids: Option<Vec<FileId>>,
}

impl TicketBody {
    /// The store's input.
    pub fn into_new(self) -> NewTicket {
        NewTicket {
            client_id: self.client_id,
            project_id: self.project_id,
            requester_id: self.requester_id,
            subject: self.subject,
            body: self.body,
            priority: self.priority,
            fields: self.fields.unwrap_or_default(),
            files: TicketFiles { existing: self.attachment_ids.unwrap_or_default(), ..Default::default() },
        }
    }
}

/// `PATCH /tickets/{id}`: staff change anything here; a requester or client admin only
/// `status` to `solved`, or back to `open`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatchBody {
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>)]
    pub status: Option<TicketStatus>,
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>)]
    pub priority: Option<Priority>,
    /// `null` unassigns.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<Option<UserId>>,
    /// `null` makes it a general request.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub project_id: Option<Option<ProjectId>>,
    pub subject: Option<String>,
}

impl TicketPatchBody {
    /// The store's input.
    pub fn into_patch(self) -> TicketPatch {
        TicketPatch {
            status: self.status,
            priority: self.priority,
            assignee_id: self.assignee_id,
            project_id: self.project_id,
            subject: self.subject,
        }
    }
}

/// `?status=&assignee=&client_id=&project_id=&priority=&limit=&cursor=` of `GET /tickets`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TicketQuery {
    #[serde(default, deserialize_with = "empty_none")]
    #[param(value_type = Option<String>)]
    pub status: Option<TicketStatus>,
    /// `me`, `none` or a staff user's id.
    pub assignee: Option<String>,
    #[serde(default, deserialize_with = "empty_none")]
    #[param(value_type = Option<String>)]
    pub client_id: Option<ClientId>,
    #[serde(default, deserialize_with = "empty_none")]
    #[param(value_type = Option<String>)]
    pub project_id: Option<ProjectId>,
    #[serde(default, deserialize_with = "empty_none")]
    #[param(value_type = Option<String>)]
    pub priority: Option<Priority>,
    /// Page size, 1..=200 (default 50).
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The `assignee` filter: `me`, `none` or a user id.
pub fn assignee_filter(raw: Option<&str>, me: UserId) -> atrium_core::Result<Option<AssigneeFilter>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some("me") => Ok(Some(AssigneeFilter::User(me))),
        Some("none") => Ok(Some(AssigneeFilter::Nobody)),
        Some(s) => s
            .parse::<uuid::Uuid>()
            .map(|u| Some(AssigneeFilter::User(UserId(u))))
            .map_err(|_| Error::invalid("assignee", "must be `me`, `none` or a user id")),
    }
}

/// `POST /tickets/{id}/comments`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketCommentBody {
    /// Markdown.
    pub body: String,
    /// `reply` (the client sees it) or `note` (staff only).
    pub visibility: Visibility,
}

/// `POST /tickets/{id}/satisfaction`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    pub rating: Satisfaction,
    pub comment: Option<String>,
}

/// `POST /tickets/bulk`: one change to several tickets (staff).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// 1 to 100 ticket ids.
    #[schema(value_type = Vec<String>)]
    pub ids: Vec<TicketId>,
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>)]
    pub status: Option<TicketStatus>,
    /// `null` unassigns.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<Option<UserId>>,
}

/// `?client_id=` of the satisfaction score.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ScoreQuery {
    /// One client's score (default: the agency's).
    #[serde(default, deserialize_with = "empty_none")]
    #[param(value_type = Option<String>)]
    pub client_id: Option<ClientId>,
}

/// Open a ticket (client admins and finance users for their own company; staff for a client).
#[utoipa::path(post, path = "/api/v1/tickets", tag = "help desk", request_body = TicketBody,
    responses((status = 201, body = Ticket), (status = 403), (status = 404), (status = 422), (status = 429)))]
pub async fn create_ticket(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<TicketBody>,
) -> AppResult<(StatusCode, Json<Ticket>)> {
    Ok((StatusCode::CREATED, Json(st.store.create_ticket(&auth.actor, b.into_new(), Some(&ip)).await?)))
}

/// Tickets the caller may read, newest first: staff every client's (filtered); client admins
/// and viewers their client's; finance users the ones they asked.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "help desk", params(TicketQuery),
    responses((status = 200, body = List<Ticket>), (status = 422)))]
pub async fn list_tickets(
    State(st): State<AppState>,
    auth: Authed,
    Q(q): Q<TicketQuery>,
) -> AppResult<Json<List<Ticket>>> {
    let req = Paging { limit: q.limit, cursor: q.cursor }.request()?;
    let filter = TicketFilter {
        statuses: q.status.into_iter().collect(),
        assignee: assignee_filter(q.assignee.as_deref(), auth.actor.user_id())?,
        client_id: q.client_id,
        project_id: q.project_id,
        priority: q.priority,
    };
    Ok(Json(st.store.tickets(&auth.actor.ticket_scope(), &filter, req).await?.into()))
}

/// One ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "help desk", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Ticket), (status = 404)))]
pub async fn get_ticket(State(st): State<AppState>, auth: Authed, Id(id): Id<TicketId>) -> AppResult<Json<Ticket>> {
    Ok(Json(st.store.ticket(&auth.actor.ticket_scope(), id).await?))
}

/// The files attached to a ticket when it was opened, by name (none for a caller who does
/// not see the project's files; staff-only files only for staff).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/attachments", tag = "help desk", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<File>), (status = 404)))]
pub async fn list_attachments(
    State(st): State<AppState>,
    auth: Authed,
    Id(id): Id<TicketId>,
) -> AppResult<Json<List<File>>> {
    let items = st.store.ticket_attachments(&auth.actor, id).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// Change a ticket.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "help desk", params(("id" = uuid::Uuid, Path)),
    request_body = TicketPatchBody,
    responses((status = 200, body = Ticket), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update_ticket(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<TicketId>,
    ApiJson(b): ApiJson<TicketPatchBody>,
) -> AppResult<Json<Ticket>> {
    Ok(Json(st.store.update_ticket(&auth.actor, id, b.into_patch(), Some(&ip)).await?))
}

/// Change several tickets at once (staff): assign, unassign, set a status.
#[utoipa::path(post, path = "/api/v1/tickets/bulk", tag = "help desk", request_body = BulkBody,
    responses((status = 200, body = List<Ticket>), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn bulk_update(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<BulkBody>,
) -> AppResult<Json<List<Ticket>>> {
    let patch = TicketPatch { status: b.status, assignee_id: b.assignee_id, ..Default::default() };
    let items = st.store.bulk_update_tickets(&auth.actor, &b.ids, patch, Some(&ip)).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// A ticket's conversation, oldest first (notes for staff only).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/comments", tag = "help desk", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<TicketComment>), (status = 404)))]
pub async fn list_comments(
    State(st): State<AppState>,
    auth: Authed,
    Id(id): Id<TicketId>,
) -> AppResult<Json<List<TicketComment>>> {
    let items = st.store.ticket_comments(&auth.actor.ticket_scope(), id).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// Answer on a ticket: a Reply, or (staff) an internal Note.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/comments", tag = "help desk", params(("id" = uuid::Uuid, Path)),
    request_body = TicketCommentBody,
    responses((status = 201, body = TicketComment), (status = 403), (status = 404), (status = 409), (status = 422), (status = 429)))]
pub async fn create_comment(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<TicketId>,
    ApiJson(b): ApiJson<TicketCommentBody>,
) -> AppResult<(StatusCode, Json<TicketComment>)> {
    let c = st.store.create_ticket_comment(&auth.actor, id, b.body, b.visibility, Some(&ip)).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Turn a ticket into a task of its project (staff), linked both ways.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/task", tag = "help desk", params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = Task), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn to_task(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<TicketId>,
) -> AppResult<(StatusCode, Json<Task>)> {
    Ok((StatusCode::CREATED, Json(st.store.ticket_to_task(&auth.actor, id, Some(&ip)).await?)))
}

/// Rate a solved ticket (its requester).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/satisfaction", tag = "help desk", params(("id" = uuid::Uuid, Path)),
    request_body = RatingBody,
    responses((status = 201, body = Ticket), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn rate(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<TicketId>,
    ApiJson(b): ApiJson<RatingBody>,
) -> AppResult<(StatusCode, Json<Ticket>)> {
    let t = st.store.rate_ticket(&auth.actor, id, b.rating, b.comment, Some(&ip)).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// The satisfaction score (% good − % bad) of the agency or one client (staff).
#[utoipa::path(get, path = "/api/v1/tickets/satisfaction", tag = "help desk", params(ScoreQuery),
    responses((status = 200, body = SatisfactionScore), (status = 404)))]
pub async fn score(
    State(st): State<AppState>,
    auth: Authed,
    Q(q): Q<ScoreQuery>,
) -> AppResult<Json<SatisfactionScore>> {
    Ok(Json(st.store.satisfaction_score(&auth.actor, q.client_id).await?))
}
