//! Fixed-window rate limits kept in the database, so they hold across server processes
//! (SEC-AUTH-4). One atomic upsert per attempt.

use atrium_core::{Error, Result};
use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::db::{Store, db_err};

/// How many comments and messages (new or edited) one user may post per [`POST_WINDOW_SECS`]
/// (SEC-IO-7), on every path that posts: pages, API, and later mail-in.
pub const POSTS_PER_WINDOW: u32 = 30;
/// The window of [`POSTS_PER_WINDOW`], in seconds.
pub const POST_WINDOW_SECS: i64 = 60;

impl Store {
    /// Counts one post (comment or message, new or edited) by `actor`; past
    /// [`POSTS_PER_WINDOW`] in the window it fails with [`Error::RateLimited`].
    pub(crate) async fn hit_post_limit(&self, actor: &atrium_core::policy::Actor) -> Result<()> {
        let key = format!("post:user:{}", actor.user_id());
        self.hit_rate_limit(&key, POSTS_PER_WINDOW, Duration::seconds(POST_WINDOW_SECS)).await
    }

    /// Counts one attempt against `key`; fails with [`Error::RateLimited`] past `limit` attempts
    /// in `window`.
    pub async fn hit_rate_limit(&self, key: &str, limit: u32, window: Duration) -> Result<()> {
        let now = Utc::now();
        let cutoff = now - window;
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => {
                "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                   count = CASE WHEN rate_limits.window_start < $3 THEN 1 ELSE rate_limits.count + 1 END, \
                   window_start = CASE WHEN rate_limits.window_start < $3 THEN $2 ELSE rate_limits.window_start END \
                 RETURNING count, window_start"
            }
            _ => {
                "INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?2, 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                   count = CASE WHEN rate_limits.window_start < ?3 THEN 1 ELSE rate_limits.count + 1 END, \
                   window_start = CASE WHEN rate_limits.window_start < ?3 THEN ?2 ELSE rate_limits.window_start END \
                 RETURNING count, window_start"
            }
        };
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(backend, sql, [key.into(), now.into(), cutoff.into()]))
            .await
            .map_err(db_err)?
            .ok_or_else(|| Error::internal_msg("rate limit upsert returned nothing"))?;
        let count: i32 = row.try_get("", "count").map_err(db_err)?;
        let start: chrono::DateTime<Utc> = row.try_get("", "window_start").map_err(db_err)?;
        if count > i32::try_from(limit).unwrap_or(i32::MAX) {
            let retry = (start + window - now).num_seconds().max(1);
            return Err(Error::RateLimited { retry_after: u64::try_from(retry).unwrap_or(1) });
        }
        Ok(())
    }

    /// Deletes the counters whose window began more than `age` ago (they count nothing any
    /// more; a new attempt starts a new window anyway); returns how many. `atrium serve` runs
    /// this hourly with a day, longer than any window, so the table holds about one day of keys.
    pub async fn prune_rate_limits(&self, age: Duration) -> Result<u64> {
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => "DELETE FROM rate_limits WHERE window_start < $1",
            _ => "DELETE FROM rate_limits WHERE window_start < ?1",
        };
        let cutoff = Utc::now() - age;
        let r =
            self.db.execute_raw(Statement::from_sql_and_values(backend, sql, [cutoff.into()])).await.map_err(db_err)?;
        Ok(r.rows_affected())
    }
}
