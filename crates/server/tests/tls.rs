//! HTTPS serving end to end: protocol and cipher policy checked with the real
//! `openssl s_client`, certificate generation and hot reload, plain HTTP
//! refusal on the TLS port, and graceful shutdown.
//!
//! These tests need the `openssl` binary on `PATH` (Debian package `openssl`).
//! Without it they fail with a message saying so; they never skip, because a
//! skipped TLS policy test looks exactly like a passing one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::routing::get;
use axum::Router;
use nexaguard_server::serve::{Server, Transport};
use nexaguard_server::tls::{self, TlsError, TlsFiles};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

/// Reload interval used by the tests, instead of the production 5 s.
const TEST_RELOAD_INTERVAL: Duration = Duration::from_millis(200);

/// Upper bound for anything that should be quick, so a hang fails the test
/// instead of blocking CI.
const PATIENCE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// Routes used by the tests: `/` answers "ok", `/peer` the peer address seen
/// through `ConnectInfo` (identifies the TCP connection), `/slow` answers
/// after 300 ms and signals `slow_started` when it begins.
fn router(slow_started: Arc<Notify>) -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/slow",
            get(move || {
                let started = Arc::clone(&slow_started);
                async move {
                    started.notify_one();
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "slow done"
                }
            }),
        )
        .route(
            "/forever",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "unreachable"
            }),
        )
}

/// A running server and what the tests need to poke at it.
struct TestServer {
    /// Where it listens.
    addr: SocketAddr,
    /// The certificate files it serves (generated into `_dir`).
    files: TlsFiles,
    /// Fires the shutdown future.
    shutdown: Option<oneshot::Sender<()>>,
    /// The `run` future, spawned.
    task: JoinHandle<anyhow::Result<()>>,
    /// Signalled when `/slow` starts.
    slow_started: Arc<Notify>,
    /// Keeps the data directory alive for the test's duration.
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Generates a self-signed certificate into a fresh data directory and
    /// serves HTTPS on 127.0.0.1 with an ephemeral port.
    async fn start() -> Self {
        Self::start_with(|server| server).await
    }

    /// As [`TestServer::start`], letting the caller adjust the builder.
    async fn start_with(adjust: impl FnOnce(Server) -> Server) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let files = tls::ensure_certificate(None, dir.path()).unwrap();
        let slow_started = Arc::new(Notify::new());
        let (ready_tx, ready_rx) = oneshot::channel();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let server = Server::new(
            router(Arc::clone(&slow_started)),
            "127.0.0.1:0".parse().unwrap(),
            Transport::Tls(files.clone()),
        )
        .reload_interval(TEST_RELOAD_INTERVAL)
        .on_ready(ready_tx);
        let server = adjust(server);
        let task = tokio::spawn(server.run(async {
            let _ = shutdown_rx.await;
        }));
        let addr = tokio::time::timeout(PATIENCE, ready_rx)
            .await
            .expect("server did not become ready")
            .expect("server failed before becoming ready");
        assert_ne!(addr.port(), 0, "the bound port is reported, not 0");
        Self {
            addr,
            files,
            shutdown: Some(shutdown_tx),
            task,
            slow_started,
            _dir: dir,
        }
    }

    /// `https://127.0.0.1:PORT{path}`.
    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Triggers the shutdown future.
    fn trigger_shutdown(&mut self) {
        self.shutdown.take().unwrap().send(()).unwrap();
    }

    /// Triggers shutdown and returns what `run` returned.
    async fn stop(mut self) -> anyhow::Result<()> {
        if self.shutdown.is_some() {
            self.trigger_shutdown();
        }
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("server did not stop")
            .unwrap()
    }
}

/// reqwest uses the process-wide rustls provider (the server does not: it
/// passes *ring* explicitly). Installing it twice is harmless.
fn install_client_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An HTTPS client that trusts exactly `cert_pem` and nothing else, so which
/// certificate the server presents decides whether a new handshake succeeds.
fn client_pinned_to(cert_pem: &[u8]) -> reqwest::Client {
    install_client_provider();
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem).unwrap())
        .pool_idle_timeout(Duration::from_secs(300))
        .timeout(PATIENCE)
        .build()
        .unwrap()
}

/// Locates `openssl` on `PATH`, failing the test (not skipping it) if absent.
fn openssl() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("openssl"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the `openssl` binary is not on PATH; these TLS tests need it \
                 (Debian/Ubuntu: apt-get install openssl) and deliberately do not skip"
            )
        })
}

/// Result of one `openssl s_client` run.
struct SClient {
    /// Whether the process exited 0 (handshake completed).
    success: bool,
    /// stdout and stderr together: `-brief` and the alerts go to stderr.
    output: String,
}

impl SClient {
    /// The value of a `-brief` line such as `Protocol version: TLSv1.3`.
    fn field(&self, name: &str) -> Option<&str> {
        self.output
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    }
}

/// Runs `openssl s_client -connect ADDR ARGS...` with stdin closed so that it
/// exits right after the handshake.
async fn s_client(addr: SocketAddr, args: &[&str]) -> SClient {
    let mut command = tokio::process::Command::new(openssl());
    command
        .arg("s_client")
        .arg("-connect")
        .arg(addr.to_string())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(PATIENCE, command.output())
        .await
        .expect("openssl s_client hung")
        .expect("cannot run openssl");
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    SClient {
        success: out.status.success(),
        output,
    }
}

/// DER of the leaf certificate the server presents to a new handshake.
async fn presented_certificate(addr: SocketAddr) -> Vec<u8> {
    // Not `-brief`: the full output contains the server certificate in PEM.
    let run = s_client(addr, &["-tls1_3"]).await;
    assert!(run.success, "handshake failed:\n{}", run.output);
    CertificateDer::from_pem_slice(run.output.as_bytes())
        .unwrap_or_else(|e| panic!("no certificate in s_client output ({e}):\n{}", run.output))
        .to_vec()
}

/// DER of the first certificate in a PEM file.
fn certificate_der(path: &Path) -> Vec<u8> {
    CertificateDer::from_pem_file(path).unwrap().to_vec()
}

/// A freshly generated self-signed pair (new key): (certificate PEM, key PEM).
fn new_pair() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Replaces `path` with `contents` by writing a temporary file and renaming
/// it, as renewal tools do, so the reloader never reads a half-written file.
fn replace_file(path: &Path, contents: &[u8]) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Writes a freshly generated self-signed pair over `files` and returns the
/// new certificate PEM.
fn replace_with_new_pair(files: &TlsFiles) -> String {
    let (cert, key) = new_pair();
    replace_file(&files.key, key.as_bytes());
    replace_file(&files.cert, cert.as_bytes());
    cert
}

// ---------------------------------------------------------------------------
// Protocol versions and cipher suites, seen by OpenSSL
// ---------------------------------------------------------------------------

/// TLS 1.1 is refused by the server.
///
/// The same client flags with `-tls1_2` succeed first, proving the command
/// line is sound. `@SECLEVEL=0` makes the Debian client willing to offer 1.1
/// at all; `-msg` shows that it did send a TLS 1.1 ClientHello and that the
/// server answered with an alert instead of a ServerHello, so the refusal is
/// the server's and not the client declining on its own.
#[tokio::test]
async fn tls_1_1_is_refused() {
    let server = TestServer::start().await;

    let control = s_client(
        server.addr,
        &["-tls1_2", "-cipher", "DEFAULT@SECLEVEL=0", "-brief"],
    )
    .await;
    assert!(
        control.success,
        "control handshake failed:\n{}",
        control.output
    );
    assert_eq!(
        control.field("Protocol version"),
        Some("TLSv1.2"),
        "{}",
        control.output
    );

    let run = s_client(
        server.addr,
        &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-brief", "-msg"],
    )
    .await;
    assert!(!run.success, "TLS 1.1 handshake succeeded:\n{}", run.output);
    assert!(
        !run.output.contains("CONNECTION ESTABLISHED"),
        "{}",
        run.output
    );
    assert_ne!(
        run.field("Protocol version"),
        Some("TLSv1.1"),
        "{}",
        run.output
    );
    let sent = |prefix: &str, message: &str| {
        run.output
            .lines()
            .any(|line| line.starts_with(prefix) && line.contains(message))
    };
    assert!(
        sent(">>> TLS 1.1, Handshake", "ClientHello"),
        "the client did not offer TLS 1.1, the test proves nothing:\n{}",
        run.output
    );
    assert!(
        !sent("<<<", "ServerHello"),
        "the server answered the TLS 1.1 hello:\n{}",
        run.output
    );
    assert!(
        run.output.contains("SSL alert number"),
        "expected a fatal alert from the server:\n{}",
        run.output
    );

    server.stop().await.unwrap();
}

/// TLS 1.2 works and negotiates an AEAD suite.
#[tokio::test]
async fn tls_1_2_negotiates_an_aead_suite() {
    let server = TestServer::start().await;

    let run = s_client(server.addr, &["-tls1_2", "-brief"]).await;
    assert!(run.success, "{}", run.output);
    assert_eq!(
        run.field("Protocol version"),
        Some("TLSv1.2"),
        "{}",
        run.output
    );
    let suite = run.field("Ciphersuite").unwrap_or_default();
    assert!(
        suite.starts_with("ECDHE-") && (suite.contains("GCM") || suite.contains("CHACHA20")),
        "not a forward-secret AEAD suite: {suite:?}\n{}",
        run.output
    );

    server.stop().await.unwrap();
}

/// The server's order of cipher suites wins over the client's: a client
/// that prefers ChaCha20 and AES-128 still gets AES-256-GCM, the server's
/// first choice.
#[tokio::test]
async fn the_server_picks_the_cipher_suite_in_its_own_order() {
    let server = TestServer::start().await;

    let run = s_client(
        server.addr,
        &[
            "-tls1_2",
            "-brief",
            "-cipher",
            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
        ],
    )
    .await;
    assert!(run.success, "{}", run.output);
    assert_eq!(
        run.field("Ciphersuite"),
        Some("ECDHE-ECDSA-AES256-GCM-SHA384"),
        "{}",
        run.output
    );

    server.stop().await.unwrap();
}

/// A TLS 1.2 client offering only CBC (non-AEAD) suites is refused, so the
/// previous test's AEAD result is the server's policy, not OpenSSL's
/// preference order.
#[tokio::test]
async fn tls_1_2_cbc_suites_are_refused() {
    let server = TestServer::start().await;

    let run = s_client(
        server.addr,
        &[
            "-tls1_2",
            "-cipher",
            "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:\
             ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:AES128-SHA:AES256-SHA@SECLEVEL=0",
            "-brief",
        ],
    )
    .await;
    assert!(
        !run.success,
        "CBC-only handshake succeeded:\n{}",
        run.output
    );
    assert!(
        !run.output.contains("CONNECTION ESTABLISHED"),
        "{}",
        run.output
    );

    server.stop().await.unwrap();
}

/// TLS 1.3 works, and ALPN offers h2 (and http/1.1).
#[tokio::test]
async fn tls_1_3_and_alpn() {
    let server = TestServer::start().await;

    let run = s_client(server.addr, &["-tls1_3", "-brief"]).await;
    assert!(run.success, "{}", run.output);
    assert_eq!(
        run.field("Protocol version"),
        Some("TLSv1.3"),
        "{}",
        run.output
    );

    // ALPN is only printed by the non-brief output.
    let h2 = s_client(server.addr, &["-tls1_3", "-alpn", "h2"]).await;
    assert!(h2.success, "{}", h2.output);
    assert!(h2.output.contains("ALPN protocol: h2"), "{}", h2.output);
    let h1 = s_client(server.addr, &["-tls1_3", "-alpn", "http/1.1"]).await;
    assert!(h1.success, "{}", h1.output);
    assert!(
        h1.output.contains("ALPN protocol: http/1.1"),
        "{}",
        h1.output
    );

    server.stop().await.unwrap();
}

// ---------------------------------------------------------------------------
// HTTP over the TLS port
// ---------------------------------------------------------------------------

/// Plain HTTP sent to the TLS port gets no HTTP answer.
#[tokio::test]
async fn plain_http_on_the_tls_port_gets_no_http_answer() {
    let server = TestServer::start().await;

    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    // Reads until the server closes; a reset also counts as "no answer".
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server neither answered nor closed the connection");
    assert!(
        !answer.starts_with(b"HTTP/"),
        "got an HTTP answer: {:?}",
        String::from_utf8_lossy(&answer)
    );

    server.stop().await.unwrap();
}

/// An HTTPS request from a client trusting the generated certificate works,
/// and handlers see the peer address.
#[tokio::test]
async fn https_request_succeeds() {
    let server = TestServer::start().await;
    let client = client_pinned_to(&std::fs::read(&server.files.cert).unwrap());

    let response = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");

    let peer: SocketAddr = client
        .get(server.url("/peer"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(peer.ip().is_loopback(), "{peer}");

    server.stop().await.unwrap();
}

// ---------------------------------------------------------------------------
// Certificate reload
// ---------------------------------------------------------------------------

/// Replacing cert.pem/key.pem switches new handshakes to the new certificate
/// while an established keep-alive connection keeps working.
#[tokio::test]
async fn certificate_reload_keeps_existing_connections() {
    let server = TestServer::start().await;
    let old_pem = std::fs::read(&server.files.cert).unwrap();
    let old_der = certificate_der(&server.files.cert);
    assert_eq!(presented_certificate(server.addr).await, old_der);

    // A keep-alive connection made with the old certificate. The client trusts
    // only the old certificate, so it could not open a new connection after
    // the switch: a later success must come from this connection, which the
    // unchanged peer port confirms.
    let old_client = client_pinned_to(&old_pem);
    let peer_before = old_client
        .get(server.url("/peer"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    let new_pem = replace_with_new_pair(&server.files);
    let new_der = certificate_der(&server.files.cert);
    assert_ne!(new_der, old_der);

    // Wait for the reloader (polls every 200 ms).
    let deadline = Instant::now() + PATIENCE;
    loop {
        if presented_certificate(server.addr).await == new_der {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(TEST_RELOAD_INTERVAL).await;
    }

    // New handshakes: trusted with the new root, refused with the old one.
    let new_client = client_pinned_to(new_pem.as_bytes());
    let response = new_client.get(server.url("/")).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "ok");
    let fresh_old_client = client_pinned_to(&old_pem);
    assert!(
        fresh_old_client.get(server.url("/")).send().await.is_err(),
        "a new handshake still presented the old certificate"
    );

    // The established connection was not dropped.
    let peer_after = old_client
        .get(server.url("/peer"))
        .send()
        .await
        .expect("the keep-alive connection was dropped by the reload")
        .text()
        .await
        .unwrap();
    assert_eq!(peer_after, peer_before, "not the same connection");

    server.stop().await.unwrap();
}

/// A broken replacement is not loaded: the old certificate stays in service.
#[tokio::test]
async fn broken_certificate_file_keeps_the_old_certificate() {
    let server = TestServer::start().await;
    let old_der = certificate_der(&server.files.cert);

    replace_file(
        &server.files.cert,
        b"-----BEGIN CERTIFICATE-----\nnot base64!\n",
    );
    // Several reload intervals.
    tokio::time::sleep(TEST_RELOAD_INTERVAL * 5).await;
    assert_eq!(presented_certificate(server.addr).await, old_der);

    // A valid new certificate with a key that does not match it is refused
    // as well (rustls checks the pair).
    let (new_cert, _new_key) = new_pair();
    let (_, stray_key) = new_pair();
    replace_file(&server.files.key, stray_key.as_bytes());
    replace_file(&server.files.cert, new_cert.as_bytes());
    tokio::time::sleep(TEST_RELOAD_INTERVAL * 5).await;
    assert_eq!(presented_certificate(server.addr).await, old_der);

    server.stop().await.unwrap();
}

// ---------------------------------------------------------------------------
// Certificate files
// ---------------------------------------------------------------------------

/// The self-signed certificate is generated once and reused; the key is 0600.
#[tokio::test]
async fn self_signed_certificate_is_reused() {
    let dir = tempfile::tempdir().unwrap();

    let first = tls::ensure_certificate(None, dir.path()).unwrap();
    assert_eq!(first.cert, dir.path().join("tls").join("cert.pem"));
    assert_eq!(first.key, dir.path().join("tls").join("key.pem"));
    let cert_bytes = std::fs::read(&first.cert).unwrap();
    let key_bytes = std::fs::read(&first.key).unwrap();

    let second = tls::ensure_certificate(None, dir.path()).unwrap();
    assert_eq!(second, first);
    assert_eq!(std::fs::read(&second.cert).unwrap(), cert_bytes);
    assert_eq!(std::fs::read(&second.key).unwrap(), key_bytes);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&first.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key.pem mode is {:o}", mode & 0o777);
    }

    // The pair builds a server configuration with the advertised ALPN.
    let config = tls::server_config(&first).unwrap();
    assert_eq!(
        config.alpn_protocols,
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    );
}

/// A configured pair is used as is; a missing file is an error naming it.
#[tokio::test]
async fn configured_certificate_is_used_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let generated = tls::ensure_certificate(None, &dir.path().join("a")).unwrap();

    let other = tempfile::tempdir().unwrap();
    let used = tls::ensure_certificate(Some(generated.clone()), other.path()).unwrap();
    assert_eq!(used, generated);
    assert!(
        !other.path().join("tls").exists(),
        "nothing is generated when a pair is configured"
    );

    let missing = TlsFiles {
        cert: dir.path().join("missing.pem"),
        key: generated.key.clone(),
    };
    let error = tls::ensure_certificate(Some(missing), other.path()).unwrap_err();
    assert!(matches!(error, TlsError::Read { .. }), "{error:?}");
    assert!(error.to_string().contains("missing.pem"), "{error}");

    // A key file without a key is reported with its name.
    let not_a_key = TlsFiles {
        cert: generated.cert.clone(),
        key: generated.cert.clone(),
    };
    let error = tls::server_config(&not_a_key).unwrap_err();
    assert!(matches!(error, TlsError::NoPrivateKey { .. }), "{error:?}");
    assert!(error.to_string().contains("cert.pem"), "{error}");
}

// ---------------------------------------------------------------------------
// Shutdown and plain HTTP
// ---------------------------------------------------------------------------

/// A request in flight when shutdown is triggered still completes, and `run`
/// returns Ok; afterwards the port no longer accepts connections.
#[tokio::test]
async fn graceful_shutdown_lets_in_flight_requests_finish() {
    let mut server = TestServer::start().await;
    let client = client_pinned_to(&std::fs::read(&server.files.cert).unwrap());

    let request = tokio::spawn(client.get(server.url("/slow")).send());
    tokio::time::timeout(PATIENCE, server.slow_started.notified())
        .await
        .expect("the slow request never reached the handler");
    server.trigger_shutdown();

    let response = request.await.unwrap().expect("in-flight request failed");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "slow done");

    let addr = server.addr;
    server.stop().await.expect("serve did not return Ok");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the listener is still open after shutdown"
    );
}

/// The grace period bounds shutdown: a request that never finishes does not
/// keep the server alive.
#[tokio::test]
async fn graceful_shutdown_is_bounded() {
    let mut server =
        TestServer::start_with(|server| server.grace_period(Duration::from_millis(300))).await;
    let client = client_pinned_to(&std::fs::read(&server.files.cert).unwrap());

    let request = tokio::spawn(client.get(server.url("/forever")).send());
    // Give the request time to reach the handler.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    server.trigger_shutdown();
    server.stop().await.expect("serve did not return Ok");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    assert!(
        request.await.unwrap().is_err(),
        "the endless request cannot have succeeded"
    );
}

/// `PlainHttpBehindProxy` serves unencrypted HTTP (with the peer address).
#[tokio::test]
async fn plain_http_transport_serves_http() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(nexaguard_server::serve::serve(
        router(Arc::new(Notify::new())),
        "127.0.0.1:0".parse().unwrap(),
        Transport::PlainHttpBehindProxy,
        async {
            let _ = shutdown_rx.await;
        },
        Some(ready_tx),
    ));
    let addr = ready_rx.await.unwrap();

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with(&stream.local_addr().unwrap().to_string()),
        "{answer}"
    );

    shutdown_tx.send(()).unwrap();
    tokio::time::timeout(PATIENCE, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
