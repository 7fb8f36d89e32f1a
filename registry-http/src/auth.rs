//! API keys and roles. Keys are stored as SHA-256 hashes and compared in constant time; a request carries its
//! key as `X-API-Key`, `Authorization: Bearer <key>` or `Authorization: Basic` (the key is the password, as
//! Confluent clients send `user:secret`).
//!
//! Keys file: one key a line, `<role> <sha256-hex> [name]`, `#` comments; `schema-registry hash-key` prints the
//! hash of a key.

use std::path::Path;
use std::sync::{Arc, RwLock};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::{ApiError, AppState, SharedState};

/// What a key may do; each role includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads, lookups, compatibility checks, validation.
    Reader,
    /// Plus registrations and subject-level config.
    Writer,
    /// Plus deletes, global config and modes.
    Admin,
}

impl Role {
    /// Its name in the keys file: `reader`, `writer` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "reader" => Ok(Role::Reader),
            "writer" => Ok(Role::Writer),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role '{other}': use reader, writer or admin")),
        }
    }
}

/// One key: its hash, role and a name for logs.
#[derive(Clone, Debug)]
struct Key {
    hash: [u8; 32],
    role: Role,
    name: Arc<str>,
}

/// The set of keys the server accepts. It can be replaced whole while the server runs ([`AuthKeys::replace`],
/// on SIGHUP): each request checks against one set, the old or the new.
#[derive(Debug, Default)]
pub struct AuthKeys {
    keys: RwLock<Arc<Vec<Key>>>,
}

impl Clone for AuthKeys {
    fn clone(&self) -> Self {
        Self { keys: RwLock::new(self.current()) }
    }
}

impl AuthKeys {
    /// Parses a keys file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(role), Some(hash)) = (parts.next(), parts.next()) else {
                return Err(format!("line {}: expected '<role> <sha256-hex> [name]'", n + 1));
            };
            let role: Role = role.parse().map_err(|e| format!("line {}: {e}", n + 1))?;
            let hash = decode_hex(hash).ok_or_else(|| format!("line {}: the hash must be 64 hex digits", n + 1))?;
            let name = parts.collect::<Vec<_>>().join(" ");
            let name = if name.is_empty() { format!("key on line {}", n + 1) } else { name };
            keys.push(Key { hash, role, name: name.into() });
        }
        if keys.is_empty() {
            return Err("the keys file holds no key".into());
        }
        Ok(Self { keys: RwLock::new(Arc::new(keys)) })
    }

    /// Reads a keys file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text)
    }

    /// The keys with this role: for tests and embedding.
    pub fn with_key(self, key: &str, role: Role) -> Self {
        let mut keys = Vec::clone(&self.current());
        keys.push(Key { hash: hash_key(key), role, name: format!("{role:?}").into() });
        Self { keys: RwLock::new(Arc::new(keys)) }
    }

    /// Replaces every key with those of `other`: requests from now on are checked against them.
    pub fn replace(&self, other: AuthKeys) {
        let keys = other.current();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.current().len()
    }

    /// Whether there are none (a set parsed from a file never is empty).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn current(&self) -> Arc<Vec<Key>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The role of `key`, checking every entry so the time taken does not depend on which one matches.
    fn role_of(&self, key: &str) -> Option<(Role, Arc<str>)> {
        let hash = hash_key(key);
        let mut found = None;
        for entry in self.current().iter() {
            if constant_time_eq(&entry.hash, &hash) && found.is_none() {
                found = Some((entry.role, entry.name.clone()));
            }
        }
        found
    }
}

/// The SHA-256 of a key, as stored in the keys file.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Lower-case hex of a key's hash.
pub fn hash_key_hex(key: &str) -> String {
    registry_core::hex(&hash_key(key))
}

fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The key a request presents, from any of the accepted headers.
fn presented_key(request: &Request) -> Option<String> {
    let headers = request.headers();
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim().to_string());
    }
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = authorization.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (_user, password) = decoded.split_once(':')?;
        return Some(password.to_string());
    }
    None
}

/// The role a request needs, by method and path. With auth on only `/health` needs none: `/metrics` on the main
/// listener needs a reader's key (a scraper without one uses `--metrics-addr`, a listener of its own).
pub fn required_role(method: &Method, path: &str) -> Option<Role> {
    // The console's pages and scripts hold no data: what they show, they ask the APIs for, with the key.
    if path == "/health" || path == "/ui" || path.starts_with("/ui/") {
        return None;
    }
    let is_config = path == "/config" || path.starts_with("/config/");
    let is_mode = path == "/mode" || path.starts_with("/mode/");
    // A context's config (`/config/:.ctx:`, `/config/:.__GLOBAL:`) is every subject's of it, as the global one is.
    let context_config = path.strip_prefix("/config/").is_some_and(|scope| {
        let scope = percent_encoding::percent_decode_str(scope).decode_utf8_lossy();
        let (context, name) = registry_core::split_qualified(&scope);
        context != registry_core::DEFAULT_CONTEXT && name.is_empty()
    });
    Some(match *method {
        // Who did what is for admins to read.
        _ if path == "/api/v1/audit" => Role::Admin,
        Method::GET | Method::HEAD | Method::OPTIONS => Role::Reader,
        _ if is_mode || context_config => Role::Admin,
        Method::DELETE if path.starts_with("/config/") => Role::Writer,
        Method::DELETE => Role::Admin,
        Method::PUT if path == "/config" => Role::Admin,
        Method::PUT if is_config => Role::Writer,
        Method::POST if path == "/api/v1/schemas" => Role::Writer,
        Method::POST if path.starts_with("/subjects/") && path.ends_with("/versions") => Role::Writer,
        // The key registry: producers create KEKs and DEKs, and may change a KEK's properties.
        Method::POST | Method::PUT if path.starts_with("/dek-registry/") => Role::Writer,
        // Lookups, compatibility checks and validation read.
        Method::POST => Role::Reader,
        _ => Role::Admin,
    })
}

/// The `X-Requested-With` value of the web console's API requests.
const CONSOLE_REQUEST: &str = "schema-registry-console";

/// What the auth layer decides for a request.
enum Verdict {
    /// Auth is off, the route needs no role, or the key's role suffices: with the key's name, if one was checked.
    Allowed(Option<Arc<str>>),
    /// No valid key.
    Unauthorized,
    /// A valid key whose role lacks what the route needs.
    Forbidden { name: Arc<str>, role: Role, needed: Role },
}

fn verdict(state: &AppState, request: &Request) -> Verdict {
    let Some(keys) = &state.auth else { return Verdict::Allowed(None) };
    let Some(needed) = required_role(request.method(), request.uri().path()) else { return Verdict::Allowed(None) };
    match presented_key(request).and_then(|key| keys.role_of(&key)) {
        None => Verdict::Unauthorized,
        Some((role, name)) if role < needed => Verdict::Forbidden { name, role, needed },
        Some((_, name)) => Verdict::Allowed(Some(name)),
    }
}

tokio::task_local! {
    /// The name of the key the request being answered presented, when auth is on.
    static ACTOR: Option<Arc<str>>;
}

/// The name of the key the request being answered presented (what its writes are audited as); `None` when auth
/// is off, or outside a request.
pub(crate) fn current_actor() -> Option<Arc<str>> {
    ACTOR.try_with(Clone::clone).ok().flatten()
}

/// Whether `request` may go ahead: what the auth middleware would let through, without its answers for what it
/// would not.
pub(crate) fn permits(state: &AppState, request: &Request) -> bool {
    matches!(verdict(state, request), Verdict::Allowed(_))
}

/// The auth middleware: 401 without a valid key, 403 for a role that lacks the right.
pub(crate) async fn authorize(State(state): State<SharedState>, mut request: Request, next: Next) -> Response {
    match verdict(&state, &request) {
        Verdict::Allowed(name) => {
            // The MCP tools check writes against the caller's role themselves.
            if let (Some(name), Some(keys)) = (&name, &state.auth)
                && let Some((role, _)) = presented_key(&request).and_then(|key| keys.role_of(&key))
            {
                request.extensions_mut().insert(crate::mcp::Caller { role, name: name.clone() });
            }
            ACTOR.scope(name, next.run(request)).await
        }
        Verdict::Unauthorized => {
            let mut response =
                ApiError::new(StatusCode::UNAUTHORIZED, 40101, "Unauthorized: a valid API key is required")
                    .into_response();
            // The console asks for its key itself: no browser login dialog for its requests (others get the
            // challenge HTTP asks for).
            let console = request.headers().get("x-requested-with").is_some_and(|v| v == CONSOLE_REQUEST);
            if !console {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, "Basic realm=\"schema-registry\"".parse().expect("static"));
            }
            response
        }
        Verdict::Forbidden { name, role, needed } => {
            tracing::info!(key = &*name, ?role, ?needed, "forbidden");
            ApiError::new(
                StatusCode::FORBIDDEN,
                40301,
                format!("Forbidden: this key's role ({role:?}) cannot do this; it needs {needed:?}"),
            )
            .into_response()
        }
    }
}
