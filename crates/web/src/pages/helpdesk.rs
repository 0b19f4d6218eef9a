//! The help desk's pages: a ticket (shared by both sides like the task page: the store's ticket
//! scope leaves notes out of the portal), and the portal's Help desk — the client's tickets, the
//! form to ask for help or new work, answering, solving and rating. The staff inbox is in
//! `staff/inbox.rs`.

use std::collections::HashMap;

use askama::Template;
use atrium_core::helpdesk::{Satisfaction, Ticket, TicketStatus, ticket_label};
use atrium_core::ids::{ProjectId, TicketId, UserId};
use atrium_core::model::{Priority, Visibility};
use atrium_core::policy::{Side, TicketChange};
use atrium_store::paging::PageRequest;
use atrium_store::tickets::{NewTicket, TicketFilter, TicketPatch};
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use super::view::{CommentView, Opt, opts};
use super::{Chrome, page, prefix, see_other};
use crate::api::input::empty_none;
use crate::audience::{PortalAuth, SideAuth};
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::state::AppState;
use atrium_core::local_time::LocalTime;

/// A ticket in a list.
#[derive(Clone, Debug)]
pub struct TicketRow {
    pub id: String,
    pub href: String,
    pub label: String,
    pub subject: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub priority: &'static str,
    pub priority_label: &'static str,
    pub client: String,
    pub project: String,
    pub requester: String,
    pub assignee: String,
    pub updated: String,
    /// When the next answer is due ("" when nothing is due).
    pub due: String,
    /// Which answer is due: "First response" until there is one, then "Resolution".
    pub due_what: &'static str,
    pub breached: bool,
}

/// Builds list rows; `names` resolves people, `clients` and `projects` their names.
pub fn ticket_rows(
    tickets: &[Ticket],
    side: Side,
    local: LocalTime,
    names: &HashMap<UserId, String>,
    clients: &HashMap<atrium_core::ids::ClientId, String>,
    projects: &HashMap<ProjectId, String>,
) -> Vec<TicketRow> {
    let now = Utc::now();
    let href = match side {
        Side::Staff => "/staff/tickets",
        Side::Portal => "/portal/helpdesk",
    };
    tickets
        .iter()
        .map(|t| {
            let due = t.next_due(now);
            TicketRow {
                id: t.id.to_string(),
                href: format!("{href}/{}", t.id),
                label: ticket_label(t.number),
                subject: t.subject.clone(),
                status: t.status.as_str(),
                status_label: if side == Side::Staff { t.status.staff_label() } else { t.status.label() },
                priority: t.priority.as_str(),
                priority_label: t.priority.label(),
                client: clients.get(&t.client_id).cloned().unwrap_or_default(),
                project: t.project_id.and_then(|p| projects.get(&p).cloned()).unwrap_or_else(|| "General".into()),
                requester: names.get(&t.requester_id).cloned().unwrap_or_default(),
                assignee: t.assignee_id.and_then(|a| names.get(&a).cloned()).unwrap_or_default(),
                updated: local.named(t.updated_at),
                due: due.map(|(d, _)| local.named(d)).unwrap_or_default(),
                due_what: if t.first_responded_at.is_none() { "First response" } else { "Resolution" },
                breached: due.is_some_and(|(_, late)| late),
            }
        })
        .collect()
}

/// The people named by `tickets` (requesters and assignees).
pub fn people_of(tickets: &[Ticket]) -> Vec<UserId> {
    let mut ids: Vec<UserId> = tickets.iter().map(|t| t.requester_id).collect();
    ids.extend(tickets.iter().filter_map(|t| t.assignee_id));
    ids.sort();
    ids.dedup();
    ids
}

/// One answer of the request form, as the ticket shows it: by the field's label, a file
/// answer as a link to the file (when the reader sees it).
pub struct FieldView {
    pub label: String,
    pub value: String,
    /// The file's page ("" when not a file, or not visible to the reader).
    pub href: String,
}

/// A file attached to the ticket.
pub struct AttachmentView {
    pub name: String,
    pub href: String,
    pub size: String,
}

/// The ticket's answers in its form's order, with file answers resolved to names the reader
/// may see.
async fn field_views(
    st: &AppState,
    a: &atrium_core::policy::Actor,
    t: &Ticket,
    side: Side,
) -> AppResult<Vec<FieldView>> {
    if t.fields.is_empty() {
        return Ok(Vec::new());
    }
    let form = match t.project_id {
        Some(p) => st.store.request_form(&a.work_scope(), p).await.unwrap_or_default(),
        None => Default::default(),
    };
    let mut out = Vec::new();
    for row in super::request_form::answer_rows(&form, &t.fields) {
        let file = match row.file_id.as_deref().and_then(|f| f.parse::<atrium_core::ids::FileId>().ok()) {
            Some(id) => st.store.file(a, id).await.ok(),
            None => None,
        };
        out.push(match (file, row.file_id.is_some()) {
            (Some(f), _) => {
                FieldView { label: row.label, value: f.name, href: format!("{}/files/{}", prefix(side), f.id) }
            }
            (None, true) => FieldView { label: row.label, value: "a file you cannot see".into(), href: String::new() },
            (None, false) => FieldView { label: row.label, value: row.value, href: String::new() },
        });
    }
    Ok(out)
}

/// The files attached to the ticket that the reader sees.
async fn attachment_views(
    st: &AppState,
    a: &atrium_core::policy::Actor,
    id: TicketId,
    side: Side,
) -> AppResult<Vec<AttachmentView>> {
    Ok(st
        .store
        .ticket_attachments(a, id)
        .await?
        .into_iter()
        .map(|f| AttachmentView {
            href: format!("{}/files/{}", prefix(side), f.id),
            size: super::files::human_size(f.size),
            name: f.name,
        })
        .collect())
}

/// The ticket page, for both sides.
#[derive(Template)]
#[template(path = "ticket.html")]
pub struct TicketPage {
    pub chrome: Chrome,
    pub staff: bool,
    pub prefix: &'static str,
    pub t: TicketRow,
    pub body_html: String,
    pub fields: Vec<FieldView>,
    pub attachments: Vec<AttachmentView>,
    pub created: String,
    pub comments: Vec<CommentView>,
    pub can_reply: bool,
    pub can_solve: bool,
    pub can_reopen: bool,
    /// The requester may rate it (solved or closed).
    pub can_rate: bool,
    pub rating: &'static str,
    pub rating_comment: String,
    /// Portal: "We'll answer by …" (empty when nothing is due).
    pub expected: String,
    /// Staff: the details form.
    pub statuses: Vec<Opt>,
    pub priorities: Vec<Opt>,
    pub people: Vec<Opt>,
    pub projects: Vec<Opt>,
    pub task_href: String,
    pub can_make_task: bool,
    pub closed: bool,
    /// What the staff composer's "Insert saved reply" offers (empty on the portal).
    pub saved_replies: Vec<super::composer::SavedReplyPick>,
}

/// The ticket page for the side `auth` was admitted to.
pub async fn ticket_page(st: &AppState, auth: &SideAuth, csrf: &CsrfToken, id: TicketId) -> AppResult<Response> {
    let side = auth.side();
    let staff = side == Side::Staff;
    let a = &auth.actor;
    let scope = a.ticket_scope();
    let t = st.store.ticket(&scope, id).await?;
    let comments = st.store.ticket_comments(&scope, id).await?;
    let mut ids = people_of(std::slice::from_ref(&t));
    ids.extend(comments.iter().map(|c| c.author_id));
    let names = st.store.user_names(a, &ids).await?;
    let clients = if staff {
        HashMap::from([(t.client_id, st.store.client(&a.client_scope(), t.client_id).await?.name)])
    } else {
        HashMap::new()
    };
    let projects = st.store.ticket_project_names(a, std::slice::from_ref(&t)).await?;
    let local = st.store.local_time(a).await?;
    let row = ticket_rows(std::slice::from_ref(&t), side, local, &names, &clients, &projects).remove(0);
    let active = if staff { "/staff/inbox" } else { "/portal/helpdesk" };
    let mut chrome = Chrome::signed_in(st, auth, csrf, format!("{} {}", row.label, t.subject), active);
    chrome.live = format!("ticket:{id}");
    let requester = t.requester_id == a.user_id();
    let solved = matches!(t.status, TicketStatus::Solved | TicketStatus::Closed);
    let may = |to| a.may_change_ticket(t.requester_id, TicketChange::SolveOrReopen, Some(to)).is_ok();
    let mut view = TicketPage {
        chrome,
        staff,
        prefix: prefix(side),
        body_html: t.body_html.clone(),
        fields: field_views(st, a, &t, side).await?,
        attachments: attachment_views(st, a, id, side).await?,
        created: local.named(t.created_at),
        comments: comments
            .iter()
            .map(|c| CommentView {
                author: names.get(&c.author_id).cloned().unwrap_or_else(|| "Someone".into()),
                body_html: c.body_html.clone(),
                note: c.visibility == Visibility::Note,
                when: local.named(c.created_at),
            })
            .collect(),
        can_reply: a.may_comment_on_ticket(Visibility::Reply).is_ok() && (staff || t.status != TicketStatus::Closed),
        can_solve: !staff && t.status.is_active() && may(TicketStatus::Solved),
        can_reopen: !staff && t.status == TicketStatus::Solved && may(TicketStatus::Open),
        can_rate: !staff && requester && solved && a.may_rate_ticket(t.requester_id).is_ok(),
        rating: t.satisfaction.map_or("", Satisfaction::as_str),
        rating_comment: t.satisfaction_comment.clone().unwrap_or_default(),
        expected: if staff { String::new() } else { row.due.clone() },
        statuses: vec![],
        priorities: vec![],
        people: vec![],
        projects: vec![],
        task_href: t.task_id.map(|task| format!("{}/tasks/{task}", prefix(side))).unwrap_or_default(),
        can_make_task: false,
        closed: t.status == TicketStatus::Closed,
        saved_replies: if staff { super::composer::saved_reply_picks(st, a).await? } else { Vec::new() },
        t: row,
    };
    if staff {
        view.statuses = opts(TicketStatus::ALL, Some(t.status), TicketStatus::as_str, TicketStatus::staff_label);
        view.priorities = opts(Priority::ALL, Some(t.priority), Priority::as_str, Priority::label);
        let staff_people = st.store.staff_users(a).await?;
        let active_staff: Vec<_> = staff_people.into_iter().filter(|u| u.active).collect();
        view.people = super::view::people_opts(&active_staff, t.assignee_id, "Unassigned");
        let client_projects = st.store.projects(&a.work_scope(), Some(t.client_id), PageRequest::all()).await?.items;
        view.projects =
            vec![Opt { value: String::new(), label: "General (no project)".into(), selected: t.project_id.is_none() }];
        view.projects.extend(client_projects.iter().map(|p| Opt {
            value: p.id.to_string(),
            label: p.name.clone(),
            selected: Some(p.id) == t.project_id,
        }));
        view.can_make_task = t.task_id.is_none() && t.project_id.is_some();
    }
    page(&view)
}

/// The portal's Help desk: the client's tickets (a finance user's own) and the way to ask.
#[derive(Template)]
#[template(path = "helpdesk.html")]
struct HelpdeskPage {
    chrome: Chrome,
    rows: Vec<TicketRow>,
    filter: &'static str,
    can_open: bool,
    projects: Vec<Opt>,
}

/// `?status=` of the portal list: `open` (default: everything not closed) or `all`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpdeskQuery {
    pub status: Option<String>,
}

/// `GET /portal/helpdesk`.
pub async fn portal_list(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    Q(q): Q<HelpdeskQuery>,
) -> AppResult<Response> {
    let a = &auth.actor;
    let all = q.status.as_deref() == Some("all");
    let filter = TicketFilter {
        statuses: if all {
            vec![]
        } else {
            TicketStatus::ALL.iter().copied().filter(|s| *s != TicketStatus::Closed).collect()
        },
        ..Default::default()
    };
    let tickets = st.store.tickets(&a.ticket_scope(), &filter, PageRequest { limit: 100, cursor: None }).await?.items;
    let names = st.store.user_names(a, &people_of(&tickets)).await?;
    let projects = st.store.ticket_project_names(a, &tickets).await?;
    let local = st.store.local_time(&auth.actor).await?;
    let rows = ticket_rows(&tickets, Side::Portal, local, &names, &HashMap::new(), &projects);
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, "Help desk", "/portal/helpdesk");
    chrome.live = "tickets".into();
    let view = HelpdeskPage {
        chrome,
        rows,
        filter: if all { "all" } else { "open" },
        can_open: a.may_open_ticket().is_ok(),
        projects: project_choices(&st, &auth, None).await?,
    };
    page(&view)
}

/// The projects a client user may ask about, as options ("General" first).
async fn project_choices(st: &AppState, auth: &PortalAuth, selected: Option<ProjectId>) -> AppResult<Vec<Opt>> {
    let list = st.store.projects(&auth.actor.work_scope(), None, PageRequest::all()).await?.items;
    let mut out = vec![Opt { value: String::new(), label: "General question".into(), selected: selected.is_none() }];
    out.extend(list.iter().map(|p| Opt {
        value: p.id.to_string(),
        label: p.name.clone(),
        selected: Some(p.id) == selected,
    }));
    Ok(out)
}

/// The request form: subject, description, priority (and, with the project's request form,
/// its fields).
#[derive(Template)]
#[template(path = "helpdesk_new.html")]
struct NewTicketPage {
    chrome: Chrome,
    project_name: String,
    projects: Vec<Opt>,
    priorities: Vec<Opt>,
    /// The project's request form (empty for a general question).
    form_inputs: Vec<super::request_form::FormInput>,
    attachments_max: usize,
    /// The upload limit per file, for people ("25 MB").
    max_upload: String,
}

/// `?project_id=` of the request form.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicketQuery {
    #[serde(default, deserialize_with = "empty_none")]
    pub project_id: Option<ProjectId>,
}

/// `GET /portal/helpdesk/new`.
pub async fn portal_new(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    Q(q): Q<NewTicketQuery>,
) -> AppResult<Response> {
    auth.actor.may_open_ticket()?;
    let (project_name, form_inputs) = match q.project_id {
        Some(p) => {
            let name = st.store.project(&auth.actor.work_scope(), p).await?.name;
            let form = st.store.request_form(&auth.actor.work_scope(), p).await?;
            (name, super::request_form::form_inputs(&form, &serde_json::Map::new()))
        }
        None => (String::new(), Vec::new()),
    };
    let view = NewTicketPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "Ask for help", "/portal/helpdesk"),
        project_name,
        projects: project_choices(&st, &auth, q.project_id).await?,
        priorities: opts(Priority::ALL, Some(Priority::Normal), Priority::as_str, Priority::label),
        form_inputs,
        attachments_max: atrium_store::ticket_files::ATTACHMENTS_MAX,
        max_upload: super::files::human_size(st.config.max_upload),
    };
    page(&view)
}

/// `POST /portal/helpdesk` (multipart): opens the ticket and shows it. The fields are read as
/// pairs: the project's request form adds inputs named `field.<key>`, checked by the store
/// against the form (422 naming `fields.<key>`); files (`attachments`, and the form's file
/// fields) go into the project's files with the ticket, or not at all.
pub async fn portal_create(
    State(st): State<AppState>,
    auth: PortalAuth,
    ClientIp(ip): ClientIp,
    form: axum::extract::Multipart,
) -> AppResult<Response> {
    auth.actor.may_open_ticket()?;
    let sent = super::request_upload::read(&st, &auth.actor, form).await?;
    match open_from_form(&st, &auth, &ip, &sent).await {
        Ok(t) => Ok(see_other(&format!("/portal/helpdesk/{}", t.id))),
        Err(e) => {
            sent.discard(&st).await;
            Err(e)
        }
    }
}

async fn open_from_form(
    st: &AppState,
    auth: &PortalAuth,
    ip: &str,
    sent: &super::request_upload::SentRequest,
) -> AppResult<Ticket> {
    let pairs = &sent.pairs;
    let one = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let project_id = match one("project_id").as_str() {
        "" => None,
        p => Some(p.parse::<ProjectId>().map_err(|_| atrium_core::Error::invalid("project_id", "no such project"))?),
    };
    let priority = match one("priority").as_str() {
        "" => None,
        p => Some(p.parse::<Priority>().map_err(|m| atrium_core::Error::invalid("priority", m))?),
    };
    let fields = match project_id {
        Some(p) => {
            let form = st.store.request_form(&auth.actor.work_scope(), p).await.map_err(|e| match e {
                atrium_core::Error::NotFound => {
                    atrium_core::Error::invalid("project_id", "no such project of this client")
                }
                other => other,
            })?;
            form.answers_from_form(pairs)
        }
        None => serde_json::Map::new(),
    };
    let n = NewTicket {
        project_id,
        subject: one("subject"),
        body: one("body"),
        priority,
        fields,
        files: sent.files.clone(),
        ..Default::default()
    };
    Ok(st.store.create_ticket(&auth.actor, n, Some(ip)).await?)
}

/// `GET /portal/helpdesk/{id}`.
pub async fn portal_ticket(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    Id(id): Id<TicketId>,
) -> AppResult<Response> {
    ticket_page(&st, &auth.into(), &csrf, id).await
}

/// `POST …/tickets/{id}/comments` on either side: a Reply, or (staff) a Note.
pub async fn comment(
    State(st): State<AppState>,
    auth: SideAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<TicketId>,
    FormBody(f): FormBody<crate::api::input::CommentBody>,
) -> AppResult<Response> {
    let (body, vis) = f.validate()?;
    st.store.create_ticket_comment(&auth.actor, id, body, vis, Some(&ip)).await?;
    let path = match auth.side() {
        Side::Staff => format!("/staff/tickets/{id}#comments"),
        Side::Portal => format!("/portal/helpdesk/{id}#comments"),
    };
    Ok(see_other(&path))
}

/// `status=solved|open` of the portal's buttons.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusForm {
    pub status: TicketStatus,
}

/// `POST /portal/helpdesk/{id}/status`: mark solved, or open again.
pub async fn portal_status(
    State(st): State<AppState>,
    auth: PortalAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<TicketId>,
    FormBody(f): FormBody<StatusForm>,
) -> AppResult<Response> {
    let patch = TicketPatch { status: Some(f.status), ..Default::default() };
    st.store.update_ticket(&auth.actor, id, patch, Some(&ip)).await?;
    Ok(see_other(&format!("/portal/helpdesk/{id}")))
}

/// The rating form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingForm {
    pub rating: Satisfaction,
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /portal/helpdesk/{id}/satisfaction`.
pub async fn portal_rate(
    State(st): State<AppState>,
    auth: PortalAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<TicketId>,
    FormBody(f): FormBody<RatingForm>,
) -> AppResult<Response> {
    st.store.rate_ticket(&auth.actor, id, f.rating, f.comment, Some(&ip)).await?;
    Ok(see_other(&format!("/portal/helpdesk/{id}#rating")))
}

/// `GET /portal/helpdesk/badge`: how many of the caller's tickets wait for their answer.
pub async fn portal_badge(State(st): State<AppState>, auth: PortalAuth) -> AppResult<Response> {
    let n = st.store.count_tickets(&auth.actor.ticket_scope(), TicketStatus::Pending).await?;
    Ok(count_badge(n, "waiting for you"))
}

/// A count for a navigation link (nothing when zero), with its meaning for screen readers.
pub fn count_badge(n: u64, what: &'static str) -> Response {
    if n == 0 {
        return Html(String::new()).into_response();
    }
    Html(format!(r#"<span class="count">{n}<span class="sr-only"> {what}</span></span>"#)).into_response()
}
