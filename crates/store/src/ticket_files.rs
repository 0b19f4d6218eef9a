//! A ticket's attachments: files of its project, uploaded with the request (recorded in the
//! ticket's own transaction, so a refused request leaves no file behind) or chosen from the
//! project's files, linked in `ticket_files`; the request form's file answers likewise.

use atrium_core::ids::{FileId, ProjectId, TicketId};
use atrium_core::model::File;
use atrium_core::policy::Actor;
use atrium_core::request_form::FieldType;
use atrium_core::{Error, Result};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::db::{Store, db_err};
use crate::entity::{file, ticket, ticket_file};
use crate::files::{AfterUpload, UploadTarget, UploadedBlob, insert_upload};
use crate::ticket_rows::ticket_condition;

/// The most files one ticket has attached when it is opened.
pub const ATTACHMENTS_MAX: usize = 10;

/// Where a file sent with a new ticket goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadSlot {
    /// The answer to the request form's file field with this key.
    Field(String),
    /// An attachment of the ticket.
    Attachment,
}

/// A file sent with a new ticket, its bytes already stored within the limits.
#[derive(Clone, Debug)]
pub struct TicketUpload {
    pub slot: UploadSlot,
    pub name: String,
    pub blob: UploadedBlob,
}

/// The files a new ticket brings: uploads into `target` (its project's root folder, found by
/// [`Store::upload_target`], which checks the right to upload) and existing files of its
/// project.
#[derive(Clone, Debug, Default)]
pub struct TicketFiles {
    pub target: Option<UploadTarget>,
    pub uploads: Vec<TicketUpload>,
    pub existing: Vec<FileId>,
}

impl TicketFiles {
    fn is_empty(&self) -> bool {
        self.uploads.is_empty() && self.existing.is_empty()
    }

    /// Checks what can be checked before the ticket's transaction: the count, a project, a
    /// target in it, and that each existing file is a visible file of that project.
    pub(crate) async fn check(&self, store: &Store, actor: &Actor, project: Option<ProjectId>) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let attached = self.existing.len() + self.uploads.iter().filter(|u| u.slot == UploadSlot::Attachment).count();
        if attached > ATTACHMENTS_MAX {
            return Err(Error::invalid("attachments", format!("at most {ATTACHMENTS_MAX} files")));
        }
        let Some(project) = project else {
            return Err(Error::invalid("attachments", "choose the project the files belong to"));
        };
        if !self.uploads.is_empty() && self.target.as_ref().is_none_or(|t| t.project_id != project) {
            return Err(Error::invalid("attachments", "the files must go into the ticket's project"));
        }
        for id in &self.existing {
            let visible = store.file(actor, *id).await.is_ok_and(|f| f.project_id == project);
            if !visible {
                return Err(Error::invalid("attachment_ids", format!("{id} is not a file of this project")));
            }
        }
        Ok(())
    }

    /// Records the uploads in the caller's transaction `c`: file answers go into `fields`, the
    /// rest (and the existing files) are returned to be linked once the ticket exists.
    pub(crate) async fn record<C: ConnectionTrait>(
        self,
        c: &C,
        actor: &Actor,
        fields: &mut serde_json::Map<String, serde_json::Value>,
        ip: Option<&str>,
    ) -> Result<(Vec<FileId>, AfterUpload)> {
        let mut attached = self.existing;
        let mut after = AfterUpload::default();
        if let Some(target) = &self.target {
            let form = crate::request_forms::request_form(c, target.project_id).await?;
            for u in &self.uploads {
                if let UploadSlot::Field(key) = &u.slot {
                    let is_file = form.fields.iter().any(|f| &f.key == key && f.kind == FieldType::File);
                    if !is_file {
                        return Err(Error::invalid(format!("fields.{key}"), "is not a file field of this form"));
                    }
                }
            }
            for u in self.uploads {
                let (f, a) = insert_upload(c, actor, target, &u.name, u.blob, ip).await?;
                after.extend(a);
                match u.slot {
                    UploadSlot::Field(key) => {
                        fields.insert(key, serde_json::Value::String(f.id.to_string()));
                    }
                    UploadSlot::Attachment => attached.push(f.id),
                }
            }
        }
        attached.dedup();
        Ok((attached, after))
    }
}

/// Links `files` to `ticket` in the caller's transaction.
pub(crate) async fn link<C: ConnectionTrait>(c: &C, ticket: TicketId, files: &[FileId]) -> Result<()> {
    let now = chrono::Utc::now();
    for f in files {
        ticket_file::ActiveModel { ticket_id: Set(ticket.0), file_id: Set(f.0), created_at: Set(now) }
            .insert(c)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

impl Store {
    /// The live files attached to a ticket the actor sees, by name — none for someone who does
    /// not see the project's files (a finance user, a portal hiding Files); staff-only files
    /// only for staff.
    pub async fn ticket_attachments(&self, actor: &Actor, id: TicketId) -> Result<Vec<File>> {
        let cond = ticket_condition(&actor.ticket_scope()).ok_or(Error::NotFound)?;
        let t = ticket::Entity::find_by_id(id.0).filter(cond).one(&self.db).await.map_err(db_err)?;
        let t = t.ok_or(Error::NotFound)?;
        let Some(project) = t.project_id else { return Ok(Vec::new()) };
        let internal = match self.files_project(actor, ProjectId(project)).await {
            Ok((_, internal)) => internal,
            Err(Error::NotFound | Error::Forbidden(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let linked = ticket_file::Entity::find()
            .filter(ticket_file::Column::TicketId.eq(id.0))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut q = file::Entity::find()
            .filter(file::Column::Id.is_in(linked.iter().map(|l| l.file_id).collect::<Vec<_>>()))
            .filter(file::Column::ProjectId.eq(project))
            .filter(file::Column::DeletedAt.is_null());
        if !internal {
            q = q.filter(file::Column::StaffOnly.eq(false));
        }
        let rows = q.order_by_asc(file::Column::Name).all(&self.db).await.map_err(db_err)?;
        self.with_current_versions(rows).await
    }
}
