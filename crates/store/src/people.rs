//! Users, their client memberships, and resolving a user into a policy [`Actor`].

use std::collections::HashMap;

use atrium_core::ids::{ClientId, UserId};
use atrium_core::model::{Role, User};
use atrium_core::policy::{Actor, Scope};
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{client, membership, user};

/// What is needed to create a user directly (owner bootstrap, demo, accepted invitation).
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    /// An argon2id PHC string, or `None` for magic-link-only users.
    pub password_hash: Option<String>,
    pub role: Role,
    /// Required for client roles, forbidden for staff roles.
    pub client_id: Option<ClientId>,
}

pub(crate) async fn insert_user<C: ConnectionTrait>(c: &C, n: NewUser) -> Result<UserId> {
    if n.role.is_staff() == n.client_id.is_some() {
        return Err(Error::invalid("client_id", "is required for client roles and forbidden for staff roles"));
    }
    let now = Utc::now();
    let id = UserId::new();
    let existing = user::Entity::find().filter(user::Column::Email.eq(&n.email)).one(c).await.map_err(db_err)?;
    if existing.is_some() {
        return Err(Error::Conflict("a user with this email already exists".into()));
    }
    user::ActiveModel {
        id: Set(id.0),
        email: Set(n.email),
        name: Set(n.name),
        password_hash: Set(n.password_hash),
        staff_role: Set(n.role.is_staff().then(|| n.role.as_str().to_string())),
        active: Set(true),
        password_changed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(c)
    .await
    .map_err(db_err)?;
    if let Some(client_id) = n.client_id {
        membership::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(id.0),
            client_id: Set(client_id.0),
            role: Set(n.role.as_str().to_string()),
            created_at: Set(now),
        }
        .insert(c)
        .await
        .map_err(db_err)?;
    }
    Ok(id)
}

/// A user row with the role it resolves to.
#[derive(Clone, Debug)]
pub struct Account {
    pub user: User,
    pub password_hash: Option<String>,
}

async fn account_of<C: ConnectionTrait>(c: &C, u: user::Model) -> Result<Option<Account>> {
    let (role, client_id) = match &u.staff_role {
        Some(r) => (parse::<Role>("staff role", r)?, None),
        None => {
            let m = membership::Entity::find()
                .filter(membership::Column::UserId.eq(u.id))
                .order_by_asc(membership::Column::Id)
                .one(c)
                .await
                .map_err(db_err)?;
            match m {
                Some(m) => {
                    // A user of a deleted client has no access until it is restored.
                    let live = client::Entity::find_by_id(m.client_id)
                        .filter(client::Column::DeletedAt.is_null())
                        .one(c)
                        .await
                        .map_err(db_err)?;
                    if live.is_none() {
                        return Ok(None);
                    }
                    (parse::<Role>("client role", &m.role)?, Some(ClientId(m.client_id)))
                }
                // A client user without any membership has no access at all.
                None => return Ok(None),
            }
        }
    };
    Ok(Some(Account {
        user: User { id: u.id.into(), email: u.email, name: u.name, role, client_id, active: u.active },
        password_hash: u.password_hash,
    }))
}

pub(crate) async fn account_by_id<C: ConnectionTrait>(c: &C, id: UserId) -> Result<Option<Account>> {
    match user::Entity::find_by_id(id.0).one(c).await.map_err(db_err)? {
        Some(u) => account_of(c, u).await,
        None => Ok(None),
    }
}

impl Store {
    /// Creates a user (and their membership) in one transaction.
    pub async fn create_user(&self, n: NewUser) -> Result<UserId> {
        let tx = self.write_tx().await?;
        let id = insert_user(&tx, n).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    /// The account with this (normalised) email, active or not.
    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>> {
        match user::Entity::find().filter(user::Column::Email.eq(email)).one(&self.db).await.map_err(db_err)? {
            Some(u) => account_of(&self.db, u).await,
            None => Ok(None),
        }
    }

    /// The account with this id.
    pub async fn account(&self, id: UserId) -> Result<Option<Account>> {
        account_by_id(&self.db, id).await
    }

    /// The policy actor for an active user, or `None` when they may not act at all. Tests only:
    /// everything else gets its actor by resolving a session (`Store::session_actor`).
    #[cfg(any(test, feature = "test-support"))]
    pub async fn actor(&self, id: UserId) -> Result<Option<Actor>> {
        self.actor_of(id).await
    }

    /// The actor of an active user, for session resolution (a session's user, or the user a
    /// "View as client" session shows).
    pub(crate) async fn actor_of(&self, id: UserId) -> Result<Option<Actor>> {
        match self.account(id).await? {
            Some(a) if a.user.active => {
                let pages = match a.user.client_id {
                    Some(c) => crate::portal::client_pages(&self.db, c).await?,
                    None => atrium_core::policy::PortalPages::ALL_SHOWN,
                };
                let actor = Actor::new(a.user.id, a.user.name, a.user.email, a.user.role, a.user.client_id)?;
                Ok(Some(actor.showing(pages)))
            }
            _ => Ok(None),
        }
    }

    /// Staff members (for assignee pickers), by name.
    pub async fn staff_users(&self, actor: &Actor) -> Result<Vec<User>> {
        actor.may_see_team()?;
        let rows = user::Entity::find()
            .filter(user::Column::StaffRole.is_not_null())
            .order_by_asc(user::Column::Name)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(a) = account_of(&self.db, r).await? {
                out.push(a.user);
            }
        }
        Ok(out)
    }

    /// The portal users of a client, if the scope may see that client's people.
    pub async fn client_users(&self, scope: &Scope, client: ClientId) -> Result<Vec<User>> {
        if !scope.allows(client) {
            return Err(Error::NotFound);
        }
        let members = membership::Entity::find()
            .filter(membership::Column::ClientId.eq(client.0))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let roles: HashMap<Uuid, String> = members.into_iter().map(|m| (m.user_id, m.role)).collect();
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(roles.keys().copied().collect::<Vec<_>>()))
            .order_by_asc(user::Column::Name)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        users
            .into_iter()
            .map(|u| {
                let role = parse::<Role>("client role", roles.get(&u.id).map(String::as_str).unwrap_or(""))?;
                Ok(User {
                    id: u.id.into(),
                    email: u.email,
                    name: u.name,
                    role,
                    client_id: Some(client),
                    active: u.active,
                })
            })
            .collect()
    }

    /// Display names of users, for rendering authors and assignees.
    pub async fn user_names(&self, ids: &[UserId]) -> Result<HashMap<UserId, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = user::Entity::find()
            .filter(user::Column::Id.is_in(ids.iter().map(|i| i.0).collect::<Vec<_>>()))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(|u| (UserId(u.id), u.name)).collect())
    }

    /// Deactivates (`active = false`) or reactivates a user, as the policy allows `actor`.
    /// Deactivation ends their sessions and one-time links at once (SEC-AUTH-6); reactivation
    /// does not bring those back. Returns the updated user.
    pub async fn set_user_active(&self, actor: &Actor, id: UserId, active: bool, ip: Option<&str>) -> Result<User> {
        actor.may_manage_clients()?;
        let account = self.account(id).await?.ok_or(Error::NotFound)?;
        actor.may_set_user_active(id, account.user.role)?;
        let tx = self.write_tx().await?;
        user::Entity::update_many()
            .col_expr(user::Column::Active, sea_orm::sea_query::Expr::value(active))
            .col_expr(user::Column::UpdatedAt, sea_orm::sea_query::Expr::value(Utc::now()))
            .filter(user::Column::Id.eq(id.0))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let revoked = if active { None } else { Some(crate::access::revoke_user_access(&tx, id).await?) };
        audit::write(
            &tx,
            Some(actor),
            Entry::user(
                if active { AuditAction::UserReactivate } else { AuditAction::UserDeactivate },
                id,
                account.user.client_id,
                ip,
            )
            .with_detail(serde_json::json!({ "email": account.user.email })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        if let Some(rec) = revoked {
            self.announce_revocation(rec);
        }
        Ok(User { active, ..account.user })
    }
}
