//! `docs/openapi.yaml` held to the router, both ways. Axum cannot list a router's routes, so the routes are read
//! from the source: every `.route("PATH", get(..).post(..))`, `.route_service(..)` and `.nest_service(..)` call in
//! `registry-http/src` (up to a file's `#[cfg(test)]` module), the way `tests/error_codes.rs` reads the variants of
//! `RegistryError`. Each must be in the document, and each operation in the document must be a route: a route
//! added without its description fails here. Then every documented operation is sent to `app()` over a redb
//! registry holding a subject, a KEK and a DEK, with its path parameters filled in: it must reach a handler (not
//! the router's 404 for an unknown path, not a 405) and answer a status the document lists for it, in a content
//! type the document lists, and the role the document names must be the one `auth::required_role` asks for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use registry_http::metrics::Metrics;
use registry_http::{AppState, app};
use registry_store::{Registry, RegistryOptions};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The document, read as JSON.
fn document() -> Value {
    let text = include_str!("../../docs/openapi.yaml");
    serde_norway::from_str(text).expect("docs/openapi.yaml is YAML whose keys are strings")
}

/// The HTTP methods an OpenAPI path item may hold, as its keys spell them.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Every operation of the document: its path, its method (lower case, as the document spells it) and itself.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut found = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((path.clone(), method.to_string(), operation.clone()));
            }
        }
    }
    found
}

/// `value` with its `$ref` followed (and the target's, in turn); a `$ref` that names nothing panics.
fn resolved<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..16 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else { return value };
        let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("{reference} is not a local $ref"));
        value = doc.pointer(pointer).unwrap_or_else(|| panic!("{reference} names nothing"));
    }
    panic!("a $ref chain longer than 16 links")
}

// ----- the document on its own -----

/// Every `$ref` under `value`, with where it stands.
fn references(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                match (key.as_str(), field) {
                    ("$ref", Value::String(target)) => out.push((at.to_string(), target.clone())),
                    _ => references(field, &format!("{at}/{key}"), out),
                }
            }
        }
        Value::Array(items) => {
            items.iter().enumerate().for_each(|(i, item)| references(item, &format!("{at}/{i}"), out))
        }
        _ => {}
    }
}

/// The `{name}`s of a path template.
fn template_parameters(path: &str) -> BTreeSet<String> {
    path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).map(str::to_string).collect()
}

#[test]
fn the_document_is_openapi_3_1_and_every_ref_resolves() {
    let doc = document();
    assert_eq!(doc["openapi"], json!("3.1.0"), "the document must be OpenAPI 3.1.0");

    let mut refs = Vec::new();
    references(&doc, "", &mut refs);
    let dangling: Vec<_> = refs
        .iter()
        .filter(|(_, target)| target.strip_prefix('#').and_then(|pointer| doc.pointer(pointer)).is_none())
        .collect();
    assert!(dangling.is_empty(), "$refs that name no component: {dangling:#?}");
    assert!(refs.len() >= 500, "only {} $refs found: is the walk broken?", refs.len());

    // Every component is used: one left behind describes nothing the server answers.
    let used: BTreeSet<&str> = refs.iter().map(|(_, target)| target.as_str()).collect();
    let mut unused = Vec::new();
    for kind in ["schemas", "parameters", "responses", "requestBodies", "headers"] {
        for name in doc["components"][kind].as_object().into_iter().flat_map(|c| c.keys()) {
            let target = format!("#/components/{kind}/{name}");
            if !used.contains(target.as_str()) {
                unused.push(target);
            }
        }
    }
    assert!(unused.is_empty(), "components nothing refers to: {unused:?}");

    let tags: BTreeSet<&str> =
        doc["tags"].as_array().expect("tags").iter().filter_map(|t| t["name"].as_str()).collect();
    let schemes: BTreeSet<&str> = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(schemes, BTreeSet::from(["apiKeyAuth", "basicAuth", "bearerAuth"]));
    let mut ids = BTreeSet::new();
    let mut problems = Vec::new();
    for (path, method, operation) in operations(&doc) {
        let label = format!("{} {path}", method.to_uppercase());
        for field in ["summary", "operationId"] {
            if operation[field].as_str().is_none_or(|s| s.trim().is_empty()) {
                problems.push(format!("{label}: no {field}"));
            }
        }
        if !ids.insert(operation["operationId"].as_str().unwrap_or_default().to_string()) {
            problems.push(format!("{label}: operationId used twice"));
        }
        let operation_tags = operation["tags"].as_array().cloned().unwrap_or_default();
        if operation_tags.is_empty() || operation_tags.iter().any(|t| !t.as_str().is_some_and(|t| tags.contains(t))) {
            problems.push(format!("{label}: tags {operation_tags:?} not all declared"));
        }
        if operation["responses"].as_object().is_none_or(|r| r.is_empty()) {
            problems.push(format!("{label}: no responses"));
        }
        let declared: BTreeSet<String> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolved(&doc, p))
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        if declared != template_parameters(&path) {
            problems.push(format!("{label}: path parameters declared {declared:?}"));
        }
    }
    assert!(problems.is_empty(), "operations described incompletely: {problems:#?}");
}

// ----- the routes the source registers -----

/// One route registration in the source: its path, and its method (`None` for a nested service, which takes
/// every method and answers those it serves itself).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Registered {
    path: String,
    method: Option<Method>,
    file: String,
}

/// `text` without its `//` comments (a `//` inside a string literal is kept).
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let (mut in_string, mut escaped, mut end) = (false, false, line.len());
        let bytes = line.as_bytes();
        for i in 0..bytes.len() {
            match bytes[i] {
                _ if escaped => escaped = false,
                b'\\' if in_string => escaped = true,
                b'"' => in_string = !in_string,
                b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        out.push_str(&line[..end]);
        out.push('\n');
    }
    out
}

/// The text of a call's arguments: from just after its `(` to its matching `)`.
fn call_arguments(text: &str) -> Option<&str> {
    let (mut depth, mut in_string, mut escaped) = (1usize, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The string literal `arguments` start with, and the rest after the comma that follows it.
fn literal_then_rest(arguments: &str) -> Option<(String, &str)> {
    let rest = arguments.trim_start().strip_prefix('"')?;
    let end = rest.find('"')?;
    let after = rest[end + 1..].trim_start().strip_prefix(',')?;
    Some((rest[..end].to_string(), after))
}

/// The methods a method router expression names: the calls at its top level (`get(a).post(b)`: `get` and
/// `post`; `axum::routing::get(a)`: `get`). `Err` with the name of a call that is not a method.
fn methods_of(expression: &str) -> Result<Vec<Method>, String> {
    let mut methods = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut word) = (0usize, false, false, String::new());
    for c in expression.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            _ if in_string => {}
            '(' => {
                if depth == 0 && !word.is_empty() {
                    let name = word.rsplit("::").next().unwrap_or_default();
                    let name = name.strip_suffix("_service").unwrap_or(name);
                    let method = match name {
                        "get" | "post" | "put" | "delete" | "patch" | "head" | "options" | "trace" => {
                            name.to_uppercase().parse::<Method>().map_err(|e| e.to_string())?
                        }
                        other => return Err(format!("`{other}(..)` names no one method: teach the scan")),
                    };
                    methods.push(method);
                }
                word.clear();
                depth += 1;
            }
            ')' => depth -= 1,
            c if depth == 0 && (c.is_alphanumeric() || c == '_' || c == ':') => word.push(c),
            _ if depth == 0 => word.clear(),
            _ => {}
        }
    }
    Ok(methods)
}

/// Every route registration of the Rust files under `dir`; `Err` for a registration the scan cannot read.
fn registered_routes(dir: &Path) -> Result<Vec<Registered>, String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path: PathBuf = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut routes = Vec::new();
    for file in &files {
        let name = file.strip_prefix(dir).unwrap_or(file).display().to_string();
        let text = std::fs::read_to_string(file).map_err(|e| format!("{name}: {e}"))?;
        // Unit tests may build routers of their own: those are not the server's.
        let text = without_comments(text.split("#[cfg(test)]").next().unwrap_or_default());
        for (call, nested) in [(".route(", false), (".route_service(", true), (".nest_service(", true)] {
            for (at, _) in text.match_indices(call) {
                let arguments = call_arguments(&text[at + call.len()..])
                    .ok_or_else(|| format!("{name}: a {call}..) call without its closing parenthesis"))?;
                let (path, rest) = literal_then_rest(arguments)
                    .ok_or_else(|| format!("{name}: {call}{arguments}): its path is not a string literal"))?;
                // A wildcard segment (`{*view}`) is a path parameter in OpenAPI (`{view}`).
                let path = path.replace("{*", "{");
                if nested {
                    routes.push(Registered { path, method: None, file: name.clone() });
                    continue;
                }
                let methods = methods_of(rest).map_err(|e| format!("{name}: {call}\"{path}\", ..): {e}"))?;
                if methods.is_empty() {
                    return Err(format!("{name}: {call}\"{path}\", ..) names no method"));
                }
                for method in methods {
                    routes.push(Registered { path: path.clone(), method: Some(method), file: name.clone() });
                }
            }
        }
        // A nested router's routes are prefixed: the scan would read them without their prefix.
        if text.contains(".nest(") {
            return Err(format!("{name}: `.nest(..)` of a router: teach the scan its prefix"));
        }
    }
    Ok(routes)
}

fn source_routes() -> Vec<Registered> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    registered_routes(&src).unwrap_or_else(|e| panic!("the route scan cannot read the source: {e}"))
}

/// The scan over a source tree written for it: what a new route looks like to it, and what it refuses to guess.
#[test]
fn the_route_scan_finds_a_new_route_and_refuses_what_it_cannot_read() {
    let get_post = methods_of(" get(list_versions).post(register)").expect("methods");
    assert_eq!(get_post, vec![Method::GET, Method::POST]);
    let qualified = methods_of("\n axum::routing::get(registry_http::metrics::render)").expect("methods");
    assert_eq!(qualified, vec![Method::GET]);
    assert!(methods_of("any(handler)").is_err(), "`any` names no one method and must stop the scan");

    let dir = tempfile::tempdir().expect("a temporary directory");
    let write = |name: &str, text: &str| {
        std::fs::create_dir_all(dir.path().join("api")).expect("a directory");
        std::fs::write(dir.path().join(name), text).expect("a source file");
    };
    write(
        "api/mod.rs",
        r#"pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        // .route("/commented", get(gone))
        .route("/a/{x}", get(read).delete(remove))
        .route(
            "/b",
            post(make),
        )
        .nest_service("/svc", service())
}

#[cfg(test)]
mod tests {
    fn router() -> Router { Router::new().route("/test-only", get(x)) }
}
"#,
    );
    let found = registered_routes(dir.path()).expect("a readable tree");
    let found: Vec<(String, Option<Method>)> = found.into_iter().map(|r| (r.path, r.method)).collect();
    assert_eq!(
        found,
        vec![
            ("/a/{x}".to_string(), Some(Method::GET)),
            ("/a/{x}".to_string(), Some(Method::DELETE)),
            ("/b".to_string(), Some(Method::POST)),
            ("/svc".to_string(), None),
        ]
    );

    write("other.rs", "fn f() -> Router { Router::new().route(PATH, get(g)) }");
    let refused = registered_routes(dir.path()).expect_err("a path that is not a literal");
    assert!(refused.contains("not a string literal"), "{refused}");
    write("other.rs", "fn f() -> Router { Router::new().route(\"/c\", any(g)) }");
    let refused = registered_routes(dir.path()).expect_err("a method router the scan cannot read");
    assert!(refused.contains("`any(..)`"), "{refused}");
    write("other.rs", "fn f() -> Router { Router::new().nest(\"/v2\", inner()) }");
    let refused = registered_routes(dir.path()).expect_err("a nested router");
    assert!(refused.contains("nest"), "{refused}");
}

#[test]
fn every_route_the_source_registers_is_documented_and_nothing_else() {
    let doc = document();
    let routes = source_routes();
    // Too few would mean the scan lost its way, not that the server lost its routes.
    assert!(routes.len() >= 70, "only {} route registrations found in registry-http/src", routes.len());

    let mut undocumented = Vec::new();
    for route in &routes {
        let item = &doc["paths"][&route.path];
        let documented = match &route.method {
            Some(method) => item.get(method.as_str().to_lowercase()).is_some(),
            None => METHODS.iter().any(|m| item.get(*m).is_some()),
        };
        if !documented {
            let method = route.method.as_ref().map_or("ANY", Method::as_str);
            undocumented.push(format!("{method} {} ({})", route.path, route.file));
        }
    }
    assert!(undocumented.is_empty(), "routes missing from docs/openapi.yaml: {undocumented:#?}");

    let mut unrouted = Vec::new();
    for (path, method, _) in operations(&doc) {
        let routed = routes
            .iter()
            .any(|r| r.path == path && r.method.as_ref().is_none_or(|m| m.as_str().eq_ignore_ascii_case(&method)));
        if !routed {
            unrouted.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    assert!(unrouted.is_empty(), "operations in docs/openapi.yaml that no route registers: {unrouted:#?}");
}

// ----- every documented operation against the router -----

/// What the server answered.
struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Whether this is the router's own answer for a path no route has (its fallback), rather than a handler's:
    /// axum's bare 404, or the server's JSON 404 naming no route. A handler's 404 (40401, or Confluent's 404 for
    /// an id that is not one) is an answer.
    fn is_unrouted(&self) -> bool {
        if self.status != StatusCode::NOT_FOUND {
            return false;
        }
        let Some(body) = self.json() else { return true };
        let message = body["message"].as_str().unwrap_or_default();
        body["error_code"].as_u64().is_none() || message.starts_with("HTTP 404 Not Found: no route for")
    }
}

async fn send(state: &AppState, method: &Method, uri: &str, body: Option<(&str, Vec<u8>)>) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        // MCP wants a loopback host without auth, and answers JSON only to a caller that takes event streams too.
        .header("host", "localhost")
        .header("accept", "application/json, text/event-stream");
    let body = match body {
        Some((content_type, bytes)) => {
            request = request.header("content-type", content_type).header("content-length", bytes.len());
            Body::from(bytes)
        }
        None => Body::empty(),
    };
    let response = app(state.clone()).oneshot(request.body(body).expect("a request")).await.expect("infallible");
    let status = response.status();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body").to_vec();
    Answer { status, content_type, body }
}

/// Sends a JSON body and expects a 200, for the registry's setup.
async fn setup(state: &AppState, method: Method, uri: &str, body: Value) -> Value {
    let answer = send(state, &method, uri, Some(("application/json", body.to_string().into_bytes()))).await;
    let text = String::from_utf8_lossy(&answer.body);
    assert_eq!(answer.status, StatusCode::OK, "setup {method} {uri}: {text}");
    answer.json().unwrap_or_else(|| panic!("setup {method} {uri} answered no JSON: {text}"))
}

/// Whether the document's `responses` list `status`: itself, or its class (`4XX`).
fn listed_response(responses: &Value, status: StatusCode) -> Option<&Value> {
    let class = format!("{}XX", status.as_u16() / 100);
    responses.get(status.as_str()).or_else(|| responses.get(class.as_str()))
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let doc = document();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let registry = Registry::open(dir.path().join("registry.redb"), RegistryOptions::default()).expect("registry");
    let state = AppState::new(registry).with_metrics(Metrics::install());

    // The router's answers the probes must tell apart from a handler's.
    let unknown = send(&state, &Method::GET, "/no/such/route", None).await;
    assert!(unknown.is_unrouted(), "an unknown path must read as unrouted: {}", String::from_utf8_lossy(&unknown.body));
    let wrong_method = send(&state, &Method::PATCH, "/subjects", None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED, "a known path with another method");
    let handlers_404 = send(&state, &Method::GET, "/subjects/nobody/versions", None).await;
    assert!(!handlers_404.is_unrouted(), "a subject not found (40401) is a handler's answer");

    // Something for the path parameters to name.
    let order = r#"{"type":"record","name":"Order","namespace":"com.acme","fields":[{"name":"id","type":"long"}]}"#;
    let registered = setup(&state, Method::POST, "/subjects/orders-value/versions", json!({"schema": order})).await;
    setup(&state, Method::POST, "/subjects/com.acme.orders/versions", json!({"schema": order})).await;
    let kek = json!({"name": "orders-kek", "kmsType": "local-kms", "kmsKeyId": "key-1"});
    setup(&state, Method::POST, "/dek-registry/v1/keks", kek).await;
    let dek = json!({"encryptedKeyMaterial": "c2VjcmV0"});
    setup(&state, Method::POST, "/dek-registry/v1/keks/orders-kek/deks/orders-value", dek).await;
    let id = registered["id"].as_u64().expect("an id").to_string();
    let guid = registered["guid"].as_str().expect("a guid").to_string();
    let values: BTreeMap<&str, &str> = BTreeMap::from([
        ("subject", "orders-value"),
        ("version", "1"),
        ("id", id.as_str()),
        ("guid", guid.as_str()),
        ("name", "orders-kek"),
        ("context", ".staging"),
        ("namespace", "com.acme"),
        ("view", "subjects/orders-value/versions/1"),
    ]);

    // Reads first, deletes last, so most probes find what they name.
    let rank = |method: &str| ["get", "post", "put", "delete"].iter().position(|m| *m == method).unwrap_or(4);
    let mut operations = operations(&doc);
    operations.sort_by(|a, b| (rank(&a.1), &a.0).cmp(&(rank(&b.1), &b.0)));
    let mut failures = Vec::new();
    let mut probed = 0;
    for (template, method, operation) in &operations {
        let label = format!("{} {template}", method.to_uppercase());
        let mut path = template.clone();
        let mut query = Vec::new();
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let parameter = resolved(&doc, parameter);
            let name = parameter["name"].as_str().expect("a parameter's name");
            match parameter["in"].as_str() {
                Some("path") => {
                    let value =
                        values.get(name).unwrap_or_else(|| panic!("{label}: no value for path parameter {name}"));
                    path = path.replace(&format!("{{{name}}}"), value);
                }
                Some("query") if parameter["required"] == json!(true) => {
                    let example =
                        parameter["example"].as_str().unwrap_or_else(|| panic!("{label}: {name} has no example"));
                    query.push(format!("{name}={example}"));
                }
                _ => {}
            }
        }
        let uri = if query.is_empty() { path.clone() } else { format!("{path}?{}", query.join("&")) };
        let body = operation.get("requestBody").map(|body| {
            let content = resolved(&doc, body)["content"].as_object().expect("a request body's content");
            let (content_type, media) = content
                .iter()
                .find(|(_, media)| media.get("example").is_some())
                .unwrap_or_else(|| panic!("{label}: the request body has no example to send"));
            (content_type.as_str(), media["example"].to_string().into_bytes())
        });
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
        let answer = send(&state, &method, &uri, body).await;
        probed += 1;
        let said = String::from_utf8_lossy(&answer.body).chars().take(300).collect::<String>();
        if answer.status == StatusCode::METHOD_NOT_ALLOWED {
            failures.push(format!("{label}: {method} {uri} is 405: the route does not take {method}"));
            continue;
        }
        if answer.is_unrouted() {
            failures.push(format!("{label}: {method} {uri} reached no handler: {said}"));
            continue;
        }
        if answer.status.is_server_error() {
            failures.push(format!("{label}: {method} {uri} answered {}: {said}", answer.status));
        }
        match listed_response(&operation["responses"], answer.status) {
            None => failures.push(format!("{label}: {method} {uri} answered {}, not listed: {said}", answer.status)),
            Some(response) => {
                let listed = resolved(&doc, response)["content"].as_object().cloned().unwrap_or_default();
                let essence = answer.content_type.as_deref().and_then(|t| t.split(';').next()).map(str::trim);
                if let Some(essence) = essence.filter(|_| !answer.body.is_empty())
                    && !listed.contains_key(essence)
                {
                    failures.push(format!("{label}: answered {essence}, listed {:?}", listed.keys()));
                }
            }
        }
        let role = registry_http::auth::required_role(&method, &path).map(|r| format!("{r:?}").to_lowercase());
        let documented = operation.get("x-required-role").and_then(Value::as_str).map(str::to_string);
        if role != documented {
            failures.push(format!("{label}: x-required-role {documented:?}, the server asks for {role:?}"));
        }
    }
    assert!(failures.is_empty(), "documented operations the router does not answer as described: {failures:#?}");
    assert!(probed >= 70, "only {probed} operations probed");
}
