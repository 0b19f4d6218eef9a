//! The accept loop: HTTP/1.1 connections served by hyper with a header-read timeout (which also
//! bounds an idle keep-alive connection), the client address for rate limits and audit, and a
//! graceful shutdown. The body-read timeout is a layer of the router (`routes::router`).
//!
//! Only HTTP/1.1 is spoken: browsers never use HTTP/2 without TLS, and TLS (with HTTP/2 towards
//! browsers) ends at the reverse proxy; cleartext HTTP/2 would have no header-read timeout.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt;

use crate::state::AppState;

/// How long to wait before accepting again after `accept` failed (e.g. out of file descriptors).
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Serves the app on `listener` until `shutdown` resolves; in-flight requests then finish
/// (open event streams are told to end), idle connections close at once.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Hear every live event from before the first request on (on PostgreSQL this starts the
    // LISTEN), so a page's stream can be given what was published since the page was rendered.
    drop(state.store.subscribe(None).await);
    let mut http = hyper::server::conn::http1::Builder::new();
    // The timer starts when the server waits for a request head: on a new connection and after
    // each response, so a slow head and an idle keep-alive connection are both dropped.
    http.timer(TokioTimer::new()).header_read_timeout(state.config.header_read_timeout).keep_alive(true);
    let app = crate::routes::router(state.clone());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // What `into_make_service_with_connect_info::<SocketAddr>()` did: the peer address for
        // the `ConnectInfo` extractor.
        let svc = app.clone().map_request(move |mut req: axum::extract::Request<_>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(addr));
            req
        });
        let conn = http.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(svc));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Event streams never finish on their own: end them so in-flight requests can.
    state.stop_streams();
    graceful.shutdown().await;
    Ok(())
}
