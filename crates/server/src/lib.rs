//! # nexaguard-server
//!
//! The HTTPS server behind `nexaguard serve`: the public consent API
//! (`/v1/...`), the admin API and console, health, the SDK and the demo
//! page, and metrics on a listener of their own.
//!
//! Start-up and configuration:
//! - [`run`]: start-up and shutdown of the whole server;
//! - [`settings`]: flags, environment and config file, and the server's
//!   own public origins;
//! - [`database`]: which store the server opens (SQLite or PostgreSQL);
//! - [`secrets`]: the keys generated into the data directory at first start;
//! - [`gvl_source`]: where the Global Vendor List comes from;
//! - [`demo`]: the demo tenant, site and owner of `serve --demo`;
//! - [`tls`] and [`serve`]: rustls, certificates (generation, renewal,
//!   reload), graceful shutdown.
//!
//! Serving:
//! - [`app`]: shared state, the router and the middleware every request
//!   goes through; the public handlers live in `routes`;
//! - [`admin`]: the admin API, driven by its one route table;
//! - `console`: the web admin console under `/admin` and the public
//!   debug tool at `/debug`, server-rendered pages over the admin service;
//! - [`registry`]: the sites answered for, with their prebuilt answers;
//! - [`region`]: where a visitor is, from trusted headers and an optional
//!   MaxMind DB file;
//! - [`ratelimit`]: per-network rate limits, shared across nodes on
//!   PostgreSQL;
//! - `body`, `extract`, [`error`]: request bodies, extractors and the one
//!   error shape of every answer; `headers`: security headers, CORS and
//!   the host check; [`precompressed`]: answers compressed once;
//! - [`metrics`]: the Prometheus recorder and the metrics listener;
//! - [`webhooks`]: the webhook delivery worker.

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
