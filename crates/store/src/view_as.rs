//! "View as client": a staff member's session shows the portal as one of a client's users,
//! read-only. Starting and stopping ask the policy and write their audit entry in the same
//! transaction as the session change.

use atrium_core::Result;
use atrium_core::ids::{ClientId, SessionId, UserId};
use atrium_core::model::User;
use atrium_core::policy::Actor;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::session;

async fn set<C: ConnectionTrait>(c: &C, session: SessionId, viewed: Option<UserId>) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::ViewAsUserId, Expr::value(viewed.map(|u| u.0)))
        .filter(session::Column::Id.eq(session.0))
        .exec(c)
        .await
        .map_err(db_err)?;
    Ok(())
}

impl Store {
    /// Starts "View as client" on the staff member's own `session`, as `user` of `client`
    /// (`Actor::may_view_as`: staff acting as themselves, an active user of that very client).
    pub async fn start_view_as(
        &self,
        actor: &Actor,
        session: SessionId,
        client: ClientId,
        user: UserId,
        ip: Option<&str>,
    ) -> Result<User> {
        let users = self.client_users(&actor.client_scope(), client).await?;
        let target = users
            .into_iter()
            .find(|u| u.id == user)
            .ok_or_else(|| atrium_core::Error::invalid("user_id", "no such active user of this client"))?;
        actor.may_view_as(client, &target)?;
        let tx = self.write_tx().await?;
        set(&tx, session, Some(target.id)).await?;
        audit::write(&tx, Some(actor), Entry::user(AuditAction::ViewAsStart, target.id, Some(client), ip)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(target)
    }

    /// Ends "View as client" on the session the (viewed-as) actor came with; nothing to do if it
    /// is not viewing. Returns the client whose portal was shown.
    pub async fn stop_view_as(
        &self,
        actor: &Actor,
        session: SessionId,
        viewed: Option<UserId>,
        ip: Option<&str>,
    ) -> Result<Option<ClientId>> {
        let Some(viewed) = viewed else { return Ok(None) };
        let tx = self.write_tx().await?;
        set(&tx, session, None).await?;
        audit::write(&tx, Some(actor), Entry::user(AuditAction::ViewAsStop, viewed, actor.client_id(), ip)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(actor.client_id())
    }
}
