//! Clients, projects and tasks (milestones are in `milestones.rs`, comments in `comments.rs`).
//! Every read takes a policy [`Scope`]; every write takes the [`Actor`] and asks the policy
//! first, then audits.

use std::collections::HashMap;

use atrium_core::ids::{ClientId, MilestoneId, ProjectId, TaskId, UserId};
use atrium_core::live::LiveEvent;
use atrium_core::model::{
    Client, ClientStatus, Milestone, NotificationKind, Priority, Project, ProjectStatus, Task, TaskStatus, progress,
};
use atrium_core::policy::{Actor, ClientFilter, Scope, TaskChange, check_assignee};
use atrium_core::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, Iterable, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::conv;
use crate::dates::{check_date, check_dates};
use crate::db::{Store, db_err};
use crate::entity::{client, milestone, project, task, user};
use crate::notifications::{Created, Notice, Person, Target, notify, people_seeing};
use crate::paging::{Page, PageRequest, page, page_rows};
use crate::scoping::{scoped_projects, scoped_task_condition};

/// A project with everything its page shows.
#[derive(Clone, Debug)]
pub struct ProjectOverview {
    pub project: Project,
    pub client_name: String,
    /// Every task, newest first.
    pub tasks: Vec<Task>,
    /// Names of the tasks' assignees.
    pub assignee_names: HashMap<UserId, String>,
    /// By due date, then position.
    pub milestones: Vec<Milestone>,
}

/// A project row with its client's name (`project_overview`).
#[derive(Debug, FromQueryResult)]
struct ProjectWithClient {
    #[sea_orm(nested)]
    project: project::Model,
    client_name: String,
}

/// A task row with its assignee's name (`project_overview`).
#[derive(Debug, FromQueryResult)]
struct TaskWithAssignee {
    #[sea_orm(nested)]
    task: task::Model,
    assignee_name: Option<String>,
}

/// Filters for a project's task list.
#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub assignee: Option<UserId>,
    pub priority: Option<Priority>,
}

/// Fields of a new project.
#[derive(Clone, Debug)]
pub struct NewProject {
    pub client_id: ClientId,
    pub name: String,
    pub description: String,
    pub status: ProjectStatus,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
}

/// Writes a new project's row (the caller has checked `n` and the actor).
pub(crate) async fn insert_project<C: ConnectionTrait>(
    c: &C,
    n: NewProject,
    now: DateTime<Utc>,
) -> Result<project::Model> {
    project::ActiveModel {
        id: Set(ProjectId::new().0),
        client_id: Set(n.client_id.0),
        name: Set(n.name),
        description: Set(n.description),
        status: Set(n.status.as_str().into()),
        start_date: Set(n.start_date),
        due_date: Set(n.due_date),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(c)
    .await
    .map_err(db_err)
}

/// A partial update of a project (`None` = unchanged; inner `None` = cleared).
#[derive(Clone, Debug, Default)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: Option<ProjectStatus>,
    pub start_date: Option<Option<NaiveDate>>,
    pub due_date: Option<Option<NaiveDate>>,
}

/// Fields of a new task.
#[derive(Clone, Debug)]
pub struct NewTask {
    pub title: String,
    pub description: String,
    pub status: TaskStatus,
    pub priority: Priority,
    pub due_date: Option<NaiveDate>,
    pub assignee_id: Option<UserId>,
    pub milestone_id: Option<MilestoneId>,
}

/// A partial update of a task (`None` = unchanged; inner `None` = cleared).
#[derive(Clone, Debug, Default)]
pub struct TaskPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    pub due_date: Option<Option<NaiveDate>>,
    pub assignee_id: Option<Option<UserId>>,
    pub milestone_id: Option<Option<MilestoneId>>,
}

impl TaskPatch {
    fn change(&self) -> TaskChange {
        let others = self.title.is_some()
            || self.description.is_some()
            || self.priority.is_some()
            || self.due_date.is_some()
            || self.assignee_id.is_some()
            || self.milestone_id.is_some();
        if others { TaskChange::Other } else { TaskChange::StatusOnly }
    }
}

/// A task together with its project's client (for access checks and display).
#[derive(Clone, Debug)]
pub struct TaskInProject {
    pub task: Task,
    pub client_id: ClientId,
    pub project_name: String,
}

impl Store {
    // ----- clients ---------------------------------------------------------------------------

    /// Clients visible in `scope`, by name.
    pub async fn clients(&self, scope: &Scope, req: PageRequest) -> Result<Page<Client>> {
        let mut q = client::Entity::find().filter(client::Column::DeletedAt.is_null());
        match scope.clients() {
            ClientFilter::All => {}
            ClientFilter::Only(c) => q = q.filter(client::Column::Id.eq(c.0)),
            ClientFilter::Nothing => {
                return Ok(Page { items: vec![], next_cursor: None });
            }
        }
        let rows = page_rows(&self.db, q, req, client::Column::Id, client::Column::Id).await?;
        let items = rows.into_iter().map(conv::client).collect::<Result<Vec<_>>>()?;
        Ok(page(items, req, |c| c.id.0))
    }

    /// One client, if visible.
    pub async fn client(&self, scope: &Scope, id: ClientId) -> Result<Client> {
        if !scope.allows(id) {
            return Err(Error::NotFound);
        }
        let row = client::Entity::find_by_id(id.0)
            .filter(client::Column::DeletedAt.is_null())
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(Error::NotFound)?;
        conv::client(row)
    }

    /// Renames or (un)archives a client.
    pub async fn update_client(
        &self,
        actor: &Actor,
        id: ClientId,
        name: Option<String>,
        status: Option<ClientStatus>,
        ip: Option<&str>,
    ) -> Result<Client> {
        actor.may_manage_clients()?;
        self.client(&actor.client_scope(), id).await?;
        let tx = self.write_tx().await?;
        let row = client::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let mut am: client::ActiveModel = row.into();
        if let Some(n) = &name {
            am.name = Set(n.clone());
        }
        if let Some(s) = status {
            am.status = Set(s.as_str().into());
        }
        am.updated_at = Set(Utc::now());
        let c = conv::client(am.update(&tx).await.map_err(db_err)?)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::client(AuditAction::ClientUpdate, id, ip)
                .with_detail(serde_json::json!({ "name": name, "status": status })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(c)
    }

    // ----- projects --------------------------------------------------------------------------

    async fn progress_of(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, u8>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(Uuid, String, i64)> = task::Entity::find()
            .select_only()
            .column(task::Column::ProjectId)
            .column(task::Column::Status)
            .column_as(task::Column::Id.count(), "n")
            .filter(task::Column::ProjectId.is_in(ids.to_vec()))
            .group_by(task::Column::ProjectId)
            .group_by(task::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut counts: HashMap<Uuid, (u64, u64)> = HashMap::new();
        for (p, status, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            let e = counts.entry(p).or_default();
            e.1 += n;
            if status == TaskStatus::Done.as_str() {
                e.0 += n;
            }
        }
        Ok(counts.into_iter().map(|(p, (done, total))| (p, progress(done, total))).collect())
    }

    async fn projects_from_rows(&self, rows: Vec<project::Model>) -> Result<Vec<Project>> {
        let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
        let prog = self.progress_of(&ids).await?;
        rows.into_iter()
            .map(|r| {
                let p = prog.get(&r.id).copied().unwrap_or(0);
                conv::project(r, p)
            })
            .collect()
    }

    /// Projects visible in `scope`, newest first, optionally of one client.
    pub async fn projects(
        &self,
        scope: &Scope,
        of_client: Option<ClientId>,
        req: PageRequest,
    ) -> Result<Page<Project>> {
        let Some(mut q) = scoped_projects(scope, project::Entity::find()) else {
            return Ok(Page { items: vec![], next_cursor: None });
        };
        if let Some(c) = of_client {
            q = q.filter(project::Column::ClientId.eq(c.0));
        }
        let rows = page_rows(&self.db, q, req, project::Column::Id, project::Column::Id).await?;
        let items = self.projects_from_rows(rows).await?;
        Ok(page(items, req, |p| p.id.0))
    }

    /// The row of a visible project (404 otherwise), without computing progress: the one
    /// visibility check that reads of a project's tasks, milestones and comments start with.
    pub(crate) async fn visible_project_row(&self, scope: &Scope, id: ProjectId) -> Result<project::Model> {
        let q = scoped_projects(scope, project::Entity::find_by_id(id.0)).ok_or(Error::NotFound)?;
        q.one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)
    }

    /// Everything a project page shows, in three queries: the project with its client's name,
    /// all its tasks (newest first) with their assignees' names (progress is derived from these),
    /// and its milestones.
    pub async fn project_overview(&self, scope: &Scope, id: ProjectId) -> Result<ProjectOverview> {
        let q = scoped_projects(scope, project::Entity::find_by_id(id.0)).ok_or(Error::NotFound)?;
        let row = q
            .select_only()
            .columns(project::Column::iter())
            .column_as(Expr::col((client::Entity, client::Column::Name)), "client_name")
            .join(
                JoinType::InnerJoin,
                project::Entity::belongs_to(client::Entity)
                    .from(project::Column::ClientId)
                    .to(client::Column::Id)
                    .into(),
            )
            .into_model::<ProjectWithClient>()
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(Error::NotFound)?;
        let rows = task::Entity::find()
            .select_only()
            .columns(task::Column::iter())
            .column_as(Expr::col((user::Entity, user::Column::Name)), "assignee_name")
            .join(
                JoinType::LeftJoin,
                task::Entity::belongs_to(user::Entity).from(task::Column::AssigneeId).to(user::Column::Id).into(),
            )
            .filter(task::Column::ProjectId.eq(id.0))
            .order_by_desc(task::Column::Id)
            .into_model::<TaskWithAssignee>()
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut assignee_names = HashMap::new();
        let mut tasks = Vec::with_capacity(rows.len());
        for r in rows {
            if let (Some(a), Some(n)) = (r.task.assignee_id, r.assignee_name) {
                assignee_names.entry(UserId(a)).or_insert(n);
            }
            tasks.push(conv::task(r.task)?);
        }
        let done = tasks.iter().filter(|t| t.status == TaskStatus::Done).count() as u64;
        let client_name = row.client_name;
        let project = conv::project(row.project, progress(done, tasks.len() as u64))?;
        let milestones = self.milestone_rows(id).await?;
        Ok(ProjectOverview { project, client_name, tasks, assignee_names, milestones })
    }

    /// One project, if visible (404 otherwise, same as a missing id).
    pub async fn project(&self, scope: &Scope, id: ProjectId) -> Result<Project> {
        let q = scoped_projects(scope, project::Entity::find_by_id(id.0)).ok_or(Error::NotFound)?;
        let row = q.one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let mut v = self.projects_from_rows(vec![row]).await?;
        v.pop().ok_or(Error::NotFound)
    }

    /// The names of those of `ids` that are visible in `scope`, in one query.
    pub async fn project_names(&self, scope: &Scope, ids: &[ProjectId]) -> Result<HashMap<ProjectId, String>> {
        let Some(q) = scoped_projects(scope, project::Entity::find()) else { return Ok(HashMap::new()) };
        let rows = q
            .filter(project::Column::Id.is_in(ids.iter().map(|p| p.0).collect::<Vec<_>>()))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(|p| (ProjectId(p.id), p.name)).collect())
    }

    /// Creates a project for a client.
    pub async fn create_project(&self, actor: &Actor, n: NewProject, ip: Option<&str>) -> Result<Project> {
        actor.may_manage_work()?;
        self.project_client(actor, n.client_id).await?;
        check_dates(n.start_date, n.due_date)?;
        let tx = self.write_tx().await?;
        let row = insert_project(&tx, n, Utc::now()).await?;
        let p = conv::project(row, 0)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::project(AuditAction::ProjectCreate, p.id, p.client_id, ip)
                .with_detail(serde_json::json!({ "name": p.name })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(p)
    }

    /// The client a new project is for, if the actor sees it (422 `client_id` otherwise).
    pub(crate) async fn project_client(&self, actor: &Actor, id: ClientId) -> Result<Client> {
        self.client(&actor.client_scope(), id).await.map_err(|e| match e {
            Error::NotFound => Error::invalid("client_id", "no such client"),
            e => e,
        })
    }

    /// Updates a project.
    pub async fn update_project(
        &self,
        actor: &Actor,
        id: ProjectId,
        patch: ProjectPatch,
        ip: Option<&str>,
    ) -> Result<Project> {
        let current = self.project(&actor.work_scope(), id).await?;
        actor.may_manage_work()?;
        let start = patch.start_date.unwrap_or(current.start_date);
        let due = patch.due_date.unwrap_or(current.due_date);
        check_dates(start, due)?;
        let tx = self.write_tx().await?;
        let row = project::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let mut am: project::ActiveModel = row.into();
        if let Some(v) = &patch.name {
            am.name = Set(v.clone());
        }
        if let Some(v) = &patch.description {
            am.description = Set(v.clone());
        }
        if let Some(v) = patch.status {
            am.status = Set(v.as_str().into());
        }
        am.start_date = Set(start);
        am.due_date = Set(due);
        am.updated_at = Set(Utc::now());
        let saved = am.update(&tx).await.map_err(db_err)?;
        if patch.status.is_some_and(|s| s != current.status) {
            crate::automation_fire::on_project_status(&tx, self.now(), &saved).await?;
        }
        audit::write(
            &tx,
            Some(actor),
            Entry::project(AuditAction::ProjectUpdate, id, current.client_id, ip)
                .with_detail(serde_json::json!({ "name": patch.name, "status": patch.status })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        self.project(&actor.work_scope(), id).await
    }

    // ----- tasks -----------------------------------------------------------------------------

    /// A visible project's tasks, newest first, filtered.
    pub async fn tasks(
        &self,
        scope: &Scope,
        project: ProjectId,
        filter: &TaskFilter,
        req: PageRequest,
    ) -> Result<Page<Task>> {
        // The scope is part of the query itself; only an empty answer needs telling apart
        // "no such tasks" from "no such project" (404).
        let scoped = scoped_task_condition(scope).ok_or(Error::NotFound)?;
        let mut q = task::Entity::find().filter(task::Column::ProjectId.eq(project.0)).filter(scoped);
        if let Some(s) = filter.status {
            q = q.filter(task::Column::Status.eq(s.as_str()));
        }
        if let Some(p) = filter.priority {
            q = q.filter(task::Column::Priority.eq(p.as_str()));
        }
        if let Some(a) = filter.assignee {
            q = q.filter(task::Column::AssigneeId.eq(a.0));
        }
        let rows = page_rows(&self.db, q, req, task::Column::Id, task::Column::Id).await?;
        if rows.is_empty() {
            self.visible_project_row(scope, project).await?;
        }
        let items = rows.into_iter().map(conv::task).collect::<Result<Vec<_>>>()?;
        Ok(page(items, req, |t| t.id.0))
    }

    /// Tasks assigned to `user` in the scope's projects, soonest due first (open ones unless `include_done`).
    pub async fn tasks_assigned(
        &self,
        scope: &Scope,
        user: UserId,
        include_done: bool,
        req: PageRequest,
    ) -> Result<Page<TaskInProject>> {
        let Some(cond) = scoped_task_condition(scope) else {
            return Ok(Page { items: vec![], next_cursor: None });
        };
        let mut q = task::Entity::find().filter(cond).filter(task::Column::AssigneeId.eq(user.0));
        if !include_done {
            q = q.filter(task::Column::Status.ne(TaskStatus::Done.as_str()));
        }
        let rows = page_rows(&self.db, q, req, task::Column::Id, task::Column::Id).await?;
        let pids: Vec<Uuid> = rows.iter().map(|t| t.project_id).collect();
        let projects: HashMap<Uuid, project::Model> = project::Entity::find()
            .filter(project::Column::Id.is_in(pids))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            let p = projects.get(&r.project_id).ok_or_else(|| Error::internal_msg("task without project"))?;
            items.push(TaskInProject {
                client_id: ClientId(p.client_id),
                project_name: p.name.clone(),
                task: conv::task(r)?,
            });
        }
        let mut pg = page(items, req, |t| t.task.id.0);
        pg.items.sort_by_key(|t| (t.task.due_date.is_none(), t.task.due_date));
        Ok(pg)
    }

    /// One task, if its project is visible.
    pub async fn task(&self, scope: &Scope, id: TaskId) -> Result<TaskInProject> {
        let row = task::Entity::find_by_id(id.0).one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let p = self.visible_project_row(scope, ProjectId(row.project_id)).await?;
        Ok(TaskInProject { client_id: p.client_id.into(), project_name: p.name, task: conv::task(row)? })
    }

    async fn check_task_links(
        &self,
        project: &Project,
        assignee: Option<UserId>,
        milestone: Option<MilestoneId>,
    ) -> Result<()> {
        if let Some(a) = assignee {
            let acc = crate::people::account_by_id(&self.db, a)
                .await?
                .filter(|a| a.user.active)
                .ok_or_else(|| Error::invalid("assignee_id", "no such user"))?;
            check_assignee(project.client_id, acc.user.role, acc.user.client_id)?;
        }
        if let Some(m) = milestone {
            let ok = milestone::Entity::find_by_id(m.0)
                .filter(milestone::Column::ProjectId.eq(project.id.0))
                .one(&self.db)
                .await
                .map_err(db_err)?
                .is_some();
            if !ok {
                return Err(Error::invalid("milestone_id", "no such milestone in this project"));
            }
        }
        Ok(())
    }

    /// Creates a task in a visible project.
    pub async fn create_task(&self, actor: &Actor, project: ProjectId, n: NewTask, ip: Option<&str>) -> Result<Task> {
        let p = self.project(&actor.work_scope(), project).await?;
        actor.may_manage_work()?;
        check_date("due_date", n.due_date)?;
        self.check_task_links(&p, n.assignee_id, n.milestone_id).await?;
        let now = self.now();
        let tx = self.write_tx().await?;
        let row = task::ActiveModel {
            id: Set(TaskId::new().0),
            project_id: Set(project.0),
            milestone_id: Set(n.milestone_id.map(|m| m.0)),
            title: Set(n.title),
            description: Set(n.description),
            status: Set(n.status.as_str().into()),
            priority: Set(n.priority.as_str().into()),
            due_date: Set(n.due_date),
            assignee_id: Set(n.assignee_id.map(|a| a.0)),
            created_by: Set(actor.user_id().0),
            created_at: Set(now),
            updated_at: Set(now),
            completed_at: Set((n.status == TaskStatus::Done).then_some(now)),
            pending_assignee: Set(None),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let t = conv::task(row)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::task(AuditAction::TaskCreate, t.id, p.client_id, ip)
                .with_detail(serde_json::json!({ "title": t.title })),
        )
        .await?;
        let created = self.notify_task_change(&tx, actor, p.client_id, &t, None).await?;
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::task_updated(p.client_id, t.project_id, t.id, t.status)).await;
        self.announce(created).await;
        Ok(t)
    }

    /// Updates a visible task, as far as the policy allows this actor.
    pub async fn update_task(&self, actor: &Actor, id: TaskId, patch: TaskPatch, ip: Option<&str>) -> Result<Task> {
        let current = self.task(&actor.work_scope(), id).await?;
        actor.may_update_task(current.task.assignee_id, patch.change())?;
        check_date("due_date", patch.due_date.flatten())?;
        if patch.assignee_id.is_some() || patch.milestone_id.is_some() {
            let p = self.project(&actor.work_scope(), current.task.project_id).await?;
            self.check_task_links(&p, patch.assignee_id.flatten(), patch.milestone_id.flatten()).await?;
        }
        let now = Utc::now();
        let tx = self.write_tx().await?;
        let row = task::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let mut am: task::ActiveModel = row.into();
        if let Some(v) = &patch.title {
            am.title = Set(v.clone());
        }
        if let Some(v) = &patch.description {
            am.description = Set(v.clone());
        }
        if let Some(v) = patch.status {
            am.status = Set(v.as_str().into());
            if v != current.task.status {
                am.completed_at = Set((v == TaskStatus::Done).then_some(now));
            }
        }
        if let Some(v) = patch.priority {
            am.priority = Set(v.as_str().into());
        }
        if let Some(v) = patch.due_date {
            am.due_date = Set(v);
        }
        if let Some(v) = patch.assignee_id {
            am.assignee_id = Set(v.map(|a| a.0));
        }
        if let Some(v) = patch.milestone_id {
            am.milestone_id = Set(v.map(|m| m.0));
        }
        am.updated_at = Set(now);
        let saved = am.update(&tx).await.map_err(db_err)?;
        if saved.status != current.task.status.as_str() {
            crate::automation_fire::on_task_status(&tx, self.now(), &saved).await?;
        }
        let t = conv::task(saved)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::task(AuditAction::TaskUpdate, id, current.client_id, ip).with_detail(
                serde_json::json!({ "status": patch.status, "title": patch.title, "assignee_id": patch.assignee_id }),
            ),
        )
        .await?;
        let created = self.notify_task_change(&tx, actor, current.client_id, &t, Some(&current.task)).await?;
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::task_updated(current.client_id, t.project_id, t.id, t.status)).await;
        self.announce(created).await;
        Ok(t)
    }

    /// Notifies about a created (`before` = None) or changed task: a new assignee hears they
    /// got it; on a status change the client's people (and a staff creator, when a client
    /// user made the change) hear about it.
    async fn notify_task_change<C: sea_orm::ConnectionTrait>(
        &self,
        c: &C,
        actor: &Actor,
        client: ClientId,
        t: &Task,
        before: Option<&Task>,
    ) -> Result<Created> {
        let seeing = people_seeing(c, client, false).await?;
        let target = Target::Task(t.id);
        let mut created = Created::default();
        let assigned = t.assignee_id.filter(|a| before.is_none_or(|b| b.assignee_id != Some(*a)));
        if let Some(a) = assigned.filter(|a| *a != actor.user_id()) {
            let to: Vec<&Person> = seeing.iter().filter(|p| p.id == a).collect();
            let n = Notice {
                kind: NotificationKind::TaskAssigned,
                client,
                target,
                text: format!("{} assigned “{}” to you", actor.name(), t.title),
            };
            created.extend(notify(c, &n, &to).await?);
        }
        if let Some(b) = before.filter(|b| b.status != t.status) {
            let creator = task::Entity::find_by_id(t.id.0).one(c).await.map_err(db_err)?.map(|r| r.created_by);
            let to: Vec<&Person> = seeing
                .iter()
                .filter(|p| p.id != actor.user_id() && Some(p.id) != assigned)
                .filter(|p| !p.role.is_staff() || (!actor.is_staff() && Some(p.id.0) == creator))
                .collect();
            let n = Notice {
                kind: NotificationKind::TaskStatus,
                client,
                target,
                text: format!("{} moved “{}” from {} to {}", actor.name(), t.title, b.status.label(), t.status.label()),
            };
            created.extend(notify(c, &n, &to).await?);
        }
        Ok(created)
    }

    /// Open task counts per assignee for a client's portal (staff dashboards) — not used by clients.
    pub async fn count_open_tasks(&self, scope: &Scope) -> Result<u64> {
        let Some(cond) = scoped_task_condition(scope) else {
            return Ok(0);
        };
        task::Entity::find()
            .filter(cond)
            .filter(task::Column::Status.ne(TaskStatus::Done.as_str()))
            .count(&self.db)
            .await
            .map_err(db_err)
    }
}

impl Store {
    /// The display name of a client inside `scope` (use [`Actor::identity_scope`] for one's own).
    pub async fn client_name(&self, scope: &Scope, id: ClientId) -> Result<String> {
        if !scope.allows(id) {
            return Err(Error::NotFound);
        }
        Ok(client::Entity::find_by_id(id.0).one(&self.db).await.map_err(db_err)?.map(|c| c.name).unwrap_or_default())
    }
}

impl Store {
    /// Number of projects per client, for the clients visible in `scope` (one grouped query).
    pub async fn project_counts(&self, scope: &Scope) -> Result<HashMap<ClientId, u64>> {
        let Some(q) = scoped_projects(scope, project::Entity::find()) else { return Ok(HashMap::new()) };
        let rows: Vec<(Uuid, i64)> = q
            .select_only()
            .column(project::Column::ClientId)
            .column_as(project::Column::Id.count(), "n")
            .group_by(project::Column::ClientId)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(|(c, n)| (ClientId(c), u64::try_from(n).unwrap_or(0))).collect())
    }
}
