//! Pages per client: which portal pages a client's users see and the client's welcome text,
//! and the agency-wide default that new clients start with. Session resolution loads a client
//! user's pages into their [`Actor`] (`Actor::showing`), and the policy decides from there.

use atrium_core::ids::ClientId;
use atrium_core::policy::{Actor, PortalPage, PortalPages};
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
}

/// A change of a client's portal: pages to show (`true`) or hide, and the welcome text
/// (`Some(None)` = back to the agency's).
#[derive(Clone, Debug, Default)]
pub struct PortalChange {
    pub pages: Vec<(PortalPage, bool)>,
    pub welcome_text: Option<Option<String>>,
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
    })
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
    match portal_defaults::Entity::find_by_id(DEFAULTS_ROW).one(c).await.map_err(db_err)? {
        Some(row) => PortalPages::from_stored(&row.hidden),
        None => Ok(PortalPages::ALL_SHOWN),
    }
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
        let mut am: client::ActiveModel = row.into();
        am.portal_hidden = Set(pages.to_stored());
        if let Some(w) = &change.welcome_text {
            am.welcome_text = Set(w.clone());
        }
        am.updated_at = Set(Utc::now());
        let saved = to_portal(am.update(&tx).await.map_err(db_err)?)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::client(AuditAction::ClientPortalUpdate, id, ip).with_detail(serde_json::json!({
                "hidden": pages.to_stored(),
                "welcome_text": change.welcome_text.as_ref().map(|w| w.is_some()),
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

    /// The agency-wide default pages for new clients (staff; client users 404).
    pub async fn portal_defaults(&self, actor: &Actor) -> Result<PortalPages> {
        actor.may_manage_clients()?;
        default_pages(&self.db).await
    }

    /// Changes the default pages for new clients (owners and admins); existing clients keep
    /// their own settings.
    pub async fn set_portal_defaults(
        &self,
        actor: &Actor,
        changes: &[(PortalPage, bool)],
        ip: Option<&str>,
    ) -> Result<PortalPages> {
        actor.may_configure_portal()?;
        let tx = self.write_tx().await?;
        let pages = apply(default_pages(&tx).await?, changes)?;
        let row = portal_defaults::ActiveModel {
            id: Set(DEFAULTS_ROW.into()),
            hidden: Set(pages.to_stored()),
            updated_at: Set(Utc::now()),
        };
        portal_defaults::Entity::insert(row)
            .on_conflict(
                OnConflict::column(portal_defaults::Column::Id)
                    .update_columns([portal_defaults::Column::Hidden, portal_defaults::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(&tx)
            .await
            .map_err(db_err)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::portal_defaults(ip).with_detail(serde_json::json!({ "hidden": pages.to_stored() })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(pages)
    }
}
