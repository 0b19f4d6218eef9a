//! Approval pages: one approval with its history and sign-off, on the staff side and in the
//! portal, where a named approver decides. Reads and the decision go through the store, which
//! scopes the approval and asks the policy.

use askama::Template;
use atrium_core::ids::ApprovalId;
use atrium_core::model::{Approval, ApprovalStatus, ApprovalSubject, Decision};
use atrium_core::policy::Side;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::{Chrome, page, see_other};
use crate::api::input::empty_none;
use crate::audience::{PortalAuth, SideAuth, StaffAuth};
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id};
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
    /// The reviewed version's preview image (an image, or a PDF's first page), if it has one.
    preview: Option<String>,
    /// The reviewed version, opened in the browser.
    open_href: String,
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

async fn show(st: &AppState, auth: &SideAuth, csrf: &CsrfToken, id: ApprovalId) -> AppResult<Response> {
    let staff = auth.side() == Side::Staff;
    let a = st.store.approval(&auth.actor, id).await?;
    let prefix = super::prefix(auth.side());
    let version = a.version.map(|v| format!("?version={v}")).unwrap_or_default();
    let subject_href = match a.subject_type {
        // A client whose portal hides Files decides on the file here, without a link to its page.
        ApprovalSubject::File if auth.actor.may_use_area(atrium_core::policy::PortalPage::Files).is_err() => {
            String::new()
        }
        ApprovalSubject::File => format!("{prefix}/files/{}{version}", a.subject_id),
        ApprovalSubject::Task => format!("{prefix}/tasks/{}", a.subject_id),
    };
    let (mut preview, mut open_href) = (None, String::new());
    if a.subject_type == ApprovalSubject::File
        && let Ok(fid) = a.subject_id.parse::<atrium_core::ids::FileId>()
        && let Ok((f, v)) = st.store.file_download(&auth.actor, fid, a.version).await
    {
        let kind = crate::preview::Kind::of(&v.content_type, &f.name);
        if kind.thumbnail_limit().is_some_and(|max| v.size <= max) {
            preview = Some(format!("/api/v1/files/{fid}/thumbnail?version={}&size=large", v.version));
        }
        open_href = format!("/api/v1/files/{fid}/download?version={}&inline=true", v.version);
    }
    let local = st.store.local_time(&auth.actor).await?;
    let history = a
        .history
        .iter()
        .map(|e| EventView {
            who: e.user_name.clone(),
            action: action_label(&e.action),
            version: version_label(e.version),
            comment: e.comment.clone(),
            when: local.long(e.at),
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
            format!("Approved by {} on {}{what}", s.name, local.long(s.at))
        })
        .unwrap_or_default();
    let can_decide = !staff && a.status != ApprovalStatus::Approved && auth.actor.may_decide(&a.approver_ids).is_ok();
    let view = ApprovalPage {
        chrome: Chrome::signed_in(st, auth, csrf, "Approval", prefix),
        status_label: a.status.label(),
        subject_href,
        due: a.due_date.map(|d| d.format("%b %-d, %Y").to_string()).unwrap_or_default(),
        history,
        signed,
        can_decide,
        preview,
        open_href,
        a,
    };
    page(&view)
}

/// `GET /staff/approvals/{id}`.
pub async fn staff_approval(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(id): Id<ApprovalId>,
) -> AppResult<Response> {
    show(&st, &auth.into(), &csrf, id).await
}

/// `GET /portal/approvals/{id}`.
pub async fn portal_approval(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    Id(id): Id<ApprovalId>,
) -> AppResult<Response> {
    show(&st, &auth.into(), &csrf, id).await
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
    auth: PortalAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<ApprovalId>,
    FormBody(f): FormBody<DecisionForm>,
) -> AppResult<Response> {
    let decision = f.decision.ok_or_else(|| atrium_core::Error::invalid("decision", "is required"))?;
    st.store.decide(&auth.actor, id, decision, f.comment, Some(&ip)).await?;
    Ok(see_other(&format!("/portal/approvals/{id}")))
}

/// Staff request approval of a file's current version (the Files tab's form: `file_id`, one
/// `approver_id` per ticked client admin, optional `due_date`). Read by hand because a form
/// repeats `approver_id`.
pub async fn request(
    State(st): State<AppState>,
    auth: StaffAuth,
    crate::extract::ClientIp(ip): crate::extract::ClientIp,
    body: axum::body::Bytes,
) -> AppResult<Response> {
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

/// One approval in the list page.
pub struct ListRow {
    pub href: String,
    pub name: String,
    pub project: String,
    pub version: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub due: String,
    pub overdue: bool,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct ListPage {
    chrome: Chrome,
    prefix: &'static str,
    /// `open` or `all`.
    filter: &'static str,
    rows: Vec<ListRow>,
}

/// `?status=open|all` of the list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<String>,
}

async fn list(st: &AppState, auth: &SideAuth, csrf: &CsrfToken, q: ListQuery) -> AppResult<Response> {
    let staff = auth.side() == Side::Staff;
    let (filter, status) = match q.status.as_deref() {
        None | Some("") | Some("open") => ("open", Some(ApprovalStatus::Open)),
        Some("all") => ("all", None),
        Some(_) => return Err(atrium_core::Error::invalid("status", "must be open or all").into()),
    };
    let a = &auth.actor;
    let list = st.store.approvals(a, status).await?;
    let ids: Vec<_> = list.iter().map(|ap| ap.project_id).collect();
    let projects = st.store.project_names(&a.work_scope(), &ids).await?;
    let prefix = super::prefix(auth.side());
    let v = super::view::Viewer::of(st, a).await?;
    let today = v.today;
    let rows = list
        .iter()
        .map(|ap| ListRow {
            href: format!("{prefix}/approvals/{}", ap.id),
            name: ap.subject_name.clone(),
            project: projects.get(&ap.project_id).cloned().unwrap_or_default(),
            version: version_label(ap.version),
            status: ap.status.label(),
            status_class: ap.status.as_str(),
            due: ap.due_date.map(|d| d.format("%b %-d, %Y").to_string()).unwrap_or_default(),
            overdue: ap.status == ApprovalStatus::Open && ap.due_date.is_some_and(|d| d < today),
            updated: v.local.short(ap.history.last().map(|e| e.at).unwrap_or(ap.created_at)),
        })
        .collect();
    let chrome =
        Chrome::signed_in(st, auth, csrf, "Approvals", if staff { "/staff/approvals" } else { "/portal/approvals" });
    page(&ListPage { chrome, prefix, filter, rows })
}

/// `GET /staff/approvals`: every approval of every client, open first by default.
pub async fn staff_list(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    crate::extract::Q(q): crate::extract::Q<ListQuery>,
) -> AppResult<Response> {
    list(&st, &auth.into(), &csrf, q).await
}

/// `GET /portal/approvals`: the client's approvals.
pub async fn portal_list(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    crate::extract::Q(q): crate::extract::Q<ListQuery>,
) -> AppResult<Response> {
    list(&st, &auth.into(), &csrf, q).await
}
