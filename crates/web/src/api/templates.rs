//! Project templates: the library (staff; client users 404), a copy, a template saved from a
//! project, and the onboarding of new clients. Making a project from one is `POST /projects`
//! with `template_id`.

use atrium_core::ids::{ProjectId, ProjectTemplateId};
use atrium_core::request_form::RequestForm;
use atrium_core::template::{
    Onboarding, ProjectTemplate, TemplateContent, TemplateFolder, TemplateMilestone, TemplatePage, TemplateTask,
};
use atrium_store::templates::{NewTemplate, TemplatePatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id};
use crate::state::AppState;

/// `POST /project-templates`: a template. Offsets are days after the project's start (0–3650).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    #[schema(max_length = 300)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[serde(default)]
    pub milestones: Vec<TemplateMilestone>,
    #[serde(default)]
    pub tasks: Vec<TemplateTask>,
    #[serde(default)]
    pub folders: Vec<TemplateFolder>,
    #[serde(default)]
    pub pages: Vec<TemplatePage>,
    #[serde(default)]
    pub request_form: RequestForm,
}

impl From<TemplateBody> for NewTemplate {
    fn from(b: TemplateBody) -> Self {
        NewTemplate {
            name: b.name,
            description: b.description.unwrap_or_default(),
            content: TemplateContent {
                milestones: b.milestones,
                tasks: b.tasks,
                folders: b.folders,
                pages: b.pages,
                request_form: b.request_form,
            },
        }
    }
}

/// `PATCH /project-templates/{id}`: each part sent replaces that part.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatePatchBody {
    #[serde(default)]
    #[schema(max_length = 300)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[serde(default)]
    pub milestones: Option<Vec<TemplateMilestone>>,
    #[serde(default)]
    pub tasks: Option<Vec<TemplateTask>>,
    #[serde(default)]
    pub folders: Option<Vec<TemplateFolder>>,
    #[serde(default)]
    pub pages: Option<Vec<TemplatePage>>,
    #[serde(default)]
    pub request_form: Option<RequestForm>,
}

impl From<TemplatePatchBody> for TemplatePatch {
    fn from(b: TemplatePatchBody) -> Self {
        TemplatePatch {
            name: b.name,
            description: b.description,
            milestones: b.milestones,
            tasks: b.tasks,
            folders: b.folders,
            pages: b.pages,
            request_form: b.request_form,
        }
    }
}

/// `POST /project-templates/{id}/copy`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CopyBody {
    /// Default: "Copy of <name>".
    #[serde(default)]
    #[schema(max_length = 300)]
    pub name: Option<String>,
}

/// `POST /projects/{id}/template`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveAsTemplateBody {
    #[schema(max_length = 300)]
    pub name: String,
}

/// The templates, by name (staff; client users 404).
#[utoipa::path(get, path = "/api/v1/project-templates", tag = "templates",
    responses((status = 200, body = List<ProjectTemplate>), (status = 404)))]
pub async fn list_templates(State(st): State<AppState>, auth: Authed) -> AppResult<Json<List<ProjectTemplate>>> {
    Ok(Json(List { items: st.store.project_templates(&auth.actor).await?, next_cursor: None }))
}

/// Add a template (any staff member). 422 names the part: `tasks[2].milestone`,
/// `milestones[0].offset_days`, `tasks[1].assignee` (not active staff), `pages[0].url`.
#[utoipa::path(post, path = "/api/v1/project-templates", tag = "templates", request_body = TemplateBody,
    responses((status = 201, body = ProjectTemplate), (status = 404), (status = 422)))]
pub async fn create_template(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<TemplateBody>,
) -> AppResult<(StatusCode, Json<ProjectTemplate>)> {
    let t = st.store.create_project_template(&auth.actor, b.into(), Some(&ip)).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// One template (staff).
#[utoipa::path(get, path = "/api/v1/project-templates/{id}", tag = "templates", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ProjectTemplate), (status = 404)))]
pub async fn get_template(
    State(st): State<AppState>,
    auth: Authed,
    Id(id): Id<ProjectTemplateId>,
) -> AppResult<Json<ProjectTemplate>> {
    Ok(Json(st.store.project_template(&auth.actor, id).await?))
}

/// Change a template (any staff member); projects made from it keep what they were given.
#[utoipa::path(patch, path = "/api/v1/project-templates/{id}", tag = "templates", params(("id" = uuid::Uuid, Path)),
    request_body = TemplatePatchBody,
    responses((status = 200, body = ProjectTemplate), (status = 404), (status = 422)))]
pub async fn update_template(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectTemplateId>,
    ApiJson(b): ApiJson<TemplatePatchBody>,
) -> AppResult<Json<ProjectTemplate>> {
    Ok(Json(st.store.update_project_template(&auth.actor, id, b.into(), Some(&ip)).await?))
}

/// Delete a template (any staff member); projects made from it keep what they were given.
#[utoipa::path(delete, path = "/api/v1/project-templates/{id}", tag = "templates", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404)))]
pub async fn delete_template(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectTemplateId>,
) -> AppResult<StatusCode> {
    st.store.delete_project_template(&auth.actor, id, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a copy of a template (any staff member).
#[utoipa::path(post, path = "/api/v1/project-templates/{id}/copy", tag = "templates", params(("id" = uuid::Uuid, Path)),
    request_body = CopyBody,
    responses((status = 201, body = ProjectTemplate), (status = 404), (status = 422)))]
pub async fn copy_template(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectTemplateId>,
    ApiJson(b): ApiJson<CopyBody>,
) -> AppResult<(StatusCode, Json<ProjectTemplate>)> {
    let t = st.store.copy_project_template(&auth.actor, id, b.name.as_deref(), Some(&ip)).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Save a project as a new template (staff): its milestones, tasks (dates as offsets from its
/// start), top folders, pages and request form.
#[utoipa::path(post, path = "/api/v1/projects/{id}/template", tag = "templates", params(("id" = uuid::Uuid, Path)),
    request_body = SaveAsTemplateBody,
    responses((status = 201, body = ProjectTemplate), (status = 404), (status = 422)))]
pub async fn save_as_template(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    ApiJson(b): ApiJson<SaveAsTemplateBody>,
) -> AppResult<(StatusCode, Json<ProjectTemplate>)> {
    let t = st.store.template_from_project(&auth.actor, pid, &b.name, Some(&ip)).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// What every new client starts with: its invitation and welcome texts and a project from each
/// listed template (staff; client users 404).
#[utoipa::path(get, path = "/api/v1/onboarding", tag = "templates",
    responses((status = 200, body = Onboarding), (status = 404)))]
pub async fn get_onboarding(State(st): State<AppState>, auth: Authed) -> AppResult<Json<Onboarding>> {
    Ok(Json(st.store.onboarding(&auth.actor).await?))
}

/// Set what every new client starts with (owners and admins; other staff 403). Every part is
/// sent; existing clients keep what they have. 422 names `invitation_text`, `welcome_text` or
/// `project_templates[i]`.
#[utoipa::path(put, path = "/api/v1/onboarding", tag = "templates", request_body = Onboarding,
    responses((status = 200, body = Onboarding), (status = 403), (status = 404), (status = 422)))]
pub async fn put_onboarding(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<Onboarding>,
) -> AppResult<Json<Onboarding>> {
    Ok(Json(st.store.set_onboarding(&auth.actor, b, Some(&ip)).await?))
}
