//! The server's side of thumbnails: a render runs in a separate worker process
//! ([`crate::preview::worker_main`]) whose address space and CPU time the kernel limits and
//! which is killed at the time limit, so a hostile file costs one worker, never the server, and
//! its slot frees as soon as the worker is gone. Renders wait for their client's turn (one at a
//! time per client) and then for one of the process's slots, so one client's uploads cannot hold
//! every slot. Each outcome, a PNG or "no preview", is stored beside the blob
//! ([`atrium_store::blobs::Blobs::put_preview`]) and never rendered again.

use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atrium_core::Error;
use atrium_core::ids::ClientId;
use atrium_store::blobs::Blobs;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::WebConfig;
pub use crate::config::{PREVIEW_CPU_SECONDS, PREVIEW_MEMORY_LIMIT, PREVIEW_QUEUE_WAIT, PREVIEW_TIME_LIMIT};
use crate::preview::Kind;

/// Renders of one client's files at once in one process; its other requests wait their turn.
pub const PREVIEWS_PER_CLIENT: usize = 1;
/// Largest PNG a worker may answer (a 1,200 px RGBA image is at most ~5.8 MB uncompressed).
const MAX_PNG_BYTES: u64 = 16 * 1024 * 1024;
/// How much of a worker's stderr (its reason) is kept for the log.
const MAX_REASON_BYTES: u64 = 1024;

/// How one render ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The thumbnail.
    Png(Bytes),
    /// The worker made none on purpose (refused by a pre-check, or undecodable): its reason.
    NoPreview(String),
    /// The worker died (a memory or CPU limit, a crash): how.
    Died(String),
    /// Killed at the time limit.
    TimedOut,
    /// The worker could not be started.
    Unavailable(String),
}

impl Outcome {
    /// Whether this outcome stands for the version (stored, never rendered again): a time-out
    /// or a worker that could not start may be the server's fault, and is tried again later.
    fn lasting(&self) -> bool {
        matches!(self, Outcome::Png(_) | Outcome::NoPreview(_) | Outcome::Died(_))
    }
}

/// Counts of what the previews did in this process (tests and logs).
#[derive(Debug, Default)]
pub struct PreviewStats {
    /// Workers started.
    pub spawned: AtomicU64,
    /// Renders that made a PNG.
    pub rendered: AtomicU64,
    /// Renders with no preview by the worker's decision (refused by a pre-check, undecodable).
    pub refused: AtomicU64,
    /// Workers that died (a limit, a crash).
    pub died: AtomicU64,
    /// Workers killed at the time limit.
    pub timed_out: AtomicU64,
    /// Requests answered from the stored outcome.
    pub cached: AtomicU64,
    /// Workers running now.
    pub running: AtomicUsize,
    /// Requests waiting now for their client's turn or a slot.
    pub queued: AtomicUsize,
}

/// Renders thumbnails in worker processes, within limits, fairly, once per version.
pub struct Previews {
    worker: Vec<OsString>,
    memory: u64,
    cpu_seconds: u64,
    time: Duration,
    queue_wait: Duration,
    slots: Arc<Semaphore>,
    clients: Arc<Mutex<HashMap<ClientId, Arc<Semaphore>>>>,
    /// What happened so far.
    pub stats: Arc<PreviewStats>,
}

impl std::fmt::Debug for Previews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Previews").field("worker", &self.worker).field("stats", &self.stats).finish_non_exhaustive()
    }
}

/// A client's turn: while held, no other render of that client's files starts here.
pub struct Turn {
    owner: ClientId,
    permit: Option<OwnedSemaphorePermit>,
    clients: Arc<Mutex<HashMap<ClientId, Arc<Semaphore>>>>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let permit = self.permit.take();
        drop(permit);
        // The client's queue goes once nobody holds or waits for it (the map holds one reference).
        if let Ok(mut m) = self.clients.lock()
            && m.get(&self.owner).is_some_and(|s| Arc::strong_count(s) == 1)
        {
            m.remove(&self.owner);
        }
    }
}

/// Counts a waiting request until dropped.
struct Waiting(Arc<PreviewStats>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Previews {
    /// Previews with `config`'s worker, limits and slots.
    pub fn new(config: &WebConfig) -> Self {
        Previews {
            worker: config.preview_worker.clone(),
            memory: config.preview_memory,
            cpu_seconds: config.preview_cpu_seconds.max(1),
            time: config.preview_time,
            queue_wait: config.preview_queue_wait,
            slots: Arc::new(Semaphore::new(config.preview_slots.max(1))),
            clients: Default::default(),
            stats: Default::default(),
        }
    }

    /// Waits (at most the queue wait) for `owner`'s turn, then for a slot. Too long → 429.
    pub async fn turn(&self, owner: ClientId) -> Result<(Turn, OwnedSemaphorePermit), Error> {
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(self.stats.clone());
        let queue = {
            let mut m = self.clients.lock().map_err(|_| Error::internal_msg("preview queues poisoned"))?;
            m.entry(owner).or_insert_with(|| Arc::new(Semaphore::new(PREVIEWS_PER_CLIENT))).clone()
        };
        let mut turn = Turn { owner, permit: None, clients: self.clients.clone() };
        let busy = || Error::RateLimited { retry_after: 5 };
        let deadline = tokio::time::Instant::now() + self.queue_wait;
        let permit = tokio::time::timeout_at(deadline, queue.acquire_owned()).await.map_err(|_| busy())?;
        turn.permit = Some(permit.map_err(|e| Error::internal("preview queue", e))?);
        let slot = tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|e| Error::internal("preview slots", e))?;
        Ok((turn, slot))
    }

    /// The thumbnail of the blob `sha256` (a file of `owner`'s) at `size` pixels: the stored one,
    /// or rendered now and stored. `None`: it has no preview.
    pub async fn thumbnail(
        &self,
        blobs: &Blobs,
        owner: ClientId,
        kind: Kind,
        sha256: &str,
        size: u32,
    ) -> Result<Option<Bytes>, Error> {
        if let Some(stored) = self.stored(blobs, sha256, size).await {
            return Ok(stored);
        }
        let (turn, slot) = self.turn(owner).await?;
        // Rendered while this request waited (another request, or another server)?
        if let Some(stored) = self.stored(blobs, sha256, size).await {
            return Ok(stored);
        }
        let read = blobs.get(sha256, None).await?;
        let parts: Vec<Bytes> = futures_util::TryStreamExt::try_collect(read.stream).await?;
        let input = Bytes::from(parts.concat());
        // The render finishes (or is killed) and is stored even if this request goes away; the
        // turn and the slot are held until the worker is gone.
        let job = Job { worker: self.worker.clone(), memory: self.memory, cpu: self.cpu_seconds, time: self.time };
        let (blobs, sha, stats) = (blobs.clone(), sha256.to_string(), self.stats.clone());
        let task = tokio::spawn(async move {
            let outcome = job.run(kind, size, input, &stats).await;
            if outcome.lasting() {
                let bytes = if let Outcome::Png(png) = &outcome { png.clone() } else { Bytes::new() };
                if let Err(e) = blobs.put_preview(&sha, size, bytes).await {
                    tracing::warn!(error = %e, "could not store a preview");
                }
            }
            drop((turn, slot));
            outcome
        });
        let outcome = task.await.map_err(|e| Error::internal("preview task", e))?;
        match outcome {
            Outcome::Png(png) => Ok(Some(png)),
            other => {
                tracing::info!(sha256, size, outcome = ?other, "no preview");
                Ok(None)
            }
        }
    }

    /// The stored outcome, if any (`Some(None)`: no preview). A storage error is a miss.
    async fn stored(&self, blobs: &Blobs, sha256: &str, size: u32) -> Option<Option<Bytes>> {
        match blobs.preview(sha256, size).await {
            Ok(Some(b)) => {
                self.stats.cached.fetch_add(1, Ordering::Relaxed);
                Some(if b.is_empty() { None } else { Some(b) })
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "could not read a stored preview");
                None
            }
        }
    }
}

/// One worker run's settings.
struct Job {
    worker: Vec<OsString>,
    memory: u64,
    cpu: u64,
    time: Duration,
}

/// Counts a running worker until dropped.
struct Running(Arc<PreviewStats>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Job {
    /// Starts the worker within its limits, feeds it `input` and reads its answer; kills its
    /// process group at the time limit.
    async fn run(&self, kind: Kind, size: u32, input: Bytes, stats: &Arc<PreviewStats>) -> Outcome {
        let Some((program, base)) = self.worker.split_first() else {
            return Outcome::Unavailable("no preview worker configured".into());
        };
        let kind = if kind == Kind::Pdf { "pdf" } else { "image" };
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(base)
            .arg(kind)
            .arg(size.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .env_clear()
            .kill_on_drop(true)
            .process_group(0);
        let (memory, cpu) = (self.memory, self.cpu);
        // SAFETY: runs in the forked child before exec and only calls setrlimit, which is
        // async-signal-safe; it allocates nothing and touches no lock.
        unsafe {
            cmd.pre_exec(move || {
                limit(libc::RLIMIT_AS, memory, memory)?;
                // SIGXCPU at the soft limit, SIGKILL a second later.
                limit(libc::RLIMIT_CPU, cpu, cpu + 1)?;
                limit(libc::RLIMIT_CORE, 0, 0)
            });
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return Outcome::Unavailable(format!("cannot start the preview worker: {e}")),
        };
        stats.spawned.fetch_add(1, Ordering::Relaxed);
        stats.running.fetch_add(1, Ordering::Relaxed);
        let _running = Running(stats.clone());
        let pid = child.id();
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill().await;
            return Outcome::Unavailable("the preview worker has no pipes".into());
        };
        let talk = async {
            let feed = async move {
                // A worker that dies early closes its stdin: that is its outcome, not an error here.
                let _ = stdin.write_all(&input).await;
                drop(stdin);
            };
            let mut png = Vec::new();
            let mut reason = Vec::new();
            let (mut stdout, mut stderr) = (stdout.take(MAX_PNG_BYTES + 1), stderr.take(MAX_REASON_BYTES));
            let read_png = stdout.read_to_end(&mut png);
            let read_reason = stderr.read_to_end(&mut reason);
            let (_, png_read, _) = tokio::join!(feed, read_png, read_reason);
            let status = child.wait().await;
            (status, png_read.map(|_| png), reason)
        };
        let answer = tokio::time::timeout(self.time, talk).await;
        let outcome = match answer {
            Err(_) => {
                kill_group(pid);
                stats.timed_out.fetch_add(1, Ordering::Relaxed);
                Outcome::TimedOut
            }
            Ok((status, png, reason)) => {
                let reason = String::from_utf8_lossy(&reason).trim().to_string();
                match (status, png) {
                    (Ok(s), Ok(png)) if s.success() && !png.is_empty() && png.len() as u64 <= MAX_PNG_BYTES => {
                        stats.rendered.fetch_add(1, Ordering::Relaxed);
                        Outcome::Png(Bytes::from(png))
                    }
                    (Ok(s), _) if s.code() == Some(i32::from(crate::preview::WORKER_NO_PREVIEW)) => {
                        stats.refused.fetch_add(1, Ordering::Relaxed);
                        Outcome::NoPreview(reason)
                    }
                    (status, _) => {
                        stats.died.fetch_add(1, Ordering::Relaxed);
                        Outcome::Died(format!("{status:?}: {reason}"))
                    }
                }
            }
        };
        // Whatever the worker left behind (it ran in its own process group) goes with it.
        kill_group(pid);
        let _ = child.kill().await;
        outcome
    }
}

/// Sets a resource limit in the child (`pre_exec`).
fn limit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> std::io::Result<()> {
    let lim = libc::rlimit { rlim_cur: soft as libc::rlim_t, rlim_max: hard as libc::rlim_t };
    // SAFETY: a plain system call on a valid, initialised struct.
    if unsafe { libc::setrlimit(resource, &lim) } == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// Kills the worker's process group (the worker and anything it started).
fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 1) {
        // SAFETY: a plain system call; the group is the worker's own (`process_group(0)`).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn previews(slots: usize) -> Previews {
        let mut config = WebConfig::new(url::Url::parse("http://localhost").expect("url"));
        config.preview_slots = slots;
        Previews::new(&config)
    }

    // SEC-IO-7
    #[tokio::test]
    async fn one_clients_renders_wait_their_turn_and_leave_the_slots_to_others() {
        let p = previews(2);
        let (a, b) = (ClientId(uuid::Uuid::now_v7()), ClientId(uuid::Uuid::now_v7()));
        let first = p.turn(a).await.expect("a's first render");
        // A's second render waits for A's turn, holding no slot...
        let mut second = Box::pin(p.turn(a));
        assert!(second.as_mut().now_or_never().is_none(), "a waits for its own turn");
        assert_eq!(p.slots.available_permits(), 1);
        // ...so B renders at once.
        let b_turn = p.turn(b).now_or_never().expect("b is not blocked by a").expect("b's turn");
        assert_eq!(p.slots.available_permits(), 0);
        drop(b_turn);
        // A's turn passes on when its first render ends; queues of idle clients are forgotten.
        drop(first);
        let second = second.await.expect("a's second render");
        drop(second);
        assert!(p.clients.lock().expect("lock").is_empty());
        assert_eq!(p.slots.available_permits(), 2);
        assert_eq!(p.stats.queued.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn a_request_that_waits_too_long_is_told_to_retry() {
        let mut config = WebConfig::new(url::Url::parse("http://localhost").expect("url"));
        config.preview_queue_wait = Duration::from_millis(10);
        let p = Previews::new(&config);
        let a = ClientId(uuid::Uuid::now_v7());
        let _held = p.turn(a).await.expect("first");
        assert!(matches!(p.turn(a).await, Err(Error::RateLimited { .. })));
    }
}
