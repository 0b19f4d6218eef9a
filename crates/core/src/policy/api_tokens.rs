//! Who keeps personal API tokens: every signed-in person their own (staff and client users
//! alike; a token then does no more than its person may). Never while viewing as a client: a
//! token is its owner's, and "View as client" is read-only and cannot act as the client.

use super::Actor;
use crate::{Error, Result};

impl Actor {
    /// List, make and revoke one's own API tokens: anyone acting as themselves; "View as
    /// client" gets 403.
    pub fn may_manage_api_tokens(&self) -> Result<()> {
        if self.viewing_staff().is_some() {
            return Err(Error::Forbidden("API tokens are not available while viewing as a client"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::ids::{ClientId, UserId};
    use crate::model::Role;
    use crate::policy::Actor;

    fn actor(role: Role, client: Option<ClientId>) -> Actor {
        Actor::new(UserId::new(), "A".into(), "a@x.test".into(), role, client).unwrap()
    }

    #[test]
    fn everyone_keeps_their_own_tokens_but_not_while_viewing_as_a_client() {
        for role in [Role::Owner, Role::Admin, Role::Staff] {
            assert!(actor(role, None).may_manage_api_tokens().is_ok(), "{role:?}");
        }
        let c = Some(ClientId::new());
        for role in [Role::ClientAdmin, Role::ClientFinance, Role::ClientViewer] {
            assert!(actor(role, c).may_manage_api_tokens().is_ok(), "{role:?}");
        }
        let staff = actor(Role::Staff, None);
        let viewing = actor(Role::ClientAdmin, c).viewed_by(staff.user_id());
        assert!(matches!(viewing.may_manage_api_tokens(), Err(crate::Error::Forbidden(_))));
    }
}
