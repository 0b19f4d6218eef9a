//! Project conversations: one shared with the client, one for staff only. Messages are
//! markdown, editable and deletable by their author for a short while, with read receipts.

use std::collections::HashMap;

use atrium_core::ids::{ClientId, MessageId, ProjectId, UserId};
use atrium_core::live::LiveEvent;
use atrium_core::model::{Channel, Message, NotificationKind, ReadReceipt};
use atrium_core::policy::{Actor, PortalPage};
use atrium_core::{Error, Result, markdown};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{message, message_read, project, task};
use crate::notifications::{Notice, Person, Target, excerpt, notify, people_seeing, resolve_mentions};
use crate::paging::{Page, PageRequest, page, page_rows};

/// Unread messages of one project for one person, per channel they can read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unread {
    pub client: u64,
    pub staff: u64,
}

impl Store {
    /// The project (visible to `actor`) and channel (readable by them), or 404.
    async fn conversation(&self, actor: &Actor, project: ProjectId, channel: Channel) -> Result<project::Model> {
        actor.may_read_channel(channel)?;
        // The Messages area's scope: nothing for a client whose portal hides Messages.
        self.visible_project_row(&actor.area_scope(PortalPage::Messages), project).await
    }

    /// A project's messages in `channel`, newest first, with read receipts.
    pub async fn messages(
        &self,
        actor: &Actor,
        project: ProjectId,
        channel: Channel,
        req: PageRequest,
    ) -> Result<Page<Message>> {
        self.conversation(actor, project, channel).await?;
        let q = message::Entity::find()
            .filter(message::Column::ProjectId.eq(project.0))
            .filter(message::Column::Channel.eq(channel.as_str()))
            .filter(message::Column::DeletedAt.is_null());
        let rows = page_rows(&self.db, q, req, message::Column::Id, message::Column::Id).await?;
        let reads = message_read::Entity::find()
            .filter(message_read::Column::ProjectId.eq(project.0))
            .filter(message_read::Column::Channel.eq(channel.as_str()))
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut ids: Vec<UserId> = rows.iter().map(|r| UserId(r.author_id)).collect();
        ids.extend(reads.iter().map(|r| UserId(r.user_id)));
        ids.sort();
        ids.dedup();
        let names = self.names_of(&ids).await?;
        let items = crate::conv::render_all(rows, |r| r.body.len(), move |r| to_message(r, &reads, &names)).await?;
        Ok(page(items, req, |m| m.id.0))
    }

    /// One visible message.
    pub async fn message(&self, actor: &Actor, id: MessageId) -> Result<Message> {
        let (row, ..) = self.message_row(actor, id).await?;
        let names = self.names_of(&[UserId(row.author_id)]).await?;
        to_message(row, &[], &names)
    }

    /// A message the actor may see, with its channel and project.
    async fn message_row(&self, actor: &Actor, id: MessageId) -> Result<(message::Model, Channel, project::Model)> {
        let row = message::Entity::find_by_id(id.0)
            .filter(message::Column::DeletedAt.is_null())
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(Error::NotFound)?;
        let channel = parse::<Channel>("channel", &row.channel)?;
        let p = self.conversation(actor, ProjectId(row.project_id), channel).await?;
        Ok((row, channel, p))
    }

    /// People the actor may mention in a project's channel (or, `internal`, a staff-only
    /// place): everyone who can see it, by name. A client user only ever learns the people on
    /// their own project (SEC-AC-7).
    /// (The task composer asks it too, so it reads the project through the work scope, not the
    /// Messages area's.)
    pub async fn mentionable(&self, actor: &Actor, project: ProjectId, internal: bool) -> Result<Vec<Person>> {
        let channel = if internal { Channel::Staff } else { Channel::Client };
        actor.may_read_channel(channel)?;
        let p = self.visible_project_row(&actor.work_scope(), project).await?;
        let mut people = people_seeing(&self.db, ClientId(p.client_id), internal).await?;
        people.retain(|x| x.id != actor.user_id());
        Ok(people)
    }

    /// Posts a message; notifies mentioned people and the conversation's participants.
    pub async fn create_message(
        &self,
        actor: &Actor,
        project: ProjectId,
        channel: Channel,
        body: String,
        ip: Option<&str>,
    ) -> Result<Message> {
        let p = self.conversation(actor, project, channel).await?;
        actor.may_post_message(channel)?;
        self.hit_post_limit(actor).await?;
        let client = ClientId(p.client_id);
        let internal = channel == Channel::Staff;
        let mentioned = resolve_mentions(&self.db, actor, client, internal, &body).await?;
        let now = Utc::now();
        let id = MessageId::new();
        let tx = self.write_tx().await?;
        let row = message::ActiveModel {
            id: Set(id.0),
            project_id: Set(project.0),
            author_id: Set(actor.user_id().0),
            channel: Set(channel.as_str().into()),
            body: Set(body),
            created_at: Set(now),
            edited_at: Set(None),
            deleted_at: Set(None),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        audit::write(&tx, Some(actor), Entry::message(AuditAction::MessageCreate, id, client, ip)).await?;
        mark_read(&tx, actor.user_id(), project, channel, id).await?;
        let target = Target::Messages(project, channel);
        let quote = excerpt(&row.body);
        let mut created = notify(
            &tx,
            &Notice {
                kind: NotificationKind::Mention,
                client,
                target,
                text: format!("{} mentioned you in “{}”: {quote}", actor.name(), p.name),
            },
            &mentioned.iter().collect::<Vec<_>>(),
        )
        .await?;
        let participants = self.participants(&tx, &p, channel).await?;
        let others: Vec<&Person> = participants
            .iter()
            .filter(|x| x.id != actor.user_id() && !mentioned.iter().any(|m| m.id == x.id))
            .collect();
        let posted = Notice {
            kind: NotificationKind::Message,
            client,
            target,
            text: format!("{} wrote in “{}”: {quote}", actor.name(), p.name),
        };
        created.extend(notify(&tx, &posted, &others).await?);
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::message("created", client, project, id, channel)).await;
        self.announce(created).await;
        let names = HashMap::from([(actor.user_id(), actor.name().to_string())]);
        to_message(row, &[], &names)
    }

    /// Who takes part in a conversation: for the client channel, the client's users who see
    /// projects; on both channels, staff who wrote in this project or have tasks in it (or,
    /// when there are none yet, the owners and admins).
    async fn participants<C: ConnectionTrait>(
        &self,
        c: &C,
        p: &project::Model,
        channel: Channel,
    ) -> Result<Vec<Person>> {
        let internal = channel == Channel::Staff;
        let seeing = people_seeing(c, ClientId(p.client_id), internal).await?;
        let mut involved: Vec<Uuid> = message::Entity::find()
            .select_only()
            .column(message::Column::AuthorId)
            .distinct()
            .filter(message::Column::ProjectId.eq(p.id))
            .into_tuple()
            .all(c)
            .await
            .map_err(db_err)?;
        let assignees: Vec<Option<Uuid>> = task::Entity::find()
            .select_only()
            .column(task::Column::AssigneeId)
            .distinct()
            .filter(task::Column::ProjectId.eq(p.id))
            .into_tuple()
            .all(c)
            .await
            .map_err(db_err)?;
        involved.extend(assignees.into_iter().flatten());
        let staff_involved = seeing.iter().any(|x| x.role.is_staff() && involved.contains(&x.id.0));
        Ok(seeing
            .into_iter()
            .filter(|x| {
                if !x.role.is_staff() {
                    return true;
                }
                if staff_involved {
                    involved.contains(&x.id.0)
                } else {
                    matches!(x.role, atrium_core::model::Role::Owner | atrium_core::model::Role::Admin)
                }
            })
            .collect())
    }

    /// Edits one's own message within the edit window. Mentions are checked again but notify
    /// nobody new.
    pub async fn edit_message(&self, actor: &Actor, id: MessageId, body: String, ip: Option<&str>) -> Result<Message> {
        let (row, channel, p) = self.message_row(actor, id).await?;
        actor.may_change_message(UserId(row.author_id), row.created_at, Utc::now())?;
        self.hit_post_limit(actor).await?;
        let client = ClientId(p.client_id);
        resolve_mentions(&self.db, actor, client, channel == Channel::Staff, &body).await?;
        let tx = self.write_tx().await?;
        let mut am: message::ActiveModel = row.into();
        am.body = Set(body);
        am.edited_at = Set(Some(Utc::now()));
        let row = am.update(&tx).await.map_err(db_err)?;
        audit::write(&tx, Some(actor), Entry::message(AuditAction::MessageEdit, id, client, ip)).await?;
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::message("updated", client, ProjectId(p.id), id, channel)).await;
        let names = HashMap::from([(actor.user_id(), actor.name().to_string())]);
        to_message(row, &[], &names)
    }

    /// Deletes one's own message within the edit window (it disappears for everyone; the audit
    /// log keeps that it existed).
    pub async fn delete_message(&self, actor: &Actor, id: MessageId, ip: Option<&str>) -> Result<()> {
        let (row, channel, p) = self.message_row(actor, id).await?;
        actor.may_change_message(UserId(row.author_id), row.created_at, Utc::now())?;
        let client = ClientId(p.client_id);
        let tx = self.write_tx().await?;
        let mut am: message::ActiveModel = row.into();
        am.deleted_at = Set(Some(Utc::now()));
        am.update(&tx).await.map_err(db_err)?;
        audit::write(&tx, Some(actor), Entry::message(AuditAction::MessageDelete, id, client, ip)).await?;
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::message("deleted", client, ProjectId(p.id), id, channel)).await;
        Ok(())
    }

    /// Records that the actor has read their conversation up to `up_to` (never moves back).
    /// Staff viewing as a client leave no read receipt.
    pub async fn mark_messages_read(&self, actor: &Actor, project: ProjectId, up_to: MessageId) -> Result<()> {
        let (row, channel, p) = self.message_row(actor, up_to).await?;
        if row.project_id != project.0 {
            return Err(Error::invalid("up_to", "is not a message of this project"));
        }
        actor.may_change_own_settings()?;
        let tx = self.write_tx().await?;
        let moved = mark_read(&tx, actor.user_id(), project, channel, up_to).await?;
        tx.commit().await.map_err(db_err)?;
        if moved {
            self.publish(LiveEvent::message("read", ClientId(p.client_id), project, up_to, channel)).await;
        }
        Ok(())
    }

    /// Unread messages (by others) in the client channel of each of `projects` the actor can
    /// see, in one query (the portal's Home). Projects without any are left out.
    pub async fn unread_by_project(&self, actor: &Actor, projects: &[ProjectId]) -> Result<HashMap<ProjectId, u64>> {
        use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, JoinType, Query};
        let scope = actor.area_scope(PortalPage::Messages);
        let visible: Vec<Uuid> = projects.iter().map(|p| p.0).collect();
        let Some(scoped) = crate::scoping::scoped_project_ids(&scope, visible) else { return Ok(HashMap::new()) };
        let me = actor.user_id().0;
        let (m, r) = (message::Entity, message_read::Entity);
        let q = Query::select()
            .column((m, message::Column::ProjectId))
            .expr_as(Expr::col((m, message::Column::Id)).count(), Alias::new("n"))
            .from(m)
            .join(
                JoinType::LeftJoin,
                r,
                Condition::all()
                    .add(Expr::col((r, message_read::Column::UserId)).eq(me))
                    .add(Expr::col((r, message_read::Column::ProjectId)).equals((m, message::Column::ProjectId)))
                    .add(Expr::col((r, message_read::Column::Channel)).equals((m, message::Column::Channel))),
            )
            .and_where(Expr::col((m, message::Column::ProjectId)).in_subquery(scoped))
            .and_where(Expr::col((m, message::Column::Channel)).eq(Channel::Client.as_str()))
            .and_where(Expr::col((m, message::Column::DeletedAt)).is_null())
            .and_where(Expr::col((m, message::Column::AuthorId)).ne(me))
            .cond_where(
                Condition::any()
                    .add(Expr::col((r, message_read::Column::LastReadId)).is_null())
                    .add(Expr::col((m, message::Column::Id)).gt(Expr::col((r, message_read::Column::LastReadId)))),
            )
            .group_by_col((m, message::Column::ProjectId))
            .to_owned();
        let rows = self.db.query_all(&q).await.map_err(db_err)?;
        let mut out = HashMap::new();
        for row in rows {
            let pid: Uuid = row.try_get("", "project_id").map_err(db_err)?;
            let n: i64 = row.try_get("", "n").map_err(db_err)?;
            out.insert(ProjectId(pid), u64::try_from(n).unwrap_or(0));
        }
        Ok(out)
    }

    /// Unread messages (by others) of a visible project for the actor, per readable channel.
    /// None while the actor's client hides Messages.
    pub async fn unread_messages(&self, actor: &Actor, project: ProjectId) -> Result<Unread> {
        let mut out = Unread::default();
        if actor.may_use_area(PortalPage::Messages).is_err() {
            return Ok(out);
        }
        for channel in Channel::ALL {
            if actor.may_read_channel(*channel).is_err() {
                continue;
            }
            let last = message_read::Entity::find()
                .filter(message_read::Column::UserId.eq(actor.user_id().0))
                .filter(message_read::Column::ProjectId.eq(project.0))
                .filter(message_read::Column::Channel.eq(channel.as_str()))
                .one(&self.db)
                .await
                .map_err(db_err)?;
            let mut q = message::Entity::find()
                .filter(message::Column::ProjectId.eq(project.0))
                .filter(message::Column::Channel.eq(channel.as_str()))
                .filter(message::Column::DeletedAt.is_null())
                .filter(message::Column::AuthorId.ne(actor.user_id().0));
            if let Some(l) = last {
                q = q.filter(message::Column::Id.gt(l.last_read_id));
            }
            let n = q.count(&self.db).await.map_err(db_err)?;
            match channel {
                Channel::Client => out.client = n,
                Channel::Staff => out.staff = n,
            }
        }
        Ok(out)
    }
}

/// Moves a read marker forward; returns whether it moved.
async fn mark_read<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    project: ProjectId,
    channel: Channel,
    up_to: MessageId,
) -> Result<bool> {
    let existing = message_read::Entity::find()
        .filter(message_read::Column::UserId.eq(user.0))
        .filter(message_read::Column::ProjectId.eq(project.0))
        .filter(message_read::Column::Channel.eq(channel.as_str()))
        .one(c)
        .await
        .map_err(db_err)?;
    match existing {
        Some(r) if r.last_read_id >= up_to.0 => Ok(false),
        Some(r) => {
            let mut am: message_read::ActiveModel = r.into();
            am.last_read_id = Set(up_to.0);
            am.read_at = Set(Utc::now());
            am.update(c).await.map_err(db_err)?;
            Ok(true)
        }
        None => {
            message_read::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user.0),
                project_id: Set(project.0),
                channel: Set(channel.as_str().into()),
                last_read_id: Set(up_to.0),
                read_at: Set(Utc::now()),
            }
            .insert(c)
            .await
            .map_err(db_err)?;
            Ok(true)
        }
    }
}

fn to_message(r: message::Model, reads: &[message_read::Model], names: &HashMap<UserId, String>) -> Result<Message> {
    let author = UserId(r.author_id);
    let read_by = reads
        .iter()
        .filter(|x| x.user_id != r.author_id && x.last_read_id >= r.id)
        .map(|x| ReadReceipt {
            user_id: UserId(x.user_id),
            name: names.get(&UserId(x.user_id)).cloned().unwrap_or_default(),
            read_at: x.read_at,
        })
        .collect();
    Ok(Message {
        id: r.id.into(),
        project_id: r.project_id.into(),
        author_id: author,
        author_name: names.get(&author).cloned().unwrap_or_default(),
        channel: parse("channel", &r.channel)?,
        body_html: markdown::to_html(&r.body),
        body: r.body,
        created_at: r.created_at,
        edited_at: r.edited_at,
        read_by,
    })
}
