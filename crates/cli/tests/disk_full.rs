//! The SQLite disk-full fault (issue 6), on a real full filesystem: the
//! real binary with its data directory on a 16 MiB tmpfs, a filler file
//! taking all but a little of the space, clients posting consents until
//! the commits no longer fit.
//!
//! Checked: every refusal is a 503 `store_unavailable` with `Retry-After`
//! (never a 500, never a hang), the server stays up (`/healthz` 200), it
//! records again without a restart once the filler is deleted, a refused
//! event retried with its eventId is recorded, it stops cleanly (SIGTERM,
//! exit 0), and then the database passes `PRAGMA integrity_check`, holds
//! every event that got a 201, and any refused event it holds is whole.
//!
//! Mounting needs root (as in CI); without it the test prints
//! `skipped: cannot mount a small tmpfs (needs root)` and passes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nexaguard_consent::event::ConsentEvent;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

use common::event;
use common::node::{
    client, config_version, demo_site_key, event_id, get, post_consent, NodeOptions,
};

/// The size of the filesystem the data directory is on.
const TMPFS_SIZE: &str = "16m";

/// What the filler file leaves free: room for some commits, so that the
/// test sees the answers turn from 201 to 503.
const HEADROOM: u64 = 512 * 1024;

/// Concurrent posting clients.
const POSTERS: usize = 4;

/// Refusals to see before giving the space back: enough that the writer
/// has failed batch commits and one-by-one retries alike.
const REFUSALS_WANTED: usize = 40;

/// Posts after which, with no refusal, the test gives up: the filesystem
/// never filled (at about a page per event, 512 KiB hold far fewer).
const MAX_POSTS: usize = 20_000;

/// Posts that may still be refused once the space is back.
const RECOVERY_TRIES: usize = 50;

/// ENOSPC on Linux, the only system with tmpfs this test mounts.
const ENOSPC: i32 = 28;

// ---- the small filesystem --------------------------------------------------

/// A tmpfs of [`TMPFS_SIZE`] mounted on a temporary directory; unmounted
/// (lazily, so a process still using it cannot keep it) when dropped, also
/// on panic.
struct SmallTmpfs {
    dir: tempfile::TempDir,
}

impl SmallTmpfs {
    /// Mounts it; `None`, after printing the skip notice, when it cannot.
    fn mount() -> Option<SmallTmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={TMPFS_SIZE}"), "tmpfs"])
            .arg(dir.path())
            .stdin(std::process::Stdio::null())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(SmallTmpfs { dir }),
            Ok(out) => {
                eprintln!(
                    "skipped: cannot mount a small tmpfs (needs root): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(error) => {
                eprintln!("skipped: cannot mount a small tmpfs (needs root): {error}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        // Before the `TempDir` field removes the (then empty) mount point.
        match std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status()
        {
            Ok(status) if status.success() => {}
            other => eprintln!("umount -l {} failed: {other:?}", self.dir.path().display()),
        }
    }
}

/// Fills the filesystem of `path` with the file `path` to the last byte,
/// then gives `HEADROOM` of it back. Returns the filler's size.
fn fill_leaving_headroom(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0xa5_u8; 64 * 1024];
    loop {
        match file.write_all(&chunk) {
            Ok(()) => {}
            Err(error) if error.raw_os_error() == Some(ENOSPC) => break,
            Err(error) => panic!("filling {}: {error}", path.display()),
        }
    }
    let full = file.metadata().unwrap().len();
    assert!(full > 4 * HEADROOM, "only {full} bytes were free");
    let size = full - HEADROOM;
    file.set_len(size).unwrap();
    size
}

// ---- posting -----------------------------------------------------------------

/// What the posting clients saw.
#[derive(Default)]
struct Seen {
    /// Bodies answered 201.
    created: Vec<Value>,
    /// Bodies answered 503 `store_unavailable` with `Retry-After`.
    refused: Vec<Value>,
    /// Anything else: a 500, another status, no answer. Must stay empty.
    wrong: Vec<String>,
}

impl Seen {
    fn posts(&self) -> usize {
        self.created.len() + self.refused.len() + self.wrong.len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_disk_full_gives_503_and_no_corruption() {
    let Some(tmpfs) = SmallTmpfs::mount() else {
        return;
    };
    let data = tmpfs.path().join("data");
    let filler = tmpfs.path().join("filler");
    let mut node = NodeOptions::new(&data).start().await;
    let base = node.base.clone();
    // The demo site's origin is the node's own: the page the events come from.
    let origin = base.clone();
    let http = client(&data, Duration::from_secs(30));
    let key = demo_site_key(&http, &base).await;
    let version = config_version(&http, &base, &key).await;

    let seen: Arc<Mutex<Seen>> = Arc::default();
    // With room to spare, posts are recorded.
    for _ in 0..5 {
        let body = event(&key, version);
        let answer = post_consent(&http, &base, &origin, &body).await.unwrap();
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        seen.lock().unwrap().created.push(body);
    }

    // ---- the disk fills up ---------------------------------------------------
    let filled = tokio::task::block_in_place(|| fill_leaving_headroom(&filler));
    eprintln!("filler: {filled} bytes, {HEADROOM} left free");
    let enough = Arc::new(AtomicBool::new(false));
    let mut posters = Vec::new();
    for _ in 0..POSTERS {
        let (http, base, origin, key) = (http.clone(), base.clone(), origin.clone(), key.clone());
        let (seen, enough) = (Arc::clone(&seen), Arc::clone(&enough));
        posters.push(tokio::spawn(async move {
            while !enough.load(Ordering::Relaxed) {
                let body = event(&key, version);
                let result = post_consent(&http, &base, &origin, &body).await;
                let mut seen = seen.lock().unwrap();
                match result {
                    Ok(a) if a.status == StatusCode::CREATED => seen.created.push(body),
                    Ok(a) if a.is_store_unavailable() => seen.refused.push(body),
                    Ok(a) => seen.wrong.push(format!(
                        "{} retry-after={:?} {}",
                        a.status,
                        a.retry_after(),
                        a.text
                    )),
                    Err(e) => seen.wrong.push(format!("no answer: {e}")),
                }
                if seen.refused.len() >= REFUSALS_WANTED
                    || seen.posts() >= MAX_POSTS
                    || !seen.wrong.is_empty()
                {
                    enough.store(true, Ordering::Relaxed);
                }
            }
        }));
    }
    for poster in posters {
        poster.await.unwrap();
    }
    {
        let seen = seen.lock().unwrap();
        eprintln!(
            "while filling: {} recorded, {} refused with 503",
            seen.created.len(),
            seen.refused.len()
        );
        assert!(
            seen.wrong.is_empty(),
            "answers other than 201 or 503 store_unavailable with Retry-After:\n{}",
            seen.wrong.join("\n")
        );
        assert!(
            seen.refused.len() >= REFUSALS_WANTED,
            "the disk never filled: {} posts, {} refused",
            seen.posts(),
            seen.refused.len()
        );
        assert!(
            seen.created.len() > 5,
            "no post fitted in the headroom: the test no longer sees 201 turn to 503"
        );
    }

    // The server stays up and says why it refuses.
    assert!(node.is_running(), "the server died on a full disk");
    let healthy = get(&http, &format!("{base}/healthz")).await.unwrap();
    assert_eq!(healthy.status, StatusCode::OK, "{}", healthy.text);
    let ready = get(&http, &format!("{base}/readyz")).await.unwrap();
    assert!(
        ready.status == StatusCode::OK || ready.is_store_unavailable(),
        "/readyz on a full disk: {} {}",
        ready.status,
        ready.text
    );
    eprintln!("/readyz on a full disk: {}", ready.status);
    let refused_again = post_consent(&http, &base, &origin, &event(&key, version))
        .await
        .unwrap();
    assert!(
        refused_again.is_store_unavailable(),
        "a post on the full disk: {} retry-after={:?} {}",
        refused_again.status,
        refused_again.retry_after(),
        refused_again.text
    );

    // ---- the space comes back --------------------------------------------------
    std::fs::remove_file(&filler).unwrap();
    let mut recovered = None;
    for attempt in 1..=RECOVERY_TRIES {
        let body = event(&key, version);
        let answer = post_consent(&http, &base, &origin, &body).await.unwrap();
        if answer.status == StatusCode::CREATED {
            seen.lock().unwrap().created.push(body);
            recovered = Some(attempt);
            break;
        }
        assert!(
            answer.is_store_unavailable(),
            "a post after the space came back: {} {}",
            answer.status,
            answer.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let attempt = recovered.unwrap_or_else(|| {
        panic!("no post recorded in {RECOVERY_TRIES} tries after the space came back")
    });
    eprintln!("recorded again at attempt {attempt}, without a restart");
    // The SDK retries a refused event with its eventId: recorded now. Half
    // of them, so that the other half is checked for traces below.
    let refused = seen.lock().unwrap().refused.clone();
    let (retried, left) = refused.split_at(refused.len() / 2);
    for body in retried {
        let retry = post_consent(&http, &base, &origin, body).await.unwrap();
        assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
        assert_eq!(retry.json()["eventId"], body["eventId"]);
    }
    for _ in 0..10 {
        let body = event(&key, version);
        let fresh = post_consent(&http, &base, &origin, &body).await.unwrap();
        assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.text);
        seen.lock().unwrap().created.push(body);
    }
    let ready = get(&http, &format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    node.stop().await;

    // ---- the database -----------------------------------------------------------
    let stored = stored_consents(&data.join("nexaguard.db")).await;
    let created = std::mem::take(&mut seen.lock().unwrap().created);
    let must_be_stored: Vec<&Value> = created.iter().chain(retried).collect();
    let missing: Vec<_> = must_be_stored
        .iter()
        .map(|body| event_id(body))
        .filter(|id| !stored.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events are not stored: {missing:?}",
        missing.len(),
        must_be_stored.len()
    );
    let mut traces = 0;
    for body in must_be_stored.iter().copied().chain(left) {
        let id = event_id(body);
        let Some(event) = stored.get(&id) else {
            continue;
        };
        // Whole: the stored event is the one posted, not a part of it.
        assert_eq!(
            event.tc_string.as_deref(),
            body["tcString"].as_str(),
            "{id}"
        );
        assert_eq!(event.site_key, body["siteKey"].as_str().unwrap(), "{id}");
        assert_eq!(u64::from(event.config_version), version, "{id}");
        if left.contains(body) {
            traces += 1;
        }
    }
    eprintln!(
        "{} events stored; {traces} of the {} refused and never retried are stored (whole)",
        stored.len(),
        left.len()
    );
}

/// Checks the database's integrity and reads every stored consent, each
/// decoded whole (the store's own event type) and keyed by its eventId.
async fn stored_consents(path: &Path) -> HashMap<uuid::Uuid, ConsentEvent> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(integrity, ["ok"], "PRAGMA integrity_check");
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT event_id, body FROM consents")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows.into_iter()
        .map(|(id, body)| {
            let event: ConsentEvent = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("event {id} is stored damaged ({e}): {body}"));
            let id = uuid::Uuid::parse_str(&id).unwrap();
            assert_eq!(event.event_id, id, "the stored body is another event's");
            (id, event)
        })
        .collect()
}
