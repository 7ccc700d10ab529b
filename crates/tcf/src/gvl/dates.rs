//! RFC 3339 dates (`2023-09-07T16:07:28Z`) as the GVL writes them.
//!
//! Written by hand rather than with the `time` crate's `serde` feature so
//! that the parsed date is written back in the same UTC `Z` form.

use serde::{Deserialize, Deserializer, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Parses an RFC 3339 date, naming the bad value in the error.
pub(crate) fn parse(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|d| d.to_offset(UtcOffset::UTC))
        .map_err(|e| format!("{s:?} is not an RFC 3339 date: {e}"))
}

/// Formats a date in RFC 3339, UTC.
pub(crate) fn format(date: OffsetDateTime) -> String {
    // Rfc3339 formatting fails only for years outside 0..=9999, which
    // parsing never produces; fall back to the debug form rather than panic.
    date.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| date.to_string())
}

pub(crate) fn serialize<S: Serializer>(date: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*date))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).map_err(serde::de::Error::custom)
}

/// The same for an optional date.
pub(crate) mod optional {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        date: &Option<OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match date {
            Some(d) => s.serialize_str(&format(*d)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => parse(&s).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}
