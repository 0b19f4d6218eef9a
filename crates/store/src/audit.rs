//! The append-only audit log (SEC-DATA-1): who, as whom, did what, when, from where.
//! Only inserts and reads exist; nothing updates or deletes a row.

use std::fmt::Display;

use atrium_core::Result;
use atrium_core::ids::{
    ApiTokenId, ApprovalId, AutomationId, ClientId, CommentId, ContactId, FileId, FolderId, HeldMailId, InvitationId,
    InvoiceId, JobId, MessageId, MilestoneId, ProjectId, ProjectPageId, ProjectTemplateId, RecurringInvoiceId,
    SavedReplyId, SessionId, TaskId, TicketId, UserId,
};
use atrium_core::policy::Actor;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::db::{Store, db_err};
use crate::entity::audit;
use crate::paging::{Page, PageRequest, page, page_rows};

macro_rules! audit_actions {
    ($($(#[$doc:meta])* $variant:ident = $s:literal),* $(,)?) => {
        /// What was done: the closed set of actions the log records. Each is stored (and shown by
        /// the API) as its dotted name, e.g. `task.update`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum AuditAction { $($(#[$doc])* $variant),* }

        impl AuditAction {
            /// Every action, in declaration order.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant),*];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $(AuditAction::$variant => $s),* }
            }
        }

        impl std::str::FromStr for AuditAction {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok(AuditAction::$variant),)*
                    _ => Err(format!("{s:?} is no audit action")),
                }
            }
        }
    };
}

audit_actions!(
    /// Signed in with email and password.
    SessionLoginPassword = "session.login_password",
    /// Signed in with an emailed link.
    SessionLoginMagicLink = "session.login_magic_link",
    /// Signed in by resetting the password.
    SessionLoginPasswordReset = "session.login_password_reset",
    /// Signed in by accepting an invitation.
    SessionLoginInvitation = "session.login_invitation",
    /// Revoked a session (logout, or from the sessions list).
    SessionRevoke = "session.revoke",
    /// Made a personal API token.
    ApiTokenCreate = "api_token.create",
    /// Revoked a personal API token.
    ApiTokenRevoke = "api_token.revoke",
    /// Changed one's password.
    UserChangePassword = "user.change_password",
    /// Deactivated a user.
    UserDeactivate = "user.deactivate",
    /// Reactivated a user.
    UserReactivate = "user.reactivate",
    /// Staff started viewing the portal as a client user.
    ViewAsStart = "view_as.start",
    /// Staff stopped viewing as a client user.
    ViewAsStop = "view_as.stop",
    /// Invited someone.
    InvitationCreate = "invitation.create",
    /// Accepted an invitation.
    InvitationAccept = "invitation.accept",
    /// Created a client.
    ClientCreate = "client.create",
    /// Renamed or (un)archived a client.
    ClientUpdate = "client.update",
    /// Signed out every user of a client.
    ClientRevokeAccess = "client.revoke_access",
    /// Soft-deleted a client.
    ClientDelete = "client.delete",
    /// Restored a deleted client.
    ClientRestore = "client.restore",
    /// Removed a deleted client for good.
    ClientPurge = "client.purge",
    /// Changed which pages a client's portal shows, or its welcome text.
    ClientPortalUpdate = "client.portal_update",
    /// Changed the portal pages new clients start with.
    PortalDefaultsUpdate = "portal_defaults.update",
    /// Added a contact.
    ContactCreate = "contact.create",
    /// Removed a contact.
    ContactDelete = "contact.delete",
    /// Created a project.
    ProjectCreate = "project.create",
    /// Updated a project.
    ProjectUpdate = "project.update",
    /// Added a custom page to a project.
    ProjectPageCreate = "project_page.create",
    /// Changed (or moved) a project page.
    ProjectPageUpdate = "project_page.update",
    /// Deleted a project page.
    ProjectPageDelete = "project_page.delete",
    /// Chose the staff on a project's team.
    ProjectTeamSet = "project.team_set",
    /// Changed a staff member's job title.
    UserSetTitle = "user.set_title",
    /// Changed a client's invitation mail text.
    ClientInvitationText = "client.invitation_text",
    /// Created a milestone.
    MilestoneCreate = "milestone.create",
    /// Marked a milestone done or not.
    MilestoneUpdate = "milestone.update",
    /// Created a task.
    TaskCreate = "task.create",
    /// Updated a task.
    TaskUpdate = "task.update",
    /// Commented on a task.
    CommentCreate = "comment.create",
    /// Opened a help-desk ticket.
    TicketCreate = "ticket.create",
    /// Changed a ticket (status, priority, assignee, project, subject).
    TicketUpdate = "ticket.update",
    /// Answered on a ticket (a Reply or a Note).
    TicketComment = "ticket.comment",
    /// Turned a ticket into a task.
    TicketToTask = "ticket.to_task",
    /// Rated a solved ticket.
    TicketRate = "ticket.rate",
    /// Closed a ticket solved long enough ago (done by the sweep, not a person).
    TicketAutoClose = "ticket.auto_close",
    /// Wrote a message.
    MessageCreate = "message.create",
    /// Edited a message.
    MessageEdit = "message.edit",
    /// Deleted a message.
    MessageDelete = "message.delete",
    /// Created a folder.
    FolderCreate = "folder.create",
    /// Uploaded a new file.
    FileUpload = "file.upload",
    /// Uploaded a new version of a file.
    FileVersion = "file.version",
    /// Renamed or moved a file.
    FileUpdate = "file.update",
    /// Deleted a file.
    FileDelete = "file.delete",
    /// Restored a deleted file.
    FileRestore = "file.restore",
    /// Asked for an approval.
    ApprovalRequest = "approval.request",
    /// Decided on an approval.
    ApprovalDecide = "approval.decide",
    /// Created an invoice (also a re-issued copy).
    InvoiceCreate = "invoice.create",
    /// Changed a draft invoice.
    InvoiceUpdate = "invoice.update",
    /// Sent an invoice to the client.
    InvoiceSend = "invoice.send",
    /// Voided an invoice.
    InvoiceVoid = "invoice.void",
    /// Re-issued a void invoice.
    InvoiceReissue = "invoice.reissue",
    /// Recorded a payment on an invoice.
    PaymentRecord = "payment.record",
    /// Changed the invoice settings.
    InvoiceSettingsUpdate = "invoice_settings.update",
    /// Added a recurring invoice schedule.
    RecurringInvoiceCreate = "recurring_invoice.create",
    /// Changed a recurring invoice schedule (also pausing, resuming and ending it).
    RecurringInvoiceUpdate = "recurring_invoice.update",
    /// Deleted a recurring invoice schedule.
    RecurringInvoiceDelete = "recurring_invoice.delete",
    /// A schedule issued its invoice for one period (done by the issuing job, not a person).
    RecurringInvoiceIssue = "recurring_invoice.issue",
    /// Changed the agency's name, accent colour or welcome text.
    BrandingUpdate = "branding.update",
    /// Set the agency's logo.
    BrandingLogoSet = "branding.logo_set",
    /// Removed the agency's logo.
    BrandingLogoRemove = "branding.logo_remove",
    /// Changed the help desk's business hours or service-level targets.
    HelpdeskSettingsUpdate = "helpdesk_settings.update",
    /// Added a saved reply.
    SavedReplyCreate = "saved_reply.create",
    /// Changed a saved reply.
    SavedReplyUpdate = "saved_reply.update",
    /// Deleted a saved reply.
    SavedReplyDelete = "saved_reply.delete",
    /// Defined a project's request form.
    RequestFormUpdate = "request_form.update",
    /// Added a project template (new, a copy, or saved from a project).
    ProjectTemplateCreate = "project_template.create",
    /// Changed a project template.
    ProjectTemplateUpdate = "project_template.update",
    /// Deleted a project template.
    ProjectTemplateDelete = "project_template.delete",
    /// Changed what new clients start with.
    OnboardingUpdate = "onboarding.update",
    /// Added an automation rule.
    AutomationCreate = "automation.create",
    /// Changed or switched an automation rule.
    AutomationUpdate = "automation.update",
    /// Deleted an automation rule.
    AutomationDelete = "automation.delete",
    /// An automation run did its actions (no person as actor).
    AutomationRun = "automation.run",
    /// Retried a failed background job.
    JobRetry = "job.retry",
    /// Discarded an inbound mail that was held for staff.
    HeldMailDiscard = "held_mail.discard",
    /// Loaded the demo data.
    DemoLoad = "demo.load",
);

impl Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing that happened, made by the constructor of its subject's kind.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    /// What was done.
    action: AuditAction,
    /// The kind of thing it was done to.
    subject_type: &'static str,
    /// Its id.
    subject_id: Option<String>,
    /// The client it belongs to, if any.
    client_id: Option<ClientId>,
    /// Free-form detail (JSON); never secrets.
    detail: serde_json::Value,
    /// The caller's address.
    ip: Option<&'a str>,
}

/// The constructors of entries about a client's work: `name(IdType) = "subject_type";`.
macro_rules! client_work_constructors {
    ($lt:lifetime; $($(#[$doc:meta])* $name:ident($id:ty) = $subject:literal;)*) => {$(
        $(#[$doc])*
        pub fn $name(action: AuditAction, id: $id, client: ClientId, ip: Option<&$lt str>) -> Self {
            Self::of(action, $subject, Some(&id), Some(client), ip)
        }
    )*};
}

impl<'a> Entry<'a> {
    fn of(
        action: AuditAction,
        subject_type: &'static str,
        id: Option<&dyn Display>,
        client_id: Option<ClientId>,
        ip: Option<&'a str>,
    ) -> Self {
        let subject_id = id.map(ToString::to_string);
        Entry { action, subject_type, subject_id, client_id, detail: serde_json::json!({}), ip }
    }

    /// Something done to a client.
    pub fn client(action: AuditAction, id: ClientId, ip: Option<&'a str>) -> Self {
        Self::of(action, "client", Some(&id), Some(id), ip)
    }

    /// A client removed for good (the entry no longer belongs to it).
    pub fn client_purged(id: ClientId) -> Self {
        Self::of(AuditAction::ClientPurge, "client", Some(&id), None, None)
    }

    client_work_constructors!('a;
        /// Something done to a client's contact.
        contact(ContactId) = "contact";
        /// Something done to a project.
        project(ProjectId) = "project";
        /// Something done to a milestone.
        milestone(MilestoneId) = "milestone";
        /// Something done to a project's custom page.
        project_page(ProjectPageId) = "project_page";
        /// Something done to a task.
        task(TaskId) = "task";
        /// Something done to a task's comment.
        comment(CommentId) = "comment";
        /// Something done to a message.
        message(MessageId) = "message";
        /// Something done to a folder.
        folder(FolderId) = "folder";
        /// Something done to a file.
        file(FileId) = "file";
        /// Something done to an approval request.
        approval(ApprovalId) = "approval";
        /// Something done to an invoice (or a payment on it).
        invoice(InvoiceId) = "invoice";
        /// Something done to (or by) a recurring invoice schedule.
        recurring_invoice(RecurringInvoiceId) = "recurring_invoice";
        /// Something done to a help-desk ticket.
        ticket(TicketId) = "ticket";
    );

    /// A change of the installation's invoice settings.
    pub fn invoice_settings(action: AuditAction, ip: Option<&'a str>) -> Self {
        Self::of(action, "invoice_settings", None, None, ip)
    }

    /// A change of the help desk's settings.
    pub fn helpdesk_settings(ip: Option<&'a str>) -> Self {
        Self::of(AuditAction::HelpdeskSettingsUpdate, "helpdesk_settings", None, None, ip)
    }

    /// Something done to a saved reply.
    pub fn saved_reply(action: AuditAction, id: SavedReplyId, ip: Option<&'a str>) -> Self {
        Self::of(action, "saved_reply", Some(&id), None, ip)
    }

    /// A change of what new clients start with.
    pub fn onboarding(ip: Option<&'a str>) -> Self {
        Self::of(AuditAction::OnboardingUpdate, "onboarding", None, None, ip)
    }

    /// Something done to an automation rule, or one of its runs.
    pub fn automation(action: AuditAction, id: AutomationId, ip: Option<&'a str>) -> Self {
        Self::of(action, "automation", Some(&id), None, ip)
    }

    /// Something done to a project template.
    pub fn project_template(action: AuditAction, id: ProjectTemplateId, ip: Option<&'a str>) -> Self {
        Self::of(action, "project_template", Some(&id), None, ip)
    }

    /// A change of a project's request form.
    pub fn request_form(id: ProjectId, client: ClientId, ip: Option<&'a str>) -> Self {
        Self::of(AuditAction::RequestFormUpdate, "request_form", Some(&id), Some(client), ip)
    }

    /// A change of the agency's branding.
    pub fn branding(action: AuditAction, ip: Option<&'a str>) -> Self {
        Self::of(action, "branding", None, None, ip)
    }

    /// The portal pages new clients start with were changed.
    pub fn portal_defaults(ip: Option<&'a str>) -> Self {
        Self::of(AuditAction::PortalDefaultsUpdate, "portal_defaults", None, None, ip)
    }

    /// Something done by or to a user (of `client`, for client users).
    pub fn user(action: AuditAction, id: UserId, client: Option<ClientId>, ip: Option<&'a str>) -> Self {
        Self::of(action, "user", Some(&id), client, ip)
    }

    /// Something done to an invitation (to `client`, for client users).
    pub fn invitation(action: AuditAction, id: InvitationId, client: Option<ClientId>, ip: Option<&'a str>) -> Self {
        Self::of(action, "invitation", Some(&id), client, ip)
    }

    /// Something done to a session.
    pub fn session(action: AuditAction, id: SessionId, ip: Option<&'a str>) -> Self {
        Self::of(action, "session", Some(&id), None, ip)
    }

    /// Something done to a personal API token (of the actor, or of `client`'s user).
    pub fn api_token(action: AuditAction, id: ApiTokenId, client: Option<ClientId>, ip: Option<&'a str>) -> Self {
        Self::of(action, "api_token", Some(&id), client, ip)
    }

    /// Something done to a background job.
    pub fn job(action: AuditAction, id: JobId, ip: Option<&'a str>) -> Self {
        Self::of(action, "job", Some(&id), None, ip)
    }

    /// Something done to an inbound mail held for staff.
    pub fn held_mail(action: AuditAction, id: HeldMailId, ip: Option<&'a str>) -> Self {
        Self::of(action, "held_mail", Some(&id), None, ip)
    }

    /// Something done to the whole installation, by nobody in particular.
    pub fn installation(action: AuditAction) -> Self {
        Self::of(action, "installation", None, None, None)
    }

    /// The entry with `detail` (JSON; never secrets).
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// A stored audit row.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Record {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// Who did it (for "view as", the staff member).
    pub actor_id: Option<Uuid>,
    /// Whom they acted as, if anyone.
    pub via_user_id: Option<Uuid>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<String>,
    pub client_id: Option<Uuid>,
    pub ip: Option<String>,
    pub detail: String,
}

impl From<audit::Model> for Record {
    fn from(r: audit::Model) -> Self {
        Record {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id,
            via_user_id: r.via_user_id,
            action: r.action,
            subject_type: r.subject_type,
            subject_id: r.subject_id,
            client_id: r.client_id,
            ip: r.ip,
            detail: r.detail,
        }
    }
}

pub(crate) async fn write<C: ConnectionTrait>(c: &C, actor: Option<&Actor>, e: Entry<'_>) -> Result<()> {
    audit::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        actor_id: Set(actor.map(|a| a.viewing_staff().unwrap_or(a.user_id()).0)),
        via_user_id: Set(actor.and_then(|a| a.viewing_staff().map(|_| a.user_id().0))),
        action: Set(e.action.as_str().to_string()),
        subject_type: Set(e.subject_type.to_string()),
        subject_id: Set(e.subject_id),
        client_id: Set(e.client_id.map(|c| c.0)),
        ip: Set(e.ip.map(|s| s.chars().take(64).collect())),
        detail: Set(e.detail.to_string()),
    }
    .insert(c)
    .await
    .map_err(db_err)?;
    Ok(())
}

impl Store {
    /// Appends an entry made on behalf of `actor`.
    pub async fn audit(&self, actor: &Actor, e: Entry<'_>) -> Result<()> {
        write(&self.db, Some(actor), e).await
    }

    /// The most recent entries, newest first (tests only: people read the log through
    /// [`Store::audit_log`], which asks the policy).
    #[cfg(any(test, feature = "test-support"))]
    pub async fn audit_recent(&self, limit: u64) -> Result<Vec<Record>> {
        use sea_orm::{QueryOrder, QuerySelect};
        let rows =
            audit::Entity::find().order_by_desc(audit::Column::Id).limit(limit).all(&self.db).await.map_err(db_err)?;
        Ok(rows.into_iter().map(Record::from).collect())
    }

    /// The activity log as `actor` may read it (owners and admins), newest first, optionally of
    /// one client.
    pub async fn audit_log(&self, actor: &Actor, client: Option<ClientId>, req: PageRequest) -> Result<Page<Record>> {
        actor.may_read_audit()?;
        let mut q = audit::Entity::find();
        if let Some(c) = client {
            q = q.filter(audit::Column::ClientId.eq(c.0));
        }
        let rows = page_rows(&self.db, q, req, audit::Column::Id, audit::Column::Id).await?;
        Ok(page(rows.into_iter().map(Record::from).collect(), req, |r| r.id))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_action_has_its_own_dotted_name_that_round_trips() {
        let names: HashSet<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), AuditAction::ALL.len(), "two actions share a stored name");
        for a in AuditAction::ALL {
            let (subject, verb) = a.as_str().split_once('.').unwrap_or_default();
            assert!(!subject.is_empty() && !verb.is_empty() && !verb.contains('.'), "{a:?} is not `subject.verb`");
            assert!(a.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'), "{a:?}");
            assert_eq!(a.to_string(), a.as_str());
            assert_eq!(a.as_str().parse::<AuditAction>(), Ok(*a), "{a:?} does not round-trip");
        }
    }

    #[test]
    fn stored_names_are_the_ones_in_the_log() {
        // Stored rows and the API's audit output use these names: they never change.
        assert_eq!(AuditAction::SessionLoginPassword.as_str(), "session.login_password");
        assert_eq!(AuditAction::TaskUpdate.as_str(), "task.update");
        assert_eq!(AuditAction::PaymentRecord.as_str(), "payment.record");
        assert_eq!(AuditAction::InvoiceSettingsUpdate.as_str(), "invoice_settings.update");
        assert_eq!(AuditAction::ViewAsStop.as_str(), "view_as.stop");
        assert_eq!(AuditAction::BrandingUpdate.as_str(), "branding.update");
        assert_eq!(AuditAction::BrandingLogoSet.as_str(), "branding.logo_set");
        assert_eq!(AuditAction::BrandingLogoRemove.as_str(), "branding.logo_remove");
        assert_eq!(AuditAction::ProjectTemplateCreate.as_str(), "project_template.create");
        assert_eq!(AuditAction::RecurringInvoiceIssue.as_str(), "recurring_invoice.issue");
        assert_eq!(AuditAction::ALL.len(), 84);
        assert!("task.delete".parse::<AuditAction>().is_err());
    }
}
