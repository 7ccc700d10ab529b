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
/// from its route table (so that the document cannot miss a route), with
/// the server's canonical public URL as its one server.
pub async fn openapi(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    add_admin_routes(&mut doc);
    doc.servers = Some(vec![utoipa::openapi::server::Server::new(
        state.public.base_url(),
    )]);
    Json(doc)
}

/// The admin API's ways to authenticate, by their names in the document.
const SESSION: &str = "session";
const CSRF: &str = "csrf";
const BEARER: &str = "apiToken";

fn add_admin_routes(doc: &mut utoipa::openapi::OpenApi) {
    use crate::admin::{routes, Access, CSRF_HEADER, PREFIX, SESSION_COOKIE};
    use axum::http::Method;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    use utoipa::openapi::security::{
        ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
    };
    use utoipa::openapi::{ContentBuilder, Required, ResponseBuilder};
    // Every id in an admin path is a UUID; a client fuzzing the document
    // needs the type to send anything the server could accept.
    let uuid = || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
    };
    let components = doc.components.get_or_insert_with(Default::default);
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
            "The CSRF token of the session (answered by `POST /session` and `GET /me`); \
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
        // Either a session (with the CSRF header for changes) or a token.
        let changes = !matches!(route.method, Method::GET);
        let security = match route.access {
            Access::Public => vec![SecurityRequirement::default()],
            Access::SignedIn | Access::Permission(_) => vec![
                if changes {
                    SecurityRequirement::new(SESSION, Vec::<String>::new())
                        .add(CSRF, Vec::<String>::new())
                } else {
                    SecurityRequirement::new(SESSION, Vec::<String>::new())
                },
                SecurityRequirement::new(BEARER, Vec::<String>::new()),
            ],
        };
        let mut operation = OperationBuilder::new()
            .tag("admin")
            .securities(Some(security))
            .summary(Some(route.summary))
            .description(Some(access))
            .response("2XX", ResponseBuilder::new().description("success"))
            .response(
                "4XX",
                ResponseBuilder::new().description("`{\"error\": {\"code\", \"message\"}}`"),
            );
        for name in ["site", "user", "token", "webhook", "delivery"] {
            if route.path.contains(&format!("{{{name}}}")) {
                operation = operation.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(uuid())),
                );
            }
        }
        // Bodies are JSON objects (empty where a route needs none): the
        // server answers 415 to any other media type.
        if matches!(
            method,
            HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch
        ) {
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                            .build(),
                    )
                    .required(Some(Required::False))
                    .build(),
            ));
        }
        doc.paths
            .add_path_operation(format!("{PREFIX}{}", route.path), vec![method], operation);
    }
}

/// `GET /v1/schema/consent-event.json`: the JSON Schema of a recorded event.
pub async fn consent_event_schema() -> Json<serde_json::Value> {
    Json(nexaguard_consent::event::consent_event_schema())
}
