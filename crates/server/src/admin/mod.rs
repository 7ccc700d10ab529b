//! The admin API under `/admin/api/v1`.
//!
//! Every route is declared once in [`routes`] with the access it needs; the
//! router is built from that table and a guard in front of each handler
//! enforces it, so a route cannot exist without a declared permission, and
//! a test can walk the table with every role. The domain calls behind the
//! handlers check the same permission again.
//!
//! Authentication is a session cookie (`__Host-nexaguard_session`) or an
//! API token (`Authorization: Bearer ngt_...`). Cookie-authenticated
//! changes need the session's CSRF token in `X-CSRF-Token` and an `Origin`
//! equal to the server's own.

mod error;
pub(crate) mod guard;
pub(crate) mod handlers;

use crate::app::AppState;
use crate::ratelimit::Limiter;
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use nexaguard_access::Permission;
use nexaguard_admin::Admin;
use std::sync::Arc;

pub use guard::{CSRF_HEADER, SESSION_COOKIE};

/// The prefix of every admin route.
pub const PREFIX: &str = "/admin/api/v1";

/// The admin side of the server state.
#[derive(Debug)]
pub struct AdminHttp {
    /// The administration service.
    pub admin: Arc<Admin>,
    /// Sign-in attempts per client network.
    pub limiter: Limiter,
}

/// What a route needs from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Nothing: signing in, accepting an invitation.
    Public,
    /// A session or token, whatever the role, with the second factor
    /// possibly still pending (enrolment, the code, sign-out).
    SignedIn,
    /// This permission of the caller's role, with the second factor done.
    Permission(Permission),
}

/// A route of the admin API.
#[derive(Debug, Clone)]
pub struct Route {
    /// The method.
    pub method: Method,
    /// The path after [`PREFIX`], in axum's syntax (`/sites/{site}`).
    pub path: &'static str,
    /// What it needs.
    pub access: Access,
    /// One line for the OpenAPI document.
    pub summary: &'static str,
}

/// The one table of admin routes: method, path, access, summary, handler.
macro_rules! admin_routes {
    ($( $method:ident $path:literal $access:expr, $summary:literal => $handler:path; )*) => {
        /// Every admin route with its declared access.
        pub fn routes() -> Vec<Route> {
            vec![$(Route {
                method: Method::$method,
                path: $path,
                access: $access,
                summary: $summary,
            }),*]
        }

        fn handlers() -> Vec<MethodRouter<AppState>> {
            vec![$(on(MethodFilter::$method, $handler)),*]
        }
    };
}

use Access::{Public, SignedIn};
use Permission::*;

admin_routes! {
    POST "/session" Public, "Sign in with e-mail address and password" => handlers::login;
    GET "/session" SignedIn, "The signed-in user, the next step and the CSRF token" => handlers::whoami;
    DELETE "/session" SignedIn, "Sign out" => handlers::logout;
    POST "/session/mfa" SignedIn, "Give the second factor (TOTP or recovery code)" => handlers::verify_mfa;
    POST "/mfa/enrolment" SignedIn, "Start TOTP enrolment" => handlers::start_enrolment;
    POST "/mfa/enrolment/confirm" SignedIn, "Confirm TOTP enrolment; returns recovery codes" => handlers::confirm_enrolment;
    POST "/password" SignedIn, "Change the password (ends every session)" => handlers::change_password;
    POST "/invitations/accept" Public, "Accept an invitation and set a password" => handlers::accept_invitation;
    POST "/invitations" Access::Permission(ManageUsers), "Invite a user to the tenant" => handlers::invite;
    GET "/users" Access::Permission(ManageUsers), "The tenant's users" => handlers::list_users;
    PUT "/users/{user}/role" Access::Permission(ManageUsers), "Change a user's role" => handlers::set_role;
    DELETE "/users/{user}" Access::Permission(ManageUsers), "Remove a user" => handlers::remove_user;
    GET "/tokens" Access::Permission(ManageTokens), "The tenant's API tokens" => handlers::list_tokens;
    POST "/tokens" Access::Permission(ManageTokens), "Create an API token (the secret is shown once)" => handlers::create_token;
    DELETE "/tokens/{token}" Access::Permission(ManageTokens), "Revoke an API token" => handlers::revoke_token;
    GET "/tenants" Access::Permission(ManageTenants), "Every tenant (operator)" => handlers::list_tenants;
    POST "/tenants" Access::Permission(ManageTenants), "Create a tenant and invite its owner (operator)" => handlers::create_tenant;
    GET "/sites" Access::Permission(ViewSites), "The tenant's sites" => handlers::list_sites;
    POST "/sites" Access::Permission(EditSites), "Create a site" => handlers::create_site;
    GET "/sites/{site}" Access::Permission(ViewSites), "A site with its environments" => handlers::get_site;
    GET "/sites/{site}/draft" Access::Permission(ViewSites), "The configuration draft" => handlers::get_draft;
    PUT "/sites/{site}/draft" Access::Permission(EditSites), "Save the configuration draft" => handlers::save_draft;
    POST "/sites/{site}/draft/validate" Access::Permission(EditSites), "Validate a configuration and preview its vendor list" => handlers::validate_draft;
    POST "/sites/{site}/publish" Access::Permission(PublishStaging), "Publish the draft to staging" => handlers::publish;
    GET "/sites/{site}/promotion" Access::Permission(ViewSites), "What promoting staging to production would change" => handlers::promotion_preview;
    POST "/sites/{site}/promotion" Access::Permission(PromoteProduction), "Promote staging to production" => handlers::promote;
    GET "/sites/{site}/consents" Access::Permission(ViewConsents), "Search consent records" => handlers::search_consents;
    GET "/sites/{site}/consents/export" Access::Permission(ExportConsents), "Export consent records (CSV or JSON Lines, streamed)" => handlers::export_consents;
    GET "/sites/{site}/stats" Access::Permission(ViewConsents), "Opt-in statistics" => handlers::stats;
    GET "/sites/{site}/webhooks" Access::Permission(ManageWebhooks), "The site's webhooks" => handlers::list_webhooks;
    POST "/sites/{site}/webhooks" Access::Permission(ManageWebhooks), "Create a webhook (the signing secret is shown once)" => handlers::create_webhook;
    GET "/sites/{site}/webhooks/{webhook}" Access::Permission(ManageWebhooks), "A webhook" => handlers::get_webhook;
    PATCH "/sites/{site}/webhooks/{webhook}" Access::Permission(ManageWebhooks), "Change a webhook's URL or state, or rotate its secret" => handlers::update_webhook;
    DELETE "/sites/{site}/webhooks/{webhook}" Access::Permission(ManageWebhooks), "Delete a webhook and its deliveries" => handlers::delete_webhook;
    GET "/sites/{site}/webhooks/{webhook}/deliveries" Access::Permission(ManageWebhooks), "A webhook's deliveries, newest first (?status=pending|delivered|dead&limit=)" => handlers::list_deliveries;
    POST "/sites/{site}/webhooks/{webhook}/deliveries/{delivery}/retry" Access::Permission(ManageWebhooks), "Send a dead delivery again" => handlers::retry_delivery;
    GET "/audit" Access::Permission(ViewAudit), "Read the audit log" => handlers::read_audit;
    GET "/audit/export" Access::Permission(ExportAudit), "Export the audit log (JSON Lines)" => handlers::export_audit;
    GET "/audit/verify" Access::Permission(ViewAudit), "Verify the audit chain and its checkpoints" => handlers::verify_audit;
    POST "/keys/rotate" Access::Permission(RotateKeys), "Rotate the key-encryption key (operator)" => handlers::rotate_keys;
}

/// The admin router, each route behind its guard.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    for (route, handler) in routes().into_iter().zip(handlers()) {
        let guarded = handler.route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), route.access),
            guard::guard,
        ));
        router = router.route(&format!("{PREFIX}{}", route.path), guarded);
    }
    router
}

/// Opens the administration service of the installation in `data_dir` on
/// the admin side of its database (`admin_store`), with the
/// key-encryption keys (the `NEXAGUARD_KEK` environment variable, or the
/// key file created in the data directory at first start) and the CSRF key.
pub async fn open(
    data_dir: &std::path::Path,
    admin_store: Arc<dyn nexaguard_store::AdminStore>,
    consents: Arc<dyn nexaguard_store::Store>,
    gvl: Arc<nexaguard_tcf::gvl::Gvl>,
    tokens: nexaguard_consent::token::TokenKeys,
) -> anyhow::Result<Arc<Admin>> {
    use anyhow::Context;
    use nexaguard_admin::AdminParts;
    use nexaguard_keyring::{EnvKey, KeyEncryptionKeys, LocalKeyFile};
    let kek = match std::env::var(EnvKey::VARIABLE) {
        Ok(value) => {
            tracing::info!("key-encryption key from {}", EnvKey::VARIABLE);
            let mut key = EnvKey::from_base64(&value)?;
            if let Ok(previous) = std::env::var(EnvKey::PREVIOUS_VARIABLE) {
                tracing::info!(
                    "previous key-encryption key from {}: run `nexaguard keys rotate`, then remove it",
                    EnvKey::PREVIOUS_VARIABLE
                );
                key = key.with_previous(&previous)?;
            }
            Arc::new(key) as Arc<dyn KeyEncryptionKeys>
        }
        Err(_) => {
            let path = crate::secrets::kek_path(data_dir);
            Arc::new(
                LocalKeyFile::open_or_create(&path)
                    .with_context(|| format!("opening the key file {}", path.display()))?,
            )
        }
    };
    let admin = Admin::new(AdminParts {
        store: admin_store,
        consents,
        kek,
        csrf_key: crate::secrets::csrf_key(data_dir)?,
        gvl,
        tokens,
    })
    .await?;
    Ok(Arc::new(admin))
}
