//! The Files tab of a project, on both sides: folders, files with versions, uploads (several at
//! once, by drag and drop with progress when JavaScript runs), downloads, delete and restore.

use askama::Template;
use atrium_core::ids::{FileId, FolderId, ProjectId};
use atrium_core::model::File;
use atrium_core::policy::Side;
use axum::extract::{Multipart, State};
use axum::response::Response;
use serde::Deserialize;

use super::{Chrome, page, see_other};
use crate::api::input::empty_none;
use crate::audience::{PortalAuth, SideAuth, StaffAuth};
use crate::auth::Authed;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::state::AppState;

struct FileView {
    id: String,
    name: String,
    size: String,
    version: u32,
    updated: String,
    inline: bool,
    /// How the Files tab previews it (`crate::preview::Kind::as_str`).
    preview: &'static str,
    can_change: bool,
    versions: Vec<(u32, String, String, String)>,
}

struct FolderView {
    id: String,
    name: String,
    staff_only: bool,
    current: bool,
}

#[derive(Template)]
#[template(path = "files.html")]
struct FilesPage {
    chrome: Chrome,
    prefix: &'static str,
    staff: bool,
    project_id: String,
    project_name: String,
    folder_id: String,
    folder_staff_only: bool,
    folders: Vec<FolderView>,
    files: Vec<FileView>,
    deleted: Vec<(String, String, String)>,
    can_upload: bool,
    max_upload: String,
    /// The client's admins, who can be asked to approve (staff side): (id, name).
    approvers: Vec<(String, String)>,
}

/// `?folder=` of the Files tab.
#[derive(Debug, Default, Deserialize)]
pub struct FolderQuery {
    #[serde(default, deserialize_with = "empty_none")]
    folder: Option<FolderId>,
    #[serde(default)]
    notice: Option<String>,
}

/// Bytes in a human unit.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 { format!("{n} bytes") } else { format!("{v:.1} {}", UNITS[u]) }
}

fn inline_type(f: &File) -> bool {
    f.content_type.starts_with("image/") && f.content_type != "image/svg+xml"
        || matches!(f.content_type.as_str(), "application/pdf" | "text/plain")
        || f.content_type.starts_with("video/")
        || f.content_type.starts_with("audio/")
}

fn preview_kind(f: &File) -> &'static str {
    crate::preview::Kind::of(&f.content_type, &f.name).as_str()
}

async fn files_page(
    st: &AppState,
    auth: &SideAuth,
    csrf: &CsrfToken,
    pid: ProjectId,
    q: FolderQuery,
) -> AppResult<Response> {
    let staff = auth.side() == Side::Staff;
    let a = &auth.actor;
    let p = st.store.project(&a.work_scope(), pid).await?;
    let folders = st.store.folders(a, pid).await?;
    // Without ?folder= the page shows the project's top folder.
    let current = q.folder.or_else(|| folders.iter().find(|f| f.parent_id.is_none()).map(|f| f.id));
    let files = match current {
        Some(f) => st.store.files_with_versions(a, pid, Some(f), false).await?,
        None => vec![],
    };
    let deleted = if staff { st.store.files(a, pid, None, true).await? } else { vec![] };
    let local = st.store.local_time(a).await?;
    let mut views = Vec::with_capacity(files.len());
    for (f, versions) in &files {
        let versions = versions
            .iter()
            .map(|v| (v.version, v.uploaded_by_name.clone(), local.short(v.created_at), human_size(v.size)))
            .collect();
        views.push(FileView {
            id: f.id.to_string(),
            name: f.name.clone(),
            size: human_size(f.size),
            version: f.version,
            updated: local.short(f.updated_at),
            inline: inline_type(f),
            preview: preview_kind(f),
            can_change: a.may_change_file(f.uploaded_by).is_ok(),
            versions,
        });
    }
    let prefix = super::prefix(auth.side());
    let mut chrome = Chrome::signed_in(
        st,
        auth,
        csrf,
        format!("Files · {}", p.name),
        if staff { "/staff/clients" } else { "/portal/projects" },
    );
    chrome.flash = match q.notice.as_deref() {
        Some("uploaded") => Some("Uploaded.".into()),
        Some("deleted") => Some("Deleted. Staff can restore it for 30 days.".into()),
        Some("restored") => Some("Restored.".into()),
        _ => None,
    };
    chrome.live = format!("project:{pid}");
    let current_folder = folders.iter().find(|f| Some(f.id) == current);
    let approvers = if staff {
        st.store.approver_candidates(a, p.client_id).await?.into_iter().map(|u| (u.id.to_string(), u.name)).collect()
    } else {
        vec![]
    };
    page(&FilesPage {
        chrome,
        prefix,
        staff,
        project_id: pid.to_string(),
        project_name: p.name,
        folder_id: current.map(|f| f.to_string()).unwrap_or_default(),
        folder_staff_only: current_folder.is_some_and(|f| f.staff_only),
        folders: folders
            .iter()
            .map(|f| FolderView {
                id: f.id.to_string(),
                name: f.name.clone(),
                staff_only: f.staff_only,
                current: Some(f.id) == current,
            })
            .collect(),
        files: views,
        deleted: deleted
            .iter()
            .map(|f| (f.id.to_string(), f.name.clone(), f.deleted_at.map(|d| local.short(d)).unwrap_or_default()))
            .collect(),
        can_upload: a.may_upload().is_ok(),
        max_upload: human_size(st.config.max_upload),
        approvers,
    })
}

/// The Files tab, staff side.
pub async fn staff_files(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(id): Id<ProjectId>,
    Q(q): Q<FolderQuery>,
) -> AppResult<Response> {
    files_page(&st, &auth.into(), &csrf, id, q).await
}

/// The Files tab, portal.
pub async fn portal_files(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    Id(id): Id<ProjectId>,
    Q(q): Q<FolderQuery>,
) -> AppResult<Response> {
    files_page(&st, &auth.into(), &csrf, id, q).await
}

async fn upload(st: &AppState, auth: &SideAuth, ip: &str, pid: ProjectId, form: Multipart) -> AppResult<Response> {
    let f = crate::api::files::receive(st, auth, ip, pid, form).await?;
    let prefix = super::prefix(auth.side());
    Ok(see_other(&format!("{prefix}/projects/{pid}/files?folder={}&notice=uploaded", f.folder_id)))
}

/// Upload without JavaScript (one file per submit; the script uploads several with progress).
pub async fn staff_upload(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectId>,
    form: Multipart,
) -> AppResult<Response> {
    upload(&st, &auth.into(), &ip, id, form).await
}

/// Upload without JavaScript, portal.
pub async fn portal_upload(
    State(st): State<AppState>,
    auth: PortalAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<ProjectId>,
    form: Multipart,
) -> AppResult<Response> {
    upload(&st, &auth.into(), &ip, id, form).await
}

/// The new-folder form.
#[derive(Deserialize)]
pub struct FolderForm {
    name: String,
    #[serde(default, deserialize_with = "empty_none")]
    parent_id: Option<FolderId>,
    #[serde(default)]
    staff_only: Option<String>,
}

/// Creates a folder (staff).
pub async fn create_folder(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    FormBody(f): FormBody<FolderForm>,
) -> AppResult<Response> {
    let n = atrium_store::files::NewFolder { name: f.name, parent_id: f.parent_id, staff_only: f.staff_only.is_some() };
    let folder = st.store.create_folder(&auth.actor, pid, n, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{pid}/files?folder={}", folder.id)))
}

/// Deletes a file (staff or its uploader).
pub async fn delete_file(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<FileId>,
) -> AppResult<Response> {
    let f = st.store.file(&auth.actor, id).await?;
    st.store.delete_file(&auth.actor, id, Some(&ip)).await?;
    let prefix = super::prefix(Side::of(&auth.actor));
    Ok(see_other(&format!("{prefix}/projects/{}/files?folder={}&notice=deleted", f.project_id, f.folder_id)))
}

/// Restores a deleted file (staff).
pub async fn restore_file(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<FileId>,
) -> AppResult<Response> {
    let f = st.store.restore_file(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/projects/{}/files?folder={}&notice=restored", f.project_id, f.folder_id)))
}

/// One line of a file's version list.
struct VersionView {
    version: u32,
    who: String,
    when: String,
    size: String,
}

#[derive(Template)]
#[template(path = "file.html")]
struct FilePage {
    chrome: Chrome,
    prefix: &'static str,
    id: String,
    name: String,
    project_id: String,
    project_name: String,
    folder_id: String,
    folder_name: String,
    staff_only: bool,
    /// The version shown, and the current one.
    version: u32,
    current: u32,
    is_current: bool,
    size: String,
    content_type: String,
    sha256: String,
    uploaded_by: String,
    uploaded_at: String,
    /// `/api/v1/files/{id}/download?version=N`.
    download: String,
    kind: &'static str,
    /// The rendered text or markdown preview.
    text: Option<String>,
    text_cut: bool,
    text_limit: String,
    versions: Vec<VersionView>,
    /// (href, label, status) of the approvals of this file.
    approvals: Vec<(String, String, &'static str)>,
    can_upload: bool,
    can_change: bool,
    /// Folders it can move to: (id, name, current).
    folders: Vec<(String, String, bool)>,
}

/// `?version=` of a file's page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    #[serde(default, deserialize_with = "empty_none")]
    version: Option<u32>,
    #[serde(default)]
    notice: Option<String>,
}

async fn file_page(
    st: &AppState,
    auth: &SideAuth,
    csrf: &CsrfToken,
    id: FileId,
    q: VersionQuery,
) -> AppResult<Response> {
    let staff = auth.side() == Side::Staff;
    let a = &auth.actor;
    let (f, v) = st.store.file_download(a, id, q.version).await?;
    let p = st.store.project(&a.work_scope(), f.project_id).await?;
    let folders = st.store.folders(a, f.project_id).await?;
    let versions = st.store.file_versions(a, id).await?;
    let local = st.store.local_time(a).await?;
    let kind = crate::preview::Kind::of(&v.content_type, &f.name);
    let (text, text_cut) = match kind {
        crate::preview::Kind::Text | crate::preview::Kind::Markdown => {
            let range = 0..v.size.min(crate::preview::TEXT_MAX_BYTES);
            let read = st.blobs.get(&v.sha256, Some(range)).await?;
            let parts: Vec<bytes::Bytes> = futures_util::TryStreamExt::try_collect(read.stream).await?;
            let markdown = kind == crate::preview::Kind::Markdown;
            // Bounded (SEC-IO-7), but up to 256 KiB of markdown is still real work: off the
            // async workers.
            let html = tokio::task::spawn_blocking(move || crate::preview::text_html(&parts.concat(), markdown))
                .await
                .map_err(|e| atrium_core::Error::internal("text preview", e))?;
            (html, v.size > crate::preview::TEXT_MAX_BYTES)
        }
        _ => (None, false),
    };
    let prefix = super::prefix(auth.side());
    let fid = id.to_string();
    let approvals = st
        .store
        .approvals_of_file(a, id)
        .await?
        .into_iter()
        .map(|ap| {
            let label = match ap.version {
                Some(n) => format!("Approval of v{n}"),
                None => "Approval".to_string(),
            };
            (format!("{prefix}/approvals/{}", ap.id), label, ap.status.label())
        })
        .collect();
    // The top folder is the Files tab itself.
    let folder_name = folders
        .iter()
        .find(|x| x.id == f.folder_id && x.parent_id.is_some())
        .map(|x| x.name.clone())
        .unwrap_or_else(|| "Files".into());
    let mut chrome = Chrome::signed_in(
        st,
        auth,
        csrf,
        format!("{} · Files", f.name),
        if staff { "/staff/clients" } else { "/portal/projects" },
    );
    chrome.flash = match q.notice.as_deref() {
        Some("saved") => Some("Saved.".into()),
        _ => None,
    };
    chrome.live = format!("project:{}", f.project_id);
    page(&FilePage {
        chrome,
        prefix,
        id: fid.clone(),
        project_id: f.project_id.to_string(),
        project_name: p.name,
        folder_id: f.folder_id.to_string(),
        folder_name,
        staff_only: f.staff_only,
        version: v.version,
        current: f.version,
        is_current: v.version == f.version,
        size: human_size(v.size),
        content_type: v.content_type.clone(),
        sha256: v.sha256.clone(),
        uploaded_by: v.uploaded_by_name.clone(),
        uploaded_at: local.long(v.created_at),
        download: format!("/api/v1/files/{fid}/download?version={}", v.version),
        kind: kind.as_str(),
        text,
        text_cut,
        text_limit: human_size(crate::preview::TEXT_MAX_BYTES),
        versions: versions
            .iter()
            .map(|x| VersionView {
                version: x.version,
                who: x.uploaded_by_name.clone(),
                when: local.short(x.created_at),
                size: human_size(x.size),
            })
            .collect(),
        approvals,
        can_upload: a.may_upload().is_ok(),
        can_change: a.may_change_file(f.uploaded_by).is_ok(),
        folders: folders.iter().map(|x| (x.id.to_string(), x.name.clone(), x.id == f.folder_id)).collect(),
        name: f.name,
    })
}

/// A file's page, staff side: preview, versions, approvals, rename and move.
pub async fn staff_file(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(id): Id<FileId>,
    Q(q): Q<VersionQuery>,
) -> AppResult<Response> {
    file_page(&st, &auth.into(), &csrf, id, q).await
}

/// A file's page, portal.
pub async fn portal_file(
    State(st): State<AppState>,
    auth: PortalAuth,
    csrf: CsrfToken,
    Id(id): Id<FileId>,
    Q(q): Q<VersionQuery>,
) -> AppResult<Response> {
    file_page(&st, &auth.into(), &csrf, id, q).await
}

/// The rename-and-move form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileUpdateForm {
    name: String,
    #[serde(default, deserialize_with = "empty_none")]
    folder_id: Option<FolderId>,
}

/// Renames and/or moves a file (staff or its uploader), back to its page.
pub async fn update_file(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<FileId>,
    FormBody(form): FormBody<FileUpdateForm>,
) -> AppResult<Response> {
    st.store.update_file(&auth.actor, id, Some(form.name), form.folder_id, Some(&ip)).await?;
    let prefix = super::prefix(Side::of(&auth.actor));
    Ok(see_other(&format!("{prefix}/files/{id}?notice=saved")))
}
