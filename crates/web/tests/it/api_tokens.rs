//! Personal API tokens (issue 16, SEC-INT-3): shown once, stored hashed, `atr_`-prefixed,
//! scoped (a scope a token lacks is 403 naming it), expiring, revocable at once, dead with their
//! owner's access, no more than their owner may do, API-only.

use std::time::Duration;

use crate::common::*;
use crate::sse::Sse;
use atrium_core::ids::UserId;
use serde_json::{Value, json};

/// Makes a token through the API with `session`; returns the whole answer.
async fn make(app: &TestApp, session: &str, body: Value) -> (u16, Value) {
    call(app, session, "POST", "/api-tokens", Some(body)).await
}

/// Makes a token with these scopes for `user` (through a fresh session); returns its secret and id.
async fn token(app: &TestApp, user: UserId, scopes: &[&str]) -> (String, String) {
    let session = app.token_for(user).await;
    let (st, v) = make(app, &session, json!({"name": "Test token", "scopes": scopes})).await;
    assert_eq!(st, 201, "{v}");
    (v["token"].as_str().expect("token").to_string(), v["id"].as_str().expect("id").to_string())
}

/// Posts a form from a signed-in browser.
async fn post_form(c: &reqwest::Client, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Answer {
    Answer::of(c.post(app.url(path)).form(fields).send().await.expect("form post")).await
}

fn message(v: &Value) -> &str {
    v["error"]["message"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_token_is_shown_once_works_as_bearer_and_is_stored_only_hashed() {
    // SEC-INT-3
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let session = app.token_for(w.a.admin).await;
    let (st, v) = make(&app, &session, json!({"name": "Zapier", "scopes": ["read", "tasks:write"]})).await;
    assert_eq!(st, 201, "{v}");
    let secret = v["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("atr_") && secret.len() >= 4 + 43, "{secret}");
    for k in ["id", "name", "scopes", "token", "expires_at", "last_used_at", "created_at"] {
        assert!(v.get(k).is_some(), "the answer has {k}: {v}");
    }
    assert_eq!(v["scopes"], json!(["read", "tasks:write"]));
    assert_eq!(v["expires_at"], Value::Null);
    assert_eq!(v["last_used_at"], Value::Null);
    assert_eq!(v["prefix"].as_str().unwrap(), &secret[4..12]);

    // It works as a bearer token, as its owner.
    let (st, me) = call(&app, &secret, "GET", "/me", None).await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["id"], w.a.admin.to_string());

    // Never shown again.
    let (st, list) = call(&app, &session, "GET", "/api-tokens", None).await;
    assert_eq!(st, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let item = &list["items"][0];
    assert!(item.get("token").is_none(), "{item}");
    assert!(!list.to_string().contains(&secret[4..]), "the list carries no secret");
    assert!(item["last_used_at"].is_string(), "the use was recorded: {item}");

    // Hashed at rest: no column of the row holds the secret (or its random part).
    let rows = app
        .query_strings(
            "SELECT token_hash, display_prefix, name, scopes FROM api_tokens",
            vec![],
            &["token_hash", "display_prefix", "name", "scopes"],
        )
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], atrium_core::token::hash(&secret));
    assert!(rows[0].iter().all(|c| !c.contains(&secret[4..])), "{rows:?}");
    assert_eq!(rows[0][1], &secret[4..12]);
    // Nor does the audit log.
    let audit = app.store.audit_recent(5).await.unwrap();
    let created = audit.iter().find(|r| r.action == "api_token.create").expect("audited");
    assert_eq!(created.actor_id, Some(w.a.admin.0));
    assert_eq!(created.client_id, Some(w.a.id.0));
    assert!(!created.detail.contains(&secret[4..]), "{}", created.detail);
    app.stop().await;
}

#[tokio::test]
async fn a_read_only_token_reads_and_is_refused_writes_naming_the_scope() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (ro, _) = token(&app, w.owner, &["read"]).await;
    let (st, v) = call(&app, &ro, "GET", "/projects", None).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(call(&app, &ro, "GET", &format!("/tasks/{}", w.a.task), None).await.0, 200);
    let (st, v) =
        call(&app, &ro, "POST", &format!("/projects/{}/tasks", w.a.project), Some(json!({"title": "T"}))).await;
    assert_eq!(st, 403, "{v}");
    assert_eq!(v, json!({"error": {"code": "forbidden", "message": "this API token lacks the scope tasks:write"}}));
    let (st, v) = call(&app, &ro, "PATCH", &format!("/projects/{}", w.a.project), Some(json!({"name": "X"}))).await;
    assert_eq!((st, message(&v)), (403, "this API token lacks the scope projects:write"));
    // Nothing was changed.
    let (_, p) = call(&app, &ro, "GET", &format!("/projects/{}", w.a.project), None).await;
    assert_eq!(p["name"], w.a.project_name);
    app.stop().await;
}

#[tokio::test]
async fn an_area_scope_reaches_its_area_only() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (t, _) = token(&app, w.owner, &["tasks:write"]).await;
    let (st, v) =
        call(&app, &t, "POST", &format!("/projects/{}/tasks", w.a.project), Some(json!({"title": "By CI"}))).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(call(&app, &t, "GET", &format!("/tasks/{}", w.a.task), None).await.0, 200, "write includes read");
    let (st, v) = call(&app, &t, "GET", "/projects", None).await;
    assert_eq!((st, message(&v)), (403, "this API token lacks the scope projects:read"));
    let (st, v) = call(&app, &t, "GET", &format!("/invoices/{}", w.a.invoice), None).await;
    assert_eq!((st, message(&v)), (403, "this API token lacks the scope billing:read"));
    let (st, v) = call(&app, &t, "GET", "/events", None).await;
    assert_eq!((st, message(&v)), (403, "this API token lacks the scope read"), "the stream spans every area");
    let (b, _) = token(&app, w.owner, &["billing:read"]).await;
    assert_eq!(call(&app, &b, "GET", &format!("/invoices/{}", w.a.invoice), None).await.0, 200);
    assert_eq!(call(&app, &b, "GET", &format!("/tasks/{}", w.a.task), None).await.0, 403);
    app.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_refused_like_a_dead_session() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let session = app.token_for(w.staff).await;
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    let (st, v) = make(&app, &session, json!({"name": "Short", "scopes": ["read"], "expires_at": expires})).await;
    assert_eq!(st, 201, "{v}");
    let secret = v["token"].as_str().unwrap().to_string();
    assert_eq!(call(&app, &secret, "GET", "/me", None).await.0, 200);
    app.store.set_clock(Some(expires + chrono::Duration::seconds(1)));
    let (st, v) = call(&app, &secret, "GET", "/me", None).await;
    app.store.set_clock(None);
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["error"]["code"], "unauthorized");
    app.stop().await;
}

#[tokio::test]
async fn a_revoked_token_stops_at_once_and_only_its_owner_revokes_it() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let session = app.token_for(w.a.admin).await;
    let (secret, id) = token(&app, w.a.admin, &["read"]).await;
    let (other_secret, _) = token(&app, w.a.admin, &["read"]).await;
    // Someone else's id is 404, and changes nothing.
    let b_session = app.token_for(w.b.admin).await;
    assert_eq!(call(&app, &b_session, "DELETE", &format!("/api-tokens/{id}"), None).await.0, 404);
    let owner = app.token_for(w.owner).await;
    assert_eq!(call(&app, &owner, "DELETE", &format!("/api-tokens/{id}"), None).await.0, 404);
    assert_eq!(call(&app, &secret, "GET", "/me", None).await.0, 200);
    assert_eq!(call(&app, &session, "DELETE", &format!("/api-tokens/{id}"), None).await.0, 204);
    let (st, v) = call(&app, &secret, "GET", "/me", None).await;
    assert_eq!((st, v["error"]["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(call(&app, &other_secret, "GET", "/me", None).await.0, 200, "the other token keeps working");
    assert_eq!(call(&app, &session, "DELETE", &format!("/api-tokens/{id}"), None).await.0, 404, "already revoked");
    let (_, list) = call(&app, &session, "GET", "/api-tokens", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "a revoked token leaves the list");
    let audit = app.store.audit_recent(10).await.unwrap();
    assert!(audit.iter().any(|r| r.action == "api_token.revoke" && r.subject_id.as_deref() == Some(id.as_str())));
    app.stop().await;
}

#[tokio::test]
async fn a_token_dies_with_its_owners_access() {
    // SEC-AUTH-6: a deactivated user's tokens stop at once; so do a revoked client's.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let (staff, _) = token(&app, w.staff, &["read"]).await;
    let (st, v) = call(&app, &owner, "PATCH", &format!("/users/{}", w.staff), Some(json!({"active": false}))).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(call(&app, &staff, "GET", "/me", None).await.0, 401, "deactivated");
    let (st, _) = call(&app, &owner, "PATCH", &format!("/users/{}", w.staff), Some(json!({"active": true}))).await;
    assert_eq!(st, 200);
    assert_eq!(call(&app, &staff, "GET", "/me", None).await.0, 401, "revoked for good: they make a new one");

    let (viewer, _) = token(&app, w.a.viewer, &["read"]).await;
    let owner_actor = app.actor(w.owner).await;
    app.store.revoke_client_access(&owner_actor, w.a.id, None).await.unwrap();
    assert_eq!(call(&app, &viewer, "GET", "/me", None).await.0, 401, "the client's access was revoked");

    let (b_admin, _) = token(&app, w.b.admin, &["read"]).await;
    app.store.delete_client(&owner_actor, w.b.id, None).await.unwrap();
    assert_eq!(call(&app, &b_admin, "GET", "/me", None).await.0, 401, "a deleted client's user");

    let (finance, _) = token(&app, w.a.finance, &["read"]).await;
    app.store.revoke_user_access(w.a.finance).await.unwrap();
    assert_eq!(call(&app, &finance, "GET", "/me", None).await.0, 401, "revoke_user_access");
    app.stop().await;
}

#[tokio::test]
async fn a_password_change_ends_the_tokens_too() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (t, _) = token(&app, w.a.admin, &["read"]).await;
    let session = app.token_for(w.a.admin).await;
    let body = json!({"current_password": PASSWORD, "new_password": "a completely new phrase"});
    let (st, v) = call(&app, &session, "POST", "/me/password", Some(body)).await;
    assert!((200..300).contains(&st), "{st} {v}");
    assert_eq!(call(&app, &t, "GET", "/me", None).await.0, 401);
    app.stop().await;
}

#[tokio::test]
async fn a_client_users_token_sees_exactly_what_they_see() {
    // SEC-AC-3 through a token: another client's things do not exist for it.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (t, _) = token(&app, w.a.admin, &["write"]).await;
    let (st, v) = call(&app, &t, "GET", "/projects", None).await;
    assert_eq!(st, 200);
    let ids: Vec<&str> = v["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![w.a.project.to_string()]);
    assert_eq!(call(&app, &t, "GET", &format!("/projects/{}", w.b.project), None).await.0, 404);
    assert_eq!(call(&app, &t, "GET", &format!("/tasks/{}", w.b.task), None).await.0, 404);
    assert_eq!(call(&app, &t, "GET", &format!("/invoices/{}", w.b.invoice), None).await.0, 404);
    let (st, v) = call(&app, &t, "GET", &format!("/tasks/{}/comments", w.a.task), None).await;
    assert_eq!(st, 200);
    assert!(v.to_string().contains(&w.a.reply_text) && !v.to_string().contains(&w.a.note_text), "{v}");
    // Staff-only operations stay refused whatever the scope says.
    let (st, _) = call(&app, &t, "GET", "/clients", None).await;
    assert!(matches!(st, 403 | 404), "{st}");
    let (st, _) = call(&app, &t, "POST", "/clients", Some(json!({"name": "Mine now"}))).await;
    assert!(matches!(st, 403 | 404), "{st}");
    // A finance user's token reaches billing only, as they do.
    let (f, _) = token(&app, w.a.finance, &["read"]).await;
    assert_eq!(call(&app, &f, "GET", &format!("/projects/{}", w.a.project), None).await.0, 404);
    assert_eq!(call(&app, &f, "GET", &format!("/invoices/{}", w.a.invoice), None).await.0, 200);
    // A viewer's token cannot comment, as the viewer cannot.
    let (v_tok, _) = token(&app, w.a.viewer, &["write"]).await;
    let body = json!({"body": "Hi", "visibility": "reply"});
    assert_eq!(call(&app, &v_tok, "POST", &format!("/tasks/{}/comments", w.a.task), Some(body)).await.0, 403);
    app.stop().await;
}

#[tokio::test]
async fn a_token_cannot_manage_tokens_sign_out_or_change_the_password() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (t, id) = token(&app, w.owner, &["write"]).await;
    for (method, path, body) in [
        ("GET", "/api-tokens".to_string(), None),
        ("POST", "/api-tokens".to_string(), Some(json!({"name": "Child", "scopes": ["write"]}))),
        ("DELETE", format!("/api-tokens/{id}"), None),
        ("DELETE", "/session".to_string(), None),
        (
            "POST",
            "/me/password".to_string(),
            Some(json!({"current_password": PASSWORD, "new_password": "x".repeat(12)})),
        ),
    ] {
        let (st, v) = call(&app, &t, method, &path, body).await;
        assert_eq!(st, 403, "{method} {path}: {v}");
        assert!(message(&v).contains("session"), "{v}");
    }
    assert_eq!(call(&app, &t, "GET", "/me", None).await.0, 200, "and it still works");
    let owner = app.actor(w.owner).await;
    assert_eq!(app.store.api_tokens(&owner).await.unwrap().len(), 1, "no token was made");
    app.stop().await;
}

#[tokio::test]
async fn a_token_is_taken_only_by_the_api_and_only_from_the_header() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (t, _) = token(&app, w.owner, &["write"]).await;
    // Not on pages: the page is for someone signed out.
    let a = Answer::of(api().get(app.url("/staff")).bearer_auth(&t).send().await.unwrap()).await;
    assert_eq!((a.status, a.location()), (303, Some("/login")));
    let a = Answer::of(api().get(app.url("/account/tokens")).bearer_auth(&t).send().await.unwrap()).await;
    assert_eq!((a.status, a.location()), (303, Some("/login")));
    // Not as the session cookie, on the API or on pages.
    let cookie = format!("{}={t}", app.config.session_cookie());
    let a = Answer::of(api().get(app.url("/api/v1/me")).header("cookie", &cookie).send().await.unwrap()).await;
    assert_eq!(a.status, 401);
    let a = Answer::of(api().get(app.url("/staff")).header("cookie", &cookie).send().await.unwrap()).await;
    assert_eq!((a.status, a.location()), (303, Some("/login")));
    // A mangled token is a dead one.
    let mangled = format!("{}x", &t[..t.len() - 1]);
    assert_eq!(call(&app, &mangled, "GET", "/me", None).await.0, 401);
    assert_eq!(call(&app, "atr_", "GET", "/me", None).await.0, 401);
    app.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let s = app.token_for(w.a.admin).await;
    let now = chrono::Utc::now();
    let cases = [
        (json!({"name": "x", "scopes": ["read", "everything"]}), "scopes[1]"),
        (json!({"name": "x", "scopes": ["projects:delete"]}), "scopes[0]"),
        (json!({"name": "x", "scopes": []}), "scopes"),
        (json!({"name": "x", "scopes": vec!["read"; 21]}), "scopes"),
        (json!({"name": "x"}), "body"),
        (json!({"name": "", "scopes": ["read"]}), "name"),
        (json!({"name": "   ", "scopes": ["read"]}), "name"),
        (json!({"name": "x".repeat(101), "scopes": ["read"]}), "name"),
        (json!({"name": "a\u{202e}b", "scopes": ["read"]}), "name"),
        (json!({"name": "x", "scopes": ["read"], "expires_at": now - chrono::Duration::minutes(1)}), "expires_at"),
        (json!({"name": "x", "scopes": ["read"], "expires_at": now + chrono::Duration::days(400)}), "expires_at"),
        (json!({"name": "x", "scopes": ["read"], "expires_at": "tomorrow"}), "expires_at"),
        (json!({"name": "x", "scopes": ["read"], "user_id": w.b.admin.to_string()}), "body"),
    ];
    for (body, field) in cases {
        let (st, v) = make(&app, &s, body.clone()).await;
        assert_eq!(st, 422, "{body}: {v}");
        assert_eq!(v["error"]["code"], "invalid");
        assert!(message(&v).starts_with(&format!("{field}:")) || field == "body", "{body}: {v}");
        if field != "body" {
            continue;
        }
        assert!(!message(&v).is_empty());
    }
    assert!(app.store.audit_recent(50).await.unwrap().iter().all(|r| r.action != "api_token.create"), "nothing made");
    // At most 50 live tokens per person: the 51st is refused; revoking one frees its place, and
    // expired ones do not count.
    let admin = app.actor(w.a.admin).await;
    let scopes = atrium_core::api_token::TokenScopes::parse(&["read"]).unwrap();
    let mut ids = Vec::new();
    for i in 0..50 {
        let n =
            atrium_store::api_tokens::NewApiToken { name: format!("T{i}"), scopes: scopes.clone(), expires_at: None };
        ids.push(app.store.create_api_token(&admin, n, None).await.unwrap().0.id);
    }
    let (st, v) = make(&app, &s, json!({"name": "One too many", "scopes": ["read"]})).await;
    assert_eq!(st, 422, "{v}");
    assert!(message(&v).starts_with("name:") && message(&v).contains("50"), "{v}");
    assert_eq!(call(&app, &s, "DELETE", &format!("/api-tokens/{}", ids[0]), None).await.0, 204);
    assert_eq!(make(&app, &s, json!({"name": "Now it fits", "scopes": ["read"]})).await.0, 201);
    app.stop().await;
}

#[tokio::test]
async fn the_last_use_is_written_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (t, _) = token(&app, w.staff, &["read"]).await;
    let last_used = || async {
        app.query_strings("SELECT CAST(last_used_at AS TEXT) AS at FROM api_tokens", vec![], &["at"]).await[0][0]
            .clone()
    };
    assert_eq!(last_used().await, "", "unused");
    call(&app, &t, "GET", "/me", None).await;
    let first = last_used().await;
    assert!(!first.is_empty());
    call(&app, &t, "GET", "/me", None).await;
    assert_eq!(last_used().await, first, "not written again within the minute");
    app.store.set_clock(Some(chrono::Utc::now() + chrono::Duration::minutes(2)));
    call(&app, &t, "GET", "/me", None).await;
    app.store.set_clock(None);
    assert_ne!(last_used().await, first, "written again after a minute");
    app.stop().await;
}

#[tokio::test]
async fn a_tokens_event_stream_ends_when_the_token_is_revoked() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (t, id) = token(&app, w.a.admin, &["read"]).await;
    let (other, _) = token(&app, w.a.admin, &["read"]).await;
    let mut s = Sse::ready(&app.url("/api/v1/events"), &t).await;
    let mut kept = Sse::ready(&app.url("/api/v1/events"), &other).await;
    let session = app.token_for(w.a.admin).await;
    assert_eq!(call(&app, &session, "DELETE", &format!("/api-tokens/{id}"), None).await.0, 204);
    assert!(s.ends_within(Duration::from_millis(2500)).await, "the revoked token's stream ends");
    assert!(!kept.ends_within(Duration::from_millis(1500)).await, "another token's stream goes on");
    drop(kept);
    app.stop().await;
}

#[tokio::test]
async fn the_tokens_page_lists_makes_once_and_revokes() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (c, _) = sign_in(&app, &w.a.people[0].1, PASSWORD).await;
    let account = c.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    assert!(account.contains("href=\"/account/tokens\""), "the account page links to the tokens");
    let page = c.get(app.url("/account/tokens")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&page);
    assert!(page.contains("No tokens yet"));
    // Without the CSRF token: refused, nothing made.
    let a = post_form(&c, &app, "/account/tokens", &[("name", "X"), ("scopes", "read")]).await;
    assert_eq!(a.status, 403);
    // A bad value: the form comes back naming the field, with what was typed.
    let a = post_form(
        &c,
        &app,
        "/account/tokens",
        &[("_csrf", csrf.as_str()), ("name", "Deploy bot"), ("scopes", "tasks:write"), ("expires_at", "2001-01-01")],
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("expires_at: must be in the future"), "{}", a.body);
    assert!(a.body.contains("value=\"Deploy bot\"") && a.body.contains("value=\"2001-01-01\""));
    assert!(a.body.contains("value=\"tasks:write\" checked"), "the chosen scope stays chosen");
    // Made: the secret is on this answer, once.
    let a = post_form(
        &c,
        &app,
        "/account/tokens",
        &[("_csrf", csrf.as_str()), ("name", "Deploy bot"), ("scopes", "tasks:write"), ("scopes", "projects:read")],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let at = a.body.find("value=\"atr_").expect("the secret is shown") + "value=\"".len();
    let secret = a.body[at..at + a.body[at..].find('"').unwrap()].to_string();
    assert!(a.body.contains("shown only this once"));
    assert_eq!(call(&app, &secret, "GET", &format!("/projects/{}", w.a.project), None).await.0, 200);
    // Listed without it.
    let page = c.get(app.url("/account/tokens")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains(&secret[4..]), "never shown again");
    assert!(page.contains("Deploy bot") && page.contains(&format!("atr_{}", &secret[4..12])));
    assert!(page.contains("projects:read, tasks:write"), "{page}");
    // Revoked from the page.
    let admin = app.actor(w.a.admin).await;
    let id = app.store.api_tokens(&admin).await.unwrap()[0].id;
    let a = post_form(&c, &app, &format!("/account/tokens/{id}/revoke"), &[("_csrf", csrf.as_str())]).await;
    assert_eq!((a.status, a.location()), (303, Some("/account/tokens?notice=revoked")));
    assert_eq!(call(&app, &secret, "GET", "/me", None).await.0, 401);
    app.stop().await;
}

#[tokio::test]
async fn view_as_client_has_no_tokens() {
    // SEC-AC-4: staff viewing as a client cannot make (or see) the client's tokens.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (c, csrf) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    let a = post_form(
        &c,
        &app,
        &format!("/staff/clients/{}/view-as", w.a.id),
        &[("_csrf", csrf.as_str()), ("user_id", &w.a.admin.to_string())],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let a = Answer::of(c.get(app.url("/account/tokens")).send().await.unwrap()).await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a =
        post_form(&c, &app, "/account/tokens", &[("_csrf", csrf.as_str()), ("name", "As client"), ("scopes", "read")])
            .await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a_admin = app.actor(w.a.admin).await;
    assert!(app.store.api_tokens(&a_admin).await.unwrap().is_empty());
    app.stop().await;
}
