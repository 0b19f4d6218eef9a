//! Atrium's persistence: connection set-up, migrations, entities and the queries the
//! application uses. Every read a client user can reach takes a policy [`Scope`] and applies it
//! here, so isolation does not depend on handlers remembering to check.
//!
//! [`Scope`]: atrium_core::policy::Scope

mod access;
pub mod api_tokens;
pub mod approvals;
pub mod audit;
pub mod auth;
mod automation_context;
pub mod automation_fire;
pub mod automation_runs;
pub mod automation_sweep;
pub mod automations;
pub mod backup;
pub mod billing;
pub mod blobs;
pub mod branding;
pub mod bulk;
mod candidates;
pub mod client_invitation;
pub mod client_lifecycle;
pub mod client_onboarding;
mod clock;
mod comments;
pub mod contacts;
mod conv;
mod dates;
pub mod db;
pub mod entity;
pub mod events;
pub mod files;
pub mod helpdesk_settings;
pub mod jobs;
pub mod mail_in;
pub mod messages;
pub mod migration;
mod milestones;
pub mod notifications;
pub mod paging;
pub mod people;
pub mod portal;
pub mod project_pages;
mod project_team;
pub mod rate_limit;
pub mod request_forms;
mod revocation_feed;
pub mod revocations;
pub mod saved_replies;
mod scoping;
mod sign_in;
pub mod system;
pub mod template_projects;
pub mod templates;
mod ticket_changes;
mod ticket_comments;
pub mod ticket_files;
pub mod ticket_rating;
mod ticket_rows;
pub mod ticket_sweeps;
pub mod tickets;
mod view_as;
pub mod work;

pub use db::{Store, connect, connect_with};
pub use system::{JobRunner, Operator, SignIn};
