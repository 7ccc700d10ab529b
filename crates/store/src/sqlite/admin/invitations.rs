//! Invitations to join a tenant, by the hash of their secret.
//!
//! Invariant: an invitation is accepted once: the acceptance claims it with
//! a conditional `UPDATE` and creates its user in the same transaction.

use super::users::insert_user;
use super::{append, transaction, Backend};
use crate::admin::rows::{invitation_from_row, INVITATION_COLUMNS};
use crate::admin::{AuditAppend, Invitation, NewUser, User};
use crate::sqlite::codec;
use crate::{StoreError, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

pub(super) async fn create_invitation(
    store: &Backend,
    invitation: Invitation,
    secret_hash: [u8; 32],
    audit: AuditAppend,
) -> Result<(), StoreError> {
    let signer = store.signer();
    let created_at = codec::timestamp_to_db(invitation.created_at)?;
    let expires_at = codec::timestamp_to_db(invitation.expires_at)?;
    transaction!(store, |conn| async {
        sqlx::query(
            "INSERT INTO invitations (id, tenant_id, email_index, email_sealed, role, \
             secret_hash, created_by, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(codec::uuid_to_db(invitation.id))
        .bind(codec::uuid_to_db(invitation.tenant.0))
        .bind(invitation.email_index.as_slice())
        .bind(&invitation.email_sealed)
        .bind(invitation.role.as_str())
        .bind(secret_hash.as_slice())
        .bind(&invitation.created_by)
        .bind(&created_at)
        .bind(&expires_at)
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
    sqlx::query(&format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations WHERE secret_hash = ?"
    ))
    .bind(hash.as_slice())
    .fetch_optional(&store.read)
    .await?
    .as_ref()
    .map(invitation_from_row)
    .transpose()
}

pub(super) async fn invitations(
    store: &Backend,
    tenant: TenantId,
) -> Result<Vec<Invitation>, StoreError> {
    sqlx::query(&format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = ? \
         ORDER BY created_at, id"
    ))
    .bind(codec::uuid_to_db(tenant.0))
    .fetch_all(&store.read)
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
    let now = codec::timestamp_to_db(OffsetDateTime::now_utc())?;
    transaction!(store, |conn| async {
        let done = sqlx::query(
            "UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL",
        )
        .bind(&now)
        .bind(codec::uuid_to_db(invitation))
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
