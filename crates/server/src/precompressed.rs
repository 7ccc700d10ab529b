//! Responses built once and served from memory: the body in identity, gzip
//! and brotli encodings, with a strong ETag over the identity bytes.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::io::Write;

/// One body in three encodings.
#[derive(Debug, Clone)]
pub struct Precompressed {
    etag: HeaderValue,
    content_type: HeaderValue,
    cache_control: HeaderValue,
    identity: axum::body::Bytes,
    gzip: axum::body::Bytes,
    brotli: axum::body::Bytes,
}

impl Precompressed {
    /// Compresses `body` once.
    pub fn new(body: Vec<u8>, content_type: &'static str, cache_control: &'static str) -> Self {
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", hex::encode(digest.get(..16).unwrap_or_default()));
        Precompressed {
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\"")),
            content_type: HeaderValue::from_static(content_type),
            cache_control: HeaderValue::from_static(cache_control),
            gzip: gzip(&body).into(),
            brotli: brotli(&body).into(),
            identity: body.into(),
        }
    }

    /// The strong ETag.
    pub fn etag(&self) -> &HeaderValue {
        &self.etag
    }

    /// The uncompressed body.
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// The answer to a GET with `request` headers: 304 when the ETag
    /// matches, else the best encoding the client accepts.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(header::ETAG, self.etag.clone());
        headers.insert(header::CACHE_CONTROL, self.cache_control.clone());
        headers.insert(
            header::VARY,
            HeaderValue::from_static("Accept-Encoding, Accept-Language"),
        );
        if etag_matches(request, &self.etag) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(header::CONTENT_TYPE, self.content_type.clone());
        let accepted = request
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let body = if accepts(accepted, "br") {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            self.brotli.clone()
        } else if accepts(accepted, "gzip") {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            self.gzip.clone()
        } else {
            self.identity.clone()
        };
        (StatusCode::OK, headers, Body::from(body)).into_response()
    }
}

fn etag_matches(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(value) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ours = etag.to_str().unwrap_or("");
    value.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate == ours || candidate.strip_prefix("W/") == Some(ours)
    })
}

/// Whether an Accept-Encoding value accepts `coding` (q=0 refuses it).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|part| {
        let mut pieces = part.split(';').map(str::trim);
        let name = pieces.next().unwrap_or("");
        let refused = pieces.any(|p| p.replace(' ', "") == "q=0" || p.replace(' ', "") == "q=0.0");
        name.eq_ignore_ascii_case(coding) && !refused
    })
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

/// The largest brotli window (4 MiB), and the smallest the format allows.
const BROTLI_MAX_WINDOW_BITS: u32 = 22;
const BROTLI_MIN_WINDOW_BITS: u32 = 10;

fn brotli(body: &[u8]) -> Vec<u8> {
    // A window larger than the body finds no more matches, but the encoder
    // at quality 11 allocates several times the window: a 4 MiB window for
    // a 10 KB config.json made every published configuration a transient
    // allocation of tens of MiB, the server's peak memory at start-up.
    let fits = usize::BITS - body.len().max(1).leading_zeros();
    let window = fits.clamp(BROTLI_MIN_WINDOW_BITS, BROTLI_MAX_WINDOW_BITS);
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, window);
        let _ = writer.write_all(body);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Read;

    #[test]
    fn encodings_decode_to_the_same_body() {
        let body = b"{\"hello\":\"world\"}".repeat(50);
        let p = Precompressed::new(body.clone(), "application/json", "no-cache");
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&p.gzip[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let mut out = Vec::new();
        brotli::Decompressor::new(&p.brotli[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
    }

    #[test]
    fn accept_encoding_honours_q_zero() {
        assert!(accepts("gzip, br", "br"));
        assert!(!accepts("gzip, br;q=0", "br"));
        assert!(accepts("GZIP", "gzip"));
        assert!(!accepts("identity", "gzip"));
    }
}
