//! Held incoming mail: what mail in could not place (an unknown sender to the inbound
//! address, a reply whose sender is not its address's owner, a thread hidden from its sender),
//! listed for staff with a discard button. Nothing here posts anything.

use askama::Template;
use atrium_core::Error;
use atrium_core::ids::HeldMailId;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody};
use crate::pages::{Chrome, page, see_other};
use crate::state::AppState;

struct HeldView {
    id: String,
    from: String,
    subject: String,
    excerpt: String,
    reason: &'static str,
    when: String,
}

#[derive(Template)]
#[template(path = "staff_held_mail.html")]
struct HeldMailPage {
    chrome: Chrome,
    held: Vec<HeldView>,
    inbound: Option<String>,
}

/// The held mail, newest first.
pub async fn held_mail(State(st): State<AppState>, auth: StaffAuth, csrf: CsrfToken) -> AppResult<Response> {
    let local = st.store.local_time(&auth.actor).await?;
    let held = st
        .store
        .held_mails(&auth.actor)
        .await?
        .into_iter()
        .map(|h| HeldView {
            id: h.id.to_string(),
            from: h.from,
            subject: h.subject,
            excerpt: h.excerpt,
            reason: h.reason.label(),
            when: local.short(h.received_at),
        })
        .collect();
    page(&HeldMailPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "Held incoming mail", "/staff/outbox"),
        held,
        inbound: st.config.inbound.as_ref().map(|a| a.address()),
    })
}

/// The discard form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscardForm {
    id: String,
}

/// Discards a held mail; one that is already gone (a second click) changes nothing.
pub async fn discard(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<DiscardForm>,
) -> AppResult<Response> {
    let id: HeldMailId = f.id.trim().parse().map_err(|_| Error::invalid("id", "is not a held mail"))?;
    st.store.discard_held_mail(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other("/staff/held-mail"))
}
