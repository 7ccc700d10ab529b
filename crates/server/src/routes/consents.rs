//! Recording consent events and impressions, and restoring consent state.
//!
//! `POST /v1/consents` takes both kinds of event: a body with
//! `"kind": "impression"` is an impression (the notice was shown), any
//! other a choice. Both go through the same origin, rate-limit and site
//! checks and the same idempotent store path; only a choice makes or
//! needs a consent token.

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{client_ip, PathParams};
use crate::metrics;
use crate::registry::SiteEnv;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nexaguard_consent::check::{check_event, check_impression, CheckedEvent};
use nexaguard_consent::context::EventContext;
use nexaguard_consent::event::{
    ConsentEvent, ConsentEventInput, Impression, ImpressionInput, ImpressionReceipt, Receipt,
    MAX_EVENT_BYTES,
};
use nexaguard_consent::token::{ConsentToken, TokenHash};
use nexaguard_store::{NewConsent, NewImpression, RecordOutcome};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use time::OffsetDateTime;

/// What `POST /v1/consents` takes: a choice, or an impression
/// (`"kind": "impression"`). For the OpenAPI document; the handler tells
/// them apart by `kind` before parsing, so each gets its own errors.
#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
pub enum PostedEvent {
    /// A consent choice (no `kind`, or `"kind": "choice"`).
    Choice(Box<ConsentEventInput>),
    /// The notice was shown.
    Impression(ImpressionInput),
}

/// What `POST /v1/consents` answers with 201: a receipt with the consent
/// token for a choice, without one for an impression.
#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
pub enum RecordAnswer {
    /// The answer to a choice.
    Choice(Receipt),
    /// The answer to an impression.
    Impression(ImpressionReceipt),
}

/// `POST /v1/consents`: records one consent event or impression.
#[utoipa::path(post, path = "/v1/consents", request_body = PostedEvent,
    responses(
        (status = 201, description = "durably recorded (or a retry of a recorded event); an impression's answer has no consentToken", body = RecordAnswer),
        (status = 400, description = "malformed JSON or body", body = crate::error::ErrorBody),
        (status = 403, description = "Origin not allowed for the site", body = crate::error::ErrorBody),
        (status = 404, description = "unknown site key", body = crate::error::ErrorBody),
        (status = 409, description = "eventId reused with a different body", body = crate::error::ErrorBody),
        (status = 413, description = "body over 16 KiB", body = crate::error::ErrorBody),
        (status = 415, description = "not application/json", body = crate::error::ErrorBody),
        (status = 422, description = "the event breaks a rule (see code)", body = crate::error::ErrorBody),
        (status = 429, description = "rate limited; see Retry-After", body = crate::error::ErrorBody),
    ))]
pub async fn record(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Result<Response, ApiError> {
    // The request's own headers, borrowed: axum's `HeaderMap` extractor
    // would copy them for every event.
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    rate_limit(&state, headers, peer).await?;
    match parse_posted(headers, body).await? {
        Posted::Choice(input) => record_choice(&state, peer, headers, *input).await,
        Posted::Impression(input) => record_impression(&state, headers, input).await,
    }
}

async fn record_choice(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    input: ConsentEventInput,
) -> Result<Response, ApiError> {
    let site = super::site_env(state, &input.site_key)?;
    check_origin(&site, headers, true)?;
    let published = super::published(&site)?;
    let now = OffsetDateTime::now_utc();
    let body_hash = canonical_hash(&input)?;
    let checked = check_event(
        input,
        published.site_environment(site.environment),
        &state.gvl,
        now,
    )?;
    let token = token_for(state, &site, &checked).await?;
    let region = state
        .regions
        .resolve(headers, || client_ip(state, headers, peer));
    let context = EventContext::from_headers(
        region.country_code(),
        headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    );
    let event_id = checked.input.event_id;
    let recorded_at = truncate_to_millis(now);
    let event = ConsentEvent::record(checked.input, recorded_at, context, checked.policy_warnings);
    let consent = NewConsent {
        site_id: site.site.id,
        event,
        token_hash: state.keys.hash(&token),
        body_hash,
    };
    let started = Instant::now();
    let outcome = state.store.record_consent(consent).await;
    metrics::store_latency("record_consent", started);
    let (recorded_at, replayed) = settle(outcome?)?;
    if !replayed {
        ::metrics::counter!(metrics::CONSENTS_RECORDED, "environment" => site.environment.as_str())
            .increment(1);
    }
    let receipt = Receipt {
        event_id,
        consent_token: token.as_str().to_owned(),
        recorded_at,
    };
    Ok(created(receipt, replayed))
}

/// Records an impression: the checks a choice gets where the fields are
/// the same, no consent token, no context (an impression keeps nothing
/// taken from the request's headers).
async fn record_impression(
    state: &AppState,
    headers: &HeaderMap,
    input: ImpressionInput,
) -> Result<Response, ApiError> {
    let site = super::site_env(state, &input.site_key)?;
    check_origin(&site, headers, true)?;
    let published = super::published(&site)?;
    let now = OffsetDateTime::now_utc();
    let body_hash = canonical_hash(&input)?;
    let input = check_impression(input, published.site_environment(site.environment), now)?;
    let event_id = input.event_id;
    let impression = NewImpression {
        site_id: site.site.id,
        impression: Impression::record(input, truncate_to_millis(now)),
        body_hash,
    };
    let started = Instant::now();
    let outcome = state.store.record_impression(impression).await;
    metrics::store_latency("record_impression", started);
    let (recorded_at, replayed) = settle(outcome?)?;
    Ok(created(
        ImpressionReceipt {
            event_id,
            recorded_at,
        },
        replayed,
    ))
}

/// The time to answer with and whether the event was a retry; 409 for an
/// event id recorded with another body.
fn settle(outcome: RecordOutcome) -> Result<(OffsetDateTime, bool), ApiError> {
    match outcome {
        RecordOutcome::Recorded { recorded_at } => Ok((recorded_at, false)),
        RecordOutcome::Duplicate { recorded_at } => Ok((recorded_at, true)),
        RecordOutcome::Conflict => Err(ApiError::new(
            StatusCode::CONFLICT,
            "event_id_conflict",
            "this eventId was recorded with a different body",
        )),
    }
}

/// 201 with `answer`, marked as a replay for a retry.
fn created(answer: impl Serialize, replayed: bool) -> Response {
    let mut response = (StatusCode::CREATED, Json(answer)).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

async fn rate_limit(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<(), ApiError> {
    let ip = client_ip(state, headers, peer);
    state.limiter.check(ip).await.map_err(|wait| {
        let mut err = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many consent posts from this network; retry later",
        );
        err.retry_after = Some(wait.as_secs().max(1));
        err
    })
}

/// A posted event of either kind.
enum Posted {
    Choice(Box<ConsentEventInput>),
    Impression(ImpressionInput),
}

/// Just the `kind` of a posted event; everything else is ignored here.
#[derive(Deserialize)]
struct KindOnly<'a> {
    #[serde(default, borrow)]
    kind: Option<Cow<'a, str>>,
}

/// Parses the body as the kind of event its `kind` names. The body is read
/// (and its size and media type checked) once, and parsed through the body
/// module's parser, so each kind's shape errors name its own fields, and
/// broken JSON gets the same 400 whichever kind it was meant to be.
///
/// A choice (the event that is recorded as evidence, and the one load
/// tests post) is parsed once: only a body that does not parse as a
/// choice is peeked at for `"kind": "impression"`, and then parsed as an
/// impression. A choice's errors are the choice parser's, as before.
async fn parse_posted(headers: &HeaderMap, body: Body) -> Result<Posted, ApiError> {
    let bytes = crate::body::json_bytes(headers, body, MAX_EVENT_BYTES, "the event").await?;
    let choice_error = match crate::body::parse(&bytes, "the event", "invalid_event") {
        Ok(input) => return Ok(Posted::Choice(Box::new(input))),
        Err(error) => error,
    };
    let impression = serde_json::from_slice::<KindOnly<'_>>(&bytes)
        .is_ok_and(|peek| peek.kind.as_deref() == Some("impression"));
    if impression {
        let input = crate::body::parse(&bytes, "the event", "invalid_event")?;
        Ok(Posted::Impression(input))
    } else {
        Err(choice_error)
    }
}

/// Browsers always send Origin on cross-origin POSTs; it must be one of the
/// site's. `required` is false for reads, where a missing Origin means a
/// same-origin or non-browser client.
fn check_origin(site: &SiteEnv, headers: &HeaderMap, required: bool) -> Result<(), ApiError> {
    match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        Some(Ok(origin)) if site.allows_origin(origin) => Ok(()),
        None if !required => Ok(()),
        None => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_required",
            "the Origin header is required",
        )),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this Origin is not allowed for the site",
        )),
    }
}

/// The body hash that tells a retry (same body) from a conflict. Hashing
/// the parsed event, not the raw bytes, makes key order and whitespace
/// irrelevant.
fn canonical_hash(input: &impl Serialize) -> Result<[u8; 32], ApiError> {
    let canonical = serde_json::to_vec(input)
        .map_err(|e| ApiError::bad_request("invalid_event", e.to_string()))?;
    Ok(Sha256::digest(canonical).into())
}

/// The token the receipt carries: the one sent, if this server issued it
/// for this site environment, or a new one derived from the event.
async fn token_for(
    state: &AppState,
    site: &Arc<SiteEnv>,
    checked: &CheckedEvent,
) -> Result<ConsentToken, ApiError> {
    let Some(token) = &checked.token else {
        return Ok(state
            .keys
            .issue(site.site.key(site.environment), checked.input.event_id));
    };
    let hash = state.keys.hash(token);
    let started = Instant::now();
    let known = state
        .store
        .latest_consent(site.site.id, site.environment, &hash)
        .await?;
    metrics::store_latency("latest_consent", started);
    if known.is_none() {
        return Err(ApiError::unprocessable(
            "unknown_consent_token",
            "consentToken was not issued for this site environment",
        ));
    }
    Ok(token.clone())
}

fn truncate_to_millis(t: OffsetDateTime) -> OffsetDateTime {
    let millis = t.millisecond();
    t.replace_nanosecond(u32::from(millis) * 1_000_000)
        .unwrap_or(t)
}

/// Query of `GET /v1/consents/{consentToken}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RestoreQuery {
    /// The site key the token was issued under.
    site_key: String,
}

/// The answer of `GET /v1/consents/{consentToken}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsentState {
    /// The token asked about.
    consent_token: String,
    /// Its newest event.
    event: ConsentEvent,
}

/// `GET /v1/consents/{consentToken}?siteKey=...`: the latest consent state.
#[utoipa::path(get, path = "/v1/consents/{consent_token}",
    params(("consent_token" = String, Path, description = "token from a receipt", pattern = r"^[A-Za-z0-9_-]{43}$"), RestoreQuery),
    responses(
        (status = 200, description = "the newest event of the token", body = ConsentState),
        (status = 400, description = "malformed token, or the siteKey query parameter missing", body = crate::error::ErrorBody),
        (status = 403, description = "Origin not allowed for the site", body = crate::error::ErrorBody),
        (status = 404, description = "unknown site key or token", body = crate::error::ErrorBody),
    ))]
pub async fn restore(
    State(state): State<AppState>,
    PathParams(consent_token): PathParams<String>,
    query: Result<Query<RestoreQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(ApiError::from)?;
    let token = ConsentToken::parse(&consent_token)
        .map_err(|e| ApiError::bad_request("invalid_consent_token", e.to_string()))?;
    let site = super::site_env(&state, &query.site_key)?;
    check_origin(&site, &headers, false)?;
    let hash: TokenHash = state.keys.hash(&token);
    let started = Instant::now();
    let event = state
        .store
        .latest_consent(site.site.id, site.environment, &hash)
        .await?;
    metrics::store_latency("latest_consent", started);
    let event = event.ok_or_else(|| {
        ApiError::not_found("consent_not_found", "no consent is recorded for this token")
    })?;
    let mut response = Json(ConsentState {
        consent_token: token.as_str().to_owned(),
        event,
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
