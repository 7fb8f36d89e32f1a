//! The Confluent-compatible REST API: each route maps a request onto one `Registry` call, with Confluent's
//! paths, status codes, error codes and response shapes.

mod dto;
pub(crate) use dto::contract_part;
mod keys;

use std::borrow::Cow;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use registry_core::compat::{CompatReport, CompatibilityLevel};
use registry_core::{SchemaGuid, SchemaId, SchemaType, Subject, UnparsedSchema, VersionSelector};
use registry_store::{
    Deleted, Deletion, Mode, RegisterOptions, Registered, Registry, Scope, ScopeSettings, SettingsPatch, StoredSchema,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::extract::{BodyBytes, JsonBody, Path, Query, RawSchema, Sr, flag, parse_json};
use crate::{ApiError, AppState, SharedState, metrics};
use dto::{Flags, ModeRequest, ReferenceDto, SchemaById, SchemaObject, SchemaRequest, schema_type_field};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/", get(root).post(root))
        .route("/schemas/types", get(schema_types))
        .route("/schemas", get(list_schemas))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_for_id))
        .route("/schemas/ids/{id}/versions", get(versions_for_id))
        .route("/subjects", get(list_subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route("/subjects/{subject}/metadata", get(version_with_metadata))
        .route("/schemas/guids/{guid}", get(schema_by_guid))
        .route("/schemas/guids/{guid}/ids", get(ids_by_guid))
        .route("/subjects/{subject}/versions", get(list_versions).post(register))
        .route("/subjects/{subject}/versions/{version}", get(get_version).delete(delete_version))
        .route("/subjects/{subject}/versions/{version}/schema", get(raw_version_schema))
        .route("/subjects/{subject}/versions/{version}/referencedby", get(referenced_by))
        .route("/compatibility/subjects/{subject}/versions/{version}", post(check_one))
        .route("/compatibility/subjects/{subject}/versions", post(check_all))
        .route("/config", get(get_global_config).put(put_global_config).delete(delete_global_config))
        .route("/config/{subject}", get(get_subject_config).put(put_subject_config).delete(delete_subject_config))
        .route("/mode", get(get_global_mode).put(put_global_mode).delete(delete_global_mode))
        .route("/mode/{subject}", get(get_subject_mode).put(put_subject_mode).delete(delete_subject_mode))
        .route("/v1/metadata/id", get(metadata_id))
        .route("/v1/metadata/version", get(metadata_version))
        .route("/contexts", get(contexts))
        .route("/contexts/{context}", delete(delete_context))
        .merge(keys::routes())
}

// ----- helpers -----

/// [`subject`], for the other APIs' handlers.
pub(crate) fn request_subject(name: &str) -> ApiResult<Subject> {
    subject(name)
}

/// A subject named in a request, in its normalized qualified form (`:.:name` is `name`, `:.ctx` is `:.ctx:`):
/// Confluent's `QualifiedSubject`.
fn subject(name: &str) -> ApiResult<Subject> {
    Ok(Subject::qualified(name)?)
}

/// The scope a `/config/{subject}` or `/mode/{subject}` path names: the top level for the default context alone
/// (`:.:`, as Confluent reads it), else the subject (a context alone, `:.ctx:`, is that context's settings).
fn scope_subject(name: &str) -> ApiResult<Option<Subject>> {
    match registry_core::split_qualified(name) {
        (registry_core::DEFAULT_CONTEXT, "") => Ok(None),
        _ => subject(name).map(Some),
    }
}

/// The key ranges a listing's `subjectPrefix` names, as Confluent reads one: `:*:` before a prefix is every
/// context (the default one and each other), `:.ctx:` before it that context, and a plain prefix (or none, for
/// `GET /schemas`) the default context. Each is a prefix of stored names, with whether only the default
/// context's names under it count (a plain prefix such as `:` also starts the other contexts' names).
fn subject_prefixes(registry: &Registry, prefix: &str) -> ApiResult<Vec<(String, bool)>> {
    match registry_core::split_qualified(prefix) {
        (registry_core::WILDCARD_CONTEXT, rest) => {
            let mut prefixes = vec![(rest.to_string(), true)];
            for context in registry.contexts()?.iter().skip(1) {
                prefixes.push((registry_core::qualify(context, rest), false));
            }
            Ok(prefixes)
        }
        (registry_core::DEFAULT_CONTEXT, rest) => Ok(vec![(rest.to_string(), true)]),
        (context, rest) => Ok(vec![(registry_core::qualify(context, rest), false)]),
    }
}

/// Whether a stored subject name is listed under a prefix of [`subject_prefixes`].
fn listed(name: &str, default_only: bool) -> bool {
    !default_only || registry_core::split_qualified(name).0 == registry_core::DEFAULT_CONTEXT
}

pub(crate) fn version(text: &str) -> ApiResult<VersionSelector> {
    text.parse().map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            42202,
            format!(
                "The specified version '{text}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
            ),
        )
    })
}

/// An id from a path: a number that is not a 32-bit integer names no resource at all (404, as Confluent's
/// path matching answers), one that is (zero, negative, or unused) names a schema not found (40403).
pub(crate) fn schema_id(text: &str) -> ApiResult<SchemaId> {
    match text.parse::<i32>() {
        Ok(id) => u32::try_from(id).map(SchemaId).map_err(|_| ApiError::schema_not_found(text)),
        Err(_) => Err(ApiError::new(axum::http::StatusCode::NOT_FOUND, 404, "HTTP 404 Not Found")),
    }
}

/// The stored id a path's id names, read under the request's `subject` (its context, or a subject holding it:
/// [`Registry::resolve_id`]); 40403 when it names none.
fn id_named(registry: &Registry, text: &str, flags: &Flags) -> ApiResult<SchemaId> {
    let id = schema_id(text)?;
    registry.resolve_id(id.0, flags.subject.as_deref())?.ok_or_else(|| ApiError::schema_not_found(text))
}

fn deleted(flags: &Flags) -> ApiResult<Deleted> {
    Ok(if flag(&flags.deleted_only)? {
        Deleted::Only
    } else if flag(&flags.deleted)? {
        Deleted::Include
    } else {
        Deleted::Exclude
    })
}

fn deletion(flags: &Flags) -> ApiResult<Deletion> {
    Ok(if flag(&flags.permanent)? { Deletion::Permanent } else { Deletion::Soft })
}

/// Runs `f` on the blocking pool: a write (its durable commit), a walk over the whole registry, a parse and
/// check of a large schema or a validation of many documents must not stall the async workers.
pub(crate) async fn on_pool<T, F>(registry: &Registry, f: F) -> ApiResult<T>
where
    F: FnOnce(&Registry) -> Result<T, registry_store::RegistryError> + Send + 'static,
    T: Send + 'static,
{
    // Its writes are audited as the request's key.
    let registry = registry.acting_as(crate::auth::current_actor().as_deref());
    tokio::task::spawn_blocking(move || f(&registry))
        .await
        .map_err(|e| {
            ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, 50001, format!("write task failed: {e}"))
        })?
        .map_err(ApiError::from)
}

/// Runs `f` on this async worker when `light` ([`is_light`]), else on the blocking pool ([`on_pool`]).
pub(crate) async fn inline_or_blocking<T, F>(registry: &Registry, light: bool, f: F) -> ApiResult<T>
where
    F: FnOnce(&Registry) -> Result<T, registry_store::RegistryError> + Send + 'static,
    T: Send + 'static,
{
    if light { f(registry).map_err(ApiError::from) } else { on_pool(registry, f).await }
}

/// Whether parsing `schema` and checking it against `subject`'s versions (`None`: against one version, or none)
/// is light enough for an async worker: see [`INLINE_PARSE_BYTES`].
pub(crate) fn is_light(registry: &Registry, schema: &UnparsedSchema, subject: Option<&Subject>) -> ApiResult<bool> {
    let small = schema.text.len() <= INLINE_PARSE_BYTES && schema.references.is_empty() && !registry.is_shared();
    Ok(small && subject.map_or(Ok(true), |subject| registry.effective_config(subject).map(|l| !l.is_transitive()))?)
}

/// The largest schema parsed and checked on the async worker itself (a few hundred microseconds at most). A
/// larger one, one with references (read from the store), one for a subject whose level checks every earlier
/// version (a transitive level: as many parses as versions), or any on a shared store (its checks read the
/// database) is parsed and checked on the blocking pool, so it never stalls the requests sharing that worker.
const INLINE_PARSE_BYTES: usize = 16 << 10;

/// Registers `schema` under `subject`, awaiting its group commit without holding a thread: with a thread parked
/// per waiting registration, dozens of threads would share two cores and their allocator.
pub(crate) async fn register_schema(
    registry: &Registry,
    subject: Subject,
    schema: UnparsedSchema,
    options: RegisterOptions,
) -> ApiResult<Registered> {
    let actor = crate::auth::current_actor();
    let registry = &registry.acting_as(actor.as_deref());
    let registration = if is_light(registry, &schema, Some(&subject))? {
        registry.begin_register(&subject, &schema, options)?
    } else {
        // A schema the subject already has is answered from memory, without a trip through the pool.
        let plain = options.id.is_none() && options.version.is_none();
        if plain && let Some(registered) = registry.registered_already(&subject, &schema)? {
            return Ok(registered);
        }
        on_pool(registry, move |r| r.begin_register(&subject, &schema, options)).await?
    };
    Ok(registration.await?)
}

/// The schema text to answer with: Protobuf descriptors become `.proto` source, or stay a base64
/// `FileDescriptorProto` with `format=serialized`; an Avro schema's references are written out with
/// `format=resolved`; otherwise the text as stored.
fn schema_text<'a>(registry: &Registry, stored: &'a StoredSchema, format: Option<&str>) -> ApiResult<Cow<'a, str>> {
    // `resolved` is Avro's format, as `serialized` is Protobuf's.
    if stored.schema_type == SchemaType::Avro && is_resolved(format) {
        return Ok(Cow::Owned(registry.resolved_text(stored)?));
    }
    if stored.schema_type != SchemaType::Protobuf {
        return Ok(Cow::Borrowed(&stored.text));
    }
    let serialized = format.is_some_and(|f| f.eq_ignore_ascii_case("serialized"));
    if !serialized && !registry_core::format::is_serialized_descriptor(&stored.text) {
        return Ok(Cow::Borrowed(&stored.text));
    }
    let parsed = registry.parsed_by_id(stored.id)?;
    let text = if serialized { parsed.serialized_descriptor() } else { parsed.protobuf_source() };
    Ok(text.map_or(Cow::Borrowed(&stored.text), Cow::Owned))
}

/// Whether `format` asks for an Avro schema's references written out (core writes out those it has).
fn is_resolved(format: Option<&str>) -> bool {
    format.is_some_and(|f| f.eq_ignore_ascii_case("resolved"))
}

fn references(stored: &StoredSchema) -> Vec<ReferenceDto> {
    stored.references.iter().map(ReferenceDto::from_reference).collect()
}

fn schema_object<'a>(
    registry: &Registry,
    v: &'a registry_store::SchemaVersion,
    format: Option<&str>,
) -> ApiResult<SchemaObject<'a>> {
    object_of(registry, v, schema_fields(registry, &v.schema, format)?)
}

/// [`schema_object`] as a request's flags ask (its `format` and `referenceFormat`).
fn schema_object_for<'a>(
    registry: &Registry,
    v: &'a registry_store::SchemaVersion,
    flags: &Flags,
) -> ApiResult<SchemaObject<'a>> {
    object_of(registry, v, schema_fields_for(registry, &v.schema, flags)?)
}

/// The schema object of version `v` with its schema's `fields`: the id as its context names it.
fn object_of<'a>(
    registry: &Registry,
    v: &'a registry_store::SchemaVersion,
    fields: SchemaById<'a>,
) -> ApiResult<SchemaObject<'a>> {
    Ok(SchemaObject {
        subject: v.subject.as_str(),
        version: v.version.get(),
        id: registry.public_id(v.schema.id)?.0,
        fields,
    })
}

/// What every answer about one schema carries: its format, text, references, GUID and data contract.
fn schema_fields<'a>(registry: &Registry, stored: &'a StoredSchema, format: Option<&str>) -> ApiResult<SchemaById<'a>> {
    Ok(SchemaById {
        schema_type: schema_type_field(stored.schema_type),
        schema: schema_text(registry, stored, format)?,
        references: references(stored),
        guid: stored.guid().to_string(),
        metadata: stored.contract.metadata.as_ref(),
        rule_set: stored.contract.rule_set.as_ref(),
    })
}

/// [`schema_fields`] as a request's flags ask: with `referenceFormat=qualified`, the references of a schema of a
/// context other than the default one name their subjects whole (`:.ctx:name`), as Confluent writes them.
fn schema_fields_for<'a>(registry: &Registry, stored: &'a StoredSchema, flags: &Flags) -> ApiResult<SchemaById<'a>> {
    let mut fields = schema_fields(registry, stored, flags.format.as_deref())?;
    if is_qualified_format(flags) && !stored.references.is_empty() {
        let (context, _) = registry.context_id_of(stored.id)?;
        for (written, reference) in fields.references.iter_mut().zip(&stored.references) {
            if context != registry_core::DEFAULT_CONTEXT {
                written.subject = registry_core::reference_target(&context, &reference.subject).to_string();
            }
        }
    }
    Ok(fields)
}

/// Whether a request asks for `referenceFormat=qualified`.
fn is_qualified_format(flags: &Flags) -> bool {
    flags.reference_format.as_deref().is_some_and(|f| f.eq_ignore_ascii_case("qualified"))
}

/// Confluent's compatibility answer: `is_compatible`, and with `verbose` the `messages` (each violation, then the
/// level when there is one). `schema-registry compat --json` answers the same (`offline.rs`).
pub(crate) fn compat_answer(report: &CompatReport, verbose: bool) -> Value {
    let mut answer = json!({"is_compatible": report.is_compatible()});
    if verbose {
        let mut messages = report.messages();
        if !report.is_compatible() {
            messages
                .push(format!("{{validateFields: '{}', compatibility: '{}'}}", report.validate_fields, report.level));
        }
        answer["messages"] = json!(messages);
    }
    answer
}

// ----- handlers -----

async fn root() -> Sr<Value> {
    Sr(json!({}))
}

/// `GET /contexts`: the default context, then every other by name; `contextPrefix` keeps those whose name
/// starts with it, then `offset` and `limit` page.
async fn contexts(State(state): State<SharedState>, Query(flags): Query<Flags>) -> ApiResult<Sr<Vec<String>>> {
    let prefix = flags.context_prefix.clone().unwrap_or_default();
    let contexts = state.registry.contexts()?;
    Ok(Sr(page(contexts.into_iter().filter(|c| c.starts_with(&prefix)), &flags)?))
}

/// `DELETE /contexts/{context}`: the context is listed no more (204); 42211 while it has subjects. The name is
/// read as Confluent reads it (`ctx`, `.ctx` and `:.ctx:` are one); one holding a colon is 400, and the default
/// context is never deleted (404).
async fn delete_context(State(state): State<SharedState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    let bare = name.strip_prefix(':').unwrap_or(&name);
    let bare = bare.strip_suffix(':').unwrap_or(bare);
    if bare.contains(':') {
        return Err(ApiError::bad_request(format!("Context name '{bare}' cannot contain a colon")));
    }
    let context = if bare.starts_with('.') { bare.to_string() } else { format!(".{bare}") };
    if context == registry_core::DEFAULT_CONTEXT {
        return Err(ApiError::new(StatusCode::NOT_FOUND, 404, "HTTP 404 Not Found"));
    }
    on_pool(&state.registry, move |r| r.delete_context(&context)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn schema_types() -> Sr<Vec<&'static str>> {
    Sr(SchemaType::ALL.iter().map(|t| t.as_str()).collect())
}

async fn list_schemas(State(state): State<SharedState>, Query(flags): Query<Flags>) -> ApiResult<Response> {
    // No prefix is the default context's schemas (where `GET /subjects` lists every context's subjects).
    let prefixes = subject_prefixes(&state.registry, flags.subject_prefix.as_deref().unwrap_or_default())?;
    let latest_only = flag(&flags.latest_only)?;
    let page = Page::of(&flags)?;
    // Every version's record: a walk over the whole registry, off the async workers.
    let deleted = deleted(&flags)?;
    let versions = on_pool(&state.registry, move |r| {
        let mut versions = Vec::new();
        for (prefix, default_only) in &prefixes {
            let found = r.schemas(prefix, deleted, latest_only)?;
            versions.extend(found.into_iter().filter(|v| listed(v.subject.as_str(), *default_only)));
        }
        versions.sort_by(|a, b| a.subject.cmp(&b.subject).then(a.version.cmp(&b.version)));
        Ok(versions)
    })
    .await?;
    let objects = page
        .of_items(versions.iter())
        .map(|v| schema_object(&state.registry, v, flags.format.as_deref()))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Sr(objects).into_response())
}

/// Confluent's `offset`/`limit` pagination of list answers: no `limit`, or one not above 0, means all.
struct Page {
    offset: usize,
    limit: usize,
}

impl Page {
    /// The page a request's `offset` and `limit` name (400 for one that is not a number).
    fn of(flags: &Flags) -> ApiResult<Page> {
        let offset = parse_usize(&flags.offset, "offset")?.unwrap_or(0);
        let limit = parse_usize(&flags.limit, "limit")?.filter(|l| *l > 0).unwrap_or(usize::MAX);
        Ok(Page { offset, limit })
    }

    /// The items on this page.
    fn of_items<T>(&self, items: impl IntoIterator<Item = T>) -> impl Iterator<Item = T> {
        items.into_iter().skip(self.offset).take(self.limit)
    }
}

/// `items`, paged as the request's `offset` and `limit` say.
fn page<T>(items: impl IntoIterator<Item = T>, flags: &Flags) -> ApiResult<Vec<T>> {
    Ok(Page::of(flags)?.of_items(items).collect())
}

fn parse_usize(value: &Option<String>, name: &str) -> ApiResult<Option<usize>> {
    match value.as_deref() {
        None | Some("") => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n < 0 => Ok(None),
            Ok(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            Err(_) => Err(ApiError::bad_request(format!("invalid {name} '{v}': use a number"))),
        },
    }
}

async fn schema_by_id(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    Query(flags): Query<Flags>,
) -> ApiResult<Response> {
    let id = id_named(&state.registry, &id, &flags)?;
    let fetch_max_id = flag(&flags.fetch_max_id)?;
    // Read under a subject, the answer names a version holding the id, as Confluent's does; `maxId` and qualified
    // references are asked for rarely: these answers are rendered each time.
    if flags.subject.is_some() || fetch_max_id || is_qualified_format(&flags) {
        let registry = &state.registry;
        let stored = registry.schema_by_id(id)?;
        let fields = schema_fields_for(registry, &stored, &flags)?;
        let held = flags.subject.as_deref().map(|hint| registry.version_holding(id, hint)).transpose()?.flatten();
        let max_id = match fetch_max_id {
            true => Some(registry.max_id_in(&registry.context_id_of(id)?.0)?),
            false => None,
        };
        let answer = dto::HeldSchema {
            subject: held.as_ref().map(|held| held.subject.as_str()),
            version: held.as_ref().map(|held| held.version.get()),
            fields,
            max_id,
        };
        return Ok(Sr(answer).into_response());
    }
    if is_resolved(flags.format.as_deref()) {
        // Rendered each time: only an Avro schema with references has a resolved text of its own.
        let stored = state.registry.schema_by_id(id)?;
        return Ok(Sr(schema_fields(&state.registry, &stored, flags.format.as_deref())?).into_response());
    }
    let serialized = flags.format.as_deref().is_some_and(|f| f.eq_ignore_ascii_case("serialized"));
    let key = (id.0, serialized);
    let removals = match pre_rendered(&state, key) {
        Ok(answer) => return Ok(answer),
        Err(removals) => removals,
    };
    state.answer_counts.rendered.record(false);
    let stored = match state.registry.schema_by_id(id) {
        Ok(stored) => stored,
        Err(e) => {
            state.rendered.invalidate(&key);
            return Err(e.into());
        }
    };
    Ok(RawSchema(render_by_id(&state, &stored, serialized, removals)?).into_response())
}

/// `GET /schemas/guids/{guid}`: the schema with that GUID, as `GET /schemas/ids/{id}` answers it; a GUID that is
/// not one is not found, as Confluent answers.
async fn schema_by_guid(
    State(state): State<SharedState>,
    Path(guid): Path<String>,
    Query(flags): Query<Flags>,
) -> ApiResult<Response> {
    let Ok(parsed) = guid.parse::<SchemaGuid>() else {
        return Err(ApiError::schema_not_found(&guid));
    };
    let stored = state.registry.schema_by_guid(&parsed)?;
    Ok(Sr(schema_fields(&state.registry, &stored, flags.format.as_deref())?).into_response())
}

/// `GET /schemas/guids/{guid}/ids`: `[{"context", "id"}]` for each id holding it, in each context (by context,
/// then id); none (never 404) for a GUID no schema has or a string that is not one.
async fn ids_by_guid(State(state): State<SharedState>, Path(guid): Path<String>) -> ApiResult<Sr<Vec<Value>>> {
    let ids = match guid.parse::<SchemaGuid>() {
        Ok(guid) => state.registry.ids_by_guid(&guid)?,
        Err(_) => Vec::new(),
    };
    let mut named = ids.iter().map(|id| state.registry.context_id_of(*id)).collect::<Result<Vec<_>, _>>()?;
    named.sort();
    Ok(Sr(named.iter().map(|(context, id)| json!({"context": context, "id": id.0})).collect()))
}

/// Renders the `GET /schemas/ids/{id}` answer for `stored` and keeps it, as rendered at `removals`.
fn render_by_id(state: &AppState, stored: &StoredSchema, serialized: bool, removals: u64) -> ApiResult<Bytes> {
    let body = render_unkept(state, stored, serialized)?;
    state.rendered.insert((stored.id.0, serialized), (removals, body.clone()));
    Ok(body)
}

/// The `GET /schemas/ids/{id}` answer for `stored`, not kept.
fn render_unkept(state: &AppState, stored: &StoredSchema, serialized: bool) -> ApiResult<Bytes> {
    let answer = schema_fields(&state.registry, stored, serialized.then_some("serialized"))?;
    let mut body = serde_json::to_vec(&answer).map_err(|e| {
        ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, 50001, format!("cannot encode the answer: {e}"))
    })?;
    // The cache weighs an answer by its length: it must not keep the slack of the vector's doubling too.
    body.shrink_to_fit();
    Ok(Bytes::from(body))
}

/// The `GET /subjects/{subject}/versions/latest` answer (no query), built from the id's pre-rendered answer: a
/// schema object is `{"subject","version","id",` and then the very fields of `GET /schemas/ids/{id}`. `None` when
/// the subject has no live version or cannot be read: the router answers those, errors and all.
pub(crate) fn latest_answer(state: &AppState, subject: &Subject) -> Option<Response> {
    let found = state.registry.version(subject, VersionSelector::Latest, Deleted::Exclude).ok()?;
    let by_id = match rendered_body(state, (found.schema.id.0, false)) {
        Ok(body) => body,
        Err(removals) => {
            state.answer_counts.rendered.record(false);
            render_by_id(state, &found.schema, false, removals).ok()?
        }
    };
    let fields = by_id.strip_prefix(b"{")?;
    let subject = serde_json::to_string(found.subject.as_str()).ok()?;
    let id = state.registry.public_id(found.schema.id).ok()?;
    let head = format!(r#"{{"subject":{subject},"version":{},"id":{id},"#, found.version.get());
    let mut body = Vec::with_capacity(head.len() + fields.len());
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(fields);
    Some(flagged(RawSchema(Bytes::from(body)).into_response(), found.state))
}

/// A version's answer, flagged `x-schema-deprecated: true` when the version is DEPRECATED.
fn flagged(mut response: Response, state: registry_store::VersionState) -> Response {
    if state == registry_store::VersionState::Deprecated {
        response.headers_mut().insert("x-schema-deprecated", axum::http::HeaderValue::from_static("true"));
    }
    response
}

/// The pre-rendered `GET /schemas/ids/{id}` answer for `(id, serialized)` if it still holds, counted as a hit;
/// else the registry's count of removals, read first, to keep a newly rendered answer with (the miss is the
/// caller's to count). An answer rendered at a count is true while the count stands, since only a removal makes a
/// found id disappear.
pub(crate) fn pre_rendered(state: &AppState, key: (u32, bool)) -> Result<Response, u64> {
    rendered_body(state, key).map(|body| RawSchema(body).into_response())
}

/// [`pre_rendered`]'s body, before it is made a response.
fn rendered_body(state: &AppState, key: (u32, bool)) -> Result<Bytes, u64> {
    let removals = state.registry.removals();
    match state.rendered.get(&key) {
        Some((rendered_at, body)) if rendered_at == removals => {
            state.answer_counts.rendered.record(true);
            Ok(body)
        }
        _ => Err(removals),
    }
}

/// The remembered answer to the registration with digest `key` if it still holds, counted as a hit and as a
/// deduplicated registration; else the registry's count of retractions, read first, to keep a new answer with
/// (the miss is the caller's to count). An answer remembered at a count is the answer while the count stands:
/// only a delete or a config or mode change can change it.
pub(crate) fn remembered_registration(state: &AppState, key: &[u8; 32]) -> Result<Response, u64> {
    let retractions = state.registry.retractions();
    match state.registrations.get(key) {
        Some(remembered) if remembered.retractions == retractions => {
            let Ok(answer) = registration_answer(state, SchemaId(remembered.id), remembered.version) else {
                return Err(retractions);
            };
            state.answer_counts.registrations.record(true);
            metrics::record_outcome("registrations", "deduplicated");
            Ok(RawSchema(answer).into_response())
        }
        _ => Err(retractions),
    }
}

/// A registration answer remembered: the id and version it named, and the registry's count of retractions when it
/// was given.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Remembered {
    retractions: u64,
    id: u32,
    version: u32,
}

async fn raw_schema_by_id(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    Query(flags): Query<Flags>,
) -> ApiResult<RawSchema> {
    let stored = state.registry.schema_by_id(id_named(&state.registry, &id, &flags)?)?;
    Ok(RawSchema(schema_text(&state.registry, &stored, flags.format.as_deref())?.into_owned().into()))
}

async fn subjects_for_id(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    Query(flags): Query<Flags>,
) -> ApiResult<Sr<Vec<String>>> {
    let subjects = state.registry.subjects_for_id(id_named(&state.registry, &id, &flags)?, deleted(&flags)?)?;
    Ok(Sr(page(subjects.iter().map(ToString::to_string), &flags)?))
}

async fn versions_for_id(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    Query(flags): Query<Flags>,
) -> ApiResult<Sr<Vec<Value>>> {
    let versions = state.registry.versions_for_id(id_named(&state.registry, &id, &flags)?, deleted(&flags)?)?;
    let versions = versions.iter().map(|v| json!({"subject": v.subject.as_str(), "version": v.version.get()}));
    Ok(Sr(page(versions, &flags)?))
}

async fn list_subjects(State(state): State<SharedState>, Query(flags): Query<Flags>) -> ApiResult<Sr<Vec<String>>> {
    // No prefix is every context's subjects, as `:*:` is.
    let prefix = flags.subject_prefix.as_deref().unwrap_or(":*:");
    let deleted = deleted(&flags)?;
    let mut subjects = Vec::new();
    for (prefix, default_only) in subject_prefixes(&state.registry, prefix)? {
        let found = state.registry.subjects(&prefix, deleted)?;
        subjects.extend(found.iter().map(ToString::to_string).filter(|name| listed(name, default_only)));
    }
    subjects.sort();
    Ok(Sr(page(subjects, &flags)?))
}

async fn lookup(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<Flags>,
    JsonBody(body): JsonBody<SchemaRequest>,
) -> ApiResult<Response> {
    let subject = subject(&name)?;
    let normalize = flag(&flags.normalize)?;
    let deleted = deleted(&flags)?;
    if body.schema.as_deref().is_none_or(|text| text.trim().is_empty()) {
        // An empty schema matches nothing, as Confluent answers: the subject is not found, or the schema is not.
        state.registry.versions(&subject, deleted)?;
        return Err(registry_store::RegistryError::SchemaNotInSubject(subject).into());
    }
    let schema = body.to_unparsed()?.normalized(normalize);
    let light = is_light(&state.registry, &schema, None)?;
    let found = inline_or_blocking(&state.registry, light, move |r| {
        r.in_any_context(&subject, |subject| r.lookup(subject, &schema, deleted))
    })
    .await?;
    Ok(Sr(schema_object(&state.registry, &found, None)?).into_response())
}

/// `GET /subjects/{subject}/metadata?key=..&value=..`: the newest version whose metadata has every pair. Keys and
/// values pair up in order, as far as the shorter list goes; a key given twice keeps its later value.
async fn version_with_metadata(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<Flags>,
    uri: Uri,
) -> ApiResult<Response> {
    let subject = subject(&name)?;
    let query = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes());
    let (mut keys, mut values) = (Vec::new(), Vec::new());
    for (name, value) in query {
        match &*name {
            "key" => keys.push(value.into_owned()),
            "value" => values.push(value.into_owned()),
            _ => {}
        }
    }
    let pairs: std::collections::BTreeMap<String, String> = keys.into_iter().zip(values).collect();
    let pairs: Vec<(String, String)> = pairs.into_iter().collect();
    let found = state.registry.version_with_metadata(&subject, &pairs, deleted(&flags)?)?;
    Ok(Sr(schema_object(&state.registry, &found, flags.format.as_deref())?).into_response())
}

async fn delete_subject(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<Flags>,
) -> ApiResult<Sr<Vec<u32>>> {
    let subject = subject(&name)?;
    let how = deletion(&flags)?;
    let versions = on_pool(&state.registry, move |r| r.delete_subject(&subject, how)).await?;
    Ok(Sr(versions.iter().map(|v| v.get()).collect()))
}

async fn list_versions(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<Flags>,
) -> ApiResult<Sr<Vec<i64>>> {
    let subject = subject(&name)?;
    if flag(&flags.deleted_as_negative)? {
        // Every version, a soft-deleted one as its number negated (Confluent's `deletedAsNegative`).
        let versions = state.registry.version_list(&subject, Deleted::Include)?;
        let signed =
            versions.iter().map(|v| if v.deleted { -i64::from(v.version.get()) } else { i64::from(v.version.get()) });
        return Ok(Sr(page(signed, &flags)?));
    }
    let versions = state.registry.versions(&subject, deleted(&flags)?)?;
    Ok(Sr(page(versions.iter().map(|v| i64::from(v.get())), &flags)?))
}

async fn register(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<Flags>,
    uri: Uri,
    missed: Option<Extension<Unremembered>>,
    BodyBytes(bytes): BodyBytes,
) -> ApiResult<Response> {
    // The same request answered before is answered again from its digest, unparsed, while nothing that could
    // change the answer (a delete, a config or mode change) has happened since: read the count first, so an
    // answer remembered from here on was computed after it. The front has done both when it hands a miss over.
    let (key, retractions) = match missed {
        Some(Extension(Unremembered { key, retractions })) => (key, retractions),
        None => {
            let key = registration_key(&uri, &bytes);
            match remembered_registration(&state, &key) {
                Ok(answer) => return Ok(answer),
                Err(retractions) => (key, retractions),
            }
        }
    };
    state.answer_counts.registrations.record(false);
    let body: SchemaRequest = parse_json(&bytes)?;
    let subject = subject(&name)?;
    let normalize = flag(&flags.normalize)?;
    let schema = match body.to_registration() {
        Ok(schema) => schema.normalized(normalize),
        Err(e) => {
            metrics::record_outcome("registrations", "invalid");
            return Err(e);
        }
    };
    let id = match body.id {
        None | Some(-1) | Some(0) => None,
        // Ids are 32-bit signed integers to every client: a larger one could never be read back.
        Some(id) => Some(SchemaId(
            i32::try_from(id)
                .ok()
                .and_then(|id| u32::try_from(id).ok())
                .ok_or_else(|| ApiError::unprocessable(format!("invalid schema id {id}")))?,
        )),
    };
    // A version named (-1: whichever comes next) sets the registered metadata's `confluent:version`.
    let versioned = body.version.is_some_and(|v| v != 0);
    let version = match body.version {
        None | Some(-1) | Some(0) => None,
        Some(v) => Some(version(&v.to_string()).and_then(|s| match s {
            VersionSelector::Number(v) => Ok(v),
            VersionSelector::Latest => Err(ApiError::unprocessable("a registration needs a version number")),
        })?),
    };
    // The answer carries the schema registered: its record is cached as it lands rather than read back.
    let options = RegisterOptions { id, version, versioned, cache_record: true, ..RegisterOptions::default() };
    let plain = id.is_none() && !versioned;
    let result = register_schema(&state.registry, subject, schema, options).await;
    metrics::record_registration(result.as_ref().map(|r| r.deduplicated));
    let registered = result?;
    let answer = registration_answer(&state, registered.id, registered.version.get())?;
    // Only repeats of plain registrations: a first registration is seldom sent again (a bulk load would only
    // churn the memo), and one naming an id or version (IMPORT) is rare and answered in full each time.
    if plain && registered.deduplicated && !registered.inherited {
        let remembered = Remembered { retractions, id: registered.id.0, version: registered.version.get() };
        state.registrations.insert(key, remembered);
    }
    Ok(RawSchema(answer).into_response())
}

/// The largest schema whose answer by id a registration renders and keeps.
const KEPT_REGISTRATION_RENDERING: usize = 64 << 10;

/// Confluent 8's answer to a registration: `{"id","version","schemaType",` and then the fields of the schema's
/// pre-rendered answer by id (its text, references, GUID and data contract), which `GET /schemas/ids/{id}` keeps.
fn registration_answer(state: &AppState, id: SchemaId, version: u32) -> ApiResult<Bytes> {
    let by_id = match rendered_body(state, (id.0, false)) {
        Ok(body) => body,
        // A large schema's answer is not kept on a registration's account (a bulk load of large schemas would
        // fill the cache with answers nobody asked for); a read by id keeps it.
        Err(removals) => {
            let stored = state.registry.schema_by_id(id)?;
            if stored.text.len() <= KEPT_REGISTRATION_RENDERING {
                render_by_id(state, &stored, false, removals)?
            } else {
                render_unkept(state, &stored, false)?
            }
        }
    };
    // The answer by id leaves out an AVRO `schemaType` (first when it is there); a registration answer has one.
    let fields = by_id.strip_prefix(b"{").unwrap_or(&by_id);
    let avro = if fields.starts_with(br#""schemaType""#) { "" } else { r#""schemaType":"AVRO","# };
    let head = format!(r#"{{"id":{},"version":{version},{avro}"#, state.registry.public_id(id)?.0);
    let mut body = Vec::with_capacity(head.len() + fields.len());
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(fields);
    Ok(Bytes::from(body))
}

/// A registration the front looked up in the remembered answers and did not find: its digest, and the count of
/// retractions read before the lookup, so the handler neither hashes the body nor looks it up again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unremembered {
    pub key: [u8; 32],
    pub retractions: u64,
}

/// The digest a registration request is remembered by: its path (so its subject, as sent), query and body, each
/// length-prefixed so no two requests share one.
pub(crate) fn registration_key(uri: &Uri, body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in [uri.path().as_bytes(), uri.query().unwrap_or_default().as_bytes(), body] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

async fn get_version(
    State(state): State<SharedState>,
    Path((name, v)): Path<(String, String)>,
    Query(flags): Query<Flags>,
) -> ApiResult<Response> {
    let (selector, deleted) = (version(&v)?, deleted(&flags)?);
    let registry = &state.registry;
    let found = registry.in_any_context(&subject(&name)?, |s| registry.version(s, selector, deleted))?;
    Ok(flagged(Sr(schema_object_for(&state.registry, &found, &flags)?).into_response(), found.state))
}

async fn raw_version_schema(
    State(state): State<SharedState>,
    Path((name, v)): Path<(String, String)>,
    Query(flags): Query<Flags>,
) -> ApiResult<Response> {
    let (selector, deleted) = (version(&v)?, deleted(&flags)?);
    let registry = &state.registry;
    let found = registry.in_any_context(&subject(&name)?, |s| registry.version(s, selector, deleted))?;
    let text = schema_text(&state.registry, &found.schema, flags.format.as_deref())?.into_owned();
    Ok(flagged(RawSchema(text.into()).into_response(), found.state))
}

async fn referenced_by(
    State(state): State<SharedState>,
    Path((name, v)): Path<(String, String)>,
    Query(flags): Query<Flags>,
) -> ApiResult<Sr<Vec<u32>>> {
    // Ids alone, each as its own context names it (Confluent's answer drops their contexts too).
    let ids = state.registry.referenced_by(&subject(&name)?, version(&v)?)?;
    let ids = ids.iter().map(|id| Ok(state.registry.public_id(*id)?.0)).collect::<ApiResult<Vec<u32>>>()?;
    Ok(Sr(page(ids, &flags)?))
}

async fn delete_version(
    State(state): State<SharedState>,
    Path((name, v)): Path<(String, String)>,
    Query(flags): Query<Flags>,
) -> ApiResult<Sr<u32>> {
    let subject = subject(&name)?;
    let selector = version(&v)?;
    let how = deletion(&flags)?;
    let deleted = on_pool(&state.registry, move |r| r.delete_version(&subject, selector, how)).await?;
    Ok(Sr(deleted.get()))
}

async fn check_one(
    State(state): State<SharedState>,
    Path((name, v)): Path<(String, String)>,
    Query(flags): Query<Flags>,
    JsonBody(body): JsonBody<SchemaRequest>,
) -> ApiResult<Sr<Value>> {
    let subject = subject(&name)?;
    let selector = version(&v)?;
    let schema = body.to_unparsed()?.normalized(flag(&flags.normalize)?);
    let light = is_light(&state.registry, &schema, None)?;
    let report =
        inline_or_blocking(&state.registry, light, move |r| r.check_compatibility(&subject, &schema, Some(selector)))
            .await;
    metrics::record_compatibility(report.as_ref());
    Ok(Sr(compat_answer(&report?, flag(&flags.verbose)?)))
}

async fn check_all(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<Flags>,
    JsonBody(body): JsonBody<SchemaRequest>,
) -> ApiResult<Sr<Value>> {
    let subject = subject(&name)?;
    let schema = body.to_unparsed()?.normalized(flag(&flags.normalize)?);
    let light = is_light(&state.registry, &schema, Some(&subject))?;
    let report =
        inline_or_blocking(&state.registry, light, move |r| r.check_compatibility(&subject, &schema, None)).await;
    metrics::record_compatibility(report.as_ref());
    Ok(Sr(compat_answer(&report?, flag(&flags.verbose)?)))
}

/// The level a `PUT /config` body sets: `None` when it names none (the level is kept), `Some(None)` for an
/// explicit `null` (cleared).
fn level_from(body: &serde_json::Map<String, Value>) -> ApiResult<Option<Option<CompatibilityLevel>>> {
    let invalid = || ApiError::from(registry_core::compat::InvalidLevel(String::new()));
    match body.get("compatibility").or_else(|| body.get("compatibilityLevel")) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(name)) => Ok(Some(Some(name.parse()?))),
        Some(_) => Err(invalid()),
    }
}

/// A config answer: the level under `key` (`compatibility` for a PUT, `compatibilityLevel` otherwise), and every
/// setting that is set.
fn config_answer(key: &str, level: Option<CompatibilityLevel>, settings: &ScopeSettings) -> ApiResult<Value> {
    let mut answer = serde_json::to_value(settings).map_err(|e| {
        ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, 50001, format!("cannot encode the answer: {e}"))
    })?;
    if let (Some(level), Value::Object(fields)) = (level, &mut answer) {
        fields.insert(key.to_string(), json!(level.as_str()));
    }
    Ok(answer)
}

// Config and mode: one body per operation, for the global scope (no subject) and a subject's.

fn scope_of(subject: &Option<Subject>) -> Scope<'_> {
    subject.as_ref().map_or(Scope::Global, Scope::Subject)
}

/// A subject's own config, or with `defaultToGlobal` the config that applies to it; the global config. A level
/// not set is answered as the default (BACKWARD), as Confluent answers it.
fn read_config(state: &AppState, subject: Option<Subject>, flags: &Flags) -> ApiResult<Sr<Value>> {
    let registry = &state.registry;
    let (level, settings) = match &subject {
        Some(subject) if flag(&flags.default_to_global)? => {
            (registry.effective_config(subject)?, registry.effective_settings(subject)?)
        }
        Some(subject) => {
            let config = registry.scope_config(Scope::Subject(subject))?;
            let config =
                config.ok_or_else(|| registry_store::RegistryError::SubjectLevelNotConfigured(subject.clone()))?;
            (config.compatibility.unwrap_or_default(), config.settings)
        }
        None => {
            let config = registry.scope_config(Scope::Global)?.unwrap_or_default();
            (config.compatibility.unwrap_or_default(), config.settings)
        }
    };
    Ok(Sr(config_answer("compatibilityLevel", Some(level), &settings)?))
}

/// `PUT /config`: the level and settings the body names are set (or cleared by `null`), the others kept; the
/// answer is the whole config as stored after, as Confluent answers it.
async fn write_config(state: &AppState, subject: Option<Subject>, body: Value) -> ApiResult<Sr<Value>> {
    let Value::Object(body) = body else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    let level = level_from(&body)?;
    let patch = SettingsPatch::from_json(&body).map_err(settings_error)?;
    let config = on_pool(&state.registry, move |r| r.update_scope_config(scope_of(&subject), level, &patch)).await?;
    Ok(Sr(config_answer("compatibility", config.compatibility, &config.settings)?))
}

/// A settings change that cannot be made: 42210 for a rule set, 400 for a value of the wrong shape (as Jackson's
/// mapping errors are to Confluent).
fn settings_error(e: registry_store::InvalidSettings) -> ApiError {
    registry_store::RegistryError::InvalidSettings(e).into()
}

async fn remove_config(state: &AppState, subject: Option<Subject>) -> ApiResult<Sr<Value>> {
    let removed =
        on_pool(&state.registry, move |r| r.delete_scope_config(scope_of(&subject)).map_err(unset_is_not_found))
            .await?;
    Ok(Sr(config_answer("compatibilityLevel", Some(removed.compatibility.unwrap_or_default()), &removed.settings)?))
}

/// Deleting a subject's setting it does not have answers, as Confluent does, that the subject is not found
/// (40401), where reading it answers that it has none (40408, 40409).
fn unset_is_not_found(e: registry_store::RegistryError) -> registry_store::RegistryError {
    use registry_store::RegistryError as E;
    match e {
        E::SubjectLevelNotConfigured(subject) | E::SubjectModeNotConfigured(subject) => E::SubjectNotFound(subject),
        other => other,
    }
}

/// A subject's own mode, or with `defaultToGlobal` the mode that applies to it; the global mode.
fn read_mode(state: &AppState, subject: Option<Subject>, flags: &Flags) -> ApiResult<Sr<Value>> {
    let mode = match &subject {
        None => state.registry.effective_mode_global()?,
        Some(subject) if flag(&flags.default_to_global)? => state.registry.effective_mode(subject)?,
        Some(subject) => state
            .registry
            .mode(Scope::Subject(subject))?
            .ok_or_else(|| registry_store::RegistryError::SubjectModeNotConfigured(subject.clone()))?,
    };
    Ok(Sr(json!({"mode": mode.as_str()})))
}

async fn write_mode(
    state: &AppState,
    subject: Option<Subject>,
    flags: &Flags,
    body: &ModeRequest,
) -> ApiResult<Sr<Value>> {
    let mode: Mode = body.mode.parse()?;
    let force = flag(&flags.force)?;
    on_pool(&state.registry, move |r| r.set_mode(scope_of(&subject), mode, force)).await?;
    Ok(Sr(json!({"mode": mode.as_str()})))
}

async fn get_global_config(State(state): State<SharedState>, Query(flags): Query<Flags>) -> ApiResult<Sr<Value>> {
    read_config(&state, None, &flags)
}

async fn put_global_config(State(state): State<SharedState>, JsonBody(body): JsonBody<Value>) -> ApiResult<Sr<Value>> {
    write_config(&state, None, body).await
}

async fn delete_global_config(State(state): State<SharedState>) -> ApiResult<Sr<Value>> {
    remove_config(&state, None).await
}

async fn get_subject_config(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<Flags>,
) -> ApiResult<Sr<Value>> {
    read_config(&state, scope_subject(&name)?, &flags)
}

async fn put_subject_config(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Sr<Value>> {
    write_config(&state, scope_subject(&name)?, body).await
}

async fn delete_subject_config(State(state): State<SharedState>, Path(name): Path<String>) -> ApiResult<Sr<Value>> {
    remove_config(&state, scope_subject(&name)?).await
}

async fn get_global_mode(State(state): State<SharedState>, Query(flags): Query<Flags>) -> ApiResult<Sr<Value>> {
    read_mode(&state, None, &flags)
}

async fn put_global_mode(
    State(state): State<SharedState>,
    Query(flags): Query<Flags>,
    JsonBody(body): JsonBody<ModeRequest>,
) -> ApiResult<Sr<Value>> {
    write_mode(&state, None, &flags, &body).await
}

async fn get_subject_mode(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<Flags>,
) -> ApiResult<Sr<Value>> {
    read_mode(&state, scope_subject(&name)?, &flags)
}

async fn put_subject_mode(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<Flags>,
    JsonBody(body): JsonBody<ModeRequest>,
) -> ApiResult<Sr<Value>> {
    write_mode(&state, scope_subject(&name)?, &flags, &body).await
}

async fn delete_subject_mode(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    Query(flags): Query<Flags>,
) -> ApiResult<Sr<Value>> {
    let subject = scope_subject(&name)?;
    if flag(&flags.recursive)? {
        return delete_modes_under(&state, subject).await;
    }
    let previous =
        on_pool(&state.registry, move |r| r.delete_mode(scope_of(&subject)).map_err(unset_is_not_found)).await?;
    Ok(Sr(json!({"mode": previous.as_str()})))
}

/// `DELETE /mode`: the global mode goes back to READWRITE; the answer is the mode it had.
async fn delete_global_mode(State(state): State<SharedState>, Query(flags): Query<Flags>) -> ApiResult<Sr<Value>> {
    if flag(&flags.recursive)? {
        return delete_modes_under(&state, None).await;
    }
    let previous = on_pool(&state.registry, move |r| r.delete_mode(Scope::Global)).await?;
    Ok(Sr(json!({"mode": previous.as_str()})))
}

/// `DELETE /mode[/{context}]?recursive=true`: the mode of the scope and of every subject under it; the answer is
/// the scope's own mode, or `{}` when it had none.
async fn delete_modes_under(state: &AppState, subject: Option<Subject>) -> ApiResult<Sr<Value>> {
    let previous = on_pool(&state.registry, move |r| r.delete_modes_under(scope_of(&subject))).await?;
    Ok(Sr(previous.map_or_else(|| json!({}), |mode| json!({"mode": mode.as_str()}))))
}

/// `GET /v1/metadata/id`: Confluent's cluster identity answer. There is no Kafka cluster behind this registry;
/// the registry's own cluster is named as Confluent's default group id names it.
async fn metadata_id() -> Sr<Value> {
    Sr(json!({"scope": {"path": [], "clusters": {"schema-registry-cluster": "schema-registry"}}}))
}

/// `GET /v1/metadata/version`: this server's version.
async fn metadata_version() -> Sr<Value> {
    Sr(json!({"version": env!("CARGO_PKG_VERSION")}))
}
