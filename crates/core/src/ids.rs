//! One id type per entity: a UUIDv7 that cannot be mixed up with another entity's id.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered, unguessable id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = crate::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                // An unparsable id is simply an id that does not exist.
                uuid::Uuid::parse_str(s).map(Self).map_err(|_| crate::Error::NotFound)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(u: uuid::Uuid) -> Self {
                Self(u)
            }
        }
    )*};
}

id_type!(
    /// A person who can sign in (staff or client user).
    UserId,
    /// A client company.
    ClientId,
    /// A project of a client.
    ProjectId,
    /// A milestone of a project.
    MilestoneId,
    /// A task of a project.
    TaskId,
    /// A comment on a task.
    CommentId,
    /// A contact person at a client (with or without portal access).
    ContactId,
    /// A pending invitation.
    InvitationId,
    /// A server-side session.
    SessionId,
    /// A message in a project's conversation.
    MessageId,
    /// An entry of someone's notification center.
    NotificationId,
    /// A background job in the durable queue.
    JobId,
    /// A folder of a project's files.
    FolderId,
    /// A file (all its versions).
    FileId,
    /// One uploaded version of a file.
    FileVersionId,
    /// A request for a client's approval of a file version or a task deliverable.
    ApprovalId,
    /// One entry of an approval's history (request, decision, reopening).
    ApprovalEventId,
    /// An invoice (numbered separately; the id is never shown as its number).
    InvoiceId,
    /// One line of an invoice.
    InvoiceLineId,
    /// A payment recorded against an invoice.
    PaymentId,
    /// A custom page of a project (markdown, an embed or a link card).
    ProjectPageId,
    /// A help-desk ticket (shown by its number, `#1042`, never by this id).
    TicketId,
    /// A comment on a ticket: a Reply or an internal Note.
    TicketCommentId,
    /// A staff member's saved reply for the composer.
    SavedReplyId,
    /// An inbound mail held for staff (an unknown sender, or one that could not be placed).
    HeldMailId,
    /// A project template of the agency's library.
    ProjectTemplateId,
    /// An automation rule.
    AutomationId,
    /// One run of an automation rule (its key: rule, subject, step).
    AutomationRunId,
    /// A recurring invoice schedule (a client's retainer, issued every interval).
    RecurringInvoiceId,
    /// A personal API token (its secret is never stored, only its hash).
    ApiTokenId,
);
