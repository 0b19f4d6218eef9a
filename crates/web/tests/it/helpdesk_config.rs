//! The help desk's configuration, end to end on both databases: the service levels (staff read,
//! owners and admins change, 422 naming the field), the staff's saved replies (CRUD, audited,
//! 404 for client users, offered in the staff composer only) and a project's request form
//! (defined by staff, read by the client's own users, 404 for another client's).

use crate::common::*;
use serde_json::{Value, json};

/// The error message, which starts with the field it names.
fn field(v: &Value) -> &str {
    v["error"]["message"].as_str().unwrap_or_default()
}

fn settings() -> Value {
    json!({
        "timezone": "Europe/Berlin",
        "business_hours": {"days": [1, 2, 3, 4], "start": "08:30", "end": "16:00"},
        "sla": {
            "low": {"first_response_minutes": 900, "resolution_minutes": 4000},
            "normal": {"first_response_minutes": 450, "resolution_minutes": 2000},
            "high": {"first_response_minutes": 200, "resolution_minutes": 1000},
            "urgent": {"first_response_minutes": 30, "resolution_minutes": 400}
        }
    })
}

async fn page(app: &TestApp, user: atrium_core::ids::UserId, path: &str) -> Answer {
    let creds = app.browser_creds(Some(user)).await;
    Answer::of(browser().get(app.url(path)).header("cookie", &creds.cookie).send().await.unwrap()).await
}

async fn post_form(app: &TestApp, user: atrium_core::ids::UserId, path: &str, fields: &[(&str, &str)]) -> Answer {
    let creds = app.browser_creds(Some(user)).await;
    let mut f: Vec<(&str, &str)> = fields.to_vec();
    f.push(("_csrf", &creds.csrf));
    Answer::of(browser().post(app.url(path)).header("cookie", &creds.cookie).form(&f).send().await.unwrap()).await
}

#[tokio::test]
async fn service_levels_are_read_and_changed_by_owners_and_admins() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (owner, admin, staff) =
        (app.token_for(w.owner).await, app.token_for(w.admin).await, app.token_for(w.staff).await);
    assert_eq!(call(&app, &staff, "GET", "/helpdesk/settings", None).await.0, 403, "owners and admins only");
    let (s, v) = call(&app, &admin, "GET", "/helpdesk/settings", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["timezone"], "UTC");
    assert_eq!(v["business_hours"], json!({"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"}));
    assert_eq!(v["sla"]["urgent"], json!({"first_response_minutes": 60, "resolution_minutes": 480}));
    for u in [w.a.admin, w.a.finance, w.a.viewer] {
        let t = app.token_for(u).await;
        assert_eq!(call(&app, &t, "GET", "/helpdesk/settings", None).await.0, 404);
        assert_eq!(call(&app, &t, "PUT", "/helpdesk/settings", Some(settings())).await.0, 404);
    }
    assert_eq!(call(&app, &staff, "PUT", "/helpdesk/settings", Some(settings())).await.0, 403);
    let (s, v) = call(&app, &admin, "PUT", "/helpdesk/settings", Some(settings())).await;
    assert_eq!((s, &v), (200, &settings()));
    assert_eq!(call(&app, &owner, "GET", "/helpdesk/settings", None).await.1, settings());
    let levels = app.store.helpdesk_settings(&app.actor(w.admin).await).await.unwrap();
    assert_eq!(levels.timezone().name(), "Europe/Berlin");
    let audit = app
        .query_strings("SELECT action FROM audit_log WHERE action = 'helpdesk_settings.update'", vec![], &["action"])
        .await;
    assert_eq!(audit.len(), 1);

    // Every bad value is a 422 naming the field; nothing changes.
    let bad = |path: &[&str], value: Value| {
        let mut b = settings();
        let mut at = &mut b;
        for p in &path[..path.len() - 1] {
            at = &mut at[*p];
        }
        at[path[path.len() - 1]] = value;
        b
    };
    let cases = [
        (bad(&["timezone"], json!("Mars/Olympus")), "timezone"),
        (bad(&["business_hours", "days"], json!([])), "business_hours.days"),
        (bad(&["business_hours", "days"], json!([1, 1])), "business_hours.days"),
        (bad(&["business_hours", "days"], json!([8])), "business_hours.days"),
        (bad(&["business_hours", "start"], json!("9am")), "business_hours.start"),
        (bad(&["business_hours", "end"], json!("08:00")), "business_hours.end"),
        (bad(&["sla", "high", "first_response_minutes"], json!(0)), "sla.high.first_response_minutes"),
        (bad(&["sla", "low", "resolution_minutes"], json!(525_601)), "sla.low.resolution_minutes"),
        (bad(&["sla", "normal", "resolution_minutes"], json!("soon")), "sla.normal.resolution_minutes"),
        (bad(&["sla", "urgent", "extra"], json!(1)), "sla.urgent"),
    ];
    for (body, name) in cases {
        let (s, v) = call(&app, &owner, "PUT", "/helpdesk/settings", Some(body)).await;
        assert_eq!(s, 422, "{name}: {v}");
        assert!(field(&v).contains(name), "{name}: {v}");
    }
    assert_eq!(call(&app, &owner, "GET", "/helpdesk/settings", None).await.1, settings());

    // The page: owners and admins get the form; other staff are refused.
    let a = page(&app, w.owner, "/staff/settings/helpdesk").await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("value=\"Europe/Berlin\"") && a.body.contains("Service levels"), "{}", a.body);
    let inbox = page(&app, w.owner, "/staff/inbox").await;
    assert!(inbox.body.contains("href=\"/staff/settings/helpdesk\""), "linked from the inbox: {}", inbox.body);
    let inbox = page(&app, w.staff, "/staff/inbox").await;
    assert!(!inbox.body.contains("href=\"/staff/settings/helpdesk\""), "not for other staff");
    assert_eq!(page(&app, w.staff, "/staff/settings/helpdesk").await.status, 403);
    let mut form: Vec<(String, String)> = vec![
        ("timezone".into(), "America/New_York".into()),
        ("business_hours.days".into(), "1".into()),
        ("business_hours.days".into(), "3".into()),
        ("business_hours.start".into(), "10:00".into()),
        ("business_hours.end".into(), "24:00".into()),
    ];
    for p in ["low", "normal", "high", "urgent"] {
        form.push((format!("sla.{p}.first_response_minutes"), "90".into()));
        form.push((format!("sla.{p}.resolution_minutes"), "600".into()));
    }
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let a = post_form(&app, w.owner, "/staff/settings/helpdesk", &fields).await;
    assert_eq!((a.status, a.location()), (303, Some("/staff/settings/helpdesk?notice=saved")));
    let (_, v) = call(&app, &owner, "GET", "/helpdesk/settings", None).await;
    assert_eq!(v["business_hours"], json!({"days": [1, 3], "start": "10:00", "end": "24:00"}));
    assert_eq!(v["sla"]["high"]["first_response_minutes"], 90);
    let a = page(&app, w.owner, "/staff/settings/helpdesk").await;
    assert!(a.body.contains("1 h 30 min") && a.body.contains("10 h"), "hours are shown beside the minutes");
    let mut refused = fields.clone();
    refused.retain(|(k, _)| *k != "sla.high.first_response_minutes");
    refused.push(("sla.high.first_response_minutes", "lots"));
    let a = post_form(&app, w.owner, "/staff/settings/helpdesk", &refused).await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("sla.high.first_response_minutes: must be a whole number"), "{}", a.body);
    assert!(a.body.contains("value=\"lots\""), "what was sent is kept");
    app.stop().await;
}

#[tokio::test]
async fn saved_replies_are_one_staff_library_offered_in_the_composer() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (staff, owner) = (app.token_for(w.staff).await, app.token_for(w.owner).await);
    let (s, list) = call(&app, &staff, "GET", "/saved-replies", None).await;
    assert_eq!((s, list["items"].as_array().map(Vec::len)), (200, Some(0)));
    let body = json!({"title": "Thanks", "body": "Thanks for reaching out!\n\nWe are on it."});
    let (s, r) = call(&app, &staff, "POST", "/saved-replies", Some(body)).await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(r["created_by"], w.staff.to_string());
    // Another staff member edits it: one library.
    let (s, r) =
        call(&app, &owner, "PATCH", &format!("/saved-replies/{id}"), Some(json!({"title": "Thank you"}))).await;
    assert_eq!(
        (s, r["title"].as_str(), r["updated_by"].as_str()),
        (200, Some("Thank you"), Some(w.owner.to_string().as_str()))
    );
    assert_eq!(r["body"], "Thanks for reaching out!\n\nWe are on it.");
    let (_, list) = call(&app, &owner, "GET", "/saved-replies", None).await;
    assert_eq!(list["items"][0]["id"], id.as_str());
    // Client users: every route is 404.
    for u in [w.a.admin, w.a.finance, w.a.viewer] {
        let t = app.token_for(u).await;
        assert_eq!(call(&app, &t, "GET", "/saved-replies", None).await.0, 404);
        assert_eq!(call(&app, &t, "POST", "/saved-replies", Some(json!({"title": "x", "body": "y"}))).await.0, 404);
        assert_eq!(call(&app, &t, "PATCH", &format!("/saved-replies/{id}"), Some(json!({"title": "x"}))).await.0, 404);
        assert_eq!(call(&app, &t, "DELETE", &format!("/saved-replies/{id}"), None).await.0, 404);
    }
    // Bad input names the field.
    for (b, name) in [
        (json!({"title": "", "body": "x"}), "title"),
        (json!({"title": "x".repeat(201), "body": "x"}), "title"),
        (json!({"title": "a\nb", "body": "x"}), "title"),
        (json!({"title": "x", "body": " "}), "body"),
        (json!({"title": "x", "body": "x", "owner": "me"}), "owner"),
    ] {
        let (s, v) = call(&app, &staff, "POST", "/saved-replies", Some(b)).await;
        assert!(s == 422 && field(&v).contains(name), "{name}: {v}");
    }
    let (s, v) =
        call(&app, &staff, "PATCH", &format!("/saved-replies/{id}"), Some(json!({"body": "x".repeat(20_001)}))).await;
    assert!(s == 422 && field(&v).starts_with("body:"), "{v}");
    // The staff task composer offers it (hidden until the script shows it), the portal's never.
    let a = page(&app, w.staff, &format!("/staff/tasks/{}", w.a.task)).await;
    assert!(
        a.body.contains("Insert saved reply") && a.body.contains("data-body=\"Thanks for reaching out!"),
        "{}",
        a.body
    );
    let a = page(&app, w.a.admin, &format!("/portal/tasks/{}", w.a.task)).await;
    assert_eq!(a.status, 200);
    assert!(!a.body.contains("Insert saved reply"));
    // The page: list, add, edit, delete.
    let a = page(&app, w.staff, "/staff/saved-replies").await;
    assert!(a.status == 200 && a.body.contains("Thank you"), "{}", a.body);
    let a =
        post_form(&app, w.staff, "/staff/saved-replies", &[("title", "Closing"), ("body", "Closing this now.")]).await;
    assert_eq!((a.status, a.location()), (303, Some("/staff/saved-replies?notice=added")));
    let a = post_form(&app, w.staff, "/staff/saved-replies", &[("title", ""), ("body", "Kept text")]).await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("title: must not be empty") && a.body.contains("Kept text"), "{}", a.body);
    let a =
        post_form(&app, w.staff, &format!("/staff/saved-replies/{id}"), &[("title", "Renamed"), ("body", "New text")])
            .await;
    assert_eq!(a.status, 303);
    let a = post_form(&app, w.staff, &format!("/staff/saved-replies/{id}/delete"), &[]).await;
    assert_eq!(a.status, 303);
    let (_, list) = call(&app, &staff, "GET", "/saved-replies", None).await;
    let titles: Vec<&str> = list["items"].as_array().unwrap().iter().filter_map(|r| r["title"].as_str()).collect();
    assert_eq!(titles, ["Closing"]);
    assert_eq!(call(&app, &staff, "DELETE", &format!("/saved-replies/{id}"), None).await.0, 404);
    let audit = app
        .query_strings(
            "SELECT action FROM audit_log WHERE action LIKE 'saved_reply.%' ORDER BY at",
            vec![],
            &["action"],
        )
        .await;
    assert_eq!(audit.len(), 5, "{audit:?}");
    app.stop().await;
}

fn form_def() -> Value {
    json!({"fields": [
        {"key": "page_url", "label": "Page address", "type": "text", "required": true, "help": "Where did it happen?"},
        {"key": "browser", "label": "Browser", "type": "select", "required": false, "options": ["Firefox", "Chrome"]},
        {"key": "areas", "label": "Areas", "type": "multiselect", "required": false, "options": ["Login", "Files"]},
        {"key": "agree", "label": "I read the FAQ", "type": "checkbox", "required": true},
        {"key": "since", "label": "Since", "type": "date", "required": false},
        {"key": "details", "label": "Details", "type": "textarea", "required": false},
        {"key": "shot", "label": "Screenshot", "type": "file", "required": false}
    ]})
}

#[tokio::test]
async fn request_forms_are_defined_by_staff_and_read_by_the_clients_own_users() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let path = format!("/projects/{}/request-form", w.a.project);
    let (s, v) = call(&app, &staff, "GET", &path, None).await;
    assert_eq!((s, v), (200, json!({"fields": []})));
    let (s, v) = call(&app, &staff, "PUT", &path, Some(form_def())).await;
    assert_eq!((s, &v), (200, &form_def()));
    for u in [w.a.admin, w.a.viewer] {
        let t = app.token_for(u).await;
        let (s, v) = call(&app, &t, "GET", &path, None).await;
        assert_eq!((s, &v), (200, &form_def()));
        assert_eq!(call(&app, &t, "PUT", &path, Some(json!({"fields": []}))).await.0, 403);
    }
    // Finance users do not see project work, so not its form either; another client's users
    // never.
    for u in [w.a.finance, w.b.admin, w.b.finance, w.b.viewer] {
        let t = app.token_for(u).await;
        assert_eq!(call(&app, &t, "GET", &path, None).await.0, 404);
        assert_eq!(call(&app, &t, "PUT", &path, Some(json!({"fields": []}))).await.0, 404);
    }
    // A bad definition is a 422 naming the field; nothing changes.
    let with = |i: usize, k: &str, val: Value| {
        let mut d = form_def();
        d["fields"][i][k] = val;
        d
    };
    let cases = [
        (with(1, "key", json!("page_url")), "fields[1].key"),
        (with(0, "key", json!("Page URL")), "fields[0].key"),
        (with(0, "label", json!("")), "fields[0].label"),
        (with(0, "label", json!("x".repeat(121))), "fields[0].label"),
        (with(0, "help", json!("x".repeat(501))), "fields[0].help"),
        (with(1, "options", json!([])), "fields[1].options"),
        (with(2, "options", json!(["Login", "Login"])), "fields[2].options"),
        (with(0, "options", json!(["a"])), "fields[0].options"),
        (with(0, "type", json!("colour")), "fields[0].type"),
        (with(0, "extra", json!(1)), "extra"),
    ];
    for (body, name) in cases {
        let (s, v) = call(&app, &staff, "PUT", &path, Some(body)).await;
        assert!(s == 422 && field(&v).contains(name), "{name}: {v}");
    }
    let many: Vec<Value> =
        (0..31).map(|i| json!({"key": format!("k{i}"), "label": "L", "type": "text", "required": false})).collect();
    let (s, v) = call(&app, &staff, "PUT", &path, Some(json!({ "fields": many }))).await;
    assert!(s == 422 && field(&v).starts_with("fields:"), "{v}");
    assert_eq!(call(&app, &staff, "GET", &path, None).await.1, form_def());
    // The store's check of a ticket's answers names the field.
    let form = app.store.request_form(&app.actor(w.a.admin).await.work_scope(), w.a.project).await.unwrap();
    let answers = json!({"page_url": "https://x.test", "agree": false});
    let e = form.check_answers(answers.as_object().unwrap()).unwrap_err();
    assert!(e.to_string().starts_with("fields.agree:"), "{e}");

    // The editor page: shown to staff, linked from the project; saving keeps the order given.
    let a = page(&app, w.staff, &format!("/staff/projects/{}", w.a.project)).await;
    assert!(a.body.contains(&format!("/staff/projects/{}/request-form", w.a.project)));
    let editor = format!("/staff/projects/{}/request-form", w.a.project);
    let a = page(&app, w.staff, &editor).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("value=\"page_url\"") && a.body.contains("Add a field"), "{}", a.body);
    let a = post_form(
        &app,
        w.staff,
        &editor,
        &[
            ("fields[0].key", "first"),
            ("fields[0].label", "First"),
            ("fields[0].type", "text"),
            ("fields[0].position", "2"),
            ("fields[1].key", "pick"),
            ("fields[1].label", "Pick one"),
            ("fields[1].type", "select"),
            ("fields[1].required", "true"),
            ("fields[1].options", "Red\r\nBlue\r\n"),
            ("fields[1].position", "1"),
            ("fields[2].key", "gone"),
            ("fields[2].label", "Gone"),
            ("fields[2].type", "text"),
            ("fields[2].remove", "true"),
            ("fields[3].key", ""),
            ("fields[3].label", ""),
            ("fields[3].type", "text"),
        ],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let (_, v) = call(&app, &staff, "GET", &path, None).await;
    assert_eq!(
        v,
        json!({"fields": [
            {"key": "pick", "label": "Pick one", "type": "select", "required": true, "options": ["Red", "Blue"]},
            {"key": "first", "label": "First", "type": "text", "required": false}
        ]})
    );
    let a = post_form(
        &app,
        w.staff,
        &editor,
        &[
            ("fields[0].key", "ok"),
            ("fields[0].label", "Fine"),
            ("fields[0].type", "text"),
            ("fields[1].key", "choose"),
            ("fields[1].label", "Choose"),
            ("fields[1].type", "select"),
        ],
    )
    .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("Field 2, options: a choice needs at least one option"), "{}", a.body);
    assert_eq!(page(&app, w.a.admin, &editor).await.status, 404);
    app.stop().await;
}
