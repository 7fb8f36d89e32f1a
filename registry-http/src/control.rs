//! The control socket of a server on an embedded store. The store's file is open in one process at a time, so
//! `schema-registry backup` and `schema-registry check`, pointed at a data directory a server is running on,
//! ask that server through a Unix socket beside the file (`<file>.sock`, readable and writable by its owner
//! only: whoever may use it may read the file anyway).
//!
//! One request a connection, a line: `backup` or `check`. The answer starts with a line:
//! `ok <length> <versions> <schemas> <ids> <settings>` and the backup file's bytes, or `ok sound` (or
//! `ok problems`) and the check's report; `error <message>` when it failed.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use registry_store::{CheckReport, Copied, Registry};

/// Where the control socket of the server on `store_file` is.
pub fn socket_path(store_file: &Path) -> PathBuf {
    let mut path = store_file.as_os_str().to_owned();
    path.push(".sock");
    PathBuf::from(path)
}

/// The report of a check, for people: counts, then each problem on a line.
pub fn render_check(store: &str, report: &CheckReport) -> String {
    let mut text = format!(
        "checked {store}: {} subjects, {} versions, {} schemas, {} ids, {} audit entries chained",
        report.subjects, report.versions, report.schemas, report.ids, report.audit_entries
    );
    if report.subjects_with_gaps > 0 {
        text.push_str(&format!(
            " ({} subjects have gaps in their version numbers, as permanent deletes leave)",
            report.subjects_with_gaps
        ));
    }
    if report.is_sound() {
        text.push_str("\nno problems found\n");
    } else {
        text.push_str(&format!("\n{} problems found:\n", report.problems.len()));
        for problem in &report.problems {
            text.push_str(&format!("  {problem}\n"));
        }
    }
    text
}

/// The listening socket and its thread. Dropping it stops the thread, which lets go of its registry (so the
/// store closes cleanly at shutdown), and removes the socket.
#[cfg(unix)]
pub struct Control {
    path: PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[cfg(unix)]
impl Drop for Control {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        // Wakes the thread from its accept, to see that it is to stop.
        let _ = std::os::unix::net::UnixStream::connect(&self.path);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serves the control socket of `registry`, whose store is the file `store_file`, on a thread of its own.
#[cfg(unix)]
pub fn listen(registry: Registry, store_file: &Path, store: String) -> std::io::Result<Control> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(store_file);
    // The store's file is locked by this process, so a socket left here is a dead server's.
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let backups = store_file.to_path_buf();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = stop.clone();
    let thread = std::thread::Builder::new().name("control".into()).spawn(move || {
        for stream in listener.incoming() {
            if stopping.load(std::sync::atomic::Ordering::Acquire) {
                break;
            }
            match stream {
                Ok(stream) => {
                    if let Err(error) = answer(&registry, &backups, &store, stream) {
                        tracing::warn!(%error, "a control request failed");
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot accept a control connection"),
            }
        }
    })?;
    Ok(Control { path, stop, thread: Some(thread) })
}

#[cfg(unix)]
fn answer(
    registry: &Registry,
    store_file: &Path,
    store: &str,
    stream: std::os::unix::net::UnixStream,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = String::new();
    BufReader::new(&stream).take(64).read_line(&mut request)?;
    let mut stream = stream;
    match request.trim() {
        "backup" => {
            let mut file = store_file.as_os_str().to_owned();
            file.push(format!(".backup-{}", std::process::id()));
            let file = PathBuf::from(file);
            let _ = std::fs::remove_file(&file);
            tracing::info!(to = %file.display(), "backup asked through the control socket");
            let sent = match registry.backup_to(&file) {
                Ok(copied) => (|| {
                    let length = std::fs::metadata(&file)?.len();
                    writeln!(
                        stream,
                        "ok {length} {} {} {} {} {}",
                        copied.versions, copied.schemas, copied.ids, copied.settings, copied.keys
                    )?;
                    std::io::copy(&mut std::fs::File::open(&file)?, &mut stream)?;
                    stream.flush()
                })(),
                Err(error) => writeln!(stream, "error {}", one_line(&error.to_string())),
            };
            let _ = std::fs::remove_file(&file);
            sent
        }
        "check" => match registry.check() {
            Ok(report) => {
                writeln!(stream, "ok {}", if report.is_sound() { "sound" } else { "problems" })?;
                stream.write_all(render_check(store, &report).as_bytes())
            }
            Err(error) => writeln!(stream, "error {}", one_line(&error.to_string())),
        },
        other => writeln!(stream, "error unknown request {:?}: backup or check", one_line(other)),
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// Connects to the control socket of the server running on `store_file`.
#[cfg(unix)]
fn connect(store_file: &Path, request: &str) -> Result<BufReader<std::os::unix::net::UnixStream>, String> {
    let path = socket_path(store_file);
    let mut stream = std::os::unix::net::UnixStream::connect(&path).map_err(|e| {
        format!(
            "{} is open in another process, and its control socket {} cannot be reached ({e}): is it a \
             schema-registry server of this version?",
            store_file.display(),
            path.display()
        )
    })?;
    writeln!(stream, "{request}").map_err(|e| format!("cannot ask the server: {e}"))?;
    Ok(BufReader::new(stream))
}

/// The first line of an answer: its words after `ok`, or the server's error.
fn status(reader: &mut impl BufRead) -> Result<Vec<String>, String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| format!("cannot read the server's answer: {e}"))?;
    match line.trim_end().split_once(' ').unwrap_or((line.trim_end(), "")) {
        ("ok", rest) => Ok(rest.split_whitespace().map(str::to_string).collect()),
        ("error", message) => Err(format!("the server could not do it: {message}")),
        _ => Err(format!("the server answered {line:?}, not a control answer")),
    }
}

/// Asks the server running on `store_file` for a backup and writes it to `to`, whole or not at all.
#[cfg(unix)]
pub fn request_backup(store_file: &Path, to: &Path) -> Result<Copied, String> {
    let mut reader = connect(store_file, "backup")?;
    let words = status(&mut reader)?;
    let number = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok()).ok_or("a malformed answer");
    let length = number(0)?;
    let copied =
        Copied { versions: number(1)?, schemas: number(2)?, ids: number(3)?, settings: number(4)?, keys: number(5)? };
    let mut partial = to.as_os_str().to_owned();
    partial.push(format!(".partial-{}", std::process::id()));
    let partial = PathBuf::from(partial);
    let written = (|| {
        let mut file = std::fs::File::create_new(&partial)?;
        let received = std::io::copy(&mut (&mut reader).take(length), &mut file)?;
        if received != length {
            return Err(std::io::Error::other(format!("the server sent {received} of {length} bytes")));
        }
        file.sync_all()?;
        std::fs::rename(&partial, to)?;
        let parent = to.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::File::open(parent)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("cannot write the backup to {}: {e}", to.display()));
    }
    Ok(copied)
}

/// Asks the server running on `store_file` to check the registry: its report, and whether it is sound.
#[cfg(unix)]
pub fn request_check(store_file: &Path) -> Result<(String, bool), String> {
    let mut reader = connect(store_file, "check")?;
    let sound = status(&mut reader)?.first().is_some_and(|word| word == "sound");
    let mut text = String::new();
    reader.read_to_string(&mut text).map_err(|e| format!("cannot read the server's answer: {e}"))?;
    Ok((text, sound))
}
