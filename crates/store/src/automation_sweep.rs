//! The automations' sweep ([`AUTOMATION_SWEEP_JOB`], every [`SWEEP_EVERY`]): every enabled rule
//! with a time trigger, and every ready-made rule switched on, looks at its candidates and
//! queues a run for each (subject, step) whose moment has come (`atrium_core::automation::timing`:
//! the agency's timezone and business days, a catch-up of two days). A key that already ran is
//! skipped by `queue_run`, so sweeps may overlap, repeat or run on two servers.

use std::collections::{HashMap, HashSet};

use atrium_core::Result;
use atrium_core::automation::builtins::INVOICE_STEPS;
use atrium_core::automation::timing::{CATCH_UP, Calendar, REMINDER_AT};
use atrium_core::automation::{AssigneeKind, Builtin, BuiltinSettings, Every, SubjectFacts, SubjectType, Trigger};
use atrium_core::ids::{ClientId, ProjectId};
use atrium_core::model::{ClientStatus, InvoiceStatus, TaskStatus};
use chrono::{DateTime, Days, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::automation_fire::{assignee_kinds, enabled_rules, queue_run};
use crate::automations::{Loaded, loaded};
use crate::db::db_err;
use crate::entity::{automation, client, invitation, invoice, project, task, user};
use crate::system::JobRunner;

/// The job kind of the automations' sweep.
pub const AUTOMATION_SWEEP_JOB: &str = "automations.sweep";

/// How often the sweep runs.
pub const SWEEP_EVERY: chrono::Duration = chrono::Duration::minutes(5);

/// The most candidates one rule looks at per sweep (the next sweep takes the rest).
const BATCH: u64 = 1000;

/// Days of slack on each side of a candidate window (business-day moves and the catch-up).
const SLACK: u64 = 7;

/// Whether a moment is due now: come, and not older than the catch-up.
fn due(moment: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    moment <= now && now < moment + CATCH_UP
}

fn add(d: NaiveDate, days: i64) -> NaiveDate {
    let r = if days >= 0 {
        d.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        d.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    r.unwrap_or(d)
}

/// A date-bound step: fires on `date` (moved off closed days; `before`: earlier), never before
/// `not_before` (the subject did not exist, or was not sent, at that moment).
fn step_due(cal: &Calendar, date: NaiveDate, before: bool, not_before: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let m = cal.reminder_moment(date, before);
    m >= not_before && due(m, now)
}

/// The live projects (of live, active clients): project id → client id.
async fn live_projects<C: ConnectionTrait>(c: &C, ids: &HashSet<Uuid>) -> Result<HashMap<Uuid, Uuid>> {
    let projects = project::Entity::find()
        .filter(project::Column::Id.is_in(ids.iter().copied().collect::<Vec<_>>()))
        .all(c)
        .await
        .map_err(db_err)?;
    let clients: HashSet<Uuid> = projects.iter().map(|p| p.client_id).collect();
    let live: HashSet<Uuid> = live_clients(c, Some(&clients)).await?.into_iter().collect();
    Ok(projects.into_iter().filter(|p| live.contains(&p.client_id)).map(|p| (p.id, p.client_id)).collect())
}

/// Active, not deleted clients (of `among`, when given).
async fn live_clients<C: ConnectionTrait>(c: &C, among: Option<&HashSet<Uuid>>) -> Result<Vec<Uuid>> {
    let mut q = client::Entity::find()
        .filter(client::Column::DeletedAt.is_null())
        .filter(client::Column::Status.eq(ClientStatus::Active.as_str()));
    if let Some(ids) = among {
        q = q.filter(client::Column::Id.is_in(ids.iter().copied().collect::<Vec<_>>()));
    }
    Ok(q.order_by_asc(client::Column::Id).all(c).await.map_err(db_err)?.into_iter().map(|r| r.id).collect())
}

/// Open tasks due between `from` and `to`, with their client.
async fn open_tasks<C: ConnectionTrait>(c: &C, from: NaiveDate, to: NaiveDate) -> Result<Vec<(task::Model, Uuid)>> {
    let rows = task::Entity::find()
        .filter(task::Column::Status.ne(TaskStatus::Done.as_str()))
        .filter(task::Column::DueDate.gte(from))
        .filter(task::Column::DueDate.lte(to))
        .order_by_asc(task::Column::DueDate)
        .limit(BATCH)
        .all(c)
        .await
        .map_err(db_err)?;
    with_clients(c, rows).await
}

async fn with_clients<C: ConnectionTrait>(c: &C, rows: Vec<task::Model>) -> Result<Vec<(task::Model, Uuid)>> {
    let ids: HashSet<Uuid> = rows.iter().map(|t| t.project_id).collect();
    let live = live_projects(c, &ids).await?;
    Ok(rows.into_iter().filter_map(|t| live.get(&t.project_id).copied().map(|cl| (t, cl))).collect())
}

/// Sent, unpaid invoices due between `from` and `to`, of live clients.
async fn unpaid_invoices<C: ConnectionTrait>(c: &C, from: NaiveDate, to: NaiveDate) -> Result<Vec<invoice::Model>> {
    let rows = invoice::Entity::find()
        .filter(invoice::Column::Status.is_in([InvoiceStatus::Sent.as_str(), InvoiceStatus::PartiallyPaid.as_str()]))
        .filter(invoice::Column::DueDate.gte(from))
        .filter(invoice::Column::DueDate.lte(to))
        .order_by_asc(invoice::Column::DueDate)
        .limit(BATCH)
        .all(c)
        .await
        .map_err(db_err)?;
    let clients: HashSet<Uuid> = rows.iter().map(|i| i.client_id).collect();
    let live: HashSet<Uuid> = live_clients(c, Some(&clients)).await?.into_iter().collect();
    Ok(rows.into_iter().filter(|i| live.contains(&i.client_id)).collect())
}

/// Pending client invitations sent between `from` and `to` (local dates).
async fn pending_invitations<C: ConnectionTrait>(
    c: &C,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<invitation::Model>> {
    invitation::Entity::find()
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .filter(invitation::Column::ClientId.is_not_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .filter(invitation::Column::CreatedAt.gte(since))
        .order_by_asc(invitation::Column::CreatedAt)
        .limit(BATCH)
        .all(c)
        .await
        .map_err(db_err)
}

fn invoice_facts(i: &invoice::Model) -> SubjectFacts {
    SubjectFacts { client: Some(ClientId(i.client_id)), project: i.project_id.map(ProjectId), ..Default::default() }
}

impl JobRunner<'_> {
    /// Queues the runs whose moment has come (by the store's clock); returns how many were new.
    pub async fn sweep_automations(self) -> Result<u64> {
        let (db, now) = (&self.store.db, self.store.now());
        let cal = crate::helpdesk_settings::service_levels(db).await?.calendar();
        let mut queued = 0;
        for kind in ["task.due", "task.overdue", "invoice.due", "invoice.overdue", "schedule", "invitation.unaccepted"]
        {
            for (rule, s) in enabled_rules(db, kind).await? {
                queued += own_rule(db, &cal, &rule, &s.trigger, &s.conditions, now).await?;
            }
        }
        let builtins = automation::Entity::find()
            .filter(automation::Column::TriggerKind.eq("builtin"))
            .filter(automation::Column::Enabled.eq(true))
            .all(db)
            .await
            .map_err(db_err)?;
        for rule in builtins {
            if let Loaded::Builtin(b, settings) = loaded(&rule)? {
                queued += builtin_rule(db, &cal, &rule, b, settings, now).await?;
            }
        }
        Ok(queued)
    }
}

async fn own_rule<C: ConnectionTrait>(
    c: &C,
    cal: &Calendar,
    rule: &automation::Model,
    trigger: &Trigger,
    cond: &atrium_core::automation::Conditions,
    now: DateTime<Utc>,
) -> Result<u64> {
    let today = cal.today(now);
    let slack = SLACK as i64;
    let mut n = 0;
    match trigger {
        Trigger::TaskDue { days_before: d } | Trigger::TaskOverdue { days_after: d } => {
            let before = matches!(trigger, Trigger::TaskDue { .. });
            let offset = if before { -*d } else { *d };
            let tasks = open_tasks(c, add(today, -offset - slack), add(today, -offset + slack)).await?;
            let kinds = assignee_kinds(c, tasks.iter().filter_map(|(t, _)| t.assignee_id)).await?;
            for (t, client) in tasks {
                let Some(due_date) = t.due_date else { continue };
                if !step_due(cal, add(due_date, offset), before && *d > 0, t.created_at, now) {
                    continue;
                }
                let facts = SubjectFacts {
                    client: Some(ClientId(client)),
                    project: Some(ProjectId(t.project_id)),
                    priority: t.priority.parse().ok(),
                    assignee: Some(t.assignee_id.and_then(|a| kinds.get(&a).copied()).unwrap_or(AssigneeKind::Nobody)),
                };
                if cond.hold(&facts) {
                    let step = format!("{}{d}:{due_date}", if before { "due-" } else { "overdue+" });
                    n += u64::from(queue_run(c, rule, SubjectType::Task, t.id, &step, now).await?);
                }
            }
        }
        Trigger::InvoiceDue { days_before: d } | Trigger::InvoiceOverdue { days_after: d } => {
            let before = matches!(trigger, Trigger::InvoiceDue { .. });
            let offset = if before { -*d } else { *d };
            for i in unpaid_invoices(c, add(today, -offset - slack), add(today, -offset + slack)).await? {
                let sent = i.sent_at.unwrap_or(i.created_at);
                if !step_due(cal, add(i.due_date, offset), before && *d > 0, sent, now)
                    || !cond.hold(&invoice_facts(&i))
                {
                    continue;
                }
                let step = format!("{}{d}:{}", if before { "due-" } else { "overdue+" }, i.due_date);
                n += u64::from(queue_run(c, rule, SubjectType::Invoice, i.id, &step, now).await?);
            }
        }
        Trigger::InvitationUnaccepted { days_after } => {
            n += invitations(c, cal, rule, *days_after, cond.client_id, now, "unaccepted").await?;
        }
        Trigger::Schedule { every, day, .. } => {
            let Some(time) = trigger.schedule_time() else { return Ok(0) };
            n += schedule(c, cal, rule, *every, *day, time, cond.client_id, now).await?;
        }
        _ => {}
    }
    Ok(n)
}

async fn invitations<C: ConnectionTrait>(
    c: &C,
    cal: &Calendar,
    rule: &automation::Model,
    days: i64,
    only: Option<ClientId>,
    now: DateTime<Utc>,
    step: &str,
) -> Result<u64> {
    let since = now - chrono::Duration::days(days + SLACK as i64);
    let mut n = 0;
    for inv in pending_invitations(c, since, now).await? {
        if only.is_some_and(|o| inv.client_id != Some(o.0)) {
            continue;
        }
        let sent = cal.today(inv.created_at);
        if step_due(cal, add(sent, days), false, inv.created_at, now) {
            n += u64::from(queue_run(c, rule, SubjectType::Invitation, inv.id, step, now).await?);
        }
    }
    Ok(n)
}

#[allow(clippy::too_many_arguments)]
async fn schedule<C: ConnectionTrait>(
    c: &C,
    cal: &Calendar,
    rule: &automation::Model,
    every: Every,
    day: u32,
    time: chrono::NaiveTime,
    only: Option<ClientId>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let Some((date, _)) = cal.last_slot(every, day, time, now) else { return Ok(0) };
    let mut n = 0;
    for client in live_clients(c, None).await? {
        if only.is_some_and(|o| o.0 != client) {
            continue;
        }
        n += u64::from(queue_run(c, rule, SubjectType::Client, client, &date.to_string(), now).await?);
    }
    Ok(n)
}

async fn builtin_rule<C: ConnectionTrait>(
    c: &C,
    cal: &Calendar,
    rule: &automation::Model,
    b: Builtin,
    s: BuiltinSettings,
    now: DateTime<Utc>,
) -> Result<u64> {
    let today = cal.today(now);
    let slack = SLACK as i64;
    let mut n = 0;
    match b {
        Builtin::InvoiceReminders => {
            for (step, offset) in INVOICE_STEPS {
                for i in unpaid_invoices(c, add(today, -offset - slack), add(today, -offset + slack)).await? {
                    let sent = i.sent_at.unwrap_or(i.created_at);
                    if step_due(cal, add(i.due_date, offset), offset < 0, sent, now) {
                        n += u64::from(queue_run(c, rule, SubjectType::Invoice, i.id, step, now).await?);
                    }
                }
            }
        }
        Builtin::TaskReminders => n += task_reminders(c, cal, rule, s, now).await?,
        Builtin::WeeklySummary => n += schedule(c, cal, rule, Every::Week, 1, REMINDER_AT, None, now).await?,
        Builtin::InvitationReminder => {
            n += invitations(c, cal, rule, i64::from(s.after_days), None, now, "reminder").await?;
        }
    }
    Ok(n)
}

/// Reminder k of an open task assigned to a client user fires `k × every_days` days after the
/// task was made, for k = 1 … `at_most`.
async fn task_reminders<C: ConnectionTrait>(
    c: &C,
    cal: &Calendar,
    rule: &automation::Model,
    s: BuiltinSettings,
    now: DateTime<Utc>,
) -> Result<u64> {
    let client_users: Vec<Uuid> = user::Entity::find()
        .filter(user::Column::StaffRole.is_null())
        .filter(user::Column::Active.eq(true))
        .select_only()
        .column(user::Column::Id)
        .into_tuple()
        .all(c)
        .await
        .map_err(db_err)?;
    let span = i64::from(s.every_days) * i64::from(s.at_most) + SLACK as i64;
    let rows = task::Entity::find()
        .filter(task::Column::Status.ne(TaskStatus::Done.as_str()))
        .filter(task::Column::AssigneeId.is_in(client_users))
        .filter(task::Column::CreatedAt.gte(now - chrono::Duration::days(span)))
        .order_by_asc(task::Column::CreatedAt)
        .limit(BATCH)
        .all(c)
        .await
        .map_err(db_err)?;
    let mut n = 0;
    for (t, _) in with_clients(c, rows).await? {
        let made = cal.today(t.created_at);
        for k in 1..=s.at_most {
            let date = add(made, i64::from(k * s.every_days));
            if step_due(cal, date, false, t.created_at, now) {
                n += u64::from(queue_run(c, rule, SubjectType::Task, t.id, &format!("reminder-{k}"), now).await?);
            }
        }
    }
    Ok(n)
}
