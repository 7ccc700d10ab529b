//! The application: shared state and the router.
//!
//! Invariant: every request but the health probes is answered only when
//! it names one of the server's [`PublicOrigins`] (`headers::misdirected`,
//! in `edge`),
//! and metrics are not on this router (see [`crate::metrics`]).

use crate::admin::AdminHttp;
use crate::gvl_source::LoadedGvl;
use crate::precompressed::Precompressed;
use crate::ratelimit::Limiter;
use crate::region::RegionResolver;
use crate::registry::Registry;
use crate::settings::PublicOrigins;
use crate::{headers, metrics, routes};
use axum::extract::State;
use axum::http::HeaderName;
use axum::routing::{get, post};
use axum::Router;
use nexaguard_consent::token::TokenKeys;
use nexaguard_store::Store;
use nexaguard_tcf::gvl::{Gvl, Translations};
use std::sync::{Arc, RwLock};

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
pub struct Inner {
    /// The consent store.
    pub store: Arc<dyn Store>,
    /// The Global Vendor List the server checks TC strings against.
    pub gvl: Arc<Gvl>,
    /// The GVL's translations, for `config.json` in each language.
    pub translations: Translations,
    /// Token issuing and hashing keys.
    pub keys: TokenKeys,
    /// Consent post rate limits.
    pub limiter: Limiter,
    /// Rate limits of the public debug tool's decodes.
    pub debug_limiter: Limiter,
    /// The trusted header with the visitor's country, if configured (the
    /// older setting; [`Inner::regions`] reads it).
    pub country_header: Option<HeaderName>,
    /// Where visitors are: trusted headers, then the GeoIP database.
    pub regions: Arc<RegionResolver>,
    /// Whether the client address comes from `X-Forwarded-For` (behind a
    /// proxy) rather than the TCP peer.
    pub behind_proxy: bool,
    /// The admin API, when enabled.
    pub admin: Option<AdminHttp>,
    /// The server's own origins: absolute URLs, `Host` and `Origin` checks.
    pub public: PublicOrigins,
    registry: RwLock<Arc<Registry>>,
    pub(crate) gvl_response: Precompressed,
    pub(crate) assets: routes::assets::Assets,
}

/// What [`AppState::new`] needs.
pub struct StateParts {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The GVL and its translations.
    pub gvl: LoadedGvl,
    /// Token keys.
    pub keys: TokenKeys,
    /// Rate limiter.
    pub limiter: Limiter,
    /// Trusted country header.
    pub country_header: Option<HeaderName>,
    /// Behind a TLS-terminating proxy.
    pub behind_proxy: bool,
    /// The production site key the demo page uses, if the demo is on.
    pub demo_site_key: Option<String>,
    /// The admin API, when enabled.
    pub admin: Option<AdminHttp>,
    /// The server's own origins (settings' `public_url`, or the
    /// development default for the listen address).
    pub public: PublicOrigins,
}

impl AppState {
    /// Builds the state and loads the sites from the store. Regions come
    /// from `country_header` alone; see [`AppState::with_regions`].
    pub async fn new(parts: StateParts) -> Result<Self, nexaguard_store::StoreError> {
        let regions = RegionResolver::from_country_header(parts.country_header.clone());
        Self::with_regions(parts, regions).await
    }

    /// Builds the state with the region sources `regions` (which replace
    /// `parts.country_header` as the source of the recorded country).
    pub async fn with_regions(
        parts: StateParts,
        regions: RegionResolver,
    ) -> Result<Self, nexaguard_store::StoreError> {
        // Metrics recorded before the recorder exists are lost; install it first.
        crate::metrics::handle();
        let LoadedGvl { gvl, translations } = parts.gvl;
        let registry = Registry::load(parts.store.as_ref(), &gvl, &translations).await?;
        let gvl_json = serde_json::to_vec(&gvl).unwrap_or_default();
        let assets = routes::assets::Assets::new(parts.demo_site_key.clone());
        Ok(AppState(Arc::new(Inner {
            store: parts.store,
            gvl: Arc::new(gvl),
            translations,
            keys: parts.keys,
            limiter: parts.limiter,
            debug_limiter: crate::console::debug_limiter(),
            country_header: parts.country_header,
            regions: Arc::new(regions),
            behind_proxy: parts.behind_proxy,
            admin: parts.admin,
            public: parts.public,
            registry: RwLock::new(Arc::new(registry)),
            gvl_response: Precompressed::new(gvl_json, "application/json", "public, max-age=3600"),
            assets,
        })))
    }

    /// The current snapshot of sites.
    pub fn registry(&self) -> Arc<Registry> {
        match self.0.registry.read() {
            Ok(r) => Arc::clone(&r),
            // A writer panicked mid-swap; the Arc inside is still whole.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Reloads the sites from the store if they changed (a CLI publish, or
    /// another node). Returns whether anything changed.
    pub async fn refresh_sites(&self) -> Result<bool, nexaguard_store::StoreError> {
        let current = self.registry();
        let Some(fresh) = current
            .reload_if_changed(self.store.as_ref(), &self.gvl, &self.translations)
            .await?
        else {
            return Ok(false);
        };
        let fresh = Arc::new(fresh);
        match self.0.registry.write() {
            Ok(mut r) => *r = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(true)
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The whole router: public API, health, SDK and demo page, admin API and
/// console, with security headers on every response. Metrics are served
/// by [`crate::metrics::router`] on a listener of their own.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/v1/sites/{site_key}/config.json",
            get(routes::config::site_config),
        )
        .route(
            "/v1/sites/{site_key}/snippet.html",
            get(routes::assets::snippet),
        )
        .route(
            "/v1/sites/{site_key}/region",
            get(routes::region::site_region),
        )
        .route("/v1/gvl/vendor-list.json", get(routes::config::vendor_list))
        .route("/v1/consents", post(routes::consents::record))
        .route(
            "/v1/consents/{consent_token}",
            get(routes::consents::restore),
        )
        .route("/v1/openapi.json", get(routes::docs::openapi))
        .route(
            "/v1/schema/consent-event.json",
            get(routes::docs::consent_event_schema),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::cors,
        ));
    Router::new()
        .merge(api)
        .merge(crate::admin::router(&state))
        .merge(crate::console::router())
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/sdk/v1/nexaguard.js", get(routes::assets::sdk))
        .route("/sdk/v1/{file}", get(routes::assets::sdk_hashed))
        .route("/demo/", get(routes::assets::demo_page))
        .route("/demo/demo.js", get(routes::assets::demo_script))
        .route("/", get(routes::assets::index))
        .fallback(routes::health::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), edge))
        .with_state(state)
}

/// What every request and response of the router goes through, in this
/// order: the request is counted and timed, a request for another host is
/// answered 421 without reaching a handler, what the handler left of the
/// request body is read away (crate::body's invariant), and every response
/// gets the security headers. One middleware rather than one per concern: each
/// `from_fn` layer clones the inner service and boxes a future on every
/// request, which the consent path measured as a cost of its own
/// (docs/benchmarks.md).
async fn edge(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let timer = metrics::RequestTimer::start(&request);
    let version = request.version();
    let (request, unread) = crate::body::track_unread(request);
    let mut response = match headers::misdirected(&state.public, &request) {
        None => next.run(request).await,
        Some(misdirected) => misdirected,
    };
    if let Some(unread) = unread {
        crate::body::finish_unread(unread, &mut response, version).await;
    }
    headers::add_security_headers(response.headers_mut());
    timer.finish(&response);
    response
}
