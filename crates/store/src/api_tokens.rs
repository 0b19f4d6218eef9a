//! Personal API tokens (SEC-INT-3): made, listed and revoked by their owner, each audited;
//! resolved into their owner's actor on every token request. Only the SHA-256 of a secret is
//! stored. A token stops working when it is revoked or expires, and with its owner's access:
//! a deactivated user, a client user of a deleted client (both through `actor_of`, as for
//! sessions), and whatever ends all of a user's access (`access::revoke_access_of` revokes the
//! tokens too).

use atrium_core::api_token::{self, LIVE_MAX, TokenScopes};
use atrium_core::ids::{ApiTokenId, UserId};
use atrium_core::policy::Actor;
use atrium_core::{Error, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::{api_token as row, user};
use crate::revocations::{self, Revocation};

/// `last_used_at` is written at most this often per token (not on every request).
pub const LAST_USED_PRECISION: Duration = Duration::minutes(1);

/// A token as its owner sees it in a list (never the secret).
#[derive(Clone, Debug)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    /// The first characters after `atr_`, to tell tokens apart.
    pub display_prefix: String,
    pub scopes: TokenScopes,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl ApiToken {
    /// Whether the token has expired at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// What a new token is made from (checked by [`Store::create_api_token`]).
#[derive(Clone, Debug)]
pub struct NewApiToken {
    pub name: String,
    pub scopes: TokenScopes,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A resolved token: which one, whose, and what it may do.
#[derive(Clone, Debug)]
pub struct ApiTokenGrant {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub scopes: TokenScopes,
}

fn view(m: row::Model) -> Result<ApiToken> {
    Ok(ApiToken {
        id: ApiTokenId(m.id),
        name: m.name,
        display_prefix: m.display_prefix,
        scopes: TokenScopes::from_stored(&m.scopes)?,
        expires_at: m.expires_at,
        last_used_at: m.last_used_at,
        created_at: m.created_at,
    })
}

/// Tokens that still work at `now`: not revoked, not expired.
fn live(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(row::Column::RevokedAt.is_null())
        .add(Condition::any().add(row::Column::ExpiresAt.is_null()).add(row::Column::ExpiresAt.gt(now)))
}

impl Store {
    /// Makes a token for `actor` themselves; returns it with its secret, which is never shown
    /// again. Refused: a name or scopes the rules refuse, an expiry in the past or beyond the
    /// bound (422 naming the field), the owner's [`LIVE_MAX`]th live token (422 `name`).
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        new: NewApiToken,
        ip: Option<&str>,
    ) -> Result<(ApiToken, String)> {
        actor.may_manage_api_tokens()?;
        let name = api_token::name(&new.name)?;
        let now = self.now();
        let expires_at = api_token::check_expiry(new.expires_at, now)?;
        let owner = actor.user_id();
        let tx = self.write_tx().await?;
        // Locks the owner's row (PostgreSQL; SQLite's write transaction holds the lock
        // already), so two requests at once cannot both take the last slot.
        user::Entity::find_by_id(owner.0).lock_exclusive().one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let count = row::Entity::find()
            .filter(row::Column::UserId.eq(owner.0))
            .filter(live(now))
            .count(&tx)
            .await
            .map_err(db_err)?;
        if count >= LIVE_MAX {
            return Err(Error::invalid(
                "name",
                format!("you have {LIVE_MAX} API tokens already, the most one person may have: revoke one first"),
            ));
        }
        let secret = api_token::generate();
        let id = ApiTokenId::new();
        let saved = row::ActiveModel {
            id: Set(id.0),
            user_id: Set(owner.0),
            name: Set(name),
            token_hash: Set(secret.hash.clone()),
            display_prefix: Set(secret.display_prefix.clone()),
            scopes: Set(new.scopes.stored()),
            expires_at: Set(expires_at),
            last_used_at: Set(None),
            revoked_at: Set(None),
            created_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let detail = serde_json::json!({ "name": saved.name, "scopes": new.scopes.names(), "expires_at": expires_at });
        audit::write(
            &tx,
            Some(actor),
            Entry::api_token(AuditAction::ApiTokenCreate, id, actor.client_id(), ip).with_detail(detail),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok((view(saved)?, secret.secret))
    }

    /// `actor`'s own tokens that are not revoked (expired ones included, to be seen and
    /// revoked), newest first.
    pub async fn api_tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>> {
        actor.may_manage_api_tokens()?;
        row::Entity::find()
            .filter(row::Column::UserId.eq(actor.user_id().0))
            .filter(row::Column::RevokedAt.is_null())
            .order_by_desc(row::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(view)
            .collect()
    }

    /// Revokes one of `actor`'s own tokens at once (someone else's, or one already revoked,
    /// is 404). Streams opened with it end within about a second.
    pub async fn revoke_api_token(&self, actor: &Actor, id: ApiTokenId, ip: Option<&str>) -> Result<()> {
        actor.may_manage_api_tokens()?;
        let tx = self.write_tx().await?;
        let done = row::Entity::update_many()
            .col_expr(row::Column::RevokedAt, Expr::value(self.now()))
            .filter(row::Column::Id.eq(id.0))
            .filter(row::Column::UserId.eq(actor.user_id().0))
            .filter(row::Column::RevokedAt.is_null())
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected != 1 {
            return Err(Error::NotFound);
        }
        audit::write(&tx, Some(actor), Entry::api_token(AuditAction::ApiTokenRevoke, id, actor.client_id(), ip))
            .await?;
        // The owner's streams re-check their credential (a session's stays, this token's ends).
        let rec = revocations::record(&tx, Revocation::User(actor.user_id())).await?;
        tx.commit().await.map_err(db_err)?;
        self.announce_revocation(rec);
        Ok(())
    }

    /// Resolves a presented API token into the token and its owner's actor, built by the very
    /// code that builds a session's (`actor_of`). `None` — answered like a dead session — when
    /// malformed, unknown, revoked or expired, or when its owner may not act (deactivated, a
    /// client user of a deleted client). Records the use at most once a minute.
    pub async fn api_token_actor(&self, presented: &str) -> Result<Option<(ApiTokenGrant, Actor)>> {
        if !api_token::well_formed(presented) {
            return Ok(None);
        }
        let now = self.now();
        let found = row::Entity::find()
            .filter(row::Column::TokenHash.eq(atrium_core::token::hash(presented)))
            .filter(live(now))
            .one(&self.db)
            .await
            .map_err(db_err)?;
        let Some(t) = found else { return Ok(None) };
        let Some(actor) = self.actor_of(UserId(t.user_id)).await? else { return Ok(None) };
        if t.last_used_at.is_none_or(|at| now - at >= LAST_USED_PRECISION) {
            row::Entity::update_many()
                .col_expr(row::Column::LastUsedAt, Expr::value(now))
                .filter(row::Column::Id.eq(t.id))
                .exec(&self.db)
                .await
                .map_err(db_err)?;
        }
        let grant = ApiTokenGrant {
            id: ApiTokenId(t.id),
            user_id: UserId(t.user_id),
            scopes: TokenScopes::from_stored(&t.scopes)?,
        };
        Ok(Some((grant, actor)))
    }

    /// Whether a token [`Store::api_token_actor`] resolved still grants access (long-lived
    /// event streams ask this when a revocation may concern them).
    pub async fn api_token_alive(&self, id: ApiTokenId) -> Result<bool> {
        let found = row::Entity::find_by_id(id.0).filter(live(self.now())).one(&self.db).await.map_err(db_err)?;
        match found {
            Some(t) => Ok(self.actor_of(UserId(t.user_id)).await?.is_some()),
            None => Ok(false),
        }
    }
}
