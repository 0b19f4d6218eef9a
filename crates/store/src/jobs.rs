//! The durable background job queue (`jobs` table).
//!
//! A job is enqueued with [`enqueue`] on any connection — typically inside the caller's own
//! transaction, so the job exists exactly when the change that caused it is committed
//! (transactional outbox). Workers [`Store::claim_job`] one due job at a time under a lease,
//! then report [`Store::complete_job`] or [`Store::fail_job`]. Delivery is at least once: a
//! worker that dies leaves its job `running` until the lease expires, and another worker then
//! claims it again.

use std::str::FromStr;
use std::time::Duration;

use atrium_core::ids::JobId;
use atrium_core::{Error, Result};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement, TryInsertResult,
};

use crate::audit::{AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::job;
use crate::system::JobRunner;

/// Attempts a job gets by default before it is marked `failed`.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// The first retry waits this long; each further one twice as long (plus jitter).
pub const BACKOFF_BASE: Duration = Duration::from_secs(30);
/// No retry waits longer than this (before jitter).
pub const BACKOFF_CAP: Duration = Duration::from_secs(3600);
/// Longest `last_error` kept, in characters.
pub const MAX_ERROR_CHARS: usize = 2000;
/// Longest job kind, in characters (the column is 64 wide).
pub const MAX_KIND_CHARS: usize = 64;
/// Longest dedupe key, in characters (the column is 200 wide).
pub const MAX_DEDUPE_KEY_CHARS: usize = 200;

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for `run_at`.
    Queued,
    /// Claimed by a worker whose lease runs until `locked_until`.
    Running,
    /// Finished successfully.
    Done,
    /// Gave up: a permanent error, or `max_attempts` reached.
    Failed,
}

impl JobStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }
}

impl FromStr for JobStatus {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "queued" => Ok(JobStatus::Queued),
            "running" => Ok(JobStatus::Running),
            "done" => Ok(JobStatus::Done),
            "failed" => Ok(JobStatus::Failed),
            other => Err(format!("unknown job status {other:?}")),
        }
    }
}

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// What kind of job this is; the handler dispatches on it (at most 64 characters).
    pub kind: &'static str,
    /// The job's input. Never logged.
    pub payload: serde_json::Value,
    /// When set, a second job with the same key is not enqueued (e.g. `digest:2026-11-25`).
    pub dedupe_key: Option<String>,
    /// Not before this time (default: now).
    pub run_at: Option<DateTime<Utc>>,
    /// Attempts before the job is marked `failed` (at least 1).
    pub max_attempts: u32,
}

impl NewJob {
    /// A job of `kind` with `payload`, due now, with [`DEFAULT_MAX_ATTEMPTS`].
    pub fn new(kind: &'static str, payload: serde_json::Value) -> Self {
        NewJob { kind, payload, dedupe_key: None, run_at: None, max_attempts: DEFAULT_MAX_ATTEMPTS }
    }

    /// Sets the dedupe key.
    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    /// Delays the job until `at`.
    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    /// Sets the number of attempts.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }
}

/// A stored job.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// Its kind.
    pub kind: String,
    /// The payload as stored (JSON text; `{}` once scrubbed). Decode with [`Job::payload`].
    pub payload_json: String,
    /// The dedupe key, if any.
    pub dedupe_key: Option<String>,
    /// Where it is in its life.
    pub status: JobStatus,
    /// Attempts so far, counting the one in progress.
    pub attempts: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// When it is (or was) due.
    pub run_at: DateTime<Utc>,
    /// End of the current lease, while running.
    pub locked_until: Option<DateTime<Utc>>,
    /// The worker holding (or last holding) it.
    pub locked_by: Option<String>,
    /// The last failure, at most [`MAX_ERROR_CHARS`] characters.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it was done or failed for good.
    pub finished_at: Option<DateTime<Utc>>,
}

impl Job {
    /// Decodes the payload into `T`.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.payload_json)
    }
}

/// What [`Store::fail_job`] did with a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Queued again, due at this time.
    Retrying {
        /// When the next attempt is due.
        run_at: DateTime<Utc>,
    },
    /// Marked `failed` for good.
    Failed,
    /// The caller no longer held the job (its lease expired and it was claimed again, or it
    /// was already finished); nothing was changed.
    LeaseLost,
}

fn to_job(m: job::Model) -> Result<Job> {
    Ok(Job {
        id: m.id.into(),
        kind: m.kind,
        payload_json: m.payload,
        dedupe_key: m.dedupe_key,
        status: m.status.parse().map_err(|e| Error::internal("stored job status", e))?,
        attempts: u32::try_from(m.attempts).unwrap_or(0),
        max_attempts: u32::try_from(m.max_attempts).unwrap_or(0),
        run_at: m.run_at,
        locked_until: m.locked_until,
        locked_by: m.locked_by,
        last_error: m.last_error,
        created_at: m.created_at,
        finished_at: m.finished_at,
    })
}

/// The wait before retrying after the `attempts`-th failed attempt, without jitter:
/// `BACKOFF_BASE * 2^(attempts-1)`, at most [`BACKOFF_CAP`].
pub fn backoff(attempts: u32) -> Duration {
    let exp = attempts.saturating_sub(1).min(20);
    BACKOFF_BASE.saturating_mul(1u32 << exp).min(BACKOFF_CAP)
}

/// [`backoff`] plus up to 10 % random jitter, so failed jobs do not all return at once.
fn backoff_with_jitter(attempts: u32) -> chrono::Duration {
    let base = backoff(attempts);
    let jitter_ms = u64::try_from(base.as_millis() / 10).unwrap_or(0);
    let extra = if jitter_ms == 0 { 0 } else { rand::random_range(0..=jitter_ms) };
    chrono::Duration::from_std(base + Duration::from_millis(extra)).unwrap_or(chrono::Duration::hours(1))
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// Rewrites `$1`-style placeholders for SQLite (`?1`); PostgreSQL keeps them.
fn sql(backend: DbBackend, pg: &str) -> String {
    match backend {
        DbBackend::Postgres => pg.to_string(),
        _ => pg.replace('$', "?"),
    }
}

/// Enqueues `job` on `conn`, which may be a transaction of the caller's: the job then exists
/// only if that transaction commits. Returns `None` (and changes nothing) when a job with the
/// same dedupe key already exists.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, job: NewJob) -> Result<Option<JobId>> {
    if job.kind.is_empty() || job.kind.chars().count() > MAX_KIND_CHARS {
        return Err(Error::invalid("kind", format!("must be 1 to {MAX_KIND_CHARS} characters")));
    }
    if let Some(k) = &job.dedupe_key
        && (k.is_empty() || k.chars().count() > MAX_DEDUPE_KEY_CHARS)
    {
        return Err(Error::invalid("dedupe_key", format!("must be 1 to {MAX_DEDUPE_KEY_CHARS} characters")));
    }
    let id = JobId::new();
    let now = Utc::now();
    let row = job::ActiveModel {
        id: Set(id.0),
        kind: Set(job.kind.to_string()),
        payload: Set(job.payload.to_string()),
        dedupe_key: Set(job.dedupe_key),
        status: Set(JobStatus::Queued.as_str().to_string()),
        attempts: Set(0),
        max_attempts: Set(i32::try_from(job.max_attempts.max(1)).unwrap_or(i32::MAX)),
        run_at: Set(job.run_at.unwrap_or(now)),
        locked_until: Set(None),
        locked_by: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
    };
    let r = job::Entity::insert(row)
        .on_conflict_do_nothing_on([job::Column::DedupeKey])
        .exec_without_returning(conn)
        .await
        .map_err(db_err)?;
    Ok(match r {
        TryInsertResult::Inserted(n) if n > 0 => Some(id),
        _ => None,
    })
}

/// The columns of `jobs`, for `RETURNING`.
const COLUMNS: &str = "id, kind, payload, dedupe_key, status, attempts, max_attempts, run_at, locked_until, \
                       locked_by, last_error, created_at, finished_at";

impl JobRunner<'_> {
    /// The store's current time (the wall clock, or the one a test set): what scheduled jobs
    /// compare with.
    pub fn now(self) -> DateTime<Utc> {
        self.store.now()
    }

    /// Enqueues `job` on its own (see [`enqueue`] to enqueue inside a transaction).
    pub async fn enqueue(self, job: NewJob) -> Result<Option<JobId>> {
        enqueue(&self.store.db, job).await
    }

    /// Claims the next due job for `worker` for `lease`: a queued job whose `run_at` has come,
    /// or a running job whose lease expired (its worker died). Marks it `running` and counts
    /// the attempt. Two workers never claim the same job at once: PostgreSQL skips rows another
    /// claim has locked, SQLite takes its write lock (via `job_lock`) before reading.
    pub async fn claim_job(self, worker: &str, lease: Duration) -> Result<Option<Job>> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(lease).map_err(|_| Error::invalid("lease", "too long"))?;
        let backend = self.store.backend();
        let due = "(status = 'queued' AND run_at <= $2) \
                   OR (status = 'running' AND locked_until < $2 AND attempts < max_attempts)";
        let claim = match backend {
            DbBackend::Postgres => format!(
                "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $3, attempts = attempts + 1 \
                 WHERE id = (SELECT id FROM jobs WHERE {due} ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING {COLUMNS}"
            ),
            _ => format!(
                "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $3, attempts = attempts + 1 \
                 WHERE id = (SELECT id FROM jobs WHERE {due} ORDER BY run_at, id LIMIT 1) \
                 RETURNING {COLUMNS}"
            ),
        };
        let tx = self.store.write_tx().await?;
        if backend == DbBackend::Sqlite {
            // The first statement writes, so this transaction holds SQLite's write lock before it
            // reads anything: no other process can claim between our read and our update.
            tx.execute_raw(Statement::from_sql_and_values(
                backend,
                "UPDATE job_lock SET holder = ?1, taken_at = ?2 WHERE id = 1",
                [worker.into(), now.into()],
            ))
            .await
            .map_err(db_err)?;
        }
        // A job whose last allowed attempt lost its lease will not be retried: fail it.
        job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(JobStatus::Failed.as_str()))
            .col_expr(job::Column::LastError, Expr::value("lease expired on the last attempt (worker stopped?)"))
            .col_expr(job::Column::FinishedAt, Expr::value(now))
            .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(job::Column::Status.eq(JobStatus::Running.as_str()))
            .filter(job::Column::LockedUntil.lt(now))
            .filter(sea_orm::ExprTrait::gte(Expr::col(job::Column::Attempts), Expr::col(job::Column::MaxAttempts)))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let row = tx
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql(backend, &claim),
                [worker.into(), now.into(), until.into()],
            ))
            .await
            .map_err(db_err)?;
        let job = match row {
            Some(row) => Some(to_job(job::Model::from_query_result(&row, "").map_err(db_err)?)?),
            None => None,
        };
        tx.commit().await.map_err(db_err)?;
        Ok(job)
    }

    /// Marks a claimed job `done`; with `scrub_payload` its payload becomes `{}` (payloads may
    /// hold one-time links that must not linger). Returns `false`, changing nothing, when the
    /// caller no longer holds the job (see [`JobState::LeaseLost`]).
    pub async fn complete_job(self, job: &Job, scrub_payload: bool) -> Result<bool> {
        let mut q = job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(JobStatus::Done.as_str()))
            .col_expr(job::Column::FinishedAt, Expr::value(Utc::now()))
            .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None));
        if scrub_payload {
            q = q.col_expr(job::Column::Payload, Expr::value("{}"));
        }
        let r = held(q, job).exec(&self.store.db).await.map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    /// Records a failed attempt of a claimed job. A transient failure is retried after an
    /// exponential back-off ([`backoff`] plus jitter); a `permanent` one, or the last allowed
    /// attempt, marks the job `failed`. `error` is kept (truncated to [`MAX_ERROR_CHARS`]).
    pub async fn fail_job(self, job: &Job, error: &str, permanent: bool) -> Result<JobState> {
        let now = Utc::now();
        let error = truncate(error, MAX_ERROR_CHARS);
        let give_up = permanent || job.attempts >= job.max_attempts;
        let q = job::Entity::update_many()
            .col_expr(job::Column::LastError, Expr::value(Some(error)))
            .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None));
        let (q, state) = if give_up {
            let q = q
                .col_expr(job::Column::Status, Expr::value(JobStatus::Failed.as_str()))
                .col_expr(job::Column::FinishedAt, Expr::value(now));
            (q, JobState::Failed)
        } else {
            let run_at = now + backoff_with_jitter(job.attempts);
            let q = q
                .col_expr(job::Column::Status, Expr::value(JobStatus::Queued.as_str()))
                .col_expr(job::Column::RunAt, Expr::value(run_at));
            (q, JobState::Retrying { run_at })
        };
        let r = held(q, job).exec(&self.store.db).await.map_err(db_err)?;
        Ok(if r.rows_affected > 0 { state } else { JobState::LeaseLost })
    }

    /// Jobs still to do: queued or running.
    pub async fn jobs_pending(self) -> Result<u64> {
        job::Entity::find()
            .filter(job::Column::Status.is_in([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]))
            .count(&self.store.db)
            .await
            .map_err(db_err)
    }

    /// One job by id (tests and the runner's own bookkeeping).
    pub async fn job(self, id: JobId) -> Result<Job> {
        to_job(job::Entity::find_by_id(id.0).one(&self.store.db).await.map_err(db_err)?.ok_or(Error::NotFound)?)
    }

    /// Puts a failed job back in the queue, due now, with its attempts reset.
    /// [`Error::NotFound`] unless the job exists and has failed.
    pub async fn retry_job(self, id: JobId) -> Result<()> {
        let r = job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(JobStatus::Queued.as_str()))
            .col_expr(job::Column::Attempts, Expr::value(0))
            .col_expr(job::Column::RunAt, Expr::value(Utc::now()))
            .col_expr(job::Column::FinishedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
            .filter(job::Column::Id.eq(id.0))
            .filter(job::Column::Status.eq(JobStatus::Failed.as_str()))
            .exec(&self.store.db)
            .await
            .map_err(db_err)?;
        if r.rows_affected == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }
}

impl Store {
    /// How many jobs are still to do, for those who may manage the queue (the outbox page).
    pub async fn pending_jobs(&self, actor: &atrium_core::policy::Actor) -> Result<u64> {
        actor.may_manage_jobs()?;
        self.job_runner().jobs_pending().await
    }

    /// The most recently failed jobs, newest first, for those who may manage them.
    pub async fn failed_jobs(&self, actor: &atrium_core::policy::Actor, limit: u64) -> Result<Vec<Job>> {
        actor.may_manage_jobs()?;
        job::Entity::find()
            .filter(job::Column::Status.eq(JobStatus::Failed.as_str()))
            .order_by_desc(job::Column::FinishedAt)
            .order_by_desc(job::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(to_job)
            .collect()
    }
}

/// Restricts an update to `job` as long as the caller still holds it: still running, claimed by
/// the same worker, and not claimed again since (the attempt count is the fencing token).
fn held(q: sea_orm::UpdateMany<job::Entity>, job: &Job) -> sea_orm::UpdateMany<job::Entity> {
    q.filter(job::Column::Id.eq(job.id.0))
        .filter(job::Column::Status.eq(JobStatus::Running.as_str()))
        .filter(job::Column::LockedBy.eq(job.locked_by.clone()))
        .filter(job::Column::Attempts.eq(i32::try_from(job.attempts).unwrap_or(i32::MAX)))
}

impl Store {
    /// Retries a failed job on behalf of `actor` (owners and admins), audited.
    pub async fn retry_failed_job(
        &self,
        actor: &atrium_core::policy::Actor,
        id: JobId,
        ip: Option<&str>,
    ) -> Result<()> {
        actor.may_manage_jobs()?;
        self.job_runner().retry_job(id).await?;
        self.audit(actor, Entry::job(AuditAction::JobRetry, id, ip)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_back_off_exponentially_up_to_the_cap() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(4), Duration::from_secs(240));
        assert_eq!(backoff(8), Duration::from_secs(3600));
        assert_eq!(backoff(u32::MAX), BACKOFF_CAP);
        for attempts in 1..12 {
            let d = backoff_with_jitter(attempts).to_std().unwrap();
            assert!(d >= backoff(attempts) && d <= backoff(attempts) * 11 / 10, "{attempts}: {d:?}");
        }
    }

    #[test]
    fn jobs_errors_truncate_on_a_char_boundary() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("ééé", 2), "éé");
        assert_eq!(truncate(&"x".repeat(3000), MAX_ERROR_CHARS).len(), MAX_ERROR_CHARS);
    }

    #[test]
    fn jobs_status_round_trips() {
        for s in [JobStatus::Queued, JobStatus::Running, JobStatus::Done, JobStatus::Failed] {
            assert_eq!(s.as_str().parse::<JobStatus>(), Ok(s));
        }
        assert!("nope".parse::<JobStatus>().is_err());
    }

    #[tokio::test]
    async fn jobs_are_claimed_in_run_at_order_and_validated() {
        let dir = std::env::temp_dir().join(format!("atrium-jobs-store-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = crate::connect(&format!("sqlite://{}?mode=rwc", dir.join("a.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        let now = Utc::now();
        let later = store
            .job_runner()
            .enqueue(NewJob::new("b", serde_json::json!({})).run_at(now - chrono::Duration::seconds(1)));
        let later = later.await.unwrap().unwrap();
        let first = store
            .job_runner()
            .enqueue(NewJob::new("a", serde_json::json!({})).run_at(now - chrono::Duration::seconds(5)));
        let first = first.await.unwrap().unwrap();
        let future = NewJob::new("c", serde_json::json!({})).run_at(now + chrono::Duration::hours(1));
        store.job_runner().enqueue(future).await.unwrap().unwrap();
        let lease = Duration::from_secs(60);
        let j = store.job_runner().claim_job("w", lease).await.unwrap().unwrap();
        assert_eq!((j.id, j.status, j.attempts, j.locked_by.as_deref()), (first, JobStatus::Running, 1, Some("w")));
        assert!(j.locked_until.is_some_and(|t| t > now));
        assert_eq!(store.job_runner().claim_job("w", lease).await.unwrap().map(|j| j.id), Some(later));
        assert_eq!(store.job_runner().claim_job("w", lease).await.unwrap(), None, "the third is not due");

        let too_long = NewJob::new("k", serde_json::json!({})).dedupe("x".repeat(MAX_DEDUPE_KEY_CHARS + 1));
        assert!(matches!(store.job_runner().enqueue(too_long).await, Err(Error::Invalid { .. })));
        assert!(matches!(
            store.job_runner().enqueue(NewJob::new("", serde_json::json!({}))).await,
            Err(Error::Invalid { .. })
        ));
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
