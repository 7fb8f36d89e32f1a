//! The memory budget of large requests. A request whose body is large is read (its bytes are bounded by the body
//! limit), then waits for a share of a fixed budget as large as the memory its parse may take, and holds it until
//! its answer is made; then the allocator's free memory is handed back to the system. The body is read before the
//! share is taken, so a client sending slowly holds no share meanwhile and delays no one else. So many large requests at once take at most the budget
//! (plus what one request takes, for a request larger than the whole budget, which runs alone), and the memory is
//! back afterwards. It must not delay a small request, which never waits.
//!
//! The estimate is a request's body size times what its route makes of a body, measured with
//! `scripts/memory-test.sh` (16 concurrent maximum-size requests of each kind, the server's peak resident
//! memory): a schema parsed and checked takes up to about 150 times its text (a Protobuf schema's descriptor
//! pool, built twice by a compatibility check), a JSON document up to about 40 times (its tree, and the validator
//! of a schema too large for the cache, compiled for it). What a small body makes the server load (a stored
//! schema it is checked or validated against) is not counted.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Body as _;
use tokio::sync::Semaphore;

use crate::SharedState;

/// Bodies up to this size take no share: a request this small takes little memory, and the common ones (a
/// registration, a validation) must not queue behind the large.
pub const SMALL_BODY_BYTES: usize = 64 << 10;

/// The default budget: what the large requests in flight may take together, by estimate.
pub const DEFAULT_MEMORY_BUDGET_BYTES: usize = 192 << 20;

/// The routes that parse a schema from their body (a registration, a lookup, a compatibility check), by the
/// pattern they are routed under; every other body is a JSON document.
const SCHEMA_ROUTES: [&str; 6] = [
    "/subjects/{subject}/versions",
    "/subjects/{subject}",
    "/compatibility/subjects/{subject}/versions/{version}",
    "/compatibility/subjects/{subject}/versions",
    "/api/v1/schemas",
    "/api/v1/compatibility/check",
];

/// Bytes of memory a schema request may take per byte of its body: a 1 MiB Protobuf schema's pool holds about
/// 40 MiB and its parse peaks near 90 MiB, and a compatibility check holds one pool while it builds another.
const SCHEMA_BYTES_PER_BODY_BYTE: usize = 160;

/// Bytes of memory a document request may take per byte of its body: its JSON tree (an object's entry of ten
/// bytes of text takes about 150 in the tree), the reports and the answer, and the validator it is checked with
/// when the cache cannot keep it.
const DOCUMENT_BYTES_PER_BODY_BYTE: usize = 40;

/// Shares are counted in units of this many bytes (the semaphore counts in `u32`).
const UNIT_BYTES: usize = 64 << 10;

/// The budget: a semaphore of units of memory.
#[derive(Debug)]
pub(crate) struct MemoryBudget {
    units: Semaphore,
    total_units: u32,
}

impl MemoryBudget {
    /// A budget of `bytes` (at least one unit).
    pub(crate) fn new(bytes: usize) -> Self {
        let total_units = u32::try_from((bytes / UNIT_BYTES).max(1)).unwrap_or(u32::MAX);
        Self { units: Semaphore::new(total_units as usize), total_units }
    }

    /// The units a request with this body may take, at most the whole budget; `None` for a small one.
    fn share(&self, schema_route: bool, body_bytes: usize) -> Option<u32> {
        if body_bytes <= SMALL_BODY_BYTES {
            return None;
        }
        let per_byte = if schema_route { SCHEMA_BYTES_PER_BODY_BYTE } else { DOCUMENT_BYTES_PER_BODY_BYTE };
        let units = body_bytes.saturating_mul(per_byte).div_ceil(UNIT_BYTES);
        Some(u32::try_from(units).unwrap_or(u32::MAX).min(self.total_units))
    }
}

/// Middleware: a large request is read, waits for its share of the budget, keeps it until its answer is made and
/// the allocator has handed back what it freed, and then lets the next one in.
pub(crate) async fn within_budget(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    if share_of(&state, &request).is_none() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match crate::extract::read_body(body, state.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(error) => return axum::response::IntoResponse::into_response(error),
    };
    let request = Request::from_parts(parts, axum::body::Body::from(bytes));
    // Now by the body's real size, which a body sent in chunks did not declare.
    let Some(units) = share_of(&state, &request) else {
        return next.run(request).await;
    };
    // The semaphore is never closed; were it, the request would go on without a share rather than fail.
    let permit = state.memory_budget.units.acquire_many(units).await.ok();
    let response = next.run(request).await;
    // Before the share is passed on: the next request may run on a thread of another allocator arena, which
    // cannot reuse what this one freed, and the two would take twice the memory.
    release_free_memory().await;
    drop(permit);
    release_free_memory_soon();
    response
}

/// Hands the allocator's free memory back once more, a second after a large request's answer is made (once for
/// all that end within that second): what is freed after the trim that follows each request, such as the answer
/// itself once it is sent, or another thread's request body, goes back too rather than staying until the next
/// large request.
fn release_free_memory_soon() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static SCHEDULED: AtomicBool = AtomicBool::new(false);
    if SCHEDULED.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::spawn(async {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        SCHEDULED.store(false, Ordering::Release);
        release_free_memory().await;
    });
}

/// The share `request` needs: by its body's length as declared, or the body limit when it is sent in chunks of
/// unknown total.
fn share_of(state: &SharedState, request: &Request) -> Option<u32> {
    let body_bytes = match request.body().size_hint().upper() {
        Some(length) => usize::try_from(length).unwrap_or(usize::MAX).min(state.max_body_bytes),
        None => state.max_body_bytes,
    };
    let schema_route = request.extensions().get::<MatchedPath>().is_some_and(|p| SCHEMA_ROUTES.contains(&p.as_str()));
    state.memory_budget.share(schema_route, body_bytes)
}

/// Hands the allocator's free memory back to the system, on the blocking pool: glibc keeps what a large request
/// freed in the arena of the thread that freed it, where a thread of another arena cannot reuse it (several
/// hundred MiB after a burst of large requests); jemalloc (the binary's allocator with the `jemalloc` feature)
/// keeps freed pages for a while.
async fn release_free_memory() {
    // One at a time: two at once would only walk the same free lists twice.
    static TRIMMING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let trim = || {
        let _one = TRIMMING.lock();
        #[cfg(feature = "jemalloc")]
        // SAFETY: purging every arena (4096 is jemalloc's MALLCTL_ARENAS_ALL) only hands back pages jemalloc holds
        // unused; the control takes and returns nothing, and may be called from any thread.
        unsafe {
            let (none, no_length) = (std::ptr::null_mut(), std::ptr::null_mut());
            tikv_jemalloc_sys::mallctl(c"arena.4096.purge".as_ptr(), none, no_length, none, 0);
        }
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only returns the free pages of the allocator's arenas to the system.
        unsafe {
            libc::malloc_trim(0);
        }
    };
    // Only a panic in the trim could fail the task, and there is nothing to do about it.
    let _ = tokio::task::spawn_blocking(trim).await;
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body::Body as _;
    use registry_store::{Registry, RegistryOptions};
    use tower::ServiceExt;

    use super::{DOCUMENT_BYTES_PER_BODY_BYTE, MemoryBudget, SMALL_BODY_BYTES, UNIT_BYTES};
    use crate::AppState;

    /// A registration of an Avro record with `fields` fields: about 40 bytes of body each.
    fn registration(fields: usize) -> Request<Body> {
        let fields: Vec<String> =
            (0..fields).map(|i| format!(r#"{{"name":"f{i}","type":"int","default":0}}"#)).collect();
        let schema = format!(r#"{{"type":"record","name":"R","fields":[{}]}}"#, fields.join(","));
        let body = serde_json::to_vec(&serde_json::json!({ "schema": schema })).expect("a body");
        Request::post("/subjects/s/versions")
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(Body::from(body))
            .expect("a request")
    }

    #[tokio::test]
    async fn a_large_request_waits_for_its_share_of_the_budget_and_a_small_one_never_waits() {
        let registry = Registry::in_memory(RegistryOptions::default()).expect("a registry");
        let state = AppState::new(registry).with_memory_budget_bytes(1 << 20);
        let budget = state.memory_budget.clone();
        let app = crate::app(state);
        let held = budget.units.acquire_many(budget.total_units).await.expect("the whole budget");

        let small = app.clone().oneshot(registration(10)).await.expect("infallible");
        assert_eq!(small.status(), StatusCode::OK, "a small body takes no share");

        let large_request = registration(4_000);
        assert!(large_request.body().size_hint().exact().is_some_and(|bytes| bytes > SMALL_BODY_BYTES as u64));
        let large = tokio::spawn(app.clone().oneshot(large_request));
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert!(!large.is_finished(), "the budget is all held: a large body is read but not parsed");
        drop(held);
        let large = large.await.expect("the task").expect("infallible");
        assert_eq!(large.status(), StatusCode::OK, "answered once its share is free, though larger than the budget");
        assert_eq!(budget.units.available_permits(), budget.total_units as usize, "and its share is given back");
    }

    /// A body that declares `length` bytes and never sends any: a client sending slowly.
    struct Stalled(u64);

    impl http_body::Body for Stalled {
        type Data = axum::body::Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
            std::task::Poll::Pending
        }

        fn size_hint(&self) -> http_body::SizeHint {
            http_body::SizeHint::with_exact(self.0)
        }
    }

    #[tokio::test]
    async fn a_large_body_sent_slowly_holds_no_share_while_it_arrives() {
        let registry = Registry::in_memory(RegistryOptions::default()).expect("a registry");
        let state = AppState::new(registry).with_memory_budget_bytes(1 << 20);
        let budget = state.memory_budget.clone();
        let app = crate::app(state);
        let slow = Request::post("/subjects/slow/versions")
            .header("content-type", "application/json")
            .body(Body::new(Stalled(1 << 20)))
            .expect("a request");
        let slow = tokio::spawn(app.clone().oneshot(slow));
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(budget.units.available_permits(), budget.total_units as usize, "no share while the body arrives");
        let large = app.clone().oneshot(registration(4_000)).await.expect("infallible");
        assert_eq!(large.status(), StatusCode::OK, "another large request goes ahead meanwhile");
        assert!(!slow.is_finished());
        slow.abort();
    }

    #[test]
    fn a_small_body_takes_no_share_and_a_large_one_at_most_the_whole_budget() {
        let budget = MemoryBudget::new(192 << 20);
        assert_eq!(budget.share(true, SMALL_BODY_BYTES), None);
        assert_eq!(budget.share(false, 0), None);
        let document = budget.share(false, 4 << 20).expect("a share");
        assert_eq!(document as usize * UNIT_BYTES, (4 << 20) * DOCUMENT_BYTES_PER_BODY_BYTE, "body times the factor");
        assert_eq!(budget.share(true, 4 << 20), Some(budget.total_units), "past the budget: all of it, no more");
        assert!(budget.share(true, 256 << 10).expect("a share") > budget.share(false, 256 << 10).expect("a share"));
    }

    #[test]
    fn a_budget_smaller_than_a_unit_is_one_unit() {
        assert_eq!(MemoryBudget::new(0).total_units, 1);
        assert_eq!(MemoryBudget::new(0).share(true, 1 << 20), Some(1));
    }
}
