//! `nexaguard serve`: everything from settings to a graceful exit.
//!
//! Invariant: the URLs the banner prints and the server's own origins all
//! come from one [`PublicOrigins`], made once the port is bound.

use crate::admin::AdminHttp;
use crate::app::{self, AppState, StateParts};
use crate::database::Stores;
use crate::ratelimit::Limiter;
use crate::region::{GeoIpDb, HeaderSource, RegionResolver};
use crate::serve::{Server, Transport};
use crate::settings::{PublicOrigins, Settings};
use crate::tls::TlsFiles;
use crate::{demo, gvl_source, secrets};
use anyhow::Context;
use axum::http::HeaderName;
use nexaguard_admin::Admin;
use nexaguard_audit::{Action, Actor, ChainId, Outcome};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// How often the server looks for sites and configurations published by
/// the CLI or another node. The promise is 5 seconds; the check is two
/// small queries, and a change also costs rebuilding (and recompressing)
/// its answers, so the interval leaves room for that.
const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// Sign-in attempts (and other public admin requests) per client network.
const ADMIN_ATTEMPTS_PER_MINUTE: u32 = 30;
const ADMIN_ATTEMPTS_BURST: u32 = 10;

/// How often the GeoIP database file is checked for a new version.
const GEOIP_RELOAD_EVERY: Duration = Duration::from_secs(30);

/// How often expired consent records are removed.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Runs the server until SIGTERM or Ctrl-C, then shuts down gracefully:
/// stops accepting, finishes requests in flight, commits pending writes.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
    let stores = settings.database().open().await?;
    let store = Arc::clone(&stores.consents);
    let gvl = gvl_source::load(settings.gvl.as_deref()).await?;
    let geoip = open_geoip(&settings)?;
    // Nodes starting together on an empty installation take turns from
    // here to the end of setup, so that only one makes the secrets, the
    // certificate, the demo site, the first keys and the demo owner, and
    // the others read what it made.
    let setup = store.setup_lock().await?;
    let keys = secrets::token_keys(&settings.data_dir)?;
    let transport = transport(&settings)?;
    // Bound before the demo site is made, so that its allowed origins name
    // the real port when the settings ask for port 0.
    let listener = crate::serve::bind(settings.listen).await?;
    let local_addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let public = PublicOrigins::for_listener(settings.public_url.as_ref(), local_addr);
    warn_about_public_url(&settings, local_addr, &public);
    let country_header = settings
        .country_header
        .as_deref()
        .map(HeaderName::try_from)
        .transpose()
        .context("country_header is not a valid header name")?;
    // Opened before the demo is made, which goes through it.
    let admin = crate::admin::open(
        &settings.data_dir,
        Arc::clone(&stores.admin),
        Arc::clone(&store),
        Arc::new(gvl.gvl.clone()),
        keys.clone(),
    )
    .await?;
    let demo_site = if settings.demo {
        demo::ensure(store.as_ref(), &admin, &gvl.gvl, &public).await?
    } else {
        None
    };
    let demo_owner = match &demo_site {
        Some(site) => demo::ensure_owner(&admin, site).await?,
        None => None,
    };
    drop(setup);
    audit_lifecycle(&admin, Action::ConfigLoaded, config_summary(&settings)).await;
    audit_lifecycle(&admin, Action::ServerStarted, serde_json::json!({})).await;
    let regions = region_resolver(&settings, country_header.clone(), geoip);
    let geoip_reloader = regions.spawn_reloader(GEOIP_RELOAD_EVERY);
    let parts = StateParts {
        store: Arc::clone(&store),
        gvl,
        keys,
        limiter: limiter(
            &stores,
            "consents",
            settings.rate_limit_per_minute,
            settings.rate_limit_burst,
        ),
        country_header,
        behind_proxy: settings.plain_http_behind_proxy,
        demo_site_key: demo_site.as_ref().map(|s| s.production_key.clone()),
        public: public.clone(),
        admin: Some(AdminHttp {
            admin: Arc::clone(&admin),
            limiter: limiter(
                &stores,
                "admin",
                ADMIN_ATTEMPTS_PER_MINUTE,
                ADMIN_ATTEMPTS_BURST,
            ),
        }),
    };
    let state = AppState::with_regions(parts, regions).await?;
    let background = spawn_background(state.clone(), settings.retention_days);
    if settings.webhook_allow_loopback {
        tracing::warn!(
            "webhook URLs on this machine, over plain http too, are allowed: for development and tests only"
        );
    }
    let webhooks = crate::webhooks::spawn(
        Arc::clone(&admin),
        crate::webhooks::WebhookSettings {
            allow_loopback: settings.webhook_allow_loopback,
            ..crate::webhooks::WebhookSettings::default()
        },
    )
    .context("starting the webhook delivery worker")?;
    let metrics = match settings.metrics_listen {
        Some(address) => Some(start_metrics(&settings, address, Arc::clone(&store)).await?),
        None => None,
    };
    let plain_http = match transport {
        Transport::Tls(_) => None,
        Transport::PlainHttpBehindProxy => Some(local_addr),
    };
    // The certificate the server made itself is renewed by the server; a
    // configured one by whoever issued it.
    let renewer = match &transport {
        Transport::Tls(files) if crate::tls::is_generated(files, &settings.data_dir) => Some(
            crate::tls::spawn_renewer(files.clone(), crate::tls::RENEW_CHECK_INTERVAL),
        ),
        _ => None,
    };
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let banner = Banner {
        public,
        plain_http,
        demo: demo_site.is_some(),
        demo_owner,
        metrics: metrics.as_ref().map(|(address, _)| *address),
    };
    tokio::spawn(async move {
        if ready_rx.await.is_ok() {
            print!("{}", banner.text());
        }
    });
    let result = Server::on_listener(app::router(state), listener, transport)
        .on_ready(ready_tx)
        .run(shutdown_signal())
        .await;
    background.abort();
    if let Some(task) = geoip_reloader {
        task.abort();
    }
    if let Some(task) = renewer {
        task.abort();
    }
    if let Some((_, task)) = metrics {
        task.abort();
    }
    // Attempts in flight are cut short; their leases lapse and they are
    // sent again after the restart (at least once).
    webhooks.abort();
    audit_lifecycle(&admin, Action::ServerStopped, serde_json::json!({})).await;
    // In-flight requests are done; commit whatever they queued.
    store.close().await;
    tracing::info!("stopped");
    result
}

/// The GeoIP database, read whole at start: a missing or unreadable file
/// stops the start.
fn open_geoip(settings: &Settings) -> anyhow::Result<Option<GeoIpDb>> {
    let Some(path) = &settings.geoip_db else {
        return Ok(None);
    };
    let db = GeoIpDb::open(path)?;
    tracing::info!(
        path = %path.display(),
        database_type = %db.database_type(),
        "GeoIP database loaded"
    );
    Ok(Some(db))
}

/// The region sources: the `region_header` sources, then the older
/// `country_header`, then the database.
fn region_resolver(
    settings: &Settings,
    country_header: Option<HeaderName>,
    geoip: Option<GeoIpDb>,
) -> RegionResolver {
    let mut headers = settings.region_headers.clone();
    if let Some(name) = country_header {
        let source = HeaderSource::Country(name);
        if !headers.contains(&source) {
            headers.push(source);
        }
    }
    if !headers.is_empty() {
        let names: Vec<String> = headers
            .iter()
            .flat_map(HeaderSource::header_names)
            .map(|n| n.to_string())
            .collect();
        tracing::info!(
            headers = %names.join(", "),
            "trusting these request headers for visitor regions: strip them from client requests at the edge"
        );
    }
    RegionResolver::new(headers, geoip)
}

/// A per-network limit, shared by every node when the database is one
/// they share.
fn limiter(stores: &Stores, scope: &'static str, per_minute: u32, burst: u32) -> Limiter {
    let limiter = Limiter::new(per_minute, burst);
    match &stores.counters {
        Some(counter) => limiter.shared(Arc::clone(counter), scope),
        None => limiter,
    }
}

/// HTTPS with the configured certificate (or one made in the data
/// directory), or plain HTTP when a proxy terminates TLS.
fn transport(settings: &Settings) -> anyhow::Result<Transport> {
    if settings.plain_http_behind_proxy {
        return Ok(Transport::PlainHttpBehindProxy);
    }
    let configured = settings
        .tls
        .clone()
        .map(|(cert, key)| TlsFiles { cert, key });
    Ok(Transport::Tls(crate::tls::ensure_certificate(
        configured,
        &settings.data_dir,
    )?))
}

/// What the configuration load records: the settings that change the
/// security posture, never a secret or a path's contents.
fn config_summary(settings: &Settings) -> serde_json::Value {
    serde_json::json!({
        "listen": settings.listen.to_string(),
        "tls": if settings.plain_http_behind_proxy { "terminated_by_proxy" } else { "rustls" },
        "custom_certificate": settings.tls.is_some(),
        "demo": settings.demo,
        "webhook_allow_loopback": settings.webhook_allow_loopback,
        "retention_days": settings.retention_days,
        "rate_limit_per_minute": settings.rate_limit_per_minute,
        "public_url": settings.public_url.as_ref().map(|o| o.url()),
        "metrics_listen": settings.metrics_listen.map(|a| a.to_string()),
        "metrics_token": settings.metrics_token.is_some(),
        "region_headers": settings
            .region_headers
            .iter()
            .flat_map(crate::region::HeaderSource::header_names)
            .map(|n| n.to_string())
            .collect::<Vec<_>>(),
        "country_header": settings.country_header,
        "geoip_db": settings.geoip_db.is_some(),
    })
}

/// Records a deployment event (start, stop, configuration load) in the
/// platform's audit chain.
async fn audit_lifecycle(admin: &Admin, action: Action, details: serde_json::Value) {
    let entry = nexaguard_admin::principal::audit_entry(
        ChainId::Platform,
        Actor::System,
        action,
        format!("server {}", env!("CARGO_PKG_VERSION")),
        Outcome::Success,
        None,
        details,
    );
    if let Err(error) = admin.store().append_audit(entry).await {
        tracing::warn!(%error, "auditing a server lifecycle event failed");
    }
}

/// Binds the metrics listener and serves it in the background. Bound
/// here, before the banner, so that a taken port stops the start.
async fn start_metrics(
    settings: &Settings,
    address: SocketAddr,
    store: Arc<dyn nexaguard_store::Store>,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen for metrics on {address}"))?;
    let bound = listener
        .local_addr()
        .context("cannot read the metrics listener's address")?;
    if !bound.ip().is_loopback() && settings.metrics_token.is_none() {
        tracing::warn!(
            address = %bound,
            "metrics are served without a token on a non-loopback address: \
             firewall it to the monitoring network, or set metrics_token"
        );
    }
    let router = crate::metrics::router(store, settings.metrics_token.clone());
    let task = tokio::spawn(async move {
        // The task is aborted when the server stops.
        let forever = std::future::pending::<()>();
        if let Err(error) = crate::metrics::serve(listener, router, forever).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    tracing::info!(address = %bound, "serving metrics over plain HTTP");
    Ok((bound, task))
}

/// Says once at start when clients will likely use another name than the
/// default origins (a proxy in front, or every interface bound): their
/// requests are answered 421 until `public_url` names it.
fn warn_about_public_url(settings: &Settings, bound: SocketAddr, public: &PublicOrigins) {
    if settings.public_url.is_some() {
        return;
    }
    if settings.plain_http_behind_proxy || bound.ip().is_unspecified() {
        tracing::warn!(
            public_url = %public.base_url(),
            "public_url is not set: requests for any host name but the default answer 421; \
             set public_url to the https:// address visitors use"
        );
    }
}

/// The start-up banner: where to point a browser, from the server's
/// canonical public origin. No `Debug`: it holds the demo owner's password.
pub struct Banner {
    /// The server's own origins.
    pub public: PublicOrigins,
    /// The plain HTTP address, behind a TLS-terminating proxy.
    pub plain_http: Option<SocketAddr>,
    /// Whether the demo page exists.
    pub demo: bool,
    /// The demo owner's address and password, on the start that made them.
    pub demo_owner: Option<(String, String)>,
    /// The metrics listener's address.
    pub metrics: Option<SocketAddr>,
}

impl Banner {
    /// The banner's lines; `Health:` is the last (tests read up to it).
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let base = self.public.base_url();
        let mut out = String::from("\n");
        match self.plain_http {
            None => {
                let _ = writeln!(out, "NexaGuard is listening on {base}");
            }
            Some(address) => {
                let _ = writeln!(
                    out,
                    "NexaGuard is listening on http://{address} (plain HTTP for the proxy in front)"
                );
                let _ = writeln!(out, "  Public URL:  {base}");
            }
        }
        if self.demo {
            let _ = writeln!(out, "  Demo page:   {base}/demo/");
        }
        let _ = writeln!(out, "  Console:     {base}/admin/");
        let _ = writeln!(out, "  Debug tool:  {base}/debug");
        let _ = writeln!(out, "  OpenAPI:     {base}/v1/openapi.json");
        let _ = writeln!(
            out,
            "  Admin API:   {base}/admin/api/v1/session (docs/admin-api.md)"
        );
        if let Some((email, password)) = &self.demo_owner {
            let _ = writeln!(out, "  Demo owner:  {email} / {password}");
            let _ = writeln!(
                out,
                "               (shown this once; enrol TOTP at the first sign-in)"
            );
        }
        let _ = writeln!(out, "  Consent API: {base}/v1/consents");
        if let Some(address) = self.metrics {
            let _ = writeln!(
                out,
                "  Metrics:     http://{address}/metrics (operator network only)"
            );
        }
        let _ = writeln!(out, "  Health:      {base}/healthz  {base}/readyz");
        out.push('\n');
        out
    }
}

/// The periodic jobs: site refresh, retention, rate-limiter cleanup.
fn spawn_background(state: AppState, retention_days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut refresh = tokio::time::interval(REFRESH_EVERY);
        let mut retention = tokio::time::interval(RETENTION_EVERY);
        loop {
            tokio::select! {
                _ = refresh.tick() => {
                    match state.refresh_sites().await {
                        Ok(true) => tracing::info!("site configurations reloaded"),
                        Ok(false) => {}
                        Err(e) => tracing::warn!(error = %e, "site refresh failed"),
                    }
                    state.limiter.forget_idle();
                    state.debug_limiter.forget_idle();
                }
                _ = retention.tick() => remove_expired(&state, retention_days).await,
            }
        }
    })
}

/// Deletes consent records older than the retention period; logs counts only.
pub async fn remove_expired(state: &AppState, retention_days: u32) {
    let cutoff = OffsetDateTime::now_utc() - time::Duration::days(i64::from(retention_days));
    match state.store.delete_consents_before(cutoff).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            removed = n,
            retention_days,
            "expired consent records removed"
        ),
        Err(e) => tracing::warn!(error = %e, "retention job failed"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
