//! The `schema-registry` binary end to end: it starts on an empty data directory it creates, logs where it
//! listens, serves, stops cleanly (exit 0) on SIGTERM with its data durable, and starts again on it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An argument, as `Command` takes it.
fn os(s: &str) -> std::ffi::OsString {
    std::ffi::OsString::from(s)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.1 request over a fresh connection; returns (status, body).
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Ok((status, body))
}

fn start(port: u16, data_dir: &std::path::Path) -> (Child, String) {
    start_with(port, data_dir, &[])
}

/// The server on `port` and `data_dir` with `extra` flags, logging at info, and its log's lines, unread.
fn spawn<S: AsRef<std::ffi::OsStr>>(
    port: u16,
    data_dir: &std::path::Path,
    extra: &[S],
) -> (Child, std::io::Lines<BufReader<std::process::ChildStderr>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_schema-registry"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().unwrap();
    (child, BufReader::new(stderr).lines())
}

/// The binary with `args`, spoken to over its stdin and stdout (`mcp`), its stderr discarded.
fn stdio_child(args: &[std::ffi::OsString]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_schema-registry"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts")
}

fn start_with(port: u16, data_dir: &std::path::Path, extra: &[&str]) -> (Child, String) {
    let (child, mut lines) = spawn(port, data_dir, extra);
    let first = lines.next().expect("a startup line").expect("readable");
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let deadline = Instant::now() + Duration::from_secs(20);
    while http(port, "GET", "/health", None).map(|(s, _)| s).ok() != Some(200) {
        assert!(Instant::now() < deadline, "the server did not answer /health in time");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, first)
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serves_stops_on_sigterm_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested/data");
    let port = free_port();
    let (child, startup) = start(port, &data_dir);
    assert!(startup.contains(&format!("127.0.0.1:{port}")), "startup line names the address: {startup}");
    assert!(startup.contains("auth off"), "startup line says whether auth is on: {startup}");
    assert!(startup.contains("registry.redb"), "startup line says where the data is: {startup}");
    assert!(data_dir.join("registry.redb").exists(), "the data directory was created");

    let schema = r#"{"schema":"{\"type\":\"record\",\"name\":\"A\",\"fields\":[]}"}"#;
    let (status, body) = http(port, "POST", "/subjects/a/versions", Some(schema)).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with(r#"{"id":1,"version":1,"#), "{body}");
    let status = terminate(child);
    assert!(status.success(), "exit status after SIGTERM: {status:?}");

    let (child, _) = start(port, &data_dir);
    let (status, body) = http(port, "GET", "/subjects/a/versions/1", None).unwrap();
    assert_eq!(status, 200);
    assert!(body.contains(r#""id":1"#), "{body}");
    assert!(terminate(child).success());
}

#[test]
fn help_explains_every_setting_and_its_environment_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_schema-registry")).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--listen",
        "--data-dir",
        "--config",
        "--metrics-addr",
        "--auth-keys",
        "--max-body-bytes",
        "--cache-capacity",
        "--cache-mib",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    for env in ["SCHEMA_REGISTRY_LISTEN", "SCHEMA_REGISTRY_DATA_DIR", "SCHEMA_REGISTRY_AUTH_KEYS"] {
        assert!(help.contains(env), "--help lacks {env}:\n{help}");
    }
}

#[test]
fn a_bad_keys_file_stops_startup_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, "superuser 1234\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_schema-registry"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--auth-keys")
        .arg(&keys)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown role 'superuser'"), "{stderr}");
}

#[test]
fn hash_key_prints_the_sha256_the_keys_file_stores() {
    let output = Command::new(env!("CARGO_BIN_EXE_schema-registry")).args(["hash-key", "abc"]).output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

/// The binary allocates with jemalloc, with the settings it compiles in (an arena per CPU, freed pages handed back
/// after a second by jemalloc's own thread): jemalloc prints the options in force when asked for its statistics at
/// exit, and the environment may still add to them.
#[cfg(all(feature = "jemalloc", target_os = "linux"))]
#[test]
fn the_binary_allocates_with_jemalloc_and_its_compiled_in_settings() {
    let output = Command::new(env!("CARGO_BIN_EXE_schema-registry"))
        .args(["hash-key", "abc"])
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stats = String::from_utf8_lossy(&output.stderr);
    for option in ["opt.percpu_arena: \"percpu\"", "opt.background_thread: true", "opt.dirty_decay_ms: 1000"] {
        assert!(stats.contains(option), "{option} not in jemalloc's statistics:\n{stats}");
    }
}

/// `schema-registry copy` with `args`: (success, stdout, stderr).
fn copy(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_schema-registry"))
        .arg("copy")
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (output.status.success(), text(output.stdout), text(output.stderr))
}

#[test]
fn copy_moves_a_registry_between_stores_and_refuses_what_it_cannot_do() {
    use registry_core::{SchemaType, Subject, UnparsedSchema, VersionSelector};
    use registry_store::{Deleted, Deletion, Registry, RegistryOptions, Scope};
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("source.redb"), dir.path().join("target.redb"));
    let avro = |name: &str| {
        UnparsedSchema::new(SchemaType::Avro, format!(r#"{{"type":"record","name":"{name}","fields":[]}}"#))
    };
    {
        let registry = Registry::open(&source, RegistryOptions::default()).unwrap();
        let (a, b) = (Subject::new("a").unwrap(), Subject::new("b").unwrap());
        registry.register(&a, &avro("A")).unwrap();
        registry.register(&b, &avro("B")).unwrap();
        registry.delete_version(&b, VersionSelector::Latest, Deletion::Soft).unwrap();
        registry.set_config(Scope::Subject(&a), registry_core::compat::CompatibilityLevel::Full).unwrap();
    }
    let (source_arg, target_arg) = (source.to_str().unwrap(), target.to_str().unwrap());

    let (ok, stdout, stderr) = copy(&["--from", source_arg, "--to", target_arg]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("copied {source_arg} to {target_arg}: 2 versions, 2 schemas, 2 ids, 1 settings, 0 keys")
    );
    {
        let copied = Registry::open(&target, RegistryOptions::default()).unwrap();
        let subjects = copied.subjects("", Deleted::Include).unwrap();
        assert_eq!(subjects.iter().map(Subject::as_str).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(copied.versions(&Subject::new("b").unwrap(), Deleted::Only).unwrap().len(), 1, "still soft-deleted");
        assert_eq!(
            copied.config(Scope::Subject(&Subject::new("a").unwrap())).unwrap().map(|l| l.as_str()),
            Some("FULL")
        );
    }

    let (ok, _, stderr) = copy(&["--from", source_arg, "--to", target_arg]);
    assert!(!ok && stderr.contains("the target store is not empty"), "{stderr}");
    let (ok, _, _) = copy(&["--from", source_arg, "--to", target_arg, "--force"]);
    assert!(ok, "forced over the same registry: the same ids and versions");

    let missing = dir.path().join("missing.redb");
    let (ok, _, stderr) = copy(&["--from", missing.to_str().unwrap(), "--to", target_arg]);
    assert!(!ok && stderr.contains("there is no registry file"), "{stderr}");
    assert!(!missing.exists(), "a missing source is not created");

    let unreachable = "postgres://registry@127.0.0.1:1/registry";
    let (ok, _, stderr) = copy(&["--from", source_arg, "--to", unreachable]);
    assert!(!ok && stderr.contains("cannot open postgres://registry@127.0.0.1:1/registry"), "{stderr}");
}

/// How long until the server closes `stream` (a read answers end of file), or what it answered first.
fn until_closed(mut stream: &TcpStream) -> (Duration, String) {
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return (started.elapsed(), String::from_utf8_lossy(&answer).into_owned()),
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
        }
    }
}

#[test]
fn a_stalled_or_surplus_connection_costs_a_socket_until_its_timeout_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let limits = ["--header-timeout-secs", "2", "--body-timeout-secs", "2", "--max-connections", "4"];
    let (child, _) = start_with(port, &dir.path().join("data"), &limits);
    let connect = || TcpStream::connect(("127.0.0.1", port)).unwrap();

    // Six connections that send nothing: the server holds at most four (its limit), each until its header
    // timeout, and closes the others at once.
    let idle: Vec<TcpStream> = (0..6).map(|_| connect()).collect();
    let waits: Vec<Duration> = std::thread::scope(|scope| {
        let readers: Vec<_> = idle.iter().map(|stream| scope.spawn(move || until_closed(stream).0)).collect();
        readers.into_iter().map(|reader| reader.join().unwrap()).collect()
    });
    let refused = waits.iter().filter(|waited| **waited < Duration::from_secs(1)).count();
    assert!(refused >= 2, "at most four held: {waits:?}");
    assert!(waits.iter().all(|waited| *waited < Duration::from_secs(6)), "none held past its timeout: {waits:?}");
    // Once they are gone, the server serves again.
    assert_eq!(http(port, "GET", "/health", None).unwrap().0, 200);

    // Half a request's headers: closed at the header timeout.
    let half = connect();
    (&half).write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n").unwrap();
    let (waited, answer) = until_closed(&half);
    assert!(waited < Duration::from_secs(6), "half the headers were waited for {waited:?}");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");

    // A body that stalls: the request fails with a JSON error at the body timeout.
    let stalled = connect();
    let head = "POST /subjects/s/versions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n{\"schema\":";
    (&stalled).write_all(head.as_bytes()).unwrap();
    let (waited, answer) = until_closed(&stalled);
    assert!(waited < Duration::from_secs(6), "a stalled body was waited for {waited:?}");
    assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("\"error_code\""), "{answer}");

    assert!(terminate(child).success());
}

#[test]
fn api_keys_never_reach_the_log() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let (key, wrong) = ("s3cret-writer-key-7f3a", "wrong-key-9c1d");
    let hash = Command::new(env!("CARGO_BIN_EXE_schema-registry")).args(["hash-key", key]).output().unwrap();
    let keys = dir.path().join("keys");
    std::fs::write(&keys, format!("writer {} ci\n", String::from_utf8(hash.stdout).unwrap().trim())).unwrap();
    let log = dir.path().join("server.log");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_schema-registry"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--auth-keys")
        .arg(&keys)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while http(port, "GET", "/health", None).map(|(s, _)| s).ok() != Some(200) {
        assert!(Instant::now() < deadline, "the server did not answer /health in time");
        std::thread::sleep(Duration::from_millis(50));
    }
    let basic = |secret: &str| base64::engine::general_purpose::STANDARD.encode(format!("user:{secret}"));
    let body = r#"{"schema":"{\"type\":\"string\"}"}"#;
    for (header, want) in [
        (format!("X-API-Key: {key}"), 200),
        (format!("Authorization: Bearer {key}"), 200),
        (format!("Authorization: Basic {}", basic(key)), 200),
        (format!("X-API-Key: {wrong}"), 401),
        (format!("Authorization: Basic {}", basic(wrong)), 401),
    ] {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\n{header}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with(&format!("HTTP/1.1 {want}")), "{header}: {answer}");
    }
    assert!(terminate(child).success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("request"), "the log has the request lines: {text}");
    for secret in [key.to_string(), wrong.to_string(), basic(key), basic(wrong)] {
        assert!(!text.contains(&secret), "the log shows {secret}");
    }
}

/// The status of `GET /subjects` with `key` (over a fresh connection).
fn status_with_key(port: u16, key: &str) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET /subjects HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn the_keys_file_is_reloaded_on_sighup_and_a_bad_one_keeps_the_keys_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let line = |role: &str, key: &str| format!("{role} {} {key}\n", registry_http::auth::hash_key_hex(key));
    std::fs::write(&keys, line("reader", "first-key")).unwrap();
    let port = free_port();
    let keys_arg = keys.to_str().unwrap();
    let (child, _) = start_with(port, &dir.path().join("data"), &["--auth-keys", keys_arg]);
    let hangup = || assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    let until = |what: &str, check: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !check() {
            assert!(Instant::now() < deadline, "{what}: not within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    assert_eq!((status_with_key(port, "first-key"), status_with_key(port, "second-key")), (200, 401));

    // A new file: the new key works and the old one no longer does, without a restart.
    std::fs::write(&keys, line("reader", "second-key")).unwrap();
    hangup();
    until("the new key accepted", &|| status_with_key(port, "second-key") == 200);
    assert_eq!(status_with_key(port, "first-key"), 401);

    // A file that cannot be used (no key, then a bad line, then none at all): the keys in use stay.
    for bad in [Some("# nothing\n"), Some("superuser abc\n"), None] {
        match bad {
            Some(text) => std::fs::write(&keys, text).unwrap(),
            None => std::fs::remove_file(&keys).unwrap(),
        }
        hangup();
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(status_with_key(port, "second-key"), 200, "after a SIGHUP with {bad:?}");
        assert_eq!(status_with_key(port, "nothing"), 401);
    }
    assert!(terminate(child).success(), "the server still stops cleanly after the SIGHUPs");
}

#[test]
fn a_sighup_without_auth_neither_stops_the_server_nor_turns_auth_on() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (child, _) = start(port, &dir.path().join("data"));
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(http(port, "GET", "/subjects", None).unwrap().0, 200);
    assert!(terminate(child).success());
}

/// A self-signed certificate for localhost and 127.0.0.1, written as PEM files: (cert path, key path, cert DER).
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("a certificate");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    (cert, key, certified.cert.der().to_vec())
}

/// One request over TLS, trusting only `trusted` (a certificate's DER); returns (status, body).
fn https(port: u16, trusted: &[u8], request: &str) -> std::io::Result<(u16, String)> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(trusted.to_vec())).map_err(std::io::Error::other)?;
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(std::sync::Arc::new(config), name).map_err(std::io::Error::other)?;
    let socket = TcpStream::connect(("127.0.0.1", port))?;
    socket.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut tls = rustls::StreamOwned::new(connection, socket);
    tls.write_all(request.as_bytes())?;
    tls.flush()?;
    let mut response = Vec::new();
    // The server closes without a TLS close_notify at times; what arrived before counts.
    let _ = tls.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, response.split("\r\n\r\n").nth(1).unwrap_or("").to_string()))
}

#[test]
fn over_tls_keys_never_cross_in_clear_and_a_plain_or_silent_client_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, der) = self_signed(dir.path());
    let keys = dir.path().join("keys");
    std::fs::write(&keys, format!("writer {} ci\n", registry_http::auth::hash_key_hex("tls-key"))).unwrap();
    let port = free_port();
    let flags = [
        "--header-timeout-secs".as_ref(),
        "2".as_ref(),
        "--auth-keys".as_ref(),
        keys.as_os_str(),
        "--tls-cert".as_ref(),
        cert.as_os_str(),
        "--tls-key".as_ref(),
        key.as_os_str(),
    ];
    let (child, mut log) = spawn::<&std::ffi::OsStr>(port, &dir.path().join("data"), &flags);
    let startup = log.next().unwrap().unwrap();
    assert!(startup.contains(&format!("https://127.0.0.1:{port}")), "{startup}");
    std::thread::spawn(move || for _ in log {});
    let health = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let deadline = Instant::now() + Duration::from_secs(20);
    while https(port, &der, health).map(|(s, _)| s).ok() != Some(200) {
        assert!(Instant::now() < deadline, "no /health over TLS in time: {:?}", https(port, &der, health));
        std::thread::sleep(Duration::from_millis(50));
    }
    // `health` on this configuration asks its TLS listener (any certificate, for that loopback probe); with
    // `--url`, the certificate must be trusted: by `--ca`, or by a public authority (it is not).
    let listen = format!("127.0.0.1:{port}");
    let own = [
        os("--listen"),
        os(&listen),
        os("--tls-cert"),
        cert.clone().into(),
        os("--tls-key"),
        key.clone().into(),
        os("health"),
    ];
    let (ok, stdout, stderr) = run_binary(&own.iter().map(|a| a.as_os_str()).collect::<Vec<_>>());
    assert!(ok && stdout.contains("ok"), "{stdout}{stderr}");
    let url = format!("https://localhost:{port}");
    let (ok, _, stderr) = run_binary(&[
        os("health").as_os_str(),
        os("--url").as_os_str(),
        os(&url).as_os_str(),
        os("--ca").as_os_str(),
        cert.as_os_str(),
    ]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run_binary(&[os("health").as_os_str(), os("--url").as_os_str(), os(&url).as_os_str()]);
    assert!(!ok && stderr.contains("TLS with"), "a certificate no public authority signed: {stderr}");
    let body = r#"{"schema":"{\"type\":\"string\"}"}"#;
    let register = |auth: &str| {
        format!(
            "POST /subjects/s/versions HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let (status, answer) = https(port, &der, &register("Authorization: Bearer tls-key\r\n")).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(r#""id":1"#), "{answer}");
    assert_eq!(https(port, &der, &register("")).unwrap().0, 401);

    // Plain HTTP to the TLS port is never served: no HTTP answer, the connection closes.
    let plain = TcpStream::connect(("127.0.0.1", port)).unwrap();
    (&plain).write_all(health.as_bytes()).unwrap();
    let (_, answer) = until_closed(&plain);
    assert!(!answer.starts_with("HTTP/1.1 200"), "plain HTTP was served: {answer}");

    // A client that connects and never starts its handshake is closed at the header timeout.
    let silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (waited, _) = until_closed(&silent);
    assert!(waited >= Duration::from_millis(1500) && waited < Duration::from_secs(10), "closed after {waited:?}");

    // A renewed certificate, on SIGHUP: new handshakes get it, without a restart.
    let renewed = tempfile::tempdir().unwrap();
    let (new_cert, new_key, new_der) = self_signed(renewed.path());
    std::fs::copy(&new_cert, &cert).unwrap();
    std::fs::copy(&new_key, &key).unwrap();
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while https(port, &new_der, health).map(|(s, _)| s).ok() != Some(200) {
        assert!(Instant::now() < deadline, "the renewed certificate was not served");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(https(port, &der, health).is_err(), "the old certificate is no longer served");
    // A certificate file that cannot be used, on SIGHUP: the one in use stays.
    std::fs::write(&cert, "not a certificate\n").unwrap();
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(https(port, &new_der, health).unwrap().0, 200);
    assert!(terminate(child).success());
}

#[test]
fn tls_settings_that_cannot_work_stop_startup_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = self_signed(dir.path());
    let other = tempfile::tempdir().unwrap();
    let (_, other_key, _) = self_signed(other.path());
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let missing = dir.path().join("missing.pem");
    let cases: [(&[&std::path::Path], &str); 5] = [
        (&[&cert], "both a certificate (--tls-cert) and its private key (--tls-key)"),
        (&[&empty, &key], "holds no PEM certificate"),
        (&[&missing, &key], "cannot read a certificate from"),
        (&[&cert, &empty], "cannot read a private key from"),
        (&[&cert, &other_key], "cannot use the certificate"),
    ];
    for (files, expected) in cases {
        let mut command = Command::new(env!("CARGO_BIN_EXE_schema-registry"));
        command.args(["--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.path().join("data"));
        command.arg("--tls-cert").arg(files[0]);
        if let Some(key) = files.get(1) {
            command.arg("--tls-key").arg(key);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success() && stderr.contains(expected), "{files:?}: {stderr}");
    }
}

#[test]
fn a_log_whose_reader_is_gone_does_not_stop_the_server_answering() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (child, mut log) = spawn::<&str>(port, &dir.path().join("data"), &[]);
    log.next().unwrap().unwrap(); // listening
    drop(log); // the reader is gone: every later log line meets a broken pipe
    for _ in 0..3 {
        let (status, body) = http(port, "GET", "/health", None).expect("an answer, not a closed connection");
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) =
        http(port, "POST", "/subjects/s/versions", Some(r#"{"schema":"{\"type\":\"string\"}"}"#)).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(terminate(child).success());
}

/// Runs the binary with `args`: (success, stdout, stderr).
fn run_binary(args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_schema-registry")).args(args).output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn backup_and_check_work_on_a_stopped_and_on_a_running_server_and_a_backup_starts_as_the_same_registry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = [os("--data-dir"), data.clone().into_os_string()];
    let with_data = |extra: &[std::ffi::OsString]| {
        let args: Vec<&std::ffi::OsStr> = data_arg.iter().chain(extra).map(|s| s.as_os_str()).collect();
        run_binary(&args)
    };
    let register = |port: u16, subject: &str, name: &str| {
        let body = format!(r#"{{"schema":"{{\"type\":\"record\",\"name\":\"{name}\",\"fields\":[]}}"}}"#);
        http(port, "POST", &format!("/subjects/{subject}/versions"), Some(&body)).unwrap()
    };
    let (ok, _, stderr) = with_data(&[os("check")]);
    assert!(!ok && stderr.contains("there is no registry file at"), "{stderr}");

    // A running server: it makes the backup and runs the check, through its control socket.
    let port = free_port();
    let (child, _) = start(port, &data);
    assert_eq!(http(port, "PUT", "/config", Some(r#"{"compatibility":"NONE"}"#)).unwrap().0, 200);
    assert_eq!(register(port, "s", "A").0, 200);
    assert_eq!(register(port, "s", "B").0, 200);
    let online = dir.path().join("online.redb");
    let (ok, stdout, stderr) = with_data(&[os("backup"), os("--to"), online.clone().into_os_string()]);
    assert!(
        ok && stdout.contains("made by the server running on it") && stdout.contains("2 versions"),
        "{stdout}{stderr}"
    );
    let (ok, stdout, stderr) = with_data(&[os("check")]);
    assert!(ok && stdout.contains("2 versions") && stdout.contains("no problems found"), "{stdout}{stderr}");
    assert_eq!(register(port, "s", "C").0, 200, "the server serves on after a backup");
    let (ok, _, stderr) = with_data(&[os("backup"), os("--to"), online.clone().into_os_string()]);
    assert!(!ok && stderr.contains("exists already"), "{stderr}");
    assert!(terminate(child).success());
    assert!(!data.join("registry.redb.sock").exists(), "the control socket is removed at shutdown");

    // Stopped: the command opens the file itself.
    let offline = dir.path().join("offline.redb");
    let (ok, stdout, stderr) = with_data(&[os("backup"), os("--to"), offline.clone().into_os_string()]);
    assert!(ok && stdout.contains("3 versions") && !stdout.contains("server"), "{stdout}{stderr}");

    // Restore by starting on a backup: it holds what was registered before it was made, and nothing after.
    for (backup, versions) in [(&online, "[1,2]"), (&offline, "[1,2,3]")] {
        let port = free_port();
        let (child, _) = start_with(port, &dir.path().join("unused"), &["--store", backup.to_str().unwrap()]);
        assert_eq!(http(port, "GET", "/subjects/s/versions", None).unwrap(), (200, versions.to_string()));
        assert!(terminate(child).success());
        let (ok, stdout, _) = run_binary(&[os("--store").as_os_str(), backup.as_os_str(), os("check").as_os_str()]);
        assert!(ok && stdout.contains("no problems found"), "{stdout}");
    }

    // Damage found: the check lists it and exits non-zero.
    {
        let db = redb::Database::open(&offline).unwrap();
        let txn = db.begin_write().unwrap();
        let uses: redb::TableDefinition<(u32, &str, u32), ()> = redb::TableDefinition::new("id_uses");
        txn.open_table(uses).unwrap().remove((1, "s", 1)).unwrap();
        txn.commit().unwrap();
    }
    let (ok, stdout, stderr) = run_binary(&[os("--store").as_os_str(), offline.as_os_str(), os("check").as_os_str()]);
    assert!(!ok && stdout.contains("1 problems found") && stdout.contains("s version 1"), "{stdout}{stderr}");
    assert!(stderr.contains("the registry has problems"), "{stderr}");
}

/// `schema-registry mcp`: the MCP tools over stdio on the data directory's registry, as an assistant that starts
/// the registry itself talks to it (newline-delimited JSON-RPC); writes only with `--mcp-writes`.
#[test]
fn mcp_over_stdio_finds_checks_and_registers() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    // A registry with one schema, made by the library.
    {
        let registry =
            registry_store::Registry::open(data_dir.join("registry.redb"), registry_store::RegistryOptions::default())
                .unwrap();
        let order = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}"#;
        let subject = registry_core::Subject::new("orders-value").unwrap();
        registry
            .register(&subject, &registry_core::UnparsedSchema::new(registry_core::SchemaType::Avro, order))
            .unwrap();
    }
    // The settings are taken before the subcommand and after it alike.
    let session = |args: &[std::ffi::OsString], calls: &[serde_json::Value]| -> Vec<serde_json::Value> {
        let mut child = stdio_child(args);
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut send = |message: serde_json::Value| writeln!(stdin, "{message}").unwrap();
        send(serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}));
        let init: serde_json::Value = serde_json::from_str(&stdout.next().unwrap().unwrap()).unwrap();
        assert_eq!(init["result"]["serverInfo"]["name"], "schema-registry", "{init}");
        send(serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        let mut answers = Vec::new();
        for (i, call) in calls.iter().enumerate() {
            send(serde_json::json!({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call", "params": call}));
            answers.push(serde_json::from_str(&stdout.next().unwrap().unwrap()).unwrap());
        }
        drop(stdin);
        assert!(child.wait().unwrap().success(), "the server ends when its client closes stdin");
        answers
    };
    let note = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"note","type":"string","default":""}]}"#;
    let register =
        serde_json::json!({"name": "register_schema", "arguments": {"subject": "orders-value", "schema": note}});
    let answers = session(
        &[os("--data-dir"), data_dir.clone().into_os_string(), os("mcp")],
        &[
            serde_json::json!({"name": "search_schemas", "arguments": {"query": "order"}}),
            serde_json::json!({"name": "check_compatibility", "arguments": {"subject": "orders-value", "schema": note}}),
            register.clone(),
        ],
    );
    assert_eq!(answers[0]["result"]["structuredContent"]["results"][0]["subject"], "orders-value", "{}", answers[0]);
    assert_eq!(answers[1]["result"]["structuredContent"]["compatible"], true, "{}", answers[1]);
    assert_eq!(answers[2]["result"]["isError"], true, "writes are off by default: {}", answers[2]);
    let answers =
        session(&[os("mcp"), os("--data-dir"), data_dir.clone().into_os_string(), os("--mcp-writes")], &[register]);
    let registered = &answers[0]["result"]["structuredContent"];
    assert_eq!(
        (registered["version"].as_u64(), registered["semver"].as_str()),
        (Some(2), Some("1.1.0")),
        "{}",
        answers[0]
    );
}

/// `schema-registry mcp --url`: stdio relayed to a running server's `/mcp` (the protocol version agreed at
/// `initialize` sent with what follows); an unreachable server is an error answer to each request, not a crash.
#[test]
fn mcp_relays_stdio_to_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (server, _) = start(port, &dir.path().join("data"));
    let (status, _) = http(port, "POST", "/subjects/orders-value/versions", Some(r#"{"schema":"\"long\""}"#)).unwrap();
    assert_eq!(status, 200);
    let relay = |url: &str, messages: &[serde_json::Value]| -> Vec<serde_json::Value> {
        let mut child = stdio_child(&[os("mcp"), os("--url"), os(url)]);
        let mut stdin = child.stdin.take().unwrap();
        for message in messages {
            writeln!(stdin, "{message}").unwrap();
        }
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "the relay ends when stdin does");
        let text = String::from_utf8(output.stdout).unwrap();
        text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    };
    let messages = [
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}),
        serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "get_versions", "arguments": {"subject": "orders-value"}}}),
    ];
    let answers = relay(&format!("http://127.0.0.1:{port}"), &messages);
    assert_eq!(answers.len(), 2, "a notification has no answer: {answers:?}");
    assert_eq!(answers[0]["result"]["serverInfo"]["name"], "schema-registry");
    assert_eq!(answers[1]["result"]["structuredContent"]["versions"][0]["version"], 1, "{}", answers[1]);
    assert!(terminate(server).success());
    let unreachable = relay(&format!("http://127.0.0.1:{}", free_port()), &messages[..1]);
    assert_eq!(unreachable[0]["error"]["code"], -32000, "{unreachable:?}");
    assert!(unreachable[0]["error"]["message"].as_str().unwrap().contains("cannot reach"));
}

/// `completions SHELL` and `man` are generated from the command-line definitions: every subcommand is in them.
#[test]
fn completions_and_the_man_page_name_every_command() {
    let commands = ["hash-key", "backup", "check", "mcp", "copy", "migrate", "compat", "validate", "health"];
    for shell in ["bash", "zsh", "fish"] {
        let (ok, script, stderr) = run_binary(&[os("completions").as_os_str(), os(shell).as_os_str()]);
        assert!(ok, "{shell}: {stderr}");
        for command in commands {
            assert!(script.contains(command), "{shell} completions lack {command}");
        }
    }
    let (ok, page, stderr) = run_binary(&[os("man").as_os_str()]);
    assert!(ok, "{stderr}");
    assert!(page.contains(".TH schema-registry 1"), "{}", &page[..page.len().min(200)]);
    // roff escapes a hyphen as `\-`.
    let page = page.replace("\\-", "-");
    for command in commands {
        assert!(page.contains(command), "the man page lacks {command}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (ok, listed, stderr) = run_binary(&[os("man").as_os_str(), os("--dir").as_os_str(), dir.path().as_os_str()]);
    assert!(ok, "{stderr}");
    for command in commands {
        let page = std::fs::read_to_string(dir.path().join(format!("schema-registry-{command}.1"))).unwrap();
        assert!(page.contains(&format!(".TH schema-registry-{command} 1")), "{command}: {}", &page[..200]);
        assert!(listed.contains(&format!("schema-registry-{command}.1")), "{listed}");
    }
    let migrate = std::fs::read_to_string(dir.path().join("schema-registry-migrate.1")).unwrap();
    assert!(migrate.contains("dry\\-run"), "a command's page has its flags");
    let (ok, _, stderr) = run_binary(&[os("completions").as_os_str(), os("tcsh").as_os_str()]);
    assert!(!ok && stderr.contains("invalid value 'tcsh'"), "{stderr}");
}

/// `health`: 0 and the answer while a server runs (at `--url`, or where `--listen` says it listens), 1 and the
/// reason once it is gone.
#[test]
fn health_asks_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (server, _) = start(port, &dir.path().join("data"));
    let url = format!("http://127.0.0.1:{port}");
    let (ok, stdout, stderr) = run_binary(&[os("health").as_os_str(), os("--url").as_os_str(), os(&url).as_os_str()]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), r#"{"status":"ok"}"#);
    let listen = format!("0.0.0.0:{port}");
    let (ok, _, stderr) = run_binary(&[os("--listen").as_os_str(), os(&listen).as_os_str(), os("health").as_os_str()]);
    assert!(ok, "an unspecified listen address is asked on loopback: {stderr}");
    assert!(terminate(server).success());
    let (ok, _, stderr) = run_binary(&[os("health").as_os_str(), os("--url").as_os_str(), os(&url).as_os_str()]);
    assert!(!ok && stderr.contains("cannot reach"), "{stderr}");
    let (ok, _, stderr) = run_binary(&[os("health").as_os_str(), os("--url").as_os_str(), os("ftp://x").as_os_str()]);
    assert!(!ok && stderr.contains("use http:// or https://"), "{stderr}");
}
