//! Prometheus metrics through the `metrics` facade: per-route request counters and latency histograms,
//! registry outcomes, and, at scrape time, cache hits and misses and the subject and schema counts.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

/// The process-wide Prometheus recorder's handle.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

impl Metrics {
    /// Installs the process-wide recorder on first use; later calls share it.
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
                // Another recorder may already be installed (an embedding application's): then ours only renders.
                let _ = metrics::set_global_recorder(recorder);
                handle
            })
            .clone();
        Self { handle }
    }

    /// The Prometheus text exposition, with the registry's gauges refreshed first.
    pub fn render(&self, registry: &registry_store::Registry) -> String {
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
        if let Ok(counts) = registry.counts() {
            metrics::gauge!("registry_subjects").set(counts.subjects as f64);
            metrics::gauge!("registry_schemas").set(counts.schemas as f64);
        }
        self.handle.render()
    }
}

/// Counts one request and its latency.
pub(crate) fn record_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let labels = [("method", method.to_string()), ("route", route.to_string())];
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    metrics::counter!("http_requests_total", "method" => method.to_string(), "route" => route.to_string(), "status" => status.to_string())
        .increment(1);
}

/// Counts one registry outcome, e.g. `("registrations", "new")`.
pub(crate) fn record_outcome(what: &'static str, outcome: &'static str) {
    metrics::counter!(format!("registry_{what}_total"), "outcome" => outcome).increment(1);
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn render(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(metrics) => {
            let body = metrics.render(&state.registry);
            ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
        }
        None => crate::error::not_found("/metrics".parse().expect("a valid path")).await.into_response(),
    }
}
