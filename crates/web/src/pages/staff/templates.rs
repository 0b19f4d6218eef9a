//! The project templates (one library every staff member keeps): the list, a new template,
//! the editor (milestones, tasks, folders and pages as rows), copy, delete, and saving a
//! project as a template. A refused value shows the form again with the message naming the
//! field and everything that was sent.

use std::collections::HashMap;

use askama::Template;
use atrium_core::Error;
use atrium_core::ids::{ProjectId, ProjectTemplateId, UserId};
use atrium_core::model::{Priority, User};
use atrium_core::project_page::PageKind;
use atrium_core::template::{
    Assignee, DESCRIPTION_MAX, Onboarding, ProjectTemplate, TemplateContent, TemplateFolder, TemplateMilestone,
    TemplatePage, TemplateTask,
};
use atrium_core::validate::TITLE_MAX;
use atrium_store::templates::{NewTemplate, TemplatePatch};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, FormPairs, Id, Q};
use crate::pages::account::Notice;
use crate::pages::view::{Opt, opts};
use crate::pages::{Chrome, render, see_other};
use crate::state::AppState;

/// Where the library lives.
pub const PATH: &str = "/staff/templates";

/// Empty rows the editor offers under each list, to add to it.
const BLANK_ROWS: usize = 3;

struct TemplateRow {
    id: String,
    name: String,
    description: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "staff_templates.html")]
struct TemplatesPage {
    chrome: Chrome,
    error: Option<String>,
    templates: Vec<TemplateRow>,
    /// What new clients start with: each template and whether it is chosen, the texts, and
    /// whether the viewer may change them (owners and admins).
    onboarding: Vec<Opt>,
    invitation_text: String,
    welcome_text: String,
    can_configure: bool,
    new_name: String,
    new_description: String,
    name_max: usize,
    description_max: usize,
}

fn summary(c: &TemplateContent) -> String {
    let n = |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
    let mut parts = vec![n(c.milestones.len(), "milestone", "milestones"), n(c.tasks.len(), "task", "tasks")];
    if !c.folders.is_empty() {
        parts.push(n(c.folders.len(), "folder", "folders"));
    }
    if !c.pages.is_empty() {
        parts.push(n(c.pages.len(), "page", "pages"));
    }
    if !c.request_form.is_empty() {
        parts.push("a request form".into());
    }
    let days = c.milestones.iter().map(|m| m.offset_days).chain(c.tasks.iter().filter_map(|t| t.offset_days)).max();
    if let Some(d) = days.filter(|d| *d > 0) {
        parts.push(n(usize::try_from(d).unwrap_or(0), "day", "days"));
    }
    parts.join(" · ")
}

/// The new template form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTemplateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

async fn show_list(
    st: &AppState,
    auth: &StaffAuth,
    csrf: &CsrfToken,
    sent: Option<NewTemplateForm>,
    error: Option<Error>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let all = st.store.project_templates(&auth.actor).await?;
    let o = st.store.onboarding(&auth.actor).await?;
    let mut chrome = Chrome::signed_in(st, auth, csrf, "Project templates", "/staff/clients");
    chrome.flash = match notice {
        Some("deleted") => Some("Template deleted.".into()),
        Some("onboarding") => Some("Saved: new clients start with this.".into()),
        _ => None,
    };
    let onboarding = all
        .iter()
        .map(|t| Opt { value: t.id.to_string(), label: t.name.clone(), selected: o.project_templates.contains(&t.id) })
        .collect();
    let status = error.as_ref().map_or(StatusCode::OK, crate::error::status);
    let sent = sent.unwrap_or(NewTemplateForm { name: String::new(), description: String::new() });
    let page = TemplatesPage {
        chrome,
        error: error.map(|e| e.to_string()),
        templates: all
            .into_iter()
            .map(|t| TemplateRow {
                summary: summary(&t.content),
                id: t.id.to_string(),
                name: t.name,
                description: t.description,
            })
            .collect(),
        onboarding,
        invitation_text: o.invitation_text.unwrap_or_default(),
        welcome_text: o.welcome_text.unwrap_or_default(),
        can_configure: auth.actor.may_configure_portal().is_ok(),
        new_name: sent.name,
        new_description: sent.description,
        name_max: TITLE_MAX,
        description_max: DESCRIPTION_MAX,
    };
    Ok((status, render(&page)?).into_response())
}

/// The library.
pub async fn list(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    show_list(&st, &auth, &csrf, None, None, n.notice.as_deref()).await
}

/// Adds an empty template and opens it in the editor.
pub async fn create(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<NewTemplateForm>,
) -> AppResult<Response> {
    let n =
        NewTemplate { name: f.name.clone(), description: f.description.clone(), content: TemplateContent::default() };
    match st.store.create_project_template(&auth.actor, n, Some(&ip)).await {
        Ok(t) => Ok(see_other(&format!("{PATH}/{}?notice=added", t.id))),
        Err(e) => show_list(&st, &auth, &csrf, Some(f), Some(super::input_error(e)?), None).await,
    }
}

/// Adds a copy of a template and opens it.
pub async fn copy(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectTemplateId>,
) -> AppResult<Response> {
    let t = st.store.copy_project_template(&auth.actor, id, None, Some(&ip)).await?;
    Ok(see_other(&format!("{PATH}/{}?notice=copied", t.id)))
}

/// Deletes a template.
pub async fn delete(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectTemplateId>,
) -> AppResult<Response> {
    st.store.delete_project_template(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("{PATH}?notice=deleted")))
}

/// Saves what new clients start with (owners and admins): the chosen templates
/// (`project_templates`, repeated) and the two texts.
pub async fn save_onboarding(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FormPairs(pairs): FormPairs,
) -> AppResult<Response> {
    let cols = Columns::of(pairs);
    let mut ids = Vec::new();
    for v in cols.0.get("project_templates").into_iter().flatten() {
        ids.push(v.parse::<ProjectTemplateId>().map_err(|_| Error::invalid("project_templates", "is not a template"))?);
    }
    let o = Onboarding {
        invitation_text: Some(cols.one("invitation_text")),
        welcome_text: Some(cols.one("welcome_text")),
        project_templates: ids,
    };
    match st.store.set_onboarding(&auth.actor, o, Some(&ip)).await {
        Ok(_) => Ok(see_other(&format!("{PATH}?notice=onboarding"))),
        Err(e) => show_list(&st, &auth, &csrf, None, Some(super::input_error(e)?), None).await,
    }
}

/// The "Save as template" form of a project page.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveAsForm {
    #[serde(default)]
    name: String,
}

/// Saves a project as a new template and opens it.
pub async fn save_project(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    FormBody(f): FormBody<SaveAsForm>,
) -> AppResult<Response> {
    let t = st.store.template_from_project(&auth.actor, pid, &f.name, Some(&ip)).await?;
    Ok(see_other(&format!("{PATH}/{}?notice=saved_from_project", t.id)))
}

// ----- the editor ----------------------------------------------------------------------------

struct MilestoneEdit {
    key: String,
    name: String,
    offset: String,
}

struct TaskEdit {
    title: String,
    offset: String,
    description: String,
    milestones: Vec<Opt>,
    assignees: Vec<Opt>,
    priorities: Vec<Opt>,
}

struct FolderEdit {
    name: String,
    staff_only: bool,
}

struct PageEdit {
    title: String,
    url: String,
    body: String,
    staff_only: bool,
    kinds: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "staff_template.html")]
struct EditorPage {
    chrome: Chrome,
    id: String,
    error: Option<String>,
    name: String,
    description: String,
    milestones: Vec<MilestoneEdit>,
    tasks: Vec<TaskEdit>,
    folders: Vec<FolderEdit>,
    pages: Vec<PageEdit>,
    form_fields: usize,
    name_max: usize,
    description_max: usize,
}

/// The parts of a template as the editor shows them (what is stored, or what was sent).
#[derive(Debug)]
struct Draft {
    name: String,
    description: String,
    content: TemplateContent,
}

fn assignee_opts(staff: &[User], selected: Option<Assignee>) -> Vec<Opt> {
    let mut v = vec![
        Opt { value: String::new(), label: "Nobody".into(), selected: selected.is_none() },
        Opt {
            value: "project_lead".into(),
            label: "The project lead".into(),
            selected: selected == Some(Assignee::ProjectLead),
        },
        Opt {
            value: "client_admin".into(),
            label: "The client's admin".into(),
            selected: selected == Some(Assignee::ClientAdmin),
        },
    ];
    v.extend(staff.iter().map(|u| Opt {
        value: u.id.to_string(),
        label: u.name.clone(),
        selected: selected == Some(Assignee::Person(u.id)),
    }));
    // A person who is no longer on the team stays selectable, so saving keeps what is there.
    if let Some(Assignee::Person(u)) = selected
        && !staff.iter().any(|s| s.id == u)
    {
        v.push(Opt { value: u.to_string(), label: "A former staff member".into(), selected: true });
    }
    v
}

async fn show_editor(
    st: &AppState,
    auth: &StaffAuth,
    csrf: &CsrfToken,
    id: ProjectTemplateId,
    draft: Draft,
    error: Option<Error>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let staff: Vec<User> = st.store.staff_users(&auth.actor).await?.into_iter().filter(|u| u.active).collect();
    let mut chrome = Chrome::signed_in(st, auth, csrf, format!("Template: {}", draft.name), "/staff/clients");
    chrome.flash = match notice {
        Some("added") => Some("Template added. Add its milestones, tasks, folders and pages below.".into()),
        Some("copied") => Some("Copy added: rename it and change what you need.".into()),
        Some("saved_from_project") => Some("Template saved from the project.".into()),
        Some("saved") => Some("Template saved.".into()),
        _ => None,
    };
    let status = error.as_ref().map_or(StatusCode::OK, crate::error::status);
    let c = draft.content;
    let milestone_opts = |selected: Option<&str>| {
        let mut v = vec![Opt { value: String::new(), label: "None".into(), selected: selected.is_none() }];
        v.extend(c.milestones.iter().map(|m| Opt {
            value: m.key.clone(),
            label: m.name.clone(),
            selected: selected == Some(m.key.as_str()),
        }));
        v
    };
    let priorities = |p: Priority| opts(Priority::ALL, Some(p), Priority::as_str, Priority::label);
    let mut milestones: Vec<MilestoneEdit> = c
        .milestones
        .iter()
        .map(|m| MilestoneEdit { key: m.key.clone(), name: m.name.clone(), offset: m.offset_days.to_string() })
        .collect();
    milestones.extend((0..BLANK_ROWS).map(|_| MilestoneEdit {
        key: String::new(),
        name: String::new(),
        offset: String::new(),
    }));
    let mut tasks: Vec<TaskEdit> = c
        .tasks
        .iter()
        .map(|t| TaskEdit {
            title: t.title.clone(),
            offset: t.offset_days.map(|d| d.to_string()).unwrap_or_default(),
            description: t.description.clone(),
            milestones: milestone_opts(t.milestone.as_deref()),
            assignees: assignee_opts(&staff, t.assignee),
            priorities: priorities(t.priority),
        })
        .collect();
    tasks.extend((0..BLANK_ROWS).map(|_| TaskEdit {
        title: String::new(),
        offset: String::new(),
        description: String::new(),
        milestones: milestone_opts(None),
        assignees: assignee_opts(&staff, None),
        priorities: priorities(Priority::Normal),
    }));
    let mut folders: Vec<FolderEdit> =
        c.folders.iter().map(|f| FolderEdit { name: f.name.clone(), staff_only: f.staff_only }).collect();
    folders.extend((0..BLANK_ROWS).map(|_| FolderEdit { name: String::new(), staff_only: false }));
    let kinds = |k: PageKind| opts(PageKind::ALL, Some(k), PageKind::as_str, PageKind::label);
    let mut pages: Vec<PageEdit> = c
        .pages
        .iter()
        .map(|p| PageEdit {
            title: p.title.clone(),
            url: p.url.clone().unwrap_or_default(),
            body: p.body.clone(),
            staff_only: p.staff_only,
            kinds: kinds(p.kind),
        })
        .collect();
    pages.push(PageEdit {
        title: String::new(),
        url: String::new(),
        body: String::new(),
        staff_only: false,
        kinds: kinds(PageKind::Markdown),
    });
    let page = EditorPage {
        chrome,
        id: id.to_string(),
        error: error.map(|e| e.to_string()),
        name: draft.name,
        description: draft.description,
        milestones,
        tasks,
        folders,
        pages,
        form_fields: c.request_form.fields.len(),
        name_max: TITLE_MAX,
        description_max: DESCRIPTION_MAX,
    };
    Ok((status, render(&page)?).into_response())
}

/// The editor of one template.
pub async fn editor(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(id): Id<ProjectTemplateId>,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    let t: ProjectTemplate = st.store.project_template(&auth.actor, id).await?;
    let draft = Draft { name: t.name, description: t.description, content: t.content };
    show_editor(&st, &auth, &csrf, id, draft, None, n.notice.as_deref()).await
}

/// The editor's fields in the order sent: each list's columns are repeated names, one value
/// per row.
struct Columns(HashMap<String, Vec<String>>);

impl Columns {
    fn of(pairs: Vec<(String, String)>) -> Columns {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            m.entry(k).or_default().push(v);
        }
        Columns(m)
    }

    fn one(&self, name: &str) -> String {
        self.0.get(name).and_then(|v| v.first()).cloned().unwrap_or_default()
    }

    fn at(&self, name: &str, i: usize) -> &str {
        self.0.get(name).and_then(|v| v.get(i)).map_or("", String::as_str)
    }

    fn rows(&self, name: &str) -> usize {
        self.0.get(name).map_or(0, Vec::len)
    }
}

/// A day offset field: empty is none; anything else a whole number (422 naming the row).
fn offset_field(field: String, v: &str) -> Result<Option<i32>, Error> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse().map(Some).map_err(|_| Error::invalid(field, "must be a whole number of days"))
}

/// A key for a new milestone row, from its name: lowercase letters, digits and `_`, unique.
fn key_for(name: &str, taken: &[String]) -> String {
    let mut base: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    base.truncate(30);
    if base.is_empty() {
        base = "milestone".into();
    }
    let mut key = base.clone();
    let mut n = 2;
    while taken.contains(&key) {
        key = format!("{base}_{n}");
        n += 1;
    }
    key
}

/// The template the editor's form describes (rows whose name or title is empty are dropped),
/// and the first value that could not be read, if any.
fn draft_of(cols: &Columns, request_form: atrium_core::request_form::RequestForm) -> (Draft, Option<Error>) {
    let mut err = None;
    let mut note = |e: Error| {
        if err.is_none() {
            err = Some(e);
        }
    };
    let mut milestones: Vec<TemplateMilestone> = Vec::new();
    for i in 0..cols.rows("m_name") {
        let name = cols.at("m_name", i).trim();
        if name.is_empty() {
            continue;
        }
        let taken: Vec<String> = milestones.iter().map(|m| m.key.clone()).collect();
        let key = match cols.at("m_key", i).trim() {
            "" => key_for(name, &taken),
            k => k.to_string(),
        };
        let offset = offset_field(format!("milestones[{}].offset_days", milestones.len()), cols.at("m_offset", i))
            .unwrap_or_else(|e| {
                note(e);
                None
            });
        milestones.push(TemplateMilestone { key, name: name.to_string(), offset_days: offset.unwrap_or(0) });
    }
    let mut tasks = Vec::new();
    for i in 0..cols.rows("t_title") {
        let title = cols.at("t_title", i).trim();
        if title.is_empty() {
            continue;
        }
        let n = tasks.len();
        let offset_days = offset_field(format!("tasks[{n}].offset_days"), cols.at("t_offset", i)).unwrap_or_else(|e| {
            note(e);
            None
        });
        let assignee = match cols.at("t_assignee", i).trim() {
            "" => None,
            a => a.parse::<Assignee>().map(Some).unwrap_or_else(|m| {
                note(Error::invalid(format!("tasks[{n}].assignee"), m));
                None
            }),
        };
        let priority = cols.at("t_priority", i).parse::<Priority>().unwrap_or_default();
        let milestone = Some(cols.at("t_milestone", i).trim().to_string()).filter(|m| !m.is_empty());
        tasks.push(TemplateTask {
            title: title.to_string(),
            description: cols.at("t_description", i).to_string(),
            priority,
            offset_days,
            milestone,
            assignee,
        });
    }
    // A task of a milestone removed in this edit keeps no milestone.
    for t in &mut tasks {
        if t.milestone.as_ref().is_some_and(|k| !milestones.iter().any(|m| &m.key == k)) {
            t.milestone = None;
        }
    }
    let folders = (0..cols.rows("f_name"))
        .filter(|&i| !cols.at("f_name", i).trim().is_empty())
        .map(|i| TemplateFolder {
            name: cols.at("f_name", i).to_string(),
            staff_only: cols.at("f_staff_only", i) == "true",
        })
        .collect();
    let mut pages = Vec::new();
    for i in 0..cols.rows("p_title") {
        if cols.at("p_title", i).trim().is_empty() {
            continue;
        }
        let kind = cols.at("p_kind", i).parse::<PageKind>().unwrap_or_else(|m| {
            note(Error::invalid(format!("pages[{}].kind", pages.len()), m));
            PageKind::Markdown
        });
        let url = Some(cols.at("p_url", i).trim().to_string()).filter(|u| !u.is_empty());
        pages.push(TemplatePage {
            title: cols.at("p_title", i).to_string(),
            kind,
            body: cols.at("p_body", i).to_string(),
            url,
            staff_only: cols.at("p_staff_only", i) == "true",
        });
    }
    let draft = Draft {
        name: cols.one("name"),
        description: cols.one("description"),
        content: TemplateContent { milestones, tasks, folders, pages, request_form },
    };
    (draft, err)
}

/// Saves the editor's form: name, description, milestones, tasks, folders and pages (the
/// request form is kept as it is).
pub async fn save(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectTemplateId>,
    FormPairs(pairs): FormPairs,
) -> AppResult<Response> {
    let current = st.store.project_template(&auth.actor, id).await?;
    let cols = Columns::of(pairs);
    let draft = match draft_of(&cols, current.content.request_form) {
        (d, None) => d,
        (d, Some(e)) => return show_editor(&st, &auth, &csrf, id, d, Some(e), None).await,
    };
    let patch = TemplatePatch {
        name: Some(draft.name.clone()),
        description: Some(draft.description.clone()),
        milestones: Some(draft.content.milestones.clone()),
        tasks: Some(draft.content.tasks.clone()),
        folders: Some(draft.content.folders.clone()),
        pages: Some(draft.content.pages.clone()),
        request_form: None,
    };
    match st.store.update_project_template(&auth.actor, id, patch, Some(&ip)).await {
        Ok(_) => Ok(see_other(&format!("{PATH}/{id}?notice=saved"))),
        Err(e) => show_editor(&st, &auth, &csrf, id, draft, Some(super::input_error(e)?), None).await,
    }
}

/// The templates as options of the new project form ("No template" first).
pub(crate) async fn template_opts(st: &AppState, auth: &StaffAuth) -> AppResult<Vec<Opt>> {
    let mut v = vec![Opt { value: String::new(), label: "No template (an empty project)".into(), selected: true }];
    v.extend(st.store.project_templates(&auth.actor).await?.into_iter().map(|t| Opt {
        value: t.id.to_string(),
        label: t.name,
        selected: false,
    }));
    Ok(v)
}

/// The staff who can lead a project made from a template ("Me" first).
pub(crate) async fn lead_opts(st: &AppState, auth: &StaffAuth) -> AppResult<Vec<Opt>> {
    let me: UserId = auth.actor.user_id();
    let staff = st.store.staff_users(&auth.actor).await?;
    let mut v = vec![Opt { value: String::new(), label: "Me".into(), selected: true }];
    v.extend(staff.into_iter().filter(|u| u.active && u.id != me).map(|u| Opt {
        value: u.id.to_string(),
        label: u.name,
        selected: false,
    }));
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_milestone_keys_come_from_names_and_never_collide() {
        assert_eq!(key_for("Design approved!", &[]), "design_approved");
        assert_eq!(key_for("Design approved", &["design_approved".into()]), "design_approved_2");
        assert_eq!(key_for("***", &[]), "milestone");
        assert!(
            TemplateContent {
                milestones: vec![TemplateMilestone {
                    key: key_for("Ünïcode — ok", &[]),
                    name: "x".into(),
                    offset_days: 0
                }],
                ..Default::default()
            }
            .check()
            .is_ok()
        );
    }

    #[test]
    fn rows_without_a_name_are_dropped_and_bad_offsets_named() {
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        let cols = Columns::of(pairs(&[
            ("name", "T"),
            ("m_key", ""),
            ("m_name", "Kick-off"),
            ("m_offset", "3"),
            ("m_key", ""),
            ("m_name", ""),
            ("m_offset", ""),
            ("t_title", "A"),
            ("t_offset", "x"),
            ("t_milestone", "kick_off"),
            ("t_assignee", "project_lead"),
            ("t_priority", "high"),
            ("t_description", ""),
        ]));
        let (draft, e) = draft_of(&cols, Default::default());
        let e = e.expect("bad offset");
        assert!(matches!(e, Error::Invalid { ref field, .. } if field == "tasks[0].offset_days"), "{e:?}");
        assert_eq!(draft.content.milestones.len(), 1);
        assert_eq!(draft.content.tasks[0].milestone.as_deref(), Some("kick_off"));
        assert_eq!(draft.content.tasks[0].priority, Priority::High);
    }
}
