//! Signing in, on nobody's behalf yet: sessions, one-time sign-in links, password resets and
//! accepting invitations, through the [`SignIn`] principal. Every secret is stored only as its
//! hash; every one-time token is consumed by a conditional update so it works exactly once.

use atrium_core::ids::{InvitationId, SessionId, UserId};
use atrium_core::model::{Role, TokenPurpose};
use atrium_core::policy::Actor;
use atrium_core::token::{self, NewToken};
use atrium_core::{Error, Result};
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::access;
use crate::audit::{self, AuditAction, Entry};
use crate::auth::{Invitation, invitation_of};
use crate::db::db_err;
use crate::entity::{invitation, login_token, session, user};
use crate::people::{Account, NewUser, account_by_email, account_by_id, insert_user};
use crate::system::SignIn;

impl SignIn<'_> {
    /// Starts a session for `user`; returns the secret for the cookie / bearer token.
    pub async fn create_session(
        &self,
        user: UserId,
        lifetime: Duration,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<NewToken> {
        let t = token::generate();
        let now = Utc::now();
        session::ActiveModel {
            id: Set(SessionId::new().0),
            token_hash: Set(t.hash.clone()),
            user_id: Set(user.0),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(now + lifetime),
            ip: Set(ip.map(|s| s.chars().take(64).collect())),
            user_agent: Set(user_agent.map(|s| s.chars().take(300).collect())),
            view_as_user_id: Set(None),
            revoked_at: Set(None),
        }
        .insert(&self.store.db)
        .await
        .map_err(db_err)?;
        Ok(t)
    }

    /// Issues a one-time sign-in token for `user`, invalidating older ones of the same purpose.
    pub async fn issue_login_token(self, user: UserId, purpose: TokenPurpose) -> Result<NewToken> {
        let t = token::generate();
        let now = Utc::now();
        let tx = self.store.write_tx().await?;
        login_token::Entity::update_many()
            .col_expr(login_token::Column::UsedAt, Expr::value(now))
            .filter(login_token::Column::UserId.eq(user.0))
            .filter(login_token::Column::Purpose.eq(purpose.as_str()))
            .filter(login_token::Column::UsedAt.is_null())
            .exec(&tx)
            .await
            .map_err(db_err)?;
        login_token::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            token_hash: Set(t.hash.clone()),
            user_id: Set(user.0),
            purpose: Set(purpose.as_str().to_string()),
            created_at: Set(now),
            expires_at: Set(now + purpose.lifetime()),
            used_at: Set(None),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(t)
    }

    /// Whether a one-time token would currently be accepted (for the confirm page; consumes nothing).
    pub async fn check_login_token(self, secret: &str, purpose: TokenPurpose) -> Result<()> {
        let t = find_login_token(&self.store.db, secret, purpose).await?;
        usable_login_token(&self.store.db, &t).await
    }

    /// Consumes a one-time token: exactly once, before expiry, for its own purpose, for an active user.
    pub async fn consume_login_token(self, secret: &str, purpose: TokenPurpose) -> Result<UserId> {
        let t = find_login_token(&self.store.db, secret, purpose).await?;
        usable_login_token(&self.store.db, &t).await?;
        let r = login_token::Entity::update_many()
            .col_expr(login_token::Column::UsedAt, Expr::value(Utc::now()))
            .filter(login_token::Column::Id.eq(t.id))
            .filter(login_token::Column::UsedAt.is_null())
            .exec(&self.store.db)
            .await
            .map_err(db_err)?;
        if r.rows_affected != 1 {
            return Err(Error::Gone);
        }
        Ok(UserId(t.user_id))
    }

    /// Sets a new password from a consumed reset link: invalidates every one-time token and
    /// every session of the user.
    pub async fn set_password(self, user: UserId, password_hash: String) -> Result<()> {
        let tx = self.store.write_tx().await?;
        let rec = access::set_password_in(&tx, user, password_hash).await?;
        tx.commit().await.map_err(db_err)?;
        self.store.announce_revocation(rec);
        Ok(())
    }

    /// The pending invitation behind a link: 404 if unknown, 410 if expired, used or revoked.
    pub async fn invitation_by_token(self, secret: &str) -> Result<Invitation> {
        let row = find_invitation(&self.store.db, secret).await?;
        usable_invitation(&row)?;
        invitation_of(row)
    }

    /// Accepts an invitation: creates the user exactly once.
    pub async fn accept_invitation(
        &self,
        secret: &str,
        name: Option<String>,
        password_hash: String,
        ip: Option<&str>,
    ) -> Result<UserId> {
        let tx = self.store.write_tx().await?;
        let row = find_invitation(&tx, secret).await?;
        usable_invitation(&row)?;
        let r = invitation::Entity::update_many()
            .col_expr(invitation::Column::AcceptedAt, Expr::value(Utc::now()))
            .filter(invitation::Column::Id.eq(row.id))
            .filter(invitation::Column::AcceptedAt.is_null())
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if r.rows_affected != 1 {
            return Err(Error::Gone);
        }
        let role: Role = crate::conv::parse("role", &row.role)?;
        let user = insert_user(
            &tx,
            NewUser {
                email: row.email.clone(),
                name: name.unwrap_or(row.name.clone()),
                password_hash: Some(password_hash),
                role,
                client_id: row.client_id.map(Into::into),
            },
        )
        .await?;
        if let (Role::ClientAdmin, Some(client)) = (role, row.client_id) {
            crate::template_projects::hand_over_to_client_admin(&tx, client.into(), user).await?;
        }
        let actor = account_by_id(&tx, user)
            .await?
            .map(|a| Actor::new(a.user.id, a.user.name, a.user.email, a.user.role, a.user.client_id))
            .transpose()?;
        audit::write(
            &tx,
            actor.as_ref(),
            Entry::invitation(AuditAction::InvitationAccept, InvitationId(row.id), row.client_id.map(Into::into), ip),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(user)
    }

    /// The account with this (normalised) email, active or not: who is signing in.
    pub async fn account_by_email(self, email: &str) -> Result<Option<Account>> {
        account_by_email(&self.store.db, email).await
    }

    /// The account with this id: whom a consumed link or a new session belongs to.
    pub async fn account(self, id: UserId) -> Result<Option<Account>> {
        account_by_id(&self.store.db, id).await
    }
}

async fn find_login_token<C: ConnectionTrait>(
    c: &C,
    secret: &str,
    purpose: TokenPurpose,
) -> Result<login_token::Model> {
    if !token::well_formed(secret) {
        return Err(Error::NotFound);
    }
    login_token::Entity::find()
        .filter(login_token::Column::TokenHash.eq(token::hash(secret)))
        .filter(login_token::Column::Purpose.eq(purpose.as_str()))
        .one(c)
        .await
        .map_err(db_err)?
        .ok_or(Error::NotFound)
}

async fn usable_login_token<C: ConnectionTrait>(c: &C, t: &login_token::Model) -> Result<()> {
    if t.used_at.is_some() || t.expires_at <= Utc::now() {
        return Err(Error::Gone);
    }
    match user::Entity::find_by_id(t.user_id).one(c).await.map_err(db_err)? {
        Some(u) if u.active && u.password_changed_at <= t.created_at => Ok(()),
        _ => Err(Error::Gone),
    }
}

async fn find_invitation<C: ConnectionTrait>(c: &C, secret: &str) -> Result<invitation::Model> {
    if !token::well_formed(secret) {
        return Err(Error::NotFound);
    }
    invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(token::hash(secret)))
        .one(c)
        .await
        .map_err(db_err)?
        .ok_or(Error::NotFound)
}

fn usable_invitation(i: &invitation::Model) -> Result<()> {
    if i.accepted_at.is_some() || i.revoked_at.is_some() || i.expires_at <= Utc::now() {
        Err(Error::Gone)
    } else {
        Ok(())
    }
}
