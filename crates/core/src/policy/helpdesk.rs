//! The help desk's access decisions: who reads which tickets ([`TicketScope`]), who opens,
//! changes, answers and rates them, and who configures the help desk.

use super::{Actor, ClientFilter};
use crate::helpdesk::TicketStatus;
use crate::ids::{ClientId, UserId};
use crate::model::{Role, Visibility};
use crate::portal::PortalPage;
use crate::{Error, Result};

/// Which tickets a query may return: by client, for finance users only their own requests,
/// and internal notes only for staff. Built only by [`Actor::ticket_scope`].
#[derive(Clone, Copy, Debug)]
pub struct TicketScope {
    clients: ClientFilter,
    requester: Option<UserId>,
    notes: bool,
}

impl TicketScope {
    /// The client filter to apply.
    pub fn clients(&self) -> ClientFilter {
        self.clients
    }
    /// When set, only tickets this user asked.
    pub fn requester(&self) -> Option<UserId> {
        self.requester
    }
    /// Whether internal notes on tickets may be returned.
    pub fn includes_notes(&self) -> bool {
        self.notes
    }
    /// Whether a ticket of `client` asked by `requester` is inside the scope.
    pub fn allows(&self, client: ClientId, requester: UserId) -> bool {
        let client_ok = match self.clients {
            ClientFilter::All => true,
            ClientFilter::Only(c) => c == client,
            ClientFilter::Nothing => false,
        };
        client_ok && self.requester.is_none_or(|r| r == requester)
    }
    /// Whether a comment of this visibility may be returned.
    pub fn allows_visibility(&self, v: Visibility) -> bool {
        v == Visibility::Reply || self.notes
    }
}

/// What a change to a ticket touches, for [`Actor::may_change_ticket`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketChange {
    /// Only the status, to solved or back to open (what a requester or client admin may do).
    SolveOrReopen,
    /// Anything else: other statuses, priority, assignee, project, subject (staff).
    Manage,
}

impl Actor {
    /// The tickets this actor reads: staff every client's with notes; a client admin or viewer
    /// their client's; a finance user the ones they asked; nobody of a client whose portal hides
    /// the Help desk ("View as client" reads as the viewed user).
    pub fn ticket_scope(&self) -> TicketScope {
        let nothing = TicketScope { clients: ClientFilter::Nothing, requester: None, notes: false };
        match (self.role, self.client_id) {
            (r, _) if r.is_staff() => TicketScope { clients: ClientFilter::All, requester: None, notes: true },
            _ if !self.portal.shows(PortalPage::HelpDesk) => nothing,
            (Role::ClientAdmin | Role::ClientViewer, Some(c)) => {
                TicketScope { clients: ClientFilter::Only(c), requester: None, notes: false }
            }
            (Role::ClientFinance, Some(c)) => {
                TicketScope { clients: ClientFilter::Only(c), requester: Some(self.user_id), notes: false }
            }
            _ => nothing,
        }
    }

    /// Open a ticket: staff (for any client), client admins and finance users; viewers read
    /// only (403); "View as client" is read-only.
    pub fn may_open_ticket(&self) -> Result<()> {
        self.writable()?;
        match self.role {
            Role::ClientViewer => Err(Error::Forbidden("viewers cannot open tickets")),
            _ => Ok(()),
        }
    }

    /// Choose who a new ticket is asked by: staff may name a user of the ticket's client; a
    /// client user always asks for themselves.
    pub fn may_set_requester(&self) -> Result<()> {
        if self.is_staff() { Ok(()) } else { Err(Error::Forbidden("you can only open tickets for yourself")) }
    }

    /// Change a visible ticket. Staff change anything; the requester or a client admin may
    /// only mark it solved or open it again; viewers and finance users who did not ask it never.
    pub fn may_change_ticket(&self, requester: UserId, change: TicketChange, to: Option<TicketStatus>) -> Result<()> {
        self.writable()?;
        if self.is_staff() {
            return Ok(());
        }
        if self.role == Role::ClientViewer {
            return Err(Error::Forbidden("viewers cannot change tickets"));
        }
        if self.role != Role::ClientAdmin && requester != self.user_id {
            return Err(Error::Forbidden("you can only change tickets you asked"));
        }
        match (change, to) {
            (TicketChange::SolveOrReopen, Some(TicketStatus::Solved | TicketStatus::Open)) => Ok(()),
            _ => Err(Error::Forbidden("you can only mark a ticket solved or open it again")),
        }
    }

    /// Answer on a visible ticket with a Reply (client users but viewers) or a Note (staff).
    pub fn may_comment_on_ticket(&self, visibility: Visibility) -> Result<()> {
        self.may_comment(visibility)
    }

    /// Rate a solved ticket: only its requester, acting as themselves.
    pub fn may_rate_ticket(&self, requester: UserId) -> Result<()> {
        self.writable()?;
        if requester == self.user_id {
            Ok(())
        } else {
            Err(Error::Forbidden("only the person who asked can rate this ticket"))
        }
    }

    /// Work the staff inbox (assign, bulk-close, turn tickets into tasks): staff.
    pub fn may_work_tickets(&self) -> Result<()> {
        self.staff_or(Error::NotFound)
    }

    /// Change the help desk's business hours and service-level targets: owners and admins;
    /// other staff 403; invisible (404) to client users.
    pub fn may_configure_helpdesk(&self) -> Result<()> {
        self.staff_or(Error::NotFound)?;
        match self.role {
            Role::Owner | Role::Admin => Ok(()),
            _ => Err(Error::Forbidden("only owners and admins can change the help desk settings")),
        }
    }

    /// Use and keep the team's saved replies (one library shared by all staff): staff;
    /// invisible (404) to client users.
    pub fn may_use_saved_replies(&self) -> Result<()> {
        self.staff_or(Error::NotFound)
    }

    /// Define a project's request form: staff (client users read it to fill it in).
    pub fn may_edit_request_form(&self) -> Result<()> {
        self.may_manage_work()
    }
}

/// Who may be a ticket's assignee: an active staff member (checked by the store, which loads
/// the person).
pub fn check_ticket_assignee(role: Role) -> Result<()> {
    if role.is_staff() { Ok(()) } else { Err(Error::invalid("assignee_id", "tickets are assigned to staff members")) }
}

/// Who may be named as a ticket's requester: a user of the ticket's client (staff open tickets
/// on a client user's behalf).
pub fn check_ticket_requester(ticket_client: ClientId, role: Role, client: Option<ClientId>) -> Result<()> {
    if !role.is_staff() && client == Some(ticket_client) {
        Ok(())
    } else {
        Err(Error::invalid("requester_id", "must be an active user of the ticket's client"))
    }
}

/// Who is warned that a ticket's next answer is nearly due: its assignee, and the agency's
/// owners and admins (staff only; a client user never is).
pub fn person_warned_of_due(role: Role, person: UserId, assignee: Option<UserId>) -> bool {
    role.is_staff() && (assignee == Some(person) || matches!(role, Role::Owner | Role::Admin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helpdesk::TicketStatus;

    #[test]
    fn the_settings_list_only_kinds_that_reach_the_person() {
        use crate::model::NotificationKind as K;
        use crate::policy::kind_reaches;
        let all = PortalPages::ALL_SHOWN;
        assert!(kind_reaches(Role::Staff, all, K::TicketDue));
        assert!(!kind_reaches(Role::Staff, all, K::InvoiceSent));
        assert!(!kind_reaches(Role::ClientAdmin, all, K::TicketDue));
        assert!(!kind_reaches(Role::ClientAdmin, all, K::TicketAssigned));
        assert!(kind_reaches(Role::ClientAdmin, all, K::TicketReply));
        assert!(kind_reaches(Role::ClientAdmin, all, K::InvoiceSent));
        assert!(!kind_reaches(Role::ClientViewer, all, K::InvoiceSent));
        assert!(kind_reaches(Role::ClientFinance, all, K::InvoiceSent));
        assert!(!kind_reaches(Role::ClientFinance, all, K::TaskAssigned));
        let no_helpdesk = all.with(PortalPage::HelpDesk, false).unwrap();
        assert!(!kind_reaches(Role::ClientAdmin, no_helpdesk, K::TicketReply), "a hidden area's kinds go");
        assert!(kind_reaches(Role::Staff, no_helpdesk, K::TicketReply), "staff keep theirs");
    }

    #[test]
    fn the_assignee_and_the_agencys_owners_and_admins_are_warned_of_a_due_ticket() {
        let (me, other) = (UserId::new(), UserId::new());
        assert!(person_warned_of_due(Role::Staff, me, Some(me)));
        assert!(!person_warned_of_due(Role::Staff, me, Some(other)));
        assert!(!person_warned_of_due(Role::Staff, me, None));
        assert!(person_warned_of_due(Role::Owner, me, None));
        assert!(person_warned_of_due(Role::Admin, me, Some(other)));
        // A client user never, even if the data said they were the assignee.
        assert!(!person_warned_of_due(Role::ClientAdmin, me, Some(me)));
    }
    use crate::portal::PortalPages;

    fn actor(role: Role, client: Option<ClientId>) -> Actor {
        Actor::new(UserId::new(), "A".into(), "a@example.test".into(), role, client).unwrap()
    }

    #[test]
    fn ticket_scope_follows_role_client_and_requester() {
        let (c, other) = (ClientId::new(), ClientId::new());
        let admin = actor(Role::ClientAdmin, Some(c));
        let finance = actor(Role::ClientFinance, Some(c));
        let someone = UserId::new();
        assert!(admin.ticket_scope().allows(c, someone));
        assert!(!admin.ticket_scope().allows(other, someone));
        assert!(actor(Role::ClientViewer, Some(c)).ticket_scope().allows(c, someone));
        assert!(!finance.ticket_scope().allows(c, someone));
        assert!(finance.ticket_scope().allows(c, finance.user_id()));
        assert!(actor(Role::Staff, None).ticket_scope().allows(other, someone));
        assert!(!admin.ticket_scope().includes_notes());
        let hidden = actor(Role::ClientAdmin, Some(c))
            .showing(PortalPages::ALL_SHOWN.with(PortalPage::HelpDesk, false).unwrap());
        assert!(!hidden.ticket_scope().allows(c, someone));
    }

    #[test]
    fn who_may_open_change_and_rate() {
        let c = ClientId::new();
        let viewer = actor(Role::ClientViewer, Some(c));
        let finance = actor(Role::ClientFinance, Some(c));
        let admin = actor(Role::ClientAdmin, Some(c));
        assert!(viewer.may_open_ticket().is_err());
        assert!(finance.may_open_ticket().is_ok());
        let other = UserId::new();
        let solve = Some(TicketStatus::Solved);
        assert!(admin.may_change_ticket(other, TicketChange::SolveOrReopen, solve).is_ok());
        assert!(finance.may_change_ticket(other, TicketChange::SolveOrReopen, solve).is_err());
        assert!(finance.may_change_ticket(finance.user_id(), TicketChange::SolveOrReopen, solve).is_ok());
        assert!(admin.may_change_ticket(other, TicketChange::Manage, None).is_err());
        assert!(admin.may_change_ticket(other, TicketChange::SolveOrReopen, Some(TicketStatus::OnHold)).is_err());
        assert!(viewer.may_change_ticket(viewer.user_id(), TicketChange::SolveOrReopen, solve).is_err());
        assert!(admin.may_rate_ticket(other).is_err());
        assert!(admin.may_rate_ticket(admin.user_id()).is_ok());
        let viewed = actor(Role::ClientAdmin, Some(c)).viewed_by(UserId::new());
        assert!(viewed.may_open_ticket().is_err());
        assert!(viewer.may_comment_on_ticket(Visibility::Reply).is_err());
        assert!(admin.may_comment_on_ticket(Visibility::Note).is_err());
        assert!(actor(Role::Staff, None).may_configure_helpdesk().is_err());
        assert!(actor(Role::Admin, None).may_configure_helpdesk().is_ok());
    }
}
