//! The caller's audit chain: reading it, exporting it, verifying it.
//!
//! Invariant: a caller reads only its own chain (its tenant's, or the
//! platform's for the operator); the administration service picks it from
//! the caller, never from the request.

use crate::admin::answer::{named, Export, JsonLines};
use crate::admin::extract::{AdminQuery, AdminService, Caller};
use crate::admin::{rules, whole};
use crate::error::ApiError;
use axum::body::Body;
use axum::Json;
use nexaguard_audit::AuditEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Which entries: the query string of the read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Entries after this position in the chain; 0 (the start) by default.
    #[param(schema_with = rules::after)]
    #[serde(default, deserialize_with = "whole::query_u64")]
    pub after: Option<u64>,
    /// At most this many, 100 by default (1 to 500; fewer or more are
    /// taken as the nearest).
    #[param(schema_with = rules::clamped_limit)]
    #[serde(default, deserialize_with = "whole::query_u32")]
    pub limit: Option<u32>,
}

/// The outcome of verifying the caller's chain.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ChainVerification {
    /// Every entry and checkpoint verified.
    Valid(ValidChain),
    /// The first place the chain breaks.
    Broken(BrokenChain),
}

/// A chain that verified.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidChain {
    /// The chain: `platform`, or the tenant's id.
    pub chain: String,
    /// Always true.
    pub valid: bool,
    /// Entries verified.
    pub entries: u64,
    /// Signed checkpoints verified.
    pub checkpoints: u64,
}

/// A chain that did not verify.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrokenChain {
    /// The chain: `platform`, or the tenant's id.
    pub chain: String,
    /// Always false.
    pub valid: bool,
    /// The position where the break shows.
    pub broken_at: u64,
    /// The entry there, when there is one.
    pub entry_id: Option<Uuid>,
    /// What is wrong.
    pub reason: String,
}

named!(AuditEntry, ChainVerification);

/// `GET /audit`: oldest first.
pub async fn read_audit(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    AdminQuery(params): AdminQuery<AuditParams>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let entries = admin
        .read_audit(
            &principal,
            params.after.unwrap_or(0),
            params.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(entries))
}

/// `GET /audit/export`: the whole chain as JSON Lines.
pub async fn export_audit(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
) -> Result<Export<JsonLines>, ApiError> {
    let entries = admin.export_audit(&principal).await?;
    let mut out = Vec::new();
    for entry in &entries {
        if serde_json::to_writer(&mut out, entry).is_ok() {
            out.push(b'\n');
        }
    }
    Ok(Export::new(Body::from(out), "application/x-ndjson", None))
}

/// `GET /audit/verify`.
pub async fn verify_audit(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
) -> Result<Json<ChainVerification>, ApiError> {
    let status = admin.verify_audit(&principal).await?;
    let chain = status.chain.to_text();
    Ok(Json(match status.result {
        Ok(report) => ChainVerification::Valid(ValidChain {
            chain,
            valid: true,
            entries: report.entries,
            checkpoints: report.checkpoints,
        }),
        Err(broken) => ChainVerification::Broken(BrokenChain {
            chain,
            valid: false,
            broken_at: broken.seq,
            entry_id: broken.id,
            reason: broken.to_string(),
        }),
    }))
}
