//! Pages per client: which portal pages a client's users see and the client's welcome text,
//! and the agency-wide default that new clients start with. Session resolution loads a client
//! user's pages into their [`Actor`] (`Actor::showing`), and the policy decides from there.

use atrium_core::ids::ClientId;
use atrium_core::policy::{Actor, PortalPage, PortalPages, QuickAction};
use atrium_core::quick_actions::QuickActions;
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::{client, portal_defaults};
use crate::revocations::{Revocation, record};

/// The id of the one `portal_defaults` row.
const DEFAULTS_ROW: &str = "default";

/// What one client's portal shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientPortal {
    pub client_id: ClientId,
    pub client_name: String,
    pub pages: PortalPages,
    /// The client's own welcome text; `None` = the agency's.
    pub welcome_text: Option<String>,
    /// The client's own Home quick actions; `None` = the agency's.
    pub quick_actions: Option<QuickActions>,
    /// The client's own scheduling link; `None` = the agency's.
    pub scheduling_url: Option<String>,
}

/// The agency's Home quick actions: which are on and its scheduling link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuickActionDefaults {
    pub actions: QuickActions,
    pub scheduling_url: Option<String>,
}

/// The agency-wide portal defaults: the pages of new clients and the Home quick actions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortalDefaults {
    pub pages: PortalPages,
    pub quick: QuickActionDefaults,
}

/// A change of the agency-wide defaults; the scheduling link is validated by the caller
/// (`Some(None)` removes it).
#[derive(Clone, Debug, Default)]
pub struct DefaultsChange {
    pub pages: Vec<(PortalPage, bool)>,
    pub quick_actions: Vec<(QuickAction, bool)>,
    pub scheduling_url: Option<Option<String>>,
}

/// A change of a client's portal: pages to show (`true`) or hide, and the welcome text
/// (`Some(None)` = back to the agency's).
#[derive(Clone, Debug, Default)]
pub struct PortalChange {
    pub pages: Vec<(PortalPage, bool)>,
    pub welcome_text: Option<Option<String>>,
    /// `Some(None)` = back to the agency's actions; `Some(Some(changes))` switches actions on
    /// or off, starting from what the client has now (its own, else the agency's).
    pub quick_actions: Option<Option<Vec<(QuickAction, bool)>>>,
    /// A validated link; `Some(None)` = back to the agency's.
    pub scheduling_url: Option<Option<String>>,
}

fn switch(set: QuickActions, changes: &[(QuickAction, bool)]) -> QuickActions {
    changes.iter().fold(set, |s, (a, on)| s.with(*a, *on))
}

/// `pages` with `changes` applied (hiding a page that cannot be hidden is 422 `pages.<page>`).
pub fn apply(pages: PortalPages, changes: &[(PortalPage, bool)]) -> Result<PortalPages> {
    changes.iter().try_fold(pages, |p, (page, shown)| p.with(*page, *shown))
}

fn to_portal(row: client::Model) -> Result<ClientPortal> {
    Ok(ClientPortal {
        client_id: row.id.into(),
        client_name: row.name,
        pages: PortalPages::from_stored(&row.portal_hidden)?,
        welcome_text: row.welcome_text,
        quick_actions: row.quick_actions.as_deref().map(QuickActions::from_stored).transpose()?,
        scheduling_url: row.scheduling_url,
    })
}

fn to_defaults(row: Option<portal_defaults::Model>) -> Result<PortalDefaults> {
    let Some(row) = row else { return Ok(PortalDefaults::default()) };
    Ok(PortalDefaults {
        pages: PortalPages::from_stored(&row.hidden)?,
        quick: QuickActionDefaults {
            actions: row.quick_actions.as_deref().map(QuickActions::from_stored).transpose()?.unwrap_or_default(),
            scheduling_url: row.scheduling_url,
        },
    })
}

async fn defaults<C: ConnectionTrait>(c: &C) -> Result<PortalDefaults> {
    to_defaults(portal_defaults::Entity::find_by_id(DEFAULTS_ROW).one(c).await.map_err(db_err)?)
}

/// The pages `client`'s portal shows (everything for a client that is gone: it has no users
/// who could be shown anything).
pub(crate) async fn client_pages<C: ConnectionTrait>(c: &C, client: ClientId) -> Result<PortalPages> {
    match client::Entity::find_by_id(client.0).one(c).await.map_err(db_err)? {
        Some(row) => PortalPages::from_stored(&row.portal_hidden),
        None => Ok(PortalPages::ALL_SHOWN),
    }
}

/// The agency-wide default for new clients (everything shown until it is set).
pub(crate) async fn default_pages<C: ConnectionTrait>(c: &C) -> Result<PortalPages> {
    Ok(defaults(c).await?.pages)
}

impl Store {
    /// What `client`'s portal shows, for staff (client users: 404).
    pub async fn client_portal(&self, actor: &Actor, id: ClientId) -> Result<ClientPortal> {
        actor.may_manage_clients()?;
        self.client(&actor.client_scope(), id).await?;
        let row = client::Entity::find_by_id(id.0).one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        to_portal(row)
    }

    /// The caller's own portal (client users and staff viewing as one; staff acting as
    /// themselves have no portal: 404).
    pub async fn own_portal(&self, actor: &Actor) -> Result<ClientPortal> {
        actor.may_use_portal()?;
        let id = actor.client_id().ok_or(Error::NotFound)?;
        let c = self.client(&actor.identity_scope(), id).await?;
        let row = client::Entity::find_by_id(c.id.0).one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        to_portal(row)
    }

    /// Changes what `client`'s portal shows (staff). Open live streams of the client's users
    /// re-check their access at once (a revocation row names the client), so a page hidden now
    /// sends them nothing more.
    pub async fn set_client_portal(
        &self,
        actor: &Actor,
        id: ClientId,
        change: PortalChange,
        ip: Option<&str>,
    ) -> Result<ClientPortal> {
        let current = self.client_portal(actor, id).await?;
        let pages = apply(current.pages, &change.pages)?;
        let tx = self.write_tx().await?;
        let row = client::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let agency = defaults(&tx).await?.quick;
        let own = match &change.quick_actions {
            None => current.quick_actions,
            Some(None) => None,
            Some(Some(c)) => Some(switch(current.quick_actions.unwrap_or(agency.actions), c)),
        };
        let own_url = change.scheduling_url.clone().unwrap_or(current.scheduling_url);
        own.unwrap_or(agency.actions).check(own_url.as_deref().or(agency.scheduling_url.as_deref()))?;
        let mut am: client::ActiveModel = row.into();
        am.portal_hidden = Set(pages.to_stored());
        if let Some(w) = &change.welcome_text {
            am.welcome_text = Set(w.clone());
        }
        am.quick_actions = Set(own.map(QuickActions::to_stored));
        am.scheduling_url = Set(own_url);
        am.updated_at = Set(Utc::now());
        let saved = to_portal(am.update(&tx).await.map_err(db_err)?)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::client(AuditAction::ClientPortalUpdate, id, ip).with_detail(serde_json::json!({
                "hidden": pages.to_stored(),
                "welcome_text": change.welcome_text.as_ref().map(|w| w.is_some()),
                "quick_actions": saved.quick_actions.map(QuickActions::to_stored),
                "scheduling_url": saved.scheduling_url,
            })),
        )
        .await?;
        let rec = record(&tx, Revocation::Client(id)).await?;
        tx.commit().await.map_err(db_err)?;
        self.announce_revocation(rec);
        Ok(saved)
    }

    /// Whether the pages `actor`'s client's portal shows changed since the actor was resolved
    /// (live streams end then; the browser reconnects with the new ones). Staff: never.
    pub async fn portal_pages_changed(&self, actor: &Actor) -> Result<bool> {
        match actor.client_id() {
            Some(c) => Ok(client_pages(&self.db, c).await? != actor.client_pages()),
            None => Ok(false),
        }
    }

    /// The agency-wide portal defaults: pages for new clients and the Home quick actions
    /// (staff; client users 404).
    pub async fn portal_defaults(&self, actor: &Actor) -> Result<PortalDefaults> {
        actor.may_manage_clients()?;
        defaults(&self.db).await
    }

    /// Changes the agency-wide defaults (owners and admins); existing clients keep their own
    /// pages. "Book a meeting" without a link is 422 naming `scheduling_url`.
    pub async fn set_portal_defaults(
        &self,
        actor: &Actor,
        change: &DefaultsChange,
        ip: Option<&str>,
    ) -> Result<PortalDefaults> {
        actor.may_configure_portal()?;
        let tx = self.write_tx().await?;
        let current = defaults(&tx).await?;
        let pages = apply(current.pages, &change.pages)?;
        let actions = switch(current.quick.actions, &change.quick_actions);
        let url = change.scheduling_url.clone().unwrap_or(current.quick.scheduling_url);
        actions.check(url.as_deref())?;
        let row = portal_defaults::ActiveModel {
            id: Set(DEFAULTS_ROW.into()),
            hidden: Set(pages.to_stored()),
            quick_actions: Set(Some(actions.to_stored())),
            scheduling_url: Set(url.clone()),
            updated_at: Set(Utc::now()),
        };
        portal_defaults::Entity::insert(row)
            .on_conflict(
                OnConflict::column(portal_defaults::Column::Id)
                    .update_columns([
                        portal_defaults::Column::Hidden,
                        portal_defaults::Column::QuickActions,
                        portal_defaults::Column::SchedulingUrl,
                        portal_defaults::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&tx)
            .await
            .map_err(db_err)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::portal_defaults(ip).with_detail(serde_json::json!({
                "hidden": pages.to_stored(),
                "quick_actions": actions.to_stored(),
                "scheduling_url": url,
            })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(PortalDefaults { pages, quick: QuickActionDefaults { actions, scheduling_url: url } })
    }

    /// The Home quick actions the caller may use, with where each leads: the client's own
    /// actions (else the agency's), only those the policy shows this user
    /// ([`Actor::sees_quick_action`]), Book a meeting only with a link (client users and "View
    /// as client"; staff acting as themselves 404).
    pub async fn own_quick_actions(&self, actor: &Actor) -> Result<Vec<(QuickAction, String)>> {
        let own = self.own_portal(actor).await?;
        let agency = defaults(&self.db).await?.quick;
        let url = own.scheduling_url.or(agency.scheduling_url);
        Ok(own
            .quick_actions
            .unwrap_or(agency.actions)
            .list()
            .into_iter()
            .filter(|a| actor.sees_quick_action(*a))
            .filter_map(|a| a.href(url.as_deref()).map(|h| (a, h)))
            .collect())
    }
}
