//! Production and staging: each site has both, kept apart everywhere.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One of a site's two environments.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// The live site.
    Production,
    /// A test copy of the site; its consents never mix with production's.
    Staging,
}

impl Environment {
    /// Both environments, production first.
    pub const ALL: [Environment; 2] = [Environment::Production, Environment::Staging];

    /// The name used in JSON, the database and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was neither `production` nor `staging`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown environment {0:?}: expected production or staging")]
pub struct UnknownEnvironment(pub String);

impl FromStr for Environment {
    type Err = UnknownEnvironment;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "production" => Ok(Environment::Production),
            "staging" => Ok(Environment::Staging),
            other => Err(UnknownEnvironment(other.to_owned())),
        }
    }
}
