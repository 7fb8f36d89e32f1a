//! The scenario presets (`baseline`, `stress`, `soak`, `max`, `hot`, `ceiling`, `smoke`) and the run around them:
//! find or start the server, preload the corpus, probe for the validate route, run the phases, read the server's
//! caches and memory, stop what was started. Owns the order of things; the engine owns the requests.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};

use super::client::Client;
use super::corpus::{SubjectSpec, corpus};
use super::engine::{OpStats, Pacing, PhaseResult, PhaseSpec, Target, run_phase};
use super::report::{MemoryFigures, PreloadResult, RunReport};
use super::server::{CeilingServer, SpawnedServer, parse_loopback_url, rss_kb, scrape_caches};
use super::workload::{Mix, Op, RegisteredId, Workload};

/// A preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// 1,000 req/s: 60% get by id, 20% validate, 15% register, 5% compatibility.
    Baseline,
    /// 10,000 req/s, 90% reads and 10% writes, then a spike at 15,000 req/s.
    Stress,
    /// 2,000 req/s, 70/15/15 reads/validates/writes, for as long as asked; reports memory growth.
    Soak,
    /// Closed loop, each operation alone at its maximum, as a ratio to the ceiling.
    Max,
    /// Closed loop, each operation alone repeating one request, as a ratio to the registry's own `GET /` (as
    /// wrk measures): one 20-field JSON Schema's id, latest version, validation of a 1.6 KB document and
    /// repeated registration; new versions across the corpus.
    Hot,
    /// The ceiling server alone: what this machine and client can do at best.
    Ceiling,
    /// A tiny version of everything in a few seconds, to keep the tool working.
    Smoke,
}

impl Scenario {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Baseline => "baseline",
            Scenario::Stress => "stress",
            Scenario::Soak => "soak",
            Scenario::Max => "max",
            Scenario::Hot => "hot",
            Scenario::Ceiling => "ceiling",
            Scenario::Smoke => "smoke",
        }
    }
}

/// The run's settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Which preset.
    pub scenario: Scenario,
    /// Start this `schema-registry` binary (temporary data directory, stopped at the end).
    pub spawn: Option<PathBuf>,
    /// Or use the server at this loopback URL.
    pub url: Option<String>,
    /// The pid of the server at `url`, for memory figures.
    pub server_pid: Option<u32>,
    /// Subjects in the corpus.
    pub subjects: usize,
    /// Versions per subject, instead of the corpus's 1-5.
    pub versions: Option<u32>,
    /// Phase duration (per operation in `max`); the scenario's default when absent.
    pub duration: Option<Duration>,
    /// Duration of the stress spike.
    pub spike_duration: Duration,
    /// Connections.
    pub connections: usize,
    /// Overrides the scenario's main rate (open-loop scenarios).
    pub rate: Option<f64>,
    /// The most requests one phase sends.
    pub max_requests: u64,
    /// Seed for the corpus and the draws.
    pub seed: u64,
    /// Worker threads of the ceiling server's runtime.
    pub ceiling_threads: usize,
    /// The operations `max` runs; empty means all.
    pub only: Vec<Op>,
    /// Fail the run if the server's resident memory grows by more than this fraction (0.1 is 10%) of its level
    /// at the end of the warm-up, in any phase.
    pub max_rss_growth: Option<f64>,
    /// How long the start of each phase is left out of the memory-growth check.
    pub warmup: Duration,
    /// The CPUs the spawned server and the ceiling server run on (`--split-cores`); the load generator keeps to
    /// the others.
    pub server_cpus: Option<Vec<usize>>,
}

/// A run's report, and whether the run is to be counted as failed (and why).
pub struct RunOutcome {
    /// The figures.
    pub report: RunReport,
    /// Why the run failed: a crash, no successful request at all, a phase where everything failed.
    pub failures: Vec<String>,
}

const BASELINE: &[(Op, u32)] =
    &[(Op::GetById, 60), (Op::Validate, 20), (Op::RegisterExisting, 10), (Op::RegisterNew, 5), (Op::Compatibility, 5)];
const STRESS: &[(Op, u32)] = &[(Op::GetById, 70), (Op::GetLatest, 20), (Op::RegisterExisting, 7), (Op::RegisterNew, 3)];
const SOAK: &[(Op, u32)] =
    &[(Op::GetById, 55), (Op::GetLatest, 15), (Op::Validate, 15), (Op::RegisterExisting, 10), (Op::RegisterNew, 5)];

impl Options {
    fn phase(&self, name: &str, pacing: Pacing, duration: Duration, mix: Mix) -> PhaseSpec {
        PhaseSpec {
            name: name.to_string(),
            pacing,
            duration,
            connections: self.connections.max(1),
            max_requests: self.max_requests,
            mix,
            seed: self.seed,
        }
    }

    fn config_json(&self) -> Value {
        json!({
            "spawn": self.spawn.as_ref().map(|p| p.display().to_string()),
            "url": self.url,
            "subjects": self.subjects,
            "versions": self.versions,
            "duration_s": self.duration.map(|d| d.as_secs_f64()),
            "spike_duration_s": self.spike_duration.as_secs_f64(),
            "connections": self.connections,
            "rate": self.rate,
            "max_requests": self.max_requests,
            "seed": self.seed,
            "ceiling_threads": self.ceiling_threads,
            "only": self.only.iter().map(|op| op.label()).collect::<Vec<_>>(),
            "max_rss_growth": self.max_rss_growth,
            "warmup_s": self.warmup.as_secs_f64(),
            "server_cpus": self.server_cpus,
        })
    }
}

/// Runs the scenario.
pub async fn run(options: Options) -> Result<RunOutcome, String> {
    let mut report = RunReport {
        scenario: options.scenario.name().to_string(),
        config: options.config_json(),
        ..Default::default()
    };
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    report.notes.push(match &options.server_cpus {
        Some(server) => format!(
            "the server (and the ceiling) ran on CPUs {server:?}, the load generator on the other {cores} CPU{}: \
             each measures what it does on its share, neither waits out the other's time slices",
            if cores == 1 { "" } else { "s" }
        ),
        None => format!(
            "the load generator and the server share this machine's {cores} cores: the figures are a lower bound on \
             what the server could do alone, and the tails include the waits of either for the other's time slice"
        ),
    });
    if options.scenario == Scenario::Ceiling {
        report.server_mode = "ceiling (own process)".to_string();
        let phase = ceiling_phase(&options, options.duration.unwrap_or(Duration::from_secs(10))).await?;
        report.ceiling_rps = Some(phase.throughput());
        report.phases.push(phase);
        let failures = judge(&report);
        return Ok(RunOutcome { report, failures });
    }

    // The server under test.
    let mut spawned = None;
    let (addr, pid) = match (&options.url, &options.spawn) {
        (Some(url), _) => {
            report.server_mode = format!("at {url}");
            (parse_loopback_url(url)?, options.server_pid)
        }
        (None, spawn) => {
            let binary = match spawn {
                Some(path) => path.clone(),
                None => sibling_server()?,
            };
            eprintln!("registry-load: starting {}", binary.display());
            let server = SpawnedServer::start(&binary, options.server_cpus.as_deref()).await?;
            report.server_mode = format!("spawned {} on {}", binary.display(), server.addr);
            let found = (server.addr, Some(server.pid()));
            spawned = Some(server);
            found
        }
    };
    report.server_pid = pid;
    let target = Target { addr, pid };
    let result = measure(&options, target, &mut report).await;
    report.memory.end_kb = pid.and_then(rss_kb);
    let mut failures = Vec::new();
    if let Some(mut server) = spawned
        && let Err(crash) = server.stop()
    {
        failures.push(crash);
    }
    if let Err(e) = result {
        failures.push(e);
    }
    failures.extend(judge(&report));
    if let Some(limit) = options.max_rss_growth {
        failures.extend(judge_memory(&mut report, options.warmup, limit));
    }
    Ok(RunOutcome { report, failures })
}

/// The phases whose server memory grew past `limit` (a fraction) of its level once `warmup` had passed; each
/// phase's figures go into the report's notes. A phase too short to have samples after its warm-up is a failure
/// too: the check must not pass by measuring nothing.
fn judge_memory(report: &mut RunReport, warmup: Duration, limit: f64) -> Vec<String> {
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    for phase in &report.phases {
        match rss_growth_after(&phase.rss_samples, warmup.as_secs_f64()) {
            Some((base, peak)) => {
                let growth = format!(
                    "phase {}: server memory {:.1} MiB after the {:.0} s warm-up, at most {:.1} MiB after it \
                     (+{:.1}%; the limit is {:.1}%)",
                    phase.spec.name,
                    base as f64 / 1024.0,
                    warmup.as_secs_f64(),
                    peak as f64 / 1024.0,
                    (peak as f64 / base as f64 - 1.0) * 100.0,
                    limit * 100.0
                );
                if (peak as f64) > base as f64 * (1.0 + limit) {
                    failures.push(growth.clone());
                }
                notes.push(growth);
            }
            None => failures.push(format!(
                "phase {}: no memory samples after the {:.0} s warm-up (is the server's pid known, and the phase \
                 longer than its warm-up?)",
                phase.spec.name,
                warmup.as_secs_f64()
            )),
        }
    }
    report.notes.extend(notes);
    failures
}

/// The resident memory (KiB) at the first sample at or after `warmup` seconds, and the largest at or after it.
pub fn rss_growth_after(samples: &[(f64, u64)], warmup: f64) -> Option<(u64, u64)> {
    let mut after = samples.iter().filter(|(secs, _)| *secs >= warmup).map(|(_, kb)| *kb);
    let base = after.next()?;
    let peak = after.fold(base, u64::max);
    Some((base, peak))
}

/// The failures that make a run exit non-zero: never timings, only "nothing worked".
fn judge(report: &RunReport) -> Vec<String> {
    let mut failures = Vec::new();
    let mut any_ok = report.preload.as_ref().is_some_and(|p| p.stats.ok > 0);
    for phase in &report.phases {
        let total = phase.total();
        any_ok |= total.ok > 0;
        if total.sent() > 0 && total.ok == 0 {
            failures.push(format!(
                "phase {}: all {} requests failed ({:?})",
                phase.spec.name,
                total.sent(),
                total.statuses
            ));
        }
    }
    if !any_ok {
        failures.push("no request succeeded".to_string());
    }
    failures
}

/// `schema-registry` next to this binary (both built into the same `target/<profile>`).
fn sibling_server() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let candidate = exe.with_file_name("schema-registry");
    if candidate.is_file() {
        return Ok(candidate);
    }
    Err(format!(
        "no server given: pass --spawn <path to schema-registry> or --url http://127.0.0.1:PORT ({} does not exist)",
        candidate.display()
    ))
}

/// The ceiling, then each operation alone in a closed loop for `per_op`.
async fn max_phases(
    options: &Options,
    target: Target,
    workload: &Arc<Workload>,
    prefix: &str,
    per_op: Duration,
    report: &mut RunReport,
) -> Result<(), String> {
    let ceiling = ceiling_phase(options, per_op).await?;
    report.ceiling_rps = Some(ceiling.throughput());
    report.phases.push(ceiling);
    each_alone(options, target, workload, prefix, &Op::REGISTRY, per_op, report).await;
    Ok(())
}

/// Each of `ops` alone in a closed loop for `per_op`, as `--only` selects them (validate only where served).
async fn each_alone(
    options: &Options,
    target: Target,
    workload: &Arc<Workload>,
    prefix: &str,
    ops: &[Op],
    per_op: Duration,
    report: &mut RunReport,
) {
    for &op in ops {
        if (op == Op::Validate && !workload.validate_supported)
            || !(options.only.is_empty() || options.only.contains(&op))
        {
            continue;
        }
        let spec = options.phase(&format!("{prefix}/{}", op.label()), Pacing::Closed, per_op, Mix::only(op));
        report.phases.push(run_phase(target, workload.clone(), spec).await);
    }
}

/// About the size of the document the `hot` preset validates.
const HOT_DOCUMENT_BYTES: usize = 1_600;

/// The registry's own `GET /`, then each operation alone in a closed loop for `per_op`, every read, validation and
/// repeated registration on one id (the JSON Schema version with the most fields).
async fn hot_phases(
    options: &Options,
    target: Target,
    workload: &Arc<Workload>,
    per_op: Duration,
    report: &mut RunReport,
) {
    let Some(index) = workload.pinned() else {
        report.notes.push("no JSON Schema in the corpus: the hot preset needs one (use more --subjects)".to_string());
        return;
    };
    let id = workload.ids()[index];
    let spec = &workload.subjects()[id.subject];
    report.notes.push(format!(
        "hot: id {} ({}, version {}, {} fields); validate sends a {}-byte body; the ceiling is the registry's own GET /",
        id.id,
        spec.name,
        id.optional + 1,
        spec.field_count(id.optional),
        workload.validate_body(index).len()
    ));
    let root = options.phase("hot/server-root", Pacing::Closed, per_op, Mix::only(Op::ServerRoot));
    let root = run_phase(target, workload.clone(), root).await;
    report.ceiling_rps = Some(root.throughput());
    report.phases.push(root);
    let ops = [Op::GetById, Op::GetLatest, Op::Validate, Op::RegisterExisting, Op::RegisterNew];
    each_alone(options, target, workload, "hot", &ops, per_op, report).await;
}

async fn ceiling_phase(options: &Options, duration: Duration) -> Result<PhaseResult, String> {
    let ceiling = CeilingServer::start(options.ceiling_threads, options.server_cpus.as_deref())?;
    let target = Target { addr: ceiling.addr, pid: None };
    let spec = options.phase("ceiling", Pacing::Closed, duration, Mix::only(Op::Ceiling));
    let result = run_phase(target, Arc::new(Workload::empty()), spec).await;
    tokio::task::spawn_blocking(move || drop(ceiling)).await.map_err(|e| e.to_string())?;
    Ok(result)
}

async fn measure(options: &Options, target: Target, report: &mut RunReport) -> Result<(), String> {
    report.memory = MemoryFigures { start_kb: target.pid.and_then(rss_kb), ..Default::default() };
    let subjects = match options.scenario {
        Scenario::Smoke => options.subjects.min(30),
        _ => options.subjects,
    };
    let specs = corpus(subjects, options.versions, options.seed);
    let (preload, ids) = preload(target.addr, &specs, options.connections).await;
    eprintln!(
        "registry-load: preloaded {} versions of {} subjects in {:.2} s ({} errors)",
        preload.versions,
        preload.subjects,
        preload.elapsed.as_secs_f64(),
        preload.stats.errors
    );
    report.preload = Some(preload);
    if ids.is_empty() {
        return Err("the preload registered nothing: every registration failed".to_string());
    }
    let mut workload = Workload::new(specs, ids, true);
    workload.validate_supported = probe_validate(target.addr, &workload).await;
    if !workload.validate_supported {
        report.notes.push(
            "POST /api/v1/validate/{id} is not served (404, error_code 404): validate requests were skipped"
                .to_string(),
        );
    }
    if options.scenario == Scenario::Hot
        && let Some(index) = workload.hot_index()
    {
        workload = workload.pinned_to(index).with_document_of(index, HOT_DOCUMENT_BYTES);
    }
    let workload = Arc::new(workload);
    report.memory.after_preload_kb = target.pid.and_then(rss_kb);
    report.caches_before = scrape_caches(target.addr).await.unwrap_or_else(|e| {
        report.notes.push(format!("cache figures unavailable: {e}"));
        BTreeMap::new()
    });

    let d = |default: u64| options.duration.unwrap_or(Duration::from_secs(default));
    let rate = |default: f64| options.rate.unwrap_or(default);
    let open = |rate: f64| Pacing::Open { rate };
    match options.scenario {
        Scenario::Baseline => {
            let spec = options.phase("baseline", open(rate(1_000.0)), d(10), Mix::new(BASELINE));
            report.phases.push(run_phase(target, workload.clone(), spec).await);
        }
        Scenario::Stress => {
            let main = rate(10_000.0);
            let spec = options.phase("stress", open(main), d(10), Mix::new(STRESS));
            report.phases.push(run_phase(target, workload.clone(), spec).await);
            let spec = options.phase("stress/spike", open(main * 1.5), options.spike_duration, Mix::new(STRESS));
            report.phases.push(run_phase(target, workload.clone(), spec).await);
        }
        Scenario::Soak => {
            let spec = options.phase("soak", open(rate(2_000.0)), d(10), Mix::new(SOAK));
            report.phases.push(run_phase(target, workload.clone(), spec).await);
        }
        Scenario::Max => {
            max_phases(options, target, &workload, "max", d(5), report).await?;
        }
        Scenario::Hot => hot_phases(options, target, &workload, d(5), report).await,
        Scenario::Smoke => {
            let short = Duration::from_millis(600);
            let spec = options.phase("smoke/baseline", open(300.0), Duration::from_secs(1), Mix::new(BASELINE));
            report.phases.push(run_phase(target, workload.clone(), spec).await);
            let spec = options.phase("smoke/stress", open(800.0), short, Mix::new(STRESS));
            report.phases.push(run_phase(target, workload.clone(), spec).await);
            let spec = options.phase("smoke/soak", open(400.0), short, Mix::new(SOAK));
            report.phases.push(run_phase(target, workload.clone(), spec).await);
            max_phases(options, target, &workload, "smoke/max", Duration::from_millis(250), report).await?;
        }
        Scenario::Ceiling => {}
    }
    match scrape_caches(target.addr).await {
        Ok(caches) => report.caches_after = caches,
        Err(e) => report.notes.push(format!("cache figures unavailable at the end: {e}")),
    }
    let unsent: u64 = report.phases.iter().map(|p| p.unsent).sum();
    if unsent > 0 {
        report.notes.push(format!(
            "{unsent} requests were never sent: the server fell so far behind that the phase's grace period ran out"
        ));
    }
    Ok(())
}

/// Registers every subject's versions in order, `connections` subjects at a time.
async fn preload(addr: SocketAddr, specs: &[SubjectSpec], connections: usize) -> (PreloadResult, Vec<RegisteredId>) {
    let next = Arc::new(AtomicUsize::new(0));
    let specs_shared: Arc<Vec<SubjectSpec>> = Arc::new(specs.to_vec());
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections.clamp(1, specs.len().max(1)) {
        let (next, specs) = (next.clone(), specs_shared.clone());
        workers.spawn(async move {
            let mut client = Client::new(addr);
            let mut stats = OpStats::default();
            let mut ids = Vec::new();
            let mut bytes = 0u64;
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(spec) = specs.get(index) else { break };
                for optional in 0..spec.corpus_versions {
                    let body = spec.register_body(optional);
                    bytes += spec.schema_text(optional).len() as u64;
                    let path = format!("/subjects/{}/versions", spec.name);
                    let sent = Instant::now();
                    let outcome = client.send(Method::POST, &path, Some(Bytes::from(body))).await;
                    let micros = (sent.elapsed().as_micros() as u64).max(1);
                    let _ = stats.latency.record(micros);
                    let _ = stats.service.record(micros);
                    let label = match &outcome {
                        Ok((status, _)) => status.as_u16().to_string(),
                        Err(failure) => failure.label().to_string(),
                    };
                    *stats.statuses.entry(label).or_default() += 1;
                    let id = match &outcome {
                        Ok((status, body)) if status.is_success() => {
                            serde_json::from_slice::<Value>(body).ok().and_then(|v| v["id"].as_u64())
                        }
                        _ => None,
                    };
                    match id {
                        Some(id) => {
                            stats.ok += 1;
                            ids.push(RegisteredId { subject: index, optional, id });
                        }
                        None => {
                            stats.errors += 1;
                            if stats.errors <= 3
                                && let Ok((status, body)) = &outcome
                            {
                                eprintln!(
                                    "registry-load: preload of {} v{} answered {status}: {}",
                                    spec.name,
                                    optional + 1,
                                    String::from_utf8_lossy(body).chars().take(300).collect::<String>()
                                );
                            }
                        }
                    }
                }
            }
            (stats, ids, bytes)
        });
    }
    let mut stats = OpStats::default();
    let mut ids = Vec::new();
    let mut schema_bytes = 0;
    while let Some(joined) = workers.join_next().await {
        if let Ok((worker_stats, worker_ids, bytes)) = joined {
            stats.merge(&worker_stats);
            ids.extend(worker_ids);
            schema_bytes += bytes;
        }
    }
    ids.sort_by_key(|r| (r.subject, r.optional));
    let mut formats = BTreeMap::new();
    for spec in specs {
        *formats.entry(spec.format.schema_type()).or_default() += 1;
    }
    let versions = specs.iter().map(|s| u64::from(s.corpus_versions)).sum();
    let result =
        PreloadResult { subjects: specs.len(), formats, versions, elapsed: started.elapsed(), stats, schema_bytes };
    (result, ids)
}

/// Whether the server has `POST /api/v1/validate/{id}`: an unknown route answers 404 with `error_code` 404.
async fn probe_validate(addr: SocketAddr, workload: &Workload) -> bool {
    let Some(first) = workload.ids().first() else { return false };
    let mut client = Client::new(addr);
    let path = format!("/api/v1/validate/{}", first.id);
    match client.send(Method::POST, &path, Some(workload.validate_body(0))).await {
        Ok((status, body)) if status.as_u16() == 404 || status.as_u16() == 405 => {
            let code = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v["error_code"].as_u64());
            // 404 with another code (40403: no such schema) means the route exists.
            !matches!(code, Some(404) | Some(405) | None)
        }
        Ok((status, body)) => {
            if !status.is_success() {
                eprintln!(
                    "registry-load: validate probe answered {status}: {}",
                    String::from_utf8_lossy(&body).chars().take(300).collect::<String>()
                );
            }
            true
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::rss_growth_after;

    #[test]
    fn memory_growth_is_measured_from_the_end_of_the_warm_up() {
        let samples = [(0.0, 10_000), (5.0, 50_000), (10.0, 60_000), (20.0, 64_000), (30.0, 62_000)];
        // The climb during the warm-up (10 MiB to 60 MiB) does not count; after it, the peak does.
        assert_eq!(rss_growth_after(&samples, 10.0), Some((60_000, 64_000)));
        assert_eq!(rss_growth_after(&samples, 0.0), Some((10_000, 64_000)));
        // A phase with no sample after its warm-up measured nothing.
        assert_eq!(rss_growth_after(&samples, 31.0), None);
        assert_eq!(rss_growth_after(&[], 0.0), None);
    }
}
