//! How values are spelt in the PostgreSQL columns, and how they are read
//! back.
//!
//! PostgreSQL keeps `timestamptz` to the microsecond. Times the store makes
//! itself come from [`store_clock`], already whole microseconds, so they
//! round-trip exactly; consent times come from the caller with nanoseconds,
//! so they are stored as whole microseconds plus the remainder
//! ([`split_nanos`], [`join_nanos`]). Everything read back is checked: a
//! value that does not parse is [`StoreError::Corrupt`].

use crate::admin::rows::StoredRow;
use crate::StoreError;
use nexaguard_consent::Environment;
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::sync::atomic::{AtomicI64, Ordering};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The last instant [`store_clock`] handed out, in microseconds since the
/// Unix epoch. Process-wide, so that every store in the process shares it.
static LAST_MICROS: AtomicI64 = AtomicI64::new(i64::MIN);

/// Now, to the microsecond, and strictly later than every earlier answer in
/// this process (it runs ahead of the wall clock by a microsecond per call
/// when called faster than that, and never goes back when the clock does).
///
/// Used for the times the store makes: creation and publication times come
/// back exactly, things created one after the other list in that order, and
/// `consents.inserted_at` breaks ties between equal consent times by
/// insertion order without a sequence.
pub(super) fn store_clock() -> Result<OffsetDateTime, StoreError> {
    let now = OffsetDateTime::now_utc()
        .unix_timestamp_nanos()
        .div_euclid(1_000);
    let now = i64::try_from(now).map_err(|_| out_of_range())?;
    let previous = LAST_MICROS
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(now.max(last.saturating_add(1)))
        })
        // The closure always answers `Some`, so this is never `Err`; both
        // carry the previous value anyway.
        .unwrap_or_else(|last| last);
    let micros = now.max(previous.saturating_add(1));
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|_| out_of_range())
}

/// `at` as whole microseconds (rounded down) and the nanoseconds beyond
/// them (0..=999).
pub(super) fn split_nanos(at: OffsetDateTime) -> Result<(OffsetDateTime, i16), StoreError> {
    // `nanosecond` counts within the second, from 0 whatever the sign of
    // the Unix time, so this rounds down before 1970 too.
    let beyond = at.nanosecond() % 1_000;
    let micros = at
        .replace_nanosecond(at.nanosecond() - beyond)
        .map_err(|_| out_of_range())?;
    let beyond = i16::try_from(beyond).map_err(|_| out_of_range())?;
    Ok((micros, beyond))
}

/// `at` rounded down to the microsecond, the precision of `timestamptz`.
///
/// Applied to every time a caller hands in before it is stored or used, so
/// that what is read back equals what was written. It matters for the
/// audit log: an entry's hash covers its time in nanoseconds, so the time
/// is truncated before the hash is computed, never after.
pub(super) fn to_micros(at: OffsetDateTime) -> Result<OffsetDateTime, StoreError> {
    Ok(split_nanos(at)?.0)
}

/// [`to_micros`] of a time or nothing.
pub(super) fn optional_micros(
    at: Option<OffsetDateTime>,
) -> Result<Option<OffsetDateTime>, StoreError> {
    at.map(to_micros).transpose()
}

/// The instant [`split_nanos`] split, from the stored columns.
pub(super) fn join_nanos(
    micros: OffsetDateTime,
    beyond: i16,
) -> Result<OffsetDateTime, StoreError> {
    if !(0..1_000).contains(&beyond) {
        return Err(StoreError::Corrupt(format!(
            "stored sub-microsecond part {beyond} is out of range"
        )));
    }
    micros
        .checked_add(Duration::nanoseconds(beyond.into()))
        .ok_or_else(|| StoreError::Corrupt("a stored time is out of range".to_owned()))
}

fn out_of_range() -> StoreError {
    StoreError::Corrupt("a timestamp outside the storable range".to_owned())
}

/// Reads a stored environment back.
pub(super) fn environment_from_db(text: &str) -> Result<Environment, StoreError> {
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("stored environment: {e}")))
}

/// Reads a stored version number back.
pub(super) fn version_from_db(version: i32) -> Result<u32, StoreError> {
    u32::try_from(version)
        .map_err(|_| StoreError::Corrupt(format!("stored version {version} is out of range")))
}

/// Reads a stored JSON value back. The error names the kind of value only:
/// the text may hold consent data, which does not belong in error messages.
pub(super) fn json_from_db<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored {what}: {e}")))
}

/// The stored JSON of `value`.
pub(super) fn json_to_db<T: serde::Serialize + ?Sized>(
    what: &str,
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Corrupt(format!("{what} cannot be stored: {e}")))
}

/// How the admin tables' values are read from a PostgreSQL row: ids,
/// times, flags and lists in their native types.
impl StoredRow for PgRow {
    fn uuid(&self, column: &str) -> Result<Uuid, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn optional_uuid(&self, column: &str) -> Result<Option<Uuid>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn time(&self, column: &str) -> Result<OffsetDateTime, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn optional_time(&self, column: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn text(&self, column: &str) -> Result<String, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn integer(&self, column: &str) -> Result<i64, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn texts(&self, column: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.try_get(column)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use time::macros::datetime;

    #[test]
    fn nanoseconds_survive_the_split() {
        for at in [
            datetime!(2024-05-01 14:00:00.123456789 +02:00),
            datetime!(1969-12-31 23:59:59.999999999 UTC),
            datetime!(2024-05-01 00:00:00 UTC),
        ] {
            let (micros, beyond) = split_nanos(at).unwrap();
            assert_eq!(micros.nanosecond() % 1_000, 0);
            assert!(micros <= at);
            assert!((0..1_000).contains(&beyond));
            assert_eq!(join_nanos(micros, beyond).unwrap(), at);
        }
        assert!(matches!(
            join_nanos(datetime!(2024-05-01 00:00:00 UTC), 1_000),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn the_store_clock_is_whole_microseconds_and_strictly_increasing() {
        let mut last = store_clock().unwrap();
        for _ in 0..10_000 {
            let next = store_clock().unwrap();
            assert_eq!(next.nanosecond() % 1_000, 0);
            assert!(next > last, "{next} after {last}");
            last = next;
        }
    }
}
