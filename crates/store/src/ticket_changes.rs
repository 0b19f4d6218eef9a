//! Changing tickets: status (with the service-level clock), priority, assignee, project and
//! subject; the inbox's bulk changes; turning a ticket into a task; the requester's rating.

use atrium_core::helpdesk::{Satisfaction, Ticket, TicketStatus, ticket_label};
use atrium_core::ids::{ProjectId, TicketId, UserId};
use atrium_core::live::LiveEvent;
use atrium_core::model::{NotificationKind, Priority, Task, TaskStatus};
use atrium_core::policy::{Actor, TicketChange, check_ticket_assignee};
use atrium_core::validate::{BODY_MAX, TITLE_MAX};
use atrium_core::{Error, Result, validate};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::ticket;
use crate::notifications::{Created, Notice, Target, notify, staff_and_users_of};
use crate::ticket_rating::RATING_COMMENT_MAX;
use crate::ticket_rows::to_ticket;
use crate::work::NewTask;

/// The most tickets one bulk change touches.
pub const BULK_MAX: usize = 100;

/// A change to a ticket; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct TicketPatch {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    /// `Some(None)` unassigns.
    pub assignee_id: Option<Option<UserId>>,
    /// `Some(None)` makes it a general request.
    pub project_id: Option<Option<ProjectId>>,
    pub subject: Option<String>,
}

impl TicketPatch {
    fn change(&self) -> TicketChange {
        let only_status = self.priority.is_none()
            && self.assignee_id.is_none()
            && self.project_id.is_none()
            && self.subject.is_none();
        match self.status {
            Some(TicketStatus::Solved | TicketStatus::Open) if only_status => TicketChange::SolveOrReopen,
            _ => TicketChange::Manage,
        }
    }
}

/// When a new ticket's answers are due.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DueTimes {
    pub first_response: Option<DateTime<Utc>>,
    pub resolution: Option<DateTime<Utc>>,
}

/// The due times of a ticket of `priority` opened at `at`, from the help desk's service levels
/// (business minutes in the agency's hours and timezone).
pub(crate) async fn due_times<C: ConnectionTrait>(c: &C, priority: Priority, at: DateTime<Utc>) -> Result<DueTimes> {
    let sl = crate::helpdesk_settings::service_levels(c).await?;
    Ok(DueTimes {
        first_response: Some(sl.first_response_due(at, priority)),
        resolution: Some(sl.resolution_due(at, priority)),
    })
}

/// The request-form answers of a new ticket, checked against its project's form (422 naming
/// `fields.<key>`); a file answer must name a file of that project. A general request (no
/// project) has no form.
pub(crate) async fn checked_fields<C: ConnectionTrait>(
    c: &C,
    project: Option<ProjectId>,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let Some(project) = project else {
        return match fields.keys().next() {
            None => Ok(serde_json::Map::new()),
            Some(_) => Err(Error::invalid("fields", "a general request has no request form")),
        };
    };
    let form = crate::request_forms::request_form(c, project).await?;
    let answers = form.check_answers(fields)?;
    for f in form.fields.iter().filter(|f| f.kind == atrium_core::request_form::FieldType::File) {
        let Some(id) = answers.get(&f.key).and_then(|v| v.as_str()) else { continue };
        let id: uuid::Uuid = id.parse().map_err(|_| Error::invalid(format!("fields.{}", f.key), "is not a file"))?;
        if !crate::files::is_file_of_project(c, id, project).await? {
            return Err(Error::invalid(format!("fields.{}", f.key), "no such file in this project"));
        }
    }
    Ok(answers)
}

impl Store {
    /// Changes a visible ticket as far as the policy allows this actor: staff anything; the
    /// requester or a client admin only "solved" or "open again" (a closed ticket stays closed
    /// for them: 409).
    pub async fn update_ticket(&self, actor: &Actor, id: TicketId, p: TicketPatch, ip: Option<&str>) -> Result<Ticket> {
        let current = self.ticket(&actor.ticket_scope(), id).await?;
        actor.may_change_ticket(current.requester_id, p.change(), p.status)?;
        if !actor.is_staff() && current.status == TicketStatus::Closed {
            return Err(Error::Conflict("this ticket is closed; open a new one".into()));
        }
        if let Some(Some(a)) = p.assignee_id {
            let acc = crate::people::account_by_id(&self.db, a)
                .await?
                .filter(|a| a.user.active)
                .ok_or_else(|| Error::invalid("assignee_id", "no such user"))?;
            check_ticket_assignee(acc.user.role)?;
        }
        if let Some(Some(project)) = p.project_id {
            let row = self.visible_project_row(&actor.work_scope(), project).await;
            if !row.is_ok_and(|r| r.client_id == current.client_id.0) {
                return Err(Error::invalid("project_id", "no such project of this client"));
            }
        }
        let subject = p.subject.as_deref().map(|s| validate::line("subject", s, TITLE_MAX)).transpose()?;
        let now = self.now();
        let tx = self.write_tx().await?;
        let row = ticket::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let sl = crate::helpdesk_settings::service_levels(&tx).await?;
        let mut am: ticket::ActiveModel = row.clone().into();
        let mut detail = serde_json::Map::new();
        if let Some(s) = p.status.filter(|s| *s != current.status) {
            apply_status(&mut am, &row, s, now, &sl);
            detail.insert("status".into(), s.as_str().into());
        }
        if let Some(pr) = p.priority.filter(|pr| *pr != current.priority) {
            am.priority = Set(pr.as_str().into());
            // The targets of the new priority, counted from when the ticket was opened.
            if row.first_responded_at.is_none() {
                am.first_response_due_at = Set(Some(sl.first_response_due(row.created_at, pr)));
            }
            am.resolution_due_at = Set(Some(sl.resolution_due(row.created_at, pr)));
            detail.insert("priority".into(), pr.as_str().into());
        }
        if let Some(a) = p.assignee_id.filter(|a| *a != current.assignee_id) {
            am.assignee_id = Set(a.map(|u| u.0));
            detail.insert("assignee_id".into(), serde_json::json!(a));
        }
        if let Some(pj) = p.project_id.filter(|pj| *pj != current.project_id) {
            am.project_id = Set(pj.map(|p| p.0));
            detail.insert("project_id".into(), serde_json::json!(pj));
        }
        if let Some(s) = subject.filter(|s| *s != current.subject) {
            am.subject = Set(s);
            detail.insert("subject".into(), true.into());
        }
        if detail.is_empty() {
            return Ok(current);
        }
        am.updated_at = Set(now);
        let saved = am.update(&tx).await.map_err(db_err)?;
        let t = to_ticket(saved.clone())?;
        if t.status == TicketStatus::Solved && current.status != TicketStatus::Solved {
            crate::automation_fire::on_ticket(&tx, now, &saved, true).await?;
        }
        audit::write(
            &tx,
            Some(actor),
            Entry::ticket(AuditAction::TicketUpdate, t.id, t.client_id, ip).with_detail(detail.into()),
        )
        .await?;
        let created = notify_change(&tx, actor, &current, &t).await?;
        if t.status == TicketStatus::Solved && current.status != TicketStatus::Solved && t.satisfaction.is_none() {
            crate::ticket_rating::queue_rating_mail(&tx, t.id).await?;
        }
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::ticket("updated", &t, None, false)).await;
        self.announce(created).await;
        Ok(t)
    }

    /// Applies one change to several tickets (the inbox's bulk assign and close): staff only,
    /// at most [`BULK_MAX`]; each ticket is changed (and audited) on its own, and the answer
    /// lists the changed tickets.
    pub async fn bulk_update_tickets(
        &self,
        actor: &Actor,
        ids: &[TicketId],
        p: TicketPatch,
        ip: Option<&str>,
    ) -> Result<Vec<Ticket>> {
        actor.may_work_tickets()?;
        if ids.is_empty() || ids.len() > BULK_MAX {
            return Err(Error::invalid("ids", format!("choose 1 to {BULK_MAX} tickets")));
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.update_ticket(actor, *id, p.clone(), ip).await?);
        }
        Ok(out)
    }

    /// Turns a visible ticket into a task of its project (staff), linked both ways: the ticket
    /// names the task, the task page names the ticket. A ticket without a project, or one that
    /// already has a task, is refused.
    pub async fn ticket_to_task(&self, actor: &Actor, id: TicketId, ip: Option<&str>) -> Result<Task> {
        let t = self.ticket(&actor.ticket_scope(), id).await?;
        actor.may_work_tickets()?;
        let project = t.project_id.ok_or_else(|| Error::invalid("project_id", "choose the ticket's project first"))?;
        if t.task_id.is_some() {
            return Err(Error::Conflict("this ticket already has a task".into()));
        }
        let label = ticket_label(t.number);
        let mut description = format!("From ticket {label}.\n\n{}", t.body);
        if description.chars().count() > BODY_MAX {
            description = crate::notifications::truncate(&description, BODY_MAX);
        }
        let task = self
            .create_task(
                actor,
                project,
                NewTask {
                    title: t.subject.clone(),
                    description,
                    status: TaskStatus::Todo,
                    priority: t.priority,
                    due_date: None,
                    assignee_id: t.assignee_id,
                    milestone_id: None,
                },
                ip,
            )
            .await?;
        let tx = self.write_tx().await?;
        // Only a ticket that has no task yet gets this one (two staff clicking at once: the
        // second task stays unlinked rather than replacing the first).
        let linked = ticket::Entity::update_many()
            .col_expr(ticket::Column::TaskId, sea_orm::sea_query::Expr::value(task.id.0))
            .col_expr(ticket::Column::UpdatedAt, sea_orm::sea_query::Expr::value(self.now()))
            .filter(ticket::Column::Id.eq(id.0))
            .filter(ticket::Column::TaskId.is_null())
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if linked.rows_affected != 1 {
            return Err(Error::Conflict("this ticket already has a task".into()));
        }
        audit::write(
            &tx,
            Some(actor),
            Entry::ticket(AuditAction::TicketToTask, t.id, t.client_id, ip)
                .with_detail(serde_json::json!({ "task_id": task.id })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        let linked = self.ticket(&actor.ticket_scope(), id).await?;
        self.publish(LiveEvent::ticket("updated", &linked, None, false)).await;
        Ok(task)
    }

    /// Records the requester's rating of their solved ticket (a later rating replaces it).
    pub async fn rate_ticket(
        &self,
        actor: &Actor,
        id: TicketId,
        rating: Satisfaction,
        comment: Option<String>,
        ip: Option<&str>,
    ) -> Result<Ticket> {
        let t = self.ticket(&actor.ticket_scope(), id).await?;
        actor.may_rate_ticket(t.requester_id)?;
        if !matches!(t.status, TicketStatus::Solved | TicketStatus::Closed) {
            return Err(Error::Conflict("only a solved ticket can be rated".into()));
        }
        let comment = comment
            .as_deref()
            .map(|c| validate::optional_text("comment", c, RATING_COMMENT_MAX))
            .transpose()?
            .filter(|c| !c.is_empty());
        let tx = self.write_tx().await?;
        let row = ticket::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let mut am: ticket::ActiveModel = row.into();
        am.satisfaction = Set(Some(rating.as_str().into()));
        am.satisfaction_comment = Set(comment);
        am.updated_at = Set(self.now());
        let t = to_ticket(am.update(&tx).await.map_err(db_err)?)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::ticket(AuditAction::TicketRate, t.id, t.client_id, ip)
                .with_detail(serde_json::json!({ "rating": rating })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::ticket("updated", &t, None, false)).await;
        Ok(t)
    }
}

/// Sets the status and what goes with it: solving stamps `solved_at` (reopening clears it),
/// closing stamps `closed_at`; pending stops the service-level clock (`paused_at`) and leaving
/// pending moves the due times on by the business minutes the ticket waited for the client.
pub(crate) fn apply_status(
    am: &mut ticket::ActiveModel,
    row: &ticket::Model,
    to: TicketStatus,
    now: DateTime<Utc>,
    sl: &atrium_core::service_level::ServiceLevels,
) {
    am.status = Set(to.as_str().into());
    match to {
        TicketStatus::Solved => am.solved_at = Set(Some(now)),
        TicketStatus::Closed => am.closed_at = Set(Some(now)),
        _ => {
            am.solved_at = Set(None);
            am.closed_at = Set(None);
        }
    }
    if to == TicketStatus::Pending {
        am.paused_at = Set(Some(now));
    } else if let Some(paused) = row.paused_at {
        am.paused_at = Set(None);
        let resume =
            |due: Option<DateTime<Utc>>| due.map(|d| sl.due_after(now, sl.business_minutes_between(paused, d).max(0)));
        if row.first_responded_at.is_none() {
            am.first_response_due_at = Set(resume(row.first_response_due_at));
        }
        am.resolution_due_at = Set(resume(row.resolution_due_at));
    }
}

/// Tells people of a change: a new assignee that it is theirs; the requester that their
/// ticket was solved or waits for them (when someone else changed it).
async fn notify_change<C: ConnectionTrait>(c: &C, actor: &Actor, before: &Ticket, after: &Ticket) -> Result<Created> {
    let mut created = Created::default();
    let people = staff_and_users_of(c, after.client_id).await?;
    let label = ticket_label(after.number);
    if let Some(a) = after.assignee_id.filter(|a| Some(*a) != before.assignee_id && *a != actor.user_id()) {
        let to: Vec<_> = people.iter().filter(|p| p.id == a).collect();
        let notice = Notice {
            kind: NotificationKind::TicketAssigned,
            client: after.client_id,
            target: Target::Ticket(after.id),
            text: format!("{} assigned {label} to you: {}", actor.name(), after.subject),
        };
        created.extend(notify(c, &notice, &to).await?);
    }
    let told = match after.status {
        TicketStatus::Solved => Some("solved"),
        TicketStatus::Pending => Some("is waiting for your answer on"),
        _ => None,
    };
    if let Some(what) = told.filter(|_| after.status != before.status && after.requester_id != actor.user_id()) {
        let to: Vec<_> = people.iter().filter(|p| p.id == after.requester_id).collect();
        let text = format!("{} {what} {label}: {}", actor.name(), after.subject);
        let notice = Notice {
            kind: NotificationKind::TicketStatus,
            client: after.client_id,
            target: Target::Ticket(after.id),
            text,
        };
        created.extend(notify(c, &notice, &to).await?);
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bare_solve_or_reopen_is_a_requesters_change() {
        let solve = TicketPatch { status: Some(TicketStatus::Solved), ..Default::default() };
        assert_eq!(solve.change(), TicketChange::SolveOrReopen);
        let more = TicketPatch { priority: Some(Priority::High), ..solve.clone() };
        assert_eq!(more.change(), TicketChange::Manage);
        let hold = TicketPatch { status: Some(TicketStatus::OnHold), ..Default::default() };
        assert_eq!(hold.change(), TicketChange::Manage);
    }

    #[test]
    fn leaving_pending_moves_the_due_times_on_by_the_wait() {
        let sl = atrium_core::service_level::ServiceLevels::default();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // Monday 10:00 UTC, due Monday 12:00; pending from 10:00 until Tuesday 10:00 (8
        // business hours later): the remaining two hours count from Tuesday 10:00.
        let row = ticket::Model {
            id: uuid::Uuid::nil(),
            number: 1,
            client_id: uuid::Uuid::nil(),
            project_id: None,
            requester_id: uuid::Uuid::nil(),
            subject: String::new(),
            body: String::new(),
            status: "pending".into(),
            priority: "normal".into(),
            assignee_id: None,
            fields: "{}".into(),
            task_id: None,
            first_response_due_at: Some(at("2026-11-30T12:00:00Z")),
            resolution_due_at: Some(at("2026-11-30T16:00:00Z")),
            first_responded_at: None,
            solved_at: None,
            closed_at: None,
            paused_at: Some(at("2026-11-30T10:00:00Z")),
            warned_at: None,
            satisfaction: None,
            satisfaction_comment: None,
            created_by: uuid::Uuid::nil(),
            created_at: at("2026-11-30T10:00:00Z"),
            updated_at: at("2026-11-30T10:00:00Z"),
        };
        let mut am: ticket::ActiveModel = row.clone().into();
        apply_status(&mut am, &row, TicketStatus::Open, at("2026-12-01T10:00:00Z"), &sl);
        assert_eq!(am.paused_at, Set(None));
        assert_eq!(am.first_response_due_at, Set(Some(at("2026-12-01T12:00:00Z"))));
        assert_eq!(am.resolution_due_at, Set(Some(at("2026-12-01T16:00:00Z"))));
        let mut am: ticket::ActiveModel = row.clone().into();
        apply_status(&mut am, &row, TicketStatus::Solved, at("2026-12-01T10:00:00Z"), &sl);
        assert_eq!(am.solved_at, Set(Some(at("2026-12-01T10:00:00Z"))));
    }
}
