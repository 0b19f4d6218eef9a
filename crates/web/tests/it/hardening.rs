//! What an adversarial review of the running server found (issue 11), each proven over HTTP on
//! the real router: bounded markdown and a post rate limit (SEC-IO-7), nothing changing on
//! `GET` (SEC-IO-6), a CSRF token bound to the session, and a sign-in limit a stranger cannot use
//! to lock someone out (SEC-AUTH-4).

use crate::common::*;
use serde_json::json;

/// How deep `<blockquote>`, `<ol>`, `<ul>` and `<li>` nest in `html`.
fn container_depth(html: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '/').collect();
        match name.as_str() {
            "blockquote" | "ol" | "ul" | "li" => {
                depth += 1;
                max = max.max(depth);
            }
            "/blockquote" | "/ol" | "/ul" | "/li" => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

async fn comment(app: &TestApp, token: &str, task: &str, body: &str) -> (u16, serde_json::Value) {
    call(app, token, "POST", &format!("/tasks/{task}/comments"), Some(json!({"body": body, "visibility": "reply"})))
        .await
}

#[tokio::test]
async fn sec_io_7_markdown_nesting_is_bounded_and_images_fetch_nothing() {
    // SEC-IO-7: 9,999 nested quotes used to render 9,999 nested elements (0.3 s each, quadratic
    // in the sanitiser); SEC-IO-6: an image in a reply made each reader's browser GET a URL.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let task = w.a.task.to_string();
    let (s, c) = comment(&app, &admin, &task, &("> ".repeat(9_990) + "deepest words")).await;
    assert_eq!(s, 201, "{c}");
    let html = c["body_html"].as_str().unwrap();
    let depth = container_depth(html);
    assert!((1..=atrium_core::markdown::MAX_DEPTH).contains(&depth), "nested {depth} deep");
    assert!(html.contains("deepest words"), "the text is kept");

    let staff_channel = format!("/staff/projects/{}/messages?channel=staff", w.a.project);
    let (s, c) =
        comment(&app, &admin, &task, &format!("Look: ![chart]({staff_channel}) and ![x](https://t.test/p.gif)")).await;
    assert_eq!(s, 201, "{c}");
    let html = c["body_html"].as_str().unwrap();
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains(">chart</a>"), "an image is a link to it: {html}");
    // The staff member reading the task sees links, no image, on the page too.
    let staff = app.browser_creds(Some(w.staff)).await;
    let page = Answer::of(
        api().get(app.url(&format!("/staff/tasks/{task}"))).header("cookie", &staff.cookie).send().await.unwrap(),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<img src=\"/staff"), "no same-origin image in the page");
    assert!(container_depth(&page.body) <= atrium_core::markdown::MAX_DEPTH + 4, "the page's own lists aside");
    app.stop().await;
}

#[tokio::test]
async fn sec_io_7_posting_comments_and_messages_is_rate_limited_per_user() {
    // SEC-IO-7: one user posting in a loop is stopped at the limit, on every path; others are not.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let task = w.a.task.to_string();
    let messages = format!("/projects/{}/messages", w.a.project);
    let limit = atrium_store::rate_limit::POSTS_PER_WINDOW;
    for i in 0..limit {
        let (s, v) = if i % 2 == 0 {
            comment(&app, &admin, &task, &format!("comment {i}")).await
        } else {
            call(&app, &admin, "POST", &messages, Some(json!({"body": format!("message {i}")}))).await
        };
        assert_eq!(s, 201, "post {i}: {v}");
    }
    let (s, v) = comment(&app, &admin, &task, "one too many").await;
    assert_eq!(s, 429, "{v}");
    assert_eq!(v["error"]["code"], "rate_limited");
    let (s, _) = call(&app, &admin, "POST", &messages, Some(json!({"body": "also too many"}))).await;
    assert_eq!(s, 429, "messages share the allowance");
    // The form path is the same store function.
    let b = app.browser_creds(Some(w.a.admin)).await;
    let form = Answer::of(
        api()
            .post(app.url(&format!("/portal/tasks/{task}/comments")))
            .header("cookie", &b.cookie)
            .form(&[("_csrf", b.csrf.as_str()), ("body", "from the page")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(form.status, 429, "{}", form.body);
    assert!(form.headers.get("retry-after").is_some());
    // Nothing over the limit was stored.
    let n = app
        .query_strings(
            "SELECT body FROM comments WHERE author_id = ? AND body IN ('one too many', 'from the page')",
            vec![w.a.admin.0.into()],
            &["body"],
        )
        .await;
    assert!(n.is_empty(), "{n:?}");
    // Another user of the same client is not held up.
    let viewer_free = app.token_for(w.owner).await;
    let (s, v) = comment(&app, &viewer_free, &task, "staff can still answer").await;
    assert_eq!(s, 201, "{v}");
    app.stop().await;
}

#[tokio::test]
async fn sec_io_6_opening_a_conversation_marks_nothing_read_until_the_page_posts() {
    // SEC-IO-6: GET and HEAD of a conversation page (or an <img> pointing at it) change nothing;
    // the page's script records reading with a POST.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.browser_creds(Some(w.a.admin)).await;
    let path = format!("/portal/projects/{}/messages", w.a.project);
    let owner = app.token_for(w.owner).await;
    let read_by = || async {
        let (_, list) = call(&app, &owner, "GET", &format!("/projects/{}/messages", w.a.project), None).await;
        let m = list["items"].as_array().unwrap().iter().find(|m| m["id"] == w.a.message.to_string()).unwrap().clone();
        m["read_by"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    for m in [reqwest::Method::GET, reqwest::Method::HEAD, reqwest::Method::GET] {
        let a =
            Answer::of(api().request(m.clone(), app.url(&path)).header("cookie", &admin.cookie).send().await.unwrap())
                .await;
        assert_eq!(a.status, 200, "{m}");
    }
    assert!(read_by().await.is_empty(), "opening the page recorded nothing");
    let page = Answer::of(api().get(app.url(&path)).header("cookie", &admin.cookie).send().await.unwrap()).await;
    let url = format!("/api/v1/projects/{}/messages/read", w.a.project);
    assert!(page.body.contains(&format!("data-read-url=\"{url}\"")), "the page names where to POST");
    assert!(page.body.contains(&format!("data-read-up-to=\"{}\"", w.a.message)));
    // What the script sends: the session's CSRF token in the header, same origin.
    let r = api()
        .post(app.url(&url))
        .header("cookie", &admin.cookie)
        .header("x-csrf-token", &admin.csrf)
        .header("origin", PUBLIC_URL)
        .json(&json!({"up_to": w.a.message.to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(read_by().await, vec!["Admina Person".to_string()]);
    app.stop().await;
}

#[tokio::test]
async fn sec_io_6_csrf_token_is_bound_to_the_session_and_new_at_sign_in() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let post = |cookie: String, token: String| {
        let url = app.url(&format!("/portal/tasks/{}/comments", w.a.task));
        async move {
            api()
                .post(url)
                .header("cookie", cookie)
                .form(&[("_csrf", token.as_str()), ("body", "bound?")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let one = app.browser_creds(Some(w.a.admin)).await;
    let two = app.browser_creds(Some(w.a.admin)).await;
    assert_ne!(one.csrf, two.csrf, "each session has its own token");
    // The double-submit cookie's value is no longer enough once signed in.
    let cookie_value =
        one.cookie.split("; ").find_map(|c| c.strip_prefix(&format!("{}=", app.config.csrf_cookie()))).unwrap();
    assert_eq!(post(one.cookie.clone(), cookie_value.to_string()).await, 403, "the cookie's token");
    assert_eq!(post(one.cookie.clone(), two.csrf.clone()).await, 403, "another session's token");
    assert_eq!(post(one.cookie.clone(), one.csrf.clone()).await, 303, "its own token");

    // Signing in gives a new token: the one on the sign-in page stops working.
    let anon = app.browser_creds(None).await;
    let login = Answer::of(
        api()
            .post(app.url("/login"))
            .header("cookie", &anon.cookie)
            .form(&[("_csrf", anon.csrf.as_str()), ("email", "admin@a.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(login.status, 303, "{}", login.body);
    let set = login.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    let session = set
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{}=", app.config.session_cookie())))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string();
    let signed_in = format!("{}={session}; {}", app.config.session_cookie(), anon.cookie);
    assert_eq!(post(signed_in.clone(), anon.csrf.clone()).await, 403, "the pre-sign-in token");
    let portal =
        Answer::of(api().get(app.url("/portal")).header("cookie", &signed_in).send().await.unwrap()).await.body;
    let fresh = csrf_from(&portal);
    assert_ne!(fresh, anon.csrf);
    assert_eq!(post(signed_in, fresh).await, 303, "the page's new token");
    app.stop().await;
}

#[tokio::test]
async fn sec_auth_4_a_stranger_cannot_lock_an_account_out() {
    // SEC-AUTH-4: ten wrong passwords from one address stop that address, not the owner signing
    // in from elsewhere; a guess spread over many addresses is still bounded; sign-in by email
    // link keeps working meanwhile.
    let app = TestApp::spawn_with(|c| c.trust_proxy = true).await;
    seed(&app).await;
    let attempt = |ip: String, password: &'static str| {
        let url = app.url("/api/v1/session");
        async move {
            api()
                .post(url)
                .header("x-forwarded-for", ip)
                .json(&json!({"email": "owner@agency.test", "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 0..10 {
        assert_eq!(attempt("203.0.113.9".into(), "not the password").await, 401, "attempt {i}");
    }
    assert_eq!(attempt("203.0.113.9".into(), PASSWORD).await, 429, "the guessing address is stopped");
    assert_eq!(attempt("198.51.100.7".into(), PASSWORD).await, 201, "the owner, elsewhere, is not");
    // Many addresses together: bounded at ten times the per-address allowance.
    let everywhere = app.config.login_per_account * atrium_web::flows::LOGIN_ACCOUNT_ALL_ADDRESSES;
    let mut refused_at = None;
    for i in 0..everywhere + 5 {
        if attempt(format!("192.0.2.{}", i % 250), "not the password").await == 429 {
            refused_at = Some(i);
            break;
        }
    }
    // Counted for the account so far: the 10 from 203.0.113.9 and the owner's sign-in (the 11th
    // from 203.0.113.9 was stopped by its address's counter first), then the spread guesses.
    assert_eq!(refused_at, Some(everywhere - 11), "refused from everywhere once over {everywhere}");
    let link = api()
        .post(app.url("/api/v1/magic-links"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({"email": "owner@agency.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), 202, "an email link can still be asked for");
    app.stop().await;
}

#[tokio::test]
async fn rate_limit_counters_of_old_windows_are_pruned() {
    // The per-user and per-account-and-address keys must not pile up for ever.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let (s, _) = comment(&app, &admin, &w.a.task.to_string(), "counted").await;
    assert_eq!(s, 201);
    let key = format!("post:user:{}", w.a.admin);
    let count = |key: String| {
        let app = &app;
        async move { app.query_strings("SELECT key FROM rate_limits WHERE key = ?", vec![key.into()], &["key"]).await.len() }
    };
    assert_eq!(count(key.clone()).await, 1);
    assert_eq!(app.store.prune_rate_limits(chrono::Duration::days(1)).await.unwrap(), 0, "a current window stays");
    let old = chrono::Utc::now() - chrono::Duration::days(2);
    app.exec_sql("UPDATE rate_limits SET window_start = ? WHERE key = ?", vec![old.into(), key.clone().into()]).await;
    assert_eq!(app.store.prune_rate_limits(chrono::Duration::days(1)).await.unwrap(), 1);
    assert_eq!(count(key).await, 0);
    app.stop().await;
}
