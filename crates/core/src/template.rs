//! Project templates: what a new project starts with (milestones, tasks, folders, pages and the
//! help-desk request form), every date an offset in days from the project's start. Checked here
//! once, whoever sends them (API, form, a saved project); the store resolves assignees and writes
//! the project. Who may keep them is the policy's (`Actor::may_use_templates`).

pub mod onboarding;
mod starters;

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, Utc};

pub use onboarding::Onboarding;
pub use starters::starters;

use crate::ids::{ProjectTemplateId, UserId};
use crate::model::Priority;
use crate::project_page::{PAGES_PER_PROJECT, PageKind};
use crate::request_form::{RequestForm, is_key};
use crate::validate::{self, BODY_MAX, PAGE_BODY_MAX, PAGE_TITLE_MAX, TITLE_MAX, named};
use crate::{Error, Result, embed};

/// The most templates the library holds.
pub const LIBRARY_MAX: usize = 200;
/// The most milestones of one template.
pub const MILESTONES_MAX: usize = 50;
/// The most tasks of one template.
pub const TASKS_MAX: usize = 300;
/// The most folders of one template.
pub const FOLDERS_MAX: usize = 50;
/// The latest offset from the project's start, in days (ten years).
pub const OFFSET_MAX: i32 = 3650;
/// The longest description of a template.
pub const DESCRIPTION_MAX: usize = 2_000;

/// Who a template's task goes to when a project is made from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Assignee {
    /// The project's lead (chosen when the project is made; by default whoever makes it).
    ProjectLead,
    /// The client's Client Admin (the first by name; unassigned while the client has none).
    ClientAdmin,
    /// One staff member (unassigned if they are no longer active).
    Person(UserId),
}

impl Assignee {
    /// The wire form: `project_lead`, `client_admin` or a user id.
    pub fn as_wire(&self) -> String {
        match self {
            Assignee::ProjectLead => "project_lead".into(),
            Assignee::ClientAdmin => "client_admin".into(),
            Assignee::Person(u) => u.to_string(),
        }
    }
}

impl FromStr for Assignee {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "project_lead" => Ok(Assignee::ProjectLead),
            "client_admin" => Ok(Assignee::ClientAdmin),
            other => other
                .parse()
                .map(Assignee::Person)
                .map_err(|_| "must be project_lead, client_admin or a staff member's user id".to_string()),
        }
    }
}

impl fmt::Display for Assignee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_wire())
    }
}

impl serde::Serialize for Assignee {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_wire())
    }
}

impl<'de> serde::Deserialize<'de> for Assignee {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// A milestone of a template.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateMilestone {
    /// `[a-z0-9_]{1,40}`, unique in the template: how its tasks name it.
    #[schema(pattern = "^[a-z0-9_]{1,40}$")]
    pub key: String,
    #[schema(max_length = 300)]
    pub name: String,
    /// Due this many days after the project's start (0–3650).
    #[schema(minimum = 0, maximum = 3650)]
    pub offset_days: i32,
}

/// A task of a template.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateTask {
    #[schema(max_length = 300)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub description: String,
    #[serde(default)]
    pub priority: Priority,
    /// Due this many days after the project's start (0–3650); no due date when absent.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 3650)]
    pub offset_days: Option<i32>,
    /// The `key` of one of the template's milestones.
    #[serde(default)]
    pub milestone: Option<String>,
    /// `project_lead`, `client_admin` or a staff member's user id.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Assignee>,
}

/// A folder of a template (made at the top of the project's files).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateFolder {
    #[schema(max_length = 255)]
    pub name: String,
    /// Hidden from the client.
    #[serde(default)]
    pub staff_only: bool,
}

/// A custom page of a template (a tab of the project).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatePage {
    #[schema(max_length = 80)]
    pub title: String,
    pub kind: PageKind,
    /// Markdown (`markdown` pages).
    #[serde(default)]
    #[schema(max_length = 50000)]
    pub body: String,
    /// The address of an `embed` (allow-listed services) or `link` page.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub staff_only: bool,
}

/// What a project made from a template starts with.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateContent {
    /// At most 50.
    #[serde(default)]
    pub milestones: Vec<TemplateMilestone>,
    /// At most 300, in order.
    #[serde(default)]
    pub tasks: Vec<TemplateTask>,
    /// At most 50, unique names.
    #[serde(default)]
    pub folders: Vec<TemplateFolder>,
    /// At most 20, in tab order.
    #[serde(default)]
    pub pages: Vec<TemplatePage>,
    /// The help-desk request form (no fields: none).
    #[serde(default)]
    pub request_form: RequestForm,
}

/// A template of the library.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ProjectTemplate {
    #[schema(value_type = String, format = Uuid)]
    pub id: ProjectTemplateId,
    pub name: String,
    pub description: String,
    #[serde(flatten)]
    pub content: TemplateContent,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A template's name: one line of at most 300 characters.
pub fn name(v: &str) -> Result<String> {
    validate::line("name", v, TITLE_MAX)
}

/// A template's description: at most 2000 characters.
pub fn description(v: &str) -> Result<String> {
    validate::optional_text("description", v, DESCRIPTION_MAX)
}

fn offset(field: String, days: i32) -> Result<i32> {
    if (0..=OFFSET_MAX).contains(&days) {
        Ok(days)
    } else {
        Err(Error::invalid(field, format!("must be between 0 and {OFFSET_MAX} days after the start")))
    }
}

fn too_many(field: &'static str, max: usize, what: &str) -> Error {
    Error::invalid(field, format!("a template has at most {max} {what}"))
}

impl TemplateContent {
    /// Checks every part and returns it normalised (trimmed text, stored page addresses). 422
    /// names the part: `milestones[1].offset_days`, `tasks[3].milestone`,
    /// `request_form.fields[0].key`. Whether a person assignee is active staff is the store's
    /// check ([`TemplateContent::people`]).
    pub fn check(self) -> Result<TemplateContent> {
        if self.milestones.len() > MILESTONES_MAX {
            return Err(too_many("milestones", MILESTONES_MAX, "milestones"));
        }
        if self.tasks.len() > TASKS_MAX {
            return Err(too_many("tasks", TASKS_MAX, "tasks"));
        }
        if self.folders.len() > FOLDERS_MAX {
            return Err(too_many("folders", FOLDERS_MAX, "folders"));
        }
        if self.pages.len() > PAGES_PER_PROJECT {
            return Err(too_many("pages", PAGES_PER_PROJECT, "pages"));
        }
        let mut keys = HashSet::new();
        let mut milestones = Vec::with_capacity(self.milestones.len());
        for (i, m) in self.milestones.into_iter().enumerate() {
            if !is_key(&m.key) {
                return Err(Error::invalid(format!("milestones[{i}].key"), "must be 1–40 of a-z, 0-9 and _"));
            }
            if !keys.insert(m.key.clone()) {
                return Err(Error::invalid(format!("milestones[{i}].key"), "is used by another milestone"));
            }
            milestones.push(TemplateMilestone {
                name: named(&format!("milestones[{i}].name"), validate::line("name", &m.name, TITLE_MAX))?,
                offset_days: offset(format!("milestones[{i}].offset_days"), m.offset_days)?,
                key: m.key,
            });
        }
        let mut tasks = Vec::with_capacity(self.tasks.len());
        for (i, t) in self.tasks.into_iter().enumerate() {
            if let Some(k) = &t.milestone
                && !keys.contains(k)
            {
                return Err(Error::invalid(format!("tasks[{i}].milestone"), "is not a milestone key of this template"));
            }
            tasks.push(TemplateTask {
                title: named(&format!("tasks[{i}].title"), validate::line("title", &t.title, TITLE_MAX))?,
                description: named(
                    &format!("tasks[{i}].description"),
                    validate::optional_text("description", &t.description, BODY_MAX),
                )?,
                priority: t.priority,
                offset_days: t.offset_days.map(|d| offset(format!("tasks[{i}].offset_days"), d)).transpose()?,
                milestone: t.milestone,
                assignee: t.assignee,
            });
        }
        let mut names = HashSet::new();
        let mut folders = Vec::with_capacity(self.folders.len());
        for (i, f) in self.folders.into_iter().enumerate() {
            let name = named(&format!("folders[{i}].name"), validate::file_name("name", &f.name))?;
            if !names.insert(name.to_lowercase()) {
                return Err(Error::invalid(format!("folders[{i}].name"), "is used by another folder"));
            }
            folders.push(TemplateFolder { name, staff_only: f.staff_only });
        }
        let mut pages = Vec::with_capacity(self.pages.len());
        for (i, p) in self.pages.into_iter().enumerate() {
            let url = p.url.as_deref().unwrap_or_default();
            let url = match p.kind {
                PageKind::Markdown => None,
                PageKind::Embed => Some(named(&format!("pages[{i}].url"), embed::embed_url(url))?.0),
                PageKind::Link => Some(named(&format!("pages[{i}].url"), embed::link_url(url))?),
            };
            pages.push(TemplatePage {
                title: named(&format!("pages[{i}].title"), validate::line("title", &p.title, PAGE_TITLE_MAX))?,
                body: named(&format!("pages[{i}].body"), validate::optional_text("body", &p.body, PAGE_BODY_MAX))?,
                kind: p.kind,
                url,
                staff_only: p.staff_only,
            });
        }
        let request_form = self.request_form.check().map_err(|e| match e {
            Error::Invalid { field, message } => Error::invalid(format!("request_form.{field}"), message),
            other => other,
        })?;
        Ok(TemplateContent { milestones, tasks, folders, pages, request_form })
    }

    /// The people named as assignees, with the index of their first task (for the store's
    /// check that each is active staff: 422 `tasks[i].assignee`).
    pub fn people(&self) -> Vec<(usize, UserId)> {
        let mut seen = HashSet::new();
        self.tasks
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match t.assignee {
                Some(Assignee::Person(u)) if seen.insert(u) => Some((i, u)),
                _ => None,
            })
            .collect()
    }

    /// The latest date of a milestone or task of a project starting on `start` (the project's
    /// due date when none is given).
    pub fn last_date(&self, start: NaiveDate) -> Option<NaiveDate> {
        let days = self.milestones.iter().map(|m| m.offset_days).chain(self.tasks.iter().filter_map(|t| t.offset_days));
        days.max().and_then(|d| due(start, d))
    }
}

/// The date `days` after `start` (`None` past the calendar's end).
pub fn due(start: NaiveDate, days: i32) -> Option<NaiveDate> {
    start.checked_add_days(Days::new(u64::try_from(days).ok()?))
}

/// The offset of `date` from `start` for a saved template: its days after `start`, 0 for a date
/// before it, at most [`OFFSET_MAX`].
pub fn offset_of(start: NaiveDate, date: NaiveDate) -> i32 {
    let days = (date - start).num_days().clamp(0, i64::from(OFFSET_MAX));
    i32::try_from(days).unwrap_or(OFFSET_MAX)
}

/// A milestone key made from its position (`m1`, `m2`, …) for a template saved from a project.
pub fn milestone_key(i: usize) -> String {
    format!("m{}", i + 1)
}

#[cfg(test)]
mod tests;
