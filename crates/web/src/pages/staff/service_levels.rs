//! The help desk's service levels (owners and admins; other staff 403): timezone, business days
//! and hours, and the first-response and resolution targets per priority in business minutes.
//! The inputs are named like the API's fields, so a refusal names the input it is about.

use askama::Template;
use atrium_core::Error;
use atrium_core::model::Priority;
use atrium_core::service_level::{BusinessHours, ServiceLevelSettings, Target, Targets, timezone_names};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Q};
use crate::pages::account::Notice;
use crate::pages::{Chrome, render, see_other};
use crate::state::AppState;

/// Where the settings page lives.
pub const PATH: &str = "/staff/settings/helpdesk";

const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

struct DayBox {
    value: i64,
    label: &'static str,
    checked: bool,
}

struct TargetRow {
    label: &'static str,
    /// `sla.<priority>.first_response_minutes` / `…resolution_minutes`.
    first_name: String,
    first: String,
    first_hours: String,
    resolution_name: String,
    resolution: String,
    resolution_hours: String,
}

#[derive(Template)]
#[template(path = "staff_service_levels.html")]
struct ServiceLevelsPage {
    chrome: Chrome,
    error: Option<String>,
    timezone: String,
    timezones: Vec<&'static str>,
    days: Vec<DayBox>,
    start: String,
    end: String,
    targets: Vec<TargetRow>,
}

/// `90` → `1 h 30 min` (business time).
fn hours(minutes: &str) -> String {
    match minutes.trim().parse::<i64>() {
        Ok(m) if m > 0 => match (m / 60, m % 60) {
            (0, r) => format!("{r} min"),
            (h, 0) => format!("{h} h"),
            (h, r) => format!("{h} h {r} min"),
        },
        _ => String::new(),
    }
}

/// The form's values as text: the stored settings, or what was just sent.
struct Values {
    timezone: String,
    days: Vec<i64>,
    start: String,
    end: String,
    /// Per priority (urgent first): first response, resolution.
    targets: Vec<(Priority, String, String)>,
}

impl Values {
    fn of(s: &ServiceLevelSettings) -> Self {
        Values {
            timezone: s.timezone.clone(),
            days: s.business_hours.days.clone(),
            start: s.business_hours.start.clone(),
            end: s.business_hours.end.clone(),
            targets: s
                .sla
                .each()
                .iter()
                .map(|(p, t)| (*p, t.first_response_minutes.to_string(), t.resolution_minutes.to_string()))
                .collect(),
        }
    }

    fn sent(pairs: &[(String, String)]) -> Self {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let target = |p: Priority, part: &str| get(&format!("sla.{}.{part}", p.as_str()));
        Values {
            timezone: get("timezone"),
            days: pairs
                .iter()
                .filter(|(n, _)| n == "business_hours.days")
                .filter_map(|(_, v)| v.parse().ok())
                .collect(),
            start: get("business_hours.start"),
            end: get("business_hours.end"),
            targets: [Priority::Urgent, Priority::High, Priority::Normal, Priority::Low]
                .iter()
                .map(|p| (*p, target(*p, "first_response_minutes"), target(*p, "resolution_minutes")))
                .collect(),
        }
    }

    /// The settings these values say; 422 naming the input for a number that is not one.
    fn settings(&self) -> Result<ServiceLevelSettings, Error> {
        let minutes = |p: Priority, part: &str, v: &str| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| Error::invalid(format!("sla.{}.{part}", p.as_str()), "must be a whole number of minutes"))
        };
        let mut t = Targets { low: dummy(), normal: dummy(), high: dummy(), urgent: dummy() };
        for (p, first, resolution) in &self.targets {
            let target = Target {
                first_response_minutes: minutes(*p, "first_response_minutes", first)?,
                resolution_minutes: minutes(*p, "resolution_minutes", resolution)?,
            };
            match p {
                Priority::Low => t.low = target,
                Priority::Normal => t.normal = target,
                Priority::High => t.high = target,
                Priority::Urgent => t.urgent = target,
            }
        }
        Ok(ServiceLevelSettings {
            timezone: self.timezone.clone(),
            business_hours: BusinessHours { days: self.days.clone(), start: self.start.clone(), end: self.end.clone() },
            sla: t,
        })
    }
}

/// A placeholder target, replaced by every priority's values.
fn dummy() -> Target {
    Target { first_response_minutes: 0, resolution_minutes: 0 }
}

async fn show(
    st: &AppState,
    auth: &StaffAuth,
    csrf: &CsrfToken,
    values: Option<Values>,
    error: Option<Error>,
    notice: Option<&str>,
) -> AppResult<Response> {
    auth.actor.may_configure_helpdesk()?;
    let stored = st.store.helpdesk_settings(&auth.actor).await?;
    let v = values.unwrap_or_else(|| Values::of(&stored.settings()));
    let mut chrome = Chrome::signed_in(st, auth, csrf, "Service levels", "/staff/inbox");
    chrome.flash = (notice == Some("saved")).then(|| "Service levels saved.".into());
    let status = error.as_ref().map_or(StatusCode::OK, crate::error::status);
    let page = ServiceLevelsPage {
        chrome,
        error: error.map(|e| e.to_string()),
        timezones: timezone_names().collect(),
        days: (1..=7i64)
            .zip(WEEKDAYS)
            .map(|(value, label)| DayBox { value, label, checked: v.days.contains(&value) })
            .collect(),
        start: v.start,
        end: v.end,
        targets: v
            .targets
            .into_iter()
            .map(|(p, first, resolution)| TargetRow {
                label: p.label(),
                first_name: format!("sla.{}.first_response_minutes", p.as_str()),
                first_hours: hours(&first),
                first,
                resolution_name: format!("sla.{}.resolution_minutes", p.as_str()),
                resolution_hours: hours(&resolution),
                resolution,
            })
            .collect(),
        timezone: v.timezone,
    };
    Ok((status, render(&page)?).into_response())
}

/// The settings page.
pub async fn page(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    show(&st, &auth, &csrf, None, None, n.notice.as_deref()).await
}

/// Saves the settings (every input is sent).
pub async fn save(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FormBody(pairs): FormBody<Vec<(String, String)>>,
) -> AppResult<Response> {
    let values = Values::sent(&pairs);
    let saved = match values.settings() {
        Ok(s) => st.store.update_helpdesk_settings(&auth.actor, &s, Some(&ip)).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => Ok(see_other(&format!("{PATH}?notice=saved"))),
        Err(e) => show(&st, &auth, &csrf, Some(values), Some(super::input_error(e)?), None).await,
    }
}
