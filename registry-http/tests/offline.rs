//! `schema-registry compat` and `schema-registry validate`, the binary end to end: the table of cases in
//! `tests/offline/cases.json` (each run in a fresh directory holding the table's files), a check against a
//! subject of a running server that must answer as the server does, and Confluent's own compatibility examples
//! (`../shared/conformance/`, never copied into the project) checked offline and by the server, verdict by
//! verdict and message by message.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use registry_http::{AppState, app};
use registry_store::{Registry, RegistryOptions};
use serde_json::{Value, json};
use tower::ServiceExt;

#[path = "../../registry-core/tests/common/conformance_data.rs"]
mod conformance_data;

use conformance_data::load_cases;

/// The binary with `args`, in `dir`.
fn run(dir: &Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schema-registry")).args(args).current_dir(dir).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `expected` matches `actual` when every key it names matches (recursively), arrays element by element with
/// equal lengths; scalars must be equal.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av))),
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(e, a)| matches(e, a)),
        _ => expected == actual,
    }
}

/// Writes each file of a table's `files` into `dir`: a string as it is, any other value as JSON.
fn write_files(dir: &Path, files: &serde_json::Map<String, Value>) {
    for (name, content) in files {
        let bytes = match content {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        std::fs::write(dir.join(name), bytes).expect("a file is written");
    }
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    value.and_then(Value::as_array).into_iter().flatten().map(|s| s.as_str().expect("a string")).collect()
}

#[test]
fn the_cases_in_the_table_exit_and_answer_as_written() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/offline/cases.json");
    let table: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("the table")).expect("JSON");
    let files = table["files"].as_object().expect("files");
    let cases = table["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in cases {
        let name = case["name"].as_str().expect("a name");
        let dir = tempfile::tempdir().expect("a temp dir");
        write_files(dir.path(), files);
        let args: Vec<String> = strings(case.get("args")).into_iter().map(str::to_string).collect();
        let output = run(dir.path(), &args);
        ran += 1;
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        let mut wrong = Vec::new();
        let expected = case["exit"].as_i64().expect("an exit status");
        if output.status.code().map(i64::from) != Some(expected) {
            wrong.push(format!("exit {:?}, expected {expected}", output.status.code()));
        }
        if expected == 2 {
            // An error: one line on stderr naming the command, and no verdict on stdout.
            let command = &args[0];
            if stderr.lines().count() != 1 || !stderr.starts_with(&format!("schema-registry {command}: ")) {
                wrong.push(format!("stderr is not one 'schema-registry {command}: ' line"));
            }
            if !stdout.is_empty() {
                wrong.push("an error printed a verdict".into());
            }
        } else if !stderr.is_empty() {
            wrong.push("a verdict wrote to stderr".into());
        }
        for fragment in strings(case.get("stdout")) {
            if !stdout.contains(fragment) {
                wrong.push(format!("stdout lacks {fragment:?}"));
            }
        }
        for fragment in strings(case.get("stdout_absent")) {
            if stdout.contains(fragment) {
                wrong.push(format!("stdout holds {fragment:?}"));
            }
        }
        for fragment in strings(case.get("stderr")) {
            if !stderr.contains(fragment) {
                wrong.push(format!("stderr lacks {fragment:?}"));
            }
        }
        if let Some(shape) = case.get("json") {
            match serde_json::from_str::<Value>(&stdout) {
                Ok(answer) if matches(shape, &answer) => {}
                Ok(answer) => wrong.push(format!("the JSON answer {answer} does not match {shape}")),
                Err(e) => wrong.push(format!("stdout is not JSON ({e})")),
            }
        }
        if !wrong.is_empty() {
            failures.push(format!("{name}: {}\n  stdout: {stdout}\n  stderr: {stderr}", wrong.join("; ")));
        }
    }
    assert!(ran >= 50, "only {ran} cases ran");
    assert!(failures.is_empty(), "{} of {ran} cases failed:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------------------
// Against a running server
// ---------------------------------------------------------------------------------------------------------

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.1 request over a fresh connection; returns (status, body as JSON, or null).
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server accepts");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split("\r\n\r\n").nth(1).and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    (status, body)
}

/// The server on a free port and a fresh data directory, once it answers `/health`.
fn start(data_dir: &Path) -> (Child, u16) {
    start_with(data_dir, &[])
}

/// A server on a free port with `extra` flags; /health needs no key, so this waits for it alike.
fn start_with(data_dir: &Path, extra: &[&std::ffi::OsStr]) -> (Child, u16) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_schema-registry"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    // Keep draining the log so the server never blocks on a full pipe.
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || for _ in BufReader::new(stderr).lines() {});
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() || http(port, "GET", "/health", None).0 != 200 {
        assert!(Instant::now() < deadline, "the server did not answer /health in time");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

/// Stops a server this test started.
struct Stop(Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const ADDRESS: &str =
    r#"{"type":"record","name":"Address","namespace":"com.example","fields":[{"name":"city","type":"string"}]}"#;
const PERSON_V1: &str = r#"{"type":"record","name":"Person","namespace":"com.example","fields":[{"name":"home","type":"com.example.Address"}]}"#;
const PERSON_V2: &str = r#"{"type":"record","name":"Person","namespace":"com.example","fields":[{"name":"home","type":"com.example.Address"},{"name":"age","type":"int","default":0}]}"#;
const PERSON_V3: &str =
    r#"{"type":"record","name":"Person","namespace":"com.example","fields":[{"name":"age","type":"int","default":0}]}"#;

#[test]
fn a_subject_of_a_running_server_is_checked_as_the_server_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let (child, port) = start(&dir.path().join("data"));
    let _stop = Stop(child);
    let address_ref = json!([{"name": "com.example.Address", "subject": "address", "version": 1}]);
    // A subject whose name must be percent-encoded, with versions that reference another subject.
    let subject = "people/team a";
    let encoded = "people%2Fteam%20a";
    for (path, body) in [
        ("/subjects/address/versions".to_string(), json!({"schema": ADDRESS})),
        (format!("/subjects/{encoded}/versions"), json!({"schema": PERSON_V1, "references": address_ref})),
        (format!("/subjects/{encoded}/versions"), json!({"schema": PERSON_V2, "references": address_ref})),
    ] {
        let (status, answer) = http(port, "POST", &path, Some(&body));
        assert_eq!(status, 200, "{path}: {answer}");
    }
    // A DRAFT version is no check's: the server leaves it out, and so must the offline check (it would add a
    // third violation: the draft needs `home` too).
    let draft = PERSON_V1.replace(r#""name":"Person","#, r#""name":"Person","doc":"a draft","#);
    let body = json!({"subject": subject, "schema": draft, "schema_type": "AVRO", "references": address_ref, "state": "DRAFT"});
    let (status, answer) = http(port, "POST", "/api/v1/schemas", Some(&body));
    assert_eq!((status, &answer["state"]), (201, &json!("DRAFT")), "{answer}");
    let (status, answer) =
        http(port, "PUT", &format!("/config/{encoded}"), Some(&json!({"compatibility": "FORWARD_TRANSITIVE"})));
    assert_eq!(status, 200, "{answer}");
    std::fs::write(dir.path().join("person-v3.avsc"), PERSON_V3).unwrap();
    std::fs::write(dir.path().join("person-v2.avsc"), PERSON_V2).unwrap();
    std::fs::write(dir.path().join("address.avsc"), ADDRESS).unwrap();
    let registry = format!("http://127.0.0.1:{port}");
    let compat = |extra: &[&str]| {
        let mut args: Vec<String> =
            ["compat", "--subject", subject, "--registry", &registry].map(String::from).to_vec();
        args.extend(extra.iter().map(|s| s.to_string()));
        run(dir.path(), &args)
    };

    // The subject's own level (FORWARD_TRANSITIVE): dropping `home` breaks both versions, as the server says.
    let output = compat(&["--json", "person-v3.avsc"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let offline: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let (status, confluent) = http(
        port,
        "POST",
        &format!("/compatibility/subjects/{encoded}/versions?verbose=true"),
        Some(&json!({"schema": PERSON_V3})),
    );
    assert_eq!(status, 200, "{confluent}");
    let (status, v1) = http(
        port,
        "POST",
        "/api/v1/compatibility/check",
        Some(&json!({"subject": subject, "schema": PERSON_V3, "schema_type": "AVRO"})),
    );
    assert_eq!(status, 200, "{v1}");
    assert_eq!(confluent["is_compatible"], false);
    assert_eq!(v1["level"], "FORWARD_TRANSITIVE");
    assert_eq!(v1["violations"].as_array().map(Vec::len), Some(2), "{v1}");
    for (key, server) in [("is_compatible", &confluent), ("messages", &confluent)]
        .into_iter()
        .chain(["compatible", "level", "violations"].map(|key| (key, &v1)))
    {
        assert_eq!(offline[key], server[key], "{key}: offline {offline}, server {server}");
    }
    assert_eq!(offline["checked"], json!([{"version": 1, "subject": subject}, {"version": 2, "subject": subject}]));
    let text_output = text(&compat(&["person-v3.avsc"]).stdout);
    assert!(
        text_output.contains(&format!(
            "incompatible: person-v3.avsc at FORWARD_TRANSITIVE: 2 violations against subject '{subject}' (version 1), \
             subject '{subject}' (version 2)"
        )),
        "{text_output}"
    );

    // An explicit level overrides the subject's; the candidate's reference is a local file, the versions' are
    // fetched from the server.
    let output = compat(&["--level", "BACKWARD", "--ref", "com.example.Address=address.avsc", "person-v2.avsc"]);
    assert_eq!(output.status.code(), Some(0), "{}{}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains(&format!("at BACKWARD with subject '{subject}' (version 2)")));

    // A compatibility group: the versions whose group property is the schema's (a file has none) are checked,
    // here none, as the server decides.
    let body = json!({"schema": PERSON_V1, "references": address_ref, "metadata": {"properties": {"major": "1"}}});
    let (status, answer) = http(port, "POST", "/subjects/grouped/versions", Some(&body));
    assert_eq!(status, 200, "{answer}");
    let config = json!({"compatibility": "FORWARD", "compatibilityGroup": "major"});
    let (status, answer) = http(port, "PUT", "/config/grouped", Some(&config));
    assert_eq!(status, 200, "{answer}");
    let (status, server) = http(
        port,
        "POST",
        "/compatibility/subjects/grouped/versions?verbose=true",
        Some(&json!({"schema": PERSON_V3})),
    );
    assert_eq!((status, &server["is_compatible"]), (200, &json!(true)), "{server}");
    let output = run(
        dir.path(),
        &["compat", "--subject", "grouped", "--registry", &registry, "person-v3.avsc"].map(String::from),
    );
    assert_eq!(output.status.code(), Some(0), "{}{}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains("no version of subject 'grouped' is in the schema's compatibility group"));
    // Without the group (an explicit level), version 1 is checked and breaks, as the server's check at a level.
    let output = run(
        dir.path(),
        &["compat", "--subject", "grouped", "--registry", &registry, "--level", "FORWARD", "person-v3.avsc"]
            .map(String::from),
    );
    assert_eq!(output.status.code(), Some(1), "{}{}", text(&output.stdout), text(&output.stderr));

    // A subject with no versions: nothing to check.
    let output = run(
        dir.path(),
        &["compat", "--subject", "nobody", "--registry", &registry, "person-v3.avsc"].map(String::from),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("subject 'nobody' has no versions, nothing to check"),
        "{}",
        text(&output.stdout)
    );
}

/// A registry with auth on takes the key as Confluent's clients send it (Basic `key:secret`), as a bearer token
/// or as `X-API-Key`; without one, the 401 is an error (exit 2) that says so.
#[test]
fn a_registry_with_auth_is_asked_with_the_credentials_given() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, format!("reader {} ci\n", registry_http::auth::hash_key_hex("offline-key"))).unwrap();
    let (child, port) = start_with(&dir.path().join("data"), &["--auth-keys".as_ref(), keys.as_os_str()]);
    let _stop = Stop(child);
    std::fs::write(dir.path().join("v1.avsc"), PERSON_V3).unwrap();
    let registry = format!("http://127.0.0.1:{port}");
    let compat = |auth: &[&str]| {
        let mut args: Vec<String> = ["compat", "--subject", "s", "--registry", &registry].map(String::from).to_vec();
        args.extend(auth.iter().map(|s| s.to_string()));
        args.push("v1.avsc".into());
        run(dir.path(), &args)
    };
    for auth in [&["--basic", "ci:offline-key"][..], &["--bearer", "offline-key"], &["--api-key", "offline-key"]] {
        let output = compat(auth);
        assert_eq!(output.status.code(), Some(0), "{auth:?}: {}{}", text(&output.stdout), text(&output.stderr));
    }
    let output = compat(&[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stdout));
    assert!(text(&output.stderr).contains("401"), "{}", text(&output.stderr));
    let output = compat(&["--basic", "ci:offline-key", "--bearer", "offline-key"]);
    assert_eq!(output.status.code(), Some(2), "conflicting credentials are a usage error");
}

// ---------------------------------------------------------------------------------------------------------
// Confluent's examples
// ---------------------------------------------------------------------------------------------------------

/// One side of an example: its schema text and its references with their texts (`name`, `subject`, `version`,
/// text).
struct Side {
    text: String,
    references: Vec<(String, String, u64, String)>,
}

fn side(case: &Value, which: &str) -> Side {
    let text = match &case[format!("{which}_schema")] {
        Value::String(text) => text.clone(),
        value => value.to_string(),
    };
    let dependencies = case.get(format!("{which}_dependencies")).and_then(Value::as_array).cloned().unwrap_or_default();
    let references = array(case.get(format!("{which}_references")))
        .into_iter()
        .map(|r| {
            let name = r["name"].as_str().expect("a name").to_string();
            let dependency = dependencies
                .iter()
                .find(|d| d["name"] == name.as_str())
                .and_then(|d| d["dependency"].as_str())
                .expect("each reference has its dependency");
            (
                name,
                r["subject"].as_str().expect("a subject").to_string(),
                r["version"].as_u64().expect("a version"),
                dependency.to_string(),
            )
        })
        .collect();
    Side { text, references }
}

fn array(value: Option<&Value>) -> Vec<Value> {
    value.and_then(Value::as_array).cloned().unwrap_or_default()
}

/// The server's verbose answer for `update` checked BACKWARD against `original` registered alone: through the
/// router of a fresh in-memory registry, with every reference registered first as version 1 of its subject.
async fn server_answer(schema_type: &str, original: &Side, update: &Side) -> Value {
    let router = app(AppState::new(Registry::in_memory(RegistryOptions::default()).expect("a registry")));
    let send = |path: String, body: Value| {
        let router = router.clone();
        async move {
            let request = Request::post(path)
                .header("content-type", "application/vnd.schemaregistry.v1+json")
                .body(Body::from(body.to_string()))
                .expect("a request");
            let response = router.oneshot(request).await.expect("infallible");
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
            (status, serde_json::from_slice::<Value>(&bytes).expect("a JSON answer"))
        }
    };
    let refs = |s: &Side| {
        json!(
            s.references
                .iter()
                .map(|(n, sub, v, _)| json!({"name": n, "subject": sub, "version": v}))
                .collect::<Vec<_>>()
        )
    };
    for (_, subject, _, text) in original.references.iter().chain(&update.references) {
        let (status, answer) =
            send(format!("/subjects/{subject}/versions"), json!({"schema": text, "schemaType": schema_type})).await;
        assert!(status.is_success(), "{subject}: {answer}");
    }
    let body = json!({"schema": original.text, "schemaType": schema_type, "references": refs(original)});
    let (status, answer) = send("/subjects/example/versions".into(), body).await;
    assert!(status.is_success(), "the original: {answer}");
    let body = json!({"schema": update.text, "schemaType": schema_type, "references": refs(update)});
    let (status, answer) = send("/compatibility/subjects/example/versions/latest?verbose=true".into(), body).await;
    assert!(status.is_success(), "the check: {answer}");
    answer
}

/// Every example of Confluent's JSON Schema and Protobuf compatibility examples, checked by the binary on two
/// files and by the server's router, must get the same verdict and the same messages. All of them run (about
/// 160 runs of the binary, a few seconds), but one: an example whose two sides bind one reference name to two
/// different schemas (`google.proto` at versions 1 and 3), which `--ref` (one file per name, for every schema
/// file) cannot express; it is counted, and the count checked.
#[test]
fn confluents_examples_get_the_servers_verdicts_offline() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut ran = 0;
    let mut skipped = Vec::new();
    let mut differ = Vec::new();
    let mut expected_runs = 0;
    for (file, schema_type, extension) in [
        ("confluent-json-diff-examples.json", "JSON", "json"),
        ("confluent-protobuf-diff-examples.json", "PROTOBUF", "proto"),
    ] {
        let Some(cases) = load_cases(file) else { continue };
        expected_runs += cases.len();
        for case in &cases {
            let description = case["description"].as_str().unwrap_or("?");
            let (original, update) = (side(case, "original"), side(case, "update"));
            let mut refs: Vec<(&str, &str)> = Vec::new();
            let mut unexpressible = false;
            for (name, _, version, text) in original.references.iter().chain(&update.references) {
                match refs.iter().find(|(n, _)| n == name) {
                    Some((_, known)) if known != text => unexpressible = true,
                    Some(_) => {}
                    None => refs.push((name, text)),
                }
                unexpressible |= *version != 1;
            }
            if unexpressible {
                skipped.push(description.to_string());
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            let (old, new) = (format!("original.{extension}"), format!("update.{extension}"));
            std::fs::write(dir.path().join(&old), &original.text).unwrap();
            std::fs::write(dir.path().join(&new), &update.text).unwrap();
            let mut args: Vec<String> = ["compat", "--level", "BACKWARD", "--json"].map(String::from).to_vec();
            for (at, (name, text)) in refs.iter().enumerate() {
                let path = format!("ref{at}.{extension}");
                std::fs::write(dir.path().join(&path), text).unwrap();
                args.extend(["--ref".to_string(), format!("{name}={path}")]);
            }
            args.extend([old, new]);
            let output = run(dir.path(), &args);
            ran += 1;
            let server = runtime.block_on(server_answer(schema_type, &original, &update));
            let offline: Value = match serde_json::from_slice(&output.stdout) {
                Ok(answer) => answer,
                Err(_) => {
                    differ.push(format!("{description}: offline failed: {}", text(&output.stderr)));
                    continue;
                }
            };
            let status = if server["is_compatible"] == true { 0 } else { 1 };
            if output.status.code() != Some(status)
                || offline["is_compatible"] != server["is_compatible"]
                || offline["messages"] != server["messages"]
            {
                differ.push(format!("{description}: offline {offline}, server {server}"));
            }
        }
    }
    println!("offline conformance: {ran} examples run, {} skipped", skipped.len());
    assert!(differ.is_empty(), "offline and the server differ:\n{}", differ.join("\n"));
    // Every example of each file found ran, but the one `--ref` cannot express (a Protobuf one).
    let unexpressible = ["Detect incompatible import change with same subject, different version"];
    assert!(skipped.len() <= 1 && skipped.iter().all(|s| unexpressible.contains(&s.as_str())), "{skipped:?}");
    assert_eq!(ran + skipped.len(), expected_runs);
    if expected_runs > 0 {
        // The files hold 104 and 54 examples: a file cut short is caught.
        assert!(ran >= 100, "only {ran} examples ran");
    }
}
