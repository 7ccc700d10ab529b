//! Prometheus metrics: requests and latency by route and status, consents
//! recorded, write-queue depth, store latency, and the admin security
//! counters (sign-in failures, lockouts, refusals).
//!
//! Invariant: `/metrics` is served only by [`router`] on the operator's
//! metrics listener (`metrics_listen`), behind the bearer token when one
//! is set; the public router has no such route. The counters show attacks
//! in progress and admin activity, which is the operator's business only.

use crate::error::ApiError;
use crate::settings::MetricsToken;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use nexaguard_store::Store;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Request latency histogram.
pub const REQUEST_SECONDS: &str = "nexaguard_http_request_duration_seconds";
/// Requests counter.
pub const REQUESTS: &str = "nexaguard_http_requests_total";
/// Consents newly recorded.
pub const CONSENTS_RECORDED: &str = "nexaguard_consents_recorded_total";
/// Events waiting for the store's writer.
pub const WRITE_QUEUE_DEPTH: &str = "nexaguard_store_write_queue_depth";
/// Store call latency histogram.
pub const STORE_SECONDS: &str = "nexaguard_store_operation_duration_seconds";

const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder. Installed once: the `metrics` facade has one
/// global recorder, and tests start several servers in one process.
pub fn handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".to_owned()), &BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .clone()
}

/// Counts and times every request under its route pattern (never the raw
/// path, which holds site keys and tokens).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(REQUEST_SECONDS, &labels).record(started.elapsed().as_secs_f64());
    response
}

/// Times one store operation.
pub fn store_latency(operation: &'static str, started: Instant) {
    metrics::histogram!(STORE_SECONDS, "operation" => operation)
        .record(started.elapsed().as_secs_f64());
}

/// What the metrics listener's handler needs.
#[derive(Clone)]
struct Scrape {
    store: Arc<dyn Store>,
    token: Option<MetricsToken>,
}

/// The metrics listener's router: `GET /metrics` (Prometheus text format),
/// requiring `Authorization: Bearer <token>` when `token` is set, and 404
/// for anything else.
pub fn router(store: Arc<dyn Store>, token: Option<MetricsToken>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .fallback(|| async { ApiError::not_found("not_found", "only /metrics is served here") })
        .with_state(Scrape { store, token })
}

async fn scrape(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    if let Some(token) = &scrape.token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if !presented.is_some_and(|p| token.matches(p)) {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the metrics need `Authorization: Bearer` with the metrics token",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    ::metrics::gauge!(WRITE_QUEUE_DEPTH).set(scrape.store.pending_writes() as f64);
    let body = handle().map(|h| h.render()).unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/plain; version=0.0.4"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Serves `router` over plain HTTP on `listener` until `shutdown`
/// completes. Plain HTTP because the listener is for the operator's own
/// network; the public listener never carries metrics.
///
/// # Errors
///
/// If accepting connections fails.
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
