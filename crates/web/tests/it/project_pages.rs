//! A project's own pages (markdown, allow-listed embeds, link cards), its team, the first-login
//! guide and the client's invitation text, over HTTP on both databases.

use crate::common::*;
use atrium_core::project_page::PAGES_PER_PROJECT;
use atrium_core::validate::{INVITATION_TEXT_MAX, PAGE_BODY_MAX, PAGE_TITLE_MAX};
use serde_json::{Value, json};

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> Answer {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = api().request(m, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    Answer::of(req.send().await.expect("request")).await
}

/// A page as a signed-in browser of `user` sees it.
async fn page_as(app: &TestApp, user: atrium_core::ids::UserId, path: &str) -> Answer {
    let c = app.browser_creds(Some(user)).await;
    Answer::of(api().get(app.url(path)).header("cookie", c.cookie).send().await.expect("page")).await
}

/// Posts a form as a signed-in browser of `user`.
async fn form_as(app: &TestApp, user: atrium_core::ids::UserId, path: &str, fields: &[(&str, &str)]) -> Answer {
    let c = app.browser_creds(Some(user)).await;
    let mut f: Vec<(&str, &str)> = fields.to_vec();
    f.push(("_csrf", &c.csrf));
    Answer::of(api().post(app.url(path)).header("cookie", c.cookie).form(&f).send().await.expect("form")).await
}

#[track_caller]
fn assert_invalid(a: &Answer, field: &str, what: &str) {
    assert_eq!(a.status, 422, "{what}: {}", a.body);
    let m = a.json()["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(m.contains(field), "{what}: the message names `{field}`: {m}");
}

fn titles(list: &Answer) -> Vec<String> {
    list.json()["items"].as_array().expect("items").iter().map(|p| p["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn pages_of_each_kind_are_created_ordered_and_shown_to_the_client() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let client = app.token_for(w.a.admin).await;
    let pages = format!("/api/v1/projects/{}/pages", w.a.project);
    let md = call(
        &app,
        &staff,
        "POST",
        &pages,
        Some(json!({"title": "Brief", "kind": "markdown",
        "body": "# Goals\n\n<script>alert(1)</script>\n\nSome **bold** and [x](javascript:alert(1))"})),
    )
    .await;
    assert_eq!(md.status, 201, "{}", md.body);
    let md = md.json();
    assert_eq!(md["kind"], "markdown");
    let html = md["body_html"].as_str().unwrap();
    assert!(html.contains("<strong>bold</strong>") && html.contains("<h1>"), "{html}");
    assert!(!html.contains("<script") && !html.contains("href=\"javascript"), "sanitised: {html}");
    assert_eq!(md["url"], Value::Null);
    assert_eq!(md["embed_url"], Value::Null);
    let video = call(
        &app,
        &staff,
        "POST",
        &pages,
        Some(json!({"title": "Walkthrough", "kind": "embed",
        "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"})),
    )
    .await;
    assert_eq!(video.status, 201, "{}", video.body);
    assert_eq!(video.json()["embed_url"], "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ");
    let link = call(
        &app,
        &staff,
        "POST",
        &pages,
        Some(json!({"title": "Staging site", "kind": "link",
        "url": "https://staging.example.com/", "position": 0})),
    )
    .await;
    assert_eq!(link.status, 201, "{}", link.body);
    let link = link.json();
    assert_eq!(link["position"], 0);
    assert_eq!(link["url"], "https://staging.example.com/");
    for key in [
        "id",
        "project_id",
        "title",
        "kind",
        "body",
        "body_html",
        "url",
        "embed_url",
        "staff_only",
        "position",
        "created_at",
        "updated_at",
    ] {
        assert!(link.get(key).is_some(), "ProjectPage has {key}: {link}");
    }
    // The client sees every page but the staff-only one, in tab order.
    let list = call(&app, &client, "GET", &pages, None).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(
        titles(&list),
        vec!["Staging site".to_string(), w.a.page_title.clone(), "Brief".into(), "Walkthrough".into()]
    );
    let positions: Vec<i64> =
        list.json()["items"].as_array().unwrap().iter().map(|p| p["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, vec![0, 1, 3, 4], "the staff-only page keeps its place (2) among the tabs");
    let staff_list = call(&app, &staff, "GET", &pages, None).await;
    assert_eq!(titles(&staff_list).len(), 5, "staff see the staff-only page too");
    let one =
        call(&app, &client, "GET", &format!("/api/v1/pages/{}", video.json()["id"].as_str().unwrap()), None).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["title"], "Walkthrough");
    // Both project pages show the tabs; the portal one not the staff-only page.
    let portal = page_as(&app, w.a.admin, &format!("/portal/projects/{}", w.a.project)).await;
    assert_eq!(portal.status, 200);
    for t in ["Staging site", "Brief", "Walkthrough", &w.a.page_title] {
        assert!(portal.body.contains(t), "portal tab {t}");
    }
    assert!(!portal.body.contains(&w.a.staff_page_title), "no staff-only tab in the portal");
    let staff_page = page_as(&app, w.staff, &format!("/staff/projects/{}", w.a.project)).await;
    assert!(staff_page.body.contains(&w.a.staff_page_title) && staff_page.body.contains("Walkthrough"));
    app.stop().await;
}

#[tokio::test]
async fn embeds_outside_the_allow_list_javascript_and_oversize_input_are_refused() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let pages = format!("/api/v1/projects/{}/pages", w.a.project);
    for url in [
        "javascript:alert(1)",
        "https://evil.example/embed/abc",
        "https://www.youtube.com.evil.example/watch?v=abc",
        "http://www.youtube.com/watch?v=abc",
        "https://me:secret@www.youtube.com/watch?v=abc",
        "data:text/html,<script>alert(1)</script>",
        "",
    ] {
        let a = call(&app, &staff, "POST", &pages, Some(json!({"title": "Embed", "kind": "embed", "url": url}))).await;
        assert_invalid(&a, "url", &format!("embed {url:?}"));
    }
    for url in ["javascript:alert(1)", "ftp://files.example/x", "https://u:p@example.com/"] {
        let a = call(&app, &staff, "POST", &pages, Some(json!({"title": "Link", "kind": "link", "url": url}))).await;
        assert_invalid(&a, "url", &format!("link {url:?}"));
    }
    // Changing an existing page to a refused address is refused the same way.
    let a = call(
        &app,
        &staff,
        "PATCH",
        &format!("/api/v1/pages/{}", w.a.page),
        Some(json!({"kind": "embed", "url": "javascript:alert(1)"})),
    )
    .await;
    assert_invalid(&a, "url", "patch to javascript:");
    let long_title = "t".repeat(PAGE_TITLE_MAX + 1);
    let a = call(&app, &staff, "POST", &pages, Some(json!({"title": long_title, "kind": "markdown"}))).await;
    assert_invalid(&a, "title", "title over the limit");
    let a = call(
        &app,
        &staff,
        "POST",
        &pages,
        Some(json!({"title": "Long", "kind": "markdown", "body": "b".repeat(PAGE_BODY_MAX + 1)})),
    )
    .await;
    assert_invalid(&a, "body", "body over the limit");
    let a = call(&app, &staff, "POST", &pages, Some(json!({"title": "Odd", "kind": "poster"}))).await;
    assert_invalid(&a, "kind", "unknown kind");
    let a = call(&app, &staff, "POST", &pages, Some(json!({"title": "Neg", "kind": "markdown", "position": -1}))).await;
    assert_invalid(&a, "position", "negative position");
    // The number of pages per project is bounded (two are seeded).
    for i in 2..PAGES_PER_PROJECT {
        let a = call(&app, &staff, "POST", &pages, Some(json!({"title": format!("P{i}"), "kind": "markdown"}))).await;
        assert_eq!(a.status, 201, "page {i}: {}", a.body);
    }
    let a = call(&app, &staff, "POST", &pages, Some(json!({"title": "One too many", "kind": "markdown"}))).await;
    assert_invalid(&a, "pages", "over the pages limit");
    app.stop().await;
}

#[tokio::test]
async fn staff_only_and_other_clients_pages_are_404_for_client_users() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    for user in [w.a.admin, w.a.viewer, w.a.finance] {
        let t = app.token_for(user).await;
        for path in [
            format!("/api/v1/pages/{}", w.a.staff_page),
            format!("/api/v1/pages/{}", w.b.page),
            format!("/api/v1/projects/{}/pages", w.b.project),
        ] {
            let a = call(&app, &t, "GET", &path, None).await;
            assert_eq!(a.status, 404, "{path} as {user}: {}", a.body);
        }
        for path in [format!("/portal/pages/{}", w.a.staff_page), format!("/portal/pages/{}", w.b.page)] {
            assert_eq!(page_as(&app, user, &path).await.status, 404, "{path}");
        }
        let a =
            call(&app, &t, "PATCH", &format!("/api/v1/pages/{}", w.a.staff_page), Some(json!({"title": "Mine"}))).await;
        assert_eq!(a.status, 404, "a staff-only page does not exist for them, even to change");
    }
    let admin = app.token_for(w.a.admin).await;
    let a = call(&app, &admin, "PATCH", &format!("/api/v1/pages/{}", w.a.page), Some(json!({"title": "Mine"}))).await;
    assert_eq!(a.status, 403, "a visible page is staff's to change: {}", a.body);
    let a = call(&app, &admin, "DELETE", &format!("/api/v1/pages/{}", w.a.page), None).await;
    assert_eq!(a.status, 403);
    let a = call(
        &app,
        &admin,
        "POST",
        &format!("/api/v1/projects/{}/pages", w.a.project),
        Some(json!({"title": "X", "kind": "markdown"})),
    )
    .await;
    assert_eq!(a.status, 403);
    // The client's own visible page opens in the portal; staff see the staff-only one.
    let own = page_as(&app, w.a.admin, &format!("/portal/pages/{}", w.a.page)).await;
    assert_eq!(own.status, 200);
    assert!(own.body.contains(&format!("Body of {}", w.a.page_title)) && !own.body.contains("Edit page"));
    assert!(!own.body.contains(&w.a.staff_page_title), "no staff-only tab");
    let s = page_as(&app, w.staff, &format!("/staff/pages/{}", w.a.staff_page)).await;
    assert_eq!(s.status, 200);
    assert!(s.body.contains("Edit page") && s.body.contains(&w.a.staff_page_title));
    assert_eq!(call(&app, &staff, "GET", &format!("/api/v1/pages/{}", w.a.staff_page), None).await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn pages_are_reordered_changed_and_deleted_by_staff_and_audited() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let pages = format!("/api/v1/projects/{}/pages", w.a.project);
    let c = call(&app, &staff, "POST", &pages, Some(json!({"title": "Third", "kind": "markdown"}))).await.json();
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["position"], 2);
    let moved =
        call(&app, &staff, "PATCH", &format!("/api/v1/pages/{id}"), Some(json!({"position": 0, "title": "First now"})))
            .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.json()["position"], 0);
    let list = call(&app, &staff, "GET", &pages, None).await;
    assert_eq!(titles(&list), vec!["First now".to_string(), w.a.page_title.clone(), w.a.staff_page_title.clone()]);
    // A move past the end lands last.
    call(&app, &staff, "PATCH", &format!("/api/v1/pages/{id}"), Some(json!({"position": 20}))).await;
    let list = call(&app, &staff, "GET", &pages, None).await;
    assert_eq!(titles(&list).last().map(String::as_str), Some("First now"));
    // Changing a markdown page into a link card.
    let a = call(
        &app,
        &staff,
        "PATCH",
        &format!("/api/v1/pages/{id}"),
        Some(json!({"kind": "link", "url": "https://example.com/x"})),
    )
    .await;
    assert_eq!(a.json()["kind"], "link");
    assert_eq!(a.json()["url"], "https://example.com/x");
    assert_eq!(
        call(&app, &staff, "DELETE", &format!("/api/v1/pages/{w_page}", w_page = w.a.page), None).await.status,
        204
    );
    let list = call(&app, &staff, "GET", &pages, None).await;
    let positions: Vec<i64> =
        list.json()["items"].as_array().unwrap().iter().map(|p| p["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, vec![0, 1], "no gap after a delete");
    assert_eq!(call(&app, &staff, "GET", &format!("/api/v1/pages/{}", w.a.page), None).await.status, 404);
    let actions = app
        .query_strings("SELECT action FROM audit_log WHERE subject_type = 'project_page'", vec![], &["action"])
        .await;
    let actions: Vec<&str> = actions.iter().map(|r| r[0].as_str()).collect();
    for a in ["project_page.create", "project_page.update", "project_page.delete"] {
        assert!(actions.contains(&a), "audited {a}: {actions:?}");
    }
    // The staff forms do the same.
    let a = form_as(
        &app,
        w.staff,
        &format!("/staff/projects/{}/pages", w.a.project),
        &[
            ("title", "Moodboard"),
            ("kind", "embed"),
            ("url", "https://www.figma.com/file/AbC123/Mood"),
            ("body", ""),
            ("staff_only", "false"),
        ],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let to = a.location().unwrap().to_string();
    let shown = page_as(&app, w.staff, &to).await;
    assert!(
        shown.body.contains(
            "https://www.figma.com/embed?embed_host=atrium&#38;url=https%3A%2F%2Fwww.figma.com%2Ffile%2FAbC123%2FMood"
        ),
        "{}",
        shown.body
    );
    let refused = form_as(
        &app,
        w.staff,
        &format!("/staff/projects/{}/pages", w.a.project),
        &[("title", "Bad"), ("kind", "embed"), ("url", "javascript:alert(1)")],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("url"), "the page names the field");
    app.stop().await;
}

#[tokio::test]
async fn an_embed_is_a_sandboxed_lazy_iframe_whose_origin_the_csp_allows() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let p = call(
        &app,
        &staff,
        "POST",
        &format!("/api/v1/projects/{}/pages", w.a.project),
        Some(json!({"title": "Board", "kind": "embed", "url": "https://miro.com/app/board/uXjVO1a2b3c=/"})),
    )
    .await
    .json();
    let a = page_as(&app, w.a.viewer, &format!("/portal/pages/{}", p["id"].as_str().unwrap())).await;
    assert_eq!(a.status, 200);
    let iframe = &a.body[a.body.find("<iframe").expect("iframe")..];
    let iframe = &iframe[..iframe.find('>').unwrap()];
    assert!(iframe.contains(r#"src="https://miro.com/app/live-embed/uXjVO1a2b3c=/""#), "{iframe}");
    assert!(
        iframe.contains(r#"sandbox="allow-scripts allow-same-origin allow-popups allow-presentation""#),
        "{iframe}"
    );
    assert!(iframe.contains("referrerpolicy=") && iframe.contains(r#"loading="lazy""#), "{iframe}");
    let csp = a.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let frame_src = csp.split(';').find(|d| d.trim().starts_with("frame-src")).expect("frame-src");
    assert!(frame_src.split_whitespace().any(|s| s == "https://miro.com"), "{csp}");
    assert!(!frame_src.contains('*') && !frame_src.contains("'self'"), "{csp}");
    app.stop().await;
}

#[tokio::test]
async fn the_team_is_staff_only_set_by_staff_and_shown_to_its_client_not_to_others() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let owner = app.token_for(w.owner).await;
    let team = format!("/api/v1/projects/{}/team", w.a.project);
    // A job title, through the users API (staff themselves, or owners and admins).
    let a = call(&app, &staff, "PATCH", &format!("/api/v1/users/{}", w.staff), Some(json!({"title": "Lead designer"})))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = call(&app, &staff, "PATCH", &format!("/api/v1/users/{}", w.admin), Some(json!({"title": "Boss"}))).await;
    assert_eq!(a.status, 403, "staff set only their own title");
    let a =
        call(&app, &owner, "PATCH", &format!("/api/v1/users/{}", w.a.admin), Some(json!({"title": "Client"}))).await;
    assert_invalid(&a, "title", "client users have no job title");
    let a = call(&app, &owner, "PATCH", &format!("/api/v1/users/{}", w.admin), Some(json!({"title": "x".repeat(101)})))
        .await;
    assert_invalid(&a, "title", "title over the limit");
    // Staff users only.
    for bad in [
        json!({"user_ids": [w.a.admin.to_string()]}),
        json!({"user_ids": [w.staff.to_string(), uuid::Uuid::now_v7().to_string()]}),
    ] {
        let a = call(&app, &staff, "PUT", &team, Some(bad.clone())).await;
        assert_invalid(&a, "user_ids", &format!("{bad}"));
    }
    let a = call(
        &app,
        &staff,
        "PUT",
        &team,
        Some(json!({"user_ids": [w.staff.to_string(), w.owner.to_string(), w.staff.to_string()]})),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["items"].as_array().unwrap().len(), 2, "duplicates count once");
    // The client sees names and titles; another client does not see the project at all.
    let client = app.token_for(w.a.viewer).await;
    let a = call(&app, &client, "GET", &team, None).await;
    assert_eq!(a.status, 200);
    let items = a.json()["items"].as_array().unwrap().clone();
    let sam = items.iter().find(|m| m["id"] == w.staff.to_string()).expect("Sam on the team");
    assert_eq!(sam["name"], "Sam Staff");
    assert_eq!(sam["title"], "Lead designer");
    assert!(items.iter().all(|m| m.as_object().unwrap().len() == 3), "only id, name and title: {items:?}");
    let other = app.token_for(w.b.admin).await;
    assert_eq!(call(&app, &other, "GET", &team, None).await.status, 404);
    assert_eq!(call(&app, &other, "PUT", &team, Some(json!({"user_ids": []}))).await.status, 404);
    let a = call(&app, &app.token_for(w.a.admin).await, "PUT", &team, Some(json!({"user_ids": []}))).await;
    assert_eq!(a.status, 403, "the client cannot change the team");
    let portal = page_as(&app, w.a.viewer, &format!("/portal/projects/{}", w.a.project)).await;
    assert!(
        portal.body.contains("Your team") && portal.body.contains("Sam Staff") && portal.body.contains("Lead designer")
    );
    // The staff page removes and adds members.
    let a = form_as(
        &app,
        w.admin,
        &format!("/staff/projects/{}/team", w.a.project),
        &[("user_id", &w.owner.to_string()), ("action", "remove")],
    )
    .await;
    assert_eq!(a.status, 303);
    let a = call(&app, &client, "GET", &team, None).await;
    assert_eq!(a.json()["items"].as_array().unwrap().len(), 1);
    let a = form_as(
        &app,
        w.admin,
        &format!("/staff/projects/{}/team", w.a.project),
        &[("user_id", &w.a.admin.to_string()), ("action", "add")],
    )
    .await;
    assert_eq!(a.status, 422, "a client user cannot join the team");
    let page = page_as(&app, w.admin, "/staff/team").await;
    assert!(page.body.contains("Lead designer"), "titles on the team page");
    let a = form_as(&app, w.admin, &format!("/staff/users/{}/title", w.staff), &[("title", "Art director")]).await;
    assert_eq!(a.status, 303);
    assert_eq!(call(&app, &client, "GET", &team, None).await.json()["items"][0]["title"], "Art director");
    app.stop().await;
}

#[tokio::test]
async fn onboarding_starts_null_and_is_set_once() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let client = app.token_for(w.a.viewer).await;
    let me = call(&app, &client, "GET", "/api/v1/me", None).await.json();
    assert_eq!(me["onboarded_at"], Value::Null);
    assert!(me.as_object().unwrap().contains_key("onboarded_at"));
    assert_eq!(me["email"], "viewer@a.test", "still the User fields");
    let staff = app.token_for(w.staff).await;
    assert!(
        !call(&app, &staff, "GET", "/api/v1/me", None).await.json().as_object().unwrap().contains_key("onboarded_at")
    );
    assert_eq!(call(&app, &staff, "POST", "/api/v1/me/onboarding", None).await.status, 404, "staff have no guide");
    assert_eq!(call(&app, &client, "POST", "/api/v1/me/onboarding", None).await.status, 204);
    let first = call(&app, &client, "GET", "/api/v1/me", None).await.json()["onboarded_at"].clone();
    assert!(first.as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()), "{first}");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(call(&app, &client, "POST", "/api/v1/me/onboarding", None).await.status, 204);
    assert_eq!(call(&app, &client, "GET", "/api/v1/me", None).await.json()["onboarded_at"], first, "set once");
    app.stop().await;
}

#[tokio::test]
async fn a_new_client_user_sees_the_guide_until_dismissed_and_can_reopen_it() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let home = page_as(&app, w.a.admin, "/portal").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Welcome to") && home.body.contains("Choose your emails"), "the guide on first visit");
    assert!(home.body.contains(r#"action="/portal/welcome""#), "with a Got it / Skip form");
    // Staff viewing as the client see no guide (they could not dismiss it).
    let c = app.browser_creds(Some(w.staff)).await;
    let start = api()
        .post(app.url(&format!("/staff/clients/{}/view-as", w.a.id)))
        .header("cookie", &c.cookie)
        .form(&[("user_id", w.a.viewer.to_string()), ("_csrf", c.csrf.clone())])
        .send()
        .await
        .expect("view as");
    assert_eq!(start.status(), 303);
    let seen = Answer::of(api().get(app.url("/portal")).header("cookie", &c.cookie).send().await.expect("home")).await;
    assert_eq!(seen.status, 200);
    assert!(seen.body.contains("Viewer") && !seen.body.contains("Welcome to"), "no guide under View as client");
    let a = form_as(&app, w.a.admin, "/portal/welcome", &[("choice", "skip")]).await;
    assert_eq!(a.status, 303);
    assert_eq!(a.location(), Some("/portal"));
    let home = page_as(&app, w.a.admin, "/portal").await;
    assert!(!home.body.contains(r#"action="/portal/welcome""#), "shown once: gone after Skip");
    let account = page_as(&app, w.a.admin, "/account").await;
    assert!(account.body.contains(r#"href="/portal/welcome""#), "reopened from the account page");
    let again = page_as(&app, w.a.admin, "/portal/welcome").await;
    assert_eq!(again.status, 200);
    assert!(again.body.contains("Welcome to"));
    // A finance user's guide speaks of billing, a viewer's of read-only access.
    let fin = page_as(&app, w.a.finance, "/portal").await;
    assert!(
        fin.body.contains("/portal/billing") && !fin.body.contains(r#"<a href="/portal/projects">Projects</a> shows"#)
    );
    let viewer = page_as(&app, w.a.viewer, "/portal").await;
    assert!(viewer.body.contains("read-only"));
    // Staff have no guide page.
    assert_eq!(page_as(&app, w.staff, "/portal/welcome").await.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_clients_invitation_text_is_in_its_invitation_mails_only() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let text = "Hi from the studio — here is where we share drafts.";
    let a = form_as(&app, w.staff, &format!("/staff/clients/{}/invitation-text", w.a.id), &[("invitation_text", text)])
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let page = page_as(&app, w.staff, &format!("/staff/clients/{}", w.a.id)).await;
    assert!(page.body.contains(text), "shown on the client page for editing");
    let long = "x".repeat(INVITATION_TEXT_MAX + 1);
    let a =
        form_as(&app, w.staff, &format!("/staff/clients/{}/invitation-text", w.a.id), &[("invitation_text", &long)])
            .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("invitation_text"));
    let a =
        form_as(&app, w.a.admin, &format!("/staff/clients/{}/invitation-text", w.a.id), &[("invitation_text", "mine")])
            .await;
    assert_eq!(a.status, 404, "not for client users");
    let staff = app.token_for(w.staff).await;
    for (client, email) in [(w.a.id, "new@a.test"), (w.b.id, "new@b.test")] {
        let a = call(
            &app,
            &staff,
            "POST",
            "/api/v1/invitations",
            Some(
                json!({"email": email, "name": "New Person", "role": "client_viewer", "client_id": client.to_string()}),
            ),
        )
        .await;
        assert_eq!(a.status, 201, "{}", a.body);
    }
    let mails = app.mails().await;
    let to_a = mails.iter().find(|m| m.to == "new@a.test").expect("mail to A");
    let to_b = mails.iter().find(|m| m.to == "new@b.test").expect("mail to B");
    assert!(to_a.text.contains(text) && to_a.html.contains("here is where we share drafts"), "{}", to_a.text);
    assert!(!to_b.text.contains(text) && !to_b.html.contains("share drafts"), "only that client's mails");
    app.stop().await;
}
