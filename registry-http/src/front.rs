//! The server as the binary runs it: the router, behind one shortcut for the hottest request there is.
//!
//! Every consumer that meets a schema id it has not seen asks `GET /schemas/ids/{id}`, and the answer is
//! pre-rendered once (`confluent::pre_rendered`). Routing that request through axum (matching, extensions,
//! extractors, the boxed route and its layers) cost more than everything else the server does for it: measured
//! with `registry-load max`, answering it here took get-by-id from 65k to 82k req/s. Only that exact shape is
//! answered here, only from a pre-rendered answer that still holds, and only with auth off; everything else, a
//! miss included, goes to the router, which renders and remembers the answer.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use tower::Service;

use crate::SharedState;
use crate::context::{Observation, RouteLabel};
use crate::extract::RawSchema;

/// The router with the get-by-id shortcut in front: what [`crate::server`] returns and the binary serves.
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
    /// answer still holds, with auth off.
    fn answer_ready(&self, request: &Request) -> Option<Response> {
        if self.state.auth.is_some() || request.method() != Method::GET || request.uri().query().is_some() {
            return None;
        }
        let digits = request.uri().path().strip_prefix("/schemas/ids/")?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let id = digits.parse::<u32>().ok()?;
        let body = crate::confluent::pre_rendered(&self.state, (id, false)).ok()?;
        self.state.answer_counts.rendered.record(true);
        let observation = Observation::start(request, RouteLabel::Fixed("/schemas/ids/{id}"));
        let mut response = RawSchema(body).into_response();
        observation.finish(&mut response);
        Some(response)
    }
}

impl Service<Request> for Server {
    type Response = Response;
    type Error = Infallible;
    type Future = ServerFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<Request>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, request: Request) -> ServerFuture {
        match self.answer_ready(&request) {
            Some(response) => ServerFuture { inner: Answer::Ready { response: Some(response) } },
            None => ServerFuture { inner: Answer::Routed { future: self.router.call(request) } },
        }
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
            AnswerProjection::Routed { future } => future.poll(cx),
        }
    }
}
