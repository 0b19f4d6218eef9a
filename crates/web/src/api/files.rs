//! Project files over the API: folders, streamed multipart uploads into content-addressed
//! storage, versions, streamed downloads with Range support and safe `Content-Disposition`,
//! soft delete and restore. The store scopes every read and asks the policy before every write.

use atrium_core::Error;
use atrium_core::ids::{FileId, FolderId, ProjectId};
use atrium_core::model::{File, FileVersion, Folder};
use atrium_store::files::{NewFolder, UploadedBlob, check_name};
use axum::Json;
use axum::body::Body;
use axum::extract::multipart::MultipartError;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id, Q};
use crate::preview;
use crate::state::AppState;

/// `POST /projects/{id}/folders`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderBody {
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub staff_only: bool,
}

/// A project's folders the caller can see.
#[utoipa::path(get, path = "/api/v1/projects/{id}/folders", tag = "files", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<Folder>), (status = 404)))]
pub async fn list_folders(
    State(st): State<AppState>,
    auth: Authed,
    Id(pid): Id<ProjectId>,
) -> AppResult<Json<List<Folder>>> {
    let items = st.store.folders(&auth.actor, pid).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// Create a folder (staff); `staff_only` folders and their files never reach a client.
#[utoipa::path(post, path = "/api/v1/projects/{id}/folders", tag = "files", params(("id" = uuid::Uuid, Path)),
    request_body = FolderBody, responses((status = 201, body = Folder), (status = 403), (status = 404), (status = 422)))]
pub async fn create_folder(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    ApiJson(b): ApiJson<FolderBody>,
) -> AppResult<(StatusCode, Json<Folder>)> {
    let parent_id = match b.parent_id.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<FolderId>().map_err(|_| Error::invalid("parent_id", "is not a folder id"))?),
    };
    let n = NewFolder { name: b.name, parent_id, staff_only: b.staff_only };
    Ok((StatusCode::CREATED, Json(st.store.create_folder(&auth.actor, pid, n, Some(&ip)).await?)))
}

/// The multipart form of an upload (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// Optional; must come before `file`. Default: the project's top folder.
    folder_id: Option<String>,
    /// Optional; must come before `file`. The file's name, instead of the part's filename
    /// (to upload a new version of a file from a copy named differently).
    name: Option<String>,
    /// The file; its name is the part's filename.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Upload a file (multipart: optional `folder_id` and `name`, then `file`). The same name in the same
/// folder adds a version. Streamed to storage; larger than the upload limit → 413, past the
/// client's quota → 413 `quota_exceeded`; nothing is kept of a refused or interrupted upload.
#[utoipa::path(post, path = "/api/v1/projects/{id}/files", tag = "files", params(("id" = uuid::Uuid, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = File), (status = 403), (status = 404), (status = 413), (status = 422)))]
pub async fn upload_file(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    multipart: Multipart,
) -> AppResult<(StatusCode, Json<File>)> {
    let file = receive(&st, &auth, &ip, pid, multipart).await?;
    Ok((StatusCode::CREATED, Json(file)))
}

/// Stores the `file` part of an upload form and records it (shared with the HTML upload).
pub async fn receive(st: &AppState, auth: &Authed, ip: &str, pid: ProjectId, mut form: Multipart) -> AppResult<File> {
    // The project and the right to upload are checked before a byte is read.
    let mut target = st.store.upload_target(&auth.actor, pid, None, st.config.client_quota).await?;
    // `name`, when sent before the file, names the upload instead of the file's own name
    // ("upload a new version" of a file whose copy on disk is called something else).
    let mut named: Option<String> = None;
    let bad_form = |e: MultipartError| form_error("file", e);
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        match field.name() {
            Some("folder_id") => {
                let v = small_text("folder_id", field).await?;
                if !v.trim().is_empty() {
                    let fid: FolderId =
                        v.trim().parse().map_err(|_| Error::invalid("folder_id", "is not a folder id"))?;
                    target = st.store.upload_target(&auth.actor, pid, Some(fid), st.config.client_quota).await?;
                }
            }
            Some("name") => {
                let v = small_text("name", field).await?;
                if !v.trim().is_empty() {
                    named = Some(check_name("name", &v)?);
                }
            }
            Some("file") => {
                let name = match named.take() {
                    Some(n) => n,
                    None => check_name("file", field.file_name().unwrap_or_default())?,
                };
                // A stalled body is 408; anything else the store calls an interrupted upload.
                let body = futures_util::TryStreamExt::map_err(field, |e| {
                    if crate::extract::stalled(&e) {
                        Error::BodyTimeout
                    } else {
                        Error::invalid("file", "the upload was interrupted")
                    }
                });
                let to = UploadTo { store: &st.store, blobs: &st.blobs, max_upload: st.config.max_upload };
                return Ok(to.put(&auth.actor, &target, &name, body, Some(ip)).await?);
            }
            _ => {
                return Err(Error::invalid("file", "unexpected form field (send folder_id and name, then file)").into());
            }
        }
    }
    Err(Error::invalid("file", "is missing").into())
}

/// Where an upload's bytes and row go: shared by the upload form and mail in's attachments, so
/// both get the same limits ([`WebConfig::max_upload`](crate::WebConfig), the client's quota)
/// and the same content sniffing.
pub(crate) struct UploadTo<'a> {
    pub store: &'a atrium_store::Store,
    pub blobs: &'a atrium_store::blobs::Blobs,
    pub max_upload: u64,
}

impl UploadTo<'_> {
    /// Streams `body` into storage within the limits and records it as `name` in `target`; a
    /// refused record leaves no blob behind.
    pub async fn put<S>(
        &self,
        actor: &atrium_core::policy::Actor,
        target: &atrium_store::files::UploadTarget,
        name: &str,
        body: S,
        ip: Option<&str>,
    ) -> Result<File, Error>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, Error>> + Send + Unpin,
    {
        let blob = self.stage(target, 0, body).await?;
        let sha256 = blob.sha256.clone();
        match self.store.add_upload(actor, target, name, blob, ip).await {
            Ok(f) => Ok(f),
            Err(e) => {
                self.discard(&sha256).await;
                Err(e)
            }
        }
    }

    /// Streams `body` into storage within the upload limit and what is left of `target`'s
    /// quota after `staged` bytes of the same request, and sniffs its type; nothing is recorded
    /// yet (record it, or [`UploadTo::discard`] it).
    pub async fn stage<S>(
        &self,
        target: &atrium_store::files::UploadTarget,
        staged: u64,
        body: S,
    ) -> Result<UploadedBlob, Error>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, Error>> + Send + Unpin,
    {
        let quota_left = target.quota_left.saturating_sub(staged);
        let limit = self.max_upload.min(quota_left);
        let quota_bound = quota_left < self.max_upload;
        let stored = match self.blobs.put_stream(body, limit).await {
            Err(Error::TooLarge) if quota_bound => return Err(Error::QuotaExceeded),
            other => other?,
        };
        let head = self.blobs.head_bytes(&stored.sha256).await?;
        Ok(UploadedBlob { sha256: stored.sha256, size: stored.size, content_type: sniff(&head).to_string() })
    }

    /// Deletes a staged blob that no file refers to (an upload that was not recorded).
    pub async fn discard(&self, sha256: &str) {
        if !self.store.blob_referenced(sha256).await.unwrap_or(true) {
            let _ = self.blobs.delete(sha256).await;
        }
    }
}

/// A short text part of an upload form, read to at most 4 KiB (this route has no body limit
/// but the file's own).
async fn small_text(name: &'static str, field: axum::extract::multipart::Field<'_>) -> Result<String, Error> {
    text_part(name, field, 4096).await
}

/// A text part of a multipart form, at most `max` bytes of UTF-8; errors name `name`.
pub(crate) async fn text_part(
    name: &str,
    mut field: axum::extract::multipart::Field<'_>,
    max: usize,
) -> Result<String, Error> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| form_error(name.to_string(), e))? {
        if buf.len() + chunk.len() > max {
            return Err(Error::invalid(name.to_string(), "is too long"));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| Error::invalid(name.to_string(), "must be UTF-8 text"))
}

/// A failed read of a multipart form: 408 when the body stopped arriving, else 422 naming
/// `field`.
pub(crate) fn form_error(field: impl Into<std::borrow::Cow<'static, str>>, e: MultipartError) -> Error {
    if crate::extract::stalled(&e) {
        Error::BodyTimeout
    } else {
        Error::invalid(field, format!("bad upload form: {e}"))
    }
}

/// The content type of stored bytes, from the bytes themselves (never the uploader's claim).
pub fn sniff(head: &[u8]) -> &'static str {
    if let Some(t) = infer::get(head) {
        return t.mime_type();
    }
    // Text without a magic number: only call it plain text if it decodes (a cut multi-byte
    // character at the end of the sniffed window is fine).
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    };
    if valid && !head.contains(&0) { "text/plain" } else { "application/octet-stream" }
}

/// Types a browser may show inline (SEC-IO-5): never HTML, SVG or anything scriptable.
fn inline_safe(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "application/pdf"
            | "video/mp4"
            | "video/webm"
            | "audio/mpeg"
            | "audio/ogg"
            | "audio/x-wav"
            | "text/plain"
    )
}

/// `?folder_id=&deleted=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FilesQuery {
    /// Only this folder's files.
    pub folder_id: Option<String>,
    /// `true`: deleted files still restorable (staff only).
    pub deleted: Option<bool>,
}

/// A project's files the caller can see, by name.
#[utoipa::path(get, path = "/api/v1/projects/{id}/files", tag = "files", params(("id" = uuid::Uuid, Path), FilesQuery),
    responses((status = 200, body = List<File>), (status = 404)))]
pub async fn list_files(
    State(st): State<AppState>,
    auth: Authed,
    Id(pid): Id<ProjectId>,
    Q(q): Q<FilesQuery>,
) -> AppResult<Json<List<File>>> {
    let folder = match q.folder_id.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<FolderId>()?),
    };
    let items = st.store.files(&auth.actor, pid, folder, q.deleted.unwrap_or(false)).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// One file.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = File), (status = 404)))]
pub async fn get_file(State(st): State<AppState>, auth: Authed, Id(id): Id<FileId>) -> AppResult<Json<File>> {
    Ok(Json(st.store.file(&auth.actor, id).await?))
}

/// `PATCH /files/{id}`: rename and/or move.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilePatchBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub folder_id: Option<String>,
}

/// Rename or move a file (staff, or the client user who uploaded it).
#[utoipa::path(patch, path = "/api/v1/files/{id}", tag = "files", params(("id" = uuid::Uuid, Path)),
    request_body = FilePatchBody, responses((status = 200, body = File), (status = 403), (status = 404), (status = 422)))]
pub async fn update_file(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<FileId>,
    ApiJson(b): ApiJson<FilePatchBody>,
) -> AppResult<Json<File>> {
    let folder = match b.folder_id.as_deref() {
        None => None,
        Some(s) => Some(s.parse::<FolderId>().map_err(|_| Error::invalid("folder_id", "is not a folder id"))?),
    };
    Ok(Json(st.store.update_file(&auth.actor, id, b.name, folder, Some(&ip)).await?))
}

/// Delete a file (soft; staff can restore it for 30 days).
#[utoipa::path(delete, path = "/api/v1/files/{id}", tag = "files", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_file(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<FileId>,
) -> AppResult<StatusCode> {
    st.store.delete_file(&auth.actor, id, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore a deleted file (staff, within 30 days).
#[utoipa::path(post, path = "/api/v1/files/{id}/restore", tag = "files", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = File), (status = 404), (status = 409), (status = 410)))]
pub async fn restore_file(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<FileId>,
) -> AppResult<Json<File>> {
    Ok(Json(st.store.restore_file(&auth.actor, id, Some(&ip)).await?))
}

/// Every version of a file, newest first.
#[utoipa::path(get, path = "/api/v1/files/{id}/versions", tag = "files", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<FileVersion>), (status = 404)))]
pub async fn list_versions(
    State(st): State<AppState>,
    auth: Authed,
    Id(id): Id<FileId>,
) -> AppResult<Json<List<FileVersion>>> {
    let items = st.store.file_versions(&auth.actor, id).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// `?version=&inline=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DownloadQuery {
    /// A version number (default: the current one).
    pub version: Option<String>,
    /// `true` to view in the browser — honoured only for images, PDF, video, audio and plain text.
    pub inline: Option<bool>,
}

/// Download a file (streamed; `Range: bytes=` supported). Served as an attachment unless
/// `inline=true` and the sniffed type is safe to show.
#[utoipa::path(get, path = "/api/v1/files/{id}/download", tag = "files", params(("id" = uuid::Uuid, Path), DownloadQuery),
    responses((status = 200, description = "the file"), (status = 206, description = "a byte range"), (status = 404), (status = 416)))]
pub async fn download(
    State(st): State<AppState>,
    auth: Authed,
    Id(id): Id<FileId>,
    Q(q): Q<DownloadQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let version = version_param(q.version.as_deref())?;
    let (file, v) = st.store.file_download(&auth.actor, id, version).await?;
    serve_blob(&st, &file.name, &v.sha256, &v.content_type, v.size, q.inline.unwrap_or(false), &headers).await
}

/// `?version=`: a version number, or the current version when absent or empty.
fn version_param(v: Option<&str>) -> Result<Option<u32>, Error> {
    match v {
        None | Some("") => Ok(None),
        Some(s) => s.parse::<u32>().map(Some).map_err(|_| Error::invalid("version", "must be a version number")),
    }
}

/// `?version=&size=` of a thumbnail.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ThumbnailQuery {
    /// A version number (default: the current one).
    pub version: Option<String>,
    /// `small` (at most 320 px, the default) or `large` (at most 1,200 px).
    pub size: Option<String>,
}

/// A thumbnail (PNG) of an image, or of a PDF's first page, made by decoding and re-encoding it:
/// no metadata of the original (EXIF: camera, location) survives. Other types, images over
/// 40 MiB or 8,000 px and PDFs over 64 MiB, over the pre-check's limits or that cannot be
/// rendered within the worker's limits have none (404). Each version's outcome is rendered once
/// and stored; a request that waits too long for its client's turn or a slot gets 429.
#[utoipa::path(get, path = "/api/v1/files/{id}/thumbnail", tag = "files", params(("id" = uuid::Uuid, Path), ThumbnailQuery),
    responses((status = 200, content_type = "image/png", description = "the thumbnail"), (status = 304), (status = 404)))]
pub async fn thumbnail(
    State(st): State<AppState>,
    auth: Authed,
    Id(id): Id<FileId>,
    Q(q): Q<ThumbnailQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let version = version_param(q.version.as_deref())?;
    let size = match q.size.as_deref() {
        None | Some("") | Some("small") => preview::THUMB_SIZE,
        Some("large") => preview::LARGE_SIZE,
        Some(_) => return Err(Error::invalid("size", "must be small or large").into()),
    };
    let (file, v) = st.store.file_download(&auth.actor, id, version).await?;
    let kind = preview::Kind::of(&v.content_type, &file.name);
    let Some(limit) = kind.thumbnail_limit() else { return Err(Error::NotFound.into()) };
    if v.size > limit {
        return Err(Error::NotFound.into());
    }
    // The same version's thumbnail never changes: its hash and size name it.
    let etag = format!("\"{}-{size}\"", v.sha256);
    let fresh = headers.get(header::IF_NONE_MATCH).and_then(|h| h.to_str().ok()).is_some_and(|h| h == etag);
    let body = if fresh {
        None
    } else {
        // Renders queue per client owning the file, so one client's uploads wait for each other.
        let owner = match auth.actor.client_id() {
            Some(c) => c,
            None => st.store.project(&auth.actor.work_scope(), file.project_id).await?.client_id,
        };
        match st.previews.thumbnail(&st.blobs, owner, kind, &v.sha256, size).await? {
            Some(png) => Some(png),
            None => return Err(Error::NotFound.into()),
        }
    };
    let mut res = match body {
        Some(png) => Response::new(Body::from(png)),
        None => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r
        }
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; frame-ancestors 'none'"),
    );
    Ok(res)
}

/// Streams a stored blob as a download (shared with the HTML download route).
pub async fn serve_blob(
    st: &AppState,
    name: &str,
    sha256: &str,
    content_type: &str,
    size: u64,
    inline: bool,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) => match parse_range(r, size) {
            Some(r) => Some(r),
            None => {
                let mut res = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    res.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return Ok(res);
            }
        },
        None => None,
    };
    let read = st.blobs.get(sha256, range.clone()).await?;
    let show = inline && inline_safe(content_type);
    let mut res = Response::new(Body::from_stream(read.stream));
    let h = res.headers_mut();
    // Bytes are only sniffed as text/plain when they decode as UTF-8, so say so: a browser
    // never guesses another charset (or a type) for them.
    let ct = match (show, content_type) {
        (true, "text/plain") => "text/plain; charset=utf-8",
        (true, ct) => ct,
        (false, _) => "application/octet-stream",
    };
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(ct).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(if show { "inline" } else { "attachment" }, name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; frame-ancestors 'none'"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
        h.insert(header::ETAG, v);
    }
    let len = read.range.end - read.range.start;
    if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    if range.is_some() {
        *res.status_mut() = StatusCode::PARTIAL_CONTENT;
        let cr = format!("bytes {}-{}/{}", read.range.start, read.range.end.saturating_sub(1), read.size);
        if let Ok(v) = HeaderValue::from_str(&cr) {
            res.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(res)
}

/// One `bytes=` range (`a-b`, `a-`, `-n`) as a half-open range within `size`; `None` when it
/// cannot be satisfied (several ranges are not supported and are refused the same way).
pub fn parse_range(header: &str, size: u64) -> Option<std::ops::Range<u64>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        size.saturating_sub(n)..size
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() { size - 1 } else { b.parse::<u64>().ok()?.min(size - 1) };
        if start > end || start >= size {
            return None;
        }
        start..end + 1
    };
    Some(range)
}

/// `Content-Disposition` with an ASCII fallback and the exact name as RFC 5987 `filename*`
/// (RFC 6266); quotes, backslashes and control characters never reach the header.
pub fn content_disposition(kind: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' && c != '%' { c } else { '_' })
        .collect();
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    let exact = percent_encoding::utf8_percent_encode(name, SET);
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{exact}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_parsed_within_the_size() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(0..10));
        assert_eq!(parse_range("bytes=90-", 100), Some(90..100));
        assert_eq!(parse_range("bytes=-5", 100), Some(95..100));
        assert_eq!(parse_range("bytes=95-200", 100), Some(95..100));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }

    #[test]
    fn dispositions_are_safe_and_exact() {
        let d = content_disposition("attachment", "Ré\"sumé\\ 2026.pdf");
        assert_eq!(d, "attachment; filename=\"R__sum__ 2026.pdf\"; filename*=UTF-8''R%C3%A9%22sum%C3%A9%5C%202026.pdf");
        assert!(!content_disposition("inline", "a\r\nb").contains('\n'));
    }

    #[test]
    fn sniffing_uses_the_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), "application/pdf");
        assert_eq!(sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0]), "image/png");
        assert_eq!(sniff(b"plain words"), "text/plain");
        // HTML is recognised as such, and HTML is never shown inline.
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), "text/html");
        assert_eq!(sniff(&[0, 1, 2, 3]), "application/octet-stream");
        assert!(!inline_safe("text/html") && !inline_safe("image/svg+xml"));
    }
}
