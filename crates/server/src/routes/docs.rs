//! The machine-readable descriptions: OpenAPI and the event JSON Schema,
//! both generated from the code.

use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{assets, config, consents, health};
use axum::Json;
use nexaguard_consent::event::{ConsentEventInput, Receipt};
use utoipa::OpenApi;

/// The public API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "NexaGuard public consent API", version = "1"),
    paths(
        consents::record,
        consents::restore,
        config::site_config,
        config::vendor_list,
        assets::snippet,
        health::healthz,
        health::readyz,
    ),
    components(schemas(ConsentEventInput, Receipt, ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

/// `GET /v1/openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// `GET /v1/schema/consent-event.json`: the JSON Schema of a recorded event.
pub async fn consent_event_schema() -> Json<serde_json::Value> {
    Json(nexaguard_consent::event::consent_event_schema())
}
