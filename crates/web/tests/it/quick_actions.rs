//! Home quick actions (issue 13, part 7): the agency's choice and a client's override, the
//! scheduling link's validation, and which actions a user gets (only where they see the page;
//! Ask for help with the Help desk, to those who may open a ticket; Book a meeting only with a
//! link).

use crate::common::*;
use serde_json::{Value, json};

fn kinds(v: &Value) -> Vec<String> {
    v["quick_actions"]
        .as_array()
        .map(|a| a.iter().map(|q| q["kind"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

async fn own_kinds(app: &TestApp, token: &str) -> Vec<String> {
    let (s, v) = call(app, token, "GET", "/portal", None).await;
    assert_eq!(s, 200, "{v}");
    kinds(&v)
}

async fn home(app: &TestApp, email: &str) -> String {
    let (c, _) = sign_in(app, email, PASSWORD).await;
    c.get(app.url("/portal")).send().await.unwrap().text().await.unwrap()
}

fn message(v: &Value) -> String {
    v["error"]["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn agency_defaults_and_client_overrides() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let b_admin = app.token_for(w.b.admin).await;
    let a_portal = format!("/clients/{}/portal", w.a.id);

    // Until set: View projects and Pay invoices, no link; a client has no override.
    let (s, v) = call(&app, &staff, "GET", "/portal-defaults", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["quick_actions"], json!({"projects": true, "billing": true, "helpdesk": false, "meeting": false}));
    assert_eq!(v["scheduling_url"], Value::Null);
    let (_, v) = call(&app, &staff, "GET", &a_portal, None).await;
    assert_eq!((v["quick_actions"].clone(), v["scheduling_url"].clone()), (Value::Null, Value::Null), "{v}");
    let (s, v) = call(&app, &admin, "GET", "/portal", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["quick_actions"],
        json!([{"kind": "projects", "label": "View projects", "href": "/portal/projects"},
               {"kind": "billing", "label": "Pay invoices", "href": "/portal/billing"}])
    );

    // The agency turns on a meeting with its link, and Ask for help.
    let (s, v) = call(
        &app,
        &owner,
        "PATCH",
        "/portal-defaults",
        Some(json!({"quick_actions": {"meeting": true, "helpdesk": true}, "scheduling_url": "https://cal.example/agency"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["quick_actions"], json!({"projects": true, "billing": true, "helpdesk": true, "meeting": true}));
    assert_eq!(v["scheduling_url"], "https://cal.example/agency");
    assert_eq!(v["pages"]["files"], true, "pages untouched");
    let (_, v) = call(&app, &admin, "GET", "/portal", None).await;
    assert_eq!(kinds(&v), ["projects", "billing", "helpdesk", "meeting"], "{v}");
    assert_eq!(v["quick_actions"][2]["href"], "/portal/helpdesk");
    assert_eq!(v["quick_actions"][3]["href"], "https://cal.example/agency");
    let page = home(&app, "admin@a.test").await;
    assert!(page.contains(r#"<nav class="quick" aria-label="Quick actions">"#), "{page}");
    assert!(page.contains(r#"href="https://cal.example/agency" rel="noopener noreferrer">Book a meeting</a>"#));
    assert!(page.contains(r#"<a class="btn" href="/portal/billing">Pay invoices</a>"#));
    assert!(page.contains(r#"<a class="btn" href="/portal/helpdesk">Ask for help</a>"#), "{page}");
    // A viewer reads tickets but does not open them: no Ask for help.
    let viewer_token = app.token_for(w.a.viewer).await;
    let (_, v) = call(&app, &viewer_token, "GET", "/portal", None).await;
    assert!(!kinds(&v).contains(&"helpdesk".to_string()), "{v}");

    // Client A overrides: its own link, no Pay invoices. B keeps the agency's.
    let (s, v) = call(
        &app,
        &staff,
        "PATCH",
        &a_portal,
        Some(json!({"quick_actions": {"billing": false}, "scheduling_url": "https://cal.example/acme"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["quick_actions"], json!({"projects": true, "billing": false, "helpdesk": true, "meeting": true}));
    assert_eq!(v["scheduling_url"], "https://cal.example/acme");
    let (_, v) = call(&app, &admin, "GET", "/portal", None).await;
    assert_eq!(kinds(&v), ["projects", "helpdesk", "meeting"]);
    assert_eq!(v["quick_actions"][2]["href"], "https://cal.example/acme");
    let (_, v) = call(&app, &b_admin, "GET", "/portal", None).await;
    assert_eq!(kinds(&v), ["projects", "billing", "helpdesk", "meeting"]);
    assert_eq!(v["quick_actions"][3]["href"], "https://cal.example/agency");

    // The agency's later change reaches B, not A's own set.
    let (s, _) =
        call(&app, &owner, "PATCH", "/portal-defaults", Some(json!({"quick_actions": {"projects": false}}))).await;
    assert_eq!(s, 200);
    assert_eq!(own_kinds(&app, &b_admin).await, ["billing", "helpdesk", "meeting"]);
    assert_eq!(own_kinds(&app, &admin).await, ["projects", "helpdesk", "meeting"]);

    // `null` goes back to the agency's.
    let (s, v) =
        call(&app, &staff, "PATCH", &a_portal, Some(json!({"quick_actions": null, "scheduling_url": null}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["quick_actions"].clone(), v["scheduling_url"].clone()), (Value::Null, Value::Null));
    let (_, v) = call(&app, &admin, "GET", "/portal", None).await;
    assert_eq!(kinds(&v), ["billing", "helpdesk", "meeting"]);
    assert_eq!(v["quick_actions"][2]["href"], "https://cal.example/agency");

    // Staff may not change the agency's; client users see neither setting.
    let (s, _) =
        call(&app, &staff, "PATCH", "/portal-defaults", Some(json!({"quick_actions": {"billing": false}}))).await;
    assert_eq!(s, 403);
    assert_eq!(call(&app, &admin, "GET", "/portal-defaults", None).await.0, 404);
    let (s, _) = call(&app, &admin, "PATCH", &a_portal, Some(json!({"quick_actions": {"billing": true}}))).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn bad_settings_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let staff = app.token_for(w.staff).await;
    let a_portal = format!("/clients/{}/portal", w.a.id);
    let long = format!("https://cal.example/{}", "a".repeat(2_048));
    let bad = [
        json!({"scheduling_url": "http://cal.example/x"}),
        json!({"scheduling_url": "javascript:alert(1)"}),
        json!({"scheduling_url": "https://me:secret@cal.example/x"}),
        json!({"scheduling_url": "cal.example/x"}),
        json!({"scheduling_url": long}),
        // A meeting with no link anywhere.
        json!({"quick_actions": {"meeting": true}}),
    ];
    for body in &bad {
        for (token, path) in [(&owner, "/portal-defaults"), (&staff, a_portal.as_str())] {
            let (s, v) = call(&app, token, "PATCH", path, Some(body.clone())).await;
            assert_eq!(s, 422, "{path} {body}: {v}");
            assert!(message(&v).contains("scheduling_url"), "{path} {body}: {v}");
        }
    }
    for body in [json!({"quick_actions": {"tickets": true}}), json!({"quick_actions": {"meeting": "yes"}})] {
        for (token, path) in [(&owner, "/portal-defaults"), (&staff, a_portal.as_str())] {
            assert_eq!(call(&app, token, "PATCH", path, Some(body.clone())).await.0, 422, "{path} {body}");
        }
    }
    // Nothing changed.
    let (_, v) = call(&app, &owner, "GET", "/portal-defaults", None).await;
    assert_eq!((v["quick_actions"]["meeting"].clone(), v["scheduling_url"].clone()), (json!(false), Value::Null));
    let (_, v) = call(&app, &staff, "GET", &a_portal, None).await;
    assert_eq!((v["quick_actions"].clone(), v["scheduling_url"].clone()), (Value::Null, Value::Null));

    // A client with its own link may turn the meeting on although the agency has none; removing
    // the agency's link while it has the meeting on is refused.
    let (s, v) = call(
        &app,
        &staff,
        "PATCH",
        &a_portal,
        Some(json!({"quick_actions": {"meeting": true}, "scheduling_url": "https://cal.example/acme"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = call(&app, &staff, "PATCH", &a_portal, Some(json!({"scheduling_url": null}))).await;
    assert_eq!(s, 422, "the meeting would have no link");
    let edge = format!("https://cal.example/{}", "a".repeat(2_048 - "https://cal.example/".len()));
    let (s, v) = call(
        &app,
        &owner,
        "PATCH",
        "/portal-defaults",
        Some(json!({"quick_actions": {"meeting": true}, "scheduling_url": edge})),
    )
    .await;
    assert_eq!(s, 200, "a link of exactly 2,048 characters: {v}");
    let (s, v) = call(&app, &owner, "PATCH", "/portal-defaults", Some(json!({"scheduling_url": ""}))).await;
    assert_eq!(s, 422, "{v}");
    assert!(message(&v).contains("scheduling_url"));
}

#[tokio::test]
async fn actions_follow_the_pages_each_user_sees() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let finance = app.token_for(w.a.finance).await;
    let viewer = app.token_for(w.a.viewer).await;

    // Until the agency sets a link and turns it on, no one has a meeting.
    assert_eq!(own_kinds(&app, &viewer).await, ["projects"], "a viewer never sees Pay invoices");
    assert_eq!(own_kinds(&app, &finance).await, ["billing"], "finance: Pay invoices only");
    assert_eq!(own_kinds(&app, &admin).await, ["projects", "billing"]);
    let page = home(&app, "viewer@a.test").await;
    assert!(page.contains("View projects") && !page.contains("Pay invoices") && !page.contains("Book a meeting"));
    let page = home(&app, "finance@a.test").await;
    assert!(page.contains("Pay invoices") && !page.contains("View projects"), "{page}");

    // Hiding Billing removes Pay invoices (the finance user is left with none: no row at all).
    let (s, _) =
        call(&app, &staff, "PATCH", &format!("/clients/{}/portal", w.a.id), Some(json!({"pages": {"billing": false}})))
            .await;
    assert_eq!(s, 200);
    assert_eq!(own_kinds(&app, &admin).await, ["projects"]);
    assert!(own_kinds(&app, &finance).await.is_empty());
    let page = home(&app, "admin@a.test").await;
    assert!(!page.contains("Pay invoices") && page.contains("View projects"));

    // The meeting shows to every role once there is a link.
    let (s, _) = call(
        &app,
        &owner,
        "PATCH",
        "/portal-defaults",
        Some(json!({"quick_actions": {"meeting": true}, "scheduling_url": "https://cal.example/agency"})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(own_kinds(&app, &viewer).await, ["projects", "meeting"]);
    assert_eq!(own_kinds(&app, &finance).await, ["meeting"]);
    // Staff have no portal.
    assert_eq!(call(&app, &staff, "GET", "/portal", None).await.0, 404);
}

#[tokio::test]
async fn the_staff_forms_set_the_agencys_and_a_clients_actions() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let pages =
        [("files", "true"), ("messages", "true"), ("approvals", "true"), ("billing", "true"), ("helpdesk", "true")];
    let post = |c: reqwest::Client, path: String, fields: Vec<(&'static str, String)>| {
        let url = app.url(&path);
        async move { c.post(url).form(&fields).send().await.unwrap() }
    };
    let form = |csrf: &str, extra: &[(&'static str, &str)]| {
        let mut f: Vec<(&'static str, String)> = vec![("_csrf", csrf.to_string())];
        f.extend(pages.iter().map(|(k, v)| (*k, v.to_string())));
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };

    // The client list's default form shows and sets the agency's.
    let (owner_c, _) = sign_in(&app, "owner@agency.test", PASSWORD).await;
    let list = owner_c.get(app.url("/staff/clients")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(r#"name="qa_billing" value="true" checked"#), "{list}");
    let csrf = csrf_from(&list);
    let bad = form(&csrf, &[("quick", "true"), ("qa_meeting", "true"), ("scheduling_url", "javascript:alert(1)")]);
    let r = post(owner_c.clone(), "/staff/portal-defaults".into(), bad).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("scheduling_url"));
    let ok = form(
        &csrf,
        &[
            ("quick", "true"),
            ("qa_projects", "true"),
            ("qa_meeting", "true"),
            ("scheduling_url", "https://cal.example/a"),
        ],
    );
    assert_eq!(post(owner_c.clone(), "/staff/portal-defaults".into(), ok).await.status(), 303);
    let (_, v) = call(&app, &staff, "GET", "/portal-defaults", None).await;
    assert_eq!(v["quick_actions"], json!({"projects": true, "billing": false, "helpdesk": false, "meeting": true}));
    assert_eq!(v["scheduling_url"], "https://cal.example/a");
    // A pages-only form leaves them alone.
    assert_eq!(post(owner_c, "/staff/portal-defaults".into(), form(&csrf, &[])).await.status(), 303);
    let (_, v) = call(&app, &staff, "GET", "/portal-defaults", None).await;
    assert_eq!(v["scheduling_url"], "https://cal.example/a");

    // The client page's Portal card: its own, then back to the agency's.
    let (staff_c, _) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    let card = format!("/staff/clients/{}/portal", w.a.id);
    let page = staff_c.get(app.url(&format!("/staff/clients/{}", w.a.id))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"name="qa_own" value="true">"#), "not its own yet: {page}");
    let csrf = csrf_from(&page);
    let own = form(&csrf, &[("quick", "true"), ("qa_own", "true"), ("qa_billing", "true"), ("scheduling_url", "")]);
    assert_eq!(post(staff_c.clone(), card.clone(), own).await.status(), 303);
    let (_, v) = call(&app, &staff, "GET", &format!("/clients/{}/portal", w.a.id), None).await;
    assert_eq!(v["quick_actions"], json!({"projects": false, "billing": true, "helpdesk": false, "meeting": false}));
    assert_eq!(v["scheduling_url"], Value::Null);
    assert_eq!(own_kinds(&app, &admin).await, ["billing"]);
    let back = form(&csrf, &[("quick", "true"), ("qa_billing", "true")]);
    assert_eq!(post(staff_c, card, back).await.status(), 303);
    let (_, v) = call(&app, &staff, "GET", &format!("/clients/{}/portal", w.a.id), None).await;
    assert_eq!(v["quick_actions"], Value::Null);
    assert_eq!(own_kinds(&app, &admin).await, ["projects", "meeting"]);
}

#[test]
fn the_openapi_document_describes_the_fields() {
    let doc = serde_json::to_value(atrium_web::api::openapi()).expect("openapi as json");
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("ClientPortalDoc", "quick_actions"),
        ("ClientPortalDoc", "scheduling_url"),
        ("ClientPortalBody", "scheduling_url"),
        ("DefaultsDoc", "quick_actions"),
        ("DefaultsBody", "scheduling_url"),
        ("OwnPortalDoc", "quick_actions"),
        ("QuickLinkDoc", "href"),
        ("QuickActionsBody", "meeting"),
    ] {
        assert!(schemas[schema]["properties"].get(field).is_some(), "{schema}.{field} documented: {}", schemas[schema]);
    }
    let url = schemas["ClientPortalBody"]["properties"]["scheduling_url"].to_string();
    assert!(url.contains("2,048") && url.contains("agency"), "{url}");
}
