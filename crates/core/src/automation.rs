//! Automations: rules of a trigger, optional conditions and actions, checked here once whoever
//! sends them (API or form). The store evaluates them (a sweep for the time triggers, a hook in
//! the transaction of each change for the event triggers) and records every run under its key
//! (rule, subject, step), so a run happens once. Who may keep them is the policy's
//! (`Actor::may_manage_automations`).

pub mod builtins;
mod kinds;
pub mod placeholders;
pub mod timing;

use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use builtins::{Builtin, BuiltinSettings};
pub use kinds::{Every, SubjectType, TriggerKind};

use crate::ids::{ClientId, ProjectId, UserId};
use crate::model::{Priority, ProjectStatus, TaskStatus, Visibility};
use crate::validate::{self, NAME_MAX, TITLE_MAX};
use crate::{Error, Result};

/// The most rules (ready-made ones included).
pub const RULES_MAX: usize = 100;
/// The most actions of one rule.
pub const ACTIONS_MAX: usize = 10;
/// The largest `days_before` / `days_after` / `offset_days`.
pub const DAYS_MAX: i64 = 365;
/// The longest mail subject (before placeholders are filled in).
pub const SUBJECT_MAX: usize = 200;
/// The longest mail body, comment or notification text (before placeholders are filled in).
pub const TEXT_MAX: usize = 5_000;

/// What starts a rule. Day counts are 0–[`DAYS_MAX`]; dates are the agency's (its timezone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Trigger {
    /// A task's status changed (to `to`, when given).
    #[serde(rename = "task.status_changed")]
    TaskStatusChanged {
        /// Only changes to this status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<TaskStatus>,
    },
    /// An open task is due in `days_before` days (0: on the day).
    #[serde(rename = "task.due")]
    TaskDue {
        /// Days before the due date.
        days_before: i64,
    },
    /// An open task is `days_after` days past its due date.
    #[serde(rename = "task.overdue")]
    TaskOverdue {
        /// Days after the due date.
        days_after: i64,
    },
    /// An invoice was sent.
    #[serde(rename = "invoice.sent")]
    InvoiceSent {},
    /// A sent, unpaid invoice is due in `days_before` days (0: on the day).
    #[serde(rename = "invoice.due")]
    InvoiceDue {
        /// Days before the due date.
        days_before: i64,
    },
    /// A sent, unpaid invoice is `days_after` days past its due date.
    #[serde(rename = "invoice.overdue")]
    InvoiceOverdue {
        /// Days after the due date.
        days_after: i64,
    },
    /// Staff asked a client for an approval.
    #[serde(rename = "approval.requested")]
    ApprovalRequested {},
    /// A client decided on an approval.
    #[serde(rename = "approval.decided")]
    ApprovalDecided {},
    /// A ticket was opened.
    #[serde(rename = "ticket.created")]
    TicketCreated {},
    /// A ticket was solved.
    #[serde(rename = "ticket.solved")]
    TicketSolved {},
    /// A project's status changed (to `to`, when given).
    #[serde(rename = "project.status_changed")]
    ProjectStatusChanged {
        /// Only changes to this status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<ProjectStatus>,
    },
    /// A milestone was marked done.
    #[serde(rename = "milestone.reached")]
    MilestoneReached {},
    /// Every week or month at a local time; one run per client (or for the one client the
    /// conditions name).
    #[serde(rename = "schedule")]
    Schedule {
        /// Week or month.
        every: Every,
        /// Weekday (1 = Monday … 7) or day of the month (1–31).
        day: u32,
        /// Local time, `HH:MM`.
        time: String,
    },
    /// An invitation is still not accepted `days_after` days after it was sent.
    #[serde(rename = "invitation.unaccepted")]
    InvitationUnaccepted {
        /// Days after the invitation was sent.
        days_after: i64,
    },
}

impl Trigger {
    /// Its kind.
    pub fn kind(&self) -> TriggerKind {
        match self {
            Trigger::TaskStatusChanged { .. } => TriggerKind::TaskStatusChanged,
            Trigger::TaskDue { .. } => TriggerKind::TaskDue,
            Trigger::TaskOverdue { .. } => TriggerKind::TaskOverdue,
            Trigger::InvoiceSent {} => TriggerKind::InvoiceSent,
            Trigger::InvoiceDue { .. } => TriggerKind::InvoiceDue,
            Trigger::InvoiceOverdue { .. } => TriggerKind::InvoiceOverdue,
            Trigger::ApprovalRequested {} => TriggerKind::ApprovalRequested,
            Trigger::ApprovalDecided {} => TriggerKind::ApprovalDecided,
            Trigger::TicketCreated {} => TriggerKind::TicketCreated,
            Trigger::TicketSolved {} => TriggerKind::TicketSolved,
            Trigger::ProjectStatusChanged { .. } => TriggerKind::ProjectStatusChanged,
            Trigger::MilestoneReached {} => TriggerKind::MilestoneReached,
            Trigger::Schedule { .. } => TriggerKind::Schedule,
            Trigger::InvitationUnaccepted { .. } => TriggerKind::InvitationUnaccepted,
        }
    }

    /// Checks the day counts and the schedule.
    pub fn check(&self) -> Result<()> {
        let days = |field: &'static str, n: i64| {
            if (0..=DAYS_MAX).contains(&n) {
                Ok(())
            } else {
                Err(Error::invalid(field, format!("must be a whole number of days from 0 to {DAYS_MAX}")))
            }
        };
        match self {
            Trigger::TaskDue { days_before } | Trigger::InvoiceDue { days_before } => {
                days("trigger.days_before", *days_before)
            }
            Trigger::TaskOverdue { days_after }
            | Trigger::InvoiceOverdue { days_after }
            | Trigger::InvitationUnaccepted { days_after } => days("trigger.days_after", *days_after),
            Trigger::Schedule { every, day, time } => {
                let max = match every {
                    Every::Week => 7,
                    Every::Month => 31,
                };
                if !(1..=max).contains(day) {
                    let what = if max == 7 { "a weekday from 1 (Monday) to 7 (Sunday)" } else { "a day from 1 to 31" };
                    return Err(Error::invalid("trigger.day", format!("must be {what}")));
                }
                timing::parse_time(time).map(|_| ())
            }
            _ => Ok(()),
        }
    }

    /// The schedule's local time, when this is a schedule with a valid one.
    pub fn schedule_time(&self) -> Option<chrono::NaiveTime> {
        match self {
            Trigger::Schedule { time, .. } => timing::parse_time(time).ok(),
            _ => None,
        }
    }
}

/// Who a task's assignee is, as a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssigneeKind {
    /// A staff member.
    Staff,
    /// One of the client's users.
    Client,
    /// Nobody.
    Nobody,
}

/// Narrows a rule to some subjects; every condition given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// Only this client's subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub client_id: Option<ClientId>,
    /// Only this project's subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub project_id: Option<ProjectId>,
    /// Only tasks or tickets of this priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Only tasks whose assignee is of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<AssigneeKind>,
}

/// What a subject is, for the conditions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubjectFacts {
    /// Its client.
    pub client: Option<ClientId>,
    /// Its project.
    pub project: Option<ProjectId>,
    /// Its priority (tasks and tickets).
    pub priority: Option<Priority>,
    /// Its assignee's kind (tasks).
    pub assignee: Option<AssigneeKind>,
}

impl Conditions {
    /// Whether every condition given holds for `s` (a condition on a fact the subject does not
    /// have does not hold).
    pub fn hold(&self, s: &SubjectFacts) -> bool {
        self.client_id.is_none_or(|c| s.client == Some(c))
            && self.project_id.is_none_or(|p| s.project == Some(p))
            && self.priority.is_none_or(|p| s.priority == Some(p))
            && self.assignee.is_none_or(|a| s.assignee == Some(a))
    }

    fn check(&self, trigger: TriggerKind) -> Result<()> {
        let subject = trigger.subject();
        if self.priority.is_some() && !matches!(subject, SubjectType::Task | SubjectType::Ticket) {
            return Err(Error::invalid("conditions.priority", "only tasks and tickets have a priority"));
        }
        if self.assignee.is_some() && subject != SubjectType::Task {
            return Err(Error::invalid("conditions.assignee", "only tasks have an assignee kind"));
        }
        if self.project_id.is_some() && matches!(subject, SubjectType::Client | SubjectType::Invitation) {
            return Err(Error::invalid("conditions.project_id", "this trigger's subjects belong to no project"));
        }
        Ok(())
    }
}

/// Who a mail or a staff notification goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// The subject's client's active Client Admins.
    ClientAdmins,
    /// The subject's client's active Client Admins and Client Finance users.
    ClientBilling,
    /// The task's assignee, or the ticket's.
    Assignee,
    /// The staff on the subject's project team.
    ProjectTeam,
    /// The person invited (invitation triggers).
    Invitee,
    /// The agency's owners and admins.
    OwnersAndAdmins,
    /// One person (a mail to a client user goes only when the subject is theirs to see).
    User(UserId),
}

impl Recipient {
    /// The wire form.
    pub fn as_string(self) -> String {
        match self {
            Recipient::ClientAdmins => "client_admins".into(),
            Recipient::ClientBilling => "client_billing".into(),
            Recipient::Assignee => "assignee".into(),
            Recipient::ProjectTeam => "project_team".into(),
            Recipient::Invitee => "invitee".into(),
            Recipient::OwnersAndAdmins => "owners_admins".into(),
            Recipient::User(u) => u.to_string(),
        }
    }
}

impl FromStr for Recipient {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "client_admins" => Recipient::ClientAdmins,
            "client_billing" => Recipient::ClientBilling,
            "assignee" => Recipient::Assignee,
            "project_team" => Recipient::ProjectTeam,
            "invitee" => Recipient::Invitee,
            "owners_admins" => Recipient::OwnersAndAdmins,
            other => Recipient::User(other.parse().map_err(|_| {
                "must be client_admins, client_billing, assignee, project_team, invitee, owners_admins or a user id"
                    .to_string()
            })?),
        })
    }
}

impl Serialize for Recipient {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for Recipient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Recipient {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "`client_admins`, `client_billing`, `assignee`, `project_team`, `invitee`, `owners_admins`, or a user id",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Recipient {}

/// What a rule does. Texts may hold placeholders (`{{task.title}}`, see [`placeholders`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Mails each recipient, rendered for them.
    Email {
        /// Who gets it.
        to: Recipient,
        /// The subject line.
        subject: String,
        /// The text.
        body: String,
    },
    /// Adds a task to the subject's project, due `offset_days` after the run (none: no date).
    CreateTask {
        /// Its title.
        title: String,
        /// Days from the run to its due date.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offset_days: Option<i64>,
    },
    /// Comments on the task or ticket: a Reply the client sees, or an internal Note.
    Comment {
        /// Reply or note.
        visibility: Visibility,
        /// The text.
        body: String,
    },
    /// Sets the subject's status (a task's, a ticket's or a project's).
    SetStatus {
        /// The new status, in the subject's own statuses.
        status: String,
    },
    /// An in-app notification to staff.
    NotifyStaff {
        /// Who gets it: `assignee`, `project_team`, `owners_admins` or a staff member's id.
        to: Recipient,
        /// The text.
        text: String,
    },
}

impl Action {
    /// The wire name of its kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Email { .. } => "email",
            Action::CreateTask { .. } => "create_task",
            Action::Comment { .. } => "comment",
            Action::SetStatus { .. } => "set_status",
            Action::NotifyStaff { .. } => "notify_staff",
        }
    }

    fn check(&mut self, i: usize, trigger: TriggerKind) -> Result<()> {
        let subject = trigger.subject();
        let field = |f: &str| format!("actions[{i}].{f}");
        let text = |f: &str, v: &str, max| validate::named(&field(f), validate::text("text", v, max));
        let line = |f: &str, v: &str, max| validate::named(&field(f), validate::line("text", v, max));
        match self {
            Action::Email { to, subject: s, body } => {
                check_recipient(&field("to"), *to, trigger, false)?;
                *s = line("subject", s, SUBJECT_MAX)?;
                *body = text("body", body, TEXT_MAX)?;
                placeholders::check(&field("subject"), s, trigger)?;
                placeholders::check(&field("body"), body, trigger)?;
            }
            Action::CreateTask { title, offset_days } => {
                if matches!(subject, SubjectType::Client | SubjectType::Invitation) {
                    return Err(Error::invalid(
                        field("kind"),
                        "this trigger's subjects have no project to add a task to",
                    ));
                }
                *title = line("title", title, TITLE_MAX)?;
                placeholders::check(&field("title"), title, trigger)?;
                if let Some(n) = offset_days
                    && !(0..=DAYS_MAX).contains(n)
                {
                    return Err(Error::invalid(field("offset_days"), format!("must be from 0 to {DAYS_MAX} days")));
                }
            }
            Action::Comment { body, .. } => {
                if !matches!(subject, SubjectType::Task | SubjectType::Ticket) {
                    return Err(Error::invalid(field("kind"), "only tasks and tickets take comments"));
                }
                *body = text("body", body, TEXT_MAX)?;
                placeholders::check(&field("body"), body, trigger)?;
            }
            Action::SetStatus { status } => {
                let ok = match subject {
                    SubjectType::Task => status.parse::<TaskStatus>().map(|_| ()),
                    SubjectType::Project => status.parse::<ProjectStatus>().map(|_| ()),
                    SubjectType::Ticket => status.parse::<crate::helpdesk::TicketStatus>().map(|_| ()),
                    _ => Err("only a task's, a ticket's or a project's status can be set".into()),
                };
                ok.map_err(|m| Error::invalid(field("status"), m))?;
            }
            Action::NotifyStaff { to, text: t } => {
                if matches!(subject, SubjectType::Client | SubjectType::Invitation) {
                    return Err(Error::invalid(
                        field("kind"),
                        "this trigger's subjects have no page to notify staff about",
                    ));
                }
                check_recipient(&field("to"), *to, trigger, true)?;
                *t = text("text", t, TEXT_MAX)?;
                placeholders::check(&field("text"), t, trigger)?;
            }
        }
        Ok(())
    }
}

fn check_recipient(field: &str, to: Recipient, trigger: TriggerKind, staff_only: bool) -> Result<()> {
    let subject = trigger.subject();
    let problem = match to {
        Recipient::ClientAdmins | Recipient::ClientBilling if staff_only => Some("staff notifications go to staff"),
        Recipient::Invitee if staff_only => Some("staff notifications go to staff"),
        Recipient::Assignee if !matches!(subject, SubjectType::Task | SubjectType::Ticket) => {
            Some("only tasks and tickets have an assignee")
        }
        Recipient::ProjectTeam if matches!(subject, SubjectType::Client | SubjectType::Invitation) => {
            Some("this trigger's subjects belong to no project")
        }
        Recipient::Invitee if subject != SubjectType::Invitation => Some("only invitation triggers have an invitee"),
        _ => None,
    };
    match problem {
        Some(m) => Err(Error::invalid(field.to_string(), m)),
        None => Ok(()),
    }
}

/// A rule as sent and stored (ready-made rules are described by their [`Builtin`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleContent {
    /// Its name (at most 200 characters).
    pub name: String,
    /// Whether it runs.
    #[serde(default)]
    pub enabled: bool,
    /// What starts it.
    pub trigger: Trigger,
    /// What must hold for a subject.
    #[serde(default)]
    pub conditions: Conditions,
    /// What it does (1–10).
    pub actions: Vec<Action>,
}

impl RuleContent {
    /// Checks and normalises every field; an error names it (`trigger.days_before`,
    /// `actions[1].body`).
    pub fn check(mut self) -> Result<RuleContent> {
        self.name = validate::line("name", &self.name, NAME_MAX)?;
        self.trigger.check()?;
        let kind = self.trigger.kind();
        self.conditions.check(kind)?;
        if self.actions.is_empty() {
            return Err(Error::invalid("actions", "add at least one action"));
        }
        if self.actions.len() > ACTIONS_MAX {
            return Err(Error::invalid("actions", format!("at most {ACTIONS_MAX} actions")));
        }
        for (i, a) in self.actions.iter_mut().enumerate() {
            a.check(i, kind)?;
        }
        Ok(self)
    }

    /// The people the rule names (each must be an active user; a notification's must be staff).
    pub fn people(&self) -> Vec<(String, UserId, bool)> {
        self.actions
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match a {
                Action::Email { to: Recipient::User(u), .. } => Some((format!("actions[{i}].to"), *u, false)),
                Action::NotifyStaff { to: Recipient::User(u), .. } => Some((format!("actions[{i}].to"), *u, true)),
                _ => None,
            })
            .collect()
    }
}

/// What became of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Queued; its job has not finished.
    Pending,
    /// Its actions were done.
    Done,
    /// Nothing to do when it ran (the subject changed, no recipient may see it).
    Skipped,
    /// The rule was edited or switched off before it ran.
    Cancelled,
    /// It could not be done.
    Failed,
}

impl RunOutcome {
    /// The stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Pending => "pending",
            RunOutcome::Done => "done",
            RunOutcome::Skipped => "skipped",
            RunOutcome::Cancelled => "cancelled",
            RunOutcome::Failed => "failed",
        }
    }
}

impl FromStr for RunOutcome {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "pending" => RunOutcome::Pending,
            "done" => RunOutcome::Done,
            "skipped" => RunOutcome::Skipped,
            "cancelled" => RunOutcome::Cancelled,
            "failed" => RunOutcome::Failed,
            other => return Err(format!("unknown run outcome {other:?}")),
        })
    }
}

/// A rule as the API and pages show it. A ready-made rule has `builtin`, `description` and
/// `settings`; the agency's own have `trigger`, `conditions` and `actions`.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Automation {
    /// Its id.
    #[schema(value_type = String, format = Uuid)]
    pub id: crate::ids::AutomationId,
    /// Its name.
    pub name: String,
    /// Whether it runs.
    pub enabled: bool,
    /// Which ready-made rule this is.
    pub builtin: Option<Builtin>,
    /// A ready-made rule's description.
    pub description: Option<String>,
    /// A ready-made rule's settings.
    pub settings: Option<BuiltinSettings>,
    /// What starts it (the agency's own rules).
    pub trigger: Option<Trigger>,
    /// What must hold (the agency's own rules).
    pub conditions: Option<Conditions>,
    /// What it does (the agency's own rules).
    pub actions: Option<Vec<Action>>,
    /// Raised by every change.
    pub version: i32,
    /// When it was added.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Automation {
    /// The kind of its trigger (`None` for a ready-made rule).
    pub fn trigger_kind(&self) -> Option<TriggerKind> {
        self.trigger.as_ref().map(Trigger::kind)
    }
}

/// One run of a rule, for the log.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AutomationRun {
    /// Its id.
    #[schema(value_type = String, format = Uuid)]
    pub id: crate::ids::AutomationRunId,
    /// What it was about.
    pub subject_type: SubjectType,
    /// The subject's id.
    #[schema(value_type = String, format = Uuid)]
    pub subject_id: uuid::Uuid,
    /// Which step of the rule (`due`, `after-7`, a date, a status change's time).
    pub step: String,
    /// When it was queued.
    pub fired_at: chrono::DateTime<chrono::Utc>,
    /// What became of it.
    pub outcome: RunOutcome,
    /// What was done, or why not.
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests;
