//! Help-desk tickets: opening one (numbered gap-free in its own transaction), reading them
//! through the policy's [`TicketScope`], the staff inbox's filters and counts. Changes are in
//! `ticket_changes.rs`, the conversation in `ticket_comments.rs`.

use std::collections::HashMap;

use atrium_core::helpdesk::{Satisfaction, SatisfactionScore, Ticket, TicketStatus};
use atrium_core::ids::{ClientId, ProjectId, TicketId, UserId};
use atrium_core::live::LiveEvent;
use atrium_core::model::{NotificationKind, Priority};
use atrium_core::policy::{Actor, TicketScope, check_ticket_requester};
use atrium_core::validate::{BODY_MAX, TITLE_MAX};
use atrium_core::{Error, Result, validate};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Select, Set,
};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::{project, ticket, ticket_numbering};
use crate::notifications::{Notice, Target, notify};
use crate::paging::{Page, PageRequest, page, page_rows};

pub use crate::ticket_changes::{BULK_MAX, TicketPatch};
pub use crate::ticket_rating::RATING_COMMENT_MAX;
use crate::ticket_rows::{ticket_condition, ticket_watchers, to_ticket};

/// A new ticket. Staff name the client (and may name the requester); a client user's ticket is
/// always their own client's and their own.
#[derive(Clone, Debug, Default)]
pub struct NewTicket {
    pub client_id: Option<ClientId>,
    pub project_id: Option<ProjectId>,
    pub requester_id: Option<UserId>,
    pub subject: String,
    pub body: String,
    pub priority: Option<Priority>,
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Files it brings (uploads and existing files of its project).
    pub files: crate::ticket_files::TicketFiles,
}

/// Whose tickets the inbox lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Nobody's yet.
    Nobody,
    /// This staff member's.
    User(UserId),
}

/// The staff inbox's filters (every one optional; all apply together).
#[derive(Clone, Debug, Default)]
pub struct TicketFilter {
    /// Only these statuses (empty: all).
    pub statuses: Vec<TicketStatus>,
    pub assignee: Option<AssigneeFilter>,
    pub client_id: Option<ClientId>,
    pub project_id: Option<ProjectId>,
    pub priority: Option<Priority>,
}

/// How many tickets each inbox view holds, for the navigation and the view tabs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InboxCounts {
    /// Active tickets nobody is assigned to.
    pub unassigned: u64,
    /// Active tickets assigned to the caller.
    pub mine: u64,
    /// New, open and on-hold tickets.
    pub open: u64,
    /// Tickets waiting for the client.
    pub pending: u64,
    /// Solved (not yet closed) tickets.
    pub solved: u64,
}

fn scoped(scope: &TicketScope) -> Result<Select<ticket::Entity>> {
    Ok(ticket::Entity::find().filter(ticket_condition(scope).ok_or(Error::NotFound)?))
}

/// Takes the next ticket number inside `tx`: the increment comes first, so it holds the
/// numbering row until the transaction ends and a rolled-back ticket gives its number back.
async fn next_number<C: ConnectionTrait>(tx: &C) -> Result<i64> {
    let done = ticket_numbering::Entity::update_many()
        .col_expr(ticket_numbering::Column::NextNumber, Expr::col(ticket_numbering::Column::NextNumber).add(1))
        .filter(ticket_numbering::Column::Id.eq("default"))
        .exec(tx)
        .await
        .map_err(db_err)?;
    let row = match done.rows_affected {
        1 => ticket_numbering::Entity::find_by_id("default").one(tx).await.map_err(db_err)?,
        _ => None,
    };
    Ok(row.ok_or_else(|| Error::internal_msg("ticket numbering row missing"))?.next_number - 1)
}

impl Store {
    /// Opens a ticket (SEC-AC: a client user's ticket is their own client's; a project must be
    /// one the opener can see and of that client).
    pub async fn create_ticket(&self, actor: &Actor, n: NewTicket, ip: Option<&str>) -> Result<Ticket> {
        actor.may_open_ticket()?;
        let client = match (actor.is_staff(), actor.client_id(), n.client_id) {
            (true, _, Some(c)) => {
                self.client(&actor.client_scope(), c)
                    .await
                    .map_err(|_| Error::invalid("client_id", "no such client"))?
                    .id
            }
            (true, _, None) => return Err(Error::invalid("client_id", "choose the client this ticket is for")),
            (false, Some(own), None) => own,
            (false, Some(own), Some(c)) if c == own => own,
            // Another company's id is as invisible as its tickets.
            (false, _, _) => return Err(Error::NotFound),
        };
        let requester = match n.requester_id {
            Some(r) if r != actor.user_id() => {
                actor.may_set_requester()?;
                let acc = crate::people::account_by_id(&self.db, r)
                    .await?
                    .filter(|a| a.user.active)
                    .ok_or_else(|| Error::invalid("requester_id", "no such user"))?;
                check_ticket_requester(client, acc.user.role, acc.user.client_id)?;
                r
            }
            _ => actor.user_id(),
        };
        if !actor.ticket_scope().allows(client, requester) {
            return Err(Error::NotFound);
        }
        if let Some(p) = n.project_id {
            let row = self.visible_project_row(&actor.work_scope(), p).await;
            if !row.is_ok_and(|r| r.client_id == client.0) {
                return Err(Error::invalid("project_id", "no such project of this client"));
            }
        }
        let subject = validate::line("subject", &n.subject, TITLE_MAX)?;
        let body = validate::text("body", &n.body, BODY_MAX)?;
        n.files.check(self, actor, n.project_id).await?;
        if n.files.uploads.is_empty() {
            crate::ticket_changes::checked_fields(&self.db, n.project_id, &n.fields).await?;
        }
        self.hit_post_limit(actor).await?;
        let priority = n.priority.unwrap_or(Priority::Normal);
        let now = self.now();
        let tx = self.write_tx().await?;
        let number = next_number(&tx).await?;
        // Uploads become files in this transaction (a refused ticket keeps none), and their
        // ids the answers of the form's file fields, checked with the rest.
        let mut fields = n.fields;
        let (attached, after_upload) = n.files.record(&tx, actor, &mut fields, ip).await?;
        let fields = crate::ticket_changes::checked_fields(&tx, n.project_id, &fields).await?;
        let due = crate::ticket_changes::due_times(&tx, priority, now).await?;
        let row = ticket::ActiveModel {
            id: Set(TicketId::new().0),
            number: Set(number),
            client_id: Set(client.0),
            project_id: Set(n.project_id.map(|p| p.0)),
            requester_id: Set(requester.0),
            subject: Set(subject),
            body: Set(body),
            status: Set(TicketStatus::New.as_str().into()),
            priority: Set(priority.as_str().into()),
            assignee_id: Set(None),
            fields: Set(serde_json::Value::Object(fields).to_string()),
            task_id: Set(None),
            first_response_due_at: Set(due.first_response),
            resolution_due_at: Set(due.resolution),
            first_responded_at: Set(None),
            solved_at: Set(None),
            closed_at: Set(None),
            paused_at: Set(None),
            warned_at: Set(None),
            satisfaction: Set(None),
            satisfaction_comment: Set(None),
            created_by: Set(actor.user_id().0),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        crate::automation_fire::on_ticket(&tx, now, &row, false).await?;
        let t = to_ticket(row)?;
        crate::ticket_files::link(&tx, t.id, &attached).await?;
        audit::write(
            &tx,
            Some(actor),
            Entry::ticket(AuditAction::TicketCreate, t.id, client, ip).with_detail(
                serde_json::json!({ "number": t.number, "project_id": t.project_id, "attachments": attached.len() }),
            ),
        )
        .await?;
        let label = atrium_core::helpdesk::ticket_label(t.number);
        let mut created = crate::notifications::Created::default();
        if !actor.is_staff() {
            let watchers = ticket_watchers(&tx, client, t.project_id).await?;
            let notice = Notice {
                kind: NotificationKind::TicketCreated,
                client,
                target: Target::Ticket(t.id),
                text: format!("{} opened {label}: {}", actor.name(), t.subject),
            };
            created.extend(notify(&tx, &notice, &watchers.iter().collect::<Vec<_>>()).await?);
        } else if requester != actor.user_id() {
            let mut requester_person = crate::notifications::staff_and_users_of(&tx, client).await?;
            requester_person.retain(|p| p.id == requester);
            let notice = Notice {
                kind: NotificationKind::TicketReply,
                client,
                target: Target::Ticket(t.id),
                text: format!("{} opened {label} for you: {}", actor.name(), t.subject),
            };
            created.extend(notify(&tx, &notice, &requester_person.iter().collect::<Vec<_>>()).await?);
        }
        tx.commit().await.map_err(db_err)?;
        self.after_upload(after_upload).await;
        self.publish(LiveEvent::ticket("created", &t, None, false)).await;
        self.announce(created).await;
        Ok(t)
    }

    /// One ticket, if the scope sees it.
    pub async fn ticket(&self, scope: &TicketScope, id: TicketId) -> Result<Ticket> {
        let row = scoped(scope)?.filter(ticket::Column::Id.eq(id.0)).one(&self.db).await.map_err(db_err)?;
        to_ticket(row.ok_or(Error::NotFound)?)
    }

    /// The ticket a task was made from, if the scope sees it (the task page links back to it).
    pub async fn ticket_of_task(&self, scope: &TicketScope, task: atrium_core::ids::TaskId) -> Result<Option<Ticket>> {
        let Some(cond) = ticket_condition(scope) else {
            return Ok(None);
        };
        let row = ticket::Entity::find()
            .filter(cond)
            .filter(ticket::Column::TaskId.eq(task.0))
            .one(&self.db)
            .await
            .map_err(db_err)?;
        row.map(to_ticket).transpose()
    }

    /// Tickets in the scope, newest first, filtered.
    pub async fn tickets(&self, scope: &TicketScope, f: &TicketFilter, req: PageRequest) -> Result<Page<Ticket>> {
        let Some(cond) = ticket_condition(scope) else {
            return Ok(Page { items: vec![], next_cursor: None });
        };
        let mut q = ticket::Entity::find().filter(cond);
        if !f.statuses.is_empty() {
            q = q.filter(ticket::Column::Status.is_in(f.statuses.iter().map(|s| s.as_str())));
        }
        match f.assignee {
            Some(AssigneeFilter::Nobody) => q = q.filter(ticket::Column::AssigneeId.is_null()),
            Some(AssigneeFilter::User(u)) => q = q.filter(ticket::Column::AssigneeId.eq(u.0)),
            None => {}
        }
        if let Some(c) = f.client_id {
            q = q.filter(ticket::Column::ClientId.eq(c.0));
        }
        if let Some(p) = f.project_id {
            q = q.filter(ticket::Column::ProjectId.eq(p.0));
        }
        if let Some(p) = f.priority {
            q = q.filter(ticket::Column::Priority.eq(p.as_str()));
        }
        let rows = page_rows(&self.db, q, req, ticket::Column::Id, ticket::Column::Id).await?;
        let items = rows.into_iter().map(to_ticket).collect::<Result<Vec<_>>>()?;
        Ok(page(items, req, |t| t.id.0))
    }

    /// The inbox views' sizes for this staff member (client users: 404).
    pub async fn inbox_counts(&self, actor: &Actor) -> Result<InboxCounts> {
        actor.may_work_tickets()?;
        let cond = ticket_condition(&actor.ticket_scope()).ok_or(Error::NotFound)?;
        let active = [TicketStatus::New, TicketStatus::Open, TicketStatus::Pending, TicketStatus::OnHold];
        let count = |extra: Condition| {
            let q = ticket::Entity::find().filter(cond.clone()).filter(extra);
            async move { q.count(&self.db).await.map_err(db_err) }
        };
        let statuses =
            |s: &[TicketStatus]| ticket::Column::Status.is_in(s.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        Ok(InboxCounts {
            unassigned: count(Condition::all().add(statuses(&active)).add(ticket::Column::AssigneeId.is_null()))
                .await?,
            mine: count(Condition::all().add(statuses(&active)).add(ticket::Column::AssigneeId.eq(actor.user_id().0)))
                .await?,
            open: count(Condition::all().add(statuses(&[TicketStatus::New, TicketStatus::Open, TicketStatus::OnHold])))
                .await?,
            pending: count(Condition::all().add(statuses(&[TicketStatus::Pending]))).await?,
            solved: count(Condition::all().add(statuses(&[TicketStatus::Solved]))).await?,
        })
    }

    /// How many of the scope's tickets wait for the agency (the portal's Help desk badge shows
    /// the ones waiting for the client instead: `waiting_on_client`).
    pub async fn count_tickets(&self, scope: &TicketScope, status: TicketStatus) -> Result<u64> {
        let Some(cond) = ticket_condition(scope) else {
            return Ok(0);
        };
        ticket::Entity::find()
            .filter(cond)
            .filter(ticket::Column::Status.eq(status.as_str()))
            .count(&self.db)
            .await
            .map_err(db_err)
    }

    /// The satisfaction score of the rated tickets of one client, or of the agency (`None`):
    /// staff only.
    pub async fn satisfaction_score(&self, actor: &Actor, client: Option<ClientId>) -> Result<SatisfactionScore> {
        actor.may_work_tickets()?;
        let cond = ticket_condition(&actor.ticket_scope()).ok_or(Error::NotFound)?;
        let count = |rating: Satisfaction| {
            let mut q =
                ticket::Entity::find().filter(cond.clone()).filter(ticket::Column::Satisfaction.eq(rating.as_str()));
            if let Some(c) = client {
                q = q.filter(ticket::Column::ClientId.eq(c.0));
            }
            async move { q.count(&self.db).await.map_err(db_err) }
        };
        Ok(SatisfactionScore::of(count(Satisfaction::Good).await?, count(Satisfaction::Bad).await?))
    }

    /// Names of projects of tickets, for lists (through the staff or client work scope).
    pub async fn ticket_project_names(&self, actor: &Actor, tickets: &[Ticket]) -> Result<HashMap<ProjectId, String>> {
        let ids: Vec<ProjectId> = tickets.iter().filter_map(|t| t.project_id).collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = crate::scoping::scoped_projects(
            &actor.work_scope(),
            project::Entity::find().filter(project::Column::Id.is_in(ids.iter().map(|p| p.0).collect::<Vec<_>>())),
        );
        let Some(q) = rows else {
            return Ok(HashMap::new());
        };
        Ok(q.all(&self.db).await.map_err(db_err)?.into_iter().map(|p| (ProjectId(p.id), p.name)).collect())
    }
}
