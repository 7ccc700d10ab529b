//! How long an administrative session lives.

use time::{Duration, OffsetDateTime};

/// A session unused for this long has expired.
pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);

/// A session this old has expired however busy it is, so a stolen session
/// secret is useful for a bounded time.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);

/// Why a session is no longer valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionExpiry {
    /// Unused for [`IDLE_TIMEOUT`].
    #[error("session expired after 30 minutes of inactivity")]
    Idle,
    /// Older than [`ABSOLUTE_TIMEOUT`].
    #[error("session expired 12 hours after sign-in")]
    Absolute,
}

/// Whether a session created at `created_at` and last used at `last_seen_at`
/// is still valid at `now`. A session expires at the instant its timeout is
/// reached; the absolute limit is reported first because activity cannot
/// extend it.
pub fn check_session(
    created_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), SessionExpiry> {
    if now - created_at >= ABSOLUTE_TIMEOUT {
        return Err(SessionExpiry::Absolute);
    }
    if now - last_seen_at >= IDLE_TIMEOUT {
        return Err(SessionExpiry::Idle);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const START: OffsetDateTime = datetime!(2025-03-01 09:00 UTC);

    #[test]
    fn idle_boundary() {
        let second = Duration::seconds(1);
        assert_eq!(check_session(START, START, START), Ok(()));
        assert_eq!(
            check_session(START, START, START + IDLE_TIMEOUT - second),
            Ok(())
        );
        assert_eq!(
            check_session(START, START, START + IDLE_TIMEOUT),
            Err(SessionExpiry::Idle)
        );
    }

    #[test]
    fn activity_keeps_a_session_alive_until_the_absolute_limit() {
        let second = Duration::seconds(1);
        let end = START + ABSOLUTE_TIMEOUT;
        let recent = end - Duration::minutes(1);
        assert_eq!(check_session(START, recent, end - second), Ok(()));
        assert_eq!(
            check_session(START, recent, end),
            Err(SessionExpiry::Absolute)
        );
    }

    #[test]
    fn absolute_wins_over_idle() {
        let later = START + ABSOLUTE_TIMEOUT + Duration::hours(1);
        assert_eq!(
            check_session(START, START, later),
            Err(SessionExpiry::Absolute)
        );
    }

    #[test]
    fn messages() {
        assert_eq!(
            SessionExpiry::Idle.to_string(),
            "session expired after 30 minutes of inactivity"
        );
        assert_eq!(
            SessionExpiry::Absolute.to_string(),
            "session expired 12 hours after sign-in"
        );
    }
}
