//! Hand-written SeaORM entities, one module per table. Columns use types that map alike on
//! SQLite and PostgreSQL (uuid, text, boolean, integer, date, timestamp with time zone).

pub mod approval;
pub mod approval_approver;
pub mod approval_event;
pub mod audit;
pub mod branding;
pub mod client;
pub mod comment;
pub mod contact;
pub mod file;
pub mod file_version;
pub mod folder;
pub mod instance_secret;
pub mod invitation;
pub mod invoice;
pub mod invoice_line;
pub mod invoice_settings;
pub mod job;
pub mod login_token;
pub mod membership;
pub mod message;
pub mod message_read;
pub mod milestone;
pub mod notification;
pub mod notification_pref;
pub mod payment;
pub mod portal_defaults;
pub mod project;
pub mod project_member;
pub mod project_page;
pub mod rate_limit;
pub mod revocation;
pub mod session;
pub mod task;
pub mod user;
