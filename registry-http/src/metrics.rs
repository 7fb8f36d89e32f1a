//! Prometheus metrics through the `metrics` facade: per-route request counters and latency histograms,
//! registry outcomes, and, at scrape time, cache hits and misses and the subject and schema counts.
//!
//! The server records into whatever recorder the process has installed; which one that is stays the embedding
//! application's choice. Nothing here installs one unless [`Metrics::install`] is called (the binary does).

use std::cell::RefCell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::{AppState, SharedState};

/// Where `/metrics` reads from: the handle of the Prometheus recorder installed as the process-wide one.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// How often histogram samples are folded into their buckets.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

impl Metrics {
    /// Installs the server's own recorder (its latency buckets, an upkeep thread) as the process-wide one on first
    /// use; later calls share it. The binary's choice: an embedding application may pass its own instead.
    pub fn install() -> Self {
        let handle = HANDLE
            .get_or_init(|| {
                let recorder = PrometheusBuilder::new()
                    .set_buckets_for_metric(
                        Matcher::Suffix("_seconds".into()),
                        &[
                            0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                            1.0,
                        ],
                    )
                    .expect("the bucket list is not empty")
                    .build_recorder();
                let handle = recorder.handle();
                // The recorder keeps every histogram sample until upkeep folds it into the buckets: without a
                // periodic upkeep a server nobody scrapes would grow by 24 bytes a request.
                let upkeep = handle.clone();
                let _ = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_INTERVAL);
                        upkeep.run_upkeep();
                    }
                });
                // Another recorder may already be installed (an embedding application's): then ours only renders.
                let _ = metrics::set_global_recorder(recorder);
                handle
            })
            .clone();
        Self { handle }
    }

    /// `/metrics` from the application's own recorder, e.g. the handle `PrometheusBuilder::install_recorder`
    /// returns (its upkeep is then the application's). It must be the process-wide one, installed before the
    /// server's first request: the server records through the `metrics` facade, keeping each thread's handles.
    pub fn from_handle(handle: PrometheusHandle) -> Self {
        Self { handle }
    }

    /// The Prometheus text exposition, with the gauges of `state`'s registry and caches refreshed first.
    pub fn render(&self, state: &AppState) -> String {
        let registry = &state.registry;
        let stats = registry.stats();
        for (cache, counters) in [
            ("schemas", stats.schemas),
            ("parsed", stats.parsed),
            ("text_fingerprints", stats.text_fingerprints),
            ("subject_fingerprints", stats.subject_fingerprints),
            ("latest", stats.latest),
            ("validators", stats.validators),
        ] {
            metrics::counter!("registry_cache_hits_total", "cache" => cache).absolute(counters.hits);
            metrics::counter!("registry_cache_misses_total", "cache" => cache).absolute(counters.misses);
        }
        let answers = &state.answer_counts;
        for (cache, counter) in
            [("rendered_answers", &answers.rendered), ("registration_answers", &answers.registrations)]
        {
            let (hits, misses) = counter.get();
            metrics::counter!("registry_cache_hits_total", "cache" => cache).absolute(hits);
            metrics::counter!("registry_cache_misses_total", "cache" => cache).absolute(misses);
        }
        if let Ok(counts) = registry.counts() {
            metrics::gauge!("registry_subjects").set(counts.subjects as f64);
            metrics::gauge!("registry_schemas").set(counts.schemas as f64);
        }
        self.handle.render()
    }
}

/// Hits and misses of one of the server's own caches.
#[derive(Debug, Default)]
pub(crate) struct HitCounter {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl HitCounter {
    /// Counts one lookup.
    pub(crate) fn record(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// (hits, misses) so far.
    pub(crate) fn get(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }
}

/// One route's handles for one method and status.
struct RequestHandles {
    method: Method,
    route: Box<str>,
    status: StatusCode,
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

thread_local! {
    /// Handles made once per thread: the `metrics` macros build, hash and look up a labelled key on every call,
    /// which costs more than the cached read it would measure. Routes, methods and statuses are few, so this
    /// stays small.
    static REQUEST_HANDLES: RefCell<Vec<RequestHandles>> = const { RefCell::new(Vec::new()) };
}

/// Counts one request and its latency. `route` is the matched route pattern (never the raw path, which would
/// make a label per URL).
pub(crate) fn record_request(method: &Method, route: &str, status: StatusCode, elapsed: Duration) {
    REQUEST_HANDLES.with_borrow_mut(|handles| {
        let found = handles.iter().position(|h| h.status == status && h.method == method && *h.route == *route);
        let index = found.unwrap_or_else(|| {
            // An unknown method would make a label per spelling; it is counted as OTHER.
            let method_label = if is_standard(method) { method.as_str() } else { "OTHER" };
            let labels = [("method", method_label.to_string()), ("route", route.to_string())];
            handles.push(RequestHandles {
                method: method.clone(),
                route: route.into(),
                status,
                requests: metrics::counter!(
                    "http_requests_total",
                    "method" => method_label.to_string(),
                    "route" => route.to_string(),
                    "status" => status.as_u16().to_string()
                ),
                duration: metrics::histogram!("http_request_duration_seconds", &labels),
            });
            handles.len() - 1
        });
        let handle = &handles[index];
        handle.requests.increment(1);
        handle.duration.record(elapsed.as_secs_f64());
    });
}

fn is_standard(method: &Method) -> bool {
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
        Method::TRACE,
        Method::CONNECT,
    ]
    .contains(method)
}

thread_local! {
    /// Outcome counters made once per thread, for the reason given at [`REQUEST_HANDLES`].
    static OUTCOME_HANDLES: RefCell<Vec<(&'static str, &'static str, metrics::Counter)>> = const { RefCell::new(Vec::new()) };
}

/// Counts one registry outcome, e.g. `("registrations", "new")`.
pub(crate) fn record_outcome(what: &'static str, outcome: &'static str) {
    OUTCOME_HANDLES.with_borrow_mut(|handles| {
        let found = handles.iter().position(|(w, o, _)| *w == what && *o == outcome);
        let index = found.unwrap_or_else(|| {
            handles.push((what, outcome, metrics::counter!(format!("registry_{what}_total"), "outcome" => outcome)));
            handles.len() - 1
        });
        handles[index].2.increment(1);
    });
}

/// Records a registration's outcome, for both APIs alike: `new`, `deduplicated`, `incompatible` (409), `invalid`
/// (another client error) or `error` (the server's).
pub(crate) fn record_registration(result: Result<bool, &crate::error::ApiError>) {
    let outcome = match result {
        Ok(true) => "deduplicated",
        Ok(false) => "new",
        Err(e) if e.status == axum::http::StatusCode::CONFLICT => "incompatible",
        Err(e) if e.status.is_client_error() => "invalid",
        Err(_) => "error",
    };
    record_outcome("registrations", outcome);
}

/// Records a compatibility check's outcome, for both APIs alike: `compatible`, `incompatible` or `error`.
pub(crate) fn record_compatibility<E>(result: Result<&registry_core::compat::CompatReport, E>) {
    let outcome = match result {
        Ok(r) if r.is_compatible() => "compatible",
        Ok(_) => "incompatible",
        Err(_) => "error",
    };
    record_outcome("compatibility_checks", outcome);
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn render(State(state): State<SharedState>) -> Response {
    match &state.metrics {
        Some(metrics) => {
            let body = metrics.render(&state);
            ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
        }
        None => crate::error::not_found("/metrics".parse().expect("a valid path")).await.into_response(),
    }
}
