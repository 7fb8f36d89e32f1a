//! Arbitrary requests through the whole server, with `tower::ServiceExt::oneshot` on a fresh in-memory registry:
//! a method (the usual ones or any token), a path (every real route with arbitrary segments, or any text), a query,
//! headers (content types, declared lengths that do or do not match the body, API keys sent every way, a request
//! id, others), and a body (JSON built from the fields the handlers read, or any bytes). Up to a dozen requests an
//! input, so registrations, deletes and mode changes meet the reads that follow them.
//!
//! Every request goes both to `registry_http::app` and to `registry_http::server` (the router behind the
//! shortcuts the binary serves through), each over its own registry: the two must answer alike. And every answer
//! must keep the project's rules: no panic, no hang, never a 5xx but the 503 of a store that cannot be reached, an
//! `x-request-id`, and for every 4xx/5xx a typed JSON error (`error_code` matching the status, `message`) in
//! Confluent's content type.

#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use registry_http::{AppState, AuthKeys, Role, app, server};
use registry_store::{Registry, RegistryOptions};
use serde_json::Value;
use tower::ServiceExt;

const MAX_REQUESTS: usize = 12;

const ROUTES: [&str; 38] = [
    "/",
    "/schemas/types",
    "/schemas",
    "/schemas/ids/{}",
    "/schemas/ids/{}/schema",
    "/schemas/ids/{}/subjects",
    "/schemas/ids/{}/versions",
    "/subjects",
    "/subjects/{}",
    "/subjects/{}/versions",
    "/subjects/{}/versions/{}",
    "/subjects/{}/versions/{}/schema",
    "/subjects/{}/versions/{}/referencedby",
    "/compatibility/subjects/{}/versions/{}",
    "/compatibility/subjects/{}/versions",
    "/config",
    "/config/{}",
    "/mode",
    "/mode/{}",
    "/health",
    "/metrics",
    "/api/v1/schemas",
    "/api/v1/schemas/{}",
    "/api/v1/compatibility/check",
    "/api/v1/subjects/{}/versions",
    "/api/v1/validate/{}",
    "/api/v1/subjects/{}/versions/{}/validate",
    "/subjects/{}/metadata",
    "/schemas/guids/{}",
    "/schemas/guids/{}/ids",
    "/dek-registry/v1/keks",
    "/dek-registry/v1/keks/{}",
    "/dek-registry/v1/keks/{}/undelete",
    "/dek-registry/v1/keks/{}/deks",
    "/dek-registry/v1/keks/{}/deks/{}",
    "/dek-registry/v1/keks/{}/deks/{}/versions",
    "/dek-registry/v1/keks/{}/deks/{}/versions/{}",
    "/dek-registry/v1/keks/{}/deks/{}/versions/{}/undelete",
];

const SEGMENTS: [&str; 20] = [
    "s",
    "orders-value",
    "1",
    "2",
    "latest",
    "-1",
    "0",
    "4294967296",
    "2147483648",
    "+1",
    "01",
    "%2F",
    "a%20b",
    ":.ctx:s",
    "%",
    "%ff",
    "..",
    "s%00",
    "%F0%9F%A6%80",
    "",
];

const METHODS: [&str; 9] = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT"];

const QUERY_KEYS: [&str; 19] = [
    "deleted",
    "deletedOnly",
    "permanent",
    "normalize",
    "verbose",
    "defaultToGlobal",
    "force",
    "subjectPrefix",
    "latestOnly",
    "offset",
    "limit",
    "format",
    "subject",
    "lookupDeletedSchema",
    "fetchMaxId",
    "deleted[]",
    "key",
    "value",
    "algorithm",
];

const QUERY_VALUES: [&str; 12] =
    ["true", "false", "", "TRUE", "x", "-1", "0", "10", "18446744073709551616", "serialized", "resolved", "%"];

const CONTENT_TYPES: [&str; 11] = [
    "application/vnd.schemaregistry.v1+json",
    "application/vnd.schemaregistry+json",
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/octet-stream",
    "text/plain",
    "application/x-www-form-urlencoded",
    "",
    "application/json;;;",
    "multipart/form-data; boundary=x",
];

const KEYS: [&str; 5] = ["reader-key", "writer-key", "admin-key", "wrong", ""];
/// `u:<key>` in base64, as Confluent clients send the key as a Basic password.
const BASIC: [&str; 5] = ["dTpyZWFkZXIta2V5", "dTp3cml0ZXIta2V5", "dTphZG1pbi1rZXk=", "dTp3cm9uZw==", "Og=="];

const HEADER_NAMES: [&str; 10] = [
    "accept",
    "transfer-encoding",
    "expect",
    "connection",
    "accept-encoding",
    "host",
    "content-encoding",
    "x-api-key",
    "authorization",
    "content-type",
];

const FIELDS: [&str; 30] = [
    "schema",
    "schemaType",
    "schema_type",
    "references",
    "id",
    "version",
    "compatibility",
    "compatibilityLevel",
    "mode",
    "subject",
    "level",
    "data",
    "items",
    "data_base64",
    "message",
    "name",
    "normalize",
    "metadata",
    "ruleSet",
    "defaultMetadata",
    "overrideMetadata",
    "defaultRuleSet",
    "overrideRuleSet",
    "compatibilityGroup",
    "kmsType",
    "kmsKeyId",
    "kmsProps",
    "encryptedKeyMaterial",
    "shared",
    "doc",
];

/// Data-contract values: metadata and rule sets, well formed or not, and what the key registry reads.
const CONTRACTS: [&str; 10] = [
    r#"{"properties":{"owner":"a","confluent:version":"1"},"tags":{"R.a":["PII"]},"sensitive":["owner"]}"#,
    r#"{"properties":{"application.version":"2"}}"#,
    r#"{}"#,
    r#"{"domainRules":[{"name":"c","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.a > 0"}]}"#,
    r#"{"migrationRules":[{"name":"m","kind":"TRANSFORM","mode":"UPGRADE","type":"JSONATA","expr":"$"}]}"#,
    r#"{"domainRules":[{"name":"c","type":"CEL"},{"name":"c","type":"CEL"}]}"#,
    r#"{"domainRules":[{"name":"x","kind":"NOPE","type":"CEL"}]}"#,
    r#"{"encodingRules":[{"name":"e","mode":"UPGRADE","type":"X","onFailure":"A,B"}]}"#,
    r#"{"k":"v"}"#,
    r#""a2V5Ig==""#,
];

const SCHEMAS: [&str; 12] = [
    r#"{"type":"record","name":"R","fields":[{"name":"a","type":"long"}]}"#,
    r#"{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"b","type":"string","default":""}]}"#,
    r#"{"type":"record","name":"R","fields":[{"name":"c","type":"int"}]}"#,
    r#""string""#,
    r#"{"type":"enum","name":"E","symbols":["A","B"]}"#,
    r#"{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}"#,
    r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#,
    "syntax = \"proto3\"; message M { int64 a = 1; }",
    "syntax = \"proto3\"; import \"r.proto\"; message N { R r = 1; }",
    r#"{"type":"record","name":"N","fields":[{"name":"r","type":"R"}]}"#,
    "{not json",
    "",
];

const SCHEMA_TYPES: [&str; 7] = ["AVRO", "JSON", "PROTOBUF", "avro", "protobuf", "XML", ""];
const LEVELS: [&str; 9] = [
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "full",
    "X",
];
const MODES: [&str; 5] = ["READWRITE", "READONLY", "IMPORT", "READWRITE_OVERRIDE", "readonly"];

fn pick<const N: usize>(items: &[&'static str; N], i: u8) -> &'static str {
    items[usize::from(i) % N]
}

/// Percent-encodes all but the unreserved characters: any text becomes a valid path segment or query value.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Arbitrary, Debug)]
enum Segment {
    Known(u8),
    Number(i64),
    Text(String),
}

impl Segment {
    fn render(&self) -> String {
        match self {
            Segment::Known(i) => pick(&SEGMENTS, *i).to_string(),
            Segment::Number(n) => n.to_string(),
            Segment::Text(text) => encode(text),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum PathChoice {
    Route {
        route: u8,
        segments: [Segment; 2],
        trailing_slash: bool,
    },
    /// Any text: most is no URI at all (and skipped), some is one no route expects.
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum QueryPart {
    Known(u8, u8),
    KnownKey(u8, String),
    Any(String, String),
    Bare(u8),
}

#[derive(Arbitrary, Debug)]
enum MethodChoice {
    Known(u8),
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum ContentType {
    Known(u8),
    Any(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum ContentLength {
    /// As clients send it: the body's length.
    Exact,
    Value(u64),
    Off(i8),
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum Auth {
    ApiKey(u8),
    Bearer(u8),
    Basic(u8),
    Any(Vec<u8>),
}

/// A JSON value shaped like what the handlers read.
#[derive(Arbitrary, Debug)]
enum Json {
    Schema(u8),
    SchemaType(u8),
    Level(u8),
    Mode(u8),
    Contract(u8),
    Reference { name: u8, subject: u8, version: i64 },
    Number(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Null,
    Array(Vec<Json>),
    Object(Vec<(u8, Json)>),
}

impl Json {
    fn build(&self, depth: usize) -> Value {
        if depth > 8 {
            return Value::Null;
        }
        match self {
            Json::Schema(i) => Value::from(pick(&SCHEMAS, *i)),
            Json::SchemaType(i) => Value::from(pick(&SCHEMA_TYPES, *i)),
            Json::Level(i) => Value::from(pick(&LEVELS, *i)),
            Json::Mode(i) => Value::from(pick(&MODES, *i)),
            Json::Contract(i) => serde_json::from_str(pick(&CONTRACTS, *i)).unwrap_or(Value::Null),
            Json::Reference { name, subject, version } => serde_json::json!({
                "name": pick(&["r.proto", "R", "", "x"], *name),
                "subject": pick(&SEGMENTS, *subject),
                "version": version,
            }),
            Json::Number(n) => Value::from(*n),
            Json::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
            Json::Text(text) => Value::from(text.as_str()),
            Json::Bool(b) => Value::from(*b),
            Json::Null => Value::Null,
            Json::Array(items) => Value::Array(items.iter().take(16).map(|j| j.build(depth + 1)).collect()),
            Json::Object(fields) => Value::Object(
                fields.iter().take(16).map(|(k, v)| (pick(&FIELDS, *k).to_string(), v.build(depth + 1))).collect(),
            ),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum BodyChoice {
    Empty,
    /// An object of the fields handlers read.
    Fields(Vec<(u8, Json)>),
    Json(Json),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Req {
    method: MethodChoice,
    path: PathChoice,
    query: Vec<QueryPart>,
    content_type: Option<ContentType>,
    content_length: Option<ContentLength>,
    auth: Option<Auth>,
    request_id: Option<String>,
    headers: Vec<(u8, Vec<u8>)>,
    body: BodyChoice,
}

#[derive(Arbitrary, Debug)]
struct Input {
    auth: bool,
    small_body_limit: bool,
    requests: Vec<Req>,
}

impl Req {
    fn path(&self) -> String {
        let mut path = match &self.path {
            PathChoice::Route { route, segments, trailing_slash } => {
                let mut path = pick(&ROUTES, *route).to_string();
                for segment in segments {
                    if let Some(at) = path.find("{}") {
                        path.replace_range(at..at + 2, &segment.render());
                    }
                }
                if *trailing_slash {
                    path.push('/');
                }
                path
            }
            PathChoice::Raw(text) => text.clone(),
        };
        let query: Vec<String> = self
            .query
            .iter()
            .take(6)
            .map(|part| match part {
                QueryPart::Known(k, v) => format!("{}={}", pick(&QUERY_KEYS, *k), pick(&QUERY_VALUES, *v)),
                QueryPart::KnownKey(k, v) => format!("{}={}", pick(&QUERY_KEYS, *k), encode(v)),
                QueryPart::Any(k, v) => format!("{}={}", encode(k), encode(v)),
                QueryPart::Bare(k) => pick(&QUERY_KEYS, *k).to_string(),
            })
            .collect();
        if !query.is_empty() {
            path.push('?');
            path.push_str(&query.join("&"));
        }
        path
    }

    fn body(&self) -> Vec<u8> {
        match &self.body {
            BodyChoice::Empty => Vec::new(),
            BodyChoice::Fields(fields) => {
                let object: serde_json::Map<String, Value> =
                    fields.iter().take(16).map(|(k, v)| (pick(&FIELDS, *k).to_string(), v.build(1))).collect();
                Value::Object(object).to_string().into_bytes()
            }
            BodyChoice::Json(json) => json.build(0).to_string().into_bytes(),
            BodyChoice::Raw(bytes) => bytes.clone(),
        }
    }

    /// The request, or `None` when its parts make no valid HTTP request (a method or URI that does not parse).
    fn build(&self) -> Option<(Request<Body>, bool)> {
        let method = match &self.method {
            MethodChoice::Known(i) => Method::from_bytes(pick(&METHODS, *i).as_bytes()).ok()?,
            MethodChoice::Any(text) => Method::from_bytes(text.as_bytes()).ok()?,
        };
        let head = method == Method::HEAD;
        let body = self.body();
        let mut request = Request::builder().method(method).uri(self.path());
        let headers = request.headers_mut()?;
        let mut insert = |name: HeaderName, value: &[u8]| {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                headers.append(name, value);
            }
        };
        match &self.content_type {
            Some(ContentType::Known(i)) => {
                insert(HeaderName::from_static("content-type"), pick(&CONTENT_TYPES, *i).as_bytes())
            }
            Some(ContentType::Any(bytes)) => insert(HeaderName::from_static("content-type"), bytes),
            None => {}
        }
        let length = match &self.content_length {
            None => None,
            Some(ContentLength::Exact) => Some(body.len().to_string()),
            Some(ContentLength::Value(n)) => Some(n.to_string()),
            Some(ContentLength::Off(delta)) => Some((body.len() as i64 + i64::from(*delta)).to_string()),
            Some(ContentLength::Any(text)) => Some(text.clone()),
        };
        if let Some(length) = length {
            insert(HeaderName::from_static("content-length"), length.as_bytes());
        }
        match &self.auth {
            Some(Auth::ApiKey(i)) => insert(HeaderName::from_static("x-api-key"), pick(&KEYS, *i).as_bytes()),
            Some(Auth::Bearer(i)) => {
                insert(HeaderName::from_static("authorization"), format!("Bearer {}", pick(&KEYS, *i)).as_bytes())
            }
            Some(Auth::Basic(i)) => {
                insert(HeaderName::from_static("authorization"), format!("Basic {}", pick(&BASIC, *i)).as_bytes())
            }
            Some(Auth::Any(bytes)) => insert(HeaderName::from_static("authorization"), bytes),
            None => {}
        }
        // Without one of its own, each request gets the same id on both sides, so the answers compare byte for byte.
        let id = self.request_id.as_deref().unwrap_or("fuzz");
        insert(HeaderName::from_static("x-request-id"), id.as_bytes());
        for (name, value) in self.headers.iter().take(4) {
            insert(HeaderName::from_static(pick(&HEADER_NAMES, *name)), value);
        }
        Some((request.body(Body::from(body)).ok()?, head))
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime"))
}

fn state(input: &Input) -> AppState {
    let registry = Registry::in_memory(RegistryOptions::default().with_cache_budget(1 << 20)).expect("a registry");
    let mut state = AppState::new(registry)
        .with_metrics(registry_http::metrics::Metrics::install())
        .with_rendered_cache_bytes(1 << 20)
        .with_registration_capacity(1_000);
    if input.small_body_limit {
        state.max_body_bytes = 64;
    }
    if input.auth {
        let keys = AuthKeys::default()
            .with_key("reader-key", Role::Reader)
            .with_key("writer-key", Role::Writer)
            .with_key("admin-key", Role::Admin);
        state.auth = Some(Arc::new(keys));
    }
    state
}

struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    request_id: bool,
    body: Vec<u8>,
}

async fn send<S>(service: S, request: Request<Body>) -> Answer
where
    S: tower::Service<Request<Body>, Response = axum::response::Response, Error = std::convert::Infallible>,
{
    let response = tokio::time::timeout(Duration::from_secs(10), service.oneshot(request))
        .await
        .expect("an answer within 10 s")
        .expect("infallible");
    let status = response.status();
    let content_type =
        response.headers().get("content-type").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let request_id = response.headers().contains_key("x-request-id");
    let body = tokio::time::timeout(Duration::from_secs(10), axum::body::to_bytes(response.into_body(), usize::MAX))
        .await
        .expect("the whole body within 10 s")
        .expect("a body that reads");
    Answer { status, content_type, request_id, body: body.to_vec() }
}

/// The project's rules for any answer.
fn check(what: &str, head: bool, answer: &Answer) {
    let status = answer.status;
    let body = String::from_utf8_lossy(&answer.body);
    assert!(
        !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
        "{what}: answered {status}: {body}"
    );
    assert!(answer.request_id, "{what}: {status} without an x-request-id");
    if status.is_success() || status.is_informational() || status.is_redirection() || head {
        return;
    }
    assert_eq!(
        answer.content_type.as_deref(),
        Some("application/vnd.schemaregistry.v1+json"),
        "{what}: a {status} error not in Confluent's content type: {body}"
    );
    let error: Value = serde_json::from_slice(&answer.body)
        .unwrap_or_else(|e| panic!("{what}: a {status} error not in JSON ({e}): {body}"));
    let code =
        error["error_code"].as_u64().unwrap_or_else(|| panic!("{what}: a {status} error without error_code: {body}"));
    assert!(error["message"].is_string(), "{what}: a {status} error without a message: {body}");
    let status = u64::from(status.as_u16());
    assert!(
        code == status || code / 100 == status,
        "{what}: error_code {code} does not go with status {status}: {body}"
    );
}

/// A body as the two sides may differ in it: an error's `request_id` is made anew when the request's own is not
/// one the server keeps, and the two registries register in different milliseconds (a version's `registered`
/// time, an audit entry's `time` and the hashes that cover it), at any depth.
fn comparable(body: &[u8]) -> Result<Value, &[u8]> {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(object) => {
                for volatile in ["request_id", "registered", "time", "hash", "prev_hash"] {
                    object.remove(volatile);
                }
                object.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value @ (Value::Object(_) | Value::Array(_))) => {
            strip(&mut value);
            Ok(value)
        }
        _ => Err(body),
    }
}

fuzz_target!(|input: Input| {
    runtime().block_on(async {
        let (routed, front) = (app(state(&input)), server(state(&input)));
        for req in input.requests.iter().take(MAX_REQUESTS) {
            let Some((to_router, head)) = req.build() else { continue };
            let (to_front, _) = req.build().expect("built once already");
            let what = format!("{} {}", to_router.method(), to_router.uri());
            let by_router = send(routed.clone(), to_router).await;
            let by_front = send(front.clone(), to_front).await;
            check(&what, head, &by_router);
            check(&format!("{what} (through the server's shortcuts)"), head, &by_front);
            assert_eq!(
                by_router.status,
                by_front.status,
                "{what}: the router answered {} and the server's shortcuts {}",
                String::from_utf8_lossy(&by_router.body),
                String::from_utf8_lossy(&by_front.body)
            );
            // The metrics differ between the two (they count both); everything else answers alike.
            if !what.contains("/metrics") {
                assert!(
                    comparable(&by_router.body) == comparable(&by_front.body),
                    "{what}: the router answered {} and the server's shortcuts {}",
                    String::from_utf8_lossy(&by_router.body),
                    String::from_utf8_lossy(&by_front.body)
                );
            }
        }
    });
});
