//! A new client and what it starts with: the agency's default portal pages, the onboarding's
//! invitation and welcome texts, and a project from each onboarding template, all in the
//! client's own transaction. The onboarding is read by staff ([`Actor::may_manage_clients`],
//! client users 404) and set by owners and admins ([`Actor::may_configure_portal`]).

use atrium_core::ids::{ClientId, ProjectTemplateId};
use atrium_core::model::{Client, ClientStatus, ProjectStatus};
use atrium_core::policy::Actor;
use atrium_core::template::Onboarding;
use atrium_core::{Error, Result};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::conv;
use crate::db::{Store, db_err};
use crate::entity::{client, client_onboarding as row};
use crate::helpdesk_settings::service_levels;
use crate::templates::{of_row, template_row};
use crate::work::NewProject;

/// The one row's id.
const ROW: &str = "default";

/// The onboarding as stored (the default when never set).
async fn stored<C: ConnectionTrait>(c: &C) -> Result<Onboarding> {
    let Some(r) = row::Entity::find_by_id(ROW).one(c).await.map_err(db_err)? else {
        return Ok(Onboarding::default());
    };
    let project_templates: Vec<ProjectTemplateId> =
        serde_json::from_str(&r.project_templates).map_err(|e| Error::internal("stored onboarding", e))?;
    Ok(Onboarding { invitation_text: r.invitation_text, welcome_text: r.welcome_text, project_templates })
}

impl Store {
    /// What new clients start with (staff; client users 404). Templates deleted since are
    /// left out.
    pub async fn onboarding(&self, actor: &Actor) -> Result<Onboarding> {
        actor.may_manage_clients()?;
        let mut o = stored(&self.db).await?;
        let mut live = Vec::with_capacity(o.project_templates.len());
        for t in o.project_templates {
            match template_row(&self.db, t).await {
                Ok(_) => live.push(t),
                Err(Error::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        o.project_templates = live;
        Ok(o)
    }

    /// Sets what new clients start with (owners and admins; other staff 403); 422 naming
    /// `invitation_text`, `welcome_text` or `project_templates[i]` (an unknown template).
    /// Existing clients keep what they have.
    pub async fn set_onboarding(&self, actor: &Actor, o: Onboarding, ip: Option<&str>) -> Result<Onboarding> {
        actor.may_configure_portal()?;
        let o = o.check()?;
        let tx = self.write_tx().await?;
        for (i, t) in o.project_templates.iter().enumerate() {
            match template_row(&tx, *t).await {
                Ok(_) => {}
                Err(Error::NotFound) => {
                    return Err(Error::invalid(format!("project_templates[{i}]"), "no such template"));
                }
                Err(e) => return Err(e),
            }
        }
        let json = serde_json::to_string(&o.project_templates).map_err(|e| Error::internal("onboarding", e))?;
        let am = row::ActiveModel {
            id: Set(ROW.into()),
            invitation_text: Set(o.invitation_text.clone()),
            welcome_text: Set(o.welcome_text.clone()),
            project_templates: Set(json),
            updated_by: Set(Some(actor.user_id().0)),
            updated_at: Set(self.now()),
        };
        row::Entity::insert(am)
            .on_conflict(
                OnConflict::column(row::Column::Id)
                    .update_columns([
                        row::Column::InvitationText,
                        row::Column::WelcomeText,
                        row::Column::ProjectTemplates,
                        row::Column::UpdatedBy,
                        row::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&tx)
            .await
            .map_err(db_err)?;
        let detail = serde_json::json!({ "project_templates": o.project_templates });
        audit::write(&tx, Some(actor), Entry::onboarding(ip).with_detail(detail)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(o)
    }

    /// Creates a client (staff): its portal starts with the agency's default pages, its
    /// invitation and welcome texts with the onboarding's, and it gets a project from each
    /// onboarding template (named after it, starting today in the agency's timezone, led by
    /// the actor), all in one transaction.
    pub async fn create_client(&self, actor: &Actor, name: String, ip: Option<&str>) -> Result<Client> {
        actor.may_manage_clients()?;
        let now = self.now();
        let tx = self.write_tx().await?;
        let pages = crate::portal::default_pages(&tx).await?;
        let onboarding = stored(&tx).await?;
        let r = client::ActiveModel {
            id: Set(ClientId::new().0),
            name: Set(name),
            status: Set(ClientStatus::Active.as_str().into()),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            invitation_text: Set(onboarding.invitation_text),
            portal_hidden: Set(pages.to_stored()),
            welcome_text: Set(onboarding.welcome_text),
            quick_actions: Set(None),
            scheduling_url: Set(None),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let c = conv::client(r)?;
        let detail = serde_json::json!({ "name": c.name });
        audit::write(&tx, Some(actor), Entry::client(AuditAction::ClientCreate, c.id, ip).with_detail(detail)).await?;
        let today = now.with_timezone(&service_levels(&tx).await?.timezone()).date_naive();
        for id in onboarding.project_templates {
            // A template deleted since the onboarding was set is skipped.
            let t = match template_row(&tx, id).await {
                Ok(t) => of_row(t)?,
                Err(Error::NotFound) => continue,
                Err(e) => return Err(e),
            };
            let n = NewProject {
                client_id: c.id,
                name: t.name.clone(),
                description: String::new(),
                status: ProjectStatus::Active,
                start_date: Some(today),
                due_date: t.content.last_date(today),
            };
            self.project_from_template(&tx, actor, n, &t, actor.user_id(), now, ip).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(c)
    }
}
