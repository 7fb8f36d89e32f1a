//! Table-driven router tests: each file in `tests/http/` holds scenarios, each a list of requests against a
//! fresh in-memory registry with the status, body (a partial match) and headers expected. Every answer must
//! carry `x-request-id`, every JSON answer Confluent's content type, and nothing may answer 500.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use registry_http::metrics::Metrics;
use registry_http::{AppState, AuthKeys, Role, app, server};
use registry_store::{Registry, RegistryOptions};
use serde_json::Value;
use tower::ServiceExt;

/// `expected` matches `actual` when every key it names matches (recursively), arrays element by element with
/// equal lengths; scalars must be equal.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        // An expected `null` also matches a member left out.
        (Value::Object(e), Value::Object(a)) => {
            e.iter().all(|(k, v)| a.get(k).map_or(v.is_null(), |av| matches(v, av)))
        }
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(e, a)| matches(e, a)),
        _ => expected == actual,
    }
}

/// A step's `expect_contains` or `expect_absent`: one string or a list of them.
fn fragments(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().map(|v| v.as_str().expect("a string fragment")).collect(),
        _ => Vec::new(),
    }
}

fn state_for(scenario: &Value) -> AppState {
    let mut state = AppState::new(Registry::in_memory(RegistryOptions::default()).expect("registry"))
        .with_metrics(Metrics::install());
    if let Some(limit) = scenario.get("max_body_bytes").and_then(Value::as_u64) {
        state.max_body_bytes = limit as usize;
    }
    if let Some(limit) = scenario.get("max_validate_items").and_then(Value::as_u64) {
        state.max_validate_items = limit as usize;
    }
    state.mcp_writes = scenario.get("mcp_writes").and_then(Value::as_bool).unwrap_or(false);
    if scenario.get("console").and_then(Value::as_bool) == Some(false) {
        state.console = false;
    }
    if scenario.get("auth").and_then(Value::as_bool) == Some(true) {
        let keys = AuthKeys::default()
            .with_key("reader-key", Role::Reader)
            .with_key("writer-key", Role::Writer)
            .with_key("admin-key", Role::Admin);
        state.auth = Some(Arc::new(keys));
    }
    state
}

async fn send(state: &AppState, step: &Value) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let method = step["method"].as_str().expect("method");
    let path = step["path"].as_str().expect("path");
    let mut request = Request::builder().method(method).uri(path);
    let bytes = match (step.get("body"), step.get("raw")) {
        (Some(body), _) => {
            // Unless the step names its own (an MCP call is plain JSON).
            if step.get("headers").and_then(|h| h.get("content-type")).is_none() {
                request = request.header("content-type", "application/vnd.schemaregistry.v1+json");
            }
            Some(body.to_string().into_bytes())
        }
        (None, Some(Value::String(raw))) => Some(raw.clone().into_bytes()),
        (None, Some(Value::Number(n))) => Some(vec![b'x'; n.as_u64().expect("size") as usize]),
        _ => None,
    };
    // As HTTP clients send a body: with its length declared (unless the step declares one of its own).
    let declares = step.get("headers").and_then(|h| h.get("content-length")).is_some();
    let body = match bytes {
        Some(bytes) => {
            if !declares {
                request = request.header("content-length", bytes.len());
            }
            Body::from(bytes)
        }
        None => Body::empty(),
    };
    if let Some(Value::Object(headers)) = step.get("headers") {
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str().expect("header value"));
        }
    }
    // Through the server as the binary runs it: the get-by-id shortcut, then the router.
    let response = server(state.clone()).oneshot(request.body(body).expect("request")).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    (status, headers, bytes.to_vec())
}

#[tokio::test]
async fn http_scenarios() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/http");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("dir").map(|e| e.expect("entry").path()).collect();
    files.sort();
    let mut failures = Vec::new();
    let mut steps_run = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let scenarios: Value = serde_json::from_str(&text).expect("valid JSON scenario file");
        for scenario in scenarios.as_array().expect("array") {
            let name = scenario["name"].as_str().expect("name");
            let state = state_for(scenario);
            for (i, step) in scenario["steps"].as_array().expect("steps").iter().enumerate() {
                steps_run += 1;
                let (status, headers, body) = send(&state, step).await;
                let label = format!(
                    "{}: '{name}' step {i} ({} {})",
                    file.file_name().unwrap().to_string_lossy(),
                    step["method"],
                    step["path"]
                );
                let mut problems = Vec::new();
                match step["status"].as_u64() {
                    Some(want) if status.as_u16() != want as u16 => {
                        problems.push(format!("status {} (want {want})", status.as_u16()));
                    }
                    Some(_) => {}
                    None => {
                        let refused = step["status_not"].as_array().expect("status or status_not");
                        if refused.iter().any(|s| s.as_u64() == Some(u64::from(status.as_u16()))) {
                            problems.push(format!("status {} (must not be one of {refused:?})", status.as_u16()));
                        }
                    }
                }
                if status == StatusCode::INTERNAL_SERVER_ERROR {
                    problems.push("answered 500".into());
                }
                if !headers.contains_key("x-request-id") {
                    problems.push("no x-request-id".into());
                }
                if let Some(Value::Object(expected)) = step.get("expect_headers") {
                    for (name, want) in expected {
                        let got = headers.get(name.as_str()).and_then(|v| v.to_str().ok());
                        if got != want.as_str() {
                            problems.push(format!("header {name}: {got:?} (want {want})"));
                        }
                    }
                }
                let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
                let parsed: Option<Value> = serde_json::from_slice(&body).ok();
                if let Some(expected) = step.get("expect") {
                    match &parsed {
                        Some(actual) if matches(expected, actual) => {}
                        _ => problems.push(format!("body {}", String::from_utf8_lossy(&body))),
                    }
                }
                if let Some(Value::String(expected)) = step.get("expect_text")
                    && String::from_utf8_lossy(&body) != *expected
                {
                    problems.push(format!("text {}", String::from_utf8_lossy(&body)));
                }
                let text = String::from_utf8_lossy(&body);
                for fragment in fragments(step.get("expect_contains")) {
                    if !text.contains(fragment) {
                        problems.push(format!("body lacks '{fragment}': {text}"));
                    }
                }
                for fragment in fragments(step.get("expect_absent")) {
                    if text.contains(fragment) {
                        problems.push(format!("body has '{fragment}': {text}"));
                    }
                }
                if step.get("expect_text").is_none() && step.get("raw_answer").is_none() {
                    if content_type != "application/vnd.schemaregistry.v1+json" {
                        problems.push(format!("content type '{content_type}'"));
                    }
                    if parsed.is_none() {
                        problems.push(format!("body is not JSON: {}", String::from_utf8_lossy(&body)));
                    }
                }
                if !status.is_success() {
                    let has_error_body =
                        parsed.as_ref().is_some_and(|v| v.get("error_code").is_some() && v.get("message").is_some());
                    if !has_error_body {
                        problems.push(format!("error without a JSON error body: {}", String::from_utf8_lossy(&body)));
                    }
                }
                if !problems.is_empty() {
                    failures.push(format!("{label}: {}", problems.join("; ")));
                }
            }
        }
    }
    assert!(steps_run >= 150, "expected at least 150 HTTP steps, ran {steps_run}");
    assert!(failures.is_empty(), "{} failing steps:\n{}", failures.len(), failures.join("\n"));
}

/// Sends the same registration five times to `service`; returns the answers and what reached the registry.
async fn register_five_times<S>(service: S, registry: &Registry) -> (Vec<axum::body::Bytes>, (u64, u64))
where
    S: tower::Service<Request<Body>, Response = axum::response::Response, Error = std::convert::Infallible> + Clone,
{
    let body = r#"{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}"}"#;
    let mut answers = Vec::new();
    for _ in 0..5 {
        let request = Request::post("/subjects/s/versions")
            .header("content-type", "application/vnd.schemaregistry.v1+json")
            .header("content-length", body.len())
            .body(Body::from(body))
            .expect("request");
        let response = service.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        answers.push(axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body"));
    }
    let stats = registry.stats();
    (answers, (stats.text_fingerprints.hits, stats.subject_fingerprints.hits))
}

/// A registration repeated is remembered, and from then on answered from the server's memo without asking the
/// registry again: by the router's handler, and by the server's shortcut in front of it.
#[tokio::test]
async fn a_repeated_registration_does_not_reach_the_registry() {
    for through_the_front in [false, true] {
        let registry = Registry::in_memory(RegistryOptions::default()).expect("registry");
        let state = AppState::new(registry.clone());
        let (answers, reached) = if through_the_front {
            register_five_times(server(state), &registry).await
        } else {
            register_five_times(app(state), &registry).await
        };
        assert!(answers.iter().all(|a| a.starts_with(br#"{"id":1,"version":1,"schemaType":"AVRO","#)), "{answers:?}");
        assert!(answers.iter().all(|a| a == &answers[0]), "every answer is the first: {answers:?}");
        assert_eq!(
            reached,
            (1, 1),
            "only the first request (new) and the second (a repeat, then remembered) reached the registry"
        );
    }
}

async fn get(
    service: &registry_http::Server,
    path: &str,
    header: Option<(&str, &str)>,
) -> (StatusCode, String, String, Vec<u8>) {
    let mut request = Request::get(path);
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let response = service.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("infallible");
    let text = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (content_type, request_id) = (text("content-type"), text("x-request-id"));
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body").to_vec();
    (status, content_type, request_id, body)
}

/// The get-by-id shortcut answers exactly as the router does, never after the id is gone, and never past auth.
#[tokio::test]
async fn the_get_by_id_shortcut_answers_as_the_router_does() {
    let registry = Registry::in_memory(RegistryOptions::default()).expect("registry");
    let state = AppState::new(registry.clone());
    let (routed, front) = (app(state.clone()), server(state.clone()));
    let subject = registry_core::Subject::new("s").expect("subject");
    let schema = registry_core::UnparsedSchema::new(
        registry_core::SchemaType::Avro,
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}"#,
    );
    let id = registry.register(&subject, &schema).expect("registered").id.0;
    let path = format!("/schemas/ids/{id}");

    // The first answer is rendered by the router; the later ones come from the shortcut.
    let first = get(&front, &path, None).await;
    let again = get(&front, &path, None).await;
    let by_router = {
        let request = Request::get(&path).body(Body::empty()).expect("request");
        let response = routed.oneshot(request).await.expect("infallible");
        axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body").to_vec()
    };
    assert_eq!(first.0, StatusCode::OK);
    assert_eq!((&again.0, &again.1, &again.3), (&first.0, &first.1, &first.3), "same status, type and body");
    assert_eq!(again.3, by_router);
    assert!(!again.2.is_empty() && again.2 != first.2, "each answer has its own request id");
    assert_eq!(get(&front, &path, Some(("x-request-id", "trace-7"))).await.2, "trace-7");
    // Shapes the shortcut leaves to the router answer as the router does.
    for other in
        [format!("/schemas/ids/00{id}"), format!("/schemas/ids/{id}?format=serialized"), format!("/schemas/ids/+{id}")]
    {
        assert_eq!(get(&front, &other, None).await.0, StatusCode::OK, "{other}");
    }
    // A trailing slash is the path without it, as Confluent's routes take it.
    assert_eq!(get(&front, &format!("/schemas/ids/{id}/"), None).await.0, StatusCode::OK);

    // Gone is gone, however recently it was rendered.
    registry.delete_subject(&subject, registry_store::Deletion::Soft).expect("soft delete");
    registry.delete_subject(&subject, registry_store::Deletion::Permanent).expect("permanent delete");
    let (status, _, _, body) = get(&front, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{}", String::from_utf8_lossy(&body));

    // With auth on, a rendered answer still needs a key.
    let registry = Registry::in_memory(RegistryOptions::default()).expect("registry");
    let id = registry.register(&subject, &schema).expect("registered").id.0;
    let mut state = AppState::new(registry);
    state.auth = Some(Arc::new(AuthKeys::default().with_key("reader-key", Role::Reader)));
    let front = server(state);
    let path = format!("/schemas/ids/{id}");
    assert_eq!(get(&front, &path, Some(("x-api-key", "reader-key"))).await.0, StatusCode::OK);
    assert_eq!(get(&front, &path, Some(("x-api-key", "reader-key"))).await.0, StatusCode::OK);
    assert_eq!(get(&front, &path, None).await.0, StatusCode::UNAUTHORIZED);
}

/// The get-latest shortcut answers byte for byte as the router does, follows every new version and delete, leaves
/// other shapes and errors to the router, and never answers past auth.
#[tokio::test]
async fn the_get_latest_shortcut_answers_as_the_router_does() {
    let registry = Registry::in_memory(RegistryOptions::default()).expect("registry");
    let state = AppState::new(registry.clone());
    let (routed, front) = (app(state.clone()), server(state.clone()));
    let by_router = |path: String| {
        let routed = routed.clone();
        async move {
            let response = routed.oneshot(Request::get(&path).body(Body::empty()).expect("request")).await;
            let response = response.expect("infallible");
            let status = response.status();
            (status, axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body").to_vec())
        }
    };
    let json = |fields: usize| {
        let properties: Vec<String> = (0..fields).map(|i| format!(r#""f{i}":{{"type":"string"}}"#)).collect();
        let text =
            format!(r#"{{"type":"object","properties":{{{}}},"additionalProperties":false}}"#, properties.join(","));
        registry_core::UnparsedSchema::new(registry_core::SchemaType::Json, text)
    };
    let subject = registry_core::Subject::new("orders.v1-value").expect("subject");
    let path = "/subjects/orders.v1-value/versions/latest".to_string();

    for version in 1..=3 {
        registry.register(&subject, &json(version)).expect("registered");
        // The first answer renders the id's answer; the second finds it rendered. Both match the router's.
        for _ in 0..2 {
            let (status, content_type, request_id, body) = get(&front, &path, None).await;
            assert_eq!((status, by_router(path.clone()).await), (StatusCode::OK, (StatusCode::OK, body.clone())));
            assert_eq!(content_type, "application/vnd.schemaregistry.v1+json");
            assert!(!request_id.is_empty());
            let answer: Value = serde_json::from_slice(&body).expect("JSON");
            assert_eq!(
                (answer["version"].as_u64(), answer["schemaType"].as_str()),
                (Some(version as u64), Some("JSON"))
            );
        }
    }
    // Shapes the shortcut leaves to the router answer as the router does.
    for other in ["/subjects/orders.v1-value/versions/-1", "/subjects/orders%2Ev1-value/versions/latest"] {
        let (status, _, _, body) = get(&front, other, None).await;
        assert_eq!((status, body), by_router(other.to_string()).await, "{other}");
    }

    // A soft-deleted latest version is not the latest any more; with none left, the router's 404.
    registry.delete_version(&subject, registry_core::VersionSelector::Latest, registry_store::Deletion::Soft).unwrap();
    let (status, _, _, body) = get(&front, &path, None).await;
    let answer: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!((status, answer["version"].as_u64()), (StatusCode::OK, Some(2)));
    let with_deleted = format!("{path}?deleted=true");
    let (_, _, _, body) = get(&front, &with_deleted, None).await;
    assert_eq!(serde_json::from_slice::<Value>(&body).expect("JSON")["version"].as_u64(), Some(3), "a query: routed");
    registry.delete_subject(&subject, registry_store::Deletion::Soft).expect("soft delete");
    let (status, _, _, body) = get(&front, &path, None).await;
    let error: Value = serde_json::from_slice(&body).expect("a JSON error");
    assert_eq!((status, error["error_code"].as_u64()), (StatusCode::NOT_FOUND, Some(40401)));
    assert_eq!(get(&front, "/subjects/nobody/versions/latest", None).await.0, StatusCode::NOT_FOUND);

    // With auth on, the answer still needs a key.
    let registry = Registry::in_memory(RegistryOptions::default()).expect("registry");
    registry.register(&subject, &json(1)).expect("registered");
    let mut state = AppState::new(registry);
    state.auth = Some(Arc::new(AuthKeys::default().with_key("reader-key", Role::Reader)));
    let front = server(state);
    assert_eq!(get(&front, &path, Some(("x-api-key", "reader-key"))).await.0, StatusCode::OK);
    assert_eq!(get(&front, &path, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&front, &path, Some(("x-api-key", "wrong"))).await.0, StatusCode::UNAUTHORIZED);
}

/// Sends a `POST` with `body` (its length declared, as HTTP clients send it, and request id `v-1`) to `service`
/// and reads the answer's
/// status, content type, request id and body.
async fn post<S>(service: S, path: &str, body: &str, headers: &[(&str, &str)]) -> (StatusCode, String, String, String)
where
    S: tower::Service<Request<Body>, Response = axum::response::Response, Error = std::convert::Infallible>,
{
    let mut request = Request::post(path).header("content-length", body.len()).header("x-request-id", "v-1");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response =
        service.oneshot(request.body(Body::from(body.to_string())).expect("request")).await.expect("infallible");
    let text = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (status, content_type, request_id) = (response.status(), text("content-type"), text("x-request-id"));
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    (status, content_type, request_id, String::from_utf8_lossy(&bytes).into_owned())
}

/// The validation shortcut answers every body as the router does, whether the validator is compiled yet or not,
/// and never past auth.
#[tokio::test]
async fn the_validate_shortcut_answers_as_the_router_does() {
    let registry = Registry::in_memory(RegistryOptions::default()).expect("registry");
    let state = AppState::new(registry.clone());
    let (routed, front) = (app(state.clone()), server(state.clone()));
    let subject = registry_core::Subject::new("orders-value").expect("subject");
    let schema = registry_core::UnparsedSchema::new(
        registry_core::SchemaType::Json,
        r#"{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}"#,
    );
    let id = registry.register(&subject, &schema).expect("registered").id.0;
    let path = format!("/api/v1/validate/{id}");
    let json = [("content-type", "application/json")];
    // Each body twice: the first may compile the validator (on the router's side), the second finds it compiled.
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], StatusCode);
    let cases: &[Case] = &[
        ("valid", r#"{"data":{"n":1}}"#, &json, StatusCode::OK),
        ("invalid", r#"{"data":{"n":"one"}}"#, &json, StatusCode::OK),
        ("null document", r#"{"data":null}"#, &json, StatusCode::OK),
        ("a batch", r#"{"items":[{"n":1},{}]}"#, &json, StatusCode::OK),
        ("no content type", r#"{"data":{"n":1}}"#, &[], StatusCode::OK),
        ("malformed JSON", r#"{"data":"#, &json, StatusCode::BAD_REQUEST),
        ("an unknown field", r#"{"data":{"n":1},"extra":1}"#, &json, StatusCode::UNPROCESSABLE_ENTITY),
        ("two inputs", r#"{"data":{"n":1},"items":[]}"#, &json, StatusCode::UNPROCESSABLE_ENTITY),
        ("an Avro datum for a JSON Schema", r#"{"data_base64":"AA=="}"#, &json, StatusCode::UNPROCESSABLE_ENTITY),
        (
            "a text content type",
            r#"{"data":{"n":1}}"#,
            &[("content-type", "text/plain")],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ];
    for (what, body, headers, status) in cases {
        for round in 0..2 {
            let answered = post(front.clone(), &path, body, headers).await;
            let by_router = post(routed.clone(), &path, body, headers).await;
            assert_eq!(answered.0, *status, "{what}, round {round}: {}", answered.3);
            assert_eq!(answered, by_router, "{what}, round {round}");
        }
    }
    let (_, content_type, request_id, body) = post(front.clone(), &path, r#"{"data":{"n":"one"}}"#, &json).await;
    assert_eq!((content_type.as_str(), request_id.as_str()), ("application/vnd.schemaregistry.v1+json", "v-1"));
    let answer: Value = serde_json::from_slice(body.as_bytes()).expect("JSON");
    assert_eq!(
        (answer["valid"].as_bool(), answer["errors"][0]["path"].as_str()),
        (Some(false), Some("/n")),
        "{answer}"
    );
    // Ids the shortcut leaves to the router, or that name nothing, answer as the router does.
    for other in [format!("/api/v1/validate/00{id}"), "/api/v1/validate/999".into(), "/api/v1/validate/x".into()] {
        let body = r#"{"data":{"n":1}}"#;
        assert_eq!(post(front.clone(), &other, body, &json).await, post(routed.clone(), &other, body, &json).await);
    }
    assert_eq!(post(front.clone(), "/api/v1/validate/999", r#"{"data":1}"#, &json).await.0, StatusCode::NOT_FOUND);

    // With auth on, a compiled validator still needs a key.
    let mut state = AppState::new(registry);
    state.auth = Some(Arc::new(AuthKeys::default().with_key("reader-key", Role::Reader)));
    let front = server(state);
    let body = r#"{"data":{"n":1}}"#;
    assert_eq!(post(front.clone(), &path, body, &[("x-api-key", "reader-key")]).await.0, StatusCode::OK);
    assert_eq!(post(front.clone(), &path, body, &[]).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(post(front.clone(), &path, body, &[("x-api-key", "wrong")]).await.0, StatusCode::UNAUTHORIZED);
}

/// A body that fails while it is read, as when the client goes away mid-request.
struct Broken;

impl http_body::Body for Broken {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::other("the client went away"))))
    }
}

/// A registration whose body cannot be read is a 400 with the request's id, through the shortcut or the router.
#[tokio::test]
async fn a_body_that_cannot_be_read_is_a_400_either_way() {
    let state = AppState::new(Registry::in_memory(RegistryOptions::default()).expect("registry"));
    for through_the_front in [true, false] {
        let request = Request::post("/subjects/s/versions")
            .header("content-type", "application/json")
            .header("content-length", "20")
            .header("x-request-id", "broken-1")
            .body(Body::new(Broken))
            .expect("request");
        let response = if through_the_front {
            server(state.clone()).oneshot(request).await
        } else {
            app(state.clone()).oneshot(request).await
        }
        .expect("infallible");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "front: {through_the_front}");
        assert_eq!(response.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("broken-1"));
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        let error: Value = serde_json::from_slice(&body).expect("a JSON error");
        assert_eq!(
            (error["error_code"].as_u64(), error["request_id"].as_str()),
            (Some(400), Some("broken-1")),
            "{error}"
        );
    }
}

/// Sends `body` as the scenarios do ([`send`]) and reads the JSON answer.
async fn send_json(state: &AppState, method: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let (status, _, bytes) = send(state, &serde_json::json!({"method": method, "path": path, "body": body})).await;
    (status, serde_json::from_slice(&bytes).expect("a JSON answer"))
}

async fn post_json(state: &AppState, path: &str, body: &Value) -> (StatusCode, Value) {
    send_json(state, "POST", path, body).await
}

/// A JSON Schema object with `fields` string properties, each with a long description: about 100 bytes a field.
fn wide_schema(fields: usize, kind: &str) -> String {
    let properties: serde_json::Map<String, Value> = (0..fields)
        .map(|i| (format!("field_{i}"), serde_json::json!({"type": kind, "description": "x".repeat(60)})))
        .collect();
    serde_json::json!({"type": "object", "properties": properties, "additionalProperties": false}).to_string()
}

/// A registration answer's id and version (it carries the schema registered too).
fn id_version(answer: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({"id": answer["id"], "version": answer["version"]})
}

/// Large schemas, schemas with references and subjects with a transitive level are parsed and checked on the
/// blocking pool rather than on the async worker; they register, deduplicate and are refused exactly as small ones
/// are.
#[tokio::test]
async fn schemas_parsed_off_the_worker_register_as_small_ones_do() {
    let state = AppState::new(Registry::in_memory(RegistryOptions::default()).expect("registry"));
    let large = wide_schema(400, "string");
    assert!(large.len() > 32 << 10, "the schema must be larger than what is parsed inline: {}", large.len());
    let register = |schema: &str| serde_json::json!({"schemaType": "JSON", "schema": schema});

    let (status, body) = post_json(&state, "/subjects/wide/versions", &register(&large)).await;
    assert_eq!((status, id_version(&body)), (StatusCode::OK, serde_json::json!({"id": 1, "version": 1})));
    let (status, body) = post_json(&state, "/subjects/wide/versions", &register(&large)).await;
    assert_eq!(
        (status, id_version(&body)),
        (StatusCode::OK, serde_json::json!({"id": 1, "version": 1})),
        "a repeat is the same"
    );
    let (status, body) = post_json(&state, "/subjects/wide/versions", &register(&wide_schema(400, "integer"))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error_code"], 409);
    let (status, body) = post_json(&state, "/subjects/wide/versions", &register("{not json")).await;
    assert_eq!((status, body["error_code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, Value::from(42201)));

    let with_reference = serde_json::json!({
        "schemaType": "JSON",
        "schema": r#"{"type":"object","properties":{"w":{"$ref":"wide.json"}}}"#,
        "references": [{"name": "wide.json", "subject": "wide", "version": 1}],
    });
    let (status, body) = post_json(&state, "/subjects/outer/versions", &with_reference).await;
    assert_eq!((status, id_version(&body)), (StatusCode::OK, serde_json::json!({"id": 2, "version": 1})));
    let missing = serde_json::json!({
        "schemaType": "JSON",
        "schema": r#"{"type":"object","properties":{"w":{"$ref":"nope.json"}}}"#,
        "references": [{"name": "nope.json", "subject": "nope", "version": 1}],
    });
    let (status, body) = post_json(&state, "/subjects/outer/versions", &missing).await;
    assert_eq!((status, body["error_code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, Value::from(42201)));

    // v3 reads v2's data but not v1's (its new field has no default): refused only by a transitive level.
    let avro =
        |fields: &str| serde_json::json!({"schema": format!(r#"{{"type":"record","name":"R","fields":[{fields}]}}"#)});
    let a = r#"{"name":"a","type":"int"}"#;
    let (v1, v2, v3) = (
        avro(a),
        avro(&format!(r#"{a},{{"name":"b","type":"string","default":"x"}}"#)),
        avro(&format!(r#"{a},{{"name":"b","type":"string"}}"#)),
    );
    for (subject, level, expected) in
        [("latest-only", "BACKWARD", StatusCode::OK), ("every-version", "BACKWARD_TRANSITIVE", StatusCode::CONFLICT)]
    {
        let config = serde_json::json!({"compatibility": level});
        assert_eq!(send_json(&state, "PUT", &format!("/config/{subject}"), &config).await.0, StatusCode::OK);
        for version in [&v1, &v2] {
            assert_eq!(post_json(&state, &format!("/subjects/{subject}/versions"), version).await.0, StatusCode::OK);
        }
        let (status, body) = post_json(&state, &format!("/subjects/{subject}/versions"), &v3).await;
        assert_eq!(status, expected, "{subject} ({level}): {body}");
    }
}

/// Lookups and compatibility checks of large schemas run on the blocking pool and answer as small ones do.
#[tokio::test]
async fn large_lookups_and_compatibility_checks_off_the_worker_answer_as_small_ones_do() {
    let state = AppState::new(Registry::in_memory(RegistryOptions::default()).expect("registry"));
    let (large, retyped) = (wide_schema(400, "string"), wide_schema(400, "integer"));
    let body = |schema: &str| serde_json::json!({"schemaType": "JSON", "schema": schema});
    assert_eq!(post_json(&state, "/subjects/wide/versions", &body(&large)).await.0, StatusCode::OK);

    let (status, found) = post_json(&state, "/subjects/wide", &body(&large)).await;
    assert_eq!(
        (status, found["id"].clone(), found["version"].clone()),
        (StatusCode::OK, Value::from(1), Value::from(1))
    );
    let (status, missing) = post_json(&state, "/subjects/wide", &body(&retyped)).await;
    assert_eq!((status, missing["error_code"].clone()), (StatusCode::NOT_FOUND, Value::from(40403)));

    for path in ["/compatibility/subjects/wide/versions/latest", "/compatibility/subjects/wide/versions"] {
        let (status, same) = post_json(&state, path, &body(&large)).await;
        assert_eq!((status, same["is_compatible"].clone()), (StatusCode::OK, Value::Bool(true)), "{path}");
        let (status, other) = post_json(&state, path, &body(&retyped)).await;
        assert_eq!((status, other["is_compatible"].clone()), (StatusCode::OK, Value::Bool(false)), "{path}");
    }
    let (status, listed) = send_json(&state, "GET", "/schemas", &Value::Null).await;
    assert_eq!((status, listed.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
}

/// A request's (status, JSON body) through the whole server.
async fn call_json(service: &registry_http::Server, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = service.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("{status}: not JSON: {bytes:?}")))
}

/// Failing storage under the server: every failure is a 5xx with a JSON error body (Confluent's 50001 for a store
/// error, 50003 while the store cannot be opened again), and once the faults stop, it serves again by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_faults_are_answered_as_json_errors_and_the_server_serves_again() {
    use registry_store::faults::{Faults, Operation};
    let faults = Faults::new();
    let options = RegistryOptions { schema_cache_bytes: 0, store_cache_bytes: 0, ..RegistryOptions::default() };
    let registry = Registry::open_with_faults(None, &faults, options).expect("registry");
    let service = server(AppState::new(registry));
    let schema = |n: u32| format!(r#"{{"schema":"{{\"type\":\"record\",\"name\":\"R{n}\",\"fields\":[]}}"}}"#);
    assert_eq!(call_json(&service, "PUT", "/config", r#"{"compatibility":"NONE"}"#).await.0, StatusCode::OK);
    assert_eq!(call_json(&service, "POST", "/subjects/s/versions", &schema(0)).await.0, StatusCode::OK);

    let cases = [
        ("writes fail", Operation::Write, "POST", "/subjects/s/versions"),
        ("syncs fail", Operation::Sync, "POST", "/subjects/s/versions"),
        ("reads fail", Operation::Read, "GET", "/subjects/s/versions/1"),
    ];
    for (n, (name, operation, method, path)) in cases.into_iter().enumerate() {
        faults.fail(operation, 0, u64::MAX);
        let body = if method == "POST" { schema(n as u32 + 1) } else { String::new() };
        let (status, answer) = call_json(&service, method, path, &body).await;
        assert!(status.is_server_error(), "{name}: {status} {answer}");
        let code = answer["error_code"].as_u64().unwrap_or(0);
        assert!(code == 50001 || code == 50003, "{name}: {answer}");
        let message = answer["message"].as_str().unwrap_or("");
        assert!(message.contains("injected") || message.contains("I/O error"), "{name}: {answer}");
        faults.heal();
        // Serving again may take the store's reopening: a few tries.
        let mut served = false;
        for _ in 0..50 {
            if call_json(&service, method, path, &body).await.0 == StatusCode::OK {
                served = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(served, "{name}: not served again after healing");
    }
    let (status, health) = call_json(&service, "GET", "/health", "").await;
    assert_eq!(status, StatusCode::OK, "{health}");
}
