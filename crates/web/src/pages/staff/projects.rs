//! A project's page and its forms: creating a project for a client, editing it, its milestones.

use std::collections::HashMap;

use askama::Template;
use atrium_core::ids::{ClientId, MilestoneId, ProjectId, UserId};
use atrium_core::model::{Priority, ProjectStatus, TaskStatus};
use atrium_core::{Error, markdown};
use atrium_store::paging::PageRequest;
use atrium_store::work::TaskFilter;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use crate::api::input::{MilestoneBody, ProjectBody, ProjectPatchBody, empty_none};
use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::pages::account::notice_text;
use crate::pages::project_pages::{PageFields, PageTab, TeamRow, kind_opts, tabs, team_rows};
use crate::pages::view::{Opt, ProjectCard, TaskRow, Viewer, opts, people_opts, project_card, task_row};
use crate::pages::{Chrome, page, see_other};
use crate::state::AppState;

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
    #[serde(default, deserialize_with = "empty_none")]
    template_id: Option<atrium_core::ids::ProjectTemplateId>,
    #[serde(default, deserialize_with = "empty_none")]
    lead_id: Option<UserId>,
}

/// Creates a project for the client, from a template when one is chosen.
pub async fn create_project(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
    FormBody(f): FormBody<ProjectForm>,
) -> AppResult<Response> {
    st.store.client(&auth.actor.client_scope(), cid).await?;
    let body = ProjectBody {
        client_id: cid,
        name: f.name,
        description: f.description,
        status: f.status,
        start_date: f.start_date,
        due_date: f.due_date,
        template_id: f.template_id,
        lead_id: f.template_id.and(f.lead_id),
    };
    let p = crate::api::work::make_project(&st, &auth.actor, body, &ip).await?;
    Ok(see_other(&format!("/staff/projects/{}", p.id)))
}

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
    /// The project's own pages (tabs) and the form to add one.
    tabs: Vec<PageTab>,
    kinds: Vec<Opt>,
    fields: PageFields,
    /// The team, and the staff who could join it.
    team: Vec<TeamRow>,
    team_candidates: Vec<Opt>,
    staff_side: bool,
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

/// A project: overview, milestones, filtered tasks, forms.
pub async fn project(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(pid): Id<ProjectId>,
    Q(f): Q<ProjectFilter>,
) -> AppResult<Response> {
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
    let people = st.store.assignee_candidates(&auth.actor, p.client_id).await?;
    let names: HashMap<UserId, String> = people.iter().map(|u| (u.id, u.name.clone())).collect();
    let milestones = st.store.milestones(&scope, pid).await?;
    let v = Viewer::of(&st, &auth.actor).await?;
    let unread = st.store.unread_messages(&auth.actor, pid).await?;
    let pages = st.store.project_pages(&scope, pid).await?;
    let team = st.store.project_team(&scope, pid).await?;
    let team_candidates = st
        .store
        .staff_users(&auth.actor)
        .await?
        .into_iter()
        .filter(|u| u.active && !team.iter().any(|m| m.id == u.id))
        .map(|u| Opt { value: u.id.to_string(), label: u.name, selected: false })
        .collect();
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, p.name.clone(), "/staff/clients");
    chrome.flash = notice_text(f.notice.as_deref());
    chrome.live = format!("project:{pid}");
    let mut filter_statuses = opts(TaskStatus::ALL, f.status, TaskStatus::as_str, TaskStatus::label);
    filter_statuses.insert(0, Opt { value: String::new(), label: "Any status".into(), selected: f.status.is_none() });
    page(&ProjectPage {
        chrome,
        unread,
        tabs: tabs(&pages, atrium_core::policy::Side::Staff, None),
        kinds: kind_opts(atrium_core::project_page::PageKind::Markdown),
        fields: PageFields::default(),
        team: team_rows(&team),
        team_candidates,
        staff_side: true,
        p: project_card(&p, &client.name, &v),
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
                due: v.due(m.due_date),
                done: m.completed_at.is_some(),
            })
            .collect(),
        tasks: tasks.iter().map(|t| task_row(t, &names, "", &v)).collect(),
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
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    FormBody(f): FormBody<ProjectPatchBody>,
) -> AppResult<Response> {
    st.store.update_project(&auth.actor, pid, f.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{pid}?notice=saved")))
}

/// Adds a milestone from the project page.
pub async fn create_milestone(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    FormBody(f): FormBody<MilestoneBody>,
) -> AppResult<Response> {
    let n = atrium_core::validate::line("name", &f.name, atrium_core::validate::TITLE_MAX)?;
    st.store.create_milestone(&auth.actor, pid, n, f.due_date, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{pid}")))
}

/// The milestone form: reached or not.
#[derive(Deserialize)]
pub struct MilestoneDoneForm {
    done: bool,
}

/// Marks a milestone reached (or not) and returns to its project.
pub async fn set_milestone_done(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<MilestoneId>,
    FormBody(f): FormBody<MilestoneDoneForm>,
) -> AppResult<Response> {
    let m = st.store.set_milestone_done(&auth.actor, id, f.done, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{}?notice=saved", m.project_id)))
}
