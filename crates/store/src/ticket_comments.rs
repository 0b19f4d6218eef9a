//! A ticket's conversation: Replies (the client sees them) and internal Notes, by the rules of
//! task comments. A staff Reply is the first response of the service level; a client user's
//! Reply to a solved or pending ticket opens it again.

use atrium_core::helpdesk::{TicketComment, TicketStatus, ticket_label};
use atrium_core::ids::{TicketCommentId, TicketId};
use atrium_core::live::LiveEvent;
use atrium_core::model::{NotificationKind, Visibility};
use atrium_core::policy::{Actor, TicketScope};
use atrium_core::validate::BODY_MAX;
use atrium_core::{Error, Result, markdown, validate};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::conv::{self, parse};
use crate::db::{Store, db_err};
use crate::entity::{ticket, ticket_comment};
use crate::notifications::{Notice, Target, excerpt, notify, staff_and_users_of};
use crate::ticket_changes::apply_status;
use crate::ticket_rows::{ticket_watchers, to_ticket};

fn to_comment(m: ticket_comment::Model) -> Result<TicketComment> {
    Ok(TicketComment {
        id: m.id.into(),
        ticket_id: m.ticket_id.into(),
        author_id: m.author_id.into(),
        body_html: markdown::to_html(&m.body),
        body: m.body,
        visibility: parse("visibility", &m.visibility)?,
        created_at: m.created_at,
    })
}

impl Store {
    /// A visible ticket's comments, oldest first; notes only when the scope includes them.
    pub async fn ticket_comments(&self, scope: &TicketScope, id: TicketId) -> Result<Vec<TicketComment>> {
        self.ticket(scope, id).await?;
        let mut q = ticket_comment::Entity::find().filter(ticket_comment::Column::TicketId.eq(id.0));
        if !scope.includes_notes() {
            q = q.filter(ticket_comment::Column::Visibility.eq(Visibility::Reply.as_str()));
        }
        let rows = q.order_by_asc(ticket_comment::Column::Id).all(&self.db).await.map_err(db_err)?;
        conv::render_all(rows, |r| r.body.len(), to_comment).await
    }

    /// Answers on a visible ticket. Viewers cannot (403), notes are staff-only (403), and a
    /// client user cannot answer on a closed ticket (409: they open a new one).
    pub async fn create_ticket_comment(
        &self,
        actor: &Actor,
        id: TicketId,
        body: String,
        visibility: Visibility,
        ip: Option<&str>,
    ) -> Result<TicketComment> {
        let t = self.ticket(&actor.ticket_scope(), id).await?;
        actor.may_comment_on_ticket(visibility)?;
        if !actor.is_staff() && t.status == TicketStatus::Closed {
            return Err(Error::Conflict("this ticket is closed; open a new one".into()));
        }
        let body = validate::text("body", &body, BODY_MAX)?;
        self.hit_post_limit(actor).await?;
        let now = self.now();
        let tx = self.write_tx().await?;
        let row = ticket_comment::ActiveModel {
            id: Set(TicketCommentId::new().0),
            ticket_id: Set(id.0),
            author_id: Set(actor.user_id().0),
            body: Set(body),
            visibility: Set(visibility.as_str().into()),
            created_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let c = to_comment(row)?;
        // What a Reply does to the ticket: the first staff Reply is the first response (and
        // takes a new ticket up); a client user's Reply brings a solved or pending ticket back.
        let current = ticket::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let sl = crate::helpdesk_settings::service_levels(&tx).await?;
        let mut am: ticket::ActiveModel = current.clone().into();
        let next = match (visibility, actor.is_staff()) {
            (Visibility::Note, _) => t.status,
            (Visibility::Reply, true) => {
                if current.first_responded_at.is_none() {
                    am.first_responded_at = Set(Some(now));
                }
                if t.status == TicketStatus::New { TicketStatus::Open } else { t.status }
            }
            (Visibility::Reply, false) => t.status.after_client_reply(),
        };
        if next != t.status {
            apply_status(&mut am, &current, next, now, &sl);
        }
        am.updated_at = Set(now);
        let after = to_ticket(am.update(&tx).await.map_err(db_err)?)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::ticket(AuditAction::TicketComment, t.id, t.client_id, ip).with_detail(
                serde_json::json!({ "comment_id": c.id, "visibility": visibility, "status": after.status }),
            ),
        )
        .await?;
        // Who hears of it: a staff Reply reaches the requester; a client Reply the assignee (or,
        // unassigned, the ticket's watchers); a Note the assignee only. Never the author.
        let label = ticket_label(t.number);
        let people = staff_and_users_of(&tx, t.client_id).await?;
        let recipients: Vec<_> = match (visibility, actor.is_staff(), t.assignee_id) {
            (Visibility::Reply, true, _) => people.iter().filter(|p| p.id == t.requester_id).collect(),
            (_, _, Some(a)) => people.iter().filter(|p| p.id == a && p.role.is_staff()).collect(),
            (Visibility::Reply, false, None) => {
                let watchers = ticket_watchers(&tx, t.client_id, t.project_id).await?;
                people.iter().filter(|p| watchers.iter().any(|w| w.id == p.id)).collect()
            }
            (Visibility::Note, _, None) => vec![],
        };
        let recipients: Vec<_> = recipients.into_iter().filter(|p| p.id != actor.user_id()).collect();
        let what = if visibility == Visibility::Note { "added a note on" } else { "answered on" };
        let notice = Notice {
            kind: NotificationKind::TicketReply,
            client: t.client_id,
            target: Target::Ticket(t.id),
            text: format!("{} {what} {label}: {}", actor.name(), excerpt(&c.body)),
        };
        let created = notify(&tx, &notice, &recipients).await?;
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::ticket("commented", &after, Some(c.id), visibility == Visibility::Note)).await;
        self.announce(created).await;
        Ok(c)
    }
}
