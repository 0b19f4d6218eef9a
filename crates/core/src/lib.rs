//! Atrium's domain: typed ids, roles and statuses, validation rules, secrets handling
//! and the one access [`policy`] every other layer asks before it reads or writes.

pub mod api_token;
pub mod automation;
pub mod branding;
pub mod embed;
pub mod error;
pub mod helpdesk;
pub mod ids;
pub mod live;
pub mod local_time;
pub mod markdown;
pub mod mention;
pub mod model;
pub mod money;
pub mod password;
pub mod policy;
pub mod portal;
pub mod project_page;
pub mod quick_actions;
pub mod request_form;
pub mod saved_reply;
pub mod service_level;
pub mod template;
pub mod token;
pub mod validate;

pub use error::{Error, Result};
