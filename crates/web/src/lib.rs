//! Atrium's HTTP layer: one router serving server-rendered pages, the JSON API under
//! `/api/v1` (with its OpenAPI document) and static assets. Authentication, CSRF protection,
//! security headers and error rendering are layers here; every permission is asked of
//! [`atrium_core::policy`], every scoped read goes through [`atrium_store`].

pub mod api;
pub mod audience;
pub mod auth;
pub mod brand;
pub mod branding;
pub mod config;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod flows;
pub mod headers;
pub mod jobs;
pub mod logo;
pub mod mail_in;
pub mod pages;
pub mod pdf;
pub mod preview;
pub mod preview_service;
pub mod routes;
mod server;
pub mod state;

pub use config::WebConfig;
pub use server::serve;
pub use state::AppState;
