//! The ready-made rules: off until switched on, one toggle each, with a few settings. Their
//! steps and texts are defined here; the store's sweep evaluates them like any time trigger.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One of the ready-made rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Builtin {
    /// Mails the client's billing contacts 3 days before an invoice is due, on the day, and
    /// 7 days after — only for a sent, unpaid invoice, once per step.
    InvoiceReminders,
    /// Reminds a client user of an open task assigned to them every `every_days` days, at
    /// most `at_most` times.
    TaskReminders,
    /// Every Monday at 09:00 mails each client's admins what was done, what comes next and
    /// what waits for them.
    WeeklySummary,
    /// Sends a pending invitation again (a fresh link) `after_days` days after it was sent.
    InvitationReminder,
}

impl Builtin {
    /// Every ready-made rule, in the order pages list them.
    pub const ALL: [Builtin; 4] =
        [Builtin::InvoiceReminders, Builtin::TaskReminders, Builtin::WeeklySummary, Builtin::InvitationReminder];

    /// The stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Builtin::InvoiceReminders => "invoice_reminders",
            Builtin::TaskReminders => "task_reminders",
            Builtin::WeeklySummary => "weekly_summary",
            Builtin::InvitationReminder => "invitation_reminder",
        }
    }

    /// Its name as pages show it.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::InvoiceReminders => "Invoice reminders",
            Builtin::TaskReminders => "Reminders about a client's tasks",
            Builtin::WeeklySummary => "Weekly summary to each client",
            Builtin::InvitationReminder => "Invitation reminder",
        }
    }

    /// What it does, in a sentence.
    pub fn describe(self, s: &BuiltinSettings) -> String {
        match self {
            Builtin::InvoiceReminders => {
                "Mails the client's admins and finance users 3 days before a sent invoice is due, \
                                          on the due date, and 7 days after it while it is unpaid."
                    .into()
            }
            Builtin::TaskReminders => format!(
                "Reminds a client user of an open task assigned to them every {} days, at most {} times.",
                s.every_days, s.at_most
            ),
            Builtin::WeeklySummary => "Every Monday at 09:00 mails each client's admins what was done last week, \
                                       what comes next and what waits for them."
                .into(),
            Builtin::InvitationReminder => {
                format!("Sends a pending invitation again, with a fresh link, {} days after it was sent.", s.after_days)
            }
        }
    }

    /// The mail's subject and body for `step` (placeholders as in [`super::placeholders`];
    /// the invitation reminder sends the invitation mail itself, so it has none).
    pub fn mail(self, step: &str) -> Option<(&'static str, &'static str)> {
        Some(match (self, step) {
            (Builtin::InvoiceReminders, "before-3") => (
                "Invoice {{invoice.number}} is due in 3 days",
                "Hello {{recipient.name}},\n\nA friendly reminder: invoice {{invoice.number}} for {{invoice.total}} is due on {{invoice.due_date}}.\n\nYou can see it and pay it here:",
            ),
            (Builtin::InvoiceReminders, "due") => (
                "Invoice {{invoice.number}} is due today",
                "Hello {{recipient.name}},\n\nInvoice {{invoice.number}} for {{invoice.total}} is due today ({{invoice.due_date}}). If you have already paid it, thank you, and please ignore this mail.",
            ),
            (Builtin::InvoiceReminders, "after-7") => (
                "Invoice {{invoice.number}} is overdue",
                "Hello {{recipient.name}},\n\nInvoice {{invoice.number}} for {{invoice.total}} was due on {{invoice.due_date}} and is still open. If you have questions about it, just reply in the portal.",
            ),
            (Builtin::TaskReminders, _) => (
                "Waiting for you: {{task.title}}",
                "Hello {{recipient.name}},\n\n{{agency.name}} is waiting for you on the task “{{task.title}}” in {{project.name}} (due {{task.due_date}}).",
            ),
            (Builtin::WeeklySummary, _) => (
                "Your week with {{agency.name}}",
                "Hello {{recipient.name}},\n\nHere is where your projects stand.\n\n{{summary}}",
            ),
            _ => return None,
        })
    }
}

impl FromStr for Builtin {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Builtin::ALL.into_iter().find(|b| b.as_str() == s).ok_or_else(|| format!("unknown ready-made rule {s:?}"))
    }
}

impl fmt::Display for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The few settings of the ready-made rules (each uses its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuiltinSettings {
    /// Task reminders: days between reminders (1–30).
    #[serde(default = "default_every")]
    pub every_days: u32,
    /// Task reminders: the most reminders about one task (1–10).
    #[serde(default = "default_at_most")]
    pub at_most: u32,
    /// Invitation reminder: days after the invitation (1–30).
    #[serde(default = "default_after")]
    pub after_days: u32,
}

fn default_every() -> u32 {
    3
}
fn default_at_most() -> u32 {
    3
}
fn default_after() -> u32 {
    3
}

impl Default for BuiltinSettings {
    fn default() -> Self {
        BuiltinSettings { every_days: default_every(), at_most: default_at_most(), after_days: default_after() }
    }
}

impl BuiltinSettings {
    /// Checks the ranges; an error names the field (`settings.every_days`).
    pub fn check(self) -> Result<Self> {
        let range = |field: &'static str, v: u32, max: u32| {
            if (1..=max).contains(&v) { Ok(()) } else { Err(Error::invalid(field, format!("must be from 1 to {max}"))) }
        };
        range("settings.every_days", self.every_days, 30)?;
        range("settings.at_most", self.at_most, 10)?;
        range("settings.after_days", self.after_days, 30)?;
        Ok(self)
    }
}

/// The invoice reminder steps: the step name, days from the due date (negative: before).
pub const INVOICE_STEPS: [(&str, i64); 3] = [("before-3", -3), ("due", 0), ("after-7", 7)];
