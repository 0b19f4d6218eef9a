//! Saved replies: the staff's one shared library of answers, inserted into a composer and
//! edited there before sending. Who may keep them is the policy's
//! (`Actor::may_use_saved_replies`).

use chrono::{DateTime, Utc};

use crate::Result;
use crate::ids::{SavedReplyId, UserId};
use crate::validate::{self, BODY_MAX};

/// The longest title (it names the reply in the composer's list).
pub const TITLE_MAX: usize = 200;
/// The most saved replies the library holds.
pub const LIBRARY_MAX: usize = 500;

/// One saved reply.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SavedReply {
    #[schema(value_type = String, format = Uuid)]
    pub id: SavedReplyId,
    pub title: String,
    /// Markdown, inserted into the composer as it is.
    pub body: String,
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub updated_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A checked title: one line of at most [`TITLE_MAX`] characters (422 `title`).
pub fn title(value: &str) -> Result<String> {
    validate::line("title", value, TITLE_MAX)
}

/// A checked body: text of at most `BODY_MAX` characters, as a comment's (422 `body`).
pub fn body(value: &str) -> Result<String> {
    validate::text("body", value, BODY_MAX)
}
