//! Throttling of failed sign-ins. Pure policy: the server keeps one
//! [`Throttle`] per account in the database and one per client network in
//! memory, and resets it to `Throttle::default()` after a success.

use time::{Duration, OffsetDateTime};

/// Failures allowed before the first lockout.
const FREE_ATTEMPTS: u32 = 5;
/// The first lockout; each further failure doubles it.
const FIRST_LOCKOUT: Duration = Duration::seconds(30);
/// Long enough to make guessing hopeless, short enough that an attacker
/// cannot keep a real user out for a day.
const MAX_LOCKOUT: Duration = Duration::hours(1);

/// Failed attempts so far and the lock they earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    /// Consecutive failures since the last success.
    pub failures: u32,
    /// Until when attempts are refused without being checked.
    pub locked_until: Option<OffsetDateTime>,
}

impl Throttle {
    /// Free attempts before lockout: 5. Then lockouts grow: 30 s, 60 s,
    /// 120 s, ... capped at 1 hour.
    ///
    /// The fifth failure starts the first lockout. Call this only for
    /// attempts that were checked: an attempt refused because of
    /// [`Throttle::locked`] must not lengthen the lock, or an attacker could
    /// keep a user out indefinitely.
    pub fn record_failure(self, now: OffsetDateTime) -> Throttle {
        let failures = self.failures.saturating_add(1);
        Throttle {
            failures,
            locked_until: lockout_for(failures).map(|lock| now + lock),
        }
    }

    /// How long attempts remain refused at `now`, if they are.
    pub fn locked(&self, now: OffsetDateTime) -> Option<Duration> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Whether going from `before` to `after` began a new lock, which the
    /// server records in the audit log.
    pub fn just_locked(before: &Throttle, after: &Throttle) -> bool {
        after.locked_until.is_some() && after.locked_until != before.locked_until
    }
}

/// The lock earned by the `failures`-th consecutive failure.
fn lockout_for(failures: u32) -> Option<Duration> {
    let beyond_free = failures.checked_sub(FREE_ATTEMPTS)?;
    // Doubling more than 7 times passes the cap anyway; stopping there keeps
    // the arithmetic from overflowing.
    let doubled = FIRST_LOCKOUT * 2_i32.pow(beyond_free.min(7));
    Some(doubled.min(MAX_LOCKOUT))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2025-03-01 09:00 UTC);

    fn after_failures(n: u32) -> Throttle {
        (0..n).fold(Throttle::default(), |t, _| t.record_failure(NOW))
    }

    #[test]
    fn four_failures_are_free() {
        let throttle = after_failures(4);
        assert_eq!(throttle.failures, 4);
        assert_eq!(throttle.locked(NOW), None);
    }

    #[test]
    fn lockouts_double_then_cap() {
        let expected = [30, 60, 120, 240, 480, 960, 1920, 3600, 3600];
        for (i, seconds) in expected.into_iter().enumerate() {
            let failures = 5 + u32::try_from(i).unwrap();
            let throttle = after_failures(failures);
            assert_eq!(
                throttle.locked(NOW),
                Some(Duration::seconds(seconds)),
                "after {failures} failures"
            );
        }
        assert_eq!(after_failures(1000).locked(NOW), Some(MAX_LOCKOUT));
    }

    #[test]
    fn counter_saturates() {
        let throttle = Throttle {
            failures: u32::MAX,
            locked_until: None,
        }
        .record_failure(NOW);
        assert_eq!(throttle.failures, u32::MAX);
        assert_eq!(throttle.locked(NOW), Some(MAX_LOCKOUT));
    }

    #[test]
    fn lock_counts_down_and_ends() {
        let throttle = after_failures(5);
        assert_eq!(
            throttle.locked(NOW + Duration::seconds(10)),
            Some(Duration::seconds(20))
        );
        assert_eq!(throttle.locked(NOW + Duration::seconds(30)), None);
    }

    #[test]
    fn just_locked_marks_each_new_lock() {
        let four = after_failures(4);
        let five = four.record_failure(NOW);
        assert!(!Throttle::just_locked(&after_failures(3), &four));
        assert!(Throttle::just_locked(&four, &five));
        assert!(!Throttle::just_locked(&five, &five));
        let later = NOW + Duration::seconds(31);
        assert!(Throttle::just_locked(&five, &five.record_failure(later)));
        assert!(!Throttle::just_locked(&five, &Throttle::default()));
    }
}
