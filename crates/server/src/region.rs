//! Where a visitor is, resolved per request: from request headers that the
//! operator's CDN or proxy sets, then from an optional MaxMind DB file by
//! the client address, else unknown.
//!
//! Invariants:
//! - a header is read only when the operator configured it
//!   ([`HeaderSource`]); with none configured, no request header can
//!   change a visitor's region;
//! - the answer is a [`Region`] (country and subdivision) or nothing: no
//!   special code (`XX`, `T1`, `EU`, ...) and no malformed value gets
//!   through, and nothing finer than a subdivision is ever read;
//! - the client address is only looked up, never stored or logged, and
//!   neither is a header's raw value.

use axum::http::{HeaderMap, HeaderName};
use maxminddb::{MaxMindDbError, PathElement, Reader};
use nexaguard_consent::region::Region;
use serde::Serialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// A CDN or proxy whose geolocation headers NexaGuard knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// Cloudflare: `CF-IPCountry`, and `CF-Region-Code` where the managed
    /// transform "Add visitor location headers" is on.
    Cloudflare,
    /// Amazon CloudFront: `CloudFront-Viewer-Country` and
    /// `CloudFront-Viewer-Country-Region` (both to be included in the
    /// origin request policy).
    Cloudfront,
    /// Fastly: `Fastly-Geo-Country` and `Fastly-Geo-Region`, which the
    /// operator's VCL sets from `client.geo.country_code` and
    /// `client.geo.region`.
    Fastly,
    /// Vercel: `X-Vercel-IP-Country` and `X-Vercel-IP-Country-Region`.
    Vercel,
    /// Any proxy: `X-NexaGuard-Country` and `X-NexaGuard-Region`.
    Generic,
}

impl Preset {
    /// Every preset, in the order the documentation lists them.
    pub const ALL: [Preset; 5] = [
        Preset::Cloudflare,
        Preset::Cloudfront,
        Preset::Fastly,
        Preset::Vercel,
        Preset::Generic,
    ];

    /// The name the settings use.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Cloudflare => "cloudflare",
            Preset::Cloudfront => "cloudfront",
            Preset::Fastly => "fastly",
            Preset::Vercel => "vercel",
            Preset::Generic => "generic",
        }
    }

    /// The header holding the ISO 3166-1 alpha-2 country.
    pub fn country_header(self) -> HeaderName {
        HeaderName::from_static(match self {
            Preset::Cloudflare => "cf-ipcountry",
            Preset::Cloudfront => "cloudfront-viewer-country",
            Preset::Fastly => "fastly-geo-country",
            Preset::Vercel => "x-vercel-ip-country",
            Preset::Generic => "x-nexaguard-country",
        })
    }

    /// The header holding the ISO 3166-2 subdivision (`CA`, or `US-CA`).
    pub fn subdivision_header(self) -> HeaderName {
        HeaderName::from_static(match self {
            Preset::Cloudflare => "cf-region-code",
            Preset::Cloudfront => "cloudfront-viewer-country-region",
            Preset::Fastly => "fastly-geo-region",
            Preset::Vercel => "x-vercel-ip-country-region",
            Preset::Generic => "x-nexaguard-region",
        })
    }

    fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }
}

/// One trusted source of the region among the request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderSource {
    /// A preset's country and subdivision headers.
    Preset(Preset),
    /// A header of the operator's own naming that holds a region code:
    /// a country (`FR`) or a country and a subdivision (`US-CA`).
    Code(HeaderName),
    /// The older `country_header` setting: a header with a country alone.
    Country(HeaderName),
}

/// Why a `region_header` entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionSettingError {
    /// An empty entry (`cloudflare,,generic`).
    #[error("region_header has an empty entry")]
    Empty,
    /// Neither a preset nor a valid header name.
    #[error(
        "region_header {0:?} is neither a preset (cloudflare, cloudfront, fastly, vercel, generic) nor a valid header name"
    )]
    NotAHeader(String),
}

impl HeaderSource {
    /// A preset by name (any case), or else a header name holding a
    /// region code.
    ///
    /// # Errors
    ///
    /// An empty entry, or one that is no valid header name.
    pub fn parse(entry: &str) -> Result<HeaderSource, RegionSettingError> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(RegionSettingError::Empty);
        }
        if let Some(preset) = Preset::from_name(entry) {
            return Ok(HeaderSource::Preset(preset));
        }
        HeaderName::try_from(entry)
            .map(HeaderSource::Code)
            .map_err(|_| RegionSettingError::NotAHeader(entry.to_owned()))
    }

    /// Parses every entry of the setting; each may itself be a
    /// comma-separated list. Repeated sources are kept once, in the order
    /// first named.
    ///
    /// # Errors
    ///
    /// The first entry that [`HeaderSource::parse`] refuses.
    pub fn parse_list<S: AsRef<str>>(
        entries: &[S],
    ) -> Result<Vec<HeaderSource>, RegionSettingError> {
        let mut sources = Vec::new();
        for entry in entries {
            for part in entry.as_ref().split(',') {
                let source = HeaderSource::parse(part)?;
                if !sources.contains(&source) {
                    sources.push(source);
                }
            }
        }
        Ok(sources)
    }

    /// The headers this source reads.
    pub fn header_names(&self) -> Vec<HeaderName> {
        match self {
            HeaderSource::Preset(p) => vec![p.country_header(), p.subdivision_header()],
            HeaderSource::Code(name) | HeaderSource::Country(name) => vec![name.clone()],
        }
    }

    /// The region this source gives for a request, if its headers hold a
    /// real one.
    pub fn read(&self, headers: &HeaderMap) -> Option<Region> {
        match self {
            HeaderSource::Preset(preset) => {
                let country = country(single_value(headers, &preset.country_header())?)?;
                match single_value(headers, &preset.subdivision_header()) {
                    Some(sub) => Some(subdivision_of(&country, sub).unwrap_or(country)),
                    None => Some(country),
                }
            }
            HeaderSource::Code(name) => {
                let region: Region = single_value(headers, name)?.parse().ok()?;
                (!is_special(region.country_code())).then_some(region)
            }
            HeaderSource::Country(name) => country(single_value(headers, name)?),
        }
    }
}

/// The one value of `name`, trimmed and not empty. A header sent twice is
/// no answer: one of the two did not come from the edge.
fn single_value<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let value = value.to_str().ok()?.trim();
    (!value.is_empty()).then_some(value)
}

/// A real country: two letters that are not a special or reserved code.
fn country(code: &str) -> Option<Region> {
    Region::country(code).filter(|r| !is_special(r.country_code()))
}

/// `country` with the subdivision `code` (`CA`, or `US-CA` with the same
/// country), or `None` when it is malformed or names another country.
fn subdivision_of(country: &Region, code: &str) -> Option<Region> {
    let sub = match code.split_once(['-', '_']) {
        Some((prefix, sub)) if prefix.eq_ignore_ascii_case(country.country_code()) => sub,
        Some(_) => return None,
        None => code,
    };
    country.with_subdivision(sub)
}

/// Codes that name no country: unknown (`XX`, Cloudflare), reserved or
/// user-assigned ranges (`AA`, `QM`-`QZ`, `XA`-`XZ` but Kosovo's `XK`,
/// `ZZ`), and regions (`EU`, `AP`; `UK` is reserved, the country is `GB`).
/// Codes with digits (`T1` for Tor, `A1`, `A2`, `O1`) are never two
/// letters and are refused before this.
pub(crate) fn is_special(code: &str) -> bool {
    match code.as_bytes() {
        [b'X', b'K'] => false,
        [b'X', _] | [b'Q', b'M'..=b'Z'] => true,
        _ => matches!(code, "AA" | "ZZ" | "EU" | "AP" | "UK"),
    }
}

/// Where a resolved region came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RegionSource {
    /// A trusted header the operator configured.
    Header,
    /// The MaxMind DB file, by the client address.
    Geoip,
    /// `?nexaguard_region=` on a staging site key.
    Override,
    /// `?region=`: the site declared the visitor's region itself.
    Site,
    /// No source knew.
    Unknown,
}

/// A resolved region and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The region, if any source knew it.
    pub region: Option<Region>,
    /// Where it came from; [`RegionSource::Unknown`] exactly when
    /// `region` is `None`, except for an override to unknown.
    pub source: RegionSource,
}

impl Resolved {
    /// No region.
    pub fn unknown() -> Resolved {
        Resolved {
            region: None,
            source: RegionSource::Unknown,
        }
    }

    /// The country code alone, e.g. `US` of `US-CA`.
    pub fn country_code(&self) -> Option<&str> {
        self.region.as_ref().map(Region::country_code)
    }
}

/// The configured region sources, in the order they are asked.
#[derive(Debug, Default)]
pub struct RegionResolver {
    headers: Vec<HeaderSource>,
    geoip: Option<Arc<GeoIpDb>>,
}

impl RegionResolver {
    /// Trusted header sources first (in order), then the database.
    pub fn new(headers: Vec<HeaderSource>, geoip: Option<GeoIpDb>) -> RegionResolver {
        RegionResolver {
            headers,
            geoip: geoip.map(Arc::new),
        }
    }

    /// Only the older `country_header`, if set: what a server configured
    /// before regions existed resolves.
    pub fn from_country_header(country_header: Option<HeaderName>) -> RegionResolver {
        RegionResolver::new(
            country_header
                .map(HeaderSource::Country)
                .into_iter()
                .collect(),
            None,
        )
    }

    /// The region of a request: the first trusted header source that
    /// holds a real region, else the database's answer for the address
    /// `client_ip` gives (asked only then), else unknown.
    pub fn resolve(&self, headers: &HeaderMap, client_ip: impl FnOnce() -> IpAddr) -> Resolved {
        if let Some(region) = self.headers.iter().find_map(|s| s.read(headers)) {
            return Resolved {
                region: Some(region),
                source: RegionSource::Header,
            };
        }
        if let Some(region) = self.geoip.as_ref().and_then(|db| db.lookup(client_ip())) {
            return Resolved {
                region: Some(region),
                source: RegionSource::Geoip,
            };
        }
        Resolved::unknown()
    }

    /// The trusted header sources, in order.
    pub fn header_sources(&self) -> &[HeaderSource] {
        &self.headers
    }

    /// Every header name a resolution may read (for `Vary`).
    pub fn header_names(&self) -> Vec<HeaderName> {
        let mut names: Vec<HeaderName> = Vec::new();
        for name in self.headers.iter().flat_map(HeaderSource::header_names) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The database, if one is configured.
    pub fn geoip(&self) -> Option<&Arc<GeoIpDb>> {
        self.geoip.as_ref()
    }

    /// Looks at the database file every `every` and loads it again when
    /// it changed; `None` without a database. The task runs until aborted.
    pub fn spawn_reloader(&self, every: Duration) -> Option<tokio::task::JoinHandle<()>> {
        let db = Arc::clone(self.geoip.as_ref()?);
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let db = Arc::clone(&db);
                match tokio::task::spawn_blocking(move || db.reload_if_changed()).await {
                    Ok(Ok(true)) => tracing::info!("GeoIP database changed on disk; reloaded"),
                    Ok(Ok(false)) => {}
                    Ok(Err(error)) => tracing::error!(
                        %error,
                        "the changed GeoIP database cannot be used; keeping the previous one"
                    ),
                    Err(error) => tracing::error!(%error, "the GeoIP reload task failed"),
                }
            }
        }))
    }
}

/// Why the MaxMind DB file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    /// Missing or unreadable.
    #[error("cannot read the GeoIP database {}: {cause}", path.display())]
    Read {
        /// The configured path.
        path: PathBuf,
        /// What the file system said.
        cause: std::io::Error,
    },
    /// Read, but not a MaxMind DB file.
    #[error("{} is not a MaxMind DB (.mmdb) file: {cause}", path.display())]
    Format {
        /// The configured path.
        path: PathBuf,
        /// What the reader said.
        cause: MaxMindDbError,
    },
}

/// What tells a changed file: its modification time and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl FileStamp {
    fn of(path: &Path) -> Result<FileStamp, std::io::Error> {
        let meta = std::fs::metadata(path)?;
        Ok(FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }
}

struct Loaded {
    reader: Arc<Reader<Vec<u8>>>,
    stamp: FileStamp,
    /// A lookup failed on this file and was logged: once per file.
    warned: AtomicBool,
}

/// A MaxMind DB file (GeoIP2, GeoLite2, DB-IP and other files in the
/// GeoIP2 layout), held in memory. Reads `country.iso_code` and
/// `subdivisions[0].iso_code`, nothing else.
pub struct GeoIpDb {
    path: PathBuf,
    current: RwLock<Arc<Loaded>>,
}

impl std::fmt::Debug for GeoIpDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIpDb").field("path", &self.path).finish()
    }
}

impl GeoIpDb {
    /// Reads the file whole and checks that it is a MaxMind DB.
    ///
    /// # Errors
    ///
    /// A missing or unreadable file, or one that is not a MaxMind DB.
    pub fn open(path: &Path) -> Result<GeoIpDb, GeoIpError> {
        let loaded = load(path)?;
        Ok(GeoIpDb {
            path: path.to_owned(),
            current: RwLock::new(Arc::new(loaded)),
        })
    }

    /// The configured path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database type its metadata names (`GeoIP2-City`,
    /// `DBIP-Country-Lite`, ...).
    pub fn database_type(&self) -> String {
        self.loaded().reader.metadata().database_type.clone()
    }

    fn loaded(&self) -> Arc<Loaded> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The region of `ip`: its country and, where the file has one, its
    /// first subdivision. `None` when the file does not know the address
    /// or holds no real country for it.
    pub fn lookup(&self, ip: IpAddr) -> Option<Region> {
        let loaded = self.loaded();
        match lookup_in(&loaded.reader, ip.to_canonical()) {
            Ok(region) => region,
            Err(error) => {
                // Never the address: only that this file has a problem.
                if !loaded.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        %error,
                        "a GeoIP lookup failed; its visitors are of unknown region (logged once per database file)"
                    );
                }
                None
            }
        }
    }

    /// Loads the file again if its modification time or length changed.
    /// Returns whether it did; on an error the loaded database stays.
    ///
    /// # Errors
    ///
    /// The changed file cannot be read or is not a MaxMind DB.
    pub fn reload_if_changed(&self) -> Result<bool, GeoIpError> {
        let stamp = FileStamp::of(&self.path).map_err(|cause| GeoIpError::Read {
            path: self.path.clone(),
            cause,
        })?;
        if stamp == self.loaded().stamp {
            return Ok(false);
        }
        let fresh = Arc::new(load(&self.path)?);
        match self.current.write() {
            Ok(mut current) => *current = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(true)
    }
}

fn load(path: &Path) -> Result<Loaded, GeoIpError> {
    let read_error = |cause| GeoIpError::Read {
        path: path.to_owned(),
        cause,
    };
    // The stamp first: a file replaced while it is read is read again at
    // the next look.
    let stamp = FileStamp::of(path).map_err(read_error)?;
    let bytes = std::fs::read(path).map_err(read_error)?;
    let reader = Reader::from_source(bytes).map_err(|cause| GeoIpError::Format {
        path: path.to_owned(),
        cause,
    })?;
    Ok(Loaded {
        reader: Arc::new(reader),
        stamp,
        warned: AtomicBool::new(false),
    })
}

fn lookup_in(reader: &Reader<Vec<u8>>, ip: IpAddr) -> Result<Option<Region>, MaxMindDbError> {
    // An IPv6 address in an IPv4-only file has no answer, not an error.
    if ip.is_ipv6() && reader.metadata().ip_version == 4 {
        return Ok(None);
    }
    let result = reader.lookup(ip)?;
    if !result.has_data() {
        return Ok(None);
    }
    let code: Option<&str> =
        result.decode_path(&[PathElement::Key("country"), PathElement::Key("iso_code")])?;
    let Some(country) = code.and_then(country) else {
        return Ok(None);
    };
    let sub: Option<&str> = result.decode_path(&[
        PathElement::Key("subdivisions"),
        PathElement::Index(0),
        PathElement::Key("iso_code"),
    ])?;
    Ok(Some(
        sub.and_then(|s| subdivision_of(&country, s))
            .unwrap_or(country),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn special_and_reserved_codes_are_no_country() {
        for code in [
            "XX", "ZZ", "EU", "AP", "UK", "AA", "QM", "QZ", "XA", "XZ", "T1", "A1", "A2", "O1",
            "--", "**", "",
        ] {
            assert_eq!(country(code), None, "{code:?}");
        }
        for code in ["FR", "us", "XK", "QA", "GB"] {
            assert!(country(code).is_some(), "{code:?}");
        }
    }

    #[test]
    fn a_subdivision_with_another_country_is_dropped() {
        let us = Region::country("US").unwrap();
        assert_eq!(subdivision_of(&us, "ca").unwrap().to_string(), "US-CA");
        assert_eq!(subdivision_of(&us, "US-CA").unwrap().to_string(), "US-CA");
        assert_eq!(subdivision_of(&us, "GB-ENG"), None);
        assert_eq!(subdivision_of(&us, "CALI"), None);
    }

    #[test]
    fn a_header_sent_twice_is_unknown() {
        let source = HeaderSource::Preset(Preset::Generic);
        let twice = headers(&[("x-nexaguard-country", "FR"), ("x-nexaguard-country", "DE")]);
        assert_eq!(source.read(&twice), None);
    }

    #[test]
    fn settings_name_presets_in_any_case_or_header_names() {
        let sources =
            HeaderSource::parse_list(&["Cloudflare, x-geo", "generic", "cloudflare"]).unwrap();
        assert_eq!(
            sources,
            vec![
                HeaderSource::Preset(Preset::Cloudflare),
                HeaderSource::Code(HeaderName::from_static("x-geo")),
                HeaderSource::Preset(Preset::Generic),
            ]
        );
        assert_eq!(
            HeaderSource::parse_list(&["cloudflare,,generic"]),
            Err(RegionSettingError::Empty)
        );
        assert!(matches!(
            HeaderSource::parse_list(&["bad header"]),
            Err(RegionSettingError::NotAHeader(_))
        ));
    }
}
