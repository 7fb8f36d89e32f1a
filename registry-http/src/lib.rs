//! The sidecar server: a thin axum layer over a shared [`Registry`].
//!
//! It owns the wire: the Confluent-compatible REST API (`confluent`), the project's own `/api/v1` API (`v1`),
//! auth, request ids and tracing, Prometheus metrics, and the mapping of registry errors to statuses and JSON
//! bodies (`error`). It decides nothing about schemas: every rule lives in `registry-core` and
//! `registry-store`, and a handler only translates a request into one `Registry` call and its answer back.

#![warn(missing_docs)]

mod alias;
pub mod auth;
mod budget;
pub mod client;
pub mod config;
mod confluent;
#[cfg(feature = "console")]
mod console;
mod context;
pub mod control;
mod error;
mod extract;
mod front;
pub mod mcp;
pub mod metrics;
pub mod migrate;
pub mod offline;
pub mod serve;
mod v1;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::routing::get;
use registry_store::{Registry, RegistryOptions};

pub use auth::{AuthKeys, Role};
pub use budget::{DEFAULT_MEMORY_BUDGET_BYTES, SMALL_BODY_BYTES};
pub use error::ApiError;
pub use front::{Server, ServerFuture};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The registry the server fronts.
    pub registry: Registry,
    /// API keys and roles; `None` leaves auth off.
    pub auth: Option<Arc<AuthKeys>>,
    /// Where `/metrics` reads from; `None` serves no metrics on the main listener.
    pub metrics: Option<metrics::Metrics>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most documents one validation batch (`items`) may hold: each gets a report, so a batch's answer grows
    /// with it.
    pub max_validate_items: usize,
    /// Pre-rendered `GET /schemas/ids/{id}` bodies: a schema id never changes meaning, so its answer is built
    /// once. Each is kept with the registry's count of removals when it was rendered, and served without asking
    /// the registry again while that count stands (`Registry::removals`).
    pub(crate) rendered: moka::sync::Cache<(u32, bool), (u64, axum::body::Bytes)>,
    /// Answers to plain registrations, by the digest of path, query and body: a client registering a schema its
    /// subject has is answered without parsing the request again. Each is kept with the registry's count of
    /// retractions when it was answered and served while that count stands (`Registry::retractions`).
    pub(crate) registrations: moka::sync::Cache<[u8; 32], confluent::Remembered>,
    /// Lookups of `rendered` and `registrations` that found an answer, and those that did not.
    pub(crate) answer_counts: Arc<AnswerCounts>,
    /// The memory the large requests in flight may take together, by estimate (`budget.rs`).
    pub(crate) memory_budget: Arc<budget::MemoryBudget>,
    /// Whether MCP callers may write (`register_schema`, `set_compatibility`), as their keys' roles allow.
    pub mcp_writes: bool,
    /// Whether the web console is served at `/ui` (cargo feature `console`; `--no-ui` turns it off).
    pub console: bool,
}

/// Hits and misses of the server's own answer caches, shown on `/metrics` with the registry's.
#[derive(Debug, Default)]
pub(crate) struct AnswerCounts {
    pub(crate) rendered: metrics::HitCounter,
    pub(crate) registrations: metrics::HitCounter,
}

/// Bytes of pre-rendered answers kept by default: a fifth of the server's default cache budget.
const RENDERED_CACHE_BYTES: u64 = config::split_cache_bytes(config::DEFAULT_CACHE_BYTES).1;

impl AppState {
    /// A state with auth off, no `/metrics` (and no recorder installed: see [`AppState::with_metrics`]), and the
    /// default body limit.
    pub fn new(registry: Registry) -> Self {
        Self {
            registry,
            auth: None,
            metrics: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_validate_items: DEFAULT_MAX_VALIDATE_ITEMS,
            rendered: rendered_cache(RENDERED_CACHE_BYTES),
            registrations: registration_cache(RegistryOptions::default().cache_capacity),
            answer_counts: Arc::default(),
            memory_budget: Arc::new(budget::MemoryBudget::new(DEFAULT_MEMORY_BUDGET_BYTES)),
            mcp_writes: false,
            console: cfg!(feature = "console"),
        }
    }

    /// The same state serving `/metrics` from `metrics`: [`metrics::Metrics::install`] for the server's own
    /// process-wide recorder, as the binary does, or [`metrics::Metrics::from_handle`] for the application's.
    pub fn with_metrics(self, metrics: metrics::Metrics) -> Self {
        Self { metrics: Some(metrics), ..self }
    }

    /// The same state with `bytes` of memory for the large requests in flight together, by estimate (default
    /// 192 MiB): a request whose body is over 64 KiB waits for its share before its body is read. One larger
    /// than the whole budget runs alone.
    pub fn with_memory_budget_bytes(self, bytes: usize) -> Self {
        Self { memory_budget: Arc::new(budget::MemoryBudget::new(bytes)), ..self }
    }

    /// The same state with `bytes` for pre-rendered answers (default 16 MiB).
    pub fn with_rendered_cache_bytes(self, bytes: u64) -> Self {
        Self { rendered: rendered_cache(bytes), ..self }
    }

    /// The same state remembering up to `entries` registration answers (default 20,000, about 100 bytes each).
    pub fn with_registration_capacity(self, entries: u64) -> Self {
        Self { registrations: registration_cache(entries), ..self }
    }
}

/// The state as handlers see it: one pointer, so the per-request clone axum makes is one reference count.
pub type SharedState = Arc<AppState>;

fn rendered_cache(bytes: u64) -> moka::sync::Cache<(u32, bool), (u64, axum::body::Bytes)> {
    moka::sync::Cache::builder()
        .max_capacity(bytes)
        // The body plus the entry's own overhead in the cache.
        .weigher(|_, (_, body): &(u64, axum::body::Bytes)| u32::try_from(body.len() + 256).unwrap_or(u32::MAX))
        .build()
}

fn registration_cache(entries: u64) -> moka::sync::Cache<[u8; 32], confluent::Remembered> {
    // An answer is remembered as the id and version it names (a few dozen bytes with its key): a count bounds
    // them as well as a weight would. The schema it carries is the pre-rendered answer by id's.
    moka::sync::Cache::new(entries)
}

/// The default request body limit: 4 MiB, room for a 1 MiB schema escaped inside JSON.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;

/// The default limit on the documents of one validation batch.
pub const DEFAULT_MAX_VALIDATE_ITEMS: usize = 10_000;

/// The whole server's routes: both APIs, health and metrics, with auth, request ids, tracing and the body limit.
/// A `Router`, to merge or nest into an application's own; [`server`] is the same behind the shortcuts.
pub fn app(state: AppState) -> Router {
    router(Arc::new(state))
}

/// The server as the binary runs it: [`app`]'s routes behind shortcuts that answer, without routing them, a
/// `GET /schemas/ids/{id}` whose answer is pre-rendered, a `GET /subjects/{subject}/versions/latest` built from
/// it, a repeated registration whose answer is remembered, and a validation against a compiled validator (see
/// `front.rs`). Serve it with
/// `axum::serve(listener, axum::ServiceExt::<axum::extract::Request>::into_make_service(server(state)))`.
pub fn server(state: AppState) -> Server {
    let state = Arc::new(state);
    Server::new(router(state.clone()), state)
}

/// `request` routed again without the trailing slash of its path; a 404 when it has none to trim.
async fn without_trailing_slash(routes: Router, mut request: Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    use tower::ServiceExt;
    let uri = request.uri().clone();
    let Some(trimmed) = uri.path().strip_suffix('/').filter(|path| !path.is_empty() && !path.ends_with('/')) else {
        return error::not_found(uri).await.into_response();
    };
    let rewritten = match uri.query() {
        Some(query) => format!("{trimmed}?{query}"),
        None => trimmed.to_string(),
    };
    match rewritten.parse() {
        Ok(rewritten) => *request.uri_mut() = rewritten,
        Err(_) => return error::not_found(uri).await.into_response(),
    }
    match routes.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn router(state: SharedState) -> Router {
    let mut router = Router::new()
        .merge(confluent::routes())
        .merge(v1::routes())
        .route("/health", get(context::health))
        .merge(mcp::routes(&state));
    if state.metrics.is_some() {
        // Large text that scrapers take gzipped.
        let metrics = Router::new()
            .route("/metrics", get(metrics::render))
            .layer(tower_http::compression::CompressionLayer::new());
        router = router.merge(metrics);
    }
    #[cfg(feature = "console")]
    if state.console {
        router = router.merge(console::routes());
    }
    // A path with a trailing slash is the path without it, as Confluent's JAX-RS routes take it (its own clients
    // build `/subjects/` and `/config/`): the routes answer it again, trimmed.
    let exact = router
        .clone()
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state.clone());
    // After every route: the 405 fallback reaches only the routes registered before it (a bare 405 otherwise).
    router = router
        .fallback(move |request: Request| without_trailing_slash(exact.clone(), request))
        .method_not_allowed_fallback(error::method_not_allowed);
    // Inside auth: only a caller the server would answer can make others wait.
    router = router.layer(axum::middleware::from_fn_with_state(state.clone(), budget::within_budget));
    // Without keys there is nothing to check: no auth layer at all, rather than one that passes everything.
    if state.auth.is_some() {
        router = router.layer(axum::middleware::from_fn_with_state(state.clone(), auth::authorize));
    }
    let routed = router
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), extract::refuse_declared_oversize))
        .layer(context::ObserveLayer)
        .with_state(state.clone());
    // Subject aliases rewrite the path before it is routed (a layer on the router would run after routing).
    let aliased =
        tower::ServiceBuilder::new().layer(axum::middleware::from_fn_with_state(state, alias::rewrite)).service(routed);
    Router::new().fallback_service(aliased)
}
