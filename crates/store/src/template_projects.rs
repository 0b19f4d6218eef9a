//! Projects and templates meet: a project made from a template (its milestones, tasks, team
//! lead, folders, pages and request form written with the project in one transaction, every
//! date the start plus an offset) and a template saved from a project.

use std::collections::HashMap;

use atrium_core::ids::{ClientId, ProjectId, ProjectTemplateId, UserId};
use atrium_core::model::{Project, Role, TaskStatus};
use atrium_core::policy::Actor;
use atrium_core::template::{
    self, Assignee, ProjectTemplate, TemplateContent, TemplateFolder, TemplateMilestone, TemplatePage, TemplateTask,
    due, milestone_key, offset_of,
};
use atrium_core::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::conv::{self, parse};
use crate::dates::check_dates;
use crate::db::{Store, db_err};
use crate::entity::{folder, membership, milestone, project, project_member, project_page, request_form, task, user};
use crate::helpdesk_settings::service_levels;
use crate::people::account_by_id;
use crate::templates::{active_staff, of_row, template_row};
use crate::work::{NewProject, insert_project};

/// How a new project uses a template.
#[derive(Clone, Copy, Debug)]
pub struct FromTemplate {
    pub template: ProjectTemplateId,
    /// Who `project_lead` tasks go to (an active staff member; by default whoever makes the
    /// project). They join the project's team.
    pub lead: Option<UserId>,
}

/// Hands the tasks of `client`'s projects that wait for its first Client Admin to `user`, who
/// has just joined as one (in their sign-up's transaction).
pub(crate) async fn hand_over_to_client_admin<C: ConnectionTrait>(
    c: &C,
    client: ClientId,
    user: UserId,
) -> Result<u64> {
    use sea_orm::sea_query::{Expr, Query};
    let projects = Query::select()
        .column(project::Column::Id)
        .from(project::Entity)
        .and_where(project::Column::ClientId.eq(client.0))
        .to_owned();
    let r = task::Entity::update_many()
        .col_expr(task::Column::AssigneeId, Expr::value(user.0))
        .col_expr(task::Column::PendingAssignee, Expr::value(Option::<String>::None))
        .filter(task::Column::PendingAssignee.eq(PENDING_CLIENT_ADMIN))
        .filter(task::Column::AssigneeId.is_null())
        .filter(task::Column::ProjectId.in_subquery(projects))
        .exec(c)
        .await
        .map_err(db_err)?;
    Ok(r.rows_affected)
}

/// Who a template's assignees are on one new project.
struct People {
    lead: UserId,
    client_admin: Option<UserId>,
    staff: std::collections::HashSet<UserId>,
}

/// What `tasks.pending_assignee` holds for a task waiting for the client's first Client Admin.
const PENDING_CLIENT_ADMIN: &str = "client_admin";

impl People {
    /// The marker of a task for the client's admin while the client has none.
    fn pending(&self, a: Option<Assignee>) -> Option<&'static str> {
        (a == Some(Assignee::ClientAdmin) && self.client_admin.is_none()).then_some(PENDING_CLIENT_ADMIN)
    }

    fn resolve(&self, a: Option<Assignee>) -> Option<UserId> {
        match a? {
            Assignee::ProjectLead => Some(self.lead),
            Assignee::ClientAdmin => self.client_admin,
            Assignee::Person(u) => self.staff.contains(&u).then_some(u),
        }
    }
}

/// The client's first active Client Admin by name, if it has one.
async fn first_client_admin<C: ConnectionTrait>(c: &C, client: ClientId) -> Result<Option<UserId>> {
    let ids: Vec<Uuid> = membership::Entity::find()
        .filter(membership::Column::ClientId.eq(client.0))
        .filter(membership::Column::Role.eq(Role::ClientAdmin.as_str()))
        .all(c)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let first = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Name)
        .order_by_asc(user::Column::Id)
        .one(c)
        .await
        .map_err(db_err)?;
    Ok(first.map(|u| UserId(u.id)))
}

impl Store {
    /// Makes a project from a template (staff): its milestones and tasks dated from
    /// `start_date` (today in the agency's timezone when absent), its due date the latest of
    /// them unless given, its lead on the team, its folders, pages and request form. 422
    /// `template_id` for an unknown template, `lead_id` for a lead who is not active staff.
    /// Assigning the tasks sends no notices: the project is being set up.
    pub async fn create_project_from_template(
        &self,
        actor: &Actor,
        mut n: NewProject,
        from: FromTemplate,
        ip: Option<&str>,
    ) -> Result<Project> {
        actor.may_manage_work()?;
        actor.may_use_templates()?;
        self.project_client(actor, n.client_id).await?;
        let t = match template_row(&self.db, from.template).await {
            Err(Error::NotFound) => return Err(Error::invalid("template_id", "no such template")),
            r => of_row(r?)?,
        };
        let now = self.now();
        let start = match n.start_date {
            Some(d) => d,
            None => now.with_timezone(&service_levels(&self.db).await?.timezone()).date_naive(),
        };
        n.start_date = Some(start);
        n.due_date = n.due_date.or_else(|| t.content.last_date(start));
        check_dates(n.start_date, n.due_date)?;
        let lead = match from.lead {
            None => actor.user_id(),
            Some(u) => {
                let staff = account_by_id(&self.db, u).await?.filter(|a| a.user.active && a.user.role.is_staff());
                staff.map(|a| a.user.id).ok_or_else(|| Error::invalid("lead_id", "must be an active staff member"))?
            }
        };
        let tx = self.write_tx().await?;
        let p = self.project_from_template(&tx, actor, n, &t, lead, now, ip).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(p)
    }

    /// Writes a project made from template `t` on `tx` (checked by the caller): the project,
    /// its parts and its audit row. `lead` gets the lead's tasks and joins the team; the
    /// client's first Client Admin gets theirs, or the first to join does.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn project_from_template<C: ConnectionTrait>(
        &self,
        tx: &C,
        actor: &Actor,
        n: NewProject,
        t: &ProjectTemplate,
        lead: UserId,
        now: DateTime<Utc>,
        ip: Option<&str>,
    ) -> Result<Project> {
        let start = n.start_date.unwrap_or_else(|| now.date_naive());
        let people = People {
            lead,
            client_admin: first_client_admin(tx, n.client_id).await?,
            staff: active_staff(tx, &t.content).await?,
        };
        let row = insert_project(tx, n, now).await?;
        self.apply_template(tx, actor, &row, &t.content, start, &people, now).await?;
        let p = conv::project(row, 0)?;
        let detail = serde_json::json!({ "name": p.name, "template": t.name, "template_id": t.id });
        let e = Entry::project(AuditAction::ProjectCreate, p.id, p.client_id, ip).with_detail(detail);
        audit::write(tx, Some(actor), e).await?;
        Ok(p)
    }

    /// Writes a template's parts into a new project on `tx`.
    #[allow(clippy::too_many_arguments)]
    async fn apply_template<C: ConnectionTrait>(
        &self,
        tx: &C,
        actor: &Actor,
        p: &project::Model,
        c: &TemplateContent,
        start: NaiveDate,
        people: &People,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut milestones = HashMap::new();
        for (i, m) in c.milestones.iter().enumerate() {
            let id = atrium_core::ids::MilestoneId::new().0;
            milestone::ActiveModel {
                id: Set(id),
                project_id: Set(p.id),
                name: Set(m.name.clone()),
                due_date: Set(due(start, m.offset_days)),
                completed_at: Set(None),
                position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
                created_at: Set(now),
            }
            .insert(tx)
            .await
            .map_err(db_err)?;
            milestones.insert(m.key.as_str(), id);
        }
        for t in &c.tasks {
            task::ActiveModel {
                id: Set(atrium_core::ids::TaskId::new().0),
                project_id: Set(p.id),
                milestone_id: Set(t.milestone.as_deref().and_then(|k| milestones.get(k).copied())),
                title: Set(t.title.clone()),
                description: Set(t.description.clone()),
                status: Set(TaskStatus::Todo.as_str().into()),
                priority: Set(t.priority.as_str().into()),
                due_date: Set(t.offset_days.and_then(|d| due(start, d))),
                assignee_id: Set(people.resolve(t.assignee).map(|u| u.0)),
                created_by: Set(actor.user_id().0),
                created_at: Set(now),
                updated_at: Set(now),
                completed_at: Set(None),
                pending_assignee: Set(people.pending(t.assignee).map(Into::into)),
            }
            .insert(tx)
            .await
            .map_err(db_err)?;
        }
        project_member::ActiveModel {
            id: Set(Uuid::now_v7()),
            project_id: Set(p.id),
            user_id: Set(people.lead.0),
            created_at: Set(now),
        }
        .insert(tx)
        .await
        .map_err(db_err)?;
        if !c.folders.is_empty() {
            let root = self.root_folder(tx, actor, p).await?;
            for f in &c.folders {
                folder::ActiveModel {
                    id: Set(atrium_core::ids::FolderId::new().0),
                    project_id: Set(p.id),
                    parent_id: Set(Some(root.id)),
                    name: Set(f.name.clone()),
                    staff_only: Set(f.staff_only),
                    created_by: Set(actor.user_id().0),
                    created_at: Set(now),
                }
                .insert(tx)
                .await
                .map_err(db_err)?;
            }
        }
        for (i, pg) in c.pages.iter().enumerate() {
            project_page::ActiveModel {
                id: Set(atrium_core::ids::ProjectPageId::new().0),
                project_id: Set(p.id),
                title: Set(pg.title.clone()),
                kind: Set(pg.kind.as_str().into()),
                body: Set(pg.body.clone()),
                url: Set(pg.url.clone()),
                staff_only: Set(pg.staff_only),
                position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(tx)
            .await
            .map_err(db_err)?;
        }
        if !c.request_form.is_empty() {
            let fields =
                serde_json::to_string(&c.request_form.fields).map_err(|e| Error::internal("request form", e))?;
            request_form::ActiveModel {
                project_id: Set(p.id),
                fields: Set(fields),
                updated_by: Set(actor.user_id().0),
                updated_at: Set(now),
            }
            .insert(tx)
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }

    /// Saves a visible project as a new template named `name` (staff): its milestones, tasks
    /// (dates as offsets from the project's start, or from the day it was made), the folders at
    /// the top of its files, its pages and its request form. A task's staff assignee stays
    /// that person and a Client Admin becomes `client_admin`; other client users are left out
    /// (a template serves every client).
    pub async fn template_from_project(
        &self,
        actor: &Actor,
        project: ProjectId,
        name: &str,
        ip: Option<&str>,
    ) -> Result<ProjectTemplate> {
        let p = self.visible_project_row(&actor.work_scope(), project).await?;
        actor.may_use_templates()?;
        let name = template::name(name)?;
        let base = p.start_date.unwrap_or_else(|| p.created_at.date_naive());
        let content = content_of(&self.db, &p, base).await?;
        let content = content.check()?;
        let description = format!("Saved from the project “{}”.", p.name);
        let description: String = description.chars().take(template::DESCRIPTION_MAX).collect();
        let detail = serde_json::json!({ "from_project": project });
        self.insert_template(actor, name, description, &content, detail, ip).await
    }
}

/// What a template made from project `p` holds, dates counted from `base`.
async fn content_of<C: ConnectionTrait>(c: &C, p: &project::Model, base: NaiveDate) -> Result<TemplateContent> {
    let ms = milestone::Entity::find()
        .filter(milestone::Column::ProjectId.eq(p.id))
        .order_by_asc(milestone::Column::Position)
        .order_by_asc(milestone::Column::Id)
        .all(c)
        .await
        .map_err(db_err)?;
    let keys: HashMap<Uuid, String> = ms.iter().enumerate().map(|(i, m)| (m.id, milestone_key(i))).collect();
    let milestones = ms
        .iter()
        .enumerate()
        .map(|(i, m)| TemplateMilestone {
            key: milestone_key(i),
            name: m.name.clone(),
            offset_days: m.due_date.map_or(0, |d| offset_of(base, d)),
        })
        .collect();
    let rows = task::Entity::find()
        .filter(task::Column::ProjectId.eq(p.id))
        .order_by_asc(task::Column::CreatedAt)
        .order_by_asc(task::Column::Id)
        .all(c)
        .await
        .map_err(db_err)?;
    let mut assignees: HashMap<Uuid, Option<Assignee>> = HashMap::new();
    let mut tasks = Vec::with_capacity(rows.len());
    for t in rows {
        let assignee = match t.assignee_id {
            None => None,
            Some(a) => match assignees.get(&a) {
                Some(known) => *known,
                None => {
                    let kind =
                        account_by_id(c, UserId(a)).await?.filter(|acc| acc.user.active).and_then(|acc| {
                            match acc.user.role {
                                r if r.is_staff() => Some(Assignee::Person(acc.user.id)),
                                Role::ClientAdmin => Some(Assignee::ClientAdmin),
                                _ => None,
                            }
                        });
                    assignees.insert(a, kind);
                    kind
                }
            },
        };
        tasks.push(TemplateTask {
            title: t.title,
            description: t.description,
            priority: parse("task priority", &t.priority)?,
            offset_days: t.due_date.map(|d| offset_of(base, d)),
            milestone: t.milestone_id.and_then(|m| keys.get(&m).cloned()),
            assignee,
        });
    }
    // Two top folders may share a name (in any case); the template keeps the older.
    let mut seen = std::collections::HashSet::new();
    let folders = folder::Entity::find()
        .filter(folder::Column::ProjectId.eq(p.id))
        .filter(folder::Column::ParentId.eq(p.id))
        .order_by_asc(folder::Column::CreatedAt)
        .order_by_asc(folder::Column::Id)
        .all(c)
        .await
        .map_err(db_err)?
        .into_iter()
        .filter(|f| seen.insert(f.name.to_lowercase()))
        .map(|f| TemplateFolder { name: f.name, staff_only: f.staff_only })
        .collect();
    let pages = project_page::Entity::find()
        .filter(project_page::Column::ProjectId.eq(p.id))
        .order_by_asc(project_page::Column::Position)
        .order_by_asc(project_page::Column::Id)
        .all(c)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(|pg| {
            Ok(TemplatePage {
                title: pg.title,
                kind: parse("page kind", &pg.kind)?,
                body: pg.body,
                url: pg.url,
                staff_only: pg.staff_only,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let request_form = crate::request_forms::request_form(c, ProjectId(p.id)).await?;
    Ok(TemplateContent { milestones, tasks, folders, pages, request_form })
}
