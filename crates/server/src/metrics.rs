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
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use nexaguard_store::Store;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
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

/// Counts and times one request under its route pattern (never the raw
/// path, which holds site keys and tokens): started before the handler,
/// finished with its response (see [`crate::app`]'s `edge`).
pub struct RequestTimer {
    route: Option<MatchedPath>,
    method: Method,
    started: Instant,
}

impl RequestTimer {
    /// Starts timing `request`.
    pub fn start(request: &Request) -> Self {
        RequestTimer {
            route: request.extensions().get::<MatchedPath>().cloned(),
            method: request.method().clone(),
            started: Instant::now(),
        }
    }

    /// Counts the request with `response`'s status and records its time.
    pub fn finish(self, response: &Response) {
        let route = self.route.as_ref().map_or("unmatched", MatchedPath::as_str);
        let handles = request_handles(route, &self.method, response.status());
        handles.count.increment(1);
        handles.latency.record(self.started.elapsed().as_secs_f64());
    }
}

/// The counter and histogram of one route, method and status.
#[derive(Clone)]
struct RequestHandles {
    count: Counter,
    latency: Histogram,
}

/// Handles by route pattern, then method and status.
type HandleCache = HashMap<String, HashMap<(Method, StatusCode), RequestHandles>>;

/// The handles of a route, method and status, registered on first use.
///
/// Registering with the recorder builds a key from three label strings and
/// looks it up in the recorder's registry; cached, a request costs a read
/// lock and two map lookups instead (docs/benchmarks.md: "Where a consent's
/// CPU goes"). The cache is bounded: route patterns come from the route
/// table, methods and statuses from small sets.
fn request_handles(route: &str, method: &Method, status: StatusCode) -> RequestHandles {
    static CACHE: OnceLock<RwLock<HandleCache>> = OnceLock::new();
    let cache = CACHE.get_or_init(RwLock::default);
    let key = (method.clone(), status);
    if let Some(handles) = cache
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(route)
        .and_then(|by_status| by_status.get(&key))
    {
        return handles.clone();
    }
    let labels = [
        ("route", route.to_owned()),
        ("method", method.as_str().to_owned()),
        ("status", status.as_u16().to_string()),
    ];
    let handles = RequestHandles {
        count: metrics::counter!(REQUESTS, &labels),
        latency: metrics::histogram!(REQUEST_SECONDS, &labels),
    };
    cache
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(route.to_owned())
        .or_default()
        .insert(key, handles.clone());
    handles
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
