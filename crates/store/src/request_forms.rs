//! A project's request form: the fields its tickets ask. Read by anyone who sees the project
//! (through their [`Scope`]; an invisible project is 404), defined by staff
//! ([`Actor::may_edit_request_form`]), every definition audited in its transaction. The ticket
//! code checks a ticket's answers against [`request_form`] inside its own transaction.

use atrium_core::ids::ProjectId;
use atrium_core::policy::{Actor, Scope};
use atrium_core::request_form::RequestForm;
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::audit::{self, Entry};
use crate::db::{Store, db_err};
use crate::entity::request_form as row;

impl Store {
    /// The request form of a project the scope sees (no fields when none is defined).
    pub async fn request_form(&self, scope: &Scope, project: ProjectId) -> Result<RequestForm> {
        self.visible_project_row(scope, project).await?;
        request_form(&self.db, project).await
    }

    /// Defines a visible project's request form (staff); 422 naming the field
    /// (`fields[2].options`, …). An empty list removes every field. Returns the stored form.
    pub async fn set_request_form(
        &self,
        actor: &Actor,
        project: ProjectId,
        form: RequestForm,
        ip: Option<&str>,
    ) -> Result<RequestForm> {
        let p = self.visible_project_row(&actor.work_scope(), project).await?;
        actor.may_edit_request_form()?;
        let form = form.check()?;
        let json = serde_json::to_string(&form.fields).map_err(|e| Error::internal("request form", e))?;
        let tx = self.write_tx().await?;
        let existing = row::Entity::find_by_id(project.0).one(&tx).await.map_err(db_err)?;
        let (by, now) = (actor.user_id().0, Utc::now());
        match existing {
            Some(r) => {
                let mut am: row::ActiveModel = r.into();
                am.fields = Set(json);
                am.updated_by = Set(by);
                am.updated_at = Set(now);
                am.update(&tx).await.map_err(db_err)?;
            }
            None => {
                let am = row::ActiveModel {
                    project_id: Set(project.0),
                    fields: Set(json),
                    updated_by: Set(by),
                    updated_at: Set(now),
                };
                am.insert(&tx).await.map_err(db_err)?;
            }
        }
        let keys: Vec<&str> = form.fields.iter().map(|f| f.key.as_str()).collect();
        let detail = serde_json::json!({ "fields": keys });
        audit::write(&tx, Some(actor), Entry::request_form(project, p.client_id.into(), ip).with_detail(detail))
            .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(form)
    }
}

/// The request form of `project` read on `db` (a connection or the caller's transaction),
/// without a scope: the caller has loaded the project through one.
pub(crate) async fn request_form<C: ConnectionTrait>(db: &C, project: ProjectId) -> Result<RequestForm> {
    let Some(r) = row::Entity::find_by_id(project.0).one(db).await.map_err(db_err)? else {
        return Ok(RequestForm::default());
    };
    let fields = serde_json::from_str(&r.fields).map_err(|e| Error::internal("stored request form", e))?;
    Ok(RequestForm { fields })
}
