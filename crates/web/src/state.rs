//! Shared application state passed to every handler.

use std::sync::Arc;

use atrium_jobs::{Handler, NewJob, Queue, QueueHandle};
use atrium_mail::Mailer;
use atrium_store::Store;

use crate::config::WebConfig;

/// Everything a handler may use; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// File contents.
    pub blobs: atrium_store::blobs::Blobs,
    /// Web settings.
    pub config: Arc<WebConfig>,
    /// What runs background jobs (sending mail).
    handler: Arc<dyn Handler>,
    /// Wakes the worker when a job is queued.
    wake: QueueHandle,
    /// Turns true when the server shuts down: open event streams end so shutdown can finish.
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// Open event streams per user in this process.
    streams: Arc<std::sync::Mutex<std::collections::HashMap<atrium_core::ids::UserId, usize>>>,
    /// Thumbnails: rendered by worker processes within limits, a few at once, one client's at
    /// a time, and cached beside the blobs.
    pub previews: Arc<crate::preview_service::Previews>,
    /// The agency's branding as pages show it (kept fresh by `branding::refresh`).
    pub brands: Arc<crate::brand::BrandCache>,
}

/// One open event stream, counted until dropped.
pub struct StreamSlot {
    user: atrium_core::ids::UserId,
    streams: Arc<std::sync::Mutex<std::collections::HashMap<atrium_core::ids::UserId, usize>>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.streams.lock()
            && let Some(n) = m.get_mut(&self.user)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.user);
            }
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("store", &self.store).field("config", &self.config).finish()
    }
}

impl AppState {
    /// Builds the state; mail goes out through `mailer` from background jobs.
    pub fn new(store: Store, blobs: atrium_store::blobs::Blobs, config: WebConfig, mailer: Mailer) -> Self {
        let config = Arc::new(config);
        let handler = Arc::new(crate::jobs::MailJobs::new(store.clone(), mailer, config.clone()));
        let stopping = Arc::new(tokio::sync::watch::Sender::new(false));
        AppState {
            previews: Arc::new(crate::preview_service::Previews::new(&config)),
            brands: Arc::new(crate::brand::BrandCache::new(&config.agency_name)),
            store,
            blobs,
            config,
            handler,
            wake: QueueHandle::default(),
            stopping,
            streams: Default::default(),
        }
    }

    /// A queue worker for this state's jobs (woken whenever a request queues one).
    pub fn queue(&self) -> Queue {
        Queue::new(self.store.clone(), self.handler.clone()).with_handle(self.wake.clone())
    }

    /// The branding in effect (name, accent, welcome text, logo).
    pub fn brand(&self) -> Arc<crate::brand::Brand> {
        self.brands.current()
    }

    /// What mail shows of the branding.
    pub fn mail_brand(&self) -> crate::brand::MailBrand {
        crate::brand::MailBrand::of(&self.brand(), &self.config)
    }

    /// Queues a mail. The queueing happens off the request's path, so response time does not
    /// reveal whether a mail was sent (SEC-AUTH-3); with inline jobs (tests) it is awaited.
    pub async fn send_mail(&self, mail: Result<atrium_mail::Mail, atrium_mail::MailError>) {
        let mail = match mail {
            Ok(m) => m,
            Err(e) => return tracing::error!(error = %e, "mail not rendered"),
        };
        let payload = match serde_json::to_value(&mail) {
            Ok(p) => p,
            Err(e) => return tracing::error!(error = %e, "mail not encoded"),
        };
        let st = self.clone();
        let job = async move {
            match st.store.job_runner().enqueue(NewJob::new(crate::jobs::MAIL_JOB, payload)).await {
                Ok(_) => st.wake.notify(),
                Err(e) => tracing::error!(error = %e, "mail not queued"),
            }
        };
        if self.config.jobs_inline {
            job.await;
        } else {
            tokio::spawn(job);
        }
    }

    /// Takes one of `user`'s event stream slots; too many open at once is 429.
    pub fn open_stream(&self, user: atrium_core::ids::UserId) -> atrium_core::Result<StreamSlot> {
        let mut m = self.streams.lock().map_err(|_| atrium_core::Error::internal_msg("stream count poisoned"))?;
        let n = m.entry(user).or_insert(0);
        if *n >= self.config.max_streams_per_user {
            return Err(atrium_core::Error::RateLimited { retry_after: 30 });
        }
        *n += 1;
        Ok(StreamSlot { user, streams: self.streams.clone() })
    }

    /// Ends every open event stream (the server is shutting down).
    pub fn stop_streams(&self) {
        self.stopping.send_replace(true);
    }

    /// Resolves once the server is shutting down.
    pub async fn stopped(&self) {
        let mut rx = self.stopping.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Wakes the worker (after a change that queued notification mail).
    pub fn wake_worker(&self) {
        self.wake.notify();
    }
}

/// Middleware: with inline jobs (tests) every queued job runs before the response is
/// returned; otherwise a write wakes the background worker.
pub async fn run_after(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let write = !matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD);
    let res = next.run(req).await;
    if st.config.jobs_inline {
        if let Err(e) = st.queue().run_pending().await {
            tracing::error!(error = %e, "inline jobs failed");
        }
    } else if write {
        st.wake_worker();
    }
    res
}
