//! Mail in through IMAP against a real Dovecot (`.ci/dovecot-up`, which `.ci/run` always
//! starts): the issue's cases are appended to the mailbox with IMAP APPEND, one pass of the
//! poller (`imap::poll_once`) handles them, and what Atrium posted, held and dropped is
//! checked, as are the `\Seen` flags (a second pass handles nothing).

use std::sync::Arc;

use atrium_core::model::{Channel, Visibility};
use atrium_mail::inbound::InboundAddress;
use atrium_store::mail_in::{HoldReason, TOKEN_LEN, Thread};
use atrium_web::mail_in::imap::{self, ImapUrl};
use atrium_web::mail_in::{MailIn, Outcome};
use futures_util::TryStreamExt;

use crate::common::*;

/// The Dovecot of `.ci/dovecot-up`; `None` (with a loud message) where it is not running.
fn imap_url() -> Option<ImapUrl> {
    match std::env::var("ATRIUM_TEST_IMAP_URL") {
        Ok(u) => Some(ImapUrl::parse(&u).expect("ATRIUM_TEST_IMAP_URL")),
        Err(_) => {
            assert!(std::env::var_os("CI").is_none(), "CI must set ATRIUM_TEST_IMAP_URL (.ci/run starts Dovecot)");
            eprintln!(
                "\n*** SKIPPED: the IMAP mail-in test needs a Dovecot; run `eval \"$(.ci/dovecot-up)\"` first ***\n"
            );
            None
        }
    }
}

fn msg(from: &str, to: &str, headers: &str, body: &str) -> Vec<u8> {
    let id = uuid::Uuid::now_v7().simple();
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Re: notification\r\nMessage-ID: <{id}@imap.test>\r\n\
         Return-Path: <{from}>\r\n{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        body.replace('\n', "\r\n")
    )
    .into_bytes()
}

#[tokio::test]
async fn the_issues_cases_through_a_real_imap_mailbox() {
    let Some(url) = imap_url() else { return };
    let app = TestApp::spawn_with(|c| {
        c.inbound = Some(InboundAddress::parse("support@portal.example", TOKEN_LEN).expect("inbound"));
        c.max_upload = 4096;
    })
    .await;
    let w = seed(&app).await;
    let handler = MailIn::new(app.store.clone(), app.state.blobs.clone(), Arc::new(app.config.clone())).unwrap();
    let token = |user, thread| {
        let store = app.store.clone();
        async move {
            let t = store.job_runner().reply_token(user, thread).await.expect("token");
            format!("support+{t}@portal.example")
        }
    };
    let task = token(w.a.admin, Thread::Task(w.a.task)).await;
    let conv = token(w.a.admin, Thread::Conversation(w.a.project, Channel::Client)).await;
    let mut tampered = task.clone();
    tampered.replace_range(8..9, if &task[8..9] == "0" { "1" } else { "0" });
    let html = format!(
        "From: admin@a.test\r\nTo: {conv}\r\nSubject: Re: x\r\nMessage-ID: <{}@imap.test>\r\nContent-Type: text/html\r\n\r\n\
         <p>Looks <i>great</i></p><script>alert(1)</script>\r\n",
        uuid::Uuid::now_v7().simple()
    )
    .into_bytes();
    let big = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; 5000]);
        format!(
            "From: admin@a.test\r\nTo: {task}\r\nSubject: big\r\nMessage-ID: <{}@imap.test>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nWith a big file\r\n\
             --b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"big.bin\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n",
            uuid::Uuid::now_v7().simple()
        )
        .into_bytes()
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (msg("admin@a.test", &task, "", "Approved.\n\nOn Mon, Portal wrote:\n> old\n-- \nAnn"), "quoted"),
        (html, "html"),
        (msg("mallory@evil.example", &task, "", "forged"), "forged"),
        (msg("admin@a.test", &tampered, "", "tampered"), "tampered"),
        (msg("admin@a.test", &task, "Auto-Submitted: auto-replied\r\n", "away"), "auto-reply"),
        (msg("MAILER-DAEMON@a.test", &task, "", "bounce").replace_return_path(), "bounce"),
        (big, "big attachment"),
        (msg("admin@a.test", "support@portal.example", "", "New request"), "known to bare"),
        (msg("stranger@nowhere.example", "support@portal.example", "", "Hello"), "unknown to bare"),
    ];
    // A clean mailbox, then the cases.
    let mut session = imap::connect(&url).await.expect("connect to Dovecot");
    let old: Vec<_> = session.uid_search("ALL").await.unwrap().into_iter().collect();
    if !old.is_empty() {
        let set = old.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let _: Vec<_> =
            session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await.unwrap().try_collect().await.unwrap();
        let _: Vec<_> = session.expunge().await.unwrap().try_collect().await.unwrap();
    }
    for (raw, _) in &cases {
        session.append("INBOX", None, None, raw).await.expect("append");
    }
    let report = imap::poll_once(&url, &handler).await.expect("poll");
    let got: Vec<String> = report.outcomes.iter().map(|o| format!("{o:?}")).collect();
    assert_eq!(report.outcomes.len(), cases.len(), "{got:?}");
    let o = &report.outcomes;
    assert!(matches!(&o[0], Outcome::Comment(_, f) if f.is_empty()), "quoted: {got:?}");
    assert!(matches!(&o[1], Outcome::Message(..)), "html: {got:?}");
    assert_eq!(o[2], Outcome::Held(HoldReason::WrongSender));
    assert_eq!(o[3], Outcome::Dropped("bad token"));
    assert_eq!(o[4], Outcome::Dropped("auto-submitted"));
    assert!(matches!(o[5], Outcome::Dropped(_)), "bounce: {got:?}");
    assert!(matches!(&o[6], Outcome::Comment(_, f) if f.is_empty()), "big attachment dropped, text posted: {got:?}");
    assert!(matches!(o[7], Outcome::Ticket(_)), "a known client user opens a ticket: {got:?}");
    assert_eq!(o[8], Outcome::Held(HoldReason::UnknownSender));
    // What was posted is the sender's Reply, without history or signature.
    let owner = app.actor(w.owner).await;
    let comments = app.store.comments(&owner.work_scope(), w.a.task).await.unwrap();
    let mine: Vec<_> = comments.iter().filter(|c| c.author_id == w.a.admin && c.body.starts_with("Approved")).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].body.as_str(), mine[0].visibility), ("Approved.", Visibility::Reply));
    // Every message is flagged \Seen (seen from a new session): the next pass handles nothing.
    let _ = session.logout().await;
    let mut session = imap::connect(&url).await.expect("reconnect");
    let unseen = session.uid_search("UNSEEN").await.unwrap();
    assert!(unseen.is_empty(), "unseen after the poll: {unseen:?}");
    let again = imap::poll_once(&url, &handler).await.expect("poll again");
    assert!(again.outcomes.is_empty());
    // Unflagged again (a crash before flagging): handled once all the same.
    let all = session.uid_search("ALL").await.unwrap().into_iter().map(|u| u.to_string()).collect::<Vec<_>>();
    let _: Vec<_> =
        session.uid_store(all.join(","), "-FLAGS.SILENT (\\Seen)").await.unwrap().try_collect().await.unwrap();
    let replay = imap::poll_once(&url, &handler).await.expect("replay");
    assert!(replay.outcomes.iter().all(|o| *o == Outcome::Duplicate), "{:?}", replay.outcomes);
    let _ = session.logout().await;
    app.run_jobs().await;
}

trait Bounce {
    fn replace_return_path(self) -> Vec<u8>;
}

impl Bounce for Vec<u8> {
    /// The null sender of a bounce.
    fn replace_return_path(self) -> Vec<u8> {
        let s = String::from_utf8(self).unwrap();
        let start = s.find("Return-Path:").unwrap();
        let end = start + s[start..].find("\r\n").unwrap();
        format!("{}Return-Path: <>{}", &s[..start], &s[end..]).into_bytes()
    }
}
