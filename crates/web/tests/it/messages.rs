//! Project conversations over the JSON API: posting and listing, sanitized rendering, the
//! staff-only channel, read receipts, editing and deleting within the window, validation and
//! unread counts.

use crate::common::*;
use atrium_core::ids::UserId;
use serde_json::{Value, json};

/// The ids of a message listing, newest first.
fn ids(list: &Value) -> Vec<String> {
    list["items"].as_array().expect("items").iter().map(|m| m["id"].as_str().expect("id").to_string()).collect()
}

/// The message with `id` in a listing.
fn find<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["items"].as_array().expect("items").iter().find(|m| m["id"] == id).unwrap_or_else(|| panic!("{id} listed"))
}

fn reader_names(m: &Value) -> Vec<String> {
    m["read_by"].as_array().expect("read_by").iter().map(|r| r["name"].as_str().expect("name").to_string()).collect()
}

async fn tokens(app: &TestApp, users: &[UserId]) -> Vec<String> {
    let mut out = Vec::new();
    for u in users {
        out.push(app.token_for(*u).await);
    }
    out
}

#[tokio::test]
async fn posting_and_listing_renders_sanitized_markdown() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let t = tokens(&app, &[w.a.admin, w.owner]).await;
    let (admin, owner) = (&t[0], &t[1]);
    let path = format!("/projects/{}/messages", w.a.project);
    let body = "Looks **great** <script>alert('pwned')</script> <img src=x onerror=alert(1)>";
    let (s, m) = call(&app, admin, "POST", &path, Some(json!({ "body": body }))).await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["channel"], "client", "the client channel is the default");
    assert_eq!(m["author_id"], w.a.admin.to_string());
    assert_eq!(m["author_name"], "Admina Person");
    assert_eq!(m["body"], body, "the markdown source is kept as written");
    let html = m["body_html"].as_str().expect("body_html");
    assert!(html.contains("<strong>great</strong>"), "markdown is rendered: {html}");
    assert!(!html.to_lowercase().contains("<script"), "no script element survives: {html}");
    assert!(!html.to_lowercase().contains("<img"), "no element with an event handler survives: {html}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "raw HTML is shown as text: {html}");
    assert!(m["edited_at"].is_null());

    // Both sides see it in the client channel, newest first, after the seeded message.
    for token in [admin, owner] {
        let (s, list) = call(&app, token, "GET", &path, None).await;
        assert_eq!(s, 200);
        assert_eq!(ids(&list), vec![m["id"].as_str().unwrap().to_string(), w.a.message.to_string()]);
        assert_eq!(find(&list, m["id"].as_str().unwrap())["body_html"], html, "listing renders the same HTML");
    }
    app.stop().await;
}

#[tokio::test]
async fn client_users_never_reach_the_staff_channel() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let t = tokens(&app, &[w.a.admin, w.a.viewer, w.owner, w.staff]).await;
    let path = format!("/projects/{}/messages", w.a.project);
    for client in &t[..2] {
        let (s, e) = call(&app, client, "GET", &format!("{path}?channel=staff"), None).await;
        assert_eq!(s, 404, "listing the staff channel as a client: {e}");
        let (s, _) = call(&app, client, "POST", &path, Some(json!({"body": "hello staff", "channel": "staff"}))).await;
        assert!(s == 404, "posting in the staff channel as a client must be 404, got {s}");
        let (s, list) = call(&app, client, "GET", &path, None).await;
        assert_eq!(s, 200);
        let text = list.to_string();
        assert!(!text.contains(&w.a.staff_message.to_string()) && !text.contains(&w.a.staff_message_text));
        assert!(text.contains(&w.a.message_text), "the client channel itself is readable");
    }
    // Control: staff read and write the staff channel; nothing a client attempted landed there.
    for staff in &t[2..] {
        let (s, list) = call(&app, staff, "GET", &format!("{path}?channel=staff"), None).await;
        assert_eq!(s, 200);
        assert_eq!(ids(&list), vec![w.a.staff_message.to_string()]);
    }
    let (s, m) = call(&app, &t[3], "POST", &path, Some(json!({"body": "internal", "channel": "staff"}))).await;
    assert_eq!(s, 201);
    assert_eq!(m["channel"], "staff");
    let (_, list) = call(&app, &t[0], "GET", &path, None).await;
    assert!(!list.to_string().contains(m["id"].as_str().unwrap()), "a new staff message stays out of the client view");
    app.stop().await;
}

#[tokio::test]
async fn viewers_read_but_cannot_post() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let viewer = app.token_for(w.a.viewer).await;
    let path = format!("/projects/{}/messages", w.a.project);
    let (s, list) = call(&app, &viewer, "GET", &path, None).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&list), vec![w.a.message.to_string()]);
    let (s, e) = call(&app, &viewer, "POST", &path, Some(json!({"body": "may I?"}))).await;
    assert_eq!(s, 403, "{e}");
    assert_eq!(e["error"]["code"], "forbidden");
    let (_, list) = call(&app, &viewer, "GET", &path, None).await;
    assert_eq!(ids(&list).len(), 1, "nothing was posted");
    app.stop().await;
}

#[tokio::test]
async fn read_receipts_show_who_read_what() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let t = tokens(&app, &[w.a.admin, w.owner]).await;
    let (admin, owner) = (&t[0], &t[1]);
    let path = format!("/projects/{}/messages", w.a.project);
    let (_, list) = call(&app, owner, "GET", &path, None).await;
    assert!(reader_names(find(&list, &w.a.message.to_string())).is_empty(), "nobody has read it yet");

    let read = format!("{path}/read");
    let (s, e) = call(&app, admin, "POST", &read, Some(json!({"up_to": w.a.message.to_string()}))).await;
    assert_eq!(s, 204, "{e}");
    let (_, list) = call(&app, owner, "GET", &path, None).await;
    let m = find(&list, &w.a.message.to_string());
    assert_eq!(reader_names(m), vec!["Admina Person".to_string()]);
    assert_eq!(m["read_by"][0]["user_id"], w.a.admin.to_string());

    // A message of another client's project is not found for the client...
    let (s, _) = call(&app, admin, "POST", &read, Some(json!({"up_to": w.b.message.to_string()}))).await;
    assert_eq!(s, 404, "another client's message");
    // ...and for staff (who can see it) it is not a message of this project.
    let (s, e) = call(&app, owner, "POST", &read, Some(json!({"up_to": w.b.message.to_string()}))).await;
    assert_eq!(s, 422, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().starts_with("up_to"), "{e}");
    let (s, _) = call(&app, admin, "POST", &read, Some(json!({"up_to": "not-an-id"}))).await;
    assert_eq!(s, 422);
    // A client cannot mark a staff-channel message read (it does not exist for them).
    let (s, _) = call(&app, admin, "POST", &read, Some(json!({"up_to": w.a.staff_message.to_string()}))).await;
    assert_eq!(s, 404);
    // The refused attempts did not add receipts on B's conversation.
    let (_, list) = call(&app, owner, "GET", &format!("/projects/{}/messages", w.b.project), None).await;
    assert!(reader_names(find(&list, &w.b.message.to_string())).is_empty());
    app.stop().await;
}

#[tokio::test]
async fn authors_edit_and_delete_within_the_window() {
    use atrium_store::entity::message;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let t = tokens(&app, &[w.a.admin, w.owner]).await;
    let (admin, owner) = (&t[0], &t[1]);
    let path = format!("/projects/{}/messages", w.a.project);
    let (_, m) = call(&app, admin, "POST", &path, Some(json!({"body": "first draft"}))).await;
    let id = m["id"].as_str().unwrap().to_string();

    let (s, e) = call(&app, admin, "PATCH", &format!("/messages/{id}"), Some(json!({"body": "second *draft*"}))).await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["body"], "second *draft*");
    assert!(e["body_html"].as_str().unwrap().contains("<em>draft</em>"));
    assert!(e["edited_at"].is_string(), "edited_at is set: {e}");
    let (_, list) = call(&app, owner, "GET", &path, None).await;
    assert_eq!(find(&list, &id)["body"], "second *draft*", "the edit is stored");

    // Someone else's message: refused, unchanged, still there.
    let seeded = w.a.message.to_string();
    let (s, _) = call(&app, admin, "PATCH", &format!("/messages/{seeded}"), Some(json!({"body": "hijacked"}))).await;
    assert_eq!(s, 403);
    let (s, _) = call(&app, admin, "DELETE", &format!("/messages/{seeded}"), None).await;
    assert_eq!(s, 403);
    let (s, _) = call(&app, owner, "PATCH", &format!("/messages/{id}"), Some(json!({"body": "staff rewrite"}))).await;
    assert_eq!(s, 403, "not even staff edit another's message");
    let (_, list) = call(&app, admin, "GET", &path, None).await;
    assert_eq!(find(&list, &seeded)["body"], w.a.message_text);
    assert_eq!(find(&list, &id)["body"], "second *draft*");

    // Delete one's own: gone for everyone.
    let (_, other) = call(&app, admin, "POST", &path, Some(json!({"body": "to be deleted"}))).await;
    let other = other["id"].as_str().unwrap().to_string();
    let (s, _) = call(&app, admin, "DELETE", &format!("/messages/{other}"), None).await;
    assert_eq!(s, 204);
    for token in [admin, owner] {
        let (_, list) = call(&app, token, "GET", &path, None).await;
        assert!(!ids(&list).contains(&other), "a deleted message is not listed");
        assert!(ids(&list).contains(&id));
    }
    let (s, _) = call(&app, admin, "PATCH", &format!("/messages/{other}"), Some(json!({"body": "back?"}))).await;
    assert_eq!(s, 404, "a deleted message cannot be edited");

    // Once the window has passed (the message was posted 16 minutes ago): refused.
    let uuid: uuid::Uuid = id.parse().unwrap();
    let row = message::Entity::find_by_id(uuid).one(app.store.connection()).await.unwrap().expect("row");
    let mut am: message::ActiveModel = row.into();
    am.created_at = Set(chrono::Utc::now() - chrono::Duration::minutes(16));
    am.update(app.store.connection()).await.expect("backdate");
    let (s, e) = call(&app, admin, "PATCH", &format!("/messages/{id}"), Some(json!({"body": "too late"}))).await;
    assert_eq!(s, 403, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("15 minutes"), "{e}");
    let (s, _) = call(&app, admin, "DELETE", &format!("/messages/{id}"), None).await;
    assert_eq!(s, 403);
    let (_, list) = call(&app, owner, "GET", &path, None).await;
    assert_eq!(find(&list, &id)["body"], "second *draft*", "the late edit and delete changed nothing");
    app.stop().await;
}

#[tokio::test]
async fn bad_message_input_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let path = format!("/projects/{}/messages", w.a.project);
    let (s, e) = call(&app, &admin, "POST", &path, Some(json!({"body": "x".repeat(20_001)}))).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["error"]["code"], "invalid");
    assert!(e["error"]["message"].as_str().unwrap().starts_with("body"), "{e}");
    let (s, _) = call(&app, &admin, "POST", &path, Some(json!({"body": "x".repeat(20_000)}))).await;
    assert_eq!(s, 201, "exactly the limit is fine");

    let (s, e) = call(&app, &admin, "POST", &path, Some(json!({"body": "hi", "pinned": true}))).await;
    assert_eq!(s, 422, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("pinned"), "names the unknown field: {e}");
    let (s, _) = call(&app, &admin, "POST", &path, Some(json!({"body": "hi", "channel": "everyone"}))).await;
    assert_eq!(s, 422);
    let (s, _) = call(&app, &admin, "POST", &path, Some(json!({"body": "   "}))).await;
    assert_eq!(s, 422, "a blank message");

    let (_, m) = call(&app, &admin, "POST", &path, Some(json!({"body": "ok"}))).await;
    let id = m["id"].as_str().unwrap();
    let (s, e) =
        call(&app, &admin, "PATCH", &format!("/messages/{id}"), Some(json!({"body": "y".repeat(20_001)}))).await;
    assert_eq!(s, 422, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().starts_with("body"));
    let (s, _) =
        call(&app, &admin, "PATCH", &format!("/messages/{id}"), Some(json!({"body": "z", "channel": "staff"}))).await;
    assert_eq!(s, 422, "a message cannot be moved by editing");
    let (_, list) = call(&app, &admin, "GET", &path, None).await;
    assert_eq!(find(&list, id)["body"], "ok");
    assert_eq!(ids(&list).len(), 3, "only the two valid posts were stored (plus the seeded one)");
    app.stop().await;
}

#[tokio::test]
async fn unread_counts_follow_posts_and_reads() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let t = tokens(&app, &[w.a.admin, w.owner]).await;
    let (admin, owner) = (&t[0], &t[1]);
    let path = format!("/projects/{}/messages", w.a.project);
    let admin_actor = app.actor(w.a.admin).await;
    let staff_actor = app.actor(w.staff).await;
    let unread = |a: &atrium_core::policy::Actor| {
        let a = a.clone();
        let store = app.store.clone();
        let project = w.a.project;
        async move { store.unread_messages(&a, project).await.expect("unread") }
    };
    let u = unread(&admin_actor).await;
    assert_eq!((u.client, u.staff), (1, 0), "the seeded message; the staff channel is not counted for a client");
    let u = unread(&staff_actor).await;
    assert_eq!((u.client, u.staff), (1, 1));

    let (_, m2) = call(&app, owner, "POST", &path, Some(json!({"body": "another"}))).await;
    call(&app, owner, "POST", &path, Some(json!({"body": "and another"}))).await;
    call(&app, owner, "POST", &path, Some(json!({"body": "staff only", "channel": "staff"}))).await;
    let u = unread(&admin_actor).await;
    assert_eq!((u.client, u.staff), (3, 0));

    // Reading up to the second message leaves the third unread.
    let (s, _) = call(&app, admin, "POST", &format!("{path}/read"), Some(json!({"up_to": m2["id"]}))).await;
    assert_eq!(s, 204);
    assert_eq!(unread(&admin_actor).await.client, 1);
    // A read marker never moves back.
    let (s, _) =
        call(&app, admin, "POST", &format!("{path}/read"), Some(json!({"up_to": w.a.message.to_string()}))).await;
    assert_eq!(s, 204);
    assert_eq!(unread(&admin_actor).await.client, 1);
    // One's own messages never count, and posting marks the conversation read.
    let (s, _) = call(&app, admin, "POST", &path, Some(json!({"body": "thanks"}))).await;
    assert_eq!(s, 201);
    assert_eq!(unread(&admin_actor).await.client, 0);
    let u = unread(&staff_actor).await;
    assert_eq!((u.client, u.staff), (4, 2), "staff count both channels");
    app.stop().await;
}

#[tokio::test]
async fn portal_home_lists_projects_with_unread_messages() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    // The seeded message (by the owner) is unread for A's admin; B's project never shows.
    let (c, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let home = c.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("New messages"), "{home}");
    assert!(home.contains(&format!("/portal/projects/{}/messages", w.a.project)));
    assert!(!home.contains(&w.b.project.to_string()));
    let staff = app.token_for(w.staff).await;
    for text in ["One more thing", "And another"] {
        let (s, _) =
            call(&app, &staff, "POST", &format!("/projects/{}/messages", w.a.project), Some(json!({"body": text})))
                .await;
        assert_eq!(s, 201);
    }
    let home = c.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains(r#"<span class="count">3</span>"#), "three unread: {home}");
    // Opening the conversation reads nothing by itself (SEC-IO-6) …
    let page = c.get(app.url(&format!("/portal/projects/{}/messages", w.a.project))).send().await.unwrap();
    let page = page.text().await.unwrap();
    let home = c.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains(r#"<span class="count">3</span>"#), "still three unread: {home}");
    // … the page's script then POSTs that it was read; Home no longer lists it.
    let up_to = page.split("data-read-up-to=\"").nth(1).and_then(|r| r.split('"').next()).expect("data-read-up-to");
    let r = c
        .post(app.url(&format!("/api/v1/projects/{}/messages/read", w.a.project)))
        .header("x-csrf-token", csrf_from(&page))
        .json(&json!({"up_to": up_to}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let home = c.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("New messages"), "{home}");
    // The staff channel never counts for a client.
    let admin = app.actor(w.a.admin).await;
    let counts = app.store.unread_by_project(&admin, &[w.a.project, w.b.project]).await.unwrap();
    assert!(counts.is_empty(), "{counts:?}");
}

#[tokio::test]
async fn a_message_mentions_at_most_twenty_people() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let many: String = (0..21).map(|i| format!("@[Person {i}] ")).collect();
    let (s, b) =
        call(&app, &staff, "POST", &format!("/projects/{}/messages", w.a.project), Some(json!({"body": many}))).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["message"].as_str().unwrap(), "body: mentions at most 20 people");
    let (_, list) = call(&app, &staff, "GET", &format!("/projects/{}/messages", w.a.project), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "nothing was posted");
}
