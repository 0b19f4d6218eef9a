//! Approval pages: one approval with its history and sign-off, on the staff side and in the
//! portal, where a named approver decides. Reads and the decision go through the store, which
//! scopes the approval and asks the policy.

use askama::Template;
use atrium_core::ids::ApprovalId;
use atrium_core::model::{Approval, ApprovalStatus, ApprovalSubject, Decision};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Chrome, render, see_other};
use crate::api::input::empty_none;
use crate::auth::Authed;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody};
use crate::state::AppState;

/// One history line.
pub struct EventView {
    pub who: String,
    pub action: &'static str,
    pub version: String,
    pub comment: String,
    pub when: String,
}

/// An open approval in a list (Home, My work).
pub struct ApprovalRow {
    pub href: String,
    pub name: String,
    pub version: String,
    pub due: String,
}

/// Rows for the approvals of `list`, linking to the given side.
pub fn rows(list: &[Approval], staff: bool) -> Vec<ApprovalRow> {
    let prefix = if staff { "/staff" } else { "/portal" };
    list.iter()
        .map(|a| ApprovalRow {
            href: format!("{prefix}/approvals/{}", a.id),
            name: a.subject_name.clone(),
            version: version_label(a.version),
            due: a.due_date.map(|d| d.format("%b %-d").to_string()).unwrap_or_default(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "approval.html")]
struct ApprovalPage {
    chrome: Chrome,
    a: Approval,
    status_label: &'static str,
    subject_href: String,
    due: String,
    history: Vec<EventView>,
    signed: String,
    can_decide: bool,
}

fn action_label(action: &str) -> &'static str {
    match action {
        "requested" => "requested approval",
        "approved" => "approved",
        "changes_requested" => "requested changes",
        "rejected" => "rejected",
        "reopened" => "reopened the review with a new version",
        _ => "updated",
    }
}

fn version_label(v: Option<u32>) -> String {
    v.map(|v| format!("v{v}")).unwrap_or_default()
}

async fn show(st: &AppState, auth: &Authed, csrf: &CsrfToken, id: String, staff: bool) -> AppResult<Response> {
    let a = st.store.approval(&auth.actor, id.parse::<ApprovalId>()?).await?;
    let prefix = if staff { "/staff" } else { "/portal" };
    let subject_href = match a.subject_type {
        ApprovalSubject::File => format!("{prefix}/projects/{}/files", a.project_id),
        ApprovalSubject::Task => format!("{prefix}/tasks/{}", a.subject_id),
    };
    let history = a
        .history
        .iter()
        .map(|e| EventView {
            who: e.user_name.clone(),
            action: action_label(&e.action),
            version: version_label(e.version),
            comment: e.comment.clone(),
            when: e.at.format("%b %-d, %Y %H:%M UTC").to_string(),
        })
        .collect();
    let signed = a
        .sign_off
        .as_ref()
        .map(|s| {
            let what = match (&s.version, &s.sha256) {
                (Some(v), Some(h)) => format!(" version {v} (SHA-256 {h})"),
                _ => String::new(),
            };
            format!("Approved by {} on {}{what}", s.name, s.at.format("%b %-d, %Y %H:%M UTC"))
        })
        .unwrap_or_default();
    let can_decide = !staff && a.status != ApprovalStatus::Approved && auth.actor.may_decide(&a.approver_ids).is_ok();
    let page = ApprovalPage {
        chrome: Chrome::signed_in(st, auth, csrf, "Approval", prefix),
        status_label: a.status.label(),
        subject_href,
        due: a.due_date.map(|d| d.format("%b %-d, %Y").to_string()).unwrap_or_default(),
        history,
        signed,
        can_decide,
        a,
    };
    Ok(render(&page)?.into_response())
}

/// `GET /staff/approvals/{id}`.
pub async fn staff_approval(
    State(st): State<AppState>,
    auth: Authed,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    show(&st, &auth, &csrf, id, true).await
}

/// `GET /portal/approvals/{id}`.
pub async fn portal_approval(
    State(st): State<AppState>,
    auth: Authed,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    auth.actor.may_use_portal()?;
    show(&st, &auth, &csrf, id, false).await
}

/// The decision form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionForm {
    #[serde(default, deserialize_with = "empty_none")]
    decision: Option<Decision>,
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /portal/approvals/{id}/decision`: a named approver decides.
pub async fn portal_decide(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    FormBody(f): FormBody<DecisionForm>,
) -> AppResult<Response> {
    auth.actor.may_use_portal()?;
    let id: ApprovalId = id.parse()?;
    let decision = f.decision.ok_or_else(|| atrium_core::Error::invalid("decision", "is required"))?;
    st.store.decide(&auth.actor, id, decision, f.comment, Some(&ip)).await?;
    Ok(see_other(&format!("/portal/approvals/{id}")))
}

/// Staff request approval of a file's current version (the Files tab's form: `file_id`, one
/// `approver_id` per ticked client admin, optional `due_date`). Read by hand because a form
/// repeats `approver_id`.
pub async fn request(
    State(st): State<AppState>,
    auth: Authed,
    crate::extract::ClientIp(ip): crate::extract::ClientIp,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    auth.actor.may_manage_clients()?;
    let (mut file_id, mut approver_ids, mut due_date) = (String::new(), Vec::new(), None);
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "file_id" => file_id = v.into_owned(),
            "approver_id" => {
                approver_ids.push(v.parse().map_err(|_| atrium_core::Error::invalid("approver_ids", "no such user"))?)
            }
            "due_date" if !v.is_empty() => {
                due_date = Some(
                    v.parse::<chrono::NaiveDate>()
                        .map_err(|_| atrium_core::Error::invalid("due_date", "must be a date (YYYY-MM-DD)"))?,
                )
            }
            _ => {}
        }
    }
    let n = atrium_store::approvals::NewApproval {
        subject_type: ApprovalSubject::File,
        subject_id: file_id,
        approver_ids,
        due_date,
    };
    let a = st.store.request_approval(&auth.actor, n, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/approvals/{}", a.id)))
}
