use chrono::NaiveDate;
use serde_json::json;

use super::*;

fn content(v: serde_json::Value) -> std::result::Result<TemplateContent, String> {
    let c: TemplateContent = serde_json::from_value(v).map_err(|e| format!("parse: {e}"))?;
    c.check().map_err(|e| match e {
        Error::Invalid { field, message } => format!("{field}: {message}"),
        other => other.to_string(),
    })
}

fn field_of(v: serde_json::Value) -> String {
    content(v).expect_err("must be refused").split(':').next().unwrap_or_default().to_string()
}

#[test]
fn starters_are_valid_and_use_every_kind_of_part() {
    let all = starters().expect("starters parse and check");
    let names: Vec<&str> = all.iter().map(|s| s.name).collect();
    assert_eq!(names, ["Website redesign", "Brand identity", "Monthly retainer"]);
    for s in &all {
        assert!(!s.content.milestones.is_empty() && !s.content.tasks.is_empty(), "{}", s.name);
        assert!(s.content.folders.iter().any(|f| f.staff_only), "{} has a staff-only folder", s.name);
        assert!(s.content.tasks.iter().any(|t| t.assignee == Some(Assignee::ClientAdmin)), "{}", s.name);
        assert!(s.content.tasks.iter().any(|t| t.assignee == Some(Assignee::ProjectLead)), "{}", s.name);
        // A starter checks to itself: nothing in it is normalised away.
        assert_eq!(s.content.clone().check().expect("checks"), s.content);
    }
}

#[test]
fn offsets_must_be_within_ten_years_after_the_start() {
    let m = |d: i64| json!({"milestones": [{"key": "a", "name": "A", "offset_days": d}]});
    assert_eq!(field_of(m(-1)), "milestones[0].offset_days");
    assert_eq!(field_of(m(3651)), "milestones[0].offset_days");
    assert!(content(m(0)).is_ok() && content(m(3650)).is_ok());
    let t = json!({"tasks": [{"title": "T"}, {"title": "U", "offset_days": -3}]});
    assert_eq!(field_of(t), "tasks[1].offset_days");
}

#[test]
fn a_task_names_an_existing_milestone_and_keys_are_unique() {
    let unknown = json!({"milestones": [{"key": "a", "name": "A", "offset_days": 1}],
        "tasks": [{"title": "T", "milestone": "b"}]});
    assert_eq!(field_of(unknown), "tasks[0].milestone");
    let twice = json!({"milestones": [{"key": "a", "name": "A", "offset_days": 1}, {"key": "a", "name": "B", "offset_days": 2}]});
    assert_eq!(field_of(twice), "milestones[1].key");
    let bad_key = json!({"milestones": [{"key": "Has Space", "name": "A", "offset_days": 1}]});
    assert_eq!(field_of(bad_key), "milestones[0].key");
}

#[test]
fn every_part_is_checked_and_named() {
    assert_eq!(field_of(json!({"tasks": [{"title": "  "}]})), "tasks[0].title");
    assert_eq!(field_of(json!({"folders": [{"name": "a/b"}]})), "folders[0].name");
    assert_eq!(field_of(json!({"folders": [{"name": "Designs"}, {"name": "designs"}]})), "folders[1].name");
    assert_eq!(
        field_of(json!({"pages": [{"title": "Figma", "kind": "embed", "url": "https://evil.example/x"}]})),
        "pages[0].url"
    );
    assert_eq!(field_of(json!({"pages": [{"title": "", "kind": "markdown"}]})), "pages[0].title");
    let form = json!({"request_form": {"fields": [{"key": "A B", "label": "x", "type": "text", "required": false}]}});
    assert_eq!(field_of(form), "request_form.fields[0].key");
    let many = json!({"tasks": (0..=TASKS_MAX).map(|i| json!({"title": format!("t{i}")})).collect::<Vec<_>>()});
    assert_eq!(field_of(many), "tasks");
}

#[test]
fn unknown_fields_and_assignees_are_refused() {
    let e = content(json!({"tasks": [{"title": "T", "owner": "x"}]})).expect_err("unknown field");
    assert!(e.contains("owner"), "{e}");
    let e = content(json!({"tasks": [{"title": "T", "assignee": "the_boss"}]})).expect_err("unknown assignee");
    assert!(e.contains("project_lead, client_admin"), "{e}");
    let e = content(json!({"milestones": [], "trigger": {}})).expect_err("unknown part");
    assert!(e.contains("trigger"), "{e}");
}

#[test]
fn assignees_travel_as_their_wire_names() {
    let u = UserId::new();
    for a in [Assignee::ProjectLead, Assignee::ClientAdmin, Assignee::Person(u)] {
        let s = serde_json::to_value(a).expect("serialises");
        assert_eq!(serde_json::from_value::<Assignee>(s).expect("parses"), a);
    }
    assert_eq!(serde_json::to_value(Assignee::ClientAdmin).expect("serialises"), json!("client_admin"));
}

#[test]
fn dates_follow_the_start() {
    let start = NaiveDate::from_ymd_opt(2027, 1, 29).expect("date");
    assert_eq!(due(start, 0), Some(start));
    assert_eq!(due(start, 31), NaiveDate::from_ymd_opt(2027, 3, 1));
    assert_eq!(due(start, -1), None);
    assert_eq!(offset_of(start, NaiveDate::from_ymd_opt(2027, 3, 1).expect("date")), 31);
    assert_eq!(offset_of(start, NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")), 0, "before the start is 0");
    let c = content(json!({"milestones": [{"key": "a", "name": "A", "offset_days": 10}],
        "tasks": [{"title": "T", "offset_days": 12}, {"title": "U"}]}))
    .expect("valid");
    assert_eq!(c.last_date(start), due(start, 12));
    assert_eq!(TemplateContent::default().last_date(start), None);
}

#[test]
fn people_lists_each_named_person_once_with_their_first_task() {
    let (a, b) = (UserId::new(), UserId::new());
    let c = content(json!({"tasks": [
        {"title": "1", "assignee": "project_lead"},
        {"title": "2", "assignee": a.to_string()},
        {"title": "3", "assignee": b.to_string()},
        {"title": "4", "assignee": a.to_string()}
    ]}))
    .expect("valid");
    assert_eq!(c.people(), vec![(1, a), (2, b)]);
}
