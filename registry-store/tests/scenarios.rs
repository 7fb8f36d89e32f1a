//! Data-driven registry scenarios: each file in `tests/scenarios/` is a list of steps, each an operation on a
//! fresh in-memory registry and the answer expected (a partial match), or the error variant expected.

use std::path::Path;

use registry_core::compat::CompatibilityLevel;
use registry_core::{SchemaId, SchemaReference, SchemaType, Subject, UnparsedSchema, Version, VersionSelector};
use registry_store::{Deleted, Deletion, Mode, RegisterOptions, Registry, RegistryError, RegistryOptions, Scope};
use serde_json::{Value, json};

mod support;

fn error_name(e: &RegistryError) -> &'static str {
    match e {
        RegistryError::SubjectNotFound(_) => "SubjectNotFound",
        RegistryError::VersionNotFound { .. } => "VersionNotFound",
        RegistryError::SchemaNotFound(_) => "SchemaNotFound",
        RegistryError::SchemaNotInSubject(_) => "SchemaNotInSubject",
        RegistryError::SubjectSoftDeleted(_) => "SubjectSoftDeleted",
        RegistryError::SubjectNotSoftDeleted(_) => "SubjectNotSoftDeleted",
        RegistryError::VersionSoftDeleted { .. } => "VersionSoftDeleted",
        RegistryError::VersionNotSoftDeleted { .. } => "VersionNotSoftDeleted",
        RegistryError::InvalidSubject { .. } => "InvalidSubject",
        RegistryError::SubjectLevelNotConfigured(_) => "SubjectLevelNotConfigured",
        RegistryError::SubjectModeNotConfigured(_) => "SubjectModeNotConfigured",
        RegistryError::Incompatible { .. } => "Incompatible",
        RegistryError::InvalidSchema(_) => "InvalidSchema",
        RegistryError::CompatibilityUnavailable(_) => "CompatibilityUnavailable",
        RegistryError::ReadOnly(_) => "ReadOnly",
        RegistryError::NotImportMode(_) => "NotImportMode",
        RegistryError::ImportNotEmpty => "ImportNotEmpty",
        RegistryError::IdMismatch { .. } => "IdMismatch",
        RegistryError::IdTaken(_) => "IdTaken",
        RegistryError::VersionExists { .. } => "VersionExists",
        RegistryError::VersionsExhausted(_) => "VersionsExhausted",
        RegistryError::IdsExhausted => "IdsExhausted",
        RegistryError::Closing => "Closing",
        RegistryError::ReferenceExists { .. } => "ReferenceExists",
        RegistryError::SemVerNotIncreasing { .. } => "SemVerNotIncreasing",
        RegistryError::Storage(_) => "Storage",
        RegistryError::Corrupt(_) => "Corrupt",
        RegistryError::UnsupportedFormat { .. } => "UnsupportedFormat",
        _ => "Other",
    }
}

fn subject(args: &Value) -> Subject {
    Subject::new(args["subject"].as_str().expect("step needs a subject")).expect("valid subject in scenario")
}

fn schema(args: &Value) -> UnparsedSchema {
    let schema_type: SchemaType = args.get("type").and_then(Value::as_str).unwrap_or("AVRO").parse().expect("type");
    let text = match &args["schema"] {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let references = args
        .get("references")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .map(|r| SchemaReference {
                    name: r["name"].as_str().expect("name").to_string(),
                    subject: Subject::new(r["subject"].as_str().expect("subject")).expect("subject"),
                    version: Version::new(r["version"].as_u64().expect("version") as u32).expect("version"),
                })
                .collect()
        })
        .unwrap_or_default();
    // A data contract, as the Confluent API takes it: `metadata` and `ruleSet` beside the text.
    let contract = serde_json::from_value(serde_json::json!({
        "metadata": args.get("metadata"),
        "ruleSet": args.get("ruleSet"),
    }))
    .expect("a data contract");
    UnparsedSchema { schema_type, text, references, contract, normalize: false }
}

fn selector(args: &Value) -> VersionSelector {
    match &args["version"] {
        Value::Number(n) => n.to_string().parse().expect("version"),
        Value::String(s) => s.parse().expect("version"),
        _ => VersionSelector::Latest,
    }
}

fn deleted(args: &Value) -> Deleted {
    match args.get("deleted").and_then(Value::as_str) {
        Some("include") => Deleted::Include,
        Some("only") => Deleted::Only,
        _ => Deleted::Exclude,
    }
}

fn how(args: &Value) -> Deletion {
    if args.get("permanent").and_then(Value::as_bool).unwrap_or(false) { Deletion::Permanent } else { Deletion::Soft }
}

fn scope<'a>(args: &Value, holder: &'a mut Option<Subject>) -> Scope<'a> {
    match args.get("subject").and_then(Value::as_str) {
        Some(name) => Scope::Subject(holder.insert(Subject::new(name).expect("subject"))),
        None => Scope::Global,
    }
}

fn run_step(registry: &Registry, op: &str, args: &Value) -> Result<Value, RegistryError> {
    let mut holder = None;
    Ok(match op {
        "register" => {
            let options = RegisterOptions {
                id: args.get("id").and_then(Value::as_u64).map(|id| SchemaId(id as u32)),
                version: args.get("version").and_then(Value::as_u64).map(|v| Version::new(v as u32).expect("v")),
                // A version named, or -1: `confluent:version` is set outside IMPORT mode.
                versioned: args.get("version").is_some_and(|v| v.as_i64() != Some(0)),
                semver: args.get("semver").and_then(Value::as_str).map(|v| v.parse().expect("semver")),
                draft: args.get("draft").and_then(Value::as_bool).unwrap_or(false),
                cache_record: args.get("cache_record").and_then(Value::as_bool).unwrap_or(false),
            };
            let r = registry.register_with(&subject(args), &schema(args), options)?;
            json!({"id": r.id.0, "version": r.version.get(), "semver": r.semver.to_string(), "deduplicated": r.deduplicated})
        }
        "lookup" => {
            let v = registry.lookup(&subject(args), &schema(args), deleted(args))?;
            json!({"id": v.schema.id.0, "version": v.version.get(), "deleted": v.deleted})
        }
        "version" => {
            let v = registry.version(&subject(args), selector(args), deleted(args))?;
            json!({
                "id": v.schema.id.0,
                "version": v.version.get(),
                "semver": v.semver.to_string(),
                "deleted": v.deleted,
                "text": v.schema.text,
                "metadata": v.schema.contract.metadata,
                "ruleSet": v.schema.contract.rule_set,
            })
        }
        "schema_by_id" => {
            let s = registry.schema_by_id(SchemaId(args["id"].as_u64().expect("id") as u32))?;
            json!({
                "id": s.id.0,
                "type": s.schema_type.as_str(),
                "text": s.text,
                "metadata": s.contract.metadata,
                "ruleSet": s.contract.rule_set,
            })
        }
        "subjects" => {
            let prefix = args.get("prefix").and_then(Value::as_str).unwrap_or("");
            let subjects = registry.subjects(prefix, deleted(args))?;
            json!(subjects.iter().map(Subject::as_str).collect::<Vec<_>>())
        }
        "versions" => {
            json!(registry.versions(&subject(args), deleted(args))?.iter().map(|v| v.get()).collect::<Vec<_>>())
        }
        "subjects_for_id" => {
            let id = SchemaId(args["id"].as_u64().expect("id") as u32);
            json!(registry.subjects_for_id(id, deleted(args))?.iter().map(Subject::as_str).collect::<Vec<_>>())
        }
        "versions_for_id" => {
            let id = SchemaId(args["id"].as_u64().expect("id") as u32);
            let found = registry.versions_for_id(id, deleted(args))?;
            json!(found.iter().map(|sv| json!([sv.subject.as_str(), sv.version.get()])).collect::<Vec<_>>())
        }
        "referenced_by" => {
            json!(registry.referenced_by(&subject(args), selector(args))?.iter().map(|id| id.0).collect::<Vec<_>>())
        }
        "delete_version" => json!(registry.delete_version(&subject(args), selector(args), how(args))?.get()),
        "delete_subject" => {
            json!(registry.delete_subject(&subject(args), how(args))?.iter().map(|v| v.get()).collect::<Vec<_>>())
        }
        "set_config" => {
            let level: CompatibilityLevel = args["level"].as_str().expect("level").parse().expect("level");
            registry.set_config(scope(args, &mut holder), level)?;
            json!(null)
        }
        "config" => json!(registry.config(scope(args, &mut holder))?.map(|l| l.as_str())),
        "effective_config" => json!(registry.effective_config(&subject(args))?.as_str()),
        "delete_config" => json!(registry.delete_config(scope(args, &mut holder))?.as_str()),
        "set_mode" => {
            let mode: Mode = args["mode"].as_str().expect("mode").parse().expect("mode");
            let force = args.get("force").and_then(Value::as_bool).unwrap_or(false);
            registry.set_mode(scope(args, &mut holder), mode, force)?;
            json!(null)
        }
        "mode" => json!(registry.mode(scope(args, &mut holder))?.map(|m| m.as_str())),
        "delete_mode" => json!(registry.delete_mode(scope(args, &mut holder))?.as_str()),
        "check" => {
            let against = args.get("version").map(|_| selector(args));
            let report = registry.check_compatibility(&subject(args), &schema(args), against)?;
            json!({
                "compatible": report.is_compatible(),
                "kinds": report.violations.iter().map(|v| v.violation.kind.as_str()).collect::<Vec<_>>(),
                "paths": report.violations.iter().map(|v| v.violation.path.clone()).collect::<Vec<_>>(),
            })
        }
        "integrity" => json!({"problems": registry.check()?.problems}),
        other => panic!("unknown operation '{other}' in scenario"),
    })
}

/// `expected` matches `actual` when every key it names matches (recursively); other values must be equal.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av))),
        _ => expected == actual,
    }
}

#[test]
fn scenarios() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("scenario dir").map(|e| e.expect("entry").path()).collect();
    files.sort();
    for backend in support::backends() {
        run_scenarios(backend, &files);
    }
}

fn run_scenarios(backend: support::Backend, files: &[std::path::PathBuf]) {
    let mut steps_run = 0;
    let mut failures = Vec::new();
    for file in files {
        let scenarios: Value = serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("json");
        for scenario in scenarios.as_array().expect("a file holds an array of scenarios") {
            let name = scenario["name"].as_str().expect("name");
            let registry = backend.registry(RegistryOptions::default());
            for (i, step) in scenario["steps"].as_array().expect("steps").iter().enumerate() {
                let op = step["op"].as_str().expect("op");
                let outcome = run_step(&registry, op, step);
                steps_run += 1;
                let ok = match (&step.get("error"), &outcome) {
                    (Some(Value::String(want)), Err(e)) => want == error_name(e),
                    (None, Ok(actual)) => step.get("expect").is_none_or(|want| matches(want, actual)),
                    _ => false,
                };
                if !ok {
                    let got = match &outcome {
                        Ok(v) => v.to_string(),
                        Err(e) => format!("{} ({e})", error_name(e)),
                    };
                    failures.push(format!("{backend:?} {}: '{name}' step {i} ({op}): got {got}", file.display()));
                }
            }
        }
    }
    assert!(steps_run > 100, "expected the scenario files to hold over 100 steps, ran {steps_run}");
    assert!(failures.is_empty(), "{} failing steps:\n{}", failures.len(), failures.join("\n"));
}
