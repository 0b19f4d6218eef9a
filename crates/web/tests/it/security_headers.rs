//! The requirements of `security.md` that can be observed over HTTP: response headers
//! (SEC-IO-4), cookies and sessions (SEC-SESS-*), CSRF (SEC-IO-6), rate limits and identical
//! answers (SEC-AUTH-*). Each test is named after the requirement it proves.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::json;

/// A few responses of every kind: a page, a redirect, an API answer, API and page errors,
/// a static asset, health.
async fn sample_responses(app: &TestApp, w: &World) -> Vec<(String, Answer)> {
    let c = api();
    let token = app.token_for(w.a.admin).await;
    let creds = app.browser_creds(Some(w.a.admin)).await;
    let mut out = Vec::new();
    for (what, req) in [
        ("login page", c.get(app.url("/login"))),
        ("redirect", c.get(app.url("/"))),
        ("portal page", c.get(app.url("/portal")).header("cookie", &creds.cookie)),
        ("page 404", c.get(app.url("/portal/projects/nope")).header("cookie", &creds.cookie)),
        ("API 200", c.get(app.url("/api/v1/me")).bearer_auth(&token)),
        ("API 401", c.get(app.url("/api/v1/me"))),
        ("API 404", c.get(app.url("/api/v1/nothing"))),
        ("API 422", c.post(app.url("/api/v1/session")).json(&json!({"email": 1}))),
        ("static", c.get(app.url("/static/app.css"))),
        ("health", c.get(app.url("/healthz"))),
        ("openapi", c.get(app.url("/api/v1/openapi.json"))),
    ] {
        out.push((what.to_string(), Answer::of(req.send().await.unwrap()).await));
    }
    out
}

fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The directives of a CSP: name → sources.
fn csp_directives(csp: &str) -> Vec<(String, Vec<String>)> {
    csp.split(';')
        .filter_map(|d| {
            let mut parts = d.split_whitespace();
            let name = parts.next()?.to_lowercase();
            Some((name, parts.map(str::to_string).collect()))
        })
        .collect()
}

#[tokio::test]
async fn sec_io_4_security_headers_on_every_response() {
    // SEC-IO-4: CSP without inline script (`script-src 'self'`), nosniff, same-origin referrer,
    // no framing; no HSTS on plain http.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    for (what, a) in sample_responses(&app, &w).await {
        let csp = header(&a, "content-security-policy").unwrap_or_else(|| panic!("{what}: CSP"));
        let d = csp_directives(csp);
        let get = |n: &str| d.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let script = get("script-src").or_else(|| get("default-src")).expect("script-src");
        assert_eq!(script, vec!["'self'".to_string()], "{what}: script-src 'self' only: {csp}");
        for (name, sources) in &d {
            assert!(
                !sources.iter().any(|s| s == "'unsafe-inline'" || s == "'unsafe-eval'" || s == "*"),
                "{what}: {name} is not restrictive: {csp}"
            );
        }
        assert_eq!(get("frame-ancestors"), Some(vec!["'none'".to_string()]), "{what}: {csp}");
        assert_eq!(get("object-src"), Some(vec!["'none'".to_string()]), "{what}: {csp}");
        if !csp.contains("sandbox") {
            // Frames only from the embeddable services of project pages, each named.
            let frames: Vec<String> = atrium_core::embed::frame_origins().map(str::to_string).collect();
            assert_eq!(get("frame-src"), Some(frames), "{what}: {csp}");
        }
        // No `data:` images: nothing of the app uses them, and they would let injected markup
        // show pictures that were never uploaded.
        assert_eq!(get("img-src"), Some(vec!["'self'".to_string()]), "{what}: {csp}");
        assert_eq!(header(&a, "x-content-type-options"), Some("nosniff"), "{what}");
        assert_eq!(header(&a, "referrer-policy"), Some("same-origin"), "{what}");
        assert_eq!(header(&a, "x-frame-options"), Some("DENY"), "{what}");
        assert!(header(&a, "strict-transport-security").is_none(), "{what}: no HSTS over http");
        assert!(header(&a, "access-control-allow-origin").is_none(), "{what}: no CORS");
    }
    app.stop().await;
}

#[tokio::test]
async fn sec_io_4_hsts_when_https() {
    // SEC-IO-4: HSTS when the public URL is https (for at least a year).
    let app = TestApp::spawn_with(|c| c.public_url = url::Url::parse("https://portal.test").unwrap()).await;
    let w = seed(&app).await;
    for (what, a) in sample_responses(&app, &w).await {
        let hsts = header(&a, "strict-transport-security").unwrap_or_else(|| panic!("{what}: HSTS"));
        let max_age: u64 = hsts
            .split(';')
            .find_map(|p| p.trim().strip_prefix("max-age="))
            .and_then(|v| v.parse().ok())
            .expect("max-age");
        assert!(max_age >= 31_536_000, "{what}: {hsts}");
    }
    app.stop().await;
}

#[tokio::test]
async fn sec_io_4_authenticated_pages_are_not_cached() {
    // SEC-IO-4: authenticated pages (and API answers) send `Cache-Control: no-store`.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let client = app.browser_creds(Some(w.a.admin)).await;
    let staff = app.browser_creds(Some(w.staff)).await;
    for (creds, path) in [
        (&client, "/portal".to_string()),
        (&client, format!("/portal/tasks/{}", w.a.task)),
        (&client, "/account".to_string()),
        (&staff, "/staff".to_string()),
        (&staff, format!("/staff/tasks/{}", w.a.task)),
        (&client, "/api/v1/me".to_string()),
        (&client, format!("/api/v1/tasks/{}/comments", w.a.task)),
    ] {
        let a = Answer::of(api().get(app.url(&path)).header("cookie", &creds.cookie).send().await.unwrap()).await;
        assert_eq!(a.status, 200, "{path}");
        let cc = header(&a, "cache-control").unwrap_or_default();
        assert!(cc.split(',').any(|d| d.trim() == "no-store"), "{path}: Cache-Control {cc:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn sec_io_4_cors_never_reflects_an_origin() {
    // SEC-IO-4: CORS is off; a foreign Origin is never echoed, preflights are not granted.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let token = app.token_for(w.a.admin).await;
    let c = api();
    for origin in ["https://evil.example", "null", PUBLIC_URL] {
        let a =
            Answer::of(c.get(app.url("/api/v1/me")).bearer_auth(&token).header("origin", origin).send().await.unwrap())
                .await;
        assert_eq!(a.status, 200);
        assert!(header(&a, "access-control-allow-origin").is_none(), "ACAO for {origin}");
        assert!(header(&a, "access-control-allow-credentials").is_none());
        let pre = Answer::of(
            c.request(reqwest::Method::OPTIONS, app.url("/api/v1/projects"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization, content-type")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(pre.status >= 400, "preflight from {origin} is not granted: {}", pre.status);
        assert!(header(&pre, "access-control-allow-origin").is_none());
        assert!(header(&pre, "access-control-allow-methods").is_none());
    }
    app.stop().await;
}

#[tokio::test]
async fn sec_io_4_pages_have_no_inline_script_or_style() {
    // SEC-IO-4: the CSP forbids inline script and style, so the pages must not need any:
    // every <script> has a same-origin src, no event handler attributes, no style attributes.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let client = app.browser_creds(Some(w.a.admin)).await;
    let staff = app.browser_creds(Some(w.owner)).await;
    let anon = app.browser_creds(None).await;
    let pages = [
        (&anon, "/login".to_string()),
        (&anon, "/reset".to_string()),
        (&client, "/portal".to_string()),
        (&client, "/portal/projects".to_string()),
        (&client, format!("/portal/projects/{}", w.a.project)),
        (&client, "/portal/tasks".to_string()),
        (&client, format!("/portal/tasks/{}", w.a.task)),
        (&client, "/account".to_string()),
        (&staff, "/staff".to_string()),
        (&staff, "/staff/clients".to_string()),
        (&staff, format!("/staff/clients/{}", w.a.id)),
        (&staff, "/staff/team".to_string()),
        (&staff, format!("/staff/projects/{}", w.a.project)),
        (&staff, format!("/staff/tasks/{}", w.a.task)),
        (&staff, "/staff/nothing-here".to_string()),
    ];
    for (creds, path) in pages {
        let a = Answer::of(api().get(app.url(&path)).header("cookie", &creds.cookie).send().await.unwrap()).await;
        assert!(a.status == 200 || a.status == 404, "{path}: {}", a.status);
        let lower = a.body.to_lowercase();
        let mut rest = lower.as_str();
        let mut scripts = 0;
        while let Some(i) = rest.find("<script") {
            let tag_end = rest[i..].find('>').map(|j| i + j).unwrap_or(rest.len());
            let tag = &rest[i..tag_end];
            assert!(tag.contains(" src=\"/static/"), "{path}: script without a same-origin src: {tag}");
            let close = rest[tag_end..].find("</script>").map(|j| tag_end + j).unwrap_or(rest.len());
            assert_eq!(&rest[tag_end + 1..close], "", "{path}: inline script body");
            scripts += 1;
            rest = &rest[close..];
        }
        assert!(scripts >= 1, "{path}: the app's scripts are loaded");
        for bad in [" onclick=", " onload=", " onsubmit=", " onchange=", " style=\"", "<style", "javascript:"] {
            assert!(!lower.contains(bad), "{path}: {bad} would need 'unsafe-inline'");
        }
    }
    app.stop().await;
}

// ----- sessions ------------------------------------------------------------------------------

/// The `Set-Cookie` header that sets `name`.
fn set_cookie<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find(|c| c.starts_with(&format!("{name}=")))
}

fn attrs(cookie: &str) -> Vec<String> {
    cookie.split(';').skip(1).map(|a| a.trim().to_lowercase()).collect()
}

async fn api_login(app: &TestApp, email: &str) -> Answer {
    Answer::of(
        api()
            .post(app.url("/api/v1/session"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn sec_sess_1_session_cookie_flags_on_http() {
    // SEC-SESS-1: HttpOnly, SameSite=Lax, Path=/; not Secure and no __Host- prefix on plain http.
    let app = TestApp::spawn().await;
    seed(&app).await;
    let a = api_login(&app, "admin@a.test").await;
    assert_eq!(a.status, 201);
    let token = a.json()["token"].as_str().unwrap().to_string();
    let c = set_cookie(&a, "atrium_session").expect("session cookie");
    assert!(c.starts_with(&format!("atrium_session={token}")), "the cookie carries the session");
    let at = attrs(c);
    assert!(at.contains(&"httponly".into()), "{c}");
    assert!(at.contains(&"samesite=lax".into()), "{c}");
    assert!(at.contains(&"path=/".into()), "{c}");
    assert!(!at.contains(&"secure".into()), "{c}");
    assert!(!at.iter().any(|a| a.starts_with("domain=")), "{c}");
    // The HTML sign-in sets the same cookie.
    let b = app.browser_creds(None).await;
    let a = Answer::of(
        api()
            .post(app.url("/login"))
            .header("cookie", &b.cookie)
            .form(&[("_csrf", b.csrf.as_str()), ("email", "admin@a.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 303);
    let c = set_cookie(&a, "atrium_session").expect("session cookie from the form");
    let at = attrs(c);
    assert!(at.contains(&"httponly".into()) && at.contains(&"samesite=lax".into()) && at.contains(&"path=/".into()));
    app.stop().await;
}

#[tokio::test]
async fn sec_sess_1_session_cookie_flags_on_https() {
    // SEC-SESS-1: on https the cookie is `__Host-` prefixed and Secure (and still HttpOnly,
    // SameSite=Lax, Path=/, no Domain); so is the CSRF cookie.
    let app = TestApp::spawn_with(|c| c.public_url = url::Url::parse("https://portal.test").unwrap()).await;
    seed(&app).await;
    let a = api_login(&app, "admin@a.test").await;
    assert_eq!(a.status, 201);
    assert!(set_cookie(&a, "atrium_session").is_none(), "no unprefixed cookie on https");
    let c = set_cookie(&a, "__Host-atrium_session").expect("__Host- session cookie");
    let at = attrs(c);
    for want in ["secure", "httponly", "samesite=lax", "path=/"] {
        assert!(at.contains(&want.to_string()), "{want} in {c}");
    }
    assert!(!at.iter().any(|a| a.starts_with("domain=")), "__Host- cookies have no Domain: {c}");
    let page = Answer::of(api().get(app.url("/login")).send().await.unwrap()).await;
    let csrf = set_cookie(&page, "__Host-atrium_csrf").expect("__Host- CSRF cookie");
    let at = attrs(csrf);
    assert!(at.contains(&"secure".into()) && at.contains(&"httponly".into()) && at.contains(&"path=/".into()));
    app.stop().await;
}

#[tokio::test]
async fn sec_sess_1_new_session_on_every_login() {
    // SEC-SESS-1: no fixation — a session value planted before sign-in is replaced, and every
    // login gets a new token.
    let app = TestApp::spawn().await;
    seed(&app).await;
    let planted = atrium_core::token::generate().secret;
    let b = app.browser_creds(None).await;
    let cookie = format!("atrium_session={planted}; {}", b.cookie);
    // The sign-in page's token (bound to whatever session cookie the browser sent).
    let login = api().get(app.url("/login")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_from(&login);
    let a = Answer::of(
        api()
            .post(app.url("/login"))
            .header("cookie", &cookie)
            .form(&[("_csrf", csrf.as_str()), ("email", "viewer@a.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 303);
    let set = set_cookie(&a, "atrium_session").expect("a new session cookie");
    let value = set.split(';').next().unwrap().trim_start_matches("atrium_session=").to_string();
    assert_ne!(value, planted);
    assert!(atrium_core::token::well_formed(&value));
    // The planted value still grants nothing.
    let r =
        api().get(app.url("/api/v1/me")).header("cookie", format!("atrium_session={planted}")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let t1 = api_login(&app, "viewer@a.test").await.json()["token"].as_str().unwrap().to_string();
    let t2 = api_login(&app, "viewer@a.test").await.json()["token"].as_str().unwrap().to_string();
    assert_ne!(t1, t2);
    assert_ne!(t1, value);
    app.stop().await;
}

#[tokio::test]
async fn sec_sess_1_tokens_are_stored_hashed() {
    // SEC-SESS-1, SEC-AUTH-5: session, magic-link and invitation secrets are only stored as hashes.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let a = api_login(&app, "admin@a.test").await;
    let token = a.json()["token"].as_str().unwrap().to_string();
    assert!(token.len() >= 22, "≥ 128 bits");
    let rows = app
        .query_strings("SELECT token_hash, ip, user_agent FROM sessions", vec![], &["token_hash", "ip", "user_agent"])
        .await;
    assert_eq!(rows.len(), 1);
    let hash = &rows[0][0];
    assert!(rows.iter().flatten().all(|v| !v.contains(&token)), "the secret is not stored");
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(hash, &atrium_core::token::hash(&token), "stored as its SHA-256");
    // Magic link and invitation.
    let r = api().post(app.url("/api/v1/magic-links")).json(&json!({"email": "admin@a.test"})).send().await.unwrap();
    assert_eq!(r.status(), 202);
    let inv = Answer::of(
        api()
            .post(app.url("/api/v1/invitations"))
            .bearer_auth(app.token_for(w.owner).await)
            .json(&json!({"email": "new@a.test", "name": "New", "role": "client_viewer", "client_id": w.a.id.to_string()}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(inv.status, 201);
    let mails = app.mails().await;
    let secrets: Vec<String> = mails
        .iter()
        .filter_map(|m| {
            m.text
                .lines()
                .find(|l| l.trim().starts_with("http"))
                .map(|l| l.trim().rsplit('/').next().unwrap().to_string())
        })
        .collect();
    assert_eq!(secrets.len(), 2, "two links mailed");
    let stored: Vec<String> = app
        .query_strings("SELECT token_hash FROM login_tokens", vec![], &["token_hash"])
        .await
        .into_iter()
        .chain(
            app.query_strings(
                "SELECT token_hash, email, name FROM invitations",
                vec![],
                &["token_hash", "email", "name"],
            )
            .await,
        )
        .flatten()
        .collect();
    for s in &secrets {
        assert!(atrium_core::token::well_formed(s), "{s}");
        assert!(stored.iter().all(|v| !v.contains(s.as_str())), "secret stored in clear");
        assert!(stored.contains(&atrium_core::token::hash(s)), "stored as its hash");
    }
    app.stop().await;
}

#[tokio::test]
async fn sec_sess_2_logout_revokes_server_side() {
    // SEC-SESS-2: after logout the old cookie value is worthless, even if a client kept it.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let creds = app.browser_creds(Some(w.a.admin)).await;
    let portal = || api().get(app.url("/portal")).header("cookie", &creds.cookie).send();
    assert_eq!(portal().await.unwrap().status(), 200);
    let r = Answer::of(
        api()
            .post(app.url("/logout"))
            .header("cookie", &creds.cookie)
            .form(&[("_csrf", creds.csrf.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 303);
    let cleared = set_cookie(&r, "atrium_session").expect("the cookie is cleared");
    assert!(attrs(cleared).iter().any(|a| a == "max-age=0" || a.starts_with("expires=")), "{cleared}");
    let again = Answer::of(portal().await.unwrap()).await;
    assert_eq!(again.status, 303);
    assert_eq!(again.location(), Some("/login"));
    app.stop().await;
}

#[tokio::test]
async fn sec_sess_2_idle_sessions_expire() {
    // SEC-SESS-2: a session unused for the idle timeout stops working.
    let app = TestApp::spawn_with(|c| c.session_idle = Duration::from_secs(2)).await;
    let w = seed(&app).await;
    let token = app.token_for(w.a.admin).await;
    let me = || api().get(app.url("/api/v1/me")).bearer_auth(&token).send();
    assert_eq!(me().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(me().await.unwrap().status(), 401, "idle too long");
    app.stop().await;
}

#[tokio::test]
async fn sec_auth_6_deactivation_ends_sessions_and_links_at_once() {
    // SEC-AUTH-6, SEC-SESS-1: deactivating a user takes effect on the very next request.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let token = app.token_for(w.a.admin).await;
    let creds = app.browser_creds(Some(w.a.admin)).await;
    let link =
        app.store.sign_in().issue_login_token(w.a.admin, atrium_core::model::TokenPurpose::MagicLink).await.unwrap();
    assert_eq!(api().get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().status(), 200);
    app.store.set_user_active(&app.actor(w.owner).await, w.a.admin, false, None).await.unwrap();
    assert_eq!(api().get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().status(), 401);
    let page = api().get(app.url("/portal")).header("cookie", &creds.cookie).send().await.unwrap();
    assert_eq!(page.status(), 303, "the browser session is over too");
    let b = app.browser_creds(None).await;
    let r = api()
        .post(app.url(&format!("/magic/{}", link.secret)))
        .header("cookie", &b.cookie)
        .form(&[("_csrf", b.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410, "outstanding links die with the account");
    assert_eq!(api_login(&app, "admin@a.test").await.status, 401, "and the password no longer signs in");
    app.stop().await;
}

#[tokio::test]
async fn sec_sess_3_sessions_can_be_revoked_by_their_user_and_by_staff() {
    // SEC-SESS-3: a user revokes one of their sessions; staff revoke every session and link of a
    // client's users in one action.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let me = app.browser_creds(Some(w.a.admin)).await;
    let other = app.token_for(w.a.admin).await;
    let sessions = app.store.sessions_of(&app.actor(w.a.admin).await).await.unwrap();
    assert_eq!(sessions.len(), 2);
    let me_hash = atrium_core::token::hash(me.session.as_deref().unwrap());
    let rows = app.query_strings("SELECT token_hash FROM sessions", vec![], &["token_hash"]).await;
    assert!(rows.iter().any(|r| r[0] == me_hash));
    // Find the other session's id on the account page.
    let page = Answer::of(api().get(app.url("/account")).header("cookie", &me.cookie).send().await.unwrap()).await;
    let other_id = sessions
        .iter()
        .map(|s| s.id.to_string())
        .find(|id| page.body.contains(&format!("/account/sessions/{id}/revoke")))
        .expect("a revoke button for the other session");
    let r = api()
        .post(app.url(&format!("/account/sessions/{other_id}/revoke")))
        .header("cookie", &me.cookie)
        .form(&[("_csrf", me.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let me_api = |t: &str| api().get(app.url("/api/v1/me")).bearer_auth(t.to_string()).send();
    let revoked_is_other = me_api(&other).await.unwrap().status() == 401;
    let mine_works = api().get(app.url("/portal")).header("cookie", &me.cookie).send().await.unwrap().status() == 200;
    assert!(revoked_is_other && mine_works, "exactly the chosen session ended");
    // Staff: revoke all access of client A.
    let viewer = app.token_for(w.a.viewer).await;
    let b_admin = app.token_for(w.b.admin).await;
    let link =
        app.store.sign_in().issue_login_token(w.a.finance, atrium_core::model::TokenPurpose::MagicLink).await.unwrap();
    let staff = app.browser_creds(Some(w.staff)).await;
    let r = api()
        .post(app.url(&format!("/staff/clients/{}/revoke-access", w.a.id)))
        .header("cookie", &staff.cookie)
        .form(&[("_csrf", staff.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(me_api(&viewer).await.unwrap().status(), 401);
    assert_eq!(api().get(app.url("/portal")).header("cookie", &me.cookie).send().await.unwrap().status(), 303);
    assert!(
        app.store.sign_in().check_login_token(&link.secret, atrium_core::model::TokenPurpose::MagicLink).await.is_err()
    );
    assert_eq!(me_api(&b_admin).await.unwrap().status(), 200, "another client is untouched");
    assert!(app.store.audit_recent(10).await.unwrap().iter().any(|e| e.action == "client.revoke_access"));
    app.stop().await;
}

// ----- CSRF ----------------------------------------------------------------------------------

/// Form fields.
type Form = Vec<(&'static str, String)>;

#[tokio::test]
async fn sec_io_6_csrf_refuses_forms_without_token_or_from_another_origin() {
    // SEC-IO-6: a cookie-authenticated form post needs the token and, when an Origin is sent,
    // the public origin. Refused posts change nothing.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let me = app.browser_creds(Some(w.a.admin)).await;
    let path = format!("/portal/tasks/{}/comments", w.a.task);
    let post = |cookie: String, fields: Vec<(&'static str, String)>, origin: Option<&'static str>| {
        let mut r = api().post(app.url(&path)).header("cookie", cookie).form(&fields);
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send()
    };
    let body = || ("body", "Hello from a form".to_string());
    // Signed in, the token is bound to the session: neither another session's token nor the
    // anonymous double-submit cookie's value will do.
    let other = app.browser_creds(Some(w.a.admin)).await;
    let cookie_token = me.cookie.split("; ").find_map(|c| c.strip_prefix("atrium_csrf=")).unwrap().to_string();
    let refused: Vec<(&str, String, Form, Option<&'static str>)> = vec![
        ("no token", me.cookie.clone(), vec![body()], None),
        ("wrong token", me.cookie.clone(), vec![body(), ("_csrf", atrium_core::token::generate().secret)], None),
        ("empty token", me.cookie.clone(), vec![body(), ("_csrf", String::new())], None),
        ("another session's token", me.cookie.clone(), vec![body(), ("_csrf", other.csrf.clone())], None),
        ("the double-submit cookie's token", me.cookie.clone(), vec![body(), ("_csrf", cookie_token.clone())], None),
        ("foreign origin", me.cookie.clone(), vec![body(), ("_csrf", me.csrf.clone())], Some("https://evil.example")),
        ("null origin", me.cookie.clone(), vec![body(), ("_csrf", me.csrf.clone())], Some("null")),
        (
            "look-alike origin",
            me.cookie.clone(),
            vec![body(), ("_csrf", me.csrf.clone())],
            Some("http://portal.test.evil.example"),
        ),
    ];
    for (what, cookie, fields, origin) in refused {
        let a = Answer::of(post(cookie, fields, origin).await.unwrap()).await;
        assert_eq!(a.status, 403, "{what}: {}", a.body);
        assert!(a.body.contains("CSRF"), "{what}: the page says why");
    }
    let count = || async { app.store.comments(&app.actor(w.owner).await.work_scope(), w.a.task).await.unwrap().len() };
    assert_eq!(count().await, 2, "nothing was posted");
    // The same post with the token (and the right Origin) goes through.
    let a = Answer::of(
        post(me.cookie.clone(), vec![body(), ("_csrf", me.csrf.clone())], Some("http://portal.test")).await.unwrap(),
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(count().await, 3);
    // The sign-in form is protected too (login CSRF).
    let a = Answer::of(
        api().post(app.url("/login")).form(&[("email", "admin@a.test"), ("password", PASSWORD)]).send().await.unwrap(),
    )
    .await;
    assert_eq!(a.status, 403);
    assert!(set_cookie(&a, "atrium_session").is_none());
    app.stop().await;
}

#[tokio::test]
async fn sec_io_6_cookie_authenticated_api_writes_need_the_token() {
    // SEC-IO-6: API writes riding on the session cookie need the X-CSRF-Token header; bearer
    // calls carry no ambient credentials and need none.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let me = app.browser_creds(Some(w.a.admin)).await;
    let url = app.url(&format!("/api/v1/tasks/{}/comments", w.a.task));
    let body = json!({"body": "via the API"});
    let a = Answer::of(api().post(&url).header("cookie", &me.cookie).json(&body).send().await.unwrap()).await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert_eq!(a.json()["error"]["code"], "forbidden");
    let a = Answer::of(
        api()
            .post(&url)
            .header("cookie", &me.cookie)
            .header("x-csrf-token", atrium_core::token::generate().secret)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 403, "wrong header token");
    let a = Answer::of(
        api()
            .post(&url)
            .header("cookie", &me.cookie)
            .header("x-csrf-token", &me.csrf)
            .header("origin", "https://evil.example")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 403, "foreign origin");
    let a = Answer::of(
        api()
            .post(&url)
            .header("cookie", &me.cookie)
            .header("x-csrf-token", &me.csrf)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let a = Answer::of(api().post(&url).bearer_auth(me.session.as_deref().unwrap()).json(&body).send().await.unwrap())
        .await;
    assert_eq!(a.status, 201, "bearer needs no CSRF token");
    app.stop().await;
}

#[tokio::test]
async fn sec_io_6_nothing_changes_state_on_get() {
    // SEC-IO-6: state-changing routes do not answer GET (or HEAD); following a link cannot act.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let me = app.browser_creds(Some(w.a.admin)).await;
    for path in [
        "/logout".to_string(),
        format!("/portal/tasks/{}/status?status=done", w.a.task),
        format!("/portal/tasks/{}/comments?body=hi", w.a.task),
        "/view-as/exit".to_string(),
        "/account/password".to_string(),
    ] {
        for m in [reqwest::Method::GET, reqwest::Method::HEAD] {
            let a =
                Answer::of(api().request(m.clone(), app.url(&path)).header("cookie", &me.cookie).send().await.unwrap())
                    .await;
            assert_eq!(a.status, 405, "{m} {path}");
        }
    }
    let t = app.store.task(&app.actor(w.owner).await.work_scope(), w.a.task).await.unwrap().task;
    assert_eq!(t.status, atrium_core::model::TaskStatus::Todo);
    assert_eq!(
        api().get(app.url("/portal")).header("cookie", &me.cookie).send().await.unwrap().status(),
        200,
        "still signed in"
    );
    // Opening a one-time link only shows a confirm page (SEC-AUTH-7).
    let inv = app
        .store
        .create_invitation(
            &app.actor(w.owner).await,
            "peek@a.test".into(),
            "Peek".into(),
            atrium_core::model::Role::ClientViewer,
            Some(w.a.id),
            None,
        )
        .await
        .unwrap()
        .1;
    for _ in 0..3 {
        let a = api().get(app.url(&format!("/invite/{}", inv.secret))).send().await.unwrap();
        assert_eq!(a.status(), 200);
    }
    assert!(
        app.store.sign_in().invitation_by_token(&inv.secret).await.is_ok(),
        "prefetching did not use the invitation"
    );
    app.stop().await;
}

// ----- sign-in answers -----------------------------------------------------------------------

#[tokio::test]
async fn sec_auth_4_login_rate_limit_answers_429() {
    // SEC-AUTH-4: per account (10 / 15 min) and per IP, with Retry-After, on the form too.
    let app = TestApp::spawn_with(|c| c.login_per_ip = 15).await;
    seed(&app).await;
    let b = app.browser_creds(None).await;
    let form = |email: &str, pw: &str| {
        api()
            .post(app.url("/login"))
            .header("cookie", &b.cookie)
            .form(&[("_csrf", b.csrf.as_str()), ("email", email), ("password", pw)])
            .send()
    };
    for i in 0..10 {
        let a = form("staff@agency.test", "not the password").await.unwrap();
        assert_eq!(a.status(), 401, "attempt {i}");
    }
    let a = Answer::of(form("staff@agency.test", PASSWORD).await.unwrap()).await;
    assert_eq!(a.status, 429, "11th attempt, even with the right password");
    let retry: u64 = header(&a, "retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(set_cookie(&a, "atrium_session").is_none());
    assert!(a.body.contains("Too many attempts"));
    // Another account from the same address: allowed until the per-IP limit (15) is reached.
    for i in 0..4 {
        assert_eq!(form(&format!("user{i}@x.test"), "nope nope").await.unwrap().status(), 401);
    }
    let a = Answer::of(form("admin@a.test", PASSWORD).await.unwrap()).await;
    assert_eq!(a.status, 429, "16th attempt from this IP");
    // The API shares the same counters.
    let a = api_login(&app, "viewer@a.test").await;
    assert_eq!(a.status, 429);
    assert_eq!(a.json()["error"]["code"], "rate_limited");
    assert!(header(&a, "retry-after").is_some());
    app.stop().await;
}

#[tokio::test]
async fn sec_auth_3_same_answer_whether_or_not_the_account_exists() {
    // SEC-AUTH-3: magic link, reset and login answer identically for known and unknown emails.
    let app = TestApp::spawn().await;
    seed(&app).await;
    let b = app.browser_creds(None).await;
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let mut f = fields;
        f.push(("_csrf", b.csrf.clone()));
        api().post(app.url(path)).header("cookie", &b.cookie).form(&f).send()
    };
    for path in ["/login/link", "/reset"] {
        let known = Answer::of(post(path, vec![("email", "admin@a.test".into())]).await.unwrap()).await;
        let unknown = Answer::of(post(path, vec![("email", "ghost@a.test".into())]).await.unwrap()).await;
        assert_eq!(known.status, 200, "{path}");
        assert_eq!(known.status, unknown.status, "{path}");
        assert_eq!(known.body, unknown.body, "{path}: identical pages");
    }
    for path in ["/api/v1/magic-links"] {
        let k =
            Answer::of(api().post(app.url(path)).json(&json!({"email": "admin@a.test"})).send().await.unwrap()).await;
        let u =
            Answer::of(api().post(app.url(path)).json(&json!({"email": "ghost@a.test"})).send().await.unwrap()).await;
        assert_eq!((k.status, &k.body), (u.status, &u.body), "{path}");
    }
    assert_eq!(app.mails().await.len(), 3, "mail went to the real account only");
    // Login: wrong password and unknown account look the same (apart from the echoed email),
    // and take about the same time (the unknown account still pays for a password hash).
    let mut known_t = Vec::new();
    let mut unknown_t = Vec::new();
    let mut pages = Vec::new();
    for i in 0..5 {
        for (email, times) in [("finance@a.test", &mut known_t), ("nobody@a.test", &mut unknown_t)] {
            let start = Instant::now();
            let a = Answer::of(
                post("/login", vec![("email", email.into()), ("password", format!("wrong password {i}"))])
                    .await
                    .unwrap(),
            )
            .await;
            times.push(start.elapsed());
            assert_eq!(a.status, 401);
            pages.push(a.body.replace(email, "EMAIL"));
        }
    }
    assert!(pages.windows(2).all(|p| p[0] == p[1]), "identical sign-in failures");
    known_t.sort();
    unknown_t.sort();
    let (k, u) = (known_t[2].as_secs_f64(), unknown_t[2].as_secs_f64());
    assert!(u > k / 4.0 && u < k * 4.0, "similar timing: known {k:.3}s, unknown {u:.3}s");
    app.stop().await;
}

#[tokio::test]
async fn sec_auth_8_mailed_links_use_the_public_url() {
    // SEC-AUTH-8: a poisoned Host header does not reach links in mail or API answers.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let b = app.browser_creds(None).await;
    let r = api()
        .post(app.url("/reset"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("cookie", &b.cookie)
        .form(&[("_csrf", b.csrf.as_str()), ("email", "admin@a.test")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let inv = Answer::of(
        api()
            .post(app.url("/api/v1/invitations"))
            .header("host", "evil.example")
            .header("x-forwarded-host", "evil.example")
            .bearer_auth(app.token_for(w.owner).await)
            .json(&json!({"email": "hosty@a.test", "name": "H", "role": "client_viewer", "client_id": w.a.id.to_string()}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(inv.json()["accept_url"].as_str().unwrap().starts_with(&format!("{PUBLIC_URL}/invite/")));
    let mails = app.mails().await;
    assert_eq!(mails.len(), 2);
    for m in &mails {
        assert!(!m.text.contains("evil.example") && !m.html.contains("evil.example"), "{}", m.text);
        let link = m.text.lines().find(|l| l.trim().starts_with("http")).unwrap().trim();
        assert!(link.starts_with(PUBLIC_URL), "{link}");
    }
    app.stop().await;
}

#[tokio::test]
async fn sec_auth_1_password_hashes_are_never_returned() {
    // SEC-AUTH-1: no password or hash in any answer about a user.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let login = api_login(&app, "owner@agency.test").await;
    let token = login.json()["token"].as_str().unwrap().to_string();
    let me = Answer::of(api().get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap()).await;
    let creds = app.browser_creds(Some(w.owner)).await;
    let team =
        Answer::of(api().get(app.url("/staff/team")).header("cookie", &creds.cookie).send().await.unwrap()).await;
    let client = Answer::of(
        api().get(app.url(&format!("/staff/clients/{}", w.a.id))).header("cookie", &creds.cookie).send().await.unwrap(),
    )
    .await;
    let hash = app.store.sign_in().account(w.owner).await.unwrap().unwrap().password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$"), "argon2id");
    for (what, a) in [("login", &login), ("me", &me), ("team", &team), ("client", &client)] {
        assert_eq!(a.status / 100, 2, "{what}");
        for bad in ["$argon2", "password_hash", PASSWORD, &hash[hash.len() - 20..]] {
            assert!(!a.body.contains(bad), "{what} contains {bad}");
        }
    }
    app.stop().await;
}
