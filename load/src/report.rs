//! The load generator's output: a table for people on stdout and a JSON document with every figure. Formats what
//! the engine measured; measures nothing itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use super::engine::{OpStats, Pacing, PhaseResult, fmt_micros};
use super::server::CacheCounters;
use super::workload::Op;

/// The preload's figures.
#[derive(Debug, Clone)]
pub struct PreloadResult {
    /// Subjects in the corpus.
    pub subjects: usize,
    /// Schemas by format (`JSON`, `AVRO`, `PROTOBUF`).
    pub formats: BTreeMap<&'static str, usize>,
    /// Versions attempted.
    pub versions: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Registrations: latency and outcomes.
    pub stats: OpStats,
    /// Bytes of schema text sent, for the average size.
    pub schema_bytes: u64,
}

/// Server memory figures.
#[derive(Debug, Clone, Default)]
pub struct MemoryFigures {
    /// At start (before the preload).
    pub start_kb: Option<u64>,
    /// After the preload, before the measured phases.
    pub after_preload_kb: Option<u64>,
    /// At the end.
    pub end_kb: Option<u64>,
}

/// Everything one run found.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// The scenario's name.
    pub scenario: String,
    /// The settings, as given.
    pub config: Value,
    /// How the server was reached: `spawned`, `url` or `ceiling (own process)`.
    pub server_mode: String,
    /// The server's pid, when known.
    pub server_pid: Option<u32>,
    /// The preload, if the scenario had one.
    pub preload: Option<PreloadResult>,
    /// Measured phases, in order.
    pub phases: Vec<PhaseResult>,
    /// The ceiling's closed-loop throughput, when it was measured in this run.
    pub ceiling_rps: Option<f64>,
    /// Cache counters after the preload and at the end.
    pub caches_before: BTreeMap<String, CacheCounters>,
    /// Cache counters at the end.
    pub caches_after: BTreeMap<String, CacheCounters>,
    /// Server memory.
    pub memory: MemoryFigures,
    /// Things a reader should know (skipped routes, a crash, unsent requests).
    pub notes: Vec<String>,
}

fn quantiles(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return Value::Null;
    }
    json!({
        "p50": h.value_at_quantile(0.50),
        "p95": h.value_at_quantile(0.95),
        "p99": h.value_at_quantile(0.99),
        "p99_9": h.value_at_quantile(0.999),
        "max": h.max(),
        "mean": (h.mean() * 10.0).round() / 10.0,
        "min": h.min(),
    })
}

fn stats_json(stats: &OpStats, elapsed: Duration) -> Value {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let sent = stats.sent();
    json!({
        "sent": sent,
        "ok": stats.ok,
        "errors": stats.errors,
        "error_rate": if sent > 0 { stats.errors as f64 / sent as f64 } else { 0.0 },
        "rejected": stats.rejected,
        "skipped": stats.skipped,
        "dropped": stats.dropped,
        "throughput_rps": sent as f64 / secs,
        "ok_rps": stats.ok as f64 / secs,
        "statuses": stats.statuses,
        "latency_us": quantiles(&stats.latency),
        "service_us": quantiles(&stats.service),
    })
}

fn caches_json(before: &BTreeMap<String, CacheCounters>, after: &BTreeMap<String, CacheCounters>) -> Value {
    let mut out = serde_json::Map::new();
    let mut total_run = CacheCounters::default();
    let mut total_all = CacheCounters::default();
    for (name, end) in after {
        let run = end.since(&before.get(name).copied().unwrap_or_default());
        total_run.hits += run.hits;
        total_run.misses += run.misses;
        total_all.hits += end.hits;
        total_all.misses += end.misses;
        out.insert(
            name.clone(),
            json!({
                "measured": { "hits": run.hits, "misses": run.misses, "hit_ratio": run.ratio() },
                "since_start": { "hits": end.hits, "misses": end.misses, "hit_ratio": end.ratio() },
            }),
        );
    }
    json!({
        "per_cache": out,
        "measured_hit_ratio": total_run.ratio(),
        "since_start_hit_ratio": total_all.ratio(),
    })
}

fn pacing_json(pacing: Pacing) -> Value {
    match pacing {
        Pacing::Open { rate } => json!({ "kind": "open", "target_rps": rate }),
        Pacing::Closed => json!({ "kind": "closed" }),
    }
}

fn growth(samples: &[(f64, u64)]) -> Value {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else { return Value::Null };
    let minutes = (last.0 - first.0) / 60.0;
    let delta = last.1 as i64 - first.1 as i64;
    json!({
        "start_kb": first.1,
        "end_kb": last.1,
        "peak_kb": samples.iter().map(|s| s.1).max(),
        "growth_kb": delta,
        "growth_kb_per_min": if minutes > 0.0 { Some(delta as f64 / minutes) } else { None },
    })
}

impl RunReport {
    /// The JSON document.
    pub fn to_json(&self) -> Value {
        let phases: Vec<Value> = self
            .phases
            .iter()
            .map(|phase| {
                let total = phase.total();
                let ops: serde_json::Map<String, Value> = phase
                    .ops
                    .iter()
                    .map(|(op, stats)| (op.label().to_string(), stats_json(stats, phase.elapsed)))
                    .collect();
                let throughput = phase.throughput();
                json!({
                    "name": phase.spec.name,
                    "pacing": pacing_json(phase.spec.pacing),
                    "mix": phase.spec.mix.describe(),
                    "connections": phase.spec.connections,
                    "duration_s": phase.spec.duration.as_secs_f64(),
                    "elapsed_s": phase.elapsed.as_secs_f64(),
                    "unsent": phase.unsent,
                    "total": stats_json(&total, phase.elapsed),
                    "ops": ops,
                    "ratio_to_ceiling": self.ceiling_rps.filter(|_| phase.spec.pacing == Pacing::Closed).map(|c| throughput / c),
                    "server_rss": growth(&phase.rss_samples),
                    "server_cpu_s": phase.server_cpu.map(|cpu| cpu.as_secs_f64()),
                    "server_cpu_us_per_request": phase.server_cpu_per_request_us(),
                })
            })
            .collect();
        let preload = self.preload.as_ref().map(|p| {
            json!({
                "subjects": p.subjects,
                "formats": p.formats,
                "versions": p.versions,
                "elapsed_s": p.elapsed.as_secs_f64(),
                "registrations_per_s": p.stats.sent() as f64 / p.elapsed.as_secs_f64().max(1e-9),
                "mean_schema_bytes": p.schema_bytes.checked_div(p.versions).unwrap_or(0),
                "result": stats_json(&p.stats, p.elapsed),
            })
        });
        let m = &self.memory;
        json!({
            "tool": "registry-load",
            "scenario": self.scenario,
            "config": self.config,
            "server": {
                "mode": self.server_mode,
                "pid": self.server_pid,
                "rss_kb": { "start": m.start_kb, "after_preload": m.after_preload_kb, "end": m.end_kb },
                "rss_growth_kb": match (m.after_preload_kb.or(m.start_kb), m.end_kb) {
                    (Some(a), Some(b)) => Some(b as i64 - a as i64),
                    _ => None,
                },
            },
            "preload": preload,
            "ceiling_rps": self.ceiling_rps,
            "phases": phases,
            "cache": caches_json(&self.caches_before, &self.caches_after),
            "notes": self.notes,
        })
    }

    /// The table for people.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\nregistry-load: scenario {}, server {}", self.scenario, self.server_mode);
        if let Some(p) = &self.preload {
            let secs = p.elapsed.as_secs_f64().max(1e-9);
            let formats: Vec<String> = p.formats.iter().map(|(f, n)| format!("{n} {f}")).collect();
            let _ = writeln!(
                out,
                "\npreload: {} subjects ({}), {} versions in {:.2} s = {:.0} registrations/s, {} errors, mean schema {} B, p50 {} p99 {} max {}",
                p.subjects,
                formats.join(", "),
                p.versions,
                secs,
                p.stats.sent() as f64 / secs,
                p.stats.errors,
                p.schema_bytes.checked_div(p.versions).unwrap_or(0),
                fmt_micros(p.stats.latency.value_at_quantile(0.5)),
                fmt_micros(p.stats.latency.value_at_quantile(0.99)),
                fmt_micros(p.stats.latency.max()),
            );
        }
        for phase in &self.phases {
            let pacing = match phase.spec.pacing {
                Pacing::Open { rate } => format!("open loop at {rate:.0} req/s (latency from intended send time)"),
                Pacing::Closed => "closed loop (latency from send)".to_string(),
            };
            let _ = writeln!(
                out,
                "\n== {}: {pacing}, {} connections, {:.1} s measured ({:.1} s asked)",
                phase.spec.name,
                phase.spec.connections,
                phase.elapsed.as_secs_f64(),
                phase.spec.duration.as_secs_f64()
            );
            let _ = writeln!(
                out,
                "{:<18} {:>8} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}  statuses",
                "operation", "sent", "req/s", "err%", "p50", "p95", "p99", "p99.9", "max"
            );
            let mut rows: Vec<(String, OpStats)> =
                phase.ops.iter().map(|(op, s)| (op.label().to_string(), s.clone())).collect();
            if phase.ops.len() > 1 {
                rows.push(("total".to_string(), phase.total()));
            }
            for (label, stats) in rows {
                let secs = phase.elapsed.as_secs_f64().max(1e-9);
                let sent = stats.sent();
                let h = &stats.latency;
                let q = |x: f64| if h.is_empty() { "-".to_string() } else { fmt_micros(h.value_at_quantile(x)) };
                let mut statuses: Vec<String> = stats.statuses.iter().map(|(s, n)| format!("{s}:{n}")).collect();
                if stats.rejected > 0 {
                    statuses.push(format!("said-no:{}", stats.rejected));
                }
                if stats.skipped > 0 {
                    statuses.push(format!("skipped:{}", stats.skipped));
                }
                if stats.dropped > 0 {
                    statuses.push(format!("dropped:{}", stats.dropped));
                }
                let _ = writeln!(
                    out,
                    "{:<18} {:>8} {:>9.0} {:>6.2}% {:>9} {:>9} {:>9} {:>9} {:>9}  {}",
                    label,
                    sent,
                    sent as f64 / secs,
                    if sent > 0 { stats.errors as f64 * 100.0 / sent as f64 } else { 0.0 },
                    q(0.5),
                    q(0.95),
                    q(0.99),
                    q(0.999),
                    if h.is_empty() { "-".to_string() } else { fmt_micros(h.max()) },
                    statuses.join(" ")
                );
            }
            if let (Some(ceiling), Pacing::Closed, false) = (
                self.ceiling_rps,
                phase.spec.pacing,
                phase.ops.contains_key(&Op::Ceiling) || phase.ops.contains_key(&Op::ServerRoot),
            ) {
                let _ = writeln!(out, "throughput / ceiling: {:.1}%", phase.throughput() * 100.0 / ceiling);
            }
            if phase.unsent > 0 {
                let _ = writeln!(out, "unsent (grace period over): {}", phase.unsent);
            }
            if let (Some(cpu), Some(per_request)) = (phase.server_cpu, phase.server_cpu_per_request_us()) {
                let _ = writeln!(
                    out,
                    "server cpu: {per_request:.1} µs per request ({:.2} s, {:.2} cores over the phase)",
                    cpu.as_secs_f64(),
                    cpu.as_secs_f64() / phase.elapsed.as_secs_f64().max(1e-9)
                );
            }
            if let (Some(first), Some(last)) = (phase.rss_samples.first(), phase.rss_samples.last()) {
                let _ = writeln!(
                    out,
                    "server rss: {:.1} MiB -> {:.1} MiB ({:+.1} MiB)",
                    first.1 as f64 / 1024.0,
                    last.1 as f64 / 1024.0,
                    (last.1 as f64 - first.1 as f64) / 1024.0
                );
            }
        }
        if !self.caches_after.is_empty() {
            let _ = writeln!(out, "\nserver caches (measured phases; since start):");
            for (name, end) in &self.caches_after {
                let run = end.since(&self.caches_before.get(name).copied().unwrap_or_default());
                let ratio = |c: &CacheCounters| c.ratio().map(|r| format!("{:.1}%", r * 100.0)).unwrap_or("-".into());
                let _ = writeln!(
                    out,
                    "  {name:<22} hit ratio {:>6} ({} hits, {} misses); {:>6}",
                    ratio(&run),
                    run.hits,
                    run.misses,
                    ratio(end)
                );
            }
        }
        let m = &self.memory;
        if m.start_kb.is_some() || m.end_kb.is_some() {
            let mib = |kb: Option<u64>| kb.map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or("-".into());
            let _ = writeln!(
                out,
                "\nserver rss: start {}, after preload {}, end {}",
                mib(m.start_kb),
                mib(m.after_preload_kb),
                mib(m.end_kb)
            );
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}
