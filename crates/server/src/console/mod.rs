//! The web admin console under `/admin`, and the public debug tool at
//! `/debug`: pages rendered on the server (maud), styled and scripted only
//! by this server's own files, so the strict HTML Content-Security-Policy
//! (no inline script or style) holds on every page.
//!
//! Every action goes through the same admin service, and so the same
//! permission checks, as the admin API.

mod assets;
mod audit;
mod auth;
mod dashboard;
mod debug;
mod editor;
mod home;
mod invitations;
mod keys;
mod layout;
mod picker;
mod preview;
mod qr;
mod regions;
mod session;
mod sites;
mod tenants;
mod tokens;
mod users;

use crate::app::AppState;
use axum::routing::get;
use axum::Router;

pub use debug::limiter as debug_limiter;

/// The console's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/", get(home::home))
        .route("/admin/assets/console.css", get(assets::stylesheet))
        .route("/admin/assets/console.js", get(assets::script))
        .merge(auth::router())
        .merge(sites::router())
        .merge(editor::router())
        .merge(preview::router())
        .merge(debug::router())
        .merge(dashboard::router())
        .merge(audit::router())
        .merge(users::router())
        .merge(invitations::router())
        .merge(tokens::router())
        .merge(keys::router())
        .merge(tenants::router())
}
