//! What an audit entry records: the action, the actor, the outcome, and the
//! chain it belongs to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A text form that is not a known action, actor, outcome or chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {value:?}")]
pub struct ParseError {
    /// What was being parsed (`"action"`, `"actor"`, ...).
    pub kind: &'static str,
    /// The text refused, cut to 64 characters.
    pub value: String,
}

impl ParseError {
    fn new(kind: &'static str, value: &str) -> ParseError {
        ParseError {
            kind,
            value: value.chars().take(64).collect(),
        }
    }
}

/// Serialises a type as its text form, so JSON exports read like the
/// database columns.
macro_rules! text_serde {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

macro_rules! actions {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        /// What happened.
        ///
        /// Each action has a stable dotted name ([`Action::as_str`]), used in
        /// the database, in exports, by `FromStr` and by serde. The names are
        /// part of the hashed encoding: never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The stable dotted name, e.g. `"auth.login"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }
        }

        impl FromStr for Action {
            type Err = ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Action::$variant),)*
                    _ => Err(ParseError::new("action", s)),
                }
            }
        }
    };
}

actions! {
    /// A user signed in.
    LoginSucceeded => "auth.login",
    /// A sign-in attempt failed.
    LoginFailed => "auth.login_failed",
    /// An account was locked after repeated failures.
    Lockout => "auth.lockout",
    /// A user signed out.
    Logout => "auth.logout",
    /// A user enrolled a second factor.
    MfaEnrolled => "mfa.enrol",
    /// A user replaced the second factor they had (new secret, new
    /// recovery codes, every other session ended).
    MfaReset => "mfa.reset",
    /// A second factor was verified.
    MfaVerified => "mfa.verify",
    /// A second-factor check failed.
    MfaFailed => "mfa.failed",
    /// A recovery code was spent.
    RecoveryCodeUsed => "mfa.recovery_used",
    /// A session was revoked.
    SessionRevoked => "session.revoke",
    /// A user's password changed.
    PasswordChanged => "user.password_change",
    /// A password change gave a wrong current password.
    PasswordChangeFailed => "user.password_change_failed",
    /// A user was created.
    UserCreated => "user.create",
    /// A user's role changed.
    UserRoleChanged => "user.role_change",
    /// A user was removed.
    UserRemoved => "user.remove",
    /// An invitation was created.
    InvitationCreated => "invitation.create",
    /// An invitation was accepted.
    InvitationAccepted => "invitation.accept",
    /// An API token was created.
    TokenCreated => "token.create",
    /// An API token was revoked.
    TokenRevoked => "token.revoke",
    /// A tenant was created.
    TenantCreated => "tenant.create",
    /// A site was created.
    SiteCreated => "site.create",
    /// A configuration draft was saved.
    DraftSaved => "config.draft_save",
    /// A configuration was published.
    Published => "config.publish",
    /// A configuration was promoted to another environment.
    Promoted => "config.promote",
    /// Consent records were exported.
    ConsentsExported => "consents.export",
    /// The audit log was exported.
    AuditExported => "audit.export",
    /// Encryption keys were rotated.
    KeysRotated => "keys.rotate",
    /// The server started.
    ServerStarted => "server.start",
    /// The server stopped.
    ServerStopped => "server.stop",
    /// The server loaded its configuration.
    ConfigLoaded => "server.config_load",
    /// A request was refused for lack of permission.
    AccessDenied => "access.denied",
    /// A webhook was created.
    WebhookCreated => "webhook.create",
    /// A webhook was changed (URL, enabled, secret).
    WebhookUpdated => "webhook.update",
    /// A webhook was deleted with its deliveries.
    WebhookDeleted => "webhook.delete",
    /// A dead webhook delivery was sent again.
    WebhookRedelivered => "webhook.redeliver",
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

text_serde!(Action);

/// Who did it. Text form: `"user:{uuid}"`, `"token:{uuid}"` or `"system"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A signed-in user.
    User(Uuid),
    /// An API token.
    Token(Uuid),
    /// The server itself (start-up, scheduled work, ...).
    System,
}

impl Actor {
    /// The text form, with the UUID hyphenated and lowercase.
    pub fn to_text(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::Token(id) => format!("token:{id}"),
            Actor::System => "system".to_owned(),
        }
    }

    /// Parses the text form made by [`Actor::to_text`].
    pub fn parse(text: &str) -> Result<Actor, ParseError> {
        let error = || ParseError::new("actor", text);
        if text == "system" {
            return Ok(Actor::System);
        }
        let (kind, id) = text.split_once(':').ok_or_else(error)?;
        let id = Uuid::parse_str(id).map_err(|_| error())?;
        match kind {
            "user" => Ok(Actor::User(id)),
            "token" => Ok(Actor::Token(id)),
            _ => Err(error()),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl FromStr for Actor {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Actor::parse(s)
    }
}

text_serde!(Actor);

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It was done.
    Success,
    /// It was attempted and failed (e.g. a wrong password).
    Failure,
    /// It was refused for lack of permission.
    Denied,
}

impl Outcome {
    /// `"success"`, `"failure"` or `"denied"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "success" => Ok(Outcome::Success),
            "failure" => Ok(Outcome::Failure),
            "denied" => Ok(Outcome::Denied),
            _ => Err(ParseError::new("outcome", s)),
        }
    }
}

text_serde!(Outcome);

/// The chain an entry belongs to: one per tenant, plus the platform's own for
/// installation-wide events. Text form: `"platform"` or the tenant's UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChainId {
    /// Installation-wide events (server start, tenant creation, ...).
    Platform,
    /// One tenant's events.
    Tenant(Uuid),
}

impl ChainId {
    /// `"platform"`, or the tenant's UUID hyphenated and lowercase.
    pub fn to_text(&self) -> String {
        match self {
            ChainId::Platform => "platform".to_owned(),
            ChainId::Tenant(id) => id.to_string(),
        }
    }

    /// Parses the text form made by [`ChainId::to_text`].
    pub fn parse(text: &str) -> Result<ChainId, ParseError> {
        if text == "platform" {
            return Ok(ChainId::Platform);
        }
        Uuid::parse_str(text)
            .map(ChainId::Tenant)
            .map_err(|_| ParseError::new("chain", text))
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl FromStr for ChainId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChainId::parse(s)
    }
}

text_serde!(ChainId);

/// An event to append: what the caller knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEvent {
    /// What happened.
    #[schema(value_type = String, example = "site.created")]
    pub action: Action,
    /// Who did it.
    #[schema(value_type = String, example = "user:6f9619ff-8b86-d011-b42d-00c04fc964ff")]
    pub actor: Actor,
    /// What it was done to, e.g. `"user:{uuid}"` or `"site:{uuid}"`.
    pub target: String,
    /// How it ended.
    #[schema(value_type = String, example = "success")]
    pub outcome: Outcome,
    /// The client's coarse network (e.g. a /24 prefix), when known. Never a
    /// full address: the log outlives retention periods.
    pub client_network: Option<String>,
    /// Further facts as a JSON object. Never personal data, for the same
    /// reason; prefer strings, integers and booleans (see the crate docs on
    /// numbers).
    pub details: serde_json::Value,
}

impl AuditEvent {
    /// An event without client network and with empty details.
    pub fn new(action: Action, actor: Actor, target: impl Into<String>, outcome: Outcome) -> Self {
        AuditEvent {
            action,
            actor,
            target: target.into(),
            outcome,
            client_network: None,
            details: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// Sets the client network.
    pub fn with_client_network(mut self, network: impl Into<String>) -> Self {
        self.client_network = Some(network.into());
        self
    }

    /// Sets the details.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::HashSet;

    use super::*;

    #[test]
    fn action_names_round_trip() {
        for action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>().unwrap(), *action);
            assert_eq!(action.to_string(), action.as_str());
            let json = serde_json::to_string(action).unwrap();
            assert_eq!(json, format!("\"{}\"", action.as_str()));
            assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), *action);
        }
    }

    #[test]
    fn action_names_are_unique_and_dotted() {
        let names: HashSet<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), Action::ALL.len());
        assert_eq!(Action::ALL.len(), 35);
        for name in names {
            let (area, what) = name.split_once('.').unwrap();
            assert!(!area.is_empty() && !what.is_empty(), "{name}");
            assert!(name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'));
        }
    }

    #[test]
    fn some_action_names_are_as_documented() {
        assert_eq!(Action::LoginSucceeded.as_str(), "auth.login");
        assert_eq!(Action::RecoveryCodeUsed.as_str(), "mfa.recovery_used");
        assert_eq!(Action::ConfigLoaded.as_str(), "server.config_load");
        assert_eq!(Action::AccessDenied.as_str(), "access.denied");
        assert_eq!(Action::MfaReset.as_str(), "mfa.reset");
    }

    #[test]
    fn unknown_action_is_refused() {
        let err = "auth.Login".parse::<Action>().unwrap_err();
        assert_eq!(err.kind, "action");
        assert!(serde_json::from_str::<Action>("\"nope\"").is_err());
    }

    #[test]
    fn actor_text_round_trips() {
        let id = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        for actor in [Actor::User(id), Actor::Token(id), Actor::System] {
            assert_eq!(Actor::parse(&actor.to_text()).unwrap(), actor);
        }
        assert_eq!(
            Actor::User(id).to_text(),
            "user:01234567-89ab-cdef-0123-456789abcdef"
        );
        assert_eq!(Actor::System.to_text(), "system");
        for bad in [
            "",
            "user",
            "user:",
            "user:xyz",
            "admin:01234567-89ab-cdef-0123-456789abcdef",
            "System",
        ] {
            assert!(Actor::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn outcome_and_chain_text_round_trip() {
        for outcome in [Outcome::Success, Outcome::Failure, Outcome::Denied] {
            assert_eq!(outcome.as_str().parse::<Outcome>().unwrap(), outcome);
        }
        assert!("ok".parse::<Outcome>().is_err());
        let tenant = ChainId::Tenant(Uuid::from_u128(7));
        assert_eq!(ChainId::parse(&tenant.to_text()).unwrap(), tenant);
        assert_eq!(ChainId::parse("platform").unwrap(), ChainId::Platform);
        assert_eq!(tenant.to_text(), "00000000-0000-0000-0000-000000000007");
        assert!(ChainId::parse("Platform").is_err());
    }

    #[test]
    fn event_serialises_with_text_forms() {
        let event = AuditEvent::new(Action::Published, Actor::System, "site:1", Outcome::Success)
            .with_client_network("192.0.2.0/24")
            .with_details(serde_json::json!({"version": 3}));
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["action"], "config.publish");
        assert_eq!(json["actor"], "system");
        assert_eq!(json["outcome"], "success");
        assert_eq!(json["client_network"], "192.0.2.0/24");
        let back: AuditEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
