//! Where a visitor is, as precisely as a consent record may say: an ISO
//! 3166-1 alpha-2 country and, where known, an ISO 3166-2 subdivision of it
//! (`US-CA`). Never anything finer: no city, no coordinates, no address.
//!
//! Invariant: a [`Region`] always holds a well-formed, upper-case code; its
//! text form (`FR`, `US-CA`) parses back to the same value.

use std::fmt;
use std::str::FromStr;

/// A visitor's region: a country, and a subdivision of it where known.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region {
    country: [u8; 2],
    /// The part of the ISO 3166-2 code after the country and the hyphen:
    /// one to three letters or digits.
    subdivision: Option<String>,
}

/// Why a region code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a region code: expected a country (`FR`) or a country and a subdivision (`US-CA`)")]
pub struct RegionError(pub String);

impl Region {
    /// A country alone; `None` unless `code` is two ASCII letters (either
    /// case).
    pub fn country(code: &str) -> Option<Region> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some(Region {
                country: [a.to_ascii_uppercase(), b.to_ascii_uppercase()],
                subdivision: None,
            }),
            _ => None,
        }
    }

    /// The same country with a subdivision (one to three ASCII letters or
    /// digits, as ISO 3166-2 codes are); `None` for anything else.
    pub fn with_subdivision(&self, subdivision: &str) -> Option<Region> {
        let ok = (1..=3).contains(&subdivision.len())
            && subdivision.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| Region {
            country: self.country,
            subdivision: Some(subdivision.to_ascii_uppercase()),
        })
    }

    /// The country code, e.g. `US`.
    pub fn country_code(&self) -> &str {
        // Built only from ASCII letters, so always UTF-8.
        std::str::from_utf8(&self.country).unwrap_or("ZZ")
    }

    /// The subdivision part, e.g. `CA` of `US-CA`.
    pub fn subdivision(&self) -> Option<&str> {
        self.subdivision.as_deref()
    }

    /// The country alone, without the subdivision.
    pub fn country_only(&self) -> Region {
        Region {
            country: self.country,
            subdivision: None,
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.subdivision {
            Some(sub) => write!(f, "{}-{sub}", self.country_code()),
            None => f.write_str(self.country_code()),
        }
    }
}

impl FromStr for Region {
    type Err = RegionError;

    /// `FR`, `fr`, `US-CA`, `us-ca` (also `us_ca`, the form a URL
    /// parameter may carry).
    fn from_str(text: &str) -> Result<Region, RegionError> {
        let refuse = || RegionError(text.to_owned());
        let text = text.trim();
        match text.split_once(['-', '_']) {
            Some((country, sub)) => Region::country(country)
                .and_then(|c| c.with_subdivision(sub))
                .ok_or_else(refuse),
            None => Region::country(text).ok_or_else(refuse),
        }
    }
}

impl serde::Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn codes_parse_upper_cased_and_print_back() {
        for (text, shown) in [
            ("FR", "FR"),
            ("fr", "FR"),
            ("US-CA", "US-CA"),
            ("us_ca", "US-CA"),
            ("GB-ENG", "GB-ENG"),
        ] {
            let region: Region = text.parse().unwrap();
            assert_eq!(region.to_string(), shown);
            assert_eq!(shown.parse::<Region>().unwrap(), region);
        }
        let ca: Region = "US-CA".parse().unwrap();
        assert_eq!(ca.country_code(), "US");
        assert_eq!(ca.subdivision(), Some("CA"));
        assert_eq!(ca.country_only().to_string(), "US");
    }

    #[test]
    fn anything_but_a_country_or_a_subdivision_is_refused() {
        for bad in [
            "", "F", "FRA", "1A", "US-", "US-CALI", "US-C A", "<s>", "US-CA-X", "ÉÉ",
        ] {
            assert!(bad.parse::<Region>().is_err(), "{bad:?}");
        }
    }
}
