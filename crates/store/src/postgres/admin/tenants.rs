//! Tenants. Their only writer is here, audited: `Store` reads them.
//!
//! Invariant: a tenant exists exactly when its creation's entry does (one
//! transaction).

use super::{append, transaction, Backend};
use crate::admin::AuditAppend;
use crate::postgres::codec;
use crate::{StoreError, Tenant, TenantId};
use sqlx::postgres::PgConnection;

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
        created_at: codec::store_clock()?,
    };
    transaction!(store, |conn| async {
        insert_tenant(conn, &tenant).await?;
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(tenant)
}

async fn insert_tenant(conn: &mut PgConnection, tenant: &Tenant) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(tenant.id.0)
        .bind(&tenant.name)
        .bind(tenant.created_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
