//! Administration from the command line, on the data directory of an
//! installation (a server may be running on it): `user create` (the
//! bootstrap of the first platform operator or a tenant's first owner),
//! `audit verify` and `keys rotate`.

use super::server::{runtime, StoreArgs};
use anyhow::Context;
use nexaguard_access::{check_password_policy, Role};
use nexaguard_admin::audit_log::{verify_all, ChainStatus};
use nexaguard_admin::principal::audit_entry;
use nexaguard_admin::users::check_email;
use nexaguard_admin::Admin;
use nexaguard_audit::{Action, Actor, ChainId, Outcome};
use nexaguard_keyring::EnvKey;
use nexaguard_server::database::Stores;
use nexaguard_store::{Store, TenantId};
use nexaguard_tcf::gvl::Gvl;
use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use uuid::Uuid;

/// The environment variable `user create` reads the password from.
const PASSWORD_VARIABLE: &str = "NEXAGUARD_PASSWORD";

/// Exit code of a usage error, as clap uses.
const USAGE: u8 = 2;

/// Prints a usage error as one line and returns its exit code.
fn usage(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("error: {message}");
    Ok(ExitCode::from(USAGE))
}

/// A role by the name the API and the database use; an unknown name is a
/// usage error of one line listing the names.
fn parse_role(name: &str) -> Result<Role, String> {
    name.parse::<Role>().map_err(|_| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {name:?}: use one of {}", names.join(", "))
    })
}

/// The store and the administration service of an installation (its data
/// directory, and its PostgreSQL database if given), opened as the server
/// opens them (same key file, same secrets). Every administrative command
/// makes its changes through `admin`, so each has its audit entry.
pub(super) struct Opened {
    pub(super) consents: Arc<dyn Store>,
    pub(super) admin: Arc<Admin>,
}

impl Opened {
    /// Opens it; `gvl` is the vendor list configurations are checked
    /// against (the embedded one when `None`).
    pub(super) async fn open(store: &StoreArgs, gvl: Option<Gvl>) -> anyhow::Result<Opened> {
        let stores = store.open().await?;
        let consents = Arc::clone(&stores.consents);
        match Opened::admin(store, stores, gvl).await {
            Ok(admin) => Ok(Opened { consents, admin }),
            Err(error) => {
                consents.close().await;
                Err(error)
            }
        }
    }

    async fn admin(
        store: &StoreArgs,
        stores: Stores,
        gvl: Option<Gvl>,
    ) -> anyhow::Result<Arc<Admin>> {
        let tokens = nexaguard_server::secrets::token_keys(&store.data_dir)?;
        // Only configuration checks need the GVL: without one given, the
        // embedded one spares a download.
        let gvl = match gvl {
            Some(gvl) => gvl,
            None => nexaguard_server::gvl_source::load_list(None).await?,
        };
        // A server starting on the same database may be making the first
        // keys right now.
        let _setup = stores.consents.setup_lock().await?;
        nexaguard_server::admin::open(
            &store.data_dir,
            stores.admin,
            stores.consents,
            Arc::new(gvl),
            tokens,
        )
        .await
    }

    pub(super) async fn close(self) {
        self.consents.close().await;
    }
}

/// Refuses a data directory without a database: a mistyped `--data-dir`
/// must not quietly start a new installation.
fn require_database(store: &StoreArgs) -> anyhow::Result<()> {
    let path = store.database_path();
    if store.database_url.is_some() || path.is_file() {
        Ok(())
    } else {
        anyhow::bail!(
            "no NexaGuard database at {} (wrong --data-dir?)",
            path.display()
        )
    }
}

/// Arguments of `user create`.
#[derive(clap::Args, Debug)]
pub struct UserCreateArgs {
    /// The user's e-mail address (their sign-in name).
    #[arg(long)]
    email: String,
    /// The role: owner, admin, editor, publisher, analyst, auditor, viewer,
    /// or platform_operator (the installation's operator, no tenant).
    #[arg(long)]
    role: String,
    /// The tenant's id; every role but platform_operator needs one.
    #[arg(long)]
    tenant: Option<Uuid>,
    #[command(flatten)]
    store: StoreArgs,
}

/// The password: `NEXAGUARD_PASSWORD` when set, else one line of standard
/// input (without its line ending).
fn read_password() -> anyhow::Result<String> {
    if let Some(value) = std::env::var_os(PASSWORD_VARIABLE) {
        return value
            .into_string()
            .map_err(|_| anyhow::anyhow!("{PASSWORD_VARIABLE} is not valid UTF-8"));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password (one line): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    let read = stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    if read == 0 {
        anyhow::bail!("no password given: set {PASSWORD_VARIABLE} or write it on standard input");
    }
    let password = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line);
    Ok(password.to_owned())
}

/// Runs `nexaguard user create`: creates the user as the system and prints
/// it as JSON.
pub fn user_create(args: UserCreateArgs) -> anyhow::Result<ExitCode> {
    let role = match parse_role(&args.role) {
        Ok(role) => role,
        Err(message) => return usage(&message),
    };
    match (role.is_platform(), args.tenant) {
        (true, Some(_)) => {
            return usage("a platform_operator belongs to no tenant: leave out --tenant")
        }
        (false, None) => return usage(&format!("--role {role} needs --tenant TENANT_ID")),
        _ => {}
    }
    // Input is checked before anything is opened or created.
    check_email(&args.email)?;
    let password = read_password()?;
    check_password_policy(&password)?;
    runtime()?.block_on(async {
        let opened = Opened::open(&args.store, None).await?;
        let result = async {
            if let Some(tenant) = args.tenant {
                let tenants = opened.consents.tenants().await?;
                if !tenants.iter().any(|t| t.id.0 == tenant) {
                    anyhow::bail!("no tenant has id {tenant}");
                }
            }
            Ok(opened
                .admin
                .create_user_as_system(args.tenant.map(TenantId), role, &args.email, &password)
                .await?)
        }
        .await;
        opened.close().await;
        let user = result?;
        let mfa = role.requires_mfa();
        println!(
            "{}",
            serde_json::json!({
                "id": user.id.0,
                "role": user.role,
                "tenant": user.tenant.map(|t| t.0),
                "mfaEnrolmentRequired": mfa,
            })
        );
        if mfa {
            eprintln!(
                "note: the {} role requires a second factor: the user enrols a TOTP \
                 authenticator at first sign-in",
                user.role
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Arguments of `audit verify`.
#[derive(clap::Args, Debug)]
pub struct AuditVerifyArgs {
    #[command(flatten)]
    store: StoreArgs,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn chain_name(chain: ChainId) -> String {
    match chain {
        ChainId::Platform => "platform".to_owned(),
        ChainId::Tenant(id) => format!("tenant {id}"),
    }
}

/// Runs `nexaguard audit verify`: one line per chain; exit 1 when any chain
/// breaks.
///
/// Needs only the database: the checkpoint keys' public halves are stored
/// in it, so an auditor can verify a copy without the key-encryption key.
pub fn audit_verify(args: AuditVerifyArgs) -> anyhow::Result<ExitCode> {
    require_database(&args.store)?;
    runtime()?.block_on(async {
        // Opening the store applies pending migrations first.
        let stores = args.store.open().await?;
        let verified = async {
            let keys: HashMap<String, [u8; 32]> = stores
                .admin
                .signing_keys()
                .await?
                .into_iter()
                .map(|key| (key.id, key.public_key))
                .collect();
            anyhow::Ok(verify_all(stores.admin.as_ref(), &keys).await?)
        }
        .await;
        stores.consents.close().await;
        let mut statuses = verified?;
        statuses.sort_by_key(|s| s.chain != ChainId::Platform);
        Ok(report(&statuses))
    })
}

fn report(statuses: &[ChainStatus]) -> ExitCode {
    if statuses.is_empty() {
        println!("no audit entries");
        return ExitCode::SUCCESS;
    }
    let mut breaks = Vec::new();
    for status in statuses {
        match &status.result {
            Ok(verified) => println!(
                "{}: {}, {}, ok",
                chain_name(status.chain),
                plural(verified.entries, "entry", "entries"),
                plural(verified.checkpoints, "checkpoint", "checkpoints"),
            ),
            Err(broken) => {
                println!("{broken}");
                breaks.push(broken);
            }
        }
    }
    match breaks.as_slice() {
        [] => ExitCode::SUCCESS,
        [first, rest @ ..] => {
            let more = match rest.len() {
                0 => String::new(),
                1 => " (and 1 more broken chain)".to_owned(),
                n => format!(" (and {n} more broken chains)"),
            };
            eprintln!("error: {first}{more}");
            ExitCode::FAILURE
        }
    }
}

/// Arguments of `keys rotate`.
#[derive(clap::Args, Debug)]
pub struct KeysRotateArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs `nexaguard keys rotate`: a new key-encryption key in the key file,
/// every data key re-wrapped with it, the old keys retired. With the key in
/// the environment, the new key is `NEXAGUARD_KEK` and the old one
/// `NEXAGUARD_KEK_PREVIOUS`, and the command re-wraps.
pub fn keys_rotate(args: KeysRotateArgs) -> anyhow::Result<ExitCode> {
    if std::env::var_os(EnvKey::VARIABLE).is_some()
        && std::env::var_os(EnvKey::PREVIOUS_VARIABLE).is_none()
    {
        anyhow::bail!(
            "the key-encryption key comes from {0}: set {0} to the new key and {1} to the old one, \
             then run this command to re-wrap the data keys",
            EnvKey::VARIABLE,
            EnvKey::PREVIOUS_VARIABLE
        );
    }
    require_database(&args.store)?;
    runtime()?.block_on(async {
        let opened = Opened::open(&args.store, None).await?;
        let audit = audit_entry(
            ChainId::Platform,
            Actor::System,
            Action::KeysRotated,
            "key-ring".to_owned(),
            Outcome::Success,
            None,
            serde_json::json!({}),
        );
        let rotated = opened.admin.keys().rotate(audit).await;
        opened.close().await;
        let rotated = rotated?;
        println!("new key-encryption key: {}", rotated.current_kek);
        println!("data keys re-wrapped: {}", rotated.data_keys);
        if !rotated.retired.is_empty() {
            println!("retired: {}", rotated.retired.join(", "));
        }
        if std::env::var_os(EnvKey::VARIABLE).is_some() {
            eprintln!(
                "note: every data key is wrapped with the new key; remove {} now",
                EnvKey::PREVIOUS_VARIABLE
            );
        } else {
            eprintln!(
                "note: back up {} now; database backups made before this rotation open only \
                 with the key file backed up with them",
                nexaguard_server::secrets::kek_path(&args.store.data_dir).display()
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}
