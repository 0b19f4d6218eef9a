//! SEC-DATA-2: deleting a client is soft first (hidden from everyone, its people out, restorable),
//! purging is explicit and removes every row of it.

use crate::common::*;
use serde_json::{Value, json};

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = api().get(app.url(path)).bearer_auth(token).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn login(app: &TestApp, email: &str) -> u16 {
    let r = api()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

#[tokio::test]
async fn a_deleted_client_disappears_for_everyone_and_comes_back_on_restore() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let staff = app.token_for(w.staff).await;
    let b_admin = app.token_for(w.b.admin).await;
    let c = api();

    // Only owners and admins may delete; client users cannot even see the route.
    let del = app.url(&format!("/api/v1/clients/{}", w.b.id));
    assert_eq!(c.delete(&del).bearer_auth(&staff).send().await.unwrap().status(), 403);
    assert_eq!(c.delete(&del).bearer_auth(app.token_for(w.a.admin).await).send().await.unwrap().status(), 404);
    assert_eq!(c.delete(&del).bearer_auth(&owner).send().await.unwrap().status(), 204);
    assert_eq!(c.delete(&del).bearer_auth(&owner).send().await.unwrap().status(), 404, "already deleted");

    // B's people are out at once and cannot come back in.
    assert_eq!(get(&app, &b_admin, "/api/v1/me").await.0, 401);
    assert_eq!(login(&app, "admin@b.test").await, 401);
    assert_eq!(login(&app, "admin@a.test").await, 201, "other clients are untouched");

    // Staff no longer see B or its work anywhere.
    assert_eq!(get(&app, &staff, &format!("/api/v1/clients/{}", w.b.id)).await.0, 404);
    assert_eq!(get(&app, &staff, &format!("/api/v1/projects/{}", w.b.project)).await.0, 404);
    assert_eq!(get(&app, &staff, &format!("/api/v1/tasks/{}", w.b.task)).await.0, 404);
    let (_, projects) = get(&app, &staff, "/api/v1/projects?limit=200").await;
    let ids: Vec<&str> = projects["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&w.b.project.to_string().as_str()) && ids.contains(&w.a.project.to_string().as_str()));
    let (_, mine) = get(&app, &staff, "/api/v1/tasks?assignee=me&include_done=true").await;
    assert!(mine["items"].as_array().unwrap().iter().all(|t| t["project_id"] != w.b.project.to_string()));

    // The owner finds it under "Deleted" and restores it.
    let (browser, _) = sign_in(&app, "owner@agency.test", PASSWORD).await;
    let list = browser.get(app.url("/staff/clients")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&format!("/staff/clients/{}/restore", w.b.id)));
    let (s, restored) = {
        let r = c.post(app.url(&format!("/api/v1/clients/{}/restore", w.b.id))).bearer_auth(&owner).send().await;
        let r = r.unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(s, 200, "{restored}");
    assert_eq!(restored["name"], w.b.name);
    assert_eq!(get(&app, &staff, &format!("/api/v1/projects/{}", w.b.project)).await.0, 200);
    assert_eq!(get(&app, &b_admin, "/api/v1/me").await.0, 401, "old sessions stay ended");
    assert_eq!(login(&app, "admin@b.test").await, 201, "B's people can sign in again");

    let actions = app
        .query_strings("SELECT action FROM audit_log WHERE action LIKE 'client.%' ORDER BY at", vec![], &["action"])
        .await;
    let actions: Vec<&str> = actions.iter().map(|r| r[0].as_str()).collect();
    assert!(actions.ends_with(&["client.delete", "client.restore"]), "{actions:?}");
    app.stop().await;
}

#[tokio::test]
async fn purge_needs_a_deleted_client_and_removes_every_row_of_it() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let count = |table: &'static str, column: &'static str, id: String| {
        let app = &app;
        async move {
            let sql = format!("SELECT CAST(COUNT(*) AS TEXT) AS n FROM {table} WHERE {column} = ?");
            app.query_strings(&sql, vec![uuid::Uuid::parse_str(&id).unwrap().into()], &["n"]).await[0][0].clone()
        }
    };
    assert!(app.store.operator().purge_client(w.b.id).await.is_err(), "a live client cannot be purged");
    assert_eq!(count("projects", "client_id", w.b.id.to_string()).await, "1");

    app.store.delete_client(&app.actor(w.owner).await, w.b.id, None).await.unwrap();
    let purged = app.store.operator().purge_client(w.b.id).await.unwrap();
    assert_eq!(purged.client, w.b.name);
    assert_eq!(purged.users, 3);
    assert_eq!(count("clients", "id", w.b.id.to_string()).await, "0");
    assert_eq!(count("projects", "client_id", w.b.id.to_string()).await, "0");
    assert_eq!(count("tasks", "project_id", w.b.project.to_string()).await, "0");
    assert_eq!(count("comments", "task_id", w.b.task.to_string()).await, "0");
    assert_eq!(count("users", "id", w.b.admin.to_string()).await, "0");
    assert_eq!(count("memberships", "client_id", w.b.id.to_string()).await, "0");
    // Client A and the staff are intact.
    assert_eq!(count("projects", "client_id", w.a.id.to_string()).await, "1");
    assert_eq!(count("users", "id", w.staff.to_string()).await, "1");
    assert_eq!(login(&app, "admin@a.test").await, 201);
    let purge_rows =
        app.query_strings("SELECT detail FROM audit_log WHERE action = 'client.purge'", vec![], &["detail"]).await;
    assert_eq!(purge_rows.len(), 1);
    assert!(purge_rows[0][0].contains(&w.b.name));
    app.stop().await;
}

#[tokio::test]
async fn purging_a_client_names_the_stored_files_only_it_used() {
    // SEC-DATA-2: purging removes its blobs too (the CLI deletes what the store names).
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.actor(w.owner).await;
    let only_b = upload(&app, &owner, w.b.project, None, "Only B.txt", b"bytes only client b has").await;
    let shared_text = format!("Brief of client {}", "a");
    // B also holds a copy of A's seeded brief: that blob must survive.
    upload(&app, &owner, w.b.project, None, "Copy of A.txt", shared_text.as_bytes()).await;
    let only_b_sha = app.store.file(&owner, only_b).await.unwrap().sha256;
    let shared_sha = app.store.file(&owner, w.a.file).await.unwrap().sha256;
    app.store.delete_client(&owner, w.b.id, None).await.unwrap();
    let purged = app.store.operator().purge_client(w.b.id).await.unwrap();
    assert!(purged.unreferenced_blobs.contains(&only_b_sha), "{:?}", purged.unreferenced_blobs);
    assert!(!purged.unreferenced_blobs.contains(&shared_sha), "A still uses the shared blob");
    assert!(app.store.blob_referenced(&shared_sha).await.unwrap());
    assert!(!app.store.blob_referenced(&only_b_sha).await.unwrap());
}
