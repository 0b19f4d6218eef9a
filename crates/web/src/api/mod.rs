//! The JSON API v1 (`../shared/spec/api-v1.md`). Routes are registered together with their
//! OpenAPI description, so a route cannot exist without appearing in `/api/v1/openapi.json`
//! (and therefore in the authorization matrix test, which walks that document).

mod account;
mod approvals;
mod automations;
pub mod billing;
mod branding;
mod collab;
mod contacts;
pub mod files;
mod helpdesk;
pub mod input;
mod list;
mod portal;
mod project_pages;
mod recurring;
mod session;
pub mod templates;
pub mod tickets;
pub mod token_scope;
mod tokens;
mod users;
pub(crate) mod work;

use axum::Json;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use list::List;

use atrium_core::policy::PortalPage;

use crate::audience::{Audience, admit};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Atrium API", version = "1", description = "The JSON API of Atrium, a self-hosted client portal."),
    modifiers(&BearerAuth),
    security(("session" = []), ("api_token" = []))
)]
struct ApiDoc;

/// The two bearer schemes: a session token (`POST /session`; browsers send the session cookie
/// instead) and a personal API token (`atr_…`, limited by its scopes).
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |format: &str, description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format(format)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            "session",
            bearer("session", "A session token from `POST /api/v1/session` (or the browser's session cookie)."),
        );
        components.add_security_scheme(
            "api_token",
            bearer(
                "atr_",
                "A personal API token (`atr_…`, from `POST /api/v1/api-tokens`): it acts as its owner within its \
                 scopes (`read`, `write`, `<area>:read`, `<area>:write`); a scope it lacks is 403. It cannot \
                 manage API tokens, sign out or change the password.",
            ),
        );
    }
}

/// The API: each operation registered under one audience, behind that audience's layer.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(behind(Audience::Public, public()))
        .merge(behind(Audience::SignedIn, signed_in()))
        .merge(behind(Audience::SignedIn, logo_upload()))
        .merge(behind(Audience::Staff, staff()))
        .merge(areas().into_iter().fold(OpenApiRouter::new(), |api, (page, routes)| {
            api.merge(behind(Audience::SignedIn, in_area(page, routes)))
        }))
}

/// `routes` behind the [`crate::audience::area`] layer of `page` (404 for the users of a
/// client whose portal hides it).
fn in_area(page: PortalPage, routes: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    routes.route_layer(axum::middleware::from_fn_with_state(page, crate::audience::area))
}

/// The operations of each portal area that a client can hide: every path of the area is 404
/// for that client's users; staff keep it.
fn areas() -> Vec<(PortalPage, OpenApiRouter<AppState>)> {
    vec![
        (PortalPage::Files, files_area()),
        (PortalPage::Files, uploads()),
        (PortalPage::Messages, messages_area()),
        (PortalPage::Approvals, approvals_area()),
        (PortalPage::Billing, billing_area()),
        (PortalPage::HelpDesk, helpdesk_area()),
    ]
}

/// Every API operation filed under a portal area, as `(area, method, path)` (the hidden-area
/// test walks it, as the authorization matrix walks the whole document).
pub fn area_operations() -> Vec<(PortalPage, String, String)> {
    let mut out = Vec::new();
    for (page, routes) in areas() {
        let doc = routes.split_for_parts().1;
        for (path, item) in doc.paths.paths {
            for method in ["get", "put", "post", "delete", "patch"] {
                let op = match method {
                    "get" => &item.get,
                    "put" => &item.put,
                    "post" => &item.post,
                    "delete" => &item.delete,
                    _ => &item.patch,
                };
                if op.is_some() {
                    out.push((page, method.to_string(), path.clone()));
                }
            }
        }
    }
    out
}

/// `routes` behind the [`admit`] layer of `audience`, then the API token scope check
/// ([`token_scope::enforce`]), so every API route limits tokens by its area.
fn behind(audience: Audience, routes: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    routes
        .route_layer(axum::middleware::from_fn(token_scope::enforce))
        .route_layer(axum::middleware::from_fn_with_state(audience, admit))
}

/// Operations for anyone: signing in, magic links, accepting an invitation.
fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session::login))
        .routes(routes!(session::magic_link))
        .routes(routes!(session::accept_invitation))
        .routes(routes!(branding::get_logo))
}

/// Operations for any signed-in user; each is scoped by the store and asks the policy.
fn signed_in() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session::logout))
        .routes(routes!(session::me, session::update_me))
        .routes(routes!(session::finish_onboarding))
        .routes(routes!(account::change_password))
        .routes(routes!(account::list_sessions))
        .routes(routes!(account::revoke_session))
        .routes(routes!(account::audit))
        .routes(routes!(tokens::list_api_tokens, tokens::create_api_token))
        .routes(routes!(tokens::revoke_api_token))
        .routes(routes!(users::update_user))
        .routes(routes!(session::invite))
        .routes(routes!(work::list_clients, work::create_client))
        .routes(routes!(work::get_client, work::update_client, work::delete_client))
        .routes(routes!(work::restore_client))
        .routes(routes!(contacts::list_contacts, contacts::create_contact))
        .routes(routes!(contacts::delete_contact))
        .routes(routes!(work::list_projects, work::create_project))
        .routes(routes!(work::get_project, work::update_project))
        .routes(routes!(work::list_milestones, work::create_milestone))
        .routes(routes!(work::update_milestone))
        .routes(routes!(project_pages::list_pages, project_pages::create_page))
        .routes(routes!(project_pages::get_page, project_pages::update_page, project_pages::delete_page))
        .routes(routes!(project_pages::get_team, project_pages::put_team))
        .routes(routes!(work::list_tasks, work::create_task))
        .routes(routes!(work::my_tasks))
        .routes(routes!(work::get_task, work::update_task))
        .routes(routes!(work::list_comments, work::create_comment))
        .routes(routes!(collab::mentionable))
        .routes(routes!(collab::list_notifications))
        .routes(routes!(collab::read_notifications))
        .routes(routes!(collab::get_settings, collab::put_setting))
        .routes(routes!(collab::events))
        .routes(routes!(collab::failed_jobs))
        .routes(routes!(collab::retry_job))
        .routes(routes!(portal::get_client_portal, portal::update_client_portal))
        .routes(routes!(portal::own_portal))
        .routes(routes!(portal::get_defaults, portal::update_defaults))
        .routes(routes!(helpdesk::get_settings, helpdesk::put_settings))
        .routes(routes!(helpdesk::list_saved_replies, helpdesk::create_saved_reply))
        .routes(routes!(helpdesk::update_saved_reply, helpdesk::delete_saved_reply))
        .routes(routes!(templates::list_templates, templates::create_template))
        .routes(routes!(templates::get_template, templates::update_template, templates::delete_template))
        .routes(routes!(templates::copy_template))
        .routes(routes!(templates::save_as_template))
        .routes(routes!(templates::get_onboarding, templates::put_onboarding))
        .routes(routes!(automations::list_automations, automations::create_automation))
        .routes(routes!(automations::get_automation, automations::update_automation, automations::delete_automation))
        .routes(routes!(automations::automation_runs))
}

/// Operations for staff acting as themselves only: everyone else is refused by the audience
/// layer (404) before the handler runs, whatever its body does.
fn staff() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(recurring::list_recurring, recurring::create_recurring)).routes(routes!(
        recurring::get_recurring,
        recurring::update_recurring,
        recurring::delete_recurring
    ))
}

/// The Messages area: project conversations.
fn messages_area() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(collab::list_messages, collab::create_message))
        .routes(routes!(collab::edit_message, collab::delete_message))
        .routes(routes!(collab::read_messages))
}

/// The Help desk area: tickets and their conversations, and the projects' request forms.
fn helpdesk_area() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(helpdesk::get_request_form, helpdesk::put_request_form))
        .routes(routes!(tickets::list_tickets, tickets::create_ticket))
        .routes(routes!(tickets::bulk_update))
        .routes(routes!(tickets::score))
        .routes(routes!(tickets::get_ticket, tickets::update_ticket))
        .routes(routes!(tickets::list_attachments))
        .routes(routes!(tickets::list_comments, tickets::create_comment))
        .routes(routes!(tickets::to_task))
        .routes(routes!(tickets::rate))
}

/// The Files area: folders, files, versions, downloads (the upload route is [`uploads`]).
fn files_area() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(files::list_folders, files::create_folder))
        .routes(routes!(files::list_files))
        .routes(routes!(files::get_file, files::update_file, files::delete_file))
        .routes(routes!(files::restore_file))
        .routes(routes!(files::list_versions))
        .routes(routes!(files::download))
        .routes(routes!(files::thumbnail))
}

/// The Approvals area.
fn approvals_area() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(approvals::list_approvals, approvals::create_approval))
        .routes(routes!(approvals::get_approval))
        .routes(routes!(approvals::decide))
}

/// The Billing area: invoices, payments, PDFs, the numbering.
fn billing_area() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(billing::list_invoices, billing::create_invoice))
        .routes(routes!(billing::export_csv))
        .routes(routes!(billing::get_invoice, billing::update_invoice))
        .routes(routes!(billing::send_invoice))
        .routes(routes!(billing::void_invoice))
        .routes(routes!(billing::reissue_invoice))
        .routes(routes!(billing::record_payment))
        .routes(routes!(billing::invoice_pdf))
        .routes(routes!(billing::get_settings, billing::put_settings))
        .routes(routes!(branding::get_branding, branding::put_branding))
        .routes(routes!(branding::delete_logo))
}

/// The upload route: its body is streamed to storage with the upload limit enforced there, so
/// the JSON body limit does not apply to it.
fn uploads() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(files::upload_file)).layer(axum::extract::DefaultBodyLimit::disable())
}

/// The logo upload: its own body limit (the logo's limit and the form around it), so a logo of
/// exactly the limit is taken whatever the JSON body limit is.
fn logo_upload() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(branding::put_logo))
        .route_layer(axum::extract::DefaultBodyLimit::max(crate::logo::LOGO_BODY_LIMIT))
}

/// The OpenAPI document generated from the registered routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

/// The API router, including `GET /api/v1/openapi.json`.
pub fn router() -> axum::Router<AppState> {
    let (router, doc) = api().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    router.route("/api/v1/openapi.json", get(move || async move { Json(doc.as_ref().clone()) }))
}
