//! The job queue end to end, on SQLite or (with `ATRIUM_TEST_DB=postgres`) PostgreSQL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atrium_core::ids::JobId;
use atrium_jobs::{BoxFuture, Handler, Job, JobError, JobStatus, NewJob, Queue, enqueue};
use atrium_store::Store;
use atrium_store::entity::job;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
use serde_json::json;

/// A fresh database, dropped at the end of the test (copied from the web tests' harness).
struct TestDb {
    url: String,
    pg_name: Option<String>,
    dir: Option<std::path::PathBuf>,
}

fn pg_admin_url() -> String {
    std::env::var("ATRIUM_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn on_postgres() -> bool {
    std::env::var("ATRIUM_TEST_DB").is_ok_and(|v| v == "postgres")
}

impl TestDb {
    async fn new() -> TestDb {
        if on_postgres() {
            let name = format!("atrium_test_{}", uuid_simple());
            let admin = sea_orm::Database::connect(format!("{}/postgres", pg_admin_url())).await.unwrap();
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            admin.close().await.ok();
            TestDb { url: format!("{}/{name}", pg_admin_url()), pg_name: Some(name), dir: None }
        } else {
            let dir = std::env::temp_dir().join(format!("atrium-jobs-test-{}", uuid_simple()));
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.join("atrium.db").display());
            TestDb { url, pg_name: None, dir: Some(dir) }
        }
    }

    /// A migrated store on this database.
    async fn store(&self) -> Store {
        let store = atrium_store::connect(&self.url).await.unwrap();
        store.migrate().await.unwrap();
        store
    }
}

fn uuid_simple() -> String {
    JobId::new().0.simple().to_string()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = self.pg_name.take() {
            let url = format!("{}/postgres", pg_admin_url());
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async move {
                    if let Ok(admin) = sea_orm::Database::connect(url).await {
                        let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// What the test handler does with a job.
#[derive(Clone, Copy)]
enum Mode {
    Ok,
    Transient,
    Permanent,
    Sleep(Duration),
    Panic,
}

/// Records the ids it ran; behaves as `mode` says.
struct Recorder {
    seen: Mutex<Vec<JobId>>,
    mode: Mutex<Mode>,
    keep_payload: AtomicBool,
}

impl Recorder {
    fn new(mode: Mode) -> Arc<Recorder> {
        Arc::new(Recorder {
            seen: Mutex::new(Vec::new()),
            mode: Mutex::new(mode),
            keep_payload: AtomicBool::new(false),
        })
    }
    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
    fn seen(&self) -> Vec<JobId> {
        self.seen.lock().unwrap().clone()
    }
}

impl Handler for Recorder {
    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            self.seen.lock().unwrap().push(job.id);
            let mode = *self.mode.lock().unwrap();
            match mode {
                Mode::Ok => Ok(()),
                Mode::Transient => Err(JobError::Transient("smtp: connection refused".into())),
                Mode::Permanent => Err(JobError::Permanent("bad payload".into())),
                Mode::Sleep(d) => {
                    tokio::time::sleep(d).await;
                    Ok(())
                }
                Mode::Panic => panic!("handler bug"),
            }
        })
    }

    fn scrub_payload(&self, _job: &Job) -> bool {
        !self.keep_payload.load(Ordering::SeqCst)
    }
}

fn queue(store: &Store, handler: &Arc<Recorder>) -> Queue {
    Queue::new(store.clone(), handler.clone() as Arc<dyn Handler>)
}

/// Makes every queued job due now (instead of waiting out the back-off).
async fn make_due(store: &Store) {
    job::Entity::update_many()
        .col_expr(job::Column::RunAt, Expr::value(Utc::now() - chrono::Duration::seconds(1)))
        .filter(job::Column::Status.eq("queued"))
        .exec(store.connection())
        .await
        .unwrap();
}

fn mail(n: u32) -> NewJob {
    NewJob::new("mail", json!({ "to": format!("user{n}@client.test"), "link": "https://portal.test/l/secret" }))
}

#[tokio::test]
async fn an_enqueued_job_runs_once() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let h = Recorder::new(Mode::Ok);
    let q = queue(&store, &h);
    let id = store.job_runner().enqueue(mail(1)).await.unwrap().unwrap();
    assert_eq!(store.job_runner().jobs_pending().await.unwrap(), 1);

    assert_eq!(q.run_pending().await.unwrap(), 1);
    assert_eq!(q.run_pending().await.unwrap(), 0, "nothing left to do");
    assert_eq!(h.seen(), vec![id]);
    let j = store.job_runner().job(id).await.unwrap();
    assert_eq!(j.status, JobStatus::Done);
    assert_eq!(j.attempts, 1);
    assert!(j.finished_at.is_some());
    assert_eq!(store.job_runner().jobs_pending().await.unwrap(), 0);
}

#[tokio::test]
async fn a_transient_error_backs_off_and_counts_the_attempt() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let h = Recorder::new(Mode::Transient);
    let q = queue(&store, &h);
    let id = store.job_runner().enqueue(mail(1)).await.unwrap().unwrap();
    let before = Utc::now();

    assert_eq!(q.run_pending().await.unwrap(), 1, "the retry is not due yet");
    let j = store.job_runner().job(id).await.unwrap();
    assert_eq!(j.status, JobStatus::Queued);
    assert_eq!(j.attempts, 1);
    assert_eq!(j.last_error.as_deref(), Some("smtp: connection refused"));
    assert!(j.run_at >= before + chrono::Duration::seconds(30), "first back-off is 30 s: {}", j.run_at);
    assert!(j.run_at <= Utc::now() + chrono::Duration::seconds(34), "jitter is at most 10 %: {}", j.run_at);
    assert!(
        store.job_runner().claim_job("other", Duration::from_secs(60)).await.unwrap().is_none(),
        "not claimable yet"
    );
    assert_eq!(store.job_runner().jobs_pending().await.unwrap(), 1);

    make_due(&store).await;
    assert_eq!(q.run_pending().await.unwrap(), 1);
    let j = store.job_runner().job(id).await.unwrap();
    assert_eq!(j.attempts, 2);
    assert!(j.run_at >= Utc::now() + chrono::Duration::seconds(59), "second back-off is 60 s: {}", j.run_at);
}

/// An owner, signed in the way a request would be (the list of failed jobs is theirs to see).
async fn owner(store: &Store) -> atrium_core::policy::Actor {
    let user = store
        .operator()
        .create_user(atrium_store::people::NewUser {
            email: "owner@agency.test".into(),
            name: "Owner".into(),
            password_hash: None,
            role: atrium_core::model::Role::Owner,
            client_id: None,
        })
        .await
        .unwrap();
    let day = chrono::Duration::days(1);
    let token = store.sign_in().create_session(user, day, None, None).await.unwrap();
    store.session_actor(&token.secret, day).await.unwrap().unwrap().1
}

#[tokio::test]
async fn permanent_errors_and_the_last_attempt_fail_the_job_and_retry_requeues_it() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let h = Recorder::new(Mode::Permanent);
    let q = queue(&store, &h);
    let permanent = store.job_runner().enqueue(mail(1)).await.unwrap().unwrap();
    q.run_pending().await.unwrap();
    let j = store.job_runner().job(permanent).await.unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Failed, 1));
    assert_eq!(j.last_error.as_deref(), Some("bad payload"));

    h.set(Mode::Transient);
    let limited = store.job_runner().enqueue(mail(2).max_attempts(2)).await.unwrap().unwrap();
    q.run_pending().await.unwrap();
    assert_eq!(store.job_runner().job(limited).await.unwrap().status, JobStatus::Queued);
    make_due(&store).await;
    q.run_pending().await.unwrap();
    let j = store.job_runner().job(limited).await.unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Failed, 2));
    assert!(j.finished_at.is_some());

    let owner = owner(&store).await;
    let failed = store.failed_jobs(&owner, 10).await.unwrap();
    assert_eq!(failed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![limited, permanent], "newest first");
    assert_eq!(failed[0].last_error.as_deref(), Some("smtp: connection refused"));
    assert_eq!(store.job_runner().jobs_pending().await.unwrap(), 0);

    h.set(Mode::Ok);
    store.job_runner().retry_job(limited).await.unwrap();
    let j = store.job_runner().job(limited).await.unwrap();
    assert_eq!((j.status, j.attempts, j.finished_at), (JobStatus::Queued, 0, None));
    assert_eq!(q.run_pending().await.unwrap(), 1);
    assert_eq!(store.job_runner().job(limited).await.unwrap().status, JobStatus::Done);
    assert_eq!(store.failed_jobs(&owner, 10).await.unwrap().len(), 1);
    assert!(
        matches!(store.job_runner().retry_job(limited).await, Err(atrium_core::Error::NotFound)),
        "only failed jobs"
    );
}

#[tokio::test]
async fn long_errors_are_truncated() {
    let db = TestDb::new().await;
    let store = db.store().await;
    store.job_runner().enqueue(mail(1)).await.unwrap().unwrap();
    let j = store.job_runner().claim_job("w", Duration::from_secs(60)).await.unwrap().unwrap();
    let state = store.job_runner().fail_job(&j, &"é".repeat(5000), true).await.unwrap();
    assert_eq!(state, atrium_store::jobs::JobState::Failed);
    assert_eq!(store.job_runner().job(j.id).await.unwrap().last_error.unwrap().chars().count(), 2000);
}

#[tokio::test]
async fn a_dedupe_key_enqueues_once() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let first = store.job_runner().enqueue(NewJob::new("digest", json!({})).dedupe("digest:2026-11-25")).await.unwrap();
    let second =
        store.job_runner().enqueue(NewJob::new("digest", json!({})).dedupe("digest:2026-11-25")).await.unwrap();
    assert!(first.is_some());
    assert_eq!(second, None);
    store.job_runner().enqueue(NewJob::new("digest", json!({})).dedupe("digest:2026-11-26")).await.unwrap().unwrap();
    // Jobs without a key never collide.
    store.job_runner().enqueue(mail(1)).await.unwrap().unwrap();
    store.job_runner().enqueue(mail(1)).await.unwrap().unwrap();
    assert_eq!(store.job_runner().jobs_pending().await.unwrap(), 4);
}

#[tokio::test]
async fn payloads_are_scrubbed_after_success_unless_the_handler_keeps_them() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let h = Recorder::new(Mode::Ok);
    let q = queue(&store, &h);
    let scrubbed = store.job_runner().enqueue(mail(1)).await.unwrap().unwrap();
    q.run_pending().await.unwrap();
    let j = store.job_runner().job(scrubbed).await.unwrap();
    assert_eq!(j.payload_json, "{}");
    assert!(!j.payload_json.contains("secret"));

    h.keep_payload.store(true, Ordering::SeqCst);
    let kept = store.job_runner().enqueue(mail(2)).await.unwrap().unwrap();
    q.run_pending().await.unwrap();
    let v: serde_json::Value = store.job_runner().job(kept).await.unwrap().payload().unwrap();
    assert_eq!(v["to"], "user2@client.test");
}

#[tokio::test]
async fn a_job_enqueued_in_a_rolled_back_transaction_does_not_exist() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tx = store.connection().begin().await.unwrap();
    let id = enqueue(&tx, mail(1)).await.unwrap().unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(store.job_runner().jobs_pending().await.unwrap(), 0);
    assert!(matches!(store.job_runner().job(id).await, Err(atrium_core::Error::NotFound)));

    let tx = store.connection().begin().await.unwrap();
    let id = enqueue(&tx, mail(2)).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.job_runner().job(id).await.unwrap().status, JobStatus::Queued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_run_each_of_fifty_jobs_exactly_once() {
    let db = TestDb::new().await;
    let a = db.store().await;
    let b = atrium_store::connect(&db.url).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..50 {
        ids.push(a.job_runner().enqueue(mail(n)).await.unwrap().unwrap());
    }
    let h = Recorder::new(Mode::Sleep(Duration::from_millis(2)));
    let qa = queue(&a, &h).with_worker_id("a");
    let qb = queue(&b, &h).with_worker_id("b");
    let ta = tokio::spawn(async move { qa.run_pending().await.unwrap() });
    let tb = tokio::spawn(async move { qb.run_pending().await.unwrap() });
    let (na, nb) = (ta.await.unwrap(), tb.await.unwrap());
    eprintln!("a ran {na}, b ran {nb}");
    assert_eq!(na + nb, 50, "a ran {na}, b ran {nb}");

    let mut seen = h.seen();
    assert_eq!(seen.len(), 50, "every job ran once");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 50, "no job ran twice");
    ids.sort();
    assert_eq!(seen, ids);
    let done = job::Entity::find().filter(job::Column::Status.eq("done")).count(a.connection()).await.unwrap();
    assert_eq!(done, 50);
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let id = store.job_runner().enqueue(mail(1)).await.unwrap().unwrap();
    let dead = store.job_runner().claim_job("dead-worker", Duration::from_millis(500)).await.unwrap().unwrap();
    assert_eq!((dead.id, dead.attempts), (id, 1));
    assert!(store.job_runner().claim_job("other", Duration::from_secs(60)).await.unwrap().is_none(), "leased");

    tokio::time::sleep(Duration::from_millis(600)).await;
    let h = Recorder::new(Mode::Ok);
    assert_eq!(queue(&store, &h).with_worker_id("alive").run_pending().await.unwrap(), 1);
    let j = store.job_runner().job(id).await.unwrap();
    assert_eq!((j.status, j.attempts, j.locked_by.as_deref()), (JobStatus::Done, 2, Some("alive")));
    assert!(!store.job_runner().complete_job(&dead, true).await.unwrap(), "the dead worker's lease is gone");
    assert_eq!(
        store.job_runner().fail_job(&dead, "late", false).await.unwrap(),
        atrium_store::jobs::JobState::LeaseLost
    );

    // The last allowed attempt losing its lease fails the job instead of running it again.
    let last = store.job_runner().enqueue(mail(2).max_attempts(1)).await.unwrap().unwrap();
    store.job_runner().claim_job("dead-worker", Duration::from_millis(1)).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(store.job_runner().claim_job("other", Duration::from_secs(60)).await.unwrap().is_none());
    let j = store.job_runner().job(last).await.unwrap();
    assert_eq!(j.status, JobStatus::Failed);
    assert!(j.last_error.unwrap().contains("lease expired"));
}

#[tokio::test]
async fn timeouts_and_panics_are_transient_failures() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let h = Recorder::new(Mode::Sleep(Duration::from_secs(30)));
    let q = queue(&store, &h).with_timeout(Duration::from_millis(50));
    let slow = store.job_runner().enqueue(mail(1)).await.unwrap().unwrap();
    q.run_pending().await.unwrap();
    let j = store.job_runner().job(slow).await.unwrap();
    assert_eq!(j.status, JobStatus::Queued);
    assert!(j.last_error.unwrap().contains("timed out"));

    h.set(Mode::Panic);
    make_due(&store).await;
    q.run_pending().await.unwrap();
    let j = store.job_runner().job(slow).await.unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Queued, 2));
    assert!(j.last_error.unwrap().contains("panicked"));
}

#[tokio::test]
async fn the_worker_wakes_on_notify_and_stops_on_shutdown() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let h = Recorder::new(Mode::Ok);
    // A poll interval of an hour: only the notification can wake it in time.
    let q = queue(&store, &h).with_poll(Duration::from_secs(3600));
    let wake = q.handle();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = q.spawn(async move {
        let _ = stopped.await;
    });
    tokio::time::sleep(Duration::from_millis(100)).await; // let it go idle

    let id = store.job_runner().enqueue(mail(1)).await.unwrap().unwrap();
    wake.notify();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.job_runner().job(id).await.unwrap().status != JobStatus::Done {
        assert!(tokio::time::Instant::now() < deadline, "the worker did not run the job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(h.seen(), vec![id]);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), worker).await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_lets_the_job_in_hand_finish() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let h = Recorder::new(Mode::Sleep(Duration::from_millis(300)));
    let id = store.job_runner().enqueue(mail(1)).await.unwrap().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = queue(&store, &h).spawn(async move {
        let _ = stopped.await;
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while h.seen().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the worker did not start the job");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), worker).await.unwrap().unwrap();
    assert_eq!(store.job_runner().job(id).await.unwrap().status, JobStatus::Done);
}
