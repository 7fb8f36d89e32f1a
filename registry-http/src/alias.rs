//! The path rewrites Confluent makes before routing. The context prefix (`ContextFilter`): `/contexts/{ctx}/...`
//! is the same request with its subjects qualified by the context (`/contexts/./subjects/s` is `/subjects/s`,
//! `/contexts/.ctx/subjects/s` is `/subjects/:.ctx:s`). And subject aliases
//! (`AliasFilter`): a path segment that follows a
//! `subjects` or `deks` segment names a subject, and when that subject's own config (no fallback to the global
//! one) sets an `alias`, the request is about the alias instead. Under `/dek-registry` the config's
//! `aliasForDeks` wins over its `alias`. `/config/{subject}` and `/mode/{subject}` are never aliased: that is
//! where an alias is set and cleared.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use registry_core::Subject;

use crate::{AppState, SharedState};

/// What a subject written into a path segment must have encoded: what cannot stand in a segment as it is.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Rewrites the request's path for its context prefix and its subjects' aliases, if any applies, before it is
/// routed.
pub(crate) async fn rewrite(State(state): State<SharedState>, mut request: Request, next: Next) -> Response {
    let (mut path, mut query) = (request.uri().path().to_string(), request.uri().query().map(str::to_string));
    let mut changed = false;
    if let Some((unprefixed, new_query)) = without_context(&path, query.as_deref()) {
        (path, query, changed) = (unprefixed, new_query, true);
    }
    if let Some(aliased) = aliased_path(&state, &path) {
        (path, changed) = (aliased, true);
    }
    if changed {
        let rewritten = match query {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        if let Ok(uri) = rewritten.parse() {
            *request.uri_mut() = uri;
        }
    }
    next.run(request).await
}

/// `/contexts/{ctx}/rest` as Confluent's `ContextFilter` rewrites it: `/rest`, with the subject after a `subjects`
/// or `deks` segment (or a root `config` or `mode` segment) qualified by the context, and a listing's
/// `subjectPrefix` (or a read by id's `subject`) too. `None` for a path without the prefix, or with a context name
/// that holds a colon (no route answers it: a 404, where Confluent answers 400).
fn without_context(path: &str, query: Option<&str>) -> Option<(String, Option<String>)> {
    let rest = path.strip_prefix("/contexts/")?;
    let (context, rest) = rest.split_once('/').filter(|(_, rest)| !rest.is_empty())?;
    let name = context.strip_prefix(':').unwrap_or(context);
    let name = name.strip_suffix(':').unwrap_or(name);
    if name.contains(':') {
        return None;
    }
    let name = if name.starts_with('.') { name.to_string() } else { format!(".{name}") };
    // The default context qualifies nothing.
    let delimited = if name == "." { String::new() } else { format!(":{name}:") };
    let segments: Vec<&str> = rest.split('/').collect();
    let mut out = Vec::with_capacity(segments.len() + 1);
    let mut subject_next = false;
    for (i, segment) in segments.iter().enumerate() {
        let root_setting = i == 0 && (*segment == "config" || *segment == "mode");
        if subject_next && !segment.is_empty() {
            let decoded = percent_decode_str(segment).decode_utf8_lossy();
            out.push(if is_qualified(&decoded) { segment.to_string() } else { format!("{delimited}{segment}") });
        } else {
            out.push(segment.to_string());
        }
        subject_next = *segment == "subjects" || *segment == "deks" || root_setting;
        if root_setting && segments.len() == 1 && !delimited.is_empty() {
            out.push(delimited.clone());
        }
    }
    let rewritten = format!("/{}", out.join("/"));
    // A listing's prefix and a read by id's subject hint are in the context too (only another context changes them).
    let listing = matches!(rest.trim_end_matches('/'), "subjects" | "schemas");
    let query = match (delimited.is_empty(), query) {
        (true, query) => query.map(str::to_string),
        (false, query) if listing => Some(qualify_param(query, "subjectPrefix", &delimited)),
        (false, query) if rest.starts_with("schemas/ids") => Some(qualify_param(query, "subject", &delimited)),
        (false, query) => query.map(str::to_string),
    };
    Some((rewritten, query))
}

/// Whether a subject (or prefix) names its context already: `:.ctx:name`, or the wildcard `:*:`.
fn is_qualified(subject: &str) -> bool {
    subject.starts_with(":.") || subject.starts_with(":*:")
}

/// `query` with parameter `name` qualified by `delimited` (added when it is not there).
fn qualify_param(query: Option<&str>, name: &str, delimited: &str) -> String {
    let mut found = false;
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(key, value)| {
            if key == name && !is_qualified(&value) {
                found = true;
                (key.into_owned(), format!("{delimited}{value}"))
            } else {
                found |= key == name;
                (key.into_owned(), value.into_owned())
            }
        })
        .collect();
    if !found {
        pairs.push((name.to_string(), delimited.to_string()));
    }
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// `path` with every subject segment that has an alias replaced by it; `None` when nothing changes.
fn aliased_path(state: &AppState, path: &str) -> Option<String> {
    if !path.contains("/subjects/") && !path.contains("/deks/") {
        return None;
    }
    let for_keys = path.starts_with("/dek-registry/");
    let mut changed = false;
    let mut subject_next = false;
    let mut out = Vec::new();
    for segment in path.split('/') {
        let mut written = segment.to_string();
        if subject_next && !segment.is_empty() {
            let name = percent_decode_str(segment).decode_utf8().ok();
            let alias =
                name.and_then(|name| Subject::qualified(&name).ok()).and_then(|s| alias_of(state, &s, for_keys));
            if let Some(alias) = alias {
                written = utf8_percent_encode(&alias, SEGMENT).to_string();
                changed = true;
            }
        }
        subject_next = segment == "subjects" || segment == "deks";
        out.push(written);
    }
    changed.then(|| out.join("/"))
}

/// The subject `subject`'s own config names as its alias: `aliasForDeks` before `alias` for the key registry. A
/// plain alias is in the aliasing subject's context (Confluent's `qualifySubjectWithParent`).
pub(crate) fn alias_of(state: &AppState, subject: &Subject, for_keys: bool) -> Option<String> {
    let alias = state.registry.alias(subject, for_keys).ok().flatten()?;
    match Subject::new(&alias) {
        Ok(named) => Some(subject.referenced(&named).as_str().to_string()),
        Err(_) => Some(alias),
    }
}
