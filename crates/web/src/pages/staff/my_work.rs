//! My work: every open task assigned to me, grouped by due date, and the approvals I asked for.

use std::collections::HashMap;

use askama::Template;
use atrium_store::paging::PageRequest;
use axum::extract::State;
use axum::response::Response;

use super::client_names;
use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::pages::view::{DueGroups, Viewer, task_row};
use crate::pages::{Chrome, page};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "staff_my_work.html")]
struct MyWorkPage {
    chrome: Chrome,
    groups: DueGroups,
    open_total: usize,
    /// Open approvals I requested.
    approvals: Vec<crate::pages::approvals::ApprovalRow>,
}

/// Every open task assigned to me across all clients, grouped by due date.
pub async fn my_work(State(st): State<AppState>, auth: StaffAuth, csrf: CsrfToken) -> AppResult<Response> {
    let me = auth.actor.user_id();
    let v = Viewer::of(&st, &auth.actor).await?;
    let tasks = st.store.tasks_assigned(&auth.actor.work_scope(), me, false, PageRequest::all()).await?;
    let names = HashMap::from([(me, auth.actor.name().to_string())]);
    let clients = client_names(&st, &auth).await?;
    let open_total = tasks.items.len();
    let rows = tasks
        .items
        .iter()
        .map(|t| {
            let label = format!("{} · {}", clients.get(&t.client_id).map(String::as_str).unwrap_or(""), t.project_name);
            (t.task.due_date, task_row(&t.task, &names, &label, &v))
        })
        .collect();
    page(&MyWorkPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "My work", "/staff"),
        groups: DueGroups::build(rows, v.today),
        open_total,
        approvals: crate::pages::approvals::rows(&st.store.approvals_for_user_open(&auth.actor).await?, true),
    })
}
