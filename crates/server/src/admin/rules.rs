//! The administration service's rules for request values, written as JSON
//! Schema for the OpenAPI document: names, e-mail addresses, origins,
//! passwords, codes, and integers as wide as the server reads them.
//!
//! Invariant: a value matches its schema exactly when the administration
//! service accepts it (the tests below compare the patterns with the
//! service's own checks), so a client that follows the document is never
//! refused a value, and one that does not is. Where JSON Schema cannot say
//! the rule exactly (a length in bytes, a URL's resolved address) the
//! schema says the character form and its description the rest.

use nexaguard_access::{Permission, Role};
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder,
    Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Object, RefOr};

/// The characters Rust's `char::is_whitespace` (and so `str::trim`) takes
/// as white space, as a regular expression class body.
const SPACE: &str = r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// Control characters (`char::is_control`), as a class body.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// What an e-mail address may not contain: white space, control
/// characters, and the characters that would let it break out of where it
/// is shown (`nexaguard_admin::users::check_email`), as a class body.
const NOT_IN_EMAIL: &str =
    r#"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"<>\\(),;@"#;

fn string(pattern: String, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
}

fn nullable(object: ObjectBuilder) -> Object {
    object
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .build()
}

/// A display name of at most `max` characters once trimmed, not blank,
/// without control characters inside (`nexaguard_admin::tenants::check_name`).
fn name_pattern(max: usize) -> String {
    let inner = max.saturating_sub(2);
    format!(
        "^[{SPACE}]*[^{SPACE}{CONTROL}](?:[^{CONTROL}]{{0,{inner}}}[^{SPACE}{CONTROL}])?[{SPACE}]*$"
    )
}

/// A tenant's or a site's name: 1 to 200 characters once trimmed, no
/// control characters.
pub fn display_name() -> Object {
    string(
        name_pattern(200),
        "1 to 200 characters once surrounding white space is trimmed; no control characters.",
    )
    .build()
}

/// An API token's name: 1 to 100 characters once trimmed.
fn token_name_pattern() -> String {
    format!("^[{SPACE}]*[^{SPACE}](?:[\\s\\S]{{0,98}}[^{SPACE}])?[{SPACE}]*$")
}

/// An API token's name.
pub fn token_name() -> Object {
    string(
        token_name_pattern(),
        "A name for people: 1 to 100 characters once surrounding white space is trimmed.",
    )
    .build()
}

fn email_pattern() -> String {
    let char = format!("[^{NOT_IN_EMAIL}]");
    let edge = format!("[^{NOT_IN_EMAIL}.]");
    format!("^[{SPACE}]*{char}+@{edge}{char}*\\.{char}*{edge}[{SPACE}]*$")
}

const EMAIL: &str = "An e-mail address: one `@`, a dot inside the domain, no white space, control \
     characters or any of `\"<>\\(),;`, at most 254 bytes once trimmed.";

fn email_builder() -> ObjectBuilder {
    string(email_pattern(), EMAIL).max_length(Some(254))
}

/// An e-mail address.
pub fn email() -> Object {
    email_builder().build()
}

/// An e-mail address, or `null` (or absent) for none.
pub fn optional_email() -> Object {
    nullable(email_builder())
}

fn origin_pattern() -> String {
    r"^(?:https://[A-Za-z0-9.-]+|http://(?:localhost|127\.0\.0\.1))(?::[0-9]{1,5})?$".to_owned()
}

/// A site's origins: at most 50, each `https://host[:port]` (or
/// `http://localhost` for development). The service also accepts an IPv6
/// address in brackets as the host, which the pattern leaves out.
pub fn origins() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            string(
                origin_pattern(),
                "An origin: `https://`, a host name or IPv4 address and an optional port (at \
                 most 253 characters after `https://`; an IPv6 address in brackets is accepted \
                 too), or `http://localhost` or `http://127.0.0.1` with an optional port.",
            )
            .max_length(Some(261)),
        )
        .max_items(Some(50))
        .description(Some("The origins allowed to post consents; at most 50."))
}

/// The roles a token may have: every role but owner and platform
/// operator (neither can give a second factor through a token).
fn token_roles() -> impl Iterator<Item = Role> {
    Role::ALL
        .into_iter()
        .filter(|role| !matches!(role, Role::Owner | Role::PlatformOperator))
}

/// The step-up scopes a token of `role` may be made with: the step-up
/// permissions its role carries.
fn token_scopes(role: Role) -> Vec<Permission> {
    Permission::STEP_UP
        .into_iter()
        .filter(|scope| role.allows(*scope))
        .collect()
}

fn names<T: Copy>(values: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    values.iter().map(|value| name(*value)).collect()
}

/// An API token to make, with what `nexaguard_admin::Admin::create_token`
/// checks of it: the name, the role (never owner), the days, and step-up
/// scopes among those its role carries, one alternative per set of roles
/// with the same scopes. Derived from the role table, so it cannot
/// drift from it.
pub fn token_request() -> RefOr<Schema> {
    let roles: Vec<Role> = token_roles().collect();
    let fields = ObjectBuilder::new()
        .property("name", token_name())
        .property(
            "role",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names(&roles, Role::as_str)))
                .description(Some(
                    "The role it acts with: at most the caller's, never owner or platform operator.",
                )),
        )
        .property("expiresInDays", token_days())
        .property(
            "stepUpScopes",
            ArrayBuilder::new()
                .items(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(names(&Permission::STEP_UP, Permission::as_str))),
                )
                .description(Some(
                    "Step-up permissions of its role the token may use (those a session gives \
                     its second factor again for); none by default.",
                )),
        )
        .required("name")
        .required("role")
        .required("expiresInDays")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    // Roles with the same step-up scopes share one alternative.
    let mut by_scopes: Vec<(Vec<Permission>, Vec<Role>)> = Vec::new();
    for role in roles {
        let scopes = token_scopes(role);
        match by_scopes.iter_mut().find(|(held, _)| *held == scopes) {
            Some((_, roles)) => roles.push(role),
            None => by_scopes.push((scopes, vec![role])),
        }
    }
    let mut alternatives = OneOfBuilder::new();
    for (scopes, roles) in by_scopes {
        let mut items = ArrayBuilder::new();
        if scopes.is_empty() {
            items = items.max_items(Some(0));
        } else {
            items = items.items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(names(&scopes, Permission::as_str))),
            );
        }
        alternatives = alternatives.item(
            ObjectBuilder::new()
                .property(
                    "role",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(names(&roles, Role::as_str))),
                )
                .property("stepUpScopes", items),
        );
    }
    AllOfBuilder::new()
        .item(fields)
        .item(alternatives)
        .description(Some("An API token to make."))
        .into()
}

/// A new password: 12 characters or more, at most 1024 bytes.
pub fn new_password() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(12))
        .max_length(Some(1024))
        .description(Some(
            "12 characters or more, at most 1024 bytes in UTF-8 (length is the only rule).",
        ))
        .build()
}

fn totp_pattern() -> String {
    format!(
        "^[{SPACE}]*(?:[0-9]{{6}}|[0-9] [0-9]{{5}}|[0-9]{{2}} [0-9]{{4}}|[0-9]{{3}} [0-9]{{3}}|\
         [0-9]{{4}} [0-9]{{2}}|[0-9]{{5}} [0-9])[{SPACE}]*$"
    )
}

/// The current TOTP code of the authenticator being enrolled.
pub fn totp_code() -> Object {
    string(
        totp_pattern(),
        "The authenticator's current code: six digits (one space inside allowed).",
    )
    .build()
}

/// Webhook URLs the schema admits: `https://`, a DNS name whose last label
/// is 2 to 8 letters (so neither `localhost` nor an address), a port, a
/// path and a query of characters the URL parser keeps as they are. The
/// service accepts more (`nexaguard_admin::webhooks::check_url`: any URL it
/// can parse with a public host); none of these does it refuse. With a
/// path or without one: the parser adds a `/` to a URL without, which
/// counts towards the service's length limit.
fn webhook_url_pattern(with_path: bool) -> String {
    let label = "[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*";
    let port =
        "(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";
    let char = "[A-Za-z0-9._~!$&()*+,;=:@%/-]";
    let path = if with_path {
        format!("/{char}*")
    } else {
        String::new()
    };
    format!("^https://(?:{label}\\.)+[A-Za-z]{{2,8}}(?::{port})?{path}(?:\\?(?:{char}|\\?)*)?$")
}

const WEBHOOK_URL: &str = "An `https://` URL with a public DNS name (the server refuses this \
     machine's names and private, local or reserved addresses, also when it delivers), at most \
     2048 bytes once a path is added.";

fn webhook_url_alternatives() -> [ObjectBuilder; 2] {
    let max = nexaguard_admin::webhooks::MAX_URL_LEN;
    [
        string(webhook_url_pattern(true), WEBHOOK_URL).max_length(Some(max)),
        string(webhook_url_pattern(false), WEBHOOK_URL).max_length(Some(max.saturating_sub(1))),
    ]
}

/// A webhook's URL.
pub fn webhook_url() -> RefOr<Schema> {
    let [with_path, without] = webhook_url_alternatives();
    OneOfBuilder::new()
        .item(with_path)
        .item(without)
        .description(Some(WEBHOOK_URL))
        .into()
}

/// A webhook's new URL, or `null` (or absent) to keep it.
pub fn optional_webhook_url() -> RefOr<Schema> {
    let [with_path, without] = webhook_url_alternatives();
    OneOfBuilder::new()
        .item(with_path)
        .item(without)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(WEBHOOK_URL))
        .into()
}

/// An integer the server reads as `u32`: 0 to 4294967295. (A `u32`'s
/// derived schema says `int32`, whose range ends at 2147483647.)
fn u32_builder() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .maximum(Some(u32::MAX))
}

/// A draft's revision.
pub fn revision() -> Object {
    u32_builder()
        .description(Some(
            "The revision the editor loaded (0: none yet); someone else's save since is a conflict.",
        ))
        .build()
}

/// A `limit` query parameter taken as the nearest allowed value.
pub fn clamped_limit() -> Object {
    u32_builder()
        .description(Some(
            "At most this many; values outside what the route allows are taken as the nearest.",
        ))
        .build()
}

/// The audit log's `after`: a position in the chain, read as `u64`.
pub fn after() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(u64::MAX))
        .description(Some(
            "Entries after this position in the chain; 0 (the start) by default.",
        ))
        .build()
}

/// Days an API token lives: 1 to 365.
pub fn token_days() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(1))
        .maximum(Some(nexaguard_admin::tokens::MAX_TOKEN_DAYS))
        .description(Some(
            "Days until it stops working, 1 to 365 (and, made by a token, no longer than that \
             token lives).",
        ))
        .build()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use rand::{Rng, SeedableRng};

    fn compiled(pattern: &str) -> regex::Regex {
        regex::Regex::new(pattern).unwrap()
    }

    /// Strings close to the rules' edges: the characters each rule names,
    /// white space of every kind, controls, and ordinary text.
    fn samples(seed: u64, length: std::ops::Range<usize>) -> Vec<String> {
        let alphabet: Vec<char> =
            "aZ09.-:@[]/ \t\n\r\u{85}\u{a0}\u{2003}\u{3000}\u{1}\u{7f}\u{9f}\"<>\\(),;éß\u{feff}x"
                .chars()
                .collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..20_000)
            .map(|_| {
                let len = rng.random_range(length.clone());
                (0..len)
                    .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn display_names_match_exactly_what_the_service_accepts() {
        let pattern = compiled(&name_pattern(200));
        let mut texts = samples(1, 0..8);
        texts.extend([
            "Shop".to_owned(),
            " Shop ".to_owned(),
            "\tShop\n".to_owned(),
            "Sh\top".to_owned(),
            "x".repeat(200),
            "x".repeat(201),
            format!("  {}  ", "x".repeat(200)),
            format!("x{}x", " ".repeat(198)),
            format!("x{}x", " ".repeat(199)),
            String::new(),
            "   ".to_owned(),
        ]);
        for text in texts {
            assert_eq!(
                pattern.is_match(&text),
                nexaguard_admin::tenants::check_name(&text, 200).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn token_names_match_exactly_what_the_service_accepts() {
        let pattern = compiled(&token_name_pattern());
        let mut texts = samples(2, 0..8);
        texts.extend([
            "x".repeat(100),
            "x".repeat(101),
            format!(" {} ", "y".repeat(100)),
        ]);
        for text in texts {
            let trimmed = text.trim();
            let accepted = !trimmed.is_empty() && trimmed.chars().count() <= 100;
            assert_eq!(pattern.is_match(&text), accepted, "{text:?}");
        }
    }

    #[test]
    fn email_addresses_match_exactly_what_the_service_accepts() {
        let pattern = compiled(&email_pattern());
        let mut texts = samples(3, 3..10);
        texts.extend(
            [
                "a@b.c",
                " a@b.c\t",
                "a@b..c",
                "a@.b.c",
                "a@b.c.",
                "a@b",
                "@b.c",
                "a@b@c.d",
                "a b@c.d",
                "New.Person@Acme.Example",
                "a<b@c.d",
                "é@ß.de",
            ]
            .map(str::to_owned),
        );
        for text in texts {
            // The byte limit is the one rule the pattern leaves to maxLength.
            if text.trim().len() > 254 {
                continue;
            }
            assert_eq!(
                pattern.is_match(&text),
                nexaguard_admin::users::check_email(&text).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn origins_match_what_the_service_accepts_but_ipv6_literals() {
        let pattern = compiled(&origin_pattern());
        let mut texts: Vec<String> = samples(4, 0..6)
            .into_iter()
            .flat_map(|rest| {
                [
                    format!("https://{rest}"),
                    format!("http://{rest}"),
                    format!("http://localhost{rest}"),
                    format!("http://127.0.0.1{rest}"),
                    format!("https://a:{rest}"),
                    rest,
                ]
            })
            .collect();
        texts.extend(
            [
                "https://www.example.com",
                "https://www.example.com:8443",
                "https://a:123456",
                "https://a:",
                "https://[::1]:8443",
                "https://[:]",
                "https://[",
                "http://localhost:3000",
                "http://localhostx",
                "http://localhost:x",
                "http://127.0.0.1",
                "http://example.com",
                "https://",
                "https://a/b",
            ]
            .map(str::to_owned),
        );
        texts.push(format!("https://{}", "a".repeat(253)));
        texts.push(format!("https://{}", "a".repeat(254)));
        texts.push(format!("https://{}:1", "a".repeat(251)));
        texts.push(format!("https://{}:1", "a".repeat(252)));
        for text in texts {
            let accepted =
                nexaguard_admin::sites::check_origins(std::slice::from_ref(&text)).is_ok();
            let admitted = pattern.is_match(&text) && text.chars().count() <= 261;
            let ipv6 = text.starts_with("https://[");
            assert_eq!(admitted, accepted && !ipv6, "{text:?}");
        }
        assert!(nexaguard_admin::sites::check_origins(&["https://[::1]:8443".to_owned()]).is_ok());
    }

    #[test]
    fn every_webhook_url_the_schema_admits_the_service_accepts() {
        let with_path = compiled(&webhook_url_pattern(true));
        let without = compiled(&webhook_url_pattern(false));
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut pick = |chars: &str, len: std::ops::Range<usize>| -> String {
            let chars: Vec<char> = chars.chars().collect();
            let len = rng.random_range(len);
            (0..len)
                .map(|_| chars[rng.random_range(0..chars.len())])
                .collect()
        };
        let mut admitted = 0;
        for _ in 0..20_000 {
            let url = format!(
                "https://{}-{}.{}{}{}{}",
                pick("aZ09", 1..4),
                pick("aZ09", 1..4),
                pick("aZ", 1..10),
                pick(":16", 0..7),
                pick("/", 0..2),
                pick("aZ09._~!$&()*+,;=:@%/-?#", 0..8),
            );
            assert!(
                !(with_path.is_match(&url) && without.is_match(&url)),
                "{url:?}"
            );
            if with_path.is_match(&url) || without.is_match(&url) {
                admitted += 1;
                assert!(
                    nexaguard_admin::webhooks::check_url(&url, false).is_ok(),
                    "{url:?}"
                );
            }
        }
        assert!(admitted > 1000, "only {admitted} URLs admitted");
        for refused in [
            "https://localhost/x",
            "https://a.localhost/x",
            "https://127.0.0.1/x",
            "https://[::1]/x",
            "http://example.com/x",
            "https://user@example.com/x",
            "https://example.com/#x",
        ] {
            assert!(!with_path.is_match(refused), "{refused}");
            assert!(!without.is_match(refused), "{refused}");
        }
        // The longest each alternative admits, and one more.
        let longest = format!("https://example.com/{}", "a".repeat(2048 - 20));
        assert!(with_path.is_match(&longest));
        assert!(nexaguard_admin::webhooks::check_url(&longest, false).is_ok());
        assert!(nexaguard_admin::webhooks::check_url(&format!("{longest}a"), false).is_err());
        let longest = format!("https://example.com?{}", "a".repeat(2047 - 20));
        assert!(without.is_match(&longest));
        assert!(nexaguard_admin::webhooks::check_url(&longest, false).is_ok());
        assert!(nexaguard_admin::webhooks::check_url(&format!("{longest}a"), false).is_err());
    }

    #[test]
    fn totp_codes_match_what_the_authenticator_check_reads() {
        let pattern = compiled(&totp_pattern());
        for (text, well_formed) in [
            ("123456", true),
            (" 123456\n", true),
            ("123 456", true),
            ("1 23456", true),
            ("12 34 56", false),
            ("12345", false),
            ("1234567", false),
            ("12345a", false),
            ("", false),
        ] {
            assert_eq!(pattern.is_match(text), well_formed, "{text:?}");
        }
    }
}
