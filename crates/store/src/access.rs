//! Ending access: every session, API token and one-time link of some users (also when a password
//! changes), with the revocation row that tells open live streams (announce it once committed).

use atrium_core::Result;
use atrium_core::ids::{ClientId, UserId};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::db::db_err;
use crate::entity::{api_token, invitation, login_token, membership, session, user};
use crate::revocations::{self, Recorded, Revocation};

/// Ends every session and one-time link of a client's users and cancels its pending
/// invitations; returns how many users it concerned and the revocation to announce once
/// committed.
pub(crate) async fn revoke_client_access<C: ConnectionTrait>(c: &C, client: ClientId) -> Result<(u64, Recorded)> {
    let members: Vec<UserId> = membership::Entity::find()
        .filter(membership::Column::ClientId.eq(client.0))
        .all(c)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(|m| UserId(m.user_id))
        .collect();
    revoke_access_of(c, &members).await?;
    invitation::Entity::update_many()
        .col_expr(invitation::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(invitation::Column::ClientId.eq(client.0))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .exec(c)
        .await
        .map_err(db_err)?;
    let rec = revocations::record(c, Revocation::Client(client)).await?;
    Ok((members.len() as u64, rec))
}

/// Ends every session, API token and one-time link of one user; returns the revocation to announce once
/// committed.
pub(crate) async fn revoke_user_access<C: ConnectionTrait>(c: &C, user: UserId) -> Result<Recorded> {
    revoke_access_of(c, &[user]).await?;
    revocations::record(c, Revocation::User(user)).await
}

/// Ends every session, API token and one-time link of these users (three statements, however
/// many users). A revoked token stays revoked when the user is let in again: they make new ones.
async fn revoke_access_of<C: ConnectionTrait>(c: &C, users: &[UserId]) -> Result<()> {
    if users.is_empty() {
        return Ok(());
    }
    let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
    let now = Utc::now();
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::UserId.is_in(ids.clone()))
        .filter(session::Column::RevokedAt.is_null())
        .exec(c)
        .await
        .map_err(db_err)?;
    login_token::Entity::update_many()
        .col_expr(login_token::Column::UsedAt, Expr::value(now))
        .filter(login_token::Column::UserId.is_in(ids.clone()))
        .filter(login_token::Column::UsedAt.is_null())
        .exec(c)
        .await
        .map_err(db_err)?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::UserId.is_in(ids))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(c)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Stores a new password hash and ends every session and one-time token of the user.
pub(crate) async fn set_password_in<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    password_hash: String,
) -> Result<Recorded> {
    let now = Utc::now();
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(Some(password_hash)))
        .col_expr(user::Column::PasswordChangedAt, Expr::value(now))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user.0))
        .exec(c)
        .await
        .map_err(db_err)?;
    revoke_user_access(c, user).await
}
