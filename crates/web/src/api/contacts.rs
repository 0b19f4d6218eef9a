//! Client contacts (staff only; a client user gets 404 as for every staff resource).

use atrium_core::ids::{ClientId, ContactId};
use atrium_core::model::Contact;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::input::ContactBody;
use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id};
use crate::state::AppState;

/// A client's contacts, by name (staff only).
#[utoipa::path(get, path = "/api/v1/clients/{id}/contacts", tag = "clients", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<Contact>), (status = 404)))]
pub async fn list_contacts(
    State(st): State<AppState>,
    auth: Authed,
    Id(cid): Id<ClientId>,
) -> AppResult<Json<List<Contact>>> {
    let items = st.store.contacts(&auth.actor.client_scope(), cid).await?;
    Ok(Json(List { items, next_cursor: None }))
}

/// Add a contact to a client (staff only).
#[utoipa::path(post, path = "/api/v1/clients/{id}/contacts", tag = "clients", params(("id" = uuid::Uuid, Path)),
    request_body = ContactBody, responses((status = 201, body = Contact), (status = 404), (status = 422)))]
pub async fn create_contact(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(cid): Id<ClientId>,
    ApiJson(b): ApiJson<ContactBody>,
) -> AppResult<(StatusCode, Json<Contact>)> {
    auth.actor.may_manage_clients()?;
    let n = b.validate()?;
    Ok((StatusCode::CREATED, Json(st.store.create_contact(&auth.actor, cid, n, Some(&ip)).await?)))
}

/// Remove a contact (staff only).
#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "clients", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404)))]
pub async fn delete_contact(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<ContactId>,
) -> AppResult<StatusCode> {
    st.store.delete_contact(&auth.actor, id, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}
