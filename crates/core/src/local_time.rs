//! Times as a person reads them: in their own timezone, or the agency's when they chose none.
//! Pages and mail format every moment through [`LocalTime`]; the API keeps RFC 3339 UTC.

use chrono::{DateTime, NaiveDate, Utc};

pub use crate::service_level::Tz;

/// The timezone a person's stored setting names, if it is still a known one (a name dropped
/// from the timezone database falls back to the agency's rather than failing).
pub fn stored_timezone(name: Option<&str>) -> Option<Tz> {
    name.and_then(|n| n.parse::<Tz>().ok())
}

/// A person's timezone setting as sent: an IANA name, or empty / `null` for the agency's.
/// 422 `timezone` for a name that is not one.
pub fn parse_own_timezone(name: Option<&str>) -> crate::Result<Option<Tz>> {
    match name.map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) => crate::service_level::parse_timezone(n).map(Some),
    }
}

/// Formats moments for one reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    tz: Tz,
}

impl LocalTime {
    /// Times in `tz`.
    pub fn new(tz: Tz) -> Self {
        LocalTime { tz }
    }

    /// The reader's own timezone, else the agency's.
    pub fn of(own: Option<Tz>, agency: Tz) -> Self {
        LocalTime { tz: own.unwrap_or(agency) }
    }

    /// The timezone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// "Dec 2, 14:05" — for lists, where the year is obvious.
    pub fn short(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%b %-d, %H:%M").to_string()
    }

    /// "Dec 2, 14:05 CET" — a near moment, with its zone named (deadlines, mail).
    pub fn named(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%b %-d, %H:%M %Z").to_string()
    }

    /// "Dec 2, 2026 14:05 CET" — where the moment matters (history, audit, mail).
    pub fn long(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%b %-d, %Y %H:%M %Z").to_string()
    }

    /// "2026-12-02 14:05:09 CET" — for logs, to the second.
    pub fn precise(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%Y-%m-%d %H:%M:%S %Z").to_string()
    }

    /// "Dec 2, 2026" — the local date of a moment.
    pub fn date(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%b %-d, %Y").to_string()
    }

    /// "14:05".
    pub fn clock(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%H:%M").to_string()
    }

    /// The local date of a moment.
    pub fn day_of(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn formats_in_the_readers_timezone_across_dst() {
        let berlin = LocalTime::new("Europe/Berlin".parse().unwrap());
        assert_eq!(berlin.long(at("2026-10-24T12:00:00Z")), "Oct 24, 2026 14:00 CEST");
        assert_eq!(berlin.long(at("2026-10-26T12:00:00Z")), "Oct 26, 2026 13:00 CET");
        assert_eq!(berlin.short(at("2026-12-31T23:30:00Z")), "Jan 1, 00:30");
        assert_eq!(berlin.day_of(at("2026-12-31T23:30:00Z")).to_string(), "2027-01-01");
        let utc = LocalTime::new(Tz::UTC);
        assert_eq!(utc.long(at("2026-12-31T23:30:00Z")), "Dec 31, 2026 23:30 UTC");
    }

    #[test]
    fn own_timezone_falls_back_to_the_agencys() {
        let agency: Tz = "America/New_York".parse().unwrap();
        assert_eq!(LocalTime::of(None, agency).tz(), agency);
        assert_eq!(LocalTime::of(Some(Tz::UTC), agency).tz(), Tz::UTC);
        assert_eq!(stored_timezone(Some("Not/AZone")), None);
        assert_eq!(stored_timezone(Some("Asia/Kolkata")), Some("Asia/Kolkata".parse().unwrap()));
    }

    #[test]
    fn a_setting_is_a_known_name_or_empty() {
        assert_eq!(parse_own_timezone(None).unwrap(), None);
        assert_eq!(parse_own_timezone(Some(" ")).unwrap(), None);
        assert_eq!(parse_own_timezone(Some("Europe/Paris")).unwrap(), Some("Europe/Paris".parse().unwrap()));
        let e = parse_own_timezone(Some("Mars/Olympus")).unwrap_err();
        assert!(e.to_string().contains("timezone"), "{e}");
    }
}
