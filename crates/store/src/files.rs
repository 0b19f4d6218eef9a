//! Project files: folders (staff-only ones never reach a client), files with versions that
//! point at content-addressed blobs (`crate::blobs`), soft delete restorable by staff for 30
//! days, and each client's storage quota. Every read goes through the caller's work scope and
//! hides staff-only things from anyone who may not see internal notes.

use std::collections::HashMap;

use atrium_core::ids::{ClientId, FileId, FileVersionId, FolderId, ProjectId, UserId};
use atrium_core::model::{File, FileVersion, Folder};
use atrium_core::policy::{Actor, FILE_RESTORE_WINDOW, PortalPage};
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::{file, file_version, folder, project};

pub use atrium_core::validate::file_name as check_name;

/// A new folder.
#[derive(Clone, Debug)]
pub struct NewFolder {
    pub name: String,
    pub parent_id: Option<FolderId>,
    pub staff_only: bool,
}

/// Where an upload goes, decided (and its policy checked) before any byte is stored.
#[derive(Clone, Debug)]
pub struct UploadTarget {
    pub project_id: ProjectId,
    pub client_id: ClientId,
    pub folder_id: FolderId,
    pub staff_only: bool,
    /// Bytes the client may still store (its quota minus what its files use).
    pub quota_left: u64,
}

/// What a stored upload is.
#[derive(Clone, Debug)]
pub struct UploadedBlob {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
}

fn to_folder(m: folder::Model) -> Folder {
    Folder {
        id: m.id.into(),
        project_id: m.project_id.into(),
        parent_id: m.parent_id.map(Into::into),
        name: m.name,
        staff_only: m.staff_only,
        created_at: m.created_at,
    }
}

fn to_file(f: file::Model, v: &file_version::Model) -> File {
    File {
        id: f.id.into(),
        project_id: f.project_id.into(),
        folder_id: f.folder_id.into(),
        name: f.name,
        size: u64::try_from(v.size).unwrap_or(0),
        content_type: v.content_type.clone(),
        sha256: v.sha256.clone(),
        version: u32::try_from(f.current_version).unwrap_or(0),
        staff_only: f.staff_only,
        uploaded_by: v.uploaded_by.into(),
        created_at: f.created_at,
        updated_at: f.updated_at,
        deleted_at: f.deleted_at,
    }
}

/// Whether `file` is a current (not deleted), client-visible file of `project` (a ticket's
/// file answer must be one: what the requester uploaded with it).
pub(crate) async fn is_file_of_project<C: ConnectionTrait>(
    c: &C,
    file: uuid::Uuid,
    project: ProjectId,
) -> Result<bool> {
    let row = file::Entity::find_by_id(file)
        .filter(file::Column::ProjectId.eq(project.0))
        .filter(file::Column::DeletedAt.is_null())
        .filter(file::Column::StaffOnly.eq(false))
        .one(c)
        .await
        .map_err(db_err)?;
    Ok(row.is_some())
}

impl Store {
    /// A visible project row and whether the actor sees staff-only things. Read through the
    /// Files area's scope: nothing of it exists for a client whose portal hides Files.
    pub(crate) async fn files_project(&self, actor: &Actor, project: ProjectId) -> Result<(project::Model, bool)> {
        let scope = actor.area_scope(PortalPage::Files);
        let p = self.visible_project_row(&scope, project).await?;
        Ok((p, scope.includes_notes()))
    }

    /// A folder the actor can see (a staff-only one is 404 for clients).
    async fn visible_folder(&self, actor: &Actor, id: FolderId) -> Result<(folder::Model, project::Model)> {
        let f = folder::Entity::find_by_id(id.0).one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let (p, internal) = self.files_project(actor, ProjectId(f.project_id)).await?;
        if f.staff_only && !internal {
            return Err(Error::NotFound);
        }
        Ok((f, p))
    }

    /// A project's folders the actor can see, by name.
    pub async fn folders(&self, actor: &Actor, project: ProjectId) -> Result<Vec<Folder>> {
        let (_, internal) = self.files_project(actor, project).await?;
        let mut q = folder::Entity::find().filter(folder::Column::ProjectId.eq(project.0));
        if !internal {
            q = q.filter(folder::Column::StaffOnly.eq(false));
        }
        let rows = q.order_by_asc(folder::Column::Name).all(&self.db).await.map_err(db_err)?;
        Ok(rows.into_iter().map(to_folder).collect())
    }

    /// The project's top folder, created on first use (every file lives in a folder). Its id is
    /// the project's, so concurrent first uploads agree on one folder on both databases.
    pub(crate) async fn root_folder<C: ConnectionTrait>(
        &self,
        c: &C,
        actor: &Actor,
        p: &project::Model,
    ) -> Result<folder::Model> {
        if let Some(f) = folder::Entity::find_by_id(p.id).one(c).await.map_err(db_err)? {
            return Ok(f);
        }
        let row = folder::ActiveModel {
            id: Set(p.id),
            project_id: Set(p.id),
            parent_id: Set(None),
            name: Set(p.name.clone()),
            staff_only: Set(false),
            created_by: Set(actor.user_id().0),
            created_at: Set(Utc::now()),
        };
        folder::Entity::insert(row)
            .on_conflict_do_nothing_on([folder::Column::Id])
            .exec_without_returning(c)
            .await
            .map_err(db_err)?;
        folder::Entity::find_by_id(p.id).one(c).await.map_err(db_err)?.ok_or(Error::NotFound)
    }

    /// Creates a folder (staff); a folder inside a staff-only folder is staff-only too.
    pub async fn create_folder(
        &self,
        actor: &Actor,
        project: ProjectId,
        n: NewFolder,
        ip: Option<&str>,
    ) -> Result<Folder> {
        let (p, _) = self.files_project(actor, project).await?;
        actor.may_manage_folders()?;
        let name = check_name("name", &n.name)?;
        let tx = self.write_tx().await?;
        let parent = match n.parent_id {
            Some(id) => {
                let (f, fp) = self.visible_folder(actor, id).await?;
                if fp.id != p.id {
                    return Err(Error::invalid("parent_id", "is not a folder of this project"));
                }
                f
            }
            None => self.root_folder(&tx, actor, &p).await?,
        };
        let row = folder::ActiveModel {
            id: Set(FolderId::new().0),
            project_id: Set(p.id),
            parent_id: Set(Some(parent.id)),
            name: Set(name),
            staff_only: Set(n.staff_only || parent.staff_only),
            created_by: Set(actor.user_id().0),
            created_at: Set(Utc::now()),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let e = Entry::folder(AuditAction::FolderCreate, FolderId(row.id), ClientId(p.client_id), ip);
        audit::write(&tx, Some(actor), e).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(to_folder(row))
    }

    /// Where an upload into `folder` (default: the project's top folder) goes, after checking
    /// the actor may upload there; `quota` is the client's storage quota in bytes.
    pub async fn upload_target(
        &self,
        actor: &Actor,
        project: ProjectId,
        folder: Option<FolderId>,
        quota: u64,
    ) -> Result<UploadTarget> {
        let (p, _) = self.files_project(actor, project).await?;
        actor.may_upload()?;
        let f = match folder {
            Some(id) => {
                let (f, fp) = self.visible_folder(actor, id).await?;
                if fp.id != p.id {
                    return Err(Error::invalid("folder_id", "is not a folder of this project"));
                }
                f
            }
            None => self.root_folder(&self.db, actor, &p).await?,
        };
        let used = self.client_storage_used(ClientId(p.client_id)).await?;
        Ok(UploadTarget {
            project_id: project,
            client_id: ClientId(p.client_id),
            folder_id: FolderId(f.id),
            staff_only: f.staff_only,
            quota_left: quota.saturating_sub(used),
        })
    }

    /// Bytes stored for a client: every version of every file of its projects, deleted or not
    /// (a deleted file keeps its storage until it is purged).
    pub(crate) async fn client_storage_used(&self, client: ClientId) -> Result<u64> {
        let projects = sea_orm::sea_query::Query::select()
            .column(project::Column::Id)
            .from(project::Entity)
            .and_where(Expr::col(project::Column::ClientId).eq(client.0))
            .to_owned();
        let files = sea_orm::sea_query::Query::select()
            .column(file::Column::Id)
            .from(file::Entity)
            .and_where(Expr::col(file::Column::ProjectId).in_subquery(projects))
            .to_owned();
        let sum: Option<Option<i64>> = file_version::Entity::find()
            .select_only()
            .column_as(Expr::col(file_version::Column::Size).sum().cast_as("BIGINT"), "total")
            .filter(file_version::Column::FileId.in_subquery(files))
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(db_err)?;
        Ok(sum.flatten().map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    /// Records an upload whose bytes are stored: a new version of the live file with the same
    /// name in that folder (names compare case-insensitively), or a new file.
    pub async fn add_upload(
        &self,
        actor: &Actor,
        target: &UploadTarget,
        name: &str,
        blob: UploadedBlob,
        ip: Option<&str>,
    ) -> Result<File> {
        let tx = self.write_tx().await?;
        let (f, after) = insert_upload(&tx, actor, target, name, blob, ip).await?;
        tx.commit().await.map_err(db_err)?;
        self.after_upload(after).await;
        Ok(f)
    }

    /// Tells people what recorded uploads changed, once committed.
    pub(crate) async fn after_upload(&self, after: AfterUpload) {
        for ev in after.events {
            self.publish(ev).await;
        }
        self.announce(after.created).await;
    }

    /// The live files of a project the actor can see (optionally of one folder), by name; with
    /// `deleted`, staff get the deleted ones still restorable instead.
    pub async fn files(
        &self,
        actor: &Actor,
        project: ProjectId,
        folder: Option<FolderId>,
        deleted: bool,
    ) -> Result<Vec<File>> {
        let (_, internal) = self.files_project(actor, project).await?;
        let mut q = file::Entity::find().filter(file::Column::ProjectId.eq(project.0));
        if let Some(f) = folder {
            self.visible_folder(actor, f).await?;
            q = q.filter(file::Column::FolderId.eq(f.0));
        }
        if !internal {
            q = q.filter(file::Column::StaffOnly.eq(false));
        }
        q = if deleted {
            actor.may_restore_files()?;
            q.filter(file::Column::DeletedAt.gt(Utc::now() - FILE_RESTORE_WINDOW))
        } else {
            q.filter(file::Column::DeletedAt.is_null())
        };
        let rows = q.order_by_asc(file::Column::Name).all(&self.db).await.map_err(db_err)?;
        self.with_current_versions(rows).await
    }

    pub(crate) async fn with_current_versions(&self, rows: Vec<file::Model>) -> Result<Vec<File>> {
        let ids: Vec<uuid::Uuid> = rows.iter().map(|f| f.id).collect();
        let versions = file_version::Entity::find()
            .filter(file_version::Column::FileId.is_in(ids))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for f in rows {
            let v = versions
                .iter()
                .find(|v| v.file_id == f.id && v.version == f.current_version)
                .ok_or_else(|| Error::internal_msg(format!("file {} without its current version", f.id)))?
                .clone();
            out.push(to_file(f, &v));
        }
        Ok(out)
    }

    /// A file the actor can see: live, or (staff only) deleted but restorable.
    async fn visible_file(&self, actor: &Actor, id: FileId) -> Result<(file::Model, project::Model)> {
        let f = file::Entity::find_by_id(id.0).one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let (p, internal) = self.files_project(actor, ProjectId(f.project_id)).await?;
        if f.staff_only && !internal {
            return Err(Error::NotFound);
        }
        if f.deleted_at.is_some() && !internal {
            return Err(Error::NotFound);
        }
        Ok((f, p))
    }

    /// One file.
    pub async fn file(&self, actor: &Actor, id: FileId) -> Result<File> {
        let (f, _) = self.visible_file(actor, id).await?;
        Ok(self.with_current_versions(vec![f]).await?.remove(0))
    }

    /// Every version of a file, newest first, with who uploaded it.
    pub async fn file_versions(&self, actor: &Actor, id: FileId) -> Result<Vec<FileVersion>> {
        self.visible_file(actor, id).await?;
        Ok(self.versions_of(&[id.0]).await?.remove(&id).unwrap_or_default())
    }

    /// [`Store::files`] with every version of each file (newest first), in two more queries
    /// however many files there are.
    pub async fn files_with_versions(
        &self,
        actor: &Actor,
        project: ProjectId,
        folder: Option<FolderId>,
        deleted: bool,
    ) -> Result<Vec<(File, Vec<FileVersion>)>> {
        let files = self.files(actor, project, folder, deleted).await?;
        let mut versions = self.versions_of(&files.iter().map(|f| f.id.0).collect::<Vec<_>>()).await?;
        Ok(files
            .into_iter()
            .map(|f| {
                let v = versions.remove(&f.id).unwrap_or_default();
                (f, v)
            })
            .collect())
    }

    /// The versions of files the caller already may see, by file, newest first.
    async fn versions_of(&self, files: &[uuid::Uuid]) -> Result<HashMap<FileId, Vec<FileVersion>>> {
        let rows = file_version::Entity::find()
            .filter(file_version::Column::FileId.is_in(files.to_vec()))
            .order_by_desc(file_version::Column::Version)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut ids: Vec<UserId> = rows.iter().map(|v| UserId(v.uploaded_by)).collect();
        ids.sort();
        ids.dedup();
        let names = self.names_of(&ids).await?;
        let mut out: HashMap<FileId, Vec<FileVersion>> = HashMap::new();
        for v in rows {
            out.entry(FileId(v.file_id)).or_default().push(FileVersion {
                id: v.id.into(),
                file_id: v.file_id.into(),
                version: u32::try_from(v.version).unwrap_or(0),
                size: u64::try_from(v.size).unwrap_or(0),
                content_type: v.content_type,
                sha256: v.sha256,
                uploaded_by: UserId(v.uploaded_by),
                uploaded_by_name: names.get(&UserId(v.uploaded_by)).cloned().unwrap_or_default(),
                created_at: v.created_at,
            });
        }
        Ok(out)
    }

    /// The file and the version to download (`None`: the current one).
    pub async fn file_download(&self, actor: &Actor, id: FileId, version: Option<u32>) -> Result<(File, FileVersion)> {
        let file = self.file(actor, id).await?;
        let wanted = version.unwrap_or(file.version);
        let v = self
            .file_versions(actor, id)
            .await?
            .into_iter()
            .find(|v| v.version == wanted)
            .ok_or_else(|| Error::invalid("version", "no such version of this file"))?;
        Ok((file, v))
    }

    /// Refuses a name already taken by another live file of the folder (case-insensitively):
    /// an upload of that name must know which file it adds a version to.
    async fn check_name_free<C: ConnectionTrait>(
        &self,
        c: &C,
        folder: uuid::Uuid,
        name: &str,
        except: uuid::Uuid,
    ) -> Result<()> {
        let taken = file::Entity::find()
            .filter(file::Column::FolderId.eq(folder))
            .filter(file::Column::DeletedAt.is_null())
            .filter(file::Column::Id.ne(except))
            .all(c)
            .await
            .map_err(db_err)?
            .into_iter()
            .any(|f| f.name.to_lowercase() == name.to_lowercase());
        if taken { Err(Error::Conflict(format!("a file named {name} is already in that folder"))) } else { Ok(()) }
    }

    /// Renames and/or moves a file (staff or its uploader); the folder decides staff-only.
    pub async fn update_file(
        &self,
        actor: &Actor,
        id: FileId,
        name: Option<String>,
        folder: Option<FolderId>,
        ip: Option<&str>,
    ) -> Result<File> {
        let (f, p) = self.visible_file(actor, id).await?;
        if f.deleted_at.is_some() {
            return Err(Error::NotFound);
        }
        actor.may_change_file(UserId(f.created_by))?;
        let name = name.map(|n| check_name("name", &n)).transpose()?;
        let target = match folder {
            Some(fid) => {
                let (t, tp) = self.visible_folder(actor, fid).await?;
                if tp.id != p.id {
                    return Err(Error::invalid("folder_id", "is not a folder of this project"));
                }
                Some(t)
            }
            None => None,
        };
        let tx = self.write_tx().await?;
        let folder_after = target.as_ref().map_or(f.folder_id, |t| t.id);
        self.check_name_free(&tx, folder_after, name.as_deref().unwrap_or(&f.name), f.id).await?;
        let mut am: file::ActiveModel = f.into();
        if let Some(n) = name {
            am.name = Set(n);
        }
        if let Some(t) = target {
            am.folder_id = Set(t.id);
            am.staff_only = Set(t.staff_only);
        }
        am.updated_at = Set(Utc::now());
        let row = am.update(&tx).await.map_err(db_err)?;
        audit::write(&tx, Some(actor), Entry::file(AuditAction::FileUpdate, FileId(row.id), ClientId(p.client_id), ip))
            .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(self.with_current_versions(vec![row]).await?.remove(0))
    }

    /// Deletes a file (soft: staff can restore it for 30 days).
    pub async fn delete_file(&self, actor: &Actor, id: FileId, ip: Option<&str>) -> Result<()> {
        let (f, p) = self.visible_file(actor, id).await?;
        if f.deleted_at.is_some() {
            return Err(Error::NotFound);
        }
        actor.may_change_file(UserId(f.created_by))?;
        let tx = self.write_tx().await?;
        let mut am: file::ActiveModel = f.into();
        am.deleted_at = Set(Some(Utc::now()));
        let row = am.update(&tx).await.map_err(db_err)?;
        audit::write(&tx, Some(actor), Entry::file(AuditAction::FileDelete, FileId(row.id), ClientId(p.client_id), ip))
            .await?;
        tx.commit().await.map_err(db_err)
    }

    /// Restores a deleted file (staff, within 30 days of its deletion).
    pub async fn restore_file(&self, actor: &Actor, id: FileId, ip: Option<&str>) -> Result<File> {
        let (f, p) = self.visible_file(actor, id).await?;
        actor.may_restore_files()?;
        match f.deleted_at {
            Some(at) if Utc::now() - at <= FILE_RESTORE_WINDOW => {}
            Some(_) => return Err(Error::Gone),
            None => return Err(Error::Conflict("this file is not deleted".into())),
        }
        let tx = self.write_tx().await?;
        self.check_name_free(&tx, f.folder_id, &f.name, f.id).await?;
        let mut am: file::ActiveModel = f.into();
        am.deleted_at = Set(None);
        let row = am.update(&tx).await.map_err(db_err)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::file(AuditAction::FileRestore, FileId(row.id), ClientId(p.client_id), ip),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(self.with_current_versions(vec![row]).await?.remove(0))
    }

    /// Whether any file version, or the branding (the logo), still points at a blob (an
    /// unreferenced one may be deleted).
    pub async fn blob_referenced(&self, sha256: &str) -> Result<bool> {
        if crate::branding::referenced(&self.db).await?.iter().any(|h| h == sha256) {
            return Ok(true);
        }
        let n = file_version::Entity::find()
            .filter(file_version::Column::Sha256.eq(sha256))
            .limit(1)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(!n.is_empty())
    }
}

/// What recorded uploads leave to announce after the commit ([`Store::after_upload`]).
#[derive(Default)]
#[must_use = "announce after the commit"]
pub(crate) struct AfterUpload {
    events: Vec<atrium_core::live::LiveEvent>,
    created: crate::notifications::Created,
}

impl AfterUpload {
    pub(crate) fn extend(&mut self, other: AfterUpload) {
        self.events.extend(other.events);
        self.created.extend(other.created);
    }
}

/// [`Store::add_upload`] inside the caller's transaction `c`.
pub(crate) async fn insert_upload<C: ConnectionTrait>(
    c: &C,
    actor: &Actor,
    target: &UploadTarget,
    name: &str,
    blob: UploadedBlob,
    ip: Option<&str>,
) -> Result<(File, AfterUpload)> {
    actor.may_upload()?;
    let name = check_name("file", name)?;
    let now = Utc::now();
    let size = i64::try_from(blob.size).map_err(|_| Error::TooLarge)?;
    let same = file::Entity::find()
        .filter(file::Column::FolderId.eq(target.folder_id.0))
        .filter(file::Column::DeletedAt.is_null())
        .all(c)
        .await
        .map_err(db_err)?
        .into_iter()
        .find(|f| f.name.to_lowercase() == name.to_lowercase());
    let (row, version, action) = match same {
        Some(f) => {
            let v = f.current_version + 1;
            let mut am: file::ActiveModel = f.into();
            am.current_version = Set(v);
            am.updated_at = Set(now);
            (am.update(c).await.map_err(db_err)?, v, AuditAction::FileVersion)
        }
        None => {
            let row = file::ActiveModel {
                id: Set(FileId::new().0),
                project_id: Set(target.project_id.0),
                folder_id: Set(target.folder_id.0),
                name: Set(name),
                staff_only: Set(target.staff_only),
                current_version: Set(1),
                created_by: Set(actor.user_id().0),
                created_at: Set(now),
                updated_at: Set(now),
                deleted_at: Set(None),
            }
            .insert(c)
            .await
            .map_err(db_err)?;
            (row, 1, AuditAction::FileUpload)
        }
    };
    let v = file_version::ActiveModel {
        id: Set(FileVersionId::new().0),
        file_id: Set(row.id),
        version: Set(version),
        sha256: Set(blob.sha256),
        size: Set(size),
        content_type: Set(blob.content_type),
        uploaded_by: Set(actor.user_id().0),
        created_at: Set(now),
    }
    .insert(c)
    .await
    .map_err(db_err)?;
    let e = Entry::file(action, FileId(row.id), target.client_id, ip)
        .with_detail(serde_json::json!({ "version": version, "size": v.size, "sha256": v.sha256 }));
    audit::write(c, Some(actor), e).await?;
    // A new version reopens the file's reviews that are not approved.
    let (events, created) = if version > 1 {
        crate::approvals::reopen_for_new_version(c, actor, &row, version).await?
    } else {
        Default::default()
    };
    Ok((to_file(row, &v), AfterUpload { events, created }))
}
