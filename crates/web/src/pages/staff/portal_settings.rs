//! What a client's portal shows, on the staff side: the client page's "Portal" card (its pages,
//! its welcome text) and the default pages for new clients on the client list. The forms send
//! the whole set of pages (an unticked box hides its page).

use atrium_core::ids::ClientId;
use atrium_core::policy::{PortalPage, PortalPages, QuickAction};
use atrium_core::portal::WELCOME_TEXT_MAX;
use atrium_core::quick_actions::{QuickActions, scheduling_url};
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

/// The quick actions the forms offer, with whether `set` has them on.
pub(crate) fn quick_toggles(set: QuickActions) -> Vec<PageToggle> {
    [
        ("qa_projects", QuickAction::Projects),
        ("qa_billing", QuickAction::Billing),
        ("qa_helpdesk", QuickAction::HelpDesk),
        ("qa_meeting", QuickAction::Meeting),
    ]
    .into_iter()
    .map(|(slug, a)| PageToggle { slug, label: a.label(), shown: set.has(a) })
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
    /// Set when the form carries the quick actions (a form without them leaves them alone).
    #[serde(default)]
    quick: bool,
    #[serde(default)]
    qa_projects: bool,
    #[serde(default)]
    qa_billing: bool,
    #[serde(default)]
    qa_helpdesk: bool,
    #[serde(default)]
    qa_meeting: bool,
    /// Only on the client page: the client has its own quick actions and link (unticked: the
    /// agency's).
    #[serde(default)]
    qa_own: bool,
    /// The scheduling link (empty: none, or on the client page the agency's).
    #[serde(default)]
    scheduling_url: Option<String>,
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

    fn quick_changes(&self) -> Vec<(QuickAction, bool)> {
        vec![
            (QuickAction::Projects, self.qa_projects),
            (QuickAction::Billing, self.qa_billing),
            (QuickAction::HelpDesk, self.qa_helpdesk),
            (QuickAction::Meeting, self.qa_meeting),
        ]
    }

    /// The scheduling link, validated (422 naming `scheduling_url`); empty = none.
    fn link(&self) -> atrium_core::Result<Option<Option<String>>> {
        match self.scheduling_url.as_deref().map(str::trim) {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(u) => Ok(Some(Some(scheduling_url("scheduling_url", u)?))),
        }
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
    let (quick_actions, scheduling_url) = match (f.quick, f.qa_own) {
        (false, _) => (None, None),
        (true, true) => (Some(Some(f.quick_changes())), f.link()?),
        (true, false) => (Some(None), Some(None)),
    };
    let change = PortalChange { pages: f.changes(), welcome_text, quick_actions, scheduling_url };
    st.store.set_client_portal(&auth.actor, cid, change, Some(&ip)).await?;
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
    let change = if f.quick {
        DefaultsChange { pages: f.changes(), quick_actions: f.quick_changes(), scheduling_url: f.link()? }
    } else {
        DefaultsChange { pages: f.changes(), ..Default::default() }
    };
    st.store.set_portal_defaults(&auth.actor, &change, Some(&ip)).await?;
    Ok(see_other("/staff/clients?notice=saved"))
}
