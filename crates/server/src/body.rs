//! Reading JSON request bodies with one set of clear errors: 415 for
//! another media type, 413 past the size limit, 400 for broken JSON, 422
//! for JSON of the wrong shape (unknown fields included).
//!
//! Invariant: the client receives the answer, whatever refused its request
//! and however early. A server that answers while the client is still
//! sending and then closes the connection makes the client's TCP stack see
//! a reset before it reads the answer (curl: code 000); and an HTTP/1.1
//! connection closed after an answer that did not say so fails the next
//! request a keep-alive client sends on it. So whatever of a body a handler
//! (or the guard, the rate limiter, a 404) left unread is read and thrown
//! away by the edge ([`track_unread`], [`finish_unread`]), up to
//! [`DRAIN_BYTES`] and [`DRAIN_TIME`], before the answer goes out: the
//! connection stays usable (HTTP/1.1 keep-alive, the HTTP/2 stream ends
//! normally), and a body too large or too slow to read away gets
//! `Connection: close` on its answer, so the client knows.
//!
//! Invariant: an error message says what is wrong in the request's own
//! terms (the field by its JSON path, the kind of value expected) and
//! never carries the parser's internals: no Rust type names, and a line
//! and column only for broken JSON, where they help find the mistake.

use crate::error::ApiError;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Version};
use axum::response::Response;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

/// How much of an oversized body is still read, past the limit, so that
/// the client gets its 413: more than any client sends by mistake, little
/// enough that a client cannot keep a worker reading for long.
pub const DRAIN_BYTES: usize = 4 * 1024 * 1024;

/// How long an oversized body is still read at most.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Parses an `application/json` body of at most `max` bytes. `what` names
/// the thing for the 415 message ("the event"); `invalid` is the code of a
/// shape error.
pub async fn json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    what: &str,
    invalid: &'static str,
) -> Result<T, ApiError> {
    let bytes = json_bytes(headers, body, max, what).await?;
    parse(&bytes, what, invalid)
}

/// The bytes of an `application/json` body of at most `max` bytes, for a
/// route that looks at the body before choosing the type to [`parse`] it
/// as (a choice or an impression): read once, parsed from the same bytes.
pub async fn json_bytes(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    what: &str,
) -> Result<axum::body::Bytes, ApiError> {
    // Refused before reading, the body is read away by the edge all the
    // same (see the module's invariant).
    check_json(headers, what)?;
    read(body, max, what).await
}

/// [`json`] for routes whose body is needed only in some cases: an empty
/// (or blank) body, whatever its media type, means `T::default()`.
pub async fn json_or_default<T: DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    what: &str,
    invalid: &'static str,
) -> Result<T, ApiError> {
    let bytes = read(body, max, what).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    check_json(headers, what)?;
    parse(&bytes, what, invalid)
}

/// 415 unless the body is declared `application/json`.
fn check_json(headers: &HeaderMap, what: &str) -> Result<(), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send {what} as application/json"),
        ))
    }
}

/// The whole body, or 413 past `max` bytes (after reading the rest, see
/// the module's invariant).
async fn read(body: Body, max: usize, what: &str) -> Result<Bytes, ApiError> {
    let mut stream = body.into_data_stream();
    // Most bodies arrive in one chunk: kept as it came, without a copy.
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut len = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request(
                "body_unreadable",
                format!("{what} could not be read to its end"),
            )
        })?;
        len = len.saturating_add(chunk.len());
        if len > max {
            // The rest is read away by the edge (the module's invariant).
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("{what} must be at most {max} bytes"),
            ));
        }
        match first.take() {
            None if joined.is_empty() => first = Some(chunk),
            Some(earlier) => {
                joined.extend_from_slice(&earlier);
                joined.extend_from_slice(&chunk);
            }
            None => joined.extend_from_slice(&chunk),
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}

/// What a handler may leave of a request body: the edge gets it back
/// when the handler drops it unfinished (see [`track_unread`]).
#[derive(Debug, Default, Clone)]
pub struct Unread(Arc<Mutex<Option<Body>>>);

/// Gives the request a body that, dropped before its end, hands the rest
/// back through the returned [`Unread`]. A request without a body (a GET,
/// `Content-Length: 0`) is left as it is.
pub fn track_unread(request: Request) -> (Request, Option<Unread>) {
    if request.body().is_end_stream() {
        return (request, None);
    }
    let unread = Unread::default();
    let (parts, body) = request.into_parts();
    let body = Body::new(Returning {
        inner: Some(body),
        unread: unread.clone(),
    });
    (Request::from_parts(parts, body), Some(unread))
}

/// Reads away what the handler left of the body (the module's invariant);
/// an answer on HTTP/1 whose body could not be read to its end within the
/// bounds says `Connection: close`.
pub async fn finish_unread(unread: Unread, response: &mut Response, version: Version) {
    let left = unread
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let Some(body) = left else { return };
    let drained = tokio::time::timeout(DRAIN_TIME, async {
        let mut stream = body.into_data_stream();
        let mut drained = 0usize;
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else { return false };
            drained = drained.saturating_add(chunk.len());
            if drained > DRAIN_BYTES {
                return false;
            }
        }
        true
    })
    .await
    .unwrap_or(false);
    if !drained && version <= Version::HTTP_11 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
}

/// The request body as handlers see it; see [`track_unread`].
struct Returning {
    /// `None` once the body ended (nothing left to read away).
    inner: Option<Body>,
    unread: Unread,
}

impl HttpBody for Returning {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        // An ended or broken body has nothing left worth reading away.
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.inner = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().map_or(true, HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| http_body::SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for Returning {
    fn drop(&mut self) {
        if let Some(body) = self.inner.take() {
            if !body.is_end_stream() {
                *self.unread.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(body);
            }
        }
    }
}

/// [`json`] past the headers and the size limit: the bytes as `T`, with
/// the same errors.
pub fn parse<T: DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    invalid: &'static str,
) -> Result<T, ApiError> {
    use serde_json::error::Category;
    // Every body of the API is a JSON object, as the OpenAPI document says;
    // serde would also read a struct from an array of its fields in order
    // (`[null, null]`), and a free-form body (a configuration to check)
    // from anything. Valid JSON that is not an object is refused here;
    // broken JSON goes on to get its syntax error.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            let kind = match value {
                serde_json::Value::Array(_) => "an array",
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::Bool(_) => "a boolean",
                serde_json::Value::Null | serde_json::Value::Object(_) => "null",
            };
            return Err(ApiError::unprocessable(
                invalid,
                format!("{what} must be an object, not {kind}"),
            ));
        }
    }
    let e = match serde_json::from_slice(bytes) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    if let Some(value) = with_whole_numbers(bytes, &e) {
        return Ok(value);
    }
    Err(match e.classify() {
        Category::Data => {
            let path = path_at(bytes, offset_of(bytes, e.line(), e.column()));
            ApiError::unprocessable(invalid, shape_message(&bare(&e), &path, what, "field"))
        }
        // serde_json reports some shape errors (an enum given a
        // number) as syntax; JSON that parses in full (strings
        // checked as UTF-8, which skipping them would not do) is a
        // shape error.
        Category::Syntax if serde_json::from_slice::<serde_json::Value>(bytes).is_ok() => {
            let path = path_at(bytes, offset_of(bytes, e.line(), e.column()));
            ApiError::unprocessable(invalid, shape_message("", &path, what, "field"))
        }
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::bad_request("invalid_json", syntax_message(&e, bytes, what))
        }
    })
}

/// JSON has one kind of number: `2.0` is the integer 2 to JSON Schema (the
/// OpenAPI document's `integer`), though serde refuses it for a Rust
/// integer. Where a body failed on its shape and has a number written with
/// a fraction or an exponent, it is parsed again with every whole number
/// written as an integer. Only on that error path, so a body sent as the
/// SDK sends it is parsed once.
fn with_whole_numbers<T: DeserializeOwned>(bytes: &[u8], error: &serde_json::Error) -> Option<T> {
    use serde_json::{Number, Value};
    fn whole(value: &mut Value) -> bool {
        match value {
            Value::Number(n) if !(n.is_i64() || n.is_u64()) => {
                let Some(f) = n.as_f64() else { return false };
                // Within ±2^53 every whole f64 is exactly that integer.
                const EXACT: f64 = 9_007_199_254_740_992.0;
                if f.fract() == 0.0 && f.abs() <= EXACT {
                    #[allow(clippy::cast_possible_truncation)]
                    let integer = f as i64;
                    *n = Number::from(integer);
                    return true;
                }
                false
            }
            Value::Array(items) => items.iter_mut().fold(false, |any, v| whole(v) | any),
            Value::Object(fields) => fields.values_mut().fold(false, |any, v| whole(v) | any),
            _ => false,
        }
    }
    if error.classify() != serde_json::error::Category::Data
        || !bytes.iter().any(|b| matches!(b, b'.' | b'e' | b'E'))
    {
        return None;
    }
    let mut value: Value = serde_json::from_slice(bytes).ok()?;
    if !whole(&mut value) {
        return None;
    }
    serde_json::from_value(value).ok()
}

/// serde_json's message without its " at line L column C" tail.
fn bare(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&tail).unwrap_or(&text).to_owned()
}

/// Broken JSON: the parser's reason (plain words about JSON syntax) and
/// where, since that is what helps a person find the mistake.
fn syntax_message(e: &serde_json::Error, bytes: &[u8], what: &str) -> String {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return format!("{what} is empty; send a JSON object");
    }
    format!(
        "{what} is not valid JSON: {} (line {}, column {})",
        bare(e),
        e.line(),
        e.column()
    )
}

/// The byte offset of serde_json's 1-based line and byte column.
fn offset_of(bytes: &[u8], line: usize, column: usize) -> usize {
    // Line 1 starts at 0; line n right after the (n - 1)th newline.
    let line_start = match line.checked_sub(2) {
        None => 0,
        Some(newlines_before) => bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(newlines_before)
            .map_or(bytes.len(), |(i, _)| i + 1),
    };
    line_start.saturating_add(column).min(bytes.len())
}

/// One step of a JSON path while scanning.
enum Step {
    /// In an object: the key read last, if the next token is its value.
    Object {
        key: Option<String>,
        awaiting_key: bool,
    },
    /// In an array: the index of the current element.
    Array(usize),
}

/// The JSON path (`consentMode.ad_storage`, `vendors[2]`) of the value
/// being read at `end`, found by scanning the valid JSON before it: the
/// parser stops right after the value it could not use.
fn path_at(bytes: &[u8], end: usize) -> String {
    let mut stack: Vec<Step> = Vec::new();
    let mut i = 0;
    while i < end {
        let Some(&byte) = bytes.get(i) else { break };
        match byte {
            b'{' => stack.push(Step::Object {
                key: None,
                awaiting_key: true,
            }),
            b'[' => stack.push(Step::Array(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Step::Array(index)) => *index = index.saturating_add(1),
                Some(Step::Object { key, awaiting_key }) => {
                    *key = None;
                    *awaiting_key = true;
                }
                None => {}
            },
            b'"' => {
                let start = i;
                i += 1;
                while let Some(&b) = bytes.get(i) {
                    match b {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                if let Some(Step::Object { key, awaiting_key }) = stack.last_mut() {
                    if *awaiting_key {
                        let raw = bytes.get(start..=i).unwrap_or_default();
                        *key = Some(serde_json::from_slice(raw).unwrap_or_default());
                        *awaiting_key = false;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for step in &stack {
        match step {
            Step::Object { key: Some(key), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Step::Array(index) => path.push_str(&format!("[{index}]")),
            Step::Object { key: None, .. } => {}
        }
    }
    path
}

/// A deserialisation message (serde's wording) in the API's words, for
/// the value at `path` (empty: the whole of `what`), a `noun` ("field",
/// "parameter"). Serde names the Rust
/// types it expected ("u32", "struct Credentials"); those become the
/// kind of JSON value, and anything unrecognised becomes a plain "is not
/// valid" rather than leak an internal name.
pub(crate) fn shape_message(message: &str, path: &str, what: &str, noun: &str) -> String {
    let subject = |path: &str| {
        if path.is_empty() {
            what.to_owned()
        } else {
            format!("the {noun} `{path}`")
        }
    };
    let join = |field: &str| {
        if path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        }
    };
    if let Some(field) = between(message, "missing field `", "`") {
        // Reported once the object is read: the path is the object's.
        return format!("the {noun} `{}` is required", join(field));
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let known = match rest.split_once(", expected ") {
            Some((_, list)) => format!(
                "; known {noun}s: {}",
                list.trim_start_matches("one of ").replace(" or ", ", ")
            ),
            None => format!("; there are no {noun}s here"),
        };
        return format!("{} is not a known {noun}{known}", subject(path));
    }
    if message.starts_with("duplicate field `") {
        return format!("{} appears twice", subject(path));
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once("`, expected ").unwrap_or((rest, ""));
        let value = value.trim_end_matches('`');
        let expected = if expected.is_empty() {
            String::new()
        } else {
            format!("; expected {expected}")
        };
        return format!(
            "{} has the value `{value}`, which is not allowed{expected}",
            subject(path)
        );
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return match kind_expected(expected) {
            Some(kind) => format!(
                "{} must be {kind}, not {}",
                subject(path),
                kind_found(found)
            ),
            None => format!(
                "{} has the wrong type ({})",
                subject(path),
                kind_found(found)
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let expected = rest.split_once(", expected ").map_or("", |(_, e)| e);
        return match kind_expected(expected) {
            Some(kind) => format!("{} must be {kind}", subject(path)),
            None => format!("{} has a value that is not allowed", subject(path)),
        };
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        let expected = rest.split_once(", expected ").map_or("", |(_, e)| e);
        return match kind_expected(expected) {
            Some(kind @ "an object") => format!("{} must be {kind}", subject(path)),
            _ => format!("{} has the wrong number of elements", subject(path)),
        };
    }
    if message.contains("UUID") {
        return format!("{} must be a UUID", subject(path));
    }
    if [
        "invalid digit",
        "number too large",
        "number too small",
        "cannot parse integer",
    ]
    .iter()
    .any(|m| message.contains(m))
    {
        return format!("{} must be a whole number", subject(path));
    }
    if message.contains("component could not be parsed") {
        return format!("{} must be {RFC_3339}", subject(path));
    }
    format!("{} is not valid", subject(path))
}

/// How a date and time is asked for.
const RFC_3339: &str = "a date and time in RFC 3339 form (2026-01-31T12:00:00Z)";

/// The text between `start` and the next `end` in `message`.
fn between<'a>(message: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = message.split_once(start)?.1;
    Some(rest.split_once(end)?.0)
}

/// Serde's "expected" (a Rust type or a visitor's phrase) as a kind of
/// JSON value, if it is one we know to be safe to show.
fn kind_expected(expected: &str) -> Option<&'static str> {
    Some(match expected {
        "a string" | "a borrowed string" | "a char" | "string" => "a string",
        "a boolean" | "bool" => "true or false",
        "u8" => "a whole number from 0 to 255",
        "u16" => "a whole number from 0 to 65535",
        "u32" => "a whole number from 0 to 4294967295",
        "u64" | "u128" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a sequence" | "a set" => "an array",
        "a map" | "map" => "an object",
        "unit" => "null",
        e if e.starts_with("struct ") || e.starts_with("a map") => "an object",
        e if e.starts_with("a tuple") || e.starts_with("tuple") => "an array",
        e if e.contains("UUID") => "a UUID",
        e if e.contains("RFC3339") || e.contains("RFC 3339") => RFC_3339,
        e if e.starts_with("enum ") || e.starts_with("variant ") => "one of the allowed values",
        _ => return None,
    })
}

/// Serde's description of the value it found, as a kind of JSON value.
fn kind_found(found: &str) -> &'static str {
    let word = found.split([' ', '`']).next().unwrap_or_default();
    match word {
        "string" | "char" => "a string",
        "integer" | "floating" => "a number",
        "boolean" => "true or false",
        "map" => "an object",
        "sequence" => "an array",
        "null" | "unit" => "null",
        _ => "another kind of value",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        ad_storage: Option<Colour>,
        limit: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Colour {
        Red,
        Blue,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Request {
        url: String,
        #[serde(default)]
        enabled: bool,
        #[serde(default)]
        inner: Option<Inner>,
        #[serde(default)]
        list: Vec<Inner>,
        #[serde(default)]
        id: Option<uuid::Uuid>,
        #[serde(default)]
        by_name: BTreeMap<String, u16>,
    }

    #[test]
    fn an_array_is_refused_even_where_serde_would_read_the_fields_from_it() {
        let error = refused(r#"["x", true]"#);
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.message, "the request must be an object, not an array");
        let error = refused(r#" "x""#);
        assert_eq!(error.message, "the request must be an object, not a string");
        let error = refused("null");
        assert_eq!(error.message, "the request must be an object, not null");
        assert_eq!(
            refused("nul").status,
            StatusCode::BAD_REQUEST,
            "broken JSON is a syntax error"
        );
    }

    #[test]
    fn a_whole_number_written_with_a_fraction_or_an_exponent_is_that_integer() {
        let body = r#"{"url": "x", "inner": {"limit": 2.0}, "list": [{"limit": 4e1}],
            "byName": {"a": 7.00}}"#;
        let parsed = parse::<Request>(body.as_bytes(), "the request", "invalid_request").unwrap();
        assert_eq!(parsed.inner.unwrap().limit, 2);
        assert_eq!(parsed.list[0].limit, 40);
        assert_eq!(parsed.by_name["a"], 7);
    }

    #[test]
    fn a_number_with_a_real_fraction_is_still_refused_with_its_field_named() {
        for (body, field) in [
            (r#"{"url": "x", "inner": {"limit": 2.5}}"#, "inner.limit"),
            (r#"{"url": "x", "inner": {"limit": -1.0}}"#, "inner.limit"),
            (r#"{"url": "x", "byName": {"a": 70000.0}}"#, "byName.a"),
        ] {
            let error = refused(body);
            assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert!(error.message.contains(field), "{body}: {}", error.message);
        }
    }

    fn refused(body: &str) -> ApiError {
        match parse::<Request>(body.as_bytes(), "the request", "invalid_request") {
            Ok(parsed) => panic!("{body} was accepted: {parsed:?}"),
            Err(error) => error,
        }
    }

    /// What no message may show: serde_json's position of a shape error
    /// and the Rust names of the types it was reading into.
    fn assert_plain(message: &str) {
        for internal in [
            "line 1",
            "column",
            "struct",
            "Request",
            "Inner",
            "Colour",
            "u32",
            "u16",
            "Uuid",
            "::",
            "Failed to deserialize",
        ] {
            assert!(
                !message.contains(internal),
                "{message:?} shows {internal:?}"
            );
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named_by_its_field_without_parser_internals() {
        for (body, field, kind) in [
            (r#"{"url": 5}"#, "`url`", "a string"),
            (
                r#"{"url": "x", "enabled": "yes"}"#,
                "`enabled`",
                "true or false",
            ),
            (
                r#"{"url": "x", "inner": {"limit": "ten"}}"#,
                "`inner.limit`",
                "a whole number",
            ),
            (
                r#"{"url": "x", "list": [{"limit": 1}, {"limit": true}]}"#,
                "`list[1].limit`",
                "a whole number",
            ),
            (r#"{"url": "x", "inner": []}"#, "`inner`", "an object"),
            (
                r#"{"url": "x", "byName": {"a": 70000}}"#,
                "`byName.a`",
                "a whole number",
            ),
            (
                r#"{"url": "x", "inner": {"limit": -1}}"#,
                "`inner.limit`",
                "a whole number",
            ),
        ] {
            let error = refused(body);
            assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(error.code, "invalid_request");
            assert_plain(&error.message);
            assert!(error.message.contains(field), "{body}: {}", error.message);
            assert!(error.message.contains(kind), "{body}: {}", error.message);
        }
    }

    #[test]
    fn unknown_missing_and_duplicate_fields_are_named() {
        for (body, words) in [
            (
                r#"{"url": "x", "secret": "mine"}"#,
                &["`secret`", "not a known field", "`url`"][..],
            ),
            (r#"{"enabled": true}"#, &["`url`", "required"][..]),
            (
                r#"{"url": "x", "inner": {"adStorage": "red"}}"#,
                &["`inner.limit`", "required"][..],
            ),
            (r#"{"url": "x", "url": "y"}"#, &["`url`", "twice"][..]),
            (
                r#"{"url": "x", "inner": {"limit": 1, "adStorage": "green"}}"#,
                &["`inner.adStorage`", "`green`", "`red`"][..],
            ),
            (r#"{"url": "x", "id": "123"}"#, &["`id`", "UUID"][..]),
            (r#"[]"#, &["the request", "an object"][..]),
            (r#"5"#, &["the request", "an object"][..]),
            (
                r#"{"url": "x", "inner": {"limit": 1, "adStorage": 5}}"#,
                &["`inner.adStorage`"][..],
            ),
        ] {
            let error = refused(body);
            assert_plain(&error.message);
            for word in words {
                assert!(error.message.contains(word), "{body}: {}", error.message);
            }
        }
    }

    #[test]
    fn broken_json_says_where_in_plain_words() {
        let error = refused("{\"url\": \"x\",\n  oops}");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.code, "invalid_json");
        assert!(
            error.message.contains("line 2, column 3"),
            "{}",
            error.message
        );
        assert!(!error.message.contains("Request"), "{}", error.message);
        let mut raw = br#"{"url": ""#.to_vec();
        raw.extend_from_slice(&[0xff, 0xfe]);
        raw.extend_from_slice(br#""}"#);
        let error = parse::<Request>(&raw, "the request", "invalid_request").unwrap_err();
        assert_eq!(error.code, "invalid_json", "{}", error.message);
        let empty = refused("  ");
        assert_eq!(empty.code, "invalid_json");
        assert!(empty.message.contains("empty"), "{}", empty.message);
    }
}
