//! # nexaguard-server
//!
//! The HTTPS server behind `nexaguard serve`: the public consent API
//! (`/v1/...`), health, the SDK and the demo page, and metrics on a
//! listener of their own.
//!
//! - [`settings`]: flags, environment and config file, and the server's
//!   own public origins;
//! - [`tls`] and [`serve`]: rustls, certificates, graceful shutdown;
//! - [`app`]: shared state and the router; handlers live in `routes`;
//! - `console`: the web admin console under `/admin` and the public
//!   debug tool at `/debug`, server-rendered pages over the admin service;
//! - [`region`]: where a visitor is, from trusted headers and an optional
//!   MaxMind DB file;
//! - [`metrics`]: the Prometheus recorder and the metrics listener;
//! - [`webhooks`]: the webhook delivery worker;
//! - [`run`]: start-up and shutdown of the whole server.

pub mod admin;
pub mod app;
mod body;
mod console;
pub mod database;
pub mod demo;
pub mod error;
mod extract;
pub mod gvl_source;
mod headers;
pub mod metrics;
pub mod precompressed;
pub mod ratelimit;
pub mod region;
pub mod registry;
mod routes;
pub mod run;
pub mod secrets;
pub mod serve;
pub mod settings;
pub mod tls;
pub mod webhooks;

pub use routes::docs::ApiDoc;
