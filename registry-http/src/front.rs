//! The server as the binary runs it: the router, behind shortcuts for the requests clients repeat.
//!
//! Every consumer that meets a schema id it has not seen asks `GET /schemas/ids/{id}`, and the answer is
//! pre-rendered once (`confluent::pre_rendered`); every producer that starts registers the schemas it already
//! registered, and a repeated registration's answer is remembered (`confluent::remembered_registration`); a
//! serializer that uses the latest version asks `GET /subjects/{subject}/versions/latest`, answered from the
//! registry's cached latest version and its id's pre-rendered answer (`confluent::latest_answer`). Routing such a
//! request through axum (matching, extensions, extractors, the boxed route and its layers) cost more than
//! everything else the server does for it: measured with `registry-load max`, answering them here took get-by-id
//! from 65k to 83k req/s, register-existing from 48k to 62k and get-latest from 48k to 63-71k. Only those
//! exact shapes are answered here, only from an answer that still holds, and only to a caller the auth layer would
//! let through; everything else, a miss or a refusal included, goes to the router, which answers, remembers and
//! refuses.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use registry_core::Subject;
use tower::Service;

use crate::context::{Observation, RouteLabel};
use crate::extract::{accepted_content_type, declared_oversize, unreadable_body};
use crate::{SharedState, auth, confluent};

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
        let declared =
            request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        !subject.is_empty()
            && !subject.contains('/')
            && declared.is_some_and(|length| length <= self.state.max_body_bytes.min(crate::SMALL_BODY_BYTES))
            && accepted_content_type(request.headers()).is_ok()
            && auth::permits(&self.state, request)
    }
}

/// Reads a registration's body and answers it from memory, or hands it, body and all, to the router.
async fn register_or_route(state: SharedState, mut router: Router, request: Request) -> Result<Response, Infallible> {
    let observation = Observation::start(&request, RouteLabel::Fixed("/subjects/{subject}/versions"));
    let (parts, body) = request.into_parts();
    // Read as the router's extractor reads it, so that a body neither can take gets the same answer (a 413 past the
    // limit, which a body longer than its declared length reaches here too).
    let mut body = Request::new(body);
    DefaultBodyLimit::max(state.max_body_bytes).apply(&mut body);
    let bytes = match Bytes::from_request(body, &()).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let mut response = observation.in_scope(|| unreadable_body(e).into_response());
            observation.finish(&mut response);
            return Ok(response);
        }
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
