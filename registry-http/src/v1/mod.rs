//! The project's own API, `/api/v1`: one call per job and richer answers (fingerprints, semantic versions,
//! located violations). Every route maps onto one `Registry` call.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use registry_core::compat::CompatibilityLevel;
use registry_core::{SchemaId, SchemaType, Subject, UnparsedSchema};
use registry_store::{Deleted, RegisterOptions, SemVer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::confluent::blocking as run_blocking;
use crate::extract::{JsonBody, Path, Sr, SrStatus};
use crate::{ApiError, AppState, metrics};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/schemas", post(register))
        .route("/api/v1/schemas/{id}", get(schema))
        .route("/api/v1/compatibility/check", post(check))
        .route("/api/v1/subjects/{subject}/versions", get(versions))
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
    /// A JSON value (for JSON Schema and Avro) or the schema text.
    schema: Value,
    schema_type: String,
    #[serde(default)]
    references: Vec<Reference>,
    /// An explicit semantic version (registration only).
    version: Option<String>,
    /// A compatibility level to check at instead of the subject's (checks only).
    level: Option<String>,
}

impl SchemaBody {
    fn unparsed(&self) -> ApiResult<(Subject, UnparsedSchema)> {
        let subject = Subject::new(&self.subject)?;
        let schema_type: SchemaType = self.schema_type.parse()?;
        let text = match &self.schema {
            Value::String(text) => text.clone(),
            Value::Null => return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, 42201, "Empty schema")),
            other => other.to_string(),
        };
        let references = self
            .references
            .iter()
            .map(|r| {
                let version = registry_core::Version::new(r.version)?;
                Ok(registry_core::SchemaReference { name: r.name.clone(), subject: Subject::new(&r.subject)?, version })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        Ok((subject, UnparsedSchema { schema_type, text, references }))
    }
}

fn lower(schema_type: SchemaType) -> &'static str {
    match schema_type {
        SchemaType::Avro => "avro",
        SchemaType::Json => "json",
        SchemaType::Protobuf => "protobuf",
    }
}

async fn register(State(state): State<AppState>, JsonBody(body): JsonBody<SchemaBody>) -> ApiResult<SrStatus<Value>> {
    let (subject, schema) = body.unparsed()?;
    let semver: Option<SemVer> = body.version.as_deref().map(str::parse).transpose()?;
    let options = RegisterOptions { semver, ..RegisterOptions::default() };
    let answer_subject = subject.clone();
    let result = run_blocking(&state.registry, move |r| {
        let registered = r.register_with(&subject, &schema, options)?;
        let fingerprint = r.schema_by_id(registered.id)?.fingerprint;
        Ok((registered, fingerprint))
    })
    .await;
    metrics::record_outcome(
        "registrations",
        match &result {
            Ok((r, _)) if r.deduplicated => "deduplicated",
            Ok(_) => "new",
            Err(e) if e.status == StatusCode::CONFLICT => "incompatible",
            Err(_) => "invalid",
        },
    );
    let (registered, fingerprint) = result?;
    let status = if registered.deduplicated { StatusCode::OK } else { StatusCode::CREATED };
    Ok(SrStatus(
        status,
        json!({
            "id": registered.id.0,
            "subject": answer_subject.as_str(),
            "version": registered.version.get(),
            "semver": registered.semver.to_string(),
            "fingerprint": fingerprint.to_hex(),
            "deduplicated": registered.deduplicated,
        }),
    ))
}

async fn schema(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Sr<Value>> {
    let id = id.parse::<u32>().map(SchemaId).map_err(|_| ApiError::schema_not_found(&id))?;
    let stored = state.registry.schema_by_id(id)?;
    let uses = state.registry.versions_for_id(id, Deleted::Exclude)?;
    let schema = match stored.schema_type {
        SchemaType::Protobuf => Value::String(stored.text.clone()),
        _ => serde_json::from_str(&stored.text).unwrap_or_else(|_| Value::String(stored.text.clone())),
    };
    Ok(Sr(json!({
        "id": stored.id.0,
        "schema_type": lower(stored.schema_type),
        "schema": schema,
        "fingerprint": stored.fingerprint.to_hex(),
        "references": stored.references.iter().map(|r| json!({"name": r.name, "subject": r.subject.as_str(), "version": r.version.get()})).collect::<Vec<_>>(),
        "subjects": uses.iter().map(|u| json!({"subject": u.subject.as_str(), "version": u.version.get(), "semver": u.semver.to_string()})).collect::<Vec<_>>(),
    })))
}

async fn check(State(state): State<AppState>, JsonBody(body): JsonBody<SchemaBody>) -> ApiResult<Sr<Value>> {
    let (subject, schema) = body.unparsed()?;
    let report = match body.level.as_deref() {
        Some(level) => {
            let level: CompatibilityLevel = level.parse()?;
            state.registry.check_compatibility_at(&subject, &schema, level)
        }
        None => state.registry.check_compatibility(&subject, &schema, None),
    };
    metrics::record_outcome(
        "compatibility_checks",
        match &report {
            Ok(r) if r.is_compatible() => "compatible",
            Ok(_) => "incompatible",
            Err(_) => "error",
        },
    );
    let report = report?;
    Ok(Sr(json!({
        "compatible": report.is_compatible(),
        "level": report.level.as_str(),
        "violations": report.violations.iter().map(|v| json!({
            "version": v.version.get(),
            "direction": v.direction,
            "kind": v.violation.kind.as_str(),
            "path": v.violation.path,
            "message": v.violation.message,
        })).collect::<Vec<_>>(),
    })))
}

async fn versions(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<Sr<Value>> {
    let subject = Subject::new(&name)?;
    let list = state.registry.version_list(&subject, Deleted::Include)?;
    Ok(Sr(json!(
        list.iter()
            .map(|v| json!({"version": v.version.get(), "semver": v.semver.to_string(), "id": v.id.0, "deleted": v.deleted}))
            .collect::<Vec<_>>()
    )))
}
