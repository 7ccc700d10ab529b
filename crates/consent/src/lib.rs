//! # nexaguard-consent
//!
//! The consent domain of NexaGuard, without I/O:
//!
//! - [`config`]: a site's published configuration and its validation;
//! - [`event`]: the consent event schema (what a browser posts, what is
//!   recorded) and the receipt;
//! - [`check`]: whether a posted event may be recorded for a site;
//! - [`token`]: pseudonymous consent tokens and their keyed hashes;
//! - [`context`]: the coarse context kept instead of personal data;
//! - [`region`]: a visitor's region (country, subdivision), nothing finer;
//! - [`regions`]: the regional rules, which experience a region gets, the
//!   shipped region groups and the notice version;
//! - [`theme`]: the banner's colours with readable text;
//! - [`ui_strings`]: the banner's built-in texts per language.
//!
//! The HTTP server and the stores build on these types; nothing here knows
//! about either.

pub mod check;
pub mod config;
pub mod context;
pub mod environment;
pub mod event;
pub mod region;
pub mod regions;
pub mod theme;
pub mod token;
pub mod ui_strings;

pub use environment::Environment;
