//! Billing end to end: invoices from draft to paid, who sees what, the PDF and the CSV export,
//! gap-free numbering under 50 concurrent creations, concurrent payments that cannot overpay,
//! immutability of sent invoices (void and re-issue), the numbering settings, and the pages.
//! Every test runs on SQLite and, with `ATRIUM_TEST_DB=postgres`, on PostgreSQL.

use std::collections::BTreeSet;

use crate::common::*;
use serde_json::{Value, json};

fn three_lines(client: &str) -> Value {
    json!({
        "client_id": client,
        "currency": "EUR",
        "issue_date": "2026-03-01",
        "due_date": "2099-03-31",
        "notes": "Thank you for your business.",
        "payment_instructions": "IBAN DE89 3704 0044 0532 0130 00",
        "lines": [
            {"description": "Design sprint", "quantity": "1.5", "unit_price": "1200.00", "tax_rate": "20"},
            {"description": "Copywriting", "quantity": "3", "unit_price": "33.333", "tax_rate": "7"},
            {"description": "Hosting (10% off)", "quantity": "1", "unit_price": "10.005", "tax_rate": "7", "discount": "10"}
        ]
    })
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, inv) = call(app, token, "POST", "/invoices", Some(body)).await;
    assert_eq!(status, 201, "{inv}");
    inv
}

fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF lopdf can read");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("text")
}

#[tokio::test]
async fn an_invoice_from_draft_to_paid_as_staff_and_client_see_it() {
    // SEC-DATA-0, SEC-DATA-1, SEC-AC-2
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let finance = app.token_for(w.a.finance).await;
    let viewer = app.token_for(w.a.viewer).await;
    let other = app.token_for(w.b.finance).await;

    let inv = create(&app, &staff, three_lines(&w.a.id.to_string())).await;
    let id = inv["id"].as_str().unwrap().to_string();
    // The seed issued INV-0001 and INV-0002.
    assert_eq!(inv["number"], "INV-0003");
    assert_eq!(inv["status"], "draft");
    // 1.5 × 1200.00 = 1800.00 @20%; 3 × 33.333 = 99.999 → 100.00 @7%; 10.005 − 10% = 9.0045 → 9.00 @7%.
    let nets: Vec<&str> = inv["lines"].as_array().unwrap().iter().map(|l| l["net"].as_str().unwrap()).collect();
    assert_eq!(nets, ["1800.00", "100.00", "9.00"]);
    assert_eq!(inv["subtotal"], "1909.00");
    assert_eq!(inv["taxes"][0]["rate"], "7");
    assert_eq!(inv["taxes"][0]["amount"], "7.63");
    assert_eq!(inv["taxes"][1]["amount"], "360.00");
    assert_eq!(inv["tax_total"], "367.63");
    assert_eq!(inv["total"], "2276.63");
    assert_eq!(inv["balance"], "2276.63");
    assert_eq!(inv["overdue"], false);

    // A draft does not exist for the client.
    for t in [&admin, &finance, &viewer, &other] {
        let (s, _) = call(&app, t, "GET", &format!("/invoices/{id}"), None).await;
        assert_eq!(s, 404);
    }
    let (s, sent) = call(&app, &staff, "POST", &format!("/invoices/{id}/send"), None).await;
    assert_eq!((s, sent["status"].as_str()), (200, Some("sent")));
    let (s, _) = call(&app, &staff, "POST", &format!("/invoices/{id}/send"), None).await;
    assert_eq!(s, 409, "sending twice");

    // The client's admin and finance user are told (in the app and by mail), once; nobody else.
    app.run_jobs().await;
    let told = |user| {
        let app = &app;
        let id = id.clone();
        async move {
            let notes = app
                .store
                .notifications(&app.actor(user).await, atrium_store::paging::PageRequest { limit: 50, cursor: None })
                .await
                .unwrap();
            notes.items.into_iter().filter(|n| n.subject_id == id).collect::<Vec<_>>()
        }
    };
    for user in [w.a.admin, w.a.finance] {
        let n = told(user).await;
        assert_eq!(n.len(), 1, "one notification");
        assert_eq!(n[0].kind.as_str(), "invoice_sent");
        assert_eq!(n[0].url, format!("/portal/billing/{id}"));
        assert_eq!(n[0].text, "Invoice INV-0003 for EUR 2,276.63 is due Mar 31, 2099");
    }
    for user in [w.a.viewer, w.b.admin, w.b.finance, w.staff, w.owner] {
        assert!(told(user).await.is_empty(), "{user} is not told");
    }
    let mails: Vec<_> = app.mails().await.into_iter().filter(|m| m.text.contains("INV-0003")).collect();
    let mut to: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    to.sort();
    to.dedup();
    assert_eq!((mails.len(), to.len()), (2, 2), "one mail each to the admin and the finance user: {to:?}");

    // Client admin and finance see it; viewer and another client's users do not.
    for t in [&admin, &finance] {
        let (s, got) = call(&app, t, "GET", &format!("/invoices/{id}"), None).await;
        assert_eq!((s, got["total"].as_str()), (200, Some("2276.63")));
        let (s, list) = call(&app, t, "GET", "/invoices", None).await;
        assert_eq!(s, 200);
        let numbers: Vec<&str> =
            list["items"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap()).collect();
        assert_eq!(numbers, ["INV-0003", "INV-0001"], "their client's issued invoices, newest first");
        let (s, _) = call(
            &app,
            t,
            "POST",
            &format!("/invoices/{id}/payments"),
            Some(json!({"amount": "1", "date": "2026-03-02", "method": "card"})),
        )
        .await;
        assert_eq!(s, 403, "clients do not record payments");
    }
    for t in [&viewer, &other] {
        for path in [format!("/invoices/{id}"), format!("/invoices/{id}/pdf")] {
            assert_eq!(call(&app, t, "GET", &path, None).await.0, 404, "{path}");
        }
    }
    assert_eq!(call(&app, &viewer, "GET", "/invoices", None).await.0, 404, "viewers have no billing");

    // The PDF: a real PDF whose extractable text carries the number, client and total.
    for t in [&staff, &finance] {
        let res = api().get(app.url(&format!("/api/v1/invoices/{id}/pdf"))).bearer_auth(t).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert!(res.headers()["content-disposition"].to_str().unwrap().contains("Invoice INV-0003.pdf"));
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "PDF header");
        let text = pdf_text(&bytes);
        for needle in ["INV-0003", "Northwind Studio", w.a.name.as_str(), "EUR 2,276.63", "Design sprint", "IBAN DE89"]
        {
            assert!(text.contains(needle), "the PDF text contains {needle:?}: {text}");
        }
    }

    // Payments: partial, then an overpayment refused with the balance, then the rest.
    let pay =
        |amount: &str| json!({"amount": amount, "date": "2026-03-10", "method": "bank_transfer", "reference": "TX-1"});
    let (s, p1) = call(&app, &staff, "POST", &format!("/invoices/{id}/payments"), Some(pay("1000.00"))).await;
    assert_eq!((s, p1["status"].as_str(), p1["balance"].as_str()), (201, Some("partially_paid"), Some("1276.63")));
    let (s, e) = call(&app, &staff, "POST", &format!("/invoices/{id}/payments"), Some(pay("1276.64"))).await;
    assert_eq!(s, 422);
    assert_eq!(e["error"]["code"], "overpayment");
    assert!(e["error"]["message"].as_str().unwrap().contains("EUR 1,276.63"), "{e}");
    let (s, p2) = call(&app, &staff, "POST", &format!("/invoices/{id}/payments"), Some(pay("1276.63"))).await;
    assert_eq!((s, p2["status"].as_str(), p2["balance"].as_str()), (201, Some("paid"), Some("0.00")));
    assert_eq!(p2["payments"].as_array().unwrap().len(), 2, "payment history");
    let (s, e) = call(&app, &staff, "POST", &format!("/invoices/{id}/payments"), Some(pay("0.01"))).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("overpayment")));
    let (_, seen) = call(&app, &finance, "GET", &format!("/invoices/{id}"), None).await;
    assert_eq!((seen["status"].as_str(), seen["paid"].as_str()), (Some("paid"), Some("2276.63")));

    // Every change is in the audit log (SEC-DATA-1).
    let actions = app
        .query_strings(
            "SELECT action FROM audit_log WHERE subject_id = ? ORDER BY at",
            vec![id.clone().into()],
            &["action"],
        )
        .await;
    let actions: Vec<&str> = actions.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(actions, ["invoice.create", "invoice.send", "payment.record", "payment.record"]);
    app.stop().await;
}

#[tokio::test]
async fn an_invoice_notification_mail_says_open_the_invoice_and_links_to_it() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let inv = create(&app, &staff, three_lines(&w.a.id.to_string())).await;
    let id = inv["id"].as_str().unwrap().to_string();
    let (s, _) = call(&app, &staff, "POST", &format!("/invoices/{id}/send"), None).await;
    assert_eq!(s, 200);
    app.run_jobs().await;
    let mails: Vec<_> =
        app.mails().await.into_iter().filter(|m| m.to == "admin@a.test" && m.text.contains("INV-0003")).collect();
    assert_eq!(mails.len(), 1, "one mail to the client's admin");
    let link = format!("{PUBLIC_URL}/portal/billing/{id}");
    let mail = &mails[0];
    assert!(mail.text.contains(&format!("Open the invoice:\n{link}")), "{}", mail.text);
    assert!(
        mail.html.contains(&format!("<a href=\"{link}\"")) && mail.html.contains(">Open the invoice</a>"),
        "{}",
        mail.html
    );
    assert!(!mail.text.contains("conversation") && !mail.html.contains("conversation"), "{}", mail.text);
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_creations_get_fifty_consecutive_numbers() {
    // SEC-DATA-0: the number is taken in the invoice's own transaction.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (base, token) = (app.base.clone(), staff.clone());
        let client = if i % 2 == 0 { w.a.id } else { w.b.id };
        tasks.push(tokio::spawn(async move {
            let res = api()
                .post(format!("{base}/api/v1/invoices"))
                .bearer_auth(token)
                .json(&three_lines(&client.to_string()))
                .send()
                .await
                .expect("request");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let mut numbers = BTreeSet::new();
    for t in tasks {
        let (status, inv) = t.await.unwrap();
        assert_eq!(status, 201, "{inv}");
        numbers.insert(inv["number"].as_str().unwrap().to_string());
    }
    let expected: BTreeSet<String> = (3..=52).map(|n| format!("INV-{n:04}")).collect();
    assert_eq!(numbers, expected, "50 distinct, consecutive numbers after the seed's two");
    let (_, s) = call(&app, &staff, "GET", "/invoice-settings", None).await;
    assert_eq!(s["next_number"], 53);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_payments_cannot_overpay() {
    // SEC-DATA-0: the balance check and the payment are one transaction.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let inv = create(
        &app,
        &staff,
        json!({"client_id": w.a.id.to_string(), "currency": "EUR", "issue_date": "2026-03-01", "due_date": "2026-03-31",
               "lines": [{"description": "Work", "quantity": "1", "unit_price": "100.00", "tax_rate": "0"}]}),
    )
    .await;
    let id = inv["id"].as_str().unwrap().to_string();
    call(&app, &staff, "POST", &format!("/invoices/{id}/send"), None).await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (url, token) = (app.url(&format!("/api/v1/invoices/{id}/payments")), staff.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"amount": "30.00", "date": "2026-03-05", "method": "card"});
            api().post(url).bearer_auth(token).json(&body).send().await.expect("request").status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 7, "{statuses:?}");
    let (_, got) = call(&app, &staff, "GET", &format!("/invoices/{id}"), None).await;
    assert_eq!((got["paid"].as_str(), got["balance"].as_str()), (Some("90.00"), Some("10.00")));
    assert_eq!(got["payments"].as_array().unwrap().len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn sent_invoices_are_immutable_void_and_reissue_instead() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let id = w.a.invoice.to_string();
    let (s, e) = call(&app, &staff, "PATCH", &format!("/invoices/{id}"), Some(json!({"notes": "changed"}))).await;
    assert_eq!(s, 409);
    assert!(e["error"]["message"].as_str().unwrap().contains("void"), "{e}");
    // A draft can change; its totals follow.
    let draft = create(&app, &staff, three_lines(&w.a.id.to_string())).await;
    let did = draft["id"].as_str().unwrap();
    let (s, changed) = call(
        &app,
        &staff,
        "PATCH",
        &format!("/invoices/{did}"),
        Some(json!({"currency": "JPY", "lines": [{"description": "One", "quantity": "3", "unit_price": "333.5", "tax_rate": "10"}]})),
    )
    .await;
    assert_eq!(s, 200, "{changed}");
    // 3 × 333.5 = 1000.5 → 1001 yen; 10% → 100.1 → 100.
    assert_eq!((changed["subtotal"].as_str(), changed["total"].as_str()), (Some("1001"), Some("1101")));
    assert_eq!(changed["number"], draft["number"], "editing keeps the number");

    // Void, then re-issue: a new draft with a new number, linked both ways.
    let (s, void) = call(&app, &staff, "POST", &format!("/invoices/{id}/void"), None).await;
    assert_eq!((s, void["status"].as_str(), void["balance"].as_str()), (200, Some("void"), Some("0.00")));
    let (s, _) = call(&app, &staff, "POST", &format!("/invoices/{id}/void"), None).await;
    assert_eq!(s, 409);
    let (s, _) = call(
        &app,
        &staff,
        "POST",
        &format!("/invoices/{id}/payments"),
        Some(json!({"amount": "1", "date": "2026-03-02", "method": "cash"})),
    )
    .await;
    assert_eq!(s, 409, "a void invoice takes no payment");
    let (s, copy) = call(&app, &staff, "POST", &format!("/invoices/{id}/reissue"), None).await;
    assert_eq!(s, 201, "{copy}");
    assert_eq!((copy["status"].as_str(), copy["replaces_id"].as_str()), (Some("draft"), Some(id.as_str())));
    assert_eq!(copy["number"], "INV-0004");
    assert_eq!(copy["total"], "12000.00");
    let (_, old) = call(&app, &staff, "GET", &format!("/invoices/{id}"), None).await;
    assert_eq!(old["replaced_by_id"], copy["id"]);
    let (s, _) = call(&app, &staff, "POST", &format!("/invoices/{id}/reissue"), None).await;
    assert_eq!(s, 409, "re-issued once");
    // A paid or partly paid invoice cannot be voided.
    let bid = w.b.invoice.to_string();
    call(
        &app,
        &staff,
        "POST",
        &format!("/invoices/{bid}/payments"),
        Some(json!({"amount": "5", "date": "2026-03-02", "method": "cash"})),
    )
    .await;
    assert_eq!(call(&app, &staff, "POST", &format!("/invoices/{bid}/void"), None).await.0, 409);
    let log = app
        .query_strings(
            "SELECT action FROM audit_log WHERE action IN ('invoice.void', 'invoice.reissue')",
            vec![],
            &["action"],
        )
        .await;
    assert_eq!(log.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn overdue_is_derived_and_the_staff_list_filters() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let finance = app.token_for(w.a.finance).await;
    let late = create(
        &app,
        &staff,
        json!({"client_id": w.a.id.to_string(), "currency": "BHD", "issue_date": "2025-01-01", "due_date": "2025-01-31",
               "lines": [{"description": "Old work", "quantity": "1", "unit_price": "10.1235", "tax_rate": "0"}]}),
    )
    .await;
    let lid = late["id"].as_str().unwrap();
    assert_eq!(late["total"], "10.124", "BHD has 3 decimals; half away from zero");
    assert_eq!(late["overdue"], false, "a draft is never overdue");
    let (_, sent) = call(&app, &staff, "POST", &format!("/invoices/{lid}/send"), None).await;
    assert_eq!(sent["overdue"], true);
    let ids = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
    };
    let (_, over) = call(&app, &staff, "GET", "/invoices?overdue=true", None).await;
    assert_eq!(ids(&over), [lid.to_string()]);
    let (_, not_over) = call(&app, &staff, "GET", "/invoices?overdue=false", None).await;
    assert!(!ids(&not_over).contains(&lid.to_string()) && ids(&not_over).len() == 2);
    let (_, of_b) = call(&app, &staff, "GET", &format!("/invoices?client_id={}", w.b.id), None).await;
    assert_eq!(ids(&of_b), [w.b.invoice.to_string()]);
    let (_, sent_only) = call(&app, &staff, "GET", "/invoices?status=sent", None).await;
    assert_eq!(ids(&sent_only).len(), 3);
    let (s, _) = call(&app, &staff, "GET", "/invoices?status=overdue", None).await;
    assert_eq!(s, 422, "overdue is not a status");
    let (_, mine) = call(&app, &finance, "GET", "/invoices?overdue=true", None).await;
    assert_eq!(ids(&mine), [lid.to_string()]);
    assert_eq!(call(&app, &finance, "GET", &format!("/invoices?client_id={}", w.b.id), None).await.0, 404);
    // Paying it off ends "overdue".
    call(
        &app,
        &staff,
        "POST",
        &format!("/invoices/{lid}/payments"),
        Some(json!({"amount": "10.124", "date": "2026-01-01", "method": "other"})),
    )
    .await;
    let (_, paid) = call(&app, &staff, "GET", &format!("/invoices/{lid}"), None).await;
    assert_eq!((paid["status"].as_str(), paid["overdue"].as_bool()), (Some("paid"), Some(false)));
    // The staff page shows the outstanding total per currency.
    let (c, _) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    let page = c.get(app.url("/staff/invoices")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("EUR 24,000.00"), "two seeded invoices of EUR 12,000.00 outstanding");
    app.stop().await;
}

#[tokio::test]
async fn csv_export_is_for_staff_and_neutralises_formulas() {
    // SEC-AC-7: exports follow the same visibility.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let owner = app.actor(w.owner).await;
    let evil = app.store.create_client(&owner, "=HYPERLINK(\"http://x\")".into(), None).await.unwrap();
    create(&app, &staff, three_lines(&evil.id.to_string())).await;
    let res = api().get(app.url("/api/v1/invoices/export.csv")).bearer_auth(&staff).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = res.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(
        lines.next().unwrap(),
        "number,client,status,overdue,issue_date,due_date,currency,subtotal,tax_total,total,paid,balance,sent_at"
    );
    assert_eq!(body.lines().count(), 4, "{body}");
    assert!(body.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "formula neutralised: {body}");
    let row =
        format!("INV-0001,{},sent,false,2026-01-05,2099-01-05,EUR,10000.00,2000.00,12000.00,0.00,12000.00,", w.a.name);
    assert!(body.contains(&row), "{body}");
    let filtered = api()
        .get(app.url(&format!("/api/v1/invoices/export.csv?client_id={}", w.b.id)))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(filtered.lines().count(), 2);
    let finance = app.token_for(w.a.finance).await;
    let viewer = app.token_for(w.a.viewer).await;
    assert_eq!(call(&app, &finance, "GET", "/invoices/export.csv", None).await.0, 403);
    assert_eq!(call(&app, &viewer, "GET", "/invoices/export.csv", None).await.0, 404);
    app.stop().await;
}

#[tokio::test]
async fn numbering_settings_are_for_owners_and_admins() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.admin).await;
    let (s, cur) = call(&app, &staff, "GET", "/invoice-settings", None).await;
    assert_eq!((s, cur["prefix"].as_str(), cur["padding"].as_u64()), (200, Some("INV-"), Some(4)));
    assert_eq!(call(&app, &staff, "PUT", "/invoice-settings", Some(json!({"prefix": "X-"}))).await.0, 403);
    for bad in [json!({"prefix": "INV2"}), json!({"prefix": "a b"}), json!({"padding": 0}), json!({"padding": 13})] {
        assert_eq!(call(&app, &admin, "PUT", "/invoice-settings", Some(bad.clone())).await.0, 422, "{bad}");
    }
    let (s, set) = call(
        &app,
        &admin,
        "PUT",
        "/invoice-settings",
        Some(json!({"prefix": "AC/2026-", "padding": 6, "payment_instructions": "Pay to ACME Bank 123"})),
    )
    .await;
    assert_eq!((s, set["next_number"].as_u64()), (200, Some(3)));
    let mut body = three_lines(&w.a.id.to_string());
    body.as_object_mut().unwrap().remove("payment_instructions");
    let inv = create(&app, &staff, body).await;
    assert_eq!(inv["number"], "AC/2026-000003");
    assert_eq!(inv["payment_instructions"], "Pay to ACME Bank 123", "the default instructions");
    app.stop().await;
}

#[tokio::test]
async fn billing_pages_for_staff_and_portal() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    // Staff: create through the form (three lines, two blank rows), send, pay through forms.
    let (c, csrf) = sign_in(&app, "staff@agency.test", PASSWORD).await;
    let page = c.get(app.url("/staff/invoices/new")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("name=\"line_description\""));
    let mut form: Vec<(&str, String)> = vec![
        ("_csrf", csrf.clone()),
        ("client_id", w.a.id.to_string()),
        ("project_id", String::new()),
        ("currency", "eur".into()),
        ("issue_date", "2026-04-01".into()),
        ("due_date", "2099-05-01".into()),
        ("payment_instructions", "IBAN FR76 3000 6000 0112 3456 7890 189".into()),
        ("notes", String::new()),
    ];
    for (d, q, p, t) in
        [("Strategy", "2", "500", "20"), ("Photos", "1", "250.50", "10"), ("Travel", "1", "80", "10"), ("", "", "", "")]
    {
        form.extend([
            ("line_description", d.to_string()),
            ("line_quantity", q.to_string()),
            ("line_unit_price", p.to_string()),
            ("line_tax_rate", t.to_string()),
            ("line_discount", String::new()),
        ]);
    }
    let res = c.post(app.url("/staff/invoices")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let href = res.headers()["location"].to_str().unwrap().to_string();
    let page = c.get(app.url(&href)).send().await.unwrap().text().await.unwrap();
    // 1000.00 + 250.50 + 80.00 = 1330.50; 20% of 1000 = 200.00; 10% of 330.50 = 33.05.
    assert!(page.contains("EUR 1,563.55"), "total on the page");
    assert!(page.contains("Send to client") && page.contains("Edit draft"));
    let id = href.rsplit('/').next().unwrap().to_string();
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let mut f = fields;
        f.push(("_csrf", csrf.clone()));
        c.post(app.url(&path)).form(&f).send()
    };
    assert_eq!(post(format!("/staff/invoices/{id}/send"), vec![]).await.unwrap().status(), 303);
    let res = post(format!("/staff/invoices/{id}"), form.iter().filter(|(k, _)| *k != "_csrf").cloned().collect())
        .await
        .unwrap();
    assert_eq!(res.status(), 409, "a sent invoice cannot be edited through the form either");
    let pay = |amount: &str| {
        vec![
            ("amount", amount.to_string()),
            ("date", "2026-04-10".to_string()),
            ("method", "bank_transfer".to_string()),
            ("reference", "=1+1".to_string()),
        ]
    };
    assert_eq!(post(format!("/staff/invoices/{id}/payments"), pay("9999")).await.unwrap().status(), 422);
    assert_eq!(post(format!("/staff/invoices/{id}/payments"), pay("500")).await.unwrap().status(), 303);
    let list = c.get(app.url("/staff/invoices?status=partially_paid")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("INV-0003") && !list.contains("INV-0001"), "filtered by status");

    // Finance: Billing link, home lists invoices (no placeholder), the invoice page, no projects.
    let (f, _) = sign_in(&app, "finance@a.test", PASSWORD).await;
    let home = f.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("href=\"/portal/billing\"") && home.contains("INV-0003"));
    assert!(!home.contains("Invoices will appear here"));
    assert!(home.contains("inv-row unpaid"), "unpaid invoices are highlighted");
    let billing = f.get(app.url("/portal/billing")).send().await.unwrap().text().await.unwrap();
    assert!(billing.contains("Partially paid") && billing.contains("INV-0001"));
    let one = f.get(app.url(&format!("/portal/billing/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(one.contains("EUR 1,063.55") && one.contains("Payment history") && one.contains("IBAN FR76"));
    assert!(one.contains(&format!("/api/v1/invoices/{id}/pdf")));
    assert!(!one.contains("Record a payment"));
    assert_eq!(f.get(app.url(&format!("/portal/projects/{}", w.a.project))).send().await.unwrap().status(), 404);
    assert_eq!(f.get(app.url("/staff/invoices")).send().await.unwrap().status(), 404);

    // Admin sees Billing too; viewer has no link and 404 everywhere in billing.
    let (a, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let home = a.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("href=\"/portal/billing\"") && home.contains("Invoices to pay"));
    let (v, _) = sign_in(&app, "viewer@a.test", PASSWORD).await;
    let home = v.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("/portal/billing") && !home.contains("INV-0"));
    for path in ["/portal/billing".to_string(), format!("/portal/billing/{id}"), format!("/api/v1/invoices/{id}/pdf")] {
        assert_eq!(v.get(app.url(&path)).send().await.unwrap().status(), 404, "{path}");
    }
    // Another client's finance user: 404 for A's invoice.
    let (b, _) = sign_in(&app, "finance@b.test", PASSWORD).await;
    assert_eq!(b.get(app.url(&format!("/portal/billing/{id}"))).send().await.unwrap().status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn the_invoice_list_pages_with_limit_and_cursor() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    for _ in 0..3 {
        create(&app, &staff, three_lines(&w.a.id.to_string())).await;
    }
    let numbers = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap().to_string()).collect()
    };
    let (s, first) = call(&app, &staff, "GET", "/invoices?limit=2", None).await;
    assert_eq!((s, numbers(&first)), (200, vec!["INV-0005".to_string(), "INV-0004".to_string()]));
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let (_, second) = call(&app, &staff, "GET", &format!("/invoices?limit=2&cursor={cursor}"), None).await;
    assert_eq!(numbers(&second), ["INV-0003", "INV-0002"]);
    let cursor = second["next_cursor"].as_str().unwrap().to_string();
    let (_, last) = call(&app, &staff, "GET", &format!("/invoices?limit=2&cursor={cursor}"), None).await;
    assert_eq!((numbers(&last), last["next_cursor"].is_null()), (vec!["INV-0001".to_string()], true));
    assert_eq!(call(&app, &staff, "GET", "/invoices?limit=0", None).await.0, 422);
    assert_eq!(call(&app, &staff, "GET", "/invoices?limit=201", None).await.0, 422);
    assert_eq!(call(&app, &staff, "GET", "/invoices?cursor=nope", None).await.0, 422);
    app.stop().await;
}
