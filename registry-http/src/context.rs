//! Per-request context: the request id (taken from `x-request-id` or made), one trace line per request, the
//! per-route request counter and latency histogram; and the health check.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

use crate::SharedState;
use crate::extract::Sr;

tokio::task_local! {
    static REQUEST_ID: HeaderValue;
}

/// The request id of the request being served, if any.
pub(crate) fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.to_str().map(str::to_string).ok()).ok().flatten()
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Unique per process run: the start time in seconds, a dash, and a counter, both in hex of at least 8 digits.
fn new_request_id() -> HeaderValue {
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    });
    // Written by hand: `format!` here cost more than the rest of a cached read's bookkeeping.
    let mut text = [0u8; 16 + 1 + 16];
    let mut len = push_hex(&mut text, 0, start);
    text[len] = b'-';
    len += 1;
    len += push_hex(&mut text, len, NEXT_ID.fetch_add(1, Ordering::Relaxed));
    HeaderValue::from_bytes(&text[..len]).expect("hex digits and a dash are a valid header value")
}

/// Writes `value` in lowercase hex, at least 8 digits, at `at`; returns the digits written.
fn push_hex(out: &mut [u8], at: usize, value: u64) -> usize {
    let digits = (16 - value.leading_zeros() as usize / 4).max(8);
    for i in 0..digits {
        let nibble = (value >> (4 * (digits - 1 - i))) & 0xf;
        out[at + i] = b"0123456789abcdef"[nibble as usize];
    }
    digits
}

/// A caller's id is kept when it is short and printable; otherwise one is made.
fn request_id_from(request: &Request) -> HeaderValue {
    request
        .headers()
        .get("x-request-id")
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.as_bytes().iter().all(u8::is_ascii_graphic))
        .cloned()
        .unwrap_or_else(new_request_id)
}

/// The layer around every route: request id in and out, a trace line, the route's counter and latency.
///
/// A plain tower layer rather than `axum::middleware::from_fn`, which clones the route and boxes a future per
/// request: on a cached read those two allocations cost more than the bookkeeping itself.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ObserveLayer;

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe { inner }
    }
}

/// The service [`ObserveLayer`] makes.
#[derive(Clone, Debug)]
pub(crate) struct Observe<S> {
    inner: S,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let route = match request.extensions().get::<MatchedPath>() {
            Some(matched) => RouteLabel::Matched(matched.clone()),
            None => RouteLabel::Unmatched,
        };
        let observation = Observation::start(&request, route);
        let id = observation.id.clone();
        let inner = REQUEST_ID.sync_scope(id.clone(), || self.inner.call(request));
        ObserveFuture { inner: REQUEST_ID.scope(id, inner), observation: Some(observation) }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Observe`]: the route's, with the request's id in scope while it runs.
    pub(crate) struct ObserveFuture<F> {
        #[pin]
        inner: TaskLocalFuture<HeaderValue, F>,
        observation: Option<Observation>,
    }
}

impl<F, E> Future for ObserveFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result?,
        };
        let observation = this.observation.take().expect("a response future is not polled after it completes");
        observation.finish(&mut response);
        Poll::Ready(Ok(response))
    }
}

/// The route a request is counted under: the pattern it matched (never the raw path, which would make a label per
/// URL).
pub(crate) enum RouteLabel {
    /// As the router matched it.
    Matched(MatchedPath),
    /// Answered before routing, under the pattern the router would have matched.
    Fixed(&'static str),
    /// No route matched.
    Unmatched,
}

impl RouteLabel {
    fn as_str(&self) -> &str {
        match self {
            RouteLabel::Matched(matched) => matched.as_str(),
            RouteLabel::Fixed(pattern) => pattern,
            RouteLabel::Unmatched => "unmatched",
        }
    }
}

/// One request's bookkeeping, from its arrival to its answer: its id, its trace line, its route's counter and
/// latency.
pub(crate) struct Observation {
    started: Instant,
    id: HeaderValue,
    method: Method,
    route: RouteLabel,
    /// The path, kept only for the trace line, and only when that line is written.
    path: Option<String>,
}

impl Observation {
    /// Starts the bookkeeping of `request`, counted under `route`.
    pub(crate) fn start(request: &Request, route: RouteLabel) -> Self {
        Self {
            started: Instant::now(),
            id: request_id_from(request),
            method: request.method().clone(),
            route,
            path: tracing::enabled!(tracing::Level::INFO).then(|| request.uri().path().to_string()),
        }
    }

    /// Runs `f` with the request's id in scope, as a routed handler runs (an error body quotes it).
    pub(crate) fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
        REQUEST_ID.sync_scope(self.id.clone(), f)
    }

    /// Counts the answer, writes the trace line, and gives the answer the request's id.
    pub(crate) fn finish(self, response: &mut Response) {
        let elapsed = self.started.elapsed();
        let status = response.status();
        crate::metrics::record_request(&self.method, self.route.as_str(), status, elapsed);
        if let Some(path) = self.path {
            tracing::info!(
                request_id = self.id.to_str().unwrap_or_default(),
                method = %self.method,
                path = %path,
                status = status.as_u16(),
                latency_us = elapsed.as_micros() as u64,
                "request"
            );
        }
        response.headers_mut().insert("x-request-id", self.id);
    }
}

/// `GET /health`: 200 when the store answers, 503 naming the store and why otherwise.
pub(crate) async fn health(State(state): State<SharedState>) -> Response {
    match state.registry.health() {
        Ok(()) => Sr(json!({"status": "ok"})).into_response(),
        Err(e) => {
            let body = json!({"status": "unavailable", "store": state.registry.store_name(), "error": e.to_string()});
            (StatusCode::SERVICE_UNAVAILABLE, Sr(body)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{push_hex, request_id_from};
    use axum::body::Body;
    use axum::extract::Request;

    fn id_for(header: Option<&str>) -> String {
        let mut request = Request::builder().uri("/");
        if let Some(value) = header {
            request = request.header("x-request-id", value);
        }
        let request = request.body(Body::empty()).expect("a valid request");
        request_id_from(&request).to_str().expect("ascii").to_string()
    }

    fn is_made(id: &str) -> bool {
        let hex =
            |part: &str| part.len() >= 8 && part.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        id.split_once('-').is_some_and(|(start, count)| hex(start) && hex(count))
    }

    #[test]
    fn hex_has_at_least_eight_digits_and_no_more_than_needed() {
        for (value, want) in
            [(0, "00000000"), (0xbeef, "0000beef"), (0xdead_beef, "deadbeef"), (0x1_0000_0000, "100000000")]
        {
            let mut out = [0u8; 16];
            let len = push_hex(&mut out, 0, value);
            assert_eq!(std::str::from_utf8(&out[..len]), Ok(want));
        }
        let mut out = [0u8; 16];
        assert_eq!(push_hex(&mut out, 0, u64::MAX), 16);
        assert_eq!(&out, b"ffffffffffffffff");
    }

    #[test]
    fn a_usable_caller_id_is_kept_and_anything_else_replaced_by_a_fresh_one() {
        assert_eq!(id_for(Some("trace-42")), "trace-42");
        for unusable in [None, Some(""), Some("two words"), Some(&*"x".repeat(129))] {
            let id = id_for(unusable);
            assert!(is_made(&id), "{unusable:?} gave {id}");
        }
        assert_ne!(id_for(None), id_for(None), "made ids are unique");
    }
}
