//! Recurring invoices (issue 15, part 5): staff keep schedules through the API and the staff
//! pages; the issuing job, run here on the store's injected clock, issues each due period once
//! through the invoices' own path — numbered from the one sequence, sent (and mailed) when the
//! schedule says so, a draft otherwise — with month-end clamping, catch-up after downtime,
//! pausing, resuming without back-issuing, ending, and resting clients.

use crate::common::*;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A valid schedule of `client`, changed by `extra`'s fields.
fn schedule(client: impl std::fmt::Display, extra: Value) -> Value {
    let mut b = json!({
        "client_id": client.to_string(),
        "name": "Monthly retainer",
        "currency": "EUR",
        "lines": [{"description": "Retainer", "quantity": "1", "unit_price": "1000.00", "tax_rate": "20"}],
        "interval": "monthly",
        "next_issue_date": "2026-01-31",
        "due_days": 14,
        "auto_send": false,
    });
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

/// A seeded server whose store clock reads `now`, and a staff member's token.
async fn world_at(now: &str) -> (TestApp, World, String) {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    app.store.set_clock(Some(at(now)));
    let staff = app.token_for(w.staff).await;
    (app, w, staff)
}

/// Gives the store the system clock back and stops the server.
async fn finish(app: TestApp) {
    app.store.set_clock(None);
    app.stop().await;
}

/// The API path of a schedule as returned.
fn path_of(r: &Value) -> String {
    format!("/recurring-invoices/{}", r["id"].as_str().unwrap())
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, v) = call(app, token, "POST", "/recurring-invoices", Some(body)).await;
    assert_eq!(s, 201, "{v}");
    v
}

/// Runs the issuing job once (and then the mail jobs it queued); how many invoices it issued.
async fn issue(app: &TestApp) -> u64 {
    let n = app.store.job_runner().issue_recurring_invoices().await.expect("issue");
    app.run_jobs().await;
    n
}

/// Staff's view of the invoices of `client`, oldest number first: (number, issue, due, status).
async fn invoices_of(app: &TestApp, token: &str, client: impl std::fmt::Display) -> Vec<(u64, String, String, String)> {
    let (s, v) = call(app, token, "GET", &format!("/invoices?client_id={client}&limit=200"), None).await;
    assert_eq!(s, 200, "{v}");
    let mut out: Vec<_> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let digits: String = i["number"].as_str().unwrap().chars().filter(char::is_ascii_digit).collect();
            (
                digits.parse::<u64>().unwrap(),
                i["issue_date"].as_str().unwrap().to_string(),
                i["due_date"].as_str().unwrap().to_string(),
                i["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn staff_add_list_read_change_and_delete_schedules_and_each_change_is_audited() {
    let (app, w, staff) = world_at("2026-01-10T09:00:00Z").await;
    let project = w.a.project.to_string();
    let r = create(&app, &staff, schedule(w.a.id, json!({"project_id": project, "notes": "Thank you"}))).await;
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(r["status"], "active");
    assert_eq!(r["anchor_day"], 31);
    assert_eq!(r["total"], "1200.00");
    assert_eq!(r["client_name"], w.a.name);
    assert_eq!(r["lines"][0]["unit_price"], "1000", "stored normalised, like an invoice line");
    assert_eq!(r["issued_count"], 0);
    let (s, list) = call(&app, &staff, "GET", "/recurring-invoices", None).await;
    assert_eq!(s, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(list["next_cursor"], Value::Null);
    let path = format!("/recurring-invoices/{id}");
    let (s, got) = call(&app, &staff, "GET", &path, None).await;
    assert_eq!((s, &got["notes"]), (200, &json!("Thank you")));
    let lines =
        json!([{"description": "Support", "quantity": "2", "unit_price": "50", "tax_rate": "0", "discount": "10"}]);
    let change =
        json!({"name": "Support plan", "lines": lines, "interval": "quarterly", "due_days": 0, "auto_send": true});
    let (s, v) = call(&app, &staff, "PATCH", &path, Some(change)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (&v["name"], &v["interval"], &v["due_days"], &v["total"]),
        (&json!("Support plan"), &json!("quarterly"), &json!(0), &json!("90.00"))
    );
    assert_eq!(v["next_issue_date"], "2026-01-31", "unchanged when not sent");
    // Moving the date moves the anchor day.
    let (s, v) = call(&app, &staff, "PATCH", &path, Some(json!({"next_issue_date": "2026-02-15"}))).await;
    assert_eq!((s, &v["anchor_day"]), (200, &json!(15)));
    let (s, _) = call(&app, &staff, "DELETE", &path, None).await;
    assert_eq!(s, 204);
    let (s, _) = call(&app, &staff, "GET", &path, None).await;
    assert_eq!(s, 404);
    let actions = app
        .query_strings(
            "SELECT action FROM audit_log WHERE subject_id = ? ORDER BY at",
            vec![id.clone().into()],
            &["action"],
        )
        .await;
    let actions: Vec<&str> = actions.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        actions,
        [
            "recurring_invoice.create",
            "recurring_invoice.update",
            "recurring_invoice.update",
            "recurring_invoice.delete"
        ]
    );
    finish(app).await;
}

#[tokio::test]
async fn every_bad_field_is_a_422_that_names_it() {
    let (app, w, staff) = world_at("2026-01-10T09:00:00Z").await;
    let line = |q: &str| json!([{"description": "Retainer", "quantity": q, "unit_price": "1", "tax_rate": "0"}]);
    let too_many: Vec<Value> = (0..201)
        .map(|i| json!({"description": format!("Line {i}"), "quantity": "1", "unit_price": "1", "tax_rate": "0"}))
        .collect();
    let cases = [
        (json!({"interval": "weekly"}), "interval"),
        (json!({"due_days": -1}), "due_days"),
        (json!({"due_days": 366}), "due_days"),
        (json!({"due_days": "ten"}), "due_days"),
        (json!({"next_issue_date": "2026-02-30"}), "next_issue_date"),
        (json!({"next_issue_date": "31/01/2026"}), "next_issue_date"),
        (json!({"next_issue_date": "2026-01-09"}), "next_issue_date"),
        (json!({"currency": "EURO"}), "currency"),
        (json!({"currency": "XYZ"}), "currency"),
        (json!({"lines": []}), "lines"),
        (json!({"lines": too_many}), "lines"),
        (json!({"lines": line("0")}), "lines[0].quantity"),
        (json!({"lines": line("1.23456")}), "lines[0].quantity"),
        (json!({"project_id": w.b.project.to_string()}), "project_id"),
        (json!({"project_id": "not-a-project"}), "project_id"),
        (json!({"client_id": atrium_core::ids::ClientId::new().to_string()}), "client_id"),
        (json!({"client_id": "nobody"}), "client_id"),
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"name": "Evil\u{202e}name"}), "name"),
        (json!({"notes": "x".repeat(20_001)}), "notes"),
        (json!({"auto_send": "yes"}), "auto_send"),
    ];
    for (change, field) in cases {
        let (s, v) = call(&app, &staff, "POST", "/recurring-invoices", Some(schedule(w.a.id, change.clone()))).await;
        assert_eq!(s, 422, "{change} → {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("{field}:")), "{change} must name {field}: {message}");
    }
    // A change is checked the same way; the client of a schedule cannot be changed.
    let r = create(&app, &staff, schedule(w.a.id, json!({}))).await;
    let path = path_of(&r);
    for (change, field) in [
        (json!({"status": "stopped"}), "status"),
        (json!({"due_days": 400}), "due_days"),
        (json!({"project_id": w.b.project.to_string()}), "project_id"),
        (json!({"lines": []}), "lines"),
        (json!({"next_issue_date": "2025-12-31"}), "next_issue_date"),
    ] {
        let (s, v) = call(&app, &staff, "PATCH", &path, Some(change.clone())).await;
        assert_eq!(s, 422, "{change} → {v}");
        assert!(v["error"]["message"].as_str().unwrap().starts_with(&format!("{field}:")), "{change}: {v}");
    }
    let (s, v) = call(&app, &staff, "PATCH", &path, Some(json!({"client_id": w.b.id.to_string()}))).await;
    assert_eq!(s, 422, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("client_id"), "{v}");
    let (_, v) = call(&app, &staff, "GET", &path, None).await;
    assert_eq!(v["client_id"], w.a.id.to_string(), "nothing changed");
    assert_eq!(v["due_days"], 14);
    finish(app).await;
}

#[tokio::test]
async fn monthly_issues_take_consecutive_numbers_between_manual_ones_and_clamp_month_ends() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (staff, client) = (app.token_for(w.staff).await, app.token_for(w.a.admin).await);
    app.store.set_clock(Some(at("2026-01-30T12:00:00Z")));
    let r = create(&app, &staff, schedule(w.a.id, json!({}))).await;
    let path = path_of(&r);
    let before = invoices_of(&app, &staff, w.a.id).await;
    assert_eq!(issue(&app).await, 0, "not due before its date");
    app.store.set_clock(Some(at("2026-01-31T00:30:00Z")));
    assert_eq!(issue(&app).await, 1);
    assert_eq!(issue(&app).await, 0, "issued once");
    // A hand-made invoice in between takes the next number.
    let manual = json!({
        "client_id": w.a.id.to_string(), "currency": "EUR", "issue_date": "2026-02-10", "due_date": "2026-03-10",
        "lines": [{"description": "Extra", "quantity": "1", "unit_price": "5", "tax_rate": "0"}],
    });
    let (s, v) = call(&app, &staff, "POST", "/invoices", Some(manual)).await;
    assert_eq!(s, 201, "{v}");
    app.store.set_clock(Some(at("2026-02-28T08:00:00Z")));
    assert_eq!(issue(&app).await, 1);
    app.store.set_clock(Some(at("2026-03-31T08:00:00Z")));
    assert_eq!(issue(&app).await, 1);
    let all = invoices_of(&app, &staff, w.a.id).await;
    let new: Vec<_> = all.iter().filter(|i| !before.contains(i)).cloned().collect();
    let first = new[0].0;
    assert_eq!(
        new,
        vec![
            (first, "2026-01-31".into(), "2026-02-14".into(), "draft".into()),
            (first + 1, "2026-02-10".into(), "2026-03-10".into(), "draft".into()),
            (first + 2, "2026-02-28".into(), "2026-03-14".into(), "draft".into()),
            (first + 3, "2026-03-31".into(), "2026-04-14".into(), "draft".into()),
        ],
        "the issue dates keep the 31st after February; the numbers are the sequence's, in order"
    );
    assert!(new.iter().all(|i| i.0 > before.iter().map(|b| b.0).max().unwrap_or(0)));
    let (_, v) = call(&app, &staff, "GET", &path, None).await;
    assert_eq!(
        (&v["next_issue_date"], &v["issued_count"], &v["last_issued_on"]),
        (&json!("2026-04-30"), &json!(3), &json!("2026-03-31"))
    );
    // Drafts wait for review: the client sees none of them.
    let (_, mine) = call(&app, &client, "GET", "/invoices", None).await;
    let seen: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|i| i["issue_date"].as_str().unwrap()).collect();
    assert!(!seen.is_empty(), "the client does see its issued invoices");
    for d in ["2026-01-31", "2026-02-28", "2026-03-31"] {
        assert!(!seen.contains(&d), "no draft reaches the client: {seen:?}");
    }
    // Each issue is audited, by no person, with its number.
    let issued = app
        .query_strings(
            "SELECT actor_id, detail FROM audit_log WHERE action = ? ORDER BY at",
            vec!["recurring_invoice.issue".into()],
            &["actor_id", "detail"],
        )
        .await;
    assert_eq!(issued.len(), 3);
    assert!(issued.iter().all(|r| r[0].is_empty()), "the job acts for no person: {issued:?}");
    finish(app).await;
}

#[tokio::test]
async fn an_auto_sent_invoice_reaches_the_client_and_their_mail_a_draft_does_not() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (staff, client) = (app.token_for(w.staff).await, app.token_for(w.a.admin).await);
    app.store.set_clock(Some(at("2026-05-04T10:00:00Z")));
    create(&app, &staff, schedule(w.a.id, json!({"next_issue_date": "2026-05-05", "auto_send": true}))).await;
    create(
        &app,
        &staff,
        schedule(
            w.a.id,
            json!({"next_issue_date": "2026-05-05", "name": "Hosting", "lines": [
        {"description": "Hosting", "quantity": "1", "unit_price": "77.00", "tax_rate": "0"}]}),
        ),
    )
    .await;
    app.store.set_clock(Some(at("2026-05-05T06:00:00Z")));
    let mails_before = app.mails().await.len();
    assert_eq!(issue(&app).await, 2);
    let mine = invoices_of(&app, &staff, w.a.id).await;
    let issued: Vec<_> = mine.iter().filter(|i| i.1 == "2026-05-05").collect();
    assert_eq!(issued.len(), 2, "{mine:?}");
    let sent: Vec<_> = issued.iter().filter(|i| i.3 == "sent").collect();
    assert_eq!(sent.len(), 1, "one sent, one draft: {issued:?}");
    let (_, seen) = call(&app, &client, "GET", "/invoices", None).await;
    let totals: Vec<&str> = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["issue_date"] == "2026-05-05")
        .map(|i| i["total"].as_str().unwrap())
        .collect();
    assert_eq!(totals, ["1200.00"], "the client sees the sent one only");
    let (_, notes) = call(&app, &client, "GET", "/notifications", None).await;
    let kinds: Vec<&str> = notes["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"invoice_sent"), "{kinds:?}");
    let mails: Vec<_> = app.mails().await.into_iter().skip(mails_before).collect();
    let number = format!("{:04}", sent[0].0);
    assert!(
        mails.iter().any(|m| m.to == "admin@a.test" && m.text.contains(&number)),
        "the client admin is mailed the sent invoice: {:?}",
        mails.iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>()
    );
    assert!(!mails.iter().any(|m| m.text.contains("77.00")), "no mail for the draft");
    finish(app).await;
}

#[tokio::test]
async fn missed_periods_issue_one_invoice_each_in_order() {
    let (app, w, staff) = world_at("2026-01-01T10:00:00Z").await;
    let r = create(&app, &staff, schedule(w.a.id, json!({"next_issue_date": "2026-01-15", "due_days": 30}))).await;
    let before = invoices_of(&app, &staff, w.a.id).await;
    // The server was down from the New Year to April 20th.
    app.store.set_clock(Some(at("2026-04-20T10:00:00Z")));
    assert_eq!(issue(&app).await, 4);
    let new: Vec<_> = invoices_of(&app, &staff, w.a.id).await.into_iter().filter(|i| !before.contains(i)).collect();
    let dates: Vec<(&str, &str)> = new.iter().map(|i| (i.1.as_str(), i.2.as_str())).collect();
    assert_eq!(
        dates,
        [
            ("2026-01-15", "2026-02-14"),
            ("2026-02-15", "2026-03-17"),
            ("2026-03-15", "2026-04-14"),
            ("2026-04-15", "2026-05-15")
        ]
    );
    let numbers: Vec<u64> = new.iter().map(|i| i.0).collect();
    assert_eq!(numbers, (numbers[0]..numbers[0] + 4).collect::<Vec<_>>(), "consecutive, in date order");
    let (_, v) = call(&app, &staff, "GET", &path_of(&r), None).await;
    assert_eq!(v["next_issue_date"], "2026-05-15");
    finish(app).await;
}

#[tokio::test]
async fn a_paused_schedule_issues_nothing_and_resumes_without_back_issuing() {
    let (app, w, staff) = world_at("2026-01-05T10:00:00Z").await;
    let r = create(&app, &staff, schedule(w.a.id, json!({"next_issue_date": "2026-01-10"}))).await;
    let path = path_of(&r);
    let (s, v) = call(&app, &staff, "PATCH", &path, Some(json!({"status": "paused"}))).await;
    assert_eq!((s, &v["status"]), (200, &json!("paused")));
    app.store.set_clock(Some(at("2026-03-20T10:00:00Z")));
    assert_eq!(issue(&app).await, 0, "paused");
    // Resuming skips January to March: the next date is the first slot on or after today.
    let (s, v) = call(&app, &staff, "PATCH", &path, Some(json!({"status": "active"}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((&v["status"], &v["next_issue_date"]), (&json!("active"), &json!("2026-04-10")));
    assert_eq!(issue(&app).await, 0, "no paused period is issued");
    app.store.set_clock(Some(at("2026-04-10T10:00:00Z")));
    assert_eq!(issue(&app).await, 1);
    let (_, v) = call(&app, &staff, "GET", &path, None).await;
    assert_eq!((&v["issued_count"], &v["next_issue_date"]), (&json!(1), &json!("2026-05-10")));
    finish(app).await;
}

#[tokio::test]
async fn an_ended_schedule_never_issues_and_cannot_be_resumed() {
    let (app, w, staff) = world_at("2026-01-05T10:00:00Z").await;
    let r = create(&app, &staff, schedule(w.a.id, json!({"next_issue_date": "2026-01-10"}))).await;
    let path = path_of(&r);
    let (s, v) = call(&app, &staff, "PATCH", &path, Some(json!({"status": "ended"}))).await;
    assert_eq!((s, &v["status"]), (200, &json!("ended")));
    app.store.set_clock(Some(at("2026-06-01T10:00:00Z")));
    assert_eq!(issue(&app).await, 0);
    for change in [json!({"status": "active"}), json!({"status": "paused"}), json!({"name": "Revived"})] {
        let (s, v) = call(&app, &staff, "PATCH", &path, Some(change.clone())).await;
        assert_eq!(s, 409, "{change} → {v}");
        assert!(v["error"]["message"].as_str().unwrap().starts_with("status: an ended"), "{v}");
    }
    let (_, v) = call(&app, &staff, "GET", &path, None).await;
    assert_eq!((&v["status"], &v["issued_count"]), (&json!("ended"), &json!(0)));
    // Deleting it is still possible.
    assert_eq!(call(&app, &staff, "DELETE", &path, None).await.0, 204);
    finish(app).await;
}

#[tokio::test]
async fn each_period_is_issued_once_however_often_and_however_many_runners_try() {
    let app = TestApp::spawn().await;
    let other = TestApp::spawn_beside(&app).await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let now = at("2026-02-01T10:00:00Z");
    app.store.set_clock(Some(now));
    for day in ["2026-02-01", "2026-02-02", "2026-02-03"] {
        create(&app, &staff, schedule(w.a.id, json!({"next_issue_date": day}))).await;
    }
    create(&app, &staff, schedule(w.b.id, json!({"next_issue_date": "2026-02-01", "auto_send": true}))).await;
    let count = || async { app.query_strings("SELECT number FROM invoices", vec![], &["number"]).await.len() };
    let baseline = count().await;
    // Two server processes run the job at the same moment, over a week of missed periods.
    let later = at("2026-04-10T10:00:00Z");
    app.store.set_clock(Some(later));
    other.store.set_clock(Some(later));
    let (a, b) = tokio::join!(
        app.store.job_runner().issue_recurring_invoices(),
        other.store.job_runner().issue_recurring_invoices()
    );
    let issued = a.expect("first runner") + b.expect("second runner");
    // Feb, Mar and Apr of each of the four schedules (Apr 1–3 are past by Apr 10).
    assert_eq!(issued, 12);
    assert_eq!(count().await, baseline + 12);
    // Again, sequentially and through the job queue itself: nothing more.
    assert_eq!(app.store.job_runner().issue_recurring_invoices().await.unwrap(), 0);
    atrium_web::jobs::schedule_recurring_invoices(&app.store, Utc::now() - chrono::Duration::hours(2)).await.unwrap();
    atrium_web::jobs::schedule_recurring_invoices(&app.store, Utc::now() - chrono::Duration::hours(2)).await.unwrap();
    assert!(app.run_jobs().await >= 1);
    assert_eq!(count().await, baseline + 12);
    let queued = app
        .query_strings(
            "SELECT kind FROM jobs WHERE kind = ? AND status = ?",
            vec!["billing.recurring_invoices".into(), "queued".into()],
            &["kind"],
        )
        .await;
    assert_eq!(queued.len(), 1, "the job queued its next run, once: {queued:?}");
    app.exec_sql("DELETE FROM jobs WHERE kind = ?", vec!["billing.recurring_invoices".into()]).await;
    let numbers = app.query_strings("SELECT number FROM invoices", vec![], &["number"]).await;
    let unique: std::collections::BTreeSet<_> = numbers.iter().collect();
    assert_eq!(unique.len(), numbers.len(), "no number was given twice");
    other.run_jobs().await;
    app.run_jobs().await;
    app.store.set_clock(None);
    other.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn the_schedules_of_archived_and_deleted_clients_do_not_issue() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (owner, staff) = (app.token_for(w.owner).await, app.token_for(w.staff).await);
    app.store.set_clock(Some(at("2026-03-01T10:00:00Z")));
    let r = create(&app, &staff, schedule(w.a.id, json!({"next_issue_date": "2026-03-02"}))).await;
    create(&app, &staff, schedule(w.b.id, json!({"next_issue_date": "2026-03-02"}))).await;
    let (s, v) =
        call(&app, &owner, "PATCH", &format!("/clients/{}", w.a.id), Some(json!({"status": "archived"}))).await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = call(&app, &owner, "DELETE", &format!("/clients/{}", w.b.id), None).await;
    assert_eq!(s, 204);
    app.store.set_clock(Some(at("2026-03-02T10:00:00Z")));
    assert_eq!(issue(&app).await, 0);
    let (_, list) = call(&app, &staff, "GET", "/recurring-invoices", None).await;
    let listed: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|i| i["client_id"].as_str().unwrap()).collect();
    assert_eq!(listed, [w.a.id.to_string()], "a deleted client's schedules are gone with it");
    // Back from the archive, its schedule issues what is due.
    call(&app, &owner, "PATCH", &format!("/clients/{}", w.a.id), Some(json!({"status": "active"}))).await;
    assert_eq!(issue(&app).await, 1);
    let (_, v) = call(&app, &staff, "GET", &path_of(&r), None).await;
    assert_eq!(v["issued_count"], 1);
    finish(app).await;
}

#[tokio::test]
async fn client_users_get_404_on_every_recurring_invoice_route() {
    // SEC-AC-1, SEC-AC-2: staff only, for the client's own schedule too.
    let (app, w, staff) = world_at("2026-01-10T09:00:00Z").await;
    let r = create(&app, &staff, schedule(w.a.id, json!({}))).await;
    let path = path_of(&r);
    for user in [w.a.admin, w.a.finance, w.a.viewer] {
        let token = app.token_for(user).await;
        for (method, p, body) in [
            ("GET", "/recurring-invoices", None),
            ("POST", "/recurring-invoices", Some(schedule(w.a.id, json!({})))),
            ("GET", path.as_str(), None),
            ("PATCH", path.as_str(), Some(json!({"status": "paused"}))),
            ("DELETE", path.as_str(), None),
        ] {
            let (s, v) = call(&app, &token, method, p, body).await;
            assert_eq!((s, &v["error"]["code"]), (404, &json!("not_found")), "{method} {p} as {user}");
        }
        let page = app.browser_creds(Some(user)).await;
        let res =
            browser().get(app.url("/staff/recurring-invoices")).header("cookie", page.cookie).send().await.unwrap();
        assert_eq!(res.status(), 404);
    }
    let (_, v) = call(&app, &staff, "GET", &path, None).await;
    assert_eq!((&v["status"], &v["issued_count"]), (&json!("active"), &json!(0)), "untouched");
    finish(app).await;
}

#[tokio::test]
async fn staff_keep_schedules_on_the_billing_pages() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    app.store.set_clock(Some(at("2026-01-10T09:00:00Z")));
    let creds = app.browser_creds(Some(w.owner)).await;
    let client = browser();
    let server = &app;
    let get = |path: String| {
        let (client, cookie) = (client.clone(), creds.cookie.clone());
        async move { client.get(server.url(&path)).header("cookie", cookie).send().await.unwrap() }
    };
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let (client, cookie, csrf) = (client.clone(), creds.cookie.clone(), creds.csrf.clone());
        async move {
            let mut f = fields;
            f.push(("_csrf", csrf));
            client.post(server.url(&path)).header("cookie", cookie).form(&f).send().await.unwrap()
        }
    };
    let invoices = get("/staff/invoices".into()).await.text().await.unwrap();
    assert!(invoices.contains("href=\"/staff/recurring-invoices\""), "linked from Invoices");
    let list = get("/staff/recurring-invoices".into()).await;
    assert_eq!(list.status(), 200);
    assert!(list.text().await.unwrap().contains("New recurring invoice"));
    let form = |name: &str, due: &str| {
        vec![
            ("name", name.to_string()),
            ("client_id", w.a.id.to_string()),
            ("project_id", String::new()),
            ("currency", "eur".into()),
            ("interval", "yearly".into()),
            ("next_issue_date", "2026-02-01".into()),
            ("due_days", due.to_string()),
            ("auto_send", "true".into()),
            ("line_description", "Licence".into()),
            ("line_quantity", "1".into()),
            ("line_unit_price", "480".into()),
            ("line_tax_rate", String::new()),
            ("line_discount", String::new()),
            ("line_description", String::new()),
            ("line_quantity", String::new()),
            ("line_unit_price", String::new()),
            ("notes", String::new()),
        ]
    };
    let bad = post("/staff/recurring-invoices".into(), form("Licence", "-3")).await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("due_days"), "the error page names the field");
    let made = post("/staff/recurring-invoices".into(), form("Licence", "10")).await;
    assert_eq!(made.status(), 303);
    let at_page = made.headers()["location"].to_str().unwrap().to_string();
    let id = at_page.rsplit('/').next().unwrap().to_string();
    let html = get(at_page.clone()).await.text().await.unwrap();
    assert!(html.contains("Licence") && html.contains("Pause"), "{html}");
    let (s, v) = call(&app, &app.token_for(w.owner).await, "GET", &format!("/recurring-invoices/{id}"), None).await;
    assert_eq!(
        (s, &v["interval"], &v["currency"], &v["due_days"], &v["auto_send"]),
        (200, &json!("yearly"), &json!("EUR"), &json!(10), &json!(true))
    );
    assert_eq!(post(at_page.clone(), form("Licence renewal", "20")).await.status(), 303);
    assert_eq!(post(format!("{at_page}/status"), vec![("status", "paused".into())]).await.status(), 303);
    let html = get(at_page.clone()).await.text().await.unwrap();
    assert!(html.contains("Licence renewal") && html.contains("Resume"), "{html}");
    assert_eq!(post(format!("{at_page}/status"), vec![("status", "ended".into())]).await.status(), 303);
    let resumed = post(format!("{at_page}/status"), vec![("status", "active".into())]).await;
    assert_eq!(resumed.status(), 409);
    let listed = get("/staff/recurring-invoices".into()).await.text().await.unwrap();
    assert!(listed.contains("Licence renewal") && listed.contains("Ended"), "{listed}");
    assert_eq!(post(format!("{at_page}/delete"), vec![]).await.status(), 303);
    assert_eq!(get(at_page).await.status(), 404);
    finish(app).await;
}
