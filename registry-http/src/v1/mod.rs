//! The project's own API, `/api/v1`: one call per job and richer answers (fingerprints, semantic versions,
//! located violations). Every route maps onto one `Registry` call.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use registry_core::compat::{CompatReport, CompatibilityLevel};
use registry_core::{
    SchemaId, SchemaType, Subject, UnparsedSchema, ValidateOptions, ValidationReport, VersionSelector,
};
use registry_store::{Deleted, RegisterOptions, SemVer, VersionState};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::confluent::{inline_or_blocking, is_light, on_pool, register_schema};
use crate::extract::{JsonBody, Path, Sr, SrStatus, parse_json};
use crate::{ApiError, AppState, SharedState, metrics};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/api/v1/schemas", post(register))
        .route("/api/v1/schemas/{id}", get(schema))
        .route("/api/v1/compatibility/check", post(check))
        .route("/api/v1/compatibility/diff", post(diff))
        .route("/api/v1/subjects", get(subjects))
        .route("/api/v1/whoami", get(whoami))
        .route("/api/v1/subjects/{subject}/versions", get(versions))
        .route("/api/v1/subjects/{subject}/versions/{version}", get(version))
        .route("/api/v1/subjects/{subject}/versions/{version}/state", put(set_state))
        .route("/api/v1/namespaces", get(namespaces))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/search", get(search))
        .route("/api/v1/namespaces/{namespace}/subjects", get(namespace_subjects))
        .route("/api/v1/validate/{id}", post(validate_by_id))
        .route("/api/v1/subjects/{subject}/versions/{version}/validate", post(validate_by_version))
}

/// A reference in `/api/v1` bodies.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Reference {
    name: String,
    subject: String,
    version: u32,
}

#[derive(Debug, Deserialize)]
struct SchemaBody {
    subject: String,
    /// A JSON value (for JSON Schema and Avro; kept as written, key order included) or the schema text.
    schema: Box<serde_json::value::RawValue>,
    schema_type: String,
    #[serde(default)]
    references: Vec<Reference>,
    /// An explicit semantic version (registration only).
    version: Option<String>,
    /// A compatibility level to check at instead of the subject's (checks only).
    level: Option<String>,
    /// The data contract's metadata (Confluent's shape).
    metadata: Option<Value>,
    /// The data contract's rule set (Confluent's shape).
    #[serde(alias = "ruleSet")]
    rule_set: Option<Value>,
    /// Normalize the schema first, as Confluent's `normalize=true` does.
    #[serde(default)]
    normalize: bool,
    /// The lifecycle state to register in: `ACTIVE` (the default) or `DRAFT` (registration only).
    state: Option<String>,
}

impl SchemaBody {
    fn unparsed(&self) -> ApiResult<(Subject, UnparsedSchema)> {
        let subject = crate::confluent::request_subject(&self.subject)?;
        let schema_type: SchemaType = self.schema_type.parse()?;
        let raw = self.schema.get();
        let text = match raw.as_bytes().first() {
            Some(b'"') => serde_json::from_str::<String>(raw).map_err(|e| ApiError::bad_request(e.to_string()))?,
            Some(b'n') => return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, 42201, "Empty schema")),
            _ => raw.to_string(),
        };
        let references = self
            .references
            .iter()
            .map(|r| {
                let version = registry_core::Version::new(r.version)?;
                Ok(registry_core::SchemaReference { name: r.name.clone(), subject: Subject::new(&r.subject)?, version })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let contract = registry_core::contract::DataContract {
            metadata: crate::confluent::contract_part(&self.metadata)?,
            rule_set: crate::confluent::contract_part(&self.rule_set)?,
        };
        Ok((subject, UnparsedSchema { schema_type, text, references, contract, normalize: self.normalize }))
    }
}

fn lower(schema_type: SchemaType) -> &'static str {
    match schema_type {
        SchemaType::Avro => "avro",
        SchemaType::Json => "json",
        SchemaType::Protobuf => "protobuf",
    }
}

async fn register(
    State(state): State<SharedState>,
    JsonBody(body): JsonBody<SchemaBody>,
) -> ApiResult<SrStatus<Value>> {
    let (subject, schema) = body.unparsed()?;
    let semver: Option<SemVer> = body.version.as_deref().map(str::parse).transpose()?;
    let draft = match body.state.as_deref().map(str::parse::<VersionState>).transpose()? {
        None | Some(VersionState::Active) => false,
        Some(VersionState::Draft) => true,
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "a version is registered ACTIVE or DRAFT, not {other}: move it there afterwards (PUT .../state)"
            )));
        }
    };
    let options = RegisterOptions { semver, draft, ..RegisterOptions::default() };
    let answer_subject = subject.clone();
    // The record was just written or found, so its read is a cache hit: inline, as reads are.
    let result = register_schema(&state.registry, subject, schema, options)
        .await
        .and_then(|registered| Ok((registered, state.registry.schema_by_id(registered.id)?)));
    metrics::record_registration(result.as_ref().map(|(r, _)| r.deduplicated));
    let (registered, stored) = result?;
    let held = VersionSelector::Number(registered.version);
    let found_state = state.registry.version(&answer_subject, held, Deleted::Include)?.state;
    let status = if registered.deduplicated { StatusCode::OK } else { StatusCode::CREATED };
    Ok(SrStatus(
        status,
        json!({
            "id": state.registry.public_id(registered.id)?.0,
            "subject": answer_subject.as_str(),
            "version": registered.version.get(),
            "semver": registered.semver.to_string(),
            "state": found_state.as_str(),
            "fingerprint": stored.fingerprint.to_hex(),
            "guid": stored.guid().to_string(),
            "deduplicated": registered.deduplicated,
        }),
    ))
}

/// An `/api/v1` answer about one schema (`GET /api/v1/schemas/{id}`, a subject's version): the schema as a JSON value
/// written as stored (key order kept), beside the rest.
#[derive(Serialize)]
struct SchemaAnswer {
    schema: Box<serde_json::value::RawValue>,
    #[serde(flatten)]
    rest: Value,
}

impl SchemaAnswer {
    /// `stored`'s schema as a JSON value written as stored (an Avro or JSON Schema text is compact JSON, its key
    /// order kept; a Protobuf text is a string), beside `rest`.
    fn of(stored: &registry_store::StoredSchema, rest: Value) -> ApiResult<SchemaAnswer> {
        let raw = match stored.schema_type {
            SchemaType::Protobuf => None,
            _ => serde_json::value::RawValue::from_string(stored.text.clone()).ok(),
        };
        let schema = match raw {
            Some(raw) => raw,
            None => serde_json::value::to_raw_value(&stored.text)
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, 50001, e.to_string()))?,
        };
        Ok(SchemaAnswer { schema, rest })
    }
}

/// The stored id of an id of the default context (another context's ids are read through the Confluent API,
/// with a subject naming the context).
fn default_id(state: &AppState, text: &str) -> ApiResult<SchemaId> {
    let named = text.parse::<u32>().ok().map(|n| state.registry.resolve_id(n, None)).transpose()?.flatten();
    named.ok_or_else(|| ApiError::schema_not_found(text))
}

async fn schema(State(state): State<SharedState>, Path(id): Path<String>) -> ApiResult<Sr<SchemaAnswer>> {
    let id = default_id(&state, &id)?;
    let stored = state.registry.schema_by_id(id)?;
    let uses = state.registry.versions_for_id(id, Deleted::Exclude)?;
    let mut answer = json!({
        "id": stored.id.0,
        "schema_type": lower(stored.schema_type),
        "fingerprint": stored.fingerprint.to_hex(),
        "guid": stored.guid().to_string(),
        "references": stored.references.iter().map(|r| json!({"name": r.name, "subject": r.subject.as_str(), "version": r.version.get()})).collect::<Vec<_>>(),
        "subjects": uses.iter().map(|u| json!({"subject": u.subject.as_str(), "version": u.version.get(), "semver": u.semver.to_string()})).collect::<Vec<_>>(),
    });
    // The data contract, when the schema has one.
    if let Some(metadata) = &stored.contract.metadata {
        answer["metadata"] = json!(metadata);
    }
    if let Some(rule_set) = &stored.contract.rule_set {
        answer["rule_set"] = json!(rule_set);
    }
    Ok(Sr(SchemaAnswer::of(&stored, answer)?))
}

#[derive(Debug, Deserialize)]
struct DiffBody {
    schema_type: Option<String>,
    old: Option<Box<serde_json::value::RawValue>>,
    new: Option<Box<serde_json::value::RawValue>>,
    subject: Option<String>,
    from: Option<Value>,
    to: Option<Value>,
}

/// A schema in a body: a JSON value (kept as written) or the schema text as a string.
fn schema_text(raw: &serde_json::value::RawValue) -> ApiResult<String> {
    let raw = raw.get();
    match raw.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(raw).map_err(|e| ApiError::bad_request(e.to_string())),
        Some(b'n') => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, 42201, "Empty schema")),
        _ => Ok(raw.to_string()),
    }
}

/// `POST /api/v1/compatibility/diff`: `{"schema_type","old","new"}` or `{"subject","from","to"}` (a number,
/// `latest` or a semver each): every difference with its kind, path, old and new value and the directions it
/// breaks, and the semver bump it implies.
async fn diff(State(state): State<SharedState>, JsonBody(body): JsonBody<DiffBody>) -> ApiResult<Sr<Value>> {
    let found = match (&body.subject, &body.schema_type, &body.old, &body.new) {
        (Some(name), None, None, None) => {
            let subject = crate::confluent::request_subject(name)?;
            let side = |value: &Option<Value>, name: &str| -> ApiResult<VersionSelector> {
                match value {
                    Some(Value::Number(n)) => select(&state, &subject, &n.to_string()),
                    Some(Value::String(text)) => select(&state, &subject, text),
                    _ => {
                        Err(ApiError::unprocessable(format!("`{name}` names a version: a number, latest or a semver")))
                    }
                }
            };
            let (from, to) = (side(&body.from, "from")?, side(&body.to, "to")?);
            on_pool(&state.registry, move |r| r.diff_versions(&subject, from, to)).await?
        }
        (None, Some(schema_type), Some(old), Some(new)) => {
            let schema_type: SchemaType = schema_type.parse()?;
            let old = UnparsedSchema::new(schema_type, schema_text(old)?);
            let new = UnparsedSchema::new(schema_type, schema_text(new)?);
            on_pool(&state.registry, move |r| r.diff(&old, &new)).await?
        }
        _ => {
            return Err(ApiError::unprocessable(
                "send {\"schema_type\", \"old\", \"new\"} (two schemas) or {\"subject\", \"from\", \"to\"} (two versions)",
            ));
        }
    };
    Ok(Sr(json!({"differences": found.differences, "bump": found.bump})))
}

async fn check(State(state): State<SharedState>, JsonBody(body): JsonBody<SchemaBody>) -> ApiResult<Sr<Value>> {
    let (subject, schema) = body.unparsed()?;
    let level: Option<CompatibilityLevel> = body.level.as_deref().map(str::parse).transpose()?;
    let transitive = match level {
        Some(level) => level.is_transitive(),
        None => state.registry.effective_config(&subject)?.is_transitive(),
    };
    let light = !transitive && is_light(&state.registry, &schema, None)?;
    let report = inline_or_blocking(&state.registry, light, move |r| match level {
        Some(level) => r.check_compatibility_at(&subject, &schema, level),
        None => r.check_compatibility(&subject, &schema, None),
    })
    .await;
    metrics::record_compatibility(report.as_ref());
    Ok(Sr(check_answer(&report?)))
}

/// The answer of `POST /api/v1/compatibility/check`: the verdict, the level and each violation located.
/// `schema-registry compat --json` answers the same (`offline.rs`).
pub(crate) fn check_answer(report: &CompatReport) -> Value {
    let mut answer = json!({
        "compatible": report.is_compatible(),
        "level": report.level.as_str(),
        "violations": report.violations.iter().map(|v| json!({
            "version": v.version.get(),
            "direction": v.direction,
            "kind": v.violation.kind.as_str(),
            "path": v.violation.path,
            "message": v.violation.message,
        })).collect::<Vec<_>>(),
    });
    if !report.reserved.is_empty() {
        answer["reserved"] = report
            .reserved
            .iter()
            .map(|v| json!({"kind": v.kind.as_str(), "message": v.message}))
            .collect::<Vec<_>>()
            .into();
    }
    answer
}

async fn versions(State(state): State<SharedState>, Path(name): Path<String>) -> ApiResult<Sr<Value>> {
    let subject = crate::confluent::request_subject(&name)?;
    let list = state.registry.version_list(&subject, Deleted::Include)?;
    Ok(Sr(json!(
        list.iter()
            .map(|v| Ok(json!({"version": v.version.get(), "semver": v.semver.to_string(), "id": state.registry.public_id(v.id)?.0, "deleted": v.deleted, "state": v.state.as_str(), "registered": v.registered_rfc3339()})))
            .collect::<ApiResult<Vec<_>>>()?
    )))
}

/// `GET /api/v1/subjects/{subject}/versions/{version}`: one version by number, `latest` or semantic version
/// (`1.2.0`): its number, semver, id, state and schema.
async fn version(
    State(state): State<SharedState>,
    Path((name, version)): Path<(String, String)>,
) -> ApiResult<Sr<SchemaAnswer>> {
    let subject = crate::confluent::request_subject(&name)?;
    let found = if version.contains('.') {
        let semver: SemVer = version.parse()?;
        state.registry.version_by_semver(&subject, semver, Deleted::Exclude)?
    } else {
        state.registry.version(&subject, crate::confluent::version(&version)?, Deleted::Exclude)?
    };
    version_answer(&state, &found)
}

/// One version as `/api/v1` answers it: its number, semver, id, state and schema.
fn version_answer(state: &AppState, found: &registry_store::SchemaVersion) -> ApiResult<Sr<SchemaAnswer>> {
    let stored = &found.schema;
    let rest = json!({
        "subject": found.subject.as_str(),
        "version": found.version.get(),
        "semver": found.semver.to_string(),
        "id": state.registry.public_id(stored.id)?.0,
        "schema_type": lower(stored.schema_type),
        "deleted": found.deleted,
        "state": found.state.as_str(),
    });
    Ok(Sr(SchemaAnswer::of(stored, rest)?))
}

#[derive(Debug, Deserialize)]
struct StateBody {
    state: String,
}

/// `PUT /api/v1/subjects/{subject}/versions/{version}/state`: moves a version through its lifecycle and answers
/// it as it is after; a move the state does not allow names the ones it does.
async fn set_state(
    State(state): State<SharedState>,
    Path((name, version)): Path<(String, String)>,
    JsonBody(body): JsonBody<StateBody>,
) -> ApiResult<Sr<SchemaAnswer>> {
    let subject = crate::confluent::request_subject(&name)?;
    let selector = select(&state, &subject, &version)?;
    let to: VersionState = body.state.parse()?;
    let found = on_pool(&state.registry, move |r| r.set_state(&subject, selector, to)).await?;
    version_answer(&state, &found)
}

/// A version path segment: a number, `latest`, or a semantic version (the newest version that has it).
fn select(state: &AppState, subject: &Subject, version: &str) -> ApiResult<VersionSelector> {
    if version.contains('.') {
        let semver: SemVer = version.parse()?;
        return Ok(VersionSelector::Number(
            state.registry.version_by_semver(subject, semver, Deleted::Include)?.version,
        ));
    }
    crate::confluent::version(version)
}

/// A number from a query parameter: `default` when absent or empty, 400 naming the parameter when not a number.
fn number<T: std::str::FromStr>(value: &Option<String>, name: &str, default: T) -> ApiResult<T> {
    match value.as_deref() {
        None | Some("") => Ok(default),
        Some(text) => text.parse().map_err(|_| ApiError::bad_request(format!("invalid {name} '{text}': use a number"))),
    }
}

#[derive(Debug, Deserialize)]
struct SubjectsParams {
    prefix: Option<String>,
    schema_type: Option<String>,
    deleted: Option<String>,
    offset: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v1/subjects?prefix=&schema_type=&deleted=&offset=&limit=`: subjects by name, a page at a time (`limit`
/// 50 by default, 500 at most), each with its newest version; `total` counts them all.
async fn subjects(
    State(state): State<SharedState>,
    crate::extract::Query(params): crate::extract::Query<SubjectsParams>,
) -> ApiResult<Sr<Value>> {
    let query = registry_store::BrowseQuery {
        prefix: params.prefix.unwrap_or_default(),
        schema_type: params.schema_type.as_deref().filter(|t| !t.is_empty()).map(str::parse).transpose()?,
        deleted: crate::extract::flag(&params.deleted)?,
        offset: number(&params.offset, "offset", 0)?,
        limit: number(&params.limit, "limit", 50)?,
    };
    let (offset, limit) = (query.offset, query.limit.clamp(1, registry_store::MAX_BROWSE_PAGE));
    let page = on_pool(&state.registry, move |r| r.browse(&query)).await?;
    let subjects: Vec<Value> = page
        .subjects
        .iter()
        .map(|s| {
            json!({
                "subject": s.subject.as_str(),
                "schema_type": lower(s.schema_type),
                "versions": s.versions,
                "latest": {"version": s.latest.get(), "semver": s.semver.to_string(), "id": s.id.0, "state": s.state.as_str()},
                "deleted": s.deleted,
            })
        })
        .collect();
    Ok(Sr(json!({"total": page.total, "offset": offset, "limit": limit, "subjects": subjects})))
}

/// `GET /api/v1/whoami`: whether auth is on, and the caller's role and key name (with auth off, everyone may do
/// everything): what a client such as the console shows or hides.
async fn whoami(State(state): State<SharedState>, caller: Option<axum::Extension<crate::mcp::Caller>>) -> Sr<Value> {
    match (&state.auth, caller) {
        (None, _) => Sr(json!({"auth": false, "role": "admin", "name": null})),
        (Some(_), Some(axum::Extension(caller))) => {
            Sr(json!({"auth": true, "role": caller.role.as_str(), "name": &*caller.name}))
        }
        // Reached only through a route that needs no key: none does this one, so this is a key's absence.
        (Some(_), None) => Sr(json!({"auth": true, "role": null, "name": null})),
    }
}

#[derive(Debug, Deserialize)]
struct SearchParams {
    q: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    schema_type: Option<String>,
    state: Option<String>,
}

/// `GET /api/v1/search?q=&limit=&offset=&schema_type=&state=`: subjects found by their names and by the names and
/// documentation of their schemas, best first (`limit` 20 by default, 100 at most); `total` counts them all.
async fn search(
    State(state): State<SharedState>,
    crate::extract::Query(params): crate::extract::Query<SearchParams>,
) -> ApiResult<Sr<Value>> {
    let text = params.q.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("q is required: the text to search for"));
    }
    let query = registry_store::SearchQuery {
        text,
        schema_type: params.schema_type.as_deref().map(str::parse).transpose()?,
        state: params.state.as_deref().map(str::parse).transpose()?,
        offset: number(&params.offset, "offset", 0)?,
        limit: number(&params.limit, "limit", 20)?,
    };
    let found = on_pool(&state.registry, move |r| r.search(&query)).await?;
    let results: Vec<Value> = found
        .hits
        .iter()
        .map(|hit| {
            json!({
                "subject": hit.subject.as_str(),
                "version": hit.version.get(),
                "id": hit.id.0,
                "schema_type": lower(hit.schema_type),
                "state": hit.state.as_str(),
                "score": hit.score,
                "matches": hit.matches.iter().map(|m| json!({"kind": m.kind, "path": m.path, "text": m.text})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Sr(json!({"results": results, "total": found.total})))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    since: Option<String>,
    limit: Option<String>,
    subject: Option<String>,
}

/// `GET /api/v1/audit?since=&limit=&subject=`: a page of the audit log from entry `since` (1 by default), at most
/// `limit` entries (100 by default, 1000 at most), those about `subject` alone if given; `next` is where the next
/// page starts, `null` at the end.
async fn audit(
    State(state): State<SharedState>,
    crate::extract::Query(query): crate::extract::Query<AuditQuery>,
) -> ApiResult<Sr<AuditAnswer>> {
    let since = number(&query.since, "since", 1)?;
    let limit = number(&query.limit, "limit", 100)?;
    let subject = query.subject.as_deref().map(crate::confluent::request_subject).transpose()?;
    let page = on_pool(&state.registry, move |r| r.audit(since, limit, subject.as_ref())).await?;
    Ok(Sr(AuditAnswer { entries: page.entries, next: page.next }))
}

/// `GET /api/v1/audit`'s answer: each entry's fields in their order (seq, time, actor, action, subject, version,
/// id, detail, prev_hash, hash).
#[derive(Serialize)]
struct AuditAnswer {
    entries: Vec<registry_store::AuditEntry>,
    next: Option<u64>,
}

/// `GET /api/v1/namespaces`: the namespaces of subjects named `namespace.name`, with their subject counts.
async fn namespaces(State(state): State<SharedState>) -> ApiResult<Sr<Value>> {
    let namespaces = state.registry.namespaces(Deleted::Exclude)?;
    let listed = namespaces.iter().map(|(namespace, subjects)| json!({"namespace": namespace, "subjects": subjects}));
    Ok(Sr(Value::Array(listed.collect())))
}

/// `GET /api/v1/namespaces/{namespace}/subjects`: the subjects of one namespace.
async fn namespace_subjects(State(state): State<SharedState>, Path(namespace): Path<String>) -> ApiResult<Sr<Value>> {
    let subjects = state.registry.subjects_in_namespace(&namespace, Deleted::Exclude)?;
    Ok(Sr(json!(subjects.iter().map(|s| s.as_str()).collect::<Vec<_>>())))
}

/// `POST /api/v1/validate/...`: one document (`data`), a batch (`items`) or an Avro binary datum
/// (`data_base64`), with the Protobuf `message` to check against.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidateBody {
    /// `null` is a document, so a present `null` is kept apart from an absent field.
    #[serde(default, deserialize_with = "present")]
    data: Option<Value>,
    items: Option<Vec<Value>>,
    data_base64: Option<String>,
    message: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// What a validation request asks for, once its body is checked.
enum ValidateInput {
    One(Value),
    Batch(Vec<Value>),
    Binary(Vec<u8>),
}

impl ValidateBody {
    fn input(self) -> ApiResult<(ValidateInput, ValidateOptions)> {
        let options = ValidateOptions { message: self.message, ..ValidateOptions::default() };
        let input = match (self.data, self.items, self.data_base64) {
            (Some(data), None, None) => ValidateInput::One(data),
            (None, Some(items), None) => ValidateInput::Batch(items),
            (None, None, Some(encoded)) => {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|e| ApiError::unprocessable(format!("data_base64 is not valid base64: {e}")))?;
                ValidateInput::Binary(bytes)
            }
            _ => {
                return Err(ApiError::unprocessable(
                    "give exactly one of 'data' (a document), 'items' (a batch) or 'data_base64' (an Avro binary datum)",
                ));
            }
        };
        Ok((input, options))
    }
}

async fn validate_by_id(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    JsonBody(body): JsonBody<ValidateBody>,
) -> ApiResult<Sr<Value>> {
    let id = default_id(&state, &id)?;
    validate_against(&state, id, body, is_small(&headers)).await
}

/// The largest body whose document is checked on the async worker, when its validator is compiled already.
pub(crate) const INLINE_VALIDATE_BYTES: u64 = 16 << 10;

/// The answer to `POST /api/v1/validate/{id}` with `body` when it holds one document (`data`) and `id`'s validator
/// is compiled already: what the route answers, without routing the request (`front.rs`). `None` for anything
/// else (a batch, a body that does not parse, an unknown id, a validator to compile), which the route answers.
pub(crate) fn answer_compiled(state: &AppState, id: &str, body: &[u8]) -> Option<Response> {
    let id = default_id(state, id).ok()?;
    let (ValidateInput::One(data), options) = parse_json::<ValidateBody>(body).ok()?.input().ok()? else {
        return None;
    };
    let report = check_compiled(state, id, &data, &options)?;
    Some(Sr(report_json(&report)).into_response())
}

/// `data` checked against `id`'s validator if it is compiled already, counted: a small document takes
/// microseconds, so it is checked on the async worker, without the hop to the blocking pool (which costs more
/// than the check).
fn check_compiled(state: &AppState, id: SchemaId, data: &Value, options: &ValidateOptions) -> Option<ValidationReport> {
    let report = state.registry.compiled_validator(id, options)?.validate(data);
    metrics::record_outcome("validations", if report.valid { "valid" } else { "invalid" });
    Some(report)
}

/// Whether the request declares a body of at most [`INLINE_VALIDATE_BYTES`] (one sent in chunks of unknown
/// length is not small).
fn is_small(headers: &axum::http::HeaderMap) -> bool {
    let length = headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    length.is_some_and(|length| length <= INLINE_VALIDATE_BYTES)
}

async fn validate_by_version(
    State(state): State<SharedState>,
    Path((name, version)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    JsonBody(body): JsonBody<ValidateBody>,
) -> ApiResult<Sr<Value>> {
    let subject = crate::confluent::request_subject(&name)?;
    let selector = select(&state, &subject, &version)?;
    let id = state.registry.version(&subject, selector, Deleted::Exclude)?.schema.id;
    validate_against(&state, id, body, is_small(&headers)).await
}

/// `small`: the request's body is declared at most [`INLINE_VALIDATE_BYTES`].
async fn validate_against(state: &AppState, id: SchemaId, body: ValidateBody, small: bool) -> ApiResult<Sr<Value>> {
    let (input, options) = body.input()?;
    if let ValidateInput::Batch(items) = &input
        && items.len() > state.max_validate_items
    {
        return Err(ApiError::unprocessable(format!(
            "a validation batch holds at most {} items (--max-validate-items); this one holds {}: split it",
            state.max_validate_items,
            items.len()
        )));
    }
    let batch = matches!(input, ValidateInput::Batch(_));
    // Anything but a small document against a compiled validator may take long: on the pool.
    if let ValidateInput::One(data) = &input
        && small
        && let Some(report) = check_compiled(state, id, data, &options)
    {
        return Ok(Sr(report_json(&report)));
    }
    let result = on_pool(&state.registry, move |r| match input {
        ValidateInput::One(data) => Ok(vec![r.validate_with(id, &data, &options)?]),
        ValidateInput::Batch(items) => r.validate_batch_with(id, &items, &options),
        ValidateInput::Binary(bytes) => Ok(vec![r.validate_avro_binary(id, &bytes, &options)?]),
    })
    .await;
    let reports = match result {
        Ok(reports) => reports,
        Err(e) => {
            metrics::record_outcome("validations", "error");
            return Err(e);
        }
    };
    for report in &reports {
        metrics::record_outcome("validations", if report.valid { "valid" } else { "invalid" });
    }
    let answers: Vec<Value> = reports.iter().map(report_json).collect();
    if batch {
        return Ok(Sr(json!({ "results": answers })));
    }
    Ok(Sr(answers.into_iter().next().unwrap_or_else(|| json!({"valid": true, "errors": []}))))
}

/// One document's validation answer: `valid` and each error with its JSON pointer into the data.
/// `schema-registry validate --json` answers the same per file (`offline.rs`).
pub(crate) fn report_json(report: &ValidationReport) -> Value {
    json!({
        "valid": report.valid,
        "errors": report.errors.iter().map(|e| json!({"path": e.path, "message": e.message})).collect::<Vec<_>>(),
    })
}
