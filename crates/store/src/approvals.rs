//! Approvals: staff ask named client admins to approve a file version or a task deliverable.
//! The approver approves, requests changes (with a comment) or rejects; every step is kept in
//! the approval's history. A new version of a file reopens every review of that file that is
//! not approved (it moves to the new version, status `open`, a `reopened` entry); an approved
//! review keeps its sign-off — who, when, which version and its SHA-256 — which is written once
//! and never changed (a decision on an approved approval is `409`).
//!
//! Reads go through the caller's work scope: a client user sees their client's approvals only,
//! never one about a staff-only or deleted file; finance users see none.

use std::collections::{HashMap, HashSet};

use atrium_core::ids::{ApprovalEventId, ApprovalId, ClientId, FileId, ProjectId, TaskId, UserId};
use atrium_core::live::LiveEvent;
use atrium_core::model::{
    Approval, ApprovalEvent, ApprovalStatus, ApprovalSubject, Decision, NotificationKind, SignOff,
};
use atrium_core::policy::{Actor, ClientFilter, PortalPage, check_approver};
use atrium_core::validate::BODY_MAX;
use atrium_core::{Error, Result};
use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::audit::{self, AuditAction, Entry};
use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{approval, approval_approver, approval_event, file, file_version, task};
use crate::notifications::{Created, Notice, Target, notify, people_seeing};
use crate::scoping::deleted_clients;

/// Most approvers one request may name.
pub const MAX_APPROVERS: usize = 20;

/// A new approval request.
#[derive(Clone, Debug)]
pub struct NewApproval {
    pub subject_type: ApprovalSubject,
    pub subject_id: String,
    pub approver_ids: Vec<UserId>,
    pub due_date: Option<NaiveDate>,
}

fn version_u32(v: Option<i32>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

/// What the subject of a request resolves to.
struct Subject {
    client: ClientId,
    project: ProjectId,
    file: Option<Uuid>,
    task: Option<Uuid>,
    version: Option<i32>,
    name: String,
}

impl Store {
    async fn approval_subject(&self, actor: &Actor, n: &NewApproval) -> Result<Subject> {
        match n.subject_type {
            ApprovalSubject::File => {
                let id: FileId = n.subject_id.parse().map_err(|_| Error::invalid("subject_id", "is not a file id"))?;
                let f = self.file(actor, id).await?;
                if f.deleted_at.is_some() {
                    return Err(Error::invalid("subject_id", "this file is deleted"));
                }
                if f.staff_only {
                    return Err(Error::invalid(
                        "subject_id",
                        "a staff-only file cannot be sent to the client for approval",
                    ));
                }
                let p = self.visible_project_row(&actor.area_scope(PortalPage::Approvals), f.project_id).await?;
                Ok(Subject {
                    client: ClientId(p.client_id),
                    project: f.project_id,
                    file: Some(f.id.0),
                    task: None,
                    version: Some(i32::try_from(f.version).map_err(|_| Error::internal_msg("version"))?),
                    name: f.name,
                })
            }
            ApprovalSubject::Task => {
                let id: TaskId = n.subject_id.parse().map_err(|_| Error::invalid("subject_id", "is not a task id"))?;
                let t = self.task(&actor.area_scope(PortalPage::Approvals), id).await?;
                Ok(Subject {
                    client: t.client_id,
                    project: t.task.project_id,
                    file: None,
                    task: Some(t.task.id.0),
                    version: None,
                    name: t.task.title,
                })
            }
        }
    }

    /// Asks the named client admins to approve a visible file's current version or a task
    /// (staff only). Approvers must be active client admins of the subject's client (422).
    pub async fn request_approval(&self, actor: &Actor, n: NewApproval, ip: Option<&str>) -> Result<Approval> {
        let subject = self.approval_subject(actor, &n).await?;
        actor.may_request_approval()?;
        if let Some(d) = n.due_date
            && !(1..=9999).contains(&d.year())
        {
            return Err(Error::invalid("due_date", "must be a date from 0001-01-01 to 9999-12-31"));
        }
        let mut approvers = n.approver_ids.clone();
        approvers.sort();
        approvers.dedup();
        if approvers.is_empty() {
            return Err(Error::invalid("approver_ids", "name at least one approver"));
        }
        if approvers.len() > MAX_APPROVERS {
            return Err(Error::invalid("approver_ids", format!("name at most {MAX_APPROVERS} approvers")));
        }
        for a in &approvers {
            let acc = crate::people::account_by_id(&self.db, *a)
                .await?
                .filter(|a| a.user.active)
                .ok_or_else(|| Error::invalid("approver_ids", "no such user"))?;
            check_approver(subject.client, acc.user.role, acc.user.client_id)?;
        }
        let now = Utc::now();
        let id = ApprovalId::new();
        let tx = self.write_tx().await?;
        approval::ActiveModel {
            id: Set(id.0),
            client_id: Set(subject.client.0),
            project_id: Set(subject.project.0),
            subject_type: Set(n.subject_type.as_str().into()),
            file_id: Set(subject.file),
            task_id: Set(subject.task),
            version: Set(subject.version),
            status: Set(ApprovalStatus::Open.as_str().into()),
            due_date: Set(n.due_date),
            requested_by: Set(actor.user_id().0),
            created_at: Set(now),
            updated_at: Set(now),
            signed_by: Set(None),
            signed_at: Set(None),
            signed_version: Set(None),
            signed_sha256: Set(None),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        for a in &approvers {
            approval_approver::ActiveModel { id: Set(Uuid::now_v7()), approval_id: Set(id.0), user_id: Set(a.0) }
                .insert(&tx)
                .await
                .map_err(db_err)?;
        }
        add_event(&tx, id, actor.user_id(), "requested", subject.version, String::new()).await?;
        let detail = serde_json::json!({
            "subject_type": n.subject_type, "subject_id": n.subject_id, "version": subject.version,
            "approver_ids": approvers,
        });
        audit::write(
            &tx,
            Some(actor),
            Entry::approval(AuditAction::ApprovalRequest, id, subject.client, ip).with_detail(detail),
        )
        .await?;
        let text = format!("{} asks you to approve {}", actor.name(), subject.name);
        let created = notify_approvers(&tx, actor, subject.client, id, &approvers, text).await?;
        if let Some(a) = approval::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)? {
            crate::automation_fire::on_approval(&tx, self.now(), &a, false).await?;
        }
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::approval_updated(subject.client, subject.project, id)).await;
        self.announce(created).await;
        self.approval(actor, id).await
    }

    /// One approval the actor can see.
    pub async fn approval(&self, actor: &Actor, id: ApprovalId) -> Result<Approval> {
        let row = approval::Entity::find_by_id(id.0).one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        self.visible_project_row(&actor.area_scope(PortalPage::Approvals), ProjectId(row.project_id)).await?;
        self.build(actor, vec![row]).await?.pop().ok_or(Error::NotFound)
    }

    /// The approvals the actor can see, newest first, optionally of one status: staff see all,
    /// a client user their client's (finance users none).
    pub async fn approvals(&self, actor: &Actor, status: Option<ApprovalStatus>) -> Result<Vec<Approval>> {
        let scope = actor.area_scope(PortalPage::Approvals);
        let mut q = approval::Entity::find().filter(approval::Column::ClientId.not_in_subquery(deleted_clients()));
        match scope.clients() {
            ClientFilter::All => {}
            ClientFilter::Only(c) => q = q.filter(approval::Column::ClientId.eq(c.0)),
            ClientFilter::Nothing => return Ok(vec![]),
        }
        if let Some(s) = status {
            q = q.filter(approval::Column::Status.eq(s.as_str()));
        }
        let rows = q.order_by_desc(approval::Column::Id).all(&self.db).await.map_err(db_err)?;
        self.build(actor, rows).await
    }

    /// The approvals of one file the actor can see, newest first.
    pub async fn approvals_of_file(&self, actor: &Actor, file: FileId) -> Result<Vec<Approval>> {
        let f = self.file(actor, file).await?;
        let rows = approval::Entity::find()
            .filter(approval::Column::FileId.eq(f.id.0))
            .order_by_desc(approval::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        self.build(actor, rows).await
    }

    /// What is waiting on the actor: for a client user the open approvals naming them (their
    /// Home's outstanding tasks); for staff the open approvals they requested (My work).
    pub async fn approvals_for_user_open(&self, actor: &Actor) -> Result<Vec<Approval>> {
        let me = actor.user_id();
        let staff = actor.is_staff();
        Ok(self
            .approvals(actor, Some(ApprovalStatus::Open))
            .await?
            .into_iter()
            .filter(|a| if staff { a.requested_by == me } else { a.approver_ids.contains(&me) })
            .collect())
    }

    /// Records a named approver's decision. `changes_requested` needs a comment; an approved
    /// approval is final (409) and its sign-off is written here, once.
    pub async fn decide(
        &self,
        actor: &Actor,
        id: ApprovalId,
        decision: Decision,
        comment: Option<String>,
        ip: Option<&str>,
    ) -> Result<Approval> {
        let current = self.approval(actor, id).await?;
        actor.may_decide(&current.approver_ids)?;
        let comment = atrium_core::validate::optional_text("comment", &comment.unwrap_or_default(), BODY_MAX)?;
        if decision == Decision::ChangesRequested && comment.is_empty() {
            return Err(Error::invalid("comment", "say what should change"));
        }
        let now = Utc::now();
        let tx = self.write_tx().await?;
        let row = approval::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let mut update = approval::Entity::update_many()
            .col_expr(approval::Column::Status, Expr::value(decision.status().as_str()))
            .col_expr(approval::Column::UpdatedAt, Expr::value(now));
        if decision == Decision::Approved {
            let sha = match row.file_id {
                Some(f) => Some(version_sha(&tx, f, row.version).await?),
                None => None,
            };
            update = update
                .col_expr(approval::Column::SignedBy, Expr::value(actor.user_id().0))
                .col_expr(approval::Column::SignedAt, Expr::value(now))
                .col_expr(approval::Column::SignedVersion, Expr::value(row.version))
                .col_expr(approval::Column::SignedSha256, Expr::value(sha));
        }
        // The sign-off is never rewritten: only a row not yet approved is updated.
        let done = update
            .filter(approval::Column::Id.eq(id.0))
            .filter(approval::Column::Status.ne(ApprovalStatus::Approved.as_str()))
            .filter(approval::Column::SignedBy.is_null())
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected != 1 {
            return Err(Error::Conflict("this approval is signed off and can no longer change".into()));
        }
        add_event(&tx, id, actor.user_id(), decision.as_str(), row.version, comment.clone()).await?;
        let detail = serde_json::json!({ "decision": decision, "version": row.version });
        audit::write(
            &tx,
            Some(actor),
            Entry::approval(AuditAction::ApprovalDecide, id, ClientId(row.client_id), ip).with_detail(detail),
        )
        .await?;
        let verb = match decision {
            Decision::Approved => "approved",
            Decision::ChangesRequested => "asked for changes to",
            Decision::Rejected => "rejected",
        };
        let mut text = format!("{} {verb} {}", actor.name(), current.subject_name);
        if !comment.is_empty() {
            text.push_str(&format!(": {comment}"));
        }
        let created = notify_requester(&tx, ClientId(row.client_id), id, UserId(row.requested_by), text).await?;
        if let Some(a) = approval::Entity::find_by_id(id.0).one(&tx).await.map_err(db_err)? {
            crate::automation_fire::on_approval(&tx, self.now(), &a, true).await?;
        }
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::approval_updated(ClientId(row.client_id), ProjectId(row.project_id), id)).await;
        self.announce(created).await;
        self.approval(actor, id).await
    }

    /// Assembles approvals from rows, dropping those whose subject the actor cannot see (a
    /// staff-only or deleted file for a client user).
    async fn build(&self, actor: &Actor, rows: Vec<approval::Model>) -> Result<Vec<Approval>> {
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let internal = actor.area_scope(PortalPage::Approvals).includes_notes();
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let file_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.file_id).collect();
        let task_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.task_id).collect();
        let files: HashMap<Uuid, file::Model> = file::Entity::find()
            .filter(file::Column::Id.is_in(file_ids.clone()))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|f| (f.id, f))
            .collect();
        let versions: HashMap<(Uuid, i32), String> = file_version::Entity::find()
            .filter(file_version::Column::FileId.is_in(file_ids))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|v| ((v.file_id, v.version), v.sha256))
            .collect();
        let tasks: HashMap<Uuid, String> = task::Entity::find()
            .filter(task::Column::Id.is_in(task_ids))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|t| (t.id, t.title))
            .collect();
        let approvers = approval_approver::Entity::find()
            .filter(approval_approver::Column::ApprovalId.is_in(ids.clone()))
            .order_by_asc(approval_approver::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let events = approval_event::Entity::find()
            .filter(approval_event::Column::ApprovalId.is_in(ids))
            .order_by_asc(approval_event::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut people: HashSet<UserId> = events.iter().map(|e| UserId(e.user_id)).collect();
        people.extend(rows.iter().filter_map(|r| r.signed_by.map(UserId)));
        let names = self.names_of(&people.into_iter().collect::<Vec<_>>()).await?;
        let name_of = |u: UserId| names.get(&u).cloned().unwrap_or_default();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let (subject_type, subject_id, subject_name) = match (r.file_id, r.task_id) {
                (Some(f), _) => {
                    let Some(fm) = files.get(&f) else { continue };
                    if !internal && (fm.staff_only || fm.deleted_at.is_some()) {
                        continue;
                    }
                    (ApprovalSubject::File, f.to_string(), fm.name.clone())
                }
                (None, Some(t)) => {
                    let Some(title) = tasks.get(&t) else { continue };
                    (ApprovalSubject::Task, t.to_string(), title.clone())
                }
                (None, None) => return Err(Error::internal_msg(format!("approval {} without subject", r.id))),
            };
            let sha256 = r.file_id.and_then(|f| r.version.and_then(|v| versions.get(&(f, v)).cloned()));
            let history = events
                .iter()
                .filter(|e| e.approval_id == r.id)
                .map(|e| ApprovalEvent {
                    at: e.created_at,
                    user_id: UserId(e.user_id),
                    user_name: name_of(UserId(e.user_id)),
                    action: e.action.clone(),
                    version: version_u32(e.version),
                    comment: e.comment.clone(),
                })
                .collect();
            let sign_off = match (r.signed_by, r.signed_at) {
                (Some(u), Some(at)) => Some(SignOff {
                    user_id: UserId(u),
                    name: name_of(UserId(u)),
                    at,
                    version: version_u32(r.signed_version),
                    sha256: r.signed_sha256.clone(),
                }),
                _ => None,
            };
            out.push(Approval {
                id: ApprovalId(r.id),
                client_id: ClientId(r.client_id),
                project_id: ProjectId(r.project_id),
                subject_type,
                subject_id,
                subject_name,
                version: version_u32(r.version),
                sha256,
                approver_ids: approvers.iter().filter(|a| a.approval_id == r.id).map(|a| UserId(a.user_id)).collect(),
                status: parse("approval status", &r.status)?,
                due_date: r.due_date,
                requested_by: UserId(r.requested_by),
                created_at: r.created_at,
                history,
                sign_off,
            });
        }
        Ok(out)
    }
}

/// SHA-256 of a file's version.
async fn version_sha<C: ConnectionTrait>(c: &C, file: Uuid, version: Option<i32>) -> Result<String> {
    let v = version.ok_or_else(|| Error::internal_msg("file approval without version"))?;
    file_version::Entity::find()
        .filter(file_version::Column::FileId.eq(file))
        .filter(file_version::Column::Version.eq(v))
        .one(c)
        .await
        .map_err(db_err)?
        .map(|v| v.sha256)
        .ok_or_else(|| Error::internal_msg(format!("file {file} without version {v}")))
}

async fn add_event<C: ConnectionTrait>(
    c: &C,
    approval: ApprovalId,
    user: UserId,
    action: &str,
    version: Option<i32>,
    comment: String,
) -> Result<()> {
    approval_event::ActiveModel {
        id: Set(ApprovalEventId::new().0),
        approval_id: Set(approval.0),
        user_id: Set(user.0),
        action: Set(action.into()),
        version: Set(version),
        comment: Set(comment),
        created_at: Set(Utc::now()),
    }
    .insert(c)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Notifies the approvers who can (still) see the client's work.
async fn notify_approvers<C: ConnectionTrait>(
    c: &C,
    actor: &Actor,
    client: ClientId,
    id: ApprovalId,
    approvers: &[UserId],
    text: String,
) -> Result<Created> {
    let seeing = people_seeing(c, client, false).await?;
    let recipients: Vec<_> = seeing.iter().filter(|p| approvers.contains(&p.id) && p.id != actor.user_id()).collect();
    let notice = Notice { kind: NotificationKind::ApprovalRequested, client, target: Target::Approval(id), text };
    notify(c, &notice, &recipients).await
}

/// Tells the staff member who asked for an approval about a decision, if they still work here.
async fn notify_requester<C: ConnectionTrait>(
    c: &C,
    client: ClientId,
    id: ApprovalId,
    requester: UserId,
    text: String,
) -> Result<Created> {
    let seeing = people_seeing(c, client, true).await?;
    let recipients: Vec<_> = seeing.iter().filter(|p| p.id == requester).collect();
    let notice = Notice { kind: NotificationKind::ApprovalDecided, client, target: Target::Approval(id), text };
    notify(c, &notice, &recipients).await
}

/// A new version of a file reopens its reviews that are not approved: each moves to `version`,
/// becomes `open` again with a `reopened` entry, and its approvers are told. Approved ones keep
/// their sign-off on the version they approved. Runs in the upload's transaction; returns what
/// to announce after the commit.
pub(crate) async fn reopen_for_new_version<C: ConnectionTrait>(
    c: &C,
    actor: &Actor,
    file: &file::Model,
    version: i32,
) -> Result<(Vec<LiveEvent>, Created)> {
    let rows = approval::Entity::find()
        .filter(approval::Column::FileId.eq(file.id))
        .filter(approval::Column::Status.ne(ApprovalStatus::Approved.as_str()))
        .filter(approval::Column::SignedBy.is_null())
        .all(c)
        .await
        .map_err(db_err)?;
    let mut events = Vec::new();
    let mut created = Created::default();
    for r in rows {
        let id = ApprovalId(r.id);
        let client = ClientId(r.client_id);
        let mut am: approval::ActiveModel = r.clone().into();
        am.version = Set(Some(version));
        am.status = Set(ApprovalStatus::Open.as_str().into());
        am.updated_at = Set(Utc::now());
        am.update(c).await.map_err(db_err)?;
        add_event(c, id, actor.user_id(), "reopened", Some(version), String::new()).await?;
        let approvers: Vec<UserId> = approval_approver::Entity::find()
            .filter(approval_approver::Column::ApprovalId.eq(r.id))
            .all(c)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|a| UserId(a.user_id))
            .collect();
        if !file.staff_only {
            let text = format!("Version {version} of {} is ready for your approval", file.name);
            created.extend(notify_approvers(c, actor, client, id, &approvers, text).await?);
        }
        events.push(LiveEvent::approval_updated(client, ProjectId(r.project_id), id));
    }
    Ok((events, created))
}
