//! A project's custom pages and its team. Handlers parse input, then call the store, which reads
//! through the caller's scope (staff-only pages do not exist for client users) and asks the
//! policy before every write.

use atrium_core::ids::{ProjectId, ProjectPageId};
use atrium_core::project_page::{ProjectPage, TeamMember};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::input::{PageBody, PagePatchBody, TeamBody};
use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id};
use crate::state::AppState;

/// A project's pages in tab order (client users: not the staff-only ones).
#[utoipa::path(get, path = "/api/v1/projects/{id}/pages", tag = "projects", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<ProjectPage>), (status = 404)))]
pub async fn list_pages(
    State(st): State<AppState>,
    auth: Authed,
    Id(pid): Id<ProjectId>,
) -> AppResult<Json<List<ProjectPage>>> {
    let items = st.store.project_pages(&auth.actor.work_scope(), pid).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// Add a page (staff): markdown, an embed of an allow-listed service (Figma, Loom, YouTube,
/// Vimeo, Google Docs / Sheets / Slides, Miro; anything else 422 `url`) or a link card.
#[utoipa::path(post, path = "/api/v1/projects/{id}/pages", tag = "projects", params(("id" = uuid::Uuid, Path)), request_body = PageBody,
    responses((status = 201, body = ProjectPage), (status = 403), (status = 404), (status = 422)))]
pub async fn create_page(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    ApiJson(b): ApiJson<PageBody>,
) -> AppResult<(StatusCode, Json<ProjectPage>)> {
    st.store.project(&auth.actor.work_scope(), pid).await?;
    let page = st.store.create_project_page(&auth.actor, pid, b.validate()?, Some(&ip)).await?;
    Ok((StatusCode::CREATED, Json(page)))
}

/// One page (a staff-only page is 404 for client users).
#[utoipa::path(get, path = "/api/v1/pages/{id}", tag = "projects", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ProjectPage), (status = 404)))]
pub async fn get_page(
    State(st): State<AppState>,
    auth: Authed,
    Id(id): Id<ProjectPageId>,
) -> AppResult<Json<ProjectPage>> {
    Ok(Json(st.store.project_page(&auth.actor.work_scope(), id).await?))
}

/// Change a page (staff); `position` moves it among the project's tabs.
#[utoipa::path(patch, path = "/api/v1/pages/{id}", tag = "projects", params(("id" = uuid::Uuid, Path)), request_body = PagePatchBody,
    responses((status = 200, body = ProjectPage), (status = 403), (status = 404), (status = 422)))]
pub async fn update_page(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectPageId>,
    ApiJson(b): ApiJson<PagePatchBody>,
) -> AppResult<Json<ProjectPage>> {
    st.store.project_page(&auth.actor.work_scope(), id).await?;
    Ok(Json(st.store.update_project_page(&auth.actor, id, b.validate()?, Some(&ip)).await?))
}

/// Delete a page (staff).
#[utoipa::path(delete, path = "/api/v1/pages/{id}", tag = "projects", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_page(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectPageId>,
) -> AppResult<StatusCode> {
    st.store.delete_project_page(&auth.actor, id, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The staff working on a project (names and job titles), visible to its client.
#[utoipa::path(get, path = "/api/v1/projects/{id}/team", tag = "projects", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<TeamMember>), (status = 404)))]
pub async fn get_team(
    State(st): State<AppState>,
    auth: Authed,
    Id(pid): Id<ProjectId>,
) -> AppResult<Json<List<TeamMember>>> {
    let items = st.store.project_team(&auth.actor.work_scope(), pid).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// Replace a project's team (staff): staff users only, else 422 `user_ids`.
#[utoipa::path(put, path = "/api/v1/projects/{id}/team", tag = "projects", params(("id" = uuid::Uuid, Path)), request_body = TeamBody,
    responses((status = 200, body = List<TeamMember>), (status = 403), (status = 404), (status = 422)))]
pub async fn put_team(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    ApiJson(b): ApiJson<TeamBody>,
) -> AppResult<Json<List<TeamMember>>> {
    st.store.project(&auth.actor.work_scope(), pid).await?;
    let items = st.store.set_project_team(&auth.actor, pid, b.user_ids, Some(&ip)).await?;
    Ok(Json(List { items, next_cursor: None }))
}
