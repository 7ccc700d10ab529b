//! The server's settings, from three sources with one precedence order:
//! command-line flags, then `NEXAGUARD_*` environment variables, then the
//! TOML file named by `--config`, then the defaults.
//!
//! Also the server's own addresses: [`PublicOrigin`] and [`PublicOrigins`].
//! Invariant: every absolute URL the server writes and every `Host` and
//! `Origin` it accepts as its own comes from a [`PublicOrigins`], built
//! from settings, never from what a request claims.

use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";
/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "./nexaguard-data";
/// Default retention of consent records: five years, as proof of consent.
pub const DEFAULT_RETENTION_DAYS: u32 = 5 * 365 + 1;

/// `nexaguard serve` flags. Each has an environment variable; a flag wins
/// over its variable, which wins over the config file.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// TOML config file; its keys are the long flag names with `_` for `-`.
    #[arg(long, env = "NEXAGUARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8443].
    #[arg(long, env = "NEXAGUARD_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory for the database, keys and generated certificate [default: ./nexaguard-data].
    #[arg(long, env = "NEXAGUARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://...) for several nodes on one database [default: SQLite in the data directory].
    #[arg(long, env = "NEXAGUARD_DATABASE_URL")]
    pub database_url: Option<String>,
    /// TLS certificate chain (PEM); without it a self-signed certificate is generated.
    #[arg(long, env = "NEXAGUARD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "NEXAGUARD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP, for running behind a TLS-terminating proxy only.
    #[arg(long, env = "NEXAGUARD_PLAIN_HTTP_BEHIND_PROXY", num_args = 0..=1, default_missing_value = "true")]
    pub plain_http_behind_proxy: Option<bool>,
    /// Global Vendor List: a file path or an https:// URL [default: the embedded sample].
    #[arg(long, env = "NEXAGUARD_GVL")]
    pub gvl: Option<String>,
    /// Trusted request header holding the visitor's country (e.g. CF-IPCountry); the older form of --region-header.
    #[arg(long, env = "NEXAGUARD_COUNTRY_HEADER")]
    pub country_header: Option<String>,
    /// Trusted headers with the visitor's region: presets cloudflare, cloudfront, fastly, vercel, generic, or header names holding a code like US-CA; repeat or separate with commas. Only what is named here is trusted [default: none].
    #[arg(long, env = "NEXAGUARD_REGION_HEADERS", value_delimiter = ',')]
    pub region_header: Vec<String>,
    /// MaxMind DB file (.mmdb) giving a visitor's region by address when no trusted header does; reloaded when it changes [default: none].
    #[arg(long, env = "NEXAGUARD_GEOIP_DB")]
    pub geoip_db: Option<PathBuf>,
    /// Consent posts allowed per client network (/24 or /64) per minute [default: 120].
    #[arg(long, env = "NEXAGUARD_RATE_LIMIT_PER_MINUTE")]
    pub rate_limit_per_minute: Option<u32>,
    /// Burst of consent posts allowed above the rate [default: 60].
    #[arg(long, env = "NEXAGUARD_RATE_LIMIT_BURST")]
    pub rate_limit_burst: Option<u32>,
    /// Days consent records are kept [default: 1826, five years].
    #[arg(long, env = "NEXAGUARD_RETENTION_DAYS")]
    pub retention_days: Option<u32>,
    /// Create a demo tenant and site when the store is empty.
    #[arg(long, env = "NEXAGUARD_DEMO", num_args = 0..=1, default_missing_value = "true")]
    pub demo: Option<bool>,
    /// Development and tests only: allow webhook URLs on this machine, over plain http too.
    #[arg(long, env = "NEXAGUARD_WEBHOOK_ALLOW_LOOPBACK", num_args = 0..=1, default_missing_value = "true")]
    pub webhook_allow_loopback: Option<bool>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "NEXAGUARD_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// The https:// URL visitors and admins use (https://consent.example.com); requests for other host names get 421 [default: https://localhost:PORT (also 127.0.0.1 and [::1]) on a loopback or unspecified listen address].
    #[arg(long, env = "NEXAGUARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Address of the Prometheus /metrics listener, plain HTTP, for the operator's network only (127.0.0.1:9464) [default: no metrics listener].
    #[arg(long, env = "NEXAGUARD_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Bearer token the metrics listener requires (at least 16 characters; prefer the environment variable to the flag).
    #[arg(long, env = "NEXAGUARD_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<MetricsToken>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The config file: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    plain_http_behind_proxy: Option<bool>,
    gvl: Option<String>,
    country_header: Option<String>,
    region_header: Option<OneOrMany>,
    geoip_db: Option<PathBuf>,
    rate_limit_per_minute: Option<u32>,
    rate_limit_burst: Option<u32>,
    retention_days: Option<u32>,
    demo: Option<bool>,
    webhook_allow_loopback: Option<bool>,
    log_format: Option<LogFormat>,
    public_url: Option<String>,
    metrics_listen: Option<SocketAddr>,
    metrics_token: Option<MetricsToken>,
}

/// A config file value that may be one string (comma-separated) or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// PostgreSQL URL; `None` for the embedded SQLite database.
    pub database_url: Option<String>,
    /// Configured certificate and key, if any.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Plain HTTP behind a proxy.
    pub plain_http_behind_proxy: bool,
    /// GVL path or URL; `None` for the embedded sample.
    pub gvl: Option<String>,
    /// Trusted country header (the older form of `region_headers`).
    pub country_header: Option<String>,
    /// Trusted region header sources, in the order they are asked.
    pub region_headers: Vec<crate::region::HeaderSource>,
    /// The MaxMind DB file, if any.
    pub geoip_db: Option<PathBuf>,
    /// Posts per minute per network.
    pub rate_limit_per_minute: u32,
    /// Burst.
    pub rate_limit_burst: u32,
    /// Retention in days.
    pub retention_days: u32,
    /// Create the demo when empty.
    pub demo: bool,
    /// Webhook URLs on this machine (over http too) are allowed.
    pub webhook_allow_loopback: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// The configured public URL; `None` derives it from the listen
    /// address ([`PublicOrigins::for_listener`]).
    pub public_url: Option<PublicOrigin>,
    /// The metrics listener's address; `None`: metrics are not served.
    pub metrics_listen: Option<SocketAddr>,
    /// The bearer token the metrics listener requires, if any.
    pub metrics_token: Option<MetricsToken>,
}

impl Settings {
    /// Resolves flags and environment (already merged by clap) over the
    /// config file over the defaults.
    pub fn resolve(args: ServeArgs) -> anyhow::Result<Settings> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let tls_cert = args.tls_cert.or(file.tls_cert);
        let tls_key = args.tls_key.or(file.tls_key);
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => anyhow::bail!("tls_cert and tls_key must be given together"),
        };
        let region_headers = if args.region_header.is_empty() {
            file.region_header
                .map(OneOrMany::into_vec)
                .unwrap_or_default()
        } else {
            args.region_header
        };
        let region_headers = crate::region::HeaderSource::parse_list(&region_headers)?;
        let settings = Settings {
            listen: match args.listen.or(file.listen) {
                Some(addr) => addr,
                None => DEFAULT_LISTEN.parse().context("default listen address")?,
            },
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            database_url: args.database_url.or(file.database_url),
            tls,
            plain_http_behind_proxy: args
                .plain_http_behind_proxy
                .or(file.plain_http_behind_proxy)
                .unwrap_or(false),
            gvl: args.gvl.or(file.gvl),
            country_header: args.country_header.or(file.country_header),
            region_headers,
            geoip_db: args.geoip_db.or(file.geoip_db),
            rate_limit_per_minute: args
                .rate_limit_per_minute
                .or(file.rate_limit_per_minute)
                .unwrap_or(120),
            rate_limit_burst: args
                .rate_limit_burst
                .or(file.rate_limit_burst)
                .unwrap_or(60),
            retention_days: args
                .retention_days
                .or(file.retention_days)
                .unwrap_or(DEFAULT_RETENTION_DAYS),
            demo: args.demo.or(file.demo).unwrap_or(false),
            webhook_allow_loopback: args
                .webhook_allow_loopback
                .or(file.webhook_allow_loopback)
                .unwrap_or(false),
            log_format: args.log_format.or(file.log_format).unwrap_or_default(),
            public_url: args
                .public_url
                .or(file.public_url)
                .map(|url| PublicOrigin::parse(&url))
                .transpose()
                .context("public_url")?,
            metrics_listen: args.metrics_listen.or(file.metrics_listen),
            metrics_token: args.metrics_token.or(file.metrics_token),
        };
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.rate_limit_per_minute == 0 || self.rate_limit_burst == 0 {
            anyhow::bail!("rate_limit_per_minute and rate_limit_burst must be at least 1");
        }
        if let Some(url) = &self.database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                anyhow::bail!("database_url must be a postgres:// URL");
            }
        }
        if self.retention_days == 0 {
            anyhow::bail!("retention_days must be at least 1");
        }
        if self.plain_http_behind_proxy && self.tls.is_some() {
            anyhow::bail!("plain_http_behind_proxy and tls_cert/tls_key exclude each other");
        }
        if let Some(token) = &self.metrics_token {
            if self.metrics_listen.is_none() {
                anyhow::bail!("metrics_token needs metrics_listen: metrics are only served there");
            }
            if token.0.chars().count() < MetricsToken::MIN_CHARS {
                anyhow::bail!(
                    "metrics_token must have at least {} characters",
                    MetricsToken::MIN_CHARS
                );
            }
        }
        if self.metrics_listen == Some(self.listen) {
            anyhow::bail!(
                "metrics_listen must differ from listen: metrics stay off the public listener"
            );
        }
        Ok(())
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("nexaguard.db")
    }

    /// The database: PostgreSQL when a URL is set, else the SQLite file.
    pub fn database(&self) -> crate::database::Database {
        match &self.database_url {
            Some(url) => crate::database::Database::Postgres(url.clone()),
            None => crate::database::Database::Sqlite(self.database_path()),
        }
    }
}

/// The bearer token of the metrics listener. Its debug form hides it, so
/// settings can be logged.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// The shortest token accepted: guessing must not be practical.
    pub const MIN_CHARS: usize = 16;

    /// Whether `presented` is this token. Both sides are hashed first so
    /// that the comparison takes the same time wherever they differ.
    pub fn matches(&self, presented: &str) -> bool {
        let expected = Sha256::digest(self.0.as_bytes());
        let presented = Sha256::digest(presented.as_bytes());
        expected
            .iter()
            .zip(presented.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(..)")
    }
}

impl std::str::FromStr for MetricsToken {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(MetricsToken(s.to_owned()))
    }
}

/// Why a public URL, `Host` or `Origin` is not an https origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicUrlError {
    /// Another scheme than https.
    #[error("must start with https:// (TLS ends at this server or at the proxy in front of it)")]
    NotHttps,
    /// A path, query, fragment or user name after the host.
    #[error("must be https://host[:port] without a path, query, fragment or user name")]
    NotAnOrigin,
    /// An empty or malformed host name.
    #[error("has no valid host name")]
    BadHost,
    /// A port that is not 1 to 65535.
    #[error("has an invalid port")]
    BadPort,
}

/// One https origin of this server: a host name (lower case; an IPv6
/// address in brackets) and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicOrigin {
    host: String,
    port: u16,
}

/// HTTPS's port, which URLs, `Host` and `Origin` leave out.
const HTTPS_PORT: u16 = 443;

impl PublicOrigin {
    /// Parses `https://host[:port]`, with or without a final `/`.
    ///
    /// # Errors
    ///
    /// When `url` is not an https origin ([`PublicUrlError`]).
    pub fn parse(url: &str) -> Result<Self, PublicUrlError> {
        let (scheme, rest) = url.split_once("://").ok_or(PublicUrlError::NotHttps)?;
        if !scheme.eq_ignore_ascii_case("https") {
            return Err(PublicUrlError::NotHttps);
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@']) {
            return Err(PublicUrlError::NotAnOrigin);
        }
        Self::from_authority(authority)
    }

    /// Parses a `Host` header value or a URI authority: `host[:port]`, the
    /// port 443 when left out.
    ///
    /// # Errors
    ///
    /// When it is not a host name or address with an optional port.
    pub fn from_authority(authority: &str) -> Result<Self, PublicUrlError> {
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (address, after) = bracketed.split_once(']').ok_or(PublicUrlError::BadHost)?;
            let address: Ipv6Addr = address.parse().map_err(|_| PublicUrlError::BadHost)?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or(PublicUrlError::BadPort)?),
            };
            (format!("[{address}]"), port)
        } else {
            let (host, port) = match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            };
            if !valid_host_name(host) {
                return Err(PublicUrlError::BadHost);
            }
            (host.to_ascii_lowercase(), port)
        };
        let port = match port {
            None => HTTPS_PORT,
            // Decimal digits only: `+443` or `0443` are not how anyone
            // writes this server's port.
            Some(text) => match text.parse::<u16>() {
                Ok(port) if port != 0 && port.to_string() == text => port,
                _ => return Err(PublicUrlError::BadPort),
            },
        };
        Ok(PublicOrigin { host, port })
    }

    /// The origin of `address` as browsers write it.
    pub fn of_address(ip: IpAddr, port: u16) -> Self {
        let host = match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        PublicOrigin { host, port }
    }

    /// `https://host` or `https://host:port`, as a browser's `Origin`.
    pub fn url(&self) -> String {
        if self.port == HTTPS_PORT {
            format!("https://{}", self.host)
        } else {
            format!("https://{}:{}", self.host, self.port)
        }
    }

    /// The host name, lower case (an IPv6 address in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A DNS name or an IPv4 address: letters, digits, `-` and `.`, in
/// non-empty labels.
fn valid_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Every origin this server answers as: the canonical one, which every
/// absolute URL the server writes uses, and aliases (the loopback forms in
/// development), accepted as `Host` and `Origin` but never written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOrigins(Arc<OriginList>);

#[derive(Debug, PartialEq, Eq)]
struct OriginList {
    canonical: PublicOrigin,
    aliases: Vec<PublicOrigin>,
}

impl PublicOrigins {
    /// Just `canonical`.
    pub fn new(canonical: PublicOrigin) -> Self {
        PublicOrigins(Arc::new(OriginList {
            canonical,
            aliases: Vec::new(),
        }))
    }

    /// These origins and `alias`, which is accepted but never written.
    #[must_use]
    pub fn with_alias(self, alias: PublicOrigin) -> Self {
        let mut aliases = self.0.aliases.clone();
        if alias != self.0.canonical && !aliases.contains(&alias) {
            aliases.push(alias);
        }
        PublicOrigins(Arc::new(OriginList {
            canonical: self.0.canonical.clone(),
            aliases,
        }))
    }

    /// The configured public URL, or without one the development default
    /// for the bound address: on a loopback or unspecified address,
    /// `https://localhost:PORT` (also `127.0.0.1` and `[::1]`, which the
    /// generated certificate covers too); on another address, that address.
    pub fn for_listener(configured: Option<&PublicOrigin>, bound: SocketAddr) -> Self {
        if let Some(origin) = configured {
            return Self::new(origin.clone());
        }
        let (ip, port) = (bound.ip(), bound.port());
        if ip.is_loopback() || ip.is_unspecified() {
            Self::new(PublicOrigin {
                host: "localhost".to_owned(),
                port,
            })
            .with_alias(PublicOrigin::of_address(IpAddr::from([127, 0, 0, 1]), port))
            .with_alias(PublicOrigin::of_address(
                IpAddr::from(Ipv6Addr::LOCALHOST),
                port,
            ))
        } else {
            Self::new(PublicOrigin::of_address(ip, port))
        }
    }

    /// The canonical origin.
    pub fn canonical(&self) -> &PublicOrigin {
        &self.0.canonical
    }

    /// The canonical origin's URL, without a final `/`: the base of every
    /// absolute URL the server writes.
    pub fn base_url(&self) -> String {
        self.0.canonical.url()
    }

    /// Every origin, the canonical one first.
    pub fn iter(&self) -> impl Iterator<Item = &PublicOrigin> {
        std::iter::once(&self.0.canonical).chain(self.0.aliases.iter())
    }

    /// The origin a `Host` value or URI authority names, if it is one of these.
    pub fn named_by(&self, authority: &str) -> Option<&PublicOrigin> {
        let named = PublicOrigin::from_authority(authority).ok()?;
        self.iter().find(|o| **o == named)
    }

    /// Whether an `Origin` header value is one of these origins.
    pub fn allows_origin(&self, origin: &str) -> bool {
        PublicOrigin::parse(origin).is_ok_and(|o| self.iter().any(|own| *own == o))
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flags_win_over_the_file_which_wins_over_defaults() {
        let dir = std::env::temp_dir().join(format!("ng-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("nexaguard.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nretention_days = 30\n").unwrap();
        let args = ServeArgs {
            config: Some(file.clone()),
            retention_days: Some(10),
            ..ServeArgs::default()
        };
        let s = Settings::resolve(args).unwrap();
        assert_eq!(s.listen.port(), 9000);
        assert_eq!(s.retention_days, 10);
        assert_eq!(s.rate_limit_per_minute, 120);
        assert_eq!(s.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        let dir = std::env::temp_dir().join(format!("ng-settings-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("nexaguard.toml");
        std::fs::write(&file, "listn = \"127.0.0.1:9000\"\n").unwrap();
        let err = Settings::resolve(ServeArgs {
            config: Some(file),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("listn"), "{err:#}");
    }

    #[test]
    fn a_public_url_must_be_a_bare_https_origin() {
        for bad in [
            "http://consent.example.com",
            "consent.example.com",
            "https://consent.example.com/cmp",
            "https://consent.example.com?x=1",
            "https://user@consent.example.com",
            "https://",
            "https://consent..example.com",
            "https://consent.example.com:0",
            "https://consent.example.com:+443",
            "https://consent.example.com:99999",
            "https://[::1",
        ] {
            assert!(PublicOrigin::parse(bad).is_err(), "{bad} was accepted");
        }
        let origin = PublicOrigin::parse("HTTPS://Consent.Example.com/").unwrap();
        assert_eq!(origin.url(), "https://consent.example.com");
        assert_eq!(origin.port(), 443);
        assert_eq!(
            PublicOrigin::parse("https://[0:0:0:0:0:0:0:1]:8443")
                .unwrap()
                .url(),
            "https://[::1]:8443"
        );
    }

    #[test]
    fn the_default_public_origins_are_the_loopback_names_of_the_bound_port() {
        let public = PublicOrigins::for_listener(None, "0.0.0.0:8443".parse().unwrap());
        assert_eq!(public.base_url(), "https://localhost:8443");
        for host in [
            "localhost:8443",
            "LOCALHOST:8443",
            "127.0.0.1:8443",
            "[::1]:8443",
        ] {
            assert!(public.named_by(host).is_some(), "{host}");
        }
        for host in [
            "localhost",
            "localhost:8444",
            "evil.example:8443",
            "10.0.0.7:8443",
        ] {
            assert!(public.named_by(host).is_none(), "{host}");
        }
        assert!(public.allows_origin("https://127.0.0.1:8443"));
        assert!(!public.allows_origin("http://localhost:8443"));
        assert!(!public.allows_origin("null"));
        let configured = PublicOrigin::parse("https://consent.example.com").unwrap();
        let public =
            PublicOrigins::for_listener(Some(&configured), "0.0.0.0:8443".parse().unwrap());
        assert!(public.named_by("consent.example.com").is_some());
        assert!(public.named_by("consent.example.com:443").is_some());
        assert!(public.named_by("localhost:8443").is_none());
    }

    #[test]
    fn a_metrics_token_needs_the_metrics_listener_and_sixteen_characters() {
        let short = Settings::resolve(ServeArgs {
            metrics_listen: Some("127.0.0.1:9464".parse().unwrap()),
            metrics_token: Some("short".parse().unwrap()),
            ..ServeArgs::default()
        });
        assert!(short.is_err());
        let alone = Settings::resolve(ServeArgs {
            metrics_token: Some("0123456789abcdef0123".parse().unwrap()),
            ..ServeArgs::default()
        });
        assert!(alone.is_err());
        let token: MetricsToken = "0123456789abcdef0123".parse().unwrap();
        assert!(token.matches("0123456789abcdef0123"));
        assert!(!token.matches("0123456789abcdef012"));
        assert_eq!(format!("{token:?}"), "MetricsToken(..)");
    }
}
