//! Background job workers over the durable queue in `atrium_store::jobs`.
//!
//! A [`Queue`] claims due jobs one at a time and hands each to a [`Handler`]. Success marks the
//! job done; a [`JobError::Transient`] error (or a timeout, or a panic) retries it later with
//! back-off; a [`JobError::Permanent`] error, or the last allowed attempt, marks it failed.
//! Tests call [`Queue::run_pending`] to run due jobs inline; the server calls [`Queue::spawn`].
//! Payloads are never logged.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use atrium_core::Result;
use atrium_store::Store;
use atrium_store::jobs::JobState;
pub use atrium_store::jobs::{Job, JobStatus, NewJob, enqueue};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// A boxed, sendable future (keeps [`Handler`] usable as `Arc<dyn Handler>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a job did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (network, a full mailbox, a timeout).
    #[error("{0}")]
    Transient(String),
    /// Will never succeed (bad payload, unknown kind): the job fails at once.
    #[error("{0}")]
    Permanent(String),
}

/// Runs jobs. One handler serves every kind; it dispatches on [`Job::kind`].
pub trait Handler: Send + Sync + 'static {
    /// Does the work of `job`. May run more than once for one job (delivery is at least once),
    /// so it should be idempotent.
    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Result<(), JobError>>;

    /// Whether the payload of `job` is erased (`{}`) once it succeeded. Default: yes, so that
    /// one-time links and personal data do not linger in the database.
    fn scrub_payload(&self, _job: &Job) -> bool {
        true
    }
}

/// A cheap handle to wake a [`Queue`]'s worker early, e.g. right after enqueuing.
#[derive(Clone, Debug, Default)]
pub struct QueueHandle {
    notify: Arc<Notify>,
}

impl QueueHandle {
    /// Wakes the worker if it is idle; otherwise it looks again once its current job is done.
    pub fn notify(&self) {
        self.notify.notify_one();
    }
}

/// Default time a handler may take before the attempt counts as a transient failure.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default wait between polls when no job is due.
pub const DEFAULT_POLL: Duration = Duration::from_secs(1);
/// How much longer than the timeout a lease lasts at least, so a slow but live worker keeps it.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// A worker over the job queue of one [`Store`].
pub struct Queue {
    store: Store,
    handler: Arc<dyn Handler>,
    worker_id: String,
    lease: Duration,
    poll: Duration,
    timeout: Duration,
    wake: QueueHandle,
}

/// What became of one attempt.
enum Outcome {
    Done,
    Failed { error: String, permanent: bool },
}

impl Queue {
    /// A worker with a unique id, a 60 s timeout per job, a lease of timeout + 30 s and a 1 s poll.
    pub fn new(store: Store, handler: Arc<dyn Handler>) -> Self {
        let worker_id = format!("worker-{}-{}", std::process::id(), uuid::Uuid::now_v7().simple());
        Queue {
            store,
            handler,
            worker_id,
            lease: DEFAULT_TIMEOUT + LEASE_MARGIN,
            poll: DEFAULT_POLL,
            timeout: DEFAULT_TIMEOUT,
            wake: QueueHandle::default(),
        }
    }

    /// Names this worker (stored in `locked_by`; at most 128 characters).
    pub fn with_worker_id(mut self, id: impl Into<String>) -> Self {
        self.worker_id = id.into();
        self
    }

    /// Sets the lease; it is never shorter than the timeout plus 30 s.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Sets the idle poll interval.
    pub fn with_poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// Sets the time one attempt may take.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Uses `handle` to be woken (so handles given out before this worker existed wake it).
    pub fn with_handle(mut self, handle: QueueHandle) -> Self {
        self.wake = handle;
        self
    }

    /// This worker's id.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// A handle that wakes this worker.
    pub fn handle(&self) -> QueueHandle {
        self.wake.clone()
    }

    /// Wakes this worker (same as `self.handle().notify()`).
    pub fn notify(&self) {
        self.wake.notify();
    }

    fn effective_lease(&self) -> Duration {
        self.lease.max(self.timeout + LEASE_MARGIN)
    }

    /// Claims and runs one due job; `false` when none was due.
    pub async fn run_one(&self) -> Result<bool> {
        let Some(job) = self.store.job_runner().claim_job(&self.worker_id, self.effective_lease()).await? else {
            return Ok(false);
        };
        let span = tracing::info_span!("job", id = %job.id, kind = %job.kind, attempt = job.attempts);
        self.run_claimed(&job).instrument(span).await?;
        Ok(true)
    }

    async fn run_claimed(&self, job: &Job) -> Result<()> {
        match self.attempt(job).await {
            Outcome::Done => {
                let scrub = self.handler.scrub_payload(job);
                if self.store.job_runner().complete_job(job, scrub).await? {
                    tracing::info!("job done");
                } else {
                    tracing::warn!("job done, but its lease had expired and another worker took it");
                }
            }
            Outcome::Failed { error, permanent } => {
                match self.store.job_runner().fail_job(job, &error, permanent).await? {
                    JobState::Retrying { run_at } => tracing::warn!(%error, %run_at, "job failed; will retry"),
                    JobState::Failed => tracing::error!(%error, permanent, "job failed for good"),
                    JobState::LeaseLost => tracing::warn!(%error, "job failed after its lease expired"),
                }
            }
        }
        Ok(())
    }

    /// Runs the handler on its own task, so a timeout can stop it and a panic cannot take the
    /// worker down.
    async fn attempt(&self, job: &Job) -> Outcome {
        let handler = Arc::clone(&self.handler);
        let owned = job.clone();
        let mut task = tokio::spawn(async move { handler.handle(&owned).await }.in_current_span());
        match tokio::time::timeout(self.timeout, &mut task).await {
            Ok(Ok(Ok(()))) => Outcome::Done,
            Ok(Ok(Err(JobError::Transient(error)))) => Outcome::Failed { error, permanent: false },
            Ok(Ok(Err(JobError::Permanent(error)))) => Outcome::Failed { error, permanent: true },
            Ok(Err(join)) => Outcome::Failed { error: format!("handler panicked: {join}"), permanent: false },
            Err(_) => {
                task.abort();
                Outcome::Failed { error: format!("timed out after {:?}", self.timeout), permanent: false }
            }
        }
    }

    /// Runs every due job now, in the caller's task, until none is due; returns how many
    /// attempts were made. Jobs retried with back-off are not due again yet.
    pub async fn run_pending(&self) -> Result<usize> {
        let mut n = 0;
        while self.run_one().await? {
            n += 1;
        }
        Ok(n)
    }

    /// Starts the worker loop: run due jobs; when none is due, sleep for the poll interval or
    /// until notified. Once `shutdown` completes, the loop finishes the job in hand and stops.
    pub fn spawn(self, shutdown: impl Future<Output = ()> + Send + 'static) -> JoinHandle<()> {
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            tracing::info!(worker = %self.worker_id, "job worker started");
            'outer: loop {
                loop {
                    tokio::select! {
                        biased;
                        () = &mut shutdown => break 'outer,
                        () = std::future::ready(()) => {}
                    }
                    match self.run_one().await {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            tracing::error!(error = %e, "job queue unavailable");
                            break;
                        }
                    }
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    () = self.wake.notify.notified() => {}
                    () = tokio::time::sleep(self.poll) => {}
                }
            }
            tracing::info!(worker = %self.worker_id, "job worker stopped");
        })
    }
}
