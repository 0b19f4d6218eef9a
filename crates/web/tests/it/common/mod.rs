//! Test harness: a fresh database per test (SQLite file, or a new PostgreSQL database when
//! `ATRIUM_TEST_DB=postgres`), the real router served on port 0, and a seeded world with two
//! clients and every role.

use std::sync::{Arc, Mutex};

use atrium_core::ids::{
    ApprovalId, ClientId, CommentId, FileId, FolderId, MessageId, MilestoneId, ProjectId, TaskId, UserId,
};
use atrium_core::model::{Channel, Priority, ProjectStatus, Role, TaskStatus, Visibility};
use atrium_core::policy::Actor;
use atrium_mail::Mail;
use atrium_store::Store;
use atrium_store::people::NewUser;
use atrium_store::work::{NewProject, NewTask};
use atrium_web::{AppState, WebConfig};
use sea_orm::ConnectionTrait;

/// The password every seeded user has.
pub const PASSWORD: &str = "plum-harbour-cactus";
/// The public URL the test server believes it has (links must use it, never the Host header).
pub const PUBLIC_URL: &str = "http://portal.test";

/// A fresh database, dropped at the end of the test.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempdir::Dir>,
}

mod tempdir {
    /// A temporary directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn pg_admin_url() -> String {
    std::env::var("ATRIUM_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// Whether this run targets PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("ATRIUM_TEST_DB").is_ok_and(|v| v == "postgres")
}

impl TestDb {
    pub async fn new() -> TestDb {
        if on_postgres() {
            let name = format!("atrium_test_{}", uuid::Uuid::now_v7().simple());
            let admin = sea_orm::Database::connect(format!("{}/postgres", pg_admin_url()))
                .await
                .expect("connect to PostgreSQL");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
            admin.close().await.ok();
            TestDb { url: format!("{}/{name}", pg_admin_url()), pg_name: Some(name), _dir: None }
        } else {
            let dir = std::env::temp_dir().join(format!("atrium-test-{}", uuid::Uuid::now_v7().simple()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.join("atrium.db").display());
            TestDb { url, pg_name: None, _dir: Some(tempdir::Dir(dir)) }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Drop the database from a separate thread with its own runtime (Drop cannot await).
            let url = format!("{}/postgres", pg_admin_url());
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
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

/// A running server on a fresh database.
pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub mails: Arc<Mutex<Vec<Mail>>>,
    pub config: WebConfig,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    db_url: String,
    /// The database this server owns (dropped with it); `None` when it shares another's.
    _db: Option<TestDb>,
}

/// Jobs run inline (at the end of each request); a test that leaves any job queued or running
/// fails when its server is dropped.
impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() || self._db.is_none() {
            return;
        }
        let url = self.db_url.clone();
        let pending = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let store = atrium_store::connect(&url).await.expect("connect");
                let n = store.job_runner().jobs_pending().await.expect("count jobs");
                store.close().await;
                n
            })
        })
        .join()
        .expect("job check");
        assert_eq!(pending, 0, "the test left {pending} background job(s) queued or running");
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut WebConfig)) -> TestApp {
        let db = TestDb::new().await;
        let url = db.url.clone();
        Self::start(&url, Some(db), tweak).await
    }

    /// A second server process on the same database as `other` (a multi-instance deployment).
    pub async fn spawn_beside(other: &TestApp) -> TestApp {
        let url = other._db.as_ref().expect("the first server owns the database").url.clone();
        Self::start(&url, None, |_| {}).await
    }

    /// A server whose mail goes out through SMTP at `smtp_url` (a test sink).
    pub async fn spawn_with_smtp(smtp_url: &str) -> TestApp {
        Self::spawn_with_smtp_and(smtp_url, |_| {}).await
    }

    /// [`TestApp::spawn_with_smtp`] with settings changed by `tweak`.
    pub async fn spawn_with_smtp_and(smtp_url: &str, tweak: impl FnOnce(&mut WebConfig)) -> TestApp {
        let db = TestDb::new().await;
        let url = db.url.clone();
        let mailer = atrium_mail::Mailer::smtp("Atrium <portal@agency.test>", smtp_url).expect("smtp mailer");
        Self::start_with(&url, Some(db), tweak, Some(mailer)).await
    }

    async fn start(url: &str, db: Option<TestDb>, tweak: impl FnOnce(&mut WebConfig)) -> TestApp {
        Self::start_with(url, db, tweak, None).await
    }

    async fn start_with(
        url: &str,
        db: Option<TestDb>,
        tweak: impl FnOnce(&mut WebConfig),
        smtp: Option<atrium_mail::Mailer>,
    ) -> TestApp {
        let store = atrium_store::connect(url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let (memory, mails) = atrium_mail::Mailer::memory("Atrium <portal@agency.test>").expect("mailer");
        let mailer = smtp.unwrap_or(memory);
        let mut config = WebConfig::new(url::Url::parse(PUBLIC_URL).expect("url"));
        config.agency_name = "Northwind Studio".into();
        config.jobs_inline = true;
        // The test binary is not `atrium`: thumbnails are made by the web crate's own worker.
        config.preview_worker = vec![env!("CARGO_BIN_EXE_atrium-preview-worker").into()];
        tweak(&mut config);
        let blobs_dir = std::env::temp_dir().join(format!("atrium-blobs-{}", uuid::Uuid::now_v7().simple()));
        let blobs = atrium_store::blobs::Blobs::local(&blobs_dir).expect("blobs");
        let state = AppState::new(store.clone(), blobs, config.clone(), mailer);
        let app_state = state.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            atrium_web::serve(listener, state, async move {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        TestApp {
            base,
            store,
            mails,
            config,
            state: app_state,
            shutdown: Some(tx),
            handle: Some(handle),
            db_url: url.to_string(),
            _db: db,
        }
    }

    /// Signals shutdown (as SIGTERM would) without waiting for the server to finish.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }

    /// Runs every due background job now (what the inline middleware does after a request).
    pub async fn run_jobs(&self) -> usize {
        self.state.queue().run_pending().await.expect("run jobs")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// All mails sent so far (jobs run inline, so a response means its mail went out).
    pub async fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("mails").clone()
    }

    /// A bearer token for a user (a real session row).
    pub async fn token_for(&self, user: UserId) -> String {
        self.store
            .sign_in()
            .create_session(user, chrono::Duration::days(1), Some("127.0.0.1"), Some("test"))
            .await
            .expect("session")
            .secret
    }

    pub async fn actor(&self, user: UserId) -> Actor {
        self.store.actor(user).await.expect("actor").expect("active")
    }
}

/// An HTTP client that does not follow redirects and keeps cookies.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().expect("client")
}

/// A plain API client.
pub fn api() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// One client company with its people and work.
#[derive(Clone, Debug)]
pub struct ClientSide {
    pub id: ClientId,
    pub name: String,
    pub admin: UserId,
    pub finance: UserId,
    pub viewer: UserId,
    pub project: ProjectId,
    pub project_name: String,
    pub milestone: MilestoneId,
    pub milestone_name: String,
    pub task: TaskId,
    pub task_title: String,
    pub reply: CommentId,
    pub reply_text: String,
    pub note: CommentId,
    pub note_text: String,
    /// The second task (assigned to staff, done).
    pub chore: TaskId,
    pub chore_title: String,
    pub project_description: String,
    /// Names and emails of the client's users.
    pub people: Vec<(String, String)>,
    /// A message in the project's client channel (by the owner).
    pub message: MessageId,
    pub message_text: String,
    /// A message in the project's staff-only channel (by the owner).
    pub staff_message: MessageId,
    pub staff_message_text: String,
    /// A file in the project's top folder (by the owner), and one in a staff-only folder.
    pub file: FileId,
    pub file_name: String,
    pub staff_file: FileId,
    pub staff_file_name: String,
    /// An open approval of `file`, requested by the owner from the client's admin.
    pub approval: ApprovalId,
    /// A sent (unpaid) invoice of the client, by the owner, for `project`.
    pub invoice: atrium_core::ids::InvoiceId,
    /// Its notes and its line's description.
    pub invoice_notes: String,
    pub invoice_line: String,
    /// A markdown page of `project` the client sees, and a staff-only one, with their titles.
    pub page: atrium_core::ids::ProjectPageId,
    pub page_title: String,
    pub staff_page: atrium_core::ids::ProjectPageId,
    pub staff_page_title: String,
    /// A ticket about `project`, asked by the client's admin (opened for them by the owner),
    /// with a staff Reply and a Note.
    pub ticket: atrium_core::ids::TicketId,
    pub ticket_subject: String,
    pub ticket_reply_text: String,
    pub ticket_note_text: String,
    pub ticket_note: atrium_core::ids::TicketCommentId,
}

impl ClientSide {
    /// Every string and id of this client that must never reach a user of another client.
    pub fn secrets(&self) -> Vec<String> {
        let mut v = vec![
            self.name.clone(),
            self.project_name.clone(),
            self.milestone_name.clone(),
            self.milestone.to_string(),
            self.project_description.clone(),
            self.task_title.clone(),
            self.chore_title.clone(),
            self.reply_text.clone(),
            self.note_text.clone(),
            self.id.to_string(),
            self.project.to_string(),
            self.task.to_string(),
            self.chore.to_string(),
            self.reply.to_string(),
            self.note.to_string(),
            self.message.to_string(),
            self.message_text.clone(),
            self.staff_message.to_string(),
            self.staff_message_text.clone(),
            self.file.to_string(),
            self.file_name.clone(),
            self.staff_file.to_string(),
            self.staff_file_name.clone(),
            self.approval.to_string(),
            self.invoice.to_string(),
            self.invoice_notes.clone(),
            self.invoice_line.clone(),
            self.page.to_string(),
            self.page_title.clone(),
            self.staff_page.to_string(),
            self.staff_page_title.clone(),
            self.ticket.to_string(),
            self.ticket_subject.clone(),
            self.ticket_reply_text.clone(),
            self.ticket_note_text.clone(),
            self.ticket_note.to_string(),
            self.admin.to_string(),
            self.finance.to_string(),
            self.viewer.to_string(),
        ];
        for (name, email) in &self.people {
            v.push(name.clone());
            v.push(email.clone());
        }
        v
    }
}

/// Everything seeded.
#[derive(Clone, Debug)]
pub struct World {
    pub owner: UserId,
    pub admin: UserId,
    pub staff: UserId,
    pub a: ClientSide,
    pub b: ClientSide,
}

async fn user(store: &Store, email: &str, name: &str, role: Role, client: Option<ClientId>, hash: &str) -> UserId {
    store
        .operator()
        .create_user(NewUser {
            email: email.into(),
            name: name.into(),
            password_hash: Some(hash.into()),
            role,
            client_id: client,
        })
        .await
        .expect("user")
}

async fn client_side(app: &TestApp, owner: &Actor, staff: UserId, key: &str, hash: &str) -> ClientSide {
    let s = &app.store;
    let name = format!("Client{key} Corp");
    let c = s.create_client(owner, name.clone(), None).await.expect("client");
    let admin =
        user(s, &format!("admin@{key}.test"), &format!("Admin{key} Person"), Role::ClientAdmin, Some(c.id), hash).await;
    let finance =
        user(s, &format!("finance@{key}.test"), &format!("Finance{key} Person"), Role::ClientFinance, Some(c.id), hash)
            .await;
    let viewer =
        user(s, &format!("viewer@{key}.test"), &format!("Viewer{key} Person"), Role::ClientViewer, Some(c.id), hash)
            .await;
    let project_name = format!("Project{key} Secret Launch");
    let p = s
        .create_project(
            owner,
            NewProject {
                client_id: c.id,
                name: project_name.clone(),
                description: format!("About project {key}"),
                status: ProjectStatus::Active,
                start_date: None,
                due_date: None,
            },
            None,
        )
        .await
        .expect("project");
    let milestone_name = format!("Milestone{key} Secret Gate");
    let milestone = s.create_milestone(owner, p.id, milestone_name.clone(), None, None).await.expect("milestone");
    let task_title = format!("Task{key} Review homepage");
    let chore_title = format!("Task{key} Staff only chore");
    let t = s
        .create_task(
            owner,
            p.id,
            NewTask {
                title: task_title.clone(),
                description: String::new(),
                status: TaskStatus::Todo,
                priority: Priority::High,
                due_date: None,
                assignee_id: Some(admin),
                milestone_id: None,
            },
            None,
        )
        .await
        .expect("task");
    let chore = s
        .create_task(
            owner,
            p.id,
            NewTask {
                title: chore_title.clone(),
                description: String::new(),
                status: TaskStatus::Done,
                priority: Priority::Low,
                due_date: None,
                assignee_id: Some(staff),
                milestone_id: None,
            },
            None,
        )
        .await
        .expect("task");
    let reply_text = format!("Reply{key} visible to client");
    let reply = s.create_comment(owner, t.id, reply_text.clone(), Visibility::Reply, None).await.expect("reply");
    let note_text = format!("Note{key} internal margin is thin");
    let note = s.create_comment(owner, t.id, note_text.clone(), Visibility::Note, None).await.expect("note");
    let message_text = format!("Message{key} about the launch date");
    let message = s.create_message(owner, p.id, Channel::Client, message_text.clone(), None).await.expect("message");
    let staff_message_text = format!("StaffMessage{key} budget is tight");
    let staff_message =
        s.create_message(owner, p.id, Channel::Staff, staff_message_text.clone(), None).await.expect("staff message");
    let file_name = format!("File{key} brief.txt");
    let file = upload(app, owner, p.id, None, &file_name, format!("Brief of client {key}").as_bytes()).await;
    let staff_folder = s
        .create_folder(
            owner,
            p.id,
            atrium_store::files::NewFolder { name: "Internal".into(), parent_id: None, staff_only: true },
            None,
        )
        .await
        .expect("folder");
    let staff_file_name = format!("StaffFile{key} margins.txt");
    let staff_file = upload(app, owner, p.id, Some(staff_folder.id), &staff_file_name, b"internal numbers").await;
    let approval = s
        .request_approval(
            owner,
            atrium_store::approvals::NewApproval {
                subject_type: atrium_core::model::ApprovalSubject::File,
                subject_id: file.to_string(),
                approver_ids: vec![admin],
                due_date: None,
            },
            None,
        )
        .await
        .expect("approval")
        .id;
    let invoice_notes = format!("InvoiceNote{key} thanks for the secret launch");
    let invoice_line = format!("InvoiceLine{key} retainer");
    let invoice = s
        .create_invoice(
            owner,
            atrium_store::billing::NewInvoice {
                client_id: c.id,
                project_id: Some(p.id),
                currency: "EUR".into(),
                issue_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).expect("date"),
                due_date: chrono::NaiveDate::from_ymd_opt(2099, 1, 5).expect("date"),
                lines: vec![atrium_core::money::LineInput {
                    description: invoice_line.clone(),
                    quantity: "10".into(),
                    unit_price: "1000.00".into(),
                    tax_rate: "20".into(),
                    discount: String::new(),
                }],
                notes: invoice_notes.clone(),
                payment_instructions: None,
            },
            None,
        )
        .await
        .expect("invoice")
        .id;
    s.send_invoice(owner, invoice, None).await.expect("send invoice");
    let page_of = |title: &str, staff_only: bool| atrium_store::project_pages::NewPage {
        title: title.to_string(),
        kind: atrium_core::project_page::PageKind::Markdown,
        body: format!("Body of {title}"),
        url: None,
        staff_only,
        position: None,
    };
    let page_title = format!("Page{key} Brand book");
    let page = s.create_project_page(owner, p.id, page_of(&page_title, false), None).await.expect("page").id;
    let staff_page_title = format!("StaffPage{key} Pricing notes");
    let staff_page =
        s.create_project_page(owner, p.id, page_of(&staff_page_title, true), None).await.expect("staff page").id;
    s.set_project_team(owner, p.id, vec![staff], None).await.expect("team");
    // Opened by the owner on the admin's behalf: the admin's posting allowance stays whole for
    // the tests that count it.
    let ticket_subject = format!("Ticket{key} Checkout is broken");
    let ticket = s
        .create_ticket(
            owner,
            atrium_store::tickets::NewTicket {
                client_id: Some(c.id),
                requester_id: Some(admin),
                project_id: Some(p.id),
                subject: ticket_subject.clone(),
                body: format!("The checkout of {key} fails"),
                ..Default::default()
            },
            None,
        )
        .await
        .expect("ticket")
        .id;
    let ticket_reply_text = format!("TicketReply{key} we are on it");
    s.create_ticket_comment(owner, ticket, ticket_reply_text.clone(), atrium_core::model::Visibility::Reply, None)
        .await
        .expect("ticket reply");
    let ticket_note_text = format!("TicketNote{key} blame the vendor");
    let ticket_note = s
        .create_ticket_comment(owner, ticket, ticket_note_text.clone(), atrium_core::model::Visibility::Note, None)
        .await
        .expect("ticket note")
        .id;
    ClientSide {
        ticket,
        ticket_subject,
        ticket_reply_text,
        ticket_note_text,
        ticket_note,
        page,
        page_title,
        staff_page,
        staff_page_title,
        invoice,
        invoice_notes,
        invoice_line,
        approval,
        file,
        file_name,
        staff_file,
        staff_file_name,
        message: message.id,
        message_text,
        staff_message: staff_message.id,
        staff_message_text,
        id: c.id,
        name,
        admin,
        finance,
        viewer,
        project: p.id,
        project_name,
        milestone: milestone.id,
        milestone_name,
        task: t.id,
        task_title,
        reply: reply.id,
        reply_text,
        note: note.id,
        note_text,
        chore: chore.id,
        chore_title,
        project_description: format!("About project {key}"),
        people: ["Admin", "Finance", "Viewer"]
            .iter()
            .map(|r| (format!("{r}{key} Person"), format!("{}@{key}.test", r.to_lowercase())))
            .collect(),
    }
}

/// Seeds owner/admin/staff and two clients A and B with every client role, a project, tasks,
/// a reply and a note each.
pub async fn seed(app: &TestApp) -> World {
    let hash = atrium_core::password::hash(PASSWORD).expect("hash");
    let s = &app.store;
    let owner = user(s, "owner@agency.test", "Olivia Owner", Role::Owner, None, &hash).await;
    let admin = user(s, "admin@agency.test", "Adam Admin", Role::Admin, None, &hash).await;
    let staff = user(s, "staff@agency.test", "Sam Staff", Role::Staff, None, &hash).await;
    let owner_actor = app.actor(owner).await;
    let a = client_side(app, &owner_actor, staff, "a", &hash).await;
    let b = client_side(app, &owner_actor, staff, "b", &hash).await;
    // Seeding notifies assignees; send that mail now so each test starts with an empty log.
    app.run_jobs().await;
    app.mails.lock().expect("mails").clear();
    World { owner, admin, staff, a, b }
}

/// Signs in through the HTML form and returns the cookie-carrying client and its CSRF token.
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> (reqwest::Client, String) {
    let c = browser();
    let page = c.get(app.url("/login")).send().await.expect("login page").text().await.expect("body");
    let csrf = csrf_from(&page);
    let res = c
        .post(app.url("/login"))
        .form(&[("_csrf", csrf.as_str()), ("email", email), ("password", password)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303, "sign-in should redirect");
    let home = res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("/").to_string();
    let page = c.get(app.url(&home)).send().await.expect("home").text().await.expect("body");
    let csrf = csrf_from(&page);
    (c, csrf)
}

/// The CSRF token embedded in a page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    if let Some(i) = html.find(marker) {
        let rest = &html[i + marker.len()..];
        return rest[..rest.find('"').unwrap_or(0)].to_string();
    }
    let marker = "data-csrf=\"";
    let i = html.find(marker).expect("csrf token in page");
    let rest = &html[i + marker.len()..];
    rest[..rest.find('"').unwrap_or(0)].to_string()
}

/// Credentials for one request as a browser would send them: the session cookie (when signed
/// in) and the CSRF double-submit cookie, with the matching token to echo.
pub struct BrowserCreds {
    /// The `Cookie` header value.
    pub cookie: String,
    /// The CSRF token to echo: derived from the session when signed in, else the CSRF cookie's.
    pub csrf: String,
    /// The session secret, if signed in.
    pub session: Option<String>,
}

impl TestApp {
    /// Fresh browser credentials: a new session for `user` (none when `None`) and a CSRF cookie.
    pub async fn browser_creds(&self, user: Option<UserId>) -> BrowserCreds {
        let csrf = atrium_core::token::generate().secret;
        let session = match user {
            Some(u) => Some(self.token_for(u).await),
            None => None,
        };
        let mut cookie = format!("{}={csrf}", self.config.csrf_cookie());
        if let Some(s) = &session {
            cookie = format!("{}={s}; {cookie}", self.config.session_cookie());
        }
        // A signed-in browser's token is bound to its session (SEC-IO-6).
        let csrf = session.as_deref().map(atrium_web::csrf::session_token).unwrap_or(csrf);
        BrowserCreds { cookie, csrf, session }
    }

    /// Runs a statement written with `?` placeholders on either backend; returns rows affected.
    pub async fn exec_sql(&self, sql: &str, values: Vec<sea_orm::Value>) -> u64 {
        let db = self.store.connection();
        let stmt = sea_orm::Statement::from_sql_and_values(db.get_database_backend(), pg_placeholders(sql), values);
        db.execute_raw(stmt).await.expect("sql").rows_affected()
    }

    /// Runs a query written with `?` placeholders and returns the named text columns of each row.
    pub async fn query_strings(&self, sql: &str, values: Vec<sea_orm::Value>, cols: &[&str]) -> Vec<Vec<String>> {
        let db = self.store.connection();
        let stmt = sea_orm::Statement::from_sql_and_values(db.get_database_backend(), pg_placeholders(sql), values);
        db.query_all_raw(stmt)
            .await
            .expect("query")
            .iter()
            .map(|r| {
                cols.iter().map(|c| r.try_get::<Option<String>>("", c).expect("column").unwrap_or_default()).collect()
            })
            .collect()
    }
}

/// Rewrites `?` placeholders to `$1, $2, …` when running on PostgreSQL.
fn pg_placeholders(sql: &str) -> String {
    if !on_postgres() {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(ch);
        }
    }
    out
}

/// A response reduced to what the tests look at.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub async fn of(res: reqwest::Response) -> Answer {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap_or_default();
        Answer { status, headers, body }
    }

    /// The `Location` header of a redirect.
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// One API call with a bearer token: the status and the JSON body (`Null` when not JSON).
pub async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = api().request(method, app.url(&format!("/api/v1{path}"))).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let a = Answer::of(req.send().await.expect("request")).await;
    (a.status, a.json())
}

/// Stores `bytes` as a file through the store (as the upload route does).
pub async fn upload(
    app: &TestApp,
    actor: &Actor,
    project: ProjectId,
    folder: Option<FolderId>,
    name: &str,
    bytes: &[u8],
) -> FileId {
    let target = app.store.upload_target(actor, project, folder, u64::MAX).await.expect("target");
    let chunk: Result<bytes::Bytes, std::io::Error> = Ok(bytes::Bytes::copy_from_slice(bytes));
    let stored = app.state.blobs.put_stream(futures_util::stream::iter([chunk]), u64::MAX).await.expect("blob");
    let blob = atrium_store::files::UploadedBlob {
        sha256: stored.sha256,
        size: stored.size,
        content_type: "text/plain".into(),
    };
    app.store.add_upload(actor, &target, name, blob, None).await.expect("upload").id
}

/// A one-line draft invoice of `client` (10 EUR, no tax), created by `owner`.
pub async fn draft_invoice(app: &TestApp, owner: &Actor, client: ClientId) -> atrium_core::ids::InvoiceId {
    let new = atrium_store::billing::NewInvoice {
        client_id: client,
        project_id: None,
        currency: "EUR".into(),
        issue_date: chrono::NaiveDate::from_ymd_opt(2026, 2, 1).expect("date"),
        due_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).expect("date"),
        lines: vec![atrium_core::money::LineInput {
            description: "Control line".into(),
            quantity: "1".into(),
            unit_price: "10".into(),
            tax_rate: "0".into(),
            discount: String::new(),
        }],
        notes: String::new(),
        payment_instructions: None,
    };
    app.store.create_invoice(owner, new, None).await.expect("draft invoice").id
}
