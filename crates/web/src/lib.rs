//! Atrium's HTTP layer: one router serving server-rendered pages, the JSON API under
//! `/api/v1` (with its OpenAPI document) and static assets. Authentication, CSRF protection,
//! security headers and error rendering are layers here; every permission is asked of
//! [`atrium_core::policy`], every scoped read goes through [`atrium_store`].

pub mod api;
pub mod auth;
pub mod config;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod flows;
pub mod headers;
pub mod jobs;
pub mod pages;
pub mod pdf;
pub mod preview;
pub mod preview_service;
pub mod routes;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;

pub use config::WebConfig;
pub use state::AppState;

/// Serves the app on `listener` until `shutdown` resolves; in-flight requests then finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let streams = state.clone();
    let app = routes::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Event streams never finish on their own: end them so in-flight requests can.
            streams.stop_streams();
        })
        .await
}
