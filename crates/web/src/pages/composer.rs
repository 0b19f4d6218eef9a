//! What a comment composer offers besides its text box: the staff's saved replies, inserted at
//! the cursor by `app.js` and edited there before sending (`composer_saved_replies.html`).

use atrium_core::policy::Actor;

use crate::error::AppResult;
use crate::state::AppState;

/// A saved reply as the composer's list offers it.
pub struct SavedReplyPick {
    pub title: String,
    /// Inserted into the text box as it is (markdown).
    pub body: String,
}

/// The saved replies a composer offers `actor`: every one for staff acting as themselves,
/// none for anyone else (the list is then not rendered). Any page with a staff composer (a
/// task's, a ticket's) calls this and passes the result as `saved_replies` to the
/// `composer_saved_replies.html` partial.
pub async fn saved_reply_picks(st: &AppState, actor: &Actor) -> AppResult<Vec<SavedReplyPick>> {
    if actor.may_use_saved_replies().is_err() {
        return Ok(Vec::new());
    }
    let replies = st.store.saved_replies(actor).await?;
    Ok(replies.into_iter().map(|r| SavedReplyPick { title: r.title, body: r.body }).collect())
}
