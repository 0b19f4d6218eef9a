//! When time triggers fire, in the agency's calendar (its timezone and business days).
//!
//! A reminder about a date (a due date, an invitation's day) fires at [`REMINDER_AT`] local
//! time. A reminder *before* a date that falls on a closed day moves to the business day before
//! (so it still comes before the date); one on or after a date moves to the next business day.
//! A schedule fires at its own local time on its own day. Local times are turned into instants
//! with the timezone's rules of that day, so 09:00 stays 09:00 across a DST change (a time the
//! change skips fires at the first instant after it). A moment missed (server down) is still
//! taken within [`CATCH_UP`], never later, so switching a rule on does not mail about old dates.

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use super::kinds::Every;
use crate::{Error, Result};

/// The local time date reminders fire at.
pub const REMINDER_AT: NaiveTime = match NaiveTime::from_hms_opt(9, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// How long after its moment a missed firing is still made.
pub const CATCH_UP: Duration = Duration::hours(48);

/// `HH:MM`, 00:00–23:59.
pub fn parse_time(s: &str) -> Result<NaiveTime> {
    let ok = s.len() == 5 && s.as_bytes()[2] == b':';
    ok.then(|| NaiveTime::parse_from_str(s, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| Error::invalid("trigger.time", "must be a local time HH:MM, 00:00 to 23:59"))
}

/// The agency's calendar: its timezone and open weekdays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calendar {
    tz: Tz,
    /// Open weekdays, index 0 = Monday; all open when none is.
    open: [bool; 7],
}

impl Calendar {
    /// A calendar in `tz` open on `open` (index 0 = Monday; none open counts as all open).
    pub fn new(tz: Tz, open: [bool; 7]) -> Self {
        let open = if open.iter().any(|d| *d) { open } else { [true; 7] };
        Calendar { tz, open }
    }

    /// The timezone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The local date at `now`.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.tz).date_naive()
    }

    /// The instant of local `time` on `date` (a skipped time: the first instant after the gap).
    pub fn at(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let mut local = date.and_time(time);
        for _ in 0..4 {
            if let Some(t) = self.tz.from_local_datetime(&local).earliest() {
                return t.with_timezone(&Utc);
            }
            local += Duration::minutes(30);
        }
        local.and_utc()
    }

    fn is_open(&self, d: NaiveDate) -> bool {
        self.open[d.weekday().num_days_from_monday() as usize]
    }

    /// `date`, or the nearest business day before (`earlier`) or after it.
    pub fn business_day(&self, date: NaiveDate, earlier: bool) -> NaiveDate {
        let mut d = date;
        for _ in 0..7 {
            if self.is_open(d) {
                return d;
            }
            let next = if earlier { d.checked_sub_days(Days::new(1)) } else { d.checked_add_days(Days::new(1)) };
            match next {
                Some(n) => d = n,
                None => return date,
            }
        }
        date
    }

    /// When a reminder about `date` fires: [`REMINDER_AT`] on `date` moved to a business day
    /// (earlier for a reminder before a date).
    pub fn reminder_moment(&self, date: NaiveDate, before: bool) -> DateTime<Utc> {
        self.at(self.business_day(date, before), REMINDER_AT)
    }

    /// The most recent slot of a schedule at or before `now`, if it is at most [`CATCH_UP`]
    /// old: its local date and instant.
    pub fn last_slot(
        &self,
        every: Every,
        day: u32,
        time: NaiveTime,
        now: DateTime<Utc>,
    ) -> Option<(NaiveDate, DateTime<Utc>)> {
        let today = self.today(now);
        // Today's slot or the latest before it: look back a little over one period.
        for back in 0..=40u64 {
            let d = today.checked_sub_days(Days::new(back))?;
            if !fires_on(every, day, d) {
                continue;
            }
            let at = self.at(d, time);
            if at <= now {
                return (now - at < CATCH_UP).then_some((d, at));
            }
        }
        None
    }
}

/// Whether a schedule of `every`/`day` fires on `d` (day 31 of a 30-day month: on the 30th).
fn fires_on(every: Every, day: u32, d: NaiveDate) -> bool {
    match every {
        Every::Week => {
            Weekday::try_from(u8::try_from(day.saturating_sub(1)).unwrap_or(0)).is_ok_and(|w| d.weekday() == w)
        }
        Every::Month => {
            let last = last_day_of_month(d);
            d.day() == day.min(last)
        }
    }
}

fn last_day_of_month(d: NaiveDate) -> u32 {
    (28..=31).rev().find(|n| d.with_day(*n).is_some()).unwrap_or(28)
}
