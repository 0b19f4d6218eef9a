//! Client contacts (staff only): read through the policy's client scope, written after asking
//! the policy, every change audited.

use atrium_core::ids::{ClientId, ContactId};
use atrium_core::model::Contact;
use atrium_core::policy::{Actor, Scope};
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::{client, contact};

/// What a new contact holds; fields are validated by the caller.
#[derive(Clone, Debug)]
pub struct NewContact {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub title: String,
}

fn to_contact(m: contact::Model) -> Contact {
    Contact {
        id: m.id.into(),
        client_id: m.client_id.into(),
        name: m.name,
        email: m.email,
        phone: m.phone,
        title: m.title,
        created_at: m.created_at,
    }
}

impl Store {
    /// The contacts of a client visible in `scope`, by name (404 if the client is not visible).
    pub async fn contacts(&self, scope: &Scope, client_id: ClientId) -> Result<Vec<Contact>> {
        self.client(scope, client_id).await?;
        let rows = contact::Entity::find()
            .filter(contact::Column::ClientId.eq(client_id.0))
            .order_by_asc(contact::Column::Name)
            .order_by_asc(contact::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(to_contact).collect())
    }

    /// Adds a contact to a client.
    pub async fn create_contact(
        &self,
        actor: &Actor,
        client_id: ClientId,
        n: NewContact,
        ip: Option<&str>,
    ) -> Result<Contact> {
        actor.may_manage_clients()?;
        self.client(&actor.client_scope(), client_id).await?;
        let tx = self.write_tx().await?;
        let row = contact::ActiveModel {
            id: Set(ContactId::new().0),
            client_id: Set(client_id.0),
            name: Set(n.name),
            email: Set(n.email),
            phone: Set(n.phone),
            title: Set(n.title),
            created_at: Set(Utc::now()),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let c = to_contact(row);
        let detail = serde_json::json!({ "name": c.name });
        let e = Entry::contact(AuditAction::ContactCreate, c.id, client_id, ip).with_detail(detail);
        audit::write(&tx, Some(actor), e).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(c)
    }

    /// Removes a contact and returns its client; 404 if it does not exist or its client is not visible.
    pub async fn delete_contact(&self, actor: &Actor, id: ContactId, ip: Option<&str>) -> Result<ClientId> {
        actor.may_manage_clients()?;
        let tx = self.write_tx().await?;
        let row = contact::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let live = client::Entity::find_by_id(row.client_id)
            .filter(client::Column::DeletedAt.is_null())
            .one(&tx)
            .await
            .map_err(db_err)?;
        if live.is_none() || !actor.client_scope().allows(row.client_id.into()) {
            return Err(Error::NotFound);
        }
        contact::Entity::delete_by_id(id.0).exec(&tx).await.map_err(db_err)?;
        let e = Entry::contact(AuditAction::ContactDelete, id, row.client_id.into(), ip)
            .with_detail(serde_json::json!({ "name": row.name }));
        audit::write(&tx, Some(actor), e).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(row.client_id.into())
    }
}
