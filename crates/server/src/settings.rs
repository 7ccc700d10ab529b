//! The server's settings, from three sources with one precedence order:
//! command-line flags, then `NEXAGUARD_*` environment variables, then the
//! TOML file named by `--config`, then the defaults.

use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    /// Trusted request header holding the visitor's country (e.g. CF-IPCountry).
    #[arg(long, env = "NEXAGUARD_COUNTRY_HEADER")]
    pub country_header: Option<String>,
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
    rate_limit_per_minute: Option<u32>,
    rate_limit_burst: Option<u32>,
    retention_days: Option<u32>,
    demo: Option<bool>,
    webhook_allow_loopback: Option<bool>,
    log_format: Option<LogFormat>,
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
    /// Trusted country header.
    pub country_header: Option<String>,
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
}
