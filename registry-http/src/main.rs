//! `schema-registry`: the registry as a single-binary sidecar.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, Parser};
use registry_core::Limits;
use registry_http::config::{Cli, Command, split_cache_bytes};
use registry_http::{AppState, AuthKeys, auth, server};
use registry_store::{Registry, RegistryError, RegistryOptions, StoreAddress};
use tracing_subscriber::EnvFilter;

/// jemalloc (feature `jemalloc`, on by default): about a third less CPU per new registration than glibc's malloc
/// and 40% less per validator compiled, for about the same memory (docs/benchmarks.md).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read when it starts (before `main`; `_RJEM_MALLOC_CONF` in the environment adds to them
/// and wins): an arena per CPU, each thread allocating from the one of the CPU it runs on, and pages freed handed
/// back to the system after a second by jemalloc's own thread, not the default ten seconds on the next allocation.
/// Measured with `registry-load max` against jemalloc's defaults (four arenas per CPU, no background thread): the
/// same CPU per request, 154 against 172 MiB at the end (glibc's malloc 145 MiB). On Linux only: an arena per CPU
/// needs `sched_getcpu`, and elsewhere jemalloc's defaults do.
#[cfg(all(feature = "jemalloc", target_os = "linux"))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_CONF: JemallocConf =
    JemallocConf(c"percpu_arena:percpu,background_thread:true,dirty_decay_ms:1000".as_ptr());

/// The `const char *` jemalloc reads its settings from.
#[cfg(all(feature = "jemalloc", target_os = "linux"))]
#[repr(transparent)]
struct JemallocConf(*const std::ffi::c_char);

// SAFETY: the pointer is to a static, immutable C string.
#[cfg(all(feature = "jemalloc", target_os = "linux"))]
unsafe impl Sync for JemallocConf {}

fn main() -> ExitCode {
    tune_glibc_malloc();
    // Before any schema is parsed: apache-avro's name checks are set once per process.
    registry_core::format::install_avro_name_validators();
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::HashKey { key }) => {
            println!("{}", auth::hash_key_hex(key));
            return ExitCode::SUCCESS;
        }
        Some(Command::Completions { shell }) => {
            clap_complete::generate(*shell, &mut Cli::command(), "schema-registry", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Some(Command::Man { dir }) => return man(dir.as_deref()),
        Some(Command::Compat(args)) => return registry_http::offline::compat(args),
        Some(Command::Validate(args)) => return registry_http::offline::validate(args),
        _ => {}
    }
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_log_level(&cli))))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A log that cannot be written (its reader gone: a broken pipe) must not fail the request that logs:
        // reporting it would write to stderr again, and a failed `eprintln!` panics.
        .log_internal_errors(false)
        .init();
    let outcome = match &cli.command {
        Some(Command::Copy { from, to, force }) => copy(&cli, from, to, *force),
        Some(Command::Backup { to }) => backup(&cli, to),
        Some(Command::Check) => check(&cli),
        Some(Command::Mcp { url: Some(url), api_key, ca }) => mcp_relay(url, api_key.as_deref(), ca.as_deref()),
        Some(Command::Mcp { url: None, .. }) => mcp(&cli),
        Some(Command::Migrate(args)) => migrate(&cli, args),
        Some(Command::Health { url, ca }) => health(&cli, url.as_deref(), ca.as_deref()),
        _ => run(&cli),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("schema-registry: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What is logged unless `RUST_LOG` says otherwise: a command that serves a registry in-process for its own
/// requests (`migrate` into a data directory) logs warnings only, not each request.
fn default_log_level(cli: &Cli) -> &'static str {
    match cli.command {
        Some(Command::Migrate(_)) => "warn",
        _ => "info",
    }
}

/// `schema-registry man`: the man page, from the clap definitions; with a directory, one page per command too.
fn man(dir: Option<&std::path::Path>) -> ExitCode {
    let written = match dir {
        None => clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()).map_err(|e| e.to_string()),
        Some(dir) => man_pages(dir),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("schema-registry: cannot write the man page: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `schema-registry.1` and `schema-registry-<command>.1` for each command, into `dir`.
fn man_pages(dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut command = Cli::command();
    command.build();
    let mut pages = vec![("schema-registry.1".to_string(), command.clone())];
    for sub in command.get_subcommands().filter(|sub| sub.get_name() != "help") {
        let name = format!("schema-registry-{}", sub.get_name());
        pages.push((format!("{name}.1"), sub.clone().name(name)));
    }
    for (file, page) in pages {
        let path = dir.join(&file);
        let mut out = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        clap_mangen::Man::new(page).render(&mut out).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

/// `schema-registry health`: `GET /health` of the server at `url`, or of this configuration's own listener (over
/// TLS when it has a certificate: that certificate names the service, not the loopback address asked, so any is
/// taken for this probe, which sends no secret).
fn health(cli: &Cli, url: Option<&str>, ca: Option<&std::path::Path>) -> Result<(), String> {
    use registry_http::client::{Credentials, Remote, Trust};
    let remote = match url {
        Some(url) => Remote::new(url, Credentials::None, ca)?,
        None => {
            let settings = cli.settings()?;
            let listen = settings.listen;
            let ip = if listen.ip().is_unspecified() { "127.0.0.1".to_string() } else { listen.ip().to_string() };
            let host = if ip.contains(':') { format!("[{ip}]") } else { ip };
            match (&settings.tls, ca) {
                (None, _) => Remote::new(&format!("http://{host}:{}", listen.port()), Credentials::None, None)?,
                (Some(_), Some(ca)) => {
                    Remote::new(&format!("https://{host}:{}", listen.port()), Credentials::None, Some(ca))?
                }
                (Some(_), None) => Remote::with_trust(
                    &format!("https://{host}:{}", listen.port()),
                    Credentials::None,
                    Trust::AnyForLoopbackProbe,
                )?,
            }
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let answer = tokio::time::timeout(std::time::Duration::from_secs(10), remote.get("/health"))
            .await
            .map_err(|_| format!("{} did not answer within 10 s", remote.url()))??;
        if answer.status != 200 {
            return Err(format!("{} is not healthy: {} {}", remote.url(), answer.status, answer.text()));
        }
        println!("{}", answer.text());
        Ok(())
    })
}

/// `schema-registry migrate`: a running registry's contents into this one.
/// Into the server at `--to`, or the data directory's registry (or `--store`'s), opened here.
fn migrate(cli: &Cli, args: &registry_http::config::MigrateArgs) -> Result<(), String> {
    use registry_http::migrate::{Endpoint, run};
    let mut scratch_dir = None;
    let target = match &args.to {
        Some(url) => Endpoint::remote(url, args.to_basic.as_deref(), args.to_bearer.as_deref(), args.to_ca.as_deref())
            .map_err(|e| format!("--to: {e}"))?,
        None => {
            let settings = cli.settings()?;
            // The limits the server on this configuration would apply.
            let limits = Limits { max_schema_bytes: settings.max_schema_bytes, ..Limits::default() };
            let options =
                RegistryOptions { limits, store: settings.store_options.clone(), ..RegistryOptions::default() };
            let name = settings.store.to_string();
            // A dry run into a data directory that does not exist yet creates nothing: it plans against an empty
            // registry of its own, in a new directory removed after.
            let store = match &settings.store {
                StoreAddress::Embedded(path) if args.dry_run && !path.exists() => {
                    let scratch = scratch_directory()?;
                    scratch_dir = Some(scratch.clone());
                    StoreAddress::Embedded(scratch.join("registry.redb"))
                }
                store => store.clone(),
            };
            create_data_dir(&store)?;
            let registry = Registry::open_at(&store, options).map_err(|e| format!("cannot open {name}: {e}"))?;
            let mut state = AppState::new(registry);
            state.max_body_bytes = settings.max_body_bytes;
            Endpoint::local(state, name)
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let outcome = runtime.block_on(run(args, target));
    if let Some(scratch) = scratch_dir {
        let _ = std::fs::remove_dir_all(scratch);
    }
    outcome
}

/// A new directory of this process's own under the temporary directory (never one that existed).
fn scratch_directory() -> Result<std::path::PathBuf, String> {
    let base = std::env::temp_dir();
    for attempt in 0..100u32 {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let dir = base.join(format!("schema-registry-dry-run-{}-{nanos}-{attempt}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create a directory in {}: {e}", base.display())),
        }
    }
    Err(format!("cannot create a directory of its own in {}", base.display()))
}

/// Creates the directory of an embedded store's file, if missing.
fn create_data_dir(store: &StoreAddress) -> Result<(), String> {
    if let StoreAddress::Embedded(path) = store
        && let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// `schema-registry copy`: the whole registry at `from` into the store at `to`.
fn copy(cli: &Cli, from: &str, to: &str, force: bool) -> Result<(), String> {
    let settings = cli.settings()?;
    let (from, to) = (StoreAddress::parse(from), StoreAddress::parse(to));
    if let StoreAddress::Embedded(path) = &from
        && !path.is_file()
    {
        return Err(format!("there is no registry file at {}", path.display()));
    }
    // Unlike a server's start-up, a copy does not wait for a database unless told to.
    let mut store = settings.store_options;
    if cli.store_wait_secs.is_none() {
        store.connect_wait = std::time::Duration::ZERO;
    }
    let options = RegistryOptions { store, ..RegistryOptions::default() };
    let open = |address: &StoreAddress| {
        Registry::open_at(address, options.clone()).map_err(|e| format!("cannot open {address}: {e}"))
    };
    let (source, target) = (open(&from)?, open(&to)?);
    let copied = source.copy_into(&target, force).map_err(|e| format!("cannot copy {from} to {to}: {e}"))?;
    println!(
        "copied {from} to {to}: {} versions, {} schemas, {} ids, {} settings, {} keys",
        copied.versions, copied.schemas, copied.ids, copied.settings, copied.keys
    );
    Ok(())
}

/// The registry `backup` and `check` work on, opened here; or, when a server holds its file, that file.
enum Target {
    Opened(Registry, String),
    Served(std::path::PathBuf),
}

fn open_target(cli: &Cli) -> Result<Target, String> {
    let settings = cli.settings()?;
    let store = &settings.store;
    if let StoreAddress::Embedded(path) = store
        && !path.is_file()
    {
        return Err(format!("there is no registry file at {}", path.display()));
    }
    let mut options = settings.store_options.clone();
    if cli.store_wait_secs.is_none() {
        options.connect_wait = std::time::Duration::ZERO;
    }
    match Registry::open_at(store, RegistryOptions { store: options, ..RegistryOptions::default() }) {
        Ok(registry) => Ok(Target::Opened(registry, store.to_string())),
        Err(RegistryError::InUse(_)) if cfg!(unix) && matches!(store, StoreAddress::Embedded(_)) => {
            let StoreAddress::Embedded(path) = store else { unreachable!("matched above") };
            Ok(Target::Served(path.clone()))
        }
        Err(e) => Err(format!("cannot open {store}: {e}")),
    }
}

/// `schema-registry backup`: the registry, as of one moment, into a new redb file.
fn backup(cli: &Cli, to: &std::path::Path) -> Result<(), String> {
    if to.exists() {
        return Err(format!("{} exists already: back up to a new file", to.display()));
    }
    let (copied, from, how) = match open_target(cli)? {
        Target::Opened(registry, store) => {
            (registry.backup_to(to).map_err(|e| format!("cannot back up {store}: {e}"))?, store, "")
        }
        Target::Served(path) => {
            (served_backup(&path, to)?, path.display().to_string(), " (made by the server running on it)")
        }
    };
    println!(
        "backed up {from} to {}{how}: {} versions, {} schemas, {} ids, {} settings, {} keys",
        to.display(),
        copied.versions,
        copied.schemas,
        copied.ids,
        copied.settings,
        copied.keys
    );
    Ok(())
}

#[cfg(unix)]
fn served_backup(path: &std::path::Path, to: &std::path::Path) -> Result<registry_store::Copied, String> {
    registry_http::control::request_backup(path, to)
}

#[cfg(not(unix))]
fn served_backup(path: &std::path::Path, _: &std::path::Path) -> Result<registry_store::Copied, String> {
    Err(format!("{} is open in another process: stop it first", path.display()))
}

/// The most threads the blocking pool runs at once (parses, compiles and checks too heavy for an async worker):
/// four per core, at least 16. Past that, work waits its turn rather than adding threads the cores cannot run at
/// once; each thread would also keep an allocator heap of its own (tokio's default allows 512).
fn blocking_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (4 * cores).max(16)
}

/// `schema-registry mcp`: the MCP tools over stdio, on the registry of the data directory (or `--store`), until
/// the client closes stdin. Logs go to stderr: stdout carries the protocol.
fn mcp(cli: &Cli) -> Result<(), String> {
    use rmcp::ServiceExt;
    let settings = cli.settings()?;
    let options = RegistryOptions { store: settings.store_options.clone(), ..RegistryOptions::default() };
    let registry =
        Registry::open_at(&settings.store, options).map_err(|e| format!("cannot open {}: {e}", settings.store))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let tools = registry_http::mcp::RegistryTools::new(registry, settings.mcp_writes, false)
            .with_max_items(settings.max_validate_items);
        let service = tools.serve(rmcp::transport::stdio()).await.map_err(|e| format!("MCP over stdio: {e}"))?;
        service.waiting().await.map_err(|e| format!("MCP over stdio: {e}"))?;
        Ok(())
    })
}

/// `schema-registry mcp --url`: the MCP messages of stdin relayed to a running server's `/mcp`, its answers to
/// stdout.
fn mcp_relay(url: &str, api_key: Option<&str>, ca: Option<&std::path::Path>) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(registry_http::mcp::relay(url, api_key, ca))
}

/// `schema-registry check`: the registry's integrity; an error (exit 1) when anything is wrong.
fn check(cli: &Cli) -> Result<(), String> {
    let (text, sound) = match open_target(cli)? {
        Target::Opened(registry, store) => {
            let report = registry.check().map_err(|e| format!("cannot check {store}: {e}"))?;
            (registry_http::control::render_check(&store, &report), report.is_sound())
        }
        Target::Served(path) => served_check(&path)?,
    };
    print!("{text}");
    if sound { Ok(()) } else { Err("the registry has problems (listed above)".into()) }
}

#[cfg(unix)]
fn served_check(path: &std::path::Path) -> Result<(String, bool), String> {
    registry_http::control::request_check(path)
}

#[cfg(not(unix))]
fn served_check(path: &std::path::Path) -> Result<(String, bool), String> {
    Err(format!("{} is open in another process: stop it first", path.display()))
}

fn run(cli: &Cli) -> Result<(), String> {
    let settings = cli.settings()?;
    create_data_dir(&settings.store)?;
    let store = &settings.store;
    let limits = Limits { max_schema_bytes: settings.max_schema_bytes, ..Limits::default() };
    let (registry_bytes, rendered_bytes) = split_cache_bytes(settings.cache_bytes);
    let options = RegistryOptions {
        limits,
        cache_capacity: settings.cache_capacity,
        store: settings.store_options.clone(),
        ..RegistryOptions::default()
    };
    let registry = Registry::open_at(store, options.with_cache_budget(registry_bytes))
        .map_err(|e| format!("cannot open {store}: {e}"))?;
    #[cfg(unix)]
    let _control = match store {
        StoreAddress::Embedded(path) => registry_http::control::listen(registry.clone(), path, store.to_string())
            .map_err(|e| tracing::warn!(error = %e, "no control socket: backup and check need the server stopped"))
            .ok(),
        StoreAddress::Postgres(_) => None,
    };
    let auth = settings.auth_keys.as_deref().map(AuthKeys::load).transpose()?.map(Arc::new);
    let mut state = AppState::new(registry)
        .with_metrics(registry_http::metrics::Metrics::install())
        .with_rendered_cache_bytes(rendered_bytes)
        .with_registration_capacity(settings.cache_capacity)
        .with_memory_budget_bytes(settings.memory_budget_bytes);
    state.auth = auth;
    state.max_body_bytes = settings.max_body_bytes;
    state.max_validate_items = settings.max_validate_items;
    state.mcp_writes = settings.mcp_writes;
    state.console &= settings.console;
    let tls = settings.tls.as_ref().map(|(cert, key)| registry_http::serve::Tls::load(cert, key)).transpose()?;
    let scheme = if tls.is_some() { "https" } else { "http" };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(blocking_threads())
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        if let Some(addr) = settings.metrics_addr {
            let metrics_listener =
                tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let metrics_app = axum::Router::new()
                .route("/metrics", axum::routing::get(registry_http::metrics::render))
                .with_state(Arc::new(state.clone()));
            tokio::spawn(async move {
                let _ = axum::serve(metrics_listener, metrics_app).with_graceful_shutdown(shutdown_signal()).await;
            });
            tracing::info!(%addr, "metrics listening");
        }
        #[cfg(unix)]
        tokio::spawn(reload_on_hangup(settings.auth_keys.clone(), state.auth.clone(), tls.clone()));
        tracing::info!(
            listen = %local,
            data = %store,
            auth = if state.auth.is_some() { "on" } else { "off" },
            tls = tls.is_some(),
            "schema registry listening on {scheme}://{local}, data in {store}, auth {}{}",
            if state.auth.is_some() { "on" } else { "off" },
            if state.console { format!(", console at {scheme}://{local}/ui") } else { String::new() }
        );
        registry_http::serve::serve(listener, server(state), settings.serve, tls, shutdown_signal())
            .await
            .map_err(|e| format!("server error: {e}"))?;
        tracing::info!("shut down cleanly");
        Ok(())
    })
}

/// glibc gives each thread that allocates under contention its own arena, up to eight per core, and keeps what
/// each arena freed, so a server that parses and evicts thousands of schemas can end up holding tens of MiB of free
/// memory spread over many arenas. Two arenas per core bound that. One per core saved a few MiB more but cost a
/// fifth of the new-registration throughput (`registry-load max --only register-new`: 2,500 against 3,100/s; the
/// async workers, the committer and the threads that free evicted entries meet on too few arenas). A
/// `MALLOC_ARENA_MAX` in the environment wins.
///
/// Allocations of 1 MiB and more are mapped on their own and unmapped when freed: glibc's default threshold
/// rises to the size of the largest block freed (up to 32 MiB), after which a large request's multi-MiB buffers
/// come from the arenas and leave them fragmented. After sixteen concurrent 4 MiB documents the server held
/// 120-172 MiB with the moving threshold, up to 71.5 MiB over its level before them; with this one 77-78 MiB,
/// within 1 MiB of that level (`MEMORY_KINDS="widest object" ./scripts/memory-test.sh`). A
/// `MALLOC_MMAP_THRESHOLD_` in the environment wins.
///
/// Built with jemalloc (feature `jemalloc`, the default), glibc's malloc serves only the C library itself and none
/// of this is needed.
fn tune_glibc_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(feature = "jemalloc")))]
    {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get()).max(1);
            let arenas = libc::c_int::try_from(cores.saturating_mul(2)).unwrap_or(libc::c_int::MAX);
            // SAFETY: mallopt only sets an allocator parameter; it is called before any other thread exists.
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, arenas);
            }
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            // SAFETY: as above.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            }
        }
    }
}

/// On each SIGHUP, reads the keys file and the TLS certificate and key again: requests from then on are checked
/// against the new keys, and new handshakes get the new certificate. A file that cannot be used is logged and
/// what was loaded before stays in use. Without a keys file (auth off) or TLS, there is nothing of it to reload: a
/// SIGHUP never turns either on or off, and never stops the server.
#[cfg(unix)]
async fn reload_on_hangup(
    path: Option<std::path::PathBuf>,
    keys: Option<Arc<AuthKeys>>,
    tls: Option<registry_http::serve::Tls>,
) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP: the keys file and certificate will not be reloaded");
        return;
    };
    while hangups.recv().await.is_some() {
        match tls.as_ref().map(registry_http::serve::Tls::reload) {
            Some(Ok(())) => tracing::info!("SIGHUP: the TLS certificate and key were reloaded"),
            Some(Err(error)) => {
                tracing::error!(%error, "SIGHUP: the TLS certificate cannot be used; the one loaded before stays")
            }
            None => {}
        }
        let (Some(path), Some(keys)) = (&path, &keys) else {
            tracing::warn!("SIGHUP: auth is off (no keys file), so there are no keys to reload");
            continue;
        };
        match AuthKeys::load(path) {
            Ok(loaded) => {
                keys.replace(loaded);
                tracing::info!(file = %path.display(), keys = keys.len(), "SIGHUP: the keys file was reloaded");
            }
            Err(error) => tracing::error!(
                file = %path.display(),
                %error,
                "SIGHUP: the keys file cannot be used; the keys loaded before stay in use"
            ),
        }
    }
}

/// Resolves on SIGINT or SIGTERM: the server stops accepting and finishes in-flight requests.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
}
