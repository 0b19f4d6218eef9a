//! The agency's library of project templates: one library shared by all staff (any of them
//! adds, edits, copies and deletes; [`Actor::may_use_templates`], so client users get 404),
//! every change audited in its transaction. Making a project from one and saving a project as
//! one is `template_projects`.

use atrium_core::ids::{ProjectTemplateId, UserId};
use atrium_core::policy::{Actor, check_template_assignee};
use atrium_core::template::{
    self, LIBRARY_MAX, ProjectTemplate, TemplateContent, TemplateFolder, TemplateMilestone, TemplatePage, TemplateTask,
};
use atrium_core::validate::TITLE_MAX;
use atrium_core::{Error, Result};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::project_template as row;
use crate::people::account_by_id;

/// A new template: name, description (both as sent; checked here) and content.
#[derive(Clone, Debug, Default)]
pub struct NewTemplate {
    pub name: String,
    pub description: String,
    pub content: TemplateContent,
}

/// A change to a template: each part given replaces that part.
#[derive(Clone, Debug, Default)]
pub struct TemplatePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub milestones: Option<Vec<TemplateMilestone>>,
    pub tasks: Option<Vec<TemplateTask>>,
    pub folders: Option<Vec<TemplateFolder>>,
    pub pages: Option<Vec<TemplatePage>>,
    pub request_form: Option<atrium_core::request_form::RequestForm>,
}

pub(crate) fn of_row(r: row::Model) -> Result<ProjectTemplate> {
    let content = serde_json::from_str(&r.content).map_err(|e| Error::internal("stored project template", e))?;
    Ok(ProjectTemplate {
        id: r.id.into(),
        name: r.name,
        description: r.description,
        content,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn to_json(c: &TemplateContent) -> Result<String> {
    serde_json::to_string(c).map_err(|e| Error::internal("project template", e))
}

/// `content` checked, with every person it names an active staff member (422
/// `tasks[i].assignee` otherwise).
async fn checked<C: ConnectionTrait>(c: &C, content: TemplateContent) -> Result<TemplateContent> {
    let content = content.check()?;
    for (i, person) in content.people() {
        let field = format!("tasks[{i}].assignee");
        let acc = account_by_id(c, person)
            .await?
            .filter(|a| a.user.active)
            .ok_or_else(|| Error::invalid(field.clone(), "no such user"))?;
        check_template_assignee(field, acc.user.role)?;
    }
    Ok(content)
}

/// "Copy of <name>", cut to the longest name.
fn copy_name(name: &str) -> String {
    format!("Copy of {name}").chars().take(TITLE_MAX).collect()
}

impl Store {
    /// Every template, by name (staff; client users 404).
    pub async fn project_templates(&self, actor: &Actor) -> Result<Vec<ProjectTemplate>> {
        actor.may_use_templates()?;
        let rows = row::Entity::find()
            .order_by_asc(row::Column::Name)
            .order_by_asc(row::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        rows.into_iter().map(of_row).collect()
    }

    /// One template (staff).
    pub async fn project_template(&self, actor: &Actor, id: ProjectTemplateId) -> Result<ProjectTemplate> {
        actor.may_use_templates()?;
        template_row(&self.db, id).await.and_then(of_row)
    }

    /// Adds a template (staff); 422 naming the field for a bad value.
    pub async fn create_project_template(
        &self,
        actor: &Actor,
        n: NewTemplate,
        ip: Option<&str>,
    ) -> Result<ProjectTemplate> {
        actor.may_use_templates()?;
        let (name, description) = (template::name(&n.name)?, template::description(&n.description)?);
        let content = checked(&self.db, n.content).await?;
        self.insert_template(actor, name, description, &content, serde_json::json!({}), ip).await
    }

    /// Writes a checked template and its audit row in one transaction (at most
    /// [`LIBRARY_MAX`] in the library: 422 `name` beyond).
    pub(crate) async fn insert_template(
        &self,
        actor: &Actor,
        name: String,
        description: String,
        content: &TemplateContent,
        detail: serde_json::Value,
        ip: Option<&str>,
    ) -> Result<ProjectTemplate> {
        let json = to_json(content)?;
        let tx = self.write_tx().await?;
        if row::Entity::find().count(&tx).await.map_err(db_err)? >= LIBRARY_MAX as u64 {
            return Err(Error::invalid("name", format!("the library holds at most {LIBRARY_MAX} templates")));
        }
        let (id, now, by) = (ProjectTemplateId::new(), self.now(), actor.user_id().0);
        let saved = row::ActiveModel {
            id: Set(id.0),
            name: Set(name),
            description: Set(description),
            content: Set(json),
            created_by: Set(Some(by)),
            updated_by: Set(Some(by)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let mut detail = detail;
        if let Some(d) = detail.as_object_mut() {
            d.insert("name".into(), saved.name.clone().into());
        }
        let e = Entry::project_template(AuditAction::ProjectTemplateCreate, id, ip).with_detail(detail);
        audit::write(&tx, Some(actor), e).await?;
        tx.commit().await.map_err(db_err)?;
        of_row(saved)
    }

    /// Changes a template (staff): each part given replaces that part, and the whole is
    /// checked again.
    pub async fn update_project_template(
        &self,
        actor: &Actor,
        id: ProjectTemplateId,
        p: TemplatePatch,
        ip: Option<&str>,
    ) -> Result<ProjectTemplate> {
        actor.may_use_templates()?;
        let name = p.name.as_deref().map(template::name).transpose()?;
        let description = p.description.as_deref().map(template::description).transpose()?;
        let current = of_row(template_row(&self.db, id).await?)?;
        let mut changed = Vec::new();
        let mut content = current.content;
        if let Some(v) = p.milestones {
            content.milestones = v;
            changed.push("milestones");
        }
        if let Some(v) = p.tasks {
            content.tasks = v;
            changed.push("tasks");
        }
        if let Some(v) = p.folders {
            content.folders = v;
            changed.push("folders");
        }
        if let Some(v) = p.pages {
            content.pages = v;
            changed.push("pages");
        }
        if let Some(v) = p.request_form {
            content.request_form = v;
            changed.push("request_form");
        }
        let content = checked(&self.db, content).await?;
        let tx = self.write_tx().await?;
        let r = template_row(&tx, id).await?;
        let mut am: row::ActiveModel = r.into();
        if let Some(n) = name {
            am.name = Set(n);
            changed.push("name");
        }
        if let Some(d) = description {
            am.description = Set(d);
            changed.push("description");
        }
        am.content = Set(to_json(&content)?);
        am.updated_by = Set(Some(actor.user_id().0));
        am.updated_at = Set(self.now());
        let saved = am.update(&tx).await.map_err(db_err)?;
        let detail = serde_json::json!({ "name": saved.name, "changed": changed });
        let e = Entry::project_template(AuditAction::ProjectTemplateUpdate, id, ip).with_detail(detail);
        audit::write(&tx, Some(actor), e).await?;
        tx.commit().await.map_err(db_err)?;
        of_row(saved)
    }

    /// Adds a copy of a template (staff), named `name` or "Copy of …". A person it names who
    /// is no longer active staff is dropped from the copy's tasks rather than refusing it.
    pub async fn copy_project_template(
        &self,
        actor: &Actor,
        id: ProjectTemplateId,
        name: Option<&str>,
        ip: Option<&str>,
    ) -> Result<ProjectTemplate> {
        actor.may_use_templates()?;
        let source = of_row(template_row(&self.db, id).await?)?;
        let name = match name {
            Some(n) => template::name(n)?,
            None => copy_name(&source.name),
        };
        let mut content = source.content;
        let active = active_staff(&self.db, &content).await?;
        for t in &mut content.tasks {
            if let Some(template::Assignee::Person(u)) = t.assignee
                && !active.contains(&u)
            {
                t.assignee = None;
            }
        }
        let content = checked(&self.db, content).await?;
        let detail = serde_json::json!({ "copied_from": id });
        self.insert_template(actor, name, source.description, &content, detail, ip).await
    }

    /// Deletes a template (staff). Projects made from it keep what they were given.
    pub async fn delete_project_template(&self, actor: &Actor, id: ProjectTemplateId, ip: Option<&str>) -> Result<()> {
        actor.may_use_templates()?;
        let tx = self.write_tx().await?;
        let r = template_row(&tx, id).await?;
        row::Entity::delete_by_id(r.id).exec(&tx).await.map_err(db_err)?;
        let detail = serde_json::json!({ "name": r.name });
        let e = Entry::project_template(AuditAction::ProjectTemplateDelete, id, ip).with_detail(detail);
        audit::write(&tx, Some(actor), e).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }
}

pub(crate) async fn template_row<C: ConnectionTrait>(c: &C, id: ProjectTemplateId) -> Result<row::Model> {
    row::Entity::find_by_id(id.0).one(c).await.map_err(db_err)?.ok_or(Error::NotFound)
}

/// The people `content` names who are active staff now.
pub(crate) async fn active_staff<C: ConnectionTrait>(
    c: &C,
    content: &TemplateContent,
) -> Result<std::collections::HashSet<UserId>> {
    let mut out = std::collections::HashSet::new();
    for (_, person) in content.people() {
        if let Some(acc) = account_by_id(c, person).await?
            && acc.user.active
            && acc.user.role.is_staff()
        {
            out.insert(person);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_named_after_its_source_within_the_limit() {
        assert_eq!(copy_name("Website"), "Copy of Website");
        assert_eq!(copy_name(&"x".repeat(TITLE_MAX)).chars().count(), TITLE_MAX);
    }
}
