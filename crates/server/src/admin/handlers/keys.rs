//! The installation's key ring (the platform operator's): rotation of the
//! key-encryption key.
//!
//! Invariant: an answer names keys by id, never carries key material.

use crate::admin::answer::named;
use crate::admin::extract::{AdminService, Caller};
use crate::error::ApiError;
use axum::Json;
use nexaguard_admin::keys::RotationReport;

named!(RotationReport);

/// `POST /keys/rotate`: every data key is wrapped again under the current
/// key-encryption key.
pub async fn rotate_keys(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
) -> Result<Json<RotationReport>, ApiError> {
    Ok(Json(admin.rotate_keys(&principal).await?))
}
