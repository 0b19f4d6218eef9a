//! The help desk's domain: tickets, their statuses and the rules of moving between them,
//! satisfaction ratings, and the ticket read scope's shape. The access decisions live in the
//! policy (`policy::helpdesk`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::ids::{ClientId, ProjectId, TaskId, TicketCommentId, TicketId, UserId};
use crate::model::{Priority, Visibility, string_enum};

string_enum!(
    /// Where a ticket stands. New → open (staff took it up) → pending (waiting for the client)
    /// → on hold → solved → closed (solved tickets close by themselves after
    /// [`SOLVED_CLOSES_AFTER`]; a client reply to a solved ticket reopens it).
    TicketStatus {
        /// Nobody on the agency side has answered yet.
        New = "new" / "New",
        /// The agency is working on it.
        Open = "open" / "Open",
        /// Waiting for the client's answer.
        Pending = "pending" / "Waiting on you",
        /// Parked on the agency side (waiting for a third party).
        OnHold = "on_hold" / "On hold",
        /// Answered; the requester may reopen it by replying.
        Solved = "solved" / "Solved",
        /// Final: a reply opens a follow-up, not this ticket.
        Closed = "closed" / "Closed",
    }
);

impl TicketStatus {
    /// Whether the ticket still needs the agency (not solved or closed).
    pub fn is_active(self) -> bool {
        !matches!(self, TicketStatus::Solved | TicketStatus::Closed)
    }

    /// Whether the service-level clock runs: it stops while the agency waits for the client
    /// (pending) and once the ticket is solved or closed.
    pub fn clock_runs(self) -> bool {
        matches!(self, TicketStatus::New | TicketStatus::Open | TicketStatus::OnHold)
    }

    /// The staff-facing label (the portal's label of pending is "Waiting on you").
    pub fn staff_label(self) -> &'static str {
        match self {
            TicketStatus::Pending => "Waiting on client",
            s => s.label(),
        }
    }

    /// The status a client user's reply moves the ticket to: a solved or pending ticket opens
    /// again; a closed one stays closed (the store refuses replies to it).
    pub fn after_client_reply(self) -> TicketStatus {
        match self {
            TicketStatus::Solved | TicketStatus::Pending => TicketStatus::Open,
            s => s,
        }
    }
}

/// How long a solved ticket stays solved (reopenable by a reply) before it closes.
pub const SOLVED_CLOSES_AFTER: chrono::Duration = chrono::Duration::days(7);

/// How long before a ticket's next answer is due its assignee and the agency's owners and
/// admins are warned (once per due time).
pub const DUE_WARNING: chrono::Duration = chrono::Duration::hours(1);

string_enum!(
    /// The requester's answer to "How did we do?" once a ticket is solved.
    Satisfaction {
        /// Good.
        Good = "good" / "Good",
        /// Bad.
        Bad = "bad" / "Bad",
    }
);

/// The satisfaction score of rated tickets: % good − % bad, from −100 to 100.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SatisfactionScore {
    pub good: u64,
    pub bad: u64,
    /// `null` until a ticket is rated.
    pub score: Option<i64>,
}

impl SatisfactionScore {
    /// The score of `good` and `bad` ratings.
    pub fn of(good: u64, bad: u64) -> Self {
        let total = good + bad;
        let score = (total > 0).then(|| {
            let pct = |n: u64| i64::try_from(n * 100 / total).unwrap_or(0);
            // Rounded shares of the same total: the difference is at most 100 either way.
            pct(good) - pct(bad)
        });
        SatisfactionScore { good, bad, score }
    }
}

/// How a ticket is shown to people: `#1042`.
pub fn ticket_label(number: i64) -> String {
    format!("#{number}")
}

/// A help-desk ticket.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Ticket {
    #[schema(value_type = String)]
    pub id: TicketId,
    /// The agency-wide, gap-free number (shown as `#1042`).
    pub number: i64,
    #[schema(value_type = String)]
    pub client_id: ClientId,
    /// The project it is about; `null` for a general request.
    #[schema(value_type = Option<String>)]
    pub project_id: Option<ProjectId>,
    #[schema(value_type = String)]
    pub requester_id: UserId,
    pub subject: String,
    /// The request as the requester wrote it (markdown).
    pub body: String,
    /// Sanitized HTML rendering of `body`.
    pub body_html: String,
    pub status: TicketStatus,
    pub priority: Priority,
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<UserId>,
    /// Answers to the project's request form, by field key.
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The task this ticket was turned into, if any.
    #[schema(value_type = Option<String>)]
    pub task_id: Option<TaskId>,
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub solved_at: Option<DateTime<Utc>>,
    pub satisfaction: Option<Satisfaction>,
    pub satisfaction_comment: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Ticket {
    /// When the agency's next answer is due, and whether that time has passed at `now`: the
    /// first response until there is one, then the resolution — while the clock runs.
    pub fn next_due(&self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, bool)> {
        if !self.status.clock_runs() {
            return None;
        }
        let due = if self.first_responded_at.is_none() { self.first_response_due_at } else { self.resolution_due_at }?;
        Some((due, due < now))
    }
}

/// A comment on a ticket: a Reply (the client sees it) or an internal Note.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TicketComment {
    #[schema(value_type = String)]
    pub id: TicketCommentId,
    #[schema(value_type = String)]
    pub ticket_id: TicketId,
    #[schema(value_type = String)]
    pub author_id: UserId,
    pub body: String,
    /// Sanitized HTML rendering of `body`.
    pub body_html: String,
    pub visibility: Visibility,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_client_replies_reopen() {
        for s in TicketStatus::ALL {
            assert_eq!(s.as_str().parse::<TicketStatus>().unwrap(), *s);
        }
        assert_eq!(TicketStatus::Solved.after_client_reply(), TicketStatus::Open);
        assert_eq!(TicketStatus::Pending.after_client_reply(), TicketStatus::Open);
        assert_eq!(TicketStatus::OnHold.after_client_reply(), TicketStatus::OnHold);
        assert_eq!(TicketStatus::Closed.after_client_reply(), TicketStatus::Closed);
        assert!(!TicketStatus::Pending.clock_runs());
        assert_eq!(ticket_label(1042), "#1042");
    }

    #[test]
    fn the_score_is_percent_good_minus_percent_bad() {
        assert_eq!(SatisfactionScore::of(0, 0).score, None);
        assert_eq!(SatisfactionScore::of(3, 1).score, Some(50));
        assert_eq!(SatisfactionScore::of(0, 2).score, Some(-100));
        assert_eq!(SatisfactionScore::of(1, 2).score, Some(33 - 66));
    }
}
