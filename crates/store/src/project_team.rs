//! A project's team: the staff working on it, chosen by staff, shown (names and job titles) to
//! everyone who sees the project.

use std::collections::HashSet;

use atrium_core::ids::{ProjectId, UserId};
use atrium_core::policy::{Actor, Scope, check_team_member};
use atrium_core::project_page::{TEAM_MAX, TeamMember};
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::{project_member, user};
use crate::people::account_by_id;

/// The ids of the people on `project`'s team (unscoped: for deciding who is told of something
/// on it).
pub(crate) async fn team_ids<C: ConnectionTrait>(c: &C, project: ProjectId) -> Result<Vec<UserId>> {
    let rows = project_member::Entity::find()
        .filter(project_member::Column::ProjectId.eq(project.0))
        .all(c)
        .await
        .map_err(db_err)?;
    Ok(rows.into_iter().map(|m| UserId(m.user_id)).collect())
}

impl Store {
    /// The active staff on a visible project's team, by name.
    pub async fn project_team(&self, scope: &Scope, project: ProjectId) -> Result<Vec<TeamMember>> {
        self.visible_project_row(scope, project).await?;
        let ids: Vec<Uuid> = team_ids(&self.db, project).await?.into_iter().map(|u| u.0).collect();
        let rows = user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .filter(user::Column::StaffRole.is_not_null())
            .filter(user::Column::Active.eq(true))
            .order_by_asc(user::Column::Name)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|u| TeamMember { id: u.id.into(), name: u.name, title: u.title.unwrap_or_default() })
            .collect())
    }

    /// Replaces a visible project's team (staff). Every id must be an active staff user (else
    /// 422 `user_ids`); duplicates count once. Returns the new team.
    pub async fn set_project_team(
        &self,
        actor: &Actor,
        project: ProjectId,
        user_ids: Vec<UserId>,
        ip: Option<&str>,
    ) -> Result<Vec<TeamMember>> {
        let p = self.visible_project_row(&actor.work_scope(), project).await?;
        actor.may_set_project_team()?;
        let mut seen = HashSet::new();
        let ids: Vec<UserId> = user_ids.into_iter().filter(|u| seen.insert(*u)).collect();
        if ids.len() > TEAM_MAX {
            return Err(Error::invalid("user_ids", format!("a team has at most {TEAM_MAX} people")));
        }
        for id in &ids {
            match account_by_id(&self.db, *id).await? {
                Some(a) if a.user.active => check_team_member(a.user.role)?,
                _ => return Err(Error::invalid("user_ids", "no such active user")),
            }
        }
        let tx = self.write_tx().await?;
        project_member::Entity::delete_many()
            .filter(project_member::Column::ProjectId.eq(project.0))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let now = Utc::now();
        for id in &ids {
            project_member::ActiveModel {
                id: Set(Uuid::now_v7()),
                project_id: Set(project.0),
                user_id: Set(id.0),
                created_at: Set(now),
            }
            .insert(&tx)
            .await
            .map_err(db_err)?;
        }
        audit::write(
            &tx,
            Some(actor),
            Entry::project(AuditAction::ProjectTeamSet, project, p.client_id.into(), ip)
                .with_detail(serde_json::json!({ "user_ids": ids })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        self.project_team(&actor.work_scope(), project).await
    }
}
