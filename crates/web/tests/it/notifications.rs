//! Notifications end to end: who is told about what (assignments, replies, mentions, never a
//! client about a note), who may be mentioned, the people picker, marking read, per-kind
//! delivery settings (off, in-app, email, daily digest) and signed unsubscribe links.

use crate::common::*;
use atrium_core::ids::UserId;
use atrium_core::model::{Delivery, NotificationKind};
use serde_json::{Value, json};

/// A user's notifications (newest first) through the API.
async fn notifications(app: &TestApp, user: UserId) -> Vec<Value> {
    let token = app.token_for(user).await;
    let (s, v) = call(app, &token, "GET", "/notifications", None).await;
    assert_eq!(s, 200, "{v}");
    v["items"].as_array().expect("items").clone()
}

fn of_kind<'a>(list: &'a [Value], kind: &str) -> Vec<&'a Value> {
    list.iter().filter(|n| n["kind"] == kind).collect()
}

/// Posts a comment on a task; asserts it was created and returns its id.
async fn comment(app: &TestApp, token: &str, task: impl std::fmt::Display, body: &str, visibility: &str) -> String {
    let (s, v) = call(
        app,
        token,
        "POST",
        &format!("/tasks/{task}/comments"),
        Some(json!({"body": body, "visibility": visibility})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

async fn set_delivery(app: &TestApp, token: &str, kind: &str, delivery: &str) {
    let (s, v) =
        call(app, token, "PUT", "/notification-settings", Some(json!({"kind": kind, "delivery": delivery}))).await;
    assert_eq!(s, 204, "{v}");
}

fn recipients(mails: &[atrium_mail::Mail]) -> Vec<String> {
    mails.iter().map(|m| m.to.clone()).collect()
}

#[tokio::test]
async fn assigning_a_task_notifies_the_assignee_with_a_portal_link() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let before = of_kind(&notifications(&app, w.a.admin).await, "task_assigned").len();
    let (s, t) =
        call(&app, &staff, "PATCH", &format!("/tasks/{}", w.a.chore), Some(json!({"assignee_id": w.a.admin}))).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["assignee_id"], w.a.admin.to_string());
    let list = notifications(&app, w.a.admin).await;
    let assigned = of_kind(&list, "task_assigned");
    assert_eq!(assigned.len(), before + 1, "{list:?}");
    let n = assigned[0];
    assert_eq!(n["url"], format!("/portal/tasks/{}", w.a.chore));
    assert_eq!(n["subject_type"], "task");
    assert_eq!(n["subject_id"], w.a.chore.to_string());
    assert!(n["read_at"].is_null());
    let text = n["text"].as_str().unwrap();
    assert!(text.contains("Sam Staff") && text.contains(&w.a.chore_title), "{text}");
    // Assignments are emailed by default, with the absolute portal link.
    let mails = app.mails().await;
    assert_eq!(recipients(&mails), vec!["admin@a.test".to_string()]);
    assert!(mails[0].text.contains(&format!("{PUBLIC_URL}/portal/tasks/{}", w.a.chore)), "{}", mails[0].text);
    // Nobody else heard about it.
    for u in [w.a.viewer, w.a.finance, w.b.admin, w.owner] {
        let about_chore = notifications(&app, u).await.into_iter().filter(|n| n["subject_id"] == w.a.chore.to_string());
        assert_eq!(about_chore.count(), 0);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_client_reply_notifies_the_tasks_staff_creator_and_assignee() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    // (Seeding already told A's admin about the owner's reply on their own task.)
    let admin_replies = of_kind(&notifications(&app, w.a.admin).await, "task_reply").len();
    // The chore was created by the owner and is assigned to Sam Staff.
    comment(&app, &admin, w.a.chore, "Could we revisit this?", "reply").await;
    for u in [w.owner, w.staff] {
        let list = notifications(&app, u).await;
        let replies = of_kind(&list, "task_reply");
        assert_eq!(replies.len(), 1, "{list:?}");
        assert_eq!(replies[0]["url"], format!("/staff/tasks/{}", w.a.chore), "staff get the staff link");
        assert_eq!(replies[0]["subject_id"], w.a.chore.to_string());
        assert!(replies[0]["text"].as_str().unwrap().contains("Admina Person replied"));
    }
    assert!(of_kind(&notifications(&app, w.admin).await, "task_reply").is_empty(), "an uninvolved admin");
    assert_eq!(of_kind(&notifications(&app, w.a.admin).await, "task_reply").len(), admin_replies, "not the author");
    let mut to = recipients(&app.mails().await);
    to.sort();
    assert_eq!(to, vec!["owner@agency.test".to_string(), "staff@agency.test".to_string()]);
    app.stop().await;
}

#[tokio::test]
async fn a_staff_note_never_notifies_or_mails_a_client_user() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let client_users = [w.a.admin, w.a.finance, w.a.viewer, w.b.admin, w.b.finance, w.b.viewer];
    let mut before = Vec::new();
    for u in client_users {
        before.push(notifications(&app, u).await.len());
    }
    // The task is assigned to A's admin: a reply would tell them, a note must not.
    comment(&app, &staff, w.a.task, "Margin is thin on this one", "note").await;
    for (u, n) in client_users.iter().zip(&before) {
        assert_eq!(notifications(&app, *u).await.len(), *n, "no notification for a client user");
    }
    let mails = app.mails().await;
    assert!(
        mails.iter().all(|m| !m.to.ends_with("@a.test") && !m.to.ends_with("@b.test")),
        "no mail to a client: {:?}",
        recipients(&mails)
    );
    for m in mails.iter().filter(|m| m.text.contains("Margin is thin") || m.subject.contains("Margin is thin")) {
        assert!(m.to.ends_with("@agency.test"), "the note's text only goes to staff: {}", m.to);
    }
    // The note did reach the task's staff creator (so notes do notify, just not clients).
    assert_eq!(of_kind(&notifications(&app, w.owner).await, "task_reply").len(), 1);

    // Control: a reply on the same task does reach the client assignee.
    comment(&app, &staff, w.a.task, "Shipped the fix", "reply").await;
    assert_eq!(notifications(&app, w.a.admin).await.len(), before[0] + 1);
    assert!(recipients(&app.mails().await).contains(&"admin@a.test".to_string()));
    app.stop().await;
}

#[tokio::test]
async fn a_mention_notifies_and_mails_with_the_task_link() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    comment(&app, &staff, w.a.chore, "@[Admina Person] can you confirm the copy?", "reply").await;
    let list = notifications(&app, w.a.admin).await;
    let mentions = of_kind(&list, "mention");
    assert_eq!(mentions.len(), 1, "{list:?}");
    assert_eq!(mentions[0]["url"], format!("/portal/tasks/{}", w.a.chore));
    assert!(mentions[0]["text"].as_str().unwrap().contains("Sam Staff mentioned you"));
    let mails: Vec<_> = app.mails().await.into_iter().filter(|m| m.to == "admin@a.test").collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].text.contains(&format!("http://portal.test/portal/tasks/{}", w.a.chore)), "{}", mails[0].text);
    // The viewer (who can see the task but was not mentioned) is not told.
    assert!(of_kind(&notifications(&app, w.a.viewer).await, "mention").is_empty());
    app.stop().await;
}

#[tokio::test]
async fn mentions_are_limited_to_people_who_can_see_the_thing() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let comments = format!("/tasks/{}/comments", w.a.task);

    // A client user in a note: staff are told the person cannot see it.
    let (s, e) =
        call(&app, &staff, "POST", &comments, Some(json!({"body": "@[Admina Person] fyi", "visibility": "note"})))
            .await;
    assert_eq!(s, 422, "{e}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.starts_with("body") && msg.contains("Admina Person cannot see"), "{msg}");

    // A client user naming someone of another client learns nothing: same answer as a made-up
    // name (and as an own-client user who cannot see the work).
    async fn refusal(app: &TestApp, token: &str, path: &str, name: &str) -> String {
        let body = format!("@[{name}] what do you think?");
        let (s, e) = call(app, token, "POST", path, Some(json!({ "body": body }))).await;
        assert_eq!(s, 422, "{e}");
        e["error"]["message"].as_str().unwrap().replace(name, "NAME")
    }
    let other_client = refusal(&app, &admin, &comments, "Adminb Person").await;
    let made_up = refusal(&app, &admin, &comments, "Zelda Nobody").await;
    let finance = refusal(&app, &admin, &comments, "Financea Person").await;
    assert_eq!(other_client, made_up);
    assert_eq!(finance, made_up);
    assert!(!other_client.contains("cannot see"), "{other_client}");

    // Nothing was posted, nobody was told.
    let (_, list) = call(&app, &staff, "GET", &comments, None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "only the seeded reply and note");
    assert!(of_kind(&notifications(&app, w.b.admin).await, "mention").is_empty());
    assert!(of_kind(&notifications(&app, w.a.admin).await, "mention").is_empty());
    assert!(app.mails().await.is_empty());

    // Control: mentioning a staff member in a note works.
    comment(&app, &staff, w.a.task, "@[Olivia Owner] margin?", "note").await;
    assert_eq!(of_kind(&notifications(&app, w.owner).await, "mention").len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_people_picker_shows_only_who_can_see_the_project() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let owner = app.token_for(w.owner).await;
    let names = |v: &Value| {
        let mut n: Vec<String> =
            v["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
        n.sort();
        n
    };
    let path = format!("/projects/{}/people", w.a.project);
    let (s, v) = call(&app, &admin, "GET", &path, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(names(&v), vec!["Adam Admin", "Olivia Owner", "Sam Staff", "Viewera Person"]);
    let staff_flags: Vec<bool> = v["items"].as_array().unwrap().iter().map(|p| p["staff"].as_bool().unwrap()).collect();
    assert_eq!(staff_flags.iter().filter(|s| **s).count(), 3);
    let text = v.to_string();
    for secret in w.b.secrets() {
        assert!(!text.contains(&secret), "B leaks into A's picker: {secret}");
    }
    assert!(!text.contains("@"), "no email addresses: {text}");

    let (s, _) = call(&app, &admin, "GET", &format!("{path}?internal=true"), None).await;
    assert_eq!(s, 404);
    let (s, _) = call(&app, &admin, "GET", &format!("/projects/{}/people", w.b.project), None).await;
    assert_eq!(s, 404);

    // Staff: the whole project, or staff only for internal places.
    let (_, v) = call(&app, &owner, "GET", &path, None).await;
    assert_eq!(names(&v), vec!["Adam Admin", "Admina Person", "Sam Staff", "Viewera Person"]);
    let (s, v) = call(&app, &owner, "GET", &format!("{path}?internal=true"), None).await;
    assert_eq!(s, 200);
    assert_eq!(names(&v), vec!["Adam Admin", "Sam Staff"]);
    app.stop().await;
}

#[tokio::test]
async fn notifications_are_marked_read_by_id_or_all() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    for i in 0..3 {
        comment(&app, &staff, w.a.chore, &format!("@[Admina Person] ping {i}"), "reply").await;
    }
    // The owner created the chore, so they were told about those replies.
    let owner_list = notifications(&app, w.owner).await;
    assert!(!owner_list.is_empty());
    let owner_id = owner_list[0]["id"].as_str().unwrap().to_string();
    let owner_unread = app.store.unread_notifications(&app.actor(w.owner).await).await.unwrap();

    let list = notifications(&app, w.a.admin).await;
    let unread0 = app.store.unread_notifications(&app.actor(w.a.admin).await).await.unwrap();
    assert!(unread0 >= 3);
    let first = list[0]["id"].as_str().unwrap().to_string();
    let (s, e) =
        call(&app, &admin, "POST", "/notifications/read", Some(json!({"ids": [first.clone(), owner_id.clone()]})))
            .await;
    assert_eq!(s, 204, "{e}");
    assert_eq!(app.store.unread_notifications(&app.actor(w.a.admin).await).await.unwrap(), unread0 - 1);
    let list = notifications(&app, w.a.admin).await;
    assert!(list.iter().find(|n| n["id"] == first.as_str()).unwrap()["read_at"].is_string());
    assert_eq!(
        app.store.unread_notifications(&app.actor(w.owner).await).await.unwrap(),
        owner_unread,
        "another user's id is ignored"
    );
    assert!(notifications(&app, w.owner).await[0]["read_at"].is_null());

    let (s, _) = call(&app, &admin, "POST", "/notifications/read", Some(json!({"ids": ["nope"]}))).await;
    assert_eq!(s, 422);
    let (s, _) = call(&app, &admin, "POST", "/notifications/read", Some(json!({"ids": [], "all": true}))).await;
    assert_eq!(s, 422, "ids and all together");
    assert_eq!(app.store.unread_notifications(&app.actor(w.a.admin).await).await.unwrap(), unread0 - 1);

    let (s, _) = call(&app, &admin, "POST", "/notifications/read", Some(json!({"all": true}))).await;
    assert_eq!(s, 204);
    assert_eq!(app.store.unread_notifications(&app.actor(w.a.admin).await).await.unwrap(), 0);
    assert!(notifications(&app, w.a.admin).await.iter().all(|n| n["read_at"].is_string()));
    assert_eq!(
        app.store.unread_notifications(&app.actor(w.owner).await).await.unwrap(),
        owner_unread,
        "all means all of mine"
    );
    app.stop().await;
}

#[tokio::test]
async fn delivery_settings_decide_between_off_in_app_email_and_digest() {
    use sea_orm::ConnectionTrait;

    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;

    let (s, v) = call(&app, &admin, "GET", "/notification-settings", None).await;
    assert_eq!(s, 200);
    let settings: Vec<(String, String)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["kind"].as_str().unwrap().to_string(), i["delivery"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("task_assigned", "email"),
        ("task_reply", "email"),
        ("mention", "email"),
        ("task_status", "in_app"),
        ("message", "email"),
        ("approval_requested", "email"),
        // Not offered to a client admin: staff work (decisions on approvals they requested;
        // new, assigned and nearly due tickets).
        ("invoice_sent", "email"),
        ("ticket_reply", "email"),
        ("ticket_status", "email"),
        // Reminders and summaries of the agency's automations.
        ("automated", "email"),
    ]
    .iter()
    .map(|(k, d)| (k.to_string(), d.to_string()))
    .collect();
    assert_eq!(settings, expected);
    let (_, v) = call(&app, &staff, "GET", "/notification-settings", None).await;
    let kinds: Vec<&str> = v["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"ticket_due") && kinds.contains(&"ticket_assigned"), "{kinds:?}");
    assert!(!kinds.contains(&"invoice_sent"), "staff are not sent invoices: {kinds:?}");
    let (s, _) =
        call(&app, &admin, "PUT", "/notification-settings", Some(json!({"kind": "mention", "delivery": "loud"}))).await;
    assert_eq!(s, 422);

    async fn mention_count(app: &TestApp, user: UserId) -> usize {
        of_kind(&notifications(app, user).await, "mention").len()
    }
    async fn mails_to(app: &TestApp, to: &str) -> Vec<atrium_mail::Mail> {
        app.mails().await.into_iter().filter(|m| m.to == to).collect()
    }
    let mentions = || mention_count(&app, w.a.admin);
    let admin_mails = || mails_to(&app, "admin@a.test");

    // off: nothing at all.
    set_delivery(&app, &admin, "mention", "off").await;
    comment(&app, &staff, w.a.chore, "@[Admina Person] alpha-one", "reply").await;
    assert_eq!(mentions().await, 0);
    assert!(admin_mails().await.is_empty());

    // in_app: a notification, no mail.
    set_delivery(&app, &admin, "mention", "in_app").await;
    comment(&app, &staff, w.a.chore, "@[Admina Person] bravo-two", "reply").await;
    assert_eq!(mentions().await, 1);
    assert!(admin_mails().await.is_empty());

    // (Seen in the app: a read notification is never part of a digest.)
    let (s, _) = call(&app, &admin, "POST", "/notifications/read", Some(json!({"all": true}))).await;
    assert_eq!(s, 204);
    // digest: a notification, no mail until the digest runs.
    set_delivery(&app, &admin, "mention", "digest").await;
    comment(&app, &staff, w.a.chore, "@[Admina Person] charlie-three", "reply").await;
    assert_eq!(mentions().await, 2);
    assert!(admin_mails().await.is_empty());
    // The digest run is at 08:00 in the recipient's timezone (the agency's, UTC here), after
    // the notification.
    let now = chrono::Utc::now();
    let eight = now.date_naive().and_hms_opt(8, 5, 0).expect("time").and_utc();
    app.store.set_clock(Some(if eight > now { eight } else { eight + chrono::Duration::days(1) }));
    app.store.job_runner().enqueue(atrium_store::jobs::NewJob::new("digest", json!({}))).await.expect("enqueue");
    app.run_jobs().await;
    let mails = admin_mails().await;
    assert_eq!(mails.len(), 1, "one digest");
    let d = &mails[0];
    assert!(d.subject.contains("1 update"), "{}", d.subject);
    assert!(d.text.contains("charlie-three"), "lists the digest-delivered mention: {}", d.text);
    assert!(!d.text.contains("bravo-two"), "not the one already read: {}", d.text);
    assert!(d.text.contains(&format!("{PUBLIC_URL}/portal/tasks/{}", w.a.chore)));
    assert!(d.unsubscribe.as_deref().unwrap_or("").contains("/digest/"), "{:?}", d.unsubscribe);
    // A second run sends nothing new.
    app.store.job_runner().enqueue(atrium_store::jobs::NewJob::new("digest", json!({}))).await.expect("enqueue");
    app.run_jobs().await;
    assert_eq!(admin_mails().await.len(), 1);
    let digests = app.mails().await.into_iter().filter(|m| m.subject.contains("daily summary")).count();
    assert_eq!(digests, 1, "nobody else has digest delivery, and nothing is sent twice");

    // email again: mailed right away.
    set_delivery(&app, &admin, "mention", "email").await;
    comment(&app, &staff, w.a.chore, "@[Admina Person] delta-four", "reply").await;
    let mails = admin_mails().await;
    assert_eq!(mails.len(), 2);
    assert!(mails[1].text.contains("delta-four"));

    // Each digest run schedules tomorrow's digest (run_at in the future). Remove those queued
    // jobs so the harness's "no job left queued" check at drop only catches real leftovers.
    app.store.connection().execute_unprepared("DELETE FROM jobs WHERE status='queued'").await.expect("delete");
    app.stop().await;
}

#[tokio::test]
async fn unsubscribe_links_confirm_before_changing_anything() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    comment(&app, &staff, w.a.chore, "@[Admina Person] please review", "reply").await;
    let mails = app.mails().await;
    let mail = mails.iter().find(|m| m.to == "admin@a.test").expect("mention mail");
    let link = mail.unsubscribe.clone().expect("unsubscribe link");
    assert!(link.starts_with(&format!("{PUBLIC_URL}/unsubscribe/{}/mention/", w.a.admin)), "{link}");
    assert!(mail.text.contains(&link) || mail.html.contains(&link), "the link is in the mail body too");
    let path = link.trim_start_matches(PUBLIC_URL).to_string();
    let mention = |s: Vec<(NotificationKind, Delivery)>| s.into_iter().find(|(k, _)| *k == NotificationKind::Mention);

    let b = browser();
    let page = Answer::of(b.get(app.url(&path)).send().await.unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("mentions"), "names what is unsubscribed");
    let settings = app.store.notification_settings(&app.actor(w.a.admin).await).await.unwrap();
    assert_eq!(mention(settings), Some((NotificationKind::Mention, Delivery::Email)), "a GET changes nothing");

    // Tampered signature, or a valid one used for another kind or user: 404, nothing changes.
    let mut bad = path.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == '0' { '1' } else { '0' });
    let other_kind = path.replace("/mention/", "/task_reply/");
    let other_user = path.replace(&w.a.admin.to_string(), &w.a.viewer.to_string());
    for p in [&bad, &other_kind, &other_user] {
        assert_eq!(b.get(app.url(p)).send().await.unwrap().status(), 404, "{p}");
        let csrf = csrf_from(&page.body);
        let r = b.post(app.url(p)).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 404, "{p}");
    }
    for u in [w.a.admin, w.a.viewer] {
        let s = app.store.notification_settings(&app.actor(u).await).await.unwrap();
        assert!(s.iter().all(|(k, d)| *d == k.default_delivery()), "unchanged: {s:?}");
    }

    let csrf = csrf_from(&page.body);
    let r = Answer::of(b.post(app.url(&path)).form(&[("_csrf", csrf.as_str())]).send().await.unwrap()).await;
    assert!(r.status == 200 || r.status == 303, "{} {}", r.status, r.body);
    let settings = app.store.notification_settings(&app.actor(w.a.admin).await).await.unwrap();
    assert_eq!(mention(settings.clone()), Some((NotificationKind::Mention, Delivery::Off)));
    assert!(settings.iter().filter(|(k, _)| *k != NotificationKind::Mention).all(|(k, d)| *d == k.default_delivery()));

    // And it works: the next mention is neither notified nor mailed.
    let to_admin = |m: &atrium_mail::Mail| m.to == "admin@a.test";
    let before = app.mails().await.iter().filter(|m| to_admin(m)).count();
    comment(&app, &staff, w.a.chore, "@[Admina Person] again", "reply").await;
    assert_eq!(app.mails().await.iter().filter(|m| to_admin(m)).count(), before);
    assert!(of_kind(&notifications(&app, w.a.admin).await, "mention").len() == 1);
    app.stop().await;
}
