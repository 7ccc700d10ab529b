//! Hash-chained entries and their canonical encoding.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::event::{AuditEvent, ChainId};

/// Domain tag leading the hashed encoding of an entry.
pub(crate) const ENTRY_DOMAIN: &[u8] = b"nexaguard-audit-v1";

/// A stored entry: the event plus its place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// The entry's id.
    pub id: Uuid,
    /// The chain it belongs to: `platform`, or the tenant's id.
    #[schema(value_type = String)]
    pub chain: ChainId,
    /// Its position in the chain: 1, 2, ... with no gaps.
    pub seq: u64,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// What happened.
    #[serde(flatten)]
    pub event: AuditEvent,
    /// The previous entry's hash; all zero for the first entry.
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub prev_hash: [u8; 32],
    /// This entry's hash (see the crate docs for what it covers).
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub hash: [u8; 32],
}

/// The last entry of a chain, which the next entry links to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// The last entry's position.
    pub seq: u64,
    /// The last entry's hash.
    #[serde(with = "hex_bytes")]
    pub hash: [u8; 32],
}

impl AuditEntry {
    /// Builds the entry following `head` (`None` for a chain's first entry)
    /// and computes its hash.
    pub fn next(
        chain: ChainId,
        head: Option<ChainHead>,
        id: Uuid,
        at: OffsetDateTime,
        event: AuditEvent,
    ) -> AuditEntry {
        let (seq, prev_hash) = match head {
            Some(head) => (head.seq.saturating_add(1), head.hash),
            None => (1, [0; 32]),
        };
        let mut entry = AuditEntry {
            id,
            chain,
            seq,
            at,
            event,
            prev_hash,
            hash: [0; 32],
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// Recomputes the hash from the fields, ignoring the stored `hash`.
    pub fn compute_hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(ENTRY_DOMAIN);
        field(&mut h, self.id.as_bytes());
        field(&mut h, self.chain.to_text().as_bytes());
        field(&mut h, &self.seq.to_be_bytes());
        field(&mut h, &self.at.unix_timestamp_nanos().to_be_bytes());
        field(&mut h, self.event.action.as_str().as_bytes());
        field(&mut h, self.event.actor.to_text().as_bytes());
        field(&mut h, self.event.target.as_bytes());
        field(&mut h, self.event.outcome.as_str().as_bytes());
        // The presence byte keeps "no network" apart from an empty one.
        match &self.event.client_network {
            Some(network) => {
                h.update([1]);
                field(&mut h, network.as_bytes());
            }
            None => {
                h.update([0]);
                field(&mut h, b"");
            }
        }
        field(&mut h, canonical_json(&self.event.details).as_bytes());
        field(&mut h, &self.prev_hash);
        h.finalize().into()
    }

    /// The head this entry makes: its seq and hash.
    pub fn head(&self) -> ChainHead {
        ChainHead {
            seq: self.seq,
            hash: self.hash,
        }
    }

    /// Whether the stored hash is the one the fields give.
    pub fn hash_is_valid(&self) -> bool {
        self.compute_hash() == self.hash
    }
}

/// Hashes one length-prefixed field: its length as a big-endian u32, then its
/// bytes. The prefix makes the encoding unambiguous (`"ab"`,`"c"` differs
/// from `"a"`,`"bc"`).
pub(crate) fn field(h: &mut Sha256, bytes: &[u8]) {
    // No field comes near 4 GiB; a longer one would saturate the prefix
    // rather than panic.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    h.update(len.to_be_bytes());
    h.update(bytes);
}

/// The canonical JSON text of `value`: compact (no whitespace), object keys
/// sorted by their UTF-8 bytes at every depth, array order kept, strings
/// escaped as serde_json escapes them (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`,
/// `\t`, other control characters as `\u00xx`, everything else as is),
/// numbers as serde_json writes them.
///
/// serde_json's `Map` already iterates in sorted order unless its
/// `preserve_order` feature is on, and any crate in a build can turn that on.
/// Sorting here makes the hash independent of that feature, and of the key
/// order a database returns (PostgreSQL's `jsonb` reorders keys).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(&mut out, value);
    out
}

fn write_canonical(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_canonical(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Serde of fixed-size byte arrays as lowercase hex.
pub(crate) mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut out = [0u8; N];
        hex::decode_to_slice(&text, &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use serde_json::{json, Map};
    use time::macros::datetime;

    use super::*;
    use crate::event::{Action, Actor, Outcome};

    fn event() -> AuditEvent {
        AuditEvent::new(
            Action::UserRoleChanged,
            Actor::User(Uuid::from_u128(1)),
            "user:00000000-0000-0000-0000-000000000002",
            Outcome::Success,
        )
        .with_client_network("192.0.2.0/24")
        .with_details(json!({"from": "viewer", "to": "editor"}))
    }

    fn entry() -> AuditEntry {
        AuditEntry::next(
            ChainId::Tenant(Uuid::from_u128(9)),
            None,
            Uuid::from_u128(3),
            datetime!(2025-01-02 03:04:05.123456789 UTC),
            event(),
        )
    }

    #[test]
    fn first_entry_starts_the_chain() {
        let first = entry();
        assert_eq!(first.seq, 1);
        assert_eq!(first.prev_hash, [0; 32]);
        assert!(first.hash_is_valid());
        let second = AuditEntry::next(
            first.chain,
            Some(first.head()),
            Uuid::from_u128(4),
            first.at,
            event(),
        );
        assert_eq!(second.seq, 2);
        assert_eq!(second.prev_hash, first.hash);
        assert_ne!(second.hash, first.hash);
    }

    /// An independent computation of the documented encoding: if this test
    /// fails, the encoding changed and every stored chain would break.
    #[test]
    fn hash_follows_the_documented_encoding() {
        let e = entry();
        let mut bytes = b"nexaguard-audit-v1".to_vec();
        let mut push = |field: &[u8]| {
            bytes.extend_from_slice(&u32::try_from(field.len()).unwrap().to_be_bytes());
            bytes.extend_from_slice(field);
        };
        push(Uuid::from_u128(3).as_bytes());
        push(b"00000000-0000-0000-0000-000000000009");
        push(&1u64.to_be_bytes());
        push(&1_735_787_045_123_456_789i128.to_be_bytes());
        push(b"user.role_change");
        push(b"user:00000000-0000-0000-0000-000000000001");
        push(b"user:00000000-0000-0000-0000-000000000002");
        push(b"success");
        bytes.push(1);
        let mut push = |field: &[u8]| {
            bytes.extend_from_slice(&u32::try_from(field.len()).unwrap().to_be_bytes());
            bytes.extend_from_slice(field);
        };
        push(b"192.0.2.0/24");
        push(br#"{"from":"viewer","to":"editor"}"#);
        push(&[0; 32]);
        let expected: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(e.hash, expected);
        assert_eq!(e.compute_hash(), expected);
    }

    #[test]
    fn absent_and_empty_client_network_hash_differently() {
        let mut none = entry();
        none.event.client_network = None;
        let mut empty = entry();
        empty.event.client_network = Some(String::new());
        assert_ne!(none.compute_hash(), empty.compute_hash());
    }

    #[test]
    fn hash_depends_on_the_instant_not_its_offset() {
        let utc = entry();
        let mut shifted = entry();
        shifted.at = utc.at.to_offset(time::macros::offset!(+02:00));
        assert_eq!(shifted.compute_hash(), utc.hash);
        shifted.at += time::Duration::nanoseconds(1);
        assert_ne!(shifted.compute_hash(), utc.hash);
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = entry();
        let changes: [fn(&mut AuditEntry); 11] = [
            |e| e.id = Uuid::from_u128(99),
            |e| e.chain = ChainId::Platform,
            |e| e.seq = 2,
            |e| e.at += time::Duration::seconds(1),
            |e| e.event.action = Action::UserRemoved,
            |e| e.event.actor = Actor::System,
            |e| e.event.target.push('x'),
            |e| e.event.outcome = Outcome::Denied,
            |e| e.event.client_network = None,
            |e| e.event.details = json!({"from": "viewer", "to": "owner"}),
            |e| e.prev_hash = [1; 32],
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(changed.compute_hash(), base.hash, "change {i} not covered");
            assert!(!changed.hash_is_valid());
        }
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let value = json!({
            "b": 1,
            "a": {"z": [3, {"y": true, "x": null}], "c": "s"},
            "é": -1.5,
            "A": "x\"y\\z\n\u{1}",
        });
        assert_eq!(
            canonical_json(&value),
            r#"{"A":"x\"y\\z\n\u0001","a":{"c":"s","z":[3,{"x":null,"y":true}]},"b":1,"é":-1.5}"#
        );
    }

    #[test]
    fn canonical_json_matches_serde_json_escaping() {
        let text: String = (0u32..0x80).filter_map(char::from_u32).collect();
        let value = Value::String(format!("{text}é✓😀"));
        assert_eq!(
            canonical_json(&value),
            serde_json::to_string(&value).unwrap()
        );
    }

    #[test]
    fn hash_is_independent_of_key_insertion_order() {
        let mut forward = Map::new();
        let mut backward = Map::new();
        let keys = ["site", "environment", "version", "a", "z"];
        for (i, key) in keys.iter().enumerate() {
            forward.insert((*key).to_owned(), json!(i));
        }
        for (i, key) in keys.iter().enumerate().rev() {
            backward.insert((*key).to_owned(), json!(i));
        }
        let mut a = entry();
        a.event.details = Value::Object(forward);
        let mut b = entry();
        b.event.details = Value::Object(backward);
        assert_eq!(a.compute_hash(), b.compute_hash());

        // The same details parsed from texts with different key orders, as a
        // database might return them.
        let mut c = entry();
        c.event.details = serde_json::from_str(r#"{"to": "editor", "from": "viewer"}"#).unwrap();
        assert_eq!(c.compute_hash(), entry().hash);
    }

    #[test]
    fn entry_serde_round_trip_keeps_the_hash_valid() {
        let e = entry();
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["hash"], hex::encode(e.hash));
        assert_eq!(json["prev_hash"], "0".repeat(64));
        assert_eq!(json["action"], "user.role_change");
        assert_eq!(json["at"], "2025-01-02T03:04:05.123456789Z");
        let back: AuditEntry = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
        assert!(back.hash_is_valid());
    }
}
