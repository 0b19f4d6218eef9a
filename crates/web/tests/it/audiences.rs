//! Audiences are enforced by the router's structure, not by handlers: a router built from a
//! deliberately wrong page table (a staff page under the portal audience, a portal page under the
//! staff one, a staff page under "any signed-in user", a handler that asks no policy at all)
//! refuses the wrong callers before or whatever the handler does.

use crate::common::*;
use atrium_core::ids::UserId;
use atrium_web::audience::{Audience, StaffAuth};
use atrium_web::pages::{portal, staff};
use atrium_web::routes::{PageRoute, router_from};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::routing::get;
use tower::ServiceExt;

/// A handler that asks the policy nothing: only its audience layer protects it.
async fn no_policy_call() -> &'static str {
    "internal figures"
}

/// A handler that wants a staff caller but asks nothing itself.
async fn wants_staff(auth: StaffAuth) -> String {
    format!("hello {}", auth.actor.name())
}

fn table() -> Vec<PageRoute> {
    let r = |path, audience, handler| PageRoute { method: Method::GET, path, audience, area: None, handler };
    vec![
        // Mistakes: each handler below is registered under the wrong audience.
        r("/portal/misfiled-staff-page", Audience::Portal, get(staff::my_work)),
        r("/staff/misfiled-portal-page", Audience::Staff, get(portal::home)),
        r("/everyone/misfiled-staff-page", Audience::SignedIn, get(wants_staff)),
        r("/public/misfiled-staff-page", Audience::Public, get(wants_staff)),
        // A handler without any policy call, registered correctly.
        r("/staff/no-policy-call", Audience::Staff, get(no_policy_call)),
        // The real thing, for comparison.
        r("/staff/right", Audience::Staff, get(wants_staff)),
    ]
}

async fn status(app: &TestApp, user: Option<UserId>, path: &str) -> (StatusCode, String) {
    let router = router_from(app.state.clone(), table());
    let mut req = Request::builder().method(Method::GET).uri(path);
    if let Some(u) = user {
        req = req.header("authorization", format!("Bearer {}", app.token_for(u).await));
    }
    let resp = router.oneshot(req.body(Body::empty()).expect("request")).await.expect("infallible");
    let code = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.expect("body");
    (code, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn a_misregistered_page_is_refused_by_the_structure() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;

    // A staff page filed under the portal: the client admin passes the portal layer but the
    // handler's StaffAuth needs the staff admission, so it is 404 — and staff are refused by the
    // portal layer itself.
    for user in [w.a.admin, w.a.viewer, w.staff, w.owner] {
        let (code, body) = status(&app, Some(user), "/portal/misfiled-staff-page").await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{user}: {body}");
        assert!(body.contains("Error 404"), "the error page, not the staff page: {body}");
    }
    // A portal page filed under staff: staff pass the layer, the handler's PortalAuth refuses;
    // client users are refused by the staff layer.
    for user in [w.a.admin, w.staff] {
        let (code, _) = status(&app, Some(user), "/staff/misfiled-portal-page").await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{user}");
    }
    // A staff handler filed under "any signed-in user" or under the public audience is refused
    // to everyone, staff included: the mistake shows at once instead of leaking.
    for path in ["/everyone/misfiled-staff-page", "/public/misfiled-staff-page"] {
        for user in [Some(w.a.admin), Some(w.staff), None] {
            let (code, body) = status(&app, user, path).await;
            // Signed out, a signed-in page sends you to sign in (303) rather than answering 401.
            let refused: &[StatusCode] =
                if user.is_some() { &[StatusCode::NOT_FOUND] } else { &[StatusCode::NOT_FOUND, StatusCode::SEE_OTHER] };
            assert!(refused.contains(&code), "{path} {user:?}: {code}");
            assert!(!body.contains("hello"), "{path}: {body}");
        }
    }
}

#[tokio::test]
async fn a_handler_without_any_policy_call_is_still_behind_its_audience() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    for user in [w.a.admin, w.a.finance, w.a.viewer] {
        let (code, body) = status(&app, Some(user), "/staff/no-policy-call").await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{user}");
        assert!(!body.contains("internal figures"));
    }
    let (code, body) = status(&app, None, "/staff/no-policy-call").await;
    assert_eq!(code, StatusCode::SEE_OTHER, "signed out: sent to sign in");
    assert!(!body.contains("internal figures"));
    // Staff, for whom it is meant, get it; so do correctly registered staff handlers.
    assert_eq!(status(&app, Some(w.staff), "/staff/no-policy-call").await, (StatusCode::OK, "internal figures".into()));
    let (code, body) = status(&app, Some(w.staff), "/staff/right").await;
    assert_eq!(code, StatusCode::OK);
    assert!(body.starts_with("hello "), "{body}");
    assert_eq!(status(&app, Some(w.a.admin), "/staff/right").await.0, StatusCode::NOT_FOUND);
}
