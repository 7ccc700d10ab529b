//! What the route table learns from a handler's type: its success answer,
//! the body it reads and the query parameters its extractors read, so that
//! a route's declaration and its handler cannot disagree.
//!
//! Invariant: `admin_routes!` compiles only when each handler returns
//! `Result<A, ApiError>` with `A` the answer the table declares, reads the
//! body the table declares (none, required, or optional), and takes only
//! extractors that say what they read ([`Input`]). The OpenAPI document is
//! built from the table, so it describes what the handlers do.

use super::answer::{Answer, Named};
use super::extract::{AdminJson, AdminJsonOrDefault, Input, RequestBody};
use crate::error::ApiError;
use std::future::Future;
use utoipa::openapi::path::Parameter;
use utoipa::openapi::request_body::{RequestBody as BodyDoc, RequestBodyBuilder};
use utoipa::openapi::{Components, ContentBuilder, Required};

/// A handler, seen through the types of its arguments (`Args`, a tuple)
/// and its output. Implemented for functions of one to seven extractors.
pub trait Handles<Args> {
    /// What the handler's future yields.
    type Output;
    /// The last argument: the one that may read the body.
    type Last;
    /// The query parameters its extractors read.
    fn query_parameters() -> Vec<Parameter>;
}

macro_rules! handles {
    ($($arg:ident),*) => {
        impl<F, Fut, $($arg,)* Z> Handles<($($arg,)* Z,)> for F
        where
            F: FnOnce($($arg,)* Z) -> Fut,
            Fut: Future,
            $($arg: Input,)*
            Z: Input,
        {
            type Output = Fut::Output;
            type Last = Z;

            fn query_parameters() -> Vec<Parameter> {
                let mut parameters = Vec::new();
                $(parameters.extend($arg::query_parameters());)*
                parameters.extend(Z::query_parameters());
                parameters
            }
        }
    };
}

handles!();
handles!(A);
handles!(A, B);
handles!(A, B, C);
handles!(A, B, C, D);
handles!(A, B, C, D, E);
handles!(A, B, C, D, E, G);

/// The body an extractor reads, as the route table declares it: `T` for a
/// required JSON body of type `T`, `Option<T>` for an optional one, `()`
/// for none.
pub trait ReadsBody {
    /// The declaration.
    type Declared;
}

impl<T> ReadsBody for AdminJson<T> {
    type Declared = T;
}

impl<T> ReadsBody for AdminJsonOrDefault<T> {
    type Declared = Option<T>;
}

macro_rules! reads_no_body {
    ($($ty:ty),* $(,)?) => {$(impl ReadsBody for $ty { type Declared = (); })*};
}

reads_no_body!(
    axum::extract::State<crate::app::AppState>,
    super::extract::AdminService,
    super::extract::Caller,
    super::extract::ClientNetwork,
    Option<super::guard::SessionCookie>,
);

impl<T> ReadsBody for super::extract::Ids<T> {
    type Declared = ();
}

impl<T> ReadsBody for super::extract::AdminQuery<T> {
    type Declared = ();
}

/// A declared body in the OpenAPI document.
pub trait DeclaredBody {
    /// The request body, if any; its schema is added to `components`.
    fn document(components: &mut Components) -> Option<BodyDoc>;
}

impl DeclaredBody for () {
    fn document(_: &mut Components) -> Option<BodyDoc> {
        None
    }
}

fn json_body<T: Named>(components: &mut Components, required: Required) -> BodyDoc {
    use super::answer::Schema;
    RequestBodyBuilder::new()
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(T::reference(components)))
                .build(),
        )
        .required(Some(required))
        .build()
}

impl<T: Named + RequestBody> DeclaredBody for T {
    fn document(components: &mut Components) -> Option<BodyDoc> {
        Some(json_body::<T>(components, Required::True))
    }
}

impl<T: Named + RequestBody> DeclaredBody for Option<T> {
    fn document(components: &mut Components) -> Option<BodyDoc> {
        Some(json_body::<T>(components, Required::False))
    }
}

/// How the document describes one route, taken from its declaration.
#[derive(Clone, Copy)]
pub struct Documentation {
    /// The success status.
    pub status: u16,
    /// The success response.
    pub answer: fn(&mut Components) -> utoipa::openapi::Response,
    /// The request body, if the handler reads one.
    pub body: fn(&mut Components) -> Option<BodyDoc>,
    /// The query parameters the handler reads.
    pub query: fn() -> Vec<Parameter>,
}

impl std::fmt::Debug for Documentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Documentation")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The documentation of `handler`, declared to read `Body` and to answer
/// `A`; does not compile unless the handler does exactly that.
pub fn documentation<A, Body, F, Args>(_handler: &F) -> Documentation
where
    A: Answer,
    Body: DeclaredBody,
    F: Handles<Args, Output = Result<A, ApiError>>,
    F::Last: ReadsBody<Declared = Body>,
{
    Documentation {
        status: A::STATUS.as_u16(),
        answer: A::document,
        body: Body::document,
        query: F::query_parameters,
    }
}
