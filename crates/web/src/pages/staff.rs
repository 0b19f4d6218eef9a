//! The staff side: My work, clients, client page, project page, task page, team, View as client.

use std::collections::HashMap;

use askama::Template;
use atrium_core::ids::{ClientId, ContactId, MilestoneId, ProjectId, TaskId, UserId};
use atrium_core::model::{ClientStatus, Contact, Priority, ProjectStatus, Role, TaskStatus, User};
use atrium_core::{Error, markdown};
use atrium_store::audit::{AuditAction, Entry};
use atrium_store::paging::PageRequest;
use atrium_store::work::TaskFilter;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::account::{Notice, notice_text};
use super::view::{DueGroups, Opt, ProjectCard, TaskRow, comment_views, due_label, opts, project_card, task_row};
use super::{Chrome, render, see_other};
use crate::api::input::{
    ClientPatchBody, CommentBody, ContactBody, InvitationBody, MilestoneBody, ProjectBody, ProjectPatchBody, TaskBody,
    TaskPatchBody, empty_none, name,
};
use crate::auth::Authed;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Q};
use crate::flows;
use crate::state::AppState;

fn page(t: &impl Template) -> AppResult<Response> {
    Ok(render(t)?.into_response())
}

pub(super) async fn client_names(st: &AppState, auth: &Authed) -> AppResult<HashMap<ClientId, String>> {
    let cs = st.store.clients(&auth.actor.client_scope(), PageRequest::all()).await?;
    Ok(cs.items.into_iter().map(|c| (c.id, c.name)).collect())
}

// ----- My work -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "staff_my_work.html")]
struct MyWorkPage {
    chrome: Chrome,
    groups: DueGroups,
    open_total: usize,
    /// Open approvals I requested.
    approvals: Vec<super::approvals::ApprovalRow>,
}

/// Every open task assigned to me across all clients, grouped by due date.
pub async fn my_work(State(st): State<AppState>, auth: Authed, csrf: CsrfToken) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let me = auth.actor.user_id();
    let tasks = st.store.tasks_assigned(&auth.actor.work_scope(), me, false, PageRequest::all()).await?;
    let names = HashMap::from([(me, auth.actor.name().to_string())]);
    let clients = client_names(&st, &auth).await?;
    let open_total = tasks.items.len();
    let rows = tasks
        .items
        .iter()
        .map(|t| {
            let label = format!("{} · {}", clients.get(&t.client_id).map(String::as_str).unwrap_or(""), t.project_name);
            (t.task.due_date, task_row(&t.task, &names, &label, me))
        })
        .collect();
    page(&MyWorkPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "My work", "/staff"),
        groups: DueGroups::build(rows),
        open_total,
        approvals: super::approvals::rows(&st.store.approvals_for_user_open(&auth.actor).await?, true),
    })
}

// ----- clients -------------------------------------------------------------------------------

struct ClientRow {
    id: String,
    name: String,
    archived: bool,
    projects: u64,
}

#[derive(Template)]
#[template(path = "staff_clients.html")]
struct ClientsPage {
    chrome: Chrome,
    clients: Vec<ClientRow>,
    deleted: Vec<DeletedRow>,
}

/// A deleted client, restorable until purged.
struct DeletedRow {
    id: String,
    name: String,
    at: String,
}

/// All clients.
pub async fn clients(
    State(st): State<AppState>,
    auth: Authed,
    csrf: CsrfToken,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let cs = st.store.clients(&auth.actor.client_scope(), PageRequest::all()).await?;
    let counts = st.store.project_counts(&auth.actor.work_scope()).await?;
    let mut clients: Vec<ClientRow> = cs
        .items
        .into_iter()
        .map(|c| ClientRow {
            id: c.id.to_string(),
            archived: c.status == ClientStatus::Archived,
            projects: counts.get(&c.id).copied().unwrap_or(0),
            name: c.name,
        })
        .collect();
    // Current clients first, archived ones after them; each by name.
    clients.sort_by_key(|c| (c.archived, c.name.to_lowercase()));
    // Deleted clients are listed (for restoring) to those who may delete them.
    let deleted = if auth.actor.may_delete_client().is_ok() {
        st.store
            .deleted_clients(&auth.actor)
            .await?
            .into_iter()
            .map(|(c, at)| DeletedRow { id: c.id.to_string(), name: c.name, at: at.format("%b %-d, %Y").to_string() })
            .collect()
    } else {
        Vec::new()
    };
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, "Clients", "/staff/clients");
    chrome.flash = notice_text(n.notice.as_deref());
    page(&ClientsPage { chrome, clients, deleted })
}

/// New client fields.
#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

/// Creates a client.
pub async fn create_client(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<NameForm>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let c = st.store.create_client(&auth.actor, name("name", &f.name)?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{}", c.id)))
}

struct PersonRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    active: bool,
    /// Whether the viewer may deactivate / reactivate this account.
    can_toggle: bool,
}

impl PersonRow {
    fn of(u: User, viewer: &atrium_core::policy::Actor) -> Self {
        PersonRow {
            can_toggle: viewer.may_set_user_active(u.id, u.role).is_ok(),
            id: u.id.to_string(),
            name: u.name,
            email: u.email,
            role: u.role.label(),
            active: u.active,
        }
    }
}

struct InviteRow {
    email: String,
    role: &'static str,
    expires: String,
}

#[derive(Template)]
#[template(path = "staff_client.html")]
struct ClientPage {
    chrome: Chrome,
    id: String,
    name: String,
    archived: bool,
    can_audit: bool,
    can_delete: bool,
    people: Vec<PersonRow>,
    invitations: Vec<InviteRow>,
    contacts: Vec<Contact>,
    projects: Vec<ProjectCard>,
    roles: Vec<Opt>,
    statuses: Vec<Opt>,
}

/// One client: portal users, invitations, contacts, projects.
pub async fn client(
    State(st): State<AppState>,
    auth: Authed,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let cid: ClientId = id.parse()?;
    let c = st.store.client(&auth.actor.client_scope(), cid).await?;
    let people = st
        .store
        .client_users(&auth.actor.client_scope(), cid)
        .await?
        .into_iter()
        .map(|u| PersonRow::of(u, &auth.actor))
        .collect();
    let invitations = st
        .store
        .pending_invitations(cid)
        .await?
        .into_iter()
        .map(|i| InviteRow { email: i.email, role: i.role.label(), expires: i.expires_at.format("%b %-d").to_string() })
        .collect();
    let projects = st
        .store
        .projects(&auth.actor.work_scope(), Some(cid), PageRequest::all())
        .await?
        .items
        .iter()
        .map(|p| project_card(p, &c.name))
        .collect();
    let contacts = st.store.contacts(&auth.actor.client_scope(), cid).await?;
    let client_roles = [Role::ClientAdmin, Role::ClientViewer, Role::ClientFinance];
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, c.name.clone(), "/staff/clients");
    chrome.flash = notice_text(n.notice.as_deref());
    page(&ClientPage {
        chrome,
        id: c.id.to_string(),
        name: c.name,
        archived: c.status == ClientStatus::Archived,
        can_audit: auth.actor.may_read_audit().is_ok(),
        can_delete: auth.actor.may_delete_client().is_ok(),
        people,
        invitations,
        contacts,
        projects,
        roles: opts(&client_roles, Some(Role::ClientAdmin), Role::as_str, Role::label),
        statuses: opts(ProjectStatus::ALL, Some(ProjectStatus::Active), ProjectStatus::as_str, ProjectStatus::label),
    })
}

/// Adds a contact to a client.
pub async fn add_contact(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<ContactBody>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let cid: ClientId = id.parse()?;
    st.store.create_contact(&auth.actor, cid, f.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=contact_added")))
}

/// Removes a contact.
pub async fn remove_contact(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: ContactId = id.parse()?;
    let cid = st.store.delete_contact(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=contact_removed")))
}

/// Renames a client, or archives / restores it.
pub async fn update_client(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<ClientPatchBody>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let cid: ClientId = id.parse()?;
    let n = f.name.map(|n| name("name", &n)).transpose()?;
    st.store.update_client(&auth.actor, cid, n, f.status, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=saved")))
}

/// Deletes a client (soft; owners and admins).
pub async fn delete_client(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let cid: ClientId = id.parse()?;
    st.store.delete_client(&auth.actor, cid, Some(&ip)).await?;
    Ok(see_other("/staff/clients?notice=client_deleted"))
}

/// Restores a deleted client (owners and admins).
pub async fn restore_client(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let cid: ClientId = id.parse()?;
    st.store.restore_client(&auth.actor, cid, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=client_restored")))
}

/// Invitation form fields.
#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    role: Role,
}

/// Invites a client user.
pub async fn invite(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<InviteForm>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let cid: ClientId = id.parse()?;
    st.store.client(&auth.actor.client_scope(), cid).await?;
    if f.role.is_staff() {
        return Err(Error::invalid("role", "must be a client role").into());
    }
    flows::invite(
        &st,
        &auth.actor,
        &ip,
        InvitationBody { email: f.email, name: f.name, role: f.role, client_id: Some(cid) },
    )
    .await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=invited")))
}

/// New project fields (the client comes from the path).
#[derive(Deserialize)]
pub struct ProjectForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "empty_none")]
    status: Option<ProjectStatus>,
    #[serde(default, deserialize_with = "empty_none")]
    start_date: Option<chrono::NaiveDate>,
    #[serde(default, deserialize_with = "empty_none")]
    due_date: Option<chrono::NaiveDate>,
}

/// Creates a project for the client.
pub async fn create_project(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<ProjectForm>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let cid: ClientId = id.parse()?;
    st.store.client(&auth.actor.client_scope(), cid).await?;
    let body = ProjectBody {
        client_id: cid,
        name: f.name,
        description: f.description,
        status: f.status,
        start_date: f.start_date,
        due_date: f.due_date,
    };
    let p = st.store.create_project(&auth.actor, body.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{}", p.id)))
}

/// Revokes every session and link of the client's users.
pub async fn revoke_access(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> AppResult<Response> {
    auth.actor.may_revoke_client_access()?;
    let cid: ClientId = id.parse()?;
    st.store.client(&auth.actor.client_scope(), cid).await?;
    st.store.revoke_client_access(&auth.actor, cid, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=access_revoked")))
}

/// "View as" form: which client user to view as.
#[derive(Deserialize)]
pub struct ViewAsForm {
    user_id: String,
}

/// Starts "View as client" (read-only, audited, banner on every page).
pub async fn view_as(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<ViewAsForm>,
) -> AppResult<Response> {
    auth.actor.may_view_as_client()?;
    let cid: ClientId = id.parse()?;
    let uid: UserId = f.user_id.parse().map_err(|_| Error::invalid("user_id", "no such user"))?;
    let users = st.store.client_users(&auth.actor.client_scope(), cid).await?;
    let viewed = users
        .into_iter()
        .find(|u| u.id == uid && u.active)
        .ok_or_else(|| Error::invalid("user_id", "no such active user of this client"))?;
    st.store.set_view_as(auth.session.id, Some(viewed.id)).await?;
    st.store.audit(Some(&auth.actor), Entry::user(AuditAction::ViewAsStart, viewed.id, Some(cid), Some(&ip))).await?;
    Ok(see_other("/portal"))
}

/// Leaves "View as client".
pub async fn exit_view_as(State(st): State<AppState>, auth: Authed, ClientIp(ip): ClientIp) -> AppResult<Response> {
    if let Some(viewed) = auth.session.view_as {
        st.store.set_view_as(auth.session.id, None).await?;
        st.store
            .audit(Some(&auth.actor), Entry::user(AuditAction::ViewAsStop, viewed, auth.actor.client_id(), Some(&ip)))
            .await?;
        if let Some(c) = auth.actor.client_id() {
            return Ok(see_other(&format!("/staff/clients/{c}")));
        }
    }
    Ok(see_other("/"))
}

// ----- team ----------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "staff_team.html")]
struct TeamPage {
    chrome: Chrome,
    staff: Vec<PersonRow>,
    can_invite: bool,
    roles: Vec<Opt>,
}

/// The agency's staff, and inviting more.
pub async fn team(State(st): State<AppState>, auth: Authed, csrf: CsrfToken, Q(n): Q<Notice>) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let staff = st.store.staff_users().await?.into_iter().map(|u| PersonRow::of(u, &auth.actor)).collect();
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, "Team", "/staff/team");
    chrome.flash = notice_text(n.notice.as_deref());
    let staff_roles = [Role::Staff, Role::Admin, Role::Owner];
    page(&TeamPage {
        chrome,
        staff,
        can_invite: auth.actor.may_invite(Role::Staff).is_ok(),
        roles: opts(&staff_roles, Some(Role::Staff), Role::as_str, Role::label),
    })
}

/// The milestone form: reached or not.
#[derive(Deserialize)]
pub struct MilestoneDoneForm {
    done: bool,
}

/// Marks a milestone reached (or not) and returns to its project.
pub async fn set_milestone_done(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<MilestoneDoneForm>,
) -> AppResult<Response> {
    let id: MilestoneId = id.parse()?;
    let m = st.store.set_milestone_done(&auth.actor, id, f.done, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{}?notice=saved", m.project_id)))
}

/// The deactivate / reactivate form.
#[derive(Deserialize)]
pub struct ActiveForm {
    active: bool,
}

/// Deactivates or reactivates an account (client user or staff), as the policy allows.
pub async fn set_user_active(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<ActiveForm>,
) -> AppResult<Response> {
    let id: UserId = id.parse()?;
    let u = st.store.set_user_active(&auth.actor, id, f.active, Some(&ip)).await?;
    let notice = if f.active { "reactivated" } else { "deactivated" };
    Ok(see_other(&match u.client_id {
        Some(c) => format!("/staff/clients/{c}?notice={notice}"),
        None => format!("/staff/team?notice={notice}"),
    }))
}

/// Invites a staff member (owners and admins).
pub async fn invite_staff(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<InviteForm>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    if !f.role.is_staff() {
        return Err(Error::invalid("role", "must be a staff role").into());
    }
    flows::invite(
        &st,
        &auth.actor,
        &ip,
        InvitationBody { email: f.email, name: f.name, role: f.role, client_id: None },
    )
    .await?;
    Ok(see_other("/staff/team?notice=invited"))
}

// ----- project -------------------------------------------------------------------------------

struct MilestoneView {
    id: String,
    name: String,
    due: String,
    done: bool,
}

#[derive(Template)]
#[template(path = "staff_project.html")]
struct ProjectPage {
    chrome: Chrome,
    p: ProjectCard,
    client_id: String,
    description_html: String,
    description: String,
    start_date: String,
    due_date: String,
    milestones: Vec<MilestoneView>,
    tasks: Vec<TaskRow>,
    open_count: usize,
    statuses: Vec<Opt>,
    filter_statuses: Vec<Opt>,
    filter_people: Vec<Opt>,
    people: Vec<Opt>,
    priorities: Vec<Opt>,
    milestone_opts: Vec<Opt>,
    filtered: bool,
    unread: atrium_store::messages::Unread,
}

/// Project page filters.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProjectFilter {
    #[serde(default, deserialize_with = "empty_none")]
    status: Option<TaskStatus>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    notice: Option<String>,
}

/// People who may be assigned tasks of a client's project: staff and that client's users.
async fn assignable(st: &AppState, auth: &Authed, client: ClientId) -> AppResult<Vec<User>> {
    let mut people = st.store.staff_users().await?;
    people.extend(st.store.client_users(&auth.actor.client_scope(), client).await?);
    people.retain(|u| u.active);
    Ok(people)
}

fn people_opts(people: &[User], selected: Option<UserId>, none_label: &str) -> Vec<Opt> {
    let mut v = vec![Opt { value: String::new(), label: none_label.into(), selected: selected.is_none() }];
    v.extend(people.iter().map(|u| Opt {
        value: u.id.to_string(),
        label: if u.role.is_staff() { u.name.clone() } else { format!("{} (client)", u.name) },
        selected: Some(u.id) == selected,
    }));
    v
}

/// A project: overview, milestones, filtered tasks, forms.
pub async fn project(
    State(st): State<AppState>,
    auth: Authed,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Q(f): Q<ProjectFilter>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let pid: ProjectId = id.parse()?;
    let scope = auth.actor.work_scope();
    let p = st.store.project(&scope, pid).await?;
    let client = st.store.client(&auth.actor.client_scope(), p.client_id).await?;
    let assignee = match f.assignee.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<UserId>().map_err(|_| Error::invalid("assignee", "no such user"))?),
    };
    let filter = TaskFilter { status: f.status, assignee, priority: None };
    let tasks = st.store.tasks(&scope, pid, &filter, PageRequest::all()).await?.items;
    let shown_open = tasks.iter().filter(|t| t.status != TaskStatus::Done).count();
    let people = assignable(&st, &auth, p.client_id).await?;
    let names: HashMap<UserId, String> = people.iter().map(|u| (u.id, u.name.clone())).collect();
    let milestones = st.store.milestones(&scope, pid).await?;
    let me = auth.actor.user_id();
    let unread = st.store.unread_messages(&auth.actor, pid).await?;
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, p.name.clone(), "/staff/clients");
    chrome.flash = notice_text(f.notice.as_deref());
    chrome.live = format!("project:{pid}");
    let mut filter_statuses = opts(TaskStatus::ALL, f.status, TaskStatus::as_str, TaskStatus::label);
    filter_statuses.insert(0, Opt { value: String::new(), label: "Any status".into(), selected: f.status.is_none() });
    page(&ProjectPage {
        chrome,
        unread,
        p: project_card(&p, &client.name),
        client_id: client.id.to_string(),
        description_html: markdown::to_html(&p.description),
        description: p.description.clone(),
        start_date: p.start_date.map(|d| d.to_string()).unwrap_or_default(),
        due_date: p.due_date.map(|d| d.to_string()).unwrap_or_default(),
        milestone_opts: {
            let mut v = vec![Opt { value: String::new(), label: "No milestone".into(), selected: true }];
            v.extend(milestones.iter().map(|m| Opt {
                value: m.id.to_string(),
                label: m.name.clone(),
                selected: false,
            }));
            v
        },
        milestones: milestones
            .iter()
            .map(|m| MilestoneView {
                id: m.id.to_string(),
                name: m.name.clone(),
                due: due_label(m.due_date),
                done: m.completed_at.is_some(),
            })
            .collect(),
        tasks: tasks.iter().map(|t| task_row(t, &names, "", me)).collect(),
        open_count: shown_open,
        statuses: opts(ProjectStatus::ALL, Some(p.status), ProjectStatus::as_str, ProjectStatus::label),
        filter_statuses,
        filter_people: people_opts(&people, assignee, "Anyone"),
        people: people_opts(&people, None, "Unassigned"),
        priorities: opts(Priority::ALL, Some(Priority::Normal), Priority::as_str, Priority::label),
        filtered: f.status.is_some() || assignee.is_some(),
    })
}

/// Updates a project from its edit form.
pub async fn update_project(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<ProjectPatchBody>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let pid: ProjectId = id.parse()?;
    st.store.update_project(&auth.actor, pid, f.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{pid}?notice=saved")))
}

/// Adds a task from the project page.
pub async fn create_task(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<TaskBody>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let pid: ProjectId = id.parse()?;
    st.store.create_task(&auth.actor, pid, f.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{pid}")))
}

/// Adds a milestone from the project page.
pub async fn create_milestone(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<MilestoneBody>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let pid: ProjectId = id.parse()?;
    let n = atrium_core::validate::line("name", &f.name, atrium_core::validate::TITLE_MAX)?;
    st.store.create_milestone(&auth.actor, pid, n, f.due_date, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{pid}")))
}

// ----- task ----------------------------------------------------------------------------------

/// A task with its whole thread (replies and notes, each marked).
pub async fn task(
    State(st): State<AppState>,
    auth: Authed,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let tid: TaskId = id.parse()?;
    let scope = auth.actor.work_scope();
    let t = st.store.task(&scope, tid).await?;
    let client = st.store.client(&auth.actor.client_scope(), t.client_id).await?;
    let comments = st.store.comments(&scope, tid).await?;
    let people = assignable(&st, &auth, t.client_id).await?;
    let mut ids: Vec<UserId> = comments.iter().map(|c| c.author_id).collect();
    ids.extend(t.task.assignee_id);
    let names = st.store.user_names(&ids).await?;
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, t.task.title.clone(), "/staff/clients");
    chrome.live = format!("task:{tid}");
    page(&super::view::TaskPage {
        chrome,
        mention_src: format!("/api/v1/projects/{}/people", t.task.project_id),
        staff: true,
        t: task_row(&t.task, &names, &t.project_name, auth.actor.user_id()),
        project_href: format!("/staff/projects/{}", t.task.project_id),
        client: client.name,
        title: t.task.title.clone(),
        description: t.task.description.clone(),
        description_html: markdown::to_html(&t.task.description),
        due_date: t.task.due_date.map(|d| d.to_string()).unwrap_or_default(),
        comments: comment_views(&comments, &names),
        statuses: opts(TaskStatus::ALL, Some(t.task.status), TaskStatus::as_str, TaskStatus::label),
        priorities: opts(Priority::ALL, Some(t.task.priority), Priority::as_str, Priority::label),
        people: people_opts(&people, t.task.assignee_id, "Unassigned"),
        can_reply: true,
        can_complete: false,
    })
}

/// Updates a task from its edit form.
pub async fn update_task(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<TaskPatchBody>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let tid: TaskId = id.parse()?;
    st.store.update_task(&auth.actor, tid, f.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/tasks/{tid}")))
}

/// Posts a reply or an internal note.
pub async fn comment(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<CommentBody>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let tid: TaskId = id.parse()?;
    let (body, vis) = f.validate()?;
    st.store.create_comment(&auth.actor, tid, body, vis, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/tasks/{tid}#comments")))
}
