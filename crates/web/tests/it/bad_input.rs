//! Bad input, end to end: malformed or mistyped JSON, missing and unknown fields, oversize bodies,
//! garbage ids, text over the limits of `atrium_core::validate`, expired and reused links, and
//! markup in user text. Every answer is a 4xx with a clear message (the JSON error body of the
//! API contract for `/api`), never a 500.

use crate::common::*;
use atrium_core::branding::{AGENCY_NAME_MAX, WELCOME_TEXT_MAX};
use atrium_core::model::TokenPurpose;
use atrium_core::request_form::{HELP_MAX as FORM_HELP_MAX, KEY_MAX as FORM_KEY_MAX, LABEL_MAX as FORM_LABEL_MAX};
use atrium_core::saved_reply::TITLE_MAX as SAVED_REPLY_TITLE_MAX;
use atrium_core::validate::{BODY_MAX, EMAIL_MAX, NAME_MAX, TITLE_MAX};
use serde_json::{Value, json};

/// Sends `body` as raw bytes with a content type, authenticated by bearer token.
async fn raw(app: &TestApp, token: &str, method: &str, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let res = api()
        .request(m, app.url(path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    Answer::of(res).await
}

async fn send_json(app: &TestApp, token: &str, method: &str, path: &str, body: &Value) -> Answer {
    raw(app, token, method, path, "application/json", serde_json::to_vec(body).unwrap()).await
}

async fn get(app: &TestApp, token: &str, path: &str) -> Answer {
    Answer::of(api().get(app.url(path)).bearer_auth(token).send().await.expect("request")).await
}

/// Asserts the API error contract: this status, `{"error": {"code", "message"}}` with a
/// non-empty message naming `field` when given.
#[track_caller]
fn assert_api_error(a: &Answer, status: u16, field: Option<&str>, what: &str) {
    assert_eq!(a.status, status, "{what}: {}", a.body);
    let e = a.json();
    let code = e["error"]["code"].as_str().unwrap_or_default();
    let message = e["error"]["message"].as_str().unwrap_or_default();
    assert!(!code.is_empty() && !message.is_empty(), "{what}: error body {}", a.body);
    if let Some(f) = field {
        assert!(message.contains(f), "{what}: the message names `{f}`: {message}");
    }
}

#[tokio::test]
async fn malformed_json_wrong_types_and_missing_fields_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let cases: Vec<(&str, &str, Vec<u8>, Option<&str>)> = vec![
        ("/api/v1/clients", "truncated JSON", br#"{"name": "#.to_vec(), None),
        ("/api/v1/clients", "not an object", b"[1, 2]".to_vec(), None),
        ("/api/v1/clients", "null", b"null".to_vec(), None),
        ("/api/v1/clients", "empty body", Vec::new(), None),
        ("/api/v1/clients", "invalid UTF-8", b"{\"name\": \"\xff\xfe\"}".to_vec(), None),
        ("/api/v1/clients", "wrong type", br#"{"name": 42}"#.to_vec(), Some("name")),
        ("/api/v1/clients", "missing field", b"{}".to_vec(), Some("name")),
        (
            "/api/v1/clients",
            "unknown field (mass assignment, SEC-AC-6)",
            br#"{"name": "X", "role": "owner"}"#.to_vec(),
            Some("role"),
        ),
        (
            "/api/v1/projects",
            "client_id not an id",
            br#"{"client_id": "nope", "name": "P"}"#.to_vec(),
            Some("client_id"),
        ),
        (
            "/api/v1/projects",
            "bad status",
            format!(r#"{{"client_id": "{}", "name": "P", "status": "exploded"}}"#, w.a.id).into_bytes(),
            Some("status"),
        ),
        (
            "/api/v1/projects",
            "impossible date",
            format!(r#"{{"client_id": "{}", "name": "P", "due_date": "2026-02-30"}}"#, w.a.id).into_bytes(),
            Some("due_date"),
        ),
        (
            "/api/v1/projects",
            "date of another format",
            format!(r#"{{"client_id": "{}", "name": "P", "start_date": "31/01/2027"}}"#, w.a.id).into_bytes(),
            Some("start_date"),
        ),
        (
            "/api/v1/projects",
            "due before start",
            format!(
                r#"{{"client_id": "{}", "name": "P", "start_date": "2027-02-01", "due_date": "2027-01-01"}}"#,
                w.a.id
            )
            .into_bytes(),
            Some("due_date"),
        ),
        (
            "/api/v1/projects",
            "unknown client",
            format!(r#"{{"client_id": "{}", "name": "P"}}"#, uuid::Uuid::now_v7()).into_bytes(),
            Some("client_id"),
        ),
        (
            "/api/v1/invitations",
            "unknown role",
            br#"{"email": "n@a.test", "name": "N", "role": "superuser"}"#.to_vec(),
            Some("role"),
        ),
        (
            "/api/v1/invitations",
            "not an email",
            format!(r#"{{"email": "not-an-email", "name": "N", "role": "client_viewer", "client_id": "{}"}}"#, w.a.id)
                .into_bytes(),
            Some("email"),
        ),
        ("/api/v1/session", "email of the wrong type", br#"{"email": ["a"], "password": "x"}"#.to_vec(), Some("email")),
    ];
    let tasks = format!("/api/v1/projects/{}/tasks", w.a.project);
    let task = format!("/api/v1/tasks/{}", w.a.task);
    let comments = format!("/api/v1/tasks/{}/comments", w.a.task);
    let more: Vec<(&str, &str, Vec<u8>, Option<&str>)> = vec![
        (&tasks, "bad priority", br#"{"title": "T", "priority": "extreme"}"#.to_vec(), Some("priority")),
        (&tasks, "assignee not an id", br#"{"title": "T", "assignee_id": "bob"}"#.to_vec(), Some("assignee_id")),
        (
            &tasks,
            "assignee unknown",
            format!(r#"{{"title": "T", "assignee_id": "{}"}}"#, uuid::Uuid::now_v7()).into_bytes(),
            Some("assignee_id"),
        ),
        (
            &tasks,
            "milestone of no project",
            format!(r#"{{"title": "T", "milestone_id": "{}"}}"#, uuid::Uuid::now_v7()).into_bytes(),
            Some("milestone_id"),
        ),
        (&tasks, "title null", br#"{"title": null}"#.to_vec(), Some("title")),
        (&comments, "bad visibility", br#"{"body": "hi", "visibility": "public"}"#.to_vec(), Some("visibility")),
        (
            &comments,
            "author_id smuggled (SEC-AC-6)",
            format!(r#"{{"body": "hi", "author_id": "{}"}}"#, w.a.admin).into_bytes(),
            Some("author_id"),
        ),
    ];
    for (path, what, body, field) in cases.into_iter().chain(more) {
        let a = raw(&app, &staff, "POST", path, "application/json", body).await;
        assert_api_error(&a, 422, field, &format!("POST {path} with {what}"));
    }
    // PATCH with a bad value, and with a field nobody may set.
    let a = send_json(&app, &staff, "PATCH", &task, &json!({"status": "finished"})).await;
    assert_api_error(&a, 422, Some("status"), "PATCH task status");
    let a = send_json(&app, &staff, "PATCH", &task, &json!({"project_id": w.b.project.to_string()})).await;
    assert_api_error(&a, 422, Some("project_id"), "PATCH task project_id (moving a task to another client)");
    let a = send_json(&app, &staff, "PATCH", &format!("/api/v1/clients/{}", w.a.id), &json!({"status": "gone"})).await;
    assert_api_error(&a, 422, Some("status"), "PATCH client status");
    // Approvals: each field of the request and of a decision.
    let file = w.a.file.to_string();
    let admin_id = w.a.admin.to_string();
    for (body, field) in [
        (json!({"subject_type": "invoice", "subject_id": file, "approver_ids": [admin_id]}), "subject_type"),
        (json!({"subject_type": "file", "subject_id": 7, "approver_ids": [admin_id]}), "subject_id"),
        (json!({"subject_type": "file", "subject_id": "nope", "approver_ids": [admin_id]}), "subject_id"),
        (json!({"subject_type": "file", "subject_id": file}), "approver_ids"),
        (json!({"subject_type": "file", "subject_id": file, "approver_ids": admin_id}), "approver_ids"),
        (json!({"subject_type": "file", "subject_id": file, "approver_ids": ["nope"]}), "approver_ids"),
        (
            json!({"subject_type": "file", "subject_id": file, "approver_ids": [admin_id], "due_date": "2026-02-30"}),
            "due_date",
        ),
        (
            json!({"subject_type": "file", "subject_id": file, "approver_ids": [admin_id], "status": "approved"}),
            "status",
        ),
    ] {
        let a = send_json(&app, &staff, "POST", "/api/v1/approvals", &body).await;
        assert_api_error(&a, 422, Some(field), &format!("POST /approvals {body}"));
    }
    let decision = format!("/api/v1/approvals/{}/decision", w.a.approval);
    let admin = app.token_for(w.a.admin).await;
    for (body, field) in [
        (json!({"decision": "maybe"}), "decision"),
        (json!({}), "decision"),
        (json!({"decision": "approved", "comment": 5}), "comment"),
        (json!({"decision": "changes_requested"}), "comment"),
        (json!({"decision": "approved", "comment": "x".repeat(BODY_MAX + 1)}), "comment"),
        (json!({"decision": "approved", "sign_off": {"name": "Someone else"}}), "sign_off"),
    ] {
        let a = send_json(&app, &admin, "POST", &decision, &body).await;
        assert_api_error(&a, 422, Some(field), &format!("POST decision {body}"));
    }
    let a = get(&app, &staff, "/api/v1/approvals?status=lost").await;
    assert_api_error(&a, 422, Some("status"), "approvals filter");
    // A body that is not JSON at all.
    let a = raw(&app, &staff, "POST", "/api/v1/clients", "text/plain", b"name=X".to_vec()).await;
    assert!(matches!(a.status, 415 | 422), "wrong content type: {}", a.status);
    assert_api_error(&a, a.status, None, "wrong content type");
    let a = raw(&app, &staff, "POST", "/api/v1/clients", "application/x-www-form-urlencoded", b"name=X".to_vec()).await;
    assert!(matches!(a.status, 415 | 422), "form body on the API: {}", a.status);
    // Nothing was created by any of it.
    let clients = get(&app, &staff, "/api/v1/clients").await.json();
    assert_eq!(clients["items"].as_array().unwrap().len(), 2);
    // Bad query strings.
    for (path, field) in [
        ("/api/v1/projects?limit=abc", "limit"),
        ("/api/v1/projects?limit=0", "limit"),
        ("/api/v1/projects?limit=201", "limit"),
        ("/api/v1/projects?limit=-1", "limit"),
        ("/api/v1/projects?cursor=zzz", "cursor"),
        ("/api/v1/projects?client_id=zzz", "client_id"),
        ("/api/v1/projects?sort=name", "sort"),
        ("/api/v1/tasks", "assignee"),
        ("/api/v1/tasks?assignee=you", "assignee"),
        ("/api/v1/tasks?assignee=me&include_done=maybe", "include_done"),
    ] {
        let a = get(&app, &staff, path).await;
        assert_api_error(&a, 422, Some(field), &format!("GET {path}"));
    }
    let a = get(&app, &staff, &format!("/api/v1/projects/{}/tasks?status=lost", w.a.project)).await;
    assert_api_error(&a, 422, Some("status"), "task filter");
    let a = get(&app, &staff, &format!("/api/v1/projects/{}/tasks?assignee=someone", w.a.project)).await;
    assert_api_error(&a, 422, Some("assignee"), "task filter");
    app.stop().await;
}

#[tokio::test]
async fn html_forms_with_bad_input_answer_4xx_pages() {
    // The same extractors serve the forms: a 422 page with the message, never a 500.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let creds = app.browser_creds(Some(w.staff)).await;
    let post = |path: String, body: String| {
        api()
            .post(app.url(&path))
            .header("cookie", &creds.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={}&{body}", creds.csrf))
            .send()
    };
    for (path, body, needle) in [
        ("/staff/clients".to_string(), format!("name={}", "n".repeat(NAME_MAX + 1)), "at most 200"),
        ("/staff/clients".to_string(), "name=%20%20".to_string(), "must not be empty"),
        (format!("/staff/projects/{}/tasks", w.a.project), "title=T&priority=extreme".to_string(), "priority"),
        (format!("/staff/projects/{}/tasks", w.a.project), "title=T&due_date=2026-13-01".to_string(), "due_date"),
        (format!("/staff/tasks/{}", w.a.task), "assignee_id=not-a-user".to_string(), "assignee_id"),
        (format!("/staff/tasks/{}/comments", w.a.task), format!("body={}", "b".repeat(BODY_MAX + 1)), "at most 20000"),
        (format!("/staff/clients/{}/invitations", w.a.id), "name=N&email=n%40a.test&role=emperor".to_string(), "role"),
        (format!("/staff/clients/{}/view-as", w.a.id), "user_id=garbage".to_string(), "user_id"),
        (format!("/staff/clients/{}/view-as", w.a.id), format!("user_id={}", w.b.admin), "user_id"),
    ] {
        let a = Answer::of(post(path.clone(), body.clone()).await.unwrap()).await;
        assert_eq!(a.status, 422, "POST {path} {}: {}", &body[..body.len().min(60)], a.body);
        assert!(a.body.contains(needle), "POST {path}: the page says what is wrong ({needle})");
        assert!(a.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    }
    app.stop().await;
}

#[tokio::test]
async fn oversize_bodies_are_413() {
    // SEC-IO-1: JSON and forms have a size limit (1 MiB by default) → 413.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let limit = app.config.body_limit;
    assert_eq!(limit, 1024 * 1024, "the default body limit is 1 MiB");
    let staff = app.token_for(w.staff).await;
    let comments = format!("/api/v1/tasks/{}/comments", w.a.task);
    let huge = json!({ "body": "x".repeat(limit + 16) });
    let a = send_json(&app, &staff, "POST", &comments, &huge).await;
    assert_api_error(&a, 413, None, "oversize JSON");
    assert_eq!(a.json()["error"]["code"], "too_large");
    // Just under the limit is read, and refused for what it says instead (a field too long).
    let big = json!({ "body": "x".repeat(limit - 100) });
    let a = send_json(&app, &staff, "POST", &comments, &big).await;
    assert_api_error(&a, 422, Some("body"), "large but allowed JSON with a too-long field");
    // Anonymous endpoints too.
    let a = send_json(&app, "", "POST", "/api/v1/session", &json!({"email": "x".repeat(limit), "password": "p"})).await;
    assert_api_error(&a, 413, None, "oversize login");
    // Forms: signed in (the CSRF check reads the body) and signed out (the login form).
    let creds = app.browser_creds(Some(w.staff)).await;
    let form = format!("_csrf={}&name={}", creds.csrf, "n".repeat(limit));
    let a = Answer::of(
        api()
            .post(app.url("/staff/clients"))
            .header("cookie", &creds.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 413, "oversize form");
    let anon = app.browser_creds(None).await;
    let form = format!("_csrf={}&email=a%40a.test&password={}", anon.csrf, "p".repeat(limit));
    let a = Answer::of(
        api()
            .post(app.url("/login"))
            .header("cookie", &anon.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 413, "oversize login form");
    // Nothing was stored.
    let cs = get(&app, &staff, &comments).await.json();
    assert_eq!(cs["items"].as_array().unwrap().len(), 2);
    // A smaller configured limit is honoured.
    let small = TestApp::spawn_with(|c| c.body_limit = 2048).await;
    let w2 = seed(&small).await;
    let t = small.token_for(w2.staff).await;
    let a = send_json(&small, &t, "POST", "/api/v1/clients", &json!({"name": "n".repeat(3000)})).await;
    assert_api_error(&a, 413, None, "configured limit");
    small.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn garbage_ids_are_404_never_500() {
    // SEC-AC-2, SEC-AC-5: an id that is not an id is just a missing thing.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let long = "9".repeat(3000);
    let garbage = [
        "not-a-uuid",
        "0",
        "-1",
        "00000000-0000-0000-0000-000000000000",
        "01890a5d-ac96-774b-bcce-b302099a8057",
        "%27%20OR%201%3D1%20--",
        "%00",
        "%20",
        "..%2F..%2Fetc%2Fpasswd",
        "%F0%9F%92%A9",
        "%FF%FE",
        "%25",
        long.as_str(),
    ];
    let mut failures = Vec::new();
    for g in garbage {
        let paths = [
            format!("/api/v1/clients/{g}"),
            format!("/api/v1/projects/{g}"),
            format!("/api/v1/projects/{g}/tasks"),
            format!("/api/v1/projects/{g}/milestones"),
            format!("/api/v1/tasks/{g}"),
            format!("/api/v1/tasks/{g}/comments"),
            format!("/api/v1/recurring-invoices/{g}"),
        ];
        for p in &paths {
            let a = get(&app, &staff, p).await;
            let short = &p[..p.len().min(80)];
            if !matches!(a.status, 400 | 404) {
                failures.push(format!("GET {short} → {}", a.status));
            } else if a.json()["error"]["code"].as_str().is_none() {
                failures.push(format!("GET {short} → {} without the JSON error body: {:?}", a.status, a.body));
            }
        }
        let a = send_json(&app, &staff, "PATCH", &format!("/api/v1/tasks/{g}"), &json!({"status": "done"})).await;
        if !matches!(a.status, 400 | 404) {
            failures.push(format!("PATCH /api/v1/tasks/{} → {}", &g[..g.len().min(40)], a.status));
        }
        let a = send_json(&app, &staff, "POST", &format!("/api/v1/tasks/{g}/comments"), &json!({"body": "hi"})).await;
        if !matches!(a.status, 400 | 404) {
            failures.push(format!("POST comment on {} → {}", &g[..g.len().min(40)], a.status));
        }
        // Pages: an HTML 404 (or 400), for staff and for a client user.
        let creds = app.browser_creds(Some(w.staff)).await;
        let client = app.browser_creds(Some(w.a.admin)).await;
        for (c, p) in [
            (&creds, format!("/staff/clients/{g}")),
            (&creds, format!("/staff/projects/{g}")),
            (&creds, format!("/staff/tasks/{g}")),
            (&creds, format!("/staff/recurring-invoices/{g}")),
            (&client, format!("/portal/projects/{g}")),
            (&client, format!("/portal/tasks/{g}")),
            (&client, format!("/magic/{g}")),
            (&client, format!("/invite/{g}")),
            (&client, format!("/reset/{g}")),
        ] {
            let a = Answer::of(api().get(app.url(&p)).header("cookie", &c.cookie).send().await.unwrap()).await;
            if !matches!(a.status, 400 | 404) {
                failures.push(format!("GET {} → {}", &p[..p.len().min(80)], a.status));
            }
        }
        let a = Answer::of(
            api()
                .post(app.url(&format!("/portal/tasks/{g}/status")))
                .header("cookie", &client.cookie)
                .form(&[("_csrf", client.csrf.as_str()), ("status", "done")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        if !matches!(a.status, 400 | 404) {
            failures.push(format!("POST /portal/tasks/{}/status → {}", &g[..g.len().min(40)], a.status));
        }
    }
    // Unknown routes.
    for p in ["/api/v1/nothing-here", "/api/v2/projects", "/staff/nothing", "/%FF"] {
        let a = get(&app, &staff, p).await;
        if a.status != 404 {
            failures.push(format!("GET {p} → {}", a.status));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_path_id_answers_as_a_missing_one() {
    // Ids are typed when the path is read: a malformed one is the 404 a missing one is, the JSON
    // error body on the API and the HTML 404 page on pages, for one id and for several parameters.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let missing = "01890a5d-ac96-774b-bcce-b302099a8057";
    for (bad, good) in [
        ("/api/v1/projects/nope".to_string(), format!("/api/v1/projects/{missing}")),
        ("/api/v1/tasks/nope/comments".to_string(), format!("/api/v1/tasks/{missing}/comments")),
        ("/api/v1/invoices/nope/pdf".to_string(), format!("/api/v1/invoices/{missing}/pdf")),
    ] {
        let (a, b) = (get(&app, &staff, &bad).await, get(&app, &staff, &good).await);
        assert_eq!(a.status, 404, "GET {bad}: {}", a.body);
        assert_eq!(a.headers["content-type"], "application/json", "GET {bad}");
        assert_eq!(a.json()["error"]["code"], "not_found", "GET {bad}: {}", a.body);
        assert_eq!((a.status, a.json()), (b.status, b.json()), "GET {bad} answers as GET {good}");
    }
    let a = send_json(&app, &staff, "PATCH", "/api/v1/tasks/nope", &json!({"status": "done"})).await;
    assert_eq!((a.status, a.json()["error"]["code"].as_str()), (404, Some("not_found")), "PATCH: {}", a.body);

    let staff_browser = app.browser_creds(Some(w.staff)).await;
    let client_browser = app.browser_creds(Some(w.a.admin)).await;
    let unsubscribe = format!("/unsubscribe/{}/mention/{}", w.a.admin, "0".repeat(32));
    for (b, bad, good) in [
        (&staff_browser, "/staff/projects/nope".to_string(), format!("/staff/projects/{missing}")),
        (&client_browser, "/portal/tasks/nope".to_string(), format!("/portal/tasks/{missing}")),
        (&client_browser, "/unsubscribe/nope/mention/00".to_string(), unsubscribe.clone()),
        (&client_browser, format!("/unsubscribe/{missing}/mention/00"), unsubscribe.clone()),
    ] {
        let (a, g) = (page_get(&app, b, &bad).await, page_get(&app, b, &good).await);
        assert_eq!(a.status, 404, "GET {bad}: {}", a.body);
        let ct = a.headers["content-type"].to_str().unwrap_or_default();
        assert!(ct.starts_with("text/html"), "GET {bad}: {ct}");
        assert!(a.body.contains("Page not found"), "GET {bad}: {}", a.body);
        // The same page but for the moment it was rendered (its live-update stream's start).
        let (ab, gb) = (without_live_since(&a.body), without_live_since(&g.body));
        assert_eq!((a.status, ab), (g.status, gb), "GET {bad} answers as GET {good}");
    }
    let a = page_post(&app, &client_browser, "/portal/tasks/nope/status", &[("status", "done")]).await;
    assert_eq!(a.status, 404, "POST status: {}", a.body);
    assert!(a.body.contains("Page not found"), "POST status: {}", a.body);
    let a = page_post(&app, &client_browser, "/unsubscribe/nope/mention/00", &[]).await;
    assert_eq!(a.status, 404, "POST unsubscribe: {}", a.body);
    assert!(a.body.contains("Page not found"), "POST unsubscribe: {}", a.body);
    app.stop().await;
}

#[tokio::test]
async fn text_over_the_limits_is_422_naming_the_field() {
    // SEC-IO-2: NAME_MAX, TITLE_MAX, BODY_MAX (in characters, not bytes), EMAIL_MAX.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let owner = app.token_for(w.owner).await;
    let s = |c: char, n: usize| c.to_string().repeat(n);
    let tasks = format!("/api/v1/projects/{}/tasks", w.a.project);
    let milestones = format!("/api/v1/projects/{}/milestones", w.a.project);
    let comments = format!("/api/v1/tasks/{}/comments", w.a.task);
    let client_id = w.a.id.to_string();
    let form = format!("/api/v1/projects/{}/request-form", w.a.project);
    let one_field = |k: &str, v: String| {
        let mut f = json!({"key": "k", "label": "L", "type": "text", "required": false});
        f[k] = Value::String(v);
        json!({ "fields": [f] })
    };
    // (path, method, body at the limit, body over the limit, field)
    let cases: Vec<(String, &str, Value, Value, &str)> = vec![
        (
            "/api/v1/clients".into(),
            "POST",
            json!({"name": s('é', NAME_MAX)}),
            json!({"name": s('é', NAME_MAX + 1)}),
            "name",
        ),
        (
            format!("/api/v1/clients/{}", w.b.id),
            "PATCH",
            json!({"name": s('c', NAME_MAX)}),
            json!({"name": s('c', NAME_MAX + 1)}),
            "name",
        ),
        (
            "/api/v1/projects".into(),
            "POST",
            json!({"client_id": client_id, "name": s('p', TITLE_MAX)}),
            json!({"client_id": client_id, "name": s('p', TITLE_MAX + 1)}),
            "name",
        ),
        (
            "/api/v1/projects".into(),
            "POST",
            json!({"client_id": client_id, "name": "P", "description": s('d', BODY_MAX)}),
            json!({"client_id": client_id, "name": "P", "description": s('d', BODY_MAX + 1)}),
            "description",
        ),
        (
            format!("/api/v1/projects/{}", w.a.project),
            "PATCH",
            json!({"name": s('p', TITLE_MAX)}),
            json!({"name": s('p', TITLE_MAX + 1)}),
            "name",
        ),
        (tasks.clone(), "POST", json!({"title": s('t', TITLE_MAX)}), json!({"title": s('t', TITLE_MAX + 1)}), "title"),
        (
            tasks.clone(),
            "POST",
            json!({"title": "T", "description": s('d', BODY_MAX)}),
            json!({"title": "T", "description": s('d', BODY_MAX + 1)}),
            "description",
        ),
        (
            format!("/api/v1/tasks/{}", w.a.task),
            "PATCH",
            json!({"title": s('t', TITLE_MAX)}),
            json!({"title": s('t', TITLE_MAX + 1)}),
            "title",
        ),
        (milestones, "POST", json!({"name": s('m', TITLE_MAX)}), json!({"name": s('m', TITLE_MAX + 1)}), "name"),
        (comments.clone(), "POST", json!({"body": s('€', BODY_MAX)}), json!({"body": s('€', BODY_MAX + 1)}), "body"),
        (
            "/api/v1/invitations".into(),
            "POST",
            json!({"email": "limit1@a.test", "name": s('n', NAME_MAX), "role": "client_viewer", "client_id": client_id}),
            json!({"email": "limit2@a.test", "name": s('n', NAME_MAX + 1), "role": "client_viewer", "client_id": client_id}),
            "name",
        ),
        (
            "/api/v1/invitations".into(),
            "POST",
            json!({"email": format!("{}@a.test", s('e', EMAIL_MAX - 7)), "name": "N", "role": "client_viewer", "client_id": client_id}),
            json!({"email": format!("{}@a.test", s('e', EMAIL_MAX - 6)), "name": "N", "role": "client_viewer", "client_id": client_id}),
            "email",
        ),
        (
            "/api/v1/branding".into(),
            "PUT",
            json!({"agency_name": s('é', AGENCY_NAME_MAX)}),
            json!({"agency_name": s('é', AGENCY_NAME_MAX + 1)}),
            "agency_name",
        ),
        (
            "/api/v1/branding".into(),
            "PUT",
            json!({"welcome_text": s('w', WELCOME_TEXT_MAX)}),
            json!({"welcome_text": s('w', WELCOME_TEXT_MAX + 1)}),
            "welcome_text",
        ),
        (
            "/api/v1/saved-replies".into(),
            "POST",
            json!({"title": s('t', SAVED_REPLY_TITLE_MAX), "body": "B"}),
            json!({"title": s('t', SAVED_REPLY_TITLE_MAX + 1), "body": "B"}),
            "title",
        ),
        (
            "/api/v1/saved-replies".into(),
            "POST",
            json!({"title": "T", "body": s('b', BODY_MAX)}),
            json!({"title": "T", "body": s('b', BODY_MAX + 1)}),
            "body",
        ),
        (
            form.clone(),
            "PUT",
            one_field("label", s('l', FORM_LABEL_MAX)),
            one_field("label", s('l', FORM_LABEL_MAX + 1)),
            "fields[0].label",
        ),
        (
            form.clone(),
            "PUT",
            one_field("help", s('h', FORM_HELP_MAX)),
            one_field("help", s('h', FORM_HELP_MAX + 1)),
            "fields[0].help",
        ),
        (
            form.clone(),
            "PUT",
            json!({"fields": [{"key": s('k', FORM_KEY_MAX), "label": "L", "type": "select", "required": false, "options": [s('o', FORM_LABEL_MAX)]}]}),
            json!({"fields": [{"key": "k", "label": "L", "type": "select", "required": false, "options": [s('o', FORM_LABEL_MAX + 1)]}]}),
            "fields[0].options",
        ),
        (
            form.clone(),
            "PUT",
            json!({"fields": [{"key": s('k', FORM_KEY_MAX), "label": "L", "type": "text", "required": false}]}),
            json!({"fields": [{"key": s('k', FORM_KEY_MAX + 1), "label": "L", "type": "text", "required": false}]}),
            "fields[0].key",
        ),
    ];
    for (path, method, ok, over, field) in cases {
        let a = send_json(&app, &owner, method, &path, &over).await;
        assert_api_error(&a, 422, Some(field), &format!("{method} {path} over the limit"));
        assert!(a.json()["error"]["message"].as_str().unwrap().contains("at most"), "{}", a.body);
        let a = send_json(&app, &owner, method, &path, &ok).await;
        assert!(
            (200..300).contains(&a.status),
            "{method} {path} at the limit is accepted: {} {}",
            a.status,
            &a.body[..a.body.len().min(300)]
        );
    }
    // Empty, blank and control characters.
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": " \t\n "}), "name"),
        (json!({"name": "Evil\u{0}Corp"}), "name"),
        (json!({"name": "Bell\u{7}Corp"}), "name"),
    ] {
        let a = send_json(&app, &staff, "POST", "/api/v1/clients", &body).await;
        assert_api_error(&a, 422, Some(field), &format!("client name {body}"));
    }
    let a = send_json(&app, &staff, "POST", &comments, &json!({"body": "   "})).await;
    assert_api_error(&a, 422, Some("body"), "blank comment");
    app.stop().await;
}

#[tokio::test]
async fn absurd_sign_in_input_is_refused_never_500() {
    // SEC-AUTH-3, SEC-AUTH-4: whatever is typed into an email field, the answer is the usual one.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let c = api();
    let long = format!("{}@a.test", "x".repeat(5000));
    let weird =
        [long.as_str(), "a\u{0}b@a.test", "ádmin@a.test", "<script>@a.test", "", " ", "@", "'; DROP TABLE users; --"];
    for email in weird {
        let short: String = email.chars().take(30).collect();
        let r = Answer::of(
            c.post(app.url("/api/v1/session"))
                .json(&json!({"email": email, "password": "whatever it is"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_api_error(&r, 401, None, &format!("login with {short:?}"));
        let r = Answer::of(c.post(app.url("/api/v1/magic-links")).json(&json!({"email": email})).send().await.unwrap())
            .await;
        assert_eq!(r.status, 202, "magic link for {short:?}: {}", r.body);
        let creds = app.browser_creds(None).await;
        for path in ["/login/link", "/reset"] {
            let r = Answer::of(
                c.post(app.url(path))
                    .header("cookie", &creds.cookie)
                    .form(&[("_csrf", creds.csrf.as_str()), ("email", email)])
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(r.status, 200, "{path} for {short:?}: {}", r.body);
        }
        let r = Answer::of(
            c.post(app.url("/login"))
                .header("cookie", &creds.cookie)
                .form(&[("_csrf", creds.csrf.as_str()), ("email", email), ("password", "whatever it is")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 401, "login form with {short:?}");
    }
    // Passwords outside the rules (SEC-AUTH-2) when accepting an invitation: 422 naming the field.
    let owner = app.actor(w.owner).await;
    let client = w.a.id;
    let (_, t) = app
        .store
        .create_invitation(
            &owner,
            "pw@a.test".into(),
            "Pat".into(),
            atrium_core::model::Role::ClientViewer,
            Some(client),
            None,
        )
        .await
        .unwrap();
    let accept = format!("/api/v1/invitations/{}/accept", t.secret);
    for pw in ["short9chr".to_string(), "x".repeat(1025), "password123".to_string(), "é".repeat(9)] {
        let r = Answer::of(c.post(app.url(&accept)).json(&json!({"password": pw})).send().await.unwrap()).await;
        assert_api_error(&r, 422, Some("password"), &format!("password of {} bytes", pw.len()));
    }
    let r = Answer::of(c.post(app.url(&accept)).json(&json!({"password": "é".repeat(10)})).send().await.unwrap()).await;
    assert_eq!(r.status, 201, "10 characters (20 bytes) are enough: {}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn far_dates_are_422_not_500() {
    // Dates are `YYYY-MM-DD` (api-v1): years 0001 to 9999 are stored and read back on every
    // backend; anything else that chrono would parse (signed or 5-digit years) is a 422 naming
    // the field — PostgreSQL used to answer a 500 for years before 4714 BC.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let tasks = format!("/api/v1/projects/{}/tasks", w.a.project);
    for d in ["0001-01-01", "9999-12-31"] {
        let a = send_json(&app, &staff, "POST", &tasks, &json!({"title": format!("Due {d}"), "due_date": d})).await;
        assert_eq!(a.status, 201, "due_date {d}: {}", a.body);
        assert_eq!(a.json()["due_date"], d);
    }
    for d in ["+10000-01-01", "-0044-03-15", "+262142-12-31", "-262143-01-01", "0000-01-01"] {
        let a = send_json(&app, &staff, "POST", &tasks, &json!({"title": format!("Due {d}"), "due_date": d})).await;
        assert_api_error(&a, 422, Some("due_date"), &format!("task due_date {d}"));
        let a = send_json(&app, &staff, "PATCH", &format!("/api/v1/tasks/{}", w.a.task), &json!({"due_date": d})).await;
        assert_api_error(&a, 422, Some("due_date"), &format!("task PATCH due_date {d}"));
        let a = send_json(
            &app,
            &staff,
            "POST",
            &format!("/api/v1/projects/{}/milestones", w.a.project),
            &json!({"name": "M", "due_date": d}),
        )
        .await;
        assert_api_error(&a, 422, Some("due_date"), &format!("milestone due_date {d}"));
        let a = send_json(
            &app,
            &staff,
            "POST",
            "/api/v1/approvals",
            &json!({"subject_type": "task", "subject_id": w.a.task.to_string(), "approver_ids": [w.a.admin.to_string()], "due_date": d}),
        )
        .await;
        assert_api_error(&a, 422, Some("due_date"), &format!("approval due_date {d}"));
        let a = send_json(
            &app,
            &staff,
            "POST",
            "/api/v1/projects",
            &json!({"client_id": w.a.id.to_string(), "name": "P", "start_date": d}),
        )
        .await;
        assert_api_error(&a, 422, Some("start_date"), &format!("project start_date {d}"));
        let a = send_json(&app, &staff, "PATCH", &format!("/api/v1/projects/{}", w.a.project), &json!({"due_date": d}))
            .await;
        assert_api_error(&a, 422, Some("due_date"), &format!("project PATCH due_date {d}"));
    }
    // What was stored reads back through the API and the pages.
    let a = get(&app, &staff, &tasks).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let creds = app.browser_creds(Some(w.a.admin)).await;
    let a = Answer::of(
        api()
            .get(app.url(&format!("/portal/projects/{}", w.a.project)))
            .header("cookie", &creds.cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 200);
    app.stop().await;
}

// ----- expired and reused links --------------------------------------------------------------

/// A browser: its cookie header and CSRF token.
async fn anon(app: &TestApp) -> BrowserCreds {
    app.browser_creds(None).await
}

async fn page_get(app: &TestApp, b: &BrowserCreds, path: &str) -> Answer {
    Answer::of(api().get(app.url(path)).header("cookie", &b.cookie).send().await.unwrap()).await
}

async fn page_post(app: &TestApp, b: &BrowserCreds, path: &str, fields: &[(&str, &str)]) -> Answer {
    let mut f: Vec<(&str, &str)> = fields.to_vec();
    f.push(("_csrf", b.csrf.as_str()));
    Answer::of(api().post(app.url(path)).header("cookie", &b.cookie).form(&f).send().await.unwrap()).await
}

#[track_caller]
fn assert_gone(a: &Answer, what: &str) {
    assert_eq!(a.status, 410, "{what}: {}", a.body);
    assert!(a.body.contains("expired or was already used"), "{what}: the page says why");
}

#[tokio::test]
async fn expired_and_reused_magic_and_reset_links_are_410() {
    // SEC-AUTH-5: single use, expiring, expiry checked when submitted.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let b = anon(&app).await;
    // Expired magic link: the confirm page and the button both refuse it.
    let t = app.store.sign_in().issue_login_token(w.a.admin, TokenPurpose::MagicLink).await.unwrap();
    let page = page_get(&app, &b, &format!("/magic/{}", t.secret)).await;
    assert_eq!(page.status, 200, "fresh link shows the confirm button");
    let past = chrono::Utc::now() - chrono::Duration::minutes(16);
    assert_eq!(app.exec_sql("UPDATE login_tokens SET expires_at = ?", vec![past.into()]).await, 1);
    assert_gone(&page_get(&app, &b, &format!("/magic/{}", t.secret)).await, "expired magic link page");
    let r = page_post(&app, &b, &format!("/magic/{}", t.secret), &[]).await;
    assert_gone(&r, "expired magic link submitted (the form was shown before it expired)");
    assert!(r.headers.get("set-cookie").is_none_or(|c| !c.to_str().unwrap().contains("atrium_session=")));
    // Reused magic link.
    let t = app.store.sign_in().issue_login_token(w.a.admin, TokenPurpose::MagicLink).await.unwrap();
    let r = page_post(&app, &b, &format!("/magic/{}", t.secret), &[]).await;
    assert_eq!(r.status, 303);
    assert_gone(&page_post(&app, &b, &format!("/magic/{}", t.secret), &[]).await, "reused magic link");
    assert_gone(&page_get(&app, &b, &format!("/magic/{}", t.secret)).await, "used magic link page");
    // A magic link is not a reset link, and vice versa.
    let t = app.store.sign_in().issue_login_token(w.a.admin, TokenPurpose::MagicLink).await.unwrap();
    assert_eq!(page_get(&app, &b, &format!("/reset/{}", t.secret)).await.status, 404);
    // Expired reset link: refused on submit, and the password stays the same.
    let t = app.store.sign_in().issue_login_token(w.a.viewer, TokenPurpose::PasswordReset).await.unwrap();
    assert_eq!(page_get(&app, &b, &format!("/reset/{}", t.secret)).await.status, 200);
    app.exec_sql(
        "UPDATE login_tokens SET expires_at = ? WHERE purpose = ?",
        vec![(chrono::Utc::now() - chrono::Duration::minutes(61)).into(), "password_reset".into()],
    )
    .await;
    let r = page_post(&app, &b, &format!("/reset/{}", t.secret), &[("password", "a brand new phrase")]).await;
    assert_gone(&r, "expired reset link submitted");
    let acc = app.store.sign_in().account(w.a.viewer).await.unwrap().unwrap();
    assert!(atrium_core::password::verify(PASSWORD, acc.password_hash.as_deref()), "password unchanged");
    // Reused reset link.
    let t = app.store.sign_in().issue_login_token(w.a.viewer, TokenPurpose::PasswordReset).await.unwrap();
    let r = page_post(&app, &b, &format!("/reset/{}", t.secret), &[("password", "a brand new phrase")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = page_post(&app, &b, &format!("/reset/{}", t.secret), &[("password", "another new phrase")]).await;
    assert_gone(&r, "reused reset link");
    // Unknown tokens are 404, malformed ones too.
    for bogus in [atrium_core::token::generate().secret, "short".to_string()] {
        assert_eq!(page_get(&app, &b, &format!("/magic/{bogus}")).await.status, 404);
        assert_eq!(page_post(&app, &b, &format!("/magic/{bogus}"), &[]).await.status, 404);
    }
    app.stop().await;
}

#[tokio::test]
async fn expired_and_reused_invitations_are_410() {
    // SEC-AUTH-5 (7 days), on the HTML pages and the API.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.actor(w.owner).await;
    let invite = |email: &'static str| {
        let owner = owner.clone();
        let store = app.store.clone();
        let client = w.a.id;
        async move {
            store
                .create_invitation(
                    &owner,
                    email.into(),
                    "Ivy".into(),
                    atrium_core::model::Role::ClientViewer,
                    Some(client),
                    None,
                )
                .await
                .unwrap()
                .1
                .secret
        }
    };
    let b = anon(&app).await;
    let late = invite("late@a.test").await;
    assert_eq!(page_get(&app, &b, &format!("/invite/{late}")).await.status, 200);
    let past = chrono::Utc::now() - chrono::Duration::days(8);
    app.exec_sql("UPDATE invitations SET expires_at = ? WHERE email = ?", vec![past.into(), "late@a.test".into()])
        .await;
    assert_gone(&page_get(&app, &b, &format!("/invite/{late}")).await, "expired invitation page");
    let r =
        page_post(&app, &b, &format!("/invite/{late}"), &[("name", "Ivy"), ("password", "a long enough phrase")]).await;
    assert_gone(&r, "expired invitation submitted");
    assert!(app.store.sign_in().account_by_email("late@a.test").await.unwrap().is_none(), "no account was created");
    let r = Answer::of(
        api()
            .post(app.url(&format!("/api/v1/invitations/{late}/accept")))
            .json(&json!({"password": "a long enough phrase"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_api_error(&r, 410, None, "expired invitation via the API");
    // Reused.
    let once = invite("once@a.test").await;
    let r =
        page_post(&app, &b, &format!("/invite/{once}"), &[("name", "Ivy"), ("password", "a long enough phrase")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r =
        page_post(&app, &b, &format!("/invite/{once}"), &[("name", "Ivy"), ("password", "a long enough phrase")]).await;
    assert_gone(&r, "reused invitation");
    assert_gone(&page_get(&app, &b, &format!("/invite/{once}")).await, "used invitation page");
    // Replaced by a newer invitation to the same address.
    let old = invite("twice@a.test").await;
    let _new = invite("twice@a.test").await;
    assert_gone(&page_get(&app, &b, &format!("/invite/{old}")).await, "superseded invitation");
    // Bad input on the form: 422 with the form again, the invitation still usable.
    let fresh = invite("fresh@a.test").await;
    let r = page_post(&app, &b, &format!("/invite/{fresh}"), &[("name", "Ivy"), ("password", "short")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("at least 10 characters"), "the form says why");
    let r = page_post(
        &app,
        &b,
        &format!("/invite/{fresh}"),
        &[("name", &"n".repeat(NAME_MAX + 1)), ("password", "a long enough phrase")],
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("at most 200"), "the form says why: name too long");
    assert_eq!(page_get(&app, &b, &format!("/invite/{fresh}")).await.status, 200);
    app.stop().await;
}

// ----- markup in user text -------------------------------------------------------------------

const SCRIPT: &str = "<script>alert('xss')</script>";
const IMG: &str = "<img src=x onerror=alert('xss')>";

/// The raw HTML tags of a document (escaped text such as `&lt;img&gt;` is not a tag).
fn tags(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let Some(j) = rest[i..].find('>') else { break };
        out.push(&rest[i..i + j + 1]);
        rest = &rest[i + j + 1..];
    }
    out
}

/// A tag without its quoted attribute values (escaped text inside them is inert).
fn outside_quotes(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len());
    let mut quote = None;
    for ch in tag.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '"' || ch == '\'' => quote = Some(ch),
            None => out.push(ch),
        }
    }
    out
}

/// The text with the numeric entities askama may use turned into the named ones, so that
/// escaped markup can be looked for as `&lt;script&gt;alert('xss')`.
fn entities_normalized(html: &str) -> String {
    html.replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
}

#[track_caller]
fn assert_inert(a: &Answer, what: &str) {
    assert_eq!(a.status, 200, "{what}");
    // The escaped forms (`&lt;img src=x onerror=...`) are text; the raw tags must not appear.
    for raw in ["<script>alert", "<img src=x", "<b>bold-name</b>"] {
        assert!(!a.body.contains(raw), "{what}: raw markup {raw:?} reached the page");
    }
    for tag in tags(&a.body) {
        let t = outside_quotes(&tag.to_lowercase());
        assert!(!t.contains("onerror") && !t.contains("javascript:"), "{what}: live markup {tag}");
        if t.starts_with("<script") {
            assert!(tag.contains(" src=\"/static/"), "{what}: only the app's own scripts: {tag}");
        }
    }
}

#[tokio::test]
async fn markup_in_names_and_comments_is_rendered_inert() {
    // SEC-IO-3: names, titles and comments containing HTML are escaped (or sanitized markdown).
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let client_name = format!("{SCRIPT}Evil & Co");
    let c = send_json(&app, &owner, "POST", "/api/v1/clients", &json!({"name": client_name})).await;
    assert_eq!(c.status, 201, "{}", c.body);
    let cid = c.json()["id"].as_str().unwrap().to_string();
    let p = send_json(
        &app,
        &owner,
        "POST",
        "/api/v1/projects",
        &json!({"client_id": cid, "name": format!("{IMG}Launch"), "description": format!("Plan {SCRIPT} **now**")}),
    )
    .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let pid = p.json()["id"].as_str().unwrap().to_string();
    // A client user whose name carries markup, through an invitation.
    let inv = send_json(
        &app,
        &owner,
        "POST",
        "/api/v1/invitations",
        &json!({"email": "mal@evil.test", "name": format!("<b>bold-name</b>{SCRIPT}"), "role": "client_admin", "client_id": cid}),
    )
    .await;
    assert_eq!(inv.status, 201, "{}", inv.body);
    let token = inv.json()["accept_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let acc = Answer::of(
        api()
            .post(app.url(&format!("/api/v1/invitations/{token}/accept")))
            .json(&json!({"password": "a long enough phrase"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(acc.status, 201);
    let mal: atrium_core::ids::UserId = acc.json()["user"]["id"].as_str().unwrap().parse().unwrap();
    let t = send_json(
        &app,
        &owner,
        "POST",
        &format!("/api/v1/projects/{pid}/tasks"),
        &json!({"title": format!("{SCRIPT}Approve"), "assignee_id": mal.to_string(), "description": IMG}),
    )
    .await;
    assert_eq!(t.status, 201, "{}", t.body);
    let tid = t.json()["id"].as_str().unwrap().to_string();
    let cm = send_json(
        &app,
        &owner,
        "POST",
        &format!("/api/v1/tasks/{tid}/comments"),
        &json!({"body": format!("Hello {SCRIPT} **bold** {IMG} [x](javascript:alert(1))"), "visibility": "reply"}),
    )
    .await;
    assert_eq!(cm.status, 201, "{}", cm.body);
    // The API keeps the source as typed (JSON is not HTML), and body_html is sanitized.
    let html = cm.json()["body_html"].as_str().unwrap().to_string();
    assert!(html.contains("<strong>bold</strong>"));
    for tag in tags(&html) {
        let t = tag.to_lowercase();
        assert!(
            !t.starts_with("<script") && !t.contains("onerror") && !t.contains("javascript:"),
            "live markup {tag} in {html}"
        );
    }
    // Every page showing these names renders them as text.
    let staff = app.browser_creds(Some(w.owner)).await;
    let client = app.browser_creds(Some(mal)).await;
    let mut escaped_seen = 0;
    for (creds, path) in [
        (&staff, "/staff".to_string()),
        (&staff, "/staff/clients".to_string()),
        (&staff, format!("/staff/clients/{cid}")),
        (&staff, format!("/staff/projects/{pid}")),
        (&staff, format!("/staff/tasks/{tid}")),
        (&client, "/portal".to_string()),
        (&client, "/portal/projects".to_string()),
        (&client, format!("/portal/projects/{pid}")),
        (&client, "/portal/tasks".to_string()),
        (&client, format!("/portal/tasks/{tid}")),
        (&client, "/account".to_string()),
    ] {
        let a = page_get(&app, creds, &path).await;
        assert_inert(&a, &path);
        if entities_normalized(&a.body).contains("&lt;script&gt;alert('xss')&lt;/script&gt;")
            || entities_normalized(&a.body).contains("&lt;img src=x onerror=alert('xss')&gt;")
        {
            escaped_seen += 1;
        }
    }
    assert!(escaped_seen >= 8, "names and titles are shown, escaped ({escaped_seen} pages)");
    // A reflected value: the sign-in form echoes the email typed.
    let b = anon(&app).await;
    let r = page_post(
        &app,
        &b,
        "/login",
        &[("email", "\"><script>alert(1)</script>@x.test"), ("password", "wrong password")],
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(!r.body.contains("<script>alert(1)"), "the echoed email is escaped");
    assert!(entities_normalized(&r.body).contains("\"&gt;&lt;script&gt;alert(1)&lt;/script&gt;@x.test"));
    app.stop().await;
}

#[tokio::test]
async fn bad_billing_input_is_a_clear_4xx() {
    // Money input: every mistake is a 4xx naming the field, never a 500 (overflow included).
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let client = w.a.id.to_string();
    let line =
        |q: &str, p: &str, t: &str| json!({"description": "Work", "quantity": q, "unit_price": p, "tax_rate": t});
    let invoice = |currency: &str, lines: Value| json!({"client_id": client, "currency": currency, "issue_date": "2026-03-01", "due_date": "2026-03-31", "lines": lines});
    let many: Vec<Value> = (0..201).map(|_| line("1", "1", "0")).collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("negative quantity", invoice("EUR", json!([line("-2", "10", "0")])), "lines[0].quantity"),
        ("zero quantity", invoice("EUR", json!([line("0", "10", "0")])), "lines[0].quantity"),
        ("negative price", invoice("EUR", json!([line("1", "-10", "0")])), "lines[0].unit_price"),
        (
            "price overflow",
            invoice("EUR", json!([line("1", "79228162514264337593543950335", "0")])),
            "lines[0].unit_price",
        ),
        ("quantity too precise", invoice("EUR", json!([line("1.00001", "1", "0")])), "lines[0].quantity"),
        ("quantity as a float", invoice("EUR", json!([line("1e3", "1", "0")])), "lines[0].quantity"),
        ("tax over 100", invoice("EUR", json!([line("1", "1", "101")])), "lines[0].tax_rate"),
        (
            "discount over 100",
            invoice(
                "EUR",
                json!([{"description": "W", "quantity": "1", "unit_price": "1", "tax_rate": "0", "discount": "150"}]),
            ),
            "lines[0].discount",
        ),
        (
            "empty description",
            invoice("EUR", json!([{"description": " ", "quantity": "1", "unit_price": "1", "tax_rate": "0"}])),
            "lines[0].description",
        ),
        (
            "long description",
            invoice(
                "EUR",
                json!([{"description": "x".repeat(501), "quantity": "1", "unit_price": "1", "tax_rate": "0"}]),
            ),
            "lines[0].description",
        ),
        ("no lines", invoice("EUR", json!([])), "lines"),
        ("too many lines", invoice("EUR", json!(many)), "lines"),
        ("unknown currency", invoice("ABC", json!([line("1", "1", "0")])), "currency"),
        ("currency without minor unit", invoice("XAU", json!([line("1", "1", "0")])), "currency"),
        (
            "number instead of string",
            invoice("EUR", json!([{"description": "W", "quantity": 1.5, "unit_price": "1", "tax_rate": "0"}])),
            "quantity",
        ),
        (
            "unknown line field",
            invoice(
                "EUR",
                json!([{"description": "W", "quantity": "1", "unit_price": "1", "tax_rate": "0", "net": "999"}]),
            ),
            "net",
        ),
        (
            "due before issue",
            json!({"client_id": client, "currency": "EUR", "issue_date": "2026-03-31", "due_date": "2026-03-01", "lines": [line("1", "1", "0")]}),
            "due_date",
        ),
        (
            "far date",
            json!({"client_id": client, "currency": "EUR", "issue_date": "2026-03-01", "due_date": "+12026-03-01", "lines": [line("1", "1", "0")]}),
            "due_date",
        ),
        (
            "client not an id",
            json!({"client_id": "nope", "currency": "EUR", "issue_date": "2026-03-01", "due_date": "2026-03-31", "lines": [line("1", "1", "0")]}),
            "client_id",
        ),
        (
            "status smuggled in",
            json!({"client_id": client, "currency": "EUR", "issue_date": "2026-03-01", "due_date": "2026-03-31", "lines": [line("1", "1", "0")], "status": "paid"}),
            "status",
        ),
        (
            "project of another client",
            json!({"client_id": client, "project_id": w.b.project.to_string(), "currency": "EUR", "issue_date": "2026-03-01", "due_date": "2026-03-31", "lines": [line("1", "1", "0")]}),
            "project_id",
        ),
        (
            "long notes",
            json!({"client_id": client, "currency": "EUR", "issue_date": "2026-03-01", "due_date": "2026-03-31", "lines": [line("1", "1", "0")], "notes": "n".repeat(BODY_MAX + 1)}),
            "notes",
        ),
    ];
    for (what, body, field) in cases {
        let a = send_json(&app, &staff, "POST", "/api/v1/invoices", &body).await;
        assert_api_error(&a, 422, Some(field), what);
    }
    // The largest allowed invoice still computes exactly (no overflow, no 500).
    let max: Vec<Value> = (0..200).map(|_| line("1000000", "1000000000", "100")).collect();
    let a = send_json(&app, &staff, "POST", "/api/v1/invoices", &invoice("EUR", json!(max))).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.json()["total"], "400000000000000000.00");

    // Payments.
    let id = w.a.invoice.to_string();
    let pay = |amount: Value| json!({"amount": amount, "date": "2026-03-02", "method": "bank_transfer"});
    let path = format!("/api/v1/invoices/{id}/payments");
    for (what, body, field) in [
        ("zero", pay(json!("0")), "amount"),
        ("negative", pay(json!("-5")), "amount"),
        ("too precise for EUR", pay(json!("1.001")), "amount"),
        ("not a number", pay(json!("ten")), "amount"),
        ("unknown method", json!({"amount": "1", "date": "2026-03-02", "method": "barter"}), "method"),
        (
            "long reference",
            json!({"amount": "1", "date": "2026-03-02", "method": "cash", "reference": "r".repeat(201)}),
            "reference",
        ),
    ] {
        let a = send_json(&app, &staff, "POST", &path, &body).await;
        assert_api_error(&a, 422, Some(field), what);
    }
    let a = send_json(&app, &staff, "POST", &path, &pay(json!("12000.01"))).await;
    assert_api_error(&a, 422, Some("12,000.00"), "payment above the balance names the balance");
    assert_eq!(a.json()["error"]["code"], "overpayment");
    // Editing a sent invoice.
    let a = send_json(&app, &staff, "PATCH", &format!("/api/v1/invoices/{id}"), &json!({"notes": "x"})).await;
    assert_api_error(&a, 409, None, "editing a sent invoice");
    // Garbage ids.
    for p in
        ["/api/v1/invoices/nope", "/api/v1/invoices/nope/pdf", "/api/v1/invoices/00000000-0000-0000-0000-000000000000"]
    {
        assert_api_error(&get(&app, &staff, p).await, 404, None, p);
    }
    let a = get(&app, &staff, "/api/v1/invoices?client_id=nope").await;
    assert_eq!(a.status, 404);
    let a = get(&app, &staff, "/api/v1/invoices?overdue=maybe").await;
    assert_api_error(&a, 422, Some("overdue"), "overdue not a boolean");
    // The HTML form: a bad amount is a 4xx page, never a 500.
    let (c, csrf) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    let res = c
        .post(app.url(&format!("/staff/invoices/{id}/payments")))
        .form(&[("_csrf", csrf.as_str()), ("amount", "1e99"), ("date", "2026-03-02"), ("method", "cash")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = c
        .post(app.url("/staff/invoices"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("client_id", client.as_str()),
            ("currency", "EUR"),
            ("issue_date", "x"),
            ("due_date", "2026-03-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    app.stop().await;
}

// ----- control and bidi characters; `next` ---------------------------------------------------

/// Strings no single-line field may hold (SEC-IO-9): CR/LF, a C1 control, a bidi override, a
/// bidi isolate, a bidi mark and a zero-width space, each between ordinary letters.
const NOT_ONE_LINE: [&str; 6] =
    ["Evil\r\nBcc: all@x.test", "Evil\u{9b}Corp", "invoice\u{202E}fdp.exe", "a\u{2066}b", "a\u{200F}b", "a\u{200B}b"];

#[tokio::test]
async fn control_and_bidi_characters_in_single_line_text_are_422_naming_the_field() {
    // SEC-IO-9
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let client_id = w.a.id.to_string();
    let p = w.a.project;
    let invoice = |line: &str| json!({"client_id": client_id, "currency": "EUR", "issue_date": "2026-03-01", "due_date": "2026-03-31", "lines": [{"description": line, "quantity": "1", "unit_price": "1", "tax_rate": "0"}]});
    for bad in NOT_ONE_LINE {
        // (method, path, body, field)
        let cases: Vec<(&str, String, Value, &str)> = vec![
            ("POST", "/api/v1/clients".into(), json!({"name": bad}), "name"),
            ("PATCH", format!("/api/v1/clients/{}", w.a.id), json!({"name": bad}), "name"),
            ("POST", "/api/v1/projects".into(), json!({"client_id": client_id, "name": bad}), "name"),
            ("PATCH", format!("/api/v1/projects/{p}"), json!({"name": bad}), "name"),
            ("POST", format!("/api/v1/projects/{p}/tasks"), json!({"title": bad}), "title"),
            ("PATCH", format!("/api/v1/tasks/{}", w.a.task), json!({"title": bad}), "title"),
            ("POST", format!("/api/v1/projects/{p}/milestones"), json!({"name": bad}), "name"),
            ("POST", format!("/api/v1/projects/{p}/folders"), json!({"name": bad}), "name"),
            ("PATCH", format!("/api/v1/files/{}", w.a.file), json!({"name": bad}), "name"),
            (
                "POST",
                "/api/v1/invitations".into(),
                json!({"email": "new@a.test", "name": bad, "role": "client_viewer", "client_id": client_id}),
                "name",
            ),
            ("POST", format!("/api/v1/clients/{}/contacts", w.a.id), json!({"name": bad}), "name"),
            ("POST", format!("/api/v1/clients/{}/contacts", w.a.id), json!({"name": "N", "phone": bad}), "phone"),
            ("POST", format!("/api/v1/clients/{}/contacts", w.a.id), json!({"name": "N", "title": bad}), "title"),
            ("POST", "/api/v1/invoices".into(), invoice(bad), "lines[0].description"),
            (
                "POST",
                format!("/api/v1/invoices/{}/payments", w.a.invoice),
                json!({"amount": "1.00", "date": "2026-03-02", "method": "bank_transfer", "reference": bad}),
                "reference",
            ),
        ];
        for (method, path, body, field) in cases {
            let a = send_json(&app, &owner, method, &path, &body).await;
            assert_api_error(&a, 422, Some(field), &format!("{method} {path} with {bad:?}"));
        }
        // File names: the multipart file name and the `name` part of an upload.
        let part = || reqwest::multipart::Part::bytes(b"%PDF-1.4".to_vec());
        for (form, field) in [
            (reqwest::multipart::Form::new().part("file", part().file_name(bad.to_string())), "file"),
            (
                reqwest::multipart::Form::new().text("name", bad.to_string()).part("file", part().file_name("ok.pdf")),
                "name",
            ),
        ] {
            let res = api().post(app.url(&format!("/api/v1/projects/{p}/files"))).bearer_auth(&owner).multipart(form);
            let a = Answer::of(res.send().await.expect("upload")).await;
            assert_api_error(&a, 422, Some(field), &format!("upload named {bad:?}"));
        }
    }
    // Nothing above was stored: the names are still the seeded ones.
    let (_, c) = call(&app, &owner, "GET", &format!("/clients/{}", w.a.id), None).await;
    assert_eq!(c["name"], w.a.name.as_str());
    // Emails never hold them either.
    let body = json!({"email": "ne\u{202E}w@a.test", "name": "N", "role": "client_viewer", "client_id": client_id});
    let a = send_json(&app, &owner, "POST", "/api/v1/invitations", &body).await;
    assert_api_error(&a, 422, Some("email"), "email with a bidi override");
    app.stop().await;
}

#[tokio::test]
async fn multi_line_text_keeps_newlines_but_refuses_controls_and_bidi_overrides() {
    // SEC-IO-9 (multi-line text: descriptions, comments, messages, approval comments).
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let admin = app.token_for(w.a.admin).await;
    let p = w.a.project;
    for bad in ["Pay \u{202E}gnp.exe now", "a\u{2067}b", "colour \u{1b}[31mred", "a\u{0}b", "a\u{9b}b"] {
        let cases: Vec<(&str, &str, String, Value, &str)> = vec![
            (&owner, "POST", format!("/api/v1/tasks/{}/comments", w.a.task), json!({"body": bad}), "body"),
            (&owner, "POST", format!("/api/v1/projects/{p}/messages"), json!({"body": bad}), "body"),
            (&owner, "PATCH", format!("/api/v1/messages/{}", w.a.message), json!({"body": bad}), "body"),
            (&owner, "PATCH", format!("/api/v1/projects/{p}"), json!({"description": bad}), "description"),
            (&owner, "PATCH", format!("/api/v1/tasks/{}", w.a.task), json!({"description": bad}), "description"),
            (
                &admin,
                "POST",
                format!("/api/v1/approvals/{}/decision", w.a.approval),
                json!({"decision": "changes_requested", "comment": bad}),
                "comment",
            ),
        ];
        for (token, method, path, body, field) in cases {
            let a = send_json(&app, token, method, &path, &body).await;
            assert_api_error(&a, 422, Some(field), &format!("{method} {path} with {bad:?}"));
        }
    }
    // Newlines, tabs and the bidi marks right-to-left writers use stay.
    let body = "Line one\n\tLine two \u{200F}שלום\u{200F}";
    let (s, c) =
        call(&app, &owner, "POST", &format!("/tasks/{}/comments", w.a.task), Some(json!({"body": body}))).await;
    assert_eq!(s, 201, "{c}");
    app.stop().await;
}

#[tokio::test]
async fn forms_refuse_control_characters_in_names() {
    // SEC-IO-9, through the HTML forms (the same validation).
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.browser_creds(Some(w.staff)).await;
    for bad in NOT_ONE_LINE {
        for (path, fields) in [
            ("/staff/clients".to_string(), vec![("name", bad)]),
            (format!("/staff/clients/{}", w.a.id), vec![("name", bad)]),
            (format!("/staff/clients/{}/contacts", w.a.id), vec![("name", bad)]),
            (format!("/staff/clients/{}/projects", w.a.id), vec![("name", bad)]),
            (format!("/staff/projects/{}/folders", w.a.project), vec![("name", bad)]),
        ] {
            let a = page_post(&app, &staff, &path, &fields).await;
            assert_eq!(a.status, 422, "POST {path} with {bad:?}: {}", a.body);
            assert!(a.body.contains("name"), "POST {path}: the page names the field");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_bad_next_on_the_status_form_is_422_and_changes_nothing() {
    // `next` is checked before the change, and no header is built from it: never a 500.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let me = app.browser_creds(Some(w.a.admin)).await;
    let token = app.token_for(w.a.admin).await;
    let form = format!("/portal/tasks/{}/status", w.a.task);
    let path = format!("/tasks/{}", w.a.task);
    let status =
        || async { call(&app, &token, "GET", &path, None).await.1["status"].as_str().unwrap_or_default().to_string() };
    let long = format!("/portal/{}", "a".repeat(atrium_core::validate::NEXT_MAX));
    for bad in [
        "/portal\r\nSet-Cookie: atrium=x",
        "/portal/tasks\n",
        "//evil.test/portal",
        "/\\evil.test",
        "https://evil.test/portal",
        "/staff/clients",
        "/portal\u{202E}",
        long.as_str(),
    ] {
        let a = page_post(&app, &me, &form, &[("status", "done"), ("next", bad)]).await;
        assert_eq!(a.status, 422, "next {bad:?}: {}", a.body);
        assert!(a.body.contains("next"), "next {bad:?}: the page names the field");
        assert!(a.location().is_none(), "next {bad:?}: no redirect");
        assert_eq!(status().await, "todo", "next {bad:?} changed the task");
    }
    let good = format!("/portal/tasks/{}?notice=saved#status", w.a.task);
    let a = page_post(&app, &me, &form, &[("status", "done"), ("next", good.as_str())]).await;
    assert_eq!((a.status, a.location()), (303, Some(good.as_str())), "{}", a.body);
    assert_eq!(status().await, "done");
    app.stop().await;
}

/// `html` without the value of its `data-live-since` attribute (when the page was rendered).
fn without_live_since(html: &str) -> String {
    const ATTR: &str = "data-live-since=\"";
    let Some(start) = html.find(ATTR).map(|i| i + ATTR.len()) else { return html.to_string() };
    let end = html[start..].find('"').map_or(html.len(), |e| start + e);
    format!("{}{}", &html[..start], &html[end..])
}
