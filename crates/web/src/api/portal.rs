//! Pages per client over the API: what a client's portal shows (staff read and change it), the
//! agency-wide default for new clients (staff read it, owners and admins change it), and the
//! caller's own portal (client users).

use atrium_core::ids::ClientId;
use atrium_core::policy::{Actor, PortalPage, PortalPages};
use atrium_core::portal::WELCOME_TEXT_MAX;
use atrium_core::{Result, validate};
use atrium_store::portal::{ClientPortal, PortalChange};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::input::patch_field;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id};
use crate::state::AppState;

/// Which of the pages that can be hidden are shown (Home, Projects and My tasks always are).
#[derive(Serialize, utoipa::ToSchema)]
pub struct PagesDoc {
    pub files: bool,
    pub messages: bool,
    pub approvals: bool,
    pub billing: bool,
    pub helpdesk: bool,
}

impl PagesDoc {
    fn from_fn(shows: impl Fn(PortalPage) -> bool) -> Self {
        PagesDoc {
            files: shows(PortalPage::Files),
            messages: shows(PortalPage::Messages),
            approvals: shows(PortalPage::Approvals),
            billing: shows(PortalPage::Billing),
            helpdesk: shows(PortalPage::HelpDesk),
        }
    }
    fn of(pages: PortalPages) -> Self {
        Self::from_fn(|p| pages.shows(p))
    }
}

/// `GET|PATCH /clients/{id}/portal`: what one client's portal shows.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ClientPortalDoc {
    pub client_id: String,
    pub client_name: String,
    pub pages: PagesDoc,
    /// The client's own welcome text; `null` = the agency's.
    pub welcome_text: Option<String>,
}

impl From<ClientPortal> for ClientPortalDoc {
    fn from(p: ClientPortal) -> Self {
        ClientPortalDoc {
            client_id: p.client_id.to_string(),
            client_name: p.client_name,
            pages: PagesDoc::of(p.pages),
            welcome_text: p.welcome_text,
        }
    }
}

/// `GET /portal`: the caller's portal.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OwnPortalDoc {
    pub client_name: String,
    /// The pages this user's portal shows: their client's settings together with their role
    /// (a viewer has no Billing, a finance user no Files, Messages or Approvals).
    pub pages: PagesDoc,
    /// The client's welcome text; `null` = the agency's.
    pub welcome_text: Option<String>,
}

/// `pages` of a PATCH: each key shows (`true`) or hides (`false`) a page; absent keys stay.
/// `home`, `projects` and `my_tasks` cannot be hidden: `false` is 422 naming `pages.<key>`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PagesBody {
    pub files: Option<bool>,
    pub messages: Option<bool>,
    pub approvals: Option<bool>,
    pub billing: Option<bool>,
    pub helpdesk: Option<bool>,
    pub home: Option<bool>,
    pub projects: Option<bool>,
    pub my_tasks: Option<bool>,
}

impl PagesBody {
    fn changes(&self) -> Vec<(PortalPage, bool)> {
        [
            (PortalPage::Home, self.home),
            (PortalPage::Projects, self.projects),
            (PortalPage::MyTasks, self.my_tasks),
            (PortalPage::Files, self.files),
            (PortalPage::Messages, self.messages),
            (PortalPage::Approvals, self.approvals),
            (PortalPage::Billing, self.billing),
            (PortalPage::HelpDesk, self.helpdesk),
        ]
        .into_iter()
        .filter_map(|(p, v)| v.map(|v| (p, v)))
        .collect()
    }
}

/// `PATCH /clients/{id}/portal`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPortalBody {
    pub pages: Option<PagesBody>,
    /// At most 2,000 characters; `null` or `""` = use the agency's.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub welcome_text: Option<Option<String>>,
}

impl ClientPortalBody {
    /// The change this body asks for, validated.
    pub fn change(&self) -> Result<PortalChange> {
        let welcome_text = match &self.welcome_text {
            None => None,
            Some(None) => Some(None),
            Some(Some(t)) => Some(Some(validate::text("welcome_text", t, WELCOME_TEXT_MAX)?)),
        };
        Ok(PortalChange { pages: self.pages.as_ref().map(PagesBody::changes).unwrap_or_default(), welcome_text })
    }
}

/// `PATCH /portal-defaults`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultsBody {
    pub pages: PagesBody,
}

/// `GET|PATCH /portal-defaults`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DefaultsDoc {
    pub pages: PagesDoc,
}

/// What a client's portal shows (staff; client users 404).
#[utoipa::path(get, path = "/api/v1/clients/{id}/portal", tag = "clients", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ClientPortalDoc), (status = 404)))]
pub async fn get_client_portal(
    State(st): State<AppState>,
    auth: Authed,
    Id(cid): Id<ClientId>,
) -> AppResult<Json<ClientPortalDoc>> {
    Ok(Json(st.store.client_portal(&auth.actor, cid).await?.into()))
}

/// Show or hide pages of a client's portal, set its welcome text (staff). A hidden page is 404
/// for the client's users on every path of its area; staff keep it.
#[utoipa::path(patch, path = "/api/v1/clients/{id}/portal", tag = "clients", params(("id" = uuid::Uuid, Path)),
    request_body = ClientPortalBody,
    responses((status = 200, body = ClientPortalDoc), (status = 403), (status = 404), (status = 422)))]
pub async fn update_client_portal(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
    ApiJson(b): ApiJson<ClientPortalBody>,
) -> AppResult<Json<ClientPortalDoc>> {
    auth.actor.may_manage_clients()?;
    let change = b.change()?;
    Ok(Json(st.store.set_client_portal(&auth.actor, cid, change, Some(&ip)).await?.into()))
}

/// The caller's portal: their client, the pages it shows them, its welcome text (client users
/// and "View as client"; staff acting as themselves 404).
#[utoipa::path(get, path = "/api/v1/portal", tag = "portal",
    responses((status = 200, body = OwnPortalDoc), (status = 404)))]
pub async fn own_portal(State(st): State<AppState>, auth: Authed) -> AppResult<Json<OwnPortalDoc>> {
    let p = st.store.own_portal(&auth.actor).await?;
    let actor: &Actor = &auth.actor;
    Ok(Json(OwnPortalDoc {
        client_name: p.client_name,
        pages: PagesDoc::from_fn(|page| actor.sees_portal_page(page)),
        welcome_text: p.welcome_text,
    }))
}

/// The pages new clients' portals start with (staff; client users 404).
#[utoipa::path(get, path = "/api/v1/portal-defaults", tag = "clients",
    responses((status = 200, body = DefaultsDoc), (status = 404)))]
pub async fn get_defaults(State(st): State<AppState>, auth: Authed) -> AppResult<Json<DefaultsDoc>> {
    Ok(Json(DefaultsDoc { pages: PagesDoc::of(st.store.portal_defaults(&auth.actor).await?) }))
}

/// Change the pages new clients' portals start with (owners and admins); existing clients keep
/// their own settings.
#[utoipa::path(patch, path = "/api/v1/portal-defaults", tag = "clients", request_body = DefaultsBody,
    responses((status = 200, body = DefaultsDoc), (status = 403), (status = 404), (status = 422)))]
pub async fn update_defaults(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<DefaultsBody>,
) -> AppResult<Json<DefaultsDoc>> {
    auth.actor.may_configure_portal()?;
    let pages = st.store.set_portal_defaults(&auth.actor, &b.pages.changes(), Some(&ip)).await?;
    Ok(Json(DefaultsDoc { pages: PagesDoc::of(pages) }))
}
