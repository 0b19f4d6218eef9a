//! The staff inbox: every client's tickets in views (unassigned, mine, open, waiting on the
//! client, solved) with filters, counts, bulk assign and close, and the satisfaction score; and
//! the staff side of a ticket (its details form, turning it into a task).

use askama::Template;
use atrium_core::helpdesk::TicketStatus;
use atrium_core::ids::{ClientId, ProjectId, TicketId, UserId};
use atrium_core::model::Priority;
use atrium_core::policy::Side;
use atrium_store::tickets::{AssigneeFilter, InboxCounts, TicketFilter, TicketPatch};
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use crate::api::input::{empty_none, patch_field};
use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::pages::helpdesk::{TicketRow, count_badge, people_of, ticket_page, ticket_rows};
use crate::pages::view::{Opt, opts, people_opts};
use crate::pages::{Chrome, page, see_other};
use crate::state::AppState;

/// The inbox's views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum View {
    Unassigned,
    Mine,
    Open,
    Pending,
    Solved,
    All,
}

impl View {
    const ALL: [View; 6] = [View::Unassigned, View::Mine, View::Open, View::Pending, View::Solved, View::All];

    fn slug(self) -> &'static str {
        match self {
            View::Unassigned => "unassigned",
            View::Mine => "mine",
            View::Open => "open",
            View::Pending => "pending",
            View::Solved => "solved",
            View::All => "all",
        }
    }

    fn label(self) -> &'static str {
        match self {
            View::Unassigned => "Unassigned",
            View::Mine => "Mine",
            View::Open => "Open",
            View::Pending => "Waiting on client",
            View::Solved => "Solved",
            View::All => "All",
        }
    }

    fn parse(s: Option<&str>) -> atrium_core::Result<View> {
        match s.map(str::trim) {
            None | Some("") => Ok(View::Unassigned),
            Some(s) => View::ALL.into_iter().find(|v| v.slug() == s).ok_or_else(|| {
                atrium_core::Error::invalid("view", "must be unassigned, mine, open, pending, solved or all")
            }),
        }
    }

    fn count(self, c: &InboxCounts) -> Option<u64> {
        match self {
            View::Unassigned => Some(c.unassigned),
            View::Mine => Some(c.mine),
            View::Open => Some(c.open),
            View::Pending => Some(c.pending),
            View::Solved => Some(c.solved),
            View::All => None,
        }
    }

    /// The filter of this view (the page's own filters are added on top).
    fn filter(self, me: UserId) -> TicketFilter {
        use TicketStatus::*;
        let active = vec![New, Open, Pending, OnHold];
        let (statuses, assignee) = match self {
            View::Unassigned => (active, Some(AssigneeFilter::Nobody)),
            View::Mine => (active, Some(AssigneeFilter::User(me))),
            View::Open => (vec![New, Open, OnHold], None),
            View::Pending => (vec![Pending], None),
            View::Solved => (vec![Solved], None),
            View::All => (vec![], None),
        };
        TicketFilter { statuses, assignee, ..Default::default() }
    }
}

/// One view tab.
struct Tab {
    href: String,
    label: &'static str,
    count: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "staff_inbox.html")]
struct InboxPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    view: &'static str,
    rows: Vec<TicketRow>,
    clients: Vec<Opt>,
    priorities: Vec<Opt>,
    people: Vec<Opt>,
    statuses: Vec<Opt>,
    score_label: String,
    next: String,
    /// Owners and admins: the link to the service levels.
    may_configure: bool,
}

/// `?view=&client_id=&project_id=&priority=&cursor=` of the inbox.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    pub view: Option<String>,
    #[serde(default, deserialize_with = "empty_none")]
    pub client_id: Option<ClientId>,
    #[serde(default, deserialize_with = "empty_none")]
    pub project_id: Option<ProjectId>,
    #[serde(default, deserialize_with = "empty_none")]
    pub priority: Option<Priority>,
    pub cursor: Option<String>,
}

/// How many rows one inbox page shows.
const INBOX_PAGE: u64 = 50;

/// `GET /staff/inbox`.
pub async fn inbox(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Q(q): Q<InboxQuery>,
) -> AppResult<Response> {
    let a = &auth.actor;
    let view = View::parse(q.view.as_deref())?;
    let mut filter = view.filter(a.user_id());
    filter.client_id = q.client_id;
    filter.project_id = q.project_id;
    filter.priority = q.priority;
    let req = crate::extract::Paging { limit: Some(INBOX_PAGE.to_string()), cursor: q.cursor }.request()?;
    let list = st.store.tickets(&a.ticket_scope(), &filter, req).await?;
    let names = st.store.user_names(a, &people_of(&list.items)).await?;
    let client_names = super::client_names(&st, &auth).await?;
    let projects = st.store.ticket_project_names(a, &list.items).await?;
    let local = st.store.local_time(&auth.actor).await?;
    let rows = ticket_rows(&list.items, Side::Staff, local, &names, &client_names, &projects);
    let counts = st.store.inbox_counts(a).await?;
    let keep = |v: View| {
        let mut s = format!("/staff/inbox?view={}", v.slug());
        if let Some(c) = q.client_id {
            s.push_str(&format!("&client_id={c}"));
        }
        if let Some(p) = q.priority {
            s.push_str(&format!("&priority={p}"));
        }
        s
    };
    let tabs = View::ALL
        .into_iter()
        .map(|v| Tab {
            href: keep(v),
            label: v.label(),
            count: v.count(&counts).map(|n| n.to_string()).unwrap_or_default(),
            current: v == view,
        })
        .collect();
    let mut clients: Vec<(ClientId, String)> = client_names.into_iter().collect();
    clients.sort_by_key(|x| x.1.to_lowercase());
    let mut client_opts =
        vec![Opt { value: String::new(), label: "All clients".into(), selected: q.client_id.is_none() }];
    client_opts.extend(clients.into_iter().map(|(id, name)| Opt {
        value: id.to_string(),
        selected: Some(id) == q.client_id,
        label: name,
    }));
    let mut priorities =
        vec![Opt { value: String::new(), label: "Any priority".into(), selected: q.priority.is_none() }];
    priorities.extend(opts(Priority::ALL, q.priority, Priority::as_str, Priority::label));
    let staff: Vec<_> = st.store.staff_users(a).await?.into_iter().filter(|u| u.active).collect();
    let mut people = vec![Opt { value: "keep".into(), label: "Assignee: keep".into(), selected: true }];
    people.extend(people_opts(&staff, None, "Unassigned").into_iter().map(|mut o| {
        o.selected = false;
        o
    }));
    let mut statuses = vec![Opt { value: String::new(), label: "Status: keep".into(), selected: true }];
    statuses.extend(opts(TicketStatus::ALL, None, TicketStatus::as_str, TicketStatus::staff_label));
    let score = st.store.satisfaction_score(a, q.client_id).await?;
    let score_label = match score.score {
        Some(s) => format!("{s:+} ({} good, {} bad)", score.good, score.bad),
        None => "no ratings yet".into(),
    };
    let next = list.next_cursor.map(|c| format!("{}&cursor={c}", keep(view))).unwrap_or_default();
    let mut chrome = Chrome::signed_in(&st, &auth, &csrf, "Inbox", "/staff/inbox");
    chrome.live = "tickets".into();
    page(&InboxPage {
        chrome,
        tabs,
        view: view.slug(),
        rows,
        clients: client_opts,
        priorities,
        people,
        statuses,
        score_label,
        may_configure: auth.actor.may_configure_helpdesk().is_ok(),
        next,
    })
}

/// `POST /staff/inbox/bulk`: the ticked tickets (`ids`, repeated) and one change — an
/// assignee (`keep`, empty to unassign, or a staff user) and/or a status.
pub async fn bulk(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    crate::extract::FormPairs(pairs): crate::extract::FormPairs,
) -> AppResult<Response> {
    let mut ids = Vec::new();
    let (mut assignee, mut status, mut view) = (String::from("keep"), None, View::Unassigned);
    for (k, v) in pairs {
        match k.as_str() {
            "ids" => {
                ids.push(v.parse::<TicketId>().map_err(|_| atrium_core::Error::invalid("ids", "is not a ticket"))?)
            }
            "assignee_id" => assignee = v,
            "status" if !v.is_empty() => {
                status = Some(v.parse::<TicketStatus>().map_err(|m| atrium_core::Error::invalid("status", m))?)
            }
            "status" => {}
            "view" => view = View::parse(Some(&v))?,
            other => return Err(atrium_core::Error::invalid("form", format!("unknown field `{other}`")).into()),
        }
    }
    let assignee_id = match assignee.trim() {
        "keep" => None,
        "" => Some(None),
        s => Some(Some(s.parse::<UserId>().map_err(|_| atrium_core::Error::invalid("assignee_id", "no such user"))?)),
    };
    if assignee_id.is_none() && status.is_none() {
        return Err(atrium_core::Error::invalid("status", "choose an assignee or a status to apply").into());
    }
    let patch = TicketPatch { status, assignee_id, ..Default::default() };
    st.store.bulk_update_tickets(&auth.actor, &ids, patch, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/inbox?view={}", view.slug())))
}

/// `GET /staff/tickets/{id}`.
pub async fn ticket(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(id): Id<TicketId>,
) -> AppResult<Response> {
    ticket_page(&st, &auth.into(), &csrf, id).await
}

/// The staff ticket details form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketForm {
    pub subject: String,
    pub status: TicketStatus,
    pub priority: Priority,
    #[serde(default, deserialize_with = "patch_field")]
    pub assignee_id: Option<Option<UserId>>,
    #[serde(default, deserialize_with = "patch_field")]
    pub project_id: Option<Option<ProjectId>>,
}

/// `POST /staff/tickets/{id}`.
pub async fn update(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<TicketId>,
    FormBody(f): FormBody<TicketForm>,
) -> AppResult<Response> {
    let patch = TicketPatch {
        status: Some(f.status),
        priority: Some(f.priority),
        assignee_id: Some(f.assignee_id.flatten()),
        project_id: Some(f.project_id.flatten()),
        subject: Some(f.subject),
    };
    st.store.update_ticket(&auth.actor, id, patch, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/tickets/{id}")))
}

/// `POST /staff/tickets/{id}/task`: turns the ticket into a task and opens it.
pub async fn to_task(
    State(st): State<AppState>,
    auth: StaffAuth,
    ClientIp(ip): ClientIp,
    Id(id): Id<TicketId>,
) -> AppResult<Response> {
    let task = st.store.ticket_to_task(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("/staff/tasks/{}", task.id)))
}

/// `GET /staff/inbox/badge`: the navigation's count of unassigned tickets.
pub async fn badge(State(st): State<AppState>, auth: StaffAuth) -> AppResult<Response> {
    let counts = st.store.inbox_counts(&auth.actor).await?;
    Ok(count_badge(counts.unassigned, "unassigned"))
}
