//! Tenants. Their only writer is here, audited: `Store` reads them.
//!
//! Invariant: a tenant exists exactly when its creation's entry does (one
//! transaction).

use super::{append, transaction, Backend};
use crate::admin::AuditAppend;
use crate::sqlite::codec;
use crate::{StoreError, Tenant, TenantId};
use sqlx::SqliteConnection;
use time::OffsetDateTime;

pub(super) async fn create_tenant_audited(
    store: &Backend,
    tenant: TenantId,
    name: &str,
    audit: AuditAppend,
) -> Result<Tenant, StoreError> {
    let signer = store.signer();
    let tenant = Tenant {
        id: tenant,
        name: name.to_owned(),
        created_at: OffsetDateTime::now_utc(),
    };
    transaction!(store, |conn| async {
        insert_tenant(conn, &tenant).await?;
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(tenant)
}

async fn insert_tenant(conn: &mut SqliteConnection, tenant: &Tenant) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)")
        .bind(codec::uuid_to_db(tenant.id.0))
        .bind(&tenant.name)
        .bind(codec::timestamp_to_db(tenant.created_at)?)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
