//! Revocations reach open live streams within seconds, on every server process.
//!
//! Everything that ends access — signing out or revoking a session, deactivating a user or
//! changing their password (all their sessions), revoking a client's access or deleting the
//! client — writes one row to `revocations` in the same transaction, naming the session, the
//! user or the client. After the commit the writing process tells its own streams at once; every
//! process also runs one watcher that reads the rows of the last [`WINDOW`] every [`POLL`] (one
//! indexed query per process, however many streams are open) and passes on those it has not
//! seen. A stream a revocation may concern re-checks its session and ends if it no longer grants
//! access. The same table works on SQLite and PostgreSQL and needs no LISTEN connection; rows
//! older than [`RETENTION`] are deleted by the watchers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use atrium_core::Result;
use atrium_core::ids::{ClientId, SessionId, UserId};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, Set,
};
use tokio::sync::{OnceCell, broadcast};

use crate::db::{Store, db_err};
use crate::entity::revocation;

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

/// How many revocations a slow stream may fall behind before it re-checks its session anyway.
const BUFFER: usize = 256;

/// What lost its access: one session, every session of a user, or every session of a client's
/// users.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// One session (sign-out, or revoked from the sessions list).
    Session(SessionId),
    /// Every session of a user (deactivated, password changed).
    User(UserId),
    /// Every session of a client's users (access revoked, client deleted).
    Client(ClientId),
}

impl Revocation {
    /// Whether this may end a stream of `session`, signed in as `users` (the session's owner
    /// and, for "view as client", the viewed user) of `client`.
    pub fn concerns(&self, session: SessionId, users: &[UserId], client: Option<ClientId>) -> bool {
        match self {
            Revocation::Session(s) => *s == session,
            Revocation::User(u) => users.contains(u),
            Revocation::Client(c) => client == Some(*c),
        }
    }

    fn from_row(r: &revocation::Model) -> Option<Revocation> {
        match (r.session_id, r.user_id, r.client_id) {
            (Some(s), _, _) => Some(Revocation::Session(SessionId(s))),
            (None, Some(u), _) => Some(Revocation::User(UserId(u))),
            (None, None, Some(c)) => Some(Revocation::Client(ClientId(c))),
            (None, None, None) => None,
        }
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

/// This process's revocation fan-out; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Revocations {
    tx: broadcast::Sender<Revocation>,
    /// Rows already passed on, by id, with their time (forgotten after [`WINDOW`]).
    seen: Arc<Mutex<HashMap<uuid::Uuid, DateTime<Utc>>>>,
    watching: Arc<OnceCell<()>>,
    /// The watcher stops once every `Store` is gone.
    alive: Arc<()>,
}

impl Default for Revocations {
    fn default() -> Self {
        Revocations {
            tx: broadcast::channel(BUFFER).0,
            seen: Default::default(),
            watching: Arc::new(OnceCell::new()),
            alive: Arc::new(()),
        }
    }
}

impl Revocations {
    /// Passes `what` on unless the row `id` was passed on already.
    fn pass_on(&self, id: uuid::Uuid, at: DateTime<Utc>, what: Revocation) {
        let fresh = match self.seen.lock() {
            Ok(mut seen) => seen.insert(id, at).is_none(),
            Err(_) => true,
        };
        if fresh {
            let _ = self.tx.send(what);
        }
    }
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
                    if let Some(what) = Revocation::from_row(row) {
                        r.pass_on(row.id, row.created_at, what);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "revocations: cannot read; streams fall back to their periodic check"),
        }
        if let Ok(mut seen) = r.seen.lock() {
            seen.retain(|_, at| *at > since);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_concerns_only_what_it_names() {
        let (s, other_s) = (SessionId::new(), SessionId::new());
        let (u, v) = (UserId::new(), UserId::new());
        let (c, d) = (ClientId::new(), ClientId::new());
        assert!(Revocation::Session(s).concerns(s, &[u], Some(c)));
        assert!(!Revocation::Session(other_s).concerns(s, &[u], Some(c)));
        assert!(Revocation::User(u).concerns(s, &[v, u], None));
        assert!(!Revocation::User(v).concerns(s, &[u], Some(c)));
        assert!(Revocation::Client(c).concerns(s, &[u], Some(c)));
        assert!(!Revocation::Client(d).concerns(s, &[u], Some(c)));
        assert!(!Revocation::Client(c).concerns(s, &[u], None), "staff streams belong to no client");
    }

    #[test]
    fn a_row_is_passed_on_once() {
        let r = Revocations::default();
        let mut rx = r.tx.subscribe();
        let id = uuid::Uuid::now_v7();
        let what = Revocation::User(UserId::new());
        r.pass_on(id, Utc::now(), what);
        r.pass_on(id, Utc::now(), what);
        assert_eq!(rx.try_recv().ok(), Some(what));
        assert!(rx.try_recv().is_err(), "the watcher re-reading a row announced locally sends nothing");
    }
}
