//! Live events: small notices that something changed, pushed to open pages over Server-Sent
//! Events. An event carries ids and statuses only — never text a recipient could not read — and
//! names its [`Audience`]; [`crate::policy::Actor::may_receive`] decides who gets it. Pages
//! react by re-fetching what they show through the ordinary scoped queries.

use serde::{Deserialize, Serialize};

use crate::ids::{ApprovalId, ClientId, CommentId, MessageId, NotificationId, ProjectId, TaskId, UserId};
use crate::model::{Channel, TaskStatus, Visibility};

/// Who may receive an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum Audience {
    /// Everyone who can see this client's project work (staff, the client's users but finance).
    Work {
        /// The client the work belongs to.
        client_id: ClientId,
    },
    /// Staff only: internal notes, the staff channel.
    Internal {
        /// The client the work belongs to.
        client_id: ClientId,
    },
    /// One person (their notification center).
    User {
        /// The recipient.
        user_id: UserId,
    },
    /// Whoever can read this ticket (the policy's ticket scope); `internal`: staff only (notes).
    Ticket {
        /// The ticket's client.
        client_id: ClientId,
        /// Who asked it (finance users read only their own tickets).
        requester_id: UserId,
        /// A note: staff only.
        internal: bool,
    },
    /// Every stream: only for `reload`, which carries nothing.
    Everyone,
}

/// One live event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveEvent {
    /// `task.updated`, `comment.created`, `message.created`, `message.updated`,
    /// `message.deleted`, `message.read`, `notification.created`, `ticket.created`,
    /// `ticket.updated`, `ticket.commented`.
    pub kind: String,
    /// Who may receive it.
    pub audience: Audience,
    /// Ids (and a task's status); what the SSE stream sends as `data`.
    pub data: serde_json::Value,
}

impl LiveEvent {
    /// The portal area the event belongs to, from its kind (`message.*`: Messages,
    /// `approval.*`: Approvals, `file.*`: Files, `invoice.*`: Billing); a client whose portal
    /// hides that area receives none of them.
    pub fn area(&self) -> Option<crate::portal::PortalPage> {
        use crate::portal::PortalPage;
        let (family, _) = self.kind.split_once('.')?;
        match family {
            "message" => Some(PortalPage::Messages),
            "approval" => Some(PortalPage::Approvals),
            "file" => Some(PortalPage::Files),
            "invoice" => Some(PortalPage::Billing),
            "ticket" => Some(PortalPage::HelpDesk),
            _ => None,
        }
    }

    /// A task changed (status, title, assignee...).
    pub fn task_updated(client: ClientId, project: ProjectId, task: TaskId, status: TaskStatus) -> Self {
        LiveEvent {
            kind: "task.updated".into(),
            audience: Audience::Work { client_id: client },
            data: serde_json::json!({ "project_id": project, "task_id": task, "status": status }),
        }
    }

    /// A comment was posted; a note only reaches staff.
    pub fn comment_created(
        client: ClientId,
        project: ProjectId,
        task: TaskId,
        comment: CommentId,
        visibility: Visibility,
    ) -> Self {
        LiveEvent {
            kind: "comment.created".into(),
            audience: audience_for(client, visibility == Visibility::Note),
            data: serde_json::json!({ "project_id": project, "task_id": task, "comment_id": comment }),
        }
    }

    /// A message was posted, edited, deleted or read (`what` is `created`, `updated`, `deleted`
    /// or `read`); the staff channel only reaches staff.
    pub fn message(what: &str, client: ClientId, project: ProjectId, message: MessageId, channel: Channel) -> Self {
        LiveEvent {
            kind: format!("message.{what}"),
            audience: audience_for(client, channel == Channel::Staff),
            data: serde_json::json!({ "project_id": project, "message_id": message, "channel": channel }),
        }
    }

    /// A ticket was opened or changed, or got a comment (`comment`: its id; `internal`: a note).
    pub fn ticket(
        what: &str,
        t: &crate::helpdesk::Ticket,
        comment: Option<crate::ids::TicketCommentId>,
        internal: bool,
    ) -> Self {
        LiveEvent {
            kind: format!("ticket.{what}"),
            audience: Audience::Ticket { client_id: t.client_id, requester_id: t.requester_id, internal },
            data: serde_json::json!({ "ticket_id": t.id, "status": t.status, "comment_id": comment }),
        }
    }

    /// Events may have been missed (the process's PostgreSQL listener reconnected): open pages
    /// should fetch what they show again. Carries no data.
    pub fn reload() -> Self {
        LiveEvent { kind: "reload".into(), audience: Audience::Everyone, data: serde_json::json!({}) }
    }

    /// An approval was requested, decided or reopened.
    pub fn approval_updated(client: ClientId, project: ProjectId, approval: ApprovalId) -> Self {
        LiveEvent {
            kind: "approval.updated".into(),
            audience: Audience::Work { client_id: client },
            data: serde_json::json!({ "project_id": project, "approval_id": approval }),
        }
    }

    /// A notification arrived for `user`.
    pub fn notification_created(user: UserId, id: NotificationId, unread: u64) -> Self {
        LiveEvent {
            kind: "notification.created".into(),
            audience: Audience::User { user_id: user },
            data: serde_json::json!({ "notification_id": id, "unread": unread }),
        }
    }
}

fn audience_for(client: ClientId, internal: bool) -> Audience {
    if internal { Audience::Internal { client_id: client } } else { Audience::Work { client_id: client } }
}
