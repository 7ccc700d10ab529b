//! Google's Additional Consent (AC) string: consent and disclosure for Google
//! Ad Tech Providers (ATPs) that are not on the IAB Global Vendor List.
//!
//! Format, from Google's "Additional Consent technical specification"
//! (<https://support.google.com/admanager/answer/9681920>):
//!
//! - version 2: `2~{consented ids}~dv.{disclosed ids}`, ids dot-separated.
//!   The `dv.` part lists providers disclosed to the user *without* consent:
//!   Google asks that consented providers are not repeated there, so the two
//!   lists are disjoint. `dv` without the dot is accepted when its list is
//!   empty (Google's example `2~1.2.3.4.10~dv`).
//! - version 1: `1~{consented ids}`; it cannot say who was disclosed.
//!
//! [`AcString::parse`] is strict (it is also a debug tool): a typed error
//! with a stable [`AcParseError::code`] and the 0-based character position.
//! [`AcString`]'s `Display` always writes ids ascending, with `dv.`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// The AC specification version a string follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AcVersion {
    /// Version 1: consented providers only.
    V1,
    /// Version 2: consented providers and the `dv.` disclosed providers.
    V2,
}

impl AcVersion {
    /// The version number written at the start of the string.
    pub fn number(self) -> u8 {
        match self {
            AcVersion::V1 => 1,
            AcVersion::V2 => 2,
        }
    }

    /// The version for a number, if supported.
    pub fn from_number(n: u64) -> Option<Self> {
        match n {
            1 => Some(AcVersion::V1),
            2 => Some(AcVersion::V2),
            _ => None,
        }
    }
}

/// A valid AC string: provider ids are positive, and no provider is both
/// consented and disclosed-without-consent. Version 1 has no disclosed list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AcString {
    version: AcVersion,
    consented: BTreeSet<u32>,
    disclosed: BTreeSet<u32>,
}

impl AcString {
    /// Builds an AC string, checking the invariants. Ids may come in any
    /// order; a repeated id is an error, as it is in a parsed string.
    pub fn new(
        version: AcVersion,
        consented: impl IntoIterator<Item = u32>,
        disclosed: impl IntoIterator<Item = u32>,
    ) -> Result<Self, AcBuildError> {
        let consented = collect_ids(consented, None)?;
        let disclosed = collect_ids(disclosed, Some(&consented))?;
        if version == AcVersion::V1 && !disclosed.is_empty() {
            return Err(AcBuildError::DisclosedInVersion1);
        }
        Ok(Self {
            version,
            consented,
            disclosed,
        })
    }

    /// Parses an AC string; see the module documentation for the format.
    pub fn parse(input: &str) -> Result<Self, AcParseError> {
        Parser { input }.parse()
    }

    /// The specification version.
    pub fn version(&self) -> AcVersion {
        self.version
    }

    /// Providers the user consented to, ascending.
    pub fn consented(&self) -> &BTreeSet<u32> {
        &self.consented
    }

    /// Providers disclosed to the user without consent (the `dv.` list), ascending.
    pub fn disclosed(&self) -> &BTreeSet<u32> {
        &self.disclosed
    }

    /// Whether the user consented to `provider`.
    pub fn is_consented(&self, provider: u32) -> bool {
        self.consented.contains(&provider)
    }

    /// Whether `provider` was disclosed to the user, with or without consent.
    pub fn is_disclosed(&self, provider: u32) -> bool {
        self.consented.contains(&provider) || self.disclosed.contains(&provider)
    }
}

fn collect_ids(
    ids: impl IntoIterator<Item = u32>,
    consented: Option<&BTreeSet<u32>>,
) -> Result<BTreeSet<u32>, AcBuildError> {
    let mut set = BTreeSet::new();
    for id in ids {
        if id == 0 {
            return Err(AcBuildError::ZeroProviderId);
        }
        if consented.is_some_and(|c| c.contains(&id)) {
            return Err(AcBuildError::ConsentedAndDisclosed(id));
        }
        if !set.insert(id) {
            return Err(AcBuildError::DuplicateProvider(id));
        }
    }
    Ok(set)
}

impl fmt::Display for AcString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}~", self.version.number())?;
        write_ids(f, &self.consented)?;
        if self.version == AcVersion::V2 {
            f.write_str("~dv.")?;
            write_ids(f, &self.disclosed)?;
        }
        Ok(())
    }
}

fn write_ids(f: &mut fmt::Formatter<'_>, ids: &BTreeSet<u32>) -> fmt::Result {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            f.write_str(".")?;
        }
        write!(f, "{id}")?;
    }
    Ok(())
}

impl FromStr for AcString {
    type Err = AcParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why [`AcString::new`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcBuildError {
    /// Provider ids start at 1.
    #[error("provider id 0 is not valid: ids start at 1")]
    ZeroProviderId,
    /// An id was given twice in one list.
    #[error("provider {0} is listed twice")]
    DuplicateProvider(u32),
    /// An id was both consented and disclosed-without-consent.
    #[error("provider {0} is both consented and in the disclosed-without-consent list")]
    ConsentedAndDisclosed(u32),
    /// Version 1 cannot carry disclosed providers.
    #[error("version 1 AC strings cannot list disclosed providers")]
    DisclosedInVersion1,
    /// A version other than 1 or 2.
    #[error("unsupported AC version {0}: only 1 and 2 exist")]
    UnsupportedVersion(u64),
}

impl AcBuildError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AcBuildError::ZeroProviderId => "invalid_provider_id",
            AcBuildError::DuplicateProvider(_) => "duplicate_provider",
            AcBuildError::ConsentedAndDisclosed(_) => "consented_and_disclosed",
            AcBuildError::DisclosedInVersion1 => "disclosed_in_version_1",
            AcBuildError::UnsupportedVersion(_) => "unsupported_version",
        }
    }
}

/// Why an AC string could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at character {position})")]
pub struct AcParseError {
    /// What is wrong.
    pub kind: AcErrorKind,
    /// 0-based character position in the input where the problem starts.
    pub position: usize,
}

impl AcParseError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

/// The kinds of [`AcParseError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcErrorKind {
    /// The input was empty.
    #[error("empty AC string")]
    Empty,
    /// The version part was not a number.
    #[error("invalid version {0:?}: an AC string starts with its version number and '~'")]
    InvalidVersion(String),
    /// A version number other than 1 or 2.
    #[error("unsupported AC version {0}: only 1 and 2 exist")]
    UnsupportedVersion(String),
    /// No `~` after the version.
    #[error("missing '~' after the version")]
    MissingSeparator,
    /// A provider id that is not a positive decimal number without leading
    /// zeros (an empty id, as in `1..2` or a trailing dot, included).
    #[error("invalid provider id {0:?}: ids are positive decimal numbers without leading zeros")]
    InvalidProviderId(String),
    /// An id listed twice in one part.
    #[error("provider {0} is listed twice")]
    DuplicateProvider(u32),
    /// An id in both the consented and the `dv.` part.
    #[error("provider {0} is both consented and in the dv. (disclosed without consent) list")]
    ConsentedAndDisclosed(u32),
    /// A version 2 string without its `~dv.` part.
    #[error("missing disclosed section: version 2 strings end with '~dv.' and the disclosed ids")]
    MissingDisclosedSection,
    /// The third part did not start with `dv.`.
    #[error("invalid disclosed section {0:?}: it must start with 'dv.'")]
    InvalidDisclosedSection(String),
    /// More `~`-separated parts than the version has.
    #[error("unexpected '~': version {0} has no further section")]
    UnexpectedSection(u8),
}

impl AcErrorKind {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AcErrorKind::Empty => "empty",
            AcErrorKind::InvalidVersion(_) => "invalid_version",
            AcErrorKind::UnsupportedVersion(_) => "unsupported_version",
            AcErrorKind::MissingSeparator => "missing_separator",
            AcErrorKind::InvalidProviderId(_) => "invalid_provider_id",
            AcErrorKind::DuplicateProvider(_) => "duplicate_provider",
            AcErrorKind::ConsentedAndDisclosed(_) => "consented_and_disclosed",
            AcErrorKind::MissingDisclosedSection => "missing_disclosed_section",
            AcErrorKind::InvalidDisclosedSection(_) => "invalid_disclosed_section",
            AcErrorKind::UnexpectedSection(_) => "unexpected_section",
        }
    }
}

/// Error texts quote input; a hostile input must not make them huge.
fn excerpt(s: &str) -> String {
    const MAX: usize = 24;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut short: String = s.chars().take(MAX).collect();
        short.push('…');
        short
    }
}

/// Parser state: the whole input, so that byte offsets of parts can be
/// turned into character positions for errors.
struct Parser<'a> {
    input: &'a str,
}

impl Parser<'_> {
    fn parse(&self) -> Result<AcString, AcParseError> {
        if self.input.is_empty() {
            return Err(self.error(AcErrorKind::Empty, 0));
        }
        let (version_text, rest) = match self.input.split_once('~') {
            Some((v, rest)) => (v, Some(rest)),
            None => (self.input, None),
        };
        let version = self.version(version_text)?;
        let rest =
            rest.ok_or_else(|| self.error(AcErrorKind::MissingSeparator, self.input.len()))?;
        let rest_at = version_text.len() + 1;
        match version {
            AcVersion::V1 => self.v1(rest, rest_at),
            AcVersion::V2 => self.v2(rest, rest_at),
        }
    }

    fn version(&self, text: &str) -> Result<AcVersion, AcParseError> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.error(AcErrorKind::InvalidVersion(excerpt(text)), 0));
        }
        text.parse::<u64>()
            .ok()
            .and_then(AcVersion::from_number)
            .ok_or_else(|| self.error(AcErrorKind::UnsupportedVersion(excerpt(text)), 0))
    }

    fn v1(&self, rest: &str, at: usize) -> Result<AcString, AcParseError> {
        if let Some(extra) = rest.find('~') {
            return Err(self.error(AcErrorKind::UnexpectedSection(1), at + extra));
        }
        let consented = self.ids(rest, at, None)?;
        Ok(AcString {
            version: AcVersion::V1,
            consented,
            disclosed: BTreeSet::new(),
        })
    }

    fn v2(&self, rest: &str, at: usize) -> Result<AcString, AcParseError> {
        let (consented_text, disclosed_part) = rest
            .split_once('~')
            .ok_or_else(|| self.error(AcErrorKind::MissingDisclosedSection, self.input.len()))?;
        let consented = self.ids(consented_text, at, None)?;
        let part_at = at + consented_text.len() + 1;
        if let Some(extra) = disclosed_part.find('~') {
            return Err(self.error(AcErrorKind::UnexpectedSection(2), part_at + extra));
        }
        let disclosed = match disclosed_part.strip_prefix("dv") {
            Some("") => BTreeSet::new(),
            Some(list) => match list.strip_prefix('.') {
                Some(ids) => self.ids(ids, part_at + 3, Some(&consented))?,
                None => return Err(self.invalid_dv(disclosed_part, part_at)),
            },
            None => return Err(self.invalid_dv(disclosed_part, part_at)),
        };
        Ok(AcString {
            version: AcVersion::V2,
            consented,
            disclosed,
        })
    }

    fn invalid_dv(&self, part: &str, at: usize) -> AcParseError {
        self.error(AcErrorKind::InvalidDisclosedSection(excerpt(part)), at)
    }

    /// A dot-separated id list starting at byte `at`; empty text is an empty list.
    fn ids(
        &self,
        text: &str,
        at: usize,
        consented: Option<&BTreeSet<u32>>,
    ) -> Result<BTreeSet<u32>, AcParseError> {
        let mut set = BTreeSet::new();
        if text.is_empty() {
            return Ok(set);
        }
        let mut offset = at;
        for piece in text.split('.') {
            let id = self.id(piece, offset)?;
            if consented.is_some_and(|c| c.contains(&id)) {
                return Err(self.error(AcErrorKind::ConsentedAndDisclosed(id), offset));
            }
            if !set.insert(id) {
                return Err(self.error(AcErrorKind::DuplicateProvider(id), offset));
            }
            offset += piece.len() + 1;
        }
        Ok(set)
    }

    fn id(&self, piece: &str, at: usize) -> Result<u32, AcParseError> {
        let invalid = |pos| self.error(AcErrorKind::InvalidProviderId(excerpt(piece)), pos);
        if let Some((i, _)) = piece.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(invalid(at + i));
        }
        // Leading zeros would give two spellings of one id; 0 is no provider.
        if piece.is_empty() || piece.starts_with('0') {
            return Err(invalid(at));
        }
        piece.parse::<u32>().map_err(|_| invalid(at))
    }

    fn error(&self, kind: AcErrorKind, byte_offset: usize) -> AcParseError {
        let position = self
            .input
            .get(..byte_offset)
            .map_or(byte_offset, |prefix| prefix.chars().count());
        AcParseError { kind, position }
    }
}

/// The JSON form used by `nexaguard ac decode|encode`:
/// `{"version": 2, "consentedProviders": [...], "disclosedProviders": [...]}`.
///
/// `disclosedProviders` is the `dv.` list: disclosed *without* consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcJson {
    /// 1 or 2; 2 when absent.
    #[serde(default = "default_version")]
    pub version: u64,
    /// Consented provider ids.
    #[serde(default)]
    pub consented_providers: Vec<u32>,
    /// Provider ids disclosed without consent.
    #[serde(default)]
    pub disclosed_providers: Vec<u32>,
}

fn default_version() -> u64 {
    2
}

impl From<&AcString> for AcJson {
    fn from(ac: &AcString) -> Self {
        Self {
            version: u64::from(ac.version.number()),
            consented_providers: ac.consented.iter().copied().collect(),
            disclosed_providers: ac.disclosed.iter().copied().collect(),
        }
    }
}

impl TryFrom<AcJson> for AcString {
    type Error = AcBuildError;
    fn try_from(json: AcJson) -> Result<Self, Self::Error> {
        let version = AcVersion::from_number(json.version)
            .ok_or(AcBuildError::UnsupportedVersion(json.version))?;
        AcString::new(version, json.consented_providers, json.disclosed_providers)
    }
}
