//! The dates of projects, milestones and tasks: any date every backend stores and reads back,
//! and a due date not before the start.

use atrium_core::{Error, Result};
use chrono::{Datelike, NaiveDate};

/// Dates are `YYYY-MM-DD`: years 1 to 9999, which every backend stores and reads back
/// (PostgreSQL refuses dates before 4714 BC, SQLite would keep any text).
pub(crate) fn check_date(field: &'static str, d: Option<NaiveDate>) -> Result<()> {
    match d {
        Some(d) if !(1..=9999).contains(&d.year()) => {
            Err(Error::invalid(field, "must be a date from 0001-01-01 to 9999-12-31"))
        }
        _ => Ok(()),
    }
}

/// Both dates valid, and the due date not before the start.
pub(crate) fn check_dates(start: Option<NaiveDate>, due: Option<NaiveDate>) -> Result<()> {
    check_date("start_date", start)?;
    check_date("due_date", due)?;
    match (start, due) {
        (Some(s), Some(d)) if d < s => Err(Error::invalid("due_date", "must not be before the start date")),
        _ => Ok(()),
    }
}
