//! `registry-load`: drives a schema registry over HTTP/1.1 on loopback and reports latency percentiles,
//! throughput, errors by status, per-operation figures, the server's cache hit ratio and memory. See `--help`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use registry_load::scenario::{self, Options, Scenario};
use registry_load::workload::Op;

/// Load generator for the schema registry. Sends traffic to 127.0.0.1 (loopback) only; every phase stops by
/// itself at its duration or its request cap. Prints a progress line a second to stderr, a table to stdout, and
/// writes every figure to a JSON file.
///
/// Examples:
///   registry-load baseline --spawn target/release/schema-registry
///   registry-load max --duration 5s -c 32
///   registry-load soak --duration 10m --url http://127.0.0.1:8081 --server-pid 4242
///   registry-load --smoke
#[derive(Debug, Parser)]
#[command(name = "registry-load", version, verbatim_doc_comment)]
struct Cli {
    /// The preset to run.
    #[arg(value_enum, default_value = "baseline")]
    scenario: Scenario,

    /// Shorthand for the `smoke` scenario: a tiny version of everything in about 5 seconds against a spawned
    /// server. Exits non-zero if the server crashed or every request failed; never judges timings.
    #[arg(long)]
    smoke: bool,

    /// Start this `schema-registry` binary on a free loopback port with a temporary data directory, and stop it
    /// at the end. Without --spawn and --url, the `schema-registry` next to this binary is started.
    #[arg(long, value_name = "PATH", conflicts_with = "url")]
    spawn: Option<PathBuf>,

    /// Use a server that is already running at this URL (loopback only, e.g. http://127.0.0.1:8081).
    #[arg(long, value_name = "URL")]
    url: Option<String>,

    /// The pid of the server at --url, to report its memory (VmRSS from /proc/<pid>/status).
    #[arg(long, value_name = "PID", requires = "url")]
    server_pid: Option<u32>,

    /// Subjects in the generated corpus (70% JSON Schema, 20% Avro, 10% Protobuf; 1-5 versions each), all
    /// registered by the preload before anything is measured.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    subjects: usize,

    /// Versions per subject (1-5), instead of the corpus's mix of 1 to 5.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=5))]
    versions: Option<u32>,

    /// How long each phase runs (per operation in `max`), e.g. 10s, 500ms, 2m, 1h. Defaults: 10s for
    /// baseline, stress, soak and ceiling; 5s per operation for max and hot.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    duration: Option<Duration>,

    /// How long the stress scenario's spike (1.5x its rate) runs.
    #[arg(long, value_parser = parse_duration, default_value = "5s", value_name = "DURATION")]
    spike_duration: Duration,

    /// Connections: in a closed loop, each sends its next request when the last one answered; in an open loop,
    /// the most requests in flight at once (more arrivals wait, and the wait counts as latency).
    #[arg(short = 'c', long, default_value_t = 32, value_name = "N")]
    connections: usize,

    /// Requests per second of the open-loop scenarios, instead of the preset's (baseline 1000, stress 10000 with
    /// a spike at 1.5x, soak 2000).
    #[arg(long, value_name = "REQ_PER_S")]
    rate: Option<f64>,

    /// The most requests one phase sends, whatever its duration.
    #[arg(long, default_value_t = 5_000_000, value_name = "N")]
    max_requests: u64,

    /// Seed for the corpus and the request draws: the same seed gives the same schemas and sequence.
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Worker threads of the load generator's runtime [default: the number of cores].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,

    /// Worker threads of the ceiling server's runtime [default: the number of cores, as the real server uses].
    #[arg(long, value_name = "N")]
    ceiling_threads: Option<usize>,

    /// In `max` and `hot`, run only these operations (comma-separated): get-by-id, get-latest, validate,
    /// register-existing, register-new, compatibility (`max` only). The ceiling always runs.
    #[arg(long, value_delimiter = ',', value_parser = parse_op, value_name = "OPS")]
    only: Vec<Op>,

    /// Run the spawned server (and the ceiling server) on the first half of this machine's CPUs and the load
    /// generator on the rest, one core each on two: neither waits out the other's time slices, which otherwise
    /// make most of a closed loop's 99th percentile. Needs a spawned server.
    #[arg(long, conflicts_with = "url")]
    split_cores: bool,

    /// Be the ceiling server: the loader runs itself with this flag to measure the ceiling in a process of its
    /// own. Prints the address it listens on and serves until stdin closes.
    #[arg(long, hide = true)]
    serve_ceiling: bool,

    /// Fail (exit non-zero) if the server's resident memory grows by more than this many percent, in any
    /// phase, over its level at the end of the warm-up (`--warmup`). Needs the server's pid (--spawn, or
    /// --server-pid with --url).
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    max_rss_growth: Option<f64>,

    /// How long the start of each phase is left out of --max-rss-growth's check: caches and the store fill up.
    #[arg(long, value_parser = parse_duration, default_value = "15s", value_name = "DURATION")]
    warmup: Duration,

    /// Where to write the JSON report with every figure.
    #[arg(long, default_value = "target/registry-load.json", value_name = "PATH")]
    json_out: PathBuf,
}

fn parse_op(text: &str) -> Result<Op, String> {
    Op::from_label(text.trim()).ok_or_else(|| {
        let known: Vec<&str> = Op::REGISTRY.iter().map(|op| op.label()).collect();
        format!("{text:?} is not an operation (one of {})", known.join(", "))
    })
}

fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim().trim_end_matches('%').parse::<f64>() {
        Ok(percent) if percent > 0.0 && percent <= 10_000.0 => Ok(percent / 100.0),
        _ => Err(format!("{text:?} is not a percentage between 0 and 10000, like 10")),
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 10s, 500ms, 2m"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1e3,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (use ms, s, m or h)")),
    };
    if !(seconds > 0.0 && seconds < 7.0 * 86_400.0) {
        return Err(format!("{text:?}: a duration between 1ms and a week"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Keeps this process on the second half of its CPUs and returns the first, the server's.
fn split_cores() -> Result<Vec<usize>, String> {
    let (server, load) = registry_load::cores::split(&registry_load::cores::allowed()?)?;
    registry_load::cores::confine_self(&load)?;
    Ok(server)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    if cli.serve_ceiling {
        return match registry_load::server::serve_ceiling(cli.ceiling_threads.unwrap_or(cores)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("registry-load: {e}");
                ExitCode::from(2)
            }
        };
    }
    let server_cpus = match cli.split_cores.then(split_cores).transpose() {
        Ok(cpus) => cpus,
        Err(e) => {
            eprintln!("registry-load: {e}");
            return ExitCode::from(2);
        }
    };
    // The load generator's threads: as many as the CPUs it has left.
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let server_cores = server_cpus.as_ref().map_or(cores, Vec::len);
    let scenario = if cli.smoke { Scenario::Smoke } else { cli.scenario };
    if cli.rate.is_some_and(|r| !(r > 0.0 && r <= 1_000_000.0)) {
        eprintln!("registry-load: --rate must be between 0 and 1,000,000 requests per second");
        return ExitCode::from(2);
    }
    let options = Options {
        scenario,
        spawn: cli.spawn,
        url: cli.url,
        server_pid: cli.server_pid,
        subjects: cli.subjects.max(1),
        versions: cli.versions,
        duration: cli.duration,
        spike_duration: cli.spike_duration,
        connections: cli.connections.clamp(1, 4096),
        rate: cli.rate,
        max_requests: cli.max_requests,
        seed: cli.seed,
        ceiling_threads: cli.ceiling_threads.unwrap_or(server_cores),
        only: cli.only,
        max_rss_growth: cli.max_rss_growth,
        warmup: cli.warmup,
        server_cpus,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.unwrap_or(cores).max(1))
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("registry-load: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match runtime.block_on(scenario::run(options)) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("registry-load: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", outcome.report.to_table());
    let mut json = outcome.report.to_json();
    json["failures"] = serde_json::json!(outcome.failures);
    if let Some(parent) = cli.json_out.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(parent);
    }
    match serde_json::to_string_pretty(&json).map(|text| std::fs::write(&cli.json_out, text + "\n")) {
        Ok(Ok(())) => println!("\nJSON report: {}", cli.json_out.display()),
        Ok(Err(e)) => eprintln!("registry-load: cannot write {}: {e}", cli.json_out.display()),
        Err(e) => eprintln!("registry-load: cannot encode the report: {e}"),
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    if outcome.failures.is_empty() {
        return ExitCode::SUCCESS;
    }
    for failure in &outcome.failures {
        eprintln!("registry-load: FAILED: {failure}");
    }
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::{Cli, Op, parse_duration, parse_op};
    use clap::CommandFactory;
    use std::time::Duration;

    #[test]
    fn durations_parse_and_the_cli_is_consistent() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_op("get-by-id"), Ok(Op::GetById));
        assert!(parse_op("get-by-name").is_err());
        Cli::command().debug_assert();
    }
}
