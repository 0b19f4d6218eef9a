//! The kinds an automation is made of: what its runs are about, its trigger's kind and a
//! schedule's period. A leaf: the rest of `automation` builds on it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a rule's runs are about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// A task.
    Task,
    /// An invoice.
    Invoice,
    /// An approval request.
    Approval,
    /// A help-desk ticket.
    Ticket,
    /// A project.
    Project,
    /// A milestone.
    Milestone,
    /// A client (the runs of a schedule, one per client).
    Client,
    /// An invitation.
    Invitation,
}

impl SubjectType {
    /// The stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectType::Task => "task",
            SubjectType::Invoice => "invoice",
            SubjectType::Approval => "approval",
            SubjectType::Ticket => "ticket",
            SubjectType::Project => "project",
            SubjectType::Milestone => "milestone",
            SubjectType::Client => "client",
            SubjectType::Invitation => "invitation",
        }
    }
}

impl FromStr for SubjectType {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "task" => SubjectType::Task,
            "invoice" => SubjectType::Invoice,
            "approval" => SubjectType::Approval,
            "ticket" => SubjectType::Ticket,
            "project" => SubjectType::Project,
            "milestone" => SubjectType::Milestone,
            "client" => SubjectType::Client,
            "invitation" => SubjectType::Invitation,
            other => return Err(format!("unknown subject type {other:?}")),
        })
    }
}

/// How often a schedule fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Every {
    /// Once a week; `day` 1 = Monday … 7 = Sunday.
    Week,
    /// Once a month; `day` 1–31 (a shorter month fires on its last day).
    Month,
}

/// The kind of a trigger, as stored in its own column (so a change looks up only its rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TriggerKind {
    /// `task.status_changed`
    TaskStatusChanged,
    /// `task.due`
    TaskDue,
    /// `task.overdue`
    TaskOverdue,
    /// `invoice.sent`
    InvoiceSent,
    /// `invoice.due`
    InvoiceDue,
    /// `invoice.overdue`
    InvoiceOverdue,
    /// `approval.requested`
    ApprovalRequested,
    /// `approval.decided`
    ApprovalDecided,
    /// `ticket.created`
    TicketCreated,
    /// `ticket.solved`
    TicketSolved,
    /// `project.status_changed`
    ProjectStatusChanged,
    /// `milestone.reached`
    MilestoneReached,
    /// `schedule`
    Schedule,
    /// `invitation.unaccepted`
    InvitationUnaccepted,
}

impl TriggerKind {
    /// Every kind.
    pub const ALL: [TriggerKind; 14] = [
        TriggerKind::TaskStatusChanged,
        TriggerKind::TaskDue,
        TriggerKind::TaskOverdue,
        TriggerKind::InvoiceSent,
        TriggerKind::InvoiceDue,
        TriggerKind::InvoiceOverdue,
        TriggerKind::ApprovalRequested,
        TriggerKind::ApprovalDecided,
        TriggerKind::TicketCreated,
        TriggerKind::TicketSolved,
        TriggerKind::ProjectStatusChanged,
        TriggerKind::MilestoneReached,
        TriggerKind::Schedule,
        TriggerKind::InvitationUnaccepted,
    ];

    /// The stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::TaskStatusChanged => "task.status_changed",
            TriggerKind::TaskDue => "task.due",
            TriggerKind::TaskOverdue => "task.overdue",
            TriggerKind::InvoiceSent => "invoice.sent",
            TriggerKind::InvoiceDue => "invoice.due",
            TriggerKind::InvoiceOverdue => "invoice.overdue",
            TriggerKind::ApprovalRequested => "approval.requested",
            TriggerKind::ApprovalDecided => "approval.decided",
            TriggerKind::TicketCreated => "ticket.created",
            TriggerKind::TicketSolved => "ticket.solved",
            TriggerKind::ProjectStatusChanged => "project.status_changed",
            TriggerKind::MilestoneReached => "milestone.reached",
            TriggerKind::Schedule => "schedule",
            TriggerKind::InvitationUnaccepted => "invitation.unaccepted",
        }
    }

    /// A phrase for pages ("a task is due").
    pub fn label(self) -> &'static str {
        match self {
            TriggerKind::TaskStatusChanged => "A task's status changes",
            TriggerKind::TaskDue => "A task is due in N days",
            TriggerKind::TaskOverdue => "A task is overdue by N days",
            TriggerKind::InvoiceSent => "An invoice is sent",
            TriggerKind::InvoiceDue => "An invoice is due in N days",
            TriggerKind::InvoiceOverdue => "An invoice is overdue by N days",
            TriggerKind::ApprovalRequested => "An approval is requested",
            TriggerKind::ApprovalDecided => "An approval is decided",
            TriggerKind::TicketCreated => "A ticket is opened",
            TriggerKind::TicketSolved => "A ticket is solved",
            TriggerKind::ProjectStatusChanged => "A project's status changes",
            TriggerKind::MilestoneReached => "A milestone is reached",
            TriggerKind::Schedule => "On a schedule",
            TriggerKind::InvitationUnaccepted => "An invitation is not accepted after N days",
        }
    }

    /// What the runs of this trigger are about.
    pub fn subject(self) -> SubjectType {
        match self {
            TriggerKind::TaskStatusChanged | TriggerKind::TaskDue | TriggerKind::TaskOverdue => SubjectType::Task,
            TriggerKind::InvoiceSent | TriggerKind::InvoiceDue | TriggerKind::InvoiceOverdue => SubjectType::Invoice,
            TriggerKind::ApprovalRequested | TriggerKind::ApprovalDecided => SubjectType::Approval,
            TriggerKind::TicketCreated | TriggerKind::TicketSolved => SubjectType::Ticket,
            TriggerKind::ProjectStatusChanged => SubjectType::Project,
            TriggerKind::MilestoneReached => SubjectType::Milestone,
            TriggerKind::Schedule => SubjectType::Client,
            TriggerKind::InvitationUnaccepted => SubjectType::Invitation,
        }
    }

    /// Whether the sweep evaluates it (a time trigger), rather than the change itself.
    pub fn is_timed(self) -> bool {
        matches!(
            self,
            TriggerKind::TaskDue
                | TriggerKind::TaskOverdue
                | TriggerKind::InvoiceDue
                | TriggerKind::InvoiceOverdue
                | TriggerKind::Schedule
                | TriggerKind::InvitationUnaccepted
        )
    }
}

impl FromStr for TriggerKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        TriggerKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let all: Vec<&str> = TriggerKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("must be one of: {}", all.join(", "))
        })
    }
}

impl fmt::Display for TriggerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
