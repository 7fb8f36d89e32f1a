//! Per-request context: the request id (taken from `x-request-id` or made), one trace line per request, the
//! per-route request counter and latency histogram; and the health check.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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

fn new_request_id() -> HeaderValue {
    // Unique per process run: start time in the high bits, a counter in the low ones.
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    });
    let id = format!("{start:08x}-{:08x}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
    HeaderValue::from_str(&id).expect("hex digits and a dash are a valid header value")
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

/// Wraps every request: request id in and out, a trace line, the route's counter and latency.
pub(crate) async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id_from(&request);
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    // The path is kept only for the trace line, and only when that line is written.
    let path = tracing::enabled!(tracing::Level::INFO).then(|| request.uri().path().to_string());
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).await;
    let elapsed = started.elapsed();
    let status = response.status();
    crate::metrics::record_request(&method, route.as_ref().map_or("unmatched", MatchedPath::as_str), status, elapsed);
    if let Some(path) = path {
        tracing::info!(
            request_id = id.to_str().unwrap_or_default(),
            method = %method,
            path = %path,
            status = status.as_u16(),
            latency_us = elapsed.as_micros() as u64,
            "request"
        );
    }
    response.headers_mut().insert("x-request-id", id);
    response
}

/// `GET /health`: 200 when the store answers, 503 otherwise.
pub(crate) async fn health(State(state): State<SharedState>) -> Response {
    match state.registry.health() {
        Ok(()) => Sr(json!({"status": "ok"})).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Sr(json!({"status": "unavailable", "error": e.to_string()})))
            .into_response(),
    }
}
