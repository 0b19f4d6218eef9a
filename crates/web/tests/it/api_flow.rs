//! The JSON API contract, end to end on a real server and database.

use crate::common::*;
use serde_json::{Value, json};

async fn json_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let v = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, v)
}

#[tokio::test]
async fn login_me_logout() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let c = api();
    let (s, v) = json_of(
        c.post(app.url("/api/v1/session"))
            .json(&json!({"email": "admin@a.test", "password": PASSWORD}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201);
    let token = v["token"].as_str().unwrap().to_string();
    assert_eq!(v["user"]["role"], "client_admin");
    assert_eq!(v["user"]["client_id"], w.a.id.to_string());
    assert!(v["user"].get("password_hash").is_none());
    let (s, me) = json_of(c.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(me["email"], "admin@a.test");
    assert_eq!(c.delete(app.url("/api/v1/session")).bearer_auth(&token).send().await.unwrap().status(), 204);
    let (s, e) = json_of(c.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(s, 401, "token stops working at once");
    assert_eq!(e["error"]["code"], "unauthorized");
    app.stop().await;
}

#[tokio::test]
async fn wrong_credentials_look_the_same() {
    // SEC-AUTH-3
    let app = TestApp::spawn().await;
    seed(&app).await;
    let c = api();
    let a = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "admin@a.test", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    let b = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "nobody@nowhere.test", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 401);
    assert_eq!(b.status(), 401);
    assert_eq!(a.text().await.unwrap(), b.text().await.unwrap());
    app.stop().await;
}

#[tokio::test]
async fn login_is_rate_limited_per_account() {
    // SEC-AUTH-4
    let app = TestApp::spawn().await;
    seed(&app).await;
    let c = api();
    let mut last = None;
    for _ in 0..11 {
        last = Some(
            c.post(app.url("/api/v1/session"))
                .json(&json!({"email": "owner@agency.test", "password": "not the password"}))
                .send()
                .await
                .unwrap(),
        );
    }
    let last = last.unwrap();
    assert_eq!(last.status(), 429);
    let retry: u64 = last.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900);
    // Even the right password is refused while limited.
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "owner@agency.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    app.stop().await;
}

#[tokio::test]
async fn magic_link_is_single_use_and_built_from_public_url() {
    // SEC-AUTH-5, SEC-AUTH-7, SEC-AUTH-8
    let app = TestApp::spawn().await;
    seed(&app).await;
    let c = api();
    let r = c
        .post(app.url("/api/v1/magic-links"))
        .header("host", "evil.example")
        .json(&json!({"email": "admin@a.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let r2 = c.post(app.url("/api/v1/magic-links")).json(&json!({"email": "ghost@a.test"})).send().await.unwrap();
    assert_eq!(r2.status(), 202, "same answer for unknown accounts");
    let mails = app.mails().await;
    assert_eq!(mails.len(), 1, "only the real account gets mail");
    let m = &mails[0];
    assert_eq!(m.to, "admin@a.test");
    let link = m.text.lines().find(|l| l.starts_with("http")).unwrap().trim().to_string();
    assert!(link.starts_with(&format!("{PUBLIC_URL}/magic/")), "{link}");
    let path = link.trim_start_matches(PUBLIC_URL).to_string();
    let b = browser();
    // Opening the link only shows a confirm button; it does not use the token up.
    for _ in 0..2 {
        let page = b.get(app.url(&path)).send().await.unwrap();
        assert_eq!(page.status(), 200);
    }
    let page = b.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&page);
    let r = b.post(app.url(&path)).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/portal");
    // Signing in rotated the CSRF token (it is bound to the new session): take the page's.
    let page = b.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    let fresh = csrf_from(&page);
    assert_ne!(fresh, csrf);
    let again = b.post(app.url(&path)).form(&[("_csrf", fresh.as_str())]).send().await.unwrap();
    assert_eq!(again.status(), 410, "single use");
    app.stop().await;
}

#[tokio::test]
async fn newer_magic_link_invalidates_older() {
    // SEC-AUTH-5
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let first =
        app.store.sign_in().issue_login_token(w.a.admin, atrium_core::model::TokenPurpose::MagicLink).await.unwrap();
    let second =
        app.store.sign_in().issue_login_token(w.a.admin, atrium_core::model::TokenPurpose::MagicLink).await.unwrap();
    assert!(
        app.store
            .sign_in()
            .check_login_token(&first.secret, atrium_core::model::TokenPurpose::MagicLink)
            .await
            .is_err()
    );
    assert!(
        app.store
            .sign_in()
            .check_login_token(&second.secret, atrium_core::model::TokenPurpose::MagicLink)
            .await
            .is_ok()
    );
    // A token only works for its own purpose.
    assert!(
        app.store
            .sign_in()
            .check_login_token(&second.secret, atrium_core::model::TokenPurpose::PasswordReset)
            .await
            .is_err()
    );
    app.stop().await;
}

#[tokio::test]
async fn invitation_create_accept_single_use() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let c = api();
    let staff = app.token_for(w.staff).await;
    let (s, inv) = json_of(
        c.post(app.url("/api/v1/invitations"))
            .bearer_auth(&staff)
            .json(&json!({"email": "new@a.test", "name": "Nina New", "role": "client_viewer", "client_id": w.a.id.to_string()}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{inv}");
    let accept_url = inv["accept_url"].as_str().unwrap();
    assert!(accept_url.starts_with(&format!("{PUBLIC_URL}/invite/")));
    let token = accept_url.rsplit('/').next().unwrap();
    let mails = app.mails().await;
    assert!(mails.iter().any(|m| m.to == "new@a.test" && m.text.contains(accept_url)));
    // Staff may not invite staff.
    let r = c
        .post(app.url("/api/v1/invitations"))
        .bearer_auth(&staff)
        .json(&json!({"email": "s2@agency.test", "name": "S", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // client_id is required for client roles, forbidden for staff roles.
    let owner = app.token_for(w.owner).await;
    let r = c
        .post(app.url("/api/v1/invitations"))
        .bearer_auth(&owner)
        .json(&json!({"email": "x@a.test", "name": "X", "role": "client_admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c
        .post(app.url("/api/v1/invitations"))
        .bearer_auth(&owner)
        .json(&json!({"email": "x@a.test", "name": "X", "role": "staff", "client_id": w.a.id.to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // Weak password refused, invitation still usable.
    let r = c
        .post(app.url(&format!("/api/v1/invitations/{token}/accept")))
        .json(&json!({"password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let (s, v) = json_of(
        c.post(app.url(&format!("/api/v1/invitations/{token}/accept")))
            .json(&json!({"password": "a long enough phrase"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["user"]["role"], "client_viewer");
    assert_eq!(v["user"]["name"], "Nina New");
    let r = c
        .post(app.url(&format!("/api/v1/invitations/{token}/accept")))
        .json(&json!({"password": "a long enough phrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410, "single use");
    let r = c
        .post(app.url("/api/v1/invitations/notatoken/accept"))
        .json(&json!({"password": "a long enough phrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn expired_invitation_is_refused_on_submit() {
    // SEC-AUTH-5: expiry is checked when submitted.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.actor(w.owner).await;
    let (_, t) = app
        .store
        .create_invitation(
            &owner,
            "late@a.test".into(),
            "Late".into(),
            atrium_core::model::Role::ClientAdmin,
            Some(w.a.id),
            None,
        )
        .await
        .unwrap();
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.store.connection();
    let past = chrono::Utc::now() - chrono::Duration::days(8);
    let sql =
        if on_postgres() { "UPDATE invitations SET expires_at = $1" } else { "UPDATE invitations SET expires_at = ?" };
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, [past.into()])).await.unwrap();
    let r = api()
        .post(app.url(&format!("/api/v1/invitations/{}/accept", t.secret)))
        .json(&json!({"password": "a long enough phrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    app.stop().await;
}

#[tokio::test]
async fn projects_tasks_comments_for_staff_and_clients() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let c = api();
    let staff = app.token_for(w.staff).await;
    let client = app.token_for(w.a.admin).await;
    // Staff creates a project and a task assigned to the client admin.
    let (s, p) = json_of(
        c.post(app.url("/api/v1/projects"))
            .bearer_auth(&staff)
            .json(&json!({"client_id": w.a.id.to_string(), "name": "Brand refresh", "due_date": "2027-01-31"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["status"], "active");
    assert_eq!(p["progress"], 0);
    let pid = p["id"].as_str().unwrap();
    let (s, t) = json_of(
        c.post(app.url(&format!("/api/v1/projects/{pid}/tasks")))
            .bearer_auth(&staff)
            .json(&json!({"title": "Approve logo", "assignee_id": w.a.admin.to_string(), "priority": "urgent"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    let tid = t["id"].as_str().unwrap();
    // An assignee from another client is refused.
    let r = c
        .post(app.url(&format!("/api/v1/projects/{pid}/tasks")))
        .bearer_auth(&staff)
        .json(&json!({"title": "X", "assignee_id": w.b.admin.to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // The client sees the project, only its own client's.
    let (_, list) = json_of(c.get(app.url("/api/v1/projects")).bearer_auth(&client).send().await.unwrap()).await;
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|p| p["client_id"].as_str().unwrap()).collect();
    assert!(!ids.is_empty() && ids.iter().all(|c| *c == w.a.id.to_string()));
    // My tasks.
    let (s, mine) =
        json_of(c.get(app.url("/api/v1/tasks?assignee=me")).bearer_auth(&client).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert!(mine["items"].as_array().unwrap().iter().any(|t| t["id"] == tid));
    // The client may set only the status of its own task.
    let r = c
        .patch(app.url(&format!("/api/v1/tasks/{tid}")))
        .bearer_auth(&client)
        .json(&json!({"title": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (s, t2) = json_of(
        c.patch(app.url(&format!("/api/v1/tasks/{tid}")))
            .bearer_auth(&client)
            .json(&json!({"status": "done"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(t2["status"], "done");
    let (_, p2) =
        json_of(c.get(app.url(&format!("/api/v1/projects/{pid}"))).bearer_auth(&client).send().await.unwrap()).await;
    assert_eq!(p2["progress"], 100, "progress derived from tasks");
    // Someone else's task: 403 for the client.
    let r = c
        .patch(app.url(&format!("/api/v1/tasks/{}", w.a.task)))
        .bearer_auth(&app.token_for(w.a.viewer).await)
        .json(&json!({"status": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Comments: a client posts a reply, may not post a note, never sees notes.
    let (s, cm) = json_of(
        c.post(app.url(&format!("/api/v1/tasks/{tid}/comments")))
            .bearer_auth(&client)
            .json(&json!({"body": "Looks **great**", "visibility": "reply"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(cm["body_html"], "<p>Looks <strong>great</strong></p>\n");
    let r = c
        .post(app.url(&format!("/api/v1/tasks/{tid}/comments")))
        .bearer_auth(&client)
        .json(&json!({"body": "psst", "visibility": "note"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(app.url(&format!("/api/v1/tasks/{tid}/comments")))
        .bearer_auth(&staff)
        .json(&json!({"body": "internal: invoice later", "visibility": "note"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (_, cs) =
        json_of(c.get(app.url(&format!("/api/v1/tasks/{tid}/comments"))).bearer_auth(&client).send().await.unwrap())
            .await;
    let bodies: Vec<&str> = cs["items"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["Looks **great**"]);
    let (_, cs) =
        json_of(c.get(app.url(&format!("/api/v1/tasks/{tid}/comments"))).bearer_auth(&staff).send().await.unwrap())
            .await;
    assert_eq!(cs["items"].as_array().unwrap().len(), 2, "staff sees notes, oldest first");
    assert_eq!(cs["items"][1]["visibility"], "note");
    // The viewer may not comment.
    let r = c
        .post(app.url(&format!("/api/v1/tasks/{tid}/comments")))
        .bearer_auth(&app.token_for(w.a.viewer).await)
        .json(&json!({"body": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn lists_paginate_with_cursor() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let c = api();
    for i in 0..5 {
        c.post(app.url(&format!("/api/v1/projects/{}/tasks", w.a.project)))
            .bearer_auth(&staff)
            .json(&json!({"title": format!("T{i}")}))
            .send()
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("?limit=3&cursor={c}"),
            None => "?limit=3".into(),
        };
        let (s, v) = json_of(
            c.get(app.url(&format!("/api/v1/projects/{}/tasks{q}", w.a.project)))
                .bearer_auth(&staff)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200);
        seen.extend(v["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()));
        match v["next_cursor"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted, "newest first");
    let r = c
        .get(app.url(&format!("/api/v1/projects/{}/tasks?limit=500", w.a.project)))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    app.stop().await;
}

#[tokio::test]
async fn openapi_and_health() {
    let app = TestApp::spawn().await;
    let c = api();
    let (s, doc) = json_of(c.get(app.url("/api/v1/openapi.json")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    for p in [
        "/api/v1/session",
        "/api/v1/projects/{id}/tasks",
        "/api/v1/tasks/{id}/comments",
        "/api/v1/invitations/{token}/accept",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} documented");
    }
    assert_eq!(c.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(c.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn task_lists_tell_an_empty_project_from_an_invisible_one() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let c = api();
    let staff = app.token_for(w.staff).await;
    let (s, p) = json_of(
        c.post(app.url("/api/v1/projects"))
            .bearer_auth(&staff)
            .json(&json!({"client_id": w.a.id.to_string(), "name": "Empty so far"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201);
    let client_a = app.token_for(w.a.admin).await;
    let empty = app.url(&format!("/api/v1/projects/{}/tasks", p["id"].as_str().unwrap()));
    let (s, list) = json_of(c.get(&empty).bearer_auth(&client_a).send().await.unwrap()).await;
    assert_eq!(s, 200, "a visible project without tasks is an empty list");
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let client_b = app.token_for(w.b.admin).await;
    assert_eq!(c.get(&empty).bearer_auth(&client_b).send().await.unwrap().status(), 404);
    // A filter that matches nothing in another client's project is still 404, not an empty list.
    let other = app.url(&format!("/api/v1/projects/{}/tasks?status=todo", w.b.project));
    assert_eq!(c.get(&other).bearer_auth(&client_a).send().await.unwrap().status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn staff_mark_milestones_reached_and_clients_cannot() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let c = api();
    let url = app.url(&format!("/api/v1/milestones/{}", w.a.milestone));
    let client = app.token_for(w.a.admin).await;
    let (s, e) = json_of(c.patch(&url).bearer_auth(&client).json(&json!({"done": true})).send().await.unwrap()).await;
    assert_eq!(s, 403, "a visible milestone, a forbidden change: {e}");
    let staff = app.token_for(w.staff).await;
    let (s, m) = json_of(c.patch(&url).bearer_auth(&staff).json(&json!({"done": true})).send().await.unwrap()).await;
    assert_eq!(s, 200, "{m}");
    assert!(m["completed_at"].is_string());
    let list = app.url(&format!("/api/v1/projects/{}/milestones", w.a.project));
    let (_, l) = json_of(c.get(&list).bearer_auth(&client).send().await.unwrap()).await;
    assert!(l["items"][0]["completed_at"].is_string(), "the client sees it reached");
    let (s, m) = json_of(c.patch(&url).bearer_auth(&staff).json(&json!({"done": false})).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert!(m["completed_at"].is_null());
    let (s, _) = json_of(c.patch(&url).bearer_auth(&staff).json(&json!({"done": "yes"})).send().await.unwrap()).await;
    assert_eq!(s, 422);
    app.stop().await;
}

#[tokio::test]
async fn signing_out_is_audited_with_who_and_from_where() {
    // SEC-DATA-1
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let token = app.token_for(w.a.admin).await;
    let res = api().delete(app.url("/api/v1/session")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let rows = app
        .query_strings(
            "SELECT ip FROM audit_log WHERE action = 'session.revoke' AND actor_id = ?",
            vec![w.a.admin.0.into()],
            &["ip"],
        )
        .await;
    assert_eq!(rows.len(), 1);
    assert!(!rows[0][0].is_empty(), "the caller's address is recorded");
    // A second sign-out of the same token changes nothing and records nothing.
    let res = api().delete(app.url("/api/v1/session")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let again =
        app.query_strings("SELECT action FROM audit_log WHERE action = 'session.revoke'", vec![], &["action"]).await;
    assert_eq!(again.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn two_servers_on_one_database_share_sessions_and_rate_limits() {
    // SEC-AUTH-4 ("the limit holds across server processes"), SEC-SESS-2, stateless app servers.
    let one = TestApp::spawn().await;
    let two = TestApp::spawn_beside(&one).await;
    seed(&one).await;
    let c = api();
    let attempt = |app: &TestApp| {
        c.post(app.url("/api/v1/session"))
            .json(&json!({"email": "owner@agency.test", "password": "not the password"}))
            .send()
    };
    // Ten failures spread over both servers use up the account's allowance on both.
    for i in 0..10 {
        let app = if i % 2 == 0 { &one } else { &two };
        assert_eq!(attempt(app).await.unwrap().status(), 401, "attempt {i}");
    }
    assert_eq!(attempt(&one).await.unwrap().status(), 429);
    assert_eq!(attempt(&two).await.unwrap().status(), 429);

    // A session started on one server works on the other, and ends on both at once.
    let (s, v) = json_of(
        c.post(two.url("/api/v1/session"))
            .json(&json!({"email": "admin@a.test", "password": PASSWORD}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201);
    let token = v["token"].as_str().unwrap().to_string();
    assert_eq!(c.get(one.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().status(), 200);
    assert_eq!(c.delete(one.url("/api/v1/session")).bearer_auth(&token).send().await.unwrap().status(), 204);
    assert_eq!(c.get(two.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().status(), 401);
    two.stop().await;
    one.stop().await;
}
