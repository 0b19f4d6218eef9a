//! This process's revocation fan-out (see `revocations`): what lost its access, and the
//! broadcast channel a committed revocation is passed on through, once per revocation row.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use atrium_core::ids::{ClientId, SessionId, UserId};
use chrono::{DateTime, Utc};
use tokio::sync::{OnceCell, broadcast};

/// How many revocations a slow stream may fall behind before it re-checks its session anyway.
const BUFFER: usize = 256;

/// What lost its access: one session, every session of a user, or every session of a client's
/// users.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// One session (sign-out, or revoked from the sessions list).
    Session(SessionId),
    /// Every session of a user (deactivated, password changed).
    User(UserId),
    /// Every session of a client's users (access revoked, client deleted).
    Client(ClientId),
}

impl Revocation {
    /// Whether this may end a stream of `session` (`None`: an API token's stream), signed in as `users` (the session's owner
    /// and, for "view as client", the viewed user) of `client`.
    pub fn concerns(&self, session: Option<SessionId>, users: &[UserId], client: Option<ClientId>) -> bool {
        match self {
            Revocation::Session(s) => session == Some(*s),
            Revocation::User(u) => users.contains(u),
            Revocation::Client(c) => client == Some(*c),
        }
    }
}

/// This process's revocation fan-out; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Revocations {
    pub(crate) tx: broadcast::Sender<Revocation>,
    /// Rows already passed on, by id, with their time (forgotten after `revocations::WINDOW`).
    seen: Arc<Mutex<HashMap<uuid::Uuid, DateTime<Utc>>>>,
    pub(crate) watching: Arc<OnceCell<()>>,
    /// The watcher stops once every `Store` is gone.
    pub(crate) alive: Arc<()>,
}

impl Default for Revocations {
    fn default() -> Self {
        Revocations {
            tx: broadcast::channel(BUFFER).0,
            seen: Default::default(),
            watching: Arc::new(OnceCell::new()),
            alive: Arc::new(()),
        }
    }
}

impl Revocations {
    /// Passes `what` on unless the row `id` was passed on already.
    pub(crate) fn pass_on(&self, id: uuid::Uuid, at: DateTime<Utc>, what: Revocation) {
        let fresh = match self.seen.lock() {
            Ok(mut seen) => seen.insert(id, at).is_none(),
            Err(_) => true,
        };
        if fresh {
            let _ = self.tx.send(what);
        }
    }

    /// Forgets the rows passed on before `since`.
    pub(crate) fn forget_before(&self, since: DateTime<Utc>) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.retain(|_, at| *at > since);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_concerns_only_what_it_names() {
        let (s, other_s) = (SessionId::new(), SessionId::new());
        let (u, v) = (UserId::new(), UserId::new());
        let (c, d) = (ClientId::new(), ClientId::new());
        assert!(Revocation::Session(s).concerns(Some(s), &[u], Some(c)));
        assert!(!Revocation::Session(other_s).concerns(Some(s), &[u], Some(c)));
        assert!(Revocation::User(u).concerns(Some(s), &[v, u], None));
        assert!(!Revocation::User(v).concerns(Some(s), &[u], Some(c)));
        assert!(Revocation::Client(c).concerns(Some(s), &[u], Some(c)));
        assert!(!Revocation::Client(d).concerns(Some(s), &[u], Some(c)));
        assert!(!Revocation::Client(c).concerns(Some(s), &[u], None), "staff streams belong to no client");
        assert!(!Revocation::Session(s).concerns(None, &[u], Some(c)), "an API token's stream has no session");
        assert!(Revocation::User(u).concerns(None, &[u], None), "its owner's revocations concern it");
    }

    #[test]
    fn a_row_is_passed_on_once() {
        let r = Revocations::default();
        let mut rx = r.tx.subscribe();
        let id = uuid::Uuid::now_v7();
        let what = Revocation::User(UserId::new());
        r.pass_on(id, Utc::now(), what);
        r.pass_on(id, Utc::now(), what);
        assert_eq!(rx.try_recv().ok(), Some(what));
        assert!(rx.try_recv().is_err(), "the watcher re-reading a row announced locally sends nothing");
    }
}
