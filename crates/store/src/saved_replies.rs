//! The staff's saved replies: one library shared by all staff (any of them adds, edits and
//! deletes; [`Actor::may_use_saved_replies`], so client users get 404), every change audited in
//! its transaction.

use atrium_core::ids::{SavedReplyId, UserId};
use atrium_core::policy::Actor;
use atrium_core::saved_reply::{self, LIBRARY_MAX, SavedReply};
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryOrder, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::saved_reply as row;

/// A change to a saved reply: only the parts given change.
#[derive(Clone, Debug, Default)]
pub struct SavedReplyPatch {
    pub title: Option<String>,
    pub body: Option<String>,
}

fn of_row(r: row::Model) -> SavedReply {
    SavedReply {
        id: r.id.into(),
        title: r.title,
        body: r.body,
        created_by: UserId(r.created_by),
        updated_by: UserId(r.updated_by),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

impl Store {
    /// Every saved reply, by title (staff; client users 404).
    pub async fn saved_replies(&self, actor: &Actor) -> Result<Vec<SavedReply>> {
        actor.may_use_saved_replies()?;
        let rows = row::Entity::find()
            .order_by_asc(row::Column::Title)
            .order_by_asc(row::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(of_row).collect())
    }

    /// One saved reply (staff).
    pub async fn saved_reply(&self, actor: &Actor, id: SavedReplyId) -> Result<SavedReply> {
        actor.may_use_saved_replies()?;
        let r = row::Entity::find_by_id(id.0).one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        Ok(of_row(r))
    }

    /// Adds a saved reply (staff); 422 `title` / `body` for a bad value.
    pub async fn create_saved_reply(
        &self,
        actor: &Actor,
        title: &str,
        body: &str,
        ip: Option<&str>,
    ) -> Result<SavedReply> {
        actor.may_use_saved_replies()?;
        let (title, body) = (saved_reply::title(title)?, saved_reply::body(body)?);
        let tx = self.write_tx().await?;
        if row::Entity::find().count(&tx).await.map_err(db_err)? >= LIBRARY_MAX as u64 {
            return Err(Error::invalid("title", format!("the library holds at most {LIBRARY_MAX} saved replies")));
        }
        let (id, now, by) = (SavedReplyId::new(), Utc::now(), actor.user_id().0);
        let saved = row::ActiveModel {
            id: Set(id.0),
            title: Set(title),
            body: Set(body),
            created_by: Set(by),
            updated_by: Set(by),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let detail = serde_json::json!({ "title": saved.title });
        audit::write(&tx, Some(actor), Entry::saved_reply(AuditAction::SavedReplyCreate, id, ip).with_detail(detail))
            .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(of_row(saved))
    }

    /// Changes a saved reply's title or body (staff).
    pub async fn update_saved_reply(
        &self,
        actor: &Actor,
        id: SavedReplyId,
        p: SavedReplyPatch,
        ip: Option<&str>,
    ) -> Result<SavedReply> {
        actor.may_use_saved_replies()?;
        let title = p.title.as_deref().map(saved_reply::title).transpose()?;
        let body = p.body.as_deref().map(saved_reply::body).transpose()?;
        let tx = self.write_tx().await?;
        let r = row::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let mut am: row::ActiveModel = r.into();
        let mut changed = Vec::new();
        if let Some(t) = title {
            am.title = Set(t);
            changed.push("title");
        }
        if let Some(b) = body {
            am.body = Set(b);
            changed.push("body");
        }
        am.updated_by = Set(actor.user_id().0);
        am.updated_at = Set(Utc::now());
        let saved = am.update(&tx).await.map_err(db_err)?;
        let detail = serde_json::json!({ "title": saved.title, "changed": changed });
        audit::write(&tx, Some(actor), Entry::saved_reply(AuditAction::SavedReplyUpdate, id, ip).with_detail(detail))
            .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(of_row(saved))
    }

    /// Deletes a saved reply (staff).
    pub async fn delete_saved_reply(&self, actor: &Actor, id: SavedReplyId, ip: Option<&str>) -> Result<()> {
        actor.may_use_saved_replies()?;
        let tx = self.write_tx().await?;
        let r = row::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        row::Entity::delete_by_id(r.id).exec(&tx).await.map_err(db_err)?;
        let detail = serde_json::json!({ "title": r.title });
        audit::write(&tx, Some(actor), Entry::saved_reply(AuditAction::SavedReplyDelete, id, ip).with_detail(detail))
            .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }
}
