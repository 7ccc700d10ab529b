//! A running `nexaguard serve`, as the process tests drive it: the real
//! binary on a loopback port, its banner read, its standard error kept to
//! show when the test fails, killed if the test ends before it stops it.
//! Also the HTTP side every such test needs: a client trusting the
//! generated certificate, an answer read whole, consent posts.

use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a node may take to start listening.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a node may take to exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A loopback port nothing listens on (at the moment of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How to start a node: `nexaguard serve --demo` with these settings.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    label: String,
    data_dir: PathBuf,
    database_url: Option<String>,
    rate_limit_per_minute: u32,
    rate_limit_burst: u32,
    port: Option<u16>,
    extra_args: Vec<String>,
}

impl NodeOptions {
    /// A node on `data_dir` with the SQLite store, a free port, and rate
    /// limits high enough for a test posting from one address as fast as
    /// it can.
    pub fn new(data_dir: &Path) -> NodeOptions {
        NodeOptions {
            label: "node".to_owned(),
            data_dir: data_dir.to_owned(),
            database_url: None,
            rate_limit_per_minute: 1_000_000,
            rate_limit_burst: 1_000_000,
            port: None,
            extra_args: Vec::new(),
        }
    }

    /// The name messages give the node.
    pub fn label(mut self, label: &str) -> NodeOptions {
        label.clone_into(&mut self.label);
        self
    }

    /// `--database-url`: PostgreSQL instead of SQLite.
    pub fn database_url(mut self, url: &str) -> NodeOptions {
        self.database_url = Some(url.to_owned());
        self
    }

    /// The consent rate limits (`--rate-limit-per-minute`, `--rate-limit-burst`).
    pub fn rate_limits(mut self, per_minute: u32, burst: u32) -> NodeOptions {
        self.rate_limit_per_minute = per_minute;
        self.rate_limit_burst = burst;
        self
    }

    /// Listen on this loopback port (to restart on the same origin).
    pub fn port(mut self, port: u16) -> NodeOptions {
        self.port = Some(port);
        self
    }

    /// More arguments after the others.
    pub fn arg(mut self, arg: &str) -> NodeOptions {
        self.extra_args.push(arg.to_owned());
        self
    }

    /// Starts the node: see [`Node::start`].
    pub async fn start(self) -> Node {
        Node::start(self).await
    }
}

/// A running `nexaguard serve`, killed if the test ends before it stops it.
pub struct Node {
    /// The name messages give it.
    pub label: String,
    child: Option<Child>,
    /// The loopback port it listens on.
    pub port: u16,
    /// `https://localhost:PORT`: the base URL and the node's own origin.
    pub base: String,
    /// The start-up banner (standard output up to the health line).
    pub banner: Vec<String>,
    /// Everything the node wrote to standard error, shown if the test fails.
    pub stderr: Arc<Mutex<String>>,
}

impl Node {
    /// Starts a node and waits until it has printed its whole banner, which
    /// must say it listens on its base URL.
    pub async fn start(options: NodeOptions) -> Node {
        let NodeOptions {
            label,
            data_dir,
            database_url,
            rate_limit_per_minute,
            rate_limit_burst,
            port,
            extra_args,
        } = options;
        let port = port.unwrap_or_else(free_port);
        let mut command = Command::new(env!("CARGO_BIN_EXE_nexaguard"));
        // The test's own environment must not change the node's settings.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("NEXAGUARD_") {
                command.env_remove(name);
            }
        }
        command
            .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
            .args([
                "--rate-limit-per-minute",
                &rate_limit_per_minute.to_string(),
            ])
            .args(["--rate-limit-burst", &rate_limit_burst.to_string()])
            .arg("--data-dir")
            .arg(&data_dir);
        if let Some(url) = &database_url {
            command.args(["--database-url", url]);
        }
        let mut child = command
            .args(&extra_args)
            .env("NEXAGUARD_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = Arc::clone(&stderr);
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let mut out_lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut node = Node {
            label,
            child: Some(child),
            port,
            base: format!("https://localhost:{port}"),
            banner: Vec::new(),
            stderr,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, out_lines.next_line())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{} did not print its banner within {START_TIMEOUT:?}",
                        node.label
                    )
                })
                .unwrap();
            let Some(line) = line else {
                panic!("{} exited before listening", node.label);
            };
            let done = line.trim_start().starts_with("Health:");
            node.banner.push(line);
            if done {
                break;
            }
        }
        // Keep draining standard output so the node never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = out_lines.next_line().await {} });
        let listening = format!("NexaGuard is listening on {}", node.base);
        assert!(
            node.banner.iter().any(|l| l.trim() == listening),
            "{}: no `{listening}` in {:?}",
            node.label,
            node.banner
        );
        node
    }

    /// The demo owner's password, if this node printed it.
    pub fn demo_owner_password(&self) -> Option<String> {
        self.banner.iter().find_map(|line| {
            line.trim()
                .strip_prefix("Demo owner:")
                .and_then(|rest| rest.trim().strip_prefix("owner@demo.localhost / "))
                .map(|password| password.trim().to_owned())
        })
    }

    /// Whether the process is still running (it has not exited by itself).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| child.try_wait().unwrap().is_none())
    }

    /// SIGKILL, and wait for the exit.
    pub async fn sigkill(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().await.unwrap();
    }

    /// Sends SIGTERM and waits for the exit; asserts it is exit code 0.
    pub async fn stop(&mut self) {
        let mut child = self.child.take().unwrap();
        let pid = child.id().unwrap();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM {pid}");
        let exit = tokio::time::timeout(STOP_TIMEOUT, child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} did not exit within {STOP_TIMEOUT:?} of SIGTERM",
                    self.label
                )
            })
            .unwrap();
        assert!(
            exit.success(),
            "{} exit after SIGTERM: {exit:?}\nstderr:\n{}",
            self.label,
            self.stderr.lock().unwrap()
        );
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let running = self.child.is_some();
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
        }
        // A node still running here means the test ended early: it failed.
        if running || std::thread::panicking() {
            if let Ok(stderr) = self.stderr.lock() {
                eprintln!("--- {} stderr ---\n{stderr}", self.label);
            }
        }
    }
}

/// A client trusting the certificate the node generated in `data_dir`
/// (every node on that data directory serves it), each request bounded by
/// `timeout`.
pub fn client(data_dir: &Path, timeout: Duration) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pem = std::fs::read(data_dir.join("tls/cert.pem")).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .timeout(timeout)
        .build()
        .unwrap()
}

// ---- answers ----------------------------------------------------------------

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub text: String,
}

impl Answer {
    /// Reads `response` whole.
    pub async fn read(response: reqwest::Response) -> Result<Answer, reqwest::Error> {
        Ok(Answer {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await?,
        })
    }

    /// The body as JSON; panics (showing it) if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    /// The error code of an error answer; empty for anything else.
    pub fn code(&self) -> String {
        serde_json::from_str::<Value>(&self.text)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    }

    /// The `Retry-After` header.
    pub fn retry_after(&self) -> Option<String> {
        self.header("retry-after")
    }

    /// Whether the answer is a replay of an event recorded before.
    pub fn replayed(&self) -> bool {
        self.header("idempotent-replayed").as_deref() == Some("true")
    }

    /// A 503 `store_unavailable` with a `Retry-After` of whole seconds.
    pub fn is_store_unavailable(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE
            && self.code() == "store_unavailable"
            && self.retry_after().is_some_and(|s| s.parse::<u64>().is_ok())
    }

    /// Asserts the status (showing the body if it differs).
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Answer {
        assert_eq!(self.status, status, "{}", self.text);
        self
    }
}

/// `GET url`.
pub async fn get(http: &reqwest::Client, url: &str) -> Result<Answer, reqwest::Error> {
    Answer::read(http.get(url).send().await?).await
}

/// Posts a consent event to `base` from the page `origin`.
pub async fn post_consent(
    http: &reqwest::Client,
    base: &str,
    origin: &str,
    body: &Value,
) -> Result<Answer, reqwest::Error> {
    let response = http
        .post(format!("{base}/v1/consents"))
        .header(reqwest::header::ORIGIN, origin)
        .json(body)
        .send()
        .await?;
    Answer::read(response).await
}

/// The demo site's production key, from the demo page's snippet.
pub async fn demo_site_key(http: &reqwest::Client, base: &str) -> String {
    let html = get(http, &format!("{base}/demo/")).await.unwrap().text;
    let start = html.find("\"siteKey\":\"").unwrap() + "\"siteKey\":\"".len();
    let key = &html[start..start + 36];
    assert!(key.starts_with("ngp_"), "{key}");
    key.to_owned()
}

/// The configuration version the demo site's production serves.
pub async fn config_version(http: &reqwest::Client, base: &str, key: &str) -> u64 {
    let config = get(http, &format!("{base}/v1/sites/{key}/config.json"))
        .await
        .unwrap();
    assert_eq!(config.status, StatusCode::OK, "{}", config.text);
    config.json()["configVersion"].as_u64().unwrap()
}

/// The eventId of an event body.
pub fn event_id(body: &Value) -> uuid::Uuid {
    uuid::Uuid::parse_str(body["eventId"].as_str().unwrap()).unwrap()
}
