//! The portal's request form as sent: a multipart body whose text fields become pairs (as a
//! url-encoded form would give) and whose files — attachments and the request form's file
//! answers — are streamed into storage within the upload limit and the client's quota, to be
//! recorded with the ticket in one transaction (or discarded if it is refused).

use atrium_core::Error;
use atrium_core::ids::ProjectId;
use atrium_core::policy::Actor;
use atrium_store::files::{UploadTarget, check_name};
use atrium_store::ticket_files::{ATTACHMENTS_MAX, TicketFiles, TicketUpload, UploadSlot};
use axum::extract::Multipart;
use axum::extract::multipart::Field;

use crate::api::files::{UploadTo, form_error, text_part};
use crate::state::AppState;

/// The longest text field (the description is at most 20,000 characters of UTF-8).
pub const TEXT_FIELD_MAX: usize = 100 * 1024;

/// The most text fields one request form sends.
pub const TEXT_FIELDS_MAX: usize = 200;

/// The most files one request form sends (attachments and file answers together).
pub const FILES_MAX: usize = ATTACHMENTS_MAX + 10;

/// What the form sent: its text fields and its staged files.
pub struct SentRequest {
    pub pairs: Vec<(String, String)>,
    pub files: TicketFiles,
}

impl SentRequest {
    /// Deletes the staged files' bytes (the ticket was refused, so no file records them).
    pub async fn discard(&self, st: &AppState) {
        let to = UploadTo { store: &st.store, blobs: &st.blobs, max_upload: st.config.max_upload };
        for u in &self.files.uploads {
            to.discard(&u.blob.sha256).await;
        }
    }
}

/// Reads the form. Files need the project chosen before them (the form lists it first); an
/// empty file input is no file. On an error, whatever was staged is discarded.
pub async fn read(st: &AppState, actor: &Actor, mut form: Multipart) -> Result<SentRequest, Error> {
    let mut sent = SentRequest { pairs: Vec::new(), files: TicketFiles::default() };
    match read_into(st, actor, &mut form, &mut sent).await {
        Ok(()) => Ok(sent),
        Err(e) => {
            sent.discard(st).await;
            Err(e)
        }
    }
}

async fn read_into(st: &AppState, actor: &Actor, form: &mut Multipart, sent: &mut SentRequest) -> Result<(), Error> {
    let mut staged: u64 = 0;
    while let Some(field) = form.next_field().await.map_err(|e| form_error("attachments", e))? {
        let name = field.name().unwrap_or_default().to_string();
        let Some(file_name) = field.file_name().map(str::to_string) else {
            if sent.pairs.len() >= TEXT_FIELDS_MAX {
                return Err(Error::invalid("form", format!("at most {TEXT_FIELDS_MAX} fields")));
            }
            let value = text_part(&name, field, TEXT_FIELD_MAX).await?;
            sent.pairs.push((name, value));
            continue;
        };
        let slot = match name.strip_prefix("field.") {
            Some(key) => UploadSlot::Field(key.to_string()),
            None if name == "attachments" => UploadSlot::Attachment,
            None => return Err(Error::invalid(name, "is not a file field of this form")),
        };
        if file_name.is_empty() {
            drain(field).await?;
            continue;
        }
        if sent.files.uploads.len() >= FILES_MAX {
            return Err(Error::invalid("attachments", format!("at most {ATTACHMENTS_MAX} files")));
        }
        let target = target(st, actor, &sent.pairs, &mut sent.files.target).await?;
        let name = check_name("attachments", &file_name)?;
        let body = futures_util::TryStreamExt::map_err(field, |e| {
            if crate::extract::stalled(&e) {
                Error::BodyTimeout
            } else {
                Error::invalid("attachments", "the upload was interrupted")
            }
        });
        let to = UploadTo { store: &st.store, blobs: &st.blobs, max_upload: st.config.max_upload };
        let blob = to.stage(&target, staged, body).await?;
        staged += blob.size;
        sent.files.uploads.push(TicketUpload { slot, name, blob });
    }
    Ok(())
}

/// Where the files go: the root folder of the project chosen above them (found once; this is
/// where the right to upload there is asked).
async fn target(
    st: &AppState,
    actor: &Actor,
    pairs: &[(String, String)],
    found: &mut Option<UploadTarget>,
) -> Result<UploadTarget, Error> {
    if let Some(t) = found {
        return Ok(t.clone());
    }
    let project = pairs.iter().find(|(k, _)| k == "project_id").map(|(_, v)| v.trim()).unwrap_or_default();
    if project.is_empty() {
        return Err(Error::invalid("attachments", "choose the project the files belong to"));
    }
    let project: ProjectId = project.parse().map_err(|_| Error::invalid("project_id", "no such project"))?;
    let t = st.store.upload_target(actor, project, None, st.config.client_quota).await?;
    *found = Some(t.clone());
    Ok(t)
}

/// Reads an empty file input's part to its end.
async fn drain(mut field: Field<'_>) -> Result<(), Error> {
    let mut n = 0usize;
    while let Some(chunk) = field.chunk().await.map_err(|e| form_error("attachments", e))? {
        n += chunk.len();
        if n > TEXT_FIELD_MAX {
            return Err(Error::invalid("attachments", "a file without a name"));
        }
    }
    Ok(())
}
