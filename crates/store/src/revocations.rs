//! Revocations reach open live streams within seconds, on every server process.
//!
//! Everything that ends access — signing out or revoking a session, deactivating a user or
//! changing their password (all their sessions), revoking a client's access or deleting the
//! client — writes one row to `revocations` in the same transaction, naming the session, the
//! user or the client. So does a change of the pages a client's portal shows (`store::portal`):
//! the client's streams re-check and end, their actors having been resolved with the old pages. After the commit the writing process tells its own streams at once; every
//! process also runs one watcher that reads the rows of the last [`WINDOW`] every [`POLL`] (one
//! indexed query per process, however many streams are open) and passes on those it has not
//! seen. A stream a revocation may concern re-checks its session and ends if it no longer grants
//! access. The same table works on SQLite and PostgreSQL and needs no LISTEN connection; rows
//! older than [`RETENTION`] are deleted by the watchers.

use std::sync::{Arc, Weak};
use std::time::Duration;

use atrium_core::Result;
use atrium_core::ids::{ClientId, SessionId, UserId};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, Set,
};
use tokio::sync::broadcast;

use crate::db::{Store, db_err};
use crate::entity::revocation;
pub use crate::revocation_feed::Revocation;
use crate::revocation_feed::Revocations;

/// How often each process's watcher reads new revocations.
pub const POLL: Duration = Duration::from_secs(1);

/// How far back each read looks. Rows become visible when their transaction commits, which may
/// be after a later row's; reading a window (and remembering what was passed on) instead of
/// "after the last id" misses none of them.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Rows older than this are deleted.
pub const RETENTION: Duration = Duration::from_secs(3600);

/// How often a watcher deletes old rows.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

fn from_row(r: &revocation::Model) -> Option<Revocation> {
    match (r.session_id, r.user_id, r.client_id) {
        (Some(s), _, _) => Some(Revocation::Session(SessionId(s))),
        (None, Some(u), _) => Some(Revocation::User(UserId(u))),
        (None, None, Some(c)) => Some(Revocation::Client(ClientId(c))),
        (None, None, None) => None,
    }
}

/// A revocation written in a transaction; announce it with [`Store::announce_revocation`] once committed.
#[must_use = "announce the revocation after the commit"]
#[derive(Debug)]
pub(crate) struct Recorded {
    id: uuid::Uuid,
    at: DateTime<Utc>,
    what: Revocation,
}

/// Writes the row of `what` (inside the caller's transaction).
pub(crate) async fn record<C: ConnectionTrait>(c: &C, what: Revocation) -> Result<Recorded> {
    let (id, at) = (uuid::Uuid::now_v7(), Utc::now());
    let (session, user, client) = match what {
        Revocation::Session(s) => (Some(s.0), None, None),
        Revocation::User(u) => (None, Some(u.0), None),
        Revocation::Client(c) => (None, None, Some(c.0)),
    };
    revocation::ActiveModel {
        id: Set(id),
        session_id: Set(session),
        user_id: Set(user),
        client_id: Set(client),
        created_at: Set(at),
    }
    .insert(c)
    .await
    .map_err(db_err)?;
    Ok(Recorded { id, at, what })
}

impl Store {
    /// Tells this process's streams about a committed revocation at once.
    pub(crate) fn announce_revocation(&self, r: Recorded) {
        self.revocations.pass_on(r.id, r.at, r.what);
    }

    /// Deletes revocations older than `age` (the watchers do this with [`RETENTION`]); returns
    /// how many.
    pub async fn prune_revocations(&self, age: Duration) -> Result<u64> {
        prune(&self.db, age).await
    }

    /// Every revocation of the deployment from now on, written by any process; the first call
    /// starts this process's watcher.
    pub async fn revocations(&self) -> broadcast::Receiver<Revocation> {
        let rx = self.revocations.tx.subscribe();
        self.revocations
            .watching
            .get_or_init(|| async {
                let r = self.revocations.clone();
                let alive = Arc::downgrade(&self.revocations.alive);
                tokio::spawn(watch(self.db.clone(), r, alive));
            })
            .await;
        rx
    }
}

/// Reads the recent revocations every [`POLL`] and passes on the new ones; deletes old rows
/// every [`PRUNE_EVERY`].
async fn watch(db: DatabaseConnection, r: Revocations, alive: Weak<()>) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pruned = tokio::time::Instant::now();
    let window = chrono::Duration::from_std(WINDOW).unwrap_or(chrono::Duration::minutes(1));
    loop {
        tick.tick().await;
        if alive.upgrade().is_none() || pool_closed(&db) {
            return;
        }
        let since = Utc::now() - window;
        match revocation::Entity::find().filter(revocation::Column::CreatedAt.gt(since)).all(&db).await {
            Ok(rows) => {
                for row in &rows {
                    if let Some(what) = from_row(row) {
                        r.pass_on(row.id, row.created_at, what);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "revocations: cannot read; streams fall back to their periodic check"),
        }
        r.forget_before(since);
        if pruned.elapsed() >= PRUNE_EVERY {
            pruned = tokio::time::Instant::now();
            if let Err(e) = prune(&db, RETENTION).await {
                tracing::warn!(error = %e, "revocations: cannot delete old rows");
            }
        }
    }
}

/// Deletes revocations older than `age`; returns how many.
async fn prune(db: &DatabaseConnection, age: Duration) -> Result<u64> {
    let age = chrono::Duration::from_std(age).map_err(|e| atrium_core::Error::internal("age", e))?;
    let r = revocation::Entity::delete_many()
        .filter(revocation::Column::CreatedAt.lt(Utc::now() - age))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(r.rows_affected)
}

fn pool_closed(db: &DatabaseConnection) -> bool {
    match db.get_database_backend() {
        DbBackend::Postgres => db.get_postgres_connection_pool().is_closed(),
        DbBackend::Sqlite => db.get_sqlite_connection_pool().is_closed(),
        _ => false,
    }
}
