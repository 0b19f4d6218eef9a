//! The live-event bus. On SQLite (one process) events go through an in-process broadcast
//! channel; on PostgreSQL they go through `NOTIFY atrium_events`, and every process LISTENs and
//! forwards what arrives to its own subscribers, so a change written through one server reaches
//! streams opened on another. Events are hints carrying ids only (see [`atrium_core::live`]).

use std::sync::Arc;

use atrium_core::live::LiveEvent;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::sync::{OnceCell, broadcast};

/// The PostgreSQL channel events travel on.
const CHANNEL: &str = "atrium_events";

/// How many events a slow subscriber may fall behind before it misses some (it is then told
/// to reload).
const BUFFER: usize = 1024;

/// Publishes and delivers live events; cheap to clone.
#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    listening: Arc<OnceCell<()>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus { tx: broadcast::channel(BUFFER).0, listening: Arc::new(OnceCell::new()) }
    }
}

impl EventBus {
    /// Sends `event` to every subscriber of every process. Failures are logged: a live update
    /// is a courtesy, the change itself is already committed.
    pub(crate) async fn publish(&self, db: &DatabaseConnection, event: LiveEvent) {
        if db.get_database_backend() != DbBackend::Postgres {
            let _ = self.tx.send(Arc::new(event));
            return;
        }
        let payload = match serde_json::to_string(&event) {
            Ok(p) => p,
            Err(e) => return tracing::error!(error = %e, "cannot encode live event"),
        };
        let sql = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.into()],
        );
        if let Err(e) = db.execute_raw(sql).await {
            tracing::error!(error = %e, kind = %event.kind, "cannot publish live event");
        }
    }

    /// A new subscription to every event of the deployment (filter with the policy before
    /// sending anything on). On PostgreSQL the first subscription of a process starts the
    /// listener and waits (a few seconds at most) until it is LISTENing, so that an event
    /// published after this returns is not lost in the listener's start-up.
    pub(crate) async fn subscribe(&self, db: &DatabaseConnection) -> broadcast::Receiver<Arc<LiveEvent>> {
        let rx = self.tx.subscribe();
        if db.get_database_backend() == DbBackend::Postgres {
            self.listening
                .get_or_init(|| async {
                    let pool = db.get_postgres_connection_pool().clone();
                    let tx = self.tx.clone();
                    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
                    tokio::spawn(listen(pool, tx, ready_tx));
                    if tokio::time::timeout(LISTEN_WAIT, ready_rx).await.is_err() {
                        tracing::warn!("live events: the listener is not ready yet; events may be missed");
                    }
                })
                .await;
        }
        rx
    }
}

/// How long the first subscription waits for the listener to be LISTENing.
const LISTEN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Forwards NOTIFY payloads to local subscribers until the pool closes; `ready` is told once
/// the first LISTEN is in place.
async fn listen(
    pool: sea_orm::sqlx::PgPool,
    tx: broadcast::Sender<Arc<LiveEvent>>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    use sea_orm::sqlx::postgres::PgListener;
    let mut ready = Some(ready);
    while !pool.is_closed() {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "live events: cannot connect the listener; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "live events: LISTEN failed; retrying");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        }
        match ready.take() {
            Some(r) => {
                let _ = r.send(());
            }
            // A reconnect: whatever was published in the gap is lost, so open pages refetch.
            None => {
                let _ = tx.send(Arc::new(LiveEvent::reload()));
            }
        }
        loop {
            match listener.recv().await {
                Ok(n) => match serde_json::from_str::<LiveEvent>(n.payload()) {
                    Ok(ev) => {
                        let _ = tx.send(Arc::new(ev));
                    }
                    Err(e) => tracing::warn!(error = %e, "live events: undecodable payload"),
                },
                Err(e) => {
                    if pool.is_closed() {
                        return;
                    }
                    tracing::warn!(error = %e, "live events: listener lost; reconnecting");
                    break;
                }
            }
        }
    }
}
