//! KEKs kept in a local key file.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::kek::{self, KeyEncryptionKeys, WrappedKey};
use crate::{DataKey, KeyId, KeyringError};

/// KEKs kept in a local key file.
///
/// The file is JSON:
///
/// ```json
/// {"current": "kek-…", "keys": [{"id": "kek-…", "key": "<base64 of 32 bytes>", "created_at": 1700000000}]}
/// ```
///
/// It is created with mode 0600 on Unix and refused when group or others
/// have any access to it. Every change is written atomically (a temporary
/// file in the same directory, fsync, rename, fsync of the directory), so a
/// crash leaves either the old or the new file, never a torn one: losing the
/// file loses every secret.
///
/// [`rotate`](LocalKeyFile::rotate) and [`retire`](LocalKeyFile::retire)
/// re-read the file before changing it, so a key added meanwhile by another
/// process (e.g. `nexaguard keys rotate`) is kept. Two processes changing the
/// file at the very same moment are not coordinated; run one rotation at a
/// time.
pub struct LocalKeyFile {
    path: PathBuf,
    keys: RwLock<KeySet>,
}

/// The keys held in memory.
struct KeySet {
    current: KeyId,
    keys: Vec<Kek>,
}

struct Kek {
    id: KeyId,
    key: DataKey,
    created_at: u64,
}

impl KeySet {
    /// A set with one fresh KEK.
    fn fresh() -> KeySet {
        let kek = Kek::fresh(&[]);
        KeySet {
            current: kek.id.clone(),
            keys: vec![kek],
        }
    }

    fn get(&self, id: &KeyId) -> Option<&DataKey> {
        self.keys.iter().find(|k| &k.id == id).map(|k| &k.key)
    }
}

impl Kek {
    /// A fresh KEK whose id is not among `taken`.
    fn fresh(taken: &[Kek]) -> Kek {
        let mut id = KeyId::random("kek");
        // 64 random bits make a clash all but impossible; checking costs
        // nothing and a clash would make two keys indistinguishable.
        while taken.iter().any(|k| k.id == id) {
            id = KeyId::random("kek");
        }
        let created_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Kek {
            id,
            key: DataKey::generate(),
            created_at,
        }
    }
}

/// The file's JSON form.
#[derive(Serialize, Deserialize)]
struct FileForm {
    current: KeyId,
    keys: Vec<FileKey>,
}

#[derive(Serialize, Deserialize)]
struct FileKey {
    id: KeyId,
    key: String,
    created_at: u64,
}

impl Drop for FileKey {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl FileForm {
    fn from_set(set: &KeySet) -> FileForm {
        FileForm {
            current: set.current.clone(),
            keys: set
                .keys
                .iter()
                .map(|k| FileKey {
                    id: k.id.clone(),
                    key: STANDARD.encode(k.key.as_bytes()),
                    created_at: k.created_at,
                })
                .collect(),
        }
    }

    fn into_set(self) -> Result<KeySet, KeyringError> {
        let mut keys: Vec<Kek> = Vec::with_capacity(self.keys.len());
        for entry in &self.keys {
            if keys.iter().any(|k| k.id == entry.id) {
                return Err(KeyringError::BadKeyFile(format!(
                    "key {} appears twice",
                    entry.id
                )));
            }
            let bytes = Zeroizing::new(STANDARD.decode(&entry.key).map_err(|_| {
                KeyringError::BadKeyFile(format!("key {} is not valid base64", entry.id))
            })?);
            let key = <[u8; 32]>::try_from(bytes.as_slice())
                .map(DataKey::from_bytes)
                .map_err(|_| {
                    KeyringError::BadKeyFile(format!(
                        "key {} is {} bytes, expected 32",
                        entry.id,
                        bytes.len()
                    ))
                });
            keys.push(Kek {
                id: entry.id.clone(),
                key: key?,
                created_at: entry.created_at,
            });
        }
        if !keys.iter().any(|k| k.id == self.current) {
            return Err(KeyringError::BadKeyFile(format!(
                "current key {} is not among the keys",
                self.current
            )));
        }
        Ok(KeySet {
            current: self.current.clone(),
            keys,
        })
    }
}

impl LocalKeyFile {
    /// Opens the key file, creating it with one fresh KEK when it is missing
    /// (mode 0600 on Unix; missing parent directories are created, mode 0700).
    ///
    /// Refuses, on Unix, a file that group or others can access.
    pub fn open_or_create(path: &Path) -> Result<LocalKeyFile, KeyringError> {
        match Self::open(path) {
            Err(KeyringError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Self::create(path)
            }
            other => other,
        }
    }

    /// Opens an existing key file; a missing file is an error.
    pub fn open(path: &Path) -> Result<LocalKeyFile, KeyringError> {
        let keys = load(path)?;
        Ok(LocalKeyFile {
            path: path.to_path_buf(),
            keys: RwLock::new(keys),
        })
    }

    /// The key file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds a fresh KEK, makes it current, saves the file and returns the new
    /// id.
    ///
    /// Old KEKs stay, so data keys wrapped with them still unwrap until they
    /// are re-wrapped and the old KEK is [retired](LocalKeyFile::retire).
    pub fn rotate(&self) -> Result<KeyId, KeyringError> {
        let mut guard = self.write();
        // The file, not memory, is the base: another process may have added
        // a KEK that memory lacks, and dropping it would orphan its data keys.
        let mut set = load(&self.path)?;
        let kek = Kek::fresh(&set.keys);
        let id = kek.id.clone();
        set.keys.push(kek);
        set.current = id.clone();
        save(&self.path, &set)?;
        *guard = set;
        Ok(id)
    }

    /// Removes a KEK that is no longer current, once every data key wrapped
    /// with it has been re-wrapped; saves the file.
    ///
    /// Data keys still wrapped with it become unreadable for good, so callers
    /// must check first that none is left.
    pub fn retire(&self, id: &KeyId) -> Result<(), KeyringError> {
        let mut guard = self.write();
        let mut set = load(&self.path)?;
        if &set.current == id {
            return Err(KeyringError::RetireCurrent(id.clone()));
        }
        let before = set.keys.len();
        set.keys.retain(|k| &k.id != id);
        if set.keys.len() == before {
            return Err(KeyringError::UnknownKey(id.clone()));
        }
        save(&self.path, &set)?;
        *guard = set;
        Ok(())
    }

    /// Re-reads the file, which another process (e.g. `nexaguard keys
    /// rotate`) may have changed.
    pub fn reload(&self) -> Result<(), KeyringError> {
        let set = load(&self.path)?;
        *self.write() = set;
        Ok(())
    }

    /// Ids of all KEKs held, oldest first.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.read().keys.iter().map(|k| k.id.clone()).collect()
    }

    fn create(path: &Path) -> Result<LocalKeyFile, KeyringError> {
        let dir = parent_dir(path);
        create_dir_private(dir)?;
        let set = KeySet::fresh();
        let bytes = serialize(&set)?;
        let tmp = write_temp(path, &bytes)?;
        // A hard link, unlike a rename, never replaces an existing file: if
        // another process created the file meanwhile, its key wins and ours
        // is dropped before anything was wrapped with it.
        let linked = fs::hard_link(&tmp, path);
        let removed = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Self::open(path),
            Err(source) => {
                return Err(KeyringError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
        removed.map_err(|source| KeyringError::Io {
            path: tmp.clone(),
            source,
        })?;
        sync_dir(dir)?;
        Ok(LocalKeyFile {
            path: path.to_path_buf(),
            keys: RwLock::new(set),
        })
    }

    // Every change replaces the whole set only after the file is saved, so a
    // panic while a lock is held cannot leave a half-changed set behind and
    // a poisoned lock is safe to use.
    fn read(&self) -> RwLockReadGuard<'_, KeySet> {
        self.keys.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, KeySet> {
        self.keys.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn unwrap_held(
        &self,
        wrapped: &WrappedKey,
        context: &[u8],
    ) -> Option<Result<DataKey, KeyringError>> {
        let set = self.read();
        set.get(&wrapped.kek_id)
            .map(|kek| kek::unwrap_with(kek, wrapped, context))
    }
}

impl fmt::Debug for LocalKeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.read();
        f.debug_struct("LocalKeyFile")
            .field("path", &self.path)
            .field("current", &set.current)
            .field("keys", &set.keys.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish()
    }
}

impl KeyEncryptionKeys for LocalKeyFile {
    fn current(&self) -> KeyId {
        self.read().current.clone()
    }

    fn wrap(&self, key: &DataKey, context: &[u8]) -> Result<WrappedKey, KeyringError> {
        let set = self.read();
        let kek = set
            .get(&set.current)
            .ok_or_else(|| KeyringError::UnknownKey(set.current.clone()))?;
        kek::wrap_with(&set.current, kek, key, context)
    }

    /// Unwraps with the KEK the wrapped key names; a KEK not held is looked
    /// for once more after re-reading the file, since another process may
    /// have rotated.
    fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<DataKey, KeyringError> {
        if let Some(result) = self.unwrap_held(wrapped, context) {
            return result;
        }
        LocalKeyFile::reload(self)?;
        self.unwrap_held(wrapped, context)
            .unwrap_or_else(|| Err(KeyringError::UnknownKey(wrapped.kek_id.clone())))
    }

    fn rotate(&self) -> Result<KeyId, KeyringError> {
        LocalKeyFile::rotate(self)
    }

    fn retire(&self, id: &KeyId) -> Result<(), KeyringError> {
        LocalKeyFile::retire(self, id)
    }

    fn reload(&self) -> Result<(), KeyringError> {
        LocalKeyFile::reload(self)
    }

    fn key_ids(&self) -> Vec<KeyId> {
        LocalKeyFile::key_ids(self)
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> KeyringError + '_ {
    move |source| KeyringError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads and checks the key file.
fn load(path: &Path) -> Result<KeySet, KeyringError> {
    let mut file = File::open(path).map_err(io_error(path))?;
    // Checked on the open handle, not the path, so the file read is the one
    // checked.
    let meta = file.metadata().map_err(io_error(path))?;
    if !meta.is_file() {
        return Err(KeyringError::BadKeyFile(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    check_permissions(path, &meta)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.read_to_end(&mut bytes).map_err(io_error(path))?;
    let form: FileForm = serde_json::from_slice(&bytes)
        .map_err(|e| KeyringError::BadKeyFile(format!("{}: {e}", path.display())))?;
    form.into_set()
}

#[cfg(unix)]
fn check_permissions(path: &Path, meta: &fs::Metadata) -> Result<(), KeyringError> {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(KeyringError::InsecurePermissions(path.to_path_buf()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path, _meta: &fs::Metadata) -> Result<(), KeyringError> {
    Ok(())
}

fn serialize(set: &KeySet) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
    let mut bytes = serde_json::to_vec_pretty(&FileForm::from_set(set))
        .map_err(|e| KeyringError::BadKeyFile(format!("cannot encode key file: {e}")))?;
    bytes.push(b'\n');
    Ok(Zeroizing::new(bytes))
}

/// Replaces the key file atomically.
fn save(path: &Path, set: &KeySet) -> Result<(), KeyringError> {
    let bytes = serialize(set)?;
    let tmp = write_temp(path, &bytes)?;
    if let Err(source) = fs::rename(&tmp, path) {
        // Best effort: the temporary file holds keys and should not linger,
        // but the rename error is the one worth reporting.
        let _ = fs::remove_file(&tmp);
        return Err(KeyringError::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    sync_dir(parent_dir(path))
}

/// Writes `bytes` to a new private temporary file next to `path` and syncs
/// it; returns the temporary file's path.
fn write_temp(path: &Path, bytes: &[u8]) -> Result<PathBuf, KeyringError> {
    let name = path
        .file_name()
        .ok_or_else(|| KeyringError::BadKeyFile(format!("{} has no file name", path.display())))?;
    let mut suffix = [0u8; 8];
    rand::rng().fill_bytes(&mut suffix);
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = parent_dir(path).join(format!(".{}.{suffix}.tmp", name.to_string_lossy()));
    let written = create_private(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(KeyringError::Io { path: tmp, source });
    }
    Ok(tmp)
}

fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn create_dir_private(dir: &Path) -> Result<(), KeyringError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_error(dir))
}

/// The directory holding `path`; `"."` for a bare file name.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), KeyringError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

/// Directories cannot be opened for syncing here; the rename is as durable
/// as the platform makes it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), KeyringError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn temp() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("kek.json");
        (dir, path)
    }

    #[test]
    fn creates_a_file_with_one_kek() {
        let (_dir, path) = temp();
        let keys = LocalKeyFile::open_or_create(&path).unwrap();
        assert_eq!(keys.key_ids(), vec![keys.current()]);
        assert!(keys.current().as_str().starts_with("kek-"));
        let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(json["current"], keys.current().as_str());
        assert_eq!(json["keys"][0]["id"], keys.current().as_str());
        let key = STANDARD
            .decode(json["keys"][0]["key"].as_str().unwrap())
            .unwrap();
        assert_eq!(key.len(), 32);
        assert!(json["keys"][0]["created_at"].as_u64().unwrap() > 1_600_000_000);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn reopening_keeps_the_same_keys() {
        let (_dir, path) = temp();
        let first = LocalKeyFile::open_or_create(&path).unwrap();
        let dek = DataKey::generate();
        let wrapped = first.wrap(&dek, b"ctx").unwrap();
        let second = LocalKeyFile::open_or_create(&path).unwrap();
        assert_eq!(second.current(), first.current());
        let back = second.unwrap(&wrapped, b"ctx").unwrap();
        assert_eq!(back.as_bytes(), dek.as_bytes());
    }

    #[test]
    fn open_requires_an_existing_file() {
        let (_dir, path) = temp();
        assert!(matches!(
            LocalKeyFile::open(&path),
            Err(KeyringError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound
        ));
        assert!(!path.exists());
    }

    #[test]
    fn wrap_and_unwrap_round_trip_and_bind_the_context() {
        let (_dir, path) = temp();
        let keys = LocalKeyFile::open_or_create(&path).unwrap();
        let dek = DataKey::generate();
        let wrapped = keys.wrap(&dek, b"dek-1:tenant-a").unwrap();
        assert_eq!(wrapped.kek_id, keys.current());
        let text = wrapped.to_text();
        assert!(text.starts_with(&format!("{}.", keys.current())));
        let parsed = WrappedKey::parse(&text).unwrap();
        assert_eq!(parsed, wrapped);
        let back = keys.unwrap(&parsed, b"dek-1:tenant-a").unwrap();
        assert_eq!(back.as_bytes(), dek.as_bytes());
        assert!(matches!(
            keys.unwrap(&parsed, b"dek-1:tenant-b"),
            Err(KeyringError::Decrypt)
        ));
    }

    #[test]
    fn wrapped_key_text_is_checked() {
        for bad in ["", "kek-1", "kek-1.", "KEK.AAAA", "kek-1.AA=A", "kek-1.***"] {
            assert!(WrappedKey::parse(bad).is_err(), "{bad:?} accepted");
        }
        let (_dir, path) = temp();
        let keys = LocalKeyFile::open_or_create(&path).unwrap();
        let short = WrappedKey::parse(&format!("{}.AAAA", keys.current())).unwrap();
        assert!(matches!(
            keys.unwrap(&short, b""),
            Err(KeyringError::Malformed(_))
        ));
    }

    #[test]
    fn rotation_keeps_old_wrapped_keys_readable() {
        let (_dir, path) = temp();
        let keys = LocalKeyFile::open_or_create(&path).unwrap();
        let old_id = keys.current();
        let dek = DataKey::generate();
        let old_wrapped = keys.wrap(&dek, b"ctx").unwrap();

        let new_id = keys.rotate().unwrap();
        assert_ne!(new_id, old_id);
        assert_eq!(keys.current(), new_id);
        assert_eq!(keys.key_ids(), vec![old_id.clone(), new_id.clone()]);

        let back = keys.unwrap(&old_wrapped, b"ctx").unwrap();
        assert_eq!(back.as_bytes(), dek.as_bytes());
        let new_wrapped = keys.wrap(&back, b"ctx").unwrap();
        assert_eq!(new_wrapped.kek_id, new_id);

        // The rotation was saved.
        let reopened = LocalKeyFile::open(&path).unwrap();
        assert_eq!(reopened.current(), new_id);
        assert_eq!(reopened.key_ids(), vec![old_id, new_id]);
    }

    #[test]
    fn retired_kek_no_longer_unwraps() {
        let (_dir, path) = temp();
        let keys = LocalKeyFile::open_or_create(&path).unwrap();
        let old_id = keys.current();
        let dek = DataKey::generate();
        let old_wrapped = keys.wrap(&dek, b"ctx").unwrap();
        let new_id = keys.rotate().unwrap();
        let rewrapped = keys
            .wrap(&keys.unwrap(&old_wrapped, b"ctx").unwrap(), b"ctx")
            .unwrap();

        keys.retire(&old_id).unwrap();
        assert_eq!(keys.key_ids(), vec![new_id]);
        assert!(matches!(
            keys.unwrap(&old_wrapped, b"ctx"),
            Err(KeyringError::UnknownKey(id)) if id == old_id
        ));
        assert_eq!(
            keys.unwrap(&rewrapped, b"ctx").unwrap().as_bytes(),
            dek.as_bytes()
        );
        assert!(!LocalKeyFile::open(&path)
            .unwrap()
            .key_ids()
            .contains(&old_id));
    }

    #[test]
    fn the_current_kek_cannot_be_retired() {
        let (_dir, path) = temp();
        let keys = LocalKeyFile::open_or_create(&path).unwrap();
        assert!(matches!(
            keys.retire(&keys.current()),
            Err(KeyringError::RetireCurrent(_))
        ));
        assert!(matches!(
            keys.retire(&KeyId::parse("kek-missing").unwrap()),
            Err(KeyringError::UnknownKey(_))
        ));
        assert_eq!(keys.key_ids().len(), 1);
    }

    #[test]
    fn reload_sees_a_rotation_by_another_instance() {
        let (_dir, path) = temp();
        let server = LocalKeyFile::open_or_create(&path).unwrap();
        let cli = LocalKeyFile::open(&path).unwrap();
        let new_id = cli.rotate().unwrap();
        assert_ne!(server.current(), new_id);
        server.reload().unwrap();
        assert_eq!(server.current(), new_id);
        assert_eq!(server.key_ids(), cli.key_ids());
    }

    #[test]
    fn unwrap_reloads_once_for_an_unknown_kek() {
        let (_dir, path) = temp();
        let server = LocalKeyFile::open_or_create(&path).unwrap();
        let cli = LocalKeyFile::open(&path).unwrap();
        cli.rotate().unwrap();
        let dek = DataKey::generate();
        let wrapped = cli.wrap(&dek, b"ctx").unwrap();
        let back = server.unwrap(&wrapped, b"ctx").unwrap();
        assert_eq!(back.as_bytes(), dek.as_bytes());
        assert_eq!(server.current(), cli.current());
    }

    #[test]
    fn rotation_keeps_keys_added_by_another_instance() {
        let (_dir, path) = temp();
        let a = LocalKeyFile::open_or_create(&path).unwrap();
        let b = LocalKeyFile::open(&path).unwrap();
        let from_b = b.rotate().unwrap();
        let from_a = a.rotate().unwrap();
        let ids = LocalKeyFile::open(&path).unwrap().key_ids();
        assert!(ids.contains(&from_b));
        assert!(ids.contains(&from_a));
        assert_eq!(ids.len(), 3);
    }

    #[test]
    fn open_or_create_does_not_replace_an_existing_file() {
        let (_dir, path) = temp();
        let first = LocalKeyFile::open_or_create(&path).unwrap();
        let before = fs::read(&path).unwrap();
        let second = LocalKeyFile::open_or_create(&path).unwrap();
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_eq!(first.current(), second.current());
    }

    #[test]
    fn damaged_files_are_refused() {
        let (_dir, path) = temp();
        LocalKeyFile::open_or_create(&path).unwrap();
        let good: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let id = good["current"].as_str().unwrap().to_owned();
        let cases = [
            "not json".to_owned(),
            format!(r#"{{"current": "{id}", "keys": []}}"#),
            format!(
                r#"{{"current": "{id}", "keys": [{{"id": "{id}", "key": "AAAA", "created_at": 0}}]}}"#
            ),
            format!(
                r#"{{"current": "{id}", "keys": [{{"id": "{id}", "key": "!!", "created_at": 0}}]}}"#
            ),
        ];
        for case in cases {
            // Rewritten in place so the file keeps its private mode.
            fs::write(&path, &case).unwrap();
            assert!(
                matches!(LocalKeyFile::open(&path), Err(KeyringError::BadKeyFile(_))),
                "{case} accepted"
            );
        }
        let key = STANDARD.encode([1u8; 32]);
        let twice = format!(
            r#"{{"current": "{id}", "keys": [{{"id": "{id}", "key": "{key}", "created_at": 0}}, {{"id": "{id}", "key": "{key}", "created_at": 0}}]}}"#
        );
        fs::write(&path, twice).unwrap();
        assert!(matches!(
            LocalKeyFile::open(&path),
            Err(KeyringError::BadKeyFile(_))
        ));
    }

    #[test]
    fn debug_shows_ids_not_keys() {
        let (_dir, path) = temp();
        let keys = LocalKeyFile::open_or_create(&path).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let secret = json["keys"][0]["key"].as_str().unwrap().to_owned();
        let debug = format!("{keys:?}");
        assert!(debug.contains(keys.current().as_str()));
        assert!(!debug.contains(&secret));
    }

    #[cfg(unix)]
    mod unix {
        #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

        use std::os::unix::fs::PermissionsExt;

        use super::*;

        fn mode(path: &Path) -> u32 {
            fs::metadata(path).unwrap().permissions().mode() & 0o777
        }

        #[test]
        fn created_file_is_private() {
            let (_dir, path) = temp();
            let keys = LocalKeyFile::open_or_create(&path).unwrap();
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
            keys.rotate().unwrap();
            assert_eq!(mode(&path), 0o600);
        }

        #[test]
        fn a_file_readable_by_others_is_refused() {
            let (_dir, path) = temp();
            LocalKeyFile::open_or_create(&path).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                LocalKeyFile::open(&path),
                Err(KeyringError::InsecurePermissions(p)) if p == path
            ));
            assert!(matches!(
                LocalKeyFile::open_or_create(&path),
                Err(KeyringError::InsecurePermissions(_))
            ));
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
            assert!(LocalKeyFile::open(&path).is_err());
            fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
            assert!(LocalKeyFile::open(&path).is_ok());
        }

        #[test]
        fn reload_refuses_a_file_made_readable() {
            let (_dir, path) = temp();
            let keys = LocalKeyFile::open_or_create(&path).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                keys.reload(),
                Err(KeyringError::InsecurePermissions(_))
            ));
        }
    }
}
