//! How values are spelt in the SQLite file, and how they are read back.
//!
//! Everything that comes out of the database is checked: a value that does
//! not parse is reported as [`StoreError::Corrupt`] rather than trusted.

use crate::admin::rows::StoredRow;
use crate::StoreError;
use nexaguard_consent::Environment;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use uuid::Uuid;

/// UTC with exactly nine fractional digits: fixed width, so that comparing
/// the text compares the instants (the schema checks the width), and
/// nanoseconds survive the round trip.
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

/// The stored spelling of `at`.
pub(super) fn timestamp_to_db(at: OffsetDateTime) -> Result<String, StoreError> {
    let utc = at
        .checked_to_offset(UtcOffset::UTC)
        .ok_or_else(|| StoreError::Corrupt("a timestamp outside the storable range".to_owned()))?;
    utc.format(TIMESTAMP)
        .map_err(|e| StoreError::Corrupt(format!("a timestamp cannot be stored: {e}")))
}

/// Reads a stored timestamp back.
pub(super) fn timestamp_from_db(text: &str) -> Result<OffsetDateTime, StoreError> {
    PrimitiveDateTime::parse(text, TIMESTAMP)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|e| StoreError::Corrupt(format!("stored timestamp {text:?}: {e}")))
}

/// Reads a stored timestamp or NULL back.
pub(super) fn optional_timestamp_from_db(
    text: Option<String>,
) -> Result<Option<OffsetDateTime>, StoreError> {
    text.as_deref().map(timestamp_from_db).transpose()
}

/// The stored spelling of a time or NULL.
pub(super) fn optional_timestamp_to_db(
    at: Option<OffsetDateTime>,
) -> Result<Option<String>, StoreError> {
    at.map(timestamp_to_db).transpose()
}

/// The stored spelling of an id: lowercase, hyphenated.
pub(super) fn uuid_to_db(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// Reads a stored id back.
pub(super) fn uuid_from_db(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("stored id {text:?}: {e}")))
}

/// Reads a stored environment back.
pub(super) fn environment_from_db(text: &str) -> Result<Environment, StoreError> {
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("stored environment: {e}")))
}

/// Reads a stored version number back.
pub(super) fn version_from_db(version: i64) -> Result<u32, StoreError> {
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

/// How the admin tables' values are spelt in a SQLite row: ids and times
/// as text (see above), flags as 0 or 1, lists as JSON.
impl StoredRow for SqliteRow {
    fn uuid(&self, column: &str) -> Result<Uuid, StoreError> {
        uuid_from_db(self.try_get(column)?)
    }

    fn optional_uuid(&self, column: &str) -> Result<Option<Uuid>, StoreError> {
        self.try_get::<Option<&str>, _>(column)?
            .map(uuid_from_db)
            .transpose()
    }

    fn time(&self, column: &str) -> Result<OffsetDateTime, StoreError> {
        timestamp_from_db(self.try_get(column)?)
    }

    fn optional_time(&self, column: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        optional_timestamp_from_db(self.try_get(column)?)
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
        match self.try_get::<i64, _>(column)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(StoreError::Corrupt(format!("stored {column} {other}"))),
        }
    }

    fn texts(&self, column: &str) -> Result<Vec<String>, StoreError> {
        json_from_db(column, self.try_get(column)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_round_trip_to_the_nanosecond_in_sortable_text() {
        let at = datetime!(2024-05-01 14:00:00.000000007 +02:00);
        let text = timestamp_to_db(at).unwrap();
        assert_eq!(text, "2024-05-01T12:00:00.000000007Z");
        assert_eq!(text.len(), 30);
        assert_eq!(timestamp_from_db(&text).unwrap(), at);

        let later = timestamp_to_db(datetime!(2024-05-01 12:00:00.5 UTC)).unwrap();
        let earlier = timestamp_to_db(datetime!(2024-05-01 12:00:00 UTC)).unwrap();
        assert!(earlier < later && text < later);
    }

    #[test]
    fn bad_stored_values_are_reported_as_corrupt() {
        assert!(matches!(
            timestamp_from_db("yesterday"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(uuid_from_db("nope"), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            environment_from_db("prod"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(version_from_db(-1), Err(StoreError::Corrupt(_))));
    }
}
