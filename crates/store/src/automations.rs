//! The agency's automation rules: list, add, change, switch and delete them, read their runs
//! (owners and admins, [`Actor::may_manage_automations`]; other staff 403, client users 404).
//! Every change raises the rule's version and cancels its pending runs in the same
//! transaction, so a rule edited or switched off never does what it was about to do. Firing is
//! `automation_fire` (the changes) and `automation_sweep` (the clock); running is
//! `automation_runs`.

use atrium_core::automation::{
    Action, Automation, AutomationRun, Builtin, BuiltinSettings, Conditions, RULES_MAX, RuleContent, RunOutcome,
    Trigger,
};
use atrium_core::ids::{AutomationId, AutomationRunId};
use atrium_core::policy::Actor;
use atrium_core::validate::NAME_MAX;
use atrium_core::{Error, Result, validate};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::{automation as row, automation_run as run_row, client, project};
use crate::people::account_by_id;

/// The most runs the log returns (newest first).
pub const RUNS_SHOWN: u64 = 200;

/// The stored rule of one of the agency's own rules.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredRule {
    pub trigger: Trigger,
    #[serde(default)]
    pub conditions: Conditions,
    pub actions: Vec<Action>,
}

/// The stored settings of a ready-made rule.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct StoredBuiltin {
    #[serde(default)]
    pub settings: BuiltinSettings,
}

/// A rule as the evaluators read it.
#[derive(Clone, Debug)]
pub(crate) enum Loaded {
    /// One of the agency's own.
    Own(StoredRule),
    /// A ready-made rule.
    Builtin(Builtin, BuiltinSettings),
}

/// Decodes a stored rule.
pub(crate) fn loaded(r: &row::Model) -> Result<Loaded> {
    match &r.builtin {
        Some(b) => {
            let b: Builtin = b.parse().map_err(|e: String| Error::internal("stored ready-made rule", e))?;
            let s: StoredBuiltin = serde_json::from_str(&r.rule).map_err(|e| Error::internal("stored rule", e))?;
            Ok(Loaded::Builtin(b, s.settings))
        }
        None => Ok(Loaded::Own(serde_json::from_str(&r.rule).map_err(|e| Error::internal("stored rule", e))?)),
    }
}

fn of_row(r: row::Model) -> Result<Automation> {
    let l = loaded(&r)?;
    let mut a = Automation {
        id: r.id.into(),
        name: r.name,
        enabled: r.enabled,
        builtin: None,
        description: None,
        settings: None,
        trigger: None,
        conditions: None,
        actions: None,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    };
    match l {
        Loaded::Own(s) => {
            a.trigger = Some(s.trigger);
            a.conditions = Some(s.conditions);
            a.actions = Some(s.actions);
        }
        Loaded::Builtin(b, s) => {
            a.builtin = Some(b);
            a.description = Some(b.describe(&s));
            a.settings = Some(s);
        }
    }
    Ok(a)
}

fn run_of(r: run_row::Model) -> Result<AutomationRun> {
    Ok(AutomationRun {
        id: AutomationRunId(r.id),
        subject_type: r.subject_type.parse().map_err(|e: String| Error::internal("stored run", e))?,
        subject_id: r.subject_id,
        step: r.step,
        fired_at: r.fired_at,
        outcome: r.outcome.parse().map_err(|e: String| Error::internal("stored run", e))?,
        detail: r.detail,
    })
}

/// A change to a rule: each part given replaces that part. A ready-made rule takes only
/// `enabled` and `settings`.
#[derive(Clone, Debug, Default)]
pub struct AutomationPatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub trigger: Option<Trigger>,
    pub conditions: Option<Conditions>,
    pub actions: Option<Vec<Action>>,
    pub settings: Option<BuiltinSettings>,
}

/// `content` checked, with the client, project and people it names existing (422 naming the
/// field otherwise).
async fn checked<C: ConnectionTrait>(c: &C, content: RuleContent) -> Result<RuleContent> {
    let content = content.check()?;
    if let Some(id) = content.conditions.client_id {
        let found = client::Entity::find_by_id(id.0).one(c).await.map_err(db_err)?;
        if found.is_none_or(|r| r.deleted_at.is_some()) {
            return Err(Error::invalid("conditions.client_id", "no such client"));
        }
    }
    if let Some(id) = content.conditions.project_id {
        let found = project::Entity::find_by_id(id.0).one(c).await.map_err(db_err)?;
        match found {
            None => return Err(Error::invalid("conditions.project_id", "no such project")),
            Some(p) if content.conditions.client_id.is_some_and(|c| c.0 != p.client_id) => {
                return Err(Error::invalid("conditions.project_id", "is not a project of that client"));
            }
            Some(_) => {}
        }
    }
    for (field, person, staff_only) in content.people() {
        let acc = account_by_id(c, person)
            .await?
            .filter(|a| a.user.active)
            .ok_or_else(|| Error::invalid(field.clone(), "no such user"))?;
        if staff_only && !acc.user.role.is_staff() {
            return Err(Error::invalid(field, "staff notifications go to staff members"));
        }
    }
    Ok(content)
}

fn rule_json(c: &RuleContent) -> Result<String> {
    let s = StoredRule { trigger: c.trigger.clone(), conditions: c.conditions.clone(), actions: c.actions.clone() };
    serde_json::to_string(&s).map_err(|e| Error::internal("automation rule", e))
}

pub(crate) async fn rule_row<C: ConnectionTrait>(c: &C, id: AutomationId) -> Result<row::Model> {
    row::Entity::find_by_id(id.0).one(c).await.map_err(db_err)?.ok_or(Error::NotFound)
}

/// Cancels the pending runs of a rule (it was edited, switched off or deleted).
async fn cancel_pending<C: ConnectionTrait>(
    c: &C,
    id: AutomationId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    let r = run_row::Entity::update_many()
        .col_expr(run_row::Column::Outcome, Expr::value(RunOutcome::Cancelled.as_str()))
        .col_expr(run_row::Column::Detail, Expr::value("the rule was changed before this run"))
        .col_expr(run_row::Column::FinishedAt, Expr::value(now))
        .filter(run_row::Column::AutomationId.eq(id.0))
        .filter(run_row::Column::Outcome.eq(RunOutcome::Pending.as_str()))
        .exec(c)
        .await
        .map_err(db_err)?;
    Ok(r.rows_affected)
}

impl Store {
    /// Every rule: the ready-made ones first, then the agency's own by name.
    pub async fn automations(&self, actor: &Actor) -> Result<Vec<Automation>> {
        actor.may_manage_automations()?;
        let rows = row::Entity::find()
            .order_by_asc(row::Column::Name)
            .order_by_asc(row::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        let mut out: Vec<Automation> = rows.into_iter().map(of_row).collect::<Result<_>>()?;
        // Ready-made first, in their own order.
        out.sort_by_key(|a| {
            a.builtin.map_or(Builtin::ALL.len(), |b| Builtin::ALL.iter().position(|x| *x == b).unwrap_or(0))
        });
        Ok(out)
    }

    /// One rule.
    pub async fn automation(&self, actor: &Actor, id: AutomationId) -> Result<Automation> {
        actor.may_manage_automations()?;
        rule_row(&self.db, id).await.and_then(of_row)
    }

    /// Adds a rule (at most [`RULES_MAX`]: 422 `name` beyond); 422 naming the field for a bad
    /// value.
    pub async fn create_automation(&self, actor: &Actor, content: RuleContent, ip: Option<&str>) -> Result<Automation> {
        actor.may_manage_automations()?;
        let content = checked(&self.db, content).await?;
        let json = rule_json(&content)?;
        let tx = self.write_tx().await?;
        if row::Entity::find().count(&tx).await.map_err(db_err)? >= RULES_MAX as u64 {
            return Err(Error::invalid("name", format!("at most {RULES_MAX} rules")));
        }
        let (id, now) = (AutomationId::new(), self.now());
        let saved = row::ActiveModel {
            id: Set(id.0),
            builtin: Set(None),
            name: Set(content.name.clone()),
            enabled: Set(content.enabled),
            trigger_kind: Set(content.trigger.kind().as_str().into()),
            rule: Set(json),
            version: Set(1),
            updated_by: Set(Some(actor.user_id().0)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&tx)
        .await
        .map_err(db_err)?;
        let detail = serde_json::json!({ "name": saved.name, "trigger": saved.trigger_kind, "enabled": saved.enabled });
        audit::write(&tx, Some(actor), Entry::automation(AuditAction::AutomationCreate, id, ip).with_detail(detail))
            .await?;
        tx.commit().await.map_err(db_err)?;
        of_row(saved)
    }

    /// Changes a rule: each part given replaces that part and the whole is checked again; its
    /// version goes up and its pending runs are cancelled. A ready-made rule takes only
    /// `enabled` and `settings` (422 naming the field otherwise).
    pub async fn update_automation(
        &self,
        actor: &Actor,
        id: AutomationId,
        p: AutomationPatch,
        ip: Option<&str>,
    ) -> Result<Automation> {
        actor.may_manage_automations()?;
        let current = rule_row(&self.db, id).await?;
        let mut changed: Vec<&str> = Vec::new();
        let rule = match loaded(&current)? {
            Loaded::Builtin(_, settings) => {
                for (given, field) in [
                    (p.name.is_some(), "name"),
                    (p.trigger.is_some(), "trigger"),
                    (p.conditions.is_some(), "conditions"),
                    (p.actions.is_some(), "actions"),
                ] {
                    if given {
                        return Err(Error::invalid(
                            field,
                            "a ready-made rule is switched on or off and takes its settings only",
                        ));
                    }
                }
                let settings = match p.settings {
                    Some(s) => {
                        changed.push("settings");
                        s.check()?
                    }
                    None => settings,
                };
                serde_json::to_string(&StoredBuiltin { settings }).map_err(|e| Error::internal("automation", e))?
            }
            Loaded::Own(s) => {
                if p.settings.is_some() {
                    return Err(Error::invalid("settings", "only ready-made rules have settings"));
                }
                let mut content = RuleContent {
                    name: p.name.clone().unwrap_or(current.name.clone()),
                    enabled: p.enabled.unwrap_or(current.enabled),
                    trigger: s.trigger,
                    conditions: s.conditions,
                    actions: s.actions,
                };
                if let Some(t) = p.trigger {
                    content.trigger = t;
                    changed.push("trigger");
                }
                if let Some(c) = p.conditions {
                    content.conditions = c;
                    changed.push("conditions");
                }
                if let Some(a) = p.actions {
                    content.actions = a;
                    changed.push("actions");
                }
                rule_json(&checked(&self.db, content).await?)?
            }
        };
        let name = match p.name {
            Some(n) => {
                changed.push("name");
                Some(validate::line("name", &n, NAME_MAX)?)
            }
            None => None,
        };
        let now = self.now();
        let tx = self.write_tx().await?;
        let r = rule_row(&tx, id).await?;
        if r.version != current.version {
            return Err(Error::Conflict("the rule was changed meanwhile; load it again".into()));
        }
        let mut am: row::ActiveModel = r.into();
        if let Some(n) = name {
            am.name = Set(n);
        }
        if let Some(e) = p.enabled {
            am.enabled = Set(e);
            changed.push("enabled");
        }
        if let Ok(s) = serde_json::from_str::<StoredRule>(&rule) {
            am.trigger_kind = Set(s.trigger.kind().as_str().into());
        }
        am.rule = Set(rule);
        am.version = Set(current.version + 1);
        am.updated_by = Set(Some(actor.user_id().0));
        am.updated_at = Set(now);
        let saved = am.update(&tx).await.map_err(db_err)?;
        let cancelled = cancel_pending(&tx, id, now).await?;
        let detail = serde_json::json!({
            "name": saved.name, "enabled": saved.enabled, "changed": changed, "runs_cancelled": cancelled,
        });
        audit::write(&tx, Some(actor), Entry::automation(AuditAction::AutomationUpdate, id, ip).with_detail(detail))
            .await?;
        tx.commit().await.map_err(db_err)?;
        of_row(saved)
    }

    /// Deletes one of the agency's own rules and its runs (a ready-made rule is switched off
    /// instead: 409).
    pub async fn delete_automation(&self, actor: &Actor, id: AutomationId, ip: Option<&str>) -> Result<()> {
        actor.may_manage_automations()?;
        let tx = self.write_tx().await?;
        let r = rule_row(&tx, id).await?;
        if r.builtin.is_some() {
            return Err(Error::Conflict("a ready-made rule cannot be deleted; switch it off instead".into()));
        }
        run_row::Entity::delete_many()
            .filter(run_row::Column::AutomationId.eq(id.0))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        row::Entity::delete_by_id(id.0).exec(&tx).await.map_err(db_err)?;
        let detail = serde_json::json!({ "name": r.name });
        audit::write(&tx, Some(actor), Entry::automation(AuditAction::AutomationDelete, id, ip).with_detail(detail))
            .await?;
        tx.commit().await.map_err(db_err)
    }

    /// The latest runs of a rule, newest first (at most [`RUNS_SHOWN`]).
    pub async fn automation_runs(&self, actor: &Actor, id: AutomationId) -> Result<Vec<AutomationRun>> {
        actor.may_manage_automations()?;
        rule_row(&self.db, id).await?;
        let rows = run_row::Entity::find()
            .filter(run_row::Column::AutomationId.eq(id.0))
            .order_by_desc(run_row::Column::FiredAt)
            .order_by_desc(run_row::Column::Id)
            .limit(RUNS_SHOWN)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        rows.into_iter().map(run_of).collect()
    }
}
