//! A bare axum server for the bench/ingest baseline: the same routes as the
//! consent server, doing nothing but reading the body and answering.
//!
//! ```text
//! nexaguard-bench-echo --listen 127.0.0.1:18444 [--tls-cert CERT --tls-key KEY] [--get-body FILE]
//! ```
//!
//! - `POST /v1/consents`: reads the whole body, answers 201 with a small JSON.
//! - `GET /v1/sites/{siteKey}/config.json`: answers 200 with a fixed body
//!   (the contents of `--get-body`, else about 2 KB of JSON).
//! - `GET /healthz`: 200.
//!
//! HTTPS with `--tls-cert` and `--tls-key` (rustls, ring provider, as the
//! server), plain HTTP without.

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use std::net::SocketAddr;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut listen: SocketAddr = "127.0.0.1:18444".parse()?;
    let mut cert = None;
    let mut key = None;
    let mut get_body = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--listen" => listen = value()?.parse()?,
            "--tls-cert" => cert = Some(value()?),
            "--tls-key" => key = Some(value()?),
            "--get-body" => get_body = Some(std::fs::read(value()?)?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let get_body = Bytes::from(get_body.unwrap_or_else(default_get_body));

    let app = Router::new()
        .route("/v1/consents", post(echo))
        .route(
            "/v1/sites/{site_key}/config.json",
            get(move || {
                let body = get_body.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .into_make_service();

    match (cert, key) {
        (Some(cert), Some(key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = RustlsConfig::from_pem_file(cert, key).await?;
            eprintln!("echo: serving HTTPS on {listen}");
            axum_server::bind_rustls(listen, config).serve(app).await?;
        }
        (None, None) => {
            eprintln!("echo: serving plain HTTP on {listen}");
            axum_server::bind(listen).serve(app).await?;
        }
        _ => return Err("--tls-cert and --tls-key go together".into()),
    }
    Ok(())
}

/// Reads the body (as the consent handler must) and answers like a receipt.
async fn echo(body: Bytes) -> impl IntoResponse {
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{{\"received\":{}}}", body.len()),
    )
}

/// About 2 KB of JSON, when no `--get-body` is given.
fn default_get_body() -> Vec<u8> {
    let mut body = String::from("{\"items\":[");
    for i in 0..56 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!("{{\"id\":{i:3},\"name\":\"item number {i:3}\"}}"));
    }
    body.push_str("]}");
    body.into_bytes()
}
