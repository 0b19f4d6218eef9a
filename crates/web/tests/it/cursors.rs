//! Cursors of paged lists are resolved through the caller's own list (SEC-AC-1, SEC-AC-7): for
//! every cursor-paged API list — found in `atrium_web::api::openapi()`, so a new paged list fails
//! here until it has a case — a cursor that is the id of another client's item, or of an internal
//! or staff-only item the caller cannot see, answers exactly like a random UUIDv7 (same status,
//! same body). A control shows each list's cursor does work for someone who may use it.

use std::collections::BTreeSet;

use crate::common::*;
use atrium_core::ids::UserId;
use atrium_store::paging::PageRequest;

/// The ids a case needs besides the seeded world.
struct Extra {
    /// A draft invoice of client A (client users never see drafts).
    a_draft: String,
    /// The newest notification of client B's admin, and of client A's admin.
    b_notification: String,
    a_notification: String,
    /// An audit entry about client B, and one about client A.
    b_audit: String,
    a_audit: String,
}

/// A caller, a list URL and a cursor to try with it.
type Try = (UserId, String, String);

/// One cursor-paged list.
struct Case {
    /// The OpenAPI path.
    path: &'static str,
    /// The URL (path with parameters filled, and the list's own query) without the cursor.
    url: fn(&World) -> String,
    /// Ids that are not items of this list for this user of client A.
    foreign: fn(&World, &Extra, UserId) -> Vec<String>,
    /// Extra callers (besides client A's users) with the url and ids that must answer like a
    /// random id for them too.
    staff_foreign: fn(&World, &Extra) -> Vec<Try>,
    /// Someone who may page this list, with a cursor that is one of its items: must be 200.
    control: fn(&World, &Extra) -> (UserId, String),
}

fn none(_: &World, _: &Extra) -> Vec<Try> {
    Vec::new()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            path: "/api/v1/clients",
            url: |_| "/api/v1/clients?limit=1".into(),
            foreign: |w, _, _| vec![w.b.id.to_string()],
            staff_foreign: none,
            control: |w, _| (w.owner, w.b.id.to_string()),
        },
        Case {
            path: "/api/v1/projects",
            url: |_| "/api/v1/projects?limit=1".into(),
            foreign: |w, _, _| vec![w.b.project.to_string()],
            staff_foreign: |w, _| {
                vec![(w.owner, format!("/api/v1/projects?client_id={}", w.a.id), w.b.project.to_string())]
            },
            control: |w, _| (w.owner, w.b.project.to_string()),
        },
        Case {
            path: "/api/v1/projects/{id}/tasks",
            url: |w| format!("/api/v1/projects/{}/tasks?limit=1", w.a.project),
            foreign: |w, _, _| vec![w.b.task.to_string(), w.b.chore.to_string()],
            staff_foreign: |w, _| {
                vec![(w.owner, format!("/api/v1/projects/{}/tasks", w.a.project), w.b.task.to_string())]
            },
            control: |w, _| (w.a.admin, w.a.chore.to_string()),
        },
        Case {
            path: "/api/v1/tasks",
            url: |_| "/api/v1/tasks?assignee=me&include_done=true&limit=1".into(),
            foreign: |w, _, _| vec![w.b.task.to_string(), w.a.chore.to_string()],
            staff_foreign: none,
            control: |w, _| (w.a.admin, w.a.task.to_string()),
        },
        Case {
            path: "/api/v1/audit",
            url: |w| format!("/api/v1/audit?client_id={}&limit=1", w.a.id),
            foreign: |_, x, _| vec![x.b_audit.clone(), x.a_audit.clone()],
            staff_foreign: |w, x| vec![(w.owner, format!("/api/v1/audit?client_id={}", w.a.id), x.b_audit.clone())],
            control: |w, x| (w.owner, x.a_audit.clone()),
        },
        Case {
            path: "/api/v1/invoices",
            url: |_| "/api/v1/invoices?limit=1".into(),
            foreign: |w, x, _| vec![w.b.invoice.to_string(), x.a_draft.clone()],
            staff_foreign: |w, _| {
                vec![(w.owner, format!("/api/v1/invoices?client_id={}", w.a.id), w.b.invoice.to_string())]
            },
            control: |w, _| (w.a.admin, w.a.invoice.to_string()),
        },
        Case {
            path: "/api/v1/tickets",
            url: |_| "/api/v1/tickets?limit=1".into(),
            // A finance user's list holds only what they asked: the admin's ticket is foreign.
            foreign: |w, _, user| {
                let mut v = vec![w.b.ticket.to_string()];
                if user == w.a.finance {
                    v.push(w.a.ticket.to_string());
                }
                v
            },
            staff_foreign: |w, _| {
                vec![(w.owner, format!("/api/v1/tickets?client_id={}", w.a.id), w.b.ticket.to_string())]
            },
            control: |w, _| (w.a.viewer, w.a.ticket.to_string()),
        },
        Case {
            path: "/api/v1/projects/{id}/messages",
            url: |w| format!("/api/v1/projects/{}/messages?limit=1", w.a.project),
            foreign: |w, _, _| vec![w.b.message.to_string(), w.a.staff_message.to_string()],
            staff_foreign: |w, _| {
                vec![(w.owner, format!("/api/v1/projects/{}/messages", w.a.project), w.a.staff_message.to_string())]
            },
            control: |w, _| (w.a.viewer, w.a.message.to_string()),
        },
        Case {
            path: "/api/v1/notifications",
            url: |_| "/api/v1/notifications?limit=1".into(),
            // Client A's admin's notification is foreign to A's other users.
            foreign: |w, x, user| {
                let mut v = vec![x.b_notification.clone()];
                if user != w.a.admin {
                    v.push(x.a_notification.clone());
                }
                v
            },
            staff_foreign: none,
            control: |w, x| (w.a.admin, x.a_notification.clone()),
        },
    ]
}

/// The paths of every GET operation of the API that takes a `cursor` query parameter.
fn paged_api_lists() -> BTreeSet<String> {
    let doc = serde_json::to_value(atrium_web::api::openapi()).expect("openapi as json");
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let params = item["get"]["parameters"].as_array().cloned().unwrap_or_default();
        if params.iter().any(|p| p["name"] == "cursor" && p["in"] == "query") {
            out.insert(path.clone());
        }
    }
    out
}

async fn extra(app: &TestApp, w: &World) -> Extra {
    let owner = app.actor(w.owner).await;
    let draft = draft_invoice(app, &owner, w.a.id).await;
    let newest = |user: UserId| async move {
        let actor = app.actor(user).await;
        let page = app.store.notifications(&actor, PageRequest { limit: 1, cursor: None }).await.expect("list");
        page.items[0].id.to_string()
    };
    let audit = app.store.audit_recent(1000).await.expect("audit");
    let about = |c: atrium_core::ids::ClientId| {
        audit.iter().find(|r| r.client_id == Some(c.0)).map(|r| r.id.to_string()).expect("an audit entry")
    };
    Extra {
        a_draft: draft.to_string(),
        b_notification: newest(w.b.admin).await,
        a_notification: newest(w.a.admin).await,
        b_audit: about(w.b.id),
        a_audit: about(w.a.id),
    }
}

async fn get(app: &TestApp, user: UserId, url: &str, cursor: &str) -> Answer {
    let sep = if url.contains('?') { '&' } else { '?' };
    let token = app.token_for(user).await;
    let res = api().get(app.url(&format!("{url}{sep}cursor={cursor}"))).bearer_auth(token).send().await;
    Answer::of(res.expect("request")).await
}

#[tokio::test]
async fn every_paged_list_has_a_cursor_case() {
    let listed: BTreeSet<String> = cases().iter().map(|c| c.path.to_string()).collect();
    assert_eq!(listed, paged_api_lists(), "cursor cases (left) vs cursor-paged API lists (right)");
}

#[tokio::test]
async fn a_cursor_outside_the_callers_list_answers_like_a_random_id() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let x = extra(&app, &w).await;
    for case in cases() {
        let url = (case.url)(&w);
        // The control: the cursor works for someone who may page the list.
        let (who, cursor) = (case.control)(&w, &x);
        let ok = get(&app, who, &url, &cursor).await;
        assert_eq!(ok.status, 200, "{}: the control cursor {cursor}: {}", case.path, ok.body);
        let mut checks: Vec<Try> = Vec::new();
        for user in [w.a.admin, w.a.finance, w.a.viewer] {
            for id in (case.foreign)(&w, &x, user) {
                checks.push((user, url.clone(), id));
            }
        }
        checks.extend((case.staff_foreign)(&w, &x));
        for (user, url, id) in checks {
            let random = get(&app, user, &url, &uuid::Uuid::now_v7().to_string()).await;
            let foreign = get(&app, user, &url, &id).await;
            assert_eq!(
                (foreign.status, &foreign.body),
                (random.status, &random.body),
                "{url} as {user}: cursor {id} (left) vs a random id (right)"
            );
            if random.status == 422 {
                let message = random.json()["error"]["message"].as_str().unwrap_or_default().to_string();
                assert!(message.starts_with("cursor:"), "{url}: {}", random.body);
            }
        }
    }
}
