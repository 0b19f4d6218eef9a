//! Sessions, invitations and one-time sign-in tokens. Every secret is stored only as its hash;
//! every one-time token is consumed by a conditional update so it works exactly once.

use atrium_core::ids::{ClientId, InvitationId, SessionId, UserId};
use atrium_core::model::{Role, TokenPurpose, invitation_lifetime};
use atrium_core::policy::{Actor, PortalPages, Scope};
use atrium_core::token::{self, NewToken};
use atrium_core::{Error, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::access;
use crate::audit::{self, AuditAction, Entry};
use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{client, invitation, login_token, membership, session, user};
use crate::people::{NewUser, account_by_id, insert_user};
use crate::revocations::{self, Revocation};

/// The row `session_actor` reads: a session joined with its user and membership.
#[derive(Debug, FromQueryResult)]
struct SessionJoin {
    id: uuid::Uuid,
    user_id: uuid::Uuid,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    view_as_user_id: Option<uuid::Uuid>,
    name: String,
    email: String,
    staff_role: Option<String>,
    active: bool,
    member_client_id: Option<uuid::Uuid>,
    member_role: Option<String>,
    member_client_deleted_at: Option<DateTime<Utc>>,
    member_client_portal_hidden: Option<String>,
}

/// A live session and who it acts for.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub id: SessionId,
    /// The signed-in user (for "View as client", the staff member).
    pub user_id: UserId,
    /// Set while the session views the portal as this client user.
    pub view_as: Option<UserId>,
}

/// A session as listed to its owner.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A pending invitation as shown to staff and on the accept page.
#[derive(Clone, Debug)]
pub struct Invitation {
    pub id: InvitationId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub client_id: Option<ClientId>,
    pub expires_at: DateTime<Utc>,
}

fn invitation_of(m: invitation::Model) -> Result<Invitation> {
    Ok(Invitation {
        id: m.id.into(),
        email: m.email,
        name: m.name,
        role: crate::conv::parse("role", &m.role)?,
        client_id: m.client_id.map(Into::into),
        expires_at: m.expires_at,
    })
}

impl Store {
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
        .insert(&self.db)
        .await
        .map_err(db_err)?;
        Ok(t)
    }

    /// Resolves a presented session secret into the session and the actor it acts for.
    /// `None` when unknown, revoked, idle too long, past its lifetime, or the user is inactive.
    pub async fn session_actor(&self, secret: &str, idle: Duration) -> Result<Option<(SessionInfo, Actor)>> {
        if !token::well_formed(secret) {
            return Ok(None);
        }
        let now = Utc::now();
        // One query: the session, its user and the user's membership (every request pays for it).
        let Some(s) = session::Entity::find()
            .select_only()
            .column(session::Column::Id)
            .column(session::Column::UserId)
            .column(session::Column::LastSeenAt)
            .column(session::Column::ExpiresAt)
            .column(session::Column::RevokedAt)
            .column(session::Column::ViewAsUserId)
            .column_as(Expr::col((user::Entity, user::Column::Name)), "name")
            .column_as(Expr::col((user::Entity, user::Column::Email)), "email")
            .column_as(Expr::col((user::Entity, user::Column::StaffRole)), "staff_role")
            .column_as(Expr::col((user::Entity, user::Column::Active)), "active")
            .column_as(Expr::col((membership::Entity, membership::Column::ClientId)), "member_client_id")
            .column_as(Expr::col((membership::Entity, membership::Column::Role)), "member_role")
            .join(
                JoinType::InnerJoin,
                session::Entity::belongs_to(user::Entity).from(session::Column::UserId).to(user::Column::Id).into(),
            )
            .join_rev(
                JoinType::LeftJoin,
                membership::Entity::belongs_to(user::Entity)
                    .from(membership::Column::UserId)
                    .to(user::Column::Id)
                    .into(),
            )
            .join(
                JoinType::LeftJoin,
                membership::Entity::belongs_to(client::Entity)
                    .from(membership::Column::ClientId)
                    .to(client::Column::Id)
                    .into(),
            )
            .column_as(Expr::col((client::Entity, client::Column::DeletedAt)), "member_client_deleted_at")
            .column_as(Expr::col((client::Entity, client::Column::PortalHidden)), "member_client_portal_hidden")
            .filter(session::Column::TokenHash.eq(token::hash(secret)))
            .order_by_asc(Expr::col((membership::Entity, membership::Column::Id)))
            .into_model::<SessionJoin>()
            .one(&self.db)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        if s.revoked_at.is_some() || s.expires_at <= now || s.last_seen_at + idle <= now || !s.active {
            return Ok(None);
        }
        let (role, client_id) = match (&s.staff_role, s.member_client_id, &s.member_role) {
            (Some(r), _, _) => (parse::<Role>("staff role", r)?, None),
            (None, Some(c), Some(r)) if s.member_client_deleted_at.is_none() => {
                (parse::<Role>("client role", r)?, Some(ClientId(c)))
            }
            // A client user without a membership, or of a deleted client, has no access at all.
            _ => return Ok(None),
        };
        let pages = PortalPages::from_stored(s.member_client_portal_hidden.as_deref().unwrap_or(""))?;
        let me = Actor::new(UserId(s.user_id), s.name, s.email, role, client_id)?.showing(pages);
        let actor = match s.view_as_user_id {
            Some(viewed) if me.is_staff() => match self.actor_of(UserId(viewed)).await? {
                Some(client_user) if !client_user.is_staff() => client_user.viewed_by(me.user_id()),
                _ => me,
            },
            _ => me,
        };
        if now - s.last_seen_at > Duration::minutes(1) {
            session::Entity::update_many()
                .col_expr(session::Column::LastSeenAt, Expr::value(now))
                .filter(session::Column::Id.eq(s.id))
                .exec(&self.db)
                .await
                .map_err(db_err)?;
        }
        Ok(Some((
            SessionInfo { id: s.id.into(), user_id: UserId(s.user_id), view_as: s.view_as_user_id.map(Into::into) },
            actor,
        )))
    }

    /// Whether a session still grants access: not revoked or expired, its user active and not
    /// of a deleted client. Long-lived event streams ask this periodically.
    pub async fn session_alive(&self, id: SessionId) -> Result<bool> {
        let Some(s) = session::Entity::find_by_id(id.0).one(&self.db).await.map_err(db_err)? else {
            return Ok(false);
        };
        if s.revoked_at.is_some() || s.expires_at <= Utc::now() {
            return Ok(false);
        }
        Ok(self.actor_of(UserId(s.user_id)).await?.is_some())
    }

    /// Revokes one session of `user` (logout, or revoking from the sessions list).
    pub async fn revoke_session(&self, actor: &Actor, user: UserId, id: SessionId, ip: Option<&str>) -> Result<bool> {
        let tx = self.write_tx().await?;
        let r = session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
            .filter(session::Column::Id.eq(id.0))
            .filter(session::Column::UserId.eq(user.0))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let revoked = r.rows_affected == 1;
        if revoked {
            audit::write(&tx, Some(actor), Entry::session(AuditAction::SessionRevoke, id, ip)).await?;
            let rec = revocations::record(&tx, Revocation::Session(id)).await?;
            tx.commit().await.map_err(db_err)?;
            self.announce_revocation(rec);
        } else {
            tx.commit().await.map_err(db_err)?;
        }
        Ok(revoked)
    }

    /// The user's active sessions, newest first.
    pub async fn sessions_of(&self, user: UserId) -> Result<Vec<SessionRow>> {
        let now = Utc::now();
        let rows = session::Entity::find()
            .filter(session::Column::UserId.eq(user.0))
            .filter(session::Column::RevokedAt.is_null())
            .filter(session::Column::ExpiresAt.gt(now))
            .order_by_desc(session::Column::LastSeenAt)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|s| SessionRow {
                id: s.id.into(),
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect())
    }

    /// Revokes every session and outstanding one-time token of a user.
    pub async fn revoke_user_access(&self, user: UserId) -> Result<()> {
        let tx = self.write_tx().await?;
        let rec = access::revoke_user_access(&tx, user).await?;
        tx.commit().await.map_err(db_err)?;
        self.announce_revocation(rec);
        Ok(())
    }

    /// Revokes every session, link and pending invitation of a client's users (SEC-SESS-3).
    pub async fn revoke_client_access(&self, actor: &Actor, client: ClientId, ip: Option<&str>) -> Result<u64> {
        actor.may_revoke_client_access()?;
        let tx = self.write_tx().await?;
        let (members, rec) = access::revoke_client_access(&tx, client).await?;
        audit::write(
            &tx,
            Some(actor),
            Entry::client(AuditAction::ClientRevokeAccess, client, ip)
                .with_detail(serde_json::json!({ "users": members })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        self.announce_revocation(rec);
        Ok(members)
    }

    /// Issues a one-time sign-in token for `user`, invalidating older ones of the same purpose.
    pub async fn issue_login_token(&self, user: UserId, purpose: TokenPurpose) -> Result<NewToken> {
        let t = token::generate();
        let now = Utc::now();
        let tx = self.write_tx().await?;
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
    pub async fn check_login_token(&self, secret: &str, purpose: TokenPurpose) -> Result<()> {
        let t = find_login_token(&self.db, secret, purpose).await?;
        usable_login_token(&self.db, &t).await
    }

    /// Consumes a one-time token: exactly once, before expiry, for its own purpose, for an active user.
    pub async fn consume_login_token(&self, secret: &str, purpose: TokenPurpose) -> Result<UserId> {
        let t = find_login_token(&self.db, secret, purpose).await?;
        usable_login_token(&self.db, &t).await?;
        let r = login_token::Entity::update_many()
            .col_expr(login_token::Column::UsedAt, Expr::value(Utc::now()))
            .filter(login_token::Column::Id.eq(t.id))
            .filter(login_token::Column::UsedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        if r.rows_affected != 1 {
            return Err(Error::Gone);
        }
        Ok(UserId(t.user_id))
    }

    /// Sets a new password: invalidates every one-time token and every session of the user.
    pub async fn set_password(&self, user: UserId, password_hash: String) -> Result<()> {
        let tx = self.write_tx().await?;
        let now = Utc::now();
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(Some(password_hash)))
            .col_expr(user::Column::PasswordChangedAt, Expr::value(now))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user.0))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let rec = access::revoke_user_access(&tx, user).await?;
        tx.commit().await.map_err(db_err)?;
        self.announce_revocation(rec);
        Ok(())
    }

    /// Creates an invitation; a newer invitation for the same email replaces older pending ones.
    pub async fn create_invitation(
        &self,
        actor: &Actor,
        email: String,
        name: String,
        role: Role,
        client: Option<ClientId>,
        ip: Option<&str>,
    ) -> Result<(Invitation, NewToken)> {
        actor.may_invite(role)?;
        if role.is_staff() && client.is_some() {
            return Err(Error::invalid("client_id", "must not be given for staff roles"));
        }
        if !role.is_staff() && client.is_none() {
            return Err(Error::invalid("client_id", "is required for client roles"));
        }
        if let Some(c) = client {
            // The client must exist and be visible to the inviter.
            self.client(&actor.client_scope(), c).await.map_err(|e| match e {
                Error::NotFound => Error::invalid("client_id", "no such client"),
                e => e,
            })?;
        }
        if self.account_by_email(&email).await?.is_some() {
            return Err(Error::Conflict("a user with this email already exists".into()));
        }
        let t = token::generate();
        let now = Utc::now();
        let tx = self.write_tx().await?;
        invitation::Entity::update_many()
            .col_expr(invitation::Column::RevokedAt, Expr::value(now))
            .filter(invitation::Column::Email.eq(&email))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::RevokedAt.is_null())
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let row = invitation::ActiveModel {
            id: Set(InvitationId::new().0),
            token_hash: Set(t.hash.clone()),
            email: Set(email),
            name: Set(name),
            role: Set(role.as_str().to_string()),
            client_id: Set(client.map(|c| c.0)),
            invited_by: Set(actor.user_id().0),
            created_at: Set(now),
            expires_at: Set(now + invitation_lifetime()),
            accepted_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::invitation(AuditAction::InvitationCreate, InvitationId(row.id), client, ip)
                .with_detail(serde_json::json!({ "email": row.email, "role": row.role })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok((invitation_of(row)?, t))
    }

    /// The pending invitation behind a link: 404 if unknown, 410 if expired, used or revoked.
    pub async fn invitation_by_token(&self, secret: &str) -> Result<Invitation> {
        let row = find_invitation(&self.db, secret).await?;
        usable_invitation(&row)?;
        invitation_of(row)
    }

    /// Pending invitations of a client, if the scope may see that client's people (staff).
    pub async fn pending_invitations(&self, scope: &Scope, client: ClientId) -> Result<Vec<Invitation>> {
        if !scope.allows(client) {
            return Err(Error::NotFound);
        }
        let rows = invitation::Entity::find()
            .filter(invitation::Column::ClientId.eq(client.0))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::RevokedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(Utc::now()))
            .order_by_desc(invitation::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        rows.into_iter().map(invitation_of).collect()
    }

    /// Accepts an invitation: creates the user exactly once.
    pub async fn accept_invitation(
        &self,
        secret: &str,
        name: Option<String>,
        password_hash: String,
        ip: Option<&str>,
    ) -> Result<UserId> {
        let tx = self.write_tx().await?;
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
