//! Staff pages that change a client: rename, archive and restore.

mod common;

use common::*;

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
