//! The admin tables' rows as both backends read them: the column lists,
//! the site-key format, and the conversions from stored values to the
//! types of [`crate::admin`].
//!
//! Invariant: a row becomes a value here and only here. A backend says how
//! it spells an id, a time, a flag or a list ([`StoredRow`]), which is all
//! that differs between them; so what a row means, and what makes it
//! corrupt, cannot drift apart between SQLite and PostgreSQL.

use crate::admin::{ApiToken, ApiTokenId, Invitation, SessionRecord, User, UserId};
use crate::{Site, SiteId, StoreError, TenantId};
use nexaguard_access::{Permission, Role, Throttle};
use nexaguard_audit::{Action, Actor, AuditEntry, AuditEvent, ChainId, Checkpoint, Outcome};
use nexaguard_consent::Environment;
use time::OffsetDateTime;
use uuid::Uuid;

/// The columns [`user_from_row`] reads.
pub(crate) const USER_COLUMNS: &str =
    "id, tenant_id, role, email_index, email_sealed, password_hash, totp_sealed, \
     totp_pending_sealed, failures, locked_until, created_at";

/// The columns [`token_from_row`] reads.
pub(crate) const TOKEN_COLUMNS: &str =
    "id, tenant_id, name, role, created_by, created_at, expires_at, \
     last_used_at, revoked_at, parent_id, step_up_scopes";

/// The columns [`invitation_from_row`] reads.
pub(crate) const INVITATION_COLUMNS: &str =
    "id, tenant_id, email_index, email_sealed, role, created_by, \
     created_at, expires_at, accepted_at";

/// The columns [`session_from_row`] reads.
pub(crate) const SESSION_COLUMNS: &str =
    "id_hash, user_id, mfa_verified, mfa_at, created_at, last_seen_at";

/// The columns [`entry_from_row`] reads.
pub(crate) const ENTRY_COLUMNS: &str = "chain, seq, id, at, action, actor, target, outcome, \
                                        client_network, details, prev_hash, hash";

/// The columns [`checkpoint_from_row`] reads.
pub(crate) const CHECKPOINT_COLUMNS: &str = "chain, seq, hash, at, key_id, signature";

/// Sites with their two keys, as [`site_from_row`] reads them; the caller
/// adds its `WHERE` and `ORDER BY`.
pub(crate) const SITE_SELECT: &str = "SELECT s.id, s.tenant_id, s.name, s.origins, s.created_at, \
     p.key AS production_key, t.key AS staging_key FROM sites AS s \
     JOIN site_keys AS p ON p.site_id = s.id AND p.environment = 'production' \
     JOIN site_keys AS t ON t.site_id = s.id AND t.environment = 'staging'";

/// A fresh public site key: a prefix naming the environment, then 128
/// random bits as 32 lowercase hex digits. Both schemas check the prefix
/// and the length.
pub(crate) fn new_site_key(environment: Environment) -> String {
    let prefix = match environment {
        Environment::Production => "ngp_",
        Environment::Staging => "ngs_",
    };
    format!("{prefix}{}", Uuid::new_v4().simple())
}

/// A row of either backend, read by column name. Each backend spells ids,
/// times, flags and lists its own way; every reader reports a value that
/// does not parse as [`StoreError::Corrupt`].
pub(crate) trait StoredRow {
    /// An id.
    fn uuid(&self, column: &str) -> Result<Uuid, StoreError>;
    /// An id, or NULL.
    fn optional_uuid(&self, column: &str) -> Result<Option<Uuid>, StoreError>;
    /// An instant.
    fn time(&self, column: &str) -> Result<OffsetDateTime, StoreError>;
    /// An instant, or NULL.
    fn optional_time(&self, column: &str) -> Result<Option<OffsetDateTime>, StoreError>;
    /// Text.
    fn text(&self, column: &str) -> Result<String, StoreError>;
    /// Text, or NULL.
    fn optional_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    /// Bytes.
    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError>;
    /// A 64-bit integer.
    fn integer(&self, column: &str) -> Result<i64, StoreError>;
    /// A yes or no.
    fn flag(&self, column: &str) -> Result<bool, StoreError>;
    /// A list of texts (a site's origins).
    fn texts(&self, column: &str) -> Result<Vec<String>, StoreError>;
}

/// A `u64` as the databases' signed 64-bit integer.
pub(crate) fn i64_to_db(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} is out of range")))
}

/// Reads back a count or sequence number, which is never negative.
pub(crate) fn u64_from_db(what: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("stored {what} {value}")))
}

/// Reads back a hash (or key) that must have 32 bytes.
pub(crate) fn hash32(what: &str, bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("stored {what} has {} bytes", bytes.len())))
}

/// Reads back a role by its stable name.
pub(crate) fn role_from_db(text: &str) -> Result<Role, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("stored role {text:?}")))
}

/// The stored form of step-up scopes: their names, space-separated, in
/// the order of [`Permission`]. One codec for both backends.
pub fn scopes_to_db(scopes: &[Permission]) -> String {
    let mut sorted = scopes.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads [`scopes_to_db`]'s form back; an unknown name is corruption.
pub fn scopes_from_db(text: &str) -> Result<Vec<Permission>, StoreError> {
    text.split_whitespace()
        .map(|name| {
            name.parse()
                .map_err(|_| StoreError::Corrupt(format!("stored token scope {name:?}")))
        })
        .collect()
}

/// Reads a stored JSON value back. The error names the kind of value only,
/// as the backends' codecs do.
fn json_from_db<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored {what}: {e}")))
}

/// A user from the [`USER_COLUMNS`] of a row.
pub(crate) fn user_from_row(row: &impl StoredRow) -> Result<User, StoreError> {
    let failures = row.integer("failures")?;
    Ok(User {
        id: UserId(row.uuid("id")?),
        tenant: row.optional_uuid("tenant_id")?.map(TenantId),
        role: role_from_db(&row.text("role")?)?,
        email_index: hash32("email index", &row.bytes("email_index")?)?,
        email_sealed: row.text("email_sealed")?,
        password_hash: row.text("password_hash")?,
        totp_sealed: row.optional_text("totp_sealed")?,
        totp_pending_sealed: row.optional_text("totp_pending_sealed")?,
        throttle: Throttle {
            failures: u32::try_from(failures)
                .map_err(|_| StoreError::Corrupt(format!("stored failures {failures}")))?,
            locked_until: row.optional_time("locked_until")?,
        },
        created_at: row.time("created_at")?,
    })
}

/// An API token from the [`TOKEN_COLUMNS`] of a row.
pub(crate) fn token_from_row(row: &impl StoredRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: ApiTokenId(row.uuid("id")?),
        tenant: TenantId(row.uuid("tenant_id")?),
        name: row.text("name")?,
        role: role_from_db(&row.text("role")?)?,
        created_by: row.text("created_by")?,
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
        last_used_at: row.optional_time("last_used_at")?,
        revoked_at: row.optional_time("revoked_at")?,
        parent: row.optional_uuid("parent_id")?.map(ApiTokenId),
        step_up_scopes: scopes_from_db(&row.text("step_up_scopes")?)?,
    })
}

/// An invitation from the [`INVITATION_COLUMNS`] of a row.
pub(crate) fn invitation_from_row(row: &impl StoredRow) -> Result<Invitation, StoreError> {
    Ok(Invitation {
        id: row.uuid("id")?,
        tenant: TenantId(row.uuid("tenant_id")?),
        email_index: hash32("email index", &row.bytes("email_index")?)?,
        email_sealed: row.text("email_sealed")?,
        role: role_from_db(&row.text("role")?)?,
        created_by: row.text("created_by")?,
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
        accepted_at: row.optional_time("accepted_at")?,
    })
}

/// A session from the [`SESSION_COLUMNS`] of a row.
pub(crate) fn session_from_row(row: &impl StoredRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id_hash: hash32("session hash", &row.bytes("id_hash")?)?,
        user: UserId(row.uuid("user_id")?),
        mfa_verified: row.flag("mfa_verified")?,
        mfa_at: row.optional_time("mfa_at")?,
        created_at: row.time("created_at")?,
        last_seen_at: row.time("last_seen_at")?,
    })
}

/// A site from a row of [`SITE_SELECT`].
pub(crate) fn site_from_row(row: &impl StoredRow) -> Result<Site, StoreError> {
    Ok(Site {
        id: SiteId(row.uuid("id")?),
        tenant_id: TenantId(row.uuid("tenant_id")?),
        name: row.text("name")?,
        origins: row.texts("origins")?,
        production_key: row.text("production_key")?,
        staging_key: row.text("staging_key")?,
        created_at: row.time("created_at")?,
    })
}

/// An audit entry from the [`ENTRY_COLUMNS`] of a row. Its hash is not
/// checked here: that is what verifying the chain is for.
pub(crate) fn entry_from_row(row: &impl StoredRow) -> Result<AuditEntry, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("stored audit {what}"));
    Ok(AuditEntry {
        id: row.uuid("id")?,
        chain: ChainId::parse(&row.text("chain")?).map_err(|_| corrupt("chain"))?,
        seq: u64_from_db("audit seq", row.integer("seq")?)?,
        at: row.time("at")?,
        event: AuditEvent {
            action: row
                .text("action")?
                .parse::<Action>()
                .map_err(|_| corrupt("action"))?,
            actor: Actor::parse(&row.text("actor")?).map_err(|_| corrupt("actor"))?,
            target: row.text("target")?,
            outcome: row
                .text("outcome")?
                .parse::<Outcome>()
                .map_err(|_| corrupt("outcome"))?,
            client_network: row.optional_text("client_network")?,
            details: json_from_db("audit details", &row.text("details")?)?,
        },
        prev_hash: hash32("audit prev_hash", &row.bytes("prev_hash")?)?,
        hash: hash32("audit hash", &row.bytes("hash")?)?,
    })
}

/// A checkpoint from the [`CHECKPOINT_COLUMNS`] of a row.
pub(crate) fn checkpoint_from_row(row: &impl StoredRow) -> Result<Checkpoint, StoreError> {
    let signature = row.bytes("signature")?;
    Ok(Checkpoint {
        chain: ChainId::parse(&row.text("chain")?)
            .map_err(|_| StoreError::Corrupt("stored checkpoint chain".to_owned()))?,
        seq: u64_from_db("checkpoint seq", row.integer("seq")?)?,
        hash: hash32("checkpoint hash", &row.bytes("hash")?)?,
        at: row.time("at")?,
        key_id: row.text("key_id")?,
        signature: signature.as_slice().try_into().map_err(|_| {
            StoreError::Corrupt(format!("stored signature has {} bytes", signature.len()))
        })?,
    })
}

/// An audit chain from its stored name.
pub(crate) fn chain_from_db(text: &str) -> Result<ChainId, StoreError> {
    ChainId::parse(text).map_err(|_| StoreError::Corrupt(format!("stored audit chain {text:?}")))
}
