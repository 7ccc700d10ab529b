//! Faults under load on PostgreSQL (issue 6), with the real binary:
//!
//! 1. a node is SIGKILLed while clients post: every event that got a 201 is
//!    in the database, and after a restart a retry gets the same receipt;
//! 2. the PostgreSQL server is stopped and started again while clients
//!    post: posts get 503 `store_unavailable` with `Retry-After` while it
//!    is down (never a 500, never a hang), `/readyz` says 503 and
//!    `/healthz` 200, and the node recovers by itself when it is back.
//!
//! Both need `NEXAGUARD_TEST_DATABASE_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`; the role must be allowed to
//! create databases); without it they print
//! `skipped: NEXAGUARD_TEST_DATABASE_URL is not set` and pass. The second
//! never stops that server: it runs a private cluster of its own (`initdb`
//! and `pg_ctl` from `/usr/lib/postgresql/*/bin` or the `PATH`, as the
//! `postgres` user when the test runs as root) in a temporary directory on
//! a free port, and skips with a notice when it cannot.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The bound on every request while the database is down: the pool waits
/// at most 10 s for a connection, so an answer must come before this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// How long the node may take to serve again once PostgreSQL is back.
const RECOVERY_BOUND: Duration = Duration::from_secs(30);

/// Concurrent posting clients.
const POSTERS: usize = 6;

mod common;

use common::node::{
    client, config_version, demo_site_key, event_id, free_port, get, post_consent, Node,
    NodeOptions,
};
use common::{event, server_url, TestDatabase};

/// Starts the node on `port` (the same one to restart it on its origin).
async fn start(data_dir: &Path, database_url: &str, port: u16) -> Node {
    NodeOptions::new(data_dir)
        .database_url(database_url)
        .port(port)
        .start()
        .await
}

/// Every event id in `table` (`consents` or `consent_ids`) of the database.
async fn stored_event_ids(url: &str, table: &str) -> HashSet<uuid::Uuid> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(&format!("SELECT event_id FROM {table}"))
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    ids.into_iter().collect()
}

// ---- a private PostgreSQL cluster -----------------------------------------

/// A PostgreSQL cluster of the test's own, which it may stop and start;
/// stopped (immediately) and removed when this is dropped, also on panic.
struct PrivateCluster {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    /// Run `initdb` and `pg_ctl` as `postgres` through this (as root).
    as_postgres: Option<Vec<String>>,
    running: bool,
    // Last: removed after `drop` has stopped the server.
    _dir: tempfile::TempDir,
}

impl PrivateCluster {
    /// Creates and starts one; `None`, after saying why, when it cannot.
    fn start() -> Option<PrivateCluster> {
        let Some(bin) = postgres_bin_dir() else {
            eprintln!("skipped: no initdb and pg_ctl in /usr/lib/postgresql/*/bin or the PATH");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = if is_root() {
            let Some(wrapper) = as_postgres_wrapper() else {
                eprintln!(
                    "skipped: running as root, and neither `runuser -u postgres` nor \
                     `su postgres` works (initdb refuses to run as root)"
                );
                return None;
            };
            let chowned = std::process::Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path())
                .status()
                .unwrap();
            if !chowned.success() {
                eprintln!("skipped: cannot chown the cluster directory to postgres");
                return None;
            }
            Some(wrapper)
        } else {
            None
        };
        let mut cluster = PrivateCluster {
            data: dir.path().join("data"),
            log: dir.path().join("postgres.log"),
            port: free_port(),
            bin,
            as_postgres,
            running: false,
            _dir: dir,
        };
        let initdb = cluster.bin.join("initdb");
        let data = cluster.data.to_str().unwrap().to_owned();
        let out = cluster
            .command(
                &initdb,
                &[
                    "-D",
                    &data,
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            )
            .output()
            .unwrap();
        if !out.status.success() {
            eprintln!(
                "skipped: initdb failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        cluster.pg_ctl_start();
        Some(cluster)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `program args...`, as `postgres` when the test runs as root.
    fn command(&self, program: &Path, args: &[&str]) -> std::process::Command {
        let mut command = match &self.as_postgres {
            Some(wrapper) if wrapper[0] == "su" => {
                // su takes one shell command line.
                let mut line = shell_quote(program.to_str().unwrap());
                for arg in args {
                    line.push(' ');
                    line.push_str(&shell_quote(arg));
                }
                let mut command = std::process::Command::new("su");
                command.args(["postgres", "-s", "/bin/sh", "-c", &line]);
                command
            }
            Some(wrapper) => {
                let mut command = std::process::Command::new(&wrapper[0]);
                command.args(&wrapper[1..]).arg(program).args(args);
                command
            }
            None => {
                let mut command = std::process::Command::new(program);
                command.args(args);
                command
            }
        };
        command.stdin(Stdio::null());
        command
    }

    fn pg_ctl(&self, args: &[&str]) -> std::process::Output {
        let data = self.data.to_str().unwrap().to_owned();
        let mut all = vec!["-D", &data];
        all.extend_from_slice(args);
        self.command(&self.bin.join("pg_ctl"), &all)
            .output()
            .unwrap()
    }

    /// Starts the server and waits until it accepts connections.
    fn pg_ctl_start(&mut self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.data.parent().unwrap().to_str().unwrap()
        );
        let log = self.log.to_str().unwrap().to_owned();
        let out = self.pg_ctl(&["-l", &log, "-o", &options, "-w", "-t", "60", "start"]);
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}\nlog:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
        self.running = true;
    }

    /// Stops the server with `mode` (`fast`: disconnects every client).
    fn pg_ctl_stop(&mut self, mode: &str) {
        let out = self.pg_ctl(&["-m", mode, "-w", "-t", "60", "stop"]);
        assert!(
            out.status.success(),
            "pg_ctl stop: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.running = false;
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if self.running || std::thread::panicking() {
            let _ = self.pg_ctl(&["-m", "immediate", "-w", "-t", "30", "stop"]);
        }
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// How root runs a command as `postgres`: `runuser` or `su`, whichever works.
fn as_postgres_wrapper() -> Option<Vec<String>> {
    let works = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if works("runuser", &["-u", "postgres", "--", "true"]) {
        return Some(vec![
            "runuser".into(),
            "-u".into(),
            "postgres".into(),
            "--".into(),
        ]);
    }
    if works("su", &["postgres", "-s", "/bin/sh", "-c", "true"]) {
        return Some(vec!["su".into()]);
    }
    None
}

/// A directory holding both `initdb` and `pg_ctl`: the newest
/// `/usr/lib/postgresql/N/bin`, else the first on the `PATH`.
fn postgres_bin_dir() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).find(|dir| has_both(dir))
}

// ---- 1. SIGKILL under load --------------------------------------------------

/// An acknowledged event: the body posted and the receipt it got.
type Acked = (Value, Value);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_on_postgres_loses_no_acknowledged_event() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut node = start(&data, &database.url, port).await;
    let base = node.base.clone();
    // The demo site's origin is the node's own: the page the events come from.
    let origin = base.clone();
    let http = client(&data, Duration::from_secs(30));
    let key = demo_site_key(&http, &base).await;
    let version = config_version(&http, &base, &key).await;

    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    // Sent, but the node died before answering: the SDK retries these.
    let unanswered: Arc<Mutex<Vec<Value>>> = Arc::default();
    let mut posters = Vec::new();
    for _ in 0..POSTERS {
        let (http, base, origin, key) = (http.clone(), base.clone(), origin.clone(), key.clone());
        let (acked, unanswered) = (Arc::clone(&acked), Arc::clone(&unanswered));
        posters.push(tokio::spawn(async move {
            loop {
                let body = event(&key, version);
                match post_consent(&http, &base, &origin, &body).await {
                    Ok(a) if a.status == StatusCode::CREATED => {
                        let receipt = a.json();
                        acked.lock().unwrap().push((body, receipt));
                    }
                    Ok(a) => panic!("unexpected answer before the kill: {} {}", a.status, a.text),
                    Err(_) => {
                        // The node is gone.
                        unanswered.lock().unwrap().push(body);
                        return;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    node.sigkill().await;
    for poster in posters {
        poster.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let unanswered = unanswered.lock().unwrap().clone();
    assert!(
        acked.len() > 20,
        "too few events posted before the kill: {}",
        acked.len()
    );
    eprintln!(
        "{} events acknowledged before the SIGKILL, {} unanswered",
        acked.len(),
        unanswered.len()
    );

    // Every 201 is a committed row, in both tables.
    for table in ["consent_ids", "consents"] {
        let stored = stored_event_ids(&database.url, table).await;
        let missing: Vec<_> = acked
            .iter()
            .map(|(body, _)| event_id(body))
            .filter(|id| !stored.contains(id))
            .collect();
        assert!(
            missing.is_empty(),
            "{} of {} acknowledged events are not in `{table}`: {missing:?}",
            missing.len(),
            acked.len()
        );
    }

    // Restart on the same database (and data directory, port and origin).
    let mut node = start(&data, &database.url, port).await;
    assert_eq!(
        demo_site_key(&http, &base).await,
        key,
        "the demo site is reused, not recreated"
    );
    // A retry of an acknowledged event: the same receipt, nothing new.
    for (body, receipt) in [&acked[0], &acked[acked.len() / 2], &acked[acked.len() - 1]] {
        let retry = post_consent(&http, &base, &origin, body).await.unwrap();
        assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
        assert!(retry.replayed(), "a retry is answered as a replay");
        assert_eq!(&retry.json(), receipt, "the same receipt after the restart");
    }
    // A retry of an event the node never answered: recorded now, or found
    // recorded; 201 either way.
    for body in &unanswered {
        let retry = post_consent(&http, &base, &origin, body).await.unwrap();
        assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
        assert_eq!(retry.json()["eventId"], body["eventId"]);
    }
    // New events are recorded.
    for _ in 0..5 {
        let body = event(&key, version);
        let fresh = post_consent(&http, &base, &origin, &body).await.unwrap();
        assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.text);
        assert!(!fresh.replayed());
        assert_eq!(fresh.json()["eventId"], body["eventId"]);
    }
    node.stop().await;

    // Nothing recorded twice: one row per event id.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&database.url)
        .await
        .unwrap();
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT event_id) FROM consents")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(rows, distinct, "an event id was recorded twice");
    assert!(rows >= (acked.len() + 5) as i64, "{rows} rows");
}

// ---- 2. PostgreSQL stopped and started under load ---------------------------

/// What the background posters saw.
#[derive(Default)]
struct Seen {
    created: Vec<uuid::Uuid>,
    unavailable: usize,
    /// Anything else: a 500, another status, a timeout. Must stay empty.
    wrong: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_down_gives_503_with_retry_after_and_the_node_recovers() {
    if server_url().is_none() {
        return;
    }
    let Some(mut cluster) = tokio::task::spawn_blocking(PrivateCluster::start)
        .await
        .unwrap()
    else {
        return;
    };
    let url = cluster.url();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut node = start(&data, &url, free_port()).await;
    let base = node.base.clone();
    let origin = base.clone();
    let http = client(&data, REQUEST_TIMEOUT);
    let key = demo_site_key(&http, &base).await;
    let version = config_version(&http, &base, &key).await;

    let first = post_consent(&http, &base, &origin, &event(&key, version))
        .await
        .unwrap();
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let ready = get(&http, &format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);

    // Load from the start to the end: clients posting all the time.
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let mut posters = Vec::new();
    for _ in 0..POSTERS {
        let (http, base, origin, key) = (http.clone(), base.clone(), origin.clone(), key.clone());
        let (seen, done) = (Arc::clone(&seen), Arc::clone(&done));
        posters.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let body = event(&key, version);
                let started = Instant::now();
                let result = post_consent(&http, &base, &origin, &body).await;
                {
                    let mut seen = seen.lock().unwrap();
                    match result {
                        Ok(a) if a.status == StatusCode::CREATED => {
                            seen.created.push(event_id(&body))
                        }
                        Ok(a) if a.is_store_unavailable() => seen.unavailable += 1,
                        Ok(a) => seen.wrong.push(format!(
                            "{} retry-after={:?} {}",
                            a.status,
                            a.retry_after(),
                            a.text
                        )),
                        Err(e) => seen
                            .wrong
                            .push(format!("no answer after {:?}: {e}", started.elapsed())),
                    }
                }
                // 503s come back after up to 10 s; between them, breathe.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let created_before_stop = seen.lock().unwrap().created.len();
    assert!(
        created_before_stop > 5,
        "{created_before_stop} posts before the stop"
    );

    // ---- PostgreSQL goes down ---------------------------------------------
    let stopped_at = Instant::now();
    tokio::task::block_in_place(|| cluster.pg_ctl_stop("fast"));
    eprintln!("PostgreSQL stopped (pg_ctl stop -m fast)");
    let down_post = post_consent(&http, &base, &origin, &event(&key, version))
        .await
        .unwrap_or_else(|e| panic!("no answer to a post while PostgreSQL is down: {e}"));
    assert!(
        down_post.is_store_unavailable(),
        "a post while PostgreSQL is down: {} retry-after={:?} {}",
        down_post.status,
        down_post.retry_after(),
        down_post.text
    );
    let not_ready = get(&http, &format!("{base}/readyz"))
        .await
        .unwrap_or_else(|e| panic!("no answer from /readyz while PostgreSQL is down: {e}"));
    assert_eq!(
        not_ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        not_ready.text
    );
    assert_eq!(not_ready.code(), "store_unavailable", "{}", not_ready.text);
    let started = Instant::now();
    let healthy = get(&http, &format!("{base}/healthz")).await.unwrap();
    assert_eq!(healthy.status, StatusCode::OK, "{}", healthy.text);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "/healthz took {:?} while PostgreSQL is down",
        started.elapsed()
    );
    // The posters had time to meet the outage too.
    let deadline = Instant::now() + Duration::from_secs(15);
    while seen.lock().unwrap().unavailable < POSTERS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "PostgreSQL down for {:?}; the posters got {} 503s",
        stopped_at.elapsed(),
        seen.lock().unwrap().unavailable
    );

    // ---- PostgreSQL comes back --------------------------------------------
    tokio::task::block_in_place(|| cluster.pg_ctl_start());
    let back_at = Instant::now();
    eprintln!("PostgreSQL started again");
    let created_while_down = seen.lock().unwrap().created.len();
    let mut recovered = false;
    let mut last = String::new();
    while back_at.elapsed() < RECOVERY_BOUND {
        let post = post_consent(&http, &base, &origin, &event(&key, version)).await;
        let ready = get(&http, &format!("{base}/readyz")).await;
        match (&post, &ready) {
            (Ok(p), Ok(r)) if p.status == StatusCode::CREATED && r.status == StatusCode::OK => {
                recovered = true;
                break;
            }
            _ => last = format!("post: {post:?}\nreadyz: {ready:?}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        recovered,
        "the node did not serve again within {RECOVERY_BOUND:?} of PostgreSQL's restart; last:\n{last}"
    );
    eprintln!("recovered {:?} after the restart", back_at.elapsed());
    // The posters are recording again too.
    let deadline = Instant::now() + Duration::from_secs(15);
    while seen.lock().unwrap().created.len() < created_while_down + 10 && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done.store(true, Ordering::Relaxed);
    for poster in posters {
        poster.await.unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        seen.wrong.is_empty(),
        "answers other than 201 or 503 store_unavailable with Retry-After ({} of them):\n{}",
        seen.wrong.len(),
        seen.wrong.join("\n")
    );
    assert!(seen.unavailable > 0, "the posters never met the outage");
    assert!(
        seen.created.len() >= created_while_down + 10,
        "the posters did not record again after the restart"
    );
    eprintln!(
        "posters: {} recorded, {} refused with 503",
        seen.created.len(),
        seen.unavailable
    );
    node.stop().await;

    // Every 201 of the posters is stored.
    let stored = stored_event_ids(&url, "consents").await;
    let missing = seen
        .created
        .iter()
        .filter(|id| !stored.contains(id))
        .count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged events are not stored",
        seen.created.len()
    );
    tokio::task::block_in_place(|| cluster.pg_ctl_stop("fast"));
}
