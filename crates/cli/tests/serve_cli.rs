//! `nexaguard serve` as an operator runs it: the real binary, real TLS, the
//! embedded store on disk. Includes the durability test: SIGKILL while a
//! client posts, restart, and every acknowledged event is there.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nexaguard_consent::Environment;
use nexaguard_store::{SqliteStore, Store};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nexaguard"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server, killed if the test fails before it stops it.
struct Running(Option<Child>);

impl Running {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }

    fn take(mut self) -> Child {
        self.0.take().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts the server and waits until it prints that it listens.
fn start(data_dir: &Path, port: u16) -> Running {
    start_on(data_dir, &format!("127.0.0.1:{port}")).0
}

/// Starts the server on `listen`; returns it with the base URL it printed.
fn start_on(data_dir: &Path, listen: &str) -> (Running, String) {
    start_with(data_dir, listen, &[])
}

/// [`start_on`] with more `serve` flags.
fn start_with(data_dir: &Path, listen: &str, flags: &[&str]) -> (Running, String) {
    let child = bin()
        .args(["serve", "--demo", "--listen", listen])
        .args(flags)
        // The test posts as fast as it can from one address.
        .args([
            "--rate-limit-per-minute",
            "1000000",
            "--rate-limit-burst",
            "1000000",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .env("NEXAGUARD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut running = Running(Some(child));
    let stdout = running.child().stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(base) = line.trim().strip_prefix("NexaGuard is listening on ") {
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (running, base.to_owned());
        }
    }
}

fn client(data_dir: &Path) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pem = std::fs::read(data_dir.join("tls/cert.pem")).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap()
}

/// [`client`] speaking only HTTP/1.1, or only HTTP/2 (negotiated by ALPN).
fn client_for(data_dir: &Path, version: reqwest::Version) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pem = std::fs::read(data_dir.join("tls/cert.pem")).unwrap();
    let builder = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
    let builder = if version == reqwest::Version::HTTP_2 {
        builder.http2_prior_knowledge()
    } else {
        builder.http1_only()
    };
    builder.build().unwrap()
}

async fn demo_site_key(client: &reqwest::Client, base: &str) -> String {
    let html = client
        .get(format!("{base}/demo/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The page embeds the installation snippet, whose settings name the key.
    let start = html.find("\"siteKey\":\"").unwrap() + "\"siteKey\":\"".len();
    let key = &html[start..start + 36];
    assert!(key.starts_with("ngp_"), "{key}");
    key.to_owned()
}

/// A TC string the demo site (CMP 300, sample GVL v42) accepts.
fn tc_string() -> String {
    use nexaguard_tcf::{PurposeSet, TcModel, Timestamp, VendorSet};
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let mut m = TcModel::default();
    m.created = Timestamp::from_unix_millis(now).unwrap();
    m.last_updated = m.created;
    m.cmp_id = 300;
    m.cmp_version = 1;
    m.vendor_list_version = 42;
    m.policy_version = 5;
    m.purpose_consents = PurposeSet::try_from(&[1u32, 2, 3, 4, 7][..]).unwrap();
    m.vendor_consents = VendorSet::try_from(&[1u32, 2][..]).unwrap();
    m.vendors_disclosed = Some(VendorSet::try_from(&[1u32, 2, 3, 5, 6][..]).unwrap());
    nexaguard_tcf::encode(&m).unwrap()
}

fn event(site_key: &str) -> Value {
    json!({
        "tcString": tc_string(),
        "purposes": [1, 2, 3, 4, 7],
        "vendors": [1, 2],
        "eventId": uuid::Uuid::new_v4(),
        "schemaVersion": 1,
        "siteKey": site_key,
        "environment": "production",
        "configVersion": 1,
        "timestamp": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap(),
        "action": "accept_all",
        "source": "banner",
        "consentMode": {
            "ad_storage": "granted", "ad_user_data": "granted", "ad_personalization": "granted",
            "analytics_storage": "granted", "functionality_storage": "granted",
            "personalization_storage": "denied", "security_storage": "granted"
        },
        "customPurposes": ["necessary"],
        "language": "en",
        "sdkVersion": "test"
    })
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_consents_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("https://localhost:{port}");
    let mut server = start(dir.path(), port);
    let http = client(dir.path());
    let key = demo_site_key(&http, &base).await;

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut posters = Vec::new();
    for _ in 0..4 {
        let (http, base, key, acked) = (
            http.clone(),
            base.clone(),
            key.clone(),
            Arc::clone(&acknowledged),
        );
        posters.push(tokio::spawn(async move {
            loop {
                let body = event(&key);
                let sent = http
                    .post(format!("{base}/v1/consents"))
                    .header(
                        "origin",
                        format!("https://localhost:{}", base.rsplit(':').next().unwrap()),
                    )
                    .json(&body)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 201 => acked
                        .lock()
                        .unwrap()
                        .push(body["eventId"].as_str().unwrap().to_owned()),
                    Ok(r) => panic!(
                        "unexpected status {}: {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    ),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.child().kill().unwrap(); // SIGKILL
    server.child().wait().unwrap();
    for p in posters {
        p.await.unwrap();
    }
    let acked = acknowledged.lock().unwrap().clone();
    assert!(
        acked.len() > 20,
        "too few events posted before the kill: {}",
        acked.len()
    );

    // Restart on the same data, then stop it cleanly (SIGTERM: exit 0).
    let mut server = start(dir.path(), port);
    assert_eq!(
        demo_site_key(&http, &base).await,
        key,
        "the demo site is reused, not recreated"
    );
    sigterm(server.child());
    let status = wait_with_timeout(server.take(), Duration::from_secs(20));
    assert!(status.success(), "SIGTERM exit: {status:?}");

    let store = SqliteStore::open(&dir.path().join("nexaguard.db"))
        .await
        .unwrap();
    let site = store
        .sites()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.production_key == key)
        .unwrap();
    let mut missing = 0;
    for id in &acked {
        let id = uuid::Uuid::parse_str(id).unwrap();
        if store
            .consent_by_event_id(site.id, Environment::Production, id)
            .await
            .unwrap()
            .is_none()
        {
            missing += 1;
        }
    }
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged events were lost",
        acked.len()
    );
    store.close().await;
}

fn wait_with_timeout(mut child: Child, limit: Duration) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("the server did not exit within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A body past the size limit, or of the wrong media type, is answered
/// while the client is still sending: the answer must reach the client
/// (not a connection reset), again and again, over both protocols, and the
/// connection must stay usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_or_mistyped_body_always_gets_its_error_over_http1_and_http2() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = start_on(dir.path(), "127.0.0.1:0");
    let key = demo_site_key(&client(dir.path()), &base).await;
    // 200 KB of an event, sent while the server has long decided.
    let oversized = format!(
        r#"{{"siteKey":"{key}","padding":"{}"}}"#,
        "x".repeat(200_000)
    );
    for version in [reqwest::Version::HTTP_11, reqwest::Version::HTTP_2] {
        let client = client_for(dir.path(), version);
        for attempt in 0..25 {
            for (content_type, status, code) in [
                ("application/json", 413, "body_too_large"),
                ("text/plain", 415, "unsupported_media_type"),
            ] {
                let response = client
                    .post(format!("{base}/v1/consents"))
                    .header("content-type", content_type)
                    .header("origin", base.as_str())
                    .body(oversized.clone())
                    .send()
                    .await
                    .unwrap_or_else(|e| {
                        panic!("{version:?}, attempt {attempt}: no answer to a 200 KB {content_type} body: {e:?}")
                    });
                assert_eq!(response.version(), version);
                assert_eq!(
                    response.status().as_u16(),
                    status,
                    "{version:?}, attempt {attempt}"
                );
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"]["code"], code, "{body}");
            }
        }
        // The connection is still good for a consent after all that.
        let response = client
            .post(format!("{base}/v1/consents"))
            .header("origin", base.as_str())
            .json(&event(&key))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201, "{version:?}");
    }
}

/// One HTTP/1.1 answer read off `stream`: the status and the headers'
/// lines (lower-cased), its body read away by its `Content-Length`.
fn read_answer(stream: &mut BufReader<std::net::TcpStream>) -> (u16, Vec<String>) {
    use std::io::Read;
    let mut status_line = String::new();
    stream.read_line(&mut status_line).unwrap();
    assert!(!status_line.is_empty(), "the server closed the connection");
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        headers.push(line.trim_end().to_ascii_lowercase());
    }
    let length: usize = headers
        .iter()
        .find_map(|h| h.strip_prefix("content-length: "))
        .map_or(0, |n| n.parse().unwrap());
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    (status, headers)
}

/// A request refused before its body is read (no session, an unknown
/// path, a method the path lacks) is answered, and the keep-alive
/// connection stays good for the next request: a client that reuses it
/// (every HTTP library does) must not find it closed under it.
#[test]
fn a_request_refused_before_its_body_is_read_leaves_the_connection_usable() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = start_with(dir.path(), "127.0.0.1:0", &["--plain-http-behind-proxy"]);
    // "http://127.0.0.1:PORT (plain HTTP for the proxy in front)"; the
    // public URL, the name requests must carry, is https://localhost:PORT.
    let addr = base
        .strip_prefix("http://")
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let host = addr.replace("127.0.0.1", "localhost");
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let body = format!(r#"{{"role":"viewer","padding":"{}"}}"#, "x".repeat(100_000));
    for (method, path, status) in [
        (
            "PUT",
            "/admin/api/v1/users/4a1c2f1e-9a7b-4c39-8d6e-0f6d1c0b5e21/role",
            401,
        ),
        ("POST", "/nowhere", 404),
        ("DELETE", "/v1/consents", 405),
        (
            "PUT",
            "/admin/api/v1/users/4a1c2f1e-9a7b-4c39-8d6e-0f6d1c0b5e21/role",
            401,
        ),
    ] {
        write!(
            writer,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let (got, headers) = read_answer(&mut reader);
        assert_eq!(got, status, "{method} {path}");
        assert!(
            !headers.iter().any(|h| h == "connection: close"),
            "{method} {path}: {headers:?}"
        );
    }
    write!(writer, "GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    assert_eq!(read_answer(&mut reader).0, 200);
}

/// With `--listen 127.0.0.1:0` the port is known only once bound; the
/// demo site made at first start must allow the page's real origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_site_allows_the_real_port_when_port_0_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut server, base) = start_on(&data, "127.0.0.1:0");
    assert!(!base.ends_with(":0"), "{base}");
    let http = client(&data);
    let key = demo_site_key(&http, &base).await;
    let answer = http
        .post(format!("{base}/v1/consents"))
        .header("origin", &base)
        .json(&event(&key))
        .send()
        .await
        .unwrap();
    let status = answer.status();
    assert_eq!(status, 201, "{}", answer.text().await.unwrap());
    sigterm(server.child());
    let _ = wait_with_timeout(server.take(), Duration::from_secs(30));
}

#[test]
fn serve_help_lists_every_setting() {
    let out = bin().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--config",
        "--listen",
        "--data-dir",
        "--tls-cert",
        "--tls-key",
        "--plain-http-behind-proxy",
        "--gvl",
        "--country-header",
        "--rate-limit-per-minute",
        "--rate-limit-burst",
        "--retention-days",
        "--demo",
        "--log-format",
        "--public-url",
        "--metrics-listen",
        "--region-header",
        "--geoip-db",
        "NEXAGUARD_LISTEN",
        "NEXAGUARD_PUBLIC_URL",
    ] {
        assert!(help.contains(flag), "{flag} missing from serve --help");
    }
}

#[test]
fn tenants_sites_and_configs_are_managed_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let run = |args: &[&str]| {
        bin()
            .args(args)
            .args(["--data-dir", data])
            .output()
            .unwrap()
    };
    let out = run(&["tenant", "create", "Acme"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tenant: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tenant_id = tenant["id"].as_str().unwrap();

    let out = run(&[
        "site",
        "create",
        "--tenant",
        tenant_id,
        "--name",
        "Shop",
        "--origin",
        "https://shop.example",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let site: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(site["siteKeys"]["production"], site["siteKeys"]["staging"]);
    let site_id = site["id"].as_str().unwrap();

    let config = dir.path().join("site.json");
    std::fs::write(
        &config,
        include_str!("../../server/tests/fixtures/opt-in-site.json"),
    )
    .unwrap();
    let out = bin()
        .args(["site", "config", "validate"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [1, 2] {
        let out = run(&[
            "site",
            "config",
            "publish",
            "--site",
            site_id,
            "--environment",
            "staging",
            config.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let published: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(published["version"], expected);
    }

    // Bad input: one line on stderr, exit code not 0, nothing published.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"regulation": "tcf", "publisherCountry": "de", "defaultLanguage": "en", "languages": {}}"#).unwrap();
    let out = bin()
        .args(["site", "config", "validate"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("publisherCountry") && stderr.contains("cmpId"),
        "{stderr}"
    );
    let out = run(&[
        "site",
        "create",
        "--tenant",
        tenant_id,
        "--name",
        "X",
        "--origin",
        "shop.example/path",
    ]);
    assert!(!out.status.success());
    let out = run(&[
        "site",
        "create",
        "--tenant",
        &uuid::Uuid::nil().to_string(),
        "--name",
        "X",
        "--origin",
        "https://x.example",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tenant"));
}
