//! Who may be chosen for something: the people a task may be assigned to and the people who may
//! be asked to approve. The choice is the policy's ([`policy::check_assignee`],
//! [`policy::check_approver`]); pages list exactly the people the store would accept.

use atrium_core::ids::ClientId;
use atrium_core::model::User;
use atrium_core::policy::{self, Actor};
use atrium_core::{Error, Result};

use crate::db::Store;

impl Store {
    /// The active people a task of `client`'s project may be assigned to (staff and that client's
    /// users), for staff; anyone else gets 404.
    pub async fn assignee_candidates(&self, actor: &Actor, client: ClientId) -> Result<Vec<User>> {
        actor.may_manage_work().map_err(|_| Error::NotFound)?;
        let mut people = self.staff_users(actor).await?;
        people.extend(self.client_users(&actor.client_scope(), client).await?);
        people.retain(|u| u.active && policy::check_assignee(client, u.role, u.client_id).is_ok());
        Ok(people)
    }

    /// The active people who may be asked to approve something of `client` (its client admins),
    /// for staff who may request approvals; anyone else gets 404.
    pub async fn approver_candidates(&self, actor: &Actor, client: ClientId) -> Result<Vec<User>> {
        actor.may_request_approval().map_err(|_| Error::NotFound)?;
        let mut people = self.client_users(&actor.client_scope(), client).await?;
        people.retain(|u| u.active && policy::check_approver(client, u.role, u.client_id).is_ok());
        Ok(people)
    }
}
