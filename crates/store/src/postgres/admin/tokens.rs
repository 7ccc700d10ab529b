//! API tokens, by the hash of their secret (the secret itself is never
//! stored).
//!
//! Invariant: revoking a token revokes, in the same statement, every live
//! token it made, directly or through others.

use super::{append, transaction, Backend};
use crate::admin::rows::{scopes_to_db, token_from_row, TOKEN_COLUMNS};
use crate::admin::{ApiToken, ApiTokenId, AuditAppend};
use crate::postgres::codec::{self, to_micros};
use crate::{StoreError, TenantId};
use time::OffsetDateTime;

/// Revokes a live token (`$1`, of tenant `$2`) and its live descendants
/// at `$3`. The root must be live for anything to change, so revoking a
/// revoked token reports nothing done.
const REVOKE_TOKEN_LINEAGE: &str = "\
    WITH RECURSIVE lineage (id) AS ( \
        SELECT id FROM api_tokens WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL \
        UNION SELECT t.id FROM api_tokens t JOIN lineage l ON t.parent_id = l.id \
    ) \
    UPDATE api_tokens SET revoked_at = $3 \
    WHERE id IN (SELECT id FROM lineage) AND revoked_at IS NULL";

pub(super) async fn create_api_token(
    store: &Backend,
    token: ApiToken,
    secret_hash: [u8; 32],
    audit: AuditAppend,
) -> Result<(), StoreError> {
    let signer = store.signer();
    transaction!(store, |conn| async {
        sqlx::query(
            "INSERT INTO api_tokens (id, tenant_id, name, role, secret_hash, created_by, \
             created_at, expires_at, parent_id, step_up_scopes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(token.id.0)
        .bind(token.tenant.0)
        .bind(&token.name)
        .bind(token.role.as_str())
        .bind(secret_hash.as_slice())
        .bind(&token.created_by)
        .bind(to_micros(token.created_at)?)
        .bind(to_micros(token.expires_at)?)
        .bind(token.parent.map(|p| p.0))
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
    let mut conn = store.conn().await?;
    sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = $1"
    ))
    .bind(hash.as_slice())
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(token_from_row)
    .transpose()
}

pub(super) async fn api_tokens(
    store: &Backend,
    tenant: TenantId,
) -> Result<Vec<ApiToken>, StoreError> {
    let mut conn = store.conn().await?;
    sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at, id"
    ))
    .bind(tenant.0)
    .fetch_all(&mut *conn)
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
    transaction!(store, |conn| async {
        let done = sqlx::query(REVOKE_TOKEN_LINEAGE)
            .bind(id.0)
            .bind(tenant.0)
            .bind(codec::store_clock()?)
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
    let mut conn = store.conn().await?;
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(to_micros(now)?)
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
