//! Automations: the agency's rules and the ready-made ones, and each rule's run log (owners and
//! admins; other staff 403; client users 404).

use atrium_core::automation::{Action, Automation, AutomationRun, BuiltinSettings, Conditions, RuleContent, Trigger};
use atrium_core::ids::AutomationId;
use atrium_store::automations::AutomationPatch;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::list::List;
use crate::auth::Authed;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp, Id};
use crate::state::AppState;

/// `PATCH /automations/{id}`: each part sent replaces that part. A ready-made rule takes
/// `enabled` and `settings` only.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomationPatchBody {
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub trigger: Option<Trigger>,
    #[serde(default)]
    pub conditions: Option<Conditions>,
    #[serde(default)]
    pub actions: Option<Vec<Action>>,
    #[serde(default)]
    pub settings: Option<BuiltinSettings>,
}

/// The rules: the ready-made ones first, then the agency's own by name.
#[utoipa::path(get, path = "/api/v1/automations", tag = "automations",
    responses((status = 200, body = List<Automation>), (status = 403), (status = 404)))]
pub async fn list_automations(State(st): State<AppState>, auth: Authed) -> AppResult<Json<List<Automation>>> {
    Ok(Json(List { items: st.store.automations(&auth.actor).await?, next_cursor: None }))
}

/// Add a rule. 422 names the field: `trigger.days_before`, `actions[0].body` (an unknown
/// placeholder), `actions[1].to`, `conditions.priority`.
#[utoipa::path(post, path = "/api/v1/automations", tag = "automations", request_body = RuleContent,
    responses((status = 201, body = Automation), (status = 403), (status = 404), (status = 422)))]
pub async fn create_automation(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<RuleContent>,
) -> AppResult<(StatusCode, Json<Automation>)> {
    Ok((StatusCode::CREATED, Json(st.store.create_automation(&auth.actor, b, Some(&ip)).await?)))
}

/// One rule.
#[utoipa::path(get, path = "/api/v1/automations/{id}", tag = "automations", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Automation), (status = 403), (status = 404)))]
pub async fn get_automation(
    State(st): State<AppState>,
    auth: Authed,
    Id(id): Id<AutomationId>,
) -> AppResult<Json<Automation>> {
    Ok(Json(st.store.automation(&auth.actor, id).await?))
}

/// Change or switch a rule; its pending runs are cancelled.
#[utoipa::path(patch, path = "/api/v1/automations/{id}", tag = "automations", params(("id" = uuid::Uuid, Path)),
    request_body = AutomationPatchBody,
    responses((status = 200, body = Automation), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update_automation(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<AutomationId>,
    ApiJson(b): ApiJson<AutomationPatchBody>,
) -> AppResult<Json<Automation>> {
    let p = AutomationPatch {
        name: b.name,
        enabled: b.enabled,
        trigger: b.trigger,
        conditions: b.conditions,
        actions: b.actions,
        settings: b.settings,
    };
    Ok(Json(st.store.update_automation(&auth.actor, id, p, Some(&ip)).await?))
}

/// Delete one of the agency's own rules and its log (a ready-made rule: 409, switch it off).
#[utoipa::path(delete, path = "/api/v1/automations/{id}", tag = "automations", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn delete_automation(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<AutomationId>,
) -> AppResult<StatusCode> {
    st.store.delete_automation(&auth.actor, id, Some(&ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A rule's latest runs, newest first (at most 200): subject, step, time and outcome.
#[utoipa::path(get, path = "/api/v1/automations/{id}/runs", tag = "automations", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = List<AutomationRun>), (status = 403), (status = 404)))]
pub async fn automation_runs(
    State(st): State<AppState>,
    auth: Authed,
    Id(id): Id<AutomationId>,
) -> AppResult<Json<List<AutomationRun>>> {
    Ok(Json(List { items: st.store.automation_runs(&auth.actor, id).await?, next_cursor: None }))
}
