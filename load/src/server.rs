//! The servers under load: a `schema-registry` the loader starts itself (`--spawn`, in a temporary data directory,
//! stopped at the end), one already running (`--url`), and the ceiling server (a minimal axum app in a process
//! of its own that answers a fixed 2 KB JSON body to any GET, to show what this machine and this client can do
//! at best). Also the server-side figures: RSS from `/proc/<pid>/status` and cache hits and misses from `/metrics`.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;

use super::client::{Client, is_loopback};

/// The resident set size of a process, in KiB (`VmRSS` in `/proc/<pid>/status`), if it can be read.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The CPU time (user and system, all threads) process `pid` has used, from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields counted here follow its closing one.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a constant of the system.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = u64::try_from(per_second).ok().filter(|&t| t > 0)?;
    Some(Duration::from_micros(ticks * 1_000_000 / per_second))
}

/// Parses `http://127.0.0.1:8081` (or `localhost`, `[::1]`) into a loopback address; anything else is refused.
pub fn parse_loopback_url(url: &str) -> Result<SocketAddr, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let with_port = if authority.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addr = with_port.to_socket_addrs().map_err(|e| format!("{url}: {e}"))?.find(is_loopback).ok_or_else(|| {
        format!("{url}: not a loopback address; the load generator only sends traffic to this machine")
    })?;
    Ok(addr)
}

/// A `schema-registry` process this loader started; stopped (SIGTERM, then SIGKILL) when dropped.
pub struct SpawnedServer {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data directory (removed with the guard).
    _data_dir: tempfile::TempDir,
    log: PathBuf,
    stopped: bool,
}

impl SpawnedServer {
    /// Starts `binary --listen 127.0.0.1:<free port> --data-dir <temp>` (on `cpus` when given) and waits until
    /// `/health` answers.
    pub async fn start(binary: &Path, cpus: Option<&[usize]>) -> Result<Self, String> {
        let data_dir = tempfile::Builder::new()
            .prefix("registry-load-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary data directory: {e}"))?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("cannot find a free port: {e}"))?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log = data_dir.path().join("server.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let mut command = Command::new(binary);
        command
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir.path().join("data"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        if let Some(cpus) = cpus {
            super::cores::confine(&mut command, cpus);
        }
        let child = command.spawn().map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut server = Self { child, addr, _data_dir: data_dir, log, stopped: false };
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut client = Client::new(addr);
        loop {
            if let Some(status) = server.exited() {
                return Err(format!(
                    "{} exited at start ({status}); its log:\n{}",
                    binary.display(),
                    server.log_tail()
                ));
            }
            if let Ok((status, _)) = client.send(Method::GET, "/health", None).await
                && status.is_success()
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not answer /health within 15 s; its log:\n{}",
                    binary.display(),
                    server.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last lines of its log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Stops it: SIGTERM, up to 5 s to finish, then SIGKILL. Returns an error when it had crashed before.
    pub fn stop(&mut self) -> Result<(), String> {
        self.stopped = true;
        if let Some(status) = self.exited() {
            return Err(format!(
                "the server exited by itself during the run ({status}); its log:\n{}",
                self.log_tail()
            ));
        }
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Ok(())
    }
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A cache's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounters {
    /// Hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
}

impl CacheCounters {
    /// Hits over lookups, if there were any.
    pub fn ratio(&self) -> Option<f64> {
        let total = self.hits + self.misses;
        (total > 0).then(|| self.hits as f64 / total as f64)
    }

    /// The counts since `earlier`.
    pub fn since(&self, earlier: &CacheCounters) -> CacheCounters {
        CacheCounters {
            hits: self.hits.saturating_sub(earlier.hits),
            misses: self.misses.saturating_sub(earlier.misses),
        }
    }
}

/// Reads `registry_cache_hits_total{cache=...}` and `registry_cache_misses_total{cache=...}` from `/metrics`.
pub async fn scrape_caches(addr: SocketAddr) -> Result<BTreeMap<String, CacheCounters>, String> {
    let mut client = Client::new(addr);
    let (status, body) =
        client.send(Method::GET, "/metrics", None).await.map_err(|e| format!("GET /metrics: {}", e.label()))?;
    if !status.is_success() {
        return Err(format!("GET /metrics answered {status}"));
    }
    Ok(parse_cache_metrics(&String::from_utf8_lossy(&body)))
}

/// Parses the cache counters out of Prometheus text.
pub fn parse_cache_metrics(text: &str) -> BTreeMap<String, CacheCounters> {
    let mut caches: BTreeMap<String, CacheCounters> = BTreeMap::new();
    for line in text.lines() {
        let (is_hit, rest) = if let Some(rest) = line.strip_prefix("registry_cache_hits_total{") {
            (true, rest)
        } else if let Some(rest) = line.strip_prefix("registry_cache_misses_total{") {
            (false, rest)
        } else {
            continue;
        };
        let Some((labels, value)) = rest.split_once('}') else { continue };
        let Some(name) = labels.split(',').find_map(|l| l.trim().strip_prefix("cache=")) else { continue };
        let Ok(value) = value.trim().parse::<f64>() else { continue };
        let entry = caches.entry(name.trim_matches('"').to_string()).or_default();
        if is_hit {
            entry.hits = value as u64;
        } else {
            entry.misses = value as u64;
        }
    }
    caches
}

/// The ceiling server: this same binary re-run as a child process (`--serve-ceiling`), so that it stands where
/// the registry stands: its own process, sharing the cores with the loader. (Run inside the loader's process it
/// would switch threads without switching address spaces, an advantage no real server has.)
pub struct CeilingServer {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
}

impl CeilingServer {
    /// Starts it with `threads` runtime workers (on `cpus` when given, as the server) and waits for the address it
    /// listens on.
    pub fn start(threads: usize, cpus: Option<&[usize]>) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary to run the ceiling: {e}"))?;
        let mut command = Command::new(&exe);
        command
            .arg("--serve-ceiling")
            .arg("--ceiling-threads")
            .arg(threads.max(1).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(cpus) = cpus {
            super::cores::confine(&mut command, cpus);
        }
        let mut child =
            command.spawn().map_err(|e| format!("cannot start the ceiling server ({}): {e}", exe.display()))?;
        let mut line = String::new();
        let read =
            child.stdout.take().map(|out| std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line));
        let addr = match read {
            Some(Ok(_)) => line.trim().parse::<SocketAddr>().ok(),
            _ => None,
        };
        match addr {
            Some(addr) => Ok(Self { addr, child }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("the ceiling server did not say where it listens (it printed {line:?})"))
            }
        }
    }
}

impl Drop for CeilingServer {
    fn drop(&mut self) {
        // Closing its stdin is its signal to stop; the kill is for one that does not.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fixed body the ceiling server answers: 2 KiB of JSON.
fn ceiling_body() -> Bytes {
    let filler = "x".repeat(2048 - r#"{"schema":"","schemaType":"JSON"}"#.len());
    Bytes::from(format!(r#"{{"schema":"{filler}","schemaType":"JSON"}}"#))
}

/// Runs the ceiling server in this process: a minimal axum app on `127.0.0.1:0` answering `ceiling_body` to
/// any GET, with `threads` runtime workers. Prints the address on the first line of stdout and serves until
/// stdin closes (the loader that started it has stopped or gone).
pub fn serve_ceiling(threads: usize) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the ceiling runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot bind the ceiling server: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("{addr}");
        std::io::Write::flush(&mut std::io::stdout()).map_err(|e| e.to_string())?;
        let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            let _ = closed_tx.send(());
        });
        let body = ceiling_body();
        let app = axum::Router::new().fallback(move |method: axum::http::Method| {
            let body = body.clone();
            async move {
                if method != axum::http::Method::GET {
                    return (
                        axum::http::StatusCode::METHOD_NOT_ALLOWED,
                        [("content-type", "application/json")],
                        Bytes::from_static(b"{}"),
                    );
                }
                (axum::http::StatusCode::OK, [("content-type", "application/json")], body)
            }
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = closed_rx.await;
            })
            .await
            .map_err(|e| format!("ceiling server: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::{ceiling_body, parse_cache_metrics, parse_loopback_url};

    #[test]
    fn cache_metrics_are_read_from_prometheus_text() {
        let text = "# TYPE registry_cache_hits_total counter\nregistry_cache_hits_total{cache=\"schemas\"} 90\n\
                    registry_cache_misses_total{cache=\"schemas\"} 10\nregistry_cache_hits_total{cache=\"latest\"} 0\n";
        let caches = parse_cache_metrics(text);
        assert_eq!(caches["schemas"].hits, 90);
        assert_eq!(caches["schemas"].ratio(), Some(0.9));
        assert_eq!(caches["latest"].ratio(), None);
    }

    #[test]
    fn only_loopback_urls_are_accepted() {
        assert!(parse_loopback_url("http://127.0.0.1:8081").is_ok());
        assert!(parse_loopback_url("http://localhost:8081/").is_ok());
        assert!(parse_loopback_url("http://10.0.0.1:8081").is_err());
        assert!(parse_loopback_url("https://127.0.0.1:8081").is_err());
        assert_eq!(ceiling_body().len(), 2048);
    }
}
