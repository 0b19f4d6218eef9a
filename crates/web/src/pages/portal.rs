//! The client portal: Home, Projects, a project, My tasks, a task. Everything is read through the
//! actor's scope, so a client user (or staff viewing as one) sees their client's work only and
//! never an internal note.

use std::collections::HashMap;

use askama::Template;
use atrium_core::ids::{ProjectId, TaskId, UserId};
use atrium_core::model::TaskStatus;
use atrium_core::policy::{PortalPage, QuickAction};
use atrium_core::{Error, markdown};
use atrium_store::paging::PageRequest;
use atrium_store::work::ProjectOverview;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Timelike;
use serde::Deserialize;

use super::task::task_page;
use super::view::{ProjectCard, TaskRow, Viewer, excerpt, project_card, task_row};
use super::{Chrome, page, see_other};
use crate::api::input::{TaskPatchBody, empty_none};
use crate::audience::PortalAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id};
use crate::state::AppState;

struct Activity {
    who: String,
    task_id: String,
    task: String,
    excerpt: String,
    when: String,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
    chrome: Chrome,
    greeting: String,
    first_name: String,
    tasks: Vec<TaskRow>,
    projects: Vec<ProjectCard>,
    activity: Vec<Activity>,
    finance: bool,
    can_act: bool,
    /// Projects with messages the user has not read: (project id, name, count).
    unread: Vec<(String, String, u64)>,
    /// Open approvals naming me.
    approvals: Vec<super::approvals::ApprovalRow>,
    /// Finance users: all their invoices; client admins: the ones still to pay.
    rows: Vec<super::billing::InvoiceRow>,
    show_client: bool,
    /// The first-login guide, until it is dismissed.
    guide: Option<super::welcome::Guide>,
    /// The welcome text under the greeting: the client's own, else the agency's (may be empty).
    welcome: String,
    /// The quick-action buttons under the greeting (only those the user may use).
    quick: Vec<QuickLink>,
}

/// One quick-action button of Home.
struct QuickLink {
    label: &'static str,
    href: String,
    /// A scheduling link outside the portal.
    external: bool,
}

fn greeting(v: &Viewer) -> &'static str {
    match chrono::Utc::now().with_timezone(&v.local.tz()).hour() {
        5..=11 => "Good morning",
        12..=17 => "Good afternoon",
        _ => "Good evening",
    }
}

/// Home: greeting, my open tasks, project cards, recent activity.
pub async fn home(State(st): State<AppState>, auth: PortalAuth, csrf: CsrfToken) -> AppResult<Response> {
    let a = &auth.actor;
    let scope = a.work_scope();
    let me = a.user_id();
    let v = Viewer::of(&st, a).await?;
    let client = match a.client_id() {
        Some(c) => st.store.client_name(&a.identity_scope(), c).await?,
        None => String::new(),
    };
    let welcome = super::welcome::welcome_text(&st, a).await?;
    let mine = st.store.tasks_assigned(&scope, me, false, PageRequest { limit: 50, cursor: None }).await?;
    let names = HashMap::from([(me, a.name().to_string())]);
    let projects = st.store.projects(&scope, None, PageRequest { limit: 50, cursor: None }).await?;
    let recent = st.store.recent_comments(&scope, 8).await?;
    let approvals = super::approvals::rows(&st.store.approvals_for_user_open(a).await?, false);
    let invoices = if a.sees_billing() {
        let list = st.store.invoices(a, &Default::default()).await?;
        let finance = a.portal_is_billing_only();
        let list: Vec<_> = list.into_iter().filter(|i| finance || i.status.is_open()).collect();
        super::billing::rows(&list, false)
    } else {
        vec![]
    };
    let ids: Vec<_> = projects.items.iter().map(|p| p.id).collect();
    let unread_counts = st.store.unread_by_project(a, &ids).await?;
    let unread = projects
        .items
        .iter()
        .filter_map(|p| unread_counts.get(&p.id).map(|n| (p.id.to_string(), p.name.clone(), *n)))
        .collect();
    let mut ids: Vec<UserId> = recent.iter().map(|(c, _, _)| c.author_id).collect();
    ids.sort();
    ids.dedup();
    let authors = st.store.user_names(&auth.actor, &ids).await?;
    let mut activity = Vec::with_capacity(recent.len());
    for (c, tid, title) in &recent {
        activity.push(Activity {
            who: authors.get(&c.author_id).cloned().unwrap_or_default(),
            task_id: tid.to_string(),
            task: title.clone(),
            excerpt: excerpt(&c.body),
            when: v.local.short(c.created_at),
        });
    }
    let guide = super::welcome::home_guide(&st, a).await?;
    let quick = st
        .store
        .own_quick_actions(a)
        .await?
        .into_iter()
        .map(|(q, href)| QuickLink { label: q.label(), external: q == QuickAction::Meeting, href })
        .collect();
    page(&HomePage {
        guide,
        chrome: Chrome::signed_in(&st, &auth, &csrf, "Home", "/portal"),
        greeting: greeting(&v).into(),
        first_name: a.name().split_whitespace().next().unwrap_or(a.name()).to_string(),
        tasks: mine.items.iter().map(|t| task_row(&t.task, &names, &t.project_name, &v)).collect(),
        projects: projects.items.iter().map(|p| project_card(p, &client, &v)).collect(),
        activity,
        approvals,
        rows: invoices,
        show_client: false,
        finance: a.portal_is_billing_only(),
        can_act: a.may_complete_own_tasks(),
        unread,
        welcome,
        quick,
    })
}

#[derive(Template)]
#[template(path = "portal_projects.html")]
struct ProjectsPage {
    chrome: Chrome,
    projects: Vec<ProjectCard>,
}

/// All of the client's projects.
pub async fn projects(State(st): State<AppState>, auth: PortalAuth, csrf: CsrfToken) -> AppResult<Response> {
    let ps = st.store.projects(&auth.actor.work_scope(), None, PageRequest::all()).await?;
    let v = Viewer::of(&st, &auth.actor).await?;
    let client = match auth.actor.client_id() {
        Some(c) => st.store.client_name(&auth.actor.identity_scope(), c).await?,
        None => String::new(),
    };
    page(&ProjectsPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "Projects", "/portal/projects"),
        projects: ps.items.iter().map(|p| project_card(p, &client, &v)).collect(),
    })
}

struct TimelineItem {
    name: String,
    due: String,
    done: bool,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "portal_project.html")]
struct ProjectPage {
    chrome: Chrome,
    p: ProjectCard,
    description_html: String,
    start: String,
    timeline: Vec<TimelineItem>,
    open: Vec<TaskRow>,
    done: Vec<TaskRow>,
    can_act: bool,
    unread: u64,
    /// The project's own pages (tabs, not the staff-only ones) and its team.
    tabs: Vec<super::project_pages::PageTab>,
    team: Vec<super::project_pages::TeamRow>,
    team_candidates: Vec<super::view::Opt>,
    staff_side: bool,
    /// The project's Files and Messages tabs (each gone when the client's portal hides it).
    show_files: bool,
    show_messages: bool,
}

/// One project: timeline, milestones, every task, progress.
pub async fn project(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    Id(pid): Id<ProjectId>,
) -> AppResult<Response> {
    let scope = auth.actor.work_scope();
    let ProjectOverview { project: p, client_name: client, tasks, assignee_names: names, milestones } =
        st.store.project_overview(&scope, pid).await?;
    let v = Viewer::of(&st, &auth.actor).await?;
    let today = v.today;
    let (done, open): (Vec<_>, Vec<_>) = tasks.iter().partition(|t| t.status == TaskStatus::Done);
    let mut open: Vec<_> = open;
    open.sort_by_key(|t| (t.due_date.is_none(), t.due_date));
    let unread = st.store.unread_messages(&auth.actor, pid).await?.client;
    let pages = st.store.project_pages(&scope, pid).await?;
    let team = st.store.project_team(&scope, pid).await?;
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, p.name.clone(), "/portal/projects");
    chrome.live = format!("project:{pid}");
    page(&ProjectPage {
        chrome,
        unread,
        tabs: super::project_pages::tabs(&pages, atrium_core::policy::Side::Portal, None),
        team: super::project_pages::team_rows(&team),
        team_candidates: Vec::new(),
        staff_side: false,
        show_files: auth.actor.sees_portal_page(PortalPage::Files),
        show_messages: auth.actor.sees_portal_page(PortalPage::Messages),
        p: project_card(&p, &client, &v),
        description_html: markdown::to_html(&p.description),
        start: v.due(p.start_date),
        timeline: milestones
            .iter()
            .map(|m| TimelineItem {
                name: m.name.clone(),
                due: v.due(m.due_date),
                done: m.completed_at.is_some(),
                overdue: m.completed_at.is_none() && m.due_date.is_some_and(|d| d < today),
            })
            .collect(),
        open: open.iter().map(|t| task_row(t, &names, "", &v)).collect(),
        done: done.iter().map(|t| task_row(t, &names, "", &v)).collect(),
        can_act: auth.actor.may_complete_own_tasks(),
    })
}

#[derive(Template)]
#[template(path = "portal_tasks.html")]
struct TasksPage {
    chrome: Chrome,
    open: Vec<TaskRow>,
    done: Vec<TaskRow>,
    can_act: bool,
}

/// My tasks: open ones first, then recently done.
pub async fn my_tasks(State(st): State<AppState>, auth: PortalAuth, csrf: CsrfToken) -> AppResult<Response> {
    let me = auth.actor.user_id();
    let v = Viewer::of(&st, &auth.actor).await?;
    let all =
        st.store.tasks_assigned(&auth.actor.work_scope(), me, true, PageRequest { limit: 200, cursor: None }).await?;
    let names = HashMap::from([(me, auth.actor.name().to_string())]);
    let (done, open): (Vec<_>, Vec<_>) = all.items.iter().partition(|t| t.task.status == TaskStatus::Done);
    page(&TasksPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "My tasks", "/portal/tasks"),
        open: open.iter().map(|t| task_row(&t.task, &names, &t.project_name, &v)).collect(),
        done: done.iter().map(|t| task_row(&t.task, &names, &t.project_name, &v)).collect(),
        can_act: auth.actor.may_complete_own_tasks(),
    })
}

/// A task and its replies (never notes).
pub async fn task(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    Id(tid): Id<TaskId>,
) -> AppResult<Response> {
    task_page(&st, &auth.into(), &csrf, tid).await
}

/// Status form (a client assignee marks their task done or reopens it).
#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default, deserialize_with = "empty_none")]
    status: Option<TaskStatus>,
    #[serde(default)]
    next: Option<String>,
    /// Sent by rows on a project page, which do not repeat the project's name.
    #[serde(default)]
    in_project: bool,
}

#[derive(Template)]
#[template(path = "task_row.html")]
struct TaskRowFragment {
    r: TaskRow,
    chrome: Chrome,
    can_act: bool,
}

/// Sets the status of a task assigned to me; answers htmx with the updated row.
pub async fn set_status(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Id(tid): Id<TaskId>,
    FormBody(f): FormBody<StatusForm>,
) -> AppResult<Response> {
    let status = f.status.ok_or_else(|| Error::invalid("status", "is required"))?;
    let patch = TaskPatchBody { status: Some(status), ..Default::default() }.validate()?;
    // Checked before the change: only a portal path is followed (no open redirect, no header
    // from raw input); anything else is a 422 naming `next` and changes nothing.
    let next = match f.next.as_deref() {
        None | Some("") => format!("/portal/tasks/{tid}"),
        Some(n) => portal_path(n)?,
    };
    let t = st.store.update_task(&auth.actor, tid, patch, Some(&ip)).await?;
    if headers.contains_key("hx-request") {
        let project_name = if f.in_project {
            String::new()
        } else {
            st.store.project(&auth.actor.work_scope(), t.project_id).await?.name
        };
        let names = HashMap::from([(auth.actor.user_id(), auth.actor.name().to_string())]);
        let chrome = Chrome::signed_in(&st, &auth, &csrf, "", "");
        let v = Viewer::of(&st, &auth.actor).await?;
        return page(&TaskRowFragment { r: task_row(&t, &names, &project_name, &v), chrome, can_act: true });
    }
    Ok(see_other(&next))
}

/// A `next` of the portal: a same-site path ([`atrium_core::validate::local_path`]) under `/portal`.
fn portal_path(n: &str) -> Result<String, Error> {
    let p = atrium_core::validate::local_path("next", n)?;
    if p == "/portal" || ["/portal/", "/portal?", "/portal#"].iter().any(|s| p.starts_with(s)) {
        Ok(p)
    } else {
        Err(Error::invalid("next", "must be a page of the portal"))
    }
}
