//! The activity log (owners and admins): who did what, as whom, when and from where.

use std::collections::HashMap;

use askama::Template;
use atrium_core::ids::{ClientId, UserId};
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::Chrome;
use crate::api::input::empty_none;
use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::Q;
use crate::state::AppState;

/// How many entries the page shows.
const SHOWN: u64 = 200;

/// Optional filter.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    #[serde(default, deserialize_with = "empty_none")]
    client_id: Option<ClientId>,
}

struct Row {
    at: String,
    who: String,
    as_whom: String,
    action: String,
    subject: String,
    client: String,
    ip: String,
}

#[derive(Template)]
#[template(path = "staff_activity.html")]
struct ActivityPage {
    chrome: Chrome,
    rows: Vec<Row>,
    client_name: Option<String>,
    shown: u64,
}

/// The newest entries of the activity log, optionally of one client.
pub async fn page(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Q(q): Q<ActivityQuery>,
) -> AppResult<Response> {
    let req = atrium_store::paging::PageRequest { limit: SHOWN, cursor: None };
    let records = st.store.audit_log(&auth.actor, q.client_id, req).await?.items;
    let client_name = match q.client_id {
        Some(c) => Some(st.store.client(&auth.actor.client_scope(), c).await?.name),
        None => None,
    };
    let mut ids: Vec<UserId> = records.iter().flat_map(|r| [r.actor_id, r.via_user_id]).flatten().map(UserId).collect();
    ids.sort();
    ids.dedup();
    let names = st.store.user_names(&auth.actor, &ids).await?;
    let clients: HashMap<ClientId, String> = super::staff::client_names(&st, &auth).await?;
    let name_of = |id: Option<uuid::Uuid>| {
        id.map(|u| names.get(&UserId(u)).cloned().unwrap_or_else(|| "a removed user".into())).unwrap_or_default()
    };
    let local = st.store.local_time(&auth.actor).await?;
    let rows = records
        .into_iter()
        .map(|r| Row {
            at: local.precise(r.at),
            who: if r.actor_id.is_some() { name_of(r.actor_id) } else { "—".into() },
            as_whom: name_of(r.via_user_id),
            action: r.action,
            subject: match r.subject_id {
                Some(id) => format!("{} {}", r.subject_type, id.chars().take(8).collect::<String>()),
                None => r.subject_type,
            },
            client: r.client_id.and_then(|c| clients.get(&ClientId(c)).cloned()).unwrap_or_default(),
            ip: r.ip.unwrap_or_default(),
        })
        .collect();
    let chrome = Chrome::signed_in(&st, &auth, &csrf, "Activity", "/staff/activity");
    super::page(&ActivityPage { chrome, rows, client_name, shown: SHOWN })
}
