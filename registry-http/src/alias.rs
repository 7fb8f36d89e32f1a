//! Subject aliases, as Confluent's `AliasFilter` applies them before routing: a path segment that follows a
//! `subjects` or `deks` segment names a subject, and when that subject's own config (no fallback to the global
//! one) sets an `alias`, the request is about the alias instead. Under `/dek-registry` the config's
//! `aliasForDeks` wins over its `alias`. `/config/{subject}` and `/mode/{subject}` are never aliased: that is
//! where an alias is set and cleared.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use registry_core::Subject;
use registry_store::Scope;

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

/// Rewrites the request's path to the subjects' aliases, if any applies, before it is routed.
pub(crate) async fn rewrite(State(state): State<SharedState>, mut request: Request, next: Next) -> Response {
    if let Some(path) = aliased_path(&state, request.uri().path()) {
        let rewritten = match request.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        if let Ok(uri) = rewritten.parse() {
            *request.uri_mut() = uri;
        }
    }
    next.run(request).await
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
            let alias = name.and_then(|name| Subject::new(&name).ok()).and_then(|s| alias_of(state, &s, for_keys));
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

/// The subject `subject`'s own config names as its alias: `aliasForDeks` before `alias` for the key registry.
pub(crate) fn alias_of(state: &AppState, subject: &Subject, for_keys: bool) -> Option<String> {
    let config = state.registry.scope_config(Scope::Subject(subject)).ok()??;
    let settings = config.settings;
    let for_deks = settings.alias_for_deks.filter(|alias| for_keys && !alias.is_empty());
    for_deks.or(settings.alias).filter(|alias| !alias.is_empty())
}
