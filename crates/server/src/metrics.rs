//! Prometheus metrics: requests and latency by route and status, consents
//! recorded, write-queue depth and store latency. Served at `/metrics`.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
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
