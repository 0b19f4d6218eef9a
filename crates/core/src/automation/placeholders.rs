//! Placeholders in an automation's texts: `{{task.title}}`, `{{recipient.name}}`. Which ones a
//! rule may use depends on its trigger's subject; an unknown one is refused when the rule is
//! saved, naming it and the ones available. Filled in per recipient with plain text (the mail
//! templates escape it), in one pass: a value is never read as a placeholder itself.

use std::collections::BTreeMap;

use super::kinds::{SubjectType, TriggerKind};
use crate::{Error, Result};

/// Available to every rule.
const COMMON: &[&str] = &["agency.name", "client.name", "recipient.name", "link"];

/// The placeholders a rule with `trigger` may use.
pub fn available(trigger: TriggerKind) -> Vec<&'static str> {
    let own: &[&str] = match trigger.subject() {
        SubjectType::Task => &["task.title", "task.status", "task.due_date", "project.name"],
        SubjectType::Invoice => &["invoice.number", "invoice.total", "invoice.due_date"],
        SubjectType::Approval => &["approval.title", "project.name"],
        SubjectType::Ticket => &["ticket.number", "ticket.subject"],
        SubjectType::Project => &["project.name", "project.status"],
        SubjectType::Milestone => &["milestone.name", "project.name"],
        SubjectType::Client => &["summary"],
        SubjectType::Invitation => &[],
    };
    COMMON.iter().chain(own).copied().collect()
}

/// The values to fill in, by placeholder name.
pub type Values = BTreeMap<&'static str, String>;

/// The placeholders of `text`, in order (`Err` with the byte offset of an unclosed `{{`).
fn names(text: &str) -> std::result::Result<Vec<&str>, usize> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut at = 0;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(at + open);
        };
        out.push(after[..close].trim());
        let used = open + 2 + close + 2;
        at += used;
        rest = &rest[used..];
    }
    Ok(out)
}

/// Checks that `text` uses only placeholders a rule with `trigger` may use.
pub fn check(field: &str, text: &str, trigger: TriggerKind) -> Result<()> {
    let ok = available(trigger);
    let found = names(text)
        .map_err(|_| Error::invalid(field.to_string(), "a placeholder opened with {{ is not closed with }}"))?;
    for name in found {
        if !ok.contains(&name) {
            let list: Vec<String> = ok.iter().map(|p| format!("{{{{{p}}}}}")).collect();
            return Err(Error::invalid(
                field.to_string(),
                format!("unknown placeholder {{{{{name}}}}}; available here: {}", list.join(", ")),
            ));
        }
    }
    Ok(())
}

/// `text` with each placeholder replaced by its value (one without a value becomes empty).
pub fn render(text: &str, values: &Values) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        out.push_str(&rest[..open]);
        if let Some(v) = values.get(after[..close].trim()) {
            out.push_str(v);
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}
