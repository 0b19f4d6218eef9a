//! A project's custom pages (its tabs beside Files and Messages) and its team, on both sides:
//! one page view for staff and client users ([`SideAuth`]), the forms for staff only.

use askama::Template;
use atrium_core::ids::{ProjectId, ProjectPageId, UserId};
use atrium_core::policy::Side;
use atrium_core::project_page::{PageKind, ProjectPage, TeamMember};
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::account::{Notice, notice_text};
use super::view::Opt;
use super::{Chrome, page, prefix, see_other};
use crate::api::input::{PageBody, PagePatchBody};
use crate::audience::{SideAuth, StaffAuth};
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::state::AppState;

/// A tab of a project's own pages.
#[derive(Clone, Debug)]
pub struct PageTab {
    pub href: String,
    pub title: String,
    pub staff_only: bool,
    pub active: bool,
}

/// The tabs of `pages` on `side`, `current` marked.
pub fn tabs(pages: &[ProjectPage], side: Side, current: Option<ProjectPageId>) -> Vec<PageTab> {
    pages
        .iter()
        .map(|p| PageTab {
            href: format!("{}/pages/{}", prefix(side), p.id),
            title: p.title.clone(),
            staff_only: p.staff_only,
            active: Some(p.id) == current,
        })
        .collect()
}

/// A team member as a project page shows them.
#[derive(Clone, Debug)]
pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub title: String,
}

/// The rows of a team.
pub fn team_rows(team: &[TeamMember]) -> Vec<TeamRow> {
    team.iter().map(|m| TeamRow { id: m.id.to_string(), name: m.name.clone(), title: m.title.clone() }).collect()
}

/// What the page form is filled with (empty for a new page).
#[derive(Clone, Debug, Default)]
pub struct PageFields {
    pub title: String,
    pub url: String,
    pub body: String,
    pub staff_only: bool,
}

impl PageFields {
    fn of(p: &ProjectPage) -> Self {
        PageFields {
            title: p.title.clone(),
            url: p.url.clone().unwrap_or_default(),
            body: p.body.clone(),
            staff_only: p.staff_only,
        }
    }
}

/// The kinds of page, for the page forms.
pub fn kind_opts(selected: PageKind) -> Vec<Opt> {
    super::view::opts(PageKind::ALL, Some(selected), PageKind::as_str, PageKind::label)
}

#[derive(Template)]
#[template(path = "project_page.html")]
struct PageView {
    chrome: Chrome,
    prefix: &'static str,
    project_id: String,
    project_name: String,
    tabs: Vec<PageTab>,
    page: ProjectPage,
    kind: &'static str,
    /// Staff: the edit, move and delete forms.
    can_edit: bool,
    kinds: Vec<Opt>,
    fields: PageFields,
    last: i32,
}

/// One custom page of a project, with the project's tabs (staff-only pages are 404 in the
/// portal: the store reads through the caller's scope).
pub async fn view(
    State(st): State<AppState>,
    auth: SideAuth,
    csrf: CsrfToken,
    Id(id): Id<ProjectPageId>,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    let scope = auth.actor.work_scope();
    let pg = st.store.project_page(&scope, id).await?;
    let project = st.store.project(&scope, pg.project_id).await?;
    let pages = st.store.project_pages(&scope, pg.project_id).await?;
    let side = auth.side();
    let nav = if side == Side::Staff { "/staff/clients" } else { "/portal/projects" };
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, format!("{} · {}", pg.title, project.name), nav);
    chrome.flash = notice_text(n.notice.as_deref());
    page(&PageView {
        chrome,
        prefix: prefix(side),
        project_id: project.id.to_string(),
        project_name: project.name,
        tabs: tabs(&pages, side, Some(id)),
        kind: pg.kind.as_str(),
        can_edit: side == Side::Staff && auth.actor.may_manage_project_pages().is_ok(),
        kinds: kind_opts(pg.kind),
        fields: PageFields::of(&pg),
        last: i32::try_from(pages.len()).unwrap_or(i32::MAX) - 1,
        page: pg,
    })
}

/// Adds a page from the staff project page and opens it.
pub async fn create(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    FormBody(f): FormBody<PageBody>,
) -> AppResult<Response> {
    st.store.project(&auth.actor.work_scope(), pid).await?;
    let pg = st.store.create_project_page(&auth.actor, pid, f.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/pages/{}", pg.id)))
}

/// Changes a page (its fields, or only its `position`: the move buttons).
pub async fn update(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectPageId>,
    FormBody(f): FormBody<PagePatchBody>,
) -> AppResult<Response> {
    st.store.project_page(&auth.actor.work_scope(), id).await?;
    st.store.update_project_page(&auth.actor, id, f.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/pages/{id}?notice=saved")))
}

/// Deletes a page and returns to its project.
pub async fn delete(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectPageId>,
) -> AppResult<Response> {
    let pid = st.store.delete_project_page(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{pid}?notice=saved")))
}

/// Adding someone to a project's team, or removing them.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TeamAction {
    Add,
    Remove,
}

/// The team form of the staff project page.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamForm {
    user_id: UserId,
    action: TeamAction,
}

/// Adds a staff member to a project's team or removes them.
pub async fn change_team(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    FormBody(f): FormBody<TeamForm>,
) -> AppResult<Response> {
    let mut ids: Vec<UserId> =
        st.store.project_team(&auth.actor.work_scope(), pid).await?.iter().map(|m| m.id).collect();
    ids.retain(|u| *u != f.user_id);
    if f.action == TeamAction::Add {
        ids.push(f.user_id);
    }
    st.store.set_project_team(&auth.actor, pid, ids, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{pid}?notice=saved")))
}
