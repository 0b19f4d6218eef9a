//! Pages per client over the API: what a client's portal shows (staff read and change it), the
//! agency-wide default for new clients (staff read it, owners and admins change it), and the
//! caller's own portal (client users).

use atrium_core::ids::ClientId;
use atrium_core::policy::{Actor, PortalPage, PortalPages, QuickAction};
use atrium_core::portal::WELCOME_TEXT_MAX;
use atrium_core::quick_actions::{QuickActions, scheduling_url};
use atrium_core::{Result, validate};
use atrium_store::portal::{ClientPortal, DefaultsChange, PortalChange, PortalDefaults};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Deserializer, Serialize};

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

/// Which Home quick actions are on. `helpdesk` shows to those who may open a ticket;
/// `meeting` needs a scheduling link.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuickActionsDoc {
    pub projects: bool,
    pub billing: bool,
    pub helpdesk: bool,
    pub meeting: bool,
}

impl QuickActionsDoc {
    fn of(set: QuickActions) -> Self {
        QuickActionsDoc {
            projects: set.has(QuickAction::Projects),
            billing: set.has(QuickAction::Billing),
            helpdesk: set.has(QuickAction::HelpDesk),
            meeting: set.has(QuickAction::Meeting),
        }
    }
}

/// `quick_actions` of a PATCH: each key switches an action on (`true`) or off; absent keys stay.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickActionsBody {
    pub projects: Option<bool>,
    pub billing: Option<bool>,
    pub helpdesk: Option<bool>,
    pub meeting: Option<bool>,
}

impl QuickActionsBody {
    fn changes(&self) -> Vec<(QuickAction, bool)> {
        [
            (QuickAction::Projects, self.projects),
            (QuickAction::Billing, self.billing),
            (QuickAction::HelpDesk, self.helpdesk),
            (QuickAction::Meeting, self.meeting),
        ]
        .into_iter()
        .filter_map(|(a, v)| v.map(|v| (a, v)))
        .collect()
    }
}

/// One quick action the caller may use on Home.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuickLinkDoc {
    /// `projects`, `billing` or `meeting`.
    pub kind: &'static str,
    pub label: &'static str,
    /// A portal path, or the scheduling link for `meeting`.
    pub href: String,
}

/// A field that may be absent (keep), `null` (reset) or a value.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A scheduling link of a PATCH, validated (`null` or `""` = none).
fn link(raw: &Option<Option<String>>) -> Result<Option<Option<String>>> {
    raw.as_ref().map(|v| v.as_deref().map(|u| scheduling_url("scheduling_url", u)).transpose()).transpose()
}

/// `GET|PATCH /clients/{id}/portal`: what one client's portal shows.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ClientPortalDoc {
    pub client_id: String,
    pub client_name: String,
    pub pages: PagesDoc,
    /// The client's own welcome text; `null` = the agency's.
    pub welcome_text: Option<String>,
    /// The client's own Home quick actions; `null` = the agency's (`/portal-defaults`).
    pub quick_actions: Option<QuickActionsDoc>,
    /// The client's own "Book a meeting" link; `null` = the agency's.
    pub scheduling_url: Option<String>,
}

impl From<ClientPortal> for ClientPortalDoc {
    fn from(p: ClientPortal) -> Self {
        ClientPortalDoc {
            client_id: p.client_id.to_string(),
            client_name: p.client_name,
            pages: PagesDoc::of(p.pages),
            welcome_text: p.welcome_text,
            quick_actions: p.quick_actions.map(QuickActionsDoc::of),
            scheduling_url: p.scheduling_url,
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
    /// The Home quick actions this user may use: the client's (else the agency's), only where
    /// the user sees the page, Book a meeting only with a link.
    pub quick_actions: Vec<QuickLinkDoc>,
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
    /// Switches the client's own actions on or off (starting from the agency's when it has none
    /// yet); `null` = use the agency's again.
    #[serde(default, deserialize_with = "nullable")]
    pub quick_actions: Option<Option<QuickActionsBody>>,
    /// The client's own "Book a meeting" link: `https://` only, at most 2,048 characters, no
    /// user name or password; `null` or `""` = the agency's. Turning `meeting` on while neither
    /// the client nor the agency has a link is 422 naming `scheduling_url`.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub scheduling_url: Option<Option<String>>,
}

impl ClientPortalBody {
    /// The change this body asks for, validated.
    pub fn change(&self) -> Result<PortalChange> {
        let welcome_text = match &self.welcome_text {
            None => None,
            Some(None) => Some(None),
            Some(Some(t)) => Some(Some(validate::text("welcome_text", t, WELCOME_TEXT_MAX)?)),
        };
        Ok(PortalChange {
            pages: self.pages.as_ref().map(PagesBody::changes).unwrap_or_default(),
            welcome_text,
            quick_actions: self.quick_actions.as_ref().map(|q| q.as_ref().map(QuickActionsBody::changes)),
            scheduling_url: link(&self.scheduling_url)?,
        })
    }
}

/// `PATCH /portal-defaults`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultsBody {
    pub pages: Option<PagesBody>,
    pub quick_actions: Option<QuickActionsBody>,
    /// The agency's "Book a meeting" link: `https://` only, at most 2,048 characters, no user
    /// name or password; `null` or `""` removes it. `meeting` on without a link is 422 naming
    /// `scheduling_url`.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub scheduling_url: Option<Option<String>>,
}

/// `GET|PATCH /portal-defaults`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DefaultsDoc {
    pub pages: PagesDoc,
    /// The agency's Home quick actions (View projects and Pay invoices until set).
    pub quick_actions: QuickActionsDoc,
    pub scheduling_url: Option<String>,
}

impl From<PortalDefaults> for DefaultsDoc {
    fn from(d: PortalDefaults) -> Self {
        DefaultsDoc {
            pages: PagesDoc::of(d.pages),
            quick_actions: QuickActionsDoc::of(d.quick.actions),
            scheduling_url: d.quick.scheduling_url,
        }
    }
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
        quick_actions: st
            .store
            .own_quick_actions(actor)
            .await?
            .into_iter()
            .map(|(a, href)| QuickLinkDoc { kind: a.slug(), label: a.label(), href })
            .collect(),
    }))
}

/// The pages new clients' portals start with (staff; client users 404).
#[utoipa::path(get, path = "/api/v1/portal-defaults", tag = "clients",
    responses((status = 200, body = DefaultsDoc), (status = 404)))]
pub async fn get_defaults(State(st): State<AppState>, auth: Authed) -> AppResult<Json<DefaultsDoc>> {
    Ok(Json(st.store.portal_defaults(&auth.actor).await?.into()))
}

/// Change the pages new clients' portals start with and the agency's Home quick actions (owners
/// and admins); existing clients keep their own pages.
#[utoipa::path(patch, path = "/api/v1/portal-defaults", tag = "clients", request_body = DefaultsBody,
    responses((status = 200, body = DefaultsDoc), (status = 403), (status = 404), (status = 422)))]
pub async fn update_defaults(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<DefaultsBody>,
) -> AppResult<Json<DefaultsDoc>> {
    auth.actor.may_configure_portal()?;
    let change = DefaultsChange {
        pages: b.pages.as_ref().map(PagesBody::changes).unwrap_or_default(),
        quick_actions: b.quick_actions.as_ref().map(QuickActionsBody::changes).unwrap_or_default(),
        scheduling_url: link(&b.scheduling_url)?,
    };
    Ok(Json(st.store.set_portal_defaults(&auth.actor, &change, Some(&ip)).await?.into()))
}
