//! TLS for `nexaguard serve`: where the certificate comes from, how rustls is
//! configured, and how a renewed certificate is picked up without a restart.
//!
//! * [`ensure_certificate`] returns the configured certificate/key pair, or
//!   generates a self-signed one under `<data_dir>/tls/` at first start so the
//!   server is never started without encryption by accident. It is valid for
//!   a year and renewed with the same key 30 days before it expires, at start
//!   or by [`spawn_renewer`] while the server runs.
//! * [`server_config`] builds the rustls configuration: *ring* provider passed
//!   explicitly (no process-wide default is needed), TLS 1.3 and 1.2 only,
//!   AEAD cipher suites only in the server's order of preference, ALPN `h2`
//!   and `http/1.1`.
//! * [`spawn_reloader`] polls the files and swaps the configuration in place
//!   when they change (certificate renewal by certbot, cert-manager, ...).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum_server::tls_rustls::RustlsConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{CipherSuite, ServerConfig};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

/// How often [`spawn_reloader`] looks at the certificate files in production.
///
/// Renewals happen days before expiry, so a few seconds of delay is irrelevant,
/// while reading two small files every few seconds costs nothing.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(5);

/// Directory under the data directory that holds the generated certificate.
const GENERATED_DIR: &str = "tls";
/// File name of the generated certificate (PEM).
const GENERATED_CERT: &str = "cert.pem";
/// File name of the generated private key (PEM, PKCS#8).
const GENERATED_KEY: &str = "key.pem";

/// How long a generated self-signed certificate is valid: a year, like the
/// certificates of public CAs used to be, so that one that leaks with a
/// copy of the data directory does not stay usable for ever.
const SELF_SIGNED_VALIDITY: time::Duration = time::Duration::days(365);

/// How long before its expiry a generated certificate is renewed, at start
/// or by [`spawn_renewer`]. The key is kept, so clients that pin the public
/// key (SPKI) keep working across renewals; clients that pin the whole
/// certificate must pin again once a year.
const RENEW_BEFORE: time::Duration = time::Duration::days(30);

/// How often [`spawn_renewer`] checks the generated certificate's expiry.
pub const RENEW_CHECK_INTERVAL: Duration = Duration::from_secs(6 * 60 * 60);

/// Names the self-signed certificate is valid for: the ways a local client
/// reaches the server before a real certificate is configured.
const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The only cipher suites the server accepts.
///
/// All are AEAD with forward secrecy. The *ring* provider's defaults happen to
/// be exactly this set today, but filtering against an explicit list keeps the
/// intent visible and protects us if a future rustls release adds a suite to
/// its defaults that we would not choose.
const ALLOWED_CIPHER_SUITES: [CipherSuite; 9] = [
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
];

/// A PEM certificate chain and the PEM private key that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM file with the server certificate first, then any intermediates.
    pub cert: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why TLS could not be set up. Every variant that concerns a file names it,
/// because "no items found" alone does not tell an operator what to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file or directory could not be written while generating the
    /// self-signed certificate.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid PEM.
    #[error("{} is not valid PEM: {source}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    #[error("{} contains no PEM certificate", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no private key.
    #[error("{} contains no PEM private key", path.display())]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// rustls refused the pair, e.g. the key does not match the certificate
    /// or the key type is unsupported.
    #[error("TLS certificate {} / key {} rejected: {source}", cert.display(), key.display())]
    Rejected {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// The underlying error.
        #[source]
        source: rustls::Error,
    },
    /// The crypto provider cannot satisfy the protocol policy (no cipher suite
    /// left for a protocol version). A programming error, not an operator one.
    #[error("TLS protocol policy cannot be met by the crypto provider: {0}")]
    Policy(#[source] rustls::Error),
    /// The self-signed certificate could not be generated.
    #[error("cannot generate the self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),

    /// The generated certificate's expiry could not be read.
    #[error("cannot read the expiry of {path}: {reason}")]
    Expiry {
        /// The certificate file.
        path: PathBuf,
        /// What the X.509 parser said.
        reason: String,
    },
}

/// Returns the certificate/key pair to serve.
///
/// With a configured pair, checks both files can be read and returns them
/// unchanged. Without one, uses `<data_dir>/tls/cert.pem` and
/// `<data_dir>/tls/key.pem`, generating a self-signed certificate for
/// `localhost`, `127.0.0.1` and `::1` there on first start (key mode 0600),
/// valid for a year. Later starts reuse it, renewed first (same key) if it
/// expires within 30 days.
///
/// # Errors
///
/// [`TlsError::Read`] if a configured file cannot be read,
/// [`TlsError::Write`] / [`TlsError::Generate`] if generating fails.
pub fn ensure_certificate(
    configured: Option<TlsFiles>,
    data_dir: &Path,
) -> Result<TlsFiles, TlsError> {
    if let Some(files) = configured {
        // Fail at start-up, with the path in the message, rather than on the
        // first handshake.
        check_readable(&files.cert)?;
        check_readable(&files.key)?;
        tracing::info!(
            cert = %files.cert.display(),
            key = %files.key.display(),
            "using the configured TLS certificate"
        );
        return Ok(files);
    }

    let dir = data_dir.join(GENERATED_DIR);
    let files = TlsFiles {
        cert: dir.join(GENERATED_CERT),
        key: dir.join(GENERATED_KEY),
    };
    // Both must be there: a lone file is the leftover of an interrupted first
    // start, and a certificate without its key is useless.
    if files.cert.is_file() && files.key.is_file() {
        check_readable(&files.cert)?;
        check_readable(&files.key)?;
        renew_if_due(&files, OffsetDateTime::now_utc())?;
        tracing::info!(
            cert = %files.cert.display(),
            key = %files.key.display(),
            "reusing the self-signed TLS certificate generated at first start in {}; \
             clients will not trust it unless they pin it, configure a real certificate for production",
            dir.display()
        );
        return Ok(files);
    }

    generate_self_signed(&dir, &files)?;
    tracing::info!(
        cert = %files.cert.display(),
        key = %files.key.display(),
        "generated a self-signed TLS certificate for localhost, 127.0.0.1 and ::1 in {}; \
         clients will not trust it unless they pin it, configure a real certificate for production",
        dir.display()
    );
    Ok(files)
}

/// Opens `path` for reading, mapping failure to a [`TlsError::Read`].
fn check_readable(path: &Path) -> Result<(), TlsError> {
    fs::File::open(path)
        .map(drop)
        .map_err(|source| TlsError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// Generates the self-signed pair into `files`, creating `dir`.
fn generate_self_signed(dir: &Path, files: &TlsFiles) -> Result<(), TlsError> {
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TlsError::Write { path, source }
    };
    let key_pair = rcgen::KeyPair::generate()?;
    let cert = self_signed_certificate(&key_pair, OffsetDateTime::now_utc())?;

    create_private_dir(dir).map_err(write_err(dir))?;
    // The key is written first and the certificate last: the certificate's
    // presence is what makes a later start reuse the pair, so a crash between
    // the two writes leads to regeneration instead of a half pair.
    write_new_file(&files.key, key_pair.serialize_pem().as_bytes(), true)
        .map_err(write_err(&files.key))?;
    write_new_file(&files.cert, cert.pem().as_bytes(), false).map_err(write_err(&files.cert))?;
    Ok(())
}

/// A certificate for [`SELF_SIGNED_NAMES`] signed by `key_pair`, valid from
/// a day before `now` (clocks of clients differ) for [`SELF_SIGNED_VALIDITY`].
fn self_signed_certificate(
    key_pair: &rcgen::KeyPair,
    now: OffsetDateTime,
) -> Result<rcgen::Certificate, TlsError> {
    let mut params = rcgen::CertificateParams::new(SELF_SIGNED_NAMES.map(String::from).to_vec())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "NexaGuard self-signed certificate",
    );
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + SELF_SIGNED_VALIDITY;
    Ok(params.self_signed(key_pair)?)
}

/// When the first certificate in the PEM file at `path` expires.
fn expiry(path: &Path) -> Result<OffsetDateTime, TlsError> {
    let failed = |reason: String| TlsError::Expiry {
        path: path.to_path_buf(),
        reason,
    };
    let pem = fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).map_err(|e| failed(e.to_string()))?;
    let cert = pem.parse_x509().map_err(|e| failed(e.to_string()))?;
    Ok(cert.validity().not_after.to_datetime())
}

/// Renews the generated certificate in `files` if it expires within
/// [`RENEW_BEFORE`] of `now` (or has expired): a new certificate for the
/// same key, written over the old one in one rename, so the reloader never
/// sees a half-written file. Returns whether it renewed.
fn renew_if_due(files: &TlsFiles, now: OffsetDateTime) -> Result<bool, TlsError> {
    let expires = expiry(&files.cert)?;
    if expires - now > RENEW_BEFORE {
        return Ok(false);
    }
    let key_pem = fs::read_to_string(&files.key).map_err(|source| TlsError::Read {
        path: files.key.clone(),
        source,
    })?;
    let key_pair = rcgen::KeyPair::from_pem(&key_pem)?;
    let cert = self_signed_certificate(&key_pair, now)?;
    replace_file(&files.cert, cert.pem().as_bytes()).map_err(|source| TlsError::Write {
        path: files.cert.clone(),
        source,
    })?;
    tracing::info!(
        cert = %files.cert.display(),
        expired_at = %expires,
        "renewed the self-signed TLS certificate (same key) for another year"
    );
    Ok(true)
}

/// Checks the generated certificate in `files` every `every` and renews it
/// before it expires (`RENEW_BEFORE`); the reloader then serves it. Only
/// for the certificate the server generated: a configured one is renewed by
/// whoever issued it. Runs until aborted.
pub fn spawn_renewer(files: TlsFiles, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let files = Arc::new(files);
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let files = Arc::clone(&files);
            let renewed = tokio::task::spawn_blocking(move || {
                renew_if_due(&files, OffsetDateTime::now_utc())
            })
            .await;
            match renewed {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::error!(%error, "renewing the self-signed TLS certificate failed")
                }
                Err(error) => {
                    tracing::error!(%error, "the certificate renewal check did not finish")
                }
            }
        }
    })
}

/// Whether `files` is the pair [`ensure_certificate`] generates in
/// `data_dir`, as opposed to a configured one.
pub fn is_generated(files: &TlsFiles, data_dir: &Path) -> bool {
    let dir = data_dir.join(GENERATED_DIR);
    files.cert == dir.join(GENERATED_CERT) && files.key == dir.join(GENERATED_KEY)
}

/// Writes `contents` to a temporary file beside `path` and renames it over
/// `path`: readers see the old file or the new one, never a part.
fn replace_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    write_new_file(&temporary, contents, false)?;
    fs::rename(&temporary, path)
}

/// Creates `dir` (and parents); on Unix the leaf is created mode 0700 because
/// it will hold a private key.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes `contents` to `path`, replacing any leftover file. With `private`,
/// the file is created mode 0600 on Unix: the mode is set at creation rather
/// than with a later chmod so the key is never readable by others, even
/// briefly.
fn write_new_file(path: &Path, contents: &[u8], private: bool) -> std::io::Result<()> {
    // A leftover from an interrupted start may have any mode; remove it so the
    // mode below applies (the mode only takes effect when creating).
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Builds the rustls server configuration for `files`.
///
/// Uses the *ring* provider explicitly (so no process-wide default provider
/// has to be installed), offers TLS 1.3 and TLS 1.2 only, AEAD cipher suites
/// only, and ALPN `h2` then `http/1.1`.
///
/// # Errors
///
/// A [`TlsError`] naming the file that cannot be read or parsed, or
/// [`TlsError::Rejected`] if rustls refuses the pair (e.g. mismatched key).
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let pem = PemPair::read(files)?;
    server_config_from_pem(files, &pem)
}

/// The raw contents of a [`TlsFiles`] pair.
///
/// The reloader hashes these bytes and builds the configuration from the very
/// same bytes, so the configuration always matches the recorded hash even if
/// the files change again in between.
#[derive(PartialEq, Eq)]
struct PemPair {
    /// Contents of the certificate file.
    cert: Vec<u8>,
    /// Contents of the key file.
    key: Vec<u8>,
}

impl PemPair {
    /// Reads both files.
    fn read(files: &TlsFiles) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            fs::read(path).map_err(|source| TlsError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        Ok(Self {
            cert: read(&files.cert)?,
            key: read(&files.key)?,
        })
    }

    /// SHA-256 over both files, each length-prefixed so that moving bytes
    /// from one file to the other cannot produce the same digest.
    fn digest(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for part in [&self.cert, &self.key] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        hasher.finalize().into()
    }
}

/// Builds the configuration from already-read PEM; `files` only names the
/// files in errors.
fn server_config_from_pem(files: &TlsFiles, pem: &PemPair) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(&pem.cert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            path: files.cert.clone(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: files.cert.clone(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(&pem.key).map_err(|source| match source {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoPrivateKey {
            path: files.key.clone(),
        },
        source => TlsError::Pem {
            path: files.key.clone(),
            source,
        },
    })?;

    let mut config = ServerConfig::builder_with_provider(Arc::new(provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Policy)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|source| TlsError::Rejected {
            cert: files.cert.clone(),
            key: files.key.clone(),
            source,
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // The server's order (AES-256-GCM first, see ALLOWED_CIPHER_SUITES), not
    // the client's, picks the suite: every allowed suite is strong, and
    // this keeps the choice the operator reviewed.
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

/// The *ring* provider restricted to [`ALLOWED_CIPHER_SUITES`].
fn provider() -> CryptoProvider {
    let mut provider = rustls::crypto::ring::default_provider();
    provider
        .cipher_suites
        .retain(|suite| ALLOWED_CIPHER_SUITES.contains(&suite.suite()));
    provider
}

/// What the reloader compares between polls: modification times (cheap, and
/// the usual signal) plus a content digest, because mtimes have coarse
/// granularity on some filesystems and tools like `cp -p` preserve them.
#[derive(PartialEq, Eq)]
struct Fingerprint {
    /// Modification time of the certificate file, if the platform has one.
    cert_modified: Option<SystemTime>,
    /// Modification time of the key file, if the platform has one.
    key_modified: Option<SystemTime>,
    /// [`PemPair::digest`] of the contents.
    digest: [u8; 32],
}

/// Reads the files once; returns their fingerprint and contents.
fn snapshot(files: &TlsFiles) -> Result<(Fingerprint, PemPair), TlsError> {
    let modified = |path: &Path| fs::metadata(path).and_then(|m| m.modified()).ok();
    let cert_modified = modified(&files.cert);
    let key_modified = modified(&files.key);
    let pem = PemPair::read(files)?;
    let fingerprint = Fingerprint {
        cert_modified,
        key_modified,
        digest: pem.digest(),
    };
    Ok((fingerprint, pem))
}

/// Outcome of one poll, for logging outside the blocking section.
enum Poll {
    /// Nothing changed since the last poll.
    Unchanged,
    /// The files changed and the new configuration is ready.
    Changed(Arc<ServerConfig>),
    /// The files changed (or vanished) but cannot be used.
    Failed {
        /// Why.
        error: TlsError,
        /// Whether the files hold new contents (as opposed to being
        /// unreadable), which always deserves a log line.
        new_contents: bool,
    },
}

/// Watches `files` every `every` and swaps the configuration served through
/// `config` when their modification time or contents change.
///
/// Established connections keep the certificate they were set up with and are
/// not dropped; new handshakes use the new one. If the new files cannot be
/// used (unreadable, invalid PEM, key not matching the certificate, e.g. while
/// a renewal is half-written) an error is logged and the previous certificate
/// stays in service; the error is logged once per distinct bad state, and the
/// reload is retried as soon as the files change again.
///
/// The task runs until aborted; abort it through the returned handle when the
/// server stops.
pub fn spawn_reloader(
    config: RustlsConfig,
    files: TlsFiles,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let files = Arc::new(files);
        // The baseline is what is on disk now: the served configuration was
        // just built from these files, so there is nothing to reload yet.
        let mut last = {
            let files = Arc::clone(&files);
            match tokio::task::spawn_blocking(move || snapshot(&files).map(|(f, _)| f)).await {
                Ok(Ok(fingerprint)) => Some(fingerprint),
                // Reported by the first poll, which will see the same error.
                Ok(Err(_)) | Err(_) => None,
            }
        };
        // The last error logged, so that a state that stays bad (e.g. a file
        // that stays missing) is reported once rather than every poll.
        let mut last_error: Option<String> = None;

        let mut ticker = tokio::time::interval(every);
        // After a stall (suspended VM, overloaded host) one poll is enough;
        // catching up with a burst of polls would only reread the same files.
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick completes immediately; the baseline above covers it.
        ticker.tick().await;

        loop {
            ticker.tick().await;
            let poll_files = Arc::clone(&files);
            let previous = last.take();
            // File I/O, hashing and key parsing are blocking work.
            let joined = tokio::task::spawn_blocking(move || {
                let (fingerprint, pem) = match snapshot(&poll_files) {
                    Ok(snapshot) => snapshot,
                    Err(error) => {
                        let poll = Poll::Failed {
                            error,
                            new_contents: false,
                        };
                        return (previous, poll);
                    }
                };
                if previous.as_ref() == Some(&fingerprint) {
                    return (previous, Poll::Unchanged);
                }
                let poll = match server_config_from_pem(&poll_files, &pem) {
                    Ok(new_config) => Poll::Changed(new_config),
                    Err(error) => Poll::Failed {
                        error,
                        new_contents: true,
                    },
                };
                // Recorded even on failure: the bad state is not retried every
                // poll, and any further change to the files is seen as new.
                (Some(fingerprint), poll)
            })
            .await;

            let poll = match joined {
                Ok((fingerprint, poll)) => {
                    last = fingerprint;
                    poll
                }
                Err(e) => {
                    tracing::error!(error = %e, "TLS certificate check failed; keeping the current certificate");
                    continue;
                }
            };
            match poll {
                Poll::Unchanged => {}
                Poll::Changed(new_config) => {
                    config.reload_from_config(new_config);
                    last_error = None;
                    tracing::info!(
                        cert = %files.cert.display(),
                        key = %files.key.display(),
                        "TLS certificate changed on disk; new connections use the new certificate"
                    );
                }
                Poll::Failed {
                    error,
                    new_contents,
                } => {
                    let message = error.to_string();
                    if new_contents || last_error.as_deref() != Some(message.as_str()) {
                        tracing::error!(
                            error = %message,
                            "new TLS certificate cannot be used; keeping the current certificate"
                        );
                        last_error = Some(message);
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The public key (SPKI) of the first certificate in `path`.
    fn public_key(path: &Path) -> Vec<u8> {
        let pem = fs::read(path).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        pem.parse_x509().unwrap().public_key().raw.to_vec()
    }

    fn generated() -> (tempfile::TempDir, TlsFiles) {
        let dir = tempfile::tempdir().unwrap();
        let files = ensure_certificate(None, dir.path()).unwrap();
        assert!(is_generated(&files, dir.path()));
        (dir, files)
    }

    #[test]
    fn a_generated_certificate_is_valid_for_a_year_from_its_creation() {
        let (_dir, files) = generated();
        let now = OffsetDateTime::now_utc();
        let left = expiry(&files.cert).unwrap() - now;
        assert!(
            left > time::Duration::days(364) && left <= time::Duration::days(365),
            "valid for {left} more"
        );
    }

    #[test]
    fn a_certificate_far_from_expiry_is_left_alone() {
        let (_dir, files) = generated();
        let before = fs::read(&files.cert).unwrap();
        let in_300_days = OffsetDateTime::now_utc() + time::Duration::days(300);
        assert!(!renew_if_due(&files, in_300_days).unwrap());
        assert_eq!(fs::read(&files.cert).unwrap(), before);
    }

    #[test]
    fn a_certificate_near_expiry_is_renewed_for_a_year_with_the_same_key() {
        let (_dir, files) = generated();
        let (cert, key) = (
            fs::read(&files.cert).unwrap(),
            fs::read(&files.key).unwrap(),
        );
        let spki = public_key(&files.cert);
        let in_340_days = OffsetDateTime::now_utc() + time::Duration::days(340);

        assert!(renew_if_due(&files, in_340_days).unwrap());

        assert_ne!(fs::read(&files.cert).unwrap(), cert);
        assert_eq!(fs::read(&files.key).unwrap(), key, "the key is kept");
        assert_eq!(
            public_key(&files.cert),
            spki,
            "pinned public keys still match"
        );
        let left = expiry(&files.cert).unwrap() - in_340_days;
        assert!(left > time::Duration::days(364), "renewed for {left}");
        // The renewed pair is one rustls serves.
        server_config(&files).unwrap();
        // And a start with it in place reuses it as it is.
        assert!(!renew_if_due(&files, in_340_days).unwrap());
    }
}
