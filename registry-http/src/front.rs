//! The server as the binary runs it: the router, behind shortcuts for the requests clients repeat.
//!
//! Every consumer that meets a schema id it has not seen asks `GET /schemas/ids/{id}`, and the answer is
//! pre-rendered once (`confluent::pre_rendered`); every producer that starts registers the schemas it already
//! registered, and a repeated registration's answer is remembered (`confluent::remembered_registration`); a
//! serializer that uses the latest version asks `GET /subjects/{subject}/versions/latest`, answered from the
//! registry's cached latest version and its id's pre-rendered answer (`confluent::latest_answer`); a pipeline
//! checking documents asks `POST /api/v1/validate/{id}`, checked against the compiled validator
//! (`v1::answer_compiled`). Routing such a request through axum (matching, extensions, extractors, the boxed route
//! and its layers) cost more than everything else the server does for it: measured with `registry-load max`,
//! answering them here took get-by-id from 65k to 83k req/s, register-existing from 48k to 62k and get-latest from
//! 48k to 63-71k; with `registry-load hot`, validation from 0.55-0.63 of `GET /` to 0.70-0.85. Only those
//! exact shapes are answered here, only from an answer that still holds, and only to a caller the auth layer would
//! let through; everything else, a miss or a refusal included, goes to the router, which answers, remembers and
//! refuses.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use registry_core::Subject;
use tower::Service;

use crate::context::{Observation, RouteLabel};
use crate::extract::{accepted_content_type, declared_oversize, unreadable_body};
use crate::{AppState, SharedState, auth, confluent};

/// The router with the shortcuts in front: what [`crate::server`] returns and the binary serves.
#[derive(Clone)]
pub struct Server {
    router: Router,
    state: SharedState,
}

impl Server {
    pub(crate) fn new(router: Router, state: SharedState) -> Self {
        Self { router, state }
    }

    /// The answer to `request` if it is a `GET /schemas/ids/{id}` (digits only, no query) whose pre-rendered
    /// answer still holds, to a caller allowed to read.
    fn answer_ready(&self, request: &Request) -> Option<Response> {
        if request.method() != Method::GET || request.uri().query().is_some() {
            return None;
        }
        let digits = request.uri().path().strip_prefix("/schemas/ids/")?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let id = confluent::schema_id(digits).ok()?.0;
        if !auth::permits(&self.state, request) {
            return None;
        }
        let mut response = confluent::pre_rendered(&self.state, (id, false)).ok()?;
        Observation::start(request, RouteLabel::Fixed("/schemas/ids/{id}")).finish(&mut response);
        Some(response)
    }

    /// The answer to `request` if it is a `GET /subjects/{subject}/versions/latest` (no query, a subject name
    /// written without escapes) of a subject with a live version, to a caller allowed to read.
    fn answer_latest(&self, request: &Request) -> Option<Response> {
        if request.method() != Method::GET || request.uri().query().is_some() {
            return None;
        }
        let name = request.uri().path().strip_prefix("/subjects/")?.strip_suffix("/versions/latest")?;
        if name.contains(['/', '%']) {
            return None;
        }
        let subject = Subject::qualified(name).ok()?;
        // An aliased subject is the router's to answer: it rewrites the path to the alias.
        if !auth::permits(&self.state, request) || crate::alias::alias_of(&self.state, &subject, false).is_some() {
            return None;
        }
        let observation = Observation::start(request, RouteLabel::Fixed("/subjects/{subject}/versions/{version}"));
        let mut response = confluent::latest_answer(&self.state, &subject)?;
        observation.finish(&mut response);
        Some(response)
    }

    /// Whether `request` declares a body longer than the limit, which the router answers 413 before it looks at
    /// anything else.
    fn declares_oversize(&self, request: &Request) -> bool {
        declared_oversize(request.headers(), self.state.max_body_bytes).is_some()
    }

    /// Whether `request` could be a registration answered from memory: a `POST /subjects/{subject}/versions` of
    /// an accepted content type whose body is declared and small, from a caller allowed to register. Only its
    /// body tells. A larger body is read by the router once it holds its share of the memory budget (`budget.rs`),
    /// and answered from memory there.
    fn may_be_remembered(&self, request: &Request) -> bool {
        if request.method() != Method::POST {
            return false;
        }
        let Some(subject) = request.uri().path().strip_prefix("/subjects/").and_then(|p| p.strip_suffix("/versions"))
        else {
            return false;
        };
        !subject.is_empty() && !subject.contains('/') && self.readable_here(request, crate::SMALL_BODY_BYTES as u64)
    }

    /// Whether `request` could be a validation checked here: a `POST /api/v1/validate/{id}` (digits) of an accepted
    /// content type whose body is declared and small enough to check on the async worker, from a caller allowed to
    /// validate. Only its body and the validator cache tell.
    fn may_validate_here(&self, request: &Request) -> bool {
        if request.method() != Method::POST {
            return false;
        }
        let Some(digits) = request.uri().path().strip_prefix("/api/v1/validate/") else { return false };
        !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && self.readable_here(request, crate::v1::INLINE_VALIDATE_BYTES)
    }

    /// Whether the shortcuts may read `request`'s body themselves: declared, at most `limit` bytes (and within the
    /// body limit), of an accepted content type, from a caller the auth layer would let through.
    fn readable_here(&self, request: &Request, limit: u64) -> bool {
        let limit = limit.min(self.state.max_body_bytes as u64);
        let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
        declared.is_some_and(|length: u64| length <= limit)
            && accepted_content_type(request.headers()).is_ok()
            && auth::permits(&self.state, request)
    }
}

/// Reads a small body as the router's extractor reads it, so that a body neither can take gets the same answer (a
/// 413 past the limit, which a body longer than its declared length reaches here too): the request's head and
/// body, or that answer, counted.
async fn read_small(
    state: &AppState,
    request: Request,
    observation: Observation,
) -> Result<(Parts, Bytes, Observation), Response> {
    let (parts, body) = request.into_parts();
    let mut body = Request::new(body);
    DefaultBodyLimit::max(state.max_body_bytes).apply(&mut body);
    match Bytes::from_request(body, &()).await {
        Ok(bytes) => Ok((parts, bytes, observation)),
        Err(e) => {
            let mut response = observation.in_scope(|| unreadable_body(e).into_response());
            observation.finish(&mut response);
            Err(response)
        }
    }
}

/// Reads a registration's body and answers it from memory, or hands it, body and all, to the router.
async fn register_or_route(state: SharedState, mut router: Router, request: Request) -> Result<Response, Infallible> {
    let observation = Observation::start(&request, RouteLabel::Fixed("/subjects/{subject}/versions"));
    let (parts, bytes, observation) = match read_small(&state, request, observation).await {
        Ok(read) => read,
        Err(response) => return Ok(response),
    };
    let key = confluent::registration_key(&parts.uri, &bytes);
    let retractions = match confluent::remembered_registration(&state, &key) {
        Ok(mut response) => {
            observation.finish(&mut response);
            return Ok(response);
        }
        Err(retractions) => retractions,
    };
    // The router does its own bookkeeping; the handler takes over the digest and the count read before the lookup.
    drop(observation);
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(confluent::Unremembered { key, retractions });
    router.call(request).await
}

/// Reads a validation's body and checks its document against a compiled validator, or hands it, body and all, to
/// the router.
async fn validate_or_route(state: SharedState, mut router: Router, request: Request) -> Result<Response, Infallible> {
    let observation = Observation::start(&request, RouteLabel::Fixed(VALIDATE_ROUTE));
    let (parts, bytes, observation) = match read_small(&state, request, observation).await {
        Ok(read) => read,
        Err(response) => return Ok(response),
    };
    let id = parts.uri.path().strip_prefix("/api/v1/validate/").unwrap_or_default();
    if let Some(mut response) = observation.in_scope(|| crate::v1::answer_compiled(&state, id, &bytes)) {
        observation.finish(&mut response);
        return Ok(response);
    }
    drop(observation);
    router.call(Request::from_parts(parts, Body::from(bytes))).await
}

/// The route `POST /api/v1/validate/{id}` is counted under.
const VALIDATE_ROUTE: &str = "/api/v1/validate/{id}";

impl Service<Request> for Server {
    type Response = Response;
    type Error = Infallible;
    type Future = ServerFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<Request>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, request: Request) -> ServerFuture {
        // A request declaring a body past the limit is the router's to refuse (413), whatever it asks for.
        if !self.declares_oversize(&request)
            && let Some(response) = self.answer_ready(&request).or_else(|| self.answer_latest(&request))
        {
            return ServerFuture { inner: Answer::Ready { response: Some(response) } };
        }
        if self.may_validate_here(&request) {
            let future = Box::pin(validate_or_route(self.state.clone(), self.router.clone(), request));
            return ServerFuture { inner: Answer::Reading { future } };
        }
        if self.may_be_remembered(&request) {
            let future = Box::pin(register_or_route(self.state.clone(), self.router.clone(), request));
            return ServerFuture { inner: Answer::Reading { future } };
        }
        ServerFuture { inner: Answer::Routed { future: self.router.call(request) } }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Server`]: an answer already made, or the router's.
    pub struct ServerFuture {
        #[pin]
        inner: Answer,
    }
}

pin_project_lite::pin_project! {
    #[project = AnswerProjection]
    enum Answer {
        Ready { response: Option<Response> },
        Reading { future: Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>> },
        Routed { #[pin] future: RouteFuture<Infallible> },
    }
}

impl Future for ServerFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().inner.project() {
            AnswerProjection::Ready { response } => {
                Poll::Ready(Ok(response.take().expect("a response future is not polled after it completes")))
            }
            AnswerProjection::Reading { future } => future.as_mut().poll(cx),
            AnswerProjection::Routed { future } => future.poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Server {
        let registry =
            registry_store::Registry::in_memory(registry_store::RegistryOptions::default()).expect("registry");
        crate::server(crate::AppState::new(registry))
    }

    #[test]
    fn validations_checked_here_are_small_declared_bodies_sent_to_a_numeric_id() {
        let server = server();
        let cases = [
            ("POST", "/api/v1/validate/12", Some("100"), Some("application/json"), true),
            ("POST", "/api/v1/validate/12", Some("100"), None, true),
            ("POST", "/api/v1/validate/12?x=1", Some("100"), None, true),
            ("POST", "/api/v1/validate/12", Some("16384"), None, true),
            ("POST", "/api/v1/validate/12", Some("16385"), None, false),
            ("POST", "/api/v1/validate/12", None, None, false),
            ("POST", "/api/v1/validate/12", Some("100"), Some("text/plain"), false),
            ("POST", "/api/v1/validate/", Some("100"), None, false),
            ("POST", "/api/v1/validate/-1", Some("100"), None, false),
            ("POST", "/api/v1/validate/12/", Some("100"), None, false),
            ("GET", "/api/v1/validate/12", Some("100"), None, false),
        ];
        for (method, path, length, content_type, want) in cases {
            let mut request = Request::builder().method(method).uri(path);
            if let Some(length) = length {
                request = request.header(header::CONTENT_LENGTH, length);
            }
            if let Some(content_type) = content_type {
                request = request.header(header::CONTENT_TYPE, content_type);
            }
            let request = request.body(Body::empty()).expect("request");
            assert_eq!(server.may_validate_here(&request), want, "{method} {path} {length:?} {content_type:?}");
        }
    }

    #[test]
    fn a_document_is_checked_here_only_against_a_validator_compiled_already() {
        let server = server();
        let state = &server.state;
        let subject = Subject::new("s").expect("subject");
        let schema = registry_core::UnparsedSchema::new(registry_core::SchemaType::Json, r#"{"type":"integer"}"#);
        let id = state.registry.register(&subject, &schema).expect("registered").id;
        let digits = id.0.to_string();
        assert!(crate::v1::answer_compiled(state, &digits, br#"{"data":1}"#).is_none(), "not compiled yet");
        let options = registry_core::ValidateOptions::default();
        state.registry.validate_with(id, &serde_json::json!(1), &options).expect("compiled by a validation");
        for (body, answered) in [
            (&br#"{"data":1}"#[..], true),
            (br#"{"data":"one"}"#, true),
            (br#"{"items":[1]}"#, false),
            (br#"{"data":1,"extra":0}"#, false),
            (br#"{"data""#, false),
        ] {
            let answer = crate::v1::answer_compiled(state, &digits, body);
            assert_eq!(answer.is_some(), answered, "{}", String::from_utf8_lossy(body));
        }
        assert!(crate::v1::answer_compiled(state, "999", br#"{"data":1}"#).is_none(), "an unknown id is routed");
    }
}
