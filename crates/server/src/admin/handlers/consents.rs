//! A site's consent records: search, export (streamed) and statistics.
//!
//! Invariant: an export is streamed page by page as the store reads it,
//! never held whole in memory; a failure midway ends the stream (the
//! client sees a truncated download), logged, since the status is sent.

use crate::admin::answer::{named, Export, JsonLinesOrCsv};
use crate::admin::extract::{AdminQuery, AdminService, Caller, Ids};
use crate::admin::{rules, whole};
use crate::error::ApiError;
use axum::body::Body;
use axum::Json;
use nexaguard_admin::consents::{ConsentFilter, ConsentRecord, ConsentStats, ExportFormat};
use nexaguard_admin::AdminError;
use nexaguard_consent::Environment;
use nexaguard_store::SiteId;
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;
use uuid::Uuid;

/// Which records: the query string of the search and the statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ConsentParams {
    /// The environment; production by default.
    pub environment: Option<Environment>,
    /// Records of this consent token.
    #[param(pattern = "^[A-Za-z0-9_-]{43}$")]
    pub token: Option<String>,
    /// The record of this event id.
    pub event_id: Option<Uuid>,
    /// Recorded at or after (RFC 3339). A range that ends where or before
    /// it starts finds nothing.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<OffsetDateTime>,
    /// Recorded before (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<OffsetDateTime>,
    /// At most this many records (search: 1 to 500, fewer or more are
    /// taken as the nearest; 50 by default). The statistics ignore it.
    #[param(schema_with = rules::clamped_limit)]
    #[serde(default, deserialize_with = "whole::query_u32")]
    pub limit: Option<u32>,
    /// Ignored (the export's parameter, accepted here too).
    // Read by serde only: it is accepted so that one query string serves
    // the search and the export, and the search has no use for it.
    #[allow(dead_code)]
    pub format: Option<String>,
}

/// Which records, and how: the query string of the export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// The environment; production by default.
    pub environment: Option<Environment>,
    /// Records of this consent token.
    #[param(pattern = "^[A-Za-z0-9_-]{43}$")]
    pub token: Option<String>,
    /// The record of this event id.
    pub event_id: Option<Uuid>,
    /// Recorded at or after (RFC 3339). A range that ends where or before
    /// it starts finds nothing.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<OffsetDateTime>,
    /// Recorded before (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<OffsetDateTime>,
    /// Ignored (the search's parameter, accepted here too): an export has
    /// every record that matches.
    #[param(schema_with = rules::clamped_limit)]
    #[serde(default, deserialize_with = "whole::query_u32")]
    pub limit: Option<u32>,
    /// `jsonl` (JSON Lines, the default) or `csv`.
    #[param(pattern = "^(jsonl|csv)$")]
    pub format: Option<String>,
}

named!(ConsentRecord, ConsentStats);

fn filter(
    environment: Option<Environment>,
    token: Option<String>,
    event_id: Option<Uuid>,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
    limit: Option<u32>,
) -> (Environment, ConsentFilter) {
    (
        environment.unwrap_or(Environment::Production),
        ConsentFilter {
            token,
            event_id,
            from,
            to,
            limit,
        },
    )
}

impl ConsentParams {
    fn filter(self) -> (Environment, ConsentFilter) {
        filter(
            self.environment,
            self.token,
            self.event_id,
            self.from,
            self.to,
            self.limit,
        )
    }
}

/// `GET /sites/{site}/consents`: newest first, each with the impression it
/// names where that is stored.
pub async fn search_consents(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
    AdminQuery(params): AdminQuery<ConsentParams>,
) -> Result<Json<Vec<ConsentRecord>>, ApiError> {
    let (environment, filter) = params.filter();
    Ok(Json(
        admin
            .consent_records(&principal, site, environment, &filter)
            .await?,
    ))
}

/// `GET /sites/{site}/consents/export`.
pub async fn export_consents(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
    AdminQuery(params): AdminQuery<ExportParams>,
) -> Result<Export<JsonLinesOrCsv>, ApiError> {
    let (format, content_type, extension) = match params.format.as_deref() {
        None | Some("jsonl") => (ExportFormat::JsonLines, "application/x-ndjson", "jsonl"),
        Some("csv") => (ExportFormat::Csv, "text/csv; charset=utf-8", "csv"),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "format is csv or jsonl",
            ))
        }
    };
    let (environment, filter) = filter(
        params.environment,
        params.token,
        params.event_id,
        params.from,
        params.to,
        params.limit,
    );
    let export = admin
        .export_consents(&principal, site, environment, &filter, format)
        .await?;
    let stream = futures_util::stream::unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, AdminError>(chunk), export)),
            Ok(None) => None,
            Err(error) => {
                tracing::error!(%error, "consent export failed midway");
                Some((Err(error), export))
            }
        }
    });
    Ok(Export::new(
        Body::from_stream(stream),
        content_type,
        Some(format!("consents-{}.{extension}", site.0)),
    ))
}

/// `GET /sites/{site}/stats`.
pub async fn stats(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
    AdminQuery(params): AdminQuery<ConsentParams>,
) -> Result<Json<ConsentStats>, ApiError> {
    let (environment, filter) = params.filter();
    Ok(Json(
        admin
            .consent_stats(&principal, site, environment, &filter)
            .await?,
    ))
}
