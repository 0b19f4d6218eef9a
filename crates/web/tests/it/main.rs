//! The web crate's HTTP integration tests, in one test binary (`cargo test -p atrium-web --test
//! it`; a name filter picks a suite: `cargo test -p atrium-web --test it authz_matrix`). Each
//! module is one suite; `common` is the harness (a fresh database and server per test) and `sse`
//! an event-stream reader. The fixtures in `tests/fixtures/` are shared with `src/preview.rs`'s
//! unit tests, the browser suite and the benchmarks, so they stay outside this binary's folder.

mod common;
mod sse;

mod accounts;
mod api_flow;
mod api_tokens;
mod approvals;
mod audiences;
mod authz_matrix;
mod automations;
mod bad_input;
mod billing;
mod branding;
mod client_lifecycle;
mod contacts;
mod cursors;
mod email_smtp;
mod files;
mod hardening;
mod helpdesk;
mod helpdesk_config;
mod hidden_pages;
mod live_events;
mod logging;
mod mail_in;
mod mail_in_imap;
mod messages;
mod notifications;
mod portal_pages;
mod previews;
mod project_pages;
mod quick_actions;
mod recurring_invoices;
mod security_headers;
mod shutdown;
mod staff_pages;
mod templates;
mod timeouts;
mod timezones;
