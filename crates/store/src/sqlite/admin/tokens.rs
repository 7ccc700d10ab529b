//! API tokens, by the hash of their secret (the secret itself is never
//! stored).
//!
//! Invariant: revoking a token revokes, in the same statement, every live
//! token it made, directly or through others.

use super::{append, transaction, Backend};
use crate::admin::rows::{scopes_to_db, token_from_row, TOKEN_COLUMNS};
use crate::admin::{ApiToken, ApiTokenId, AuditAppend};
use crate::sqlite::codec;
use crate::{StoreError, TenantId};
use time::OffsetDateTime;

/// Revokes a live token (`?1`, of tenant `?2`) and its live descendants
/// at `?3`. The root must be live for anything to change, so revoking a
/// revoked token reports nothing done.
const REVOKE_TOKEN_LINEAGE: &str = "\
    WITH RECURSIVE lineage (id) AS ( \
        SELECT id FROM api_tokens WHERE id = ?1 AND tenant_id = ?2 AND revoked_at IS NULL \
        UNION SELECT t.id FROM api_tokens t JOIN lineage l ON t.parent_id = l.id \
    ) \
    UPDATE api_tokens SET revoked_at = ?3 \
    WHERE id IN (SELECT id FROM lineage) AND revoked_at IS NULL";

pub(super) async fn create_api_token(
    store: &Backend,
    token: ApiToken,
    secret_hash: [u8; 32],
    audit: AuditAppend,
) -> Result<(), StoreError> {
    let signer = store.signer();
    let created_at = codec::timestamp_to_db(token.created_at)?;
    let expires_at = codec::timestamp_to_db(token.expires_at)?;
    transaction!(store, |conn| async {
        sqlx::query(
            "INSERT INTO api_tokens (id, tenant_id, name, role, secret_hash, created_by, \
             created_at, expires_at, parent_id, step_up_scopes) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(codec::uuid_to_db(token.id.0))
        .bind(codec::uuid_to_db(token.tenant.0))
        .bind(&token.name)
        .bind(token.role.as_str())
        .bind(secret_hash.as_slice())
        .bind(&token.created_by)
        .bind(&created_at)
        .bind(&expires_at)
        .bind(token.parent.map(|p| codec::uuid_to_db(p.0)))
        .bind(scopes_to_db(&token.step_up_scopes))
        .execute(&mut *conn)
        .await?;
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(())
    })
}

pub(super) async fn api_token_by_hash(
    store: &Backend,
    hash: &[u8; 32],
) -> Result<Option<ApiToken>, StoreError> {
    sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = ?"
    ))
    .bind(hash.as_slice())
    .fetch_optional(&store.read)
    .await?
    .as_ref()
    .map(token_from_row)
    .transpose()
}

pub(super) async fn api_tokens(
    store: &Backend,
    tenant: TenantId,
) -> Result<Vec<ApiToken>, StoreError> {
    sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE tenant_id = ? ORDER BY created_at, id"
    ))
    .bind(codec::uuid_to_db(tenant.0))
    .fetch_all(&store.read)
    .await?
    .iter()
    .map(token_from_row)
    .collect()
}

pub(super) async fn revoke_api_token(
    store: &Backend,
    tenant: TenantId,
    id: ApiTokenId,
    audit: AuditAppend,
) -> Result<bool, StoreError> {
    let signer = store.signer();
    let now = codec::timestamp_to_db(OffsetDateTime::now_utc())?;
    transaction!(store, |conn| async {
        let done = sqlx::query(REVOKE_TOKEN_LINEAGE)
            .bind(codec::uuid_to_db(id.0))
            .bind(codec::uuid_to_db(tenant.0))
            .bind(&now)
            .execute(&mut *conn)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(true)
    })
}

pub(super) async fn touch_api_token(
    store: &Backend,
    id: ApiTokenId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let now = codec::timestamp_to_db(now)?;
    transaction!(store, |conn| async {
        sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
            .bind(&now)
            .bind(codec::uuid_to_db(id.0))
            .execute(&mut *conn)
            .await?;
        Ok::<_, StoreError>(())
    })
}
