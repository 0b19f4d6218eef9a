//! Deleting a client (SEC-DATA-2): soft first — hidden from everyone at once, its people signed
//! out and unable to sign in, restorable — then an explicit purge that removes every row of it.

use atrium_core::ids::{ClientId, UserId};
use atrium_core::model::Client;
use atrium_core::policy::Actor;
use atrium_core::{Error, Result};
use chrono::{DateTime, Utc};

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::audit::{self, AuditAction, Entry};
use crate::conv;
use crate::db::{Store, db_err};
use crate::entity::{client, file, file_version, membership, project, user};
use crate::system::Operator;

/// What a purge removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purged {
    pub client: String,
    /// Portal users removed with it.
    pub users: u64,
    /// Blobs (sha256) no file points at any more: the caller deletes them from storage.
    pub unreferenced_blobs: Vec<String>,
}

impl Store {
    /// Soft-deletes a client: it and all its work disappear for everyone, its users are signed
    /// out, their links and pending invitations cancelled, and they cannot sign in until it is
    /// restored.
    pub async fn delete_client(&self, actor: &Actor, id: ClientId, ip: Option<&str>) -> Result<()> {
        actor.may_delete_client()?;
        self.client(&actor.client_scope(), id).await?;
        let tx = self.write_tx().await?;
        client::Entity::update_many()
            .col_expr(client::Column::DeletedAt, Expr::value(Utc::now()))
            .col_expr(client::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(client::Column::Id.eq(id.0))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let (_, revoked) = crate::access::revoke_client_access(&tx, id).await?;
        audit::write(&tx, Some(actor), Entry::client(AuditAction::ClientDelete, id, ip)).await?;
        tx.commit().await.map_err(db_err)?;
        self.announce_revocation(revoked);
        Ok(())
    }

    /// Deleted clients, most recently deleted first, with when (owners and admins).
    pub async fn deleted_clients(&self, actor: &Actor) -> Result<Vec<(Client, DateTime<Utc>)>> {
        actor.may_delete_client()?;
        let rows = client::Entity::find()
            .filter(client::Column::DeletedAt.is_not_null())
            .order_by_desc(client::Column::DeletedAt)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                let at = r.deleted_at.unwrap_or(r.updated_at);
                conv::client(r).map(|c| (c, at))
            })
            .collect()
    }

    /// Undoes a soft delete; its users can sign in again (their old sessions stay ended).
    pub async fn restore_client(&self, actor: &Actor, id: ClientId, ip: Option<&str>) -> Result<Client> {
        actor.may_delete_client()?;
        let tx = self.write_tx().await?;
        let r = client::Entity::update_many()
            .col_expr(client::Column::DeletedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(client::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(client::Column::Id.eq(id.0))
            .filter(client::Column::DeletedAt.is_not_null())
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if r.rows_affected != 1 {
            return Err(Error::NotFound);
        }
        audit::write(&tx, Some(actor), Entry::client(AuditAction::ClientRestore, id, ip)).await?;
        tx.commit().await.map_err(db_err)?;
        self.client(&actor.client_scope(), id).await
    }
}

impl Operator<'_> {
    /// Removes a soft-deleted client for good: its projects, milestones, tasks, comments,
    /// contacts, invitations and portal users (an administrator's command, not a web action;
    /// refused for a client that was not deleted first). Staff accounts are untouched.
    pub async fn purge_client(self, id: ClientId) -> Result<Purged> {
        let tx = self.store.write_tx().await?;
        let row = client::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        if row.deleted_at.is_none() {
            return Err(Error::Conflict("only a deleted client can be purged: delete it first".into()));
        }
        let members: Vec<UserId> = membership::Entity::find()
            .filter(membership::Column::ClientId.eq(id.0))
            .all(&tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|m| UserId(m.user_id))
            .collect();
        let hashes = client_blob_hashes(&tx, id).await?;
        // Projects, milestones, tasks, comments, messages, folders, files and their versions,
        // contacts, invitations and memberships go with the client (ON DELETE CASCADE); its
        // users' comments, messages and uploads are on its own projects only.
        client::Entity::delete_by_id(id.0).exec(&tx).await.map_err(db_err)?;
        let users = user::Entity::delete_many()
            .filter(user::Column::Id.is_in(members.iter().map(|u| u.0)))
            .filter(user::Column::StaffRole.is_null())
            .exec(&tx)
            .await
            .map_err(db_err)?
            .rows_affected;
        let e = Entry::client_purged(id).with_detail(serde_json::json!({ "name": row.name, "users": users }));
        audit::write(&tx, None, e).await?;
        let mut unreferenced_blobs = Vec::new();
        let branding = crate::branding::referenced(&tx).await?;
        for h in hashes.into_iter().filter(|h| !branding.contains(h)) {
            let still = file_version::Entity::find()
                .filter(file_version::Column::Sha256.eq(h.as_str()))
                .count(&tx)
                .await
                .map_err(db_err)?;
            if still == 0 {
                unreferenced_blobs.push(h);
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(Purged { client: row.name, users, unreferenced_blobs })
    }
}

/// The distinct blobs of every file version of a client's projects.
async fn client_blob_hashes<C: sea_orm::ConnectionTrait>(c: &C, client: ClientId) -> Result<Vec<String>> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{ExprTrait, Query};
    let projects = Query::select()
        .column(project::Column::Id)
        .from(project::Entity)
        .and_where(Expr::col(project::Column::ClientId).eq(client.0))
        .to_owned();
    let files = Query::select()
        .column(file::Column::Id)
        .from(file::Entity)
        .and_where(Expr::col(file::Column::ProjectId).in_subquery(projects))
        .to_owned();
    file_version::Entity::find()
        .select_only()
        .column(file_version::Column::Sha256)
        .distinct()
        .filter(file_version::Column::FileId.in_subquery(files))
        .into_tuple()
        .all(c)
        .await
        .map_err(db_err)
}
