//! Staff pages that change a client: rename, archive and restore.

use crate::common::*;

#[tokio::test]
async fn clients_can_be_renamed_archived_and_restored_from_their_page() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (c, csrf) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    let url = app.url(&format!("/staff/clients/{}", w.a.id));
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("_csrf", csrf.clone())];
        form.extend(fields.into_iter().map(|(k, v)| (k, v.to_string())));
        c.post(&url).form(&form).send()
    };

    assert_eq!(post(vec![("name", "Acme Renamed Ltd")]).await.unwrap().status(), 303);
    assert_eq!(post(vec![("status", "archived")]).await.unwrap().status(), 303);
    let page = c.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Acme Renamed Ltd"));
    assert!(page.contains("Restore client"));

    // Archived clients come after current ones in the list.
    let list = c.get(app.url("/staff/clients")).send().await.unwrap().text().await.unwrap();
    let (a, b) = (list.find("Acme Renamed Ltd").unwrap(), list.find(&w.b.name).unwrap());
    assert!(b < a, "the archived client is listed last");

    assert_eq!(post(vec![("status", "active")]).await.unwrap().status(), 303);
    assert_eq!(post(vec![("name", "  ")]).await.unwrap().status(), 422, "a blank name is refused");
    assert_eq!(post(vec![("status", "deleted")]).await.unwrap().status(), 422, "unknown status");
    let (s, v) = {
        let t = app.token_for(w.staff).await;
        let r = api().get(app.url(&format!("/api/v1/clients/{}", w.a.id))).bearer_auth(t).send().await.unwrap();
        (r.status(), r.json::<serde_json::Value>().await.unwrap())
    };
    assert_eq!(s, 200);
    assert_eq!(v["name"], "Acme Renamed Ltd");
    assert_eq!(v["status"], "active");
    let actions =
        app.query_strings("SELECT action FROM audit_log WHERE action = 'client.update'", vec![], &["action"]).await;
    assert_eq!(actions.len(), 3, "rename, archive and restore are audited");
    app.stop().await;
}

#[tokio::test]
async fn the_activity_log_shows_who_acted_as_whom_to_owners_and_admins_only() {
    // SEC-DATA-1, SEC-AC-4
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (owner, csrf) = sign_in(&app, "owner@agency.test", PASSWORD).await;
    let res = owner
        .post(app.url(&format!("/staff/clients/{}/view-as", w.a.id)))
        .form(&[("_csrf", csrf.as_str()), ("user_id", &w.a.admin.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let portal = owner.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&portal);
    let res = owner.post(app.url("/view-as/exit")).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 303);

    let all = owner.get(app.url("/staff/activity")).send().await.unwrap();
    assert_eq!(all.status(), 200);
    let all = all.text().await.unwrap();
    assert!(all.contains("view_as.start") && all.contains("view_as.stop"), "{all}");
    assert!(all.contains("Olivia Owner"));
    assert!(all.contains(&w.b.name), "the unfiltered log covers every client");

    let of_a = owner.get(app.url(&format!("/staff/activity?client_id={}", w.a.id))).send().await.unwrap();
    let of_a = of_a.text().await.unwrap();
    assert!(of_a.contains(&w.a.name));
    assert!(!of_a.contains(&w.b.project_name) && !of_a.contains(&format!("· {}", w.b.name)), "filtered to A");

    let (staff, _) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    assert_eq!(staff.get(app.url("/staff/activity")).send().await.unwrap().status(), 403);
    let (client, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    assert_eq!(client.get(app.url("/staff/activity")).send().await.unwrap().status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn the_composer_names_its_audience_and_clients_only_get_a_reply() {
    // Issue 13 part 8: "Send reply to <client>" or "Add internal note", chosen before sending.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let get = |c: reqwest::Client, path: String| {
        let url = app.url(&path);
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let (staff, _) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    let task = get(staff.clone(), format!("/staff/tasks/{}", w.a.task)).await;
    assert!(task.contains(&format!("Send reply to {}", w.a.name)), "the reply button names the client");
    assert!(task.contains("Add internal note") && task.contains("Internal — the client never sees this"));
    assert!(task.contains(r#"name="visibility" value="reply" checked"#), "a reply unless staff choose a note");
    let to_client = get(staff.clone(), format!("/staff/projects/{}/messages", w.a.project)).await;
    assert!(to_client.contains(&format!("Send to {}", w.a.name)));
    assert!(!to_client.contains("Add internal message"));
    let internal = get(staff, format!("/staff/projects/{}/messages?channel=staff", w.a.project)).await;
    assert!(internal.contains("Add internal message") && internal.contains("Internal — the client never sees this"));
    assert!(internal.contains(r#"class="stack composer internal""#), "the staff channel's composer looks like a note");

    let (client, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let theirs = get(client.clone(), format!("/portal/tasks/{}", w.a.task)).await;
    assert!(theirs.contains("Send reply"));
    assert!(!theirs.contains(r#"name="visibility""#) && !theirs.contains("internal note"), "no note mode for clients");
    let messages = get(client, format!("/portal/projects/{}/messages", w.a.project)).await;
    assert!(messages.contains("Send message") && !messages.contains("never sees this"));
    app.stop().await;
}
