//! The key ring as the rest of the server sees it: data keys per scope
//! (the platform, its lookup-hash key, each tenant), unwrapped once and
//! kept in memory; sealing and opening of secrets; keyed lookup hashes of
//! e-mail addresses; the audit checkpoint signing key; key rotation.

use crate::error::AdminError;
use nexaguard_audit::CheckpointSigner;
use nexaguard_keyring::{
    blind_index, seal, sealed_key_id, DataKey, KeyEncryptionKeys, KeyId, KeyringError, WrappedKey,
};
use nexaguard_store::admin::{AdminStore, AuditAppend, StoredDataKey, StoredSigningKey};
use nexaguard_store::TenantId;
use rand::RngCore;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use time::OffsetDateTime;

/// Whose data a data key protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Installation-wide secrets (operators' addresses, signing keys).
    Platform,
    /// A tenant's secrets.
    Tenant(TenantId),
}

impl Scope {
    fn text(self) -> String {
        match self {
            Scope::Platform => PLATFORM.to_owned(),
            Scope::Tenant(tenant) => tenant.0.hyphenated().to_string(),
        }
    }

    /// The scope of a tenant's data, or the platform's for `None`.
    pub fn of(tenant: Option<TenantId>) -> Scope {
        tenant.map_or(Scope::Platform, Scope::Tenant)
    }
}

const PLATFORM: &str = "platform";
/// The key of lookup hashes is its own scope: one key, one purpose.
const INDEX: &str = "platform-index";

#[derive(Debug, Default)]
struct Cache {
    by_scope: HashMap<String, KeyId>,
    by_id: HashMap<KeyId, DataKey>,
}

/// The key ring: see the module docs.
pub struct KeyRing {
    /// The key-encryption keys: a key file, the environment, or a KMS.
    kek: Arc<dyn KeyEncryptionKeys>,
    store: Arc<dyn AdminStore>,
    cache: RwLock<Cache>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").finish_non_exhaustive()
    }
}

/// Associated data binding a wrapped data key to its row.
fn wrap_context(id: &str, scope: &str) -> Vec<u8> {
    format!("data-key|{id}|{scope}").into_bytes()
}

impl KeyRing {
    /// Loads and unwraps every stored data key.
    pub async fn load(
        kek: Arc<dyn KeyEncryptionKeys>,
        store: Arc<dyn AdminStore>,
    ) -> Result<KeyRing, AdminError> {
        let ring = KeyRing {
            kek,
            store,
            cache: RwLock::new(Cache::default()),
        };
        ring.reload().await?;
        Ok(ring)
    }

    async fn reload(&self) -> Result<(), AdminError> {
        let stored = self.store.data_keys().await?;
        let mut fresh = Cache::default();
        for key in stored {
            let (id, data_key) = self.unwrap_stored(&key)?;
            fresh.by_scope.insert(key.scope.clone(), id.clone());
            fresh.by_id.insert(id, data_key);
        }
        *self.cache.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }

    fn unwrap_stored(&self, key: &StoredDataKey) -> Result<(KeyId, DataKey), AdminError> {
        let id = KeyId::parse(&key.id)?;
        let wrapped = WrappedKey::parse(&key.wrapped)?;
        let data_key = self
            .kek
            .unwrap(&wrapped, &wrap_context(&key.id, &key.scope))?;
        Ok((id, data_key))
    }

    fn cached(&self, scope: &str) -> Option<(KeyId, DataKey)> {
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        let id = cache.by_scope.get(scope)?;
        Some((id.clone(), cache.by_id.get(id)?.clone()))
    }

    /// The data key of `scope`, made and stored on first use.
    async fn key_for(&self, scope: &str) -> Result<(KeyId, DataKey), AdminError> {
        if let Some(found) = self.cached(scope) {
            return Ok(found);
        }
        // `nexaguard keys rotate` may have changed the key file while we
        // run; wrapping with a key it has retired would lose this key.
        self.kek.reload()?;
        let id = KeyId::random("dek");
        let fresh = DataKey::generate();
        let wrapped = self.kek.wrap(&fresh, &wrap_context(id.as_str(), scope))?;
        // Another node may store the scope's key first; then its key is the
        // scope's key and ours is dropped.
        let stored = self
            .store
            .insert_data_key(StoredDataKey {
                id: id.to_string(),
                scope: scope.to_owned(),
                wrapped: wrapped.to_text(),
                created_at: OffsetDateTime::now_utc(),
            })
            .await?;
        let (id, key) = self.unwrap_stored(&stored)?;
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        cache.by_scope.insert(scope.to_owned(), id.clone());
        cache.by_id.insert(id.clone(), key.clone());
        Ok((id, key))
    }

    /// Seals `plaintext` with the data key of `scope`. `context` names what
    /// and whose it is (`"totp|{user id}"`), so that a sealed value moved to
    /// another row does not open.
    pub async fn seal(
        &self,
        scope: Scope,
        context: &str,
        plaintext: &[u8],
    ) -> Result<String, AdminError> {
        let (id, key) = self.key_for(&scope.text()).await?;
        Ok(seal(&id, &key, context.as_bytes(), plaintext))
    }

    /// Opens a sealed value with the data key it names.
    pub async fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, AdminError> {
        let id = sealed_key_id(sealed)?;
        let key = self.key_by_id(&id);
        let key = match key {
            Some(key) => key,
            None => {
                // Made by another node since we loaded.
                self.reload().await?;
                self.key_by_id(&id)
                    .ok_or(AdminError::Keyring(KeyringError::UnknownKey(id)))?
            }
        };
        Ok(nexaguard_keyring::open(sealed, &key, context.as_bytes())?)
    }

    fn key_by_id(&self, id: &KeyId) -> Option<DataKey> {
        self.cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_id
            .get(id)
            .cloned()
    }

    /// The lookup hash of an e-mail address: the same for every spelling
    /// that differs only in case or surrounding space.
    pub async fn email_index(&self, email: &str) -> Result<[u8; 32], AdminError> {
        let (_, key) = self.key_for(INDEX).await?;
        let normalised = email.trim().to_lowercase();
        Ok(blind_index(&key, "email", normalised.as_bytes()))
    }

    /// The audit checkpoint signer: the newest stored signing key, or a new
    /// one made and stored now.
    pub async fn checkpoint_signer(&self) -> Result<CheckpointSigner, AdminError> {
        let newest = self.store.signing_keys().await?.pop();
        let stored = match newest {
            Some(stored) => stored,
            None => self.new_signing_key().await?,
        };
        let seed = self
            .open(&stored.seed_sealed, &signing_context(&stored.id))
            .await?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| AdminError::invalid("corrupt_key", "a signing key seed is damaged"))?;
        Ok(CheckpointSigner::from_seed(stored.id, seed))
    }

    async fn new_signing_key(&self) -> Result<StoredSigningKey, AdminError> {
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        let id = KeyId::random("sig").to_string();
        let signer = CheckpointSigner::from_seed(id.clone(), seed);
        let stored = StoredSigningKey {
            public_key: signer.public_key(),
            seed_sealed: self
                .seal(Scope::Platform, &signing_context(&id), &seed)
                .await?,
            id,
            created_at: OffsetDateTime::now_utc(),
        };
        self.store.insert_signing_key(stored.clone()).await?;
        Ok(stored)
    }

    /// The public keys of every checkpoint signing key, by id.
    pub async fn verifying_keys(&self) -> Result<HashMap<String, [u8; 32]>, AdminError> {
        Ok(self
            .store
            .signing_keys()
            .await?
            .into_iter()
            .map(|key| (key.id, key.public_key))
            .collect())
    }

    /// What the key ring holds now: the key-encryption keys and which of
    /// them wraps each stored data key.
    pub async fn status(&self) -> Result<KeyRingStatus, AdminError> {
        let current = self.kek.current();
        let mut by_kek: std::collections::BTreeMap<String, usize> = self
            .kek
            .key_ids()
            .into_iter()
            .map(|id| (id.to_string(), 0))
            .collect();
        let stored = self.store.data_keys().await?;
        for key in &stored {
            let wrapped = WrappedKey::parse(&key.wrapped)?;
            *by_kek.entry(wrapped.kek_id.to_string()).or_default() += 1;
        }
        Ok(KeyRingStatus {
            current_kek: current.to_string(),
            data_keys: stored.len(),
            by_kek: by_kek.into_iter().collect(),
        })
    }

    /// Key rotation: a new key-encryption key (where the key ring makes its
    /// own), every data key re-wrapped with it in one transaction with the
    /// audit entry, then the old key-encryption keys retired. Sealed data
    /// does not change: only the wrapping of its data keys does.
    pub async fn rotate(&self, audit: AuditAppend) -> Result<RotationReport, AdminError> {
        let previous = self.kek.current();
        // A provider that rotates on its own (the environment, a KMS) only
        // has its data keys re-wrapped with its current key.
        match self.kek.rotate() {
            Ok(_) | Err(KeyringError::RotationUnsupported) => {}
            Err(error) => return Err(error.into()),
        }
        let current = self.kek.current();
        let stored = self.store.data_keys().await?;
        let mut rewrapped = Vec::with_capacity(stored.len());
        for key in &stored {
            let (_, data_key) = self.unwrap_stored(key)?;
            let wrapped = self
                .kek
                .wrap(&data_key, &wrap_context(&key.id, &key.scope))?;
            rewrapped.push((key.id.clone(), wrapped.to_text()));
        }
        let mut audit = audit;
        audit.event.details = serde_json::json!({
            "previous_kek": previous.as_str(),
            "current_kek": current.as_str(),
            "data_keys": rewrapped.len(),
        });
        self.store.rewrap_data_keys(&rewrapped, audit).await?;
        let mut retired = Vec::new();
        for id in self.kek.key_ids() {
            if id == current {
                continue;
            }
            match self.kek.retire(&id) {
                Ok(()) => retired.push(id.to_string()),
                // The environment's previous key goes when the operator
                // removes its variable.
                Err(KeyringError::RotationUnsupported) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(RotationReport {
            current_kek: current.to_string(),
            data_keys: rewrapped.len(),
            retired,
        })
    }
}

fn signing_context(id: &str) -> String {
    format!("signing-key|{id}")
}

/// The key ring's state, for the operator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRingStatus {
    /// The key-encryption key that wraps new data keys.
    pub current_kek: String,
    /// Stored data keys.
    pub data_keys: usize,
    /// Each key-encryption key held or named by a stored data key, with the
    /// number of data keys it wraps (after a rotation, all under the current).
    pub by_kek: Vec<(String, usize)>,
}

/// What a key rotation did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationReport {
    /// The key-encryption key now in use.
    pub current_kek: String,
    /// Data keys re-wrapped.
    pub data_keys: usize,
    /// Key-encryption keys removed from the key file.
    pub retired: Vec<String>,
}
