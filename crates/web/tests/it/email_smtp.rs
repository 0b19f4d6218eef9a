//! Mail over real SMTP (a loopback sink): invitations and notifications arrive decoded with
//! public links and unsubscribe headers, notes never mail clients, and undeliverable mail is
//! retried (temporary failure) or parked as a failed job an owner can retry (permanent failure).

use std::time::Duration;

use crate::common::*;
use atrium_mail::sink::{Received, SmtpSink};
use atrium_store::entity::job;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

async fn setup() -> (SmtpSink, TestApp, World) {
    let sink = SmtpSink::start().await.expect("sink");
    let app = TestApp::spawn_with_smtp(&sink.url()).await;
    let w = seed(&app).await;
    (sink, app, w)
}

async fn invite(app: &TestApp, token: &str, email: &str, client: &ClientSide) -> u16 {
    let body = json!({"email": email, "name": "Nina Newcomer", "role": "client_viewer", "client_id": client.id});
    let (s, v) = call(app, token, "POST", "/invitations", Some(body)).await;
    assert!(s == 201, "{s} {v}");
    s
}

fn to(m: &Received, addr: &str) -> bool {
    m.to.iter().any(|t| t.eq_ignore_ascii_case(addr))
}

/// The mail jobs, newest first.
async fn mail_jobs(app: &TestApp) -> Vec<job::Model> {
    job::Entity::find()
        .filter(job::Column::Kind.eq("mail"))
        .order_by_desc(job::Column::CreatedAt)
        .order_by_desc(job::Column::Id)
        .all(app.store.connection())
        .await
        .expect("jobs")
}

#[tokio::test]
async fn notification_mail_carries_message_id_threading_headers_and_a_signed_reply_to() {
    // Issue 14 part 7, SEC-INT-1: mail clients thread a task's notifications, and a reply
    // goes to an address whose token names the recipient and the thread.
    use atrium_mail::inbound::InboundAddress;
    use atrium_store::mail_in::TOKEN_LEN;
    use atrium_web::mail_in::{MailIn, Outcome};
    let sink = SmtpSink::start().await.expect("sink");
    let app = TestApp::spawn_with_smtp_and(&sink.url(), |c| {
        c.inbound = Some(InboundAddress::parse("support@portal.example", TOKEN_LEN).expect("inbound"));
    })
    .await;
    let w = seed(&app).await;
    let before = sink.received().len();
    let staff = app.token_for(w.staff).await;
    for text in ["@[Admina Person] is the copy final?", "@[Admina Person] and the images?"] {
        let body = json!({ "body": text });
        let (s, v) = call(&app, &staff, "POST", &format!("/tasks/{}/comments", w.a.chore), Some(body)).await;
        assert_eq!(s, 201, "{v}");
    }
    let got = sink.wait_for(before + 4, WAIT).await;
    let to_admin: Vec<&Received> = got[before..].iter().filter(|m| to(m, "admin@a.test")).collect();
    assert_eq!(to_admin.len(), 2);
    let thread = format!("<task-{}@portal.test>", w.a.chore.0.simple());
    let mut ids = std::collections::HashSet::new();
    for m in &to_admin {
        let id = m.header("Message-ID").expect("Message-ID");
        assert!(id.starts_with('<') && id.ends_with("@portal.test>"), "{id}");
        assert!(ids.insert(id.to_string()), "Message-IDs are unique");
        assert_eq!(m.header("In-Reply-To"), Some(thread.as_str()), "{}", m.raw);
        assert_eq!(m.header("References"), Some(thread.as_str()));
    }
    // The same recipient and thread: the same reply address, lower case, within 64 octets.
    let reply_to = to_admin[0].header("Reply-To").expect("Reply-To").to_string();
    assert_eq!(to_admin[1].header("Reply-To"), Some(reply_to.as_str()));
    let (local, domain) = reply_to.split_once('@').unwrap();
    assert_eq!(domain, "portal.example");
    assert!(local.starts_with("support+") && local.len() <= 64, "{local}");
    assert_eq!(reply_to, reply_to.to_lowercase());
    // Another recipient of the same thread gets another token.
    let to_owner = got[before..].iter().find(|m| to(m, "owner@agency.test")).expect("mail to the owner");
    assert_ne!(to_owner.header("Reply-To"), Some(reply_to.as_str()));
    // Replying to it posts a Reply by A's admin on that task.
    let handler = MailIn::new(app.store.clone(), app.state.blobs.clone(), std::sync::Arc::new(app.config.clone()));
    let reply = format!(
        "From: admin@a.test\r\nTo: {reply_to}\r\nSubject: Re: {}\r\nIn-Reply-To: {}\r\n\r\nYes, final.\r\n",
        to_admin[0].subject,
        to_admin[0].header("Message-ID").unwrap()
    );
    let outcome = handler.expect("inbound").deliver(reply.as_bytes()).await.expect("deliver");
    assert!(matches!(outcome, Outcome::Comment(..)), "{outcome:?}");
    app.run_jobs().await;
    // Mail about no thread (an invitation) has a Message-ID but no threading or Reply-To.
    let before = sink.received().len();
    let owner = app.token_for(w.owner).await;
    invite(&app, &owner, "nina@a.test", &w.a).await;
    let got = sink.wait_for(before + 1, WAIT).await;
    let inv = got[before..].iter().find(|m| to(m, "nina@a.test")).expect("invitation");
    assert!(inv.header("Message-ID").is_some_and(|id| id.ends_with("@portal.test>")));
    assert!(inv.header("In-Reply-To").is_none() && inv.header("Reply-To").is_none());
    app.stop().await;
}

#[tokio::test]
async fn an_invitation_arrives_with_a_public_link() {
    let (sink, app, w) = setup().await;
    // Seeding's assignment mails went out through the sink too; start counting from here.
    let before = sink.received().len();
    let owner = app.token_for(w.owner).await;
    invite(&app, &owner, "nina@a.test", &w.a).await;
    let got = sink.wait_for(before + 1, WAIT).await;
    let new: Vec<&Received> = got[before..].iter().collect();
    assert_eq!(new.len(), 1);
    let m = new[0];
    assert_eq!(m.to, vec!["nina@a.test".to_string()]);
    assert!(m.from.contains("portal@agency.test"), "{}", m.from);
    assert!(m.text.contains("http://portal.test/invite/"), "decoded text: {}", m.text);
    let token_link = m.text.lines().find(|l| l.contains("http://portal.test/invite/")).unwrap().trim();
    assert!(token_link.len() > "http://portal.test/invite/".len() + 20, "{token_link}");
    assert!(!m.text.contains("127.0.0.1"), "links never use the server's own address");
    app.stop().await;
}

#[tokio::test]
async fn a_mention_mails_the_client_with_link_and_unsubscribe_header() {
    let (sink, app, w) = setup().await;
    let before = sink.received().len();
    let staff = app.token_for(w.staff).await;
    let (s, v) = call(
        &app,
        &staff,
        "POST",
        &format!("/tasks/{}/comments", w.a.chore),
        Some(json!({"body": "@[Admina Person] is the copy final?"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    // The mention (to A's admin) and the reply notice (to the owner, who created the chore).
    let got = sink.wait_for(before + 2, WAIT).await;
    let m = got[before..].iter().find(|m| to(m, "admin@a.test")).expect("mail to admin@a.test");
    assert!(m.text.contains(&format!("http://portal.test/portal/tasks/{}", w.a.chore)), "{}", m.text);
    let unsub = m.header("List-Unsubscribe").expect("List-Unsubscribe header");
    assert!(unsub.contains(&format!("http://portal.test/unsubscribe/{}/mention/", w.a.admin)), "{unsub}");
    assert!(m.header("List-Unsubscribe-Post").is_some_and(|v| v.contains("One-Click")));
    assert_eq!(m.to.len(), 1, "one recipient per mail, nobody else's address");
    app.stop().await;
}

#[tokio::test]
async fn a_staff_note_sends_no_mail_to_any_client() {
    let (sink, app, w) = setup().await;
    let before = sink.received().len();
    let staff = app.token_for(w.staff).await;
    // A's task is assigned to A's admin and was created by the owner.
    let (s, v) = call(
        &app,
        &staff,
        "POST",
        &format!("/tasks/{}/comments", w.a.task),
        Some(json!({"body": "Internal: margin is thin", "visibility": "note"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    // The owner (the task's creator) is told about the note: proof that mail does flow.
    let got = sink.wait_for(before + 1, WAIT).await;
    assert!(got[before..].iter().any(|m| to(m, "owner@agency.test")), "the staff creator hears of the note");
    // Give any stray mail time to arrive, then look at every recipient.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all: Vec<String> = sink.received()[before..].iter().flat_map(|m| m.to.clone()).collect();
    assert!(all.iter().all(|r| r.ends_with("@agency.test")), "only staff: {all:?}");
    assert!(app.store.job_runner().jobs_pending().await.unwrap() == 0);
    app.stop().await;
}

#[tokio::test]
async fn a_temporary_smtp_failure_is_retried_later() {
    let (sink, app, w) = setup().await;
    let before = sink.received().len();
    let owner = app.token_for(w.owner).await;
    sink.set_failing(Some(451));
    invite(&app, &owner, "late@a.test", &w.a).await;
    let jobs = mail_jobs(&app).await;
    let j = &jobs[0];
    assert_eq!(j.status, "queued", "a 451 is retried: {j:?}");
    assert_eq!(j.attempts, 1);
    assert!(j.run_at > chrono::Utc::now(), "with back-off: {}", j.run_at);
    assert!(j.last_error.as_deref().unwrap_or("").contains("451"), "{:?}", j.last_error);
    assert_eq!(sink.received().len(), before, "nothing was accepted");
    assert_eq!(app.run_jobs().await, 0, "not due yet");

    sink.set_failing(None);
    let mut am: job::ActiveModel = j.clone().into();
    am.run_at = Set(chrono::Utc::now());
    am.update(app.store.connection()).await.expect("force due");
    assert_eq!(app.run_jobs().await, 1);
    let got = sink.wait_for(before + 1, WAIT).await;
    assert!(got[before..].iter().any(|m| to(m, "late@a.test") && m.text.contains("http://portal.test/invite/")));
    let done = app.store.job_runner().job(j.id.into()).await.unwrap();
    assert_eq!(done.status, atrium_store::jobs::JobStatus::Done);
    assert_eq!(done.attempts, 2);
    app.stop().await;
}

#[tokio::test]
async fn a_permanent_smtp_failure_is_parked_for_an_owner_to_retry() {
    let (sink, app, w) = setup().await;
    let before = sink.received().len();
    let owner = app.token_for(w.owner).await;
    sink.set_failing(Some(550));
    invite(&app, &owner, "bounce@a.test", &w.a).await;
    let j = mail_jobs(&app).await.remove(0);
    assert_eq!(j.status, "failed", "a 550 is not retried: {j:?}");
    assert_eq!(j.attempts, 1);

    let (s, list) = call(&app, &owner, "GET", "/jobs/failed", None).await;
    assert_eq!(s, 200, "{list}");
    let items = list["items"].as_array().unwrap();
    let listed = items.iter().find(|i| i["id"] == j.id.to_string()).expect("the failed job is listed");
    assert_eq!(listed["kind"], "mail");
    assert!(listed["last_error"].as_str().unwrap_or("").contains("550"), "{listed}");
    assert!(!list.to_string().contains("bounce@a.test"), "the list shows no payload: {list}");
    // Not for client users or staff below admin.
    for u in [w.a.admin, w.staff] {
        let t = app.token_for(u).await;
        let (s, _) = call(&app, &t, "GET", "/jobs/failed", None).await;
        assert!(s == 403 || s == 404, "{s}");
        let (s, _) = call(&app, &t, "POST", &format!("/jobs/{}/retry", j.id), None).await;
        assert!(s == 403 || s == 404, "{s}");
    }
    assert_eq!(app.store.job_runner().job(j.id.into()).await.unwrap().status, atrium_store::jobs::JobStatus::Failed);

    // Once the server accepts mail again, the owner retries it and it is delivered.
    sink.set_failing(None);
    let (s, v) = call(&app, &owner, "POST", &format!("/jobs/{}/retry", j.id), None).await;
    assert_eq!(s, 204, "{v}");
    let got = sink.wait_for(before + 1, WAIT).await;
    assert!(got[before..].iter().any(|m| to(m, "bounce@a.test")), "delivered after the retry");
    let done = app.store.job_runner().job(j.id.into()).await.unwrap();
    assert_eq!(done.status, atrium_store::jobs::JobStatus::Done);
    let (_, list) = call(&app, &owner, "GET", "/jobs/failed", None).await;
    assert!(!list.to_string().contains(&j.id.to_string()), "no longer failed");
    // Retrying a job that has not failed is 404.
    let (s, _) = call(&app, &owner, "POST", &format!("/jobs/{}/retry", j.id), None).await;
    assert_eq!(s, 404);
    app.stop().await;
}
