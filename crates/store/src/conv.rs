//! Row → domain conversions. A stored value that no longer parses is an internal error.

use std::str::FromStr;

use atrium_core::model::{Client, Comment, Milestone, Project, Task};
use atrium_core::{Error, Result, markdown};

use crate::entity::{client, comment, milestone, project, task};

pub(crate) fn parse<T: FromStr<Err = String>>(what: &str, s: &str) -> Result<T> {
    s.parse().map_err(|e| Error::Internal(format!("stored {what} {s:?}: {e}")))
}

pub(crate) fn client(m: client::Model) -> Result<Client> {
    Ok(Client { id: m.id.into(), name: m.name, status: parse("client status", &m.status)?, created_at: m.created_at })
}

pub(crate) fn project(m: project::Model, progress: u8) -> Result<Project> {
    Ok(Project {
        id: m.id.into(),
        client_id: m.client_id.into(),
        name: m.name,
        description: m.description,
        status: parse("project status", &m.status)?,
        start_date: m.start_date,
        due_date: m.due_date,
        progress,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn milestone(m: milestone::Model) -> Milestone {
    Milestone {
        id: m.id.into(),
        project_id: m.project_id.into(),
        name: m.name,
        due_date: m.due_date,
        completed_at: m.completed_at,
    }
}

pub(crate) fn task(m: task::Model) -> Result<Task> {
    Ok(Task {
        id: m.id.into(),
        project_id: m.project_id.into(),
        milestone_id: m.milestone_id.map(Into::into),
        title: m.title,
        description: m.description,
        status: parse("task status", &m.status)?,
        priority: parse("priority", &m.priority)?,
        due_date: m.due_date,
        assignee_id: m.assignee_id.map(Into::into),
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn comment(m: comment::Model) -> Result<Comment> {
    Ok(Comment {
        id: m.id.into(),
        task_id: m.task_id.into(),
        author_id: m.author_id.into(),
        body_html: markdown::to_html(&m.body),
        body: m.body,
        visibility: parse("visibility", &m.visibility)?,
        created_at: m.created_at,
    })
}
