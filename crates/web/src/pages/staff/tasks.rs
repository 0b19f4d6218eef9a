//! Tasks: adding one to a project, its page with the whole thread, editing it, comments.

use atrium_core::ids::{ProjectId, TaskId, UserId};
use atrium_core::markdown;
use atrium_core::model::{Priority, TaskStatus};
use axum::extract::State;
use axum::response::Response;

use super::people_opts;
use crate::api::input::{CommentBody, TaskBody, TaskPatchBody};
use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id};
use crate::pages::view::{comment_views, opts, task_row};
use crate::pages::{Chrome, page, see_other};
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
    let scope = auth.actor.work_scope();
    let t = st.store.task(&scope, tid).await?;
    let client = st.store.client(&auth.actor.client_scope(), t.client_id).await?;
    let comments = st.store.comments(&scope, tid).await?;
    let people = st.store.assignee_candidates(&auth.actor, t.client_id).await?;
    let mut ids: Vec<UserId> = comments.iter().map(|c| c.author_id).collect();
    ids.extend(t.task.assignee_id);
    let names = st.store.user_names(&ids).await?;
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, t.task.title.clone(), "/staff/clients");
    chrome.live = format!("task:{tid}");
    page(&crate::pages::view::TaskPage {
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
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(tid): Id<TaskId>,
    FormBody(f): FormBody<TaskPatchBody>,
) -> AppResult<Response> {
    st.store.update_task(&auth.actor, tid, f.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/tasks/{tid}")))
}

/// Posts a reply or an internal note.
pub async fn comment(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(tid): Id<TaskId>,
    FormBody(f): FormBody<CommentBody>,
) -> AppResult<Response> {
    let (body, vis) = f.validate()?;
    st.store.create_comment(&auth.actor, tid, body, vis, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/tasks/{tid}#comments")))
}
