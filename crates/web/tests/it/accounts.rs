//! Deactivating and reactivating accounts (SEC-AUTH-6): who may, and that it bites at once.

use crate::common::*;
use serde_json::{Value, json};

async fn patch_active(app: &TestApp, token: &str, user: impl std::fmt::Display, active: bool) -> (u16, Value) {
    let res = api()
        .patch(app.url(&format!("/api/v1/users/{user}")))
        .bearer_auth(token)
        .json(&json!({ "active": active }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn login_status(app: &TestApp, email: &str) -> u16 {
    api()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn sec_auth_6_deactivation_ends_access_at_once_and_reactivation_restores_sign_in() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let victim = app.token_for(w.a.admin).await;
    let me = |t: &str| api().get(app.url("/api/v1/me")).bearer_auth(t.to_string()).send();
    assert_eq!(me(&victim).await.unwrap().status(), 200);

    let (s, u) = patch_active(&app, &staff, w.a.admin, false).await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["active"], false);
    assert_eq!(me(&victim).await.unwrap().status(), 401, "the live session stops at once");
    assert_eq!(login_status(&app, "admin@a.test").await, 401, "and no new one can start");

    let (s, u) = patch_active(&app, &staff, w.a.admin, true).await;
    assert_eq!(s, 200);
    assert_eq!(u["active"], true);
    assert_eq!(me(&victim).await.unwrap().status(), 401, "old sessions stay ended");
    assert_eq!(login_status(&app, "admin@a.test").await, 201, "signing in works again");

    let actions: Vec<String> = app
        .query_strings("SELECT action FROM audit_log WHERE action LIKE 'user.%' ORDER BY at", vec![], &["action"])
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(actions, ["user.deactivate", "user.reactivate"]);
    app.stop().await;
}

#[tokio::test]
async fn only_the_right_people_may_switch_accounts_off() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let admin = app.token_for(w.admin).await;
    let staff = app.token_for(w.staff).await;
    let client = app.token_for(w.a.admin).await;

    assert_eq!(patch_active(&app, &staff, w.admin, false).await.0, 403, "staff cannot deactivate an admin");
    assert_eq!(patch_active(&app, &admin, w.owner, false).await.0, 403, "an admin cannot deactivate the owner");
    assert_eq!(patch_active(&app, &owner, w.owner, false).await.0, 403, "nobody deactivates themselves");
    assert_eq!(patch_active(&app, &client, w.a.viewer, false).await.0, 404, "client users cannot reach accounts");
    assert_eq!(patch_active(&app, &owner, uuid::Uuid::now_v7(), false).await.0, 404);
    let (s, e) = patch_active(&app, &owner, "not-an-id", false).await;
    assert!(s == 404 || s == 400, "{s} {e}");
    let res = api()
        .patch(app.url(&format!("/api/v1/users/{}", w.staff)))
        .bearer_auth(&owner)
        .json(&json!({"active": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // Nothing changed for anyone.
    for email in ["owner@agency.test", "admin@agency.test", "staff@agency.test", "viewer@a.test"] {
        assert_eq!(login_status(&app, email).await, 201, "{email} still active");
    }
    assert_eq!(patch_active(&app, &admin, w.staff, false).await.0, 200, "an admin may deactivate staff");
    app.stop().await;
}

#[tokio::test]
async fn client_page_deactivates_a_portal_user() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (c, csrf) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    let page = c.get(app.url(&format!("/staff/clients/{}", w.a.id))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("/staff/users/{}/active", w.a.viewer)), "a Deactivate button per user");
    let res = c
        .post(app.url(&format!("/staff/users/{}/active", w.a.viewer)))
        .form(&[("_csrf", csrf.as_str()), ("active", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = c.get(app.url(&format!("/staff/clients/{}?notice=deactivated", w.a.id))).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("inactive"));
    assert!(page.contains("Reactivate"));
    assert_eq!(login_status(&app, "viewer@a.test").await, 401);
    app.stop().await;
}

#[tokio::test]
async fn own_sessions_and_password_through_the_api() {
    // SEC-SESS-3, SEC-AUTH-3 (a password change needs the current password)
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let c = api();
    let other = app.token_for(w.a.admin).await;
    let me = app.token_for(w.a.admin).await;
    let (s, list) = {
        let r = c.get(app.url("/api/v1/sessions")).bearer_auth(&me).send().await.unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(s, 200);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|i| i["current"] == true).count(), 1);
    let other_id = items.iter().find(|i| i["current"] == false).unwrap()["id"].as_str().unwrap().to_string();
    let del = app.url(&format!("/api/v1/sessions/{other_id}"));
    assert_eq!(c.delete(&del).bearer_auth(&me).send().await.unwrap().status(), 204);
    assert_eq!(c.get(app.url("/api/v1/me")).bearer_auth(&other).send().await.unwrap().status(), 401);
    assert_eq!(c.delete(&del).bearer_auth(&me).send().await.unwrap().status(), 404, "already ended");

    let pw = app.url("/api/v1/me/password");
    let wrong = c
        .post(&pw)
        .bearer_auth(&me)
        .json(&json!({"current_password": "not it at all", "new_password": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    assert!(matches!(wrong.status().as_u16(), 401 | 403 | 422), "{}", wrong.status());
    let weak = c
        .post(&pw)
        .bearer_auth(&me)
        .json(&json!({"current_password": PASSWORD, "new_password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 422, "a common password is refused");
    let ok = c
        .post(&pw)
        .bearer_auth(&me)
        .json(&json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(c.get(app.url("/api/v1/me")).bearer_auth(&me).send().await.unwrap().status(), 401, "sessions end");
    let login = c
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "admin@a.test", "password": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 201);
    app.stop().await;
}

#[tokio::test]
async fn the_audit_api_pages_through_the_log_for_owners_and_admins() {
    // SEC-DATA-1
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let c = api();
    let owner = app.token_for(w.owner).await;
    let (s, first) = {
        let r = c.get(app.url("/api/v1/audit?limit=3")).bearer_auth(&owner).send().await.unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(s, 200);
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().expect("more pages").to_string();
    let second: Value = c
        .get(app.url(&format!("/api/v1/audit?limit=3&cursor={cursor}")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids = |v: &Value| v["items"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect::<Vec<_>>();
    assert!(ids(&first).iter().all(|i| !ids(&second).contains(i)), "pages do not overlap");

    let of_a: Value = c
        .get(app.url(&format!("/api/v1/audit?client_id={}&limit=200", w.a.id)))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = of_a["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["client_id"] == w.a.id.to_string()));
    assert!(items.iter().any(|i| i["action"] == "comment.create"));

    let staff = app.token_for(w.staff).await;
    assert_eq!(c.get(app.url("/api/v1/audit")).bearer_auth(&staff).send().await.unwrap().status(), 403);
    let bad = c.get(app.url("/api/v1/audit?limit=0")).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(bad.status(), 422);
    app.stop().await;
}

#[tokio::test]
async fn user_names_show_a_client_user_only_staff_and_their_own_client() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let everyone = [w.owner, w.staff, w.a.admin, w.a.viewer, w.b.admin, w.b.viewer];
    let as_a = app.store.user_names(&app.actor(w.a.viewer).await, &everyone).await.unwrap();
    let mut seen: Vec<_> = as_a.keys().copied().collect();
    seen.sort();
    let mut expected = vec![w.owner, w.staff, w.a.admin, w.a.viewer];
    expected.sort();
    assert_eq!(seen, expected, "client A's viewer gets no name of client B's people");
    let as_staff = app.store.user_names(&app.actor(w.staff).await, &everyone).await.unwrap();
    assert_eq!(as_staff.len(), everyone.len(), "staff see every name");
    let as_finance = app.store.user_names(&app.actor(w.b.finance).await, &everyone).await.unwrap();
    assert!(as_finance.contains_key(&w.b.admin) && !as_finance.contains_key(&w.a.admin));
}
