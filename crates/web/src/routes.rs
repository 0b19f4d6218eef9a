//! The router: every HTML page is listed once in [`PAGES`]-style table entries returned by
//! [`page_routes`] (the authorization matrix test walks the same table), the API comes from
//! [`crate::api::router`] (walked through its OpenAPI document).

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, Request, StatusCode};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutBody};
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::pages::{
    account, activity, approvals, billing, collab, files, helpdesk, portal, portal_wide, project_pages, public, rating,
    recurring, staff, task, tokens, welcome,
};
use crate::state::AppState;
use crate::{api, audience, auth, branding, csrf, headers, pages};

pub use crate::audience::Audience;
use atrium_core::policy::PortalPage;

/// One HTML route.
pub struct PageRoute {
    pub method: Method,
    /// Axum path pattern (`{id}` parameters).
    pub path: &'static str,
    pub audience: Audience,
    /// The portal area the route belongs to: 404 for the users of a client whose portal hides
    /// it ([`audience::area`]).
    pub area: Option<PortalPage>,
    pub handler: MethodRouter<AppState>,
}

impl PageRoute {
    /// This route filed under the portal area `page`.
    fn area(self, page: PortalPage) -> Self {
        PageRoute { area: Some(page), ..self }
    }
}

fn r(method: Method, path: &'static str, audience: Audience, handler: MethodRouter<AppState>) -> PageRoute {
    PageRoute { method, path, audience, area: None, handler }
}

/// Every HTML page and form action.
pub fn page_routes() -> Vec<PageRoute> {
    use Audience::*;
    use PortalPage::{Approvals, Billing, Files, HelpDesk, Messages};
    vec![
        r(Method::GET, "/", Public, get(public::index)),
        r(Method::GET, "/favicon.ico", Public, get(branding::favicon)),
        r(Method::GET, "/branding.css", Public, get(branding::stylesheet)),
        r(Method::GET, "/login", Public, get(public::login_page)),
        r(Method::POST, "/login", Public, post(public::login)),
        r(Method::POST, "/login/link", Public, post(public::request_magic_link)),
        r(Method::GET, "/magic/{token}", Public, get(public::magic_page)),
        r(Method::POST, "/magic/{token}", Public, post(public::magic_login)),
        r(Method::GET, "/invite/{token}", Public, get(public::invite_page)),
        r(Method::POST, "/invite/{token}", Public, post(public::accept_invite)),
        r(Method::GET, "/reset", Public, get(public::reset_request_page)),
        r(Method::POST, "/reset", Public, post(public::reset_request)),
        r(Method::GET, "/reset/{token}", Public, get(public::reset_page)),
        r(Method::POST, "/reset/{token}", Public, post(public::reset)),
        r(Method::POST, "/logout", SignedIn, post(public::logout)),
        r(Method::GET, "/account", SignedIn, get(account::page)),
        r(Method::POST, "/account/password", SignedIn, post(account::change_password)),
        r(Method::POST, "/account/timezone", SignedIn, post(account::set_timezone)),
        r(Method::POST, "/account/sessions/{id}/revoke", SignedIn, post(account::revoke_session)),
        r(Method::GET, "/account/tokens", SignedIn, get(tokens::page)),
        r(Method::POST, "/account/tokens", SignedIn, post(tokens::create)),
        r(Method::POST, "/account/tokens/{id}/revoke", SignedIn, post(tokens::revoke)),
        r(Method::POST, "/view-as/exit", SignedIn, post(staff::clients::exit_view_as)),
        r(Method::GET, "/notifications", SignedIn, get(collab::notifications)),
        r(Method::GET, "/notifications/badge", SignedIn, get(collab::badge)),
        r(Method::POST, "/notifications/read-all", SignedIn, post(collab::read_all)),
        r(Method::POST, "/notifications/{id}/open", SignedIn, post(collab::open_notification)),
        r(Method::GET, "/account/notifications", SignedIn, get(collab::settings)),
        r(Method::POST, "/account/notifications", SignedIn, post(collab::save_settings)),
        r(Method::GET, "/unsubscribe/{user}/{kind}/{sig}", Public, get(collab::unsubscribe_page)),
        r(Method::POST, "/unsubscribe/{user}/{kind}/{sig}", Public, post(collab::unsubscribe)),
        r(Method::GET, "/rate/{ticket}/{rating}/{sig}", Public, get(rating::rate_page)),
        r(Method::POST, "/rate/{ticket}/{rating}/{sig}", Public, post(rating::rate)),
        r(Method::POST, "/messages/{id}/edit", SignedIn, post(collab::edit_message)).area(Messages),
        r(Method::POST, "/messages/{id}/delete", SignedIn, post(collab::delete_message)).area(Messages),
        r(Method::POST, "/files/{id}/delete", SignedIn, post(files::delete_file)).area(Files),
        r(Method::POST, "/files/{id}/update", SignedIn, post(files::update_file)).area(Files),
        r(Method::GET, "/staff", Staff, get(staff::my_work::my_work)),
        r(Method::GET, "/staff/clients", Staff, get(staff::clients::clients)),
        r(Method::POST, "/staff/clients", Staff, post(staff::clients::create_client)),
        r(Method::GET, "/staff/clients/{id}", Staff, get(staff::clients::client)),
        r(Method::POST, "/staff/clients/{id}", Staff, post(staff::clients::update_client)),
        r(Method::POST, "/staff/clients/{id}/delete", Staff, post(staff::clients::delete_client)),
        r(Method::POST, "/staff/clients/{id}/restore", Staff, post(staff::clients::restore_client)),
        r(Method::POST, "/staff/clients/{id}/invitations", Staff, post(staff::clients::invite)),
        r(Method::POST, "/staff/clients/{id}/invitation-text", Staff, post(staff::clients::set_invitation_text)),
        r(Method::POST, "/staff/clients/{id}/contacts", Staff, post(staff::clients::add_contact)),
        r(Method::POST, "/staff/contacts/{id}/delete", Staff, post(staff::clients::remove_contact)),
        r(Method::POST, "/staff/clients/{id}/projects", Staff, post(staff::projects::create_project)),
        r(Method::POST, "/staff/clients/{id}/revoke-access", Staff, post(staff::clients::revoke_access)),
        r(Method::POST, "/staff/clients/{id}/view-as", Staff, post(staff::clients::view_as)),
        r(Method::POST, "/staff/clients/{id}/portal", Staff, post(staff::portal_settings::update_client_portal)),
        r(Method::POST, "/staff/portal-defaults", Staff, post(staff::portal_settings::update_defaults)),
        r(Method::GET, "/staff/team", Staff, get(staff::team::team)),
        r(Method::GET, "/staff/activity", Staff, get(activity::page)),
        r(Method::POST, "/staff/users/{id}/active", Staff, post(staff::team::set_user_active)),
        r(Method::POST, "/staff/users/{id}/title", Staff, post(staff::team::set_title)),
        r(Method::POST, "/staff/team/invitations", Staff, post(staff::team::invite_staff)),
        r(Method::GET, "/staff/projects/{id}", Staff, get(staff::projects::project)),
        r(Method::POST, "/staff/projects/{id}", Staff, post(staff::projects::update_project)),
        r(Method::POST, "/staff/projects/{id}/tasks", Staff, post(staff::tasks::create_task)),
        r(Method::POST, "/staff/projects/{id}/milestones", Staff, post(staff::projects::create_milestone)),
        r(Method::POST, "/staff/milestones/{id}", Staff, post(staff::projects::set_milestone_done)),
        r(Method::POST, "/staff/projects/{id}/pages", Staff, post(project_pages::create)),
        r(Method::GET, "/staff/pages/{id}", Staff, get(project_pages::view)),
        r(Method::POST, "/staff/pages/{id}", Staff, post(project_pages::update)),
        r(Method::POST, "/staff/pages/{id}/delete", Staff, post(project_pages::delete)),
        r(Method::POST, "/staff/projects/{id}/team", Staff, post(project_pages::change_team)),
        r(Method::GET, "/staff/tasks/{id}", Staff, get(staff::tasks::task)),
        r(Method::POST, "/staff/tasks/{id}", Staff, post(staff::tasks::update_task)),
        r(Method::POST, "/staff/tasks/{id}/comments", Staff, post(task::comment)),
        r(Method::GET, "/staff/projects/{id}/messages", Staff, get(collab::staff_messages)).area(Messages),
        r(Method::POST, "/staff/projects/{id}/messages", Staff, post(collab::staff_post_message)).area(Messages),
        r(Method::GET, "/staff/outbox", Staff, get(collab::outbox)),
        r(Method::GET, "/staff/held-mail", Staff, get(staff::held_mail::held_mail)),
        r(Method::POST, "/staff/held-mail/discard", Staff, post(staff::held_mail::discard)),
        r(Method::GET, "/staff/projects/{id}/files", Staff, get(files::staff_files)).area(Files),
        r(Method::GET, "/staff/files/{id}", Staff, get(files::staff_file)).area(Files),
        r(
            Method::POST,
            "/staff/projects/{id}/files",
            Staff,
            post(files::staff_upload).layer(DefaultBodyLimit::disable()),
        )
        .area(Files),
        r(Method::POST, "/staff/projects/{id}/folders", Staff, post(files::create_folder)).area(Files),
        r(Method::POST, "/staff/files/{id}/restore", Staff, post(files::restore_file)).area(Files),
        r(Method::POST, "/staff/jobs/{id}/retry", Staff, post(collab::retry)),
        r(Method::GET, "/staff/settings/branding", Staff, get(staff::branding::page)),
        r(Method::POST, "/staff/settings/branding", Staff, post(staff::branding::save)),
        r(
            Method::POST,
            "/staff/settings/branding/logo",
            Staff,
            post(staff::branding::upload_logo).layer(DefaultBodyLimit::max(crate::logo::LOGO_BODY_LIMIT)),
        ),
        r(Method::POST, "/staff/settings/branding/logo/delete", Staff, post(staff::branding::remove_logo)),
        r(Method::GET, "/staff/settings/helpdesk", Staff, get(staff::service_levels::page)),
        r(Method::POST, "/staff/settings/helpdesk", Staff, post(staff::service_levels::save)),
        r(Method::GET, "/staff/templates", Staff, get(staff::templates::list)),
        r(Method::POST, "/staff/templates", Staff, post(staff::templates::create)),
        r(Method::GET, "/staff/templates/{id}", Staff, get(staff::templates::editor)),
        r(Method::POST, "/staff/templates/{id}", Staff, post(staff::templates::save)),
        r(Method::POST, "/staff/templates/{id}/copy", Staff, post(staff::templates::copy)),
        r(Method::POST, "/staff/templates/{id}/delete", Staff, post(staff::templates::delete)),
        r(Method::POST, "/staff/onboarding", Staff, post(staff::templates::save_onboarding)),
        r(Method::POST, "/staff/projects/{id}/template", Staff, post(staff::templates::save_project)),
        r(Method::GET, "/staff/automations", Staff, get(staff::automations::page)),
        r(Method::POST, "/staff/automations", Staff, post(staff::automations::create)),
        r(Method::GET, "/staff/automations/{id}", Staff, get(staff::automations::runs)),
        r(Method::POST, "/staff/automations/{id}/switch", Staff, post(staff::automations::switch)),
        r(Method::POST, "/staff/automations/{id}/delete", Staff, post(staff::automations::delete)),
        r(Method::GET, "/staff/saved-replies", Staff, get(staff::saved_replies::page)),
        r(Method::POST, "/staff/saved-replies", Staff, post(staff::saved_replies::create)),
        r(Method::POST, "/staff/saved-replies/{id}", Staff, post(staff::saved_replies::update)),
        r(Method::POST, "/staff/saved-replies/{id}/delete", Staff, post(staff::saved_replies::delete)),
        r(Method::GET, "/staff/projects/{id}/request-form", Staff, get(staff::request_form::page)).area(HelpDesk),
        r(Method::POST, "/staff/projects/{id}/request-form", Staff, post(staff::request_form::save)).area(HelpDesk),
        r(Method::POST, "/staff/approvals", Staff, post(approvals::request)).area(Approvals),
        r(Method::GET, "/staff/approvals", Staff, get(approvals::staff_list)).area(Approvals),
        r(Method::GET, "/staff/approvals/{id}", Staff, get(approvals::staff_approval)).area(Approvals),
        r(Method::GET, "/staff/invoices", Staff, get(billing::staff_list)).area(Billing),
        r(Method::POST, "/staff/invoices", Staff, post(billing::staff_create)).area(Billing),
        r(Method::GET, "/staff/invoices/new", Staff, get(billing::staff_new)).area(Billing),
        r(Method::GET, "/staff/invoices/{id}", Staff, get(billing::staff_show)).area(Billing),
        r(Method::POST, "/staff/invoices/{id}", Staff, post(billing::staff_update)).area(Billing),
        r(Method::POST, "/staff/invoices/{id}/send", Staff, post(billing::staff_send)).area(Billing),
        r(Method::POST, "/staff/invoices/{id}/void", Staff, post(billing::staff_void)).area(Billing),
        r(Method::POST, "/staff/invoices/{id}/reissue", Staff, post(billing::staff_reissue)).area(Billing),
        r(Method::POST, "/staff/invoices/{id}/payments", Staff, post(billing::staff_payment)).area(Billing),
        r(Method::GET, "/staff/recurring-invoices", Staff, get(recurring::staff_list)).area(Billing),
        r(Method::POST, "/staff/recurring-invoices", Staff, post(recurring::staff_create)).area(Billing),
        r(Method::GET, "/staff/recurring-invoices/{id}", Staff, get(recurring::staff_show)).area(Billing),
        r(Method::POST, "/staff/recurring-invoices/{id}", Staff, post(recurring::staff_update)).area(Billing),
        r(Method::POST, "/staff/recurring-invoices/{id}/status", Staff, post(recurring::staff_status)).area(Billing),
        r(Method::POST, "/staff/recurring-invoices/{id}/delete", Staff, post(recurring::staff_delete)).area(Billing),
        r(Method::GET, "/staff/inbox", Staff, get(staff::inbox::inbox)).area(HelpDesk),
        r(Method::GET, "/staff/inbox/badge", Staff, get(staff::inbox::badge)).area(HelpDesk),
        r(Method::POST, "/staff/inbox/bulk", Staff, post(staff::inbox::bulk)).area(HelpDesk),
        r(Method::GET, "/staff/tickets/{id}", Staff, get(staff::inbox::ticket)).area(HelpDesk),
        r(Method::POST, "/staff/tickets/{id}", Staff, post(staff::inbox::update)).area(HelpDesk),
        r(Method::POST, "/staff/tickets/{id}/comments", Staff, post(helpdesk::comment)).area(HelpDesk),
        r(Method::POST, "/staff/tickets/{id}/task", Staff, post(staff::inbox::to_task)).area(HelpDesk),
        r(Method::GET, "/portal", Portal, get(portal::home)),
        r(Method::GET, "/portal/helpdesk", Portal, get(helpdesk::portal_list)).area(HelpDesk),
        r(Method::POST, "/portal/helpdesk", Portal, post(helpdesk::portal_create).layer(DefaultBodyLimit::disable()))
            .area(HelpDesk),
        r(Method::GET, "/portal/helpdesk/new", Portal, get(helpdesk::portal_new)).area(HelpDesk),
        r(Method::GET, "/portal/helpdesk/badge", Portal, get(helpdesk::portal_badge)).area(HelpDesk),
        r(Method::GET, "/portal/helpdesk/{id}", Portal, get(helpdesk::portal_ticket)).area(HelpDesk),
        r(Method::POST, "/portal/helpdesk/{id}/comments", Portal, post(helpdesk::comment)).area(HelpDesk),
        r(Method::POST, "/portal/helpdesk/{id}/status", Portal, post(helpdesk::portal_status)).area(HelpDesk),
        r(Method::POST, "/portal/helpdesk/{id}/satisfaction", Portal, post(helpdesk::portal_rate)).area(HelpDesk),
        r(Method::GET, "/portal/welcome", Portal, get(welcome::show)),
        r(Method::POST, "/portal/welcome", Portal, post(welcome::dismiss)),
        r(Method::GET, "/portal/pages/{id}", Portal, get(project_pages::view)),
        r(Method::GET, "/portal/billing", Portal, get(billing::portal_list)).area(Billing),
        r(Method::GET, "/portal/billing/{id}", Portal, get(billing::portal_show)).area(Billing),
        r(Method::GET, "/portal/projects", Portal, get(portal::projects)),
        r(Method::GET, "/portal/projects/{id}", Portal, get(portal::project)),
        r(Method::GET, "/portal/tasks", Portal, get(portal::my_tasks)),
        r(Method::GET, "/portal/tasks/{id}", Portal, get(portal::task)),
        r(Method::POST, "/portal/tasks/{id}/status", Portal, post(portal::set_status)),
        r(Method::POST, "/portal/tasks/{id}/comments", Portal, post(task::comment)),
        r(Method::GET, "/portal/projects/{id}/messages", Portal, get(collab::portal_messages)).area(Messages),
        r(Method::POST, "/portal/projects/{id}/messages", Portal, post(collab::portal_post_message)).area(Messages),
        r(Method::GET, "/portal/projects/{id}/files", Portal, get(files::portal_files)).area(Files),
        r(Method::GET, "/portal/files/{id}", Portal, get(files::portal_file)).area(Files),
        r(Method::GET, "/portal/files", Portal, get(portal_wide::files)).area(Files),
        r(Method::GET, "/portal/messages", Portal, get(portal_wide::messages)).area(Messages),
        r(Method::GET, "/portal/approvals", Portal, get(approvals::portal_list)).area(Approvals),
        r(Method::GET, "/portal/approvals/{id}", Portal, get(approvals::portal_approval)).area(Approvals),
        r(Method::POST, "/portal/approvals/{id}/decision", Portal, post(approvals::portal_decide)).area(Approvals),
        r(
            Method::POST,
            "/portal/projects/{id}/files",
            Portal,
            post(files::portal_upload).layer(DefaultBodyLimit::disable()),
        )
        .area(Files),
    ]
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    if st.store.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

async fn not_found() -> AppError {
    AppError(atrium_core::Error::NotFound)
}

/// The span every request runs in: method and path with one-time tokens masked (they travel in
/// the path of magic, invitation and reset links), and the user once authenticated (SEC-AC-8).
/// Query strings and headers are never recorded.
fn request_span(req: &axum::extract::Request) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %redacted_path(req.uri().path()),
        user = tracing::field::Empty,
    )
}

/// `path` with every segment shaped like a secret token replaced by `:token`.
pub fn redacted_path(path: &str) -> String {
    path.split('/')
        .map(|seg| if atrium_core::token::well_formed(seg) { ":token" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// The page routes grouped by audience, each group behind its audience's [`audience::admit`]
/// layer, so no page is reachable outside the audience it is registered for; a route of a
/// portal area is also behind [`audience::area`] (inside the audience's check).
fn audience_routers(routes: Vec<PageRoute>) -> Router<AppState> {
    let mut merged: Router<AppState> = Router::new();
    for audience in [Audience::Public, Audience::SignedIn, Audience::Staff, Audience::Portal] {
        let mut group: Router<AppState> = Router::new();
        let mut any = false;
        for p in routes.iter().filter(|p| p.audience == audience) {
            let handler = match p.area {
                Some(page) => p.handler.clone().route_layer(middleware::from_fn_with_state(page, audience::area)),
                None => p.handler.clone(),
            };
            group = group.route(p.path, handler);
            any = true;
        }
        if any {
            merged = merged.merge(group.route_layer(middleware::from_fn_with_state(audience, audience::admit)));
        }
    }
    merged
}

/// The whole application router with its layers.
pub fn router(state: AppState) -> Router {
    router_from(state, page_routes())
}

/// The application router with `pages` as its page table (tests register deliberately wrong
/// tables with it to show the structure refuses them).
pub fn router_from(state: AppState, pages: Vec<PageRoute>) -> Router {
    let pages_router = audience_routers(pages);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/static/{*path}", get(pages::static_file))
        .merge(api::router())
        .merge(pages_router)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), pages::html_errors))
        .layer(middleware::from_fn_with_state(state.clone(), branding::refresh))
        .layer(middleware::from_fn_with_state(state.clone(), crate::state::run_after))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::protect))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        // A body that stops arriving fails its read (answered 408 by the extractors).
        .layer(
            tower::ServiceBuilder::new()
                .layer(RequestBodyTimeoutLayer::new(state.config.body_read_timeout))
                .map_request(|r: Request<TimeoutBody<Body>>| r.map(Body::new)),
        )
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(middleware::from_fn_with_state(state.clone(), headers::security_headers))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_paths_are_masked() {
        let t = atrium_core::token::generate().secret;
        assert_eq!(redacted_path(&format!("/magic/{t}")), "/magic/:token");
        assert_eq!(redacted_path(&format!("/api/v1/invitations/{t}/accept")), "/api/v1/invitations/:token/accept");
        let id = uuid::Uuid::now_v7().to_string();
        assert_eq!(redacted_path(&format!("/portal/projects/{id}")), format!("/portal/projects/{id}"));
    }
}
