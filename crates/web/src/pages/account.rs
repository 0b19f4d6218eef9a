//! The signed-in user's account: password change and active sessions (SEC-SESS-3).

use askama::Template;
use atrium_core::ids::SessionId;
use atrium_core::service_level::timezone_names;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Chrome, see_other};
use crate::auth::Authed;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::flows;
use crate::state::AppState;

struct SessionView {
    id: String,
    current: bool,
    started: String,
    last_seen: String,
    ip: String,
    agent: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    email: String,
    sessions: Vec<SessionView>,
    /// Portal users: the link that reopens the first-login introduction.
    portal_guide: bool,
    /// The timezone field as stored or as typed (empty: the agency's).
    timezone: String,
    /// The agency's timezone, named in the field's help.
    agency_timezone: String,
    timezones: Vec<&'static str>,
    /// A rejected timezone, named.
    timezone_error: Option<String>,
}

/// Notice codes a redirect may carry.
#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    pub notice: Option<String>,
}

/// Maps a notice code to its message (only known codes are shown).
pub fn notice_text(code: Option<&str>) -> Option<String> {
    let t = match code? {
        "password" => "Your password was changed. Other sessions were signed out.",
        "revoked" => "The session was signed out.",
        "invited" => "Invitation sent.",
        "saved" => "Saved.",
        "contact_added" => "Contact added.",
        "client_deleted" => "Client deleted: hidden from everyone, its people signed out. You can restore it below.",
        "client_restored" => "Client restored.",
        "deactivated" => "Account deactivated: signed out everywhere, every link cancelled.",
        "reactivated" => "Account reactivated. They can sign in again.",
        "contact_removed" => "Contact removed.",
        "access_revoked" => "Every session and link of this client's users was revoked.",
        _ => return None,
    };
    Some(t.to_string())
}

/// The account page.
pub async fn page(State(st): State<AppState>, auth: Authed, csrf: CsrfToken, Q(n): Q<Notice>) -> AppResult<Response> {
    render(&st, &auth, &csrf, n.notice.as_deref(), None).await
}

/// The account page, with a rejected timezone (as typed, and why) when there is one.
async fn render(
    st: &AppState,
    auth: &Authed,
    csrf: &CsrfToken,
    notice: Option<&str>,
    rejected: Option<(String, atrium_core::Error)>,
) -> AppResult<Response> {
    let local = st.store.local_time(&auth.actor).await?;
    let agency = st.store.agency_timezone(&auth.actor).await?;
    let sessions = st
        .store
        .sessions_of(&auth.actor)
        .await?
        .into_iter()
        .map(|s| SessionView {
            id: s.id.to_string(),
            current: Some(s.id) == auth.session_id(),
            started: local.long(s.created_at),
            last_seen: local.short(s.last_seen_at),
            ip: s.ip.unwrap_or_default(),
            agent: s.user_agent.unwrap_or_default().chars().take(80).collect(),
        })
        .collect();
    let mut chrome = Chrome::signed_in(st, auth, csrf, "Account", "/account");
    chrome.flash = notice_text(notice);
    let portal_guide = auth.actor.may_enter(atrium_core::policy::Side::Portal).is_ok();
    let own = auth.actor.timezone().map(|t| t.name().to_string()).unwrap_or_default();
    let status = rejected.as_ref().map_or(StatusCode::OK, |(_, e)| crate::error::status(e));
    let (timezone, timezone_error) = match rejected {
        Some((typed, e)) => (typed, Some(e.to_string())),
        None => (own, None),
    };
    let page = AccountPage {
        chrome,
        email: auth.actor.email().to_string(),
        sessions,
        portal_guide,
        timezone,
        agency_timezone: agency.name().to_string(),
        timezones: timezone_names().collect(),
        timezone_error,
    };
    Ok((status, super::render(&page)?).into_response())
}

/// The timezone field.
#[derive(Deserialize)]
pub struct TimezoneForm {
    #[serde(default)]
    timezone: String,
}

/// Sets the person's own timezone (empty: the agency's); a name that is not one is shown
/// again with the error (422).
pub async fn set_timezone(
    State(st): State<AppState>,
    auth: Authed,
    csrf: CsrfToken,
    FormBody(f): FormBody<TimezoneForm>,
) -> AppResult<Response> {
    match atrium_core::local_time::parse_own_timezone(Some(&f.timezone)) {
        Ok(tz) => {
            st.store.set_own_timezone(&auth.actor, tz).await?;
            Ok(see_other("/account?notice=saved"))
        }
        Err(e) => render(&st, &auth, &csrf, None, Some((f.timezone, e))).await,
    }
}

/// Password change fields.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// Changes the password (needs the current one); other sessions end.
pub async fn change_password(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<PasswordForm>,
) -> AppResult<Response> {
    flows::change_password(&st, &auth.actor, &ip, &f.current_password, &f.new_password).await?;
    Ok(see_other("/login"))
}

/// Revokes one of the user's own sessions.
pub async fn revoke_session(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(sid): Id<SessionId>,
) -> AppResult<Response> {
    if !st.store.revoke_session(&auth.actor, auth.signed_in_user(), sid, Some(&ip)).await? {
        return Err(atrium_core::Error::NotFound.into());
    }
    Ok(see_other("/account?notice=revoked"))
}
