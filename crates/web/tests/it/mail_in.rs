//! Mail in (issue 14, part 7; SEC-INT-1, SEC-INT-2): replies by mail become Replies by their
//! sender on the thread their signed address names, through the same function `atrium mail-in`
//! calls (its exit codes are proven in `crates/atrium/tests/mail_in_cli.rs`), and through the
//! IMAP poller against a real Dovecot (`ATRIUM_TEST_IMAP_URL`, set by `.ci/run`).

use std::sync::Arc;

use atrium_core::ids::{TaskId, UserId};
use atrium_core::model::{Channel, Visibility};
use atrium_core::portal::PortalPage;
use atrium_mail::inbound::InboundAddress;
use atrium_store::mail_in::{HoldReason, TOKEN_LEN, Thread};
use atrium_store::paging::PageRequest;
use atrium_web::mail_in::{MailIn, Outcome};

use crate::common::*;

const INBOUND: &str = "support@portal.example";
/// The upload limit of these tests: attachments above it are dropped.
const MAX_UPLOAD: u64 = 4096;

async fn app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.inbound = Some(InboundAddress::parse(INBOUND, TOKEN_LEN).expect("inbound"));
        c.max_upload = MAX_UPLOAD;
    })
    .await
}

fn handler(app: &TestApp) -> MailIn {
    MailIn::new(app.store.clone(), app.state.blobs.clone(), Arc::new(app.config.clone())).expect("inbound set")
}

async fn reply_address(app: &TestApp, user: UserId, thread: Thread) -> String {
    let token = app.store.job_runner().reply_token(user, thread).await.expect("token");
    format!("support+{token}@portal.example")
}

/// A plain-text mail.
fn mail(from: &str, to: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    let id = uuid::Uuid::now_v7().simple();
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Re: your task\r\nMessage-ID: <{id}@client.example>\r\n\
         Return-Path: <{from}>\r\n{extra_headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
        body.replace('\n', "\r\n")
    )
    .into_bytes()
}

const QUOTED: &str = "Yes, the new hero image works for us.\n\nBest,\nAnn\n-- \nAnn Admin | ClientA Corp\n+1 555 0100\n\nOn Tue, Dec 1, 2026 at 9:00 AM Northwind Studio <portal@agency.test> wrote:\n> New comment on TaskA Review homepage\n> Open the task";

async fn comments(app: &TestApp, w: &World, task: TaskId) -> Vec<atrium_core::model::Comment> {
    let owner = app.actor(w.owner).await;
    app.store.comments(&owner.work_scope(), task).await.expect("comments")
}

async fn held(app: &TestApp, w: &World) -> Vec<atrium_store::mail_in::HeldMail> {
    let owner = app.actor(w.owner).await;
    app.store.held_mails(&owner).await.expect("held")
}

#[tokio::test]
async fn a_reply_with_quoted_history_and_a_signature_becomes_a_reply_by_its_sender() {
    // SEC-INT-1, SEC-INT-2: the token names the recipient and thread; the post is theirs, a Reply.
    let app = app().await;
    let w = seed(&app).await;
    let h = handler(&app);
    let to = reply_address(&app, w.a.admin, Thread::Task(w.a.task)).await;
    let before = comments(&app, &w, w.a.task).await.len();
    let raw = mail("Admin A <ADMIN@a.test>", &to, "", QUOTED);
    let Outcome::Comment(id, files) = h.deliver(&raw).await.expect("deliver") else { panic!("not posted") };
    assert!(files.is_empty());
    let all = comments(&app, &w, w.a.task).await;
    assert_eq!(all.len(), before + 1);
    let c = all.iter().find(|c| c.id == id).expect("the comment");
    assert_eq!(c.body, "Yes, the new hero image works for us.\n\nBest,\nAnn");
    assert_eq!((c.visibility, c.author_id), (Visibility::Reply, w.a.admin));
    // The same message again (an MTA retry, an IMAP re-poll) is not posted twice.
    assert_eq!(h.deliver(&raw).await.expect("again"), Outcome::Duplicate);
    assert_eq!(comments(&app, &w, w.a.task).await.len(), before + 1);
    app.run_jobs().await;
}

#[tokio::test]
async fn staff_replying_by_mail_make_a_reply_never_a_note() {
    let app = app().await;
    let w = seed(&app).await;
    let to = reply_address(&app, w.staff, Thread::Task(w.a.task)).await;
    let staff_email = app.actor(w.staff).await.email().to_string();
    let Outcome::Comment(id, _) = handler(&app).deliver(&mail(&staff_email, &to, "", "On it.")).await.unwrap() else {
        panic!("not posted")
    };
    let c = comments(&app, &w, w.a.task).await.into_iter().find(|c| c.id == id).unwrap();
    assert_eq!(c.visibility, Visibility::Reply);
    app.run_jobs().await;
}

#[tokio::test]
async fn an_html_only_reply_is_posted_as_safe_text() {
    let app = app().await;
    let w = seed(&app).await;
    let to = reply_address(&app, w.a.admin, Thread::Conversation(w.a.project, Channel::Client)).await;
    let id = uuid::Uuid::now_v7().simple();
    let raw = format!(
        "From: admin@a.test\r\nTo: {to}\r\nSubject: Re: hi\r\nMessage-ID: <{id}@a.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{{color:red}}</style></head><body>\
         <p>Thanks, <b>approved</b> &amp; signed.</p><script>alert(1)</script><img src=x onerror=alert(2)></body></html>"
    );
    let Outcome::Message(mid, _) = handler(&app).deliver(raw.as_bytes()).await.unwrap() else { panic!("not posted") };
    let admin = app.actor(w.a.admin).await;
    let m = app.store.message(&admin, mid).await.expect("message");
    assert!(m.body.contains("Thanks, approved & signed."), "{}", m.body);
    for bad in ["<", "alert", "color:red", "onerror"] {
        assert!(!m.body.contains(bad), "{bad}: {}", m.body);
    }
    for bad in ["<script", "<img", "alert", "onerror", "<style"] {
        assert!(!m.body_html.contains(bad), "{bad}: {}", m.body_html);
    }
    app.run_jobs().await;
}

#[tokio::test]
async fn a_forged_sender_with_a_valid_token_is_held_and_never_posted() {
    // SEC-INT-1: someone who saw the address is not its owner.
    let app = app().await;
    let w = seed(&app).await;
    let to = reply_address(&app, w.a.admin, Thread::Task(w.a.task)).await;
    let before = comments(&app, &w, w.a.task).await.len();
    let forged = mail("mallory@evil.example", &to, "", "Please send the invoice to my account.");
    assert_eq!(handler(&app).deliver(&forged).await.unwrap(), Outcome::Held(HoldReason::WrongSender));
    // From the right address but with another Sender: held too.
    let relayed = mail("admin@a.test", &to, "Sender: mallory@evil.example\r\n", "Hi");
    assert_eq!(handler(&app).deliver(&relayed).await.unwrap(), Outcome::Held(HoldReason::WrongSender));
    // Another client's user with A's token: held.
    let other = mail("admin@b.test", &to, "", "Hi");
    assert_eq!(handler(&app).deliver(&other).await.unwrap(), Outcome::Held(HoldReason::WrongSender));
    assert_eq!(comments(&app, &w, w.a.task).await.len(), before);
    let h = held(&app, &w).await;
    assert_eq!(h.len(), 3);
    assert!(h.iter().any(|m| m.from == "mallory@evil.example" && m.excerpt.contains("invoice")));
}

#[tokio::test]
async fn a_tampered_token_is_dropped_not_held() {
    let app = app().await;
    let w = seed(&app).await;
    let to = reply_address(&app, w.a.admin, Thread::Task(w.a.task)).await;
    let token = to.trim_start_matches("support+").trim_end_matches("@portal.example").to_string();
    let flip = |i: usize| {
        let mut t: Vec<char> = token.chars().collect();
        t[i] = if t[i] == '0' { '1' } else { '0' };
        format!("support+{}@portal.example", t.into_iter().collect::<String>())
    };
    let before = comments(&app, &w, w.a.task).await.len();
    for tampered in [flip(0), flip(TOKEN_LEN - 1), "support+deadbeef@portal.example".to_string()] {
        let raw = mail("admin@a.test", &tampered, "", "Hi");
        assert_eq!(handler(&app).deliver(&raw).await.unwrap(), Outcome::Dropped("bad token"), "{tampered}");
    }
    assert_eq!(comments(&app, &w, w.a.task).await.len(), before);
    assert!(held(&app, &w).await.is_empty());
}

#[tokio::test]
async fn auto_replies_and_bounces_are_dropped_so_no_loop_can_form() {
    let app = app().await;
    let w = seed(&app).await;
    let to = reply_address(&app, w.a.admin, Thread::Task(w.a.task)).await;
    let before = comments(&app, &w, w.a.task).await.len();
    let auto = mail("admin@a.test", &to, "Auto-Submitted: auto-replied\r\n", "I am out of office.");
    assert_eq!(handler(&app).deliver(&auto).await.unwrap(), Outcome::Dropped("auto-submitted"));
    let away = mail("admin@a.test", &to, "X-Autoreply: yes\r\n", "Away.");
    assert_eq!(handler(&app).deliver(&away).await.unwrap(), Outcome::Dropped("x-autoreply"));
    let bounce = bounce_to(&to);
    assert!(matches!(handler(&app).deliver(&bounce).await.unwrap(), Outcome::Dropped(_)));
    assert_eq!(comments(&app, &w, w.a.task).await.len(), before);
    assert!(held(&app, &w).await.is_empty(), "nothing that could loop is held");
    assert!(app.mails().await.is_empty(), "nothing is answered");
}

fn bounce_to(to: &str) -> Vec<u8> {
    let id = uuid::Uuid::now_v7().simple();
    format!(
        "From: MAILER-DAEMON@a.test\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <{id}@a.test>\r\nReturn-Path: <>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
         --r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n\
         Status: 5.1.1\r\n--r--\r\n"
    )
    .into_bytes()
}

fn with_attachments(from: &str, to: &str, text: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    use base64::Engine;
    let id = uuid::Uuid::now_v7().simple();
    let mut out = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: files\r\nMessage-ID: <{id}@a.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n{text}\r\n"
    );
    for (name, bytes) in files {
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        out.push_str(&format!(
            "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n"
        ));
    }
    out.push_str("--b--\r\n");
    out.into_bytes()
}

#[tokio::test]
async fn attachments_become_files_and_one_over_the_limit_is_dropped() {
    let app = app().await;
    let w = seed(&app).await;
    let to = reply_address(&app, w.a.admin, Thread::Task(w.a.task)).await;
    let big = vec![b'x'; MAX_UPLOAD as usize + 1];
    let raw = with_attachments(
        "admin@a.test",
        &to,
        "Both files attached.",
        &[("notes.txt", b"the small one"), ("huge.bin", &big)],
    );
    let Outcome::Comment(_, files) = handler(&app).deliver(&raw).await.unwrap() else { panic!("not posted") };
    assert_eq!(files.len(), 1, "the small file is stored, the big one dropped");
    let admin = app.actor(w.a.admin).await;
    let f = app.store.file(&admin, files[0]).await.expect("file");
    assert_eq!((f.name.as_str(), f.project_id, f.size), ("notes.txt", w.a.project, 13));
    // A viewer may not upload (or comment): nothing of theirs is posted; the mail is held.
    let to = reply_address(&app, w.a.viewer, Thread::Task(w.a.task)).await;
    let raw = with_attachments("viewer@a.test", &to, "Mine.", &[("v.txt", b"viewer")]);
    assert_eq!(handler(&app).deliver(&raw).await.unwrap(), Outcome::Held(HoldReason::NotPlaced));
    app.run_jobs().await;
}

#[tokio::test]
async fn a_reply_to_a_thread_hidden_since_is_held_not_posted() {
    // SEC-INT-2: the thread became invisible to the client (their Messages page was hidden).
    let app = app().await;
    let w = seed(&app).await;
    let to = reply_address(&app, w.a.admin, Thread::Conversation(w.a.project, Channel::Client)).await;
    let owner = app.actor(w.owner).await;
    let change = atrium_store::portal::PortalChange {
        pages: vec![(PortalPage::Messages, false)],
        welcome_text: None,
        quick_actions: None,
        scheduling_url: None,
    };
    app.store.set_client_portal(&owner, w.a.id, change, None).await.expect("hide messages");
    let raw = mail("admin@a.test", &to, "", "Still there?");
    assert_eq!(handler(&app).deliver(&raw).await.unwrap(), Outcome::Held(HoldReason::NotPlaced));
    let staff_view = app.store.messages(&owner, w.a.project, Channel::Client, PageRequest::all()).await.unwrap();
    assert!(staff_view.items.iter().all(|m| !m.body.contains("Still there?")));
    // A forged staff-channel key for a client user: the store refuses it as well.
    let to = reply_address(&app, w.a.admin, Thread::Conversation(w.a.project, Channel::Staff)).await;
    let raw = mail("admin@a.test", &to, "", "Let me in");
    assert_eq!(handler(&app).deliver(&raw).await.unwrap(), Outcome::Held(HoldReason::NotPlaced));
    // A project of another client, by token: 404 in the store, held.
    let to = reply_address(&app, w.a.admin, Thread::Task(w.b.task)).await;
    let raw = mail("admin@a.test", &to, "", "Other client");
    assert_eq!(handler(&app).deliver(&raw).await.unwrap(), Outcome::Held(HoldReason::NotPlaced));
}

#[tokio::test]
async fn a_deactivated_user_or_a_deleted_client_posts_nothing() {
    let app = app().await;
    let w = seed(&app).await;
    let to = reply_address(&app, w.a.admin, Thread::Task(w.a.task)).await;
    let owner = app.actor(w.owner).await;
    app.store.set_user_active(&owner, w.a.admin, false, None).await.expect("deactivate");
    let raw = mail("admin@a.test", &to, "", "Hello?");
    assert_eq!(handler(&app).deliver(&raw).await.unwrap(), Outcome::Held(HoldReason::NoAccess));
    let to = reply_address(&app, w.b.admin, Thread::Task(w.b.task)).await;
    app.store.delete_client(&owner, w.b.id, None).await.expect("delete client");
    let raw = mail("admin@b.test", &to, "", "Hello?");
    assert_eq!(handler(&app).deliver(&raw).await.unwrap(), Outcome::Held(HoldReason::NoAccess));
}

#[tokio::test]
async fn mail_to_the_bare_address_opens_a_ticket_or_is_held_for_staff() {
    // A known client user opens a ticket (the mail's subject and text); a viewer, who may not
    // open tickets, and a stranger are held for staff.
    let app = app().await;
    let w = seed(&app).await;
    let known = mail("admin@a.test", INBOUND, "", "Our site is down!");
    let Outcome::Ticket(id) = handler(&app).deliver(&known).await.unwrap() else { panic!("a ticket") };
    let admin = app.actor(w.a.admin).await;
    let t = app.store.ticket(&admin.ticket_scope(), id).await.unwrap();
    assert_eq!(
        (t.subject.as_str(), t.body.as_str(), t.requester_id),
        ("Re: your task", "Our site is down!", w.a.admin)
    );
    let viewer = mail("viewer@a.test", INBOUND, "", "Can I ask too?");
    assert_eq!(handler(&app).deliver(&viewer).await.unwrap(), Outcome::Held(HoldReason::NoTicket));
    let unknown = mail("stranger@nowhere.example", "Support <SUPPORT@portal.example>", "", "Do you do logos?");
    assert_eq!(handler(&app).deliver(&unknown).await.unwrap(), Outcome::Held(HoldReason::UnknownSender));
    let h = held(&app, &w).await;
    assert_eq!(h.len(), 2);
    assert!(h.iter().any(|m| m.reason == HoldReason::NoTicket && m.excerpt == "Can I ask too?"));
    assert!(h.iter().any(|m| m.reason == HoldReason::UnknownSender && m.excerpt == "Do you do logos?"));
    // Addressed elsewhere: not ours (atrium mail-in exits 67).
    let elsewhere = mail("admin@a.test", "someone@else.example", "", "x");
    assert_eq!(handler(&app).deliver(&elsewhere).await.unwrap(), Outcome::UnknownRecipient);
    // Staff see the held mail and discard it.
    let (cookie_client, _) = sign_in(&app, "owner@agency.test", PASSWORD).await;
    let page = cookie_client.get(app.url("/staff/held-mail")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("stranger@nowhere.example") && page.contains("Unknown sender"), "{page}");
    let owner = app.actor(w.owner).await;
    for m in &h {
        assert!(app.store.discard_held_mail(&owner, m.id, None).await.unwrap());
    }
    assert!(held(&app, &w).await.is_empty());
    let client = app.actor(w.a.admin).await;
    assert!(app.store.held_mails(&client).await.is_err(), "client users never see held mail");
}

#[tokio::test]
async fn a_reply_to_a_ticket_mail_is_a_reply_on_the_ticket_and_reopens_it() {
    let app = app().await;
    let w = seed(&app).await;
    let owner = app.actor(w.owner).await;
    let solve = atrium_store::tickets::TicketPatch {
        status: Some(atrium_core::helpdesk::TicketStatus::Solved),
        ..Default::default()
    };
    app.store.update_ticket(&owner, w.a.ticket, solve, None).await.unwrap();
    let to = reply_address(&app, w.a.admin, Thread::Ticket(w.a.ticket)).await;
    let raw = mail("admin@a.test", &to, "", QUOTED);
    assert!(matches!(handler(&app).deliver(&raw).await.unwrap(), Outcome::TicketComment(..)));
    let admin = app.actor(w.a.admin).await;
    let cs = app.store.ticket_comments(&admin.ticket_scope(), w.a.ticket).await.unwrap();
    let last = cs.last().unwrap();
    assert!(
        last.body.starts_with("Yes, the new hero image works for us.") && !last.body.contains("wrote:"),
        "{}",
        last.body
    );
    assert_eq!((last.author_id, last.visibility), (w.a.admin, Visibility::Reply));
    let t = app.store.ticket(&admin.ticket_scope(), w.a.ticket).await.unwrap();
    assert_eq!(t.status, atrium_core::helpdesk::TicketStatus::Open, "a client's reply reopens a solved ticket");
    // A ticket the sender no longer sees (the help desk hidden for the client) takes nothing.
    let hide = serde_json::json!({"pages": {"helpdesk": false}});
    let staff = app.token_for(w.owner).await;
    let (s, _) = call(&app, &staff, "PATCH", &format!("/clients/{}/portal", w.a.id), Some(hide)).await;
    assert_eq!(s, 200);
    let raw = mail("admin@a.test", &to, "", "Still there?");
    assert_eq!(handler(&app).deliver(&raw).await.unwrap(), Outcome::Held(HoldReason::NotPlaced));
}
