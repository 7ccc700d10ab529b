//! HTTP handlers. Each is thin: it reads the request, calls domain code
//! (nexaguard-consent) and the store, and shapes the answer.

pub mod assets;
pub mod config;
pub mod consents;
pub mod docs;
pub mod health;
