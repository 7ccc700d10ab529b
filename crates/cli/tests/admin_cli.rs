//! `nexaguard user create`, `audit verify` and `keys rotate` as an operator
//! runs them: the real binary on a data directory in a tempdir. The
//! library opens the same directory where a test needs to act as the
//! server (signing in, TOTP enrolment, many audit entries) or as an
//! attacker with the database file (dropping the append-only triggers).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nexaguard_access::TotpSecret;
use nexaguard_admin::principal::{audit_entry, Principal};
use nexaguard_admin::Admin;
use nexaguard_audit::{Action, Actor, ChainId, Outcome};
use nexaguard_store::{SqliteStore, Store, TenantId};
use serde_json::Value;
use sqlx::{ConnectOptions, Connection};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery staple";

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nexaguard"));
    // The tests' own environment must not leak into the commands.
    for variable in [
        "NEXAGUARD_DATA_DIR",
        "NEXAGUARD_KEK",
        "NEXAGUARD_KEK_PREVIOUS",
        "NEXAGUARD_PASSWORD",
        "NEXAGUARD_LOG",
    ] {
        command.env_remove(variable);
    }
    command
}

/// Runs `nexaguard ARGS --data-dir DATA` with `stdin` as standard input.
fn run_with_stdin(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = bin()
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that refuses its arguments exits without reading: the
    // pipe is then closed, which is not the test's failure.
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    }
    child.wait_with_output().unwrap()
}

fn run(data: &Path, args: &[&str]) -> Output {
    run_with_stdin(data, args, "")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// Asserts exit code `code` and an error of exactly one line on stderr
/// containing `expected`; returns that line.
#[track_caller]
fn assert_error(out: &Output, code: i32, expected: &str) -> String {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {err}",
        stdout(out)
    );
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(expected), "{expected:?} not in {err:?}");
    err.trim_end().to_owned()
}

/// `user create` with the password in NEXAGUARD_PASSWORD; the printed user.
fn create_user(data: &Path, email: &str, role: &str, tenant: Option<&str>) -> Value {
    let mut command = bin();
    command
        .args(["user", "create", "--email", email, "--role", role])
        .arg("--data-dir")
        .arg(data)
        .env("NEXAGUARD_PASSWORD", PASSWORD);
    if let Some(tenant) = tenant {
        command.args(["--tenant", tenant]);
    }
    let out = command.output().unwrap();
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn create_tenant(data: &Path, name: &str) -> String {
    let out = run(data, &["tenant", "create", name]);
    assert_ok(&out);
    let tenant: Value = serde_json::from_slice(&out.stdout).unwrap();
    tenant["id"].as_str().unwrap().to_owned()
}

fn database(data: &Path) -> PathBuf {
    data.join("nexaguard.db")
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Runs SQL on the database file directly, as someone with access to the
/// file (not through the store) would.
async fn raw_sql(data: &Path, statements: &[&str]) {
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(database(data))
        .connect()
        .await
        .unwrap();
    for statement in statements {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
}

async fn entry_id(data: &Path, chain: &str, seq: i64) -> String {
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(database(data))
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let (id,): (String,) = sqlx::query_as("SELECT id FROM audit_log WHERE chain = ? AND seq = ?")
        .bind(chain)
        .bind(seq)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    id
}

/// Opens the data directory as the server does.
async fn open_admin(data: &Path) -> (Arc<SqliteStore>, Arc<Admin>) {
    let consents = Arc::new(SqliteStore::open(&database(data)).await.unwrap());
    let gvl = nexaguard_server::gvl_source::load_list(None).await.unwrap();
    let admin = nexaguard_server::admin::open(
        data,
        Arc::new(
            nexaguard_store::SqliteAdminStore::open(&database(data))
                .await
                .unwrap(),
        ),
        Arc::clone(&consents) as Arc<dyn Store>,
        Arc::new(gvl),
        nexaguard_server::secrets::token_keys(data).unwrap(),
    )
    .await
    .unwrap();
    (consents, admin)
}

fn kek_file(data: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(data.join("secrets").join("kek.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let ids = file["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect();
    (file["current"].as_str().unwrap().to_owned(), ids)
}

#[test]
fn user_create_bootstraps_an_operator_and_a_tenant_owner() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // The first operator, on a data directory that does not exist yet.
    let out = bin()
        .args(["user", "create", "--email", "op@example.org"])
        .args(["--role", "platform_operator", "--data-dir"])
        .arg(&data)
        .env("NEXAGUARD_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert_ok(&out);
    let operator: Value = serde_json::from_slice(&out.stdout).unwrap();
    uuid::Uuid::parse_str(operator["id"].as_str().unwrap()).unwrap();
    assert_eq!(operator["role"], "platform_operator");
    assert_eq!(operator["tenant"], Value::Null);
    assert_eq!(operator["mfaEnrolmentRequired"], true);
    assert!(stderr(&out).contains("TOTP"), "{}", stderr(&out));

    // A tenant's first owner, the password on standard input.
    let tenant = create_tenant(&data, "Acme");
    let out = run_with_stdin(
        &data,
        &[
            "user",
            "create",
            "--email",
            "owner@acme.example",
            "--role",
            "owner",
            "--tenant",
            &tenant,
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_ok(&out);
    let owner: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(owner["role"], "owner");
    assert_eq!(owner["tenant"], tenant.as_str());
    assert_eq!(owner["mfaEnrolmentRequired"], true);
    assert!(stderr(&out).contains("TOTP"), "{}", stderr(&out));
    assert_ne!(owner["id"], operator["id"]);

    // A role without a required second factor says nothing about one.
    let out = run_with_stdin(
        &data,
        &[
            "user",
            "create",
            "--email",
            "editor@acme.example",
            "--role",
            "editor",
            "--tenant",
            &tenant,
        ],
        &format!("{PASSWORD}\r\n"),
    );
    assert_ok(&out);
    let editor: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(editor["mfaEnrolmentRequired"], false);
    assert!(!stderr(&out).contains("TOTP"));

    // The accounts are the ones the server signs in with: the password read
    // from stdin is the line without its ending.
    block_on(async {
        let (consents, admin) = open_admin(&data).await;
        let operators = admin.store().users(None).await.unwrap();
        assert_eq!(operators.len(), 1);
        assert_eq!(operators[0].id.0.to_string(), operator["id"]);
        let tenant_id = TenantId(tenant.parse().unwrap());
        assert_eq!(admin.store().users(Some(tenant_id)).await.unwrap().len(), 2);
        for email in [
            "op@example.org",
            "owner@acme.example",
            "editor@acme.example",
        ] {
            admin.login(email, PASSWORD, None, None).await.unwrap();
        }
        consents.close().await;
    });
}

#[test]
fn user_create_refuses_bad_input_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // Input is checked before anything is created.
    let out = run_with_stdin(
        &data,
        &[
            "user",
            "create",
            "--email",
            "op@example.org",
            "--role",
            "platform_operator",
        ],
        "elevenchars\n",
    );
    assert_error(&out, 1, "at least 12 characters");
    assert!(
        !data.exists(),
        "a refused command created the data directory"
    );

    let tenant = create_tenant(&data, "Acme");
    create_user(&data, "Op@Example.org", "platform_operator", None);

    let user = |args: &[&str], password: &str| {
        let mut all = vec!["user", "create"];
        all.extend_from_slice(args);
        run_with_stdin(&data, &all, password)
    };
    let line = format!("{PASSWORD}\n");

    // The address is taken among operators, whatever its case.
    let out = user(
        &["--email", "op@example.org", "--role", "platform_operator"],
        &line,
    );
    assert_error(&out, 1, "e-mail address has an account");
    // An address has one account per tenant: another one in a tenant is a
    // membership of its own, with a password of its own.
    let in_tenant = [
        "--email",
        " OP@example.ORG ",
        "--role",
        "viewer",
        "--tenant",
        &tenant,
    ];
    let out = user(&in_tenant, &line);
    assert_error(&out, 1, "password you do not use for another");
    let other_line = format!("{PASSWORD} for acme\n");
    assert_ok(&user(&in_tenant, &other_line));
    let out = user(&in_tenant, "yet another long password\n");
    assert_error(&out, 1, "e-mail address has an account in this tenant");

    // Weak password on an existing installation.
    let out = user(
        &[
            "--email",
            "v@example.org",
            "--role",
            "viewer",
            "--tenant",
            &tenant,
        ],
        "short\n",
    );
    assert_error(&out, 1, "at least 12 characters");

    // No password at all.
    let out = user(
        &[
            "--email",
            "v@example.org",
            "--role",
            "viewer",
            "--tenant",
            &tenant,
        ],
        "",
    );
    assert_error(&out, 1, "NEXAGUARD_PASSWORD");

    // Not an address.
    let out = user(
        &[
            "--email",
            "not-an-address",
            "--role",
            "viewer",
            "--tenant",
            &tenant,
        ],
        &line,
    );
    assert_error(&out, 1, "not an e-mail address");

    // A tenant that does not exist.
    let nil = uuid::Uuid::nil().to_string();
    let out = user(
        &[
            "--email",
            "v@example.org",
            "--role",
            "viewer",
            "--tenant",
            &nil,
        ],
        &line,
    );
    assert_error(&out, 1, "no tenant has id");

    // Usage errors: exit code 2, one line.
    let out = user(
        &[
            "--email",
            "v@example.org",
            "--role",
            "boss",
            "--tenant",
            &tenant,
        ],
        &line,
    );
    let message = assert_error(&out, 2, "unknown role \"boss\"");
    assert!(message.contains("platform_operator"), "{message}");
    let out = user(&["--email", "v@example.org", "--role", "owner"], &line);
    assert_error(&out, 2, "--role owner needs --tenant");
    let out = user(
        &[
            "--email",
            "v@example.org",
            "--role",
            "platform_operator",
            "--tenant",
            &tenant,
        ],
        &line,
    );
    assert_error(&out, 2, "leave out --tenant");

    // None of the refusals created anyone: the operator and the one
    // tenant account of the same address are all there is.
    block_on(async {
        let (consents, admin) = open_admin(&data).await;
        assert_eq!(admin.store().count_users().await.unwrap(), 2);
        consents.close().await;
    });
}

/// Three operators (platform chain: entries 1 to 3) and a tenant owner
/// (the tenant's chain: entry 1).
fn populated(data: &Path) -> String {
    for n in 1..=3 {
        create_user(
            data,
            &format!("op{n}@example.org"),
            "platform_operator",
            None,
        );
    }
    let tenant = create_tenant(data, "Acme");
    create_user(data, "owner@acme.example", "owner", Some(&tenant));
    tenant
}

#[test]
fn audit_verify_passes_on_an_intact_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // A data directory that is not one is refused, and not created.
    let out = run(&data, &["audit", "verify"]);
    assert_error(&out, 1, "no NexaGuard database");
    assert!(!data.exists());

    // An installation without entries (creating a tenant would make one).
    assert_ok(&run(&data, &["migrate"]));
    let out = run(&data, &["audit", "verify"]);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "no audit entries");

    let tenant = populated(&data);
    let out = run(&data, &["audit", "verify"]);
    assert_ok(&out);
    assert_eq!(
        stdout(&out),
        format!(
            "platform: 4 entries, 0 checkpoints, ok\n\
             tenant {tenant}: 1 entry, 0 checkpoints, ok\n"
        )
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn audit_verify_names_an_altered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tenant = populated(&data);
    block_on(async {
        let id = entry_id(&data, "platform", 2).await;
        // The triggers refuse the change as it is...
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(database(&data))
            .connect()
            .await
            .unwrap();
        let refused = sqlx::query(
            "UPDATE audit_log SET target = 'user:nobody' WHERE chain = 'platform' AND seq = 2",
        )
        .execute(&mut conn)
        .await
        .unwrap_err();
        assert!(refused.to_string().contains("append-only"), "{refused}");
        conn.close().await.unwrap();

        // ...so the attacker drops them first.
        raw_sql(
            &data,
            &[
                "DROP TRIGGER audit_log_no_update",
                "UPDATE audit_log SET target = 'user:nobody' WHERE chain = 'platform' AND seq = 2",
            ],
        )
        .await;
        let out = run(&data, &["audit", "verify"]);
        let line = assert_error(&out, 1, "audit chain platform broken at entry 2");
        assert!(line.contains(&id), "{line}");
        assert!(line.contains("altered"), "{line}");
        // The report still covers every chain.
        let report = stdout(&out);
        assert!(report.contains(&format!("audit chain platform broken at entry 2 ({id})")));
        assert!(report.contains(&format!("tenant {tenant}: 1 entry, 0 checkpoints, ok")));

        // An altered outcome in the tenant's chain as well: both are named.
        let tenant_id = entry_id(&data, &tenant, 1).await;
        raw_sql(
            &data,
            &[&format!(
                "UPDATE audit_log SET outcome = 'failure' WHERE chain = '{tenant}' AND seq = 1"
            )],
        )
        .await;
        let out = run(&data, &["audit", "verify"]);
        let line = assert_error(&out, 1, "audit chain platform broken at entry 2");
        assert!(line.contains("and 1 more broken chain"), "{line}");
        assert!(stdout(&out).contains(&format!(
            "audit chain {tenant} broken at entry 1 ({tenant_id})"
        )));
    });
}

#[test]
fn audit_verify_finds_a_deleted_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    populated(&data);
    block_on(async {
        let next = entry_id(&data, "platform", 3).await;
        raw_sql(
            &data,
            &[
                "DROP TRIGGER audit_log_no_delete",
                "DELETE FROM audit_log WHERE chain = 'platform' AND seq = 2",
            ],
        )
        .await;
        let out = run(&data, &["audit", "verify"]);
        // The gap shows at the entry after the deleted one.
        let line = assert_error(&out, 1, "audit chain platform broken at entry 3");
        assert!(line.contains(&next), "{line}");
        assert!(line.contains("expected entry 2"), "{line}");

        // Renumbering to close the gap breaks the link instead.
        raw_sql(
            &data,
            &[
                "DROP TRIGGER audit_log_no_update",
                "UPDATE audit_log SET seq = 2 WHERE chain = 'platform' AND seq = 3",
            ],
        )
        .await;
        let out = run(&data, &["audit", "verify"]);
        let line = assert_error(&out, 1, "audit chain platform broken at entry 2");
        assert!(line.contains(&next), "{line}");
    });
}

#[test]
fn audit_verify_checks_signed_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_user(&data, "op@example.org", "platform_operator", None);
    // The server writes the entries (a checkpoint every 100).
    block_on(async {
        let (consents, admin) = open_admin(&data).await;
        for n in 0..104 {
            admin
                .store()
                .append_audit(audit_entry(
                    ChainId::Platform,
                    Actor::System,
                    Action::LoginFailed,
                    "user:unknown".to_owned(),
                    Outcome::Failure,
                    Some(format!("192.0.2.{n}/24")),
                    serde_json::json!({"reason": "unknown_account"}),
                ))
                .await
                .unwrap();
        }
        consents.close().await;
    });
    let out = run(&data, &["audit", "verify"]);
    assert_ok(&out);
    assert_eq!(stdout(&out), "platform: 105 entries, 1 checkpoint, ok\n");

    // Cutting off the newest entries keeps every link intact; the signed
    // checkpoint at entry 100 shows the truncation.
    block_on(raw_sql(
        &data,
        &[
            "DROP TRIGGER audit_log_no_delete",
            "DELETE FROM audit_log WHERE chain = 'platform' AND seq >= 100",
        ],
    ));
    let out = run(&data, &["audit", "verify"]);
    assert_error(&out, 1, "truncated");
}

#[test]
fn keys_rotate_rewraps_every_data_key_and_the_data_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let out = run(&data, &["keys", "rotate"]);
    assert_error(&out, 1, "no NexaGuard database");
    assert!(!data.exists());

    create_user(&data, "alice@example.org", "platform_operator", None);
    let tenant = create_tenant(&data, "Acme");
    create_user(&data, "owner@acme.example", "owner", Some(&tenant));
    let (old, ids) = kek_file(&data);
    assert_eq!(ids, [old.as_str()]);

    let out = run(&data, &["keys", "rotate"]);
    assert_ok(&out);
    let (new, ids) = kek_file(&data);
    assert_ne!(new, old);
    assert_eq!(ids, [new.as_str()], "the old key was not retired");
    let report = stdout(&out);
    assert!(
        report.contains(&format!("new key-encryption key: {new}")),
        "{report}"
    );
    // platform, platform-index and the tenant's.
    assert!(report.contains("data keys re-wrapped: 3"), "{report}");
    assert!(report.contains(&format!("retired: {old}")), "{report}");

    // The lookup key still finds the address: it is taken.
    let out = run_with_stdin(
        &data,
        &[
            "user",
            "create",
            "--email",
            "alice@example.org",
            "--role",
            "platform_operator",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_error(&out, 1, "e-mail address has an account");
    // New accounts in old and new scopes work.
    create_user(&data, "bob@acme.example", "viewer", Some(&tenant));
    let other = create_tenant(&data, "Other");
    create_user(&data, "carol@other.example", "owner", Some(&other));

    // The audit log verifies, rotation included (its entry names both keys):
    // the operator, the two tenants and the rotation.
    let out = run(&data, &["audit", "verify"]);
    assert_ok(&out);
    assert!(stdout(&out).starts_with("platform: 4 entries, 0 checkpoints, ok\n"));

    // The server opens the sealed data with the new key file: signing in
    // needs the lookup key, `me` opens the sealed address, and the
    // checkpoint signing key (sealed) loads.
    block_on(async {
        let (consents, admin) = open_admin(&data).await;
        let signed_in = admin
            .login("alice@example.org", PASSWORD, None, None)
            .await
            .unwrap();
        let principal = admin
            .authenticate_session(&signed_in.session, None)
            .await
            .unwrap();
        let me = admin.me(&principal).await.unwrap().unwrap();
        assert_eq!(me.email, "alice@example.org");
        admin
            .login("owner@acme.example", PASSWORD, None, None)
            .await
            .unwrap();
        consents.close().await;
    });

    // Twice in a row works too.
    let out = run(&data, &["keys", "rotate"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("data keys re-wrapped: 4"));
    assert_ok(&run(&data, &["audit", "verify"]));

    // An environment key is rotated where it is kept.
    let out = bin()
        .args(["keys", "rotate", "--data-dir"])
        .arg(&data)
        .env(
            "NEXAGUARD_KEK",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .output()
        .unwrap();
    assert_error(&out, 1, "NEXAGUARD_KEK");
    assert_eq!(kek_file(&data).1.len(), 1);
}

#[test]
fn keys_rotate_while_a_server_has_the_data_dir_open() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_user(&data, "op@example.org", "platform_operator", None);
    block_on(async {
        // The "server": loaded the key file and the data keys before the
        // rotation.
        let (consents, admin) = open_admin(&data).await;
        admin
            .login("op@example.org", PASSWORD, None, None)
            .await
            .unwrap();

        let out = tokio::task::spawn_blocking({
            let data = data.clone();
            move || run(&data, &["keys", "rotate"])
        })
        .await
        .unwrap();
        assert_ok(&out);
        let (current, _) = kek_file(&data);

        // Its cached keys still work, and a data key it makes now (a new
        // tenant's) is wrapped with the new key-encryption key, not the
        // retired one it started with.
        admin
            .login("op@example.org", PASSWORD, None, None)
            .await
            .unwrap();
        let (tenant, _) = admin
            .create_tenant(&Principal::system(None), "Later", None)
            .await
            .unwrap();
        admin
            .create_user_as_system(
                Some(tenant.id),
                nexaguard_access::Role::Owner,
                "owner@later.example",
                PASSWORD,
            )
            .await
            .unwrap();
        let keys = admin.store().data_keys().await.unwrap();
        let tenant_key = keys
            .iter()
            .find(|k| k.scope == tenant.id.0.to_string())
            .unwrap();
        assert!(
            tenant_key.wrapped.starts_with(&format!("{current}.")),
            "{} not wrapped with {current}",
            tenant_key.wrapped
        );
        consents.close().await;
    });
    // A fresh process opens everything.
    let out = run(&data, &["audit", "verify"]);
    assert_ok(&out);
    block_on(async {
        let (consents, admin) = open_admin(&data).await;
        admin
            .login("owner@later.example", PASSWORD, None, None)
            .await
            .unwrap();
        consents.close().await;
    });
}

/// Every file under `dir`, recursively, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            found.push((path, bytes));
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[track_caller]
fn assert_nowhere(data: &Path, needles: &[(&str, &[u8])]) {
    let all = files(data);
    let names: Vec<String> = all
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "nexaguard.db"), "{names:?}");
    for (path, bytes) in &all {
        for (what, needle) in needles {
            assert!(
                !contains(bytes, needle),
                "{what} in plaintext in {}",
                path.display()
            );
        }
    }
}

#[test]
fn e_mail_addresses_and_totp_secrets_never_reach_the_files_in_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let email = "alice.secret@example.org";
    create_user(&data, email, "platform_operator", None);
    let tenant = create_tenant(&data, "Acme");
    create_user(&data, "bob.hidden@acme.example", "owner", Some(&tenant));

    let (secret_bytes, secret_base32) = block_on(async {
        let (consents, admin) = open_admin(&data).await;
        let signed_in = admin.login(email, PASSWORD, None, None).await.unwrap();
        let principal = admin
            .authenticate_session(&signed_in.session, None)
            .await
            .unwrap();
        let enrolment = admin
            .start_enrolment(&principal, email, None)
            .await
            .unwrap();
        let bytes = totp_rs::Secret::Encoded(enrolment.secret_base32.clone())
            .to_bytes()
            .unwrap();
        let secret = TotpSecret::from_bytes(&bytes).unwrap();
        let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap();
        let enrolled = admin
            .confirm_enrolment(&principal, &secret.code_at(now))
            .await
            .unwrap();
        assert!(!enrolled.recovery_codes.is_empty());
        let user = admin.store().users(None).await.unwrap().remove(0);
        assert!(user.totp_sealed.is_some());

        // While the "server" still has the database open (WAL and shared
        // memory files present).
        let needles: [(&str, &[u8]); 4] = [
            ("the e-mail address", email.as_bytes()),
            ("the e-mail address's local part", b"alice.secret"),
            (
                "the TOTP secret (base32)",
                enrolment.secret_base32.as_bytes(),
            ),
            ("the TOTP secret", &bytes),
        ];
        assert_nowhere(&data, &needles);
        consents.close().await;
        (bytes, enrolment.secret_base32)
    });

    // And after every process has closed it, with the CLI's audit entries.
    assert_ok(&run(&data, &["audit", "verify"]));
    assert_nowhere(
        &data,
        &[
            ("the e-mail address", email.as_bytes()),
            ("the e-mail address's local part", b"alice.secret"),
            ("the owner's e-mail address", b"bob.hidden"),
            ("the TOTP secret (base32)", secret_base32.as_bytes()),
            ("the TOTP secret", &secret_bytes),
        ],
    );
}

#[test]
fn keys_rotate_with_environment_keys_rewraps_from_the_previous_key() {
    const OLD: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    const NEW: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let user = |kek: &str, email: &str| {
        bin()
            .args([
                "user",
                "create",
                "--email",
                email,
                "--role",
                "platform_operator",
            ])
            .arg("--data-dir")
            .arg(&data)
            .env("NEXAGUARD_PASSWORD", PASSWORD)
            .env("NEXAGUARD_KEK", kek)
            .output()
            .unwrap()
    };
    assert_ok(&user(OLD, "op@example.org"));
    assert!(!data.join("secrets").join("kek.json").exists());
    // The new key alone cannot open what the old one wrapped.
    let out = user(NEW, "second@example.org");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = bin()
        .args(["keys", "rotate", "--data-dir"])
        .arg(&data)
        .env("NEXAGUARD_KEK", NEW)
        .env("NEXAGUARD_KEK_PREVIOUS", OLD)
        .output()
        .unwrap();
    assert_ok(&out);
    // Now the new key alone opens everything: the address index still
    // finds the first user.
    assert_error(&user(NEW, "op@example.org"), 1, "has an account");
    assert_ok(&user(NEW, "second@example.org"));
}
