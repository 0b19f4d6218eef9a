//! What a run is about, as its actions need it: the subject's client and project, the values of
//! its placeholders, its pages on each side, and the people a recipient spec names — each
//! checked against `policy::automation_mail_reaches`, so a mail is only ever rendered for
//! someone who may see its subject, with that subject's own client's data.

use std::collections::HashSet;

use atrium_core::automation::placeholders::Values;
use atrium_core::automation::{Recipient, SubjectType};
use atrium_core::helpdesk::ticket_label;
use atrium_core::ids::{ClientId, UserId};
use atrium_core::model::{ApprovalStatus, InvoiceStatus, NotificationKind, TaskStatus};
use atrium_core::money::{Currency, Decimal};
use atrium_core::policy::automation_mail_reaches;
use atrium_core::{Error, Result};
use chrono::{DateTime, Days, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::db::db_err;
use crate::entity::{approval, client, invitation, invoice, milestone, project, project_member, task, ticket, user};
use crate::notifications::{Person, Target, invoice_recipients, people_seeing};

/// The subject of a run, loaded.
#[derive(Clone, Debug)]
pub(crate) struct Subject {
    pub kind: SubjectType,
    pub id: Uuid,
    pub client: ClientId,
    pub project: Option<Uuid>,
    /// A task's or a ticket's assignee.
    pub assignee: Option<Uuid>,
    /// The placeholders' values (without `recipient.name` and `link`).
    pub values: Values,
    /// Where a notification about it links to.
    pub target: Option<Target>,
    /// The subject's page for staff and for the client.
    pub staff_path: String,
    pub client_path: String,
    /// The invitation's row (invitation subjects).
    pub invitation: Option<invitation::Model>,
}

fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map_or_else(|| "no date".into(), |d| d.format("%b %-d, %Y").to_string())
}

/// Loads a subject; `None` when it is gone or its client is archived or deleted.
pub(crate) async fn load<C: ConnectionTrait>(
    c: &C,
    kind: SubjectType,
    id: Uuid,
    agency: &str,
) -> Result<Option<Subject>> {
    let mut values = Values::new();
    values.insert("agency.name", agency.to_string());
    let mut s = Subject {
        kind,
        id,
        client: ClientId(Uuid::nil()),
        project: None,
        assignee: None,
        values,
        target: None,
        staff_path: "/staff".into(),
        client_path: "/portal".into(),
        invitation: None,
    };
    let found = match kind {
        SubjectType::Task => match task::Entity::find_by_id(id).one(c).await.map_err(db_err)? {
            Some(t) => {
                s.project = Some(t.project_id);
                s.assignee = t.assignee_id;
                s.values.insert("task.title", t.title.clone());
                s.values.insert(
                    "task.status",
                    t.status.parse::<TaskStatus>().map_or(t.status.clone(), |st| st.label().into()),
                );
                s.values.insert("task.due_date", date(t.due_date));
                s.target = Some(Target::Task(t.id.into()));
                true
            }
            None => false,
        },
        SubjectType::Invoice => match invoice::Entity::find_by_id(id).one(c).await.map_err(db_err)? {
            Some(i) => {
                s.client = ClientId(i.client_id);
                let cur = Currency::parse("currency", &i.currency)?;
                let total: Decimal = i.total.parse().unwrap_or_default();
                s.values.insert("invoice.number", i.number.clone());
                s.values.insert("invoice.total", cur.display(total));
                s.values.insert("invoice.due_date", date(Some(i.due_date)));
                s.target = Some(Target::Invoice(i.id.into()));
                // A draft is nobody's business but the agency's.
                !matches!(i.status.parse(), Ok(InvoiceStatus::Draft | InvoiceStatus::Void) | Err(_))
            }
            None => false,
        },
        SubjectType::Approval => match approval::Entity::find_by_id(id).one(c).await.map_err(db_err)? {
            Some(a) => {
                s.project = Some(a.project_id);
                let title = match a.task_id {
                    Some(t) => task::Entity::find_by_id(t).one(c).await.map_err(db_err)?.map(|t| t.title),
                    None => None,
                };
                s.values.insert("approval.title", title.unwrap_or_else(|| "a file".into()));
                s.target = Some(Target::Approval(a.id.into()));
                true
            }
            None => false,
        },
        SubjectType::Ticket => match ticket::Entity::find_by_id(id).one(c).await.map_err(db_err)? {
            Some(t) => {
                s.client = ClientId(t.client_id);
                s.assignee = t.assignee_id;
                s.values.insert("ticket.number", ticket_label(t.number));
                s.values.insert("ticket.subject", t.subject.clone());
                s.target = Some(Target::Ticket(t.id.into()));
                true
            }
            None => false,
        },
        SubjectType::Project => {
            s.project = Some(id);
            true
        }
        SubjectType::Milestone => match milestone::Entity::find_by_id(id).one(c).await.map_err(db_err)? {
            Some(m) => {
                s.project = Some(m.project_id);
                s.values.insert("milestone.name", m.name);
                true
            }
            None => false,
        },
        SubjectType::Client => {
            s.client = ClientId(id);
            true
        }
        SubjectType::Invitation => match invitation::Entity::find_by_id(id).one(c).await.map_err(db_err)? {
            Some(inv) if inv.accepted_at.is_none() && inv.revoked_at.is_none() => {
                s.client = inv.client_id.map(ClientId).unwrap_or(ClientId(Uuid::nil()));
                s.invitation = Some(inv);
                true
            }
            _ => false,
        },
    };
    if !found {
        return Ok(None);
    }
    if let Some(p) = s.project {
        let Some(p) = project::Entity::find_by_id(p).one(c).await.map_err(db_err)? else { return Ok(None) };
        s.client = ClientId(p.client_id);
        s.values.insert("project.name", p.name.clone());
        if kind == SubjectType::Project {
            let status =
                p.status.parse::<atrium_core::model::ProjectStatus>().map_or(p.status.clone(), |x| x.label().into());
            s.values.insert("project.status", status);
        }
        if s.target.is_none() {
            s.target = Some(Target::Messages(p.id.into(), atrium_core::model::Channel::Staff));
        }
    }
    let Some(cl) = client::Entity::find_by_id(s.client.0).one(c).await.map_err(db_err)? else { return Ok(None) };
    if cl.deleted_at.is_some() || cl.status != atrium_core::model::ClientStatus::Active.as_str() {
        return Ok(None);
    }
    s.values.insert("client.name", cl.name);
    (s.staff_path, s.client_path) = paths(&s);
    Ok(Some(s))
}

fn paths(s: &Subject) -> (String, String) {
    if let Some(t) = s.target {
        let client = match t {
            Target::Messages(p, _) => format!("/portal/projects/{p}"),
            other => other.path(false),
        };
        return (t.path(true), client);
    }
    // A client (a schedule's runs) or an invitation: the client's page, the portal's home.
    (format!("/staff/clients/{}", s.client), "/portal".into())
}

/// The people `to` names for `s`, each one who may see it (staff-only when `staff_only`).
pub(crate) async fn recipients<C: ConnectionTrait>(
    c: &C,
    s: &Subject,
    to: Recipient,
    staff_only: bool,
    invoices: bool,
) -> Result<Vec<Person>> {
    let everyone = if invoices {
        let mut v = invoice_recipients(c, s.client).await?;
        v.extend(people_seeing(c, s.client, true).await?);
        v
    } else {
        people_seeing(c, s.client, false).await?
    };
    let pages = crate::portal::client_pages(c, s.client).await?;
    let mut chosen: Vec<Person> = match to {
        Recipient::ClientAdmins => {
            everyone.into_iter().filter(|p| p.role == atrium_core::model::Role::ClientAdmin).collect()
        }
        Recipient::ClientBilling => everyone
            .into_iter()
            .filter(|p| {
                matches!(p.role, atrium_core::model::Role::ClientAdmin | atrium_core::model::Role::ClientFinance)
            })
            .collect(),
        Recipient::Assignee => everyone.into_iter().filter(|p| Some(p.id.0) == s.assignee).collect(),
        Recipient::ProjectTeam => {
            let team: HashSet<Uuid> = match s.project {
                Some(p) => project_member::Entity::find()
                    .filter(project_member::Column::ProjectId.eq(p))
                    .all(c)
                    .await
                    .map_err(db_err)?
                    .into_iter()
                    .map(|m| m.user_id)
                    .collect(),
                None => HashSet::new(),
            };
            everyone.into_iter().filter(|p| p.role.is_staff() && team.contains(&p.id.0)).collect()
        }
        Recipient::OwnersAndAdmins => everyone
            .into_iter()
            .filter(|p| matches!(p.role, atrium_core::model::Role::Owner | atrium_core::model::Role::Admin))
            .collect(),
        Recipient::User(u) => everyone.into_iter().filter(|p| p.id == u).collect(),
        Recipient::Invitee => Vec::new(),
    };
    let mut seen = HashSet::new();
    chosen.retain(|p| {
        seen.insert(p.id)
            && (!staff_only || p.role.is_staff())
            && automation_mail_reaches(p.role, p.client_id, pages, s.kind, s.client)
    });
    let off = mail_off(c, &chosen.iter().map(|p| p.id).collect::<Vec<_>>()).await?;
    chosen.retain(|p| staff_only || !off.contains(&p.id));
    Ok(chosen)
}

/// Who chose anything but mail for automatic mail in their notification settings (it has no
/// in-app or digest form, so those mean no mail).
async fn mail_off<C: ConnectionTrait>(c: &C, users: &[UserId]) -> Result<HashSet<UserId>> {
    let rows = crate::entity::notification_pref::Entity::find()
        .filter(crate::entity::notification_pref::Column::UserId.is_in(users.iter().map(|u| u.0).collect::<Vec<_>>()))
        .filter(crate::entity::notification_pref::Column::Kind.eq(NotificationKind::Automated.as_str()))
        .all(c)
        .await
        .map_err(db_err)?;
    Ok(rows.into_iter().filter(|r| r.delivery != "email").map(|r| UserId(r.user_id)).collect())
}

/// The name of the user who set a rule up (the author of what it writes).
pub(crate) async fn author<C: ConnectionTrait>(c: &C, id: Option<Uuid>) -> Result<Uuid> {
    let Some(id) = id else { return Err(Error::internal("automation", "a rule that writes needs its author")) };
    user::Entity::find_by_id(id).one(c).await.map_err(db_err)?.map(|u| u.id).ok_or(Error::NotFound)
}

/// The weekly summary of `client` for `person`: done in the last seven days, due in the next
/// seven, and what waits for them (open approvals, their open tasks). Only the client's own
/// projects, and nothing internal (tasks, milestones and approvals are client-visible work;
/// notes and staff messages are never read). Empty when there is nothing to say.
pub(crate) async fn summary<C: ConnectionTrait>(
    c: &C,
    client: ClientId,
    person: &Person,
    now: DateTime<Utc>,
) -> Result<String> {
    let projects: Vec<(Uuid, String)> = project::Entity::find()
        .filter(project::Column::ClientId.eq(client.0))
        .select_only()
        .column(project::Column::Id)
        .column(project::Column::Name)
        .into_tuple()
        .all(c)
        .await
        .map_err(db_err)?;
    let ids: Vec<Uuid> = projects.iter().map(|p| p.0).collect();
    let name = |id: Uuid| projects.iter().find(|p| p.0 == id).map_or("", |p| p.1.as_str()).to_string();
    let week_ago = now - chrono::Duration::days(7);
    let today = now.date_naive();
    let in_a_week = today.checked_add_days(Days::new(7)).unwrap_or(today);
    let done = task::Entity::find()
        .filter(task::Column::ProjectId.is_in(ids.clone()))
        .filter(task::Column::CompletedAt.gte(week_ago))
        .order_by_asc(task::Column::CompletedAt)
        .limit(20)
        .all(c)
        .await
        .map_err(db_err)?;
    let next = task::Entity::find()
        .filter(task::Column::ProjectId.is_in(ids.clone()))
        .filter(task::Column::Status.ne(TaskStatus::Done.as_str()))
        .filter(task::Column::DueDate.gte(today))
        .filter(task::Column::DueDate.lte(in_a_week))
        .order_by_asc(task::Column::DueDate)
        .limit(20)
        .all(c)
        .await
        .map_err(db_err)?;
    let mine = task::Entity::find()
        .filter(task::Column::ProjectId.is_in(ids.clone()))
        .filter(task::Column::Status.ne(TaskStatus::Done.as_str()))
        .filter(task::Column::AssigneeId.eq(person.id.0))
        .order_by_asc(task::Column::DueDate)
        .limit(20)
        .all(c)
        .await
        .map_err(db_err)?;
    let approvals = approval::Entity::find()
        .filter(approval::Column::ClientId.eq(client.0))
        .filter(approval::Column::Status.eq(ApprovalStatus::Open.as_str()))
        .limit(20)
        .all(c)
        .await
        .map_err(db_err)?;
    let mut out = String::new();
    let mut section = |title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            out.push_str(title);
            out.push('\n');
            for l in lines {
                out.push_str("- ");
                out.push_str(&l);
                out.push('\n');
            }
            out.push('\n');
        }
    };
    section("Done last week:", done.iter().map(|t| format!("{} ({})", t.title, name(t.project_id))).collect());
    section(
        "Coming up:",
        next.iter().map(|t| format!("{} — due {} ({})", t.title, date(t.due_date), name(t.project_id))).collect(),
    );
    let mut waiting: Vec<String> = approvals.iter().map(|a| format!("An approval in {}", name(a.project_id))).collect();
    waiting.extend(mine.iter().map(|t| format!("{} — due {} ({})", t.title, date(t.due_date), name(t.project_id))));
    section("Waiting for you:", waiting);
    Ok(out.trim_end().to_string())
}
