//! The help desk's settings (one row): business hours, their timezone and the service-level
//! targets per priority. Staff read them ([`Actor::may_work_tickets`]: client users get 404);
//! owners and admins change them ([`Actor::may_configure_helpdesk`]), audited in
//! the same transaction. The ticket code reads them inside its own transaction through
//! [`service_levels`].

use atrium_core::local_time::{LocalTime, Tz};
use atrium_core::policy::Actor;
use atrium_core::service_level::{BusinessHours, ServiceLevelSettings, ServiceLevels, Target, Targets};
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::audit::{self, Entry};
use crate::db::{Store, db_err};
use crate::entity::helpdesk_settings as row;

const ROW: &str = "default";

impl Store {
    /// The help desk's settings (staff; client users 404).
    pub async fn helpdesk_settings(&self, actor: &Actor) -> Result<ServiceLevels> {
        actor.may_configure_helpdesk()?;
        service_levels(&self.db).await
    }

    /// How `actor` reads times: in their own timezone, else the agency's (the help desk's
    /// setting). Asks the database only when they chose none.
    pub async fn local_time(&self, actor: &Actor) -> Result<LocalTime> {
        match actor.timezone() {
            Some(tz) => Ok(LocalTime::new(tz)),
            None => Ok(LocalTime::new(self.agency_timezone(actor).await?)),
        }
    }

    /// The agency's timezone (the help desk's setting): anyone signed in may know it.
    pub async fn agency_timezone(&self, _actor: &Actor) -> Result<Tz> {
        Ok(service_levels(&self.db).await?.timezone())
    }

    /// Changes the business hours, timezone and targets (owners and admins; other staff 403,
    /// client users 404); 422 naming the field for a bad value.
    pub async fn update_helpdesk_settings(
        &self,
        actor: &Actor,
        settings: &ServiceLevelSettings,
        ip: Option<&str>,
    ) -> Result<ServiceLevels> {
        actor.may_configure_helpdesk()?;
        let levels = ServiceLevels::check(settings)?;
        let s = levels.settings();
        let tx = self.write_tx().await?;
        let mut am: row::ActiveModel = load(&tx).await?.into();
        am.timezone = Set(s.timezone.clone());
        am.days = Set(s.business_hours.days.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        let (start, end) = levels.window_minutes();
        am.start_minute = Set(i32::try_from(start).map_err(|e| Error::internal("opening", e))?);
        am.end_minute = Set(i32::try_from(end).map_err(|e| Error::internal("closing", e))?);
        let t = s.sla;
        am.low_first_response_minutes = Set(t.low.first_response_minutes);
        am.low_resolution_minutes = Set(t.low.resolution_minutes);
        am.normal_first_response_minutes = Set(t.normal.first_response_minutes);
        am.normal_resolution_minutes = Set(t.normal.resolution_minutes);
        am.high_first_response_minutes = Set(t.high.first_response_minutes);
        am.high_resolution_minutes = Set(t.high.resolution_minutes);
        am.urgent_first_response_minutes = Set(t.urgent.first_response_minutes);
        am.urgent_resolution_minutes = Set(t.urgent.resolution_minutes);
        am.updated_by = Set(Some(actor.user_id().0));
        am.updated_at = Set(Utc::now());
        am.update(&tx).await.map_err(db_err)?;
        let detail = serde_json::to_value(&s).map_err(|e| Error::internal("helpdesk settings", e))?;
        audit::write(&tx, Some(actor), Entry::helpdesk_settings(ip).with_detail(detail)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(levels)
    }
}

/// The help desk's service levels, read on `db` (a connection or the caller's transaction).
pub(crate) async fn service_levels<C: ConnectionTrait>(db: &C) -> Result<ServiceLevels> {
    of_row(&load(db).await?)
}

async fn load<C: ConnectionTrait>(c: &C) -> Result<row::Model> {
    row::Entity::find_by_id(ROW)
        .one(c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::internal_msg("helpdesk_settings row missing"))
}

fn of_row(r: &row::Model) -> Result<ServiceLevels> {
    let hhmm = |m: i32| format!("{:02}:{:02}", m / 60, m % 60);
    let t = |first_response_minutes, resolution_minutes| Target { first_response_minutes, resolution_minutes };
    let settings = ServiceLevelSettings {
        timezone: r.timezone.clone(),
        business_hours: BusinessHours {
            days: r.days.split(',').filter_map(|d| d.trim().parse().ok()).collect(),
            start: hhmm(r.start_minute),
            end: hhmm(r.end_minute),
        },
        sla: Targets {
            low: t(r.low_first_response_minutes, r.low_resolution_minutes),
            normal: t(r.normal_first_response_minutes, r.normal_resolution_minutes),
            high: t(r.high_first_response_minutes, r.high_resolution_minutes),
            urgent: t(r.urgent_first_response_minutes, r.urgent_resolution_minutes),
        },
    };
    // Only checked settings are written; a row that no longer passes (a timezone dropped from
    // the database) is an internal error, not a guess.
    ServiceLevels::check(&settings).map_err(|e| Error::internal("stored helpdesk settings", e))
}
