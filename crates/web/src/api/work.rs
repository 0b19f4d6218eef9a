//! Clients, projects, milestones, tasks and comments. Handlers parse input, then call the store,
//! which scopes every read with the policy and asks the policy before every write.

use atrium_core::ids::{ClientId, MilestoneId, ProjectId, TaskId};
use atrium_core::model::{Client, Comment, Milestone, Priority, Project, Task, TaskStatus};
use atrium_core::{Error, validate};
use atrium_store::work::TaskFilter;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::input::{
    ClientBody, ClientPatchBody, CommentBody, MilestoneBody, MilestonePatchBody, ProjectBody, ProjectPatchBody,
    TaskBody, TaskPatchBody, empty_none, name,
};
use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id, Paging, Q};
use crate::state::AppState;

// ----- clients -------------------------------------------------------------------------------

/// Clients (staff only).
#[utoipa::path(get, path = "/api/v1/clients", tag = "clients", params(Paging), responses((status = 200, body = List<Client>), (status = 404)))]
pub async fn list_clients(State(st): State<AppState>, auth: Authed, Q(p): Q<Paging>) -> AppResult<Json<List<Client>>> {
    auth.actor.may_manage_clients()?;
    Ok(Json(st.store.clients(&auth.actor.client_scope(), p.request()?).await?.into()))
}

/// Create a client (staff only).
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", request_body = ClientBody, responses((status = 201, body = Client), (status = 404), (status = 422)))]
pub async fn create_client(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<ClientBody>,
) -> AppResult<(StatusCode, Json<Client>)> {
    auth.actor.may_manage_clients()?;
    let n = name("name", &b.name)?;
    Ok((StatusCode::CREATED, Json(st.store.create_client(&auth.actor, n, Some(&ip)).await?)))
}

/// One client (staff only).
#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Client), (status = 404)))]
pub async fn get_client(State(st): State<AppState>, auth: Authed, Id(cid): Id<ClientId>) -> AppResult<Json<Client>> {
    Ok(Json(st.store.client(&auth.actor.client_scope(), cid).await?))
}

/// Rename or archive a client (staff only).
#[utoipa::path(patch, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = uuid::Uuid, Path)), request_body = ClientPatchBody,
    responses((status = 200, body = Client), (status = 404), (status = 422)))]
pub async fn update_client(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
    ApiJson(b): ApiJson<ClientPatchBody>,
) -> AppResult<Json<Client>> {
    st.store.client(&auth.actor.client_scope(), cid).await?;
    let n = b.name.map(|n| name("name", &n)).transpose()?;
    Ok(Json(st.store.update_client(&auth.actor, cid, n, b.status, Some(&ip)).await?))
}

/// Delete a client (owners and admins): soft — it disappears with all its work, its users are
/// signed out and cannot sign in; restorable until an administrator purges it.
#[utoipa::path(delete, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_client(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
) -> AppResult<StatusCode> {
    st.store.delete_client(&auth.actor, cid, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore a deleted client (owners and admins).
#[utoipa::path(post, path = "/api/v1/clients/{id}/restore", tag = "clients", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Client), (status = 403), (status = 404)))]
pub async fn restore_client(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
) -> AppResult<Json<Client>> {
    Ok(Json(st.store.restore_client(&auth.actor, cid, Some(&ip)).await?))
}

// ----- projects ------------------------------------------------------------------------------

/// Filter for the project list.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProjectQuery {
    /// Only this client's projects.
    #[serde(default, deserialize_with = "empty_none")]
    #[param(value_type = Option<String>)]
    pub client_id: Option<ClientId>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// The caller's visible projects (a client user: their client's only).
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(ProjectQuery), responses((status = 200, body = List<Project>)))]
pub async fn list_projects(
    State(st): State<AppState>,
    auth: Authed,
    Q(q): Q<ProjectQuery>,
) -> AppResult<Json<List<Project>>> {
    let req = Paging { limit: q.limit, cursor: q.cursor }.request()?;
    Ok(Json(st.store.projects(&auth.actor.work_scope(), q.client_id, req).await?.into()))
}

/// Create a project (staff), empty or from a template (`template_id`, `start_date`, `lead_id`).
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = ProjectBody,
    responses((status = 201, body = Project), (status = 403), (status = 422)))]
pub async fn create_project(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<ProjectBody>,
) -> AppResult<(StatusCode, Json<Project>)> {
    Ok((StatusCode::CREATED, Json(make_project(&st, &auth.actor, b, &ip).await?)))
}

/// Creates the project a body describes, from its template when it names one (the API and the
/// client page's form).
pub(crate) async fn make_project(
    st: &AppState,
    actor: &atrium_core::policy::Actor,
    b: ProjectBody,
    ip: &str,
) -> atrium_core::Result<Project> {
    actor.may_manage_work()?;
    match b.validate()? {
        (n, Some(from)) => st.store.create_project_from_template(actor, n, from, Some(ip)).await,
        (n, None) => st.store.create_project(actor, n, Some(ip)).await,
    }
}

/// One project.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Project), (status = 404)))]
pub async fn get_project(State(st): State<AppState>, auth: Authed, Id(pid): Id<ProjectId>) -> AppResult<Json<Project>> {
    Ok(Json(st.store.project(&auth.actor.work_scope(), pid).await?))
}

/// Change a project (staff).
#[utoipa::path(patch, path = "/api/v1/projects/{id}", tag = "projects", params(("id" = uuid::Uuid, Path)), request_body = ProjectPatchBody,
    responses((status = 200, body = Project), (status = 403), (status = 404), (status = 422)))]
pub async fn update_project(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    ApiJson(b): ApiJson<ProjectPatchBody>,
) -> AppResult<Json<Project>> {
    st.store.project(&auth.actor.work_scope(), pid).await?;
    Ok(Json(st.store.update_project(&auth.actor, pid, b.validate()?, Some(&ip)).await?))
}

/// A project's milestones, in timeline order.
#[utoipa::path(get, path = "/api/v1/projects/{id}/milestones", tag = "projects", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<Milestone>), (status = 404)))]
pub async fn list_milestones(
    State(st): State<AppState>,
    auth: Authed,
    Id(pid): Id<ProjectId>,
) -> AppResult<Json<List<Milestone>>> {
    let items = st.store.milestones(&auth.actor.work_scope(), pid).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// Mark a milestone reached or not (staff).
#[utoipa::path(patch, path = "/api/v1/milestones/{id}", tag = "projects", params(("id" = uuid::Uuid, Path)), request_body = MilestonePatchBody,
    responses((status = 200, body = Milestone), (status = 403), (status = 404), (status = 422)))]
pub async fn update_milestone(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(mid): Id<MilestoneId>,
    ApiJson(b): ApiJson<MilestonePatchBody>,
) -> AppResult<Json<Milestone>> {
    Ok(Json(st.store.set_milestone_done(&auth.actor, mid, b.done, Some(&ip)).await?))
}

/// Add a milestone (staff).
#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones", tag = "projects", params(("id" = uuid::Uuid, Path)), request_body = MilestoneBody,
    responses((status = 201, body = Milestone), (status = 403), (status = 404), (status = 422)))]
pub async fn create_milestone(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    ApiJson(b): ApiJson<MilestoneBody>,
) -> AppResult<(StatusCode, Json<Milestone>)> {
    st.store.project(&auth.actor.work_scope(), pid).await?;
    let n = validate::line("name", &b.name, validate::TITLE_MAX)?;
    Ok((StatusCode::CREATED, Json(st.store.create_milestone(&auth.actor, pid, n, b.due_date, Some(&ip)).await?)))
}

// ----- tasks ---------------------------------------------------------------------------------

/// Filters for a project's tasks.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    #[serde(default, deserialize_with = "empty_none")]
    #[param(value_type = Option<String>)]
    pub status: Option<TaskStatus>,
    #[serde(default, deserialize_with = "empty_none")]
    #[param(value_type = Option<String>)]
    pub priority: Option<Priority>,
    /// A user id, or `me`.
    pub assignee: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A project's tasks, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/tasks", tag = "tasks", params(("id" = uuid::Uuid, Path), TaskQuery),
    responses((status = 200, body = List<Task>), (status = 404)))]
pub async fn list_tasks(
    State(st): State<AppState>,
    auth: Authed,
    Id(pid): Id<ProjectId>,
    Q(q): Q<TaskQuery>,
) -> AppResult<Json<List<Task>>> {
    let assignee = match q.assignee.as_deref() {
        None | Some("") => None,
        Some("me") => Some(auth.actor.user_id()),
        Some(s) => Some(s.parse().map_err(|_| Error::invalid("assignee", "must be a user id or `me`"))?),
    };
    let filter = TaskFilter { status: q.status, priority: q.priority, assignee };
    let req = Paging { limit: q.limit, cursor: q.cursor }.request()?;
    Ok(Json(st.store.tasks(&auth.actor.work_scope(), pid, &filter, req).await?.into()))
}

/// Create a task (staff). The assignee must be staff or a user of the project's client.
#[utoipa::path(post, path = "/api/v1/projects/{id}/tasks", tag = "tasks", params(("id" = uuid::Uuid, Path)), request_body = TaskBody,
    responses((status = 201, body = Task), (status = 403), (status = 404), (status = 422)))]
pub async fn create_task(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    ApiJson(b): ApiJson<TaskBody>,
) -> AppResult<(StatusCode, Json<Task>)> {
    st.store.project(&auth.actor.work_scope(), pid).await?;
    Ok((StatusCode::CREATED, Json(st.store.create_task(&auth.actor, pid, b.validate()?, Some(&ip)).await?)))
}

/// `GET /tasks?assignee=me`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MyTasksQuery {
    /// Must be `me`.
    pub assignee: String,
    /// Include done tasks (default false).
    #[serde(default, deserialize_with = "empty_none")]
    pub include_done: Option<bool>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// Tasks assigned to the caller across all visible projects.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(MyTasksQuery), responses((status = 200, body = List<Task>), (status = 422)))]
pub async fn my_tasks(State(st): State<AppState>, auth: Authed, Q(q): Q<MyTasksQuery>) -> AppResult<Json<List<Task>>> {
    if q.assignee != "me" {
        return Err(Error::invalid("assignee", "must be `me`").into());
    }
    let req = Paging { limit: q.limit, cursor: q.cursor }.request()?;
    let page = st
        .store
        .tasks_assigned(&auth.actor.work_scope(), auth.actor.user_id(), q.include_done.unwrap_or(false), req)
        .await?;
    Ok(Json(List { items: page.items.into_iter().map(|t| t.task).collect(), next_cursor: page.next_cursor }))
}

/// One task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Task), (status = 404)))]
pub async fn get_task(State(st): State<AppState>, auth: Authed, Id(tid): Id<TaskId>) -> AppResult<Json<Task>> {
    Ok(Json(st.store.task(&auth.actor.work_scope(), tid).await?.task))
}

/// Change a task: staff any field; a client user only the status of a task assigned to them.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = uuid::Uuid, Path)), request_body = TaskPatchBody,
    responses((status = 200, body = Task), (status = 403), (status = 404), (status = 422)))]
pub async fn update_task(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(tid): Id<TaskId>,
    ApiJson(b): ApiJson<TaskPatchBody>,
) -> AppResult<Json<Task>> {
    st.store.task(&auth.actor.work_scope(), tid).await?;
    Ok(Json(st.store.update_task(&auth.actor, tid, b.validate()?, Some(&ip)).await?))
}

// ----- comments ------------------------------------------------------------------------------

/// A task's comments, oldest first; client users never receive notes.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/comments", tag = "comments", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<Comment>), (status = 404)))]
pub async fn list_comments(
    State(st): State<AppState>,
    auth: Authed,
    Id(tid): Id<TaskId>,
) -> AppResult<Json<List<Comment>>> {
    let items = st.store.comments(&auth.actor.work_scope(), tid).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// Post a reply (client-visible) or a note (staff only).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/comments", tag = "comments", params(("id" = uuid::Uuid, Path)), request_body = CommentBody,
    responses((status = 201, body = Comment), (status = 403), (status = 404), (status = 422)))]
pub async fn create_comment(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(tid): Id<TaskId>,
    ApiJson(b): ApiJson<CommentBody>,
) -> AppResult<(StatusCode, Json<Comment>)> {
    st.store.task(&auth.actor.work_scope(), tid).await?;
    let (body, vis) = b.validate()?;
    Ok((StatusCode::CREATED, Json(st.store.create_comment(&auth.actor, tid, body, vis, Some(&ip)).await?)))
}
