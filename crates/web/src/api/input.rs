//! Request bodies shared by the API and the HTML forms, and their validation into store inputs.
//! Unknown fields are refused, so fields a caller may not set (owner, role, visibility, author)
//! cannot be smuggled in (SEC-AC-6).

use atrium_core::Result;
use atrium_core::ids::{ClientId, MilestoneId, ProjectTemplateId, UserId};
use atrium_core::model::{ClientStatus, Priority, ProjectStatus, Role, TaskStatus, Visibility};
use atrium_core::project_page::PageKind;
use atrium_core::validate::{self, BODY_MAX, NAME_MAX, TITLE_MAX};
use atrium_store::contacts::NewContact;
use atrium_store::project_pages::{NewPage, PagePatch};
use atrium_store::template_projects::FromTemplate;
use atrium_store::work::{NewProject, NewTask, ProjectPatch, TaskPatch};
use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

/// Treats `""` like an absent value (HTML forms send empty fields).
pub fn empty_none<'de, D: Deserializer<'de>, T: std::str::FromStr>(d: D) -> Result<Option<T>, D::Error>
where
    T::Err: std::fmt::Display,
{
    let s: Option<String> = Option::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// For PATCH: absent → `None`, `null` or `""` → `Some(None)`, value → `Some(Some(v))`.
pub fn patch_field<'de, D: Deserializer<'de>, T: std::str::FromStr>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T::Err: std::fmt::Display,
{
    empty_none(d).map(Some)
}

/// `POST /session`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// `POST /magic-links`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    pub email: String,
}

/// `POST /invitations`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationBody {
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>)]
    pub client_id: Option<ClientId>,
}

/// `POST /invitations/{token}/accept`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    pub password: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /clients`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    pub name: String,
}

/// `PATCH /clients/{id}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatchBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<ClientStatus>,
}

/// `POST /projects`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectBody {
    #[schema(value_type = String)]
    pub client_id: ClientId,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "empty_none")]
    pub status: Option<ProjectStatus>,
    #[serde(default, deserialize_with = "empty_none")]
    pub start_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "empty_none")]
    pub due_date: Option<NaiveDate>,
    /// Start from this template: its milestones and tasks are dated `start_date` (default
    /// today) plus their offsets.
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub template_id: Option<ProjectTemplateId>,
    /// With `template_id`: the staff member `project_lead` tasks go to (default: the caller).
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub lead_id: Option<UserId>,
}

impl ProjectBody {
    /// Validates lengths and defaults; the template to start from, if any (422 `lead_id`
    /// without a `template_id`).
    pub fn validate(self) -> Result<(NewProject, Option<FromTemplate>)> {
        let from = match (self.template_id, self.lead_id) {
            (Some(template), lead) => Some(FromTemplate { template, lead }),
            (None, Some(_)) => return Err(atrium_core::Error::invalid("lead_id", "is only used with template_id")),
            (None, None) => None,
        };
        Ok((self.project()?, from))
    }

    fn project(self) -> Result<NewProject> {
        Ok(NewProject {
            client_id: self.client_id,
            name: validate::line("name", &self.name, TITLE_MAX)?,
            description: validate::optional_text("description", self.description.as_deref().unwrap_or(""), BODY_MAX)?,
            status: self.status.unwrap_or(ProjectStatus::Active),
            start_date: self.start_date,
            due_date: self.due_date,
        })
    }
}

/// `PATCH /projects/{id}`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatchBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "empty_none")]
    pub status: Option<ProjectStatus>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<NaiveDate>)]
    pub start_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Option<Option<NaiveDate>>,
}

impl ProjectPatchBody {
    /// Validates lengths.
    pub fn validate(self) -> Result<ProjectPatch> {
        Ok(ProjectPatch {
            name: self.name.map(|n| validate::line("name", &n, TITLE_MAX)).transpose()?,
            description: self.description.map(|d| validate::optional_text("description", &d, BODY_MAX)).transpose()?,
            status: self.status,
            start_date: self.start_date,
            due_date: self.due_date,
        })
    }
}

/// `POST /projects/{id}/milestones`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneBody {
    pub name: String,
    #[serde(default, deserialize_with = "empty_none")]
    pub due_date: Option<NaiveDate>,
}

/// `POST /projects/{id}/tasks`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskBody {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "empty_none")]
    pub status: Option<TaskStatus>,
    #[serde(default, deserialize_with = "empty_none")]
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "empty_none")]
    pub due_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<UserId>,
    #[serde(default, deserialize_with = "empty_none")]
    #[schema(value_type = Option<String>)]
    pub milestone_id: Option<MilestoneId>,
}

impl TaskBody {
    /// Validates lengths and defaults.
    pub fn validate(self) -> Result<NewTask> {
        Ok(NewTask {
            title: validate::line("title", &self.title, TITLE_MAX)?,
            description: validate::optional_text("description", self.description.as_deref().unwrap_or(""), BODY_MAX)?,
            status: self.status.unwrap_or(TaskStatus::Todo),
            priority: self.priority.unwrap_or(Priority::Normal),
            due_date: self.due_date,
            assignee_id: self.assignee_id,
            milestone_id: self.milestone_id,
        })
    }
}

/// `PATCH /tasks/{id}`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatchBody {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "empty_none")]
    pub status: Option<TaskStatus>,
    #[serde(default, deserialize_with = "empty_none")]
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<Option<UserId>>,
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub milestone_id: Option<Option<MilestoneId>>,
}

impl TaskPatchBody {
    /// Validates lengths.
    pub fn validate(self) -> Result<TaskPatch> {
        Ok(TaskPatch {
            title: self.title.map(|t| validate::line("title", &t, TITLE_MAX)).transpose()?,
            description: self.description.map(|d| validate::optional_text("description", &d, BODY_MAX)).transpose()?,
            status: self.status,
            priority: self.priority,
            due_date: self.due_date,
            assignee_id: self.assignee_id,
            milestone_id: self.milestone_id,
        })
    }
}

/// `POST /tasks/{id}/comments`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub body: String,
    #[serde(default, deserialize_with = "empty_none")]
    pub visibility: Option<Visibility>,
}

impl CommentBody {
    /// Validates the body; visibility defaults to a reply.
    pub fn validate(self) -> Result<(String, Visibility)> {
        Ok((validate::text("body", &self.body, BODY_MAX)?, self.visibility.unwrap_or(Visibility::Reply)))
    }
}

/// Validates a person's name.
pub fn name(field: &'static str, v: &str) -> Result<String> {
    validate::line(field, v, NAME_MAX)
}

/// Longest phone number accepted for a contact.
pub const PHONE_MAX: usize = 64;

/// `POST /clients/{id}/contacts` (and the staff client page's form).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub title: String,
}

impl ContactBody {
    /// Validates every field, naming the first one that is wrong.
    pub fn validate(self) -> Result<NewContact> {
        let email = self.email.trim();
        Ok(NewContact {
            name: validate::line("name", &self.name, NAME_MAX)?,
            email: if email.is_empty() { String::new() } else { validate::email("email", email)? },
            phone: validate::optional_line("phone", &self.phone, PHONE_MAX)?,
            title: validate::optional_line("title", &self.title, NAME_MAX)?,
        })
    }
}

/// `PATCH /users/{id}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchBody {
    /// `false` deactivates the account, `true` reactivates it.
    #[serde(default)]
    pub active: Option<bool>,
    /// A staff member's job title (empty: none).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub title: Option<String>,
}

/// `POST /projects/{id}/pages`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageBody {
    #[schema(max_length = 80)]
    pub title: String,
    pub kind: PageKind,
    /// Markdown.
    #[serde(default)]
    #[schema(max_length = 50000)]
    pub body: Option<String>,
    /// `embed`: an address of an allow-listed service; `link`: any http(s) address.
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[serde(default)]
    pub staff_only: Option<bool>,
    /// Tab position from 0 (default: last).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 20)]
    pub position: Option<i32>,
}

impl PageBody {
    /// Checks the text fields.
    pub fn validate(self) -> Result<NewPage> {
        Ok(NewPage {
            title: validate::line("title", &self.title, validate::PAGE_TITLE_MAX)?,
            kind: self.kind,
            body: validate::optional_text("body", self.body.as_deref().unwrap_or_default(), validate::PAGE_BODY_MAX)?,
            url: self.url,
            staff_only: self.staff_only.unwrap_or(false),
            position: self.position,
        })
    }
}

/// `PATCH /pages/{id}`: only the fields given change.
#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PagePatchBody {
    #[serde(default)]
    #[schema(max_length = 80)]
    pub title: Option<String>,
    #[serde(default)]
    pub kind: Option<PageKind>,
    #[serde(default)]
    #[schema(max_length = 50000)]
    pub body: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[serde(default)]
    pub staff_only: Option<bool>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 20)]
    pub position: Option<i32>,
}

impl PagePatchBody {
    /// Checks the text fields.
    pub fn validate(self) -> Result<PagePatch> {
        Ok(PagePatch {
            title: self.title.map(|t| validate::line("title", &t, validate::PAGE_TITLE_MAX)).transpose()?,
            kind: self.kind,
            body: self.body.map(|b| validate::optional_text("body", &b, validate::PAGE_BODY_MAX)).transpose()?,
            url: self.url,
            staff_only: self.staff_only,
            position: self.position,
        })
    }
}

/// `PUT /projects/{id}/team`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    /// Staff users (at most 50).
    #[schema(value_type = Vec<String>, max_items = 50)]
    pub user_ids: Vec<UserId>,
}

/// `PATCH /milestones/{id}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestonePatchBody {
    /// Whether the milestone is reached.
    pub done: bool,
}

/// `PATCH /me`: the caller's own settings.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatchBody {
    /// An IANA timezone name for the caller's pages and mail; `null` or `""`: the agency's.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>, nullable, max_length = 64, example = "Europe/Berlin")]
    pub timezone: Option<Option<String>>,
}

/// `POST /me/password`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeBody {
    pub current_password: String,
    pub new_password: String,
}
