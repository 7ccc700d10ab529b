//! # nexaguard-admin
//!
//! Administration of a NexaGuard installation, on top of the store and
//! without HTTP: sign-in with a password and a second factor, sessions and
//! API tokens, users, invitations and roles, tenants and sites,
//! configuration drafts, publishing and promotion, consent search, export
//! and statistics, webhooks, the audit log, and the key ring.
//!
//! Every operation takes the [`Principal`] asking and checks its permission
//! itself, so that a caller cannot forget to; the HTTP layer declares the
//! same permission per route so that a route table can be tested.
//! Every change commits with its audit entry (see
//! [`nexaguard_store::admin`]).

pub mod audit_log;
pub mod auth;
pub mod consents;
pub mod error;
pub mod keys;
pub mod principal;
pub mod sites;
pub mod tenants;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub use error::AdminError;
pub use keys::{KeyRing, Scope};
pub use principal::{Authentication, Principal};

use nexaguard_consent::token::TokenKeys;
use nexaguard_store::admin::AdminStore;
use nexaguard_store::Store;
use nexaguard_tcf::gvl::Gvl;
use std::sync::Arc;

/// The administration service. Cheap to share behind an `Arc`.
pub struct Admin {
    store: Arc<dyn AdminStore>,
    consents: Arc<dyn Store>,
    keys: KeyRing,
    csrf_key: [u8; 32],
    gvl: Arc<Gvl>,
    tokens: TokenKeys,
    /// See [`Admin::allow_loopback_webhook_urls`].
    webhook_loopback: std::sync::atomic::AtomicBool,
}

/// What [`Admin::new`] needs.
pub struct AdminParts {
    /// The admin store.
    pub store: Arc<dyn AdminStore>,
    /// The consent store (tenants, sites).
    pub consents: Arc<dyn Store>,
    /// The key-encryption keys: the key file, the environment, or a KMS.
    pub kek: Arc<dyn nexaguard_keyring::KeyEncryptionKeys>,
    /// The key CSRF tokens are derived with.
    pub csrf_key: [u8; 32],
    /// The GVL configurations are checked against.
    pub gvl: Arc<Gvl>,
    /// Consent token keys, to look records up by token.
    pub tokens: TokenKeys,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin").finish_non_exhaustive()
    }
}

impl Admin {
    /// Builds the service and installs the audit checkpoint signer.
    pub async fn new(parts: AdminParts) -> Result<Admin, AdminError> {
        let AdminParts {
            store,
            consents,
            kek,
            csrf_key,
            gvl,
            tokens,
        } = parts;
        let keys = KeyRing::load(kek, Arc::clone(&store)).await?;
        store.set_checkpoint_signer(Arc::new(keys.checkpoint_signer().await?));
        Ok(Admin {
            store,
            consents,
            keys,
            csrf_key,
            gvl,
            tokens,
            webhook_loopback: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The key ring.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The admin store.
    pub fn store(&self) -> &Arc<dyn AdminStore> {
        &self.store
    }

    /// The key CSRF tokens are derived with.
    pub fn csrf_key(&self) -> &[u8; 32] {
        &self.csrf_key
    }
}
