//! `nexaguard user create`: the bootstrap of the first platform operator
//! or a tenant's first owner, on an installation (a server may be running
//! on it).

use super::store::{runtime, usage, Opened, StoreArgs};
use anyhow::Context;
use nexaguard_access::{check_password_policy, Role};
use nexaguard_admin::users::check_email;
use nexaguard_store::TenantId;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use uuid::Uuid;

/// The environment variable `user create` reads the password from.
const PASSWORD_VARIABLE: &str = "NEXAGUARD_PASSWORD";

/// A role by the name the API and the database use; an unknown name is a
/// usage error of one line listing the names.
fn parse_role(name: &str) -> Result<Role, String> {
    name.parse::<Role>().map_err(|_| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {name:?}: use one of {}", names.join(", "))
    })
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
