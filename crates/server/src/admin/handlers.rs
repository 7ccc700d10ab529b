//! The admin API's handlers: parse, call the administration service,
//! answer. Every rule lives in `nexaguard_admin`.

use super::guard::{ClientNetwork, SessionCookie, SESSION_COOKIE};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::PathParams;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use nexaguard_access::{
    csrf_token, InvitationSecret, Permission, Role, SessionSecret, WebhookSecret,
};
use nexaguard_admin::auth::{NextStep, Reauthentication};
use nexaguard_admin::consents::{ConsentFilter, ExportFormat};
use nexaguard_admin::users::UserView;
use nexaguard_admin::webhooks::WebhookUpdate;
use nexaguard_admin::{Admin, AdminError, Principal};
use nexaguard_audit::AuditEntry;
use nexaguard_consent::Environment;
use nexaguard_store::admin::{ApiToken, ApiTokenId, UserId};
use nexaguard_store::webhooks::{Delivery, DeliveryId, DeliveryStatus, Webhook, WebhookId};
use nexaguard_store::{Site, SiteId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

/// Largest admin request body, but for configuration drafts.
const MAX_BODY: usize = 16 * 1024;

/// Largest draft body: the configuration plus its envelope.
const MAX_DRAFT_BODY: usize = nexaguard_admin::sites::MAX_CONFIG_BYTES + 1024;

type Answer = Result<Response, ApiError>;

fn admin(state: &AppState) -> Result<Arc<Admin>, ApiError> {
    state
        .admin
        .as_ref()
        .map(|http| Arc::clone(&http.admin))
        .ok_or_else(|| ApiError::not_found("not_found", "the admin API is not enabled"))
}

async fn body<T: DeserializeOwned>(headers: &HeaderMap, body: Body) -> Result<T, ApiError> {
    crate::body::json(headers, body, MAX_BODY, "the request", "invalid_request").await
}

/// [`body`] where an empty body means the defaults (routes whose body is
/// needed only in some cases).
async fn optional_body<T: DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    crate::body::json_or_default(headers, body, MAX_BODY, "the request", "invalid_request").await
}

fn ok<T: Serialize>(value: T) -> Answer {
    Ok(Json(value).into_response())
}

fn created<T: Serialize>(value: T) -> Answer {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

fn no_content() -> Answer {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The `Set-Cookie` value of a new session (the console sets the same).
pub(crate) fn session_cookie(secret: &SessionSecret) -> HeaderValue {
    // No Max-Age: the browser forgets it on exit; the server enforces the
    // idle and absolute timeouts whatever the browser keeps.
    let cookie = format!(
        "{SESSION_COOKIE}={}; Secure; HttpOnly; SameSite=Strict; Path=/",
        secret.as_str()
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that ends the session cookie.
pub(crate) fn cleared_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-nexaguard_session=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
    )
}

/// An answer that also sets the session cookie.
fn with_session<T: Serialize>(admin: &Admin, secret: &SessionSecret, value: T) -> Answer {
    let mut body = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut body {
        map.insert(
            "csrfToken".to_owned(),
            Value::String(csrf_token(admin.csrf_key(), secret)),
        );
    }
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(secret));
    Ok(response)
}

fn parse_id<T>(text: &str, what: &'static str, wrap: fn(Uuid) -> T) -> Result<T, ApiError> {
    Uuid::parse_str(text)
        .map(wrap)
        .map_err(|_| ApiError::not_found("not_found", format!("{what} not found")))
}

// ---- sessions and MFA --------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    email: String,
    password: String,
    /// A code of the second factor: finishes it in one step, and is what
    /// opens an account locked after repeated failures.
    #[serde(default)]
    code: Option<String>,
}

pub(super) async fn login(
    State(state): State<AppState>,
    Extension(ClientNetwork(network)): Extension<ClientNetwork>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let admin = admin(&state)?;
    let credentials: Credentials = body(&headers, request).await?;
    let signed_in = admin
        .login(
            &credentials.email,
            &credentials.password,
            credentials.code.as_deref(),
            Some(network),
        )
        .await?;
    with_session(&admin, &signed_in.session, json!({"next": signed_in.next}))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Whoami {
    user: Option<UserJson>,
    role: Role,
    tenant: Option<Uuid>,
    next: NextStep,
    permissions: Vec<&'static str>,
    csrf_token: Option<String>,
}

pub(super) async fn whoami(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    cookie: Option<Extension<SessionCookie>>,
) -> Answer {
    let admin = admin(&state)?;
    let next = match principal.require_mfa_done() {
        Ok(()) => NextStep::Ready,
        Err(AdminError::MfaRequired) => NextStep::MfaCode,
        Err(_) => NextStep::MfaEnrolment,
    };
    ok(Whoami {
        user: admin.me(&principal).await?.map(UserJson::from),
        role: principal.role,
        tenant: principal.tenant.map(|t| t.0),
        next,
        permissions: principal
            .role
            .permissions()
            .iter()
            .map(|p| p.as_str())
            .collect(),
        csrf_token: cookie.map(|Extension(SessionCookie(s))| csrf_token(admin.csrf_key(), &s)),
    })
}

pub(super) async fn logout(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Answer {
    admin(&state)?.logout(&principal).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cleared_cookie());
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Code {
    code: String,
}

pub(super) async fn verify_mfa(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let admin = admin(&state)?;
    let Code { code } = body(&headers, request).await?;
    let session = admin.verify_mfa(&principal, &code).await?;
    with_session(&admin, &session, json!({"next": NextStep::Ready}))
}

/// What replacing a second factor needs; a first enrolment sends nothing.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EnrolmentRequest {
    password: Option<String>,
    code: Option<String>,
}

pub(super) async fn start_enrolment(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let admin = admin(&state)?;
    let wanted: EnrolmentRequest = optional_body(&headers, request).await?;
    let label = match admin.me(&principal).await? {
        Some(user) => user.email,
        None => {
            return Err(AdminError::Forbidden("API tokens have no second factor".into()).into())
        }
    };
    let proof = match (&wanted.password, &wanted.code) {
        (Some(password), Some(code)) => Some(Reauthentication { password, code }),
        _ => None,
    };
    let enrolment = admin.start_enrolment(&principal, &label, proof).await?;
    ok(json!({
        "provisioningUri": enrolment.provisioning_uri,
        "secret": enrolment.secret_base32,
    }))
}

pub(super) async fn confirm_enrolment(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let admin = admin(&state)?;
    let Code { code } = body(&headers, request).await?;
    let enrolled = admin.confirm_enrolment(&principal, &code).await?;
    with_session(
        &admin,
        &enrolled.session,
        json!({"next": NextStep::Ready, "recoveryCodes": enrolled.recovery_codes}),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

pub(super) async fn change_password(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let change: PasswordChange = body(&headers, request).await?;
    admin(&state)?
        .change_password(&principal, &change.current_password, &change.new_password)
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cleared_cookie());
    Ok(response)
}

// ---- users, invitations, tokens, tenants --------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserJson {
    id: Uuid,
    email: String,
    role: Role,
    mfa_enrolled: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<UserView> for UserJson {
    fn from(user: UserView) -> Self {
        UserJson {
            id: user.id.0,
            email: user.email,
            role: user.role,
            mfa_enrolled: user.mfa_enrolled,
            created_at: user.created_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Acceptance {
    invitation: String,
    password: String,
}

pub(super) async fn accept_invitation(
    State(state): State<AppState>,
    Extension(ClientNetwork(network)): Extension<ClientNetwork>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let acceptance: Acceptance = body(&headers, request).await?;
    let secret = InvitationSecret::parse(acceptance.invitation.trim())
        .ok_or_else(|| ApiError::not_found("not_found", "invitation not found"))?;
    let user = admin(&state)?
        .accept_invitation(&secret, &acceptance.password, Some(network))
        .await?;
    created(UserJson::from(user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvitationRequest {
    email: String,
    role: Role,
}

pub(super) async fn invite(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let invitation: InvitationRequest = body(&headers, request).await?;
    let made = admin(&state)?
        .invite(&principal, &invitation.email, invitation.role)
        .await?;
    created(json!({
        "id": made.id,
        "invitation": made.secret.as_str(),
        "expiresAt": rfc3339(made.expires_at),
    }))
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(super) async fn list_users(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Answer {
    let users = admin(&state)?.list_users(&principal).await?;
    ok(users.into_iter().map(UserJson::from).collect::<Vec<_>>())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    role: Role,
}

pub(super) async fn set_role(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(user): PathParams<String>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let user = parse_id(&user, "user", UserId)?;
    let RoleChange { role } = body(&headers, request).await?;
    admin(&state)?.set_role(&principal, user, role).await?;
    no_content()
}

pub(super) async fn remove_user(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(user): PathParams<String>,
) -> Answer {
    let user = parse_id(&user, "user", UserId)?;
    admin(&state)?.remove_user(&principal, user).await?;
    no_content()
}

fn token_json(token: &ApiToken) -> Value {
    json!({
        "id": token.id.0,
        "name": token.name,
        "role": token.role,
        "createdAt": rfc3339(token.created_at),
        "expiresAt": rfc3339(token.expires_at),
        "lastUsedAt": token.last_used_at.map(rfc3339),
        "revokedAt": token.revoked_at.map(rfc3339),
        "parent": token.parent.map(|p| p.0),
        "stepUpScopes": token.step_up_scopes,
    })
}

pub(super) async fn list_tokens(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Answer {
    let tokens = admin(&state)?.list_tokens(&principal).await?;
    ok(tokens.iter().map(token_json).collect::<Vec<_>>())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TokenRequest {
    name: String,
    role: Role,
    expires_in_days: u32,
    /// Step-up permissions of the role the token may use; none by default.
    #[serde(default)]
    step_up_scopes: Vec<Permission>,
}

pub(super) async fn create_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let wanted: TokenRequest = body(&headers, request).await?;
    let made = admin(&state)?
        .create_token(
            &principal,
            &wanted.name,
            wanted.role,
            wanted.expires_in_days,
            &wanted.step_up_scopes,
        )
        .await?;
    let mut json = token_json(&made.token);
    if let Value::Object(map) = &mut json {
        map.insert(
            "secret".to_owned(),
            Value::String(made.secret.as_str().to_owned()),
        );
    }
    created(json)
}

pub(super) async fn revoke_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(token): PathParams<String>,
) -> Answer {
    let token = parse_id(&token, "token", ApiTokenId)?;
    admin(&state)?.revoke_token(&principal, token).await?;
    no_content()
}

pub(super) async fn list_tenants(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Answer {
    let tenants = admin(&state)?.list_tenants(&principal).await?;
    ok(tenants
        .iter()
        .map(|t| json!({"id": t.id.0, "name": t.name, "createdAt": rfc3339(t.created_at)}))
        .collect::<Vec<_>>())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TenantRequest {
    name: String,
    owner_email: Option<String>,
}

pub(super) async fn create_tenant(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let wanted: TenantRequest = body(&headers, request).await?;
    let (tenant, invitation) = admin(&state)?
        .create_tenant(&principal, &wanted.name, wanted.owner_email.as_deref())
        .await?;
    created(json!({
        "id": tenant.id.0,
        "name": tenant.name,
        "ownerInvitation": invitation.map(|i| i.secret.as_str().to_owned()),
    }))
}

// ---- sites and configurations -------------------------------------------

fn site_json(site: &Site) -> Value {
    json!({
        "id": site.id.0,
        "name": site.name,
        "origins": site.origins,
        "productionKey": site.production_key,
        "stagingKey": site.staging_key,
        "createdAt": rfc3339(site.created_at),
    })
}

pub(super) async fn list_sites(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Answer {
    let sites = admin(&state)?.list_sites(&principal).await?;
    ok(sites.iter().map(site_json).collect::<Vec<_>>())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteRequest {
    name: String,
    origins: Vec<String>,
}

pub(super) async fn create_site(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let wanted: SiteRequest = body(&headers, request).await?;
    let site = admin(&state)?
        .create_site(&principal, &wanted.name, &wanted.origins)
        .await?;
    refresh(&state).await;
    created(site_json(&site))
}

/// Makes a change visible to the public API at once rather than at the
/// next periodic refresh.
async fn refresh(state: &AppState) {
    if let Err(error) = state.refresh_sites().await {
        tracing::warn!(%error, "site refresh after an admin change failed");
    }
}

pub(super) async fn get_site(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    ok(site_json(&admin(&state)?.site(&principal, site).await?))
}

pub(super) async fn get_draft(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    let draft = admin(&state)?.draft(&principal, site).await?;
    let config: Value = serde_json::from_str(&draft.config_json).unwrap_or(Value::Null);
    ok(json!({
        "revision": draft.revision,
        "config": config,
        "updatedAt": rfc3339(draft.updated_at),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftRequest {
    revision: u32,
    config: Value,
}

pub(super) async fn save_draft(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    let draft: DraftRequest = crate::body::json(
        &headers,
        request,
        MAX_DRAFT_BODY,
        "the draft",
        "invalid_request",
    )
    .await?;
    let (revision, validation) = admin(&state)?
        .save_draft(&principal, site, &draft.config, draft.revision)
        .await?;
    ok(json!({"revision": revision, "validation": validation}))
}

pub(super) async fn validate_draft(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    let config: Value = crate::body::json(
        &headers,
        request,
        MAX_DRAFT_BODY,
        "the configuration",
        "invalid_request",
    )
    .await?;
    let admin = admin(&state)?;
    admin.site(&principal, site).await?;
    ok(admin.validate(&config.to_string()))
}

pub(super) async fn publish(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    let published = admin(&state)?.publish_staging(&principal, site).await?;
    refresh(&state).await;
    created(json!({
        "environment": "staging",
        "version": published.version,
        "publishedAt": rfc3339(published.published_at),
    }))
}

pub(super) async fn promotion_preview(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    ok(admin(&state)?.promotion_preview(&principal, site).await?)
}

pub(super) async fn promote(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    let promotion = admin(&state)?.promote(&principal, site).await?;
    refresh(&state).await;
    created(promotion)
}

// ---- consent records, audit log, keys -------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConsentParams {
    environment: Option<Environment>,
    token: Option<String>,
    event_id: Option<Uuid>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    from: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    to: Option<OffsetDateTime>,
    limit: Option<u32>,
    format: Option<String>,
}

/// The query string, with our error shape.
fn query<T: DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, ApiError> {
    Query::<T>::try_from_uri(uri)
        .map(|Query(value)| value)
        .map_err(ApiError::from)
}

fn filter(params: &ConsentParams) -> (Environment, ConsentFilter) {
    (
        params.environment.unwrap_or(Environment::Production),
        ConsentFilter {
            token: params.token.clone(),
            event_id: params.event_id,
            from: params.from,
            to: params.to,
            limit: params.limit,
        },
    )
}

pub(super) async fn search_consents(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
    uri: axum::http::Uri,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    let params: ConsentParams = query(&uri)?;
    let (environment, filter) = filter(&params);
    ok(admin(&state)?
        .consent_records(&principal, site, environment, &filter)
        .await?)
}

pub(super) async fn export_consents(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
    uri: axum::http::Uri,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    let params: ConsentParams = query(&uri)?;
    let (format, content_type, extension) = match params.format.as_deref() {
        None | Some("jsonl") => (ExportFormat::JsonLines, "application/x-ndjson", "jsonl"),
        Some("csv") => (ExportFormat::Csv, "text/csv; charset=utf-8", "csv"),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "format is csv or jsonl",
            ))
        }
    };
    let (environment, filter) = filter(&params);
    let export = admin(&state)?
        .export_consents(&principal, site, environment, &filter, format)
        .await?;
    let stream = futures_util::stream::unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, AdminError>(chunk), export)),
            Ok(None) => None,
            Err(error) => {
                tracing::error!(%error, "consent export failed midway");
                Some((Err(error), export))
            }
        }
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"consents-{}.{extension}\"",
        site.0
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

pub(super) async fn stats(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
    uri: axum::http::Uri,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    let params: ConsentParams = query(&uri)?;
    let (environment, filter) = filter(&params);
    ok(admin(&state)?
        .consent_stats(&principal, site, environment, &filter)
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    after: Option<u64>,
    limit: Option<u32>,
}

fn entry_json(entry: &AuditEntry) -> Value {
    serde_json::to_value(entry).unwrap_or(Value::Null)
}

pub(super) async fn read_audit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    uri: axum::http::Uri,
) -> Answer {
    let params: AuditParams = query(&uri)?;
    let entries = admin(&state)?
        .read_audit(
            &principal,
            params.after.unwrap_or(0),
            params.limit.unwrap_or(100),
        )
        .await?;
    ok(entries.iter().map(entry_json).collect::<Vec<_>>())
}

pub(super) async fn export_audit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Answer {
    let entries = admin(&state)?.export_audit(&principal).await?;
    let mut out = Vec::new();
    for entry in &entries {
        if serde_json::to_writer(&mut out, entry).is_ok() {
            out.push(b'\n');
        }
    }
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(response)
}

pub(super) async fn verify_audit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Answer {
    let status = admin(&state)?.verify_audit(&principal).await?;
    ok(match status.result {
        Ok(report) => json!({
            "chain": status.chain.to_text(),
            "valid": true,
            "entries": report.entries,
            "checkpoints": report.checkpoints,
        }),
        Err(broken) => json!({
            "chain": status.chain.to_text(),
            "valid": false,
            "brokenAt": broken.seq,
            "entryId": broken.id,
            "reason": broken.to_string(),
        }),
    })
}

pub(super) async fn rotate_keys(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Answer {
    ok(admin(&state)?.rotate_keys(&principal).await?)
}

// ---- webhooks ---------------------------------------------------------------

fn webhook_json(webhook: &Webhook) -> Value {
    json!({
        "id": webhook.id.0,
        "site": webhook.site.0,
        "url": webhook.url,
        "enabled": webhook.enabled,
        "createdAt": rfc3339(webhook.created_at),
        "updatedAt": rfc3339(webhook.updated_at),
    })
}

/// A webhook with its secret, on the one answer that shows it.
fn webhook_with_secret(webhook: &Webhook, secret: &WebhookSecret) -> Value {
    let mut json = webhook_json(webhook);
    if let Value::Object(map) = &mut json {
        map.insert(
            "secret".to_owned(),
            Value::String(secret.as_str().to_owned()),
        );
    }
    json
}

fn delivery_json(delivery: &Delivery) -> Value {
    json!({
        "id": delivery.id.0,
        "webhook": delivery.webhook.0,
        "eventId": delivery.event_id,
        "status": delivery.status.as_str(),
        "attempts": delivery.attempts,
        "nextAttemptAt": (delivery.status == DeliveryStatus::Pending)
            .then(|| rfc3339(delivery.next_attempt_at)),
        "lastError": delivery.last_error,
        "lastStatus": delivery.last_status,
        "createdAt": rfc3339(delivery.created_at),
        "updatedAt": rfc3339(delivery.updated_at),
        "deliveredAt": delivery.delivered_at.map(rfc3339),
    })
}

pub(super) async fn list_webhooks(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    let webhooks = admin(&state)?.list_webhooks(&principal, site).await?;
    ok(webhooks.iter().map(webhook_json).collect::<Vec<_>>())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookRequest {
    url: String,
    enabled: Option<bool>,
}

pub(super) async fn create_webhook(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams(site): PathParams<String>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let site = parse_id(&site, "site", SiteId)?;
    let wanted: WebhookRequest = body(&headers, request).await?;
    let made = admin(&state)?
        .create_webhook(
            &principal,
            site,
            &wanted.url,
            wanted.enabled.unwrap_or(true),
        )
        .await?;
    created(webhook_with_secret(&made.webhook, &made.secret))
}

fn webhook_ids(site: &str, webhook: &str) -> Result<(SiteId, WebhookId), ApiError> {
    Ok((
        parse_id(site, "site", SiteId)?,
        parse_id(webhook, "webhook", WebhookId)?,
    ))
}

pub(super) async fn get_webhook(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams((site, webhook)): PathParams<(String, String)>,
) -> Answer {
    let (site, webhook) = webhook_ids(&site, &webhook)?;
    ok(webhook_json(
        &admin(&state)?.webhook(&principal, site, webhook).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WebhookPatch {
    url: Option<String>,
    enabled: Option<bool>,
    #[serde(default)]
    rotate_secret: bool,
}

pub(super) async fn update_webhook(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams((site, webhook)): PathParams<(String, String)>,
    headers: HeaderMap,
    request: Body,
) -> Answer {
    let (site, webhook) = webhook_ids(&site, &webhook)?;
    let patch: WebhookPatch = body(&headers, request).await?;
    let update = WebhookUpdate {
        url: patch.url,
        enabled: patch.enabled,
        rotate_secret: patch.rotate_secret,
    };
    let (updated, secret) = admin(&state)?
        .update_webhook(&principal, site, webhook, &update)
        .await?;
    ok(match secret {
        Some(secret) => webhook_with_secret(&updated, &secret),
        None => webhook_json(&updated),
    })
}

pub(super) async fn delete_webhook(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams((site, webhook)): PathParams<(String, String)>,
) -> Answer {
    let (site, webhook) = webhook_ids(&site, &webhook)?;
    admin(&state)?
        .delete_webhook(&principal, site, webhook)
        .await?;
    no_content()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryParams {
    status: Option<String>,
    limit: Option<u32>,
}

pub(super) async fn list_deliveries(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams((site, webhook)): PathParams<(String, String)>,
    uri: axum::http::Uri,
) -> Answer {
    let (site, webhook) = webhook_ids(&site, &webhook)?;
    let params: DeliveryParams = query(&uri)?;
    let status = params
        .status
        .as_deref()
        .map(|text| {
            DeliveryStatus::parse(text).ok_or_else(|| {
                ApiError::bad_request("invalid_query", "status is pending, delivered or dead")
            })
        })
        .transpose()?;
    let deliveries = admin(&state)?
        .webhook_deliveries(&principal, site, webhook, status, params.limit)
        .await?;
    ok(deliveries.iter().map(delivery_json).collect::<Vec<_>>())
}

pub(super) async fn retry_delivery(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    PathParams((site, webhook, delivery)): PathParams<(String, String, String)>,
) -> Answer {
    let (site, webhook) = webhook_ids(&site, &webhook)?;
    let delivery = parse_id(&delivery, "delivery", DeliveryId)?;
    let redelivered = admin(&state)?
        .redeliver(&principal, site, webhook, delivery)
        .await?;
    ok(delivery_json(&redelivered))
}
