//! What admin handlers answer on success, as types: the status, the media
//! type and the body's schema are properties of the answer type, so the
//! route table names one type per route and the OpenAPI document describes
//! exactly what the handler sends.
//!
//! Invariant: a handler answers success only through an [`Answer`] (the
//! route table checks its type), and a JSON body only through a type with a
//! named schema ([`Named`]), so every success the server sends is in the
//! document with its status and schema.

use super::guard::SESSION_COOKIE;
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nexaguard_access::SessionSecret;
use serde::Serialize;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::{self, Components, ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::ToSchema;

/// A type whose schema the document lists by name in its components.
/// Opt-in (see [`named!`]) so that a list, `Vec<T>`, is described as an
/// array of the named `T` rather than under a name of its own.
pub trait Named: ToSchema {}

/// Marks types as [`Named`].
macro_rules! named {
    ($($ty:ty),* $(,)?) => {$(impl $crate::admin::answer::Named for $ty {})*};
}
pub(crate) use named;

/// A JSON value's schema in the document.
pub trait Schema {
    /// A reference to the schema, after adding it (and what it refers to)
    /// to `components`.
    fn reference(components: &mut Components) -> RefOr<openapi::Schema>;
}

impl<T: Named> Schema for T {
    fn reference(components: &mut Components) -> RefOr<openapi::Schema> {
        let name = T::name().into_owned();
        components
            .schemas
            .entry(name.clone())
            .or_insert_with(T::schema);
        let mut referred = Vec::new();
        T::schemas(&mut referred);
        for (name, schema) in referred {
            components.schemas.entry(name).or_insert(schema);
        }
        Ref::from_schema_name(name).into()
    }
}

impl<T: Named> Schema for Vec<T> {
    fn reference(components: &mut Components) -> RefOr<openapi::Schema> {
        ArrayBuilder::new().items(T::reference(components)).into()
    }
}

/// A successful answer of an admin handler.
pub trait Answer: IntoResponse {
    /// Its status.
    const STATUS: StatusCode;

    /// The response in the OpenAPI document; schemas it refers to are
    /// added to `components`.
    fn document(components: &mut Components) -> openapi::Response;
}

fn json_response<T: Schema>(description: &str, components: &mut Components) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(T::reference(components)))
            .build(),
    )
}

/// 200 with a JSON body.
impl<T: Serialize + Schema> Answer for Json<T> {
    const STATUS: StatusCode = StatusCode::OK;

    fn document(components: &mut Components) -> openapi::Response {
        json_response::<T>("OK", components).build()
    }
}

/// 201 with a JSON body: the thing made.
#[derive(Debug)]
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

impl<T: Serialize + Schema> Answer for Created<T> {
    const STATUS: StatusCode = StatusCode::CREATED;

    fn document(components: &mut Components) -> openapi::Response {
        json_response::<T>("Created", components).build()
    }
}

/// 204 without a body.
#[derive(Debug)]
pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

impl Answer for NoContent {
    const STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn document(_: &mut Components) -> openapi::Response {
        ResponseBuilder::new().description("Done").build()
    }
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

fn set_cookie_header(description: &str) -> openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

/// 200 with a JSON body, setting the session cookie: a new session, or the
/// session's new id after a second factor.
#[derive(Debug)]
pub struct WithSession<T> {
    /// The session the cookie carries.
    pub session: SessionSecret,
    /// The body; it carries the session's CSRF token.
    pub body: T,
}

impl<T: Serialize> IntoResponse for WithSession<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.body).into_response();
        response
            .headers_mut()
            .insert(header::SET_COOKIE, session_cookie(&self.session));
        response
    }
}

impl<T: Serialize + Schema> Answer for WithSession<T> {
    const STATUS: StatusCode = StatusCode::OK;

    fn document(components: &mut Components) -> openapi::Response {
        json_response::<T>("OK; the session cookie is set", components)
            .header(
                "Set-Cookie",
                set_cookie_header(
                    "The session cookie (`__Host-nexaguard_session`, Secure, HttpOnly, SameSite=Strict).",
                ),
            )
            .build()
    }
}

/// 204 that also ends the session cookie in the browser.
#[derive(Debug)]
pub struct SignedOut;

impl IntoResponse for SignedOut {
    fn into_response(self) -> Response {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response
            .headers_mut()
            .insert(header::SET_COOKIE, cleared_cookie());
        response
    }
}

impl Answer for SignedOut {
    const STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn document(_: &mut Components) -> openapi::Response {
        ResponseBuilder::new()
            .description("Done; the session cookie is cleared")
            .header(
                "Set-Cookie",
                set_cookie_header("Clears the session cookie."),
            )
            .build()
    }
}

/// The media types an export may have.
pub trait ExportFormats {
    /// Each media type, with what it holds.
    const TYPES: &'static [(&'static str, &'static str)];
}

/// JSON Lines only.
#[derive(Debug)]
pub struct JsonLines;

impl ExportFormats for JsonLines {
    const TYPES: &'static [(&'static str, &'static str)] =
        &[("application/x-ndjson", "One JSON object per line.")];
}

/// JSON Lines (the default) or CSV, as the `format` parameter asks.
#[derive(Debug)]
pub struct JsonLinesOrCsv;

impl ExportFormats for JsonLinesOrCsv {
    const TYPES: &'static [(&'static str, &'static str)] = &[
        (
            "application/x-ndjson",
            "One JSON object per line (`format=jsonl`, the default).",
        ),
        (
            "text/csv",
            "A header row, then one row per record (`format=csv`).",
        ),
    ];
}

/// 200 with a file to download, streamed.
#[derive(Debug)]
pub struct Export<F> {
    /// The body.
    pub body: Body,
    /// Its media type: one of `F::TYPES`, with parameters.
    pub content_type: &'static str,
    /// The `Content-Disposition` file name, if any.
    pub file_name: Option<String>,
    formats: std::marker::PhantomData<F>,
}

impl<F: ExportFormats> Export<F> {
    /// An export of `body` as `content_type`.
    pub fn new(body: Body, content_type: &'static str, file_name: Option<String>) -> Self {
        Export {
            body,
            content_type,
            file_name,
            formats: std::marker::PhantomData,
        }
    }
}

impl<F> IntoResponse for Export<F> {
    fn into_response(self) -> Response {
        let mut response = self.body.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        let disposition = self.file_name.and_then(|name| {
            HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")).ok()
        });
        if let Some(value) = disposition {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        response
    }
}

impl<F: ExportFormats> Answer for Export<F> {
    const STATUS: StatusCode = StatusCode::OK;

    fn document(_: &mut Components) -> openapi::Response {
        let mut response = ResponseBuilder::new().description("The export, streamed");
        for (media_type, description) in F::TYPES {
            response = response.content(
                *media_type,
                ContentBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .description(Some(*description)),
                    ))
                    .build(),
            );
        }
        response.build()
    }
}
