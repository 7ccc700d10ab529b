//! The admin API under `/admin/api/v1`.
//!
//! Every route is declared once, in `admin_routes!` below, with the access
//! it needs, the body it reads, the answer it gives and the errors its
//! handler may answer; the router, the guard, the OpenAPI document
//! (`crate::routes::docs`) and the role-matrix test are all built from that
//! one table. A route cannot exist without a declared permission, and its
//! declaration cannot disagree with its handler: the table does not compile
//! unless each handler's types are what the table says (`signature`). The
//! domain calls behind the handlers check the same permission again.
//!
//! Authentication is a session cookie (`__Host-nexaguard_session`) or an
//! API token (`Authorization: Bearer ngt_...`). Cookie-authenticated
//! changes need the session's CSRF token in `X-CSRF-Token` and an `Origin`
//! equal to the server's own.

pub(crate) mod answer;
mod error;
pub(crate) mod extract;
pub(crate) mod guard;
mod handlers;
mod rules;
pub(crate) mod signature;
mod whole;

use crate::app::AppState;
use crate::ratelimit::Limiter;
use answer::{Created, Export, JsonLines, JsonLinesOrCsv, NoContent, SignedOut, WithSession};
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use handlers::{audit, consents, keys, mfa, session, sites, tenants, tokens, users, webhooks};
use nexaguard_access::Permission;
use nexaguard_admin::Admin;
use std::sync::Arc;

pub use guard::{CSRF_HEADER, SESSION_COOKIE};
pub use signature::Documentation;

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
    /// The statuses its handler answers besides success, from the
    /// administration service (a missing site, a conflict, a value it
    /// refuses). The guard's and the extractors' refusals are not listed:
    /// they follow from the access, the path, the query and the body.
    pub errors: &'static [u16],
    /// The success answer, the body and the query parameters, as the
    /// document describes them.
    pub doc: Documentation,
}

/// The one table of admin routes. Each line: method, path, access,
/// summary; the body it reads (a type for a required JSON body,
/// `Option<T>` for an optional one, `()` for none) `=>` the answer type
/// (`Json<T>` 200, `Created<T>` 201, `NoContent` 204, ...); the statuses
/// the handler's domain call may refuse with; and the handler.
macro_rules! admin_routes {
    ($( $method:ident $path:literal $access:expr, $summary:literal,
        $body:ty => $answer:ty, errors [$($error:literal),*] => $handler:path; )*) => {
        /// Every admin route with its declared access, answer and body.
        pub fn routes() -> Vec<Route> {
            vec![$(Route {
                method: Method::$method,
                path: $path,
                access: $access,
                summary: $summary,
                errors: &[$($error),*],
                doc: signature::documentation::<$answer, $body, _, _>(&$handler),
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
    POST "/session" Public, "Sign in with e-mail address and password",
        session::Credentials => WithSession<session::SignedIn>, errors [401] => session::login;
    GET "/session" SignedIn, "The signed-in user, the next step and the CSRF token",
        () => Json<session::Whoami>, errors [] => session::whoami;
    DELETE "/session" SignedIn, "Sign out",
        () => SignedOut, errors [] => session::logout;
    POST "/session/mfa" SignedIn, "Give the second factor (TOTP or recovery code)",
        session::Code => WithSession<session::SignedIn>, errors [401, 422, 429] => session::verify_mfa;
    POST "/mfa/enrolment" SignedIn, "Start TOTP enrolment",
        Option<mfa::EnrolmentRequest> => Json<mfa::EnrolmentOffer>, errors [401, 422, 429] => mfa::start_enrolment;
    POST "/mfa/enrolment/confirm" SignedIn, "Confirm TOTP enrolment; returns recovery codes",
        mfa::Confirmation => WithSession<mfa::Enrolled>, errors [401, 409, 422] => mfa::confirm_enrolment;
    POST "/password" SignedIn, "Change the password (ends every session)",
        session::PasswordChange => SignedOut, errors [401, 422, 429] => session::change_password;
    POST "/invitations/accept" Public, "Accept an invitation and set a password",
        users::Acceptance => Created<users::UserView>, errors [404, 409, 422] => users::accept_invitation;
    POST "/invitations" Access::Permission(ManageUsers), "Invite a user to the tenant",
        users::InvitationRequest => Created<users::InvitationView>, errors [409, 422] => users::invite;
    GET "/users" Access::Permission(ManageUsers), "The tenant's users",
        () => Json<Vec<users::UserView>>, errors [] => users::list_users;
    PUT "/users/{user}/role" Access::Permission(ManageUsers), "Change a user's role",
        users::RoleChange => NoContent, errors [404] => users::set_role;
    DELETE "/users/{user}" Access::Permission(ManageUsers), "Remove a user",
        () => NoContent, errors [404] => users::remove_user;
    GET "/tokens" Access::Permission(ManageTokens), "The tenant's API tokens",
        () => Json<Vec<tokens::TokenView>>, errors [] => tokens::list_tokens;
    POST "/tokens" Access::Permission(ManageTokens), "Create an API token (the secret is shown once)",
        tokens::TokenRequest => Created<tokens::NewTokenView>, errors [409, 422] => tokens::create_token;
    DELETE "/tokens/{token}" Access::Permission(ManageTokens), "Revoke an API token",
        () => NoContent, errors [404] => tokens::revoke_token;
    GET "/tenants" Access::Permission(ManageTenants), "Every tenant (operator)",
        () => Json<Vec<tenants::TenantView>>, errors [] => tenants::list_tenants;
    POST "/tenants" Access::Permission(ManageTenants), "Create a tenant and invite its owner (operator)",
        tenants::TenantRequest => Created<tenants::NewTenantView>, errors [422] => tenants::create_tenant;
    GET "/sites" Access::Permission(ViewSites), "The tenant's sites",
        () => Json<Vec<sites::SiteView>>, errors [] => sites::list_sites;
    POST "/sites" Access::Permission(EditSites), "Create a site",
        sites::SiteRequest => Created<sites::SiteView>, errors [422] => sites::create_site;
    GET "/sites/{site}" Access::Permission(ViewSites), "A site with its environments",
        () => Json<sites::SiteView>, errors [404] => sites::get_site;
    GET "/sites/{site}/draft" Access::Permission(ViewSites), "The configuration draft",
        () => Json<sites::DraftView>, errors [404] => sites::get_draft;
    PUT "/sites/{site}/draft" Access::Permission(EditSites), "Save the configuration draft",
        sites::DraftRequest => Json<sites::SavedDraft>, errors [404, 409, 422] => sites::save_draft;
    POST "/sites/{site}/draft/validate" Access::Permission(EditSites), "Validate a configuration and preview its vendor list",
        sites::ConfigToCheck => Json<nexaguard_admin::sites::Validation>, errors [404] => sites::validate_draft;
    POST "/sites/{site}/publish" Access::Permission(PublishStaging), "Publish the draft to staging",
        () => Created<sites::PublishedView>, errors [404, 409, 422] => sites::publish;
    GET "/sites/{site}/promotion" Access::Permission(ViewSites), "What promoting staging to production would change",
        () => Json<nexaguard_admin::sites::Promotion>, errors [404, 409] => sites::promotion_preview;
    POST "/sites/{site}/promotion" Access::Permission(PromoteProduction), "Promote staging to production",
        () => Created<nexaguard_admin::sites::Promotion>, errors [404, 409] => sites::promote;
    GET "/sites/{site}/consents" Access::Permission(ViewConsents), "Search consent records",
        () => Json<Vec<nexaguard_admin::consents::ConsentRecord>>, errors [404, 422] => consents::search_consents;
    GET "/sites/{site}/consents/export" Access::Permission(ExportConsents), "Export consent records (CSV or JSON Lines, streamed)",
        () => Export<JsonLinesOrCsv>, errors [404, 422] => consents::export_consents;
    GET "/sites/{site}/stats" Access::Permission(ViewConsents), "Opt-in statistics",
        () => Json<nexaguard_admin::consents::ConsentStats>, errors [404, 422] => consents::stats;
    GET "/sites/{site}/webhooks" Access::Permission(ManageWebhooks), "The site's webhooks",
        () => Json<Vec<webhooks::WebhookView>>, errors [404] => webhooks::list_webhooks;
    POST "/sites/{site}/webhooks" Access::Permission(ManageWebhooks), "Create a webhook (the signing secret is shown once)",
        webhooks::WebhookRequest => Created<webhooks::NewWebhookView>, errors [404, 409, 422] => webhooks::create_webhook;
    GET "/sites/{site}/webhooks/{webhook}" Access::Permission(ManageWebhooks), "A webhook",
        () => Json<webhooks::WebhookView>, errors [404] => webhooks::get_webhook;
    PATCH "/sites/{site}/webhooks/{webhook}" Access::Permission(ManageWebhooks), "Change a webhook's URL or state, or rotate its secret",
        webhooks::WebhookPatch => Json<webhooks::UpdatedWebhookView>, errors [404, 422] => webhooks::update_webhook;
    DELETE "/sites/{site}/webhooks/{webhook}" Access::Permission(ManageWebhooks), "Delete a webhook and its deliveries",
        () => NoContent, errors [404] => webhooks::delete_webhook;
    GET "/sites/{site}/webhooks/{webhook}/deliveries" Access::Permission(ManageWebhooks), "A webhook's deliveries, newest first",
        () => Json<Vec<webhooks::DeliveryView>>, errors [404, 422] => webhooks::list_deliveries;
    POST "/sites/{site}/webhooks/{webhook}/deliveries/{delivery}/retry" Access::Permission(ManageWebhooks), "Send a dead delivery again",
        () => Json<webhooks::DeliveryView>, errors [404] => webhooks::retry_delivery;
    GET "/audit" Access::Permission(ViewAudit), "Read the audit log",
        () => Json<Vec<nexaguard_audit::AuditEntry>>, errors [] => audit::read_audit;
    GET "/audit/export" Access::Permission(ExportAudit), "Export the audit log (JSON Lines)",
        () => Export<JsonLines>, errors [] => audit::export_audit;
    GET "/audit/verify" Access::Permission(ViewAudit), "Verify the audit chain and its checkpoints",
        () => Json<audit::ChainVerification>, errors [] => audit::verify_audit;
    POST "/keys/rotate" Access::Permission(RotateKeys), "Rotate the key-encryption key (operator)",
        () => Json<nexaguard_admin::keys::RotationReport>, errors [] => keys::rotate_keys;
}

/// The admin router, each route behind its guard. A method a path does not
/// have is answered `405` in the error shape, with `Allow` (see
/// [`method_not_allowed`]).
pub fn router(state: &AppState) -> Router<AppState> {
    let mut paths: std::collections::BTreeMap<&'static str, MethodRouter<AppState>> =
        std::collections::BTreeMap::new();
    for (route, handler) in routes().into_iter().zip(handlers()) {
        let guarded = handler.route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), route.access),
            guard::guard,
        ));
        let methods = match paths.remove(route.path) {
            Some(methods) => methods.merge(guarded),
            None => guarded,
        };
        paths.insert(route.path, methods);
    }
    paths
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(
                &format!("{PREFIX}{path}"),
                methods.fallback(method_not_allowed),
            )
        })
}

/// `405` for a method the path does not have (axum adds `Allow`; the edge
/// reads the body away, `crate::body`).
async fn method_not_allowed() -> error::MethodNotAllowed {
    error::MethodNotAllowed
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
