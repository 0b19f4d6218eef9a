//! Who keeps the recurring invoices: staff. A client never learns a schedule exists (404 on
//! every route, pages and API alike); what it issues reaches the client as an ordinary invoice.

use super::Actor;
use crate::{Error, Result};

impl Actor {
    /// List, read, add, change, pause, resume, end and delete recurring invoice schedules:
    /// staff acting as themselves; client users (and "View as client") get 404.
    pub fn may_manage_recurring_invoices(&self) -> Result<()> {
        self.staff_or(Error::NotFound)
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
    fn only_staff_acting_as_themselves_keep_recurring_invoices() {
        for role in [Role::Owner, Role::Admin, Role::Staff] {
            assert!(actor(role, None).may_manage_recurring_invoices().is_ok(), "{role:?}");
        }
        let c = Some(ClientId::new());
        for role in [Role::ClientAdmin, Role::ClientFinance, Role::ClientViewer] {
            let e = actor(role, c).may_manage_recurring_invoices().unwrap_err();
            assert!(matches!(e, crate::Error::NotFound), "{role:?}: {e}");
        }
        let staff = actor(Role::Staff, None);
        let viewing = actor(Role::ClientAdmin, c).viewed_by(staff.user_id());
        assert!(viewing.may_manage_recurring_invoices().is_err(), "view as client is read-only");
    }
}
