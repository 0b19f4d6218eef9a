//! Closed sets of values: roles, statuses, priorities, comment visibility.
//! Each one is an enum stored as its snake_case name in both databases.

use std::fmt;
use std::str::FromStr;

mod billing;
mod recurring;
pub use billing::*;
pub use recurring::*;

/// A string-valued enum: serde, `as_str`, `Display`, `FromStr` and `ALL`; with `= "wire" /
/// "Label"` also `label()`.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $s:literal / $label:literal),* $(,)? }) => {
        string_enum!($(#[$doc])* $name { $($(#[$vdoc])* $variant = $s),* });

        impl $name {
            /// Human label.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }
        }
    };
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $s:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stored / wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$variant),)*
                    _ => Err(format!("must be one of: {}", [$($s),*].join(", "))),
                }
            }
        }
    };
}

pub(crate) use string_enum;

string_enum!(
    /// What a user is allowed to do, staff or client side.
    Role {
        /// Runs the agency's Atrium; everything.
        Owner = "owner",
        /// Manages staff and clients.
        Admin = "admin",
        /// Works on client projects.
        Staff = "staff",
        /// A client's main contact: sees the client's projects and billing, comments.
        ClientAdmin = "client_admin",
        /// A client's accountant: billing only.
        ClientFinance = "client_finance",
        /// Read only, no comments.
        ClientViewer = "client_viewer",
    }
);

impl Role {
    /// Owner, admin or staff.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Owner | Role::Admin | Role::Staff)
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Staff => "Staff",
            Role::ClientAdmin => "Client admin",
            Role::ClientFinance => "Client finance",
            Role::ClientViewer => "Client viewer",
        }
    }
}

string_enum!(
    /// Whether a client is current.
    ClientStatus { Active = "active", Archived = "archived" }
);

string_enum!(
    /// Where a project stands.
    ProjectStatus {
        Planned = "planned",
        Active = "active",
        OnHold = "on_hold",
        Completed = "completed",
        Cancelled = "cancelled",
    }
);

impl ProjectStatus {
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            ProjectStatus::Planned => "Planned",
            ProjectStatus::Active => "Active",
            ProjectStatus::OnHold => "On hold",
            ProjectStatus::Completed => "Completed",
            ProjectStatus::Cancelled => "Cancelled",
        }
    }
}

string_enum!(
    /// Where a task stands.
    TaskStatus { Todo = "todo", InProgress = "in_progress", Done = "done" }
);

impl TaskStatus {
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Todo => "To do",
            TaskStatus::InProgress => "In progress",
            TaskStatus::Done => "Done",
        }
    }
}

string_enum!(
    /// How urgent a task is.
    Priority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" }
);

// `string_enum!` fixes the derives, so the default is written out.
#[allow(clippy::derivable_impls)]
impl Default for Priority {
    fn default() -> Self {
        Priority::Normal
    }
}

impl Priority {
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Priority::Low => "Low",
            Priority::Normal => "Normal",
            Priority::High => "High",
            Priority::Urgent => "Urgent",
        }
    }
}

string_enum!(
    /// Who may read a comment: a reply is shared with the client, a note is internal.
    Visibility { Reply = "reply", Note = "note" }
);

string_enum!(
    /// Which conversation of a project a message is in: the one shared with the client, or the
    /// staff-only channel clients never see.
    Channel { Client = "client", Staff = "staff" }
);

string_enum!(
    /// What a notification is about. Each user chooses a [`Delivery`] per kind.
    NotificationKind {
        /// A task was assigned to me.
        TaskAssigned = "task_assigned",
        /// Someone replied (or, for staff, wrote a note) on a task assigned to me.
        TaskReply = "task_reply",
        /// Someone mentioned me in a comment or message.
        Mention = "mention",
        /// A task of my client's project changed status.
        TaskStatus = "task_status",
        /// A new message in a project conversation I take part in.
        Message = "message",
        /// Staff asked me to approve a file or a task deliverable.
        ApprovalRequested = "approval_requested",
        /// A client decided on an approval I requested (staff).
        ApprovalDecided = "approval_decided",
        /// An invoice was sent to my client (client admins and finance users).
        InvoiceSent = "invoice_sent",
        /// A client opened a ticket (owners, admins and the project's team).
        TicketCreated = "ticket_created",
        /// A ticket was assigned to me.
        TicketAssigned = "ticket_assigned",
        /// Someone answered on a ticket I asked or am assigned to.
        TicketReply = "ticket_reply",
        /// A ticket I asked was solved or waits for my answer.
        TicketStatus = "ticket_status",
        /// A ticket assigned to me (or, unassigned, any ticket: admins) is about to miss its
        /// service level.
        TicketDue = "ticket_due",
        /// A reminder or summary one of the agency's automations sends.
        Automated = "automated",
    }
);

impl NotificationKind {
    /// Human label, plural ("mentions").
    pub fn label(self) -> &'static str {
        match self {
            NotificationKind::TaskAssigned => "tasks assigned to you",
            NotificationKind::TaskReply => "replies on your tasks",
            NotificationKind::Mention => "mentions",
            NotificationKind::TaskStatus => "task status changes",
            NotificationKind::Message => "new messages",
            NotificationKind::ApprovalRequested => "approvals requested from you",
            NotificationKind::ApprovalDecided => "decisions on approvals you requested",
            NotificationKind::InvoiceSent => "invoices sent to you",
            NotificationKind::TicketCreated => "new help-desk tickets",
            NotificationKind::TicketAssigned => "tickets assigned to you",
            NotificationKind::TicketReply => "answers on your tickets",
            NotificationKind::TicketStatus => "your tickets solved or waiting for you",
            NotificationKind::TicketDue => "tickets about to miss their service level",
            NotificationKind::Automated => "automatic reminders and summaries",
        }
    }

    /// What notifications of this kind are about (a mention's is taken as its task's).
    pub fn subject(self) -> NotificationSubject {
        match self {
            NotificationKind::TaskAssigned
            | NotificationKind::TaskReply
            | NotificationKind::Mention
            | NotificationKind::TaskStatus
            | NotificationKind::Automated => NotificationSubject::Task,
            NotificationKind::Message => NotificationSubject::Project,
            NotificationKind::ApprovalRequested | NotificationKind::ApprovalDecided => NotificationSubject::Approval,
            NotificationKind::InvoiceSent => NotificationSubject::Invoice,
            NotificationKind::TicketCreated
            | NotificationKind::TicketAssigned
            | NotificationKind::TicketReply
            | NotificationKind::TicketStatus
            | NotificationKind::TicketDue => NotificationSubject::Ticket,
        }
    }

    /// What a user gets until they choose otherwise.
    pub fn default_delivery(self) -> Delivery {
        match self {
            NotificationKind::TaskStatus => Delivery::InApp,
            _ => Delivery::Email,
        }
    }
}

string_enum!(
    /// What a notification is about (its `subject_id` is that thing's id).
    NotificationSubject {
        /// A task: assignments, replies, mentions in comments, status changes.
        Task = "task",
        /// A project's conversation: messages and mentions in them.
        Project = "project",
        /// An approval request.
        Approval = "approval",
        /// An issued invoice.
        Invoice = "invoice",
        /// A help-desk ticket.
        Ticket = "ticket",
    }
);

string_enum!(
    /// How a user wants to hear about one kind of notification.
    Delivery {
        /// In the notification center only.
        InApp = "in_app",
        /// In the notification center and by email right away.
        Email = "email",
        /// In the notification center and in one email a day.
        Digest = "digest",
        /// Not at all.
        Off = "off",
    }
);

impl Delivery {
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Delivery::InApp => "In the app only",
            Delivery::Email => "Email right away",
            Delivery::Digest => "Daily digest email",
            Delivery::Off => "Off",
        }
    }
}

string_enum!(
    /// Where an approval request stands.
    ApprovalStatus {
        /// Waiting for a decision (also after a new version reopened it).
        Open = "open",
        /// Signed off; final for the approved version.
        Approved = "approved",
        /// The approver asked for changes (with a comment).
        ChangesRequested = "changes_requested",
        /// The approver rejected it.
        Rejected = "rejected",
    }
);

impl ApprovalStatus {
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            ApprovalStatus::Open => "Waiting for approval",
            ApprovalStatus::Approved => "Approved",
            ApprovalStatus::ChangesRequested => "Changes requested",
            ApprovalStatus::Rejected => "Rejected",
        }
    }
}

string_enum!(
    /// An approver's decision.
    Decision { Approved = "approved", ChangesRequested = "changes_requested", Rejected = "rejected" }
);

impl Decision {
    /// The status an approval takes after this decision.
    pub fn status(self) -> ApprovalStatus {
        match self {
            Decision::Approved => ApprovalStatus::Approved,
            Decision::ChangesRequested => ApprovalStatus::ChangesRequested,
            Decision::Rejected => ApprovalStatus::Rejected,
        }
    }
}

string_enum!(
    /// What an approval is about.
    ApprovalSubject { File = "file", Task = "task" }
);

string_enum!(
    /// What a one-time sign-in token is for. A token only works for its own purpose.
    TokenPurpose { MagicLink = "magic_link", PasswordReset = "password_reset" }
);

impl TokenPurpose {
    /// How long a token of this purpose stays valid (SEC-AUTH-5).
    pub fn lifetime(self) -> chrono::Duration {
        match self {
            TokenPurpose::MagicLink => chrono::Duration::minutes(15),
            TokenPurpose::PasswordReset => chrono::Duration::hours(1),
        }
    }
}

/// How long an invitation stays valid (SEC-AUTH-5).
pub fn invitation_lifetime() -> chrono::Duration {
    chrono::Duration::days(7)
}

/// Progress of a project in whole percent, derived from its tasks' statuses.
pub fn progress(done: u64, total: u64) -> u8 {
    // done <= total, so the result is at most 100; no tasks means no progress.
    (done.min(total) * 100).checked_div(total).map_or(0, |p| u8::try_from(p).unwrap_or(100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        for s in TaskStatus::ALL {
            assert_eq!(s.as_str().parse::<TaskStatus>().unwrap(), *s);
        }
        assert!("superuser".parse::<Role>().is_err());
    }

    #[test]
    fn progress_is_derived_and_bounded() {
        assert_eq!(progress(0, 0), 0);
        assert_eq!(progress(1, 3), 33);
        assert_eq!(progress(3, 3), 100);
        assert_eq!(progress(5, 3), 100);
    }
}

use crate::ids::{
    ApprovalId, ClientId, CommentId, ContactId, FileId, FileVersionId, FolderId, MessageId, MilestoneId,
    NotificationId, ProjectId, TaskId, UserId,
};
use chrono::{DateTime, NaiveDate, Utc};

/// A person as the API shows them.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    #[schema(value_type = String)]
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[schema(value_type = Option<String>)]
    pub client_id: Option<ClientId>,
    /// Whether the user may sign in.
    pub active: bool,
    /// The person's own IANA timezone for pages and mail; `null`: the agency's.
    #[schema(nullable)]
    pub timezone: Option<String>,
}

/// A client company.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Client {
    #[schema(value_type = String)]
    pub id: ClientId,
    pub name: String,
    pub status: ClientStatus,
    pub created_at: DateTime<Utc>,
}

/// A person at a client the agency deals with: the address book, independent of portal access.
/// Staff only; client users never see it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Contact {
    #[schema(value_type = String)]
    pub id: ContactId,
    #[schema(value_type = String)]
    pub client_id: ClientId,
    pub name: String,
    /// Empty when unknown.
    pub email: String,
    /// Empty when unknown.
    pub phone: String,
    /// Their job title or role in the project, e.g. "Marketing lead".
    pub title: String,
    pub created_at: DateTime<Utc>,
}

/// A project of a client, with progress derived from its tasks.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Project {
    #[schema(value_type = String)]
    pub id: ProjectId,
    #[schema(value_type = String)]
    pub client_id: ClientId,
    pub name: String,
    pub description: String,
    pub status: ProjectStatus,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// Percentage of tasks done, 0..=100.
    pub progress: u8,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A milestone on a project's timeline.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Milestone {
    #[schema(value_type = String)]
    pub id: MilestoneId,
    #[schema(value_type = String)]
    pub project_id: ProjectId,
    pub name: String,
    pub due_date: Option<NaiveDate>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// A task of a project.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Task {
    #[schema(value_type = String)]
    pub id: TaskId,
    #[schema(value_type = String)]
    pub project_id: ProjectId,
    #[schema(value_type = Option<String>)]
    pub milestone_id: Option<MilestoneId>,
    pub title: String,
    pub description: String,
    pub status: TaskStatus,
    pub priority: Priority,
    pub due_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A comment on a task: a reply (shared with the client) or an internal note.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Comment {
    #[schema(value_type = String)]
    pub id: CommentId,
    #[schema(value_type = String)]
    pub task_id: TaskId,
    #[schema(value_type = String)]
    pub author_id: UserId,
    pub body: String,
    /// Sanitized HTML rendering of `body`.
    pub body_html: String,
    pub visibility: Visibility,
    pub created_at: DateTime<Utc>,
}

/// Someone who has read a message ("seen by Ana, 14:02").
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReadReceipt {
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub name: String,
    pub read_at: DateTime<Utc>,
}

/// A message in a project's conversation.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Message {
    #[schema(value_type = String)]
    pub id: MessageId,
    #[schema(value_type = String)]
    pub project_id: ProjectId,
    #[schema(value_type = String)]
    pub author_id: UserId,
    /// The author's display name.
    pub author_name: String,
    pub channel: Channel,
    pub body: String,
    /// Sanitized HTML rendering of `body`.
    pub body_html: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// Everyone but the author who has read up to this message or later.
    pub read_by: Vec<ReadReceipt>,
}

/// An entry of the caller's notification center.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Notification {
    #[schema(value_type = String)]
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub subject_type: NotificationSubject,
    pub subject_id: String,
    /// One line, written for the recipient.
    pub text: String,
    /// A path to the exact thing, for the recipient's side of the portal.
    pub url: String,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A folder of a project's files. Staff-only folders (and everything in them) never reach a client.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Folder {
    #[schema(value_type = String)]
    pub id: FolderId,
    #[schema(value_type = String)]
    pub project_id: ProjectId,
    /// `null` for a project's top folder.
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<FolderId>,
    pub name: String,
    pub staff_only: bool,
    pub created_at: DateTime<Utc>,
}

/// A file: its current version's facts. Uploading the same name into the same folder adds a version.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct File {
    #[schema(value_type = String)]
    pub id: FileId,
    #[schema(value_type = String)]
    pub project_id: ProjectId,
    #[schema(value_type = String)]
    pub folder_id: FolderId,
    pub name: String,
    /// Bytes of the current version.
    pub size: u64,
    /// The content type the server decided (from the bytes, not the upload's claim).
    pub content_type: String,
    /// SHA-256 of the current version (lowercase hex).
    pub sha256: String,
    /// The current version number (1 for the first upload).
    pub version: u32,
    /// Staff only when it, or its folder, is.
    pub staff_only: bool,
    #[schema(value_type = String)]
    pub uploaded_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set while deleted (restorable by staff for 30 days).
    pub deleted_at: Option<DateTime<Utc>>,
}

/// One uploaded version of a file.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FileVersion {
    #[schema(value_type = String)]
    pub id: FileVersionId,
    #[schema(value_type = String)]
    pub file_id: FileId,
    pub version: u32,
    pub size: u64,
    pub content_type: String,
    pub sha256: String,
    #[schema(value_type = String)]
    pub uploaded_by: UserId,
    /// The uploader's name.
    pub uploaded_by_name: String,
    pub created_at: DateTime<Utc>,
}

/// One entry of an approval's history.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ApprovalEvent {
    pub at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub user_name: String,
    /// `requested`, `approved`, `changes_requested`, `rejected` or `reopened`.
    pub action: String,
    /// The file version this entry concerns (`null` for a task).
    pub version: Option<u32>,
    /// The approver's comment (empty when none).
    pub comment: String,
}

/// The record of an approval: who signed off, when, on exactly which version. Written once.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SignOff {
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub name: String,
    pub at: DateTime<Utc>,
    /// The approved file version (`null` for a task).
    pub version: Option<u32>,
    /// SHA-256 of the approved version (`null` for a task).
    pub sha256: Option<String>,
}

/// A request for named client users to approve a file version or a task deliverable.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Approval {
    #[schema(value_type = String)]
    pub id: ApprovalId,
    #[schema(value_type = String)]
    pub client_id: ClientId,
    #[schema(value_type = String)]
    pub project_id: ProjectId,
    pub subject_type: ApprovalSubject,
    pub subject_id: String,
    /// The file's name or the task's title.
    pub subject_name: String,
    /// The file version under review (`null` for a task).
    pub version: Option<u32>,
    /// SHA-256 of that version (`null` for a task).
    pub sha256: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub approver_ids: Vec<UserId>,
    pub status: ApprovalStatus,
    pub due_date: Option<NaiveDate>,
    #[schema(value_type = String)]
    pub requested_by: UserId,
    pub created_at: DateTime<Utc>,
    /// Oldest first.
    pub history: Vec<ApprovalEvent>,
    /// Set once approved; never changed afterwards.
    pub sign_off: Option<SignOff>,
}
