//! Comments on tasks: each a Reply (the client sees it) or an internal Note, with mentions and
//! the notifications they cause. Reads take the policy [`Scope`]; writes the [`Actor`].

use std::collections::HashMap;

use atrium_core::Result;
use atrium_core::ids::TaskId;
use atrium_core::live::LiveEvent;
use atrium_core::model::{Comment, NotificationKind, Visibility};
use atrium_core::policy::{Actor, Scope};
use chrono::Utc;
use sea_orm::sea_query::Query;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::conv;
use crate::db::{Store, db_err};
use crate::entity::{comment, task};
use crate::notifications::{Notice, Person, Target, excerpt, notify, people_seeing, resolve_mentions};
use crate::scoping::scoped_task_condition;

impl Store {
    /// Comments on a visible task, oldest first; notes only when the scope includes them.
    pub async fn comments(&self, scope: &Scope, task: TaskId) -> Result<Vec<Comment>> {
        self.task(scope, task).await?;
        let mut q = comment::Entity::find().filter(comment::Column::TaskId.eq(task.0));
        if !scope.includes_notes() {
            q = q.filter(comment::Column::Visibility.eq(Visibility::Reply.as_str()));
        }
        let rows = q.order_by_asc(comment::Column::Id).all(&self.db).await.map_err(db_err)?;
        conv::render_all(rows, |r| r.body.len(), conv::comment).await
    }

    /// Posts a comment on a visible task.
    pub async fn create_comment(
        &self,
        actor: &Actor,
        task: TaskId,
        body: String,
        visibility: Visibility,
        ip: Option<&str>,
    ) -> Result<Comment> {
        let t = self.task(&actor.work_scope(), task).await?;
        actor.may_comment(visibility)?;
        self.hit_post_limit(actor).await?;
        let internal = visibility == Visibility::Note;
        let mentioned = resolve_mentions(&self.db, actor, t.client_id, internal, &body).await?;
        let creator = task::Entity::find_by_id(task.0).one(&self.db).await.map_err(db_err)?.map(|r| r.created_by);
        let tx = self.write_tx().await?;
        let row = comment::ActiveModel {
            id: Set(Uuid::now_v7()),
            task_id: Set(task.0),
            author_id: Set(actor.user_id().0),
            body: Set(body),
            visibility: Set(visibility.as_str().into()),
            created_at: Set(Utc::now()),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let c = conv::comment(row)?;
        audit::write(
            &tx,
            Some(actor),
            Entry::comment(AuditAction::CommentCreate, c.id, t.client_id, ip)
                .with_detail(serde_json::json!({ "task_id": task, "visibility": visibility })),
        )
        .await?;
        let target = Target::Task(task);
        let quote = excerpt(&c.body);
        let title = &t.task.title;
        let mention = Notice {
            kind: NotificationKind::Mention,
            client: t.client_id,
            target,
            text: format!("{} mentioned you on “{title}”: {quote}", actor.name()),
        };
        let mut created = notify(&tx, &mention, &mentioned.iter().collect::<Vec<_>>()).await?;
        // The task's assignee and creator hear about replies (and, if staff, about notes).
        let seeing = people_seeing(&tx, t.client_id, internal).await?;
        let owners: Vec<&Person> = seeing
            .iter()
            .filter(|p| Some(p.id) == t.task.assignee_id || Some(p.id.0) == creator)
            .filter(|p| p.id != actor.user_id() && !mentioned.iter().any(|m| m.id == p.id))
            .collect();
        let what = if internal { "added a note" } else { "replied" };
        let reply = Notice {
            kind: NotificationKind::TaskReply,
            client: t.client_id,
            target,
            text: format!("{} {what} on “{title}”: {quote}", actor.name()),
        };
        created.extend(notify(&tx, &reply, &owners).await?);
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::comment_created(t.client_id, t.task.project_id, task, c.id, visibility)).await;
        self.announce(created).await;
        Ok(c)
    }

    /// Recent replies and task completions in the scope's projects (the portal's activity feed).
    pub async fn recent_comments(&self, scope: &Scope, limit: u64) -> Result<Vec<(Comment, TaskId, String)>> {
        let Some(cond) = scoped_task_condition(scope) else {
            return Ok(vec![]);
        };
        let task_ids = Query::select().column(task::Column::Id).from(task::Entity).cond_where(cond).to_owned();
        let mut q = comment::Entity::find().filter(comment::Column::TaskId.in_subquery(task_ids));
        if !scope.includes_notes() {
            q = q.filter(comment::Column::Visibility.eq(Visibility::Reply.as_str()));
        }
        let rows = q.order_by_desc(comment::Column::Id).limit(limit).all(&self.db).await.map_err(db_err)?;
        let titles: HashMap<Uuid, String> = task::Entity::find()
            .filter(task::Column::Id.is_in(rows.iter().map(|r| r.task_id).collect::<Vec<_>>()))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|t| (t.id, t.title))
            .collect();
        rows.into_iter()
            .map(|r| {
                let t = TaskId(r.task_id);
                let title = titles.get(&r.task_id).cloned().unwrap_or_default();
                conv::comment(r).map(|c| (c, t, title))
            })
            .collect()
    }
}
