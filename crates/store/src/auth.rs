//! Sessions (resolving, listing, revoking) and invitations as staff make them. Signing in
//! itself (creating sessions, one-time links, accepting invitations) is in `sign_in`.

use atrium_core::ids::{ClientId, InvitationId, SessionId, UserId};
use atrium_core::model::{Role, invitation_lifetime};
use atrium_core::policy::{Actor, PortalPages, Scope};
use atrium_core::token::{self, NewToken};
use atrium_core::{Error, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::access;
use crate::audit::{self, AuditAction, Entry};
use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{client, invitation, membership, session, user};
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
    timezone: Option<String>,
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

pub(crate) fn invitation_of(m: invitation::Model) -> Result<Invitation> {
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
            .column_as(Expr::col((user::Entity, user::Column::Timezone)), "timezone")
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
        let tz = atrium_core::local_time::stored_timezone(s.timezone.as_deref());
        let me = Actor::new(UserId(s.user_id), s.name, s.email, role, client_id)?.showing(pages).in_timezone(tz);
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

    /// The signed-in person's active sessions, newest first (for "View as client", the staff
    /// member's: the sessions are theirs).
    pub async fn sessions_of(&self, actor: &Actor) -> Result<Vec<SessionRow>> {
        let user = actor.viewing_staff().unwrap_or(actor.user_id());
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

    /// Revokes every session, API token and outstanding one-time token of a user (tests: people lose
    /// access through deactivation, a password change or their client's removal).
    #[cfg(any(test, feature = "test-support"))]
    pub async fn revoke_user_access(&self, user: UserId) -> Result<()> {
        let tx = self.write_tx().await?;
        let rec = access::revoke_user_access(&tx, user).await?;
        tx.commit().await.map_err(db_err)?;
        self.announce_revocation(rec);
        Ok(())
    }

    /// Revokes every session, API token, link and pending invitation of a client's users
    /// (SEC-SESS-3).
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
        if crate::people::account_by_email(&self.db, &email).await?.is_some() {
            return Err(Error::Conflict("a user with this email already exists".into()));
        }
        let t = token::generate();
        let now = self.now();
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
}
