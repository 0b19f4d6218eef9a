//! Graceful shutdown: a request in flight when the signal arrives still gets its answer; new
//! connections are no longer accepted.

use std::time::Duration;

use crate::common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn in_flight_requests_finish_after_the_shutdown_signal() {
    let mut app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let body = r#"{"email":"nobody@nowhere.test","password":"not the password"}"#;
    let (first, rest) = body.split_at(20);

    // Headers and half the body, then the signal, then the rest of the body.
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/session HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    app.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    conn.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "the in-flight request was answered: {answer}");
    assert!(answer.contains("\"unauthorized\"") || answer.contains("bad_credentials"), "{answer}");

    // Once the in-flight request is done the server stops; nobody new gets in.
    app.stop().await;
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err(), "the listener is closed");
}

#[tokio::test]
async fn open_event_streams_do_not_hold_up_shutdown() {
    let mut app = TestApp::spawn().await;
    let w = seed(&app).await;
    let token = app.token_for(w.a.admin).await;
    let res = api().get(app.url("/api/v1/events")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let reading = tokio::spawn(async move {
        let mut res = res;
        while let Ok(Some(_)) = res.chunk().await {}
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.begin_shutdown();
    tokio::time::timeout(Duration::from_secs(2), reading).await.expect("the stream ended").unwrap();
    tokio::time::timeout(Duration::from_secs(5), app.stop()).await.expect("the server stopped");
}

#[tokio::test]
async fn event_streams_per_user_are_limited() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let token = app.token_for(w.a.admin).await;
    let mut open = Vec::new();
    for _ in 0..app.config.max_streams_per_user {
        let r = api().get(app.url("/api/v1/events")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        open.push(r);
    }
    let r = api().get(app.url("/api/v1/events")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 429, "one stream too many");
    assert!(r.headers().get("retry-after").is_some());
    // Another user is not affected; closing a stream frees its slot.
    let other = app.token_for(w.a.viewer).await;
    assert_eq!(api().get(app.url("/api/v1/events")).bearer_auth(&other).send().await.unwrap().status(), 200);
    drop(open.pop());
    let mut freed = false;
    for _ in 0..50 {
        let r = api().get(app.url("/api/v1/events")).bearer_auth(&token).send().await.unwrap();
        if r.status() == 200 {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(freed, "a closed stream gives its slot back");
    drop(open);
    app.stop().await;
}
