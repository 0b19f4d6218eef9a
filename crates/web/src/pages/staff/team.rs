//! The team: the agency's staff, inviting staff, and deactivating or reactivating accounts.

use askama::Template;
use atrium_core::Error;
use atrium_core::ids::UserId;
use atrium_core::model::Role;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::{InviteForm, PersonRow};
use crate::api::input::InvitationBody;
use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::flows;
use crate::pages::account::{Notice, notice_text};
use crate::pages::view::{Opt, opts};
use crate::pages::{Chrome, page, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "staff_team.html")]
struct TeamPage {
    chrome: Chrome,
    staff: Vec<StaffRow>,
    can_invite: bool,
    roles: Vec<Opt>,
}

/// The agency's staff, and inviting more.
pub async fn team(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    let titles = st.store.job_titles(&auth.actor).await?;
    let staff = st
        .store
        .staff_users(&auth.actor)
        .await?
        .into_iter()
        .map(|u| StaffRow {
            title: titles.get(&u.id).cloned().unwrap_or_default(),
            can_set_title: auth.actor.may_set_job_title(u.id, u.role).is_ok(),
            person: PersonRow::of(u, &auth.actor),
        })
        .collect();
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, "Team", "/staff/team");
    chrome.flash = notice_text(n.notice.as_deref());
    let staff_roles = [Role::Staff, Role::Admin, Role::Owner];
    page(&TeamPage {
        chrome,
        staff,
        can_invite: auth.actor.may_invite(Role::Staff).is_ok(),
        roles: opts(&staff_roles, Some(Role::Staff), Role::as_str, Role::label),
    })
}

/// A staff member on the team page, with their job title.
struct StaffRow {
    person: PersonRow,
    title: String,
    /// Whether the viewer may change this title (owners and admins; staff their own).
    can_set_title: bool,
}

/// The job title form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TitleForm {
    #[serde(default)]
    title: String,
}

/// Sets a staff member's job title (shown with their name on the projects they work on).
pub async fn set_title(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<UserId>,
    FormBody(f): FormBody<TitleForm>,
) -> AppResult<Response> {
    let title = atrium_core::validate::optional_line("title", &f.title, atrium_core::validate::JOB_TITLE_MAX)?;
    st.store.set_job_title(&auth.actor, id, title, Some(&ip)).await?;
    Ok(see_other("/staff/team?notice=saved"))
}

/// The deactivate / reactivate form.
#[derive(Deserialize)]
pub struct ActiveForm {
    active: bool,
}

/// Deactivates or reactivates an account (client user or staff), as the policy allows.
pub async fn set_user_active(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<UserId>,
    FormBody(f): FormBody<ActiveForm>,
) -> AppResult<Response> {
    let u = st.store.set_user_active(&auth.actor, id, f.active, Some(&ip)).await?;
    let notice = if f.active { "reactivated" } else { "deactivated" };
    Ok(see_other(&match u.client_id {
        Some(c) => format!("/staff/clients/{c}?notice={notice}"),
        None => format!("/staff/team?notice={notice}"),
    }))
}

/// Invites a staff member (owners and admins).
pub async fn invite_staff(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<InviteForm>,
) -> AppResult<Response> {
    if !f.role.is_staff() {
        return Err(Error::invalid("role", "must be a staff role").into());
    }
    flows::invite(
        &st,
        &auth.actor,
        &ip,
        InvitationBody { email: f.email, name: f.name, role: f.role, client_id: None },
    )
    .await?;
    Ok(see_other("/staff/team?notice=invited"))
}
