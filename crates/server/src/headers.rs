//! Security headers on every response, and CORS for the public API limited
//! to the origins sites have configured.

use crate::app::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
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

/// Adds HSTS, nosniff, the referrer policy and a Content-Security-Policy.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
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
    response
}

/// CORS for `/v1/...`: an origin that some site allows gets the CORS
/// headers, and preflights are answered here. Whether the origin belongs to
/// the site a request names is checked by the handler, which has the site.
pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let allowed = origin
        .as_deref()
        .is_some_and(|o| state.registry().any_site_allows(o));
    if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if allowed {
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
            allow_origin(&mut response, origin.as_deref());
        }
        return response;
    }
    let mut response = next.run(request).await;
    if allowed {
        allow_origin(&mut response, origin.as_deref());
    }
    response
}

fn allow_origin(response: &mut Response, origin: Option<&str>) {
    let h = response.headers_mut();
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}
