//! Connection timeouts (SEC-IO-8), over real sockets: a request head that does not arrive in
//! time closes the connection, so does an idle keep-alive connection; a request body that stops
//! arriving is answered 408. A slow body that keeps coming, a slow upload and an open event
//! stream are not affected. The server runs with 1 s timeouts; the assertions leave wide margins.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(1);
/// Longer than any timeout could take to fire, shorter than "stays open for minutes".
const MARGIN: Duration = Duration::from_secs(10);

async fn app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.header_read_timeout = TIMEOUT;
        c.body_read_timeout = TIMEOUT;
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap()
}

/// Reads until the server closes the connection; what it sent, or `None` if it stayed open.
async fn read_until_closed(conn: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    match tokio::time::timeout(within, conn.read_to_end(&mut got)).await {
        Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
        Err(_) => None,
    }
}

/// Asserts the server closes `conn` (silently or with a 408) within [`MARGIN`].
async fn assert_dropped(conn: &mut TcpStream, what: &str) {
    let got = read_until_closed(conn, MARGIN).await.unwrap_or_else(|| panic!("{what} is closed, not kept open"));
    assert!(got.is_empty() || got.starts_with("HTTP/1.1 408"), "{what}: closed or 408, got {got:?}");
}

/// Sends `head` and half of `body`, then nothing; the answer must be a 408 and a close.
async fn stall_halfway(app: &TestApp, head: &str, body: &[u8]) -> String {
    let mut conn = connect(app).await;
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..body.len() / 2]).await.unwrap();
    let got = read_until_closed(&mut conn, MARGIN).await.expect("answered and closed");
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    got
}

/// Reads one response whose head and body are in by the time `marker` has been seen.
async fn read_until(conn: &mut TcpStream, marker: &str, within: Duration) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    while !String::from_utf8_lossy(&got).contains(marker) {
        let n = tokio::time::timeout_at(deadline, conn.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {marker:?} in time; got {:?}", String::from_utf8_lossy(&got)))
            .unwrap();
        assert!(n > 0, "closed before {marker:?}; got {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn head(addr: &str, method: &str, path: &str, extra: &str, len: usize) -> String {
    format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: {len}\r\n\r\n")
}

// SEC-IO-8
#[tokio::test]
async fn a_half_sent_request_line_is_dropped_after_the_header_timeout() {
    let app = app().await;
    let mut conn = connect(&app).await;
    let started = Instant::now();
    conn.write_all(b"GET /healthz HT").await.unwrap();
    assert_dropped(&mut conn, "a half-sent head").await;
    assert!(started.elapsed() >= TIMEOUT / 2, "dropped by the timeout, not refused at once");
    app.stop().await;
}

// SEC-IO-8
#[tokio::test]
async fn a_connection_that_sends_nothing_is_dropped() {
    let app = app().await;
    let mut conn = connect(&app).await;
    assert_dropped(&mut conn, "a silent connection").await;
    app.stop().await;
}

// SEC-IO-8
#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = app().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut conn = connect(&app).await;
    conn.write_all(head(&addr, "GET", "/healthz", "", 0).as_bytes()).await.unwrap();
    let first = read_until(&mut conn, "ok", MARGIN).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    // The connection stays open for another request for a while, but not for ever.
    assert_dropped(&mut conn, "an idle keep-alive connection").await;
    app.stop().await;
}

// SEC-IO-8
#[tokio::test]
async fn a_trickled_json_body_gets_408() {
    let app = app().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let body = r#"{"email":"nobody@nowhere.test","password":"not the password"}"#;
    let mut conn = connect(&app).await;
    let extra = "Content-Type: application/json\r\n";
    conn.write_all(head(&addr, "POST", "/api/v1/session", extra, body.len()).as_bytes()).await.unwrap();
    // One byte, then a pause longer than the body timeout, then another byte.
    let started = Instant::now();
    for b in body.as_bytes()[..2].iter() {
        if conn.write_all(&[*b]).await.is_err() {
            break;
        }
        tokio::time::sleep(TIMEOUT * 2).await;
    }
    let got = read_until_closed(&mut conn, MARGIN).await.expect("answered and closed");
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.to_ascii_lowercase().contains("connection: close"), "{got}");
    assert!(got.contains(r#""code":"timeout""#), "the JSON error body: {got}");
    assert!(started.elapsed() < MARGIN);
    app.stop().await;
}

// SEC-IO-8: a sign-in form (its body is read by the CSRF check).
#[tokio::test]
async fn a_stalled_form_body_gets_408() {
    let app = app().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let csrf = atrium_core::token::generate().secret;
    let body = format!("_csrf={csrf}&email=nobody%40nowhere.test&password=not+the+password");
    let extra = format!("Content-Type: application/x-www-form-urlencoded\r\nCookie: atrium_csrf={csrf}\r\n");
    stall_halfway(&app, &head(&addr, "POST", "/login", &extra, body.len()), body.as_bytes()).await;
    app.stop().await;
}

/// A multipart upload of `size` bytes of file content (`a` repeated) through the API, as a head
/// and body.
fn upload_request(addr: &str, project: impl std::fmt::Display, token: &str, size: usize) -> (String, Vec<u8>) {
    let path = format!("/api/v1/projects/{project}/files");
    multipart_request(addr, &path, &format!("Authorization: Bearer {token}\r\n"), size)
}

/// A multipart upload of `size` bytes to `path` with the `auth` header lines.
fn multipart_request(addr: &str, path: &str, auth: &str, size: usize) -> (String, Vec<u8>) {
    let boundary = "atrium-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.txt\"\r\nContent-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend(std::iter::repeat_n(b'a', size));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let extra = format!("{auth}Content-Type: multipart/form-data; boundary={boundary}\r\nConnection: close\r\n");
    (head(addr, "POST", path, &extra, body.len()), body)
}

// SEC-IO-8
#[tokio::test]
async fn a_stalled_upload_gets_408_and_stores_nothing() {
    let app = app().await;
    let w = seed(&app).await;
    let token = app.token_for(w.a.admin).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let (head, body) = upload_request(&addr, w.a.project, &token, 64 * 1024);
    let got = stall_halfway(&app, &head, &body).await;
    assert!(got.contains(r#""code":"timeout""#), "the JSON error body: {got}");
    let (s, v) = call(&app, &token, "GET", &format!("/projects/{}/files", w.a.project), None).await;
    assert_eq!(s, 200);
    assert!(!v.to_string().contains("slow.txt"), "no file was recorded: {v}");
    app.stop().await;
}

// SEC-IO-8: the page's upload form gets its 408 as an HTML page.
#[tokio::test]
async fn a_stalled_upload_from_the_portal_page_gets_an_html_408() {
    let app = app().await;
    let w = seed(&app).await;
    let session = app.token_for(w.a.admin).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    // A signed-in browser's CSRF token is derived from its session.
    let csrf = atrium_web::csrf::session_token(&session);
    let path = format!("/portal/projects/{}/files?_csrf={csrf}", w.a.project);
    let cookies = format!("Cookie: atrium_session={session}\r\n");
    let (head, body) = multipart_request(&addr, &path, &cookies, 64 * 1024);
    let got = stall_halfway(&app, &head, &body).await;
    assert!(got.to_ascii_lowercase().contains("content-type: text/html"), "a page: {got}");
    app.stop().await;
}

// SEC-IO-8: no total-time limit — an upload that keeps sending works however long it takes.
#[tokio::test]
async fn a_slow_but_steady_upload_works_past_the_timeouts() {
    let app = app().await;
    let w = seed(&app).await;
    let token = app.token_for(w.a.admin).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let (head, body) = upload_request(&addr, w.a.project, &token, 12 * 1024);
    let mut conn = connect(&app).await;
    conn.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    // 16 pieces 300 ms apart: about 5 s in all, far past both 1 s timeouts.
    for piece in body.chunks(body.len().div_ceil(16)) {
        conn.write_all(piece).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(started.elapsed() > TIMEOUT * 3);
    let got = read_until_closed(&mut conn, MARGIN).await.expect("answered");
    assert!(got.starts_with("HTTP/1.1 201"), "{got}");
    assert!(got.contains("slow.txt"), "{got}");
    app.stop().await;
}

// SEC-IO-8
#[tokio::test]
async fn a_slow_but_steady_json_body_is_read() {
    let app = app().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let body = r#"{"email":"nobody@nowhere.test","password":"not the password"}"#;
    let extra = "Content-Type: application/json\r\nConnection: close\r\n";
    let mut conn = connect(&app).await;
    conn.write_all(head(&addr, "POST", "/api/v1/session", extra, body.len()).as_bytes()).await.unwrap();
    for piece in body.as_bytes().chunks(8) {
        conn.write_all(piece).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let got = read_until_closed(&mut conn, MARGIN).await.expect("answered");
    assert!(got.starts_with("HTTP/1.1 401"), "the body was read whole: {got}");
    app.stop().await;
}

// SEC-IO-8: a response that takes long (an event stream) is not a slow client.
#[tokio::test]
async fn an_event_stream_keeps_working_past_the_timeouts() {
    let app = app().await;
    let w = seed(&app).await;
    let admin = app.token_for(w.a.admin).await;
    let staff = app.token_for(w.staff).await;
    let mut s = crate::sse::Sse::ready(&app.url("/api/v1/events"), &admin).await;
    tokio::time::sleep(TIMEOUT * 3).await;
    let (st, v) =
        call(&app, &staff, "PATCH", &format!("/tasks/{}", w.a.task), Some(json!({"status": "in_progress"}))).await;
    assert_eq!(st, 200, "{v}");
    let ev = s.wait_for(Duration::from_secs(5), |e| e.kind == "task.updated").await;
    assert!(ev.is_some(), "the stream is still open and delivering; got {:?}", s.seen);
    drop(s);
    app.stop().await;
}
