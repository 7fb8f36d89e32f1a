//! `schema-registry compat` and `schema-registry validate`: the server's compatibility verdicts and data
//! validation, offline, on schema and data files (for CI).
//!
//! This module owns reading the files (the format from the extension or `--type`, `--ref name=path` as the
//! references every schema file may use), fetching a subject's versions from a running registry over
//! Confluent's REST API, and printing the outcome. It decides no rule: a schema is parsed by
//! `registry_core::parse` (`parse_stored` for a version the registry already accepted), the verdict is
//! `registry_core::compat::check`'s, data is checked by `registry_core::Validator`, and the JSON answers are
//! the server's own renderers (`confluent::compat_answer`, `v1::check_answer`, `v1::report_json`).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use registry_core::compat::{self, CompatReport, CompatibilityLevel, InvalidLevel};
use registry_core::{
    Limits, ParsedSchema, ResolveError, SchemaReference, SchemaType, Subject, UnparsedSchema, ValidateOptions,
    ValidationReport, Validator, Version,
};
use serde_json::{Value, json};

use crate::client::{Credentials, Remote, segment};
use crate::config::{CompatArgs, ValidateArgs};

/// Exit status: compatible, or every document valid.
const PASSED: u8 = 0;
/// Exit status: incompatible, or a document invalid.
const FAILED: u8 = 1;
/// Exit status: the question could not be answered (a file, a schema, an argument or the registry).
const ERROR: u8 = 2;

/// How long one request to `--registry` may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `schema-registry compat`: 0 compatible, 1 not, 2 on an error.
pub fn compat(args: &CompatArgs) -> ExitCode {
    finish("compat", run_compat(args))
}

/// `schema-registry validate`: 0 all valid, 1 one is not, 2 on an error.
pub fn validate(args: &ValidateArgs) -> ExitCode {
    finish("validate", run_validate(args))
}

/// Prints what a command produced and turns its outcome into the exit status.
fn finish(command: &str, outcome: Result<Outcome, String>) -> ExitCode {
    match outcome {
        Ok(Outcome { passed, output }) => {
            // A closed stdout (`| head`) must not panic, as `println!` would.
            let _ = std::io::stdout().lock().write_all(output.as_bytes());
            ExitCode::from(if passed { PASSED } else { FAILED })
        }
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "schema-registry {command}: {message}");
            ExitCode::from(ERROR)
        }
    }
}

/// A command's answer: whether it passed, and what to print.
struct Outcome {
    passed: bool,
    output: String,
}

// ----- compat -----

fn run_compat(args: &CompatArgs) -> Result<Outcome, String> {
    let level: Option<CompatibilityLevel> =
        args.level.as_deref().map(str::parse).transpose().map_err(|e: InvalidLevel| e.to_string())?;
    let given_type = schema_type_flag(args.schema_type.as_deref())?;
    let refs = RefFiles::read(&args.refs)?;
    let (new_path, older) = args.files.split_last().ok_or("name the schema file to check")?;
    let candidate = SchemaFile::read(new_path, given_type, &refs)?;
    let checked = match (&args.subject, &args.registry) {
        (Some(subject), Some(registry)) => {
            if !older.is_empty() {
                return Err(format!(
                    "with --subject, give only the new schema file ({} files given): the older versions are the \
                     subject's",
                    args.files.len()
                ));
            }
            let credentials = match (&args.api_key, &args.basic, &args.bearer) {
                (Some(key), _, _) => Credentials::ApiKey(key.clone()),
                (None, Some(basic), _) => Credentials::Basic(basic.clone()),
                (None, None, Some(token)) => Credentials::Bearer(token.clone()),
                (None, None, None) => Credentials::None,
            };
            let target = Target { url: registry, credentials, ca: args.ca.as_deref() };
            against_registry(&candidate, subject, &target, level)?
        }
        _ => against_files(&candidate, older, given_type, &refs, level.unwrap_or_default())?,
    };
    let passed = checked.report.is_compatible();
    let output = if args.json { checked.json() } else { checked.text(&candidate.path) };
    Ok(Outcome { passed, output })
}

/// A check's report, and what each version number it names stands for.
struct Checked {
    report: CompatReport,
    /// The versions checked against, oldest first, and where each came from.
    against: Vec<(Version, Source)>,
    /// Why nothing was checked, when there was nothing to check against.
    nothing: Option<String>,
}

/// Where a version checked against came from.
enum Source {
    File(PathBuf),
    Subject(Subject),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Subject(subject) => write!(f, "subject '{subject}'"),
        }
    }
}

impl Checked {
    /// One line per violation, with the version's file (or subject), its location and message, then the verdict.
    fn text(&self, candidate: &Path) -> String {
        let mut out = String::new();
        for found in &self.report.violations {
            let source = self.against.iter().find(|(v, _)| *v == found.version).map(|(_, s)| s.to_string());
            out.push_str(&format!("{}: {found}\n", source.unwrap_or_default()));
        }
        let level = self.report.level;
        let candidate = candidate.display();
        let against = self.against.iter().map(|(v, s)| format!("{s} (version {v})")).collect::<Vec<_>>().join(", ");
        let verdict = match (&self.nothing, self.report.is_compatible()) {
            (Some(why), _) => format!("compatible: {candidate} at {level}: {why}"),
            (None, true) if self.against.is_empty() => format!("compatible: {candidate} at {level}: nothing to check"),
            (None, true) => format!("compatible: {candidate} at {level} with {against}"),
            (None, false) => {
                let count = self.report.violations.len();
                let plural = if count == 1 { "" } else { "s" };
                format!("incompatible: {candidate} at {level}: {count} violation{plural} against {against}")
            }
        };
        out.push_str(&verdict);
        out.push('\n');
        out
    }

    /// The server's answers in one object: Confluent's verbose answer (`is_compatible`, `messages`) and
    /// `/api/v1/compatibility/check`'s (`compatible`, `level`, `violations`), with what each version number
    /// checked stands for (`checked`).
    fn json(&self) -> String {
        let mut answer = crate::v1::check_answer(&self.report);
        let confluent = crate::confluent::compat_answer(&self.report, true);
        if let (Value::Object(answer), Value::Object(confluent)) = (&mut answer, confluent) {
            answer.extend(confluent);
            let checked = self.against.iter().map(|(version, source)| match source {
                Source::File(path) => json!({"version": version.get(), "file": path.display().to_string()}),
                Source::Subject(subject) => json!({"version": version.get(), "subject": subject.as_str()}),
            });
            answer.insert("checked".into(), Value::Array(checked.collect()));
        }
        format!("{answer:#}\n")
    }
}

/// The versions a check at `level` reads, of `live` (newest first): none at NONE, every one at a transitive
/// level, else the newest. The same choice as the store's (`Shared::check_against`), so only what a check reads
/// is fetched or reported.
fn checked_at<T>(level: CompatibilityLevel, live: &[T]) -> &[T] {
    match level {
        CompatibilityLevel::None => &[],
        level if level.is_transitive() => live,
        _ => &live[..live.len().min(1)],
    }
}

/// Checks `candidate` against the `older` files (oldest first: the first is version 1).
fn against_files(
    candidate: &SchemaFile,
    older: &[PathBuf],
    given_type: Option<SchemaType>,
    refs: &RefFiles,
    level: CompatibilityLevel,
) -> Result<Checked, String> {
    let new = candidate.parse()?;
    let mut previous = Vec::with_capacity(older.len());
    for (at, path) in older.iter().enumerate() {
        let version = Version::new(u32::try_from(at + 1).unwrap_or(u32::MAX)).map_err(|e| e.to_string())?;
        // Every file is read and parsed, checked or not: a broken file given is an error, not a skipped one.
        let parsed = SchemaFile::read(path, given_type, refs)?.parse()?;
        previous.push((version, path.clone(), parsed));
    }
    previous.reverse();
    let wanted = checked_at(level, &previous);
    let versions: Vec<(Version, &ParsedSchema)> = wanted.iter().map(|(v, _, p)| (*v, p)).collect();
    let report = compat::check(level, &new, &versions).map_err(|e| e.to_string())?;
    let mut against: Vec<(Version, Source)> =
        wanted.iter().map(|(v, path, _)| (*v, Source::File(path.clone()))).collect();
    against.reverse();
    let nothing = older.is_empty().then(|| "no older schema file given, nothing to check".to_string());
    Ok(Checked { report, against, nothing })
}

// ----- compat against a running registry -----

/// The registry `--subject` is read from.
struct Target<'a> {
    url: &'a str,
    credentials: Credentials,
    ca: Option<&'a Path>,
}

/// A subject's versions as fetched: the level, the versions a check at it reads (newest first), and every schema
/// those reference, by the subject and version a reference of the subject's context names.
struct Fetched {
    level: CompatibilityLevel,
    /// Why there is nothing to check against, when there is not.
    nothing: Option<String>,
    versions: Vec<(Version, UnparsedSchema)>,
    referenced: HashMap<(Subject, Version), UnparsedSchema>,
}

/// Checks `candidate` against `subject`'s live versions in the registry at `target`, at `level` or the
/// subject's own.
fn against_registry(
    candidate: &SchemaFile,
    subject: &str,
    target: &Target<'_>,
    level: Option<CompatibilityLevel>,
) -> Result<Checked, String> {
    let subject = Subject::qualified(subject).map_err(|e| format!("invalid subject '{subject}': {e}"))?;
    // The candidate first: a bad schema is an error before any request is made.
    let new = candidate.parse()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
    let fetched = runtime.block_on(async {
        let remote = Remote::new(target.url, target.credentials.clone(), target.ca)?;
        fetch(&remote, &subject, level).await
    })?;
    let context = subject.context();
    let resolver = |reference: &SchemaReference| -> Result<UnparsedSchema, ResolveError> {
        let key = (registry_core::reference_target(context, &reference.subject), reference.version);
        fetched
            .referenced
            .get(&key)
            .cloned()
            .ok_or(ResolveError::NotFound { subject: key.0, version: reference.version })
    };
    let mut previous = Vec::with_capacity(fetched.versions.len());
    for (version, schema) in &fetched.versions {
        // As the store reads a version it accepted before: without the checks only new input needs.
        let parsed = registry_core::parse_stored(schema, &resolver, &Limits::default())
            .map_err(|e| format!("subject '{subject}' version {version} cannot be read: {e}"))?;
        previous.push((*version, parsed));
    }
    let versions: Vec<(Version, &ParsedSchema)> = previous.iter().map(|(v, p)| (*v, p)).collect();
    let report = compat::check(fetched.level, &new, &versions).map_err(|e| e.to_string())?;
    let against = fetched.versions.iter().rev().map(|(v, _)| (*v, Source::Subject(subject.clone()))).collect();
    Ok(Checked { report, against, nothing: fetched.nothing })
}

/// Reads `subject`'s level (unless given), live versions and what they reference from `remote`.
async fn fetch(remote: &Remote, subject: &Subject, level: Option<CompatibilityLevel>) -> Result<Fetched, String> {
    let path = segment(subject.as_str());
    // The subject's level, and its compatibility group, as the server's check of a subject reads them; an
    // explicit level is checked against every version, as `/api/v1/compatibility/check` with a `level` does.
    let (level, group) = match level {
        Some(level) => (level, None),
        None => {
            let config = get_json(remote, &format!("/config/{path}?defaultToGlobal=true")).await?;
            let level = match config.get("compatibilityLevel").and_then(Value::as_str) {
                Some(level) => level.parse().map_err(|e: InvalidLevel| e.to_string())?,
                None => CompatibilityLevel::default(),
            };
            (level, config.get("compatibilityGroup").and_then(Value::as_str).map(str::to_string))
        }
    };
    let listed = match get(remote, &format!("/subjects/{path}/versions")).await? {
        answer if answer.status == 404 && error_code(&answer) == Some(40401) => Vec::new(),
        answer => listed_versions(&expect_json(remote, answer)?)?,
    };
    // A draft is no check's until it is activated: this project's /api/v1 names them (another registry has none).
    let drafts = if listed.is_empty() { Vec::new() } else { drafts(remote, &path).await? };
    let live: Vec<Version> = listed.into_iter().filter(|v| !drafts.contains(v)).rev().collect();
    // With a compatibility group, the versions whose group property is the candidate's: a schema file has no
    // metadata, so those without one (the store's `in_group`).
    let no_versions = live.is_empty();
    let mut kept = Vec::with_capacity(live.len());
    let mut read = HashMap::new();
    for version in live {
        let Some(group) = &group else {
            kept.push(version);
            continue;
        };
        let answer = version_answer(remote, subject, version, false).await?;
        let value = answer.get("metadata").and_then(|m| m.get("properties")).and_then(|p| p.get(group));
        if value.is_none_or(Value::is_null) {
            kept.push(version);
        }
        read.insert(version, answer);
    }
    let mut versions = Vec::new();
    for version in checked_at(level, &kept) {
        let answer = match read.remove(version) {
            Some(answer) => answer,
            None => version_answer(remote, subject, *version, false).await?,
        };
        versions.push((*version, unparsed(&answer, subject, *version)?));
    }
    let nothing = match (no_versions, &group) {
        (true, _) => Some(format!("subject '{subject}' has no versions, nothing to check")),
        (false, Some(group)) if kept.is_empty() && level != CompatibilityLevel::None => Some(format!(
            "no version of subject '{subject}' is in the schema's compatibility group (no '{group}' property), \
             nothing to check"
        )),
        _ => None,
    };
    let referenced = fetch_references(remote, subject, &versions).await?;
    Ok(Fetched { level, nothing, versions, referenced })
}

/// Every schema `versions` reference, transitively, by the subject (as the subject's context names it) and
/// version; each reference's own references written as the store's resolver writes them.
async fn fetch_references(
    remote: &Remote,
    subject: &Subject,
    versions: &[(Version, UnparsedSchema)],
) -> Result<HashMap<(Subject, Version), UnparsedSchema>, String> {
    let context = subject.context();
    let mut pending: Vec<(Subject, Version)> = versions
        .iter()
        .flat_map(|(_, schema)| &schema.references)
        .map(|r| (subject.referenced(&r.subject), r.version))
        .collect();
    let mut fetched = HashMap::new();
    let limit = Limits::default().max_references.saturating_mul(versions.len().max(1));
    while let Some((target, version)) = pending.pop() {
        if fetched.contains_key(&(target.clone(), version)) {
            continue;
        }
        if fetched.len() >= limit {
            return Err(format!("subject '{subject}' references more than {limit} schemas"));
        }
        // A reference may name a soft-deleted version: it still resolves.
        let answer = version_answer(remote, &target, version, true).await?;
        let mut schema = unparsed(&answer, &target, version)?;
        for nested in &mut schema.references {
            let named = target.referenced(&nested.subject);
            pending.push((named.clone(), nested.version));
            if named != registry_core::reference_target(context, &nested.subject) {
                nested.subject = named.absolute();
            }
        }
        fetched.insert((target, version), schema);
    }
    Ok(fetched)
}

/// `GET /subjects/{subject}/versions/{version}`, soft-deleted too with `deleted`.
async fn version_answer(remote: &Remote, subject: &Subject, version: Version, deleted: bool) -> Result<Value, String> {
    let query = if deleted { "?deleted=true" } else { "" };
    get_json(remote, &format!("/subjects/{}/versions/{version}{query}", segment(subject.as_str()))).await
}

/// A version answer's schema: `schema`, `schemaType` (AVRO when left out), `references`.
fn unparsed(answer: &Value, subject: &Subject, version: Version) -> Result<UnparsedSchema, String> {
    let bad = |what: &str| format!("subject '{subject}' version {version}: the registry's answer {what}: {answer}");
    let text = answer.get("schema").and_then(Value::as_str).ok_or_else(|| bad("has no schema"))?;
    let schema_type = match answer.get("schemaType").and_then(Value::as_str) {
        Some(name) => name.parse().map_err(|e: registry_core::SchemaError| bad(&e.to_string()))?,
        None => SchemaType::Avro,
    };
    let references = match answer.get("references") {
        None | Some(Value::Null) => Vec::new(),
        Some(references) => serde_json::from_value::<Vec<SchemaReference>>(references.clone())
            .map_err(|e| bad(&format!("has references that cannot be read ({e})")))?,
    };
    Ok(UnparsedSchema::new(schema_type, text).with_references(references))
}

/// The subject's DRAFT versions, as `GET /api/v1/subjects/{subject}/versions` lists them; none from a registry
/// without that API.
async fn drafts(remote: &Remote, path: &str) -> Result<Vec<Version>, String> {
    let answer = get(remote, &format!("/api/v1/subjects/{path}/versions")).await?;
    let Some(Value::Array(listed)) = answer.is_success().then(|| answer.json().ok()).flatten() else {
        return Ok(Vec::new());
    };
    let drafts = listed.iter().filter(|v| v.get("state").and_then(Value::as_str) == Some("DRAFT"));
    Ok(drafts
        .filter_map(|v| v.get("version")?.as_u64().and_then(|n| Version::new(u32::try_from(n).ok()?).ok()))
        .collect())
}

/// The version numbers of a `GET /subjects/{subject}/versions` answer, ascending.
fn listed_versions(answer: &Value) -> Result<Vec<Version>, String> {
    let numbers = answer.as_array().ok_or_else(|| format!("the registry listed versions as {answer}"))?;
    let mut versions = numbers
        .iter()
        .map(|n| {
            let n = n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| format!("not a version: {n}"))?;
            Version::new(n).map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    versions.sort_unstable();
    Ok(versions)
}

/// `GET path`, within [`REQUEST_TIMEOUT`].
async fn get(remote: &Remote, path: &str) -> Result<crate::client::Answer, String> {
    tokio::time::timeout(REQUEST_TIMEOUT, remote.get(path))
        .await
        .map_err(|_| format!("{} did not answer GET {path} within {} s", remote.url(), REQUEST_TIMEOUT.as_secs()))?
        .map_err(String::from)
}

/// `GET path`, answered 2xx with JSON.
async fn get_json(remote: &Remote, path: &str) -> Result<Value, String> {
    let answer = get(remote, path).await?;
    expect_json(remote, answer)
}

/// A 2xx answer's JSON; another answer as an error naming the registry's message.
fn expect_json(remote: &Remote, answer: crate::client::Answer) -> Result<Value, String> {
    if !answer.is_success() {
        let message = answer.json().ok().and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string));
        return Err(format!(
            "{} answered {}: {}",
            remote.url(),
            answer.status,
            message.unwrap_or_else(|| answer.text())
        ));
    }
    answer.json()
}

/// A Confluent error answer's `error_code`.
fn error_code(answer: &crate::client::Answer) -> Option<u64> {
    answer.json().ok()?.get("error_code")?.as_u64()
}

// ----- validate -----

fn run_validate(args: &ValidateArgs) -> Result<Outcome, String> {
    let given_type = schema_type_flag(args.schema_type.as_deref())?;
    let refs = RefFiles::read(&args.refs)?;
    let schema = SchemaFile::read(&args.schema, given_type, &refs)?.parse()?;
    let options = ValidateOptions { message: args.message.clone(), ..ValidateOptions::default() };
    let validator = Validator::compile(&schema, &options).map_err(|e| format!("{}: {e}", args.schema.display()))?;
    // Every file read before any is checked: one that cannot be read is an error, not a verdict.
    let mut documents = Vec::with_capacity(args.data.len());
    for path in &args.data {
        let text = read(path)?;
        let document: Value =
            serde_json::from_str(&text).map_err(|e| format!("{} is not a JSON document: {e}", path.display()))?;
        documents.push((path, document));
    }
    let reports: Vec<(&PathBuf, ValidationReport)> =
        documents.iter().map(|(path, document)| (*path, validator.validate(document))).collect();
    let passed = reports.iter().all(|(_, report)| report.valid);
    let output = if args.json { validation_json(&reports, passed) } else { validation_text(&reports) };
    Ok(Outcome { passed, output })
}

/// Each file's verdict, or each of its errors on a line of its own with the file and the location; then a count.
fn validation_text(reports: &[(&PathBuf, ValidationReport)]) -> String {
    let mut out = String::new();
    for (path, report) in reports {
        if report.valid {
            out.push_str(&format!("{}: valid\n", path.display()));
        }
        for error in &report.errors {
            out.push_str(&format!("{}: {error}\n", path.display()));
        }
    }
    let invalid = reports.iter().filter(|(_, report)| !report.valid).count();
    let total = reports.len();
    let noun = if total == 1 { "document" } else { "documents" };
    out.push_str(&match invalid {
        0 => format!("valid: {total} {noun}\n"),
        _ => format!("invalid: {invalid} of {total} {noun}\n"),
    });
    out
}

/// The server's batch answer (`results`, each its answer for one document) with each result's `file`, and
/// whether all are `valid`.
fn validation_json(reports: &[(&PathBuf, ValidationReport)], passed: bool) -> String {
    let results = reports.iter().map(|(path, report)| {
        let mut answer = crate::v1::report_json(report);
        if let Value::Object(fields) = &mut answer {
            fields.insert("file".into(), Value::String(path.display().to_string()));
        }
        answer
    });
    format!("{:#}\n", json!({"valid": passed, "results": results.collect::<Vec<_>>()}))
}

// ----- files -----

/// A schema file as read: its path and text, the format it is read as, and the references it may use.
struct SchemaFile<'a> {
    path: PathBuf,
    schema: UnparsedSchema,
    refs: &'a RefFiles,
}

impl<'a> SchemaFile<'a> {
    /// Reads `path` as a schema of `given` type or its extension's, with every `--ref` as a reference.
    fn read(path: &Path, given: Option<SchemaType>, refs: &'a RefFiles) -> Result<Self, String> {
        let schema_type = match given {
            Some(given) => given,
            None => type_of(path)?,
        };
        let text = read(path)?;
        let schema = UnparsedSchema::new(schema_type, text).with_references(refs.references());
        Ok(Self { path: path.to_path_buf(), schema, refs })
    }

    /// Parses it as the registry parses a schema sent to it, its references read from the `--ref` files.
    fn parse(&self) -> Result<ParsedSchema, String> {
        let schema_type = self.schema.schema_type;
        let resolver = |reference: &SchemaReference| self.refs.resolve(reference, schema_type);
        registry_core::parse(&self.schema, &resolver, &Limits::default())
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

/// The schemas given with `--ref name=path`: each a reference by that name, which every schema file may use.
struct RefFiles {
    refs: Vec<(String, PathBuf, String)>,
}

impl RefFiles {
    /// Reads each `name=path`.
    fn read(specs: &[String]) -> Result<Self, String> {
        let mut refs: Vec<(String, PathBuf, String)> = Vec::with_capacity(specs.len());
        for spec in specs {
            let Some((name, path)) = spec.split_once('=').filter(|(name, path)| !name.is_empty() && !path.is_empty())
            else {
                return Err(format!("--ref {spec}: write it as name=path (the name the schema imports or uses)"));
            };
            if refs.iter().any(|(given, _, _)| given == name) {
                return Err(format!("--ref {spec}: the name '{name}' is given twice"));
            }
            Subject::new(name).map_err(|e| format!("--ref {spec}: {e}"))?;
            let path = PathBuf::from(path);
            let text = read(&path)?;
            refs.push((name.to_string(), path, text));
        }
        Ok(Self { refs })
    }

    /// A reference to each, in the order given: named as given, at a subject of that name, version 1.
    fn references(&self) -> Vec<SchemaReference> {
        self.refs
            .iter()
            .filter_map(|(name, _, _)| {
                Some(SchemaReference { name: name.clone(), subject: Subject::new(name).ok()?, version: Version::FIRST })
            })
            .collect()
    }

    /// The schema a reference of a `schema_type` schema names: the file given for its name, read as that type.
    fn resolve(&self, reference: &SchemaReference, schema_type: SchemaType) -> Result<UnparsedSchema, ResolveError> {
        self.refs
            .iter()
            .find(|(name, _, _)| *name == reference.name)
            .map(|(_, _, text)| UnparsedSchema::new(schema_type, text.clone()))
            .ok_or_else(|| ResolveError::NotFound { subject: reference.subject.clone(), version: reference.version })
    }
}

/// `--type`, if given.
fn schema_type_flag(given: Option<&str>) -> Result<Option<SchemaType>, String> {
    given.map(|name| name.parse::<SchemaType>().map_err(|e| format!("--type {name}: {e}"))).transpose()
}

/// The format a file's extension names: `.avsc` Avro, `.json` JSON Schema, `.proto` Protobuf.
fn type_of(path: &Path) -> Result<SchemaType, String> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("avsc") => Ok(SchemaType::Avro),
        Some("json") => Ok(SchemaType::Json),
        Some("proto") => Ok(SchemaType::Protobuf),
        _ => Err(format!(
            "cannot tell the type of {} from its extension (.avsc, .json, .proto): give --type AVRO, JSON or PROTOBUF",
            path.display()
        )),
    }
}

/// A file's text.
fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
