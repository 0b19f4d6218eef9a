//! Recurring invoices: a schedule that issues a client the same invoice every month, quarter or
//! year. The calendar rules (the anchor day and month-end clamping, resuming after a pause), the
//! limits and the status changes live here; the store keeps the schedules and issues them.
//!
//! * **Anchor day.** A schedule remembers the day of the month it was set to issue on (its
//!   `next_issue_date` when created or moved). Each issue moves the next date on by the
//!   interval and puts it back on that day, clamped to the month's last day: a monthly schedule
//!   anchored on the 31st issues Jan 31, Feb 28 (29 in a leap year), Mar 31, Apr 30, …
//! * **Status.** `active` issues, `paused` does not, `ended` never will again. Pausing and
//!   resuming go back and forth; ending is final (a new schedule starts again).
//! * **Resuming** does not issue the periods the schedule was paused for: its next date moves on
//!   by whole intervals to the first one on or after today ([`resume_date`]).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use super::string_enum;
use crate::ids::{ClientId, ProjectId, RecurringInvoiceId};
use crate::money::LineInput;
use crate::{Error, Result};

/// The most schedules the agency keeps (ended ones count until deleted).
pub const SCHEDULES_MAX: u64 = 500;
/// The longest payment term: an issued invoice is due at most this many days after its issue.
pub const DUE_DAYS_MAX: i64 = 365;
/// The longest schedule name.
pub const SCHEDULE_NAME_MAX: usize = crate::validate::NAME_MAX;
/// The most periods one run of the issuing job catches up for one schedule (the next run, an
/// hour later, goes on): a schedule missed for years cannot hold the job for long.
pub const CATCH_UP_MAX: usize = 36;

string_enum!(
    /// How often a schedule issues.
    RecurringInterval {
        /// Every month, on the anchor day.
        Monthly = "monthly" / "Monthly",
        /// Every three months, on the anchor day.
        Quarterly = "quarterly" / "Quarterly",
        /// Every year, on the anchor day of the same month.
        Yearly = "yearly" / "Yearly",
    }
);

impl RecurringInterval {
    /// The interval in months.
    pub fn months(self) -> u32 {
        match self {
            RecurringInterval::Monthly => 1,
            RecurringInterval::Quarterly => 3,
            RecurringInterval::Yearly => 12,
        }
    }
}

string_enum!(
    /// Whether a schedule issues.
    RecurringStatus {
        /// Issues on each next issue date.
        Active = "active" / "Active",
        /// Kept, but issues nothing until resumed.
        Paused = "paused" / "Paused",
        /// Finished for good: never issues again and cannot be resumed.
        Ended = "ended" / "Ended",
    }
);

/// One line of a schedule, as every invoice it issues gets it. Numbers are decimal strings,
/// checked like an invoice's lines.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RecurringLine {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    /// Percent.
    pub tax_rate: String,
    /// Percent off this line (`"0"`: none).
    pub discount: String,
}

impl From<&RecurringLine> for LineInput {
    fn from(l: &RecurringLine) -> Self {
        LineInput {
            description: l.description.clone(),
            quantity: l.quantity.clone(),
            unit_price: l.unit_price.clone(),
            tax_rate: l.tax_rate.clone(),
            discount: l.discount.clone(),
        }
    }
}

/// A recurring invoice schedule.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RecurringInvoice {
    #[schema(value_type = String)]
    pub id: RecurringInvoiceId,
    /// A label for staff (e.g. "Monthly retainer"); may be empty.
    pub name: String,
    #[schema(value_type = String)]
    pub client_id: ClientId,
    pub client_name: String,
    #[schema(value_type = Option<String>)]
    pub project_id: Option<ProjectId>,
    /// ISO 4217.
    pub currency: String,
    pub lines: Vec<RecurringLine>,
    /// What each issued invoice totals (tax included), in the currency's minor unit.
    pub total: String,
    /// Copied into each issued invoice.
    pub notes: String,
    pub interval: RecurringInterval,
    /// The day of the month issues are anchored on (1–31; clamped to shorter months).
    pub anchor_day: u32,
    /// The date the next invoice is issued on (in the agency's timezone).
    pub next_issue_date: NaiveDate,
    /// Each invoice is due this many days after its issue date (0–365).
    pub due_days: u32,
    /// `true`: each invoice is sent to the client when issued; `false`: it waits as a draft.
    pub auto_send: bool,
    pub status: RecurringStatus,
    /// How many invoices the schedule has issued.
    pub issued_count: u32,
    pub last_issued_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The date one interval after `from`, on `anchor_day` clamped to that month's last day;
/// `None` past the calendar's end.
pub fn advance(from: NaiveDate, interval: RecurringInterval, anchor_day: u32) -> Option<NaiveDate> {
    let first = from.with_day(1)?.checked_add_months(Months::new(interval.months()))?;
    let last = first.checked_add_months(Months::new(1))?.pred_opt()?.day();
    first.with_day(anchor_day.clamp(1, last))
}

/// The first slot of the schedule on or after `today`, counting whole intervals on from `next`
/// (a paused schedule's missed periods are skipped, not issued). `next` itself when it is not
/// in the past.
pub fn resume_date(next: NaiveDate, interval: RecurringInterval, anchor_day: u32, today: NaiveDate) -> NaiveDate {
    let mut d = next;
    while d < today {
        match advance(d, interval, anchor_day) {
            Some(n) => d = n,
            None => break,
        }
    }
    d
}

/// The due date of an invoice issued on `issue`.
pub fn due_date(issue: NaiveDate, due_days: u32) -> Option<NaiveDate> {
    issue.checked_add_days(chrono::Days::new(u64::from(due_days)))
}

/// `due_days` as sent: from 0 to [`DUE_DAYS_MAX`] (422 `due_days`).
pub fn check_due_days(days: i64) -> Result<u32> {
    if (0..=DUE_DAYS_MAX).contains(&days) {
        u32::try_from(days).map_err(|_| Error::invalid("due_days", "is too large"))
    } else {
        Err(Error::invalid("due_days", format!("must be from 0 to {DUE_DAYS_MAX} days")))
    }
}

/// A schedule's name as sent: one line, at most [`SCHEDULE_NAME_MAX`] characters, may be empty.
pub fn check_name(name: &str) -> Result<String> {
    crate::validate::optional_line("name", name, SCHEDULE_NAME_MAX)
}

/// A next issue date as set by staff: today or later (in the agency's timezone), up to 9999 —
/// a date in the past would issue every period since at once.
pub fn check_next_issue_date(d: NaiveDate, today: NaiveDate) -> Result<()> {
    if d.year() > 9999 {
        return Err(Error::invalid("next_issue_date", "must be a date up to 9999-12-31"));
    }
    if d < today {
        return Err(Error::invalid("next_issue_date", format!("must be today ({today}) or later")));
    }
    Ok(())
}

/// Whether a schedule may go from `from` to `to`: pausing, resuming and ending, but nothing
/// after ending (409 naming `status`).
pub fn check_status_change(from: RecurringStatus, to: RecurringStatus) -> Result<()> {
    if from == RecurringStatus::Ended && to != RecurringStatus::Ended {
        return Err(Error::Conflict(format!(
            "status: an ended recurring invoice cannot be made {to} again; create a new one instead"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn month_ends_clamp_and_return_to_the_anchor_day() {
        let m = RecurringInterval::Monthly;
        assert_eq!(advance(d("2026-01-31"), m, 31), Some(d("2026-02-28")));
        assert_eq!(advance(d("2026-02-28"), m, 31), Some(d("2026-03-31")));
        assert_eq!(advance(d("2026-03-31"), m, 31), Some(d("2026-04-30")));
        assert_eq!(advance(d("2028-01-31"), m, 31), Some(d("2028-02-29")));
        assert_eq!(advance(d("2026-12-15"), m, 15), Some(d("2027-01-15")));
        assert_eq!(advance(d("2026-11-30"), RecurringInterval::Quarterly, 30), Some(d("2027-02-28")));
        assert_eq!(advance(d("2028-02-29"), RecurringInterval::Yearly, 29), Some(d("2029-02-28")));
        assert_eq!(advance(d("2029-02-28"), RecurringInterval::Yearly, 29), Some(d("2030-02-28")));
        assert_eq!(advance(NaiveDate::MAX, m, 1), None);
    }

    #[test]
    fn resuming_skips_whole_periods_to_today_or_later() {
        let m = RecurringInterval::Monthly;
        assert_eq!(resume_date(d("2026-01-31"), m, 31, d("2026-04-10")), d("2026-04-30"));
        assert_eq!(resume_date(d("2026-01-31"), m, 31, d("2026-03-31")), d("2026-03-31"));
        assert_eq!(resume_date(d("2026-06-01"), m, 1, d("2026-04-10")), d("2026-06-01"));
    }

    #[test]
    fn limits_name_their_field() {
        assert_eq!(check_due_days(0).unwrap(), 0);
        assert_eq!(check_due_days(DUE_DAYS_MAX).unwrap(), 365);
        for bad in [-1, DUE_DAYS_MAX + 1, i64::MAX] {
            assert!(matches!(check_due_days(bad), Err(Error::Invalid { field, .. }) if field == "due_days"));
        }
        assert!(check_name("").is_ok());
        let long = "x".repeat(SCHEDULE_NAME_MAX + 1);
        assert!(matches!(check_name(&long), Err(Error::Invalid { field, .. }) if field == "name"));
        assert!(matches!(check_name("a\u{202e}b"), Err(Error::Invalid { field, .. }) if field == "name"));
        let today = d("2026-05-05");
        assert!(check_next_issue_date(today, today).is_ok());
        assert!(matches!(
            check_next_issue_date(d("2026-05-04"), today),
            Err(Error::Invalid { field, .. }) if field == "next_issue_date"
        ));
        assert_eq!(due_date(d("2026-01-31"), 30), Some(d("2026-03-02")));
    }

    #[test]
    fn an_ended_schedule_stays_ended() {
        use RecurringStatus::*;
        assert!(check_status_change(Active, Paused).is_ok());
        assert!(check_status_change(Paused, Active).is_ok());
        assert!(check_status_change(Paused, Ended).is_ok());
        assert!(check_status_change(Ended, Ended).is_ok());
        for to in [Active, Paused] {
            let e = check_status_change(Ended, to).unwrap_err();
            assert!(matches!(&e, Error::Conflict(m) if m.starts_with("status:")), "{e}");
        }
    }
}
