//! Issuing recurring invoices ([`RECURRING_INVOICES_JOB`], every [`ISSUE_EVERY`]): every active
//! schedule of a current client whose next issue date (in the agency's timezone) is today or past
//! issues one invoice per due period, oldest first, each through the invoices' own path
//! (`invoices::write_draft`: the next number of the sequence; `invoices::mark_sent` when the
//! schedule sends automatically).
//!
//! **Each period exactly once.** One transaction per period: a guarded `UPDATE … WHERE id = ?
//! AND next_issue_date = ? AND status = 'active'` claims the period (and locks the row), the
//! invoice is written, the next date is moved on, and all of it commits together. When the
//! guard matches no row another process issued that period first (or staff paused, ended or
//! moved the schedule meanwhile): the transaction is rolled back and nothing is issued.

use atrium_core::ids::{ClientId, InvoiceId, RecurringInvoiceId, UserId};
use atrium_core::model::{self as m, CATCH_UP_MAX, ClientStatus, RecurringStatus};
use atrium_core::money::LineInput;
use atrium_core::{Error, Result};
use chrono::NaiveDate;
use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::NewInvoice;
use super::invoices::{check_draft, check_project, mark_sent, write_draft};
use super::recurring::{lines_of, schedule_row};
use crate::audit::{self, AuditAction, Entry};
use crate::conv::parse;
use crate::db::db_err;
use crate::entity::{client, invoice, recurring_invoice as row};
use crate::system::JobRunner;

/// The job kind that issues the due recurring invoices.
pub const RECURRING_INVOICES_JOB: &str = "billing.recurring_invoices";

/// How often the issuing job runs (an invoice is issued within this long after local midnight
/// of its issue date).
pub const ISSUE_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// The most schedules one run looks at (the next run takes the rest).
const ISSUE_BATCH: u64 = 500;

/// The ids of clients whose schedules do not issue: deleted or archived.
fn resting_clients() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(client::Column::Id)
        .from(client::Entity)
        .cond_where(
            Condition::any()
                .add(client::Column::DeletedAt.is_not_null())
                .add(client::Column::Status.eq(ClientStatus::Archived.as_str())),
        )
        .to_owned()
}

impl JobRunner<'_> {
    /// Issues every due period of every active schedule of a current client (at most
    /// [`CATCH_UP_MAX`] periods of one schedule per run); returns how many invoices it issued.
    /// Safe to run from several processes at once: each period is issued by one of them. A
    /// schedule that cannot issue (its stored terms no longer pass the checks) does not stop
    /// the others; the first such error is returned after them, so the job shows as failing.
    pub async fn issue_recurring_invoices(self) -> Result<u64> {
        let store = self.store;
        let today = store.agency_today(&store.db).await?;
        let due = row::Entity::find()
            .filter(row::Column::Status.eq(RecurringStatus::Active.as_str()))
            .filter(row::Column::NextIssueDate.lte(today))
            .filter(row::Column::ClientId.not_in_subquery(resting_clients()))
            .order_by_asc(row::Column::NextIssueDate)
            .order_by_asc(row::Column::Id)
            .limit(ISSUE_BATCH)
            .all(&store.db)
            .await
            .map_err(db_err)?;
        let (mut issued, mut failure) = (0, None);
        for r in due {
            let mut at = r.next_issue_date;
            for _ in 0..CATCH_UP_MAX {
                match self.issue_period(RecurringInvoiceId(r.id), at).await {
                    Ok(Some(next)) => {
                        issued += 1;
                        if next > today {
                            break;
                        }
                        at = next;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(schedule = %r.id, error = %e, "a recurring invoice could not be issued");
                        failure.get_or_insert(e);
                        break;
                    }
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(issued),
        }
    }

    /// Issues the period of schedule `id` that falls on `at`, if it is still due there; returns
    /// the schedule's next issue date, or `None` when nothing was issued (another process did
    /// it, or the schedule changed or its client rests).
    async fn issue_period(self, id: RecurringInvoiceId, at: NaiveDate) -> Result<Option<NaiveDate>> {
        let store = self.store;
        let now = store.now();
        let tx = store.write_tx().await?;
        let claimed = row::Entity::update_many()
            .col_expr(row::Column::UpdatedAt, Expr::value(now))
            .filter(row::Column::Id.eq(id.0))
            .filter(row::Column::NextIssueDate.eq(at))
            .filter(row::Column::Status.eq(RecurringStatus::Active.as_str()))
            .filter(row::Column::ClientId.not_in_subquery(resting_clients()))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if claimed.rows_affected != 1 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(None);
        }
        let r = schedule_row(&tx, id).await?;
        let interval = parse("recurring interval", &r.interval)?;
        let anchor = u32::try_from(r.anchor_day).unwrap_or(1);
        let next = m::advance(at, interval, anchor)
            .ok_or_else(|| Error::internal_msg(format!("recurring invoice {id} has no next date after {at}")))?;
        let client = ClientId(r.client_id);
        let client_name =
            client::Entity::find_by_id(r.client_id).one(&tx).await.map_err(db_err)?.map(|c| c.name).unwrap_or_default();
        let due_days = u32::try_from(r.due_days).unwrap_or(0);
        let n = NewInvoice {
            client_id: client,
            project_id: r.project_id.map(Into::into),
            currency: r.currency.clone(),
            issue_date: at,
            due_date: m::due_date(at, due_days).unwrap_or(at),
            lines: lines_of(&r)?.iter().map(LineInput::from).collect(),
            notes: r.notes.clone(),
            payment_instructions: None,
        };
        let draft = check_draft(n, client_name)?;
        check_project(&tx, client, draft.project).await?;
        let (invoice_id, number) = write_draft(&tx, None, UserId(r.created_by), &draft, now, None).await?;
        let created = if r.auto_send {
            let inv = invoice_row(&tx, invoice_id).await?;
            Some(mark_sent(&tx, None, &inv, now, None).await?)
        } else {
            None
        };
        row::Entity::update_many()
            .col_expr(row::Column::NextIssueDate, Expr::value(next))
            .col_expr(row::Column::IssuedCount, Expr::col(row::Column::IssuedCount).add(1))
            .col_expr(row::Column::LastIssuedOn, Expr::value(Some(at)))
            .filter(row::Column::Id.eq(id.0))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let detail = serde_json::json!({
            "invoice": invoice_id, "number": number, "issue_date": at, "next_issue_date": next, "sent": r.auto_send,
        });
        let e = Entry::recurring_invoice(AuditAction::RecurringInvoiceIssue, id, client, None).with_detail(detail);
        audit::write(&tx, None, e).await?;
        tx.commit().await.map_err(db_err)?;
        if let Some(created) = created {
            store.announce(created).await;
        }
        Ok(Some(next))
    }
}

async fn invoice_row<C: sea_orm::ConnectionTrait>(c: &C, id: InvoiceId) -> Result<invoice::Model> {
    invoice::Entity::find_by_id(id.0)
        .one(c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::internal_msg(format!("invoice {id} vanished in its own transaction")))
}
