//! The first-login guide of the portal: a short, skippable introduction (what waits for you,
//! your projects, how to reply, how to choose your emails). Home shows it as a panel until the
//! user dismisses it ("Got it" / "Skip" both POST and set `onboarded_at`); `/portal/welcome`
//! shows it again at any time (linked from the account page).

use askama::Template;
use atrium_core::policy::{Actor, PortalPage};
use axum::extract::State;
use axum::response::Response;

use super::{Chrome, page, see_other};
use crate::audience::PortalAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::state::AppState;

/// What the guide says, for one portal user.
#[derive(Clone, Debug)]
pub struct Guide {
    pub agency: String,
    /// The agency's welcome text (branding), if it has one.
    pub welcome_text: Option<String>,
    pub sees_projects: bool,
    pub sees_billing: bool,
    pub can_reply: bool,
    /// Whether the "Got it" / "Skip" buttons are shown (not while viewing as a client).
    pub can_dismiss: bool,
}

impl Guide {
    /// The guide for `actor`, following what their portal shows, with `welcome` (the
    /// client's welcome text, else the agency's) if there is one.
    pub fn for_actor(st: &AppState, actor: &Actor, welcome: &str) -> Self {
        Guide {
            agency: st.brand().name.clone(),
            welcome_text: Some(welcome.to_string()).filter(|t| !t.trim().is_empty()),
            sees_projects: actor.sees_portal_page(PortalPage::Projects),
            sees_billing: actor.sees_portal_page(PortalPage::Billing),
            can_reply: actor.may_comment(atrium_core::model::Visibility::Reply).is_ok(),
            can_dismiss: actor.may_finish_onboarding().is_ok(),
        }
    }
}

/// The guide for Home: shown until the user dismisses it, never while viewing as a client
/// (Home shows the welcome text itself, so the guide does not repeat it).
pub async fn home_guide(st: &AppState, actor: &Actor) -> AppResult<Option<Guide>> {
    let onboarded = st.store.own_account(actor).await?.onboarded_at.is_some();
    Ok(actor.sees_onboarding(onboarded).then(|| Guide::for_actor(st, actor, "")))
}

/// The welcome text `actor`'s portal shows: their client's own, else the agency's.
pub async fn welcome_text(st: &AppState, actor: &Actor) -> AppResult<String> {
    Ok(st.store.own_portal(actor).await?.welcome_text.unwrap_or_else(|| st.brand().welcome_text.clone()))
}

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomePage {
    chrome: Chrome,
    guide: Guide,
}

/// The guide on its own page (reopened from the account page).
pub async fn show(State(st): State<AppState>, auth: PortalAuth, csrf: CsrfToken) -> AppResult<Response> {
    let welcome = welcome_text(&st, &auth.actor).await?;
    let guide = Guide::for_actor(&st, &auth.actor, &welcome);
    page(&WelcomePage { chrome: Chrome::signed_in(&st, &auth, &csrf, "Welcome", "/portal"), guide })
}

/// "Got it" / "Skip": marks the introduction as seen and goes Home.
pub async fn dismiss(State(st): State<AppState>, auth: PortalAuth) -> AppResult<Response> {
    st.store.finish_onboarding(&auth.actor).await?;
    Ok(see_other("/portal"))
}
