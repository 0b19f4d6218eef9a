//! A task's page, on both sides: the task and its thread (the store's scope leaves notes out of
//! the portal), the edit form on the staff side, the reply and status forms the policy allows in
//! the portal.

use atrium_core::ids::{TaskId, UserId};
use atrium_core::markdown;
use atrium_core::model::{Priority, TaskStatus, Visibility};
use atrium_core::policy::{Side, TaskChange};
use axum::extract::State;
use axum::response::Response;

use super::composer::saved_reply_picks;
use super::view::{TaskPage, Viewer, comment_views, opts, people_opts, task_row};
use super::{Chrome, page, prefix, see_other};
use crate::api::input::CommentBody;
use crate::audience::SideAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id};
use crate::state::AppState;

/// The task page for the side `auth` was admitted to.
pub async fn task_page(st: &AppState, auth: &SideAuth, csrf: &CsrfToken, tid: TaskId) -> AppResult<Response> {
    let side = auth.side();
    let staff = side == Side::Staff;
    let a = &auth.actor;
    let scope = a.work_scope();
    let t = st.store.task(&scope, tid).await?;
    let client = if staff { st.store.client(&a.client_scope(), t.client_id).await?.name } else { String::new() };
    let comments = st.store.comments(&scope, tid).await?;
    let people = if staff { st.store.assignee_candidates(a, t.client_id).await? } else { Vec::new() };
    let saved_replies = if staff { saved_reply_picks(st, a).await? } else { Vec::new() };
    let task = &t.task;
    let mut ids: Vec<UserId> = comments.iter().map(|c| c.author_id).collect();
    ids.extend(task.assignee_id);
    let names = st.store.user_names(a, &ids).await?;
    let v = Viewer::of(st, a).await?;
    let ticket = st.store.ticket_of_task(&a.ticket_scope(), tid).await?;
    let active = if staff { "/staff/clients" } else { "/portal/projects" };
    let mut chrome = Chrome::signed_in(st, auth, csrf, task.title.clone(), active);
    chrome.live = format!("task:{tid}");
    let mut view = TaskPage {
        chrome,
        mention_src: format!("/api/v1/projects/{}/people", task.project_id),
        staff,
        t: task_row(task, &names, &t.project_name, &v),
        project_href: format!("{}/projects/{}", prefix(side), task.project_id),
        client,
        title: task.title.clone(),
        description: task.description.clone(),
        description_html: markdown::to_html(&task.description),
        due_date: String::new(),
        comments: comment_views(&comments, &names, &v.local),
        statuses: vec![],
        priorities: vec![],
        people: vec![],
        can_reply: true,
        can_complete: false,
        ticket_href: ticket
            .as_ref()
            .map(|t| match side {
                Side::Staff => format!("/staff/tickets/{}", t.id),
                Side::Portal => format!("/portal/helpdesk/{}", t.id),
            })
            .unwrap_or_default(),
        ticket_label: ticket.as_ref().map(|t| atrium_core::helpdesk::ticket_label(t.number)).unwrap_or_default(),
        saved_replies,
    };
    match side {
        // Staff reply and take notes on any task they see; the edit form replaces completing.
        Side::Staff => {
            view.due_date = task.due_date.map(|d| d.to_string()).unwrap_or_default();
            view.statuses = opts(TaskStatus::ALL, Some(task.status), TaskStatus::as_str, TaskStatus::label);
            view.priorities = opts(Priority::ALL, Some(task.priority), Priority::as_str, Priority::label);
            view.people = people_opts(&people, task.assignee_id, "Unassigned");
        }
        Side::Portal => {
            view.can_reply = a.may_comment(Visibility::Reply).is_ok();
            view.can_complete = a.may_update_task(task.assignee_id, TaskChange::StatusOnly).is_ok();
        }
    }
    page(&view)
}

/// Posts a comment on a task, from either side: a reply, or (staff) an internal note — the store
/// asks the policy which the caller may post.
pub async fn comment(
    State(st): State<AppState>,
    auth: SideAuth,
    ClientIp(ip): ClientIp,
    Id(tid): Id<TaskId>,
    FormBody(f): FormBody<CommentBody>,
) -> AppResult<Response> {
    let (body, vis) = f.validate()?;
    st.store.create_comment(&auth.actor, tid, body, vis, Some(&ip)).await?;
    Ok(see_other(&format!("{}/tasks/{tid}#comments", prefix(auth.side()))))
}
