//! Each person's timezone (issue 15, part 6): set through `PATCH /me` or the account page,
//! checked (422 naming `timezone`), used for the times on their pages and in their mail, and
//! for the hour their daily digest comes; without one, the agency's (the help desk's setting).

use crate::common::*;
use atrium_core::local_time::Tz;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;

/// The first moment after now whose UTC time of day is `hh:mm`.
fn next_utc(hh: u32, mm: u32) -> DateTime<Utc> {
    let now = Utc::now();
    let at = now.date_naive().and_time(NaiveTime::from_hms_opt(hh, mm, 0).unwrap()).and_utc();
    if at > now { at } else { at + Duration::days(1) }
}

#[tokio::test]
async fn a_person_sets_their_timezone_and_bad_names_are_refused() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let (s, v) = call(&app, &admin, "GET", "/me", None).await;
    assert_eq!((s, v["timezone"].clone()), (200, json!(null)), "none until chosen: {v}");
    let (s, v) = call(&app, &admin, "PATCH", "/me", Some(json!({"timezone": "Asia/Tokyo"}))).await;
    assert_eq!((s, v["timezone"].clone()), (200, json!("Asia/Tokyo")), "{v}");
    let (_, v) = call(&app, &admin, "GET", "/me", None).await;
    assert_eq!(v["timezone"], "Asia/Tokyo");
    for bad in [json!({"timezone": "Mars/Olympus"}), json!({"timezone": "x".repeat(65)}), json!({"timezone": 5})] {
        let (s, v) = call(&app, &admin, "PATCH", "/me", Some(bad.clone())).await;
        assert_eq!(s, 422, "{bad}: {v}");
        assert!(v["error"]["message"].as_str().unwrap_or("").contains("timezone"), "{bad}: {v}");
    }
    let (s, v) = call(&app, &admin, "PATCH", "/me", Some(json!({"zone": "UTC"}))).await;
    assert_eq!(s, 422, "unknown fields are refused: {v}");
    let (_, v) = call(&app, &admin, "GET", "/me", None).await;
    assert_eq!(v["timezone"], "Asia/Tokyo", "a refused change loses nothing");
    // `null` (or "") goes back to the agency's.
    let (s, v) = call(&app, &admin, "PATCH", "/me", Some(json!({"timezone": null}))).await;
    assert_eq!((s, v["timezone"].clone()), (200, json!(null)), "{v}");
    // Staff "viewing as" the client may not change the client user's settings.
    let viewed = app.actor(w.a.admin).await.viewed_by(w.staff);
    let e = app.store.set_own_timezone(&viewed, Some(Tz::UTC)).await.unwrap_err();
    assert!(matches!(e, atrium_core::Error::Forbidden(_)), "{e:?}");
}

#[tokio::test]
async fn pages_show_times_in_the_readers_timezone_else_the_agencys() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let (s, c) = call(
        &app,
        &staff,
        "POST",
        &format!("/tasks/{}/comments", w.a.chore),
        Some(json!({"body": "Timed reply", "visibility": "reply"})),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    let at: DateTime<Utc> = c["created_at"].as_str().unwrap().parse().unwrap();
    let shown = |tz: &str| at.with_timezone(&tz.parse::<Tz>().unwrap()).format("%b %-d, %H:%M").to_string();
    let task_page = || {
        let app = &app;
        async move {
            let creds = app.browser_creds(Some(w.a.admin)).await;
            let url = app.url(&format!("/portal/tasks/{}", w.a.chore));
            Answer::of(browser().get(url).header("cookie", &creds.cookie).send().await.unwrap()).await
        }
    };
    // No own timezone: the agency's. Set the agency's to New York first.
    let owner = app.token_for(w.owner).await;
    let (_, mut settings) = call(&app, &owner, "GET", "/helpdesk/settings", None).await;
    settings["timezone"] = json!("America/New_York");
    let (s, v) = call(&app, &owner, "PUT", "/helpdesk/settings", Some(settings)).await;
    assert_eq!(s, 200, "{v}");
    let page = task_page().await;
    assert!(
        page.body.contains(&shown("America/New_York")),
        "agency's time {}: {}",
        shown("America/New_York"),
        page.body
    );
    // Their own: Tokyo (14 hours from New York, so the two never read alike).
    let admin = app.token_for(w.a.admin).await;
    call(&app, &admin, "PATCH", "/me", Some(json!({"timezone": "Asia/Tokyo"}))).await;
    let page = task_page().await;
    assert!(page.body.contains(&shown("Asia/Tokyo")), "own time {}: {}", shown("Asia/Tokyo"), page.body);
    assert!(!page.body.contains(&shown("America/New_York")));
}

#[tokio::test]
async fn the_account_page_sets_the_timezone_and_shows_a_bad_one_again() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let post = |tz: &'static str| {
        let app = &app;
        async move {
            let creds = app.browser_creds(Some(w.a.viewer)).await;
            let f = [("timezone", tz), ("_csrf", creds.csrf.as_str())];
            Answer::of(
                browser()
                    .post(app.url("/account/timezone"))
                    .header("cookie", &creds.cookie)
                    .form(&f)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let bad = post("Europe/Atlantis").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("value=\"Europe/Atlantis\"") && bad.body.contains("IANA timezone"), "{}", bad.body);
    let ok = post("Europe/Lisbon").await;
    assert_eq!((ok.status, ok.location()), (303, Some("/account?notice=saved")), "{}", ok.body);
    let viewer = app.token_for(w.a.viewer).await;
    let (_, v) = call(&app, &viewer, "GET", "/me", None).await;
    assert_eq!(v["timezone"], "Europe/Lisbon", "a read-only client user still keeps their own settings");
    let creds = app.browser_creds(Some(w.a.viewer)).await;
    let page =
        Answer::of(browser().get(app.url("/account")).header("cookie", &creds.cookie).send().await.unwrap()).await;
    assert!(page.body.contains("value=\"Europe/Lisbon\""), "{}", page.body);
}

#[tokio::test]
async fn the_daily_digest_comes_at_eight_in_the_recipients_own_timezone() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let staff = app.token_for(w.staff).await;
    let (s, _) = call(&app, &admin, "PATCH", "/me", Some(json!({"timezone": "Asia/Tokyo"}))).await;
    assert_eq!(s, 200);
    let (s, v) =
        call(&app, &admin, "PUT", "/notification-settings", Some(json!({"kind": "mention", "delivery": "digest"})))
            .await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = call(
        &app,
        &staff,
        "POST",
        &format!("/tasks/{}/comments", w.a.chore),
        Some(json!({"body": "@[Admina Person] tokyo-morning", "visibility": "reply"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let mentioned: DateTime<Utc> = v["created_at"].as_str().unwrap().parse().unwrap();
    let digests = || {
        let app = &app;
        async move { app.mails().await.into_iter().filter(|m| m.subject.contains("daily summary")).collect::<Vec<_>>() }
    };
    let run_at = |at: DateTime<Utc>| {
        let app = &app;
        async move {
            app.store.set_clock(Some(at));
            app.store
                .job_runner()
                .enqueue(atrium_store::jobs::NewJob::new("digest", json!({})))
                .await
                .expect("enqueue");
            app.run_jobs().await;
        }
    };
    // 08:10 UTC is 17:10 in Tokyo: not their hour.
    run_at(next_utc(8, 10)).await;
    assert!(digests().await.is_empty(), "not at 08:00 UTC for someone in Tokyo");
    // 23:10 UTC is 08:10 the next day in Tokyo.
    run_at(next_utc(23, 10)).await;
    let got = digests().await;
    assert_eq!(got.len(), 1, "{:?}", got.iter().map(|m| &m.subject).collect::<Vec<_>>());
    assert!(got[0].text.contains("tokyo-morning"), "{}", got[0].text);
    let local = mentioned.with_timezone(&"Asia/Tokyo".parse::<Tz>().unwrap()).format("%b %-d, %H:%M JST").to_string();
    assert!(got[0].text.contains(&local), "the item's time in Tokyo ({local}): {}", got[0].text);
    // Each run queues the next hour's; drop those so the harness's leftover check holds.
    app.store.connection().execute_unprepared("DELETE FROM jobs WHERE status='queued'").await.expect("delete");
    app.stop().await;
}
