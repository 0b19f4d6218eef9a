//! The store's clock: the system time, or a time a test has set (service levels and the
//! closing of solved tickets are tested over weekends and days without waiting for them).
//! A leaf: it imports no other query module.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// The time the store reads. Shared by every clone of the store.
#[derive(Clone, Debug, Default)]
pub(crate) struct Clock(Arc<AtomicI64>);

/// Stored in place of a set time while the clock follows the system time.
const SYSTEM: i64 = i64::MIN;

impl Clock {
    /// The current time: the set time, if a test set one.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        match self.0.load(Ordering::Relaxed) {
            SYSTEM | 0 => Utc::now(),
            micros => DateTime::from_timestamp_micros(micros).unwrap_or_else(Utc::now),
        }
    }

    /// Sets the time (`None`: follow the system time again).
    #[cfg(any(test, feature = "test-support"))]
    pub(crate) fn set(&self, at: Option<DateTime<Utc>>) {
        self.0.store(at.map_or(SYSTEM, |t| t.timestamp_micros()), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_time_is_read_until_it_is_cleared() {
        let c = Clock::default();
        let at = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z").unwrap().with_timezone(&Utc);
        c.set(Some(at));
        assert_eq!(c.clone().now(), at);
        c.set(None);
        assert!(c.now() > at);
    }
}
