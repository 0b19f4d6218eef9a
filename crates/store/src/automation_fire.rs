//! Firing automation rules: a run is recorded under its key (rule, subject, step) and its job
//! queued in the caller's transaction — the change that fired it, or the sweep — so it exists
//! exactly when that commits, and a second firing of the same key (a retry, a second server)
//! adds nothing. Changes call the `on_*` hooks here inside their own transaction.

use atrium_core::Result;
use atrium_core::automation::{AssigneeKind, RunOutcome, SubjectFacts, SubjectType, Trigger, TriggerKind};
use atrium_core::ids::{AutomationRunId, ClientId, ProjectId};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TryInsertResult};
use uuid::Uuid;

use crate::automations::{Loaded, loaded};
use crate::db::db_err;
use crate::entity::{approval, automation, automation_run, invoice, milestone, project, task, ticket, user};
use crate::jobs::{NewJob, enqueue};

/// The job kind that does one run's actions (`{"run_id"}`).
pub const AUTOMATION_RUN_JOB: &str = "automation.run";

/// Attempts a run's job gets (a run killed mid-way is tried again, whole).
const RUN_ATTEMPTS: u32 = 5;

/// Records the run of `rule` for (`subject`, `id`, `step`) and queues its job, unless that
/// key already ran; returns whether it was new.
pub(crate) async fn queue_run<C: ConnectionTrait>(
    c: &C,
    rule: &automation::Model,
    subject: SubjectType,
    id: Uuid,
    step: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let run = AutomationRunId::new();
    let row = automation_run::ActiveModel {
        id: Set(run.0),
        automation_id: Set(rule.id),
        version: Set(rule.version),
        subject_type: Set(subject.as_str().into()),
        subject_id: Set(id),
        step: Set(step.chars().take(64).collect()),
        fired_at: Set(now),
        outcome: Set(RunOutcome::Pending.as_str().into()),
        detail: Set(None),
        finished_at: Set(None),
    };
    let r = automation_run::Entity::insert(row)
        .on_conflict_do_nothing_on([
            automation_run::Column::AutomationId,
            automation_run::Column::SubjectType,
            automation_run::Column::SubjectId,
            automation_run::Column::Step,
        ])
        .exec_without_returning(c)
        .await
        .map_err(db_err)?;
    if !matches!(r, TryInsertResult::Inserted(n) if n > 0) {
        return Ok(false);
    }
    let job = NewJob::new(AUTOMATION_RUN_JOB, serde_json::json!({ "run_id": run }))
        .dedupe(format!("automation-run:{run}"))
        .max_attempts(RUN_ATTEMPTS);
    enqueue(c, job).await?;
    Ok(true)
}

/// The enabled rules of the agency's own with a trigger of `kind`.
pub(crate) async fn enabled_rules<C: ConnectionTrait>(
    c: &C,
    kind: &str,
) -> Result<Vec<(automation::Model, crate::automations::StoredRule)>> {
    let rows = automation::Entity::find()
        .filter(automation::Column::TriggerKind.eq(kind))
        .filter(automation::Column::Enabled.eq(true))
        .all(c)
        .await
        .map_err(db_err)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let Loaded::Own(s) = loaded(&r)? {
            out.push((r, s));
        }
    }
    Ok(out)
}

/// Queues a run of each of `rules` (the enabled rules of one trigger kind) whose trigger (`to`:
/// the new status) and conditions hold.
async fn fire<C: ConnectionTrait>(
    c: &C,
    now: DateTime<Utc>,
    rules: Vec<(automation::Model, crate::automations::StoredRule)>,
    (subject, id): (SubjectType, Uuid),
    facts: SubjectFacts,
    to: Option<&str>,
    step: &str,
) -> Result<()> {
    for (rule, s) in rules {
        let wanted = match &s.trigger {
            Trigger::TaskStatusChanged { to: Some(t) } => Some(t.as_str()),
            Trigger::ProjectStatusChanged { to: Some(t) } => Some(t.as_str()),
            _ => None,
        };
        if wanted.is_some_and(|w| Some(w) != to) || !s.conditions.hold(&facts) {
            continue;
        }
        queue_run(c, &rule, subject, id, step, now).await?;
    }
    Ok(())
}

/// A step unique to one moment (a status may change to the same value again later).
fn at(what: &str, now: DateTime<Utc>) -> String {
    format!("{what}@{}", now.timestamp_micros())
}

/// The kind of a task's assignee.
pub(crate) async fn assignee_kind<C: ConnectionTrait>(c: &C, assignee: Option<Uuid>) -> Result<AssigneeKind> {
    let Some(a) = assignee else { return Ok(AssigneeKind::Nobody) };
    let u = user::Entity::find_by_id(a).one(c).await.map_err(db_err)?;
    Ok(match u {
        Some(u) if u.staff_role.is_some() => AssigneeKind::Staff,
        Some(_) => AssigneeKind::Client,
        None => AssigneeKind::Nobody,
    })
}

/// The kinds of several assignees at once (one query; an unknown id is absent).
pub(crate) async fn assignee_kinds<C: ConnectionTrait>(
    c: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<std::collections::HashMap<Uuid, AssigneeKind>> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows = user::Entity::find().filter(user::Column::Id.is_in(ids)).all(c).await.map_err(db_err)?;
    Ok(rows
        .into_iter()
        .map(|u| (u.id, if u.staff_role.is_some() { AssigneeKind::Staff } else { AssigneeKind::Client }))
        .collect())
}

/// The facts of a task (its project's client, its priority, its assignee's kind).
pub(crate) async fn task_facts<C: ConnectionTrait>(c: &C, t: &task::Model) -> Result<SubjectFacts> {
    let client = project::Entity::find_by_id(t.project_id).one(c).await.map_err(db_err)?.map(|p| ClientId(p.client_id));
    Ok(SubjectFacts {
        client,
        project: Some(ProjectId(t.project_id)),
        priority: t.priority.parse().ok(),
        assignee: Some(assignee_kind(c, t.assignee_id).await?),
    })
}

/// A task's status changed.
pub(crate) async fn on_task_status<C: ConnectionTrait>(c: &C, now: DateTime<Utc>, t: &task::Model) -> Result<()> {
    let rules = enabled_rules(c, TriggerKind::TaskStatusChanged.as_str()).await?;
    if rules.is_empty() {
        return Ok(());
    }
    let facts = task_facts(c, t).await?;
    let key = (SubjectType::Task, t.id);
    fire(c, now, rules, key, facts, Some(&t.status), &at(&t.status, now)).await
}

/// A project's status changed.
pub(crate) async fn on_project_status<C: ConnectionTrait>(c: &C, now: DateTime<Utc>, p: &project::Model) -> Result<()> {
    let facts =
        SubjectFacts { client: Some(ClientId(p.client_id)), project: Some(ProjectId(p.id)), ..Default::default() };
    let key = (SubjectType::Project, p.id);
    fire(
        c,
        now,
        enabled_rules(c, TriggerKind::ProjectStatusChanged.as_str()).await?,
        key,
        facts,
        Some(&p.status),
        &at(&p.status, now),
    )
    .await
}

/// An invoice was sent.
pub(crate) async fn on_invoice_sent<C: ConnectionTrait>(c: &C, now: DateTime<Utc>, i: &invoice::Model) -> Result<()> {
    let facts = SubjectFacts {
        client: Some(ClientId(i.client_id)),
        project: i.project_id.map(ProjectId),
        ..Default::default()
    };
    fire(
        c,
        now,
        enabled_rules(c, TriggerKind::InvoiceSent.as_str()).await?,
        (SubjectType::Invoice, i.id),
        facts,
        None,
        "sent",
    )
    .await
}

/// An approval was requested (`decided`: false) or decided.
pub(crate) async fn on_approval<C: ConnectionTrait>(
    c: &C,
    now: DateTime<Utc>,
    a: &approval::Model,
    decided: bool,
) -> Result<()> {
    let facts = SubjectFacts {
        client: Some(ClientId(a.client_id)),
        project: Some(ProjectId(a.project_id)),
        ..Default::default()
    };
    let (kind, step) = if decided {
        (TriggerKind::ApprovalDecided, at(&a.status, now))
    } else {
        (TriggerKind::ApprovalRequested, at("requested", now))
    };
    fire(c, now, enabled_rules(c, kind.as_str()).await?, (SubjectType::Approval, a.id), facts, None, &step).await
}

/// A ticket was opened (`solved`: false) or solved.
pub(crate) async fn on_ticket<C: ConnectionTrait>(
    c: &C,
    now: DateTime<Utc>,
    t: &ticket::Model,
    solved: bool,
) -> Result<()> {
    let facts = SubjectFacts {
        client: Some(ClientId(t.client_id)),
        project: t.project_id.map(ProjectId),
        priority: t.priority.parse().ok(),
        ..Default::default()
    };
    let (kind, step) = if solved {
        (TriggerKind::TicketSolved, at("solved", now))
    } else {
        (TriggerKind::TicketCreated, "created".into())
    };
    fire(c, now, enabled_rules(c, kind.as_str()).await?, (SubjectType::Ticket, t.id), facts, None, &step).await
}

/// A milestone was marked done.
pub(crate) async fn on_milestone_reached<C: ConnectionTrait>(
    c: &C,
    now: DateTime<Utc>,
    m: &milestone::Model,
) -> Result<()> {
    let rules = enabled_rules(c, TriggerKind::MilestoneReached.as_str()).await?;
    if rules.is_empty() {
        return Ok(());
    }
    let client = project::Entity::find_by_id(m.project_id).one(c).await.map_err(db_err)?.map(|p| ClientId(p.client_id));
    let facts = SubjectFacts { client, project: Some(ProjectId(m.project_id)), ..Default::default() };
    fire(c, now, rules, (SubjectType::Milestone, m.id), facts, None, &at("reached", now)).await
}
