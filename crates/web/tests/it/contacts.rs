//! Client contacts: staff keep an address book per client; client users never reach it.

use crate::common::*;
use serde_json::{Value, json};

async fn json_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json::<Value>().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn staff_add_list_and_remove_contacts_and_every_change_is_audited() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let c = api();
    let staff = app.token_for(w.staff).await;
    let url = app.url(&format!("/api/v1/clients/{}/contacts", w.a.id));

    let (s, made) = json_of(
        c.post(&url)
            .bearer_auth(&staff)
            .json(&json!({"name": "Zoe Contact", "email": "Zoe@A.test", "title": "Marketing lead"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(made["email"], "zoe@a.test", "emails are normalised");
    assert_eq!(made["phone"], "");
    let (s, _) = json_of(
        c.post(&url)
            .bearer_auth(&staff)
            .json(&json!({"name": "Adam Phone", "phone": "+1 555 0100"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201);

    let (s, list) = json_of(c.get(&url).bearer_auth(&staff).send().await.unwrap()).await;
    assert_eq!(s, 200);
    let names: Vec<_> = list["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Adam Phone", "Zoe Contact"], "sorted by name");

    // Another client's list is its own.
    let other = app.url(&format!("/api/v1/clients/{}/contacts", w.b.id));
    let (_, list_b) = json_of(c.get(&other).bearer_auth(&staff).send().await.unwrap()).await;
    assert_eq!(list_b["items"].as_array().unwrap().len(), 0);

    let id = made["id"].as_str().unwrap();
    let del = app.url(&format!("/api/v1/contacts/{id}"));
    assert_eq!(c.delete(&del).bearer_auth(&staff).send().await.unwrap().status(), 204);
    assert_eq!(c.delete(&del).bearer_auth(&staff).send().await.unwrap().status(), 404, "already gone");

    let actions: Vec<String> = app
        .query_strings("SELECT action FROM audit_log WHERE subject_type = 'contact' ORDER BY at", vec![], &["action"])
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(actions, ["contact.create", "contact.create", "contact.delete"]);
    app.stop().await;
}

#[tokio::test]
async fn contact_input_is_validated() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let c = api();
    let staff = app.token_for(w.staff).await;
    let url = app.url(&format!("/api/v1/clients/{}/contacts", w.a.id));
    for (body, field) in [
        (json!({"name": "  "}), "name"),
        (json!({"name": "X", "email": "not-an-email"}), "email"),
        (json!({"name": "X", "phone": "1".repeat(65)}), "phone"),
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"name": "X", "client_id": w.b.id.to_string()}), "client_id"),
    ] {
        let (s, e) = json_of(c.post(&url).bearer_auth(&staff).json(&body).send().await.unwrap()).await;
        assert_eq!(s, 422, "{body}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(field), "{body}: {e}");
    }
    let bogus = app.url("/api/v1/clients/00000000-0000-0000-0000-000000000000/contacts");
    let (s, _) = json_of(c.post(&bogus).bearer_auth(&staff).json(&json!({"name": "X"})).send().await.unwrap()).await;
    assert_eq!(s, 404);
    app.stop().await;
}

#[tokio::test]
async fn client_users_never_reach_contacts() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let c = api();
    let staff = app.token_for(w.staff).await;
    let own = app.url(&format!("/api/v1/clients/{}/contacts", w.a.id));
    let (_, made) =
        json_of(c.post(&own).bearer_auth(&staff).json(&json!({"name": "Secret Person"})).send().await.unwrap()).await;
    for user in [w.a.admin, w.a.finance, w.a.viewer] {
        let t = app.token_for(user).await;
        let res = c.get(&own).bearer_auth(&t).send().await.unwrap();
        assert_eq!(res.status(), 404);
        assert!(!res.text().await.unwrap().contains("Secret Person"));
        let res = c.post(&own).bearer_auth(&t).json(&json!({"name": "Sneaky"})).send().await.unwrap();
        assert_eq!(res.status(), 404);
        let del = app.url(&format!("/api/v1/contacts/{}", made["id"].as_str().unwrap()));
        assert_eq!(c.delete(&del).bearer_auth(&t).send().await.unwrap().status(), 404);
    }
    let (_, list) = json_of(c.get(&own).bearer_auth(&staff).send().await.unwrap()).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "nothing was added or removed by client users");
    app.stop().await;
}

#[tokio::test]
async fn staff_page_adds_and_shows_contacts_inert() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (c, csrf) = sign_in(&app, "owner@agency.test", PASSWORD).await;
    let res = c
        .post(app.url(&format!("/staff/clients/{}/contacts", w.a.id)))
        .form(&[("_csrf", csrf.as_str()), ("name", "<script>alert(1)</script>"), ("email", ""), ("title", "CTO")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = c.get(app.url(&format!("/staff/clients/{}", w.a.id))).send().await.unwrap().text().await.unwrap();
    let i = page.find("alert(1)").expect("the name is shown");
    assert!(
        page[i - 12..i].contains("script&#62;") || page[i - 12..i].contains("script&gt;"),
        "{}",
        &page[i - 20..i + 20]
    );
    assert!(!page.contains("<script>alert(1)"));
    assert!(page.contains("CTO"));
    app.stop().await;
}
