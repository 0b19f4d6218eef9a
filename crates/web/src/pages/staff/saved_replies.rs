//! The staff's saved replies (one library every staff member keeps): list, add, edit, delete.
//! A refused value shows the page again with the message naming the field.

use askama::Template;
use atrium_core::Error;
use atrium_core::ids::SavedReplyId;
use atrium_core::saved_reply::TITLE_MAX;
use atrium_core::validate::BODY_MAX;
use atrium_store::saved_replies::SavedReplyPatch;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::pages::account::Notice;
use crate::pages::{Chrome, render, see_other};
use crate::state::AppState;

/// Where the library lives.
pub const PATH: &str = "/staff/saved-replies";

struct ReplyRow {
    id: String,
    title: String,
    body: String,
}

#[derive(Template)]
#[template(path = "staff_saved_replies.html")]
struct SavedRepliesPage {
    chrome: Chrome,
    error: Option<String>,
    replies: Vec<ReplyRow>,
    /// The add form's values (what was sent, after a refusal).
    new_title: String,
    new_body: String,
    title_max: usize,
    body_max: usize,
}

/// The add and edit forms.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedReplyForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

async fn show(
    st: &AppState,
    auth: &StaffAuth,
    csrf: &CsrfToken,
    sent: Option<SavedReplyForm>,
    error: Option<Error>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let replies = st.store.saved_replies(&auth.actor).await?;
    let mut chrome = Chrome::signed_in(st, auth, csrf, "Saved replies", "/staff/inbox");
    chrome.flash = match notice {
        Some("added") => Some("Saved reply added.".into()),
        Some("saved") => Some("Saved reply changed.".into()),
        Some("deleted") => Some("Saved reply deleted.".into()),
        _ => None,
    };
    let status = error.as_ref().map_or(StatusCode::OK, crate::error::status);
    let sent = sent.unwrap_or(SavedReplyForm { title: String::new(), body: String::new() });
    let page = SavedRepliesPage {
        chrome,
        error: error.map(|e| e.to_string()),
        replies: replies.into_iter().map(|r| ReplyRow { id: r.id.to_string(), title: r.title, body: r.body }).collect(),
        new_title: sent.title,
        new_body: sent.body,
        title_max: TITLE_MAX,
        body_max: BODY_MAX,
    };
    Ok((status, render(&page)?).into_response())
}

/// The library.
pub async fn page(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    show(&st, &auth, &csrf, None, None, n.notice.as_deref()).await
}

/// Adds a saved reply.
pub async fn create(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<SavedReplyForm>,
) -> AppResult<Response> {
    match st.store.create_saved_reply(&auth.actor, &f.title, &f.body, Some(&ip)).await {
        Ok(_) => Ok(see_other(&format!("{PATH}?notice=added"))),
        Err(e) => show(&st, &auth, &csrf, Some(f), Some(super::input_error(e)?), None).await,
    }
}

/// Changes a saved reply.
pub async fn update(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Id(id): Id<SavedReplyId>,
    FormBody(f): FormBody<SavedReplyForm>,
) -> AppResult<Response> {
    let p = SavedReplyPatch { title: Some(f.title), body: Some(f.body) };
    match st.store.update_saved_reply(&auth.actor, id, p, Some(&ip)).await {
        Ok(_) => Ok(see_other(&format!("{PATH}?notice=saved"))),
        Err(e) => show(&st, &auth, &csrf, None, Some(super::input_error(e)?), None).await,
    }
}

/// Deletes a saved reply.
pub async fn delete(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<SavedReplyId>,
) -> AppResult<Response> {
    st.store.delete_saved_reply(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("{PATH}?notice=deleted")))
}
