//! The help desk's periodic sweep ([`HELPDESK_SWEEP_JOB`], every [`SWEEP_EVERY`]): tickets
//! solved long enough ago are closed, and the assignee and the agency's owners and admins are
//! warned once per due time when a ticket's next answer is nearly due ([`DUE_WARNING`]).

use atrium_core::Result;
use atrium_core::helpdesk::{DUE_WARNING, SOLVED_CLOSES_AFTER, Ticket, TicketStatus, ticket_label};
use atrium_core::local_time::LocalTime;
use atrium_core::model::NotificationKind;
use atrium_core::policy::person_warned_of_due;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use crate::audit::{self, AuditAction, Entry};
use crate::db::db_err;
use crate::entity::ticket;
use crate::notifications::{Notice, Target, notify, people_seeing};
use crate::system::JobRunner;
use crate::ticket_rows::{live_clients_condition, to_ticket};

/// The job kind of the help desk's sweep.
pub const HELPDESK_SWEEP_JOB: &str = "helpdesk.sweep";

/// How often the sweep runs.
pub const SWEEP_EVERY: chrono::Duration = chrono::Duration::minutes(5);

/// The most tickets one sweep warns about (the next sweep takes the rest).
const WARN_BATCH: u64 = 500;

/// How long finished sweep jobs are kept (one is queued every [`SWEEP_EVERY`]).
const SWEEPS_KEPT: chrono::Duration = chrono::Duration::days(1);

impl JobRunner<'_> {
    /// Deletes finished sweep jobs (the help desk's, the automations' and the recurring
    /// invoices') older than a day, so the queue does not grow by one row per
    /// sweep for ever; returns how many it deleted.
    pub async fn prune_sweep_jobs(self) -> Result<u64> {
        let cutoff = Utc::now() - SWEEPS_KEPT;
        let done = crate::entity::job::Entity::delete_many()
            .filter(crate::entity::job::Column::Kind.is_in([
                HELPDESK_SWEEP_JOB,
                crate::automation_sweep::AUTOMATION_SWEEP_JOB,
                crate::billing::RECURRING_INVOICES_JOB,
            ]))
            .filter(crate::entity::job::Column::Status.eq(crate::jobs::JobStatus::Done.as_str()))
            .filter(crate::entity::job::Column::FinishedAt.lt(cutoff))
            .exec(&self.store.db)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected)
    }

    /// Closes tickets solved more than [`SOLVED_CLOSES_AFTER`] ago; returns how many it
    /// closed. Each close is audited with no person as its actor.
    pub async fn close_solved_tickets(self) -> Result<u64> {
        let store = self.store;
        let now = store.now();
        let cutoff = now - SOLVED_CLOSES_AFTER;
        let due = ticket::Entity::find()
            .filter(ticket::Column::Status.eq(TicketStatus::Solved.as_str()))
            .filter(ticket::Column::SolvedAt.lt(cutoff))
            .all(&store.db)
            .await
            .map_err(db_err)?;
        let mut closed = 0;
        for row in due {
            let tx = store.write_tx().await?;
            let done = ticket::Entity::update_many()
                .col_expr(ticket::Column::Status, Expr::value(TicketStatus::Closed.as_str()))
                .col_expr(ticket::Column::ClosedAt, Expr::value(now))
                .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
                .filter(ticket::Column::Id.eq(row.id))
                .filter(ticket::Column::Status.eq(TicketStatus::Solved.as_str()))
                .exec(&tx)
                .await
                .map_err(db_err)?;
            if done.rows_affected == 1 {
                audit::write(
                    &tx,
                    None,
                    Entry::ticket(AuditAction::TicketAutoClose, row.id.into(), row.client_id.into(), None),
                )
                .await?;
                closed += 1;
            }
            tx.commit().await.map_err(db_err)?;
        }
        Ok(closed)
    }

    /// Warns of tickets whose next answer is due within [`DUE_WARNING`] (or already late and
    /// not yet warned of): a `ticket_due` notification to the assignee and the agency's owners
    /// and admins, once per due time — a ticket whose due time moves later (it waited on the
    /// client) is warned of again when that time comes near. Returns how many tickets it warned
    /// of. Safe to run from several processes at once: each warning is claimed by one.
    pub async fn warn_due_tickets(self) -> Result<u64> {
        let store = self.store;
        let now = store.now();
        let horizon = now + DUE_WARNING;
        let running: Vec<&str> = TicketStatus::ALL.iter().filter(|s| s.clock_runs()).map(|s| s.as_str()).collect();
        let near = Condition::any()
            .add(
                Condition::all()
                    .add(ticket::Column::FirstRespondedAt.is_null())
                    .add(ticket::Column::FirstResponseDueAt.lte(horizon)),
            )
            .add(
                Condition::all()
                    .add(ticket::Column::FirstRespondedAt.is_not_null())
                    .add(ticket::Column::ResolutionDueAt.lte(horizon)),
            );
        let rows = sea_orm::QuerySelect::limit(
            ticket::Entity::find()
                .filter(live_clients_condition())
                .filter(ticket::Column::Status.is_in(running))
                .filter(near),
            WARN_BATCH,
        )
        .all(&store.db)
        .await
        .map_err(db_err)?;
        let local = LocalTime::new(crate::helpdesk_settings::service_levels(&store.db).await?.timezone());
        let mut warned = 0;
        for row in rows {
            let t = to_ticket(row.clone())?;
            let Some((due, late)) = t.next_due(now) else { continue };
            let window = due - DUE_WARNING;
            if due > horizon || row.warned_at.is_some_and(|w| w >= window) {
                continue;
            }
            let tx = store.write_tx().await?;
            let claimed = ticket::Entity::update_many()
                .col_expr(ticket::Column::WarnedAt, Expr::value(now))
                .filter(ticket::Column::Id.eq(row.id))
                .filter(
                    Condition::any().add(ticket::Column::WarnedAt.is_null()).add(ticket::Column::WarnedAt.lt(window)),
                )
                .exec(&tx)
                .await
                .map_err(db_err)?;
            if claimed.rows_affected != 1 {
                tx.rollback().await.map_err(db_err)?;
                continue;
            }
            let people = people_seeing(&tx, t.client_id, true).await?;
            let to: Vec<_> = people.iter().filter(|p| person_warned_of_due(p.role, p.id, t.assignee_id)).collect();
            let notice = Notice {
                kind: NotificationKind::TicketDue,
                client: t.client_id,
                target: Target::Ticket(t.id),
                text: due_text(&t, due, late, &local),
            };
            let created = notify(&tx, &notice, &to).await?;
            tx.commit().await.map_err(db_err)?;
            store.announce(created).await;
            warned += 1;
        }
        Ok(warned)
    }
}

/// The warning's line: which answer is due, by when (in the agency's timezone, named: one text
/// goes to every recipient), or that it is late.
fn due_text(t: &Ticket, due: DateTime<Utc>, late: bool, local: &LocalTime) -> String {
    let what = if t.first_responded_at.is_none() { "first response" } else { "resolution" };
    let when = local.named(due);
    let label = ticket_label(t.number);
    if late {
        format!("{label} missed its {what} target ({when}): {}", t.subject)
    } else {
        format!("{label} needs its {what} by {when}: {}", t.subject)
    }
}
