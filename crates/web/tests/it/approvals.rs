//! Approvals over the API, end to end: staff request approval of a file version or a task from
//! named client admins; the approver approves (a sign-off that never changes), requests changes
//! (comment required) or rejects; a new file version reopens a review that is not approved; who
//! may decide, who may see what (other clients, staff-only files, finance), and the open list.

use crate::common::*;
use atrium_core::ids::UserId;
use atrium_core::model::Role;
use serde_json::{Value, json};

/// Asserts a 422 naming `field`.
#[track_caller]
fn assert_invalid(status: u16, v: &Value, field: &str, what: &str) {
    assert_eq!(status, 422, "{what}: {v}");
    let m = v["error"]["message"].as_str().unwrap_or_default();
    assert!(m.starts_with(&format!("{field}:")), "{what}: names `{field}`: {m}");
}

async fn request(
    app: &TestApp,
    token: &str,
    subject_type: &str,
    subject_id: &str,
    approvers: &[UserId],
) -> (u16, Value) {
    let ids: Vec<String> = approvers.iter().map(ToString::to_string).collect();
    call(
        app,
        token,
        "POST",
        "/approvals",
        Some(json!({"subject_type": subject_type, "subject_id": subject_id, "approver_ids": ids})),
    )
    .await
}

async fn decide(app: &TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    call(app, token, "POST", &format!("/approvals/{id}/decision"), Some(body)).await
}

fn actions(a: &Value) -> Vec<(String, Value, String)> {
    a["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["version"].clone(),
                e["comment"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn sha_of(app: &TestApp, token: &str, file: &str) -> String {
    let (s, f) = call(app, token, "GET", &format!("/files/{file}"), None).await;
    assert_eq!(s, 200, "{f}");
    f["sha256"].as_str().expect("sha").to_string()
}

#[tokio::test]
async fn an_approved_file_version_has_a_sign_off_that_never_changes() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let owner = app.actor(w.owner).await;
    let file = upload(&app, &owner, w.a.project, None, "Logo final.txt", b"logo v1").await.to_string();
    let v1_sha = sha_of(&app, &staff, &file).await;

    let (s, a) = call(
        &app,
        &staff,
        "POST",
        "/approvals",
        Some(json!({"subject_type": "file", "subject_id": file, "approver_ids": [w.a.admin.to_string()], "due_date": "2026-12-01"})),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["status"], "open");
    assert_eq!(a["version"], 1);
    assert_eq!(a["sha256"], v1_sha.as_str());
    assert_eq!(a["subject_name"], "Logo final.txt");
    assert_eq!(a["due_date"], "2026-12-01");
    assert_eq!(a["approver_ids"], json!([w.a.admin.to_string()]));
    assert!(a["sign_off"].is_null());
    let id = a["id"].as_str().unwrap().to_string();
    app.run_jobs().await;

    // The approver is told, with a link to the approval on their side.
    let notes = app
        .store
        .notifications(&app.actor(w.a.admin).await, atrium_store::paging::PageRequest { limit: 50, cursor: None })
        .await
        .unwrap();
    let n = notes.items.iter().find(|n| n.subject_id == id).expect("notified");
    assert_eq!(n.kind.as_str(), "approval_requested");
    assert_eq!(n.url, format!("/portal/approvals/{id}"));

    let before = chrono::Utc::now();
    let (s, a) = decide(&app, &admin, &id, json!({"decision": "approved", "comment": "Looks great"})).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["status"], "approved");
    let sign_off = a["sign_off"].clone();
    assert_eq!(sign_off["name"], "Admina Person");
    assert_eq!(sign_off["user_id"], w.a.admin.to_string());
    assert_eq!(sign_off["version"], 1);
    assert_eq!(sign_off["sha256"], v1_sha.as_str());
    let at: chrono::DateTime<chrono::Utc> = serde_json::from_value(sign_off["at"].clone()).unwrap();
    assert!(at >= before - chrono::Duration::seconds(1) && at <= chrono::Utc::now());
    app.run_jobs().await;

    // The staff member who asked is told of the decision, with a link on the staff side.
    let notes = app
        .store
        .notifications(&app.actor(w.staff).await, atrium_store::paging::PageRequest { limit: 50, cursor: None })
        .await
        .unwrap();
    let n = notes.items.iter().find(|n| n.subject_id == id && n.kind.as_str() == "approval_decided").expect("told");
    assert_eq!(n.url, format!("/staff/approvals/{id}"));
    assert_eq!(n.text, "Admina Person approved Logo final.txt: Looks great");
    // Nobody else on staff is told.
    let owner_notes = app
        .store
        .notifications(&app.actor(w.owner).await, atrium_store::paging::PageRequest { limit: 50, cursor: None })
        .await
        .unwrap();
    assert!(!owner_notes.items.iter().any(|n| n.kind.as_str() == "approval_decided"));

    // A later version leaves the approved review and its sign-off alone.
    upload(&app, &owner, w.a.project, None, "Logo final.txt", b"logo v2").await;
    let (s, after) = call(&app, &staff, "GET", &format!("/approvals/{id}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(after["status"], "approved");
    assert_eq!(after["version"], 1);
    assert_eq!(after["sha256"], v1_sha.as_str());
    assert_eq!(after["sign_off"], sign_off);
    assert_eq!(
        actions(&after).iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
        ["requested", "approved"],
        "no reopening of an approved review"
    );
    // A signed-off approval is final.
    let (s, v) = decide(&app, &admin, &id, json!({"decision": "rejected"})).await;
    assert_eq!(s, 409, "{v}");
    let (_, again) = call(&app, &staff, "GET", &format!("/approvals/{id}"), None).await;
    assert_eq!(again["sign_off"], sign_off);
    app.stop().await;
}

#[tokio::test]
async fn requested_changes_need_a_comment_and_a_new_version_reopens_the_review() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let owner = app.actor(w.owner).await;
    let file = upload(&app, &owner, w.a.project, None, "Brochure.txt", b"draft 1").await.to_string();
    let (s, a) = request(&app, &staff, "file", &file, &[w.a.admin]).await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();

    let (s, v) = decide(&app, &admin, &id, json!({"decision": "changes_requested"})).await;
    assert_invalid(s, &v, "comment", "changes without a comment");
    let (s, v) = decide(&app, &admin, &id, json!({"decision": "changes_requested", "comment": "   "})).await;
    assert_invalid(s, &v, "comment", "a blank comment");
    let (s, v) =
        decide(&app, &admin, &id, json!({"decision": "changes_requested", "comment": "x".repeat(20_001)})).await;
    assert_invalid(s, &v, "comment", "a comment too long");
    let (s, a) = decide(&app, &admin, &id, json!({"decision": "changes_requested", "comment": "Bigger logo"})).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["status"], "changes_requested");

    // Staff upload version 2: the review reopens on it.
    upload(&app, &owner, w.a.project, None, "Brochure.txt", b"draft 2").await;
    app.run_jobs().await;
    let v2_sha = sha_of(&app, &staff, &file).await;
    let (s, a) = call(&app, &admin, "GET", &format!("/approvals/{id}"), None).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["status"], "open");
    assert_eq!(a["version"], 2);
    assert_eq!(a["sha256"], v2_sha.as_str());
    assert_eq!(
        actions(&a),
        vec![
            ("requested".to_string(), json!(1), String::new()),
            ("changes_requested".to_string(), json!(1), "Bigger logo".to_string()),
            ("reopened".to_string(), json!(2), String::new()),
        ]
    );
    assert_eq!(a["history"][1]["user_name"], "Admina Person");
    // Approving now signs off version 2.
    let (s, a) = decide(&app, &admin, &id, json!({"decision": "approved"})).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["sign_off"]["version"], 2);
    assert_eq!(a["sign_off"]["sha256"], v2_sha.as_str());
    app.stop().await;
}

#[tokio::test]
async fn only_a_named_approver_decides_and_may_reject() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let id = w.a.approval.to_string();
    let second = app
        .store
        .operator()
        .create_user(atrium_store::people::NewUser {
            email: "second@a.test".into(),
            name: "Second Admin".into(),
            password_hash: None,
            role: Role::ClientAdmin,
            client_id: Some(w.a.id),
        })
        .await
        .unwrap();
    let body = json!({"decision": "approved"});
    for (user, status, who) in [
        (w.a.viewer, 403, "a viewer"),
        (second, 403, "a client admin who is not an approver"),
        (w.staff, 403, "staff"),
        (w.a.finance, 404, "finance (sees no project work)"),
        (w.b.admin, 404, "another client's admin"),
    ] {
        let t = app.token_for(user).await;
        let (s, v) = decide(&app, &t, &id, body.clone()).await;
        assert_eq!(s, status, "{who}: {v}");
    }
    let admin = app.token_for(w.a.admin).await;
    let (s, v) = decide(&app, &admin, &id, json!({"decision": "maybe"})).await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = decide(&app, &admin, &id, json!({"decision": "rejected", "signed_by": "me"})).await;
    assert_eq!(s, 422, "unknown fields are refused: {v}");
    let (s, a) = decide(&app, &admin, &id, json!({"decision": "rejected", "comment": "Wrong brief"})).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["status"], "rejected");
    assert!(a["sign_off"].is_null());
    assert_eq!(actions(&a).last().unwrap().0, "rejected");
    app.stop().await;
}

#[tokio::test]
async fn staff_only_files_and_other_clients_stay_hidden() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let b_admin = app.token_for(w.b.admin).await;

    // A staff-only file is never sent to a client.
    let (s, v) = request(&app, &staff, "file", &w.a.staff_file.to_string(), &[w.a.admin]).await;
    assert_invalid(s, &v, "subject_id", "a staff-only file");

    // Client B sees nothing of A's approval.
    let (s, _) = call(&app, &b_admin, "GET", &format!("/approvals/{}", w.a.approval), None).await;
    assert_eq!(s, 404);
    let (s, list) = call(&app, &b_admin, "GET", "/approvals", None).await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![w.b.approval.to_string()]);
    // Finance users see none; viewers of the client may read.
    let finance = app.token_for(w.a.finance).await;
    let (_, list) = call(&app, &finance, "GET", "/approvals", None).await;
    assert_eq!(list["items"], json!([]));
    let viewer = app.token_for(w.a.viewer).await;
    let (s, _) = call(&app, &viewer, "GET", &format!("/approvals/{}", w.a.approval), None).await;
    assert_eq!(s, 200);

    // A file moved into a staff-only folder takes its approval out of the client's sight.
    let (s, folders) = call(&app, &staff, "GET", &format!("/projects/{}/folders", w.a.project), None).await;
    assert_eq!(s, 200);
    let internal =
        folders["items"].as_array().unwrap().iter().find(|f| f["staff_only"] == true).expect("staff-only folder")["id"]
            .clone();
    let (s, v) =
        call(&app, &staff, "PATCH", &format!("/files/{}", w.a.file), Some(json!({"folder_id": internal}))).await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = call(&app, &admin, "GET", &format!("/approvals/{}", w.a.approval), None).await;
    assert_eq!(s, 404);
    let (_, list) = call(&app, &admin, "GET", "/approvals", None).await;
    assert_eq!(list["items"], json!([]));
    let (s, _) = call(&app, &staff, "GET", &format!("/approvals/{}", w.a.approval), None).await;
    assert_eq!(s, 200, "staff still see it");
    app.stop().await;
}

#[tokio::test]
async fn the_open_list_of_a_client_admin_is_exactly_theirs() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let owner = app.actor(w.owner).await;
    let f2 = upload(&app, &owner, w.a.project, None, "Second.txt", b"two").await.to_string();
    let f3 = upload(&app, &owner, w.a.project, None, "Third.txt", b"three").await.to_string();
    let (_, a2) = request(&app, &staff, "file", &f2, &[w.a.admin]).await;
    let (_, a3) = request(&app, &staff, "file", &f3, &[w.a.admin]).await;
    let (s, _) = decide(&app, &admin, a3["id"].as_str().unwrap(), json!({"decision": "approved"})).await;
    assert_eq!(s, 201);

    let (s, list) = call(&app, &admin, "GET", "/approvals?status=open", None).await;
    assert_eq!(s, 200, "{list}");
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![a2["id"].as_str().unwrap().to_string(), w.a.approval.to_string()], "newest first");
    let (_, all) = call(&app, &admin, "GET", "/approvals", None).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let (s, v) = call(&app, &admin, "GET", "/approvals?status=pending", None).await;
    assert_eq!(s, 422, "{v}");

    // What Home and My work show.
    let mine = app.store.approvals_for_user_open(&app.actor(w.a.admin).await).await.unwrap();
    assert_eq!(mine.len(), 2);
    assert!(app.store.approvals_for_user_open(&app.actor(w.a.viewer).await).await.unwrap().is_empty());
    let requested = app.store.approvals_for_user_open(&app.actor(w.staff).await).await.unwrap();
    assert_eq!(requested.len(), 1, "staff's own open requests");
    // Staff see every client's.
    let (_, staff_list) = call(&app, &staff, "GET", "/approvals?status=open", None).await;
    let staff_ids: Vec<&str> =
        staff_list["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert!(staff_ids.contains(&w.b.approval.to_string().as_str()));
    app.stop().await;
}

#[tokio::test]
async fn a_task_deliverable_can_be_approved() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let (s, a) = request(&app, &staff, "task", &w.a.task.to_string(), &[w.a.admin]).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["subject_type"], "task");
    assert_eq!(a["subject_name"], w.a.task_title.as_str());
    assert!(a["version"].is_null() && a["sha256"].is_null());
    let (s, a) = decide(&app, &admin, a["id"].as_str().unwrap(), json!({"decision": "approved"})).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["sign_off"]["name"], "Admina Person");
    assert!(a["sign_off"]["version"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn approvers_must_be_admins_of_the_subjects_client() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let file = w.a.file.to_string();
    for (approvers, what) in [
        (vec![w.b.admin], "another client's admin"),
        (vec![w.a.viewer], "a viewer"),
        (vec![w.a.finance], "a finance user"),
        (vec![w.staff], "staff"),
        (vec![UserId::new()], "nobody"),
        (vec![], "no approver"),
    ] {
        let (s, v) = request(&app, &staff, "file", &file, &approvers).await;
        assert_invalid(s, &v, "approver_ids", what);
    }
    let (s, v) = request(&app, &staff, "file", "not-an-id", &[w.a.admin]).await;
    assert_invalid(s, &v, "subject_id", "a malformed id");
    let (s, v) = call(
        &app,
        &staff,
        "POST",
        "/approvals",
        Some(json!({"subject_type": "file", "subject_id": file, "approver_ids": ["x"]})),
    )
    .await;
    assert_invalid(s, &v, "approver_ids", "a malformed approver id");
    let (s, v) = call(
        &app,
        &staff,
        "POST",
        "/approvals",
        Some(json!({"subject_type": "invoice", "subject_id": file, "approver_ids": [w.a.admin.to_string()]})),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    // Clients do not request approvals; another client's file is not found.
    let admin = app.token_for(w.a.admin).await;
    let (s, _) = request(&app, &admin, "file", &file, &[w.a.admin]).await;
    assert_eq!(s, 403);
    let (s, _) = request(&app, &admin, "file", &w.b.file.to_string(), &[w.b.admin]).await;
    assert_eq!(s, 404);
    app.stop().await;
}

#[tokio::test]
async fn home_my_work_and_the_approval_pages_show_and_take_decisions() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let owner = app.actor(w.owner).await;
    let file = upload(&app, &owner, w.a.project, None, "Poster.txt", b"poster").await.to_string();
    let (s, a) = request(&app, &staff, "file", &file, &[w.a.admin]).await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    let get = |user: UserId, path: String| {
        let app = &app;
        async move {
            let c = app.browser_creds(Some(user)).await;
            Answer::of(api().get(app.url(&path)).header("cookie", c.cookie).send().await.unwrap()).await
        }
    };
    // The approver's Home lists it; the staff member who asked sees it in My work.
    let home = get(w.a.admin, "/portal".into()).await;
    assert!(home.body.contains(&format!("/portal/approvals/{id}")), "{}", home.body);
    let work = get(w.staff, "/staff".into()).await;
    assert!(work.body.contains(&format!("/staff/approvals/{id}")) && work.body.contains("Poster.txt"));
    // The viewer reads the page without a form; the approver gets the form.
    let page = get(w.a.viewer, format!("/portal/approvals/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("/decision"));
    let page = get(w.a.admin, format!("/portal/approvals/{id}")).await;
    assert!(page.body.contains(&format!("/portal/approvals/{id}/decision")));
    let b_page = get(w.b.admin, format!("/portal/approvals/{id}")).await;
    assert_eq!(b_page.status, 404);
    // Deciding through the form.
    let c = app.browser_creds(Some(w.a.admin)).await;
    let res = api()
        .post(app.url(&format!("/portal/approvals/{id}/decision")))
        .header("cookie", &c.cookie)
        .form(&[("decision", "approved"), ("comment", ""), ("_csrf", c.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let page = get(w.staff, format!("/staff/approvals/{id}")).await;
    assert!(page.body.contains("Approved by Admina Person"), "{}", page.body);
    let home = get(w.a.admin, "/portal".into()).await;
    assert!(!home.body.contains(&format!("/portal/approvals/{id}")), "no longer outstanding");
    app.stop().await;
}
