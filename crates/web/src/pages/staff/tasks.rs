//! Tasks: adding one to a project, its page with the whole thread, editing it, comments.

use atrium_core::ids::{ProjectId, TaskId};
use axum::extract::State;
use axum::response::Response;

use crate::api::input::{TaskBody, TaskPatchBody};
use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id};
use crate::pages::see_other;
use crate::pages::task::task_page;
use crate::state::AppState;

/// Adds a task from the project page.
pub async fn create_task(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    FormBody(f): FormBody<TaskBody>,
) -> AppResult<Response> {
    st.store.create_task(&auth.actor, pid, f.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{pid}")))
}

/// A task with its whole thread (replies and notes, each marked).
pub async fn task(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(tid): Id<TaskId>,
) -> AppResult<Response> {
    task_page(&st, &auth.into(), &csrf, tid).await
}

/// Updates a task from its edit form.
pub async fn update_task(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(tid): Id<TaskId>,
    FormBody(f): FormBody<TaskPatchBody>,
) -> AppResult<Response> {
    st.store.update_task(&auth.actor, tid, f.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/tasks/{tid}")))
}
