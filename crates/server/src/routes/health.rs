//! Liveness and readiness. Both answer whatever `Host` a probe sends
//! (see `headers::misdirected`); metrics are on their own listener
//! ([`crate::metrics`]).

use crate::app::AppState;
use crate::error::ApiError;
use crate::metrics;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::time::Instant;

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "alive")))]
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the store answers.
#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "ready"),
    (status = 503, description = "the store does not answer"),
))]
pub async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let started = Instant::now();
    let result = state.store.ping().await;
    metrics::store_latency("ping", started);
    match result {
        Ok(()) => Ok(Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let mut error = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the store does not answer",
            );
            error.retry_after = Some(2);
            Err(error)
        }
    }
}

/// Anything else: 404 in the API's error shape.
pub async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such resource")
}
