//! The debug tool at `/debug`: a TC string or an AC string in, its decoded
//! fields, policy findings, Consent Mode values and `IABTCF_*` keys out.
//! Public, and it stores nothing.

use super::layout;
use crate::app::AppState;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

/// The debug tool's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/debug", get(form))
}

/// `GET /debug`: the empty form.
async fn form() -> Markup {
    layout::page(
        "Debug tool",
        html! {
            h1 { "Debug tool" }
        },
    )
}
