use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::json;

use super::placeholders::{Values, render};
use super::timing::{CATCH_UP, Calendar};
use super::*;
use crate::Error;

fn rule(v: serde_json::Value) -> std::result::Result<RuleContent, String> {
    let r: RuleContent = serde_json::from_value(v).map_err(|e| format!("json: {e}"))?;
    r.check().map_err(|e| match e {
        Error::Invalid { field, message } => format!("{field}: {message}"),
        other => other.to_string(),
    })
}

fn mail(to: &str, body: &str) -> serde_json::Value {
    json!({"kind": "email", "to": to, "subject": "Reminder", "body": body})
}

#[test]
fn a_valid_rule_is_kept_and_its_texts_trimmed() {
    let r = rule(json!({
        "name": "  Overdue nudge ", "enabled": true,
        "trigger": {"kind": "task.overdue", "days_after": 2},
        "conditions": {"priority": "high", "assignee": "client"},
        "actions": [mail("assignee", "Hi {{recipient.name}}, {{ task.title }} is late: {{link}}")]
    }))
    .unwrap();
    assert_eq!(r.name, "Overdue nudge");
    assert_eq!(r.trigger.kind(), TriggerKind::TaskOverdue);
}

#[test]
fn bad_input_names_the_field() {
    let cases = [
        (
            json!({"name": "x", "trigger": {"kind": "task.exploded"}, "actions": [mail("assignee", "b")]}),
            "json: unknown variant",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "task.due", "days_before": -1}, "actions": [mail("assignee", "b")]}),
            "trigger.days_before",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "invoice.overdue", "days_after": 400}, "actions": [mail("client_admins", "b")]}),
            "trigger.days_after",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "schedule", "every": "week", "day": 8, "time": "09:00"}, "actions": [mail("client_admins", "b")]}),
            "trigger.day",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "schedule", "every": "month", "day": 1, "time": "25:00"}, "actions": [mail("client_admins", "b")]}),
            "trigger.time",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "task.due", "days_before": 1}, "actions": [mail("assignee", "Hi {{task.nope}}")]}),
            "actions[0].body: unknown placeholder {{task.nope}}",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "invoice.sent"}, "actions": [mail("client_admins", "Task {{task.title}}")]}),
            "actions[0].body: unknown placeholder",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "invoice.sent"}, "actions": [mail("client_admins", "open {{invoice.number")]}),
            "actions[0].body: a placeholder opened",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "invoice.sent"}, "actions": [mail("assignee", "b")]}),
            "actions[0].to",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "invoice.sent"}, "actions": [{"kind": "comment", "visibility": "note", "body": "b"}]}),
            "actions[0].kind",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "task.due", "days_before": 0}, "actions": [{"kind": "set_status", "status": "solved"}]}),
            "actions[0].status",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "ticket.created"}, "actions": [{"kind": "notify_staff", "to": "client_admins", "text": "t"}]}),
            "actions[0].to",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "task.due", "days_before": 0}, "actions": [{"kind": "create_task", "title": "t", "offset_days": -2}]}),
            "actions[0].offset_days",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "invoice.sent"}, "conditions": {"priority": "high"}, "actions": [mail("client_admins", "b")]}),
            "conditions.priority",
        ),
        (json!({"name": "x", "trigger": {"kind": "invoice.sent"}, "actions": []}), "actions: add at least one"),
        (json!({"name": "", "trigger": {"kind": "invoice.sent"}, "actions": [mail("client_admins", "b")]}), "name:"),
        (
            json!({"name": "x", "trigger": {"kind": "invoice.sent"}, "actions": [mail("everyone", "b")]}),
            "json: must be client_admins",
        ),
        (
            json!({"name": "x", "trigger": {"kind": "invoice.sent", "days_before": 3}, "actions": [mail("client_admins", "b")]}),
            "json: unknown field",
        ),
    ];
    for (v, want) in cases {
        let got = rule(v.clone()).expect_err(&v.to_string());
        assert!(got.starts_with(want) || got.contains(want), "{v}: got {got:?}, want {want:?}");
    }
    let many: Vec<_> = (0..=ACTIONS_MAX).map(|_| mail("client_admins", "b")).collect();
    let got = rule(json!({"name": "x", "trigger": {"kind": "invoice.sent"}, "actions": many})).unwrap_err();
    assert!(got.starts_with("actions: at most"), "{got}");
}

#[test]
fn placeholders_are_filled_once_and_values_are_never_read_as_placeholders() {
    let mut v = Values::new();
    v.insert("task.title", "{{recipient.name}}".into());
    v.insert("recipient.name", "Dana".into());
    assert_eq!(render("Hi {{recipient.name}}: {{ task.title }} {{unknown}}!", &v), "Hi Dana: {{recipient.name}} !");
    assert_eq!(render("left {{ open", &v), "left {{ open");
}

#[test]
fn conditions_hold_only_for_matching_subjects() {
    let c = crate::ids::ClientId::new();
    let cond = Conditions { client_id: Some(c), priority: Some(Priority::High), ..Default::default() };
    let mut f = SubjectFacts { client: Some(c), priority: Some(Priority::High), ..Default::default() };
    assert!(cond.hold(&f));
    f.priority = Some(Priority::Low);
    assert!(!cond.hold(&f));
    f.priority = None;
    assert!(!cond.hold(&f), "a condition on a fact the subject lacks does not hold");
    assert!(Conditions::default().hold(&SubjectFacts::default()));
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

const WEEKDAYS: [bool; 7] = [true, true, true, true, true, false, false];

#[test]
fn reminders_move_off_closed_days_before_stays_before_after_stays_after() {
    let cal = Calendar::new(chrono_tz::Europe::Berlin, WEEKDAYS);
    // Sunday 2026-12-06: a reminder before it moves to Friday, one on or after it to Monday.
    assert_eq!(cal.business_day(d(2026, 12, 6), true), d(2026, 12, 4));
    assert_eq!(cal.business_day(d(2026, 12, 6), false), d(2026, 12, 7));
    assert_eq!(cal.business_day(d(2026, 12, 7), true), d(2026, 12, 7));
    // 09:00 in Berlin in winter is 08:00 UTC.
    assert_eq!(cal.reminder_moment(d(2026, 12, 6), false), Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap());
}

#[test]
fn local_times_keep_their_hour_across_a_dst_change() {
    let cal = Calendar::new(chrono_tz::Europe::Berlin, [true; 7]);
    // Clocks go forward on Sunday 2027-03-28: 09:00 is 08:00 UTC before, 07:00 UTC after.
    assert_eq!(cal.reminder_moment(d(2027, 3, 27), false), Utc.with_ymd_and_hms(2027, 3, 27, 8, 0, 0).unwrap());
    assert_eq!(cal.reminder_moment(d(2027, 3, 29), false), Utc.with_ymd_and_hms(2027, 3, 29, 7, 0, 0).unwrap());
    // 02:30 does not exist that night: the first instant after the gap.
    let t = chrono::NaiveTime::from_hms_opt(2, 30, 0).unwrap();
    assert_eq!(cal.at(d(2027, 3, 28), t), Utc.with_ymd_and_hms(2027, 3, 28, 1, 0, 0).unwrap());
}

#[test]
fn a_schedule_fires_at_its_latest_slot_within_the_catch_up_only() {
    let cal = Calendar::new(chrono_tz::America::New_York, WEEKDAYS);
    let nine = chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    // Monday 2026-12-07 09:00 in New York is 14:00 UTC.
    let slot = Utc.with_ymd_and_hms(2026, 12, 7, 14, 0, 0).unwrap();
    assert_eq!(
        cal.last_slot(Every::Week, 1, nine, slot - chrono::Duration::minutes(1)),
        None,
        "last week's is too old"
    );
    assert_eq!(cal.last_slot(Every::Week, 1, nine, slot), Some((d(2026, 12, 7), slot)));
    assert_eq!(
        cal.last_slot(Every::Week, 1, nine, slot + CATCH_UP - chrono::Duration::seconds(1)).map(|s| s.0),
        Some(d(2026, 12, 7))
    );
    assert_eq!(cal.last_slot(Every::Week, 1, nine, slot + CATCH_UP), None);
    // Day 31 of a 30-day month fires on the 30th.
    let nov30 = cal.at(d(2026, 11, 30), nine);
    assert_eq!(cal.last_slot(Every::Month, 31, nine, nov30).map(|s| s.0), Some(d(2026, 11, 30)));
}

#[test]
fn builtin_settings_are_bounded() {
    assert!(BuiltinSettings::default().check().is_ok());
    let bad = BuiltinSettings { every_days: 0, ..Default::default() };
    assert!(matches!(bad.check(), Err(Error::Invalid { field, .. }) if field == "settings.every_days"));
    let bad = BuiltinSettings { at_most: 11, ..Default::default() };
    assert!(bad.check().is_err());
    for b in Builtin::ALL {
        assert_eq!(b.as_str().parse::<Builtin>(), Ok(b));
    }
}

#[test]
fn builtin_texts_use_only_their_placeholders() {
    for (b, step, trigger) in [
        (Builtin::InvoiceReminders, "before-3", TriggerKind::InvoiceDue),
        (Builtin::InvoiceReminders, "due", TriggerKind::InvoiceDue),
        (Builtin::InvoiceReminders, "after-7", TriggerKind::InvoiceOverdue),
        (Builtin::TaskReminders, "1", TriggerKind::TaskDue),
        (Builtin::WeeklySummary, "2026-12-07", TriggerKind::Schedule),
    ] {
        let (subject, body) = b.mail(step).unwrap();
        placeholders::check("subject", subject, trigger).unwrap();
        placeholders::check("body", body, trigger).unwrap();
    }
}
