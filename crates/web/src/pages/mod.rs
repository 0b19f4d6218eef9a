//! Server-rendered HTML pages (askama templates, compile-time checked, auto-escaped).

pub mod account;
pub mod activity;
pub mod approvals;
pub mod billing;
pub mod collab;
pub mod composer;
pub mod files;
pub mod helpdesk;
pub mod portal;
pub mod portal_wide;
pub mod project_pages;
pub mod public;
pub mod rating;
pub mod recurring;
pub mod request_form;
pub mod request_upload;
pub mod staff;
pub mod task;
pub mod tokens;
pub mod view;
pub mod welcome;

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::auth::Authed;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult, ErrorInfo};
use crate::state::AppState;

/// One navigation link.
#[derive(Clone, Debug)]
pub struct Nav {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
    /// Where the link's count comes from (an htmx fragment; empty: no count).
    pub count_src: &'static str,
}

/// What every page's frame needs: agency, who is signed in, navigation, CSRF token, banners.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    pub agency: String,
    pub title: String,
    pub user_name: Option<String>,
    pub role_label: String,
    /// Staff acting as themselves (links go to the staff side).
    pub is_staff: bool,
    pub csrf: String,
    /// Set while a staff member views the portal as a client user: that user's name.
    pub viewing_as: Option<String>,
    pub nav: Vec<Nav>,
    /// A one-line notice ("Saved", errors of a form).
    pub flash: Option<String>,
    /// What the page shows, for live updates (`project:<id>`, `task:<id>`, space-separated):
    /// an event about one of these re-renders the page's main part.
    pub live: String,
    /// When the request arrived (a live-event stamp; 0 signed out): the page's event stream
    /// starts from here, so a change between the render and the stream is not missed.
    pub live_since: i64,
    /// The agency's logo (a URL path), when one is set.
    pub logo: Option<String>,
    /// The accent stylesheet (a URL path), when an accent is set.
    pub brand_css: Option<String>,
    /// The favicon (a URL path, versioned by the logo).
    pub favicon: String,
}

impl Chrome {
    /// The frame for a signed-out page.
    pub fn public(st: &AppState, csrf: &CsrfToken, title: impl Into<String>) -> Self {
        Chrome { title: title.into(), csrf: csrf.0.clone(), ..Chrome::branded(st) }
    }

    /// The frame's branding (name, logo, accent stylesheet, favicon) and nothing else.
    fn branded(st: &AppState) -> Self {
        let brand = st.brand();
        Chrome {
            agency: brand.name.clone(),
            logo: brand.logo_path(),
            brand_css: brand.css_path(),
            favicon: brand.favicon_path(),
            ..Default::default()
        }
    }

    /// The frame for a signed-in page; `active` is the current nav entry's href.
    pub fn signed_in(st: &AppState, auth: &Authed, csrf: &CsrfToken, title: impl Into<String>, active: &str) -> Self {
        let a = &auth.actor;
        let nav: Vec<(&'static str, &'static str)> = if a.is_staff() {
            let mut v = vec![
                ("/staff", "My work"),
                ("/staff/inbox", "Inbox"),
                ("/staff/clients", "Clients"),
                ("/staff/approvals", "Approvals"),
                ("/staff/invoices", "Invoices"),
                ("/staff/team", "Team"),
            ];
            if a.may_read_audit().is_ok() {
                v.push(("/staff/activity", "Activity"));
                v.push(("/staff/outbox", "Mail"));
            }
            if a.may_manage_branding().is_ok() {
                v.push(("/staff/settings/branding", "Branding"));
            }
            v
        } else {
            use atrium_core::policy::PortalPage;
            a.portal_pages()
                .into_iter()
                .map(|p| match p {
                    PortalPage::Home => ("/portal", "Home"),
                    PortalPage::Projects => ("/portal/projects", "Projects"),
                    PortalPage::MyTasks => ("/portal/tasks", "My tasks"),
                    PortalPage::Files => ("/portal/files", "Files"),
                    PortalPage::Messages => ("/portal/messages", "Messages"),
                    PortalPage::Approvals => ("/portal/approvals", "Approvals"),
                    PortalPage::Billing => ("/portal/billing", "Billing"),
                    PortalPage::HelpDesk => ("/portal/helpdesk", "Help desk"),
                })
                .collect()
        };
        Chrome {
            title: title.into(),
            user_name: Some(a.name().to_string()),
            role_label: a.role().label().to_string(),
            is_staff: a.is_staff(),
            csrf: csrf.0.clone(),
            viewing_as: a.viewing_staff().map(|_| a.name().to_string()),
            nav: nav
                .into_iter()
                .map(|(href, label)| Nav { href, label, active: href == active, count_src: count_src(href) })
                .collect(),
            flash: None,
            live: String::new(),
            live_since: auth.at,
            ..Chrome::branded(st)
        }
    }
}

/// The count shown beside a navigation link: unassigned tickets in the staff inbox, tickets
/// waiting for the client's answer in the portal's Help desk.
fn count_src(href: &str) -> &'static str {
    match href {
        "/staff/inbox" => "/staff/inbox/badge",
        "/portal/helpdesk" => "/portal/helpdesk/badge",
        _ => "",
    }
}

/// Where a side's pages live: `/staff` or `/portal`.
pub(crate) fn prefix(side: atrium_core::policy::Side) -> &'static str {
    match side {
        atrium_core::policy::Side::Staff => "/staff",
        atrium_core::policy::Side::Portal => "/portal",
    }
}

/// Renders a template into an HTML response.
pub fn render<T: Template>(t: &T) -> AppResult<Html<String>> {
    t.render().map(Html).map_err(|e| AppError(atrium_core::Error::internal("template", e)))
}

/// Renders a template as a handler's response (a page, or an htmx fragment).
pub fn page(t: &impl Template) -> AppResult<Response> {
    Ok(render(t)?.into_response())
}

/// A redirect after a successful form post (303 See Other). `to` is a path the server built or
/// one checked by `validate::local_path`; whatever it holds, any byte that is not visible ASCII is
/// percent-encoded, so the `Location` header is always valid (never a panic or a 500).
pub fn see_other(to: &str) -> Response {
    const NOT_VISIBLE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b' ').add(b'"').add(b'\\');
    let to = percent_encoding::utf8_percent_encode(to, NOT_VISIBLE).to_string();
    match axum::http::HeaderValue::try_from(to) {
        Ok(v) => (axum::http::StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, v)]).into_response(),
        Err(_) => Redirect::to("/").into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    heading: &'static str,
    message: String,
}

/// Middleware: turns error responses of pages (not `/api`) into HTML and bare framework
/// rejections into Atrium's error format (JSON for `/api`); a missing sign-in on a
/// page becomes a redirect to the sign-in page.
pub async fn html_errors(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let is_get = req.method() == Method::GET;
    let csrf = req.extensions().get::<CsrfToken>().cloned().unwrap_or(CsrfToken(String::new()));
    // A signed-in visitor keeps their navigation on an error page.
    let authed = req.extensions().get::<Authed>().cloned();
    // Framework rejections (bad path encoding, 405) get Atrium's error format too.
    let mut res = crate::error::normalize_rejection(next.run(req).await).await;
    if is_api {
        return res;
    }
    let Some(info) = res.extensions_mut().remove::<ErrorInfo>() else { return res };
    if info.status == StatusCode::UNAUTHORIZED && is_get {
        return Redirect::to("/login").into_response();
    }
    let heading = match info.status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::UNAUTHORIZED => "Please sign in",
        StatusCode::GONE => "Link expired",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        StatusCode::UNPROCESSABLE_ENTITY => "Please check your input",
        s if s.is_server_error() => "Something went wrong",
        _ => "Request refused",
    };
    let message =
        if info.status.is_server_error() { "Please try again in a moment.".to_string() } else { info.message };
    let chrome = match &authed {
        Some(a) => Chrome::signed_in(&st, a, &csrf, heading, ""),
        None => Chrome::public(&st, &csrf, heading),
    };
    let page = ErrorPage { chrome, status: info.status.as_u16(), heading, message };
    let retry = res.headers().get(header::RETRY_AFTER).cloned();
    let mut out = match page.render() {
        Ok(html) => (info.status, Html(html)).into_response(),
        Err(_) => (info.status, heading).into_response(),
    };
    if let Some(r) = retry {
        out.headers_mut().insert(header::RETRY_AFTER, r);
    }
    out
}

const APP_CSS: &str = include_str!("../../static/app.css");
const HTMX_JS: &str = include_str!("../../static/htmx.min.js");
const APP_JS: &str = include_str!("../../static/app.js");
const LIVE_JS: &str = include_str!("../../static/live.js");

/// Serves the embedded static assets.
pub async fn static_file(Path(path): Path<String>) -> Response {
    let (body, ct) = match path.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "htmx.min.js" => (HTMX_JS, "text/javascript; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "live.js" => (LIVE_JS, "text/javascript; charset=utf-8"),
        _ => return AppError(atrium_core::Error::NotFound).into_response(),
    };
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn see_other_never_panics_on_a_header_value() {
        let res = super::see_other("/portal\r\nSet-Cookie: x=1 \u{202E}");
        assert_eq!(res.status(), axum::http::StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/portal%0D%0ASet-Cookie:%20x=1%20%E2%80%AE");
        assert!(res.headers().get("set-cookie").is_none());
    }
}
