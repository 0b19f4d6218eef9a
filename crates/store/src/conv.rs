//! Row → domain conversions. A stored value that no longer parses is an internal error.

use std::str::FromStr;

use atrium_core::model::{Client, Comment, Milestone, Project, Task};
use atrium_core::{Error, Result, markdown};

use crate::entity::{client, comment, milestone, project, task};

pub(crate) fn parse<T: FromStr<Err = String>>(what: &str, s: &str) -> Result<T> {
    s.parse().map_err(|e| Error::internal(format!("stored {what} {s:?}"), e))
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

/// A list whose markdown adds up to more than this many bytes is rendered on a blocking thread:
/// rendering is bounded per text (SEC-IO-7), but a long thread of long comments is still work
/// the async workers should not do.
pub(crate) const RENDER_INLINE_MAX: usize = 32 * 1024;

/// Converts `rows` with `f` (which renders markdown), off the async workers when the markdown
/// (`size` of each row) adds up to more than [`RENDER_INLINE_MAX`].
pub(crate) async fn render_all<R, T>(
    rows: Vec<R>,
    size: impl Fn(&R) -> usize,
    f: impl Fn(R) -> Result<T> + Send + 'static,
) -> Result<Vec<T>>
where
    R: Send + 'static,
    T: Send + 'static,
{
    if rows.iter().map(size).sum::<usize>() <= RENDER_INLINE_MAX {
        return rows.into_iter().map(f).collect();
    }
    tokio::task::spawn_blocking(move || rows.into_iter().map(f).collect())
        .await
        .map_err(|e| Error::internal("rendering markdown", e))?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn long_lists_render_off_the_async_thread() {
        let here = std::thread::current().id();
        let on = |rows: Vec<String>| async move {
            render_all(rows, |r| r.len(), |_| Ok(std::thread::current().id())).await.expect("rendered")
        };
        assert_eq!(on(vec!["short".into(); 3]).await, vec![here; 3], "short lists render in place");
        let long = vec!["x".repeat(RENDER_INLINE_MAX / 2 + 1); 2];
        assert!(on(long).await.iter().all(|t| *t != here), "long lists render on a blocking thread");
    }
}
