//! The request engine: an open loop at a fixed rate (latency counted from each request's intended send time, so a
//! slow server cannot hide its queueing: coordinated omission is corrected) and a closed loop (`-c` connections,
//! each sending its next request when the last one answered). Records HDR histograms per operation and prints a
//! progress line each second. Every loop stops by itself: at its duration (plus a short grace for answers in
//! flight) or at its request cap, whichever comes first.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use hyper::StatusCode;
use tokio::sync::Semaphore;

use super::client::{Client, Failure};
use super::rng::Rng;
use super::server::{cpu_time, rss_kb};
use super::workload::{Mix, Op, Workload};

/// The highest latency a histogram holds, in microseconds (a request times out well before).
const MAX_MICROS: u64 = 60_000_000;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static histogram bounds are valid")
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, MAX_MICROS)
}

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// A fixed arrival rate, requests per second, whatever the server does.
    Open {
        /// Requests per second.
        rate: f64,
    },
    /// As fast as the connections allow.
    Closed,
}

/// One measured phase.
#[derive(Debug, Clone)]
pub struct PhaseSpec {
    /// Its name in reports, e.g. `baseline` or `max/get-by-id`.
    pub name: String,
    /// Open or closed loop.
    pub pacing: Pacing,
    /// How long requests are started for.
    pub duration: Duration,
    /// Connections (open loop: the most requests in flight at once).
    pub connections: usize,
    /// The most requests the phase sends.
    pub max_requests: u64,
    /// Which operations, in what proportion.
    pub mix: Mix,
    /// Seed for the draws.
    pub seed: u64,
}

/// What happened to one operation in one phase.
#[derive(Debug, Clone)]
pub struct OpStats {
    /// Latency in microseconds: from the intended send time in an open loop, from the send in a closed one.
    pub latency: Histogram<u64>,
    /// Service time in microseconds: from the actual send to the end of the answer.
    pub service: Histogram<u64>,
    /// Answers and failures by status (`200`, `409`, `timeout`, ...).
    pub statuses: BTreeMap<String, u64>,
    /// 2xx answers.
    pub ok: u64,
    /// Everything else that was sent.
    pub errors: u64,
    /// 2xx answers that said no: `"valid": false` to a validate, `"is_compatible": false` to a check (the
    /// generator means every one of them to say yes, so these point at a disagreement worth a look).
    pub rejected: u64,
    /// Drawn but not sent because the server lacks the route (validate).
    pub skipped: u64,
    /// Drawn but not sent because the phase's grace period ran out first.
    pub dropped: u64,
}

impl Default for OpStats {
    fn default() -> Self {
        Self {
            latency: histogram(),
            service: histogram(),
            statuses: BTreeMap::new(),
            ok: 0,
            errors: 0,
            rejected: 0,
            skipped: 0,
            dropped: 0,
        }
    }
}

impl OpStats {
    /// Requests sent (answered or failed).
    pub fn sent(&self) -> u64 {
        self.ok + self.errors
    }

    /// Adds another operation's figures (for totals).
    pub fn merge(&mut self, other: &OpStats) {
        let _ = self.latency.add(&other.latency);
        let _ = self.service.add(&other.service);
        for (status, n) in &other.statuses {
            *self.statuses.entry(status.clone()).or_default() += n;
        }
        self.ok += other.ok;
        self.errors += other.errors;
        self.rejected += other.rejected;
        self.skipped += other.skipped;
        self.dropped += other.dropped;
    }
}

/// A phase's figures.
#[derive(Debug, Clone)]
pub struct PhaseResult {
    /// What was asked.
    pub spec: PhaseSpec,
    /// From the first intended send to the last answer.
    pub elapsed: Duration,
    /// Per operation.
    pub ops: BTreeMap<Op, OpStats>,
    /// Open loop: requests never started because the grace period ran out.
    pub unsent: u64,
    /// Server RSS in KiB, sampled each second: (seconds into the phase, KiB).
    pub rss_samples: Vec<(f64, u64)>,
    /// The CPU time the server used during the phase (user and system), when its pid is known.
    pub server_cpu: Option<Duration>,
}

impl PhaseResult {
    /// All operations together.
    pub fn total(&self) -> OpStats {
        let mut total = OpStats::default();
        for stats in self.ops.values() {
            total.merge(stats);
        }
        total
    }

    /// The server's CPU time per answer, in microseconds, when it was measured.
    pub fn server_cpu_per_request_us(&self) -> Option<f64> {
        let answers = self.total().sent();
        self.server_cpu.filter(|_| answers > 0).map(|cpu| cpu.as_secs_f64() * 1e6 / answers as f64)
    }

    /// Answers per second over the phase (2xx or not).
    pub fn throughput(&self) -> f64 {
        self.total().sent() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Collects outcomes from every in-flight request.
struct Recorder {
    ops: Mutex<BTreeMap<Op, OpStats>>,
    interval: Mutex<Histogram<u64>>,
    answered: AtomicU64,
    failed: AtomicU64,
    in_flight: AtomicI64,
}

impl Recorder {
    fn new() -> Self {
        Self {
            ops: Mutex::new(BTreeMap::new()),
            interval: Mutex::new(histogram()),
            answered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
        }
    }

    fn record(
        &self,
        op: Op,
        latency: Duration,
        service: Duration,
        outcome: &Result<(StatusCode, Bytes), Failure>,
    ) -> bool {
        let outcome = outcome.as_ref().map(|(status, body)| (status.as_u16(), body));
        let success = matches!(outcome, Ok((200..=299, _)));
        let rejected = match (op, &outcome) {
            (Op::Validate, Ok((200..=299, body))) => contains(body, b"\"valid\":false"),
            (Op::Compatibility, Ok((200..=299, body))) => contains(body, b"\"is_compatible\":false"),
            _ => false,
        };
        let outcome = outcome.map(|(status, _)| status);
        let label = match outcome {
            Ok(status) => status.to_string(),
            Err(failure) => failure.label().to_string(),
        };
        {
            let mut ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
            let stats = ops.entry(op).or_default();
            let _ = stats.latency.record(micros(latency));
            let _ = stats.service.record(micros(service));
            *stats.statuses.entry(label).or_default() += 1;
            if rejected {
                stats.rejected += 1;
            }
            if success {
                stats.ok += 1;
            } else {
                stats.errors += 1;
            }
        }
        let _ = self.interval.lock().unwrap_or_else(|e| e.into_inner()).record(micros(latency));
        self.answered.fetch_add(1, Ordering::Relaxed);
        if !success {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        success
    }

    fn skip(&self, op: Op) {
        self.ops.lock().unwrap_or_else(|e| e.into_inner()).entry(op).or_default().skipped += 1;
    }

    fn drop_unsent(&self, op: Op) {
        self.ops.lock().unwrap_or_else(|e| e.into_inner()).entry(op).or_default().dropped += 1;
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Where a phase sends its requests and whose memory it watches.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The server's address (loopback).
    pub addr: SocketAddr,
    /// The server's pid, for RSS samples.
    pub pid: Option<u32>,
}

/// Runs one phase to completion.
pub async fn run_phase(target: Target, workload: Arc<Workload>, spec: PhaseSpec) -> PhaseResult {
    let recorder = Arc::new(Recorder::new());
    let done = Arc::new(AtomicBool::new(false));
    let cpu_before = target.pid.and_then(cpu_time);
    let started = Instant::now();
    let progress = tokio::spawn(progress(spec.name.clone(), target.pid, recorder.clone(), done.clone(), started));
    let unsent = match spec.pacing {
        Pacing::Open { rate } => open_loop(target.addr, workload, &spec, rate, recorder.clone()).await,
        Pacing::Closed => {
            closed_loop(target.addr, workload, &spec, recorder.clone()).await;
            0
        }
    };
    let elapsed = started.elapsed();
    let server_cpu = cpu_before.zip(target.pid.and_then(cpu_time)).map(|(before, after)| after.saturating_sub(before));
    done.store(true, Ordering::Release);
    let rss_samples = progress.await.unwrap_or_default();
    let ops = std::mem::take(&mut *recorder.ops.lock().unwrap_or_else(|e| e.into_inner()));
    PhaseResult { spec, elapsed, ops, unsent, rss_samples, server_cpu }
}

/// Prints one line a second to stderr until `done`; returns the RSS samples.
async fn progress(
    name: String,
    pid: Option<u32>,
    recorder: Arc<Recorder>,
    done: Arc<AtomicBool>,
    started: Instant,
) -> Vec<(f64, u64)> {
    let mut samples = Vec::new();
    if let Some(kb) = pid.and_then(rss_kb) {
        samples.push((0.0, kb));
    }
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(1), Duration::from_secs(1));
    let mut last_answered = 0;
    let mut last_failed = 0;
    let mut last_tick = Instant::now();
    loop {
        // Wake often enough to notice the end of the phase, print once a second.
        tokio::select! {
            _ = ticker.tick() => {}
            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                if done.load(Ordering::Acquire) { break; }
                continue;
            }
        }
        let now = Instant::now();
        let answered = recorder.answered.load(Ordering::Relaxed);
        let failed = recorder.failed.load(Ordering::Relaxed);
        let window = now.duration_since(last_tick).as_secs_f64().max(1e-9);
        let interval =
            std::mem::replace(&mut *recorder.interval.lock().unwrap_or_else(|e| e.into_inner()), histogram());
        let rss = pid.and_then(rss_kb);
        let secs = now.duration_since(started).as_secs_f64();
        if let Some(kb) = rss {
            samples.push((secs, kb));
        }
        eprintln!(
            "[{name}] {secs:>5.1}s  {:>8.0} req/s  errors {:>5}  p50 {}  p99 {}  max {}  in flight {:>4}{}",
            (answered - last_answered) as f64 / window,
            failed - last_failed,
            fmt_micros(interval.value_at_quantile(0.5)),
            fmt_micros(interval.value_at_quantile(0.99)),
            fmt_micros(interval.max()),
            recorder.in_flight.load(Ordering::Relaxed),
            rss.map(|kb| format!("  server rss {:.1} MiB", kb as f64 / 1024.0)).unwrap_or_default(),
        );
        last_answered = answered;
        last_failed = failed;
        last_tick = now;
        if done.load(Ordering::Acquire) {
            break;
        }
    }
    if let Some(kb) = pid.and_then(rss_kb) {
        samples.push((started.elapsed().as_secs_f64(), kb));
    }
    samples
}

/// A latency for people: `812µs`, `1.24ms`, `2.5s`.
pub fn fmt_micros(us: u64) -> String {
    match us {
        0..1_000 => format!("{us}µs"),
        1_000..1_000_000 => format!("{:.2}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

/// How long answers may trail the end of an open-loop phase before the rest is abandoned.
fn grace(duration: Duration) -> Duration {
    duration.clamp(Duration::from_secs(1), Duration::from_secs(5))
}

struct Pool {
    permits: Semaphore,
    clients: Mutex<Vec<Client>>,
}

/// The open loop. A pacer thread (precise sleeps, not the runtime's millisecond timer) starts request `k` at
/// `start + k / rate`; each waits its turn for a free connection (fair, in order), and its latency runs from
/// `start + k / rate`, so queueing behind a slow answer is counted. Returns how many requests were never started.
async fn open_loop(
    addr: SocketAddr,
    workload: Arc<Workload>,
    spec: &PhaseSpec,
    rate: f64,
    recorder: Arc<Recorder>,
) -> u64 {
    let total = ((rate * spec.duration.as_secs_f64()).ceil() as u64).min(spec.max_requests);
    let pool = Arc::new(Pool {
        permits: Semaphore::new(spec.connections),
        clients: Mutex::new((0..spec.connections).map(|_| Client::new(addr)).collect()),
    });
    let start = Instant::now() + Duration::from_millis(5);
    let hard_deadline = start + spec.duration + grace(spec.duration);
    let (handles_tx, mut handles_rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = tokio::runtime::Handle::current();
    let mix = spec.mix.clone();
    let seed = spec.seed;
    let pacer = std::thread::spawn(move || {
        for k in 0..total {
            let intended = start + Duration::from_secs_f64(k as f64 / rate);
            let now = Instant::now();
            if now > hard_deadline {
                return total - k;
            }
            if intended > now {
                std::thread::sleep(intended - now);
            }
            let ticket =
                ticket(k, intended, hard_deadline, seed, mix.clone(), workload.clone(), pool.clone(), recorder.clone());
            if handles_tx.send(runtime.spawn(ticket)).is_err() {
                return total - k;
            }
        }
        0
    });
    while let Some(handle) = handles_rx.recv().await {
        let _ = handle.await;
    }
    tokio::task::spawn_blocking(move || pacer.join().unwrap_or(0)).await.unwrap_or(0)
}

#[allow(clippy::too_many_arguments)]
async fn ticket(
    k: u64,
    intended: Instant,
    hard_deadline: Instant,
    seed: u64,
    mix: Mix,
    workload: Arc<Workload>,
    pool: Arc<Pool>,
    recorder: Arc<Recorder>,
) {
    let mut rng = Rng::derive(seed, k);
    let op = mix.draw(&mut rng);
    let Some(planned) = workload.plan(op, &mut rng) else {
        recorder.skip(op);
        return;
    };
    let Ok(permit) = pool.permits.acquire().await else { return };
    if Instant::now() > hard_deadline {
        recorder.drop_unsent(op);
        return;
    }
    let Some(mut client) = pool.clients.lock().unwrap_or_else(|e| e.into_inner()).pop() else { return };
    recorder.in_flight.fetch_add(1, Ordering::Relaxed);
    let sent = Instant::now();
    let outcome = client.send(planned.method.clone(), &planned.path, planned.body.clone()).await;
    let answered = Instant::now();
    recorder.in_flight.fetch_sub(1, Ordering::Relaxed);
    pool.clients.lock().unwrap_or_else(|e| e.into_inner()).push(client);
    drop(permit);
    let success = recorder.record(op, answered - intended, answered - sent, &outcome);
    planned.finish(success);
}

/// The closed loop: `connections` workers, each sending its next request as soon as the last one answered.
async fn closed_loop(addr: SocketAddr, workload: Arc<Workload>, spec: &PhaseSpec, recorder: Arc<Recorder>) {
    let deadline = Instant::now() + spec.duration;
    let issued = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..spec.connections {
        let (workload, recorder, issued, mix) = (workload.clone(), recorder.clone(), issued.clone(), spec.mix.clone());
        let (seed, max_requests) = (spec.seed, spec.max_requests);
        workers.spawn(async move {
            let mut client = Client::new(addr);
            let mut rng = Rng::derive(seed, worker as u64);
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max_requests {
                let op = mix.draw(&mut rng);
                let Some(planned) = workload.plan(op, &mut rng) else {
                    recorder.skip(op);
                    continue;
                };
                recorder.in_flight.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                let outcome = client.send(planned.method.clone(), &planned.path, planned.body.clone()).await;
                let elapsed = sent.elapsed();
                recorder.in_flight.fetch_sub(1, Ordering::Relaxed);
                let refused = matches!(outcome, Err(Failure::Connect));
                let success = recorder.record(op, elapsed, elapsed, &outcome);
                planned.finish(success);
                if refused {
                    // Nothing listens: do not spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
}
