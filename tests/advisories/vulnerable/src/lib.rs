//! Empty: the crate exists for its lockfile (see Cargo.toml).
