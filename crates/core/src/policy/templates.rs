//! Who keeps the project templates: staff (one library shared by all of them; client users
//! never learn it exists, so 404) and who a template's task may name as its assignee.

use super::Actor;
use crate::model::Role;
use crate::{Error, Result};

impl Actor {
    /// List, read, add, change, copy and delete project templates, make a project from one or
    /// save a project as one: staff acting as themselves; client users (and "View as client")
    /// get 404.
    pub fn may_use_templates(&self) -> Result<()> {
        self.staff_or(Error::NotFound)
    }
}

/// Who a template may name as a task's assignee: an active staff member (a template serves
/// every client, so never one client's user; checked by the store, which loads the person).
pub fn check_template_assignee(field: String, role: Role) -> Result<()> {
    if role.is_staff() {
        Ok(())
    } else {
        Err(Error::invalid(field, "must be a staff member (a template serves every client)"))
    }
}
