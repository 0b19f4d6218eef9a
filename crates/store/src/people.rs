//! Users, their client memberships, and resolving a user into a policy [`Actor`].

use std::collections::HashMap;

use atrium_core::ids::{ClientId, UserId};
use atrium_core::local_time::{Tz, stored_timezone};
use atrium_core::model::{Role, User};
use atrium_core::policy::{Actor, ClientFilter, Scope};
use atrium_core::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{client, membership, user};
use crate::system::Operator;

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
        title: Set(None),
        onboarded_at: Set(None),
        timezone: Set(None),
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
    /// A staff member's job title (empty when none).
    pub title: String,
    /// When a client user dismissed the first-login introduction.
    pub onboarded_at: Option<DateTime<Utc>>,
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
        user: User {
            id: u.id.into(),
            email: u.email,
            name: u.name,
            role,
            client_id,
            active: u.active,
            timezone: stored_timezone(u.timezone.as_deref()).map(|t| t.name().to_string()),
        },
        password_hash: u.password_hash,
        title: u.title.unwrap_or_default(),
        onboarded_at: u.onboarded_at,
    }))
}

/// The account with this (normalised) email, active or not.
pub(crate) async fn account_by_email<C: ConnectionTrait>(c: &C, email: &str) -> Result<Option<Account>> {
    match user::Entity::find().filter(user::Column::Email.eq(email)).one(c).await.map_err(db_err)? {
        Some(u) => account_of(c, u).await,
        None => Ok(None),
    }
}

pub(crate) async fn account_by_id<C: ConnectionTrait>(c: &C, id: UserId) -> Result<Option<Account>> {
    match user::Entity::find_by_id(id.0).one(c).await.map_err(db_err)? {
        Some(u) => account_of(c, u).await,
        None => Ok(None),
    }
}

impl Store {
    /// The policy actor for an active user, or `None` when they may not act at all. Tests only:
    /// everything else gets its actor by resolving a session (`Store::session_actor`).
    #[cfg(any(test, feature = "test-support"))]
    pub async fn actor(&self, id: UserId) -> Result<Option<Actor>> {
        self.actor_of(id).await
    }

    /// The actor of an active user, for session resolution (a session's user, or the user a
    /// "View as client" session shows).
    pub(crate) async fn actor_of(&self, id: UserId) -> Result<Option<Actor>> {
        match account_by_id(&self.db, id).await? {
            Some(a) if a.user.active => {
                let pages = match a.user.client_id {
                    Some(c) => crate::portal::client_pages(&self.db, c).await?,
                    None => atrium_core::policy::PortalPages::ALL_SHOWN,
                };
                let tz = stored_timezone(a.user.timezone.as_deref());
                let actor = Actor::new(a.user.id, a.user.name, a.user.email, a.user.role, a.user.client_id)?;
                Ok(Some(actor.showing(pages).in_timezone(tz)))
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

    /// Staff job titles by user (for the team page); empty titles are left out.
    pub async fn job_titles(&self, actor: &Actor) -> Result<HashMap<UserId, String>> {
        actor.may_see_team()?;
        let rows = user::Entity::find()
            .filter(user::Column::StaffRole.is_not_null())
            .filter(user::Column::Title.is_not_null())
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().filter_map(|u| Some((UserId(u.id), u.title.filter(|t| !t.is_empty())?))).collect())
    }

    /// Sets a staff member's job title (empty: none), as the policy allows `actor`.
    pub async fn set_job_title(&self, actor: &Actor, id: UserId, title: String, ip: Option<&str>) -> Result<User> {
        actor.may_see_team()?;
        let account = account_by_id(&self.db, id).await?.ok_or(Error::NotFound)?;
        actor.may_set_job_title(id, account.user.role)?;
        let tx = self.write_tx().await?;
        user::Entity::update_many()
            .col_expr(
                user::Column::Title,
                sea_orm::sea_query::Expr::value((!title.is_empty()).then_some(title.clone())),
            )
            .col_expr(user::Column::UpdatedAt, sea_orm::sea_query::Expr::value(Utc::now()))
            .filter(user::Column::Id.eq(id.0))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::user(AuditAction::UserSetTitle, id, None, ip).with_detail(serde_json::json!({ "title": title })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(account.user)
    }

    /// Marks the actor's first-login introduction as seen (the first time only; later calls
    /// keep the first moment). Returns when it was first seen.
    pub async fn finish_onboarding(&self, actor: &Actor) -> Result<DateTime<Utc>> {
        actor.may_finish_onboarding()?;
        let now = Utc::now();
        user::Entity::update_many()
            .col_expr(user::Column::OnboardedAt, sea_orm::sea_query::Expr::value(Some(now)))
            .filter(user::Column::Id.eq(actor.user_id().0))
            .filter(user::Column::OnboardedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        let acc = self.own_account(actor).await?;
        acc.onboarded_at.ok_or_else(|| Error::internal_msg("onboarding was not recorded"))
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
                    timezone: stored_timezone(u.timezone.as_deref()).map(|t| t.name().to_string()),
                })
            })
            .collect()
    }

    /// Display names of users, for rendering authors and assignees: of the ids given, the staff
    /// and the people of the clients `actor` may see (a client user: their own client's).
    pub async fn user_names(&self, actor: &Actor, ids: &[UserId]) -> Result<HashMap<UserId, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut q = user::Entity::find().filter(user::Column::Id.is_in(ids.iter().map(|i| i.0).collect::<Vec<_>>()));
        let staff = user::Column::StaffRole.is_not_null();
        q = match actor.identity_scope().clients() {
            ClientFilter::All => q,
            ClientFilter::Only(c) => q.filter(
                Condition::any().add(staff).add(
                    user::Column::Id.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(membership::Column::UserId)
                            .from(membership::Entity)
                            .and_where(membership::Column::ClientId.eq(c.0))
                            .to_owned(),
                    ),
                ),
            ),
            ClientFilter::Nothing => q.filter(staff),
        };
        let rows = q.all(&self.db).await.map_err(db_err)?;
        Ok(rows.into_iter().map(|u| (UserId(u.id), u.name)).collect())
    }

    /// Display names of users whose rows the caller already read through a scope (authors,
    /// uploaders, approvers of visible things).
    pub(crate) async fn names_of(&self, ids: &[UserId]) -> Result<HashMap<UserId, String>> {
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

    /// The signed-in person's own account (for "View as client", the client user shown).
    pub async fn own_account(&self, actor: &Actor) -> Result<Account> {
        account_by_id(&self.db, actor.user_id()).await?.ok_or(Error::Unauthorized)
    }

    /// Sets `actor`'s own timezone (`None`: the agency's); not while viewing as a client.
    pub async fn set_own_timezone(&self, actor: &Actor, tz: Option<Tz>) -> Result<()> {
        actor.may_change_own_settings()?;
        user::Entity::update_many()
            .col_expr(user::Column::Timezone, Expr::value(tz.map(|t| t.name().to_string())))
            .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(user::Column::Id.eq(actor.user_id().0))
            .exec(&self.db)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Changes `actor`'s own password (the caller has checked the current one): every session
    /// and one-time link of theirs ends, audited in the same transaction.
    pub async fn change_own_password(&self, actor: &Actor, password_hash: String, ip: Option<&str>) -> Result<()> {
        actor.may_change_own_password()?;
        let tx = self.write_tx().await?;
        let rec = crate::access::set_password_in(&tx, actor.user_id(), password_hash).await?;
        let e = Entry::user(AuditAction::UserChangePassword, actor.user_id(), actor.client_id(), ip);
        audit::write(&tx, Some(actor), e).await?;
        tx.commit().await.map_err(db_err)?;
        self.announce_revocation(rec);
        Ok(())
    }

    /// Deactivates (`active = false`) or reactivates a user, as the policy allows `actor`.
    /// Deactivation ends their sessions and one-time links at once (SEC-AUTH-6); reactivation
    /// does not bring those back. Returns the updated user.
    pub async fn set_user_active(&self, actor: &Actor, id: UserId, active: bool, ip: Option<&str>) -> Result<User> {
        actor.may_manage_clients()?;
        let account = account_by_id(&self.db, id).await?.ok_or(Error::NotFound)?;
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

impl Operator<'_> {
    /// Creates a user (and their membership) in one transaction.
    pub async fn create_user(self, n: NewUser) -> Result<UserId> {
        let tx = self.store.write_tx().await?;
        let id = insert_user(&tx, n).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }
}
