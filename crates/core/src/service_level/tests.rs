use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid")
}

fn settings(tz: &str, days: &[i64], start: &str, end: &str) -> ServiceLevelSettings {
    let mut s = ServiceLevels::default().settings();
    s.timezone = tz.into();
    s.business_hours = BusinessHours { days: days.to_vec(), start: start.into(), end: end.into() };
    // Targets that fit any window (the defaults need more than a minute a week).
    let one = Target { first_response_minutes: 1, resolution_minutes: 1 };
    s.sla = Targets { low: one, normal: one, high: one, urgent: one };
    s
}

fn levels(tz: &str, days: &[i64], start: &str, end: &str) -> ServiceLevels {
    ServiceLevels::check(&settings(tz, days, start, end)).expect("valid settings")
}

fn field_of(e: Error) -> String {
    match e {
        Error::Invalid { field, .. } => field.into_owned(),
        other => panic!("not a field error: {other:?}"),
    }
}

#[test]
fn defaults_are_monday_to_friday_nine_to_five_utc() {
    let d = ServiceLevels::default();
    let s = d.settings();
    assert_eq!(s.timezone, "UTC");
    assert_eq!(
        s.business_hours,
        BusinessHours { days: vec![1, 2, 3, 4, 5], start: "09:00".into(), end: "17:00".into() }
    );
    assert_eq!(ServiceLevels::check(&s).expect("defaults are valid"), d);
    assert!(d.targets().urgent.first_response_minutes < d.targets().low.first_response_minutes);
}

#[test]
fn counting_skips_the_weekend() {
    let d = ServiceLevels::default();
    // Friday 2026-11-27 16:00 + 2 h: one hour on Friday, one on Monday.
    assert_eq!(d.due_after(utc(2026, 11, 27, 16, 0), 120), utc(2026, 11, 30, 10, 0));
    // Saturday counts from Monday's opening.
    assert_eq!(d.due_after(utc(2026, 11, 28, 12, 0), 30), utc(2026, 11, 30, 9, 30));
    assert_eq!(d.business_minutes_between(utc(2026, 11, 27, 16, 0), utc(2026, 11, 30, 10, 0)), 120);
    assert_eq!(d.business_minutes_between(utc(2026, 11, 28, 0, 0), utc(2026, 11, 29, 23, 0)), 0);
}

#[test]
fn counting_outside_hours_starts_at_the_next_opening() {
    let d = ServiceLevels::default();
    // Tuesday before opening, and after closing.
    assert_eq!(d.due_after(utc(2026, 12, 1, 7, 0), 30), utc(2026, 12, 1, 9, 30));
    assert_eq!(d.due_after(utc(2026, 12, 1, 18, 0), 30), utc(2026, 12, 2, 9, 30));
    // Exactly at closing: nothing is left of the day.
    assert_eq!(d.due_after(utc(2026, 12, 1, 17, 0), 1), utc(2026, 12, 2, 9, 1));
    // Exactly at opening, and a target that ends exactly at closing.
    assert_eq!(d.due_after(utc(2026, 12, 1, 9, 0), 480), utc(2026, 12, 1, 17, 0));
    assert_eq!(d.due_after(utc(2026, 12, 1, 9, 0), 481), utc(2026, 12, 2, 9, 1));
    // Two full business days from Thursday's opening end at Friday's closing.
    assert_eq!(d.due_after(utc(2026, 12, 3, 9, 0), 960), utc(2026, 12, 4, 17, 0));
}

#[test]
fn zero_length_edges() {
    let d = ServiceLevels::default();
    let t = utc(2026, 12, 5, 3, 0);
    assert_eq!(d.due_after(t, 0), t);
    assert_eq!(d.business_minutes_between(t, t), 0);
    let open = utc(2026, 12, 1, 10, 0);
    assert_eq!(d.business_minutes_between(open, open), 0);
    assert_eq!(d.business_minutes_between(utc(2026, 12, 1, 11, 0), open), -60);
    // Seconds below a minute round down.
    assert_eq!(d.business_minutes_between(open, open + chrono::Duration::seconds(59)), 0);
}

#[test]
fn counting_across_a_dst_change_uses_local_hours() {
    // Berlin moves from UTC+1 to UTC+2 on Sunday 2026-03-29.
    let b = levels("Europe/Berlin", &[1, 2, 3, 4, 5], "09:00", "17:00");
    // Friday 16:00 local (15:00Z) + 2 h → Monday 10:00 local, now 08:00Z.
    assert_eq!(b.due_after(utc(2026, 3, 27, 15, 0), 120), utc(2026, 3, 30, 8, 0));
    assert_eq!(b.business_minutes_between(utc(2026, 3, 27, 15, 0), utc(2026, 3, 30, 8, 0)), 120);
    // A window around the clock: the day of the change has 23 hours, the day it goes back 25.
    let all = levels("Europe/Berlin", &[1, 2, 3, 4, 5, 6, 7], "00:00", "24:00");
    let sat = Tz::Europe__Berlin.with_ymd_and_hms(2026, 3, 28, 0, 0, 0).single().expect("exists").with_timezone(&Utc);
    let mon = Tz::Europe__Berlin.with_ymd_and_hms(2026, 3, 30, 0, 0, 0).single().expect("exists").with_timezone(&Utc);
    assert_eq!(all.business_minutes_between(sat, mon), 24 * 60 + 23 * 60);
    assert_eq!(all.due_after(sat, 47 * 60), mon);
    let oct_sat = utc(2026, 10, 23, 22, 0); // Saturday 2026-10-24 00:00 local (UTC+2)
    let oct_mon = utc(2026, 10, 25, 23, 0); // Monday 2026-10-26 00:00 local (UTC+1)
    assert_eq!(all.business_minutes_between(oct_sat, oct_mon), 24 * 60 + 25 * 60);
    // An opening inside the skipped hour counts from the first minute after it.
    let early = levels("Europe/Berlin", &[7], "02:30", "04:00");
    assert_eq!(early.business_minutes_between(utc(2026, 3, 28, 0, 0), utc(2026, 3, 30, 0, 0)), 60);
}

#[test]
fn timezones_other_than_utc_shift_the_hours() {
    let ny = levels("America/New_York", &[1, 2, 3, 4, 5], "09:00", "17:00");
    // Tuesday 2026-12-01 13:00Z is 08:00 in New York: counting starts at 14:00Z.
    assert_eq!(ny.due_after(utc(2026, 12, 1, 13, 0), 60), utc(2026, 12, 1, 15, 0));
}

#[test]
fn settings_are_checked_naming_the_field() {
    let bad_tz = settings("Mars/Olympus", &[1], "09:00", "17:00");
    assert_eq!(field_of(ServiceLevels::check(&bad_tz).unwrap_err()), "timezone");
    for days in [&[][..], &[0], &[8], &[1, 1]] {
        let s = settings("UTC", days, "09:00", "17:00");
        assert_eq!(field_of(ServiceLevels::check(&s).unwrap_err()), "business_hours.days", "{days:?}");
    }
    for start in ["9:00", "25:00", "09:60", "ab:cd", "24:00", ""] {
        let s = settings("UTC", &[1], start, "17:00");
        assert_eq!(field_of(ServiceLevels::check(&s).unwrap_err()), "business_hours.start", "{start}");
    }
    for end in ["09:00", "08:00", "24:01"] {
        let s = settings("UTC", &[1], "09:00", end);
        assert_eq!(field_of(ServiceLevels::check(&s).unwrap_err()), "business_hours.end", "{end}");
    }
    let mut s = settings("UTC", &[1], "09:00", "24:00");
    assert_eq!(ServiceLevels::check(&s).expect("to midnight").settings().business_hours.end, "24:00");
    s.sla.high.first_response_minutes = 0;
    assert_eq!(field_of(ServiceLevels::check(&s).unwrap_err()), "sla.high.first_response_minutes");
    s.sla.high.first_response_minutes = 60;
    s.sla.low.resolution_minutes = TARGET_MAX_MINUTES + 1;
    assert_eq!(field_of(ServiceLevels::check(&s).unwrap_err()), "sla.low.resolution_minutes");
    // One business hour a week cannot hold a target of 60 weeks' hours.
    let mut tiny = settings("UTC", &[1], "09:00", "10:00");
    tiny.sla.normal.resolution_minutes = 60 * 60;
    assert_eq!(field_of(ServiceLevels::check(&tiny).unwrap_err()), "sla.normal.resolution_minutes");
    // Days come back sorted.
    let s = settings("UTC", &[5, 1, 3], "09:00", "17:00");
    assert_eq!(ServiceLevels::check(&s).expect("valid").settings().business_hours.days, vec![1, 3, 5]);
}

#[test]
fn due_dates_follow_the_priority() {
    let d = ServiceLevels::default();
    let t = utc(2026, 12, 1, 9, 0);
    assert_eq!(d.first_response_due(t, Priority::Urgent), utc(2026, 12, 1, 10, 0));
    assert_eq!(d.resolution_due(t, Priority::Urgent), utc(2026, 12, 1, 17, 0));
    assert!(d.resolution_due(t, Priority::Low) > d.resolution_due(t, Priority::Normal));
}

fn any_levels() -> impl Strategy<Value = ServiceLevels> {
    let zones =
        prop::sample::select(vec!["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]);
    let days = prop::collection::btree_set(1i64..=7, 1..=7);
    (zones, days, 0u32..(24 * 60), 1u32..=(24 * 60)).prop_filter_map("a window", |(tz, days, a, len)| {
        let end = (a + len).min(24 * 60);
        let f = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        let days: Vec<i64> = days.into_iter().collect();
        (a < end).then(|| levels(tz, &days, &f(a), &f(end)))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn minutes_between_a_start_and_its_due_date_are_the_target(
        l in any_levels(),
        secs in 1_735_689_600i64..1_830_297_600, // 2025 … 2027
        m in 0i64..20_000,
    ) {
        let start = DateTime::from_timestamp(secs, 0).expect("in range");
        let m = m.min(l.nominal_week_minutes() * TARGET_MAX_WEEKS / 2);
        let due = l.due_after(start, m);
        prop_assert!(due >= start);
        prop_assert_eq!(l.business_minutes_between(start, due), m);
    }
}

#[test]
fn timezone_names_include_the_common_ones() {
    let names: Vec<_> = timezone_names().collect();
    assert!(names.contains(&"Europe/Berlin") && names.contains(&"UTC"));
}
