//! The portal's own Files and Messages pages: every project of the client in one place. Both
//! read through the same scoped store queries as a project's Files and Messages pages (so a
//! staff-only folder or file never appears, nor another client's project), and both are routes
//! of their area, so a client whose portal hides it gets 404.

use askama::Template;
use atrium_core::model::Channel;
use atrium_core::policy::PortalPage;
use atrium_store::paging::PageRequest;
use axum::extract::State;
use axum::response::Response;

use super::files::human_size;
use super::{Chrome, page};
use crate::audience::PortalAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::state::AppState;

/// The most projects these pages list (a client's projects; the Projects page lists the same).
pub const PORTAL_WIDE_PROJECTS_MAX: u64 = 200;

struct FileLine {
    id: String,
    name: String,
    size: String,
    updated: String,
}

struct FolderGroup {
    id: String,
    name: String,
    files: Vec<FileLine>,
}

struct ProjectFiles {
    id: String,
    name: String,
    folders: Vec<FolderGroup>,
}

#[derive(Template)]
#[template(path = "portal_files.html")]
struct FilesPage {
    chrome: Chrome,
    projects: Vec<ProjectFiles>,
}

/// Files: one group per project of the client, each with its (visible) folders and files.
pub async fn files(State(st): State<AppState>, auth: PortalAuth, csrf: CsrfToken) -> AppResult<Response> {
    let a = &auth.actor;
    let req = PageRequest { limit: PORTAL_WIDE_PROJECTS_MAX, cursor: None };
    let projects = st.store.projects(&a.area_scope(PortalPage::Files), None, req).await?;
    let mut out = Vec::with_capacity(projects.items.len());
    let local = st.store.local_time(a).await?;
    for p in &projects.items {
        let folders = st.store.folders(a, p.id).await?;
        let files = st.store.files(a, p.id, None, false).await?;
        let mut groups: Vec<FolderGroup> = folders
            .iter()
            .map(|f| FolderGroup {
                id: f.id.to_string(),
                name: f.name.clone(),
                files: files
                    .iter()
                    .filter(|x| x.folder_id == f.id)
                    .map(|x| FileLine {
                        id: x.id.to_string(),
                        name: x.name.clone(),
                        size: human_size(x.size),
                        updated: local.date(x.updated_at),
                    })
                    .collect(),
            })
            .collect();
        groups.retain(|g| !g.files.is_empty());
        out.push(ProjectFiles { id: p.id.to_string(), name: p.name.clone(), folders: groups });
    }
    page(&FilesPage { chrome: Chrome::signed_in(&st, &auth, &csrf, "Files", "/portal/files"), projects: out })
}

struct Conversation {
    id: String,
    name: String,
    unread: u64,
    last_who: String,
    last_excerpt: String,
    last_when: String,
}

#[derive(Template)]
#[template(path = "portal_messages.html")]
struct MessagesPage {
    chrome: Chrome,
    conversations: Vec<Conversation>,
}

/// Messages: every project conversation of the client, those with unread messages first.
pub async fn messages(State(st): State<AppState>, auth: PortalAuth, csrf: CsrfToken) -> AppResult<Response> {
    let a = &auth.actor;
    let req = PageRequest { limit: PORTAL_WIDE_PROJECTS_MAX, cursor: None };
    let projects = st.store.projects(&a.area_scope(PortalPage::Messages), None, req).await?;
    let ids: Vec<_> = projects.items.iter().map(|p| p.id).collect();
    let unread = st.store.unread_by_project(a, &ids).await?;
    let local = st.store.local_time(a).await?;
    let mut out = Vec::with_capacity(ids.len());
    for p in &projects.items {
        let last = st.store.messages(a, p.id, Channel::Client, PageRequest { limit: 1, cursor: None }).await?;
        let last = last.items.first();
        out.push(Conversation {
            id: p.id.to_string(),
            name: p.name.clone(),
            unread: unread.get(&p.id).copied().unwrap_or(0),
            last_who: last.map(|m| m.author_name.clone()).unwrap_or_default(),
            last_excerpt: last.map(|m| super::view::excerpt(&m.body)).unwrap_or_default(),
            last_when: last.map(|m| local.short(m.created_at)).unwrap_or_default(),
        });
    }
    // Unread first (most unread first), then newest project first, as the projects come.
    out.sort_by_key(|c| std::cmp::Reverse(c.unread));
    page(&MessagesPage {
        chrome: Chrome::signed_in(&st, &auth, &csrf, "Messages", "/portal/messages"),
        conversations: out,
    })
}
