//! The one access policy. Every permission in Atrium is decided here:
//!
//! * reads go through a [`Scope`], which only this module can build and which the store applies
//!   to every query a user can reach (a client user's scope is always their own client);
//! * writes ask one of the `may_*` functions below, which return [`Error::Forbidden`] for a
//!   visible thing the caller may not change and [`Error::NotFound`] for a thing they may not see.
//!
//! Handlers never compare roles or client ids themselves.

use crate::ids::{ClientId, UserId};
use crate::live::{Audience, LiveEvent};
use crate::model::{Channel, NotificationKind, NotificationSubject, Role, User, Visibility};
use crate::{Error, Result};

/// The two sides of Atrium: the staff area (every client) and the client portal (one client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Staff,
    Portal,
}

impl Side {
    /// The side an actor belongs on: staff acting as themselves on the staff side, everyone
    /// else (client users, staff viewing as one) in the portal.
    pub fn of(actor: &Actor) -> Side {
        if actor.is_staff() { Side::Staff } else { Side::Portal }
    }
}

pub use crate::portal::{PortalPage, PortalPages};
pub use helpdesk::{TicketChange, TicketScope, check_ticket_assignee, check_ticket_requester, person_warned_of_due};

mod api_tokens;
mod automations;
mod helpdesk;
mod recurring;
mod templates;
pub use crate::quick_actions::QuickAction;
pub use automations::automation_mail_reaches;
pub use templates::check_template_assignee;

/// The authenticated person a request acts for.
#[derive(Clone, Debug)]
pub struct Actor {
    user_id: UserId,
    name: String,
    email: String,
    role: Role,
    client_id: Option<ClientId>,
    viewed_by: Option<UserId>,
    /// The pages the client's portal shows (for staff: everything).
    portal: PortalPages,
    /// The person's own timezone (`None`: the agency's).
    timezone: Option<crate::local_time::Tz>,
}

impl Actor {
    /// Builds an actor, refusing inconsistent combinations (a client role without a client,
    /// or a staff role with one). Only session resolution (`atrium_store`'s `auth`, `people`,
    /// `sign_in`) and tests call this; `crates/atrium/tests/actors.rs` fails if anything else does.
    pub fn new(user_id: UserId, name: String, email: String, role: Role, client_id: Option<ClientId>) -> Result<Self> {
        if role.is_staff() != client_id.is_none() {
            return Err(Error::internal_msg(format!("user {user_id} has role {role} with client {client_id:?}")));
        }
        Ok(Actor {
            user_id,
            name,
            email,
            role,
            client_id,
            viewed_by: None,
            portal: PortalPages::ALL_SHOWN,
            timezone: None,
        })
    }

    /// Sets the pages this (client) actor's portal shows, as its client's settings say. Session
    /// resolution always calls this for a client user (ignored for staff, who see everything).
    pub fn showing(mut self, pages: PortalPages) -> Self {
        if !self.role.is_staff() {
            self.portal = pages;
        }
        self
    }

    /// Sets the person's own timezone, as their account says (session resolution).
    pub fn in_timezone(mut self, tz: Option<crate::local_time::Tz>) -> Self {
        self.timezone = tz;
        self
    }

    /// Marks this (client) actor as being viewed by a staff member: everything becomes read-only.
    pub fn viewed_by(mut self, staff: UserId) -> Self {
        self.viewed_by = Some(staff);
        self
    }

    /// The user the request acts for (under "View as client": the client user being viewed).
    pub fn user_id(&self) -> UserId {
        self.user_id
    }
    /// Display name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Email address.
    pub fn email(&self) -> &str {
        &self.email
    }
    /// Role.
    pub fn role(&self) -> Role {
        self.role
    }
    /// The client of a client user; `None` for staff.
    pub fn client_id(&self) -> Option<ClientId> {
        self.client_id
    }
    /// The staff member behind a "View as client" session.
    pub fn viewing_staff(&self) -> Option<UserId> {
        self.viewed_by
    }
    /// Whether the actor is agency staff (owner, admin, staff) acting as themselves.
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }
    /// The person's own timezone; `None` means the agency's.
    pub fn timezone(&self) -> Option<crate::local_time::Tz> {
        self.timezone
    }
    /// The pages the actor's client shows in its portal (everything for staff).
    pub fn client_pages(&self) -> PortalPages {
        self.portal
    }

    /// What project work (projects, milestones, tasks, comments) this actor can read.
    pub fn work_scope(&self) -> Scope {
        match (self.role, self.client_id) {
            (r, _) if r.is_staff() => Scope { clients: ClientFilter::All, notes: true },
            // Finance users see billing only: no projects at all.
            (Role::ClientFinance, _) => Scope { clients: ClientFilter::Nothing, notes: false },
            (_, Some(c)) => Scope { clients: ClientFilter::Only(c), notes: false },
            (_, None) => Scope { clients: ClientFilter::Nothing, notes: false },
        }
    }

    /// What client companies (and their people) this actor can read.
    pub fn client_scope(&self) -> Scope {
        if self.is_staff() {
            Scope { clients: ClientFilter::All, notes: true }
        } else {
            Scope { clients: ClientFilter::Nothing, notes: false }
        }
    }

    /// The actor's own company (its name and branding): staff see every client, a client user
    /// their own only.
    pub fn identity_scope(&self) -> Scope {
        match self.client_id {
            _ if self.is_staff() => Scope { clients: ClientFilter::All, notes: true },
            Some(c) => Scope { clients: ClientFilter::Only(c), notes: false },
            None => Scope { clients: ClientFilter::Nothing, notes: false },
        }
    }

    fn writable(&self) -> Result<()> {
        if self.viewed_by.is_some() { Err(Error::Forbidden("View as client is read-only")) } else { Ok(()) }
    }

    fn staff_or(&self, denial: Error) -> Result<()> {
        self.writable()?;
        if self.is_staff() { Ok(()) } else { Err(denial) }
    }

    /// Enter one side of Atrium at all; every route of that side is behind this check (the
    /// router's audience layer asks it before any handler runs). The staff area is for staff
    /// acting as themselves, the portal for client users and staff viewing as one; the other side
    /// is 404.
    pub fn may_enter(&self, side: Side) -> Result<()> {
        match side {
            Side::Staff => self.may_manage_clients(),
            Side::Portal => self.may_use_portal(),
        }
    }

    /// Use the client portal: client users, and staff viewing as one. Staff acting as themselves
    /// have no portal (404).
    pub fn may_use_portal(&self) -> Result<()> {
        if self.is_staff() { Err(Error::NotFound) } else { Ok(()) }
    }

    /// Whether this actor may mark their own tasks done in the portal (not viewers, not view-as).
    pub fn may_complete_own_tasks(&self) -> bool {
        self.may_update_task(Some(self.user_id), TaskChange::StatusOnly).is_ok()
    }

    /// Create, rename or archive clients, and see the staff area. Invisible to client users.
    pub fn may_manage_clients(&self) -> Result<()> {
        self.staff_or(Error::NotFound)
    }

    /// See the agency's team (every staff member): staff; client users get 404.
    pub fn may_see_team(&self) -> Result<()> {
        if self.is_staff() { Ok(()) } else { Err(Error::NotFound) }
    }

    /// Create or change projects, milestones and tasks (beyond a client's own task status).
    pub fn may_manage_work(&self) -> Result<()> {
        self.staff_or(Error::Forbidden("only staff can change this"))
    }

    /// Add, change, reorder or delete a project's custom pages: staff. A client user (or "View
    /// as client") sees the pages of their projects that are not staff-only, read through the
    /// work scope ([`Scope::includes_staff_only`]).
    pub fn may_manage_project_pages(&self) -> Result<()> {
        self.staff_or(Error::Forbidden("only staff can change project pages"))
    }

    /// Choose who is on a project's team: staff. The team (names and job titles) is shown to
    /// anyone who sees the project; each member must pass [`check_team_member`].
    pub fn may_set_project_team(&self) -> Result<()> {
        self.staff_or(Error::Forbidden("only staff can change a project's team"))
    }

    /// Set the job title of `target` (with `target_role`): owners and admins for every staff
    /// member, staff for themselves; client users have no job title (422). Invisible (404) to
    /// client users.
    pub fn may_set_job_title(&self, target: UserId, target_role: Role) -> Result<()> {
        self.staff_or(Error::NotFound)?;
        if !target_role.is_staff() {
            return Err(Error::invalid("title", "only staff members have a job title"));
        }
        match self.role {
            Role::Owner | Role::Admin => Ok(()),
            _ if target == self.user_id => Ok(()),
            _ => Err(Error::Forbidden("only owners and admins can change a colleague's job title")),
        }
    }

    /// Mark one's first-login introduction as seen: client users acting as themselves (staff
    /// have no introduction: 404; "View as client" is read-only: 403).
    pub fn may_finish_onboarding(&self) -> Result<()> {
        if self.is_staff() {
            return Err(Error::NotFound);
        }
        self.writable()
    }

    /// Whether this actor is shown the first-login introduction: client users acting as
    /// themselves who have not dismissed it yet.
    pub fn sees_onboarding(&self, onboarded: bool) -> bool {
        !onboarded && self.may_finish_onboarding().is_ok()
    }

    /// Start "View as client" as `target`: staff acting as themselves, as an active user of
    /// `client` itself (never a staff member, never someone of another client). The store asks
    /// this and audits the start in the same transaction.
    pub fn may_view_as(&self, client: ClientId, target: &User) -> Result<()> {
        self.staff_or(Error::NotFound)?;
        if target.role.is_staff() || target.client_id != Some(client) || !target.active {
            return Err(Error::invalid("user_id", "no such active user of this client"));
        }
        Ok(())
    }

    /// Change a task. Staff may change anything; a client user (not a viewer) may only set the
    /// status of a task assigned to them.
    pub fn may_update_task(&self, assignee: Option<UserId>, change: TaskChange) -> Result<()> {
        self.writable()?;
        if self.is_staff() {
            return Ok(());
        }
        if self.role == Role::ClientViewer {
            return Err(Error::Forbidden("viewers cannot change tasks"));
        }
        if assignee != Some(self.user_id) {
            return Err(Error::Forbidden("you can only update tasks assigned to you"));
        }
        if change != TaskChange::StatusOnly {
            return Err(Error::Forbidden("you can only change the status of a task"));
        }
        Ok(())
    }

    /// Post a comment of the given visibility on a visible task.
    pub fn may_comment(&self, visibility: Visibility) -> Result<()> {
        self.writable()?;
        if self.is_staff() {
            return Ok(());
        }
        if self.role == Role::ClientViewer {
            return Err(Error::Forbidden("viewers cannot comment"));
        }
        if visibility == Visibility::Note {
            return Err(Error::Forbidden("internal notes are for staff only"));
        }
        Ok(())
    }

    /// Invite someone with `role`: owners and admins invite anyone; staff invite client users.
    pub fn may_invite(&self, role: Role) -> Result<()> {
        self.writable()?;
        match self.role {
            Role::Owner | Role::Admin => Ok(()),
            Role::Staff if !role.is_staff() => Ok(()),
            Role::Staff => Err(Error::Forbidden("only owners and admins can invite staff")),
            _ => Err(Error::Forbidden("only staff can invite people")),
        }
    }

    /// Deactivate or reactivate the account `target` (with `target_role`). Client users are
    /// managed by any staff member; staff by owners and admins; an owner only by an owner;
    /// nobody switches off their own account. Invisible (404) to client users.
    pub fn may_set_user_active(&self, target: UserId, target_role: Role) -> Result<()> {
        self.staff_or(Error::NotFound)?;
        if target == self.user_id {
            return Err(Error::Forbidden("you cannot deactivate your own account"));
        }
        match (self.role, target_role) {
            (_, r) if !r.is_staff() => Ok(()),
            (Role::Owner, _) => Ok(()),
            (Role::Admin, Role::Admin | Role::Staff) => Ok(()),
            (Role::Admin, _) => Err(Error::Forbidden("only an owner can deactivate an owner")),
            _ => Err(Error::Forbidden("only owners and admins can deactivate staff")),
        }
    }

    /// Delete (soft), restore or list deleted clients: owners and admins. Invisible (404) to
    /// client users.
    pub fn may_delete_client(&self) -> Result<()> {
        self.staff_or(Error::NotFound)?;
        match self.role {
            Role::Owner | Role::Admin => Ok(()),
            _ => Err(Error::Forbidden("only owners and admins can delete clients")),
        }
    }

    /// Read the activity (audit) log: owners and admins. Invisible (404) to client users.
    pub fn may_read_audit(&self) -> Result<()> {
        self.staff_or(Error::NotFound)?;
        match self.role {
            Role::Owner | Role::Admin => Ok(()),
            _ => Err(Error::Forbidden("only owners and admins can read the activity log")),
        }
    }

    /// See and discard inbound mail held for staff (unknown senders, replies that could not be
    /// placed): staff acting as themselves; client users 404.
    pub fn may_review_held_mail(&self) -> Result<()> {
        self.staff_or(Error::NotFound)
    }

    /// Revoke every session and link of a client's users (a compromised mailbox).
    pub fn may_revoke_client_access(&self) -> Result<()> {
        self.staff_or(Error::NotFound)
    }

    /// Read a project's conversation in `channel`: the staff channel does not exist for client
    /// users (404); the project itself is checked through the work scope.
    pub fn may_read_channel(&self, channel: Channel) -> Result<()> {
        if channel == Channel::Staff && !self.work_scope().includes_notes() { Err(Error::NotFound) } else { Ok(()) }
    }

    /// Post a message in `channel` (viewers may read but not write).
    pub fn may_post_message(&self, channel: Channel) -> Result<()> {
        self.may_read_channel(channel)?;
        self.writable()?;
        if self.role == Role::ClientViewer {
            return Err(Error::Forbidden("viewers cannot post messages"));
        }
        Ok(())
    }

    /// Edit or delete a message: only its author, within [`MESSAGE_EDIT_WINDOW`] of posting.
    pub fn may_change_message(
        &self,
        author: UserId,
        posted: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        self.writable()?;
        if author != self.user_id {
            return Err(Error::Forbidden("you can only change your own messages"));
        }
        if now - posted > MESSAGE_EDIT_WINDOW {
            return Err(Error::Forbidden("messages can only be changed within 15 minutes of posting"));
        }
        Ok(())
    }

    /// Whether a live event may be sent to this actor's stream (SEC-AC-3, SEC-AC-7).
    /// An event of a hidden area (see [`LiveEvent::area`]) reaches no one of that client.
    pub fn may_receive(&self, event: &LiveEvent) -> bool {
        let work = match event.area() {
            Some(page) => self.area_scope(page),
            None => self.work_scope(),
        };
        match event.audience {
            Audience::Work { client_id } => work.allows(client_id),
            Audience::Internal { client_id } => work.allows(client_id) && work.includes_notes(),
            Audience::User { user_id } => user_id == self.user_id,
            Audience::Ticket { client_id, requester_id, internal } => {
                let tickets = self.ticket_scope();
                tickets.allows(client_id, requester_id) && (!internal || tickets.includes_notes())
            }
            // Only `reload`, which carries no data (see `LiveEvent::reload`).
            Audience::Everyone => event.data.as_object().is_some_and(|o| o.is_empty()),
        }
    }

    /// Whether this actor's notification center shows notifications about `subject`
    /// ([`person_hears_of`]).
    pub fn hears_of(&self, subject: NotificationSubject) -> bool {
        person_hears_of(self.role, self.portal, subject)
    }

    /// Change one's own notification settings (not while viewing as a client).
    pub fn may_change_own_settings(&self) -> Result<()> {
        self.writable()
    }

    /// Change one's own password (not while viewing as a client: that would change the client
    /// user's password).
    pub fn may_change_own_password(&self) -> Result<()> {
        self.writable()
    }

    /// Upload a file (or a new version) into a visible folder: staff, or a client user who may
    /// write (not a viewer, not "View as client"); staff-only folders are not visible to clients.
    pub fn may_upload(&self) -> Result<()> {
        self.writable()?;
        if self.role == Role::ClientViewer {
            return Err(Error::Forbidden("viewers cannot upload files"));
        }
        Ok(())
    }

    /// Create folders (staff only).
    pub fn may_manage_folders(&self) -> Result<()> {
        self.staff_or(Error::Forbidden("only staff can create folders"))
    }

    /// Rename, move or delete a visible file: staff, or the client user who uploaded its first
    /// version.
    pub fn may_change_file(&self, uploaded_by: UserId) -> Result<()> {
        self.writable()?;
        if self.is_staff() || (self.role != Role::ClientViewer && uploaded_by == self.user_id) {
            Ok(())
        } else {
            Err(Error::Forbidden("only staff or the uploader can change this file"))
        }
    }

    /// Restore a deleted file (staff, within 30 days).
    pub fn may_restore_files(&self) -> Result<()> {
        self.staff_or(Error::NotFound)
    }

    /// Ask a client for approval of a file version or a task deliverable (staff only).
    pub fn may_request_approval(&self) -> Result<()> {
        self.staff_or(Error::Forbidden("only staff can request approvals"))
    }

    /// Decide on a visible approval: only one of its named approvers, acting as themselves
    /// (not a viewer, not "View as client").
    pub fn may_decide(&self, approver_ids: &[UserId]) -> Result<()> {
        self.writable()?;
        if self.is_staff() {
            return Err(Error::Forbidden("only the client's named approvers can decide"));
        }
        if self.role == Role::ClientViewer {
            return Err(Error::Forbidden("viewers cannot approve"));
        }
        if !approver_ids.contains(&self.user_id) {
            return Err(Error::Forbidden("you are not an approver of this request"));
        }
        Ok(())
    }

    /// What billing (invoices, payments, their PDFs) this actor can read: staff everything
    /// (drafts included: `includes_notes()` is true only for staff), a client admin or finance
    /// user their own client's issued invoices, anyone else (viewers, and everyone of a client
    /// whose portal hides Billing) nothing — every billing route is 404 for them.
    pub fn billing_scope(&self) -> Scope {
        match (self.role, self.client_id) {
            (r, _) if r.is_staff() => Scope { clients: ClientFilter::All, notes: true },
            _ if !self.portal.shows(PortalPage::Billing) => Scope { clients: ClientFilter::Nothing, notes: false },
            (Role::ClientAdmin | Role::ClientFinance, Some(c)) => {
                Scope { clients: ClientFilter::Only(c), notes: false }
            }
            _ => Scope { clients: ClientFilter::Nothing, notes: false },
        }
    }

    /// Whether the portal shows this actor a Billing section at all.
    pub fn sees_billing(&self) -> bool {
        !matches!(self.billing_scope().clients, ClientFilter::Nothing)
    }

    /// Whether the portal shows this actor `page`: everyone has Home, the work pages need
    /// project work in scope (finance users have none), Billing needs a billing scope, Help desk
    /// any client role; and Files, Messages, Approvals, Billing and Help desk only while the
    /// actor's client shows them. Staff acting as themselves see every area (through the staff
    /// side and the API). Under "View as client" it is the viewed user's answer.
    pub fn sees_portal_page(&self, page: PortalPage) -> bool {
        if !self.portal.shows(page) {
            return false;
        }
        match page {
            PortalPage::Home | PortalPage::HelpDesk => true,
            PortalPage::Projects
            | PortalPage::MyTasks
            | PortalPage::Files
            | PortalPage::Messages
            | PortalPage::Approvals => !matches!(self.work_scope().clients, ClientFilter::Nothing),
            PortalPage::Billing => self.sees_billing(),
        }
    }

    /// Use anything of the area of `page` (its pages, API routes, events): 404 when the actor's
    /// client hides that page (staff: always allowed). The router asks this for every route it
    /// files under an area, before the handler runs; what a role may do inside an area is
    /// still up to the area's scope and `may_*` decisions.
    pub fn may_use_area(&self, page: PortalPage) -> Result<()> {
        if self.portal.shows(page) { Ok(()) } else { Err(Error::NotFound) }
    }

    /// The read scope of one portal area: the billing scope for Billing, the work scope
    /// otherwise — and nothing at all when the actor's client hides the area. The store reads
    /// files, conversations and approvals through it.
    pub fn area_scope(&self, page: PortalPage) -> Scope {
        match page {
            PortalPage::Billing => self.billing_scope(),
            _ if !self.portal.shows(page) => Scope { clients: ClientFilter::Nothing, notes: false },
            _ => self.work_scope(),
        }
    }

    /// Whether Home offers this actor the quick action `action` (once it is on for their client):
    /// an action shows only where its page does — View projects with Projects, Pay invoices with
    /// Billing (finance and client admins, and not while the client hides Billing), Ask for help
    /// with the Help desk to those who may open a ticket (not viewers). Book a meeting: anyone
    /// with a portal.
    pub fn sees_quick_action(&self, action: QuickAction) -> bool {
        match action {
            QuickAction::Projects => self.sees_portal_page(PortalPage::Projects),
            QuickAction::Billing => self.sees_portal_page(PortalPage::Billing),
            QuickAction::HelpDesk => self.sees_portal_page(PortalPage::HelpDesk) && self.may_open_ticket().is_ok(),
            QuickAction::Meeting => self.sees_portal_page(PortalPage::Home),
        }
    }

    /// The portal pages this actor sees, in navigation order.
    pub fn portal_pages(&self) -> Vec<PortalPage> {
        PortalPage::ALL.into_iter().filter(|p| self.sees_portal_page(*p)).collect()
    }

    /// Whether the portal is only billing for this actor (a finance user): Home then shows
    /// every invoice, not only the open ones.
    pub fn portal_is_billing_only(&self) -> bool {
        self.sees_billing() && !self.sees_portal_page(PortalPage::Projects)
    }

    /// Create, edit, send, void and re-issue invoices, record payments, export: staff. Client
    /// users (and "View as client") never manage billing. Callers load the target through
    /// [`Actor::billing_scope`] first, so what a client cannot see is 404 before this 403.
    pub fn may_manage_invoices(&self) -> Result<()> {
        self.staff_or(Error::Forbidden("only staff can manage invoices"))
    }

    /// Export invoices for accounting: staff. Someone who sees no billing at all gets 404 (it
    /// does not exist for them); a client's billing users 403.
    pub fn may_export_invoices(&self) -> Result<()> {
        if !self.sees_billing() {
            return Err(Error::NotFound);
        }
        self.may_manage_invoices()
    }

    /// Change the invoice numbering and default payment instructions: owners and admins.
    pub fn may_configure_billing(&self) -> Result<()> {
        self.staff_or(Error::NotFound)?;
        match self.role {
            Role::Owner | Role::Admin => Ok(()),
            _ => Err(Error::Forbidden("only owners and admins can change invoice settings")),
        }
    }

    /// Change the agency-wide default of the portal pages new clients start with: owners and
    /// admins (any staff member sets one client's pages). Invisible (404) to client users.
    pub fn may_configure_portal(&self) -> Result<()> {
        self.staff_or(Error::NotFound)?;
        match self.role {
            Role::Owner | Role::Admin => Ok(()),
            _ => Err(Error::Forbidden("only owners and admins can change the default portal pages")),
        }
    }

    /// See failed background jobs (undelivered mail) and retry them: owners and admins.
    pub fn may_manage_jobs(&self) -> Result<()> {
        self.may_read_audit()
    }

    /// Change the agency's branding (name, accent colour, welcome text, logo): owners and
    /// admins; other staff 403; invisible (404) to client users. Everyone signed in reads it.
    pub fn may_manage_branding(&self) -> Result<()> {
        self.staff_or(Error::NotFound)?;
        match self.role {
            Role::Owner | Role::Admin => Ok(()),
            _ => Err(Error::Forbidden("only owners and admins can change the branding")),
        }
    }
}

/// How long a deleted file stays restorable.
pub const FILE_RESTORE_WINDOW: chrono::Duration = chrono::Duration::days(30);

/// How long after posting an author may edit or delete a message.
pub const MESSAGE_EDIT_WINDOW: chrono::Duration = chrono::Duration::minutes(15);

/// Whether a person (by role and client) can see project work of `work_client`; `internal`
/// things (notes, the staff channel) are for staff only. Decides who may be mentioned or
/// notified about something.
pub fn person_sees_work(role: Role, client: Option<ClientId>, work_client: ClientId, internal: bool) -> bool {
    if role.is_staff() {
        return true;
    }
    role != Role::ClientFinance && client == Some(work_client) && !internal
}

/// The portal area a notification about `subject` belongs to (messages, approvals, invoices;
/// task notifications belong to Projects and My tasks, which are never hidden).
pub fn notification_area(subject: NotificationSubject) -> Option<PortalPage> {
    match subject {
        NotificationSubject::Task => None,
        NotificationSubject::Project => Some(PortalPage::Messages),
        NotificationSubject::Approval => Some(PortalPage::Approvals),
        NotificationSubject::Invoice => Some(PortalPage::Billing),
        NotificationSubject::Ticket => Some(PortalPage::HelpDesk),
    }
}

/// Whether a person (by role and the pages their client's portal shows) is told — in the
/// notification center or by mail — about `subject`: staff always, a client user only while
/// their portal shows its area. Asked when notifications are written, listed and mailed.
pub fn person_hears_of(role: Role, pages: PortalPages, subject: NotificationSubject) -> bool {
    role.is_staff() || notification_area(subject).is_none_or(|a| pages.shows(a))
}

/// Whether notifications of `kind` can reach a person of `role` whose portal shows `pages` (the
/// notification settings list only these): never an area their portal hides; a finance user
/// only invoices and their own tickets; other client users nothing that is staff work (new,
/// assigned or nearly due tickets, decisions on approvals); staff no invoice mail.
pub fn kind_reaches(role: Role, pages: PortalPages, kind: NotificationKind) -> bool {
    use NotificationKind as K;
    if !person_hears_of(role, pages, kind.subject()) {
        return false;
    }
    match role {
        r if r.is_staff() => kind != K::InvoiceSent,
        Role::ClientFinance => matches!(kind, K::InvoiceSent | K::TicketReply | K::TicketStatus | K::Automated),
        Role::ClientViewer if kind == K::InvoiceSent => false,
        _ => !matches!(kind, K::ApprovalDecided | K::TicketCreated | K::TicketAssigned | K::TicketDue),
    }
}

/// Whether a person is told about a client's issued invoices: that client's admins and finance
/// users, the people whose billing scope shows them (staff are not notified of their own work).
pub fn person_receives_invoices(role: Role, client: Option<ClientId>, invoice_client: ClientId) -> bool {
    matches!(role, Role::ClientAdmin | Role::ClientFinance) && client == Some(invoice_client)
}

/// Whether a task change touches only its status (what a client assignee may do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskChange {
    /// Only `status`.
    StatusOnly,
    /// Any other field.
    Other,
}

/// Checks that `assignee` (with their role and client) may be assigned a task of `project_client`:
/// staff, or a user of the project's own client.
pub fn check_assignee(project_client: ClientId, assignee_role: Role, assignee_client: Option<ClientId>) -> Result<()> {
    if assignee_role.is_staff() || assignee_client == Some(project_client) {
        Ok(())
    } else {
        Err(Error::invalid("assignee_id", "must be staff or a user of the project's client"))
    }
}

/// Checks that a person with `role` may be on a project's team: staff users only.
pub fn check_team_member(role: Role) -> Result<()> {
    if role.is_staff() { Ok(()) } else { Err(Error::invalid("user_ids", "must all be staff users")) }
}

/// Checks that a person (active, with `role` and `client`) may be named an approver of
/// something of `subject_client`: only a client admin of that very client (viewers are
/// read-only, finance users see no project work, staff do not approve their own work).
pub fn check_approver(subject_client: ClientId, role: Role, client: Option<ClientId>) -> Result<()> {
    if role == Role::ClientAdmin && client == Some(subject_client) {
        Ok(())
    } else {
        Err(Error::invalid("approver_ids", "each approver must be a client admin of the client this belongs to"))
    }
}

/// Which clients' data a query may return. Built only by [`Actor`]'s scope methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientFilter {
    /// Every client (staff).
    All,
    /// Only this client.
    Only(ClientId),
    /// None at all.
    Nothing,
}

/// A read scope: which clients and whether internal notes are included. Cannot be built outside
/// this module, so every scoped query starts from an [`Actor`].
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    clients: ClientFilter,
    notes: bool,
}

impl Scope {
    /// The client filter to apply.
    pub fn clients(&self) -> ClientFilter {
        self.clients
    }
    /// Whether internal notes may be returned.
    pub fn includes_notes(&self) -> bool {
        self.notes
    }
    /// Whether a thing belonging to `client` is inside the scope.
    pub fn allows(&self, client: ClientId) -> bool {
        match self.clients {
            ClientFilter::All => true,
            ClientFilter::Only(c) => c == client,
            ClientFilter::Nothing => false,
        }
    }
    /// Whether staff-only things (staff-only project pages and folders) may be returned.
    pub fn includes_staff_only(&self) -> bool {
        self.notes
    }
    /// Whether a comment of this visibility may be returned.
    pub fn allows_visibility(&self, v: Visibility) -> bool {
        v == Visibility::Reply || self.notes
    }
}

#[cfg(test)]
mod tests;
