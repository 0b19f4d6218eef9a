//! What an API token may reach, decided by the router's structure rather than by handlers:
//! every API route sits behind [`enforce`] (added with its audience layer in `api::behind`),
//! which files the route's path under one [`TokenArea`] and asks the token's scopes for that
//! area — `GET` and `HEAD` read, every other method writes — before any handler runs. A path
//! this table does not know is refused to tokens (a test walks the OpenAPI document so that
//! none is left out). Sessions are not limited here: they can do what their user can.

use atrium_core::Error;
use atrium_core::api_token::{Access, Need, TokenArea};
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Authed;
use crate::error::AppError;

/// What a route needs of an API token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// A scope of this area (or `read` / `write`).
    Area(TokenArea),
    /// `read` / `write` itself: the route spans every area (the live event stream).
    Everything,
    /// A signed-in session: API tokens are refused (managing tokens, signing out, the password).
    SessionOnly,
}

/// The requirement of an API path (`/api/v1/projects/{id}/tasks`, or the same with ids);
/// `None` for a path the table does not know.
pub fn requirement(path: &str) -> Option<Requirement> {
    use Requirement::{Area, Everything, SessionOnly};
    use TokenArea::*;
    let rest = path.strip_prefix("/api/v1/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    let first = segments.first().copied().unwrap_or("");
    let third = segments.get(2).copied();
    Some(match first {
        "api-tokens" | "session" => SessionOnly,
        "me" if third.is_none() && segments.get(1) == Some(&"password") => SessionOnly,
        "me" | "sessions" | "notifications" | "notification-settings" | "portal" | "magic-links" => Area(Account),
        "events" => Everything,
        "users" | "invitations" | "audit" | "jobs" | "branding" => Area(Admin),
        "clients" | "contacts" | "portal-defaults" => Area(Clients),
        "projects" => match third {
            None | Some("milestones" | "pages" | "team" | "people") => Area(Projects),
            Some("tasks") => Area(Tasks),
            Some("files" | "folders") => Area(Files),
            Some("messages") => Area(Messages),
            Some("request-form") => Area(Helpdesk),
            Some("template") => Area(Templates),
            Some(_) => return None,
        },
        "milestones" | "pages" => Area(Projects),
        "tasks" => Area(Tasks),
        "files" => Area(Files),
        "messages" => Area(Messages),
        "approvals" => Area(Approvals),
        "invoices" | "invoice-settings" | "recurring-invoices" => Area(Billing),
        "tickets" | "helpdesk" | "saved-replies" => Area(Helpdesk),
        "automations" => Area(Automations),
        "project-templates" | "onboarding" => Area(Templates),
        _ => return None,
    })
}

/// Whether a token with this grant may make a request of `method` to `path`: the refusal (403)
/// names the scope it lacks.
pub fn check(scopes: &atrium_core::api_token::TokenScopes, method: &str, path: &str) -> Result<(), Error> {
    let access = Access::of_method(method);
    match requirement(path) {
        Some(Requirement::Area(area)) => scopes.check(Need::Area(area, access)),
        Some(Requirement::Everything) => scopes.check(Need::Everything(access)),
        Some(Requirement::SessionOnly) => {
            Err(Error::Forbidden("this needs a signed-in session; an API token cannot do it"))
        }
        None => {
            tracing::error!(path, "an API path has no token area; refused to API tokens");
            Err(Error::Forbidden("this API path is not open to API tokens"))
        }
    }
}

/// Middleware on every API route: a token-authenticated request passes only with a scope for
/// the route's area and method. Session requests and anonymous ones pass untouched (the
/// audience layer and the store decide for them).
pub async fn enforce(req: Request, next: Next) -> Response {
    if let Some(grant) = req.extensions().get::<Authed>().and_then(Authed::api_token) {
        let path = req.extensions().get::<MatchedPath>().map_or(req.uri().path(), MatchedPath::as_str);
        if let Err(e) = check(&grant.scopes, req.method().as_str(), path) {
            return AppError(e).into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use atrium_core::api_token::TokenScopes;

    use super::*;

    fn scopes(s: &[&str]) -> TokenScopes {
        TokenScopes::parse(s).unwrap()
    }

    #[test]
    fn every_documented_api_path_has_a_token_requirement() {
        let doc = crate::api::openapi();
        let unfiled: Vec<&String> = doc.paths.paths.keys().filter(|p| requirement(p).is_none()).collect();
        assert!(
            unfiled.is_empty(),
            "API paths without a token area (file them in token_scope::requirement): {unfiled:?}"
        );
        assert!(doc.paths.paths.len() > 50);
    }

    #[test]
    fn paths_are_filed_by_their_area() {
        use Requirement::*;
        use TokenArea::*;
        for (path, want) in [
            ("/api/v1/projects", Area(Projects)),
            ("/api/v1/projects/{id}", Area(Projects)),
            ("/api/v1/projects/0190/tasks", Area(Tasks)),
            ("/api/v1/projects/{id}/files", Area(Files)),
            ("/api/v1/projects/{id}/messages/read", Area(Messages)),
            ("/api/v1/projects/{id}/request-form", Area(Helpdesk)),
            ("/api/v1/projects/{id}/template", Area(Templates)),
            ("/api/v1/tasks/{id}/comments", Area(Tasks)),
            ("/api/v1/invoices/export.csv", Area(Billing)),
            ("/api/v1/recurring-invoices/{id}", Area(Billing)),
            ("/api/v1/clients/{id}/contacts", Area(Clients)),
            ("/api/v1/me", Area(Account)),
            ("/api/v1/audit", Area(Admin)),
            ("/api/v1/events", Everything),
            ("/api/v1/api-tokens", SessionOnly),
            ("/api/v1/api-tokens/{id}", SessionOnly),
            ("/api/v1/session", SessionOnly),
            ("/api/v1/me/password", SessionOnly),
        ] {
            assert_eq!(requirement(path), Some(want), "{path}");
        }
        for unknown in ["/api/v1/nothing", "/api/v1/projects/{id}/secret", "/api/v2/projects", "/projects"] {
            assert_eq!(requirement(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn methods_and_scopes_decide() {
        let ro = scopes(&["projects:read"]);
        assert!(check(&ro, "GET", "/api/v1/projects/{id}").is_ok());
        assert!(check(&ro, "HEAD", "/api/v1/projects").is_ok());
        let e = check(&ro, "PATCH", "/api/v1/projects/{id}").unwrap_err();
        assert_eq!(e.to_string(), "this API token lacks the scope projects:write");
        assert!(check(&ro, "GET", "/api/v1/projects/{id}/tasks").is_err(), "tasks are another area");
        assert!(check(&ro, "GET", "/api/v1/events").is_err(), "the stream needs read of everything");
        let all = scopes(&["write"]);
        assert!(check(&all, "POST", "/api/v1/projects/{id}/tasks").is_ok());
        assert!(matches!(check(&all, "POST", "/api/v1/api-tokens"), Err(Error::Forbidden(_))), "no token mints tokens");
        assert!(matches!(check(&all, "GET", "/api/v1/nothing"), Err(Error::Forbidden(_))), "unknown paths fail closed");
    }

    #[test]
    fn the_document_declares_both_schemes_and_which_operations_need_a_session() {
        let doc = serde_json::to_value(crate::api::openapi()).unwrap();
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["session"]["scheme"], "bearer");
        assert_eq!(schemes["api_token"]["scheme"], "bearer");
        assert_eq!(doc["security"], serde_json::json!([{"session": []}, {"api_token": []}]));
        let mut seen = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            if requirement(path) != Some(Requirement::SessionOnly) {
                continue;
            }
            for (method, op) in item.as_object().unwrap() {
                let security = &op["security"];
                let public =
                    security.as_array().is_some_and(|s| s.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())));
                if !public {
                    assert_eq!(security, &serde_json::json!([{"session": []}]), "{method} {path}");
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, 5, "the token operations, signing out and the password change");
    }
}
