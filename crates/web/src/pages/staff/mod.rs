//! The staff side, by subject: My work, clients (contacts, invitations, View as client),
//! projects (milestones, request forms), project templates, tasks (comments), the team, saved
//! replies, and the
//! branding and service-level settings. This module holds what several of them
//! use; it imports nothing from them (the router names each submodule's handlers).

pub mod automations;
pub mod branding;
pub mod clients;
pub mod held_mail;
pub mod inbox;
pub mod my_work;
pub mod portal_settings;
pub mod projects;
pub mod request_form;
pub mod saved_replies;
pub mod service_levels;
pub mod tasks;
pub mod team;
pub mod templates;

/// The staff home page (also named as `staff::my_work` outside this module).
pub use my_work::my_work;

use std::collections::HashMap;

use atrium_core::ids::ClientId;
use atrium_core::model::{Role, User};
use atrium_store::paging::PageRequest;
use serde::Deserialize;

use crate::auth::Authed;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Every client's name by id (My work and the activity log label rows with them).
pub(super) async fn client_names(st: &AppState, auth: &Authed) -> AppResult<HashMap<ClientId, String>> {
    let cs = st.store.clients(&auth.actor.client_scope(), PageRequest::all()).await?;
    Ok(cs.items.into_iter().map(|c| (c.id, c.name)).collect())
}

/// Only a refusal of the input is shown again on a settings form (with what was sent);
/// anything else is the usual error page.
pub(super) fn input_error(e: atrium_core::Error) -> Result<atrium_core::Error, AppError> {
    use atrium_core::Error;
    match e {
        e @ (Error::Invalid { .. } | Error::TooLarge) => Ok(e),
        other => Err(AppError(other)),
    }
}

/// A person on the client page or the team page.
struct PersonRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    active: bool,
    /// Whether the viewer may deactivate / reactivate this account.
    can_toggle: bool,
}

impl PersonRow {
    fn of(u: User, viewer: &atrium_core::policy::Actor) -> Self {
        PersonRow {
            can_toggle: viewer.may_set_user_active(u.id, u.role).is_ok(),
            id: u.id.to_string(),
            name: u.name,
            email: u.email,
            role: u.role.label(),
            active: u.active,
        }
    }
}

/// Invitation form fields (a client user's or a staff member's).
#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    role: Role,
}
