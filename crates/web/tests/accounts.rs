//! Deactivating and reactivating accounts (SEC-AUTH-6): who may, and that it bites at once.

mod common;

use common::*;
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
