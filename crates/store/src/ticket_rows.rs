//! Ticket rows: converting them, the scope condition they are read through, and who watches a
//! client's tickets. A leaf of the ticket modules (`tickets`, `ticket_changes`,
//! `ticket_comments`, `ticket_rating` use it; it uses none of them).

use atrium_core::helpdesk::{Satisfaction, Ticket};
use atrium_core::ids::{ClientId, ProjectId, UserId};
use atrium_core::policy::{ClientFilter, TicketScope};
use atrium_core::{Error, Result, markdown};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};

use crate::conv::parse;
use crate::entity::ticket;
use crate::notifications::Person;
use crate::scoping::deleted_clients;

/// The condition limiting `tickets` to a ticket scope (never a deleted client's); `None` when
/// the scope sees nothing.
pub(crate) fn ticket_condition(scope: &TicketScope) -> Option<Condition> {
    let mut c = live_clients_condition();
    match scope.clients() {
        ClientFilter::All => {}
        ClientFilter::Only(id) => c = c.add(ticket::Column::ClientId.eq(id.0)),
        ClientFilter::Nothing => return None,
    }
    if let Some(r) = scope.requester() {
        c = c.add(ticket::Column::RequesterId.eq(r.0));
    }
    Some(c)
}

/// The condition of tickets whose client is not deleted (for work done on nobody's behalf).
pub(crate) fn live_clients_condition() -> Condition {
    Condition::all().add(ticket::Column::ClientId.not_in_subquery(deleted_clients()))
}

/// Converts a row.
pub(crate) fn to_ticket(m: ticket::Model) -> Result<Ticket> {
    let fields = match serde_json::from_str::<serde_json::Value>(&m.fields) {
        Ok(serde_json::Value::Object(o)) => o,
        _ => return Err(Error::internal_msg(format!("ticket {} has malformed fields", m.id))),
    };
    Ok(Ticket {
        id: m.id.into(),
        number: m.number,
        client_id: m.client_id.into(),
        project_id: m.project_id.map(Into::into),
        requester_id: m.requester_id.into(),
        subject: m.subject,
        body_html: markdown::to_html(&m.body),
        body: m.body,
        status: parse("ticket status", &m.status)?,
        priority: parse("priority", &m.priority)?,
        assignee_id: m.assignee_id.map(Into::into),
        fields,
        task_id: m.task_id.map(Into::into),
        first_response_due_at: m.first_response_due_at,
        resolution_due_at: m.resolution_due_at,
        first_responded_at: m.first_responded_at,
        solved_at: m.solved_at,
        satisfaction: m.satisfaction.as_deref().map(|s| parse::<Satisfaction>("satisfaction", s)).transpose()?,
        satisfaction_comment: m.satisfaction_comment,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// The staff who hear of a new ticket: owners and admins, and the project's team.
pub(crate) async fn ticket_watchers<C: ConnectionTrait>(
    c: &C,
    client: ClientId,
    project: Option<ProjectId>,
) -> Result<Vec<Person>> {
    let team: Vec<UserId> = match project {
        Some(p) => crate::project_team::team_ids(c, p).await?,
        None => vec![],
    };
    let mut staff = crate::notifications::people_seeing(c, client, true).await?;
    staff.retain(|p| {
        matches!(p.role, atrium_core::model::Role::Owner | atrium_core::model::Role::Admin) || team.contains(&p.id)
    });
    Ok(staff)
}
