//! The help desk over the API and its pages: who sees which tickets (per role and client), the
//! gap-free numbers, the conversation's Reply/Note rules and what replies do to the status,
//! solving and reopening, the inbox's filters, counts and bulk changes, turning a ticket into a
//! task, rating by the requester only, and the sweep that closes solved tickets.

use crate::common::*;
use serde_json::{Value, json};

/// Asserts a 422 naming `field`.
#[track_caller]
fn assert_invalid(status: u16, v: &Value, field: &str, what: &str) {
    assert_eq!(status, 422, "{what}: {v}");
    let m = v["error"]["message"].as_str().unwrap_or_default();
    assert!(m.starts_with(field), "{what}: names `{field}`: {m}");
}

async fn open(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    call(app, token, "POST", "/tickets", Some(body)).await
}

fn subjects(list: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        list["items"].as_array().expect("items").iter().map(|t| t["subject"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn each_role_sees_exactly_its_tickets_and_never_a_note() {
    // SEC-AC-1, SEC-AC-3, SEC-AC-7
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (admin, finance, viewer) =
        (app.token_for(w.a.admin).await, app.token_for(w.a.finance).await, app.token_for(w.a.viewer).await);
    let (s, own) = open(&app, &finance, json!({"subject": "Invoice question", "body": "Is VAT included?"})).await;
    assert_eq!(s, 201, "{own}");
    assert_eq!(own["project_id"], Value::Null, "a finance user's request is a general one");
    // A finance user cannot ask about a project (they see none).
    let (s, v) =
        open(&app, &finance, json!({"subject": "X", "body": "Y", "project_id": w.a.project.to_string()})).await;
    assert_invalid(s, &v, "project_id", "finance about a project");
    // Viewers read, never write.
    let (s, v) = open(&app, &viewer, json!({"subject": "X", "body": "Y"})).await;
    assert_eq!(s, 403, "{v}");
    // Another client's id is invisible.
    let (s, v) = open(&app, &admin, json!({"subject": "X", "body": "Y", "client_id": w.b.id.to_string()})).await;
    assert_eq!(s, 404, "{v}");

    let (_, l) = call(&app, &admin, "GET", "/tickets", None).await;
    assert_eq!(subjects(&l), vec!["Invoice question".to_string(), w.a.ticket_subject.clone()]);
    let (_, l) = call(&app, &viewer, "GET", "/tickets", None).await;
    assert_eq!(subjects(&l), vec!["Invoice question".to_string(), w.a.ticket_subject.clone()]);
    let (_, l) = call(&app, &finance, "GET", "/tickets", None).await;
    assert_eq!(subjects(&l), vec!["Invoice question".to_string()], "finance: only what they asked");
    let (s, _) = call(&app, &finance, "GET", &format!("/tickets/{}", w.a.ticket), None).await;
    assert_eq!(s, 404, "finance cannot open the admin's ticket");
    let (s, _) = call(&app, &admin, "GET", &format!("/tickets/{}", w.b.ticket), None).await;
    assert_eq!(s, 404, "another client's ticket");

    // The conversation: the client sees the Reply, never the Note; staff see both.
    let (s, c) = call(&app, &admin, "GET", &format!("/tickets/{}/comments", w.a.ticket), None).await;
    assert_eq!(s, 200);
    let text = c.to_string();
    assert!(text.contains(&w.a.ticket_reply_text) && !text.contains(&w.a.ticket_note_text), "{text}");
    let staff = app.token_for(w.staff).await;
    let (_, c) = call(&app, &staff, "GET", &format!("/tickets/{}/comments", w.a.ticket), None).await;
    assert!(c.to_string().contains(&w.a.ticket_note_text));
    // A client user never writes a Note; a viewer never answers.
    let path = format!("/tickets/{}/comments", w.a.ticket);
    let (s, _) = call(&app, &admin, "POST", &path, Some(json!({"body": "psst", "visibility": "note"}))).await;
    assert_eq!(s, 403);
    let (s, _) = call(&app, &viewer, "POST", &path, Some(json!({"body": "hi", "visibility": "reply"}))).await;
    assert_eq!(s, 403);
    // Staff see everything and filter by client.
    let (_, l) = call(&app, &staff, "GET", &format!("/tickets?client_id={}", w.b.id), None).await;
    assert_eq!(subjects(&l), vec![w.b.ticket_subject.clone()]);
    app.stop().await;
}

#[tokio::test]
async fn numbers_are_consecutive_and_shown_as_hash_numbers() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let owner = app.token_for(w.owner).await;
    let mut numbers = Vec::new();
    for i in 0..3 {
        let (s, t) = open(&app, &admin, json!({"subject": format!("Q{i}"), "body": "?"})).await;
        assert_eq!(s, 201, "{t}");
        numbers.push(t["number"].as_i64().unwrap());
    }
    // A refused ticket takes no number.
    let (s, _) = open(&app, &owner, json!({"subject": "", "body": "?", "client_id": w.a.id.to_string()})).await;
    assert_eq!(s, 422);
    let (s, t) = open(
        &app,
        &owner,
        json!({"subject": "By staff", "body": "?", "client_id": w.a.id.to_string(),
        "requester_id": w.a.viewer.to_string()}),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["requester_id"], w.a.viewer.to_string(), "staff open tickets on a client user's behalf");
    numbers.push(t["number"].as_i64().unwrap());
    // The seed opened #1001 and #1002 (one per client).
    assert_eq!(numbers, vec![1003, 1004, 1005, 1006]);
    // Staff must name the client; a requester must be a user of it.
    let (s, v) = open(&app, &owner, json!({"subject": "S", "body": "?"})).await;
    assert_invalid(s, &v, "client_id", "staff without a client");
    let (s, v) = open(
        &app,
        &owner,
        json!({"subject": "S", "body": "?", "client_id": w.a.id.to_string(), "requester_id": w.b.admin.to_string()}),
    )
    .await;
    assert_invalid(s, &v, "requester_id", "a requester of another client");
    // The portal shows the number.
    let (browser, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let html = browser.get(app.url("/portal/helpdesk")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("#1003") && html.contains("Q0"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn replies_move_the_status_and_solved_tickets_reopen_or_close() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let staff = app.token_for(w.staff).await;
    let (_, t) = open(&app, &admin, json!({"subject": "Broken form", "body": "It fails", "priority": "high"})).await;
    let id = t["id"].as_str().unwrap().to_string();
    assert_eq!(t["status"], "new");
    assert_eq!(t["first_responded_at"], Value::Null);
    // A note is not a response.
    let c = format!("/tickets/{id}/comments");
    call(&app, &staff, "POST", &c, Some(json!({"body": "looking", "visibility": "note"}))).await;
    let (_, t) = call(&app, &staff, "GET", &format!("/tickets/{id}"), None).await;
    assert_eq!((t["status"].as_str(), t["first_responded_at"].is_null()), (Some("new"), true));
    // The first staff Reply is the first response and takes the ticket up.
    let (s, _) = call(&app, &staff, "POST", &c, Some(json!({"body": "On it", "visibility": "reply"}))).await;
    assert_eq!(s, 201);
    let (_, t) = call(&app, &staff, "GET", &format!("/tickets/{id}"), None).await;
    assert_eq!(t["status"], "open");
    assert!(t["first_responded_at"].is_string());
    // The client may only solve or reopen.
    let p = format!("/tickets/{id}");
    let (s, _) = call(&app, &admin, "PATCH", &p, Some(json!({"status": "on_hold"}))).await;
    assert_eq!(s, 403);
    let (s, _) = call(&app, &admin, "PATCH", &p, Some(json!({"priority": "low"}))).await;
    assert_eq!(s, 403);
    let (s, t) = call(&app, &admin, "PATCH", &p, Some(json!({"status": "solved"}))).await;
    assert_eq!((s, t["status"].as_str()), (200, Some("solved")), "{t}");
    assert!(t["solved_at"].is_string());
    // A client reply to a solved ticket reopens it.
    call(&app, &admin, "POST", &c, Some(json!({"body": "Still broken", "visibility": "reply"}))).await;
    let (_, t) = call(&app, &admin, "GET", &p, None).await;
    assert_eq!(t["status"], "open");
    assert_eq!(t["solved_at"], Value::Null);
    // Staff solve it; after the closing time the sweep closes it, and then it is final for the
    // client (a reply is 409: they open a new ticket).
    call(&app, &staff, "PATCH", &p, Some(json!({"status": "solved"}))).await;
    app.store.set_clock(Some(chrono::Utc::now() + chrono::Duration::days(6)));
    assert_eq!(app.store.job_runner().close_solved_tickets().await.unwrap(), 0, "not yet");
    app.store.set_clock(Some(chrono::Utc::now() + chrono::Duration::days(8)));
    assert_eq!(app.store.job_runner().close_solved_tickets().await.unwrap(), 1);
    app.store.set_clock(None);
    let (_, t) = call(&app, &admin, "GET", &p, None).await;
    assert_eq!(t["status"], "closed");
    let (s, _) = call(&app, &admin, "POST", &c, Some(json!({"body": "Hello?", "visibility": "reply"}))).await;
    assert_eq!(s, 409);
    let (s, _) = call(&app, &admin, "PATCH", &p, Some(json!({"status": "open"}))).await;
    assert_eq!(s, 409);
    app.stop().await;
}

#[tokio::test]
async fn the_inbox_filters_counts_and_changes_tickets_in_bulk() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin_b = app.token_for(w.b.admin).await;
    let (_, t) = open(&app, &admin_b, json!({"subject": "Urgent B", "body": "!", "priority": "urgent"})).await;
    let urgent = t["id"].as_str().unwrap().to_string();
    let (_, l) = call(&app, &staff, "GET", "/tickets?assignee=none&priority=urgent", None).await;
    assert_eq!(subjects(&l), vec!["Urgent B".to_string()]);
    let ids = json!([urgent, w.a.ticket.to_string()]);
    let (s, l) =
        call(&app, &staff, "POST", "/tickets/bulk", Some(json!({"ids": ids, "assignee_id": w.staff.to_string()})))
            .await;
    assert_eq!(s, 200, "{l}");
    let (_, l) = call(&app, &staff, "GET", "/tickets?assignee=me", None).await;
    assert_eq!(subjects(&l), {
        let mut v = vec!["Urgent B".to_string(), w.a.ticket_subject.clone()];
        v.sort();
        v
    });
    // Only staff can be assigned.
    let (s, v) =
        call(&app, &staff, "PATCH", &format!("/tickets/{urgent}"), Some(json!({"assignee_id": w.b.admin.to_string()})))
            .await;
    assert_invalid(s, &v, "assignee_id", "a client user as assignee");
    // Bulk close; the inbox page shows the views with counts.
    let (s, _) = call(&app, &staff, "POST", "/tickets/bulk", Some(json!({"ids": [urgent], "status": "closed"}))).await;
    assert_eq!(s, 200);
    let (s, v) = call(&app, &staff, "POST", "/tickets/bulk", Some(json!({"ids": [], "status": "closed"}))).await;
    assert_invalid(s, &v, "ids", "no tickets");
    let (browser, _) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    let html = browser.get(app.url("/staff/inbox?view=mine")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&w.a.ticket_subject) && !html.contains("Urgent B"), "mine holds the open one only");
    let badge = browser.get(app.url("/staff/inbox/badge")).send().await.unwrap().text().await.unwrap();
    assert!(badge.contains("unassigned"), "b's seeded ticket is still unassigned: {badge}");
    // The bulk form of the page.
    let html = browser.get(app.url("/staff/inbox?view=all")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&html);
    let res = browser
        .post(app.url("/staff/inbox/bulk"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("ids", &w.b.ticket.to_string()),
            ("assignee_id", &w.staff.to_string()),
            ("status", "pending"),
            ("view", "all"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (_, t) = call(&app, &staff, "GET", &format!("/tickets/{}", w.b.ticket), None).await;
    assert_eq!(
        (t["status"].as_str(), t["assignee_id"].as_str()),
        (Some("pending"), Some(w.staff.to_string().as_str()))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_ticket_becomes_a_task_linked_both_ways() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let (s, task) = call(&app, &staff, "POST", &format!("/tickets/{}/task", w.a.ticket), None).await;
    assert_eq!(s, 201, "{task}");
    assert_eq!(task["title"], w.a.ticket_subject.as_str());
    assert_eq!(task["project_id"], w.a.project.to_string());
    let (_, t) = call(&app, &staff, "GET", &format!("/tickets/{}", w.a.ticket), None).await;
    assert_eq!(t["task_id"], task["id"]);
    let (s, _) = call(&app, &staff, "POST", &format!("/tickets/{}/task", w.a.ticket), None).await;
    assert_eq!(s, 409, "only once");
    // A general request has no project to put a task in.
    let admin = app.token_for(w.a.admin).await;
    let (_, g) = open(&app, &admin, json!({"subject": "General", "body": "?"})).await;
    let (s, v) = call(&app, &staff, "POST", &format!("/tickets/{}/task", g["id"].as_str().unwrap()), None).await;
    assert_invalid(s, &v, "project_id", "a general request");
    // Client users never do this.
    let (s, _) = call(&app, &admin, "POST", &format!("/tickets/{}/task", w.a.ticket), None).await;
    assert_eq!(s, 404);
    // The staff ticket page links the task.
    let (browser, _) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    let html =
        browser.get(app.url(&format!("/staff/tickets/{}", w.a.ticket))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("/staff/tasks/{}", task["id"].as_str().unwrap())), "{html}");
    let html = browser
        .get(app.url(&format!("/staff/tasks/{}", task["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("/staff/tickets/{}", w.a.ticket)) && html.contains("From ticket #1001"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn only_the_requester_rates_a_solved_ticket_and_the_score_counts_it() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let viewer = app.token_for(w.a.viewer).await;
    let staff = app.token_for(w.staff).await;
    let r = format!("/tickets/{}/satisfaction", w.a.ticket);
    let (s, _) = call(&app, &admin, "POST", &r, Some(json!({"rating": "good"}))).await;
    assert_eq!(s, 409, "not solved yet");
    call(&app, &staff, "PATCH", &format!("/tickets/{}", w.a.ticket), Some(json!({"status": "solved"}))).await;
    let (s, _) = call(&app, &viewer, "POST", &r, Some(json!({"rating": "bad"}))).await;
    assert_eq!(s, 403, "only the requester");
    let (s, _) = call(&app, &staff, "POST", &r, Some(json!({"rating": "bad"}))).await;
    assert_eq!(s, 403, "not staff either");
    let (s, v) = call(&app, &admin, "POST", &r, Some(json!({"rating": "meh"}))).await;
    assert_eq!(s, 422, "{v}");
    let (s, t) = call(&app, &admin, "POST", &r, Some(json!({"rating": "good", "comment": "Quick!"}))).await;
    assert_eq!(s, 201, "{t}");
    assert_eq!((t["satisfaction"].as_str(), t["satisfaction_comment"].as_str()), (Some("good"), Some("Quick!")));
    let (_, sc) = call(&app, &staff, "GET", "/tickets/satisfaction", None).await;
    assert_eq!((sc["good"].as_u64(), sc["bad"].as_u64(), sc["score"].as_i64()), (Some(1), Some(0), Some(100)));
    let (_, sc) = call(&app, &staff, "GET", &format!("/tickets/satisfaction?client_id={}", w.b.id), None).await;
    assert_eq!(sc["score"], Value::Null, "B has no ratings");
    let (s, _) = call(&app, &admin, "GET", "/tickets/satisfaction", None).await;
    assert_eq!(s, 404, "the score is the agency's business");
    app.stop().await;
}

#[tokio::test]
async fn the_portal_help_desk_opens_answers_and_solves_tickets() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (browser, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let html = browser.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("href=\"/portal/helpdesk\""), "the portal navigation has the help desk");
    let html = browser
        .get(app.url(&format!("/portal/helpdesk/new?project_id={}", w.a.project)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&w.a.project_name), "{html}");
    let csrf = csrf_from(&html);
    assert!(html.contains(r#"enctype="multipart/form-data""#) && html.contains(r#"name="attachments""#), "{html}");
    let form = reqwest::multipart::Form::new()
        .text("project_id", w.a.project.to_string())
        .text("subject", "New landing page")
        .text("body", "We need a landing page for the **spring** sale.")
        .text("priority", "normal")
        .part("attachments", reqwest::multipart::Part::bytes(b"brief v1".to_vec()).file_name("brief.txt"))
        .part("attachments", reqwest::multipart::Part::bytes(Vec::new()).file_name(""));
    let res = browser.post(app.url(&format!("/portal/helpdesk?_csrf={csrf}"))).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let at = res.headers()["location"].to_str().unwrap().to_string();
    assert!(at.starts_with("/portal/helpdesk/"), "{at}");
    let html = browser.get(app.url(&at)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<strong>spring</strong>") && html.contains("Mark as solved"), "{html}");
    // The attachment is a file of the project, listed on the ticket (and through the API).
    assert!(html.contains("Attachments") && html.contains(">brief.txt</a>"), "{html}");
    let admin = app.token_for(w.a.admin).await;
    let id = at.rsplit('/').next().unwrap();
    let (s, list) = call(&app, &admin, "GET", &format!("/tickets/{id}/attachments"), None).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["name"], "brief.txt");
    assert_eq!(list["items"][0]["project_id"], w.a.project.to_string());
    // Staff hear of it.
    let staff = app.actor(w.owner).await;
    let list =
        app.store.notifications(&staff, atrium_store::paging::PageRequest { limit: 5, cursor: None }).await.unwrap();
    assert!(list.items.iter().any(|n| n.text.contains("New landing page")), "owners are told of new tickets");
    // Answer and solve from the page.
    let res = browser
        .post(app.url(&format!("{at}/comments")))
        .form(&[("_csrf", csrf.as_str()), ("body", "One more detail")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = browser
        .post(app.url(&format!("{at}/status")))
        .form(&[("_csrf", csrf.as_str()), ("status", "solved")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let html = browser.get(app.url(&at)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("One more detail") && html.contains("How did we do?"), "{html}");
    // The viewer reads but gets no composer and no request form.
    let (viewer, _) = sign_in(&app, "viewer@a.test", PASSWORD).await;
    let html = viewer.get(app.url(&at)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("New landing page") && !html.contains("Send answer"), "{html}");
    let res = viewer.get(app.url("/portal/helpdesk/new")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn the_rating_mail_records_a_choice_only_on_the_confirm_click() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let p = format!("/tickets/{}", w.a.ticket);
    call(&app, &staff, "PATCH", &p, Some(json!({"status": "solved"}))).await;
    app.run_jobs().await;
    let mails = app.mails().await;
    let mail =
        mails.iter().find(|m| m.to == "admin@a.test" && m.subject.contains("How did we do")).expect("rating mail");
    let good =
        mail.text.lines().find(|l| l.contains("/rate/") && l.contains("/good/")).expect("good link").trim().to_string();
    let path = good.split_once("/rate/").map(|(_, rest)| format!("/rate/{rest}")).unwrap();
    // Following the link (as a mail scanner does) records nothing.
    let browser = browser();
    let page = browser.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Confirm: Good"), "{html}");
    let (_, t) = call(&app, &staff, "GET", &p, None).await;
    assert_eq!(t["satisfaction"], Value::Null, "a GET never votes");
    // The confirm click does, with the comment.
    let csrf = csrf_from(&html);
    let res = browser
        .post(app.url(&path))
        .form(&[("_csrf", csrf.as_str()), ("comment", "Fast and friendly")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, t) = call(&app, &staff, "GET", &p, None).await;
    assert_eq!(
        (t["satisfaction"].as_str(), t["satisfaction_comment"].as_str()),
        (Some("good"), Some("Fast and friendly"))
    );
    // A tampered signature, or the bad link's signature with "good", is 404.
    let tampered = format!("{}0000", &path[..path.len() - 4]);
    assert_eq!(browser.get(app.url(&tampered)).send().await.unwrap().status(), 404);
    let bad_sig = path.rsplit('/').next().unwrap();
    let swapped = format!("/rate/{}/bad/{bad_sig}", w.a.ticket);
    assert_eq!(browser.get(app.url(&swapped)).send().await.unwrap().status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn due_times_count_business_minutes_over_weekends_and_pauses() {
    // The default hours: Monday to Friday, 09:00–17:00 UTC; normal 480 / 2880 minutes, urgent
    // 60 / 480 minutes.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let staff = app.token_for(w.staff).await;
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
    // Friday 16:30: half an hour on Friday, the rest from Monday 09:00.
    app.store.set_clock(Some(at("2026-12-04T16:30:00Z")));
    let (_, t) = open(&app, &admin, json!({"subject": "Friday", "body": "?"})).await;
    assert_eq!(t["first_response_due_at"], "2026-12-07T16:30:00Z", "{t}");
    // Saturday: nothing counts before Monday 09:00.
    app.store.set_clock(Some(at("2026-12-05T10:00:00Z")));
    let (_, u) = open(&app, &admin, json!({"subject": "Saturday", "body": "!", "priority": "urgent"})).await;
    assert_eq!(u["first_response_due_at"], "2026-12-07T10:00:00Z", "{u}");
    assert_eq!(u["resolution_due_at"], "2026-12-07T17:00:00Z", "{u}");
    // Waiting for the client stops the clock: pending Monday 09:30 → answered Tuesday 09:30
    // (8 business hours later) moves the due time on by those 8 hours.
    let p = format!("/tickets/{}", u["id"].as_str().unwrap());
    app.store.set_clock(Some(at("2026-12-07T09:30:00Z")));
    call(&app, &staff, "PATCH", &p, Some(json!({"status": "pending"}))).await;
    app.store.set_clock(Some(at("2026-12-08T09:30:00Z")));
    let c = format!("{p}/comments");
    call(&app, &admin, "POST", &c, Some(json!({"body": "Here you go", "visibility": "reply"}))).await;
    let (_, u) = call(&app, &staff, "GET", &p, None).await;
    assert_eq!(u["status"], "open");
    assert_eq!(u["first_response_due_at"], "2026-12-08T10:00:00Z", "{u}");
    // Another timezone: 09:00–17:00 in Berlin (UTC+1 in December).
    let (s, v) = call(
        &app,
        &app.token_for(w.owner).await,
        "PUT",
        "/helpdesk/settings",
        Some(json!({"timezone": "Europe/Berlin", "business_hours": {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"},
            "sla": {"low": {"first_response_minutes": 960, "resolution_minutes": 4800},
                    "normal": {"first_response_minutes": 480, "resolution_minutes": 2880},
                    "high": {"first_response_minutes": 240, "resolution_minutes": 1440},
                    "urgent": {"first_response_minutes": 60, "resolution_minutes": 480}}})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    app.store.set_clock(Some(at("2026-12-08T15:30:00Z")));
    let (_, b) = open(&app, &admin, json!({"subject": "Berlin", "body": "!", "priority": "urgent"})).await;
    // 16:30 in Berlin: half an hour today (until 16:00 UTC), half an hour from 09:00 Berlin
    // (08:00 UTC) tomorrow.
    assert_eq!(b["first_response_due_at"], "2026-12-09T08:30:00Z", "{b}");
    app.store.set_clock(None);
    // The client sees when the next answer is due, in the help desk's timezone (now Berlin).
    let (browser, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let html = browser.get(app.url(&format!("/portal/helpdesk/{}", t["id"].as_str().unwrap()))).send().await.unwrap();
    let html = html.text().await.unwrap();
    assert!(html.contains("We will answer by Dec 7, 17:30 CET"), "{html}");
    app.stop().await;
}

/// The `ticket_due` notifications `token`'s user has.
async fn due_warnings(app: &TestApp, token: &str) -> Vec<String> {
    let (s, v) = call(app, token, "GET", "/notifications", None).await;
    assert_eq!(s, 200, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "ticket_due")
        .map(|n| n["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_assignee_and_admins_are_warned_once_before_each_due_time() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let (staff, owner, agency_admin) =
        (app.token_for(w.staff).await, app.token_for(w.owner).await, app.token_for(w.admin).await);
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
    let sweep = || async { app.store.job_runner().warn_due_tickets().await.unwrap() };
    // Monday 08:50, urgent: first response due 10:00, resolution 17:00 (the day starts 09:00).
    app.store.set_clock(Some(at("2026-12-07T08:50:00Z")));
    let (_, t) = open(&app, &admin, json!({"subject": "Site down", "body": "!", "priority": "urgent"})).await;
    let p = format!("/tickets/{}", t["id"].as_str().unwrap());
    let (s, v) = call(&app, &owner, "PATCH", &p, Some(json!({"assignee_id": w.staff}))).await;
    assert_eq!(s, 200, "{v}");
    // A paused ticket of the same moment is never warned of.
    let (_, quiet) = open(&app, &admin, json!({"subject": "Paused", "body": "?", "priority": "urgent"})).await;
    let q = format!("/tickets/{}", quiet["id"].as_str().unwrap());
    call(&app, &staff, "PATCH", &q, Some(json!({"status": "pending"}))).await;
    // An hour and more before: nothing yet.
    assert_eq!(sweep().await, 0);
    // Within the hour: the assignee, the owner and the agency admin, not the client.
    app.store.set_clock(Some(at("2026-12-07T09:30:00Z")));
    assert_eq!(sweep().await, 1);
    for token in [&staff, &owner, &agency_admin] {
        let got = due_warnings(&app, token).await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("needs its first response by Dec 7, 10:00 UTC: Site down"), "{got:?}");
    }
    assert!(due_warnings(&app, &admin).await.is_empty(), "a client user is never warned");
    // Once per due time.
    app.store.set_clock(Some(at("2026-12-07T09:50:00Z")));
    assert_eq!(sweep().await, 0);
    // Answered: the resolution is next, and it is warned of in its own hour — here through
    // the scheduled job, which queues the next sweep.
    app.store.set_clock(Some(at("2026-12-07T09:55:00Z")));
    let (s, _) =
        call(&app, &staff, "POST", &format!("{p}/comments"), Some(json!({"body": "On it", "visibility": "reply"})))
            .await;
    assert_eq!(s, 201);
    app.store.set_clock(Some(at("2026-12-07T16:10:00Z")));
    let due_now = chrono::Utc::now() - chrono::Duration::minutes(10);
    atrium_web::jobs::schedule_helpdesk_sweep(&app.store, due_now).await.unwrap();
    assert!(app.run_jobs().await >= 1);
    let got = due_warnings(&app, &staff).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().any(|g| g.contains("needs its resolution by Dec 7, 17:00 UTC")), "{got:?}");
    let queued = app
        .query_strings(
            "SELECT kind FROM jobs WHERE kind = ? AND status = ?",
            vec!["helpdesk.sweep".into(), "queued".into()],
            &["kind"],
        )
        .await;
    assert_eq!(queued.len(), 1, "the next sweep is queued: {queued:?}");
    app.exec_sql("DELETE FROM jobs WHERE kind = ?", vec!["helpdesk.sweep".into()]).await;
    // Late and never warned (the server was down): warned as missed.
    app.store.set_clock(Some(at("2026-12-09T12:00:00Z")));
    let (s, v) = call(&app, &staff, "PATCH", &q, Some(json!({"status": "open"}))).await;
    assert_eq!(s, 200, "{v}");
    let (_, quiet) = call(&app, &staff, "GET", &q, None).await;
    let due = at(quiet["first_response_due_at"].as_str().unwrap());
    app.store.set_clock(Some(due + chrono::Duration::hours(2)));
    assert!(sweep().await >= 1);
    let got = due_warnings(&app, &owner).await;
    assert!(got.iter().any(|g| g.contains("missed its first response target") && g.contains("Paused")), "{got:?}");
    app.store.set_clock(None);
    app.stop().await;
}

/// Sends the portal's request form with `files` as attachments.
async fn send_request(
    app: &TestApp,
    browser: &reqwest::Client,
    csrf: &str,
    fields: &[(&'static str, String)],
    files: &[(&'static str, Vec<u8>)],
) -> Answer {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(*k, v.clone());
    }
    for (name, bytes) in files {
        form = form.part("attachments", reqwest::multipart::Part::bytes(bytes.clone()).file_name(*name));
    }
    let res = browser.post(app.url(&format!("/portal/helpdesk?_csrf={csrf}"))).multipart(form).send().await.unwrap();
    Answer::of(res).await
}

#[tokio::test]
async fn attachments_come_with_the_ticket_or_not_at_all() {
    let app = TestApp::spawn_with(|c| c.max_upload = 1024).await;
    let w = seed(&app).await;
    let (browser, csrf) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let root = crate::files::blob_root(&app);
    let before = (crate::files::rows(&app).await, crate::files::blob_files(&root));
    let tickets_before = app.query_strings("SELECT subject FROM tickets", vec![], &["subject"]).await.len();
    let project = ("project_id", w.a.project.to_string());
    let good = || vec![project.clone(), ("subject", "With files".to_string()), ("body", "See attached".to_string())];
    let file = || vec![("notes.txt", b"some notes".to_vec())];
    // Refused tickets keep none of their files: an empty subject, a general question, a file
    // over the limit, too many files, another client's project.
    let no_subject = vec![project.clone(), ("subject", String::new()), ("body", "x".into())];
    let a = send_request(&app, &browser, &csrf, &no_subject, &file()).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("subject"), "{}", a.body);
    let general = vec![("project_id", String::new()), ("subject", "General".into()), ("body", "x".into())];
    let a = send_request(&app, &browser, &csrf, &general, &file()).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("choose the project the files belong to"), "{}", a.body);
    let a = send_request(&app, &browser, &csrf, &good(), &[("big.bin", vec![7u8; 2000])]).await;
    assert_eq!(a.status, 413, "{}", a.body);
    let many: Vec<(&'static str, Vec<u8>)> = (0..11).map(|i| ("f.txt", format!("file {i}").into_bytes())).collect();
    let a = send_request(&app, &browser, &csrf, &good(), &many).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("at most 10 files"), "{}", a.body);
    let theirs = vec![("project_id", w.b.project.to_string()), ("subject", "x".into()), ("body", "x".into())];
    let a = send_request(&app, &browser, &csrf, &theirs, &file()).await;
    assert_eq!(a.status, 404, "{}", a.body);
    // A file sent as the answer of a field that is no file field.
    let form = reqwest::multipart::Form::new()
        .text("project_id", w.a.project.to_string())
        .text("subject", "x")
        .text("body", "x")
        .part("field.nope", reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"));
    let res = browser.post(app.url(&format!("/portal/helpdesk?_csrf={csrf}"))).multipart(form).send().await.unwrap();
    let a = Answer::of(res).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("fields.nope"), "{}", a.body);
    assert_eq!(
        (crate::files::rows(&app).await, crate::files::blob_files(&root)),
        before,
        "no file row, no blob, nothing in tmp/ of a refused request"
    );
    assert_eq!(app.query_strings("SELECT subject FROM tickets", vec![], &["subject"]).await.len(), tickets_before);
    // Accepted: the files are the project's, the ticket lists them; the API attaches
    // existing files of the project, never another project's.
    let a =
        send_request(&app, &browser, &csrf, &good(), &[("one.txt", b"1".to_vec()), ("two.txt", b"2".to_vec())]).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let admin = app.token_for(w.a.admin).await;
    let (_, files) = call(&app, &admin, "GET", &format!("/projects/{}/files", w.a.project), None).await;
    let names: Vec<&str> = files["items"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"one.txt") && names.contains(&"two.txt"), "{names:?}");
    let one = files["items"].as_array().unwrap().iter().find(|f| f["name"] == "one.txt").unwrap()["id"].clone();
    let (s, t) = open(
        &app,
        &admin,
        json!({"subject": "Again", "body": "b", "project_id": w.a.project, "attachment_ids": [one]}),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    let (_, list) =
        call(&app, &admin, "GET", &format!("/tickets/{}/attachments", t["id"].as_str().unwrap()), None).await;
    assert_eq!(list["items"][0]["name"], "one.txt", "{list}");
    let staff = app.token_for(w.staff).await;
    let (_, b_files) = call(&app, &staff, "GET", &format!("/projects/{}/files", w.b.project), None).await;
    let b_file = b_files["items"][0]["id"].clone();
    if !b_file.is_null() {
        let (s, v) = open(
            &app,
            &admin,
            json!({"subject": "Theirs", "body": "b", "project_id": w.a.project, "attachment_ids": [b_file]}),
        )
        .await;
        assert_invalid(s, &v, "attachment_ids", "another client's file");
    }
    // Someone who does not see the project's files (a finance user) gets no list.
    let finance = app.token_for(w.a.finance).await;
    let (s, list) =
        call(&app, &finance, "GET", &format!("/tickets/{}/attachments", t["id"].as_str().unwrap()), None).await;
    assert_eq!(s, 404, "a finance user does not see another's ticket at all: {list}");
    app.stop().await;
}
