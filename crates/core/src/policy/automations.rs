//! Who keeps the automations: the agency's owners and admins (other staff 403; client users
//! never learn they exist, so 404).

use super::Actor;
use crate::model::Role;
use crate::{Error, Result};

impl Actor {
    /// List, read, add, change, switch and delete automations and read their runs: owners and
    /// admins acting as themselves; other staff 403; client users (and "View as client") 404.
    pub fn may_manage_automations(&self) -> Result<()> {
        self.staff_or(Error::NotFound)?;
        match self.role() {
            Role::Owner | Role::Admin => Ok(()),
            _ => Err(Error::Forbidden("only owners and admins can change automations")),
        }
    }
}

/// Whether an automation's mail or summary about a subject of `subject_client` may reach a
/// person (SEC-AC: rendered only with what the recipient may see): staff always; a client user
/// only their own client's subjects, and only what their role and portal show them — work
/// (tasks, projects, milestones, summaries) not to finance users, approvals and tickets only
/// when their portal shows those areas, invoices only to admins and finance users; never an
/// invitation (the invitee is not a user yet).
pub fn automation_mail_reaches(
    role: Role,
    client: Option<crate::ids::ClientId>,
    pages: super::PortalPages,
    subject: crate::automation::SubjectType,
    subject_client: crate::ids::ClientId,
) -> bool {
    use crate::automation::SubjectType as S;
    use crate::model::NotificationSubject as N;
    if role.is_staff() {
        return true;
    }
    if client != Some(subject_client) {
        return false;
    }
    let work = super::person_sees_work(role, client, subject_client, false);
    match subject {
        S::Task | S::Project | S::Milestone | S::Client => work,
        S::Approval => work && super::person_hears_of(role, pages, N::Approval),
        S::Invoice => {
            super::person_receives_invoices(role, client, subject_client)
                && super::person_hears_of(role, pages, N::Invoice)
        }
        S::Ticket => super::person_hears_of(role, pages, N::Ticket),
        S::Invitation => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automation::SubjectType as S;
    use crate::ids::{ClientId, UserId};
    use crate::policy::{PortalPage, PortalPages};

    #[test]
    fn only_owners_and_admins_keep_automations() {
        let c = ClientId::new();
        let a = |role, client| Actor::new(UserId::new(), "A".into(), "a@x.test".into(), role, client).unwrap();
        assert!(a(Role::Owner, None).may_manage_automations().is_ok());
        assert!(a(Role::Admin, None).may_manage_automations().is_ok());
        assert!(matches!(a(Role::Staff, None).may_manage_automations(), Err(Error::Forbidden(_))));
        assert!(matches!(a(Role::ClientAdmin, Some(c)).may_manage_automations(), Err(Error::NotFound)));
    }

    #[test]
    fn a_mail_reaches_only_who_may_see_its_subject() {
        let (mine, other) = (ClientId::new(), ClientId::new());
        let all = PortalPages::ALL_SHOWN;
        let reach = |role, client, pages, s| automation_mail_reaches(role, client, pages, s, mine);
        assert!(reach(Role::Staff, None, all, S::Invoice));
        assert!(reach(Role::ClientAdmin, Some(mine), all, S::Task));
        assert!(!reach(Role::ClientAdmin, Some(other), all, S::Task), "another client's subject");
        assert!(!reach(Role::ClientFinance, Some(mine), all, S::Task), "finance sees billing only");
        assert!(reach(Role::ClientFinance, Some(mine), all, S::Invoice));
        assert!(!reach(Role::ClientViewer, Some(mine), all, S::Invoice));
        let no_billing = all.with(PortalPage::Billing, false).unwrap();
        assert!(!reach(Role::ClientAdmin, Some(mine), no_billing, S::Invoice), "a hidden area");
        assert!(!reach(Role::ClientAdmin, Some(mine), all, S::Invitation));
    }
}
