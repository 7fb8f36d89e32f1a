//! The registry as a Model Context Protocol server: tools an assistant calls to find, read, check, compare and
//! validate schemas (and, where the server allows it, to register them), over streamable HTTP at `/mcp` (behind
//! the same auth as the REST APIs) and over stdio (`schema-registry mcp`).
//!
//! Argument names follow the REST APIs (`subject`, `version`, `id`, `schema`, `schema_type`, `level`, `data`,
//! `items`, `query`, `limit`, `cursor`). Every tool answers structured content with an output schema; a failure is
//! a tool error (`isError`) whose text says what was wrong and what to send instead, with the registry's error code.

use std::sync::Arc;

use registry_core::compat::CompatibilityLevel;
use registry_core::{SchemaId, SchemaType, Subject, UnparsedSchema, VersionSelector};
use registry_store::{Deleted, RegisterOptions, Registry, SearchQuery, SemVer, VersionState};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{Extensions, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Role;
use crate::error::ApiError;

/// The streamable HTTP service at `/mcp`: stateless, answering each call as JSON. Behind auth (keys protect it)
/// it takes any `Host`; without auth, only loopback ones (a browser page cannot reach it through DNS rebinding).
pub(crate) fn http_service(
    state: &crate::AppState,
) -> rmcp::transport::streamable_http_server::StreamableHttpService<
    RegistryTools,
    rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
> {
    use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
    let (registry, writes, auth) = (state.registry.clone(), state.mcp_writes, state.auth.is_some());
    let max_items = state.max_validate_items;
    let mut config = StreamableHttpServerConfig::default().with_legacy_session_mode(false).with_json_response(true);
    if auth {
        config = config.disable_allowed_hosts();
    }
    StreamableHttpService::new(
        move || Ok(RegistryTools::new(registry.clone(), writes, auth).with_max_items(max_items)),
        Default::default(),
        config,
    )
}

/// `/mcp`, with the transport's own refusals (a wrong `Host`, content type or method) answered as every error of
/// the server is: a JSON body with the status as its code.
pub(crate) fn routes(state: &crate::AppState) -> axum::Router<crate::SharedState> {
    axum::Router::new().nest_service("/mcp", http_service(state)).layer(axum::middleware::map_response(json_errors))
}

async fn json_errors(response: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status = response.status();
    let json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|t| t.to_str().is_ok_and(|t| t.starts_with("application/json")));
    if !(status.is_client_error() || status.is_server_error()) || json {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 << 10).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&body).trim().to_string();
    let message = if message.is_empty() { status.to_string() } else { message };
    ApiError::new(status, u32::from(status.as_u16()), message).into_response()
}

/// Who a request over `/mcp` comes from, as the auth layer found it: what writes over MCP are checked against.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    /// The key's role.
    pub role: Role,
    /// The key's name, for the audit log.
    pub name: Arc<str>,
}

/// The tools, over one registry.
#[derive(Clone)]
pub struct RegistryTools {
    registry: Registry,
    /// Whether `register_schema` and `set_compatibility` may write (off unless the server is started so).
    writes: bool,
    /// Whether callers are known by key (auth on): a write then needs a writer's key, an admin's for the global
    /// level.
    auth: bool,
    /// Most documents one `validate_data` call may hold, as for the REST APIs.
    max_items: usize,
    tool_router: ToolRouter<Self>,
}

const PAGE: usize = 100;

// ----- arguments -----

/// `list_subjects`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListSubjectsArgs {
    /// Only subjects whose name starts with this.
    pub prefix: Option<String>,
    /// Most subjects to answer (100 by default and at most).
    pub limit: Option<usize>,
    /// Where to go on from: the `next_cursor` of the previous answer.
    pub cursor: Option<String>,
}

/// `search_schemas`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// What to look for: a subject name, a record, message, field or property name, or words of documentation.
    pub query: String,
    /// Only schemas of this format: AVRO, JSON or PROTOBUF.
    pub schema_type: Option<String>,
    /// Only versions in this lifecycle state (DRAFT, ACTIVE, DEPRECATED, ARCHIVED); current ones by default.
    pub state: Option<String>,
    /// Most results to answer (20 by default, 100 at most).
    pub limit: Option<usize>,
    /// Where to go on from: the `next_cursor` of the previous answer.
    pub cursor: Option<String>,
}

/// `get_schema`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GetSchemaArgs {
    /// A schema id (of the default context). Give either `id`, or `subject` with `version`.
    pub id: Option<u32>,
    /// A subject.
    pub subject: Option<String>,
    /// Its version: a number, `latest` (the default) or a semantic version such as `1.2.0`.
    pub version: Option<Value>,
}

/// `get_versions`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SubjectArgs {
    /// The subject.
    pub subject: String,
}

/// `check_compatibility` and `explain_violation`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CandidateArgs {
    /// The subject whose versions the candidate is checked against.
    pub subject: String,
    /// The candidate schema: its text, or (Avro, JSON Schema) the schema as a JSON value.
    pub schema: Value,
    /// AVRO (the default), JSON or PROTOBUF.
    pub schema_type: Option<String>,
    /// A compatibility level to check at instead of the subject's: BACKWARD, FORWARD, FULL, their _TRANSITIVE
    /// forms, or NONE.
    pub level: Option<String>,
}

/// `diff_schemas`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct DiffArgs {
    /// Two schemas: their format (AVRO, JSON or PROTOBUF)...
    pub schema_type: Option<String>,
    /// ...the old one (text or JSON value)...
    pub old: Option<Value>,
    /// ...and the new one. Or two versions of a subject: `subject`, `from` and `to`.
    pub new: Option<Value>,
    /// The subject whose versions are compared.
    pub subject: Option<String>,
    /// The old version: a number, `latest` or a semantic version.
    pub from: Option<Value>,
    /// The new version: a number, `latest` or a semantic version.
    pub to: Option<Value>,
}

/// `validate_data`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ValidateArgs {
    /// The schema id to validate against. Give either `id`, or `subject` (with `version`, `latest` by default).
    pub id: Option<u32>,
    /// A subject.
    pub subject: Option<String>,
    /// Its version: a number, `latest` or a semantic version.
    pub version: Option<Value>,
    /// One document (as JSON).
    pub data: Option<Value>,
    /// Several documents: one report each.
    pub items: Option<Vec<Value>>,
}

/// `register_schema`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RegisterArgs {
    /// The subject to register under.
    pub subject: String,
    /// The schema: its text, or (Avro, JSON Schema) the schema as a JSON value.
    pub schema: Value,
    /// AVRO (the default), JSON or PROTOBUF.
    pub schema_type: Option<String>,
    /// Only check that it would register (compatibility included), and write nothing.
    pub dry_run: Option<bool>,
}

/// `set_compatibility`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SetCompatibilityArgs {
    /// The subject; without one, the registry-wide level.
    pub subject: Option<String>,
    /// BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE or NONE.
    pub level: String,
    /// Only check that it would be set, and write nothing.
    pub dry_run: Option<bool>,
}

// ----- answers -----

/// A page of subject names.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SubjectsAnswer {
    /// The subjects.
    pub subjects: Vec<String>,
    /// Pass as `cursor` for the next page; absent at the end.
    pub next_cursor: Option<String>,
}

/// One search result.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SearchResult {
    /// The subject.
    pub subject: String,
    /// Its newest version that matched.
    pub version: u32,
    /// That version's schema id.
    pub id: u32,
    /// Its format.
    pub schema_type: String,
    /// Its lifecycle state.
    pub state: String,
    /// How well it matched: 100 a name equal to the query, 50 a name starting with it, 20 a name holding it, 10
    /// documentation holding it.
    pub score: u32,
    /// Where it matched: (`subject`, `name` or `doc`, where in the schema, the text).
    pub matches: Vec<(String, Option<String>, String)>,
}

/// Search results.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SearchAnswer {
    /// The results, best first.
    pub results: Vec<SearchResult>,
    /// How many there are in all.
    pub total: usize,
    /// Pass as `cursor` for the next page; absent at the end.
    pub next_cursor: Option<String>,
}

/// A schema.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SchemaAnswer {
    /// Its id.
    pub id: u32,
    /// The subject asked for, if one was.
    pub subject: Option<String>,
    /// The version asked for, if one was.
    pub version: Option<u32>,
    /// Its semantic version, if a version was asked for.
    pub semver: Option<String>,
    /// Its lifecycle state, if a version was asked for.
    pub state: Option<String>,
    /// AVRO, JSON or PROTOBUF.
    pub schema_type: String,
    /// The schema's text.
    pub schema: String,
    /// The schemas it references: (name, subject, version).
    pub references: Vec<(String, String, u32)>,
}

/// One version of a subject.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct VersionEntry {
    /// Its number.
    pub version: u32,
    /// Its semantic version.
    pub semver: String,
    /// Its schema id.
    pub id: u32,
    /// Its lifecycle state.
    pub state: String,
}

/// A subject's versions.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct VersionsAnswer {
    /// The subject.
    pub subject: String,
    /// Its versions, oldest first (archived ones included).
    pub versions: Vec<VersionEntry>,
}

/// One compatibility violation.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ViolationEntry {
    /// The version it is against.
    pub version: u32,
    /// BACKWARD (the candidate cannot read that version's data) or FORWARD (that version cannot read the
    /// candidate's).
    pub direction: String,
    /// What kind of change (e.g. READER_FIELD_MISSING_DEFAULT_VALUE).
    pub kind: String,
    /// Where in the schema.
    pub path: String,
    /// What is wrong, in a sentence.
    pub message: String,
    /// A change to the candidate that would remove this violation (`explain_violation` only).
    pub fix: Option<String>,
}

/// A compatibility verdict.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CompatibilityAnswer {
    /// Whether the candidate may be registered at the level.
    pub compatible: bool,
    /// The level checked at.
    pub level: String,
    /// Every violation against an earlier version.
    pub violations: Vec<ViolationEntry>,
    /// What the candidate does against reserved fields (`confluent:reserved`, with the subject's `validateFields`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reserved: Vec<String>,
}

/// One difference between two schemas.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DifferenceEntry {
    /// What changed (FIELD_ADDED, TYPE_CHANGED, DOC_CHANGED...).
    pub kind: String,
    /// Where.
    pub path: String,
    /// The old value.
    pub old: Option<Value>,
    /// The new value.
    pub new: Option<Value>,
    /// Whether the new schema cannot read the old data because of it.
    pub breaks_backward: bool,
    /// Whether the old schema cannot read the new data because of it.
    pub breaks_forward: bool,
}

/// A diff.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DiffAnswer {
    /// Every difference.
    pub differences: Vec<DifferenceEntry>,
    /// The semantic version bump: none, patch, minor or major.
    pub bump: String,
}

/// One validation error.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ValidationErrorEntry {
    /// A JSON pointer into the document.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

/// One document's report.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ValidationReportEntry {
    /// Whether it is valid.
    pub valid: bool,
    /// Every error, at its path.
    pub errors: Vec<ValidationErrorEntry>,
}

/// Validation reports.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ValidateAnswer {
    /// The schema id validated against.
    pub id: u32,
    /// Whether every document is valid.
    pub valid: bool,
    /// One report per document, in order.
    pub reports: Vec<ValidationReportEntry>,
}

/// A registration.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RegisterAnswer {
    /// Whether it was only checked (`dry_run`).
    pub dry_run: bool,
    /// Its id (absent in a dry run of a new schema).
    pub id: Option<u32>,
    /// Its version (absent in a dry run of a new schema).
    pub version: Option<u32>,
    /// Its semantic version.
    pub semver: Option<String>,
    /// Whether the subject had it already (nothing was written).
    pub deduplicated: bool,
}

/// A level set.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct LevelAnswer {
    /// Whether it was only checked (`dry_run`).
    pub dry_run: bool,
    /// The subject, or absent for the registry-wide level.
    pub subject: Option<String>,
    /// The level.
    pub level: String,
}

// ----- the tools -----

#[tool_router]
impl RegistryTools {
    /// Tools over `registry`; `writes` lets `register_schema` and `set_compatibility` write; `auth` says callers
    /// are known by key (their roles then decide what they may write).
    pub fn new(registry: Registry, writes: bool, auth: bool) -> Self {
        let max_items = crate::DEFAULT_MAX_VALIDATE_ITEMS;
        Self { registry, writes, auth, max_items, tool_router: Self::tool_router() }
    }

    /// The same tools taking at most `max_items` documents per `validate_data` call.
    pub fn with_max_items(self, max_items: usize) -> Self {
        Self { max_items, ..self }
    }

    #[tool(description = "List the registry's subjects (the names schemas are registered under, e.g. \
                          `orders-value`), paged. Use `prefix` to narrow; pass `next_cursor` back as `cursor`.")]
    async fn list_subjects(
        &self,
        Parameters(args): Parameters<ListSubjectsArgs>,
    ) -> Result<Json<SubjectsAnswer>, String> {
        let (offset, limit) = (cursor(&args.cursor)?, args.limit.unwrap_or(PAGE).clamp(1, PAGE));
        let prefix = args.prefix.unwrap_or_default();
        let subjects = self.run(move |r| Ok(r.subjects(&prefix, Deleted::Exclude)?)).await?;
        let next = (subjects.len() > offset + limit).then(|| (offset + limit).to_string());
        let page = subjects.iter().skip(offset).take(limit).map(ToString::to_string).collect();
        Ok(Json(SubjectsAnswer { subjects: page, next_cursor: next }))
    }

    #[tool(description = "Find schemas by words: subject names, record/message/field/property names and \
                          documentation of Avro, JSON Schema and Protobuf schemas, best first. Each result names a \
                          subject, version and id to read with get_schema.")]
    async fn search_schemas(&self, Parameters(args): Parameters<SearchArgs>) -> Result<Json<SearchAnswer>, String> {
        if args.query.trim().is_empty() {
            return Err(invalid("`query` is empty: send the words to look for, e.g. `customer` or `order id`"));
        }
        let offset = cursor(&args.cursor)?;
        let limit = args.limit.unwrap_or(20).clamp(1, PAGE);
        let query = SearchQuery {
            text: args.query,
            schema_type: args.schema_type.as_deref().map(schema_type).transpose()?,
            state: args.state.as_deref().map(state).transpose()?,
            offset,
            limit,
        };
        let found = self.run(move |r| Ok(r.search(&query)?)).await?;
        let next = (found.total > offset + limit).then(|| (offset + limit).to_string());
        let results = found
            .hits
            .into_iter()
            .map(|hit| SearchResult {
                subject: hit.subject.to_string(),
                version: hit.version.get(),
                id: hit.id.0,
                schema_type: hit.schema_type.to_string(),
                state: hit.state.to_string(),
                score: hit.score,
                matches: hit.matches.into_iter().map(|m| (m.kind.to_string(), m.path, m.text)).collect(),
            })
            .collect();
        Ok(Json(SearchAnswer { results, total: found.total, next_cursor: next }))
    }

    #[tool(description = "Read a schema: by `id`, or by `subject` and `version` (a number, `latest` or a semver \
                          such as `1.2.0`; `latest` by default). Answers its text, format and references.")]
    async fn get_schema(&self, Parameters(args): Parameters<GetSchemaArgs>) -> Result<Json<SchemaAnswer>, String> {
        let answer = self
            .run(move |r| {
                let (stored, held) = match (&args.id, &args.subject) {
                    (Some(id), None) => {
                        let id = r
                            .resolve_id(*id, None)?
                            .ok_or(registry_store::RegistryError::SchemaNotFound(SchemaId(*id)))?;
                        (r.schema_by_id(id)?, None)
                    }
                    (None, Some(subject)) => {
                        let subject = Subject::qualified(subject).map_err(subject_error(subject))?;
                        let selector = select(r, &subject, args.version.as_ref())?;
                        let found = r.version(&subject, selector, Deleted::Exclude)?;
                        (found.schema.clone(), Some(found))
                    }
                    _ => return Err(usage("give either `id`, or `subject` (with `version`)")),
                };
                Ok(SchemaAnswer {
                    id: r.public_id(stored.id)?.0,
                    subject: held.as_ref().map(|v| v.subject.to_string()),
                    version: held.as_ref().map(|v| v.version.get()),
                    semver: held.as_ref().map(|v| v.semver.to_string()),
                    state: held.as_ref().map(|v| v.state.to_string()),
                    schema_type: stored.schema_type.to_string(),
                    schema: stored.text.clone(),
                    references: stored
                        .references
                        .iter()
                        .map(|r| (r.name.clone(), r.subject.to_string(), r.version.get()))
                        .collect(),
                })
            })
            .await?;
        Ok(Json(answer))
    }

    #[tool(description = "List a subject's versions: number, semantic version, schema id and lifecycle state.")]
    async fn get_versions(&self, Parameters(args): Parameters<SubjectArgs>) -> Result<Json<VersionsAnswer>, String> {
        let answer = self
            .run(move |r| {
                let subject = Subject::qualified(&args.subject).map_err(subject_error(&args.subject))?;
                let list = r.version_list(&subject, Deleted::Include)?;
                let versions = list
                    .iter()
                    .map(|v| {
                        Ok(VersionEntry {
                            version: v.version.get(),
                            semver: v.semver.to_string(),
                            id: r.public_id(v.id)?.0,
                            state: v.state.to_string(),
                        })
                    })
                    .collect::<Result<_, Failure>>()?;
                Ok(VersionsAnswer { subject: subject.to_string(), versions })
            })
            .await?;
        Ok(Json(answer))
    }

    #[tool(description = "Check whether a candidate schema may be registered under a subject: against its versions \
                          at the subject's compatibility level (or `level`). Every violation comes with its kind, \
                          the path in the schema and a sentence; explain_violation suggests fixes.")]
    async fn check_compatibility(
        &self,
        Parameters(args): Parameters<CandidateArgs>,
    ) -> Result<Json<CompatibilityAnswer>, String> {
        Ok(Json(self.compatibility(args, false).await?))
    }

    #[tool(description = "Like check_compatibility, and for each violation a change to the candidate that would \
                          remove it (add a default, keep a removed field optional, widen rather than narrow a type).")]
    async fn explain_violation(
        &self,
        Parameters(args): Parameters<CandidateArgs>,
    ) -> Result<Json<CompatibilityAnswer>, String> {
        Ok(Json(self.compatibility(args, true).await?))
    }

    #[tool(description = "What differs between two schemas (`schema_type`, `old`, `new`) or two versions of a \
                          subject (`subject`, `from`, `to`): each difference with its kind, path, old and new value \
                          and whether it breaks BACKWARD or FORWARD, and the semantic version bump it implies.")]
    async fn diff_schemas(&self, Parameters(args): Parameters<DiffArgs>) -> Result<Json<DiffAnswer>, String> {
        let found = self
            .run(move |r| match (&args.subject, &args.schema_type, &args.old, &args.new) {
                (Some(subject), None, None, None) => {
                    let subject = Subject::qualified(subject).map_err(subject_error(subject))?;
                    let (from, to) = (select(r, &subject, args.from.as_ref())?, select(r, &subject, args.to.as_ref())?);
                    Ok(r.diff_versions(&subject, from, to)?)
                }
                (None, Some(kind), Some(old), Some(new)) => {
                    let kind = kind.parse::<SchemaType>().map_err(|e| usage(&e.to_string()))?;
                    Ok(r.diff(&UnparsedSchema::new(kind, text(old)), &UnparsedSchema::new(kind, text(new)))?)
                }
                _ => Err(usage("give `schema_type`, `old` and `new` (two schemas), or `subject`, `from` and `to`")),
            })
            .await?;
        let differences = found
            .differences
            .into_iter()
            .map(|d| DifferenceEntry {
                kind: d.kind,
                path: d.path,
                old: d.old,
                new: d.new,
                breaks_backward: d.breaks_backward,
                breaks_forward: d.breaks_forward,
            })
            .collect();
        let bump =
            serde_json::to_value(found.bump).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        Ok(Json(DiffAnswer { differences, bump }))
    }

    #[tool(description = "Validate a document (`data`) or several (`items`) against a registered schema (by `id`, \
                          or `subject` and `version`): every error with the JSON pointer of where it is in the \
                          document, to repair it and try again.")]
    async fn validate_data(&self, Parameters(args): Parameters<ValidateArgs>) -> Result<Json<ValidateAnswer>, String> {
        let max_items = self.max_items;
        if args.items.as_ref().is_some_and(|items| items.len() > max_items) {
            return Err(format!("`items` holds more than {max_items} documents: send them in several calls"));
        }
        let answer = self
            .run(move |r| {
                let id = match (&args.id, &args.subject) {
                    (Some(id), None) => {
                        r.resolve_id(*id, None)?.ok_or(registry_store::RegistryError::SchemaNotFound(SchemaId(*id)))?
                    }
                    (None, Some(subject)) => {
                        let subject = Subject::qualified(subject).map_err(subject_error(subject))?;
                        let selector = select(r, &subject, args.version.as_ref())?;
                        r.version(&subject, selector, Deleted::Exclude)?.schema.id
                    }
                    _ => return Err(usage("give either `id`, or `subject` (with `version`)")),
                };
                let documents = match (args.data, args.items) {
                    (Some(data), None) => vec![data],
                    (None, Some(items)) if !items.is_empty() => items,
                    _ => return Err(usage("give either `data` (one document) or `items` (several)")),
                };
                let reports = r.validate_batch(id, &documents)?;
                let reports: Vec<ValidationReportEntry> = reports
                    .iter()
                    .map(|report| ValidationReportEntry {
                        valid: report.valid,
                        errors: report
                            .errors
                            .iter()
                            .map(|e| ValidationErrorEntry { path: e.path.clone(), message: e.message.clone() })
                            .collect(),
                    })
                    .collect();
                Ok(ValidateAnswer { id: r.public_id(id)?.0, valid: reports.iter().all(|r| r.valid), reports })
            })
            .await?;
        Ok(Json(answer))
    }

    #[tool(description = "Register a schema under a subject (checked for compatibility first), or with \
                          `dry_run` only check that it would register. Only where the server allows writes over MCP \
                          and the caller's key may register.")]
    async fn register_schema(
        &self,
        Parameters(args): Parameters<RegisterArgs>,
        extensions: Extensions,
    ) -> Result<Json<RegisterAnswer>, String> {
        let dry_run = args.dry_run.unwrap_or(false);
        let actor = self.may_write(&extensions, Role::Writer, dry_run)?;
        let kind = args.schema_type.as_deref().map(schema_type).transpose()?.unwrap_or(SchemaType::Avro);
        let schema = UnparsedSchema::new(kind, text(&args.schema));
        let answer = self
            .run(move |r| {
                let subject = Subject::qualified(&args.subject).map_err(subject_error(&args.subject))?;
                if dry_run {
                    // What a registration would answer: an existing version, or the check it must pass.
                    if let Ok(found) = r.lookup(&subject, &schema, Deleted::Exclude) {
                        return Ok(RegisterAnswer {
                            dry_run,
                            id: Some(r.public_id(found.schema.id)?.0),
                            version: Some(found.version.get()),
                            semver: Some(found.semver.to_string()),
                            deduplicated: true,
                        });
                    }
                    let report = r.check_compatibility(&subject, &schema, None)?;
                    if !report.is_compatible() {
                        return Err(registry_store::RegistryError::Incompatible { subject, report }.into());
                    }
                    return Ok(RegisterAnswer { dry_run, id: None, version: None, semver: None, deduplicated: false });
                }
                let registered =
                    r.acting_as(actor.as_deref()).register_with(&subject, &schema, RegisterOptions::default())?;
                Ok(RegisterAnswer {
                    dry_run,
                    id: Some(r.public_id(registered.id)?.0),
                    version: Some(registered.version.get()),
                    semver: Some(registered.semver.to_string()),
                    deduplicated: registered.deduplicated,
                })
            })
            .await?;
        Ok(Json(answer))
    }

    #[tool(description = "Set a subject's compatibility level (or the registry-wide one without `subject`), or with \
                          `dry_run` only check the level is valid. Only where the server allows writes over MCP and \
                          the caller's key may (a writer's for a subject, an admin's registry-wide).")]
    async fn set_compatibility(
        &self,
        Parameters(args): Parameters<SetCompatibilityArgs>,
        extensions: Extensions,
    ) -> Result<Json<LevelAnswer>, String> {
        let dry_run = args.dry_run.unwrap_or(false);
        let needed = if args.subject.is_some() { Role::Writer } else { Role::Admin };
        let actor = self.may_write(&extensions, needed, dry_run)?;
        let level: CompatibilityLevel = args.level.parse().map_err(|e: registry_core::compat::InvalidLevel| {
            invalid(&format!(
                "{e}: use BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE or NONE"
            ))
        })?;
        let subject = args.subject.clone();
        self.run(move |r| {
            let subject = subject.as_deref().map(|s| Subject::qualified(s).map_err(subject_error(s))).transpose()?;
            let scope = subject.as_ref().map_or(registry_store::Scope::Global, registry_store::Scope::Subject);
            if !dry_run {
                r.acting_as(actor.as_deref()).set_config(scope, level)?;
            }
            Ok(())
        })
        .await?;
        Ok(Json(LevelAnswer { dry_run, subject: args.subject, level: level.as_str().to_string() }))
    }
}

// Arguments that do not fit a tool's input schema (one missing, one of the wrong type) are answered by rmcp as a
// tool error naming them, as the tools' own failures are.
#[tool_handler(router = self.tool_router)]
impl ServerHandler for RegistryTools {
    /// Each subject's latest schema, `schema://{subject}/latest`, paged by `cursor`.
    async fn list_resources(
        &self,
        request: Option<rmcp::model::PaginatedRequestParams>,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, rmcp::ErrorData> {
        let cursor_text = request.and_then(|r| r.cursor);
        let offset = cursor(&cursor_text).map_err(|e| rmcp::ErrorData::invalid_params(e, None))?;
        let subjects = self
            .run(|r| Ok(r.subjects("", Deleted::Exclude)?))
            .await
            .map_err(|e| rmcp::ErrorData::internal_error(e, None))?;
        let resources = subjects
            .iter()
            .skip(offset)
            .take(PAGE)
            .map(|subject| {
                rmcp::model::Resource::new(resource_uri(subject.as_str(), "latest"), subject.to_string())
                    .with_description(format!("the latest schema of subject {subject}"))
            })
            .collect();
        let mut result = rmcp::model::ListResourcesResult::with_all_items(resources);
        result.next_cursor = (subjects.len() > offset + PAGE).then(|| (offset + PAGE).to_string());
        Ok(result)
    }

    /// Any version of a subject: `schema://{subject}/{version}` (a number, `latest` or a semver).
    async fn list_resource_templates(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, rmcp::ErrorData> {
        let template = rmcp::model::ResourceTemplate::new("schema://{subject}/{version}", "schema version")
            .with_description("one version of a subject: a number, `latest` or a semantic version such as 1.2.0");
        Ok(rmcp::model::ListResourceTemplatesResult::with_all_items(vec![template]))
    }

    /// The schema text of `schema://{subject}/{version}`.
    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, rmcp::ErrorData> {
        let uri = request.uri.clone();
        let Some((subject, version)) = uri.strip_prefix("schema://").and_then(|rest| rest.rsplit_once('/')) else {
            return Err(rmcp::ErrorData::invalid_params(
                format!("`{uri}` is not a schema resource: use schema://{{subject}}/{{version}}"),
                None,
            ));
        };
        // The subject is percent-encoded in the URI (a context's `:.ctx:` is not a host otherwise).
        let subject = percent_encoding::percent_decode_str(subject).decode_utf8_lossy().into_owned();
        let version = Value::String(percent_encoding::percent_decode_str(version).decode_utf8_lossy().into_owned());
        let found = self
            .run(move |r| {
                let subject = Subject::qualified(&subject).map_err(subject_error(&subject))?;
                let selector = select(r, &subject, Some(&version))?;
                Ok(r.version(&subject, selector, Deleted::Exclude)?)
            })
            .await
            .map_err(|e| rmcp::ErrorData::resource_not_found(e, None))?;
        let mime = if found.schema.schema_type == SchemaType::Protobuf { "text/plain" } else { "application/json" };
        let contents = rmcp::model::ResourceContents::text(found.schema.text.clone(), uri).with_mime_type(mime);
        Ok(rmcp::model::ReadResourceResult::new(vec![contents]).into())
    }

    async fn list_prompts(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListPromptsResult, rmcp::ErrorData> {
        use rmcp::model::{Prompt, PromptArgument};
        let argument =
            |name: &str, description: &str| PromptArgument::new(name).with_description(description).with_required(true);
        Ok(rmcp::model::ListPromptsResult::with_all_items(vec![
            Prompt::new(
                "evolve_schema",
                Some("Change a subject's schema as asked, keeping it compatible with its versions"),
                Some(vec![argument("subject", "the subject"), argument("change", "what to change, in words")]),
            ),
            Prompt::new(
                "make_output_valid",
                Some("Repair a JSON document until it is valid against a registered schema"),
                Some(vec![
                    argument("subject", "the subject whose latest schema it must fit"),
                    argument("output", "the document"),
                ]),
            ),
        ]))
    }

    async fn get_prompt(
        &self,
        request: rmcp::model::GetPromptRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::GetPromptResponse, rmcp::ErrorData> {
        use rmcp::model::{ContentBlock, GetPromptResult, PromptMessage, Role as Speaker};
        let arguments = request.arguments.unwrap_or_default();
        let argument = |name: &str| -> Result<String, rmcp::ErrorData> {
            match arguments.get(name) {
                Some(Value::String(text)) => Ok(text.clone()),
                Some(other) => Ok(other.to_string()),
                None => Err(rmcp::ErrorData::invalid_params(format!("the prompt needs `{name}`"), None)),
            }
        };
        let text = match request.name.as_str() {
            "evolve_schema" => format!(
                "Change the schema of subject `{subject}` as follows: {change}\n\n1. Read its latest version with                  get_schema (subject `{subject}`).\n2. Write the changed schema.\n3. Check it with                  check_compatibility; if it is refused, call explain_violation and apply each fix, then check again.\n\
                 4. Show diff_schemas between the latest version and the new schema, and the semantic version bump it                  implies. Register it only when asked (register_schema, dry_run first).",
                subject = argument("subject")?,
                change = argument("change")?,
            ),
            "make_output_valid" => format!(
                "This document must be valid against the latest schema of subject `{subject}`:\n\n{output}\n\n\
                 Call validate_data (subject `{subject}`, data: the document). For each error, change the document                  at the error's JSON pointer as its message says, and validate again until it is valid. Answer with                  the valid document only.",
                subject = argument("subject")?,
                output = argument("output")?,
            ),
            other => {
                return Err(rmcp::ErrorData::invalid_params(
                    format!("no prompt `{other}`: the prompts are evolve_schema and make_output_valid"),
                    None,
                ));
            }
        };
        Ok(GetPromptResult::new(vec![PromptMessage::new(Speaker::User, ContentBlock::text(text))]).into())
    }

    fn get_info(&self) -> ServerConfig {
        let me = rmcp::model::Implementation::new("schema-registry", env!("CARGO_PKG_VERSION"));
        let capabilities = ServerCapabilities::builder().enable_tools().enable_resources().enable_prompts().build();
        ServerConfig::new(capabilities).with_server_info(me).with_instructions(
            "A schema registry (Avro, JSON Schema, Protobuf; Confluent-compatible). Find schemas with search_schemas \
             or list_subjects, read them with get_schema and get_versions, check a change with check_compatibility \
             (explain_violation says how to fix it), compare with diff_schemas, and check data with validate_data \
             before producing it.",
        )
    }
}

impl RegistryTools {
    /// Runs `work` on the blocking pool (registry calls read the store), its errors as a model can act on them.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Registry) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, String> {
        let registry = self.registry.clone();
        match tokio::task::spawn_blocking(move || work(&registry)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(Failure::Registry(e))) => Err(error(ApiError::from(e))),
            Ok(Err(Failure::Usage(message))) => Err(message),
            Err(e) => Err(format!("the tool stopped: {e}")),
        }
    }

    async fn compatibility(&self, args: CandidateArgs, explain: bool) -> Result<CompatibilityAnswer, String> {
        let kind = args.schema_type.as_deref().map(schema_type).transpose()?.unwrap_or(SchemaType::Avro);
        let level = args.level.as_deref().map(|l| {
            l.parse::<CompatibilityLevel>()
                .map_err(|e| invalid(&format!("{e}: use BACKWARD, FORWARD, FULL (or _TRANSITIVE) or NONE")))
        });
        let level = level.transpose()?;
        let schema = UnparsedSchema::new(kind, text(&args.schema));
        let report = self
            .run(move |r| {
                let subject = Subject::qualified(&args.subject).map_err(subject_error(&args.subject))?;
                Ok(match level {
                    Some(level) => r.check_compatibility_at(&subject, &schema, level)?,
                    None => r.check_compatibility(&subject, &schema, None)?,
                })
            })
            .await?;
        let violations = report
            .violations
            .iter()
            .map(|v| ViolationEntry {
                version: v.version.get(),
                direction: format!("{:?}", v.direction).to_uppercase(),
                kind: v.violation.kind.to_string(),
                path: v.violation.path.clone(),
                message: v.violation.message.clone(),
                fix: explain.then(|| fix(v.violation.kind.as_str(), &format!("{:?}", v.direction))),
            })
            .collect();
        Ok(CompatibilityAnswer {
            compatible: report.is_compatible(),
            level: report.level.as_str().to_string(),
            violations,
            reserved: report.reserved.iter().map(ToString::to_string).collect(),
        })
    }

    /// Whether the caller may write with `needed`: writes over MCP are allowed on this server, and (with auth on)
    /// the caller's key has the role. A dry run only reads. Returns the caller's name, for the audit log.
    fn may_write(&self, extensions: &Extensions, needed: Role, dry_run: bool) -> Result<Option<Arc<str>>, String> {
        let caller =
            extensions.get::<axum::http::request::Parts>().and_then(|parts| parts.extensions.get::<Caller>()).cloned();
        if dry_run {
            return Ok(caller.map(|c| c.name));
        }
        if !self.writes {
            return Err(invalid(
                "this server does not take writes over MCP (start it with --mcp-writes to allow them): use dry_run \
                 to check, or register through the REST API",
            ));
        }
        match caller {
            Some(caller) if caller.role < needed => Err(invalid(&format!(
                "this key's role ({:?}) cannot do this; it needs {needed:?}: use dry_run to check, or a key with that role",
                caller.role
            ))),
            None if self.auth => Err(invalid("no key was presented: send one as the REST APIs take it")),
            caller => Ok(caller.map(|c| c.name)),
        }
    }
}

/// A registry error as a tool error (`isError`): its message, the registry's error code, and a hint of what to do.
fn error(e: ApiError) -> String {
    let hint = match e.code {
        40401 => Some("list_subjects or search_schemas names the subjects there are"),
        40402 => Some("get_versions names the subject's versions"),
        40403 => Some("search_schemas or get_versions gives the ids there are"),
        409 => Some("explain_violation suggests a change that would make the candidate compatible"),
        42201 => Some("the schema does not parse: check its syntax and `schema_type` (AVRO, JSON or PROTOBUF)"),
        _ => None,
    };
    match hint {
        Some(hint) => format!("{} (error {}; {hint})", e.message, e.code),
        None => format!("{} (error {})", e.message, e.code),
    }
}

fn invalid(message: &str) -> String {
    message.to_string()
}

/// What stopped a tool's work: the registry's refusal, or arguments that do not fit together.
enum Failure {
    Registry(registry_store::RegistryError),
    Usage(String),
}

impl From<registry_store::RegistryError> for Failure {
    fn from(e: registry_store::RegistryError) -> Self {
        Failure::Registry(e)
    }
}

/// Arguments that do not fit together.
fn usage(message: &str) -> Failure {
    Failure::Usage(message.to_string())
}

fn subject_error(name: &str) -> impl Fn(registry_core::SubjectError) -> Failure + '_ {
    move |reason| usage(&format!("invalid subject '{name}': {reason}"))
}

fn schema_type(name: &str) -> Result<SchemaType, String> {
    name.parse::<SchemaType>()
        .map_err(|_| invalid(&format!("unknown schema_type '{name}': use AVRO, JSON or PROTOBUF")))
}

fn state(name: &str) -> Result<VersionState, String> {
    name.parse::<VersionState>().map_err(|e| invalid(&e.to_string()))
}

/// A cursor: the offset the previous answer stopped at.
fn cursor(cursor: &Option<String>) -> Result<usize, String> {
    match cursor.as_deref() {
        None | Some("") => Ok(0),
        Some(text) => text.parse().map_err(|_| invalid("`cursor` is the `next_cursor` of a previous answer, as given")),
    }
}

/// What a subject name must have encoded to stand as the host of a `schema://` URI.
const URI_HOST: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The resource URI of a version of a subject: `schema://{subject}/{version}`, the subject percent-encoded.
fn resource_uri(subject: &str, version: &str) -> String {
    format!("schema://{}/{version}", percent_encoding::utf8_percent_encode(subject, URI_HOST))
}

/// A schema argument as text: a string as it is, a JSON value written out.
fn text(schema: &Value) -> String {
    match schema {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A version argument: a number, `latest` (also when absent) or a semantic version.
fn select(registry: &Registry, subject: &Subject, version: Option<&Value>) -> Result<VersionSelector, Failure> {
    let text = match version {
        None => return Ok(VersionSelector::Latest),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(usage("`version` is a number, `latest` or a semantic version such as `1.2.0`")),
    };
    if text.contains('.') {
        let semver: SemVer = text.parse().map_err(|_| usage(&format!("`{text}` is not a semantic version")))?;
        return Ok(VersionSelector::Number(registry.version_by_semver(subject, semver, Deleted::Include)?.version));
    }
    text.parse().map_err(|_| usage(&format!("`{text}` is not a version: use a number, `latest` or a semver")))
}

/// A change to the candidate that removes a violation of `kind` in `direction`.
fn fix(kind: &str, direction: &str) -> String {
    let backward = direction.eq_ignore_ascii_case("backward");
    match kind {
        "READER_FIELD_MISSING_DEFAULT_VALUE" => "give the new field a default, so data written without it can be read".into(),
        "READER_FIELD_MISSING" | "FIELD_REMOVED" if !backward => {
            "keep the field (or give it a default in the older version) so older readers still find it".into()
        }
        "TYPE_MISMATCH" | "TYPE_NARROWED" | "TYPE_CHANGED" => {
            "keep the field's type, or widen it (int to long, float to double, a type to a union holding it) rather than change it".into()
        }
        "MISSING_ENUM_SYMBOLS" | "MISSING_UNION_BRANCH" => {
            "keep every enum symbol and union branch the other version has, or give the enum a default symbol".into()
        }
        "REQUIRED_ATTRIBUTE_ADDED" | "REQUIRED_PROPERTY_ADDED" => {
            "make the new property optional (leave it out of `required`), or give it a default".into()
        }
        "NAME_MISMATCH" => "keep the record's name (or add the old one to its `aliases`)".into(),
        k if k.contains("OPEN_CONTENT_MODEL") => {
            "close the content model (`additionalProperties: false`) in both versions, or keep the property's schema as the open model allowed".into()
        }
        k if k.contains("REMOVED") => "keep what was removed, or make it optional first and remove it later".into(),
        k if k.contains("ADDED") => "make what was added optional, with a default".into(),
        _ => format!(
            "change the candidate so that {} can read {}'s data at this path",
            if backward { "it" } else { "the older version" },
            if backward { "the older version" } else { "the candidate" }
        ),
    }
}

// ----- the stdio relay to a running server -----

/// Relays the MCP messages read from stdin (one JSON-RPC message a line) to the `/mcp` of the server at `url`,
/// and writes its answers to stdout, a line each, until stdin ends: `schema-registry mcp --url`. `api_key` is
/// presented as `X-API-Key`; an `https://` server is trusted by the certificates in `ca`. The protocol version
/// the server answered `initialize` with goes with every later message, as the transport asks.
pub async fn relay(url: &str, api_key: Option<&str>, ca: Option<&std::path::Path>) -> Result<(), String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let credentials =
        api_key.map_or(crate::client::Credentials::None, |key| crate::client::Credentials::ApiKey(key.into()));
    let remote = crate::client::Remote::new(url, credentials, ca).map_err(|e| format!("--url: {e}"))?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    let mut version: Option<String> = None;
    while let Some(line) = lines.next_line().await.map_err(|e| format!("cannot read stdin: {e}"))? {
        if line.trim().is_empty() {
            continue;
        }
        let message: Value = match serde_json::from_str(&line) {
            Ok(message) => message,
            Err(e) => {
                let error = rpc_error(&Value::Null, -32700, &format!("not JSON: {e}"));
                stdout.write_all(format!("{error}\n").as_bytes()).await.map_err(|e| e.to_string())?;
                continue;
            }
        };
        let answers = match post(&remote, &line, version.as_deref()).await {
            Ok(answers) => answers,
            Err(e) => match message.get("id") {
                Some(id) => vec![rpc_error(id, -32000, &e).to_string()],
                None => Vec::new(),
            },
        };
        for answer in answers {
            if message.get("method").and_then(Value::as_str) == Some("initialize")
                && let Ok(parsed) = serde_json::from_str::<Value>(&answer)
                && let Some(agreed) = parsed.pointer("/result/protocolVersion").and_then(Value::as_str)
            {
                version = Some(agreed.to_string());
            }
            stdout.write_all(format!("{answer}\n").as_bytes()).await.map_err(|e| e.to_string())?;
        }
        stdout.flush().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn rpc_error(id: &Value, code: i64, message: &str) -> Value {
    serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// Posts one message to the server's `/mcp`; the answers: none for a notification (202), one JSON answer, or
/// each of an event stream's messages.
async fn post(remote: &crate::client::Remote, message: &str, version: Option<&str>) -> Result<Vec<String>, String> {
    let mut headers = vec![("content-type", "application/json"), ("accept", "application/json, text/event-stream")];
    if let Some(version) = version {
        headers.push(("mcp-protocol-version", version));
    }
    let body = axum::body::Bytes::from(message.to_string());
    let answer = remote.send(axum::http::Method::POST, "/mcp", Some(body), &headers).await?;
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    if !answer.is_success() {
        return Err(format!("the server answered {}: {}", answer.status, text.trim()));
    }
    if answer.content_type.as_deref().is_some_and(|t| t.starts_with("text/event-stream")) {
        let data = text.lines().filter_map(|line| line.strip_prefix("data:")).map(str::trim);
        return Ok(data.filter(|data| !data.is_empty()).map(str::to_string).collect());
    }
    Ok(if text.trim().is_empty() { Vec::new() } else { vec![text.trim().to_string()] })
}
