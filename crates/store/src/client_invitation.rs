//! A client's own invitation mail text: written by staff on the client page, put into every
//! invitation mail to that client's people.

use atrium_core::ids::ClientId;
use atrium_core::policy::{Actor, Scope};
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::client;

impl Store {
    /// The invitation text of a client the scope sees (empty when none is set).
    pub async fn invitation_text(&self, scope: &Scope, id: ClientId) -> Result<String> {
        if !scope.allows(id) {
            return Err(Error::NotFound);
        }
        let row = client::Entity::find_by_id(id.0).one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        if row.deleted_at.is_some() {
            return Err(Error::NotFound);
        }
        Ok(row.invitation_text.unwrap_or_default())
    }

    /// Sets a client's invitation text (staff; empty: none), already checked for length.
    pub async fn set_invitation_text(&self, actor: &Actor, id: ClientId, text: String, ip: Option<&str>) -> Result<()> {
        self.client(&actor.client_scope(), id).await?;
        actor.may_manage_clients()?;
        let tx = self.write_tx().await?;
        let row = client::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let mut am: client::ActiveModel = row.into();
        am.invitation_text = Set((!text.is_empty()).then(|| text.clone()));
        am.updated_at = Set(Utc::now());
        am.update(&tx).await.map_err(db_err)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::client(AuditAction::ClientInvitationText, id, ip)
                .with_detail(serde_json::json!({ "length": text.chars().count() })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }
}
