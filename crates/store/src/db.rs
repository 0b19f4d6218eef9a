//! Connecting to SQLite (the embedded default) or PostgreSQL, with the same code path.

use std::time::Duration;

use atrium_core::{Error, Result};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

use crate::migration::Migrator;

/// The database handle the application shares; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    pub(crate) events: crate::events::EventBus,
    pub(crate) revocations: crate::revocation_feed::Revocations,
    pub(crate) clock: crate::clock::Clock,
}

/// Connects to `url` (`sqlite://…` or `postgres://…`) with the default pool size; any other
/// scheme is an error.
pub async fn connect(url: &str) -> Result<Store> {
    connect_with(url, None).await
}

/// The default pool size: four connections per CPU core, between 4 and 32. More connections than
/// that only add contention (measured in docs/benchmarks.md).
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores * 4).unwrap_or(32).clamp(4, 32)
}

/// Connects with at most `pool` connections (default: [`default_pool_size`]).
/// SQLite connections get WAL, foreign keys, `synchronous=FULL` and a busy timeout (SEC-DATA-0).
pub async fn connect_with(url: &str, pool: Option<u32>) -> Result<Store> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false).acquire_timeout(Duration::from_secs(10));
    match scheme {
        "sqlite" => {
            opts.max_connections(pool.unwrap_or_else(default_pool_size).max(1)).map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .create_if_missing(true)
            });
        }
        "postgres" | "postgresql" => {
            opts.max_connections(pool.unwrap_or_else(default_pool_size).max(1));
        }
        other => {
            return Err(Error::invalid(
                "database_url",
                format!("unsupported database URL scheme {other:?}: use sqlite:// or postgres://"),
            ));
        }
    }
    let db = Database::connect(opts).await.map_err(|e| Error::internal("cannot connect to the database", e))?;
    Ok(Store { db, events: Default::default(), revocations: Default::default(), clock: Default::default() })
}

impl Store {
    /// Sets the time the store reads (`None`: the system time again), for tests of service
    /// levels and of solved tickets closing.
    #[cfg(any(test, feature = "test-support"))]
    pub fn set_clock(&self, at: Option<chrono::DateTime<chrono::Utc>>) {
        self.clock.set(at);
    }

    /// The store's current time.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await.map_err(|e| Error::internal("migration failed", e))
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> bool {
        self.db.ping().await.is_ok()
    }

    /// Which database this is.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Closes the pool.
    pub async fn close(self) {
        let _ = self.db.close().await;
    }

    /// Publishes a live event to every open stream of the deployment (after the change is
    /// committed).
    pub(crate) async fn publish(&self, event: atrium_core::live::LiveEvent) {
        self.events.publish(&self.db, event).await
    }

    /// Subscribes to every live event of the deployment, with those published after `since`
    /// (a [`crate::events::stamp_now`]) that this process still knows; the caller filters each
    /// one through the policy ([`atrium_core::policy::Actor::may_receive`]) before passing it on.
    pub async fn subscribe(&self, since: Option<i64>) -> crate::events::Subscription {
        self.events.subscribe(&self.db, since).await
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`):
    /// a deferred transaction that reads and then writes fails with "database is locked" when
    /// another writer got in between, instead of waiting its turn (busy timeout).
    pub(crate) async fn write_tx(&self) -> Result<sea_orm::DatabaseTransaction> {
        use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
        let opts = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        self.db.begin_with_options(opts).await.map_err(db_err)
    }

    /// The raw connection, for tests (everything else goes through a principal or the policy).
    #[cfg(any(test, feature = "test-support"))]
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// Maps a database error to [`Error::Internal`] (unique violations to [`Error::Conflict`]).
pub(crate) fn db_err(e: sea_orm::DbErr) -> Error {
    if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = e.sql_err() {
        return Error::Conflict("already exists".into());
    }
    Error::internal("database", e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_url_schemes_are_refused() {
        for url in ["mysql://root@localhost/test", "file:///tmp/x.db", "nonsense"] {
            match connect(url).await {
                Err(Error::Invalid { field, .. }) => assert_eq!(field, "database_url"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn sqlite_connections_get_wal_foreign_keys_and_full_sync() {
        use sea_orm::{ConnectionTrait, Statement};
        let dir = std::env::temp_dir().join(format!("atrium-db-test-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = connect(&format!("sqlite://{}?mode=rwc", dir.join("a.db").display())).await.unwrap();
        let get = |sql: &'static str| {
            let db = store.db.clone();
            async move {
                let row = db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap().unwrap();
                row.try_get_by_index::<String>(0)
                    .or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string()))
                    .unwrap()
            }
        };
        assert_eq!(get("PRAGMA journal_mode").await, "wal");
        assert_eq!(get("PRAGMA foreign_keys").await, "1");
        assert_eq!(get("PRAGMA synchronous").await, "2", "FULL");
        assert_eq!(get("PRAGMA busy_timeout").await, "10000");
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn sqlite_backup_is_a_complete_database_and_never_overwrites() {
        // SEC-DATA-3
        use crate::people::NewUser;
        use atrium_core::model::Role;
        let dir = std::env::temp_dir().join(format!("atrium-backup-test-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = connect(&format!("sqlite://{}?mode=rwc", dir.join("a.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        let n = NewUser {
            email: "owner@agency.test".into(),
            name: "Owner".into(),
            password_hash: None,
            role: Role::Owner,
            client_id: None,
        };
        store.operator().create_user(n).await.unwrap();
        let copy = dir.join("backup.db");
        store.operator().backup_to(&copy).await.unwrap();
        assert!(matches!(store.operator().backup_to(&copy).await, Err(Error::Invalid { .. })), "never overwrites");

        let restored = connect(&format!("sqlite://{}", copy.display())).await.unwrap();
        let found = restored.sign_in().account_by_email("owner@agency.test").await.unwrap();
        assert!(found.is_some(), "the copy holds the data");
        restored.close().await;
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
