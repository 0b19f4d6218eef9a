//! Clients: the list, one client's page, its contacts and portal invitations, deleting and
//! restoring, revoking access, and View as client.

use askama::Template;
use atrium_core::Error;
use atrium_core::ids::{ClientId, ContactId, UserId};
use atrium_core::model::{ClientStatus, Contact, ProjectStatus, Role};
use atrium_store::paging::PageRequest;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::portal_settings::{PageToggle, quick_toggles, toggles};
use super::{InviteForm, PersonRow};
use crate::api::input::{ClientPatchBody, ContactBody, InvitationBody, name};
use crate::audience::StaffAuth;
use crate::auth::Authed;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::flows;
use crate::pages::account::{Notice, notice_text};
use crate::pages::view::{Opt, ProjectCard, Viewer, opts, project_card};
use crate::pages::{Chrome, page, see_other};
use crate::state::AppState;

struct ClientRow {
    id: String,
    name: String,
    archived: bool,
    projects: u64,
}

#[derive(Template)]
#[template(path = "staff_clients.html")]
struct ClientsPage {
    chrome: Chrome,
    clients: Vec<ClientRow>,
    deleted: Vec<DeletedRow>,
    /// The pages new clients' portals start with; changeable by owners and admins.
    defaults: Vec<PageToggle>,
    /// The agency's Home quick actions and scheduling link.
    quick: Vec<PageToggle>,
    scheduling_url: String,
    can_set_defaults: bool,
    /// Owners and admins keep automations; other staff are not shown the link.
    can_automate: bool,
}

/// A deleted client, restorable until purged.
struct DeletedRow {
    id: String,
    name: String,
    at: String,
}

/// All clients.
pub async fn clients(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    let cs = st.store.clients(&auth.actor.client_scope(), PageRequest::all()).await?;
    let counts = st.store.project_counts(&auth.actor.work_scope()).await?;
    let mut clients: Vec<ClientRow> = cs
        .items
        .into_iter()
        .map(|c| ClientRow {
            id: c.id.to_string(),
            archived: c.status == ClientStatus::Archived,
            projects: counts.get(&c.id).copied().unwrap_or(0),
            name: c.name,
        })
        .collect();
    // Current clients first, archived ones after them; each by name.
    clients.sort_by_key(|c| (c.archived, c.name.to_lowercase()));
    // Deleted clients are listed (for restoring) to those who may delete them.
    let deleted = if auth.actor.may_delete_client().is_ok() {
        let local = st.store.local_time(&auth.actor).await?;
        st.store
            .deleted_clients(&auth.actor)
            .await?
            .into_iter()
            .map(|(c, at)| DeletedRow { id: c.id.to_string(), name: c.name, at: local.date(at) })
            .collect()
    } else {
        Vec::new()
    };
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, "Clients", "/staff/clients");
    chrome.flash = notice_text(n.notice.as_deref());
    let d = st.store.portal_defaults(&auth.actor).await?;
    let (defaults, quick) = (toggles(d.pages), quick_toggles(d.quick.actions));
    let scheduling_url = d.quick.scheduling_url.unwrap_or_default();
    let can_set_defaults = auth.actor.may_configure_portal().is_ok();
    let can_automate = auth.actor.may_manage_automations().is_ok();
    page(&ClientsPage { chrome, clients, deleted, defaults, quick, scheduling_url, can_set_defaults, can_automate })
}

/// New client fields.
#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

/// Creates a client.
pub async fn create_client(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<NameForm>,
) -> AppResult<Response> {
    let c = st.store.create_client(&auth.actor, name("name", &f.name)?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{}", c.id)))
}

struct InviteRow {
    email: String,
    role: &'static str,
    expires: String,
}

#[derive(Template)]
#[template(path = "staff_client.html")]
struct ClientPage {
    chrome: Chrome,
    id: String,
    name: String,
    archived: bool,
    can_audit: bool,
    can_delete: bool,
    people: Vec<PersonRow>,
    invitations: Vec<InviteRow>,
    contacts: Vec<Contact>,
    projects: Vec<ProjectCard>,
    roles: Vec<Opt>,
    statuses: Vec<Opt>,
    /// The new project form's template and lead choices.
    templates: Vec<Opt>,
    leads: Vec<Opt>,
    /// The client's own text for invitation mails.
    invitation_text: String,
    /// What the client's portal shows, and its own welcome text.
    portal: Vec<PageToggle>,
    welcome_text: String,
    /// Its Home quick actions (its own, else the agency's), whether they are its own, its link.
    quick: Vec<PageToggle>,
    quick_own: bool,
    scheduling_url: String,
    /// The first active portal user, for "View as client".
    view_as: Option<(String, String)>,
}

/// One client: portal users, invitations, contacts, projects, what its portal shows.
pub async fn client(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(cid): Id<ClientId>,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    let c = st.store.client(&auth.actor.client_scope(), cid).await?;
    let v = Viewer::of(&st, &auth.actor).await?;
    let users = st.store.client_users(&auth.actor.client_scope(), cid).await?;
    let view_as = users.iter().find(|u| u.active).map(|u| (u.id.to_string(), u.name.clone()));
    let people = users.into_iter().map(|u| PersonRow::of(u, &auth.actor)).collect();
    let portal = st.store.client_portal(&auth.actor, cid).await?;
    let agency = st.store.portal_defaults(&auth.actor).await?.quick;
    let invitations = st
        .store
        .pending_invitations(&auth.actor.client_scope(), cid)
        .await?
        .into_iter()
        .map(|i| InviteRow { email: i.email, role: i.role.label(), expires: v.local.short(i.expires_at) })
        .collect();
    let projects = st
        .store
        .projects(&auth.actor.work_scope(), Some(cid), PageRequest::all())
        .await?
        .items
        .iter()
        .map(|p| project_card(p, &c.name, &v))
        .collect();
    let contacts = st.store.contacts(&auth.actor.client_scope(), cid).await?;
    let invitation_text = st.store.invitation_text(&auth.actor.client_scope(), cid).await?;
    let client_roles = [Role::ClientAdmin, Role::ClientViewer, Role::ClientFinance];
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, c.name.clone(), "/staff/clients");
    chrome.flash = notice_text(n.notice.as_deref());
    page(&ClientPage {
        chrome,
        invitation_text,
        id: c.id.to_string(),
        name: c.name,
        archived: c.status == ClientStatus::Archived,
        can_audit: auth.actor.may_read_audit().is_ok(),
        can_delete: auth.actor.may_delete_client().is_ok(),
        people,
        invitations,
        contacts,
        projects,
        roles: opts(&client_roles, Some(Role::ClientAdmin), Role::as_str, Role::label),
        statuses: opts(ProjectStatus::ALL, Some(ProjectStatus::Active), ProjectStatus::as_str, ProjectStatus::label),
        templates: super::templates::template_opts(&st, &auth).await?,
        leads: super::templates::lead_opts(&st, &auth).await?,
        portal: toggles(portal.pages),
        welcome_text: portal.welcome_text.unwrap_or_default(),
        quick: quick_toggles(portal.quick_actions.unwrap_or(agency.actions)),
        quick_own: portal.quick_actions.is_some() || portal.scheduling_url.is_some(),
        scheduling_url: portal.scheduling_url.unwrap_or_default(),
        view_as,
    })
}

/// Adds a contact to a client.
pub async fn add_contact(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
    FormBody(f): FormBody<ContactBody>,
) -> AppResult<Response> {
    st.store.create_contact(&auth.actor, cid, f.validate()?, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=contact_added")))
}

/// Removes a contact.
pub async fn remove_contact(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<ContactId>,
) -> AppResult<Response> {
    let cid = st.store.delete_contact(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=contact_removed")))
}

/// Renames a client, or archives / restores it.
pub async fn update_client(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
    FormBody(f): FormBody<ClientPatchBody>,
) -> AppResult<Response> {
    let n = f.name.map(|n| name("name", &n)).transpose()?;
    st.store.update_client(&auth.actor, cid, n, f.status, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=saved")))
}

/// Deletes a client (soft; owners and admins).
pub async fn delete_client(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
) -> AppResult<Response> {
    st.store.delete_client(&auth.actor, cid, Some(&ip)).await?;
    Ok(see_other("/staff/clients?notice=client_deleted"))
}

/// Restores a deleted client (owners and admins).
pub async fn restore_client(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
) -> AppResult<Response> {
    st.store.restore_client(&auth.actor, cid, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=client_restored")))
}

/// Invites a client user.
pub async fn invite(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
    FormBody(f): FormBody<InviteForm>,
) -> AppResult<Response> {
    st.store.client(&auth.actor.client_scope(), cid).await?;
    if f.role.is_staff() {
        return Err(Error::invalid("role", "must be a client role").into());
    }
    flows::invite(
        &st,
        &auth.actor,
        &ip,
        InvitationBody { email: f.email, name: f.name, role: f.role, client_id: Some(cid) },
    )
    .await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=invited")))
}

/// Revokes every session and link of the client's users.
pub async fn revoke_access(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
) -> AppResult<Response> {
    auth.actor.may_revoke_client_access()?;
    st.store.client(&auth.actor.client_scope(), cid).await?;
    st.store.revoke_client_access(&auth.actor, cid, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=access_revoked")))
}

/// "View as" form: which client user to view as.
#[derive(Deserialize)]
pub struct ViewAsForm {
    user_id: String,
}

/// Starts "View as client" (read-only, audited, banner on every page).
pub async fn view_as(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
    FormBody(f): FormBody<ViewAsForm>,
) -> AppResult<Response> {
    let uid: UserId = f.user_id.parse().map_err(|_| Error::invalid("user_id", "no such user"))?;
    st.store.start_view_as(&auth.actor, auth.session()?.id, cid, uid, Some(&ip)).await?;
    Ok(see_other("/portal"))
}

/// Leaves "View as client".
pub async fn exit_view_as(State(st): State<AppState>, auth: Authed, ClientIp(ip): ClientIp) -> AppResult<Response> {
    let session = auth.session()?;
    match st.store.stop_view_as(&auth.actor, session.id, session.view_as, Some(&ip)).await? {
        Some(c) => Ok(see_other(&format!("/staff/clients/{c}"))),
        None => Ok(see_other("/")),
    }
}

/// The invitation text form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationTextForm {
    #[serde(default)]
    invitation_text: String,
}

/// Sets the text every invitation mail to this client's people carries (empty: none).
pub async fn set_invitation_text(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
    FormBody(f): FormBody<InvitationTextForm>,
) -> AppResult<Response> {
    let text = atrium_core::validate::optional_text(
        "invitation_text",
        f.invitation_text.trim(),
        atrium_core::validate::INVITATION_TEXT_MAX,
    )?;
    st.store.set_invitation_text(&auth.actor, cid, text, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/clients/{cid}?notice=saved")))
}
