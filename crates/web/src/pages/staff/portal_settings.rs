//! What a client's portal shows, on the staff side: the client page's "Portal" card (its pages,
//! its welcome text) and the default pages for new clients on the client list. The forms send
//! the whole set of pages (an unticked box hides its page).

use atrium_core::ids::ClientId;
use atrium_core::policy::{PortalPage, PortalPages};
use atrium_core::portal::WELCOME_TEXT_MAX;
use atrium_core::validate;
use atrium_store::portal::{DefaultsChange, PortalChange};
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use crate::audience::StaffAuth;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id};
use crate::pages::see_other;

/// One page of the portal, as the forms show it.
pub(crate) struct PageToggle {
    pub slug: &'static str,
    pub label: &'static str,
    pub shown: bool,
}

/// The pages a client can hide, with whether `pages` shows them.
pub(crate) fn toggles(pages: PortalPages) -> Vec<PageToggle> {
    PortalPage::HIDEABLE
        .into_iter()
        .map(|p| PageToggle { slug: p.slug(), label: label(p), shown: pages.shows(p) })
        .collect()
}

fn label(p: PortalPage) -> &'static str {
    match p {
        PortalPage::Home => "Home",
        PortalPage::Projects => "Projects",
        PortalPage::MyTasks => "My tasks",
        PortalPage::Files => "Files",
        PortalPage::Messages => "Messages",
        PortalPage::Approvals => "Approvals",
        PortalPage::Billing => "Billing",
        PortalPage::HelpDesk => "Help desk",
    }
}

/// The pages of a form: a ticked box (`true`) shows its page, an absent one hides it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagesForm {
    #[serde(default)]
    files: bool,
    #[serde(default)]
    messages: bool,
    #[serde(default)]
    approvals: bool,
    #[serde(default)]
    billing: bool,
    #[serde(default)]
    helpdesk: bool,
    /// Only on the client page: the client's welcome text (empty = the agency's).
    #[serde(default)]
    welcome_text: Option<String>,
}

impl PagesForm {
    fn changes(&self) -> Vec<(PortalPage, bool)> {
        vec![
            (PortalPage::Files, self.files),
            (PortalPage::Messages, self.messages),
            (PortalPage::Approvals, self.approvals),
            (PortalPage::Billing, self.billing),
            (PortalPage::HelpDesk, self.helpdesk),
        ]
    }
}

/// Saves the client page's Portal card.
pub async fn update_client_portal(
    State(st): State<crate::state::AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
    FormBody(f): FormBody<PagesForm>,
) -> AppResult<Response> {
    let welcome_text = match f.welcome_text.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(t) => Some(Some(validate::text("welcome_text", t, WELCOME_TEXT_MAX)?)),
    };
    st.store
        .set_client_portal(
            &auth.actor,
            cid,
            PortalChange { pages: f.changes(), welcome_text, ..Default::default() },
            Some(&ip),
        )
        .await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=saved#portal")))
}

/// Saves the default pages for new clients (owners and admins).
pub async fn update_defaults(
    State(st): State<crate::state::AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<PagesForm>,
) -> AppResult<Response> {
    if f.welcome_text.is_some() {
        return Err(atrium_core::Error::invalid("welcome_text", "is set per client, not as a default").into());
    }
    st.store
        .set_portal_defaults(&auth.actor, &DefaultsChange { pages: f.changes(), ..Default::default() }, Some(&ip))
        .await?;
    Ok(see_other("/staff/clients?notice=saved"))
}
