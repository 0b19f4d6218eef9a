//! Service levels: the agency's business hours in its timezone, and the first-response and
//! resolution targets per priority, counted in business minutes. The wire form
//! ([`ServiceLevelSettings`]) is what the API and the settings page send; [`ServiceLevels`] is
//! the checked form that answers "when is the next answer due" ([`ServiceLevels::due_after`])
//! and "how much business time lies between" ([`ServiceLevels::business_minutes_between`]).
//!
//! Time is counted in local time and converted: each open day's window is its opening and
//! closing in the timezone, resolved to UTC, so a day across a DST change is as long as it
//! really is (a local time skipped by the change counts from the first existing minute after it;
//! a repeated one from its first occurrence).

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
pub use chrono_tz::Tz;

use crate::model::Priority;
use crate::{Error, Result};

/// The longest target: a year of minutes.
pub const TARGET_MAX_MINUTES: i64 = 525_600;
/// A target must be reachable within this many weeks of business hours (which keeps the
/// calculation to a bounded number of days).
pub const TARGET_MAX_WEEKS: i64 = 52;
/// The longest timezone name accepted.
const TIMEZONE_MAX: usize = 64;
/// Days looked at by [`ServiceLevels::due_after`]: a year of weeks and slack for DST.
const HORIZON_DAYS: i64 = TARGET_MAX_WEEKS * 7 + 21;

/// One priority's targets, in business minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Until the first answer of the agency (1…525600).
    pub first_response_minutes: i64,
    /// Until the ticket is solved (1…525600).
    pub resolution_minutes: i64,
}

/// The targets of each priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub low: Target,
    pub normal: Target,
    pub high: Target,
    pub urgent: Target,
}

impl Targets {
    /// The targets of `p`.
    pub fn of(&self, p: Priority) -> Target {
        match p {
            Priority::Low => self.low,
            Priority::Normal => self.normal,
            Priority::High => self.high,
            Priority::Urgent => self.urgent,
        }
    }

    /// Each priority with its targets, most urgent first.
    pub fn each(&self) -> [(Priority, Target); 4] {
        [
            (Priority::Urgent, self.urgent),
            (Priority::High, self.high),
            (Priority::Normal, self.normal),
            (Priority::Low, self.low),
        ]
    }
}

/// The days and hours the agency works, as sent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// ISO weekdays, 1 = Monday … 7 = Sunday; unique, not empty.
    pub days: Vec<i64>,
    /// Opening, `HH:MM` (24 h).
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    pub start: String,
    /// Closing, `HH:MM`, after the opening.
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    pub end: String,
}

/// The help desk's settings as the API and the settings page send and show them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceLevelSettings {
    /// An IANA timezone name (`Europe/Berlin`, `UTC`).
    pub timezone: String,
    pub business_hours: BusinessHours,
    pub sla: Targets,
}

/// Checked service levels: the timezone, the open weekdays, the daily window and the targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceLevels {
    tz: Tz,
    /// Open weekdays, index 0 = Monday.
    open: [bool; 7],
    /// Opening and closing, minutes after local midnight (closing up to 1440: midnight).
    start: u32,
    end: u32,
    targets: Targets,
}

impl Default for ServiceLevels {
    /// Monday to Friday, 09:00–17:00 UTC; urgent 1 h / 1 day, high 4 h / 3 days, normal 1 day /
    /// 6 days, low 2 days / 10 days (business time).
    fn default() -> Self {
        let t = |first_response_minutes, resolution_minutes| Target { first_response_minutes, resolution_minutes };
        ServiceLevels {
            tz: Tz::UTC,
            open: [true, true, true, true, true, false, false],
            start: 9 * 60,
            end: 17 * 60,
            targets: Targets { low: t(960, 4800), normal: t(480, 2880), high: t(240, 1440), urgent: t(60, 480) },
        }
    }
}

/// `HH:MM` (00:00–23:59, or 24:00 for the end of the day as a closing) as minutes after
/// midnight.
fn parse_time(field: &'static str, s: &str, closing: bool) -> Result<u32> {
    let bad = || Error::invalid(field, "must be a time written HH:MM (24 hours)");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if closing && h == 24 && m == 0 {
        return Ok(24 * 60);
    }
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn format_time(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The IANA timezone named `s` (422 `timezone` otherwise).
pub fn parse_timezone(s: &str) -> Result<Tz> {
    let s = crate::validate::line("timezone", s, TIMEZONE_MAX)?;
    s.parse::<Tz>().map_err(|_| Error::invalid("timezone", "must be an IANA timezone name such as Europe/Berlin"))
}

/// Every timezone name, for the settings page's list.
pub fn timezone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|t| t.name())
}

impl ServiceLevels {
    /// Checks the settings as sent: 422 naming the field (`timezone`, `business_hours.days`,
    /// `business_hours.start`, `business_hours.end`, `sla.high.first_response_minutes`, …).
    pub fn check(s: &ServiceLevelSettings) -> Result<ServiceLevels> {
        let tz = parse_timezone(&s.timezone)?;
        let days = &s.business_hours.days;
        if days.is_empty() {
            return Err(Error::invalid("business_hours.days", "must name at least one day"));
        }
        let mut open = [false; 7];
        for &d in days {
            let i = usize::try_from(d - 1)
                .ok()
                .filter(|i| *i < 7)
                .ok_or_else(|| Error::invalid("business_hours.days", "must be weekdays 1 (Monday) to 7 (Sunday)"))?;
            if open[i] {
                return Err(Error::invalid("business_hours.days", "must not name a day twice"));
            }
            open[i] = true;
        }
        let start = parse_time("business_hours.start", &s.business_hours.start, false)?;
        let end = parse_time("business_hours.end", &s.business_hours.end, true)?;
        if start >= end {
            return Err(Error::invalid("business_hours.end", "must be after the opening time"));
        }
        let levels = ServiceLevels { tz, open, start, end, targets: s.sla };
        let year = levels.nominal_week_minutes() * TARGET_MAX_WEEKS;
        for (p, t) in s.sla.each() {
            for (name, v) in
                [("first_response_minutes", t.first_response_minutes), ("resolution_minutes", t.resolution_minutes)]
            {
                let field = format!("sla.{}.{name}", p.as_str());
                if !(1..=TARGET_MAX_MINUTES).contains(&v) {
                    return Err(Error::invalid(field, format!("must be between 1 and {TARGET_MAX_MINUTES} minutes")));
                }
                if v > year {
                    return Err(Error::invalid(
                        field,
                        format!("must fit in {TARGET_MAX_WEEKS} weeks of business hours (at most {year} minutes)"),
                    ));
                }
            }
        }
        Ok(levels)
    }

    /// The wire form.
    pub fn settings(&self) -> ServiceLevelSettings {
        ServiceLevelSettings {
            timezone: self.tz.name().to_string(),
            business_hours: BusinessHours {
                days: (1..=7).filter(|d| self.open[(*d - 1) as usize]).collect(),
                start: format_time(self.start),
                end: format_time(self.end),
            },
            sla: self.targets,
        }
    }

    /// The timezone.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The agency's calendar (timezone and open weekdays) for scheduling automations.
    pub fn calendar(&self) -> crate::automation::timing::Calendar {
        crate::automation::timing::Calendar::new(self.tz, self.open)
    }

    /// Opening and closing, minutes after local midnight (closing up to 1440).
    pub fn window_minutes(&self) -> (u32, u32) {
        (self.start, self.end)
    }

    /// The targets per priority.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// When the first answer to a ticket of `priority` opened at `opened` is due.
    pub fn first_response_due(&self, opened: DateTime<Utc>, priority: Priority) -> DateTime<Utc> {
        self.due_after(opened, self.targets.of(priority).first_response_minutes)
    }

    /// When a ticket of `priority` opened at `opened` should be solved.
    pub fn resolution_due(&self, opened: DateTime<Utc>, priority: Priority) -> DateTime<Utc> {
        self.due_after(opened, self.targets.of(priority).resolution_minutes)
    }

    /// Business minutes of a week, ignoring DST (for the targets' upper bound).
    fn nominal_week_minutes(&self) -> i64 {
        let day = i64::from(self.end - self.start);
        day * self.open.iter().filter(|o| **o).count() as i64
    }

    /// The instant of local `date` at `time`: the first occurrence if repeated, the first
    /// existing minute after it if skipped by a DST change.
    fn instant(&self, date: NaiveDate, minutes: u32) -> DateTime<Utc> {
        let (date, minutes) = match date.succ_opt() {
            Some(next) if minutes >= 24 * 60 => (next, minutes - 24 * 60),
            _ => (date, minutes.min(24 * 60 - 1)),
        };
        let time = NaiveTime::from_num_seconds_from_midnight_opt(minutes * 60, 0).unwrap_or(NaiveTime::MIN);
        let mut local = date.and_time(time);
        for _ in 0..=24 * 60 {
            match self.tz.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
                LocalResult::None => local += Duration::minutes(1),
            }
        }
        // No timezone skips a whole day; reading the time as UTC is the safe fallback.
        Utc.from_utc_datetime(&date.and_time(time))
    }

    /// The open window of local `date` in UTC, if the agency works that day.
    fn window(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let idx = date.weekday().num_days_from_monday() as usize;
        if !self.open[idx] {
            return None;
        }
        let (o, c) = (self.instant(date, self.start), self.instant(date, self.end));
        (o < c).then_some((o, c))
    }

    /// The local date `t` falls on.
    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The instant `business_minutes` of business time after `start`. A start outside the
    /// hours counts from the next opening; closed days are skipped. Zero minutes: `start`.
    pub fn due_after(&self, start: DateTime<Utc>, business_minutes: i64) -> DateTime<Utc> {
        let mut left = Duration::minutes(business_minutes.max(0));
        if left.is_zero() {
            return start;
        }
        let first = self.local_date(start) - Duration::days(1);
        let mut last_close = start;
        for date in first.iter_days().take(HORIZON_DAYS as usize) {
            let Some((o, c)) = self.window(date) else { continue };
            if c <= start {
                continue;
            }
            let from = o.max(start);
            let available = c - from;
            if left <= available {
                return from + left;
            }
            left -= available;
            last_close = c;
        }
        // Unreachable for checked targets (they fit in TARGET_MAX_WEEKS); the end of the horizon.
        last_close
    }

    /// Business minutes (whole minutes, rounded down) between `a` and `b`; negative when `b`
    /// is before `a` (time left to a due date, or how far past it).
    pub fn business_minutes_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        if b < a {
            return -self.business_minutes_between(b, a);
        }
        let mut total = Duration::zero();
        let (first, last) = (self.local_date(a) - Duration::days(1), self.local_date(b) + Duration::days(1));
        for date in first.iter_days().take_while(|d| *d <= last) {
            let Some((o, c)) = self.window(date) else { continue };
            let (from, to) = (o.max(a), c.min(b));
            if from < to {
                total += to - from;
            }
        }
        total.num_minutes()
    }
}

#[cfg(test)]
mod tests;
