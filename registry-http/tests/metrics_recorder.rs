//! The metrics recorder is the embedding application's choice: `AppState::new` installs none, and a state given
//! the application's own recorder serves it on `/metrics`. One test in a process of its own, since a recorder,
//! once installed, is the process's for good.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use metrics_exporter_prometheus::PrometheusBuilder;
use registry_http::metrics::Metrics;
use registry_http::{AppState, app};
use registry_store::{Registry, RegistryOptions};
use tower::ServiceExt;

async fn get(state: &AppState, path: &str) -> (StatusCode, String) {
    let request = Request::builder().uri(path).body(Body::empty()).expect("a request");
    let response = app(state.clone()).oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn a_new_state_installs_no_recorder_and_serves_the_applications_own() {
    let state = AppState::new(Registry::in_memory(RegistryOptions::default()).expect("registry"));
    let (status, _) = get(&state, "/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no /metrics unless asked for");

    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).expect("AppState::new left the process without a recorder");
    metrics::counter!("application_own_total").increment(1);

    let state = state.with_metrics(Metrics::from_handle(handle));
    let (status, _) = get(&state, "/subjects").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = get(&state, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for line in [
        "application_own_total 1",
        "http_requests_total{method=\"GET\",route=\"/subjects\",status=\"200\"} 1",
        "registry_subjects 0",
    ] {
        assert!(body.contains(line), "{line:?} missing from the application's recorder:\n{body}");
    }
}
