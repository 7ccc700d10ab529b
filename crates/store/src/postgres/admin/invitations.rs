//! Invitations to join a tenant, by the hash of their secret.
//!
//! Invariant: an invitation is accepted once: the acceptance claims it with
//! a conditional `UPDATE` and creates its user in the same transaction.

use super::users::insert_user;
use super::{append, transaction, Backend};
use crate::admin::rows::{invitation_from_row, INVITATION_COLUMNS};
use crate::admin::{AuditAppend, Invitation, NewUser, User};
use crate::postgres::codec::{self, to_micros};
use crate::{StoreError, TenantId};
use uuid::Uuid;

pub(super) async fn create_invitation(
    store: &Backend,
    invitation: Invitation,
    secret_hash: [u8; 32],
    audit: AuditAppend,
) -> Result<(), StoreError> {
    let signer = store.signer();
    transaction!(store, |conn| async {
        sqlx::query(
            "INSERT INTO invitations (id, tenant_id, email_index, email_sealed, role, \
             secret_hash, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(invitation.id)
        .bind(invitation.tenant.0)
        .bind(invitation.email_index.as_slice())
        .bind(&invitation.email_sealed)
        .bind(invitation.role.as_str())
        .bind(secret_hash.as_slice())
        .bind(&invitation.created_by)
        .bind(to_micros(invitation.created_at)?)
        .bind(to_micros(invitation.expires_at)?)
        .execute(&mut *conn)
        .await?;
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(())
    })
}

pub(super) async fn invitation_by_hash(
    store: &Backend,
    hash: &[u8; 32],
) -> Result<Option<Invitation>, StoreError> {
    let mut conn = store.conn().await?;
    sqlx::query(&format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations WHERE secret_hash = $1"
    ))
    .bind(hash.as_slice())
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(invitation_from_row)
    .transpose()
}

pub(super) async fn invitations(
    store: &Backend,
    tenant: TenantId,
) -> Result<Vec<Invitation>, StoreError> {
    let mut conn = store.conn().await?;
    sqlx::query(&format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = $1 \
         ORDER BY created_at, id"
    ))
    .bind(tenant.0)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(invitation_from_row)
    .collect()
}

pub(super) async fn accept_invitation(
    store: &Backend,
    invitation: Uuid,
    user: NewUser,
    audit: AuditAppend,
) -> Result<Option<User>, StoreError> {
    let signer = store.signer();
    transaction!(store, |conn| async {
        let done = sqlx::query(
            "UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL",
        )
        .bind(codec::store_clock()?)
        .bind(invitation)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let created = insert_user(conn, &user).await?;
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(Some(created))
    })
}
