//! The automations (owners and admins; other staff 403): the ready-made rules with one switch
//! each, the agency's own rules (switch, delete, log), a form to add a rule of one action, and
//! each rule's log of runs. A refused value shows the form again with the message naming the
//! field and everything that was sent.

use askama::Template;
use atrium_core::Error;
use atrium_core::automation::placeholders::available;
use atrium_core::automation::{Action, Automation, BuiltinSettings, RuleContent, Trigger, TriggerKind};
use atrium_core::ids::AutomationId;
use atrium_store::automations::AutomationPatch;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::pages::account::Notice;
use crate::pages::view::Opt;
use crate::pages::{Chrome, render, see_other};
use crate::state::AppState;

/// Where the automations live.
pub const PATH: &str = "/staff/automations";

struct RuleRow {
    id: String,
    name: String,
    enabled: bool,
    what: String,
    /// Ready-made: its settings' inputs to show (`every_days`, `at_most`, `after_days`).
    settings: Vec<(&'static str, &'static str, u32)>,
}

#[derive(Template)]
#[template(path = "staff_automations.html")]
struct AutomationsPage {
    chrome: Chrome,
    error: Option<String>,
    builtins: Vec<RuleRow>,
    rules: Vec<RuleRow>,
    triggers: Vec<Opt>,
    actions: Vec<Opt>,
    recipients: Vec<Opt>,
    clients: Vec<Opt>,
    form: RuleForm,
    placeholders: String,
}

/// The "add a rule" form: a trigger, an optional client, one action.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RuleForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    trigger: String,
    /// Days before / after (the triggers that take a count).
    #[serde(default)]
    days: String,
    /// Schedule: `week` or `month`, the day and the time.
    #[serde(default)]
    every: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

impl RuleForm {
    /// The rule the form describes (422 naming the field for a number that is not one).
    fn content(&self) -> Result<RuleContent, Error> {
        let kind: TriggerKind = self.trigger.parse().map_err(|m: String| Error::invalid("trigger", m))?;
        let days = || -> Result<i64, Error> {
            self.days.trim().parse().map_err(|_| Error::invalid("days", "must be a whole number of days"))
        };
        let mut trigger = serde_json::json!({ "kind": kind.as_str() });
        match kind {
            TriggerKind::TaskDue | TriggerKind::InvoiceDue => trigger["days_before"] = days()?.into(),
            TriggerKind::TaskOverdue | TriggerKind::InvoiceOverdue | TriggerKind::InvitationUnaccepted => {
                trigger["days_after"] = days()?.into()
            }
            TriggerKind::Schedule => {
                trigger["every"] = self.every.clone().into();
                trigger["day"] =
                    self.day.trim().parse::<u32>().map_err(|_| Error::invalid("day", "must be a day number"))?.into();
                trigger["time"] = self.time.trim().to_string().into();
            }
            _ => {}
        }
        let trigger: Trigger = serde_json::from_value(trigger).map_err(|e| Error::invalid("trigger", e.to_string()))?;
        let action = match self.action.as_str() {
            "email" => serde_json::json!({"kind": "email", "to": self.to, "subject": self.subject, "body": self.body}),
            "notify_staff" => serde_json::json!({"kind": "notify_staff", "to": self.to, "text": self.body}),
            "create_task" => serde_json::json!({"kind": "create_task", "title": self.subject}),
            "comment" => serde_json::json!({"kind": "comment", "visibility": "note", "body": self.body}),
            _ => return Err(Error::invalid("action", "choose what the rule does")),
        };
        let action: Action = serde_json::from_value(action).map_err(|e| Error::invalid("to", e.to_string()))?;
        let mut conditions = atrium_core::automation::Conditions::default();
        if !self.client_id.is_empty() {
            conditions.client_id =
                Some(self.client_id.parse().map_err(|_| Error::invalid("client_id", "no such client"))?);
        }
        Ok(RuleContent { name: self.name.clone(), enabled: true, trigger, conditions, actions: vec![action] })
    }
}

fn row(a: Automation) -> RuleRow {
    let what = match (&a.description, &a.trigger) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => {
            let acts: Vec<&str> = a.actions.iter().flatten().map(Action::kind).collect();
            format!("{} → {}", t.kind().label(), acts.join(", ").replace('_', " "))
        }
        _ => String::new(),
    };
    let settings = match (a.builtin, a.settings) {
        (Some(atrium_core::automation::Builtin::TaskReminders), Some(s)) => {
            vec![("every_days", "Every (days)", s.every_days), ("at_most", "At most (times)", s.at_most)]
        }
        (Some(atrium_core::automation::Builtin::InvitationReminder), Some(s)) => {
            vec![("after_days", "After (days)", s.after_days)]
        }
        _ => Vec::new(),
    };
    RuleRow { id: a.id.to_string(), name: a.name, enabled: a.enabled, what, settings }
}

fn opts(pairs: &[(&str, &str)], selected: &str) -> Vec<Opt> {
    pairs.iter().map(|(v, l)| Opt { value: (*v).into(), label: (*l).into(), selected: *v == selected }).collect()
}

async fn show(
    st: &AppState,
    auth: &StaffAuth,
    csrf: &CsrfToken,
    form: Option<RuleForm>,
    error: Option<Error>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let all = st.store.automations(&auth.actor).await?;
    let mut chrome = Chrome::signed_in(st, auth, csrf, "Automations", "/staff/clients");
    chrome.flash = match notice {
        Some("added") => Some("Rule added and switched on.".into()),
        Some("saved") => Some("Saved.".into()),
        Some("deleted") => Some("Rule deleted.".into()),
        _ => None,
    };
    let status = error.as_ref().map_or(StatusCode::OK, crate::error::status);
    let form = form.unwrap_or_else(|| RuleForm {
        days: "3".into(),
        time: "09:00".into(),
        day: "1".into(),
        ..Default::default()
    });
    let (builtins, rules): (Vec<_>, Vec<_>) = all.into_iter().partition(|a| a.builtin.is_some());
    let triggers = TriggerKind::ALL
        .iter()
        .map(|k| Opt { value: k.as_str().into(), label: k.label().into(), selected: k.as_str() == form.trigger })
        .collect();
    let clients = st.store.clients(&auth.actor.client_scope(), atrium_store::paging::PageRequest::all()).await?.items;
    let mut client_opts =
        vec![Opt { value: String::new(), label: "Every client".into(), selected: form.client_id.is_empty() }];
    client_opts.extend(clients.into_iter().map(|c| Opt {
        selected: c.id.to_string() == form.client_id,
        value: c.id.to_string(),
        label: c.name,
    }));
    let trigger = form.trigger.parse().unwrap_or(TriggerKind::TaskDue);
    let placeholders = available(trigger).iter().map(|p| format!("{{{{{p}}}}}")).collect::<Vec<_>>().join(" ");
    let page = AutomationsPage {
        chrome,
        error: error.map(|e| e.to_string()),
        builtins: builtins.into_iter().map(row).collect(),
        rules: rules.into_iter().map(row).collect(),
        triggers,
        actions: opts(
            &[
                ("email", "Send an email"),
                ("notify_staff", "Notify staff"),
                ("create_task", "Add a task"),
                ("comment", "Write an internal note"),
            ],
            &form.action,
        ),
        recipients: opts(
            &[
                ("client_admins", "The client's admins"),
                ("client_billing", "The client's admins and finance users"),
                ("assignee", "The assignee"),
                ("project_team", "The project team"),
                ("owners_admins", "The agency's owners and admins"),
                ("invitee", "The person invited"),
            ],
            &form.to,
        ),
        clients: client_opts,
        form,
        placeholders,
    };
    Ok((status, render(&page)?).into_response())
}

/// The automations page.
pub async fn page(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    show(&st, &auth, &csrf, None, None, n.notice.as_deref()).await
}

/// Adds a rule (switched on).
pub async fn create(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<RuleForm>,
) -> AppResult<Response> {
    auth.actor.may_manage_automations()?;
    let r = match f.content() {
        Ok(c) => st.store.create_automation(&auth.actor, c, Some(&ip)).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Ok(see_other(&format!("{PATH}?notice=added"))),
        Err(e) => show(&st, &auth, &csrf, Some(f), Some(super::input_error(e)?), None).await,
    }
}

/// The switch of a rule, with a ready-made rule's settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchForm {
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    every_days: Option<String>,
    #[serde(default)]
    at_most: Option<String>,
    #[serde(default)]
    after_days: Option<String>,
}

/// Switches a rule on or off (and saves a ready-made rule's settings).
pub async fn switch(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Id(id): Id<AutomationId>,
    FormBody(f): FormBody<SwitchForm>,
) -> AppResult<Response> {
    let current = st.store.automation(&auth.actor, id).await?;
    let num = |field: &'static str, v: &Option<String>, d: u32| -> Result<u32, Error> {
        v.as_deref().map_or(Ok(d), |s| s.trim().parse().map_err(|_| Error::invalid(field, "must be a whole number")))
    };
    let settings = match current.settings {
        Some(s) => {
            let parsed = (|| {
                Ok::<_, Error>(BuiltinSettings {
                    every_days: num("settings.every_days", &f.every_days, s.every_days)?,
                    at_most: num("settings.at_most", &f.at_most, s.at_most)?,
                    after_days: num("settings.after_days", &f.after_days, s.after_days)?,
                })
            })();
            match parsed {
                Ok(p) => Some(p),
                Err(e) => return show(&st, &auth, &csrf, None, Some(e), None).await,
            }
        }
        None => None,
    };
    let p = AutomationPatch { enabled: Some(f.enabled == "on"), settings, ..Default::default() };
    match st.store.update_automation(&auth.actor, id, p, Some(&ip)).await {
        Ok(_) => Ok(see_other(&format!("{PATH}?notice=saved"))),
        Err(e) => show(&st, &auth, &csrf, None, Some(super::input_error(e)?), None).await,
    }
}

/// Deletes one of the agency's rules.
pub async fn delete(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<AutomationId>,
) -> AppResult<Response> {
    st.store.delete_automation(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("{PATH}?notice=deleted")))
}

struct RunRow {
    at: String,
    subject: String,
    step: String,
    outcome: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "staff_automation_runs.html")]
struct RunsPage {
    chrome: Chrome,
    rule: RuleRow,
    runs: Vec<RunRow>,
}

/// A rule's log: its latest runs, newest first, in the reader's timezone (their own, else the agency's).
pub async fn runs(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(id): Id<AutomationId>,
) -> AppResult<Response> {
    let rule = st.store.automation(&auth.actor, id).await?;
    let runs = st.store.automation_runs(&auth.actor, id).await?;
    let local = st.store.local_time(&auth.actor).await?;
    let chrome = Chrome::signed_in(&st, &auth, &csrf, format!("Log of {}", rule.name), PATH);
    let page = RunsPage {
        chrome,
        rule: row(rule),
        runs: runs
            .into_iter()
            .map(|r| RunRow {
                at: local.named(r.fired_at),
                subject: r.subject_type.as_str().into(),
                step: r.step,
                outcome: r.outcome.as_str(),
                detail: r.detail.unwrap_or_default(),
            })
            .collect(),
    };
    Ok(render(&page)?.into_response())
}
