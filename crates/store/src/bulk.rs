//! Loading a whole data set at once (the `demo` command and benchmark data): typed rows,
//! inserted in batches inside one transaction so a failed load leaves nothing behind.

use atrium_core::ids::{ClientId, CommentId, MilestoneId, ProjectId, TaskId, UserId};
use atrium_core::model::{ClientStatus, Priority, ProjectStatus, Role, TaskStatus, Visibility};
use atrium_core::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Set};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::db::db_err;
use crate::entity::{client, comment, membership, milestone, project, task, user};
use crate::system::Operator;

/// Rows per INSERT statement: keeps every statement well under SQLite's and PostgreSQL's
/// bound-parameter limits (13 columns × 500 rows = 6,500 parameters).
const BATCH: usize = 500;

/// A client company to load.
#[derive(Clone, Debug)]
pub struct BulkClient {
    pub id: ClientId,
    pub name: String,
}

/// A user to load; client roles need `client_id`, staff roles must not have one.
#[derive(Clone, Debug)]
pub struct BulkUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
    /// An argon2id PHC string (may be shared by many demo users).
    pub password_hash: Option<String>,
    pub role: Role,
    pub client_id: Option<ClientId>,
}

/// A project to load.
#[derive(Clone, Debug)]
pub struct BulkProject {
    pub id: ProjectId,
    pub client_id: ClientId,
    pub name: String,
    pub description: String,
    pub status: ProjectStatus,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
}

/// A milestone to load.
#[derive(Clone, Debug)]
pub struct BulkMilestone {
    pub id: MilestoneId,
    pub project_id: ProjectId,
    pub name: String,
    pub due_date: Option<NaiveDate>,
    pub done: bool,
    pub position: i32,
}

/// A task to load.
#[derive(Clone, Debug)]
pub struct BulkTask {
    pub id: TaskId,
    pub project_id: ProjectId,
    pub milestone_id: Option<MilestoneId>,
    pub title: String,
    pub description: String,
    pub status: TaskStatus,
    pub priority: Priority,
    pub due_date: Option<NaiveDate>,
    pub assignee_id: Option<UserId>,
    pub created_by: UserId,
}

/// A comment to load.
#[derive(Clone, Debug)]
pub struct BulkComment {
    pub id: CommentId,
    pub task_id: TaskId,
    pub author_id: UserId,
    pub body: String,
    pub visibility: Visibility,
    pub created_at: DateTime<Utc>,
}

/// Everything to load, in dependency order.
#[derive(Clone, Debug, Default)]
pub struct Bulk {
    pub clients: Vec<BulkClient>,
    pub users: Vec<BulkUser>,
    pub projects: Vec<BulkProject>,
    pub milestones: Vec<BulkMilestone>,
    pub tasks: Vec<BulkTask>,
    pub comments: Vec<BulkComment>,
}

async fn insert_batched<C, E, A>(c: &C, rows: Vec<A>) -> Result<()>
where
    C: ConnectionTrait,
    E: EntityTrait<ActiveModel = A>,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(BATCH).collect();
        E::insert_many(chunk).exec_without_returning(c).await.map_err(db_err)?;
    }
    Ok(())
}

impl Operator<'_> {
    /// Whether no user exists yet (a fresh installation).
    pub async fn has_no_users(self) -> Result<bool> {
        Ok(user::Entity::find().count(&self.store.db).await.map_err(db_err)? == 0)
    }

    /// Loads `data` in one transaction; refuses unless the database has no users yet, so it can
    /// never mix invented data into a real installation.
    pub async fn load_bulk(self, data: Bulk) -> Result<()> {
        for u in &data.users {
            if u.role.is_staff() == u.client_id.is_some() {
                return Err(Error::invalid("client_id", "is required for client roles and forbidden for staff roles"));
            }
        }
        let tx = self.store.write_tx().await?;
        if user::Entity::find().count(&tx).await.map_err(db_err)? != 0 {
            return Err(Error::Conflict(
                "the database already has users; demo data only loads into an empty one".into(),
            ));
        }
        let now = Utc::now();
        let counts = serde_json::json!({
            "clients": data.clients.len(), "users": data.users.len(), "projects": data.projects.len(),
            "milestones": data.milestones.len(), "tasks": data.tasks.len(), "comments": data.comments.len(),
        });

        let clients = data.clients.into_iter().map(|c| client::ActiveModel {
            id: Set(c.id.0),
            name: Set(c.name),
            status: Set(ClientStatus::Active.as_str().into()),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            invitation_text: Set(None),
            portal_hidden: Set(String::new()),
            welcome_text: Set(None),
            quick_actions: Set(None),
            scheduling_url: Set(None),
        });
        insert_batched(&tx, clients.collect()).await?;

        let mut memberships = Vec::new();
        let users: Vec<_> = data
            .users
            .into_iter()
            .map(|u| {
                if let Some(client_id) = u.client_id {
                    memberships.push(membership::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        user_id: Set(u.id.0),
                        client_id: Set(client_id.0),
                        role: Set(u.role.as_str().into()),
                        created_at: Set(now),
                    });
                }
                user::ActiveModel {
                    id: Set(u.id.0),
                    email: Set(u.email.trim().to_lowercase()),
                    name: Set(u.name),
                    password_hash: Set(u.password_hash),
                    staff_role: Set(u.role.is_staff().then(|| u.role.as_str().to_string())),
                    active: Set(true),
                    password_changed_at: Set(now),
                    created_at: Set(now),
                    updated_at: Set(now),
                    title: Set(None),
                    onboarded_at: Set(None),
                    timezone: Set(None),
                }
            })
            .collect();
        insert_batched(&tx, users).await?;
        insert_batched(&tx, memberships).await?;

        let projects = data.projects.into_iter().map(|p| project::ActiveModel {
            id: Set(p.id.0),
            client_id: Set(p.client_id.0),
            name: Set(p.name),
            description: Set(p.description),
            status: Set(p.status.as_str().into()),
            start_date: Set(p.start_date),
            due_date: Set(p.due_date),
            created_at: Set(now),
            updated_at: Set(now),
        });
        insert_batched(&tx, projects.collect()).await?;

        let milestones = data.milestones.into_iter().map(|m| milestone::ActiveModel {
            id: Set(m.id.0),
            project_id: Set(m.project_id.0),
            name: Set(m.name),
            due_date: Set(m.due_date),
            completed_at: Set(m.done.then_some(now)),
            position: Set(m.position),
            created_at: Set(now),
        });
        insert_batched(&tx, milestones.collect()).await?;

        let tasks = data.tasks.into_iter().map(|t| task::ActiveModel {
            id: Set(t.id.0),
            project_id: Set(t.project_id.0),
            milestone_id: Set(t.milestone_id.map(|m| m.0)),
            title: Set(t.title),
            description: Set(t.description),
            completed_at: Set((t.status == TaskStatus::Done).then_some(now)),
            pending_assignee: Set(None),
            status: Set(t.status.as_str().into()),
            priority: Set(t.priority.as_str().into()),
            due_date: Set(t.due_date),
            assignee_id: Set(t.assignee_id.map(|u| u.0)),
            created_by: Set(t.created_by.0),
            created_at: Set(now),
            updated_at: Set(now),
        });
        insert_batched(&tx, tasks.collect()).await?;

        let comments = data.comments.into_iter().map(|c| comment::ActiveModel {
            id: Set(c.id.0),
            task_id: Set(c.task_id.0),
            author_id: Set(c.author_id.0),
            body: Set(c.body),
            visibility: Set(c.visibility.as_str().into()),
            created_at: Set(c.created_at),
        });
        insert_batched(&tx, comments.collect()).await?;

        audit::write(&tx, None, Entry::installation(AuditAction::DemoLoad).with_detail(counts)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }
}
