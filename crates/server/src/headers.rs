//! Security headers on every response, CORS for the public API limited
//! to the origins sites have configured, and the check that a request is
//! meant for this server.
//!
//! Invariant: a request reaches a handler (health probes aside) only when
//! every authority it carries (`Host`, and the request target's authority:
//! HTTP/2's `:authority`, HTTP/1.1's absolute form) is one of the
//! configured [`crate::settings::PublicOrigins`].

use crate::app::AppState;
use crate::error::ApiError;
use crate::settings::PublicOrigins;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Two years, subdomains included: the value preload lists ask for.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// HTML may load only this server's own scripts, styles and data, and may
/// not be framed anywhere.
pub const HTML_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Everything that is not HTML: nothing may be loaded or framed by it.
const OTHER_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Adds HSTS, nosniff, the referrer policy and a Content-Security-Policy
/// to a response's headers (see [`crate::app`]'s `edge`, which calls it
/// for every response).
pub fn add_security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    // A handler may allow its own origin to frame it (the console's preview).
    headers
        .entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let csp = if is_html { HTML_CSP } else { OTHER_CSP };
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(csp));
}

/// Paths answered whatever host a request names: load balancers and
/// orchestrators probe nodes by address (Kubernetes sends the pod's IP as
/// `Host`), and these answers hold no URL and nothing secret.
const ANY_HOST: [&str; 2] = ["/healthz", "/readyz"];

/// The 421 Misdirected Request for a request that names another host than
/// this server's own, or none; `None` for a request meant for this server.
/// A forged `Host` must never reach a handler, whether it would shape a
/// URL, pass for the server's own origin, or come from a DNS-rebinding
/// page.
pub fn misdirected(public: &PublicOrigins, request: &Request) -> Option<Response> {
    if ANY_HOST.contains(&request.uri().path()) || names_this_server(public, request) {
        return None;
    }
    Some(ApiError::new(
        StatusCode::MISDIRECTED_REQUEST,
        "misdirected",
        format!(
            "this server answers only as {} (the Host header or request authority names another host)",
            public.base_url()
        ),
    )
    .into_response())
}

/// Whether the request names at least one authority and all it names are
/// this server's.
fn names_this_server(public: &PublicOrigins, request: &Request) -> bool {
    let mut named = 0;
    if let Some(authority) = request.uri().authority() {
        if public.named_by(authority.as_str()).is_none() {
            return false;
        }
        named += 1;
    }
    for host in request.headers().get_all(header::HOST) {
        match host.to_str() {
            Ok(host) if public.named_by(host).is_some() => named += 1,
            _ => return false,
        }
    }
    named > 0
}

/// CORS for `/v1/...`: an origin that some site allows gets the CORS
/// headers, and preflights are answered here. Whether the origin belongs to
/// the site a request names is checked by the handler, which has the site.
pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // The header value itself (a shared buffer), not a copy of its text:
    // it goes back unchanged as Access-Control-Allow-Origin.
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin
        .as_ref()
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| state.registry().any_site_allows(o));
    let origin = origin.filter(|_| allowed);
    if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Some(origin) = origin {
            let h = response.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            allow_origin(&mut response, origin);
        }
        return response;
    }
    let mut response = next.run(request).await;
    if let Some(origin) = origin {
        allow_origin(&mut response, origin);
    }
    response
}

fn allow_origin(response: &mut Response, origin: HeaderValue) {
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}
