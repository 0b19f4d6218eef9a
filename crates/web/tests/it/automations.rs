//! Automations end to end on both databases, with the store's clock set by the test: the
//! rules are the owners' and admins' (staff 403, client users 404), bad input names the field,
//! the ready-made invoice reminders fire at their moments and only then (across a weekend and
//! a DST change), a mail rendered for a client holds nothing internal and nothing of another
//! client, two servers on one database send a reminder once, a run killed mid-way is done once,
//! and a rule switched off stops its pending runs.

use std::collections::BTreeMap;

use atrium_core::ids::{ClientId, InvoiceId};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use crate::common::*;

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// The id of a ready-made rule.
async fn builtin(app: &TestApp, token: &str, name: &str) -> String {
    let (s, v) = call(app, token, "GET", "/automations", None).await;
    assert_eq!(s, 200, "{v}");
    items(&v).iter().find(|r| r["builtin"] == name).expect("ready-made rule")["id"].as_str().unwrap().to_string()
}

/// A sent invoice of `client` due on `due`, sent at the store's current time.
async fn sent_invoice(app: &TestApp, w: &World, client: ClientId, due: NaiveDate) -> (InvoiceId, String) {
    let owner = app.actor(w.owner).await;
    let new = atrium_store::billing::NewInvoice {
        client_id: client,
        project_id: None,
        currency: "EUR".into(),
        issue_date: due - Duration::days(14),
        due_date: due,
        lines: vec![atrium_core::money::LineInput {
            description: "Design work".into(),
            quantity: "2".into(),
            unit_price: "450".into(),
            tax_rate: "0".into(),
            discount: String::new(),
        }],
        notes: String::new(),
        payment_instructions: None,
    };
    let inv = app.store.create_invoice(&owner, new, None).await.expect("invoice");
    let inv = app.store.send_invoice(&owner, inv.id, None).await.expect("send");
    (inv.id, inv.number)
}

/// Moves the clock hour by hour from `from` to `to`, sweeping and running jobs at each hour.
async fn tick(apps: &[&TestApp], from: DateTime<Utc>, to: DateTime<Utc>) {
    let mut t = from;
    while t <= to {
        for a in apps {
            a.store.set_clock(Some(t));
        }
        for a in apps {
            a.store.job_runner().sweep_automations().await.expect("sweep");
            a.run_jobs().await;
        }
        t += Duration::hours(1);
    }
}

/// The runs of a rule: step → fired_at.
async fn runs(app: &TestApp, token: &str, rule: &str) -> BTreeMap<String, (String, String)> {
    let (s, v) = call(app, token, "GET", &format!("/automations/{rule}/runs"), None).await;
    assert_eq!(s, 200, "{v}");
    items(&v)
        .iter()
        .map(|r| {
            let at: DateTime<Utc> = r["fired_at"].as_str().unwrap().parse().unwrap();
            (r["step"].as_str().unwrap().to_string(), (at.to_rfc3339(), r["outcome"].as_str().unwrap().to_string()))
        })
        .collect()
}

fn mails_about<'a>(mails: &'a [atrium_mail::Mail], number: &str) -> Vec<&'a atrium_mail::Mail> {
    mails.iter().filter(|m| m.subject.contains(number)).collect()
}

#[tokio::test]
async fn rules_are_the_owners_and_admins_and_bad_input_names_the_field() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let (s, v) = call(&app, &owner, "GET", "/automations", None).await;
    assert_eq!(s, 200, "{v}");
    let builtins: Vec<&str> = items(&v).iter().filter_map(|r| r["builtin"].as_str().map(|_| "x")).collect();
    assert_eq!(builtins.len(), 4, "the four ready-made rules: {v}");
    assert!(items(&v).iter().all(|r| r["enabled"] == false), "ready-made rules start off");
    for (who, want) in [(w.staff, 403), (w.a.admin, 404), (w.a.finance, 404)] {
        let t = app.token_for(who).await;
        let (s, _) = call(&app, &t, "GET", "/automations", None).await;
        assert_eq!(s, want);
    }
    let good = json!({
        "name": "Nudge on overdue", "enabled": true,
        "trigger": {"kind": "task.overdue", "days_after": 2},
        "conditions": {"client_id": w.a.id, "priority": "high"},
        "actions": [{"kind": "email", "to": "assignee", "subject": "{{task.title}} is late", "body": "See {{link}}"}]
    });
    let (s, v) = call(&app, &owner, "POST", "/automations", Some(good.clone())).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["trigger"]["kind"], "task.overdue");
    let id = v["id"].as_str().unwrap().to_string();
    let mut bad_cases = vec![
        (json!({"trigger": {"kind": "task.exploded"}}), "trigger"),
        (json!({"trigger": {"kind": "task.due", "days_before": -3}}), "trigger.days_before"),
        (json!({"trigger": {"kind": "schedule", "every": "week", "day": 9, "time": "09:00"}}), "trigger.day"),
        (json!({"trigger": {"kind": "schedule", "every": "week", "day": 1, "time": "9am"}}), "trigger.time"),
        (json!({"conditions": {"priority": "extreme"}}), "conditions"),
        (json!({"conditions": {"client_id": uuid::Uuid::now_v7()}}), "conditions.client_id"),
        (
            json!({"actions": [{"kind": "email", "to": "assignee", "subject": "x", "body": "{{task.secret}}"}]}),
            "actions[0].body",
        ),
        (
            json!({"actions": [{"kind": "email", "to": uuid::Uuid::now_v7(), "subject": "x", "body": "y"}]}),
            "actions[0].to",
        ),
        (json!({"actions": [{"kind": "create_task", "title": "x", "offset_days": -1}]}), "actions[0].offset_days"),
        (json!({"actions": [{"kind": "teleport"}]}), "actions"),
        (json!({"actions": []}), "actions"),
        (json!({"name": ""}), "name"),
    ];
    for (patch, field) in bad_cases.drain(..) {
        let mut body = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, v) = call(&app, &owner, "POST", "/automations", Some(body.clone())).await;
        assert_eq!(s, 422, "{body}: {v}");
        let named = v["error"]["field"].as_str().unwrap_or_default().to_string()
            + " "
            + v["error"]["message"].as_str().unwrap_or_default();
        assert!(named.contains(field), "{body} must name {field}: {v}");
    }
    // A ready-made rule takes only its switch and settings; it cannot be deleted.
    let reminders = builtin(&app, &owner, "task_reminders").await;
    let (s, v) = call(&app, &owner, "PATCH", &format!("/automations/{reminders}"), Some(json!({"name": "Mine"}))).await;
    assert_eq!(s, 422, "{v}");
    let (s, v) =
        call(&app, &owner, "PATCH", &format!("/automations/{reminders}"), Some(json!({"settings": {"every_days": 0}})))
            .await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = call(
        &app,
        &owner,
        "PATCH",
        &format!("/automations/{reminders}"),
        Some(json!({"enabled": true, "settings": {"every_days": 2, "at_most": 4}})),
    )
    .await;
    assert_eq!((s, v["enabled"].clone(), v["settings"]["every_days"].clone()), (200, json!(true), json!(2)), "{v}");
    let (s, _) = call(&app, &owner, "DELETE", &format!("/automations/{reminders}"), None).await;
    assert_eq!(s, 409);
    let (s, _) = call(&app, &owner, "DELETE", &format!("/automations/{id}"), None).await;
    assert_eq!(s, 204);
    let audited = app
        .query_strings(
            "SELECT action FROM audit_log WHERE action LIKE ? ORDER BY at",
            vec!["automation.%".into()],
            &["action"],
        )
        .await;
    assert_eq!(audited.len(), 3, "create, update, delete audited: {audited:?}");
    app.stop().await;
}

#[tokio::test]
async fn invoice_reminders_fire_at_their_moments_once_each_across_a_weekend() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let rule = builtin(&app, &owner, "invoice_reminders").await;
    let (s, v) = call(&app, &owner, "PATCH", &format!("/automations/{rule}"), Some(json!({"enabled": true}))).await;
    assert_eq!(s, 200, "{v}");
    // Sent on Monday 2027-01-04, due Tuesday 2027-01-12: 3 days before is Saturday, so Friday.
    app.store.set_clock(Some(utc(2027, 1, 4, 10)));
    let (_, number) = sent_invoice(&app, &w, w.a.id, NaiveDate::from_ymd_opt(2027, 1, 12).unwrap()).await;
    // B's finance user stops automatic mail; A's keep it.
    let (_, second) = sent_invoice(&app, &w, w.b.id, NaiveDate::from_ymd_opt(2027, 1, 12).unwrap()).await;
    let finance_b = app.token_for(w.b.finance).await;
    let (s, v) =
        call(&app, &finance_b, "PUT", "/notification-settings", Some(json!({"kind": "automated", "delivery": "off"})))
            .await;
    assert_eq!(s, 204, "{v}");
    app.run_jobs().await;
    app.mails.lock().unwrap().clear();
    tick(&[&app], utc(2027, 1, 4, 10), utc(2027, 1, 22, 12)).await;
    let got = runs(&app, &owner, &rule).await;
    assert_eq!(got.len(), 3, "three steps (two invoices share them): {got:?}");
    let want: BTreeMap<String, (String, String)> =
        [("before-3", utc(2027, 1, 8, 9)), ("due", utc(2027, 1, 12, 9)), ("after-7", utc(2027, 1, 19, 9))]
            .into_iter()
            .map(|(s, t)| (s.to_string(), (t.to_rfc3339(), "done".to_string())))
            .collect();
    assert_eq!(got, want, "each step once, at 09:00 on a business day");
    let mails = app.mails().await;
    let about = mails_about(&mails, &number);
    // The client's admin and finance user, three times; never the viewer, never staff.
    assert_eq!(about.len(), 6, "{:?}", about.iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>());
    assert!(about.iter().all(|m| m.to == "admin@a.test" || m.to == "finance@a.test"), "billing people only");
    assert!(
        about.iter().any(|m| m.subject.contains("due in 3 days"))
            && about.iter().any(|m| m.subject.contains("overdue"))
    );
    let to_b = mails_about(&mails, &second);
    assert!(
        to_b.len() == 3 && to_b.iter().all(|m| m.to == "admin@b.test"),
        "B's finance user chose no mail: {:?}",
        to_b.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    app.stop().await;
}

#[tokio::test]
async fn reminders_keep_their_local_hour_across_a_dst_change() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let mut levels = serde_json::to_value(atrium_core::service_level::ServiceLevels::default().settings()).unwrap();
    levels["timezone"] = json!("Europe/Berlin");
    let (s, v) = call(&app, &owner, "PUT", "/helpdesk/settings", Some(levels)).await;
    assert_eq!(s, 200, "{v}");
    let rule = builtin(&app, &owner, "invoice_reminders").await;
    call(&app, &owner, "PATCH", &format!("/automations/{rule}"), Some(json!({"enabled": true}))).await;
    // Due Wednesday 2027-03-31; Berlin moves to summer time on Sunday 2027-03-28.
    app.store.set_clock(Some(utc(2027, 3, 20, 10)));
    sent_invoice(&app, &w, w.a.id, NaiveDate::from_ymd_opt(2027, 3, 31).unwrap()).await;
    tick(&[&app], utc(2027, 3, 20, 10), utc(2027, 4, 8, 12)).await;
    let got = runs(&app, &owner, &rule).await;
    // 09:00 Berlin: 08:00 UTC in winter (Friday the 26th), 07:00 UTC in summer.
    assert_eq!(got["before-3"].0, utc(2027, 3, 26, 8).to_rfc3339(), "3 days before is Sunday: Friday, winter time");
    assert_eq!(got["due"].0, utc(2027, 3, 31, 7).to_rfc3339(), "on the day, summer time");
    assert_eq!(got["after-7"].0, utc(2027, 4, 7, 7).to_rfc3339());
    app.stop().await;
}

#[tokio::test]
async fn a_mail_for_a_client_holds_nothing_internal_or_of_another_client() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let body =
        "Hello {{recipient.name}}: {{task.title}} in {{project.name}} for {{client.name}} is {{task.status}}. {{link}}";
    let rule = json!({
        "name": "Tell the client", "enabled": true,
        "trigger": {"kind": "task.status_changed", "to": "in_progress"},
        "actions": [
            {"kind": "email", "to": "client_admins", "subject": "Started: {{task.title}}", "body": body},
            {"kind": "comment", "visibility": "note", "body": "Automation saw {{task.title}} start"}
        ]
    });
    let (s, v) = call(&app, &owner, "POST", "/automations", Some(rule)).await;
    assert_eq!(s, 201, "{v}");
    let summary = builtin(&app, &owner, "weekly_summary").await;
    call(&app, &owner, "PATCH", &format!("/automations/{summary}"), Some(json!({"enabled": true}))).await;
    // A's task starts: A's admin is told, with A's data only.
    let staff = app.token_for(w.staff).await;
    let (s, v) =
        call(&app, &staff, "PATCH", &format!("/tasks/{}", w.a.task), Some(json!({"status": "in_progress"}))).await;
    assert_eq!(s, 200, "{v}");
    app.run_jobs().await;
    // The weekly summary on Monday morning.
    let monday = utc(2026, 12, 7, 9);
    tick(&[&app], monday, monday).await;
    let mails = app.mails().await;
    let to_a: Vec<_> = mails.iter().filter(|m| m.to == "admin@a.test").collect();
    assert!(
        to_a.iter().any(|m| m.subject.contains(&w.a.task_title)),
        "the rule's mail: {:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert!(to_a.iter().any(|m| m.subject.contains("Your week")), "the weekly summary");
    let mut forbidden = w.b.secrets();
    forbidden.extend([
        w.a.note_text.clone(),
        w.a.staff_message_text.clone(),
        w.a.staff_page_title.clone(),
        w.a.ticket_note_text.clone(),
        "Automation saw".into(),
    ]);
    for m in &to_a {
        for f in &forbidden {
            assert!(
                !m.text.contains(f.as_str()) && !m.html.contains(f.as_str()) && !m.subject.contains(f.as_str()),
                "{f:?} in a mail to A: {}",
                m.text
            );
        }
        assert!(m.text.contains("/portal"), "a client's link is to the portal: {}", m.text);
        assert!(!m.text.contains("/staff/"), "never a staff page: {}", m.text);
    }
    let started = to_a.iter().find(|m| m.subject.contains("Started")).unwrap();
    assert!(
        started.text.contains(&w.a.project_name)
            && started.text.contains(&w.a.name)
            && started.text.contains("In progress"),
        "{}",
        started.text
    );
    // B's admin got nothing about A, and the note was written for staff only.
    assert!(mails.iter().filter(|m| m.to == "admin@b.test").all(|m| !m.subject.contains("Started")));
    let notes = app
        .query_strings(
            "SELECT body FROM comments WHERE visibility = ? AND body LIKE ?",
            vec!["note".into(), "Automation saw%".into()],
            &["body"],
        )
        .await;
    assert_eq!(notes.len(), 1, "the note action ran once");
    app.stop().await;
}

#[tokio::test]
async fn two_servers_on_one_database_send_a_reminder_once() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let other = TestApp::spawn_beside(&app).await;
    let owner = app.token_for(w.owner).await;
    let rule = builtin(&app, &owner, "invoice_reminders").await;
    call(&app, &owner, "PATCH", &format!("/automations/{rule}"), Some(json!({"enabled": true}))).await;
    app.store.set_clock(Some(utc(2027, 1, 4, 10)));
    let (_, number) = sent_invoice(&app, &w, w.a.id, NaiveDate::from_ymd_opt(2027, 1, 12).unwrap()).await;
    app.run_jobs().await;
    let due_day = utc(2027, 1, 12, 9);
    for a in [&app, &other] {
        a.store.set_clock(Some(due_day));
    }
    // Both sweep and both run their queues at the same moment, twice.
    for _ in 0..2 {
        let (x, y) =
            tokio::join!(app.store.job_runner().sweep_automations(), other.store.job_runner().sweep_automations());
        x.unwrap();
        y.unwrap();
        tokio::join!(app.run_jobs(), other.run_jobs());
    }
    let mut all = app.mails().await;
    all.extend(other.mails().await);
    let about: Vec<_> = mails_about(&all, &number).into_iter().filter(|m| m.subject.contains("due today")).collect();
    assert_eq!(
        about.len(),
        2,
        "once to the admin, once to finance: {:?}",
        about.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    other.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_run_killed_mid_way_is_retried_once_and_a_rule_switched_off_stops_its_runs() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let rule = builtin(&app, &owner, "invoice_reminders").await;
    call(&app, &owner, "PATCH", &format!("/automations/{rule}"), Some(json!({"enabled": true}))).await;
    app.store.set_clock(Some(utc(2027, 1, 4, 10)));
    let (_, first) = sent_invoice(&app, &w, w.a.id, NaiveDate::from_ymd_opt(2027, 1, 12).unwrap()).await;
    let (_, second) = sent_invoice(&app, &w, w.b.id, NaiveDate::from_ymd_opt(2027, 1, 12).unwrap()).await;
    app.run_jobs().await;
    app.mails.lock().unwrap().clear();
    app.store.set_clock(Some(utc(2027, 1, 12, 9)));
    assert_eq!(app.store.job_runner().sweep_automations().await.unwrap(), 2, "one run per invoice");
    // A worker claims one run and dies (its lease runs out without a word).
    let claimed = app.store.job_runner().claim_job("doomed", std::time::Duration::from_millis(1)).await.unwrap();
    assert_eq!(claimed.expect("a run job").kind, "automation.run");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.run_jobs().await;
    app.run_jobs().await;
    let mails = app.mails().await;
    assert_eq!(mails_about(&mails, &first).len(), 2, "A's admin and finance, once each");
    assert_eq!(mails_about(&mails, &second).len(), 2, "B's admin and finance, once each");
    // After 7 days the next step is queued; the rule is switched off before it runs.
    app.store.set_clock(Some(utc(2027, 1, 19, 9)));
    assert_eq!(app.store.job_runner().sweep_automations().await.unwrap(), 2);
    let (s, v) = call(&app, &owner, "PATCH", &format!("/automations/{rule}"), Some(json!({"enabled": false}))).await;
    assert_eq!(s, 200, "{v}");
    app.run_jobs().await;
    let got = runs(&app, &owner, &rule).await;
    assert!(app.mails().await.iter().all(|m| !m.subject.contains("overdue")), "no reminder after switching off");
    assert_eq!(got.get("after-7").map(|r| r.1.as_str()), Some("cancelled"), "{got:?}");
    app.stop().await;
}

#[tokio::test]
async fn owners_keep_automations_in_the_browser() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let page = |user, path: String| {
        let app = &app;
        async move {
            let creds = app.browser_creds(Some(user)).await;
            Answer::of(browser().get(app.url(&path)).header("cookie", &creds.cookie).send().await.unwrap()).await
        }
    };
    let post = |path: String, fields: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            let creds = app.browser_creds(Some(w.owner)).await;
            let mut f: Vec<(String, String)> = fields.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
            f.push(("_csrf".into(), creds.csrf.clone()));
            Answer::of(browser().post(app.url(&path)).header("cookie", &creds.cookie).form(&f).send().await.unwrap())
                .await
        }
    };
    let list = page(w.owner, "/staff/automations".into()).await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Invoice reminders") && list.body.contains("Weekly summary"), "{}", list.body);
    assert_eq!(page(w.staff, "/staff/automations".into()).await.status, 403, "owners and admins only");
    assert!(page(w.owner, "/staff/clients".into()).await.body.contains("href=\"/staff/automations\""));
    assert!(
        !page(w.staff, "/staff/clients".into()).await.body.contains("href=\"/staff/automations\""),
        "no link to a 403"
    );
    // Switch a ready-made rule on with its settings.
    let owner = app.token_for(w.owner).await;
    let reminders = builtin(&app, &owner, "task_reminders").await;
    let a = post(
        format!("/staff/automations/{reminders}/switch"),
        vec![("enabled", "on"), ("every_days", "5"), ("at_most", "2")],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let (_, v) = call(&app, &owner, "GET", &format!("/automations/{reminders}"), None).await;
    assert_eq!((v["enabled"].clone(), v["settings"]["every_days"].clone()), (json!(true), json!(5)));
    // A bad placeholder shows the form again, with what was sent and the field named.
    let rule = vec![
        ("name", "Tell the client"),
        ("trigger", "invoice.sent"),
        ("days", "3"),
        ("every", "week"),
        ("day", "1"),
        ("time", "09:00"),
        ("client_id", ""),
        ("action", "email"),
        ("to", "client_admins"),
        ("subject", "Invoice {{invoice.number}}"),
        ("body", "Hello {{recipient.nickname}}"),
    ];
    let a = post("/staff/automations".into(), rule.clone()).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        a.body.contains("actions[0].body")
            && a.body.contains("recipient.nickname")
            && a.body.contains("Tell the client"),
        "{}",
        a.body
    );
    let mut good = rule;
    good[10] = ("body", "Hello {{recipient.name}}, see {{link}}");
    let a = post("/staff/automations".into(), good).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let (_, v) = call(&app, &owner, "GET", "/automations", None).await;
    let mine = items(&v).into_iter().find(|r| r["name"] == "Tell the client").expect("added");
    let id = mine["id"].as_str().unwrap().to_string();
    // Sending an invoice runs it; the log page shows the run.
    let inv = draft_invoice(&app, &app.actor(w.owner).await, w.a.id).await;
    app.store.send_invoice(&app.actor(w.owner).await, inv, None).await.unwrap();
    app.run_jobs().await;
    let log = page(w.owner, format!("/staff/automations/{id}")).await;
    assert_eq!(log.status, 200);
    assert!(
        log.body.contains("invoice") && log.body.contains("done") && log.body.contains("mailed 1 person"),
        "{}",
        log.body
    );
    let a = post(format!("/staff/automations/{id}/delete"), vec![]).await;
    assert_eq!(a.status, 303);
    assert_eq!(page(w.owner, format!("/staff/automations/{id}")).await.status, 404);
    app.stop().await;
}
