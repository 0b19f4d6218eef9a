//! A project's milestones: listed through the policy [`Scope`], created and completed by the
//! [`Actor`] after the policy agrees, every change audited.

use atrium_core::ids::{MilestoneId, ProjectId};
use atrium_core::model::Milestone;
use atrium_core::policy::{Actor, Scope};
use atrium_core::{Error, Result};
use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::conv;
use crate::dates::check_date;
use crate::db::{Store, db_err};
use crate::entity::milestone;

impl Store {
    /// A visible project's milestones, in timeline order.
    pub async fn milestones(&self, scope: &Scope, project: ProjectId) -> Result<Vec<Milestone>> {
        self.visible_project_row(scope, project).await?;
        self.milestone_rows(project).await
    }

    pub(crate) async fn milestone_rows(&self, project: ProjectId) -> Result<Vec<Milestone>> {
        let rows = milestone::Entity::find()
            .filter(milestone::Column::ProjectId.eq(project.0))
            .order_by_asc(milestone::Column::DueDate)
            .order_by_asc(milestone::Column::Position)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(conv::milestone).collect())
    }

    /// Adds a milestone to a project.
    pub async fn create_milestone(
        &self,
        actor: &Actor,
        project: ProjectId,
        name: String,
        due_date: Option<NaiveDate>,
        ip: Option<&str>,
    ) -> Result<Milestone> {
        let p = self.project(&actor.work_scope(), project).await?;
        actor.may_manage_work()?;
        check_date("due_date", due_date)?;
        let tx = self.write_tx().await?;
        let position = milestone::Entity::find()
            .filter(milestone::Column::ProjectId.eq(project.0))
            .count(&tx)
            .await
            .map_err(db_err)?;
        let row = milestone::ActiveModel {
            id: Set(MilestoneId::new().0),
            project_id: Set(project.0),
            name: Set(name),
            due_date: Set(due_date),
            completed_at: Set(None),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            created_at: Set(Utc::now()),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let m = conv::milestone(row);
        audit::write(
            &tx,
            Some(actor),
            Entry::milestone(AuditAction::MilestoneCreate, m.id, p.client_id, ip)
                .with_detail(serde_json::json!({ "name": m.name })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(m)
    }

    /// Marks a milestone complete or not; returns it.
    pub async fn set_milestone_done(
        &self,
        actor: &Actor,
        id: MilestoneId,
        done: bool,
        ip: Option<&str>,
    ) -> Result<Milestone> {
        let row = milestone::Entity::find_by_id(id.0).one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let p = self.visible_project_row(&actor.work_scope(), ProjectId(row.project_id)).await?;
        actor.may_manage_work()?;
        let tx = self.write_tx().await?;
        let mut am: milestone::ActiveModel = row.into();
        am.completed_at = Set(done.then(Utc::now));
        let m = am.update(&tx).await.map_err(db_err)?;
        if done {
            crate::automation_fire::on_milestone_reached(&tx, self.now(), &m).await?;
        }
        audit::write(
            &tx,
            Some(actor),
            Entry::milestone(AuditAction::MilestoneUpdate, id, p.client_id.into(), ip)
                .with_detail(serde_json::json!({ "done": done })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(conv::milestone(m))
    }
}
