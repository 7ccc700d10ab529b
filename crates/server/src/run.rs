//! `nexaguard serve`: everything from settings to a graceful exit.

use crate::admin::AdminHttp;
use crate::app::{self, AppState, StateParts};
use crate::database::Stores;
use crate::ratelimit::Limiter;
use crate::serve::{Server, Transport};
use crate::settings::Settings;
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
    let demo_site = if settings.demo {
        demo::ensure(store.as_ref(), &gvl, local_addr).await?
    } else {
        None
    };
    let country_header = settings
        .country_header
        .as_deref()
        .map(HeaderName::try_from)
        .transpose()
        .context("country_header is not a valid header name")?;
    let admin = crate::admin::open(
        &settings.data_dir,
        Arc::clone(&stores.admin),
        Arc::clone(&store),
        Arc::new(gvl.clone()),
        keys.clone(),
    )
    .await?;
    let demo_owner = match &demo_site {
        Some(site) => demo::ensure_owner(&admin, site).await?,
        None => None,
    };
    drop(setup);
    audit_lifecycle(&admin, Action::ConfigLoaded, config_summary(&settings)).await;
    audit_lifecycle(&admin, Action::ServerStarted, serde_json::json!({})).await;
    let state = AppState::new(StateParts {
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
        admin: Some(AdminHttp {
            admin: Arc::clone(&admin),
            limiter: limiter(
                &stores,
                "admin",
                ADMIN_ATTEMPTS_PER_MINUTE,
                ADMIN_ATTEMPTS_BURST,
            ),
        }),
    })
    .await?;
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
    let scheme = match transport {
        Transport::Tls(_) => "https",
        Transport::PlainHttpBehindProxy => "http",
    };
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let has_demo = demo_site.is_some();
    tokio::spawn(async move {
        if let Ok(addr) = ready_rx.await {
            print_urls(scheme, addr, has_demo, demo_owner);
        }
    });
    let result = Server::on_listener(app::router(state), listener, transport)
        .on_ready(ready_tx)
        .run(shutdown_signal())
        .await;
    background.abort();
    // Attempts in flight are cut short; their leases lapse and they are
    // sent again after the restart (at least once).
    webhooks.abort();
    audit_lifecycle(&admin, Action::ServerStopped, serde_json::json!({})).await;
    // In-flight requests are done; commit whatever they queued.
    store.close().await;
    tracing::info!("stopped");
    result
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

fn print_urls(scheme: &str, addr: SocketAddr, demo: bool, owner: Option<(String, String)>) {
    let host = if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    };
    println!();
    println!("NexaGuard is listening on {scheme}://{host}");
    if demo {
        println!("  Demo page:   {scheme}://{host}/demo/");
    }
    println!("  Console:     {scheme}://{host}/admin/");
    println!("  Debug tool:  {scheme}://{host}/debug");
    println!("  OpenAPI:     {scheme}://{host}/v1/openapi.json");
    println!("  Admin API:   {scheme}://{host}/admin/api/v1/session (docs/admin-api.md)");
    if let Some((email, password)) = owner {
        println!("  Demo owner:  {email} / {password}");
        println!("               (shown this once; enrol TOTP at the first sign-in)");
    }
    println!("  Consent API: {scheme}://{host}/v1/consents");
    println!("  Health:      {scheme}://{host}/healthz  {scheme}://{host}/readyz  {scheme}://{host}/metrics");
    println!();
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
