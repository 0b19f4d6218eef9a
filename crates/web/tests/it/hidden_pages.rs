//! Pages per client (issue 13): a page a client's portal hides is 404 for that client's users on
//! every path of its area — generated from the route tables (`routes::page_routes()` and
//! `api::area_operations()`), as the authorization matrix is — while another client's users and
//! staff keep it; nothing of a hidden area is notified, mailed or streamed to them; the API that
//! sets it; the portal-wide Files and Messages pages.

use std::time::Duration;

use crate::authz_matrix::{Payload, Target, Via, api_rules, page_form, send, substitute};
use crate::common::*;
use crate::sse::Sse;
use atrium_core::ids::UserId;
use atrium_core::model::Channel;
use atrium_core::policy::PortalPage;
use serde_json::{Value, json};

const ALL_HIDDEN: &str =
    r#"{"pages":{"files":false,"messages":false,"approvals":false,"billing":false,"helpdesk":false}}"#;

/// One route of an area, with what to send.
struct AreaRoute {
    area: PortalPage,
    method: String,
    template: String,
    via: Via,
    query: fn(&ClientSide) -> String,
    body: fn(&ClientSide) -> Payload,
    /// The page form (pages) — `body` is only for API routes.
    page: bool,
}

fn no_query(_: &ClientSide) -> String {
    String::new()
}

/// Every route filed under a portal area, from both tables.
fn area_routes() -> Vec<AreaRoute> {
    let mut out = Vec::new();
    for r in atrium_web::routes::page_routes() {
        if let Some(area) = r.area {
            out.push(AreaRoute {
                area,
                method: r.method.to_string(),
                template: r.path.to_string(),
                via: Via::Cookie,
                query: no_query,
                body: |_| Payload::Empty,
                page: true,
            });
        }
    }
    let rules = api_rules();
    for (area, method, path) in atrium_web::api::area_operations() {
        let rule = rules
            .iter()
            .find(|r| r.method == method && r.path == path)
            .unwrap_or_else(|| panic!("{method} {path} is classified in the authorization matrix"));
        out.push(AreaRoute {
            area,
            method: method.to_uppercase(),
            template: path,
            via: Via::Bearer,
            query: rule.query,
            body: rule.body,
            page: false,
        });
    }
    out
}

async fn call_route(app: &TestApp, user: Option<UserId>, r: &AreaRoute, side: &ClientSide) -> Answer {
    let t = Target::new(side, String::new(), String::new());
    let mut path = substitute(&r.template, &t);
    let q = (r.query)(side);
    if !q.is_empty() {
        path = format!("{path}?{q}");
    }
    let payload =
        if r.page { page_form(&r.method, &r.template, side).expect("classified page") } else { (r.body)(side) };
    send(app, user, r.via, &r.method, &path, &payload).await
}

async fn set_portal(app: &TestApp, w: &World, client: impl std::fmt::Display, body: &str) -> Value {
    let owner = app.token_for(w.owner).await;
    let body: Value = serde_json::from_str(body).expect("json");
    let (s, v) = call(app, &owner, "PATCH", &format!("/clients/{client}/portal"), Some(body)).await;
    assert_eq!(s, 200, "{v}");
    v
}

#[tokio::test]
async fn every_route_of_a_hidden_area_is_404_for_that_clients_users_only() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let routes = area_routes();
    for area in [PortalPage::Files, PortalPage::Messages, PortalPage::Approvals, PortalPage::Billing] {
        for page in [true, false] {
            assert!(
                routes.iter().any(|r| r.area == area && r.page == page),
                "{area:?} has {} in the tables",
                if page { "pages" } else { "API routes" }
            );
        }
    }
    // Every route whose path names an area is filed under it (nothing of an area escapes).
    for r in atrium_web::routes::page_routes() {
        let names = |seg: &str| r.path.split('/').any(|s| s == seg);
        if names("files") || names("folders") || names("messages") || names("approvals") || names("invoices") {
            assert!(r.area.is_some(), "{} {} names an area but is not filed under one", r.method, r.path);
        }
    }
    let api_paths: Vec<String> = atrium_web::api::area_operations().into_iter().map(|(_, _, p)| p).collect();
    for (path, _) in atrium_web::api::openapi().paths.paths {
        let names = |seg: &str| path.split('/').any(|s| s == seg);
        if names("files") || names("folders") || names("messages") || names("approvals") || names("invoices") {
            assert!(api_paths.contains(&path), "{path} names an area but is not filed under one");
        }
    }

    // Before: what A's admin and staff get on A's things.
    let staff_reads = |r: &&AreaRoute| r.method == "GET";
    let mut staff_before = Vec::new();
    for r in routes.iter().filter(staff_reads) {
        staff_before.push(call_route(&app, Some(w.owner), r, &w.a).await.status);
    }
    let mut a_before = Vec::new();
    for r in &routes {
        a_before.push(call_route(&app, Some(w.a.admin), r, &w.a).await.status);
    }
    let reached = a_before.iter().filter(|s| **s != 404).count();
    assert!(reached >= 20, "A's admin reaches most area routes before hiding ({reached} of {})", routes.len());

    set_portal(&app, &w, w.a.id, ALL_HIDDEN).await;
    let mut failures = Vec::new();
    for (r, before) in routes.iter().zip(&a_before) {
        for user in [w.a.admin, w.a.viewer, w.a.finance] {
            let got = call_route(&app, Some(user), r, &w.a).await;
            if got.status != 404 {
                failures.push(format!("{} {} as A's {user}: {} (want 404)", r.method, r.template, got.status));
            }
        }
        // Client B shows everything: its admin gets on B's things what A's admin got before.
        let b = call_route(&app, Some(w.b.admin), r, &w.b).await;
        if b.status != *before {
            failures.push(format!("{} {} as B's admin: {} (A's admin had {before})", r.method, r.template, b.status));
        }
    }
    for (r, before) in routes.iter().filter(staff_reads).zip(&staff_before) {
        let got = call_route(&app, Some(w.owner), r, &w.a).await;
        if got.status != *before {
            failures.push(format!("{} {} as staff: {} (had {before})", r.method, r.template, got.status));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    app.stop().await;
}

#[tokio::test]
async fn view_as_client_sees_what_the_client_sees() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    set_portal(&app, &w, w.a.id, r#"{"pages":{"files":false}}"#).await;
    let creds = app.browser_creds(Some(w.staff)).await;
    let c = browser();
    let post = |path: String, form: Vec<(&'static str, String)>| {
        c.post(app.url(&path)).header("cookie", &creds.cookie).form(&form).send()
    };
    let r = post(
        format!("/staff/clients/{}/view-as", w.a.id),
        vec![("_csrf", creds.csrf.clone()), ("user_id", w.a.admin.to_string())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let get = |path: String| c.get(app.url(&path)).header("cookie", &creds.cookie).send();
    let home = get("/portal".into()).await.unwrap().text().await.unwrap();
    assert!(home.contains("href=\"/portal/messages\"") && !home.contains("href=\"/portal/files\""), "{home}");
    assert_eq!(get("/portal/files".into()).await.unwrap().status(), 404);
    assert_eq!(get(format!("/portal/projects/{}/files", w.a.project)).await.unwrap().status(), 404);
    assert_eq!(get("/portal/messages".into()).await.unwrap().status(), 200);
    let project = get(format!("/portal/projects/{}", w.a.project)).await.unwrap().text().await.unwrap();
    assert!(!project.contains("/files\">Files</a>") && project.contains("/messages\">Messages"), "{project}");
    app.stop().await;
}

#[tokio::test]
async fn nothing_of_a_hidden_area_is_notified_mailed_or_streamed() {
    let app = TestApp::spawn_with(|c| c.stream_recheck = Duration::from_millis(200)).await;
    let w = seed(&app).await;
    let owner = app.actor(w.owner).await;
    // A message while Messages is shown: A's admin is told (the control).
    app.store.create_message(&owner, w.a.project, Channel::Client, "Before hiding".into(), None).await.unwrap();
    app.run_jobs().await;
    let admin = app.token_for(w.a.admin).await;
    let (_, list) = call(&app, &admin, "GET", "/notifications", None).await;
    assert!(list.to_string().contains("Before hiding"), "{list}");
    assert!(app.mails().await.iter().any(|m| m.to == "admin@a.test"), "mailed while shown");
    app.mails.lock().unwrap().clear();

    let mut stream = Sse::ready(&app.url("/api/v1/events"), &admin).await;
    set_portal(&app, &w, w.a.id, r#"{"pages":{"messages":false,"approvals":false,"billing":false}}"#).await;
    // The stream was opened with the old pages: it ends, and the browser reconnects.
    assert!(stream.ends_within(Duration::from_secs(3)).await, "a stream of the client ends when its pages change");
    let mut stream = Sse::ready(&app.url("/api/v1/events"), &admin).await;
    let b_admin = app.token_for(w.b.admin).await;
    let mut b_stream = Sse::ready(&app.url("/api/v1/events"), &b_admin).await;

    // The earlier notification is gone from A's list and count.
    let (_, list) = call(&app, &admin, "GET", "/notifications", None).await;
    assert!(!list.to_string().contains("Before hiding"), "{list}");

    // Messages, an approval and an invoice: nothing reaches A's users; B (all shown) gets its own.
    for side in [&w.a, &w.b] {
        app.store
            .create_message(&owner, side.project, Channel::Client, format!("Hidden? {}", side.name), None)
            .await
            .unwrap();
        let id = atrium_store::approvals::NewApproval {
            subject_type: atrium_core::model::ApprovalSubject::Task,
            subject_id: side.chore.to_string(),
            approver_ids: vec![side.admin],
            due_date: None,
        };
        app.store.request_approval(&owner, id, None).await.unwrap();
        let inv = draft_invoice(&app, &owner, side.id).await;
        app.store.send_invoice(&owner, inv, None).await.unwrap();
    }
    app.run_jobs().await;
    let (_, list) = call(&app, &admin, "GET", "/notifications", None).await;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    assert!(!items.is_empty(), "A's admin still hears of task work: {list}");
    assert!(
        items.iter().all(|n| n["subject_type"] == "task" || n["subject_type"] == "ticket"),
        "A's admin hears of nothing of the hidden areas (the help desk is still shown): {list}"
    );
    for user in [w.a.finance, w.a.viewer] {
        let (_, l) = call(&app, &app.token_for(user).await, "GET", "/notifications", None).await;
        let text = l.to_string();
        assert!(!text.contains("Hidden?") && !text.contains("Approve") && !text.contains("nvoice"), "{text}");
    }
    let (_, b_list) = call(&app, &b_admin, "GET", "/notifications", None).await;
    let b_text = b_list.to_string();
    assert!(b_text.contains("Hidden? Clientb Corp"), "B's admin is told of B's message: {b_text}");
    assert!(b_list["items"].as_array().map(Vec::len).unwrap_or(0) >= 3, "message, approval and invoice: {b_text}");
    let mails = app.mails().await;
    assert!(
        !mails.iter().any(|m| m.to.ends_with("@a.test")),
        "no mail to A's users: {:?}",
        mails.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    assert!(mails.iter().any(|m| m.to == "admin@b.test"), "B's admin is mailed");
    // Live events: B's stream gets the message and the approval, A's neither.
    assert!(b_stream.wait_for(Duration::from_secs(2), |e| e.kind == "message.created").await.is_some());
    assert!(b_stream.wait_for(Duration::from_secs(2), |e| e.kind == "approval.updated").await.is_some());
    stream.drain(Duration::from_millis(500)).await;
    assert!(
        !stream.seen.iter().any(|e| e.kind.starts_with("message.") || e.kind.starts_with("approval.")),
        "A's stream got {:?}",
        stream.seen.iter().map(|e| &e.kind).collect::<Vec<_>>()
    );
    // Task work (never hidden) still reaches A.
    let staff = app.token_for(w.staff).await;
    let (s, _) =
        call(&app, &staff, "PATCH", &format!("/tasks/{}", w.a.task), Some(json!({"status": "in_progress"}))).await;
    assert_eq!(s, 200);
    assert!(stream.wait_for(Duration::from_secs(2), |e| e.kind == "task.updated").await.is_some());
    app.stop().await;
}

#[tokio::test]
async fn the_portal_api_reads_and_validates() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let viewer = app.token_for(w.a.viewer).await;

    let (s, v) = call(&app, &staff, "GET", &format!("/clients/{}/portal", w.a.id), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["pages"],
        json!({"files": true, "messages": true, "approvals": true, "billing": true, "helpdesk": true})
    );
    assert_eq!(v["welcome_text"], Value::Null);
    assert_eq!(v["client_name"], "Clienta Corp");

    // Any staff member sets a client's pages; partial: absent keys stay.
    let (s, v) = call(
        &app,
        &staff,
        "PATCH",
        &format!("/clients/{}/portal", w.a.id),
        Some(json!({"pages": {"billing": false, "helpdesk": false}, "welcome_text": "Welcome, Acme!"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["pages"]["billing"], false);
    assert_eq!(v["pages"]["files"], true);
    assert_eq!(v["welcome_text"], "Welcome, Acme!");

    // Home greets with it.
    let (c, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let home = c.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("<p class=\"welcome\">Welcome, Acme!</p>"), "{home}");
    // The client's own view: its name, what it shows this user, the welcome text.
    let (s, v) = call(&app, &admin, "GET", "/portal", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v,
        json!({"client_name": "Clienta Corp", "welcome_text": "Welcome, Acme!",
        "pages": {"files": true, "messages": true, "approvals": true, "billing": false, "helpdesk": false},
        "quick_actions": [{"kind": "projects", "label": "View projects", "href": "/portal/projects"}]})
    );
    let (_, v) = call(&app, &viewer, "GET", "/portal", None).await;
    assert_eq!(v["pages"]["billing"], false);
    let (_, v) = call(&app, &app.token_for(w.b.admin).await, "GET", "/portal", None).await;
    assert_eq!(v["client_name"], "Clientb Corp");
    assert_eq!(v["pages"]["billing"], true, "B is untouched");
    // Staff have no portal; clients no client settings.
    assert_eq!(call(&app, &staff, "GET", "/portal", None).await.0, 404);
    assert_eq!(call(&app, &admin, "GET", &format!("/clients/{}/portal", w.a.id), None).await.0, 404);
    let (s, _) =
        call(&app, &admin, "PATCH", &format!("/clients/{}/portal", w.a.id), Some(json!({"pages": {"billing": true}})))
            .await;
    assert_eq!(s, 404);

    // Validation: 422 naming the field, nothing changed.
    let bad = [
        (json!({"pages": {"home": false}}), "pages.home"),
        (json!({"pages": {"projects": false}}), "pages.projects"),
        (json!({"pages": {"my_tasks": false}}), "pages.my_tasks"),
        (json!({"welcome_text": "x".repeat(2001)}), "welcome_text"),
        (json!({"welcome_text": "bad \u{0007} bell"}), "welcome_text"),
    ];
    for (body, field) in bad {
        let (s, v) = call(&app, &staff, "PATCH", &format!("/clients/{}/portal", w.a.id), Some(body.clone())).await;
        assert_eq!(s, 422, "{body}: {v}");
        assert!(v["error"]["message"].as_str().unwrap_or_default().contains(field), "{body} names {field}: {v}");
    }
    for body in [json!({"pages": {"tickets": false}}), json!({"pages": {"files": "no"}}), json!({"colour": 1})] {
        let (s, v) = call(&app, &staff, "PATCH", &format!("/clients/{}/portal", w.a.id), Some(body.clone())).await;
        assert_eq!(s, 422, "{body}: {v}");
    }
    // Home, Projects and My tasks may be "shown" (they always are).
    let (s, v) =
        call(&app, &staff, "PATCH", &format!("/clients/{}/portal", w.a.id), Some(json!({"pages": {"home": true}})))
            .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["pages"]["billing"], false, "unchanged by the refused bodies");
    // `null` goes back to the agency's welcome text.
    let (_, v) =
        call(&app, &staff, "PATCH", &format!("/clients/{}/portal", w.a.id), Some(json!({"welcome_text": null}))).await;
    assert_eq!(v["welcome_text"], Value::Null);

    // The agency default: staff read it, owners and admins change it, new clients start with it.
    let (s, v) = call(&app, &staff, "GET", "/portal-defaults", None).await;
    assert_eq!((s, v["pages"]["files"].clone()), (200, json!(true)));
    let (s, _) = call(&app, &staff, "PATCH", "/portal-defaults", Some(json!({"pages": {"billing": false}}))).await;
    assert_eq!(s, 403, "staff do not change the agency's default");
    assert_eq!(call(&app, &admin, "GET", "/portal-defaults", None).await.0, 404);
    let (s, v) =
        call(&app, &owner, "PATCH", "/portal-defaults", Some(json!({"pages": {"billing": false, "files": false}})))
            .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["pages"]["billing"], false);
    let (s, v) = call(&app, &owner, "PATCH", "/portal-defaults", Some(json!({"pages": {"home": false}}))).await;
    assert_eq!(s, 422, "{v}");
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("pages.home"), "{v}");
    let (s, c) = call(&app, &owner, "POST", "/clients", Some(json!({"name": "Newco"}))).await;
    assert_eq!(s, 201, "{c}");
    let (_, v) = call(&app, &owner, "GET", &format!("/clients/{}/portal", c["id"].as_str().unwrap()), None).await;
    assert_eq!(v["pages"]["files"], false, "a new client starts with the default");
    assert_eq!(v["pages"]["messages"], true);
    let (_, v) = call(&app, &owner, "GET", &format!("/clients/{}/portal", w.b.id), None).await;
    assert_eq!(v["pages"]["files"], true, "existing clients keep theirs");

    // The OpenAPI document describes the new operations with their statuses.
    let doc = serde_json::to_value(atrium_web::api::openapi()).unwrap();
    let patch = &doc["paths"]["/api/v1/clients/{id}/portal"]["patch"]["responses"];
    assert!(patch.get("422").is_some() && patch.get("404").is_some(), "{patch}");
    assert!(doc["paths"]["/api/v1/portal"]["get"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn portal_files_and_messages_show_the_clients_projects_only() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.actor(w.owner).await;
    // A second project of A with its own conversation; the first gets an unread message.
    let second = app
        .store
        .create_project(
            &owner,
            atrium_store::work::NewProject {
                client_id: w.a.id,
                name: "Projecta Second Quiet".into(),
                description: String::new(),
                status: atrium_core::model::ProjectStatus::Active,
                start_date: None,
                due_date: None,
            },
            None,
        )
        .await
        .unwrap();
    upload(&app, &owner, second.id, None, "Second brief.txt", b"brief").await;
    app.store.create_message(&owner, w.a.project, Channel::Client, "Unread for A".into(), None).await.unwrap();
    app.run_jobs().await;

    let (c, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let res = c.get(app.url("/portal/files")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("href=\"/portal/files\""), "Files is in the nav");
    assert!(page.contains(&w.a.project_name) && page.contains("Projecta Second Quiet"), "one group per project");
    assert!(page.contains(&w.a.file_name) && page.contains("Second brief.txt"), "their files");
    assert!(!page.contains(&w.a.staff_file_name), "never a staff-only file or folder");
    for secret in w.b.secrets() {
        assert!(!page.contains(&secret), "client B's {secret:?} leaked");
    }

    let res = c.get(app.url("/portal/messages")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("href=\"/portal/messages\""), "Messages is in the nav");
    let first = page.find(&w.a.project_name).expect("the project with unread messages");
    let quiet = page.find("Projecta Second Quiet").expect("every conversation");
    assert!(first < quiet, "unread first");
    assert!(page.contains("Unread for A") && page.contains("unread"), "{page}");
    assert!(!page.contains(&w.a.staff_message_text), "never the staff channel");
    for secret in w.b.secrets() {
        assert!(!page.contains(&secret), "client B's {secret:?} leaked");
    }
    // A finance user has no project work: neither page lists anything, neither is in the nav.
    let (f, _) = sign_in(&app, "finance@a.test", PASSWORD).await;
    let home = f.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("href=\"/portal/files\"") && !home.contains("href=\"/portal/messages\""));
    let files = f.get(app.url("/portal/files")).send().await.unwrap().text().await.unwrap();
    assert!(!files.contains(&w.a.file_name));

    // Hidden: gone from the nav, 404.
    set_portal(&app, &w, w.a.id, r#"{"pages":{"files":false}}"#).await;
    let home = c.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("href=\"/portal/files\"") && home.contains("href=\"/portal/messages\""));
    assert_eq!(c.get(app.url("/portal/files")).send().await.unwrap().status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn staff_see_and_change_a_clients_portal_on_its_page() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (c, csrf) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    let page = c.get(app.url(&format!("/staff/clients/{}", w.a.id))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"portal\"") && page.contains("name=\"files\" value=\"true\" checked"), "{page}");
    assert!(page.contains(&format!("action=\"/staff/clients/{}/view-as\"", w.a.id)), "View as client is there");
    // The form sends the whole set: unticked boxes hide their pages.
    let r = c
        .post(app.url(&format!("/staff/clients/{}/portal", w.a.id)))
        .form(&[("_csrf", csrf.as_str()), ("messages", "true"), ("approvals", "true"), ("welcome_text", "Hi A")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = c.get(app.url(&format!("/staff/clients/{}", w.a.id))).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("name=\"files\" value=\"true\">") && page.contains("name=\"messages\" value=\"true\" checked")
    );
    assert!(page.contains(">Hi A</textarea>"));
    let staff = app.token_for(w.staff).await;
    let (_, v) = call(&app, &staff, "GET", &format!("/clients/{}/portal", w.a.id), None).await;
    assert_eq!(
        v["pages"],
        json!({"files": false, "messages": true, "approvals": true, "billing": false, "helpdesk": false})
    );
    // Bad input is a 4xx naming the field.
    let r = c
        .post(app.url(&format!("/staff/clients/{}/portal", w.a.id)))
        .form(&[("_csrf", csrf.as_str()), ("welcome_text", &"x".repeat(2001))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("welcome_text"));
    // The default for new clients: shown to staff, changed by owners and admins only.
    let list = c.get(app.url("/staff/clients")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("Portal pages for new clients") && !list.contains("action=\"/staff/portal-defaults\""));
    let r = c
        .post(app.url("/staff/portal-defaults"))
        .form(&[("_csrf", csrf.as_str()), ("files", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (o, ocsrf) = sign_in(&app, "owner@agency.test", PASSWORD).await;
    let r = o
        .post(app.url("/staff/portal-defaults"))
        .form(&[("_csrf", ocsrf.as_str()), ("files", "true"), ("messages", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, v) = call(&app, &staff, "GET", "/portal-defaults", None).await;
    assert_eq!(
        v["pages"],
        json!({"files": true, "messages": true, "approvals": false, "billing": false, "helpdesk": false})
    );
    app.stop().await;
}

#[tokio::test]
async fn areas_that_stay_keep_working_when_others_are_hidden() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    set_portal(&app, &w, w.a.id, ALL_HIDDEN).await;
    let admin = app.token_for(w.a.admin).await;
    // The task composer's mention list is project people, not the Messages area.
    let (s, v) = call(&app, &admin, "GET", &format!("/projects/{}/people", w.a.project), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(call(&app, &admin, "GET", &format!("/projects/{}/people", w.b.project), None).await.0, 404);
    // Home, Projects, a project, My tasks and a task stay, without links into hidden areas.
    let (c, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    for path in [
        "/portal".to_string(),
        "/portal/projects".into(),
        format!("/portal/projects/{}", w.a.project),
        "/portal/tasks".into(),
        format!("/portal/tasks/{}", w.a.task),
    ] {
        let res = c.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let page = res.text().await.unwrap();
        for hidden in
            ["/portal/files", "/portal/messages", "/portal/approvals", "/portal/billing", "/files\"", "/messages\""]
        {
            assert!(!page.contains(hidden), "{path} links to {hidden}");
        }
    }
    let (s, _) = call(&app, &admin, "PATCH", &format!("/tasks/{}", w.a.task), Some(json!({"status": "done"}))).await;
    assert_eq!(s, 200, "their own task work is untouched");
    app.stop().await;
}

#[tokio::test]
async fn hiding_an_area_stops_mail_and_digests_already_on_their_way() {
    use atrium_core::model::{Delivery, NotificationKind};
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.actor(w.owner).await;
    let admin = app.actor(w.a.admin).await;
    let viewer = app.actor(w.a.viewer).await;
    app.store.set_notification_delivery(&viewer, NotificationKind::Message, Delivery::Digest).await.unwrap();
    // Notified while shown: the admin's mail job and the viewer's digest entry are pending.
    app.store.create_message(&owner, w.a.project, Channel::Client, "On its way".into(), None).await.unwrap();
    let digest_of = |d: &[atrium_store::notifications::Digest], u: UserId| d.iter().any(|d| d.recipient.id == u);
    let until = chrono::Utc::now() + chrono::Duration::seconds(5);
    assert!(
        digest_of(&app.store.job_runner().pending_digests(until).await.unwrap(), w.a.viewer),
        "the control: a digest is due"
    );
    let listed = app.store.notifications(&admin, atrium_store::paging::PageRequest::all()).await.unwrap();
    assert!(listed.items.iter().any(|n| n.text.contains("On its way")), "the control: the admin was notified");
    assert!(app.store.job_runner().jobs_pending().await.unwrap() > 0, "the control: its mail is queued");
    // Hidden before the jobs run (the PATCH request runs them inline, after its change).
    set_portal(&app, &w, w.a.id, r#"{"pages":{"messages":false}}"#).await;
    app.run_jobs().await;
    let mails = app.mails().await;
    assert!(!mails.iter().any(|m| m.to.ends_with("@a.test")), "{:?}", mails.iter().map(|m| &m.to).collect::<Vec<_>>());
    assert!(
        !digest_of(&app.store.job_runner().pending_digests(until).await.unwrap(), w.a.viewer),
        "no digest of a hidden area"
    );
    // Shown again: the notification is back in the list (it was hidden, not deleted).
    set_portal(&app, &w, w.a.id, r#"{"pages":{"messages":true}}"#).await;
    let (_, list) = call(&app, &app.token_for(w.a.admin).await, "GET", "/notifications", None).await;
    assert!(list.to_string().contains("On its way"), "{list}");
    app.stop().await;
}

#[tokio::test]
async fn a_file_approval_with_files_hidden_links_to_no_file_page() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.actor(w.owner).await;
    let staff = app.token_for(w.staff).await;
    let file = upload(&app, &owner, w.a.project, None, "Brief.txt", b"brief").await.to_string();
    let body = json!({"subject_type": "file", "subject_id": file, "approver_ids": [w.a.admin.to_string()]});
    let (s, a) = call(&app, &staff, "POST", "/approvals", Some(body)).await;
    assert_eq!(s, 201, "{a}");
    let page = format!("/portal/approvals/{}", a["id"].as_str().unwrap());
    let (c, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let shown = c.get(app.url(&page)).send().await.unwrap().text().await.unwrap();
    assert!(shown.contains(&format!("/portal/files/{file}")), "the control: with Files shown it links to the file");

    set_portal(&app, &w, w.a.id, r#"{"pages":{"files":false}}"#).await;
    let (c, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let res = c.get(app.url(&page)).send().await.unwrap();
    assert_eq!(res.status(), 200, "Approvals stays shown");
    let hidden = res.text().await.unwrap();
    assert!(hidden.contains("Brief.txt"), "the file is named");
    assert!(!hidden.contains("/portal/files/"), "no link into the hidden Files area: {hidden}");
}
