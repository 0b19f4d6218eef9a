//! Running one automation run, exactly once. The job first asks for the run's [`RunPlan`]
//! (read only: the mails rendered per recipient, with only what each may see), renders the
//! mails, then calls [`JobRunner::finish_automation_run`], which in one transaction marks the
//! run done — guarded on it still being pending and its rule unchanged and on — does the other
//! actions and queues the mails. A run killed before that commit left nothing behind and is
//! tried again whole; a second worker finds it no longer pending and does nothing. Changes an
//! automation makes do not fire other rules (no loops).

use atrium_core::automation::placeholders::{Values, render};
use atrium_core::automation::{Action, Builtin, Recipient, RunOutcome, SubjectType};
use atrium_core::ids::{AutomationId, AutomationRunId, ClientId, InvitationId, UserId};
use atrium_core::model::{InvoiceStatus, NotificationKind, ProjectStatus, TaskStatus, Visibility, invitation_lifetime};
use atrium_core::{Error, Result};
use chrono::{DateTime, Days, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::automation_context::{Subject, author, load, recipients, summary};
use crate::automations::{Loaded, StoredRule, loaded};
use crate::db::db_err;
use crate::entity::{automation, automation_run, comment, invitation, project, task, ticket, ticket_comment};
use crate::jobs::{NewJob, enqueue};
use crate::notifications::{Created, Notice, notify};
use crate::system::JobRunner;

/// One mail of a run, rendered for its recipient (plain text; the mail layer escapes it).
#[derive(Clone, Debug)]
pub struct PlannedMail {
    /// The recipient.
    pub user: UserId,
    /// Their address and name.
    pub email: String,
    pub name: String,
    /// Whether they are staff (their link is a staff page).
    pub staff: bool,
    /// The subject line and the text.
    pub subject: String,
    pub body: String,
    /// The subject's page on the recipient's side (a path).
    pub path: String,
}

/// The invitation a ready-made invitation reminder sends again (with a fresh link).
#[derive(Clone, Debug)]
pub struct InvitationAgain {
    pub id: InvitationId,
    pub email: String,
    pub name: String,
    /// The client's invitation text.
    pub note: String,
}

/// What one run will do, as far as the mail layer needs it.
#[derive(Clone, Debug)]
pub struct RunPlan {
    pub run: AutomationRunId,
    pub rule: AutomationId,
    version: i32,
    /// The mails, rendered.
    pub mails: Vec<PlannedMail>,
    /// The invitation to send again, for the invitation reminder.
    pub invitation: Option<InvitationAgain>,
}

/// The rule of a run, if it is still pending and its rule on and unchanged; otherwise the
/// run is marked (cancelled) and `None`.
async fn live<C: ConnectionTrait>(
    c: &C,
    run: &automation_run::Model,
    now: DateTime<Utc>,
) -> Result<Option<automation::Model>> {
    if run.outcome != RunOutcome::Pending.as_str() {
        return Ok(None);
    }
    let rule = automation::Entity::find_by_id(run.automation_id).one(c).await.map_err(db_err)?;
    match rule {
        Some(r) if r.enabled && r.version == run.version => Ok(Some(r)),
        _ => {
            close(c, run.id, RunOutcome::Cancelled, "the rule was changed or switched off before this run", now)
                .await?;
            Ok(None)
        }
    }
}

/// Marks a pending run finished; whether it still was pending.
async fn close<C: ConnectionTrait>(
    c: &C,
    run: Uuid,
    outcome: RunOutcome,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let r = automation_run::Entity::update_many()
        .col_expr(automation_run::Column::Outcome, Expr::value(outcome.as_str()))
        .col_expr(automation_run::Column::Detail, Expr::value(detail))
        .col_expr(automation_run::Column::FinishedAt, Expr::value(now))
        .filter(automation_run::Column::Id.eq(run))
        .filter(automation_run::Column::Outcome.eq(RunOutcome::Pending.as_str()))
        .exec(c)
        .await
        .map_err(db_err)?;
    Ok(r.rows_affected == 1)
}

/// The mails of a rule for a subject: (recipient spec, subject, body, billing people too).
fn mail_specs(rule: &Loaded, step: &str) -> Vec<(Recipient, String, String)> {
    match rule {
        Loaded::Own(s) => s
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Email { to, subject, body } => Some((*to, subject.clone(), body.clone())),
                _ => None,
            })
            .collect(),
        Loaded::Builtin(b, _) => {
            let to = match b {
                Builtin::InvoiceReminders => Recipient::ClientBilling,
                Builtin::TaskReminders => Recipient::Assignee,
                Builtin::WeeklySummary => Recipient::ClientAdmins,
                Builtin::InvitationReminder => return Vec::new(),
            };
            b.mail(step).map(|(s, body)| vec![(to, s.to_string(), body.to_string())]).unwrap_or_default()
        }
    }
}

impl JobRunner<'_> {
    /// What run `id` will do; `None` when there is nothing to do (it ran, its rule changed,
    /// its subject is gone — the run is then marked so).
    pub async fn plan_automation_run(self, id: AutomationRunId, agency: &str) -> Result<Option<RunPlan>> {
        let (db, now) = (&self.store.db, self.store.now());
        let Some(run) = automation_run::Entity::find_by_id(id.0).one(db).await.map_err(db_err)? else {
            return Ok(None);
        };
        let Some(rule) = live(db, &run, now).await? else { return Ok(None) };
        let kind: SubjectType = run.subject_type.parse().map_err(|e: String| Error::internal("stored run", e))?;
        let Some(subject) = load(db, kind, run.subject_id, agency).await? else {
            close(db, run.id, RunOutcome::Skipped, "its subject is gone, or its client archived", now).await?;
            return Ok(None);
        };
        let l = loaded(&rule)?;
        if !still_applies(db, &l, &subject, &run.step).await? {
            close(db, run.id, RunOutcome::Skipped, "no longer applies (done, paid or accepted)", now).await?;
            return Ok(None);
        }
        let mut mails = Vec::new();
        for (to, subj, body) in mail_specs(&l, &run.step) {
            let billing = matches!(to, Recipient::ClientBilling) || kind == SubjectType::Invoice;
            for p in recipients(db, &subject, to, false, billing).await? {
                let mut values: Values = subject.values.clone();
                values.insert("recipient.name", p.name.clone());
                let staff = p.role.is_staff();
                let path = if staff { subject.staff_path.clone() } else { subject.client_path.clone() };
                values.insert("link", path.clone());
                if kind == SubjectType::Client {
                    let s = summary(db, subject.client, &p, now).await?;
                    if s.is_empty() && matches!(l, Loaded::Builtin(Builtin::WeeklySummary, _)) {
                        continue;
                    }
                    values.insert("summary", s);
                }
                mails.push(PlannedMail {
                    user: p.id,
                    email: p.email.clone(),
                    name: p.name.clone(),
                    staff,
                    subject: render(&subj, &values),
                    body: render(&body, &values),
                    path,
                });
            }
        }
        let invitation = match (&l, &subject.invitation) {
            (Loaded::Builtin(Builtin::InvitationReminder, _), Some(inv)) => {
                let note = match inv.client_id {
                    Some(c) => crate::entity::client::Entity::find_by_id(c)
                        .one(db)
                        .await
                        .map_err(db_err)?
                        .and_then(|c| c.invitation_text)
                        .unwrap_or_default(),
                    None => String::new(),
                };
                Some(InvitationAgain {
                    id: InvitationId(inv.id),
                    email: inv.email.clone(),
                    name: inv.name.clone(),
                    note,
                })
            }
            _ => None,
        };
        Ok(Some(RunPlan { run: id, rule: AutomationId(rule.id), version: rule.version, mails, invitation }))
    }

    /// Does run `plan` once: in one transaction, marks it done (nothing when it no longer is
    /// pending or its rule changed), does its other actions, queues `mails` (each a payload
    /// of the `mail_kind` job) and, for an invitation reminder, stores the fresh link's
    /// `token_hash`. Returns the outcome, `None` when another worker had done it.
    pub async fn finish_automation_run(
        self,
        plan: &RunPlan,
        mails: Vec<serde_json::Value>,
        mail_kind: &'static str,
        token_hash: Option<String>,
        agency: &str,
    ) -> Result<Option<RunOutcome>> {
        let store = self.store;
        let now = store.now();
        let tx = store.write_tx().await?;
        let Some(run) = automation_run::Entity::find_by_id(plan.run.0).one(&tx).await.map_err(db_err)? else {
            return Ok(None);
        };
        let Some(rule) = live(&tx, &run, now).await? else {
            tx.commit().await.map_err(db_err)?;
            return Ok(None);
        };
        if rule.version != plan.version {
            return Ok(None);
        }
        let kind: SubjectType = run.subject_type.parse().map_err(|e: String| Error::internal("stored run", e))?;
        let Some(subject) = load(&tx, kind, run.subject_id, agency).await? else {
            close(&tx, run.id, RunOutcome::Skipped, "its subject is gone", now).await?;
            tx.commit().await.map_err(db_err)?;
            return Ok(Some(RunOutcome::Skipped));
        };
        let mut done: Vec<String> = Vec::new();
        let mut created = Created::default();
        if let Loaded::Own(s) = loaded(&rule)? {
            created = actions(&tx, &rule, &s, &subject, now, &mut done).await?;
        }
        let n = mails.len();
        for (i, m) in mails.into_iter().enumerate() {
            enqueue(&tx, NewJob::new(mail_kind, m).dedupe(format!("automation-mail:{}:{i}", plan.run))).await?;
        }
        if n > 0 {
            done.push(format!("mailed {n} {}", if n == 1 { "person" } else { "people" }));
        }
        if let (Some(inv), Some(hash)) = (&plan.invitation, token_hash) {
            let r = invitation::Entity::update_many()
                .col_expr(invitation::Column::TokenHash, Expr::value(hash))
                .col_expr(invitation::Column::ExpiresAt, Expr::value(now + invitation_lifetime()))
                .filter(invitation::Column::Id.eq(inv.id.0))
                .filter(invitation::Column::AcceptedAt.is_null())
                .filter(invitation::Column::RevokedAt.is_null())
                .exec(&tx)
                .await
                .map_err(db_err)?;
            if r.rows_affected == 1 {
                done.push(format!("sent the invitation to {} again", inv.email));
            }
        }
        let outcome = if done.is_empty() { RunOutcome::Skipped } else { RunOutcome::Done };
        let detail = if done.is_empty() { "nobody to tell who may see it".to_string() } else { done.join("; ") };
        if !close(&tx, run.id, outcome, &detail, now).await? {
            return Ok(None);
        }
        let e =
            Entry::automation(AuditAction::AutomationRun, AutomationId(rule.id), None).with_detail(serde_json::json!({
                "run_id": run.id, "subject_type": run.subject_type, "subject_id": run.subject_id, "step": run.step,
                "outcome": outcome.as_str(), "detail": detail,
            }));
        audit::write(&tx, None, e).await?;
        tx.commit().await.map_err(db_err)?;
        store.announce(created).await;
        Ok(Some(outcome))
    }

    /// Marks a run failed for good (its job gave up).
    pub async fn fail_automation_run(self, id: AutomationRunId, error: &str) -> Result<()> {
        close(&self.store.db, id.0, RunOutcome::Failed, error, self.store.now()).await.map(|_| ())
    }
}

/// Whether a ready-made rule's run still has a reason when it runs (the task may have been
/// done, the invoice paid, meanwhile).
async fn still_applies<C: ConnectionTrait>(c: &C, rule: &Loaded, s: &Subject, _step: &str) -> Result<bool> {
    let Loaded::Builtin(b, _) = rule else { return Ok(true) };
    Ok(match b {
        Builtin::InvoiceReminders => crate::entity::invoice::Entity::find_by_id(s.id)
            .one(c)
            .await
            .map_err(db_err)?
            .is_some_and(|i| matches!(i.status.parse(), Ok(InvoiceStatus::Sent | InvoiceStatus::PartiallyPaid))),
        Builtin::TaskReminders => task::Entity::find_by_id(s.id)
            .one(c)
            .await
            .map_err(db_err)?
            .is_some_and(|t| t.status != TaskStatus::Done.as_str()),
        Builtin::WeeklySummary | Builtin::InvitationReminder => true,
    })
}

/// Does a rule's actions other than mail; appends what was done to `done`.
async fn actions<C: ConnectionTrait>(
    c: &C,
    rule: &automation::Model,
    s: &StoredRule,
    subject: &Subject,
    now: DateTime<Utc>,
    done: &mut Vec<String>,
) -> Result<Created> {
    let mut created = Created::default();
    let values = &subject.values;
    for a in &s.actions {
        match a {
            Action::Email { .. } => {}
            Action::CreateTask { title, offset_days } => {
                let Some(project) = subject.project else { continue };
                let due = offset_days.and_then(|d| now.date_naive().checked_add_days(Days::new(d.unsigned_abs())));
                task::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    project_id: Set(project),
                    milestone_id: Set(None),
                    title: Set(render(title, values).chars().take(atrium_core::validate::TITLE_MAX).collect()),
                    description: Set(String::new()),
                    status: Set(TaskStatus::Todo.as_str().into()),
                    priority: Set(atrium_core::model::Priority::Normal.as_str().into()),
                    due_date: Set(due),
                    assignee_id: Set(None),
                    created_by: Set(author(c, rule.updated_by).await?),
                    created_at: Set(now),
                    updated_at: Set(now),
                    completed_at: Set(None),
                    pending_assignee: Set(None),
                }
                .insert(c)
                .await
                .map_err(db_err)?;
                done.push("added a task".into());
            }
            Action::Comment { visibility, body } => {
                let (body, by) = (render(body, values), author(c, rule.updated_by).await?);
                let v = visibility.as_str().to_string();
                match subject.kind {
                    SubjectType::Task => {
                        comment::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            task_id: Set(subject.id),
                            author_id: Set(by),
                            body: Set(body),
                            visibility: Set(v),
                            created_at: Set(now),
                        }
                        .insert(c)
                        .await
                        .map_err(db_err)?;
                    }
                    SubjectType::Ticket => {
                        ticket_comment::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            ticket_id: Set(subject.id),
                            author_id: Set(by),
                            body: Set(body),
                            visibility: Set(v),
                            created_at: Set(now),
                        }
                        .insert(c)
                        .await
                        .map_err(db_err)?;
                    }
                    _ => continue,
                }
                done.push(if *visibility == Visibility::Note { "wrote a note".into() } else { "replied".into() });
            }
            Action::SetStatus { status } => {
                set_status(c, subject, status, now).await?;
                done.push(format!("set the status to {status}"));
            }
            Action::NotifyStaff { to, text } => {
                let Some(target) = subject.target else { continue };
                let people = recipients(c, subject, *to, true, false).await?;
                let notice = Notice {
                    kind: NotificationKind::Automated,
                    client: ClientId(subject.client.0),
                    target,
                    text: render(text, values),
                };
                let refs: Vec<_> = people.iter().collect();
                created.extend(notify(c, &notice, &refs).await?);
                done.push(format!("notified {} staff", people.len()));
            }
        }
    }
    Ok(created)
}

async fn set_status<C: ConnectionTrait>(c: &C, s: &Subject, status: &str, now: DateTime<Utc>) -> Result<()> {
    let bad = |e: String| Error::internal("automation status", e);
    match s.kind {
        SubjectType::Task => {
            let st: TaskStatus = status.parse().map_err(bad)?;
            let completed = (st == TaskStatus::Done).then_some(now);
            task::Entity::update_many()
                .col_expr(task::Column::Status, Expr::value(st.as_str()))
                .col_expr(task::Column::CompletedAt, Expr::value(completed))
                .col_expr(task::Column::UpdatedAt, Expr::value(now))
                .filter(task::Column::Id.eq(s.id))
                .exec(c)
                .await
                .map_err(db_err)?;
        }
        SubjectType::Project => {
            let st: ProjectStatus = status.parse().map_err(bad)?;
            project::Entity::update_many()
                .col_expr(project::Column::Status, Expr::value(st.as_str()))
                .col_expr(project::Column::UpdatedAt, Expr::value(now))
                .filter(project::Column::Id.eq(s.id))
                .exec(c)
                .await
                .map_err(db_err)?;
        }
        SubjectType::Ticket => {
            let st: atrium_core::helpdesk::TicketStatus = status.parse().map_err(bad)?;
            ticket::Entity::update_many()
                .col_expr(ticket::Column::Status, Expr::value(st.as_str()))
                .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
                .filter(ticket::Column::Id.eq(s.id))
                .exec(c)
                .await
                .map_err(db_err)?;
        }
        _ => {}
    }
    Ok(())
}
