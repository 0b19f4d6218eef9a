//! The authorization matrix (SEC-AC-1, SEC-AC-2, SEC-AC-3, SEC-AC-4), generated from the route
//! tables themselves: every operation of `atrium_web::api::openapi()` and every entry of
//! `atrium_web::routes::page_routes()` is called as an anonymous visitor and as each user of
//! client A, against client B's ids — with a session (bearer and cookie) and, for the API, with
//! each user's own API token of the `write` scope (a token sees exactly what its user sees, and
//! the routes that need a session refuse it). A route that this file does not classify fails the
//! test, so a new route cannot be added without deciding who may call it.
//!
//! Every refusal is proven to be an authorization decision (not a parse or CSRF failure): the
//! bodies are valid, cookie requests carry a valid CSRF token, and each refused request is
//! replayed by someone who *is* allowed (staff, or client B's own admin) and must succeed.

use std::collections::BTreeSet;

use crate::common::*;
use atrium_core::ids::UserId;
use atrium_web::routes::{Audience, page_routes};
use serde_json::{Value, json};

/// A valid 1 × 1 PNG (the logo the matrix uploads).
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x50, 0x4d, 0x7e, 0xfd, 0x1f, 0x00, 0x04, 0x97, 0x02, 0x73, 0x56, 0xdd, 0xaf,
    0x7c, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

// ----- callers -------------------------------------------------------------------------------

/// Who makes a request of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    ClientAdmin,
    ClientFinance,
    ClientViewer,
}

const CALLERS: [Caller; 4] = [Caller::Anonymous, Caller::ClientAdmin, Caller::ClientFinance, Caller::ClientViewer];

impl Caller {
    /// The user of client A behind this caller.
    fn user(self, w: &World) -> Option<UserId> {
        match self {
            Caller::Anonymous => None,
            Caller::ClientAdmin => Some(w.a.admin),
            Caller::ClientFinance => Some(w.a.finance),
            Caller::ClientViewer => Some(w.a.viewer),
        }
    }
}

/// How a request authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// `Authorization: Bearer`.
    Bearer,
    /// The session cookie plus the CSRF token (header for JSON, `_csrf` field for forms).
    Cookie,
    /// `Authorization: Bearer atr_…`: a personal API token of the user with the `write` scope
    /// (everything its user may do), made for the request and revoked after it.
    ApiToken,
}

/// A request body.
#[derive(Clone, Debug)]
pub(crate) enum Payload {
    Empty,
    Json(Value),
    Form(Vec<(&'static str, String)>),
    /// A multipart upload of one file part named `file`.
    Upload(&'static str, &'static [u8]),
    /// A multipart form: text fields, then one file part named `attachments`.
    FormWithFile(Vec<(&'static str, String)>, &'static str, &'static [u8]),
}

/// Sends one request with fresh credentials for `user` (a new session each time, so that a
/// logout in the matrix cannot disturb the next request).
pub(crate) async fn send(
    app: &TestApp,
    user: Option<UserId>,
    via: Via,
    method: &str,
    path: &str,
    payload: &Payload,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
    let mut req = api().request(method, app.url(path));
    let mut csrf = String::new();
    let mut api_token = None;
    match via {
        Via::Bearer => {
            if let Some(u) = user {
                req = req.bearer_auth(app.token_for(u).await);
            }
        }
        Via::ApiToken => {
            if let Some(u) = user {
                let (id, secret) = write_token(app, u).await;
                req = req.bearer_auth(secret);
                api_token = Some((u, id));
            }
        }
        Via::Cookie => {
            let creds = app.browser_creds(user).await;
            req = req.header("cookie", creds.cookie);
            csrf = creds.csrf;
        }
    }
    req = match payload {
        Payload::Empty if via == Via::Cookie => req.header("x-csrf-token", &csrf),
        Payload::Empty => req,
        Payload::Json(v) if via == Via::Cookie => req.header("x-csrf-token", &csrf).json(v),
        Payload::Json(v) => req.json(v),
        Payload::Form(fields) => {
            let mut f: Vec<(&str, String)> = fields.clone();
            if via == Via::Cookie {
                f.push(("_csrf", csrf.clone()));
            }
            req.form(&f)
        }
        Payload::Upload(name, bytes) => {
            let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string());
            let form = reqwest::multipart::Form::new().part("file", part);
            let req = if via == Via::Cookie { req.header("x-csrf-token", &csrf) } else { req };
            req.multipart(form)
        }
        Payload::FormWithFile(fields, name, bytes) => {
            let mut form = reqwest::multipart::Form::new();
            for (k, v) in fields {
                form = form.text(*k, v.clone());
            }
            let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string());
            let form = form.part("attachments", part);
            let req = if via == Via::Cookie { req.header("x-csrf-token", &csrf) } else { req };
            req.multipart(form)
        }
    };
    let answer = Answer::of(req.send().await.expect("request")).await;
    if let Some((u, id)) = api_token
        && let Some(owner) = app.store.actor(u).await.expect("actor")
    {
        // At most one live token per user at a time (the request may have revoked it already).
        let _ = app.store.revoke_api_token(&owner, id, None).await;
    }
    answer
}

/// A fresh API token of `user` with the `write` scope: its id and secret.
async fn write_token(app: &TestApp, user: UserId) -> (atrium_core::ids::ApiTokenId, String) {
    let owner = app.actor(user).await;
    let scopes = atrium_core::api_token::TokenScopes::parse(&["write"]).expect("scopes");
    let n = atrium_store::api_tokens::NewApiToken { name: "Matrix".into(), scopes, expires_at: None };
    let (t, secret) = app.store.create_api_token(&owner, n, None).await.expect("api token");
    (t.id, secret)
}

/// Makes an API token of `user` (kept: a target to revoke); returns its id.
async fn add_api_token(app: &TestApp, user: UserId) -> String {
    write_token(app, user).await.0.to_string()
}

/// Whether a route revokes the API token it is given.
fn consumes_api_token(template: &str) -> bool {
    template.contains("tokens/{id}")
}

/// Whether an API path is refused to every API token (it needs a session).
fn session_only(path: &str) -> bool {
    atrium_web::api::token_scope::requirement(path) == Some(atrium_web::api::token_scope::Requirement::SessionOnly)
}

// ----- substitution of path parameters -------------------------------------------------------

/// The ids a path is filled with: one client's (B's for the attack, A's for the own pass).
pub(crate) struct Target<'a> {
    side: &'a ClientSide,
    /// A live session of the side's admin (for `/account/sessions/{id}/...`).
    session_id: String,
    /// A well-formed token that matches nothing.
    bogus_token: String,
    /// A contact of the side's client.
    contact_id: String,
    /// A message of the side's project, by the owner (controls delete the one they are given).
    message_id: String,
    /// A background job that failed for good.
    job_id: String,
    /// A notification of the side's admin.
    notification_id: String,
    /// A file of the side's project (controls delete the one they are given).
    file_id: String,
    /// An invoice of the side's client (the seeded sent one; controls that change an
    /// invoice's state get a fresh one in the state they need).
    invoice_id: String,
    /// A client-visible page of the side's project (controls that delete get a fresh one).
    page_id: String,
    /// A staff member (for `/staff/users/{id}/title`: only staff have a job title).
    staff_user_id: String,
    /// A ticket of the side's client (controls that turn it into a task get a fresh one).
    ticket_id: String,
    /// A saved reply (the agency's, not a client's: staff-only routes; controls that delete
    /// get a fresh one).
    saved_reply_id: String,
    /// A project template (the agency's: staff-only routes; controls that delete get a fresh
    /// one).
    template_id: String,
    /// An automation rule (the agency's: owners and admins; controls that delete get a fresh
    /// one).
    automation_id: String,
    /// A recurring invoice of the side's client (staff-only routes; controls that delete get a
    /// fresh one).
    recurring_id: String,
    /// An API token of the side's admin (controls revoke a fresh one).
    api_token_id: String,
}

impl<'a> Target<'a> {
    pub(crate) fn new(side: &'a ClientSide, session_id: String, contact_id: String) -> Self {
        Target {
            side,
            session_id,
            bogus_token: atrium_core::token::generate().secret,
            contact_id,
            message_id: side.message.to_string(),
            job_id: String::new(),
            notification_id: String::new(),
            file_id: side.file.to_string(),
            invoice_id: side.invoice.to_string(),
            page_id: side.page.to_string(),
            staff_user_id: String::new(),
            ticket_id: side.ticket.to_string(),
            saved_reply_id: String::new(),
            template_id: String::new(),
            automation_id: String::new(),
            recurring_id: String::new(),
            api_token_id: String::new(),
        }
    }

    /// The same target with an API token.
    pub(crate) fn with_api_token(&self, api_token_id: String) -> Target<'a> {
        Target { api_token_id, ..self.clone_parts() }
    }

    /// The same target with a recurring invoice.
    fn with_recurring(&self, recurring_id: String) -> Target<'a> {
        Target { recurring_id, ..self.clone_parts() }
    }

    /// The same target with a project template.
    fn with_template(&self, template_id: String) -> Target<'a> {
        Target { template_id, ..self.clone_parts() }
    }

    /// The same target with an automation rule.
    fn with_automation(&self, automation_id: String) -> Target<'a> {
        Target { automation_id, ..self.clone_parts() }
    }

    /// The same target with a saved reply.
    fn with_saved_reply(&self, saved_reply_id: String) -> Target<'a> {
        Target { saved_reply_id, ..self.clone_parts() }
    }

    /// The same target with a staff member for the job title route.
    fn with_staff_user(mut self, staff: UserId) -> Self {
        self.staff_user_id = staff.to_string();
        self
    }

    /// The same target with the newest notification of the side's admin.
    async fn with_notification(mut self, app: &TestApp) -> Target<'a> {
        let admin = app.actor(self.side.admin).await;
        let list = app
            .store
            .notifications(&admin, atrium_store::paging::PageRequest { limit: 1, cursor: None })
            .await
            .expect("notifications");
        self.notification_id = list.items[0].id.to_string();
        self
    }

    fn with_job(mut self, job_id: String) -> Self {
        self.job_id = job_id;
        self
    }

    /// The same target with another message.
    fn with_message(&self, message_id: String) -> Target<'a> {
        Target { message_id, ..self.clone_parts() }
    }

    fn clone_parts(&self) -> Target<'a> {
        Target {
            side: self.side,
            session_id: self.session_id.clone(),
            bogus_token: self.bogus_token.clone(),
            contact_id: self.contact_id.clone(),
            message_id: self.message_id.clone(),
            job_id: self.job_id.clone(),
            notification_id: self.notification_id.clone(),
            file_id: self.file_id.clone(),
            invoice_id: self.invoice_id.clone(),
            page_id: self.page_id.clone(),
            staff_user_id: self.staff_user_id.clone(),
            ticket_id: self.ticket_id.clone(),
            saved_reply_id: self.saved_reply_id.clone(),
            template_id: self.template_id.clone(),
            automation_id: self.automation_id.clone(),
            recurring_id: self.recurring_id.clone(),
            api_token_id: self.api_token_id.clone(),
        }
    }
    /// The same target with another ticket.
    fn with_ticket(&self, ticket_id: String) -> Target<'a> {
        Target { ticket_id, ..self.clone_parts() }
    }

    /// The same target with another page.
    fn with_page(&self, page_id: String) -> Target<'a> {
        Target { page_id, ..self.clone_parts() }
    }

    /// The same target with another invoice.
    fn with_invoice(&self, invoice_id: String) -> Target<'a> {
        Target { invoice_id, ..self.clone_parts() }
    }

    /// The same target with another file.
    fn with_file(&self, file_id: String) -> Target<'a> {
        Target { file_id, ..self.clone_parts() }
    }

    /// The same target with another contact (controls delete the one they are given).
    fn with_contact(&self, contact_id: String) -> Target<'a> {
        Target { contact_id, ..self.clone_parts() }
    }
}

/// The domain of a side's email addresses (`b.test`).
fn domain(side: &ClientSide) -> String {
    side.people[0].1.split('@').nth(1).unwrap_or("x.test").to_string()
}

/// The name and email of the contact [`add_contact`] creates for a side.
fn contact_of(side: &ClientSide) -> (String, String) {
    (format!("Contact of {}", side.name), format!("contact@{}", domain(side)))
}

/// Adds a contact to the side's client as the owner, through the API; returns its id.
async fn add_contact(app: &TestApp, w: &World, side: &ClientSide) -> String {
    let (name, email) = contact_of(side);
    let a = send(
        app,
        Some(w.owner),
        Via::Bearer,
        "post",
        &format!("/api/v1/clients/{}/contacts", side.id),
        &Payload::Json(json!({"name": name, "email": email})),
    )
    .await;
    assert_eq!(a.status, 201, "contact created: {}", a.body);
    a.json()["id"].as_str().expect("contact id").to_string()
}

/// Whether a route soft-deletes the client it is given, or restores it.
fn deletes_client(method: &str, template: &str) -> bool {
    (method.eq_ignore_ascii_case("delete") && template == "/api/v1/clients/{id}")
        || template == "/staff/clients/{id}/delete"
}
fn restores_client(template: &str) -> bool {
    template.ends_with("/clients/{id}/restore")
}

/// Client deletion changes what every other control relies on: before a restore control the
/// client is deleted (so there is something to restore); after a delete control it is restored.
async fn before_control(app: &TestApp, w: &World, template: &str, side: &ClientSide) {
    if restores_client(template) {
        app.store.delete_client(&app.actor(w.owner).await, side.id, None).await.expect("delete before restore");
    }
    if rates_ticket(template) {
        set_ticket_status(app, w, side, atrium_core::helpdesk::TicketStatus::Solved).await;
    }
}

/// Whether a route rates a ticket (its control needs the ticket solved first).
fn rates_ticket(template: &str) -> bool {
    template.ends_with("/tickets/{id}/satisfaction")
}

/// Whether a route turns the ticket it is given into a task (its control needs a fresh one).
fn consumes_ticket(template: &str) -> bool {
    template.ends_with("/tickets/{id}/task")
}

/// Sets the side's seeded ticket's status as the owner.
async fn set_ticket_status(app: &TestApp, w: &World, side: &ClientSide, status: atrium_core::helpdesk::TicketStatus) {
    let owner = app.actor(w.owner).await;
    let patch = atrium_store::tickets::TicketPatch { status: Some(status), ..Default::default() };
    app.store.update_ticket(&owner, side.ticket, patch, None).await.expect("ticket status");
}

/// Opens a ticket of the side's project as its admin; returns its id.
async fn add_ticket(app: &TestApp, side: &ClientSide) -> String {
    let admin = app.actor(side.admin).await;
    let n = atrium_store::tickets::NewTicket {
        project_id: Some(side.project),
        subject: "Control ticket".into(),
        body: "Control".into(),
        ..Default::default()
    };
    app.store.create_ticket(&admin, n, None).await.expect("ticket").id.to_string()
}
async fn after_control(app: &TestApp, w: &World, method: &str, template: &str, side: &ClientSide) {
    if deletes_client(method, template) {
        app.store.restore_client(&app.actor(w.owner).await, side.id, None).await.expect("restore after delete");
    }
    if rates_ticket(template) {
        set_ticket_status(app, w, side, atrium_core::helpdesk::TicketStatus::Open).await;
    }
}

/// Adds a saved reply as the owner; returns its id.
async fn add_saved_reply(app: &TestApp, w: &World) -> String {
    let owner = app.actor(w.owner).await;
    app.store.create_saved_reply(&owner, "Matrix reply", "Matrix text", None).await.expect("saved reply").id.to_string()
}

/// Adds a project template as the owner; returns its id.
async fn add_template(app: &TestApp, w: &World) -> String {
    let owner = app.actor(w.owner).await;
    let n = atrium_store::templates::NewTemplate { name: "Matrix template".into(), ..Default::default() };
    app.store.create_project_template(&owner, n, None).await.expect("template").id.to_string()
}

/// Adds an automation rule as the owner; returns its id.
async fn add_automation(app: &TestApp, w: &World) -> String {
    let owner = app.actor(w.owner).await;
    let rule: atrium_core::automation::RuleContent = serde_json::from_value(json!({
        "name": "Matrix rule", "trigger": {"kind": "invoice.sent"},
        "actions": [{"kind": "email", "to": "client_admins", "subject": "Sent", "body": "{{invoice.number}}"}]
    }))
    .expect("rule");
    app.store.create_automation(&owner, rule, None).await.expect("automation").id.to_string()
}

/// Whether a route deletes the automation rule it is given.
fn consumes_automation(method: &str, template: &str) -> bool {
    method.eq_ignore_ascii_case("delete") && template == "/api/v1/automations/{id}"
        || template == "/staff/automations/{id}/delete"
}

/// Adds a recurring invoice of the side's client as the owner; returns its id.
async fn add_recurring(app: &TestApp, w: &World, side: &ClientSide) -> String {
    let owner = app.actor(w.owner).await;
    let n = atrium_store::billing::NewRecurringInvoice {
        client_id: side.id,
        project_id: None,
        name: format!("Matrix retainer of {}", side.name),
        currency: "EUR".into(),
        lines: vec![atrium_core::money::LineInput {
            description: "Matrix line".into(),
            quantity: "1".into(),
            unit_price: "10".into(),
            tax_rate: "0".into(),
            discount: String::new(),
        }],
        notes: String::new(),
        interval: atrium_core::model::RecurringInterval::Monthly,
        next_issue_date: chrono::NaiveDate::from_ymd_opt(2099, 1, 1).expect("date"),
        due_days: 14,
        auto_send: false,
    };
    app.store.create_recurring_invoice(&owner, n, None).await.expect("recurring invoice").id.to_string()
}

/// Whether a route deletes the recurring invoice it is given.
fn consumes_recurring(method: &str, template: &str) -> bool {
    method.eq_ignore_ascii_case("delete") && template == "/api/v1/recurring-invoices/{id}"
        || template == "/staff/recurring-invoices/{id}/delete"
}

/// The body of a new recurring invoice of the side's client.
fn recurring_body(s: &ClientSide) -> Payload {
    Payload::Json(json!({
        "client_id": s.id.to_string(), "currency": "EUR", "interval": "monthly", "next_issue_date": "2099-01-01",
        "due_days": 14, "auto_send": false,
        "lines": [{"description": "Intruder line", "quantity": "1", "unit_price": "1.00", "tax_rate": "0"}],
    }))
}

/// The staff page's recurring invoice form for the side's client.
fn recurring_form(s: &ClientSide) -> Vec<(&'static str, String)> {
    vec![
        ("name", "Intruder retainer".into()),
        ("client_id", s.id.to_string()),
        ("currency", "EUR".into()),
        ("interval", "monthly".into()),
        ("next_issue_date", "2099-01-01".into()),
        ("due_days", "14".into()),
        ("line_description", "Intruder line".into()),
        ("line_quantity", "1".into()),
        ("line_unit_price", "1.00".into()),
        ("line_tax_rate", "0".into()),
    ]
}

/// Whether a route deletes the project template it is given.
fn consumes_template(method: &str, template: &str) -> bool {
    method.eq_ignore_ascii_case("delete") && template == "/api/v1/project-templates/{id}"
        || template == "/staff/templates/{id}/delete"
}

/// Whether a route deletes the saved reply it is given.
fn consumes_saved_reply(method: &str, template: &str) -> bool {
    method.eq_ignore_ascii_case("delete") && template == "/api/v1/saved-replies/{id}"
}

/// Starts a session for `user` and returns its id (the newest of their sessions).
async fn fresh_session_of(app: &TestApp, user: UserId) -> String {
    app.token_for(user).await;
    app.store.sessions_of(&app.actor(user).await).await.expect("sessions")[0].id.to_string()
}

/// Posts a message in the side's client channel as the owner; returns its id.
async fn add_message(app: &TestApp, w: &World, side: &ClientSide) -> String {
    add_message_by(app, w.owner, side).await
}

/// Posts a message in the side's client channel as `author`; returns its id.
async fn add_message_by(app: &TestApp, author: UserId, side: &ClientSide) -> String {
    let author = app.actor(author).await;
    let m = app
        .store
        .create_message(&author, side.project, atrium_core::model::Channel::Client, "Control message".into(), None)
        .await
        .expect("message");
    app.run_jobs().await;
    m.id.to_string()
}

/// A job that has failed for good (an unknown kind fails permanently on its first run).
async fn failed_job(app: &TestApp) -> String {
    let id = app
        .store
        .job_runner()
        .enqueue(atrium_store::jobs::NewJob::new("matrix-unknown-kind", json!({})))
        .await
        .expect("enqueue")
        .expect("job id");
    app.run_jobs().await;
    id.to_string()
}

/// Uploads a file to the side's project as the owner; returns its id.
async fn add_file(app: &TestApp, w: &World, side: &ClientSide) -> String {
    let owner = app.actor(w.owner).await;
    let name = format!("Control {}.txt", uuid::Uuid::now_v7().simple());
    upload(app, &owner, side.project, None, &name, b"control").await.to_string()
}

/// The state an invoice route needs its invoice in for a control to succeed (`None`: the
/// seeded sent invoice will do, e.g. for reads and small payments).
fn invoice_state_for(template: &str) -> Option<&'static str> {
    if !template.contains("/invoices/{id}") {
        return None;
    }
    if template.ends_with("/reissue") {
        Some("void")
    } else if template.ends_with("/send") || template.ends_with("/void") || template.ends_with("/invoices/{id}") {
        Some("draft")
    } else {
        None
    }
}

/// Creates an invoice of the side's client as the owner, in `state` (`draft` or `void`).
async fn fresh_invoice(app: &TestApp, w: &World, side: &ClientSide, state: &str) -> String {
    let owner = app.actor(w.owner).await;
    let inv = draft_invoice(app, &owner, side.id).await;
    if state == "void" {
        app.store.void_invoice(&owner, inv, None).await.expect("void");
    }
    inv.to_string()
}

/// Whether a route deletes the file it is given.
fn consumes_file(method: &str, template: &str) -> bool {
    method.eq_ignore_ascii_case("delete") && template == "/api/v1/files/{id}"
}

/// Whether a route restores the (deleted) file it is given.
fn restores_file(template: &str) -> bool {
    template.ends_with("/files/{id}/restore")
}

/// Whether a route deletes the message it is given.
fn consumes_message(method: &str, template: &str) -> bool {
    method.eq_ignore_ascii_case("delete") && template.contains("/messages/{id}")
        || template == "/staff/messages/{id}/delete"
        || template == "/portal/messages/{id}/delete"
}

/// Whether a route deletes the project page it is given.
fn consumes_page(method: &str, template: &str) -> bool {
    method.eq_ignore_ascii_case("delete") && template == "/api/v1/pages/{id}" || template == "/staff/pages/{id}/delete"
}

/// Adds a client-visible page to the side's project as the owner; returns its id.
async fn add_page(app: &TestApp, w: &World, side: &ClientSide) -> String {
    let owner = app.actor(w.owner).await;
    let n = atrium_store::project_pages::NewPage {
        title: "Control page".into(),
        kind: atrium_core::project_page::PageKind::Link,
        body: String::new(),
        url: Some("https://example.com/control".into()),
        staff_only: false,
        position: None,
    };
    app.store.create_project_page(&owner, side.project, n, None).await.expect("page").id.to_string()
}

/// Whether a route deletes the contact it is given (its control needs a fresh one each time).
fn consumes_contact(template: &str) -> bool {
    template.contains("/contacts/{id}")
}

/// Fills every `{param}` of `template` from the target. A parameter without a rule panics: a new
/// route must be classified here before the matrix passes.
pub(crate) fn substitute(template: &str, t: &Target<'_>) -> String {
    let segments: Vec<&str> = template.split('/').collect();
    let mut out = Vec::with_capacity(segments.len());
    for (i, seg) in segments.iter().enumerate() {
        let Some(param) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            out.push(seg.to_string());
            continue;
        };
        let prev = if i > 0 { segments[i - 1] } else { "" };
        let value = match (prev, param) {
            ("clients", "id") => t.side.id.to_string(),
            ("projects", "id") => t.side.project.to_string(),
            ("tasks", "id") => t.side.task.to_string(),
            ("sessions", "id") => t.session_id.clone(),
            ("contacts", "id") => t.contact_id.clone(),
            ("milestones", "id") => t.side.milestone.to_string(),
            ("pages", "id") => t.page_id.clone(),
            ("messages", "id") => t.message_id.clone(),
            ("jobs", "id") => t.job_id.clone(),
            ("notifications", "id") => t.notification_id.clone(),
            ("files", "id") => t.file_id.clone(),
            ("approvals", "id") => t.side.approval.to_string(),
            ("tickets" | "helpdesk", "id") => t.ticket_id.clone(),
            ("invoices" | "billing", "id") => t.invoice_id.clone(),
            ("saved-replies", "id") => t.saved_reply_id.clone(),
            ("project-templates" | "templates", "id") => t.template_id.clone(),
            ("automations", "id") => t.automation_id.clone(),
            ("recurring-invoices", "id") => t.recurring_id.clone(),
            ("api-tokens" | "tokens", "id") => t.api_token_id.clone(),
            ("unsubscribe", "user") => t.side.admin.to_string(),
            ("{user}", "kind") => "mention".into(),
            ("{kind}", "sig") => "00".repeat(16),
            ("rate", "ticket") => t.ticket_id.clone(),
            ("{ticket}", "rating") => "good".into(),
            ("{rating}", "sig") => "00".repeat(16),
            // A staff member: only staff have a job title.
            ("users", "id") if template.ends_with("/title") => t.staff_user_id.clone(),
            // An account of the target client (reactivating an active one changes nothing).
            ("users", "id") => t.side.viewer.to_string(),
            ("invitations" | "invite" | "magic" | "reset", "token") => t.bogus_token.clone(),
            _ => panic!(
                "no substitution rule for {{{param}}} after /{prev}/ in {template}: \
                 classify the new route in tests/it/authz_matrix.rs"
            ),
        };
        out.push(value);
    }
    out.join("/")
}

fn has_id_param(template: &str) -> bool {
    template.contains('{') && !template.contains("{token}")
}

// ----- leak checks ---------------------------------------------------------------------------

/// Strings a user of client A must never receive: everything of client B, and A's own
/// internal note.
fn forbidden_for_a(w: &World) -> Vec<String> {
    let mut v = w.b.secrets();
    let (name, email) = contact_of(&w.b);
    v.push(name);
    v.push(email);
    v.push(w.a.note_text.clone());
    v.push(w.a.note.to_string());
    v.push(w.a.staff_message_text.clone());
    v.push(w.a.staff_message.to_string());
    v.push(w.a.staff_file_name.clone());
    v.push(w.a.staff_file.to_string());
    v.push(w.a.staff_page_title.clone());
    v.push(w.a.staff_page.to_string());
    v.push(w.a.ticket_note_text.clone());
    v.push(w.a.ticket_note.to_string());
    v
}

fn leaks<'a>(body: &str, forbidden: &'a [String]) -> Vec<&'a str> {
    forbidden.iter().filter(|s| body.contains(s.as_str())).map(String::as_str).collect()
}

// ----- the API -------------------------------------------------------------------------------

/// What a client-A caller may get from an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Reaches client B's data (by id or by a body field) or is staff-only: must be refused
    /// with 403/404; the same request by staff must succeed.
    Refused,
    /// Refused for everyone (a token that matches nothing): 404.
    Bogus,
    /// Open to any signed-in caller (or anyone): may succeed, must carry nothing of B.
    Open,
    /// Something only its owner may touch (a session, a decision on an approval naming B's
    /// admin): refused with 403/404 for A's callers;
    /// the control is B's admin acting on their own, fresh one.
    OwnOnly,
    /// The live event stream: it never ends, so it is not called here; the dedicated test
    /// `the_event_stream_carries_nothing_of_other_clients_and_no_notes` covers it.
    Stream,
}

/// One classified API operation. `query` and `body` are built for a target side.
pub(crate) struct ApiRule {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    kind: Kind,
    pub(crate) query: fn(&ClientSide) -> String,
    pub(crate) body: fn(&ClientSide) -> Payload,
}

fn no_query(_: &ClientSide) -> String {
    String::new()
}
fn no_body(_: &ClientSide) -> Payload {
    Payload::Empty
}

/// Every API operation, classified. Keep in step with `api::openapi()` (the test checks both
/// directions).
pub(crate) fn api_rules() -> Vec<ApiRule> {
    use Kind::*;
    let r = |method, path, kind, query: fn(&ClientSide) -> String, body: fn(&ClientSide) -> Payload| ApiRule {
        method,
        path,
        kind,
        query,
        body,
    };
    vec![
        r("post", "/api/v1/session", Open, no_query, |_| {
            Payload::Json(json!({"email": "nobody@nowhere.test", "password": "wrong password!"}))
        }),
        r("delete", "/api/v1/session", Open, no_query, no_body),
        r("get", "/api/v1/me", Open, no_query, no_body),
        r("patch", "/api/v1/me", Open, no_query, |_| Payload::Json(json!({"timezone": "Europe/Berlin"}))),
        r("post", "/api/v1/me/onboarding", Open, no_query, no_body),
        r("post", "/api/v1/me/password", Open, no_query, |_| {
            Payload::Json(json!({"current_password": "not my password", "new_password": "a long enough phrase"}))
        }),
        r("get", "/api/v1/sessions", Open, no_query, no_body),
        // API tokens: one's own (any signed-in session; an API token is refused, 403); B's
        // admin's token is 404 to everyone else.
        r("get", "/api/v1/api-tokens", Open, no_query, no_body),
        r("post", "/api/v1/api-tokens", Open, no_query, |_| {
            Payload::Json(json!({"name": "Matrix token", "scopes": ["read"]}))
        }),
        r("delete", "/api/v1/api-tokens/{id}", OwnOnly, no_query, no_body),
        r("delete", "/api/v1/sessions/{id}", OwnOnly, no_query, no_body),
        r("get", "/api/v1/audit", Refused, |s| format!("client_id={}", s.id), no_body),
        r("patch", "/api/v1/users/{id}", Refused, no_query, |_| Payload::Json(json!({"active": true}))),
        r("post", "/api/v1/magic-links", Open, no_query, |s| Payload::Json(json!({"email": s.people[0].1}))),
        r("post", "/api/v1/invitations", Refused, no_query, |s| {
            Payload::Json(
                json!({"email": "newcomer@b.test", "name": "Newcomer", "role": "client_viewer", "client_id": s.id.to_string()}),
            )
        }),
        r("post", "/api/v1/invitations/{token}/accept", Bogus, no_query, |_| {
            Payload::Json(json!({"password": "a long enough phrase"}))
        }),
        r("get", "/api/v1/clients", Refused, no_query, no_body),
        r("post", "/api/v1/clients", Refused, no_query, |_| Payload::Json(json!({"name": "Intruder Co"}))),
        r("get", "/api/v1/clients/{id}", Refused, no_query, no_body),
        r("patch", "/api/v1/clients/{id}", Refused, no_query, |s| Payload::Json(json!({"name": s.name}))),
        r("delete", "/api/v1/clients/{id}", Refused, no_query, no_body),
        r("post", "/api/v1/clients/{id}/restore", Refused, no_query, no_body),
        r("get", "/api/v1/clients/{id}/contacts", Refused, no_query, no_body),
        r("post", "/api/v1/clients/{id}/contacts", Refused, no_query, |_| {
            Payload::Json(json!({"name": "Intruder Contact", "email": "intruder@x.test"}))
        }),
        r("delete", "/api/v1/contacts/{id}", Refused, no_query, no_body),
        // Pages per client: staff read and set a client's (showing a page changes nothing here);
        // the default is the agency's (owners and admins); `/portal` is the caller's own.
        r("get", "/api/v1/clients/{id}/portal", Refused, no_query, no_body),
        r("patch", "/api/v1/clients/{id}/portal", Refused, no_query, |_| {
            Payload::Json(json!({"pages": {"files": true}}))
        }),
        r("get", "/api/v1/portal", Open, no_query, no_body),
        r("get", "/api/v1/portal-defaults", Refused, no_query, no_body),
        r("patch", "/api/v1/portal-defaults", Refused, no_query, |_| Payload::Json(json!({"pages": {"files": true}}))),
        r("get", "/api/v1/projects", Open, |s| format!("client_id={}", s.id), no_body),
        r("post", "/api/v1/projects", Refused, no_query, |s| {
            Payload::Json(json!({"client_id": s.id.to_string(), "name": "Intruder project"}))
        }),
        r("get", "/api/v1/projects/{id}", Refused, no_query, no_body),
        r("patch", "/api/v1/projects/{id}", Refused, no_query, |_| Payload::Json(json!({"status": "active"}))),
        r("get", "/api/v1/projects/{id}/milestones", Refused, no_query, no_body),
        r("post", "/api/v1/projects/{id}/milestones", Refused, no_query, |_| {
            Payload::Json(json!({"name": "Intruder milestone"}))
        }),
        r("patch", "/api/v1/milestones/{id}", Refused, no_query, |_| Payload::Json(json!({"done": true}))),
        r("get", "/api/v1/projects/{id}/pages", Refused, no_query, no_body),
        r("post", "/api/v1/projects/{id}/pages", Refused, no_query, |_| {
            Payload::Json(json!({"title": "Intruder page", "kind": "markdown", "body": "Intruder"}))
        }),
        r("get", "/api/v1/pages/{id}", Refused, no_query, no_body),
        r("patch", "/api/v1/pages/{id}", Refused, no_query, |_| Payload::Json(json!({"body": "Intruder edit"}))),
        r("delete", "/api/v1/pages/{id}", Refused, no_query, no_body),
        r("get", "/api/v1/projects/{id}/team", Refused, no_query, no_body),
        r("put", "/api/v1/projects/{id}/team", Refused, no_query, |_| Payload::Json(json!({"user_ids": []}))),
        r("get", "/api/v1/projects/{id}/tasks", Refused, no_query, no_body),
        r("post", "/api/v1/projects/{id}/tasks", Refused, no_query, |_| {
            Payload::Json(json!({"title": "Intruder task"}))
        }),
        r("get", "/api/v1/tasks", Open, |_| "assignee=me&include_done=true".into(), no_body),
        r("get", "/api/v1/tasks/{id}", Refused, no_query, no_body),
        // Status only: what a client assignee may do to their own task.
        r("patch", "/api/v1/tasks/{id}", Refused, no_query, |_| Payload::Json(json!({"status": "in_progress"}))),
        r("get", "/api/v1/tasks/{id}/comments", Refused, no_query, no_body),
        r("post", "/api/v1/tasks/{id}/comments", Refused, no_query, |_| {
            Payload::Json(json!({"body": "Intruder reply", "visibility": "reply"}))
        }),
        r("get", "/api/v1/projects/{id}/messages", Refused, |_| "channel=client".into(), no_body),
        r("post", "/api/v1/projects/{id}/messages", Refused, no_query, |_| {
            Payload::Json(json!({"body": "Intruder message", "channel": "client"}))
        }),
        r("patch", "/api/v1/messages/{id}", Refused, no_query, |_| Payload::Json(json!({"body": "Edited"}))),
        r("delete", "/api/v1/messages/{id}", Refused, no_query, no_body),
        r("post", "/api/v1/projects/{id}/messages/read", Refused, no_query, |s| {
            Payload::Json(json!({"up_to": s.message.to_string()}))
        }),
        r("get", "/api/v1/projects/{id}/people", Refused, no_query, no_body),
        r("get", "/api/v1/notifications", Open, no_query, no_body),
        r("post", "/api/v1/notifications/read", Open, no_query, |_| Payload::Json(json!({"all": true}))),
        r("get", "/api/v1/notification-settings", Open, no_query, no_body),
        r("put", "/api/v1/notification-settings", Open, no_query, |_| {
            Payload::Json(json!({"kind": "message", "delivery": "email"}))
        }),
        r("get", "/api/v1/events", Stream, no_query, no_body),
        r("get", "/api/v1/jobs/failed", Refused, no_query, no_body),
        r("get", "/api/v1/projects/{id}/folders", Refused, no_query, no_body),
        r("post", "/api/v1/projects/{id}/folders", Refused, no_query, |_| {
            Payload::Json(json!({"name": "Intruder folder"}))
        }),
        r("get", "/api/v1/projects/{id}/files", Refused, no_query, no_body),
        r("post", "/api/v1/projects/{id}/files", Refused, no_query, |_| Payload::Upload("intruder.txt", b"intruder")),
        r("get", "/api/v1/files/{id}", Refused, no_query, no_body),
        r("patch", "/api/v1/files/{id}", Refused, no_query, |_| Payload::Json(json!({"name": "Renamed.txt"}))),
        r("delete", "/api/v1/files/{id}", Refused, no_query, no_body),
        r("post", "/api/v1/files/{id}/restore", Refused, no_query, no_body),
        r("get", "/api/v1/files/{id}/versions", Refused, no_query, no_body),
        r("get", "/api/v1/files/{id}/download", Refused, no_query, no_body),
        // The seeded file is text: it has no thumbnail for anyone, so only refusals are checked.
        r("get", "/api/v1/files/{id}/thumbnail", Bogus, no_query, no_body),
        r("post", "/api/v1/jobs/{id}/retry", Refused, no_query, no_body),
        r("get", "/api/v1/approvals", Open, |_| "status=open".into(), no_body),
        // Staff only; the subject is B's file and the approver B's admin.
        r("post", "/api/v1/approvals", Refused, no_query, |s| {
            Payload::Json(
                json!({"subject_type": "file", "subject_id": s.file.to_string(), "approver_ids": [s.admin.to_string()]}),
            )
        }),
        r("get", "/api/v1/approvals/{id}", Refused, no_query, no_body),
        // Help desk: a client user reads their client's tickets (finance: their own); B's are
        // invisible (404); opening one for B, the inbox's bulk change, the score and turning
        // a ticket into a task are staff-only; only the requester rates.
        r("get", "/api/v1/tickets", Open, no_query, no_body),
        r("post", "/api/v1/tickets", Refused, no_query, |s| {
            Payload::Json(json!({"client_id": s.id.to_string(), "subject": "Intruder ticket", "body": "Intruder"}))
        }),
        r("post", "/api/v1/tickets/bulk", Refused, no_query, |s| {
            Payload::Json(json!({"ids": [s.ticket.to_string()], "status": "open"}))
        }),
        r("get", "/api/v1/tickets/satisfaction", Refused, |s| format!("client_id={}", s.id), no_body),
        r("get", "/api/v1/tickets/{id}", Refused, no_query, no_body),
        r("patch", "/api/v1/tickets/{id}", Refused, no_query, |_| Payload::Json(json!({"priority": "high"}))),
        r("get", "/api/v1/tickets/{id}/attachments", Refused, no_query, no_body),
        r("get", "/api/v1/tickets/{id}/comments", Refused, no_query, no_body),
        r("post", "/api/v1/tickets/{id}/comments", Refused, no_query, |_| {
            Payload::Json(json!({"body": "Intruder answer", "visibility": "reply"}))
        }),
        r("post", "/api/v1/tickets/{id}/task", Refused, no_query, no_body),
        r("post", "/api/v1/tickets/{id}/satisfaction", OwnOnly, no_query, |_| Payload::Json(json!({"rating": "good"}))),
        // Billing: B's invoices are invisible to A's users (404); writes are staff-only.
        r("get", "/api/v1/invoices", Refused, |s| format!("client_id={}", s.id), no_body),
        r("post", "/api/v1/invoices", Refused, no_query, |s| {
            Payload::Json(json!({
                "client_id": s.id.to_string(), "currency": "EUR", "issue_date": "2026-01-01", "due_date": "2026-02-01",
                "lines": [{"description": "Intruder line", "quantity": "1", "unit_price": "1.00", "tax_rate": "0"}],
            }))
        }),
        r("get", "/api/v1/invoices/export.csv", Refused, no_query, no_body),
        r("get", "/api/v1/invoices/{id}", Refused, no_query, no_body),
        r("patch", "/api/v1/invoices/{id}", Refused, no_query, |_| Payload::Json(json!({"notes": "Intruder note"}))),
        r("post", "/api/v1/invoices/{id}/send", Refused, no_query, no_body),
        r("post", "/api/v1/invoices/{id}/void", Refused, no_query, no_body),
        r("post", "/api/v1/invoices/{id}/reissue", Refused, no_query, no_body),
        r("post", "/api/v1/invoices/{id}/payments", Refused, no_query, |_| {
            Payload::Json(json!({"amount": "1.00", "date": "2026-02-02", "method": "bank_transfer"}))
        }),
        r("get", "/api/v1/invoices/{id}/pdf", Refused, no_query, no_body),
        // Recurring invoices: staff only (the staff audience refuses every client user, 404),
        // for B's schedule and for a new one of B's.
        r("get", "/api/v1/recurring-invoices", Refused, no_query, no_body),
        r("post", "/api/v1/recurring-invoices", Refused, no_query, recurring_body),
        r("get", "/api/v1/recurring-invoices/{id}", Refused, no_query, no_body),
        r("patch", "/api/v1/recurring-invoices/{id}", Refused, no_query, |_| Payload::Json(json!({"name": "Renamed"}))),
        r("delete", "/api/v1/recurring-invoices/{id}", Refused, no_query, no_body),
        r("get", "/api/v1/invoice-settings", Refused, no_query, no_body),
        r("put", "/api/v1/invoice-settings", Refused, no_query, |_| {
            Payload::Json(json!({"prefix": "INV-", "padding": 4}))
        }),
        // Branding: read by everyone signed in; changed by owners and admins only (client
        // users 404). No logo is set in the matrix's world, so the public logo is 404 for
        // everyone (tests/it/branding.rs serves one).
        r("get", "/api/v1/branding", Open, no_query, no_body),
        r("put", "/api/v1/branding", Refused, no_query, |_| Payload::Json(json!({"agency_name": "Matrix Agency"}))),
        r("put", "/api/v1/branding/logo", Refused, no_query, |_| Payload::Upload("logo.png", TINY_PNG)),
        r("delete", "/api/v1/branding/logo", Refused, no_query, no_body),
        r("get", "/api/v1/branding/logo", Bogus, no_query, no_body),
        // The help desk's settings and saved replies are the agency's: staff only (client
        // users 404). A request form is read by the users of its project's client.
        r("get", "/api/v1/helpdesk/settings", Refused, no_query, no_body),
        r("put", "/api/v1/helpdesk/settings", Refused, no_query, |_| Payload::Json(default_service_levels())),
        r("get", "/api/v1/saved-replies", Refused, no_query, no_body),
        r("post", "/api/v1/saved-replies", Refused, no_query, |_| {
            Payload::Json(json!({"title": "Intruder reply", "body": "Intruder text"}))
        }),
        r("patch", "/api/v1/saved-replies/{id}", Refused, no_query, |_| Payload::Json(json!({"title": "Renamed"}))),
        r("delete", "/api/v1/saved-replies/{id}", Refused, no_query, no_body),
        // Project templates are the agency's: staff only (client users 404); saving B's
        // project as a template is refused like every other reach into B.
        r("get", "/api/v1/project-templates", Refused, no_query, no_body),
        r("post", "/api/v1/project-templates", Refused, no_query, |_| {
            Payload::Json(json!({"name": "Intruder template", "tasks": [{"title": "Intruder task"}]}))
        }),
        r("get", "/api/v1/project-templates/{id}", Refused, no_query, no_body),
        r("patch", "/api/v1/project-templates/{id}", Refused, no_query, |_| Payload::Json(json!({"name": "Renamed"}))),
        r("delete", "/api/v1/project-templates/{id}", Refused, no_query, no_body),
        r("post", "/api/v1/project-templates/{id}/copy", Refused, no_query, |_| Payload::Json(json!({}))),
        r("post", "/api/v1/projects/{id}/template", Refused, no_query, |_| {
            Payload::Json(json!({"name": "Intruder template"}))
        }),
        // Automations are the agency's: owners and admins (other staff 403, client users 404).
        r("get", "/api/v1/automations", Refused, no_query, no_body),
        r("post", "/api/v1/automations", Refused, no_query, |_| {
            Payload::Json(json!({"name": "Intruder rule", "trigger": {"kind": "ticket.created"},
                "actions": [{"kind": "notify_staff", "to": "owners_admins", "text": "{{ticket.subject}}"}]}))
        }),
        r("get", "/api/v1/automations/{id}", Refused, no_query, no_body),
        r("patch", "/api/v1/automations/{id}", Refused, no_query, |_| Payload::Json(json!({"enabled": true}))),
        r("delete", "/api/v1/automations/{id}", Refused, no_query, no_body),
        r("get", "/api/v1/automations/{id}/runs", Refused, no_query, no_body),
        r("get", "/api/v1/onboarding", Refused, no_query, no_body),
        r("put", "/api/v1/onboarding", Refused, no_query, |_| {
            Payload::Json(json!({"invitation_text": "Intruder text", "project_templates": []}))
        }),
        r("get", "/api/v1/projects/{id}/request-form", Refused, no_query, no_body),
        r("put", "/api/v1/projects/{id}/request-form", Refused, no_query, |_| Payload::Json(json!({"fields": []}))),
        // Only a named approver decides: the control is B's admin on B's approval.
        r("post", "/api/v1/approvals/{id}/decision", OwnOnly, no_query, |_| {
            Payload::Json(json!({"decision": "changes_requested", "comment": "Intruder decision"}))
        }),
    ]
}

/// The default service levels as the API sends them.
fn default_service_levels() -> Value {
    serde_json::to_value(atrium_core::service_level::ServiceLevels::default().settings()).expect("settings as json")
}

/// The service-level form as the settings page posts it (the defaults).
fn service_level_form() -> Vec<(&'static str, String)> {
    let mut f: Vec<(&'static str, String)> = vec![
        ("timezone", "UTC".into()),
        ("business_hours.start", "09:00".into()),
        ("business_hours.end", "17:00".into()),
    ];
    f.extend(["1", "2", "3", "4", "5"].map(|d| ("business_hours.days", d.to_string())));
    for (k, v) in [
        ("sla.low.first_response_minutes", "960"),
        ("sla.low.resolution_minutes", "4800"),
        ("sla.normal.first_response_minutes", "480"),
        ("sla.normal.resolution_minutes", "2880"),
        ("sla.high.first_response_minutes", "240"),
        ("sla.high.resolution_minutes", "1440"),
        ("sla.urgent.first_response_minutes", "60"),
        ("sla.urgent.resolution_minutes", "480"),
    ] {
        f.push((k, v.into()));
    }
    f
}

/// An operation of the OpenAPI document: method, path, whether it needs no authentication.
#[derive(Clone, Debug)]
struct Operation {
    method: String,
    path: String,
    public: bool,
}

fn documented_operations() -> Vec<Operation> {
    let doc = serde_json::to_value(atrium_web::api::openapi()).expect("openapi as json");
    let global_public =
        doc["security"].as_array().is_none_or(|s| s.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())));
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "options", "head", "patch", "trace"] {
            let Some(op) = item.get(method) else { continue };
            let public = match op.get("security").and_then(Value::as_array) {
                Some(reqs) => reqs.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())),
                None => global_public,
            };
            ops.push(Operation { method: method.into(), path: path.clone(), public });
        }
    }
    assert!(ops.len() >= 20, "the OpenAPI document lists the API ({} operations)", ops.len());
    ops
}

/// Pairs every documented operation with its rule; fails on an unclassified operation and on
/// a rule for an operation that no longer exists.
fn classified_operations() -> Vec<(Operation, ApiRule)> {
    let mut rules = api_rules();
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for op in documented_operations() {
        match rules.iter().position(|r| r.method == op.method && r.path == op.path) {
            Some(i) => out.push((op, rules.swap_remove(i))),
            None => missing.push(format!("{} {}", op.method.to_uppercase(), op.path)),
        }
    }
    assert!(
        missing.is_empty(),
        "API operations without an authorization rule in tests/it/authz_matrix.rs (classify them): {missing:?}"
    );
    let stale: Vec<String> = rules.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(stale.is_empty(), "rules for operations that are not in the OpenAPI document: {stale:?}");
    out
}

fn with_query(path: String, query: String) -> String {
    if query.is_empty() { path } else { format!("{path}?{query}") }
}

#[tokio::test]
async fn every_api_operation_refuses_other_clients_data() {
    // SEC-AC-1, SEC-AC-2, SEC-AC-3
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let forbidden = forbidden_for_a(&w);
    let ops = classified_operations();
    let target = Target::new(&w.b, fresh_session_of(&app, w.b.admin).await, add_contact(&app, &w, &w.b).await)
        .with_job(failed_job(&app).await)
        .with_saved_reply(add_saved_reply(&app, &w).await)
        .with_template(add_template(&app, &w).await)
        .with_automation(add_automation(&app, &w).await)
        .with_recurring(add_recurring(&app, &w, &w.b).await)
        .with_api_token(add_api_token(&app, w.b.admin).await);
    let mut failures = Vec::new();
    let mut refusals = 0;
    for (op, rule) in &ops {
        if rule.kind == Kind::Stream {
            continue;
        }
        let path = with_query(substitute(&op.path, &target), (rule.query)(&w.b));
        let payload = (rule.body)(&w.b);
        for via in [Via::Bearer, Via::Cookie, Via::ApiToken] {
            for caller in CALLERS {
                if via == Via::ApiToken && caller == Caller::Anonymous {
                    continue; // the same request as anonymous via Bearer
                }
                let a = send(&app, caller.user(&w), via, &op.method, &path, &payload).await;
                let what = format!("{} {path} as {caller:?} via {via:?} → {}: {}", op.method, a.status, a.body);
                let found = leaks(&a.body, &forbidden);
                if !found.is_empty() {
                    failures.push(format!("LEAK {found:?} in {what}"));
                }
                if a.status >= 500 {
                    failures.push(format!("server error: {what}"));
                    continue;
                }
                let anonymous = caller == Caller::Anonymous;
                if anonymous && !op.public {
                    // Spec: no token → 401 with the JSON error body.
                    if a.status != 401 || a.json()["error"]["code"] != "unauthorized" {
                        failures.push(format!("anonymous must get 401: {what}"));
                    }
                    continue;
                }
                if !anonymous && !op.public && a.status == 401 {
                    failures.push(format!("a signed-in caller was not recognised: {what}"));
                    continue;
                }
                if via == Via::ApiToken && session_only(&op.path) {
                    // SEC-INT-3: no token manages tokens, signs out or changes the password.
                    refusals += 1;
                    if a.status != 403 || !a.body.contains("session") {
                        failures.push(format!("an API token must be refused (403, needs a session): {what}"));
                    }
                    continue;
                }
                match rule.kind {
                    Kind::Refused | Kind::Bogus | Kind::OwnOnly => {
                        refusals += 1;
                        if !matches!(a.status, 403 | 404) {
                            failures.push(format!("expected 403/404: {what}"));
                        } else if a.json()["error"]["code"].as_str().is_none() {
                            failures.push(format!("refusal without the JSON error body: {what}"));
                        }
                    }
                    Kind::Stream => {}
                    Kind::Open => {
                        if !anonymous && !(200..300).contains(&a.status) && op.method == "get" {
                            failures.push(format!("an open read should answer: {what}"));
                        }
                    }
                }
            }
        }
    }
    // Controls: the very same requests, by someone allowed, succeed — so every refusal above
    // was an authorization decision, not a malformed path, body or CSRF token.
    for (op, rule) in &ops {
        if !matches!(rule.kind, Kind::Refused | Kind::OwnOnly) {
            continue;
        }
        for via in [Via::Bearer, Via::Cookie] {
            let fresh;
            let t = if consumes_contact(&op.path) {
                fresh = target.with_contact(add_contact(&app, &w, &w.b).await);
                &fresh
            } else if consumes_message(&op.method, &op.path) {
                fresh = target.with_message(add_message(&app, &w, &w.b).await);
                &fresh
            } else if consumes_page(&op.method, &op.path) {
                fresh = target.with_page(add_page(&app, &w, &w.b).await);
                &fresh
            } else if consumes_ticket(&op.path) {
                fresh = target.with_ticket(add_ticket(&app, &w.b).await);
                &fresh
            } else if consumes_saved_reply(&op.method, &op.path) {
                fresh = target.with_saved_reply(add_saved_reply(&app, &w).await);
                &fresh
            } else if consumes_template(&op.method, &op.path) {
                fresh = target.with_template(add_template(&app, &w).await);
                &fresh
            } else if consumes_automation(&op.method, &op.path) {
                fresh = target.with_automation(add_automation(&app, &w).await);
                &fresh
            } else if consumes_recurring(&op.method, &op.path) {
                fresh = target.with_recurring(add_recurring(&app, &w, &w.b).await);
                &fresh
            } else if consumes_file(&op.method, &op.path) || restores_file(&op.path) {
                let id = add_file(&app, &w, &w.b).await;
                if restores_file(&op.path) {
                    let owner = app.actor(w.owner).await;
                    app.store.delete_file(&owner, id.parse().unwrap(), None).await.expect("delete before restore");
                }
                fresh = target.with_file(id);
                &fresh
            } else if let Some(state) = invoice_state_for(&op.path)
                && op.method != "get"
            {
                fresh = target.with_invoice(fresh_invoice(&app, &w, &w.b, state).await);
                &fresh
            } else if consumes_api_token(&op.path) {
                fresh = target.with_api_token(add_api_token(&app, w.b.admin).await);
                &fresh
            } else if rule.kind == Kind::OwnOnly {
                fresh = Target::new(&w.b, fresh_session_of(&app, w.b.admin).await, target.contact_id.clone());
                &fresh
            } else {
                &target
            };
            let allowed = if rule.kind == Kind::OwnOnly { w.b.admin } else { w.owner };
            let path = with_query(substitute(&op.path, t), (rule.query)(&w.b));
            before_control(&app, &w, &op.path, &w.b).await;
            let a = send(&app, Some(allowed), via, &op.method, &path, &(rule.body)(&w.b)).await;
            after_control(&app, &w, &op.method, &op.path, &w.b).await;
            if !(200..300).contains(&a.status) {
                failures.push(format!(
                    "control failed: {} {path} as {allowed} via {via:?} → {}: {}",
                    op.method, a.status, a.body
                ));
            }
        }
    }
    assert!(refusals > 100, "the matrix exercised refusals ({refusals})");
    assert!(failures.is_empty(), "{} authorization failures:\n{}", failures.len(), failures.join("\n"));
    app.stop().await;
}

#[tokio::test]
async fn open_api_reads_show_only_the_callers_own_client() {
    // SEC-AC-3, SEC-AC-7: the reads a client user may make (own ids) carry nothing of B and
    // never A's internal note, while the same reads by staff do show the note.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let forbidden = forbidden_for_a(&w);
    let own = Target::new(&w.a, String::new(), add_contact(&app, &w, &w.a).await);
    let mut failures = Vec::new();
    let mut seen_reply = false;
    for (op, rule) in classified_operations() {
        if op.method != "get" || rule.kind == Kind::Stream {
            continue;
        }
        let path = with_query(substitute(&op.path, &own), (rule.query)(&w.a));
        for (caller, via) in [Caller::ClientAdmin, Caller::ClientFinance, Caller::ClientViewer]
            .into_iter()
            .flat_map(|c| [(c, Via::Bearer), (c, Via::ApiToken)])
        {
            let a = send(&app, caller.user(&w), via, "get", &path, &Payload::Empty).await;
            let found = leaks(&a.body, &forbidden);
            if !found.is_empty() {
                failures.push(format!("LEAK {found:?} in GET {path} as {caller:?} via {via:?}: {}", a.body));
            }
            if a.status >= 500 || a.status == 401 {
                failures.push(format!("GET {path} as {caller:?} via {via:?} → {}", a.status));
            }
            seen_reply |= a.body.contains(&w.a.reply_text);
        }
    }
    assert!(seen_reply, "the client reads do return A's replies (so the absence of the note means something)");
    // Staff do get the note through the same route.
    let a =
        send(&app, Some(w.staff), Via::Bearer, "get", &format!("/api/v1/tasks/{}/comments", w.a.task), &Payload::Empty)
            .await;
    assert!(a.body.contains(&w.a.note_text), "staff see the internal note: {}", a.body);
    // The project list of a client user is exactly their client's.
    let a = send(&app, Some(w.a.admin), Via::Bearer, "get", "/api/v1/projects", &Payload::Empty).await;
    let ids: Vec<String> =
        a.json()["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, vec![w.a.project.to_string()]);
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    app.stop().await;
}

// ----- the HTML pages ------------------------------------------------------------------------

/// The form each page route is posted with (empty for GET). Every route of `page_routes()` must
/// appear here, so a new page is classified before the matrix passes.
pub(crate) fn page_form(method: &str, path: &str, s: &ClientSide) -> Option<Payload> {
    let form = |fields: Vec<(&'static str, String)>| Some(Payload::Form(fields));
    let key = domain(s);
    match (method, path) {
        ("GET", _) => Some(Payload::Empty),
        ("POST", "/login") => {
            form(vec![("email", "nobody@nowhere.test".into()), ("password", "wrong password!".into())])
        }
        ("POST", "/login/link") | ("POST", "/reset") => form(vec![("email", "nobody@nowhere.test".into())]),
        ("POST", "/magic/{token}") => form(vec![]),
        ("POST", "/invite/{token}") => {
            form(vec![("name", "Newcomer".into()), ("password", "a long enough phrase".into())])
        }
        ("POST", "/reset/{token}") => form(vec![("password", "a long enough phrase".into())]),
        ("POST", "/logout") | ("POST", "/view-as/exit") => form(vec![]),
        ("POST", "/account/password") => {
            form(vec![("current_password", "not my password".into()), ("new_password", "a long enough phrase".into())])
        }
        ("POST", "/account/sessions/{id}/revoke") | ("POST", "/account/tokens/{id}/revoke") => form(vec![]),
        ("POST", "/account/tokens") => form(vec![("name", "Matrix token".into()), ("scopes", "read".into())]),
        ("POST", "/account/timezone") => form(vec![("timezone", "Europe/Berlin".into())]),
        ("POST", "/staff/clients") => form(vec![("name", "Intruder Co".into())]),
        ("POST", "/staff/clients/{id}") => form(vec![("status", "active".into())]),
        ("POST", "/staff/clients/{id}/delete") | ("POST", "/staff/clients/{id}/restore") => form(vec![]),
        ("POST", "/staff/clients/{id}/invitations") => form(vec![
            ("name", "Newcomer".into()),
            ("email", format!("newcomer@{key}")),
            ("role", "client_viewer".into()),
        ]),
        ("POST", "/staff/clients/{id}/projects") => form(vec![("name", "Intruder project".into())]),
        ("POST", "/staff/clients/{id}/contacts") => {
            form(vec![("name", "Intruder Contact".into()), ("email", "intruder@x.test".into())])
        }
        ("POST", "/staff/contacts/{id}/delete") => form(vec![]),
        ("POST", "/staff/users/{id}/active") => form(vec![("active", "true".into())]),
        ("POST", "/staff/clients/{id}/revoke-access") => form(vec![]),
        ("POST", "/staff/clients/{id}/view-as") => form(vec![("user_id", s.admin.to_string())]),
        // Every page shown: what the seeded clients have already.
        ("POST", "/staff/clients/{id}/portal") | ("POST", "/staff/portal-defaults") => form(
            ["files", "messages", "approvals", "billing", "helpdesk"]
                .iter()
                .map(|k| (*k, "true".to_string()))
                .collect(),
        ),
        ("POST", "/staff/team/invitations") => form(vec![
            ("name", "New Staff".into()),
            ("email", format!("newstaff{}@agency.test", uuid::Uuid::now_v7().simple())),
            ("role", "staff".into()),
        ]),
        ("POST", "/staff/projects/{id}") => form(vec![("status", "active".into())]),
        ("POST", "/staff/projects/{id}/tasks") => form(vec![("title", "Intruder task".into())]),
        ("POST", "/staff/projects/{id}/milestones") => form(vec![("name", "Intruder milestone".into())]),
        ("POST", "/staff/milestones/{id}") => form(vec![("done", "true".into())]),
        ("POST", "/staff/projects/{id}/pages") => form(vec![
            ("title", "Intruder page".into()),
            ("kind", "link".into()),
            ("url", "https://example.com/intruder".into()),
        ]),
        ("POST", "/staff/pages/{id}") => form(vec![("title", "Renamed page".into())]),
        ("POST", "/staff/pages/{id}/delete") | ("POST", "/portal/welcome") => form(vec![]),
        ("POST", "/staff/projects/{id}/team") => {
            form(vec![("user_id", s.admin.to_string()), ("action", "remove".into())])
        }
        ("POST", "/staff/users/{id}/title") => form(vec![("title", "Intruder".into())]),
        ("POST", "/staff/clients/{id}/invitation-text") => form(vec![("invitation_text", "Intruder text".into())]),
        ("POST", "/staff/tasks/{id}") => form(vec![("status", "in_progress".into())]),
        ("POST", "/staff/tasks/{id}/comments") => {
            form(vec![("body", "Intruder reply".into()), ("visibility", "reply".into())])
        }
        ("POST", "/portal/tasks/{id}/status") => form(vec![("status", "in_progress".into())]),
        ("POST", "/portal/tasks/{id}/comments") => form(vec![("body", "Intruder reply".into())]),
        ("POST", "/staff/projects/{id}/messages") => {
            form(vec![("body", "Intruder message".into()), ("channel", "client".into())])
        }
        ("POST", "/portal/projects/{id}/messages") => form(vec![("body", "Intruder message".into())]),
        ("POST", "/messages/{id}/edit") => form(vec![("body", "Edited message".into())]),
        ("POST", "/messages/{id}/delete") | ("POST", "/staff/jobs/{id}/retry") => form(vec![]),
        // Discarding one that is gone changes nothing (and is still staff-only).
        ("POST", "/staff/held-mail/discard") => form(vec![("id", atrium_core::ids::HeldMailId::new().to_string())]),
        ("POST", "/notifications/read-all") | ("POST", "/notifications/{id}/open") => form(vec![]),
        ("POST", "/account/notifications") => form(vec![("mention", "email".into())]),
        ("POST", "/unsubscribe/{user}/{kind}/{sig}") => form(vec![]),
        ("POST", "/rate/{ticket}/{rating}/{sig}") => form(vec![("comment", "Intruder rating".into())]),
        ("POST", "/staff/projects/{id}/files") | ("POST", "/portal/projects/{id}/files") => {
            Some(Payload::Upload("intruder.txt", b"intruder"))
        }
        ("POST", "/staff/projects/{id}/folders") => form(vec![("name", "Intruder folder".into())]),
        ("POST", "/staff/approvals") => {
            form(vec![("file_id", s.file.to_string()), ("approver_id", s.admin.to_string())])
        }
        ("POST", "/files/{id}/delete") | ("POST", "/staff/files/{id}/restore") => form(vec![]),
        ("POST", "/files/{id}/update") => form(vec![("name", format!("Renamed by {key}.txt"))]),
        ("POST", "/staff/invoices") | ("POST", "/staff/invoices/{id}") => form(vec![
            ("client_id", s.id.to_string()),
            ("currency", "EUR".into()),
            ("issue_date", "2026-01-01".into()),
            ("due_date", "2026-02-01".into()),
            ("line_description", "Intruder line".into()),
            ("line_quantity", "1".into()),
            ("line_unit_price", "1.00".into()),
            ("line_tax_rate", "0".into()),
        ]),
        ("POST", "/staff/invoices/{id}/send")
        | ("POST", "/staff/invoices/{id}/void")
        | ("POST", "/staff/invoices/{id}/reissue") => form(vec![]),
        ("POST", "/staff/recurring-invoices") | ("POST", "/staff/recurring-invoices/{id}") => form(recurring_form(s)),
        ("POST", "/staff/recurring-invoices/{id}/status") => form(vec![("status", "paused".into())]),
        ("POST", "/staff/recurring-invoices/{id}/delete") => form(vec![]),
        ("POST", "/staff/invoices/{id}/payments") => {
            form(vec![("amount", "1.00".into()), ("date", "2026-02-02".into()), ("method", "bank_transfer".into())])
        }
        ("POST", "/staff/settings/branding") => form(vec![
            ("agency_name", "Matrix Agency".into()),
            ("accent_color", "#2563eb".into()),
            ("welcome_text", "Hello".into()),
        ]),
        ("POST", "/staff/settings/branding/logo") => Some(Payload::Upload("logo.png", TINY_PNG)),
        ("POST", "/staff/settings/branding/logo/delete") => form(vec![]),
        ("POST", "/staff/inbox/bulk") => form(vec![
            ("ids", s.ticket.to_string()),
            ("assignee_id", "keep".into()),
            ("status", "open".into()),
            ("view", "all".into()),
        ]),
        ("POST", "/staff/tickets/{id}") => form(vec![
            ("subject", "Renamed ticket".into()),
            ("status", "open".into()),
            ("priority", "normal".into()),
            ("assignee_id", String::new()),
            ("project_id", s.project.to_string()),
        ]),
        ("POST", "/staff/tickets/{id}/comments") => {
            form(vec![("body", "Intruder answer".into()), ("visibility", "reply".into())])
        }
        ("POST", "/staff/tickets/{id}/task") => form(vec![]),
        ("POST", "/portal/helpdesk") => Some(Payload::FormWithFile(
            vec![
                ("project_id", s.project.to_string()),
                ("subject", "Intruder ticket".into()),
                ("body", "Intruder".into()),
            ],
            "intruder.txt",
            b"intruder",
        )),
        ("POST", "/portal/helpdesk/{id}/comments") => form(vec![("body", "Intruder answer".into())]),
        ("POST", "/portal/helpdesk/{id}/status") => form(vec![("status", "solved".into())]),
        ("POST", "/portal/helpdesk/{id}/satisfaction") => form(vec![("rating", "good".into())]),
        ("POST", "/staff/settings/helpdesk") => form(service_level_form()),
        ("POST", "/staff/saved-replies") | ("POST", "/staff/saved-replies/{id}") => {
            form(vec![("title", "Intruder reply".into()), ("body", "Intruder text".into())])
        }
        ("POST", "/staff/saved-replies/{id}/delete") | ("POST", "/staff/projects/{id}/request-form") => form(vec![]),
        ("POST", "/staff/automations") => form(vec![
            ("name", "Intruder rule".into()),
            ("trigger", "invoice.sent".into()),
            ("action", "email".into()),
            ("to", "client_admins".into()),
            ("subject", "Sent {{invoice.number}}".into()),
            ("body", "Intruder text".into()),
        ]),
        ("POST", "/staff/automations/{id}/switch") => form(vec![("enabled", "on".into())]),
        ("POST", "/staff/automations/{id}/delete") => form(vec![]),
        ("POST", "/staff/templates") => {
            form(vec![("name", "Intruder template".into()), ("description", String::new())])
        }
        ("POST", "/staff/templates/{id}") => form(vec![
            ("name", "Intruder template".into()),
            ("description", String::new()),
            ("t_title", "Intruder task".into()),
            ("t_offset", "1".into()),
            ("t_milestone", String::new()),
            ("t_assignee", "project_lead".into()),
            ("t_priority", "normal".into()),
            ("t_description", String::new()),
        ]),
        ("POST", "/staff/templates/{id}/copy") | ("POST", "/staff/templates/{id}/delete") => form(vec![]),
        ("POST", "/staff/projects/{id}/template") => form(vec![("name", "Intruder template".into())]),
        ("POST", "/staff/onboarding") => {
            form(vec![("invitation_text", "Intruder text".into()), ("welcome_text", String::new())])
        }
        ("POST", "/portal/approvals/{id}/decision") => {
            form(vec![("decision", "changes_requested".into()), ("comment", "Intruder decision".into())])
        }
        _ => None,
    }
}

/// Whether a page request succeeded (a page, or a redirect somewhere other than sign-in).
fn page_ok(a: &Answer) -> bool {
    (200..300).contains(&a.status) || (a.status == 303 && a.location().is_some_and(|l| l != "/login"))
}

struct PageCase {
    method: String,
    template: &'static str,
    audience: Audience,
}

fn page_cases() -> Vec<PageCase> {
    let routes = page_routes();
    let probe = probe_side();
    let unclassified: Vec<String> = routes
        .iter()
        .filter(|r| page_form(r.method.as_str(), r.path, &probe).is_none())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(unclassified.is_empty(), "page routes without a rule in tests/it/authz_matrix.rs: {unclassified:?}");
    assert!(routes.len() >= 40, "page_routes() lists the pages ({})", routes.len());
    routes
        .into_iter()
        .map(|r| PageCase { method: r.method.to_string(), template: r.path, audience: r.audience })
        .collect()
}

/// A side with placeholder values, to ask `page_form` whether a route is classified.
fn probe_side() -> ClientSide {
    use atrium_core::ids::*;
    ClientSide {
        id: ClientId::new(),
        name: String::new(),
        admin: UserId::new(),
        finance: UserId::new(),
        viewer: UserId::new(),
        project: ProjectId::new(),
        project_name: String::new(),
        milestone: MilestoneId::new(),
        milestone_name: String::new(),
        task: TaskId::new(),
        task_title: String::new(),
        reply: CommentId::new(),
        reply_text: String::new(),
        note: CommentId::new(),
        note_text: String::new(),
        chore: TaskId::new(),
        chore_title: String::new(),
        project_description: String::new(),
        people: vec![("P".into(), "p@x.test".into())],
        file: FileId::new(),
        file_name: String::new(),
        staff_file: FileId::new(),
        staff_file_name: String::new(),
        message: MessageId::new(),
        message_text: String::new(),
        staff_message: MessageId::new(),
        staff_message_text: String::new(),
        approval: ApprovalId::new(),
        invoice: InvoiceId::new(),
        invoice_notes: String::new(),
        invoice_line: String::new(),
        page: ProjectPageId::new(),
        page_title: String::new(),
        staff_page: ProjectPageId::new(),
        staff_page_title: String::new(),
        ticket: TicketId::new(),
        ticket_subject: String::new(),
        ticket_reply_text: String::new(),
        ticket_note_text: String::new(),
        ticket_note: TicketCommentId::new(),
    }
}

#[tokio::test]
async fn every_page_enforces_its_audience() {
    // SEC-AC-1, SEC-AC-2, SEC-AC-3: staff pages refuse client users (even with their own ids),
    // portal pages with client B's ids are 404 for client A, signed-in pages need a sign-in.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let forbidden = forbidden_for_a(&w);
    let cases = page_cases();
    // A live session of B's admin, the target of `/account/sessions/{id}/revoke`.
    app.token_for(w.b.admin).await;
    let b_session_id = app.store.sessions_of(&app.actor(w.b.admin).await).await.unwrap()[0].id.to_string();
    // Messages edited and deleted here are B's admin's own (what the controls may change).
    let job = failed_job(&app).await;
    let b_admin = app.actor(w.b.admin).await;
    let b_file = upload(&app, &b_admin, w.b.project, None, "Uploaded by B.txt", b"by b").await.to_string();
    let tb = Target::new(&w.b, b_session_id, add_contact(&app, &w, &w.b).await)
        .with_file(b_file)
        .with_message(add_message_by(&app, w.b.admin, &w.b).await)
        .with_job(job.clone())
        .with_notification(&app)
        .await
        .with_staff_user(w.staff)
        .with_saved_reply(add_saved_reply(&app, &w).await)
        .with_template(add_template(&app, &w).await)
        .with_automation(add_automation(&app, &w).await)
        .with_recurring(add_recurring(&app, &w, &w.b).await)
        .with_api_token(add_api_token(&app, w.b.admin).await);
    let ta = Target::new(&w.a, String::new(), add_contact(&app, &w, &w.a).await)
        .with_job(job)
        .with_staff_user(w.admin)
        .with_saved_reply(add_saved_reply(&app, &w).await)
        .with_template(add_template(&app, &w).await)
        .with_automation(add_automation(&app, &w).await)
        .with_recurring(add_recurring(&app, &w, &w.a).await);
    let mut failures = Vec::new();
    let mut refusals = 0;
    for case in &cases {
        // Staff pages are tried with A's own ids too: the audience, not the scope, refuses them.
        let targets: Vec<&Target<'_>> =
            if case.audience == Audience::Staff && has_id_param(case.template) { vec![&tb, &ta] } else { vec![&tb] };
        for t in targets {
            let path = substitute(case.template, t);
            let payload = page_form(&case.method, case.template, t.side).unwrap();
            for caller in CALLERS {
                let a = send(&app, caller.user(&w), Via::Cookie, &case.method, &path, &payload).await;
                let what = format!(
                    "{} {path} ({:?}) as {caller:?} → {} {:?}",
                    case.method,
                    case.audience,
                    a.status,
                    a.location()
                );
                let found = leaks(&a.body, &forbidden);
                if !found.is_empty() {
                    failures.push(format!("LEAK {found:?} in {what}"));
                }
                if a.status >= 500 {
                    failures.push(format!("server error: {what}: {}", a.body));
                    continue;
                }
                let needs_sign_in = case.audience != Audience::Public;
                if caller == Caller::Anonymous && needs_sign_in {
                    let ok = if case.method == "GET" {
                        a.status == 303 && a.location() == Some("/login")
                    } else {
                        a.status == 401
                    };
                    if !ok {
                        failures.push(format!("anonymous must be sent to sign in: {what}"));
                    }
                    continue;
                }
                if needs_sign_in
                    && caller != Caller::Anonymous
                    && a.location() == Some("/login")
                    && case.template != "/logout"
                    && case.template != "/account/password"
                {
                    failures.push(format!("a signed-in caller was not recognised: {what}"));
                    continue;
                }
                let refused = match case.audience {
                    Audience::Staff => true,
                    Audience::Portal | Audience::SignedIn => has_id_param(case.template),
                    Audience::Public => false,
                };
                if refused {
                    refusals += 1;
                    if !matches!(a.status, 403 | 404) {
                        failures.push(format!("expected 403/404: {what}"));
                    }
                } else if case.template.contains("{token}") && a.status != 404 {
                    failures.push(format!("a bogus token must be 404: {what}"));
                }
            }
        }
    }
    // Controls: allowed callers succeed with the same requests. The client's own admin first
    // (portal pages, their own session), then staff (whose revoke-access ends B's sessions).
    // Deleting controls run last, so the pages before them still find what they show.
    let mut ordered: Vec<&PageCase> = cases.iter().collect();
    ordered.sort_by_key(|c| c.template.ends_with("/delete"));
    for case in ordered {
        let allowed = match case.audience {
            Audience::Portal | Audience::SignedIn if has_id_param(case.template) => w.b.admin,
            _ => continue,
        };
        let path = substitute(case.template, &tb);
        let a = send(
            &app,
            Some(allowed),
            Via::Cookie,
            &case.method,
            &path,
            &page_form(&case.method, case.template, &w.b).unwrap(),
        )
        .await;
        if !page_ok(&a) {
            failures.push(format!(
                "control failed: {} {path} as B's admin → {} {:?}",
                case.method,
                a.status,
                a.location()
            ));
        }
    }
    for case in cases.iter().filter(|c| c.audience == Audience::Staff) {
        for t in [&tb, &ta] {
            let fresh;
            let t = match invoice_state_for(case.template) {
                Some(state) if case.method == "POST" => {
                    fresh = t.with_invoice(fresh_invoice(&app, &w, t.side, state).await);
                    &fresh
                }
                _ if consumes_page(&case.method, case.template) => {
                    fresh = t.with_page(add_page(&app, &w, t.side).await);
                    &fresh
                }
                _ if consumes_template(&case.method, case.template) => {
                    fresh = t.with_template(add_template(&app, &w).await);
                    &fresh
                }
                _ if consumes_automation(&case.method, case.template) => {
                    fresh = t.with_automation(add_automation(&app, &w).await);
                    &fresh
                }
                _ if consumes_recurring(&case.method, case.template) => {
                    fresh = t.with_recurring(add_recurring(&app, &w, t.side).await);
                    &fresh
                }
                _ => t,
            };
            let path = substitute(case.template, t);
            before_control(&app, &w, case.template, t.side).await;
            if restores_file(case.template) {
                // Something to restore (B's file was deleted by its uploader's control above).
                let owner = app.actor(w.owner).await;
                let _ = app.store.delete_file(&owner, t.file_id.parse().unwrap(), None).await;
            }
            let a = send(
                &app,
                Some(w.owner),
                Via::Cookie,
                &case.method,
                &path,
                &page_form(&case.method, case.template, t.side).unwrap(),
            )
            .await;
            after_control(&app, &w, &case.method, case.template, t.side).await;
            if !page_ok(&a) {
                failures.push(format!(
                    "control failed: {} {path} as owner → {} {:?} {}",
                    case.method,
                    a.status,
                    a.location(),
                    a.body
                ));
            }
        }
    }
    assert!(refusals > 100, "the matrix exercised refusals ({refusals})");
    assert!(failures.is_empty(), "{} page authorization failures:\n{}", failures.len(), failures.join("\n"));
    app.stop().await;
}

#[tokio::test]
async fn internal_notes_never_reach_the_portal() {
    // SEC-AC-3, SEC-AC-7: every portal page a client user can open, for their own client's
    // project and task, shows the replies and never the internal note.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let forbidden = forbidden_for_a(&w);
    let own = Target::new(&w.a, String::new(), String::new());
    let mut failures = Vec::new();
    let mut pages_with_reply = BTreeSet::new();
    for case in page_cases() {
        if case.audience != Audience::Portal || case.method != "GET" {
            continue;
        }
        let path = substitute(case.template, &own);
        for caller in [Caller::ClientAdmin, Caller::ClientFinance, Caller::ClientViewer] {
            let a = send(&app, caller.user(&w), Via::Cookie, "GET", &path, &Payload::Empty).await;
            let found = leaks(&a.body, &forbidden);
            if !found.is_empty() {
                failures.push(format!("LEAK {found:?} in GET {path} as {caller:?}"));
            }
            if a.status >= 500 || a.location() == Some("/login") {
                failures.push(format!("GET {path} as {caller:?} → {}", a.status));
            }
            if a.body.contains(&w.a.reply_text) {
                pages_with_reply.insert(path.clone());
            }
        }
    }
    // The task page and the home activity feed do show replies, so the check above could fail.
    assert!(pages_with_reply.contains(&format!("/portal/tasks/{}", w.a.task)), "{pages_with_reply:?}");
    assert!(pages_with_reply.contains("/portal"), "{pages_with_reply:?}");
    // Staff see the note on their task page.
    let a = send(&app, Some(w.staff), Via::Cookie, "GET", &format!("/staff/tasks/{}", w.a.task), &Payload::Empty).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains(&w.a.note_text), "staff see internal notes");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    app.stop().await;
}

// ----- View as client ------------------------------------------------------------------------

#[tokio::test]
async fn view_as_client_is_read_only_and_audited() {
    // SEC-AC-4, SEC-DATA-1
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let creds = app.browser_creds(Some(w.staff)).await;
    let c = api();
    let post_form = |path: String, fields: Vec<(&'static str, String)>| {
        let mut f = fields;
        f.push(("_csrf", creds.csrf.clone()));
        c.post(app.url(&path)).header("cookie", &creds.cookie).form(&f).send()
    };
    let r = Answer::of(
        post_form(format!("/staff/clients/{}/view-as", w.a.id), vec![("user_id", w.a.admin.to_string())])
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some("/portal"));
    // Audited: who (the staff member), whom (the client user), which client.
    let log = app.store.audit_recent(20).await.unwrap();
    let start = log.iter().find(|e| e.action == "view_as.start").expect("view_as.start in the audit log");
    assert_eq!(start.actor_id, Some(w.staff.0));
    assert_eq!(start.subject_id.as_deref(), Some(w.a.admin.to_string().as_str()));
    // The portal shows A's admin's view, with the banner, and still no internal note.
    let get = |path: String| c.get(app.url(&path)).header("cookie", &creds.cookie).send();
    let home = Answer::of(get("/portal".into()).await.unwrap()).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("You are viewing the portal as"), "banner shown");
    assert!(home.body.contains(&w.a.task_title));
    let task = Answer::of(get(format!("/portal/tasks/{}", w.a.task)).await.unwrap()).await;
    assert_eq!(task.status, 200);
    assert!(task.body.contains(&w.a.reply_text));
    assert!(!task.body.contains(&w.a.note_text), "viewing as a client hides internal notes");
    // Every write is refused with 403, even those A's admin could make (the task is theirs).
    let before = app.store.task(&app.actor(w.owner).await.work_scope(), w.a.task).await.unwrap().task;
    let r = Answer::of(
        post_form(format!("/portal/tasks/{}/status", w.a.task), vec![("status", "done".into())]).await.unwrap(),
    )
    .await;
    assert_eq!(r.status, 403, "portal status change while viewing as: {}", r.body);
    let r = Answer::of(
        post_form(format!("/portal/tasks/{}/comments", w.a.task), vec![("body", "sent as the client".into())])
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403, "portal comment while viewing as");
    let r = Answer::of(
        post_form(
            "/account/password".into(),
            vec![("current_password", PASSWORD.into()), ("new_password", "a long enough phrase".into())],
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403, "password change while viewing as");
    let api_write = |method: reqwest::Method, path: String, body: Value| {
        c.request(method, app.url(&path))
            .header("cookie", &creds.cookie)
            .header("x-csrf-token", &creds.csrf)
            .json(&body)
            .send()
    };
    let r = Answer::of(
        api_write(reqwest::Method::PATCH, format!("/api/v1/tasks/{}", w.a.task), json!({"status": "done"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403, "API PATCH while viewing as: {}", r.body);
    let r = Answer::of(
        api_write(reqwest::Method::POST, format!("/api/v1/tasks/{}/comments", w.a.task), json!({"body": "x"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403, "API comment while viewing as");
    let r = Answer::of(
        api_write(
            reqwest::Method::POST,
            "/api/v1/projects".into(),
            json!({"client_id": w.a.id.to_string(), "name": "P"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403, "staff powers are off while viewing as");
    // Reads through the API are the client's view too: no notes.
    let r = Answer::of(get(format!("/api/v1/tasks/{}/comments", w.a.task)).await.unwrap()).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains(&w.a.note_text));
    let after = app.store.task(&app.actor(w.owner).await.work_scope(), w.a.task).await.unwrap().task;
    assert_eq!(before.status, after.status, "nothing changed");
    assert_eq!(app.store.comments(&app.actor(w.owner).await.work_scope(), w.a.task).await.unwrap().len(), 2);
    // Leaving is audited too, and staff powers come back.
    let r = Answer::of(post_form("/view-as/exit".into(), vec![]).await.unwrap()).await;
    assert_eq!(r.status, 303);
    assert!(app.store.audit_recent(20).await.unwrap().iter().any(|e| e.action == "view_as.stop"));
    let r = Answer::of(get("/staff".into()).await.unwrap()).await;
    assert_eq!(r.status, 200);
    // A client user cannot start "view as" (404, the staff area does not exist for them).
    let cc = app.browser_creds(Some(w.a.admin)).await;
    let r = Answer::of(
        c.post(app.url(&format!("/staff/clients/{}/view-as", w.a.id)))
            .header("cookie", &cc.cookie)
            .form(&[("user_id", w.a.viewer.to_string()), ("_csrf", cc.csrf.clone())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_event_stream_carries_nothing_of_other_clients_and_no_notes() {
    // SEC-AC-3, SEC-AC-7 for `GET /api/v1/events` (classified `Stream` above).
    use crate::sse::{Sse, SseEvent};
    use std::time::Duration;

    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let events = app.url("/api/v1/events");
    let mut admin = Sse::ready(&events, &app.token_for(w.a.admin).await).await;
    let mut finance = Sse::ready(&events, &app.token_for(w.a.finance).await).await;
    let mut viewer = Sse::ready(&events, &app.token_for(w.a.viewer).await).await;
    // Witnesses that the refused events did exist: B's admin and a staff member.
    let mut b_admin = Sse::ready(&events, &app.token_for(w.b.admin).await).await;
    let mut staff = Sse::ready(&events, &app.token_for(w.staff).await).await;

    let owner = app.token_for(w.owner).await;
    let call = |method: &'static str, path: String, body: Value| {
        let owner = owner.clone();
        let url = app.url(&format!("/api/v1{path}"));
        async move {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let a = Answer::of(api().request(m, url).bearer_auth(owner).json(&body).send().await.unwrap()).await;
            assert!(a.status == 200 || a.status == 201, "{method} {path}: {} {}", a.status, a.body);
            a.json()
        }
    };
    call("PATCH", format!("/tasks/{}", w.b.task), json!({"status": "in_progress"})).await;
    let b_reply = call("POST", format!("/tasks/{}/comments", w.b.task), json!({"body": "ReplyB2 for B only"})).await;
    let note = call(
        "POST",
        format!("/tasks/{}/comments", w.a.task),
        json!({"body": "NoteA2 staff eyes only", "visibility": "note"}),
    )
    .await;
    let staff_msg = call(
        "POST",
        format!("/projects/{}/messages", w.a.project),
        json!({"body": "StaffMessageA2 internal", "channel": "staff"}),
    )
    .await;
    let b_msg = call("POST", format!("/projects/{}/messages", w.b.project), json!({"body": "MessageB2 hello B"})).await;
    // The control: a change A's admin and viewer may see.
    call("PATCH", format!("/tasks/{}", w.a.task), json!({"status": "in_progress"})).await;

    let id = |v: &Value| v["id"].as_str().expect("id").to_string();
    let (b_reply, note, staff_msg, b_msg) = (id(&b_reply), id(&note), id(&staff_msg), id(&b_msg));
    let control = |e: &SseEvent| e.kind == "task.updated" && e.data["task_id"] == w.a.task.to_string();
    let wait = Duration::from_secs(5);
    assert!(admin.wait_for(wait, control).await.is_some(), "admin gets the control: {:?}", admin.seen);
    assert!(viewer.wait_for(wait, control).await.is_some(), "viewer gets the control: {:?}", viewer.seen);
    finance.drain(Duration::from_millis(500)).await;
    admin.drain(Duration::from_millis(200)).await;
    viewer.drain(Duration::from_millis(200)).await;

    // The witnesses got what A's users must not.
    let has =
        |s: &Sse, kind: &str, key: &str, value: &str| s.seen.iter().any(|e| e.kind == kind && e.data[key] == value);
    assert!(
        b_admin
            .wait_for(wait, |e| e.kind == "message.created" && e.data["message_id"] == b_msg.as_str())
            .await
            .is_some()
    );
    assert!(has(&b_admin, "task.updated", "task_id", &w.b.task.to_string()), "{:?}", b_admin.seen);
    assert!(has(&b_admin, "comment.created", "comment_id", &b_reply), "{:?}", b_admin.seen);
    assert!(
        staff.wait_for(wait, |e| e.kind == "task.updated" && e.data["task_id"] == w.a.task.to_string()).await.is_some()
    );
    assert!(has(&staff, "comment.created", "comment_id", &note), "staff see the note event: {:?}", staff.seen);
    assert!(has(&staff, "message.created", "message_id", &staff_msg), "{:?}", staff.seen);

    let mut forbidden = forbidden_for_a(&w);
    forbidden.extend([b_reply.clone(), note.clone(), staff_msg.clone(), b_msg.clone()]);
    for (who, s) in [("admin", &admin), ("viewer", &viewer)] {
        for e in &s.seen {
            let leaked = leaks(&e.raw, &forbidden);
            assert!(leaked.is_empty(), "{who} received {} carrying {leaked:?}", e.kind);
        }
        assert!(
            !s.seen.iter().any(|e| e.kind == "comment.created"),
            "{who}: the only comments were B's reply and A's note: {:?}",
            s.seen
        );
        assert!(
            !s.seen.iter().any(|e| e.kind.starts_with("message.")),
            "{who}: the only messages were A's staff channel and B's: {:?}",
            s.seen
        );
    }
    let work: Vec<&SseEvent> = finance.seen.iter().filter(|e| e.kind != "ready").collect();
    assert!(work.is_empty(), "finance sees no project work: {work:?}");
    app.stop().await;
}

// ----- billing by role -----------------------------------------------------------------------

#[tokio::test]
async fn billing_by_role_finance_yes_viewer_never() {
    // SEC-AC-1, SEC-AC-2: with their *own* client's invoice, client admins and finance users
    // read billing (and may not change it: 403), viewers get 404 on every billing route; finance
    // users get 404 on project work. Staff control every route.
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let own = Target::new(&w.a, String::new(), String::new());
    let mut failures = Vec::new();
    let mut checked = 0;
    for (op, rule) in classified_operations() {
        if !op.path.contains("/invoice") {
            continue;
        }
        let path = with_query(substitute(&op.path, &own), (rule.query)(&w.a));
        let payload = (rule.body)(&w.a);
        for caller in [Caller::ClientAdmin, Caller::ClientFinance, Caller::ClientViewer] {
            let a = send(&app, caller.user(&w), Via::Bearer, &op.method, &path, &payload).await;
            checked += 1;
            let read = op.method == "get" && !op.path.contains("export") && !op.path.contains("settings");
            let expected: &[u16] = match caller {
                Caller::ClientViewer => &[404],
                _ if read => &[200],
                // Settings do not exist for client users; every other write is forbidden.
                _ if op.path.contains("settings") => &[404],
                _ => &[403],
            };
            if !expected.contains(&a.status) {
                failures.push(format!(
                    "{} {path} as {caller:?} → {} (expected {expected:?}): {}",
                    op.method, a.status, a.body
                ));
            }
        }
    }
    for case in page_cases() {
        if !case.template.contains("/billing") {
            continue;
        }
        let path = substitute(case.template, &own);
        for caller in [Caller::ClientAdmin, Caller::ClientFinance, Caller::ClientViewer] {
            let a = send(&app, caller.user(&w), Via::Cookie, &case.method, &path, &Payload::Empty).await;
            checked += 1;
            let expected = if caller == Caller::ClientViewer { 404 } else { 200 };
            if a.status != expected {
                failures.push(format!("GET {path} as {caller:?} → {} (expected {expected})", a.status));
            }
        }
    }
    // Finance users: no project work at all.
    for path in [
        format!("/api/v1/projects/{}", w.a.project),
        format!("/api/v1/tasks/{}", w.a.task),
        format!("/api/v1/projects/{}/files", w.a.project),
    ] {
        let a = send(&app, Some(w.a.finance), Via::Bearer, "get", &path, &Payload::Empty).await;
        if a.status != 404 {
            failures.push(format!("finance GET {path} → {}", a.status));
        }
    }
    for path in [format!("/portal/projects/{}", w.a.project), "/portal/projects".to_string()] {
        let a = send(&app, Some(w.a.finance), Via::Cookie, "GET", &path, &Payload::Empty).await;
        if a.status == 200 && a.body.contains(&w.a.project_name) {
            failures.push(format!("finance sees project work at {path}"));
        }
    }
    assert!(checked >= 35, "billing routes were exercised ({checked})");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    app.stop().await;
}
