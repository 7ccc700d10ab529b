//! The machine-readable descriptions: OpenAPI and the event JSON Schema,
//! both generated from the code.

use crate::app::AppState;
use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{assets, config, consents, health, region};
use axum::extract::State;
use axum::Json;
use nexaguard_consent::event::{ConsentEventInput, Receipt};
use utoipa::OpenApi;

/// The public API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "NexaGuard public consent API", version = "1"),
    paths(
        consents::record,
        consents::restore,
        config::site_config,
        config::vendor_list,
        region::site_region,
        assets::snippet,
        health::healthz,
        health::readyz,
    ),
    components(schemas(
        ConsentEventInput,
        Receipt,
        ErrorBody,
        ErrorDetail,
        region::RegionAnswer
    ))
)]
pub struct ApiDoc;

/// `GET /v1/openapi.json`: the public API, and the admin API generated
/// from its route table (so that the document cannot miss a route or
/// misdescribe one), with the server's canonical public URL as its one
/// server. A server without the admin API documents none of it.
pub async fn openapi(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    if state.admin.is_some() {
        add_admin_routes(&mut doc);
    }
    doc.servers = Some(vec![utoipa::openapi::server::Server::new(
        state.public.base_url(),
    )]);
    Json(doc)
}

/// The admin API's ways to authenticate, by their names in the document.
const SESSION: &str = "session";
const CSRF: &str = "csrf";
const BEARER: &str = "apiToken";

/// What an error status means on an admin route, for its description.
fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Malformed: broken JSON, or a query parameter of the wrong shape",
        401 => "No valid credential: not signed in, a wrong password or code, an expired session, a revoked or expired token",
        403 => "Refused: the role, the second factor, a step-up, the CSRF token or the Origin",
        404 => "Not found (or not in the caller's tenant)",
        409 => "Conflicts with the stored state (a stale draft, a used invitation, an existing account)",
        413 => "The body is larger than the route accepts",
        415 => "The body is not declared `application/json`",
        422 => "Well-formed but not acceptable: a missing or unknown field, or a value the rules refuse",
        429 => "Too many attempts: wait the seconds `Retry-After` says",
        500 => "The store or the key ring failed; try again",
        _ => "An error",
    }
}

/// Every status an admin route can answer but success: the guard's for its
/// access, the extractors' for what the handler reads, the handler's own,
/// and a failing store.
fn error_statuses(
    route: &crate::admin::Route,
    has_ids: bool,
    has_query: bool,
    has_body: bool,
) -> std::collections::BTreeSet<u16> {
    use crate::admin::Access;
    use axum::http::Method;
    let mut statuses: std::collections::BTreeSet<u16> = route.errors.iter().copied().collect();
    match route.access {
        // Rate limited per network; a change from another site's page is
        // refused by its Origin.
        Access::Public => {
            statuses.insert(429);
            if route.method != Method::GET {
                statuses.insert(403);
            }
        }
        Access::SignedIn | Access::Permission(_) => {
            statuses.extend([401, 403]);
        }
    }
    if has_ids {
        statuses.insert(404);
    }
    if has_query {
        statuses.insert(400);
    }
    if has_body {
        statuses.extend([400, 413, 415, 422]);
    }
    statuses.insert(500);
    statuses
}

fn add_admin_routes(doc: &mut utoipa::openapi::OpenApi) {
    use crate::admin::{routes, Access, CSRF_HEADER, PREFIX, SESSION_COOKIE};
    use axum::http::Method;
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    use utoipa::openapi::security::{
        ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
    };
    use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};
    // Every id in an admin path is a UUID; a client fuzzing the document
    // needs the type to send anything the server could accept.
    let uuid = || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
    };
    let mut components = doc.components.take().unwrap_or_default();
    components.add_security_scheme(
        SESSION,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            SESSION_COOKIE,
            "The session cookie `POST /admin/api/v1/session` sets.",
        ))),
    );
    components.add_security_scheme(
        CSRF,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            CSRF_HEADER,
            "The CSRF token of the session (answered by `POST /session` and `GET /session`); \
             cookie-authenticated changes need it, with a same-origin `Origin`.",
        ))),
    );
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An API token (`Authorization: Bearer ngt_...`)."))
                .build(),
        ),
    );
    for route in routes() {
        let method = match route.method {
            Method::GET => HttpMethod::Get,
            Method::POST => HttpMethod::Post,
            Method::PUT => HttpMethod::Put,
            Method::DELETE => HttpMethod::Delete,
            Method::PATCH => HttpMethod::Patch,
            _ => continue,
        };
        let access = match route.access {
            Access::Public => "No authentication.".to_owned(),
            Access::SignedIn => {
                "A session or API token; the second factor may be pending.".to_owned()
            }
            Access::Permission(p) => format!(
                "Needs the `{}` permission (docs/security.md has the role matrix). \
                 Cookie-authenticated changes need `X-CSRF-Token` and a same-origin `Origin`.",
                p.as_str()
            ),
        };
        // A token, else a session (with the CSRF header for changes): the
        // order in which the guard looks for them.
        let changes = route.method != Method::GET;
        let security = match route.access {
            Access::Public => vec![SecurityRequirement::default()],
            Access::SignedIn | Access::Permission(_) => vec![
                SecurityRequirement::new(BEARER, Vec::<String>::new()),
                if changes {
                    SecurityRequirement::new(SESSION, Vec::<String>::new())
                        .add(CSRF, Vec::<String>::new())
                } else {
                    SecurityRequirement::new(SESSION, Vec::<String>::new())
                },
            ],
        };
        let mut operation = OperationBuilder::new()
            .tag("admin")
            .securities(Some(security))
            .summary(Some(route.summary))
            .description(Some(access));
        let ids: Vec<&str> = route
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for name in &ids {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(uuid())),
            );
        }
        let query = (route.doc.query)();
        let has_query = !query.is_empty();
        for parameter in query {
            operation = operation.parameter(parameter);
        }
        let body = (route.doc.body)(&mut components);
        let has_body = body.is_some();
        operation = operation.request_body(body);
        operation = operation.response(
            route.doc.status.to_string(),
            (route.doc.answer)(&mut components),
        );
        for status in error_statuses(&route, !ids.is_empty(), has_query, has_body) {
            let mut response = ResponseBuilder::new()
                .description(error_description(status))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                );
            if status == 429 {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(
                            ObjectBuilder::new()
                                .schema_type(Type::Integer)
                                .minimum(Some(1)),
                        )
                        .description(Some("Seconds to wait."))
                        .build(),
                );
            }
            operation = operation.response(status.to_string(), response.build());
        }
        doc.paths
            .add_path_operation(format!("{PREFIX}{}", route.path), vec![method], operation);
    }
    doc.components = Some(components);
}

/// `GET /v1/schema/consent-event.json`: the JSON Schema of a recorded event.
pub async fn consent_event_schema() -> Json<serde_json::Value> {
    Json(nexaguard_consent::event::consent_event_schema())
}
