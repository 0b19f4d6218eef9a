//! View models: what templates show, precomputed (names resolved, dates labelled).

use std::collections::HashMap;

use atrium_core::ids::UserId;
use atrium_core::local_time::LocalTime;
use atrium_core::model::{Comment, Project, Task, TaskStatus, User, Visibility};
use atrium_core::policy::Actor;
use chrono::{Datelike, NaiveDate, Utc};

use crate::error::AppResult;
use crate::state::AppState;

/// Who reads a page, for what depends on it: their id (for "mine") and their clock (times in
/// their timezone, "today" and "overdue" by their date).
#[derive(Clone, Copy, Debug)]
pub struct Viewer {
    pub me: UserId,
    pub local: LocalTime,
    pub today: NaiveDate,
}

impl Viewer {
    /// The viewer a request acts for, now.
    pub async fn of(st: &AppState, actor: &Actor) -> AppResult<Viewer> {
        let local = st.store.local_time(actor).await?;
        Ok(Viewer { me: actor.user_id(), local, today: local.day_of(Utc::now()) })
    }

    /// A short label for a due date ("today", "Dec 3", "Jan 5, 2028").
    pub fn due(&self, d: Option<NaiveDate>) -> String {
        match d {
            None => String::new(),
            Some(d) if d == self.today => "today".into(),
            Some(d) if d.year() == self.today.year() => d.format("%b %-d").to_string(),
            Some(d) => d.format("%b %-d, %Y").to_string(),
        }
    }
}

/// A task row in a list.
#[derive(Clone, Debug)]
pub struct TaskRow {
    pub id: String,
    pub title: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub priority: &'static str,
    pub priority_label: &'static str,
    pub due: String,
    pub overdue: bool,
    pub assignee: String,
    pub project: String,
    pub mine: bool,
    pub done: bool,
}

/// A one-line plain-text excerpt of user markdown (at most 140 characters).
pub fn excerpt(markdown_source: &str) -> String {
    let flat = atrium_core::markdown::plain_text(markdown_source);
    if flat.chars().count() > 140 { format!("{}…", flat.chars().take(140).collect::<String>()) } else { flat }
}

/// Builds a task row.
pub fn task_row(t: &Task, names: &HashMap<UserId, String>, project: &str, v: &Viewer) -> TaskRow {
    TaskRow {
        id: t.id.to_string(),
        title: t.title.clone(),
        status: t.status.as_str(),
        status_label: t.status.label(),
        priority: t.priority.as_str(),
        priority_label: t.priority.label(),
        due: v.due(t.due_date),
        overdue: t.status != TaskStatus::Done && t.due_date.is_some_and(|d| d < v.today),
        assignee: t.assignee_id.and_then(|a| names.get(&a).cloned()).unwrap_or_default(),
        project: project.to_string(),
        mine: t.assignee_id == Some(v.me),
        done: t.status == TaskStatus::Done,
    }
}

/// Buckets of "My work" by due date.
#[derive(Clone, Debug, Default)]
pub struct DueGroups {
    pub overdue: Vec<TaskRow>,
    pub today: Vec<TaskRow>,
    pub this_week: Vec<TaskRow>,
    pub later: Vec<TaskRow>,
}

impl DueGroups {
    /// Sorts rows (with their due dates) into buckets.
    pub fn build(rows: Vec<(Option<NaiveDate>, TaskRow)>, today: NaiveDate) -> Self {
        let t = today;
        let week_end = t + chrono::Duration::days(i64::from(7 - t.weekday().num_days_from_monday()) - 1);
        let mut g = DueGroups::default();
        for (due, row) in rows {
            match due {
                Some(d) if d < t => g.overdue.push(row),
                Some(d) if d == t => g.today.push(row),
                Some(d) if d <= week_end => g.this_week.push(row),
                _ => g.later.push(row),
            }
        }
        g
    }

    /// Whether all buckets are empty.
    pub fn is_empty(&self) -> bool {
        self.overdue.is_empty() && self.today.is_empty() && self.this_week.is_empty() && self.later.is_empty()
    }
}

/// A project card.
#[derive(Clone, Debug)]
pub struct ProjectCard {
    pub id: String,
    pub name: String,
    pub client: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub progress: u8,
    pub due: String,
}

/// Builds a project card.
pub fn project_card(p: &Project, client: &str, v: &Viewer) -> ProjectCard {
    ProjectCard {
        id: p.id.to_string(),
        name: p.name.clone(),
        client: client.to_string(),
        status: p.status.as_str(),
        status_label: p.status.label(),
        progress: p.progress,
        due: v.due(p.due_date),
    }
}

/// A comment in a thread.
#[derive(Clone, Debug)]
pub struct CommentView {
    pub author: String,
    pub body_html: String,
    pub note: bool,
    pub when: String,
}

/// Builds comment views.
pub fn comment_views(cs: &[Comment], names: &HashMap<UserId, String>, local: &LocalTime) -> Vec<CommentView> {
    cs.iter()
        .map(|c| CommentView {
            author: names.get(&c.author_id).cloned().unwrap_or_else(|| "Someone".into()),
            body_html: c.body_html.clone(),
            note: c.visibility == Visibility::Note,
            when: local.short(c.created_at),
        })
        .collect()
}

/// A `<select>` option.
#[derive(Clone, Debug)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Options of a closed set, with one selected.
pub fn opts<T: Copy + PartialEq>(
    all: &[T],
    selected: Option<T>,
    value: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Vec<Opt> {
    all.iter().map(|&v| Opt { value: value(v).into(), label: label(v).into(), selected: Some(v) == selected }).collect()
}

/// The people a task can be assigned to, as options (`none_label` first, for nobody).
pub fn people_opts(people: &[User], selected: Option<UserId>, none_label: &str) -> Vec<Opt> {
    let mut v = vec![Opt { value: String::new(), label: none_label.into(), selected: selected.is_none() }];
    v.extend(people.iter().map(|u| Opt {
        value: u.id.to_string(),
        label: if u.role.is_staff() { u.name.clone() } else { format!("{} (client)", u.name) },
        selected: Some(u.id) == selected,
    }));
    v
}

/// The task page, shared by the staff side (`staff = true`: notes, edit form) and the portal.
#[derive(askama::Template)]
#[template(path = "task.html")]
pub struct TaskPage {
    pub chrome: super::Chrome,
    pub staff: bool,
    pub t: TaskRow,
    pub project_href: String,
    pub client: String,
    pub title: String,
    pub description: String,
    pub description_html: String,
    pub due_date: String,
    pub comments: Vec<CommentView>,
    pub statuses: Vec<Opt>,
    pub priorities: Vec<Opt>,
    pub people: Vec<Opt>,
    pub can_reply: bool,
    pub can_complete: bool,
    /// Where the comment box's mention autocomplete gets people from.
    pub mention_src: String,
    /// The ticket this task was made from (its page and `#number`), when the viewer sees it.
    pub ticket_href: String,
    pub ticket_label: String,
    /// What the staff composer's "Insert saved reply" offers (empty on the portal).
    pub saved_replies: Vec<super::composer::SavedReplyPick>,
}
