//! The live-event bus. On SQLite (one process) events go through an in-process broadcast
//! channel; on PostgreSQL they go through `NOTIFY atrium_events`, and every process LISTENs and
//! forwards what arrives to its own subscribers, so a change written through one server reaches
//! streams opened on another. Events are hints carrying ids only (see [`atrium_core::live`]).
//!
//! Each event is stamped with the moment it was published, and each process keeps the recent
//! ones ([`RECENT_MAX`] events, [`RECENT_AGE`] at most), so a stream opened a moment after a page
//! was rendered (or reopened after a dropped connection) is first given what it missed: the
//! page's render time or the browser's `Last-Event-ID` says since when. When the process cannot
//! know (older than what it keeps, or before it was listening) the stream is told to reload.
//! The stamps of different servers are compared, so their clocks must agree (NTP).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use atrium_core::live::LiveEvent;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, broadcast};

/// The PostgreSQL channel events travel on.
const CHANNEL: &str = "atrium_events";

/// How many events a slow subscriber may fall behind before it misses some (it is then told
/// to reload).
const BUFFER: usize = 1024;

/// The most recent events a process keeps for streams that connect late.
pub const RECENT_MAX: usize = 1000;

/// How long a process keeps an event for streams that connect late.
pub const RECENT_AGE: std::time::Duration = std::time::Duration::from_secs(300);

/// Now, as a live-event stamp: microseconds since the Unix epoch.
pub fn stamp_now() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_micros()).unwrap_or(i64::MAX)
}

/// An event with the moment it was published ([`stamp_now`]); the `id` of its SSE message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stamped {
    /// When it was published (µs since the Unix epoch, the publisher's clock).
    pub at: i64,
    /// The event.
    pub event: LiveEvent,
}

/// What a new subscription gets: the events it missed, then everything from now on.
#[derive(Debug)]
pub struct Subscription {
    /// The events published after the `since` asked for, oldest first; a `reload` first when
    /// some may have been missed that this process no longer knows.
    pub missed: Vec<Arc<Stamped>>,
    /// Every event published from now on.
    pub rx: broadcast::Receiver<Arc<Stamped>>,
}

/// The events a process keeps, and since when it knows all of them.
#[derive(Debug)]
struct Recent {
    events: VecDeque<Arc<Stamped>>,
    /// Every event published at or after this moment is in `events` or was delivered.
    complete_since: i64,
}

/// Publishes and delivers live events; cheap to clone.
#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Stamped>>,
    recent: Arc<Mutex<Recent>>,
    listening: Arc<OnceCell<()>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            tx: broadcast::channel(BUFFER).0,
            recent: Arc::new(Mutex::new(Recent { events: VecDeque::new(), complete_since: stamp_now() })),
            listening: Arc::new(OnceCell::new()),
        }
    }
}

impl Recent {
    /// Keeps `ev` and forgets what is too old or too many, moving `complete_since` past it.
    fn keep(&mut self, ev: Arc<Stamped>) {
        let oldest = ev.at.saturating_sub(i64::try_from(RECENT_AGE.as_micros()).unwrap_or(i64::MAX));
        self.events.push_back(ev);
        while let Some(first) = self.events.front() {
            if self.events.len() <= RECENT_MAX && first.at >= oldest {
                break;
            }
            self.complete_since = self.complete_since.max(first.at);
            self.events.pop_front();
        }
    }

    /// What a stream that knows everything up to `since` has missed.
    fn missed_since(&self, since: i64) -> Vec<Arc<Stamped>> {
        let mut missed = Vec::new();
        if since < self.complete_since {
            missed.push(Arc::new(Stamped { at: self.complete_since, event: LiveEvent::reload() }));
        }
        missed.extend(self.events.iter().filter(|e| e.at > since).cloned());
        missed
    }
}

impl EventBus {
    /// Sends `event` to every subscriber of every process. Failures are logged: a live update
    /// is a courtesy, the change itself is already committed.
    pub(crate) async fn publish(&self, db: &DatabaseConnection, event: LiveEvent) {
        let event = Stamped { at: stamp_now(), event };
        if db.get_database_backend() != DbBackend::Postgres {
            self.deliver(event);
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
            tracing::error!(error = %e, kind = %event.event.kind, "cannot publish live event");
        }
    }

    /// Passes `event` to this process's subscribers and keeps it for late ones. Keeping and
    /// sending under one lock means a subscriber gets each event once: in its `missed` or
    /// from its receiver.
    fn deliver(&self, event: Stamped) {
        let event = Arc::new(event);
        let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.keep(event.clone());
        let _ = self.tx.send(event);
    }

    /// A reconnected listener: whatever was published in the gap is unknown to this process.
    fn lost_until_now(&self) {
        let now = stamp_now();
        self.complete_from(now);
        self.deliver(Stamped { at: now, event: LiveEvent::reload() });
    }

    /// From `at` on, this process hears every event (its listener is in place).
    fn complete_from(&self, at: i64) {
        let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.complete_since = recent.complete_since.max(at);
    }

    /// A new subscription to every event of the deployment (filter with the policy before
    /// sending anything on), with what was published after `since` (a [`stamp_now`]; `None`:
    /// nothing missed). On PostgreSQL the first subscription of a process starts the listener
    /// and waits (a few seconds at most) until it is LISTENing, so that an event published after
    /// this returns is not lost in the listener's start-up.
    pub(crate) async fn subscribe(&self, db: &DatabaseConnection, since: Option<i64>) -> Subscription {
        if db.get_database_backend() == DbBackend::Postgres {
            self.listening
                .get_or_init(|| async {
                    let pool = db.get_postgres_connection_pool().clone();
                    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
                    tokio::spawn(listen(pool, self.clone(), ready_tx));
                    if tokio::time::timeout(LISTEN_WAIT, ready_rx).await.is_err() {
                        tracing::warn!("live events: the listener is not ready yet; events may be missed");
                    }
                })
                .await;
        }
        let recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let rx = self.tx.subscribe();
        let missed = since.map(|s| recent.missed_since(s)).unwrap_or_default();
        Subscription { missed, rx }
    }
}

/// How long the first subscription waits for the listener to be LISTENing.
const LISTEN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Forwards NOTIFY payloads to local subscribers until the pool closes; `ready` is told once
/// the first LISTEN is in place.
async fn listen(pool: sea_orm::sqlx::PgPool, bus: EventBus, ready: tokio::sync::oneshot::Sender<()>) {
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
            // Only now does this process hear every event.
            Some(r) => {
                bus.complete_from(stamp_now());
                let _ = r.send(());
            }
            // A reconnect: whatever was published in the gap is lost, so open pages refetch.
            None => bus.lost_until_now(),
        }
        loop {
            match listener.recv().await {
                Ok(n) => match serde_json::from_str::<Stamped>(n.payload()) {
                    Ok(ev) => bus.deliver(ev),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(at: i64) -> Arc<Stamped> {
        Arc::new(Stamped { at, event: LiveEvent::reload() })
    }

    #[test]
    fn a_late_stream_gets_what_came_after_its_moment_and_a_reload_when_that_is_forgotten() {
        let mut r = Recent { events: VecDeque::new(), complete_since: 100 };
        for at in [110, 120, 130] {
            r.keep(ev(at));
        }
        let ats = |v: Vec<Arc<Stamped>>| v.iter().map(|e| (e.at, e.event.kind.clone())).collect::<Vec<_>>();
        assert_eq!(ats(r.missed_since(120)), vec![(130, "reload".to_string())]);
        assert!(r.missed_since(130).is_empty());
        // Before the process knew everything: a reload first, then what it has.
        assert_eq!(r.missed_since(50).len(), 4);
        assert_eq!(r.missed_since(50)[0].at, 100);
        // Too old: forgotten, and a stream older than that is told to reload.
        let later = 130 + i64::try_from(RECENT_AGE.as_micros()).unwrap() + 1;
        r.keep(ev(later));
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.complete_since, 130);
        assert_eq!(r.missed_since(120).len(), 2);
        assert_eq!(r.missed_since(130).len(), 1);
    }

    #[test]
    fn at_most_recent_max_events_are_kept() {
        let mut r = Recent { events: VecDeque::new(), complete_since: 0 };
        for at in 1..=(RECENT_MAX as i64 + 5) {
            r.keep(ev(at));
        }
        assert_eq!(r.events.len(), RECENT_MAX);
        assert_eq!(r.complete_since, 5);
        assert_eq!(r.missed_since(5).len(), RECENT_MAX);
        assert_eq!(r.missed_since(4)[0].event.kind, "reload");
    }
}
