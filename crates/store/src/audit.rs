//! The append-only audit log (SEC-DATA-1): who, as whom, did what, when, from where.
//! Only inserts and reads exist; nothing updates or deletes a row.

use atrium_core::Result;
use atrium_core::ids::ClientId;
use atrium_core::policy::Actor;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::db::{Store, db_err};
use crate::entity::audit;
use crate::paging::{Page, PageRequest, page, page_rows};

/// One thing that happened.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    /// What was done, e.g. `task.update`.
    pub action: &'static str,
    /// The kind of thing it was done to.
    pub subject_type: &'static str,
    /// Its id.
    pub subject_id: Option<String>,
    /// The client it belongs to, if any.
    pub client_id: Option<ClientId>,
    /// Free-form detail (JSON); never secrets.
    pub detail: serde_json::Value,
    /// The caller's address.
    pub ip: Option<&'a str>,
}

/// A stored audit row.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Record {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// Who did it (for "view as", the staff member).
    pub actor_id: Option<Uuid>,
    /// Whom they acted as, if anyone.
    pub via_user_id: Option<Uuid>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<String>,
    pub client_id: Option<Uuid>,
    pub ip: Option<String>,
    pub detail: String,
}

impl From<audit::Model> for Record {
    fn from(r: audit::Model) -> Self {
        Record {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id,
            via_user_id: r.via_user_id,
            action: r.action,
            subject_type: r.subject_type,
            subject_id: r.subject_id,
            client_id: r.client_id,
            ip: r.ip,
            detail: r.detail,
        }
    }
}

pub(crate) async fn write<C: ConnectionTrait>(c: &C, actor: Option<&Actor>, e: Entry<'_>) -> Result<()> {
    audit::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        actor_id: Set(actor.map(|a| a.viewing_staff().unwrap_or(a.user_id()).0)),
        via_user_id: Set(actor.and_then(|a| a.viewing_staff().map(|_| a.user_id().0))),
        action: Set(e.action.to_string()),
        subject_type: Set(e.subject_type.to_string()),
        subject_id: Set(e.subject_id),
        client_id: Set(e.client_id.map(|c| c.0)),
        ip: Set(e.ip.map(|s| s.chars().take(64).collect())),
        detail: Set(e.detail.to_string()),
    }
    .insert(c)
    .await
    .map_err(db_err)?;
    Ok(())
}

impl Store {
    /// Appends an entry made on behalf of `actor` (or of nobody, for anonymous events).
    pub async fn audit(&self, actor: Option<&Actor>, e: Entry<'_>) -> Result<()> {
        write(&self.db, actor, e).await
    }

    /// The most recent entries, newest first (staff tooling and tests).
    pub async fn audit_recent(&self, limit: u64) -> Result<Vec<Record>> {
        let rows =
            audit::Entity::find().order_by_desc(audit::Column::Id).limit(limit).all(&self.db).await.map_err(db_err)?;
        Ok(rows.into_iter().map(Record::from).collect())
    }

    /// The activity log as `actor` may read it (owners and admins), newest first, optionally of
    /// one client.
    pub async fn audit_log(&self, actor: &Actor, client: Option<ClientId>, req: PageRequest) -> Result<Page<Record>> {
        actor.may_read_audit()?;
        let mut q = audit::Entity::find();
        if let Some(c) = client {
            q = q.filter(audit::Column::ClientId.eq(c.0));
        }
        let rows = page_rows(&self.db, q, req, audit::Column::Id, audit::Column::Id).await?;
        Ok(page(rows.into_iter().map(Record::from).collect(), req, |r| r.id))
    }
}
