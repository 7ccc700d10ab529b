//! Server secrets generated into the data directory at first start: never
//! in the repository, never in the config file.

use anyhow::Context;
use nexaguard_consent::token::{TokenKeys, KEY_LEN};
use rand::RngCore;
use std::path::Path;

/// Reads the consent token keys from `data_dir/secrets/token.keys`,
/// creating them (mode 0600) on first start.
pub fn token_keys(data_dir: &Path) -> anyhow::Result<TokenKeys> {
    let bytes = random_secret(data_dir, "token.keys", 2 * KEY_LEN)?;
    let (issue, hash) = bytes
        .split_at_checked(KEY_LEN)
        .context("token.keys is too short")?;
    let issue: [u8; KEY_LEN] = issue.try_into().context("token.keys is damaged")?;
    let hash: [u8; KEY_LEN] = hash
        .try_into()
        .context("token.keys is damaged (wrong length)")?;
    Ok(TokenKeys::new(issue, hash))
}

/// Reads the key CSRF tokens are derived with from
/// `data_dir/secrets/csrf.key`, creating it on first start. Every node of
/// an installation needs the same file.
pub fn csrf_key(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let bytes = random_secret(data_dir, "csrf.key", 32)?;
    bytes
        .as_slice()
        .try_into()
        .context("csrf.key is damaged (wrong length)")
}

/// The key-encryption key file: `data_dir/secrets/kek.json`.
pub fn kek_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("secrets").join("kek.json")
}

/// Reads `data_dir/secrets/{name}`, or creates it with `len` random bytes
/// (mode 0600, in a 0700 directory).
fn random_secret(data_dir: &Path, name: &str, len: usize) -> anyhow::Result<Vec<u8>> {
    let dir = data_dir.join("secrets");
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            restrict_dir(&dir)?;
            let mut fresh = vec![0u8; len];
            rand::rng().fill_bytes(&mut fresh);
            write_private(&path, &fresh)?;
            tracing::info!(path = %path.display(), "generated a server secret");
            Ok(fresh)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("creating {}", path.display()))
}

#[cfg(unix)]
fn restrict_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", dir.display()))
}

#[cfg(not(unix))]
fn restrict_dir(_: &Path) -> anyhow::Result<()> {
    Ok(())
}
