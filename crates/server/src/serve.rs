//! Running the HTTP(S) listener for `nexaguard serve`.
//!
//! [`Server`] binds, serves an [`axum::Router`] over TLS (or, explicitly,
//! plain HTTP behind a TLS-terminating proxy), keeps the certificate fresh and
//! shuts down gracefully. [`serve`] is the one-call form with the production
//! defaults.
//!
//! ```no_run
//! # async fn example(router: axum::Router, files: nexaguard_server::tls::TlsFiles) -> anyhow::Result<()> {
//! use nexaguard_server::serve::{Server, Transport};
//!
//! let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
//! let server = Server::new(router, "127.0.0.1:0".parse()?, Transport::Tls(files))
//!     .on_ready(ready_tx)
//!     .run(async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     });
//! # drop(ready_rx);
//! server.await?;
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::tls::{self, TlsFiles};

/// How long in-flight requests may run after shutdown was requested before
/// their connections are closed anyway.
///
/// Long enough for any reasonable API request, short enough to stay inside
/// the usual orchestrator kill timeouts (systemd 90 s, Kubernetes 30 s grace
/// on top of which the pod is killed).
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(30);

/// How the server talks to its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// HTTPS with this certificate/key pair (see
    /// [`tls::ensure_certificate`]), reloaded when the files change.
    Tls(TlsFiles),
    /// Unencrypted HTTP. Only for deployments where a reverse proxy or load
    /// balancer terminates TLS in front of the server; a warning is logged at
    /// start so it is never chosen silently.
    PlainHttpBehindProxy,
}

/// Where a [`Server`] listens.
#[derive(Debug)]
enum Listen {
    /// Bind this address when the server starts; port 0 picks a free port
    /// (see [`Server::on_ready`]).
    Address(SocketAddr),
    /// A socket the caller bound already (to know the port before start).
    Bound(std::net::TcpListener),
}

/// A configured, not yet started server. Build with [`Server::new`], adjust
/// with the builder methods, start with [`Server::run`].
#[derive(Debug)]
pub struct Server {
    /// What to serve.
    router: Router,
    /// Where to listen.
    listen: Listen,
    /// TLS or plain HTTP.
    transport: Transport,
    /// See [`Server::grace_period`].
    grace_period: Duration,
    /// See [`Server::reload_interval`].
    reload_interval: Duration,
    /// See [`Server::on_ready`].
    ready: Option<oneshot::Sender<SocketAddr>>,
}

impl Server {
    /// A server for `router` on `listen` with the production defaults:
    /// [`DEFAULT_GRACE_PERIOD`] and [`tls::RELOAD_INTERVAL`].
    #[must_use]
    pub fn new(router: Router, listen: SocketAddr, transport: Transport) -> Self {
        Self {
            router,
            listen: Listen::Address(listen),
            transport,
            grace_period: DEFAULT_GRACE_PERIOD,
            reload_interval: tls::RELOAD_INTERVAL,
            ready: None,
        }
    }

    /// A server on a socket the caller has bound already, so that it knew
    /// the port (from port 0) before the server started.
    #[must_use]
    pub fn on_listener(
        router: Router,
        listener: std::net::TcpListener,
        transport: Transport,
    ) -> Self {
        Self {
            listen: Listen::Bound(listener),
            ..Self::new(router, SocketAddr::from(([0, 0, 0, 0], 0)), transport)
        }
    }

    /// How long in-flight requests may take to finish once shutdown starts.
    #[must_use]
    pub fn grace_period(mut self, grace_period: Duration) -> Self {
        self.grace_period = grace_period;
        self
    }

    /// How often the certificate files are checked for changes (TLS only).
    #[must_use]
    pub fn reload_interval(mut self, every: Duration) -> Self {
        self.reload_interval = every;
        self
    }

    /// Receives the address actually bound once the socket listens, which is
    /// how a caller that asked for port 0 learns the port. Nothing is sent if
    /// start-up fails; the receiver then sees the sender dropped.
    #[must_use]
    pub fn on_ready(mut self, ready: oneshot::Sender<SocketAddr>) -> Self {
        self.ready = Some(ready);
        self
    }

    /// Binds and serves until `shutdown` completes, then shuts down
    /// gracefully: stops accepting connections, closes idle keep-alive
    /// connections, lets in-flight requests finish for up to the grace period,
    /// then closes what is left and returns `Ok(())`.
    ///
    /// Handlers can extract the peer address with
    /// `axum::extract::ConnectInfo<SocketAddr>`.
    ///
    /// # Errors
    ///
    /// If the certificate cannot be loaded, the address cannot be bound or the
    /// listener fails.
    pub async fn run<F>(self, shutdown: F) -> anyhow::Result<()>
    where
        F: Future<Output = ()>,
    {
        // The certificate is loaded before binding so a bad certificate fails
        // start-up without ever having taken the port.
        let tls = match &self.transport {
            Transport::Tls(files) => {
                let config = tls::server_config(files).context("cannot set up TLS")?;
                Some((RustlsConfig::from_config(config), files.clone()))
            }
            Transport::PlainHttpBehindProxy => None,
        };

        // Bound here rather than by axum-server so that the real address is
        // known (port 0) and a bind error is returned before anything runs.
        let listener = match self.listen {
            Listen::Address(address) => bind(address).await?,
            Listen::Bound(listener) => listener,
        };
        listener
            .set_nonblocking(true)
            .context("cannot make the listener non-blocking")?;
        let local_addr = listener
            .local_addr()
            .context("cannot read the bound address")?;

        let handle = Handle::new();
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();

        // Boxed because the TLS and plain servers are different types. The
        // reloader is aborted (dropped) on every way out of this function, so
        // a stopped server does not keep polling the certificate files.
        let (mut serving, reloader): (ServeFuture, Option<AbortOnDrop<()>>) = match tls {
            Some((config, files)) => {
                let reloader = tls::spawn_reloader(config.clone(), files, self.reload_interval);
                tracing::info!(address = %local_addr, "serving HTTPS");
                let server = axum_server::from_tcp_rustls(listener, config)
                    .context("cannot serve HTTPS on the listener")?
                    .handle(handle.clone());
                (Box::pin(server.serve(app)), Some(AbortOnDrop(reloader)))
            }
            None => {
                tracing::warn!(
                    address = %local_addr,
                    "serving plain HTTP: traffic is unencrypted; only use this behind a \
                     TLS-terminating reverse proxy, and make sure only that proxy can reach this address"
                );
                let server = axum_server::from_tcp(listener)
                    .context("cannot serve HTTP on the listener")?
                    .handle(handle.clone());
                (Box::pin(server.serve(app)), None)
            }
        };

        if let Some(ready) = self.ready {
            // The caller may have stopped waiting; serving goes on regardless.
            let _ = ready.send(local_addr);
        }

        tokio::pin!(shutdown);
        let stopped_on_its_own = tokio::select! {
            result = &mut serving => Some(result),
            () = &mut shutdown => None,
        };
        let result = match stopped_on_its_own {
            // Only an error makes the accept loop end without a shutdown.
            Some(result) => result,
            None => {
                tracing::info!(
                    grace_period = ?self.grace_period,
                    "shutting down: no new connections, waiting for in-flight requests"
                );
                handle.graceful_shutdown(Some(self.grace_period));
                serving.await
            }
        };
        drop(reloader);
        result.context("the server stopped with an error")?;
        tracing::info!("server stopped");
        Ok(())
    }
}

/// Binds `address` (port 0 picks a free port).
///
/// # Errors
///
/// If the address cannot be bound.
pub async fn bind(address: SocketAddr) -> anyhow::Result<std::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    listener.into_std().context("cannot hand the listener over")
}

/// The accept loop of either server flavour.
type ServeFuture = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

/// Aborts the task when dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves `router` on `listen` until `shutdown` completes, with the
/// production defaults ([`DEFAULT_GRACE_PERIOD`], [`tls::RELOAD_INTERVAL`]).
///
/// Shorthand for [`Server::new`] + [`Server::on_ready`] + [`Server::run`];
/// see there for the behaviour.
///
/// # Errors
///
/// As [`Server::run`].
pub async fn serve<F>(
    router: Router,
    listen: SocketAddr,
    transport: Transport,
    shutdown: F,
    ready: Option<oneshot::Sender<SocketAddr>>,
) -> anyhow::Result<()>
where
    F: Future<Output = ()>,
{
    let mut server = Server::new(router, listen, transport);
    if let Some(ready) = ready {
        server = server.on_ready(ready);
    }
    server.run(shutdown).await
}
