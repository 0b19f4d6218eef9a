//! The scope conditions shared by the query modules: projects and tasks limited to the
//! policy scope's clients, never those of a soft-deleted client. A leaf: it imports no other
//! query module.

use atrium_core::policy::{ClientFilter, Scope};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Select};
use uuid::Uuid;

use crate::entity::{client, project, task};

/// The ids among `ids` of projects the scope can see, as a subquery; `None` when it sees none.
pub(crate) fn scoped_project_ids(scope: &Scope, ids: Vec<Uuid>) -> Option<sea_orm::sea_query::SelectStatement> {
    let q = scoped_projects(scope, project::Entity::find().filter(project::Column::Id.is_in(ids)))?;
    Some(sea_orm::QueryTrait::into_query(q.select_only().column(project::Column::Id)))
}

/// Restricts a project query to the scope's clients; `None` means the scope sees nothing.
pub(crate) fn scoped_projects(scope: &Scope, q: Select<project::Entity>) -> Option<Select<project::Entity>> {
    // A deleted client's projects are gone for everyone, staff included, until it is restored.
    let q = q.filter(project::Column::ClientId.not_in_subquery(deleted_clients()));
    match scope.clients() {
        ClientFilter::All => Some(q),
        ClientFilter::Only(c) => Some(q.filter(project::Column::ClientId.eq(c.0))),
        ClientFilter::Nothing => None,
    }
}

/// The ids of soft-deleted clients.
pub(crate) fn deleted_clients() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(client::Column::Id)
        .from(client::Entity)
        .and_where(client::Column::DeletedAt.is_not_null())
        .to_owned()
}

/// A condition on `tasks.project_id` limiting tasks to the scope's projects (never those of a
/// deleted client).
pub(crate) fn scoped_task_condition(scope: &Scope) -> Option<Condition> {
    let mut projects = Query::select()
        .column(project::Column::Id)
        .from(project::Entity)
        .and_where(project::Column::ClientId.not_in_subquery(deleted_clients()))
        .to_owned();
    match scope.clients() {
        ClientFilter::All => {}
        ClientFilter::Only(c) => {
            projects.and_where(project::Column::ClientId.eq(c.0));
        }
        ClientFilter::Nothing => return None,
    }
    Some(Condition::all().add(task::Column::ProjectId.in_subquery(projects)))
}
