//! Whole numbers as the OpenAPI document promises them. JSON Schema's
//! `integer` is any number whose fraction is zero, so `355.0` is the
//! integer 355; serde's integer types refuse it. These read both, in JSON
//! bodies and (as text, the only kind a query string has) in query
//! strings, and refuse everything else with serde's own wording, which
//! `crate::body::shape_message` turns into the API's.
//!
//! Invariant: a value is accepted exactly when JSON Schema calls it an
//! integer within the type's range.

use serde::de::{self, Deserializer, Unexpected, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// The unsigned integer types read here.
trait Whole: Sized + TryFrom<u64> {
    /// Serde's name of the type, which the error messages expect.
    const NAME: &'static str;
}

impl Whole for u32 {
    const NAME: &'static str = "u32";
}

impl Whole for u64 {
    const NAME: &'static str = "u64";
}

/// 2^64, the first value past `u64::MAX`, exactly as an `f64`.
const TWO_TO_64: f64 = 18_446_744_073_709_551_616.0;

struct WholeVisitor<T> {
    /// Whether text is read as a number (query strings) or refused (JSON).
    from_text: bool,
    kind: PhantomData<T>,
}

impl<T: Whole> WholeVisitor<T> {
    fn of<E: de::Error>(&self, value: u64, unexpected: Unexpected<'_>) -> Result<T, E> {
        T::try_from(value).map_err(|_| E::invalid_value(unexpected, self))
    }
}

impl<T: Whole> Visitor<'_> for WholeVisitor<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(T::NAME)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        self.of(value, Unexpected::Unsigned(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        match u64::try_from(value) {
            Ok(value) => self.visit_u64(value),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(value), &self)),
        }
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<T, E> {
        if value.fract() != 0.0 || !value.is_finite() {
            return Err(E::invalid_type(Unexpected::Float(value), &self));
        }
        if !(0.0..TWO_TO_64).contains(&value) {
            return Err(E::invalid_value(Unexpected::Float(value), &self));
        }
        // Whole and within u64's range: the conversion is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let whole = value as u64;
        self.of(whole, Unexpected::Float(value))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        if !self.from_text {
            return Err(E::invalid_type(Unexpected::Str(text), &self));
        }
        if let Ok(value) = text.parse::<u64>() {
            return self.visit_u64(value);
        }
        match text.parse::<f64>() {
            Ok(value) if !text.trim().is_empty() => self.visit_f64(value),
            _ => Err(E::invalid_value(Unexpected::Str(text), &self)),
        }
    }
}

fn read<'de, D: Deserializer<'de>, T: Whole>(
    deserializer: D,
    from_text: bool,
) -> Result<T, D::Error> {
    deserializer.deserialize_any(WholeVisitor {
        from_text,
        kind: PhantomData,
    })
}

/// A `u32` in a JSON body: `3` or `3.0`.
pub fn json_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    read(deserializer, false)
}

/// An optional `u32` in a query string: `3` or `3.0`.
pub fn query_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    read(deserializer, true).map(Some)
}

/// An optional `u64` in a query string: `3` or `3.0`.
pub fn query_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    read(deserializer, true).map(Some)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(deserialize_with = "json_u32")]
        n: u32,
    }

    #[derive(Debug, Default, Deserialize)]
    struct Query {
        #[serde(default, deserialize_with = "query_u32")]
        limit: Option<u32>,
        #[serde(default, deserialize_with = "query_u64")]
        after: Option<u64>,
    }

    fn body(json: &str) -> Result<u32, String> {
        serde_json::from_str::<Body>(json)
            .map(|b| b.n)
            .map_err(|e| e.to_string())
    }

    fn query(text: &str) -> Result<(Option<u32>, Option<u64>), String> {
        let uri: axum::http::Uri = format!("/x?{text}").parse().unwrap();
        axum::extract::Query::<Query>::try_from_uri(&uri)
            .map(|axum::extract::Query(q)| (q.limit, q.after))
            .map_err(|e| e.body_text())
    }

    #[test]
    fn integers_with_a_zero_fraction_are_whole_numbers() {
        assert_eq!(body(r#"{"n": 355}"#), Ok(355));
        assert_eq!(body(r#"{"n": 355.0}"#), Ok(355));
        assert_eq!(body(r#"{"n": 4294967295}"#), Ok(u32::MAX));
        assert_eq!(
            query("limit=7.0&after=18446744073709551615"),
            Ok((Some(7), Some(u64::MAX)))
        );
        assert_eq!(query(""), Ok((None, None)));
    }

    #[test]
    fn anything_else_is_refused_in_serde_words() {
        for (json, words) in [
            (r#"{"n": 1.5}"#, "invalid type: floating point"),
            (r#"{"n": -1}"#, "invalid value: integer `-1`"),
            (
                r#"{"n": 4294967296}"#,
                "invalid value: integer `4294967296`",
            ),
            (r#"{"n": "3"}"#, "invalid type: string"),
            (r#"{"n": null}"#, "invalid type: null"),
        ] {
            let error = body(json).unwrap_err();
            assert!(error.contains(words), "{json}: {error}");
            assert!(error.contains("expected u32"), "{json}: {error}");
        }
        for text in [
            "limit=ten",
            "limit=-1",
            "limit=1.5",
            "limit=4294967296",
            "limit=",
            "after=1e20",
        ] {
            assert!(query(text).is_err(), "{text}");
        }
    }
}
