//! A project's custom pages (markdown, an embed of an allow-listed service, a link card), shown
//! as tabs of the project. Read through the policy [`Scope`] (staff-only pages only when the scope
//! includes them, else they do not exist); changed by the [`Actor`] after the policy agrees, every
//! change audited.

use atrium_core::ids::{ProjectId, ProjectPageId};
use atrium_core::policy::{Actor, Scope};
use atrium_core::project_page::{PAGES_PER_PROJECT, PageKind, ProjectPage};
use atrium_core::{Error, Result, embed, markdown};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::conv::{self, parse};
use crate::db::{Store, db_err};
use crate::entity::{project, project_page};

/// A new page, its text fields already checked for length and characters.
#[derive(Clone, Debug)]
pub struct NewPage {
    pub title: String,
    pub kind: PageKind,
    pub body: String,
    pub url: Option<String>,
    pub staff_only: bool,
    /// Where among the tabs (from 0); the end when `None`.
    pub position: Option<i32>,
}

/// A change to a page: only the fields given change.
#[derive(Clone, Debug, Default)]
pub struct PagePatch {
    pub title: Option<String>,
    pub kind: Option<PageKind>,
    pub body: Option<String>,
    pub url: Option<String>,
    pub staff_only: Option<bool>,
    pub position: Option<i32>,
}

fn to_page(m: project_page::Model) -> Result<ProjectPage> {
    let kind: PageKind = parse("page kind", &m.kind)?;
    let embed_url = match (kind, &m.url) {
        (PageKind::Embed, Some(u)) => embed::embed_url(u).ok().map(|(_, e)| e),
        _ => None,
    };
    Ok(ProjectPage {
        id: m.id.into(),
        project_id: m.project_id.into(),
        title: m.title,
        kind,
        body_html: markdown::to_html(&m.body),
        body: m.body,
        url: m.url,
        embed_url,
        staff_only: m.staff_only,
        position: m.position,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// The stored address of a page of `kind`: none for markdown, an allow-listed embed, or a web
/// link (422 `url` otherwise).
fn checked_url(kind: PageKind, url: Option<&str>) -> Result<Option<String>> {
    match kind {
        PageKind::Markdown => Ok(None),
        PageKind::Embed => Ok(Some(embed::embed_url(url.unwrap_or_default())?.0)),
        PageKind::Link => Ok(Some(embed::link_url(url.unwrap_or_default())?)),
    }
}

fn checked_position(p: Option<i32>) -> Result<Option<usize>> {
    match p {
        None => Ok(None),
        Some(p) if (0..=PAGES_PER_PROJECT as i32).contains(&p) => Ok(Some(p as usize)),
        Some(_) => Err(Error::invalid("position", format!("must be between 0 and {PAGES_PER_PROJECT}"))),
    }
}

/// Every page of a project in tab order (staff-only included).
async fn rows_of<C: ConnectionTrait>(c: &C, project: ProjectId) -> Result<Vec<project_page::Model>> {
    project_page::Entity::find()
        .filter(project_page::Column::ProjectId.eq(project.0))
        .order_by_asc(project_page::Column::Position)
        .order_by_asc(project_page::Column::Id)
        .all(c)
        .await
        .map_err(db_err)
}

/// Puts `id` at `at` (clamped) among `rows` and writes the positions that changed.
async fn renumber<C: ConnectionTrait>(
    c: &C,
    mut rows: Vec<project_page::Model>,
    id: uuid::Uuid,
    at: Option<usize>,
) -> Result<()> {
    if let (Some(at), Some(i)) = (at, rows.iter().position(|r| r.id == id)) {
        let row = rows.remove(i);
        rows.insert(at.min(rows.len()), row);
    }
    for (i, r) in rows.into_iter().enumerate() {
        let pos = i32::try_from(i).unwrap_or(i32::MAX);
        if r.position != pos {
            let mut am: project_page::ActiveModel = r.into();
            am.position = Set(pos);
            am.update(c).await.map_err(db_err)?;
        }
    }
    Ok(())
}

impl Store {
    /// The pages of a visible project the scope may see, in tab order.
    pub async fn project_pages(&self, scope: &Scope, project: ProjectId) -> Result<Vec<ProjectPage>> {
        self.visible_project_row(scope, project).await?;
        let rows: Vec<_> = rows_of(&self.db, project)
            .await?
            .into_iter()
            .filter(|r| scope.includes_staff_only() || !r.staff_only)
            .collect();
        conv::render_all(rows, |r| r.body.len(), to_page).await
    }

    /// The page row and its project, if the scope sees both (a staff-only page is 404 outside
    /// staff scopes).
    async fn visible_page_row(
        &self,
        scope: &Scope,
        id: ProjectPageId,
    ) -> Result<(project_page::Model, project::Model)> {
        let row = project_page::Entity::find_by_id(id.0).one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let p = self.visible_project_row(scope, ProjectId(row.project_id)).await?;
        if row.staff_only && !scope.includes_staff_only() {
            return Err(Error::NotFound);
        }
        Ok((row, p))
    }

    /// One visible page.
    pub async fn project_page(&self, scope: &Scope, id: ProjectPageId) -> Result<ProjectPage> {
        to_page(self.visible_page_row(scope, id).await?.0)
    }

    /// Adds a page to a visible project (staff), at `position` or at the end.
    pub async fn create_project_page(
        &self,
        actor: &Actor,
        project: ProjectId,
        n: NewPage,
        ip: Option<&str>,
    ) -> Result<ProjectPage> {
        let p = self.visible_project_row(&actor.work_scope(), project).await?;
        actor.may_manage_project_pages()?;
        let url = checked_url(n.kind, n.url.as_deref())?;
        let at = checked_position(n.position)?;
        let tx = self.write_tx().await?;
        let rows = rows_of(&tx, project).await?;
        if rows.len() >= PAGES_PER_PROJECT {
            return Err(Error::invalid("pages", format!("a project has at most {PAGES_PER_PROJECT} pages")));
        }
        let now = Utc::now();
        let id = ProjectPageId::new();
        let row = project_page::ActiveModel {
            id: Set(id.0),
            project_id: Set(project.0),
            title: Set(n.title),
            kind: Set(n.kind.as_str().into()),
            body: Set(n.body),
            url: Set(url),
            staff_only: Set(n.staff_only),
            position: Set(i32::try_from(rows.len()).unwrap_or(i32::MAX)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let mut all = rows;
        all.push(row);
        renumber(&tx, all, id.0, at).await?;
        audit::write(
            &tx,
            Some(actor),
            Entry::project_page(AuditAction::ProjectPageCreate, id, p.client_id.into(), ip)
                .with_detail(serde_json::json!({ "project_id": project, "kind": n.kind })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        self.project_page(&actor.work_scope(), id).await
    }

    /// Changes a visible page (staff); a new `position` moves it among the project's tabs.
    pub async fn update_project_page(
        &self,
        actor: &Actor,
        id: ProjectPageId,
        change: PagePatch,
        ip: Option<&str>,
    ) -> Result<ProjectPage> {
        let (row, p) = self.visible_page_row(&actor.work_scope(), id).await?;
        actor.may_manage_project_pages()?;
        let old_kind: PageKind = parse("page kind", &row.kind)?;
        let kind = change.kind.unwrap_or(old_kind);
        let url = if change.url.is_some() || change.kind.is_some() {
            checked_url(kind, change.url.as_deref().or(row.url.as_deref()))?
        } else {
            row.url.clone()
        };
        let at = checked_position(change.position)?;
        let tx = self.write_tx().await?;
        let mut am: project_page::ActiveModel = row.into();
        if let Some(t) = change.title {
            am.title = Set(t);
        }
        if let Some(b) = change.body {
            am.body = Set(b);
        }
        if let Some(s) = change.staff_only {
            am.staff_only = Set(s);
        }
        am.kind = Set(kind.as_str().into());
        am.url = Set(url);
        am.updated_at = Set(Utc::now());
        am.update(&tx).await.map_err(db_err)?;
        if at.is_some() {
            renumber(&tx, rows_of(&tx, ProjectId(p.id)).await?, id.0, at).await?;
        }
        audit::write(
            &tx,
            Some(actor),
            Entry::project_page(AuditAction::ProjectPageUpdate, id, p.client_id.into(), ip)
                .with_detail(serde_json::json!({ "project_id": p.id, "kind": kind })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        self.project_page(&actor.work_scope(), id).await
    }

    /// Deletes a visible page (staff); the tabs after it move up. Returns its project.
    pub async fn delete_project_page(&self, actor: &Actor, id: ProjectPageId, ip: Option<&str>) -> Result<ProjectId> {
        let (row, p) = self.visible_page_row(&actor.work_scope(), id).await?;
        actor.may_manage_project_pages()?;
        let tx = self.write_tx().await?;
        project_page::Entity::delete_by_id(row.id).exec(&tx).await.map_err(db_err)?;
        renumber(&tx, rows_of(&tx, ProjectId(p.id)).await?, row.id, None).await?;
        audit::write(
            &tx,
            Some(actor),
            Entry::project_page(AuditAction::ProjectPageDelete, id, p.client_id.into(), ip)
                .with_detail(serde_json::json!({ "project_id": p.id, "title": row.title })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ProjectId(p.id))
    }
}
