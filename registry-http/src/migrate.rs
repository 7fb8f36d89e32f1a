//! `schema-registry migrate`: a running Confluent-compatible registry (Confluent, Karapace, this one) copied into
//! this one over the REST API, ids and version numbers kept.
//!
//! Both sides are read the same way ([`read`]): every subject of every context with its versions (soft-deleted
//! ones too), their ids, types, texts, references, metadata and rule sets, and each subject's own level and mode.
//! The plan is the difference: versions the target lacks are registered in IMPORT mode with their ids and
//! numbers (a version after the versions it references and the subject's earlier ones), then versions deleted on
//! the source are soft-deleted (referrers first), then levels and modes are set, the global mode last. A version
//! the target holds already is skipped, or reported when it differs. The verification pass reads the target
//! again and compares it with the source.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::client::{Answer, ClientError, Credentials, Remote, segment};
use crate::config::MigrateArgs;

/// A registry `migrate` reads or writes: a running server, or a registry opened here and served in-process.
pub enum Endpoint {
    /// A server at a URL.
    Remote(Remote),
    /// The router of a registry opened by this process, and where it lives (for messages).
    Local(axum::Router, String),
}

impl Endpoint {
    /// The endpoint for a URL and its auth.
    pub fn remote(
        url: &str,
        basic: Option<&str>,
        bearer: Option<&str>,
        ca: Option<&std::path::Path>,
    ) -> Result<Self, String> {
        let credentials = match (basic, bearer) {
            (Some(basic), _) => Credentials::Basic(basic.to_string()),
            (None, Some(token)) => Credentials::Bearer(token.to_string()),
            (None, None) => Credentials::None,
        };
        Ok(Self::Remote(Remote::new(url, credentials, ca)?))
    }

    /// The endpoint serving a registry in-process, through the router a server of `state` would run.
    pub fn local(state: crate::AppState, name: String) -> Self {
        Self::Local(crate::app(state), name)
    }

    fn name(&self) -> &str {
        match self {
            Self::Remote(remote) => remote.url(),
            Self::Local(_, name) => name,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer, ClientError> {
        match self {
            Self::Remote(remote) => match body {
                Some(body) => remote.send_json(method, path, body).await,
                None => remote.send(method, path, None, &[]).await,
            },
            Self::Local(router, _) => {
                let mut request = Request::builder().method(method).uri(path);
                let body = match body {
                    Some(body) => {
                        request = request.header("content-type", "application/json");
                        Body::from(body.to_string())
                    }
                    None => Body::empty(),
                };
                let lasting = |e: String| ClientError { message: e, transient: false };
                let request =
                    request.body(body).map_err(|e| lasting(format!("cannot build the request {path}: {e}")))?;
                let response = router.clone().oneshot(request).await.map_err(|e| lasting(format!("{path}: {e}")))?;
                let status = response.status().as_u16();
                let content_type =
                    response.headers().get("content-type").and_then(|t| t.to_str().ok()).map(str::to_string);
                let body =
                    response.into_body().collect().await.map_err(|e| lasting(format!("{path}: {e}")))?.to_bytes();
                Ok(Answer { status, content_type, body, retry_after: None })
            }
        }
    }

    /// A request, sent again (after a pause, the server's `Retry-After` if it names one) while the server says it
    /// is busy or unavailable (429, 503: nothing was done), and, for a read, while it cannot be reached or a
    /// gateway fails; at most five tries.
    async fn call_patiently(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer, ClientError> {
        let read = method == Method::GET;
        let mut pause = Duration::from_millis(250);
        for attempt in 1.. {
            let last = attempt == 5;
            match self.call(method.clone(), path, body).await {
                Ok(answer)
                    if !last && (matches!(answer.status, 429 | 503) || read && matches!(answer.status, 502 | 504)) =>
                {
                    let asked = answer.retry_after().filter(|asked| *asked <= Duration::from_secs(60));
                    tokio::time::sleep(asked.unwrap_or(pause)).await;
                }
                Err(e) if e.transient && read && !last => tokio::time::sleep(pause).await,
                outcome => return outcome,
            }
            pause = (pause * 2).min(Duration::from_secs(8));
        }
        unreachable!("the fifth try returns")
    }

    /// `GET path` as JSON; `None` for a 404 (the subject or setting is not there).
    async fn get_json(&self, path: &str) -> Result<Option<Value>, String> {
        let answer = self.call_patiently(Method::GET, path, None).await?;
        match answer.status {
            200 => answer.json().map(Some),
            404 => Ok(None),
            status => Err(format!("{} answered GET {path} with {status}: {}", self.name(), answer.text())),
        }
    }

    /// A write; an answer other than 2xx is an error naming the request.
    async fn write(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let answer = self.call_patiently(method.clone(), path, body).await?;
        if !answer.is_success() {
            return Err(format!("{method} {path}: {} {}", answer.status, answer.text()));
        }
        Ok(answer.json().unwrap_or(Value::Null))
    }
}

/// A reference as a version names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Reference {
    name: String,
    subject: String,
    version: i64,
}

/// One version of a subject, as a registry answers it.
#[derive(Debug, Clone, PartialEq)]
struct Version {
    id: u64,
    schema_type: String,
    schema: String,
    references: Vec<Reference>,
    metadata: Option<Value>,
    rule_set: Option<Value>,
    deleted: bool,
}

/// A subject and a version number.
type Key = (String, u32);

/// What a registry holds, as far as `migrate` copies it.
#[derive(Debug, Default)]
struct Contents {
    versions: BTreeMap<Key, Version>,
    /// Each subject's own config (its GET answer, nulls dropped), where it has one.
    configs: BTreeMap<String, Value>,
    /// Each subject's own mode, where it has one.
    modes: BTreeMap<String, String>,
    global_config: Value,
    global_mode: String,
    /// What reading found worth saying (how the registry answers), a line each.
    notes: Vec<String>,
}

impl Contents {
    fn subjects(&self) -> BTreeSet<&str> {
        self.versions.keys().map(|(subject, _)| subject.as_str()).collect()
    }

    /// The scopes a level or mode can be set on: each subject, and each context other than the default.
    fn scopes(&self) -> BTreeSet<String> {
        let subjects = self.subjects();
        let contexts = subjects.iter().map(|s| context_of(s)).filter(|c| !c.is_empty());
        subjects.iter().copied().chain(contexts).map(str::to_string).collect()
    }

    /// A registry that answers every subject's mode with the global one, as Karapace does (it never says a
    /// subject has none), has no subject modes to copy: they are forgotten, with a note.
    fn forget_echoed_modes(&mut self) {
        let subjects = self.subjects().len();
        if subjects > 1 && self.modes.len() >= subjects && self.modes.values().all(|mode| *mode == self.global_mode) {
            self.notes.push(format!(
                "every subject's mode reads as the global one ({}): taken as no subject modes, not copied",
                self.global_mode
            ));
            self.modes.clear();
        }
    }

    fn ids(&self) -> BTreeSet<(String, u64)> {
        self.versions.iter().map(|((subject, _), v)| (context_of(subject).to_string(), v.id)).collect()
    }
}

/// The context part of a subject name: `:.ctx:` of `:.ctx:name`, empty for the default context.
fn context_of(subject: &str) -> &str {
    match subject.strip_prefix(":.").and_then(|rest| rest.find(':')) {
        Some(end) => &subject[..end + 3],
        None => "",
    }
}

/// The subject a reference names, in the referrer's context when it names none of its own.
fn referenced_subject(referrer: &str, reference: &Reference) -> String {
    if reference.subject.starts_with(":.") {
        reference.subject.clone()
    } else {
        format!("{}{}", context_of(referrer), reference.subject)
    }
}

fn progress(length: u64, message: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(length);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>10} [{bar:32}] {pos}/{len} {per_sec} eta {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

fn integers(value: &Value) -> Vec<u32> {
    value.as_array().map_or(Vec::new(), |items| items.iter().filter_map(|v| v.as_u64()).map(|v| v as u32).collect())
}

/// A config answer with its nulls dropped, and the level under the key a PUT takes.
fn config_body(answer: &Value) -> Value {
    let mut body = serde_json::Map::new();
    if let Value::Object(fields) = answer {
        for (key, value) in fields {
            if value.is_null() {
                continue;
            }
            let key = if key == "compatibilityLevel" { "compatibility" } else { key.as_str() };
            body.insert(key.to_string(), value.clone());
        }
    }
    Value::Object(body)
}

/// Reads everything `migrate` copies from `endpoint`.
/// With `source`, a registry that echoes the global mode for every subject is recognized ([`Contents::forget_echoed_modes`]).
async fn read(endpoint: &Endpoint, what: &'static str, source: bool) -> Result<Contents, String> {
    let subjects = endpoint
        .get_json("/subjects?deleted=true&subjectPrefix=:*:")
        .await?
        .ok_or_else(|| format!("{} answered GET /subjects with 404: is it a schema registry?", endpoint.name()))?;
    let subjects: Vec<String> =
        subjects.as_array().map_or(Vec::new(), |s| s.iter().filter_map(Value::as_str).map(str::to_string).collect());
    let mut contents = Contents {
        global_config: config_body(&endpoint.get_json("/config").await?.unwrap_or(Value::Null)),
        global_mode: mode_of(endpoint.get_json("/mode").await?.as_ref()).unwrap_or_else(|| "READWRITE".into()),
        ..Contents::default()
    };
    let bar = progress(subjects.len() as u64, what);
    for subject in subjects {
        let path = segment(&subject);
        let all =
            integers(&endpoint.get_json(&format!("/subjects/{path}/versions?deleted=true")).await?.unwrap_or_default());
        let live: BTreeSet<u32> =
            integers(&endpoint.get_json(&format!("/subjects/{path}/versions")).await?.unwrap_or_default())
                .into_iter()
                .collect();
        for number in all {
            let Some(answer) = endpoint.get_json(&format!("/subjects/{path}/versions/{number}?deleted=true")).await?
            else {
                continue;
            };
            let version = version_of(&answer, !live.contains(&number))
                .map_err(|e| format!("{} answered {subject} version {number} with {e}", endpoint.name()))?;
            contents.versions.insert((subject.clone(), number), version);
        }
        read_settings(endpoint, &subject, &mut contents).await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    // A context's own level and mode, as a subject's.
    let contexts: BTreeSet<String> =
        contents.subjects().into_iter().map(context_of).filter(|c| !c.is_empty()).map(str::to_string).collect();
    for context in contexts {
        read_settings(endpoint, &context, &mut contents).await?;
    }
    if source {
        contents.forget_echoed_modes();
    }
    Ok(contents)
}

/// A subject's (or context's) own level and mode, where it has them.
async fn read_settings(endpoint: &Endpoint, scope: &str, contents: &mut Contents) -> Result<(), String> {
    let path = segment(scope);
    if let Some(config) = endpoint.get_json(&format!("/config/{path}")).await? {
        contents.configs.insert(scope.to_string(), config_body(&config));
    }
    if let Some(mode) = mode_of(endpoint.get_json(&format!("/mode/{path}")).await?.as_ref()) {
        contents.modes.insert(scope.to_string(), mode);
    }
    Ok(())
}

fn mode_of(answer: Option<&Value>) -> Option<String> {
    answer?.get("mode")?.as_str().map(str::to_string)
}

fn version_of(answer: &Value, deleted: bool) -> Result<Version, String> {
    let id = answer.get("id").and_then(Value::as_u64).ok_or("no id")?;
    let schema = answer.get("schema").and_then(Value::as_str).ok_or("no schema")?.to_string();
    let schema_type = answer.get("schemaType").and_then(Value::as_str).unwrap_or("AVRO").to_string();
    let mut references = Vec::new();
    for reference in answer.get("references").and_then(Value::as_array).into_iter().flatten() {
        let field = |name: &str| reference.get(name).and_then(Value::as_str).map(str::to_string);
        references.push(Reference {
            name: field("name").ok_or("a reference without a name")?,
            subject: field("subject").ok_or("a reference without a subject")?,
            version: reference.get("version").and_then(Value::as_i64).ok_or("a reference without a version")?,
        });
    }
    let present = |name: &str| answer.get(name).filter(|v| !v.is_null()).cloned();
    Ok(Version {
        id,
        schema_type,
        schema,
        references,
        metadata: present("metadata"),
        rule_set: present("ruleSet"),
        deleted,
    })
}

/// What a run does to the target.
#[derive(Debug, Default)]
struct Plan {
    /// Versions to register, in an order that puts each after what it needs.
    imports: Vec<Key>,
    /// Versions to soft-delete, referrers first.
    deletes: Vec<Key>,
    /// Versions the target holds already, as the source does.
    present: usize,
    /// Versions the target holds otherwise than the source: left alone, reported.
    conflicts: Vec<String>,
    /// The source's scopes whose config is to be set (`Some`) or removed (`None`) on the target.
    configs: Vec<(String, Option<Value>)>,
    /// The source's scopes whose mode is to be set or removed on the target.
    modes: Vec<(String, Option<String>)>,
    /// Scopes the run writes to that a mode of their own would close (a subject's READONLY, a context whose
    /// subjects the global IMPORT does not reach): in IMPORT while the run writes, then as the source has them.
    opened: BTreeSet<String>,
    /// The global config, if it differs.
    global_config: Option<Value>,
    /// The target's global mode when the run began.
    target_mode: String,
    global_mode: String,
}

/// Whether the target's config holds every setting of the source's (a registry may answer defaults besides).
fn covers(target: Option<&Value>, source: &Value) -> bool {
    match (target, source) {
        (Some(Value::Object(there)), Value::Object(wanted)) => wanted.iter().all(|(k, v)| there.get(k) == Some(v)),
        (Some(there), wanted) => there == wanted,
        (None, _) => false,
    }
}

fn plan(source: &Contents, target: &Contents) -> Plan {
    let mut plan =
        Plan { target_mode: target.global_mode.clone(), global_mode: source.global_mode.clone(), ..Plan::default() };
    let mut missing = BTreeSet::new();
    let mut conflicting = BTreeSet::new();
    for (key, version) in &source.versions {
        match target.versions.get(key) {
            None => {
                missing.insert(key.clone());
            }
            Some(there) if same_schema(there, version) => plan.present += 1,
            Some(there) => {
                conflicting.insert(key.clone());
                plan.conflicts.push(format!(
                    "{} version {}: the target holds id {} ({}), the source id {} ({})",
                    key.0, key.1, there.id, there.schema_type, version.id, version.schema_type
                ));
            }
        }
    }
    let mut done = BTreeSet::new();
    for key in &missing {
        order(source, key, &missing, &mut done, &mut plan.imports);
    }
    // Referrers before what they reference: the reverse of an order that puts references first. A version the
    // target holds otherwise is not the source's to delete.
    let mut all = Vec::new();
    let mut visited = BTreeSet::new();
    let everything: BTreeSet<Key> = source.versions.keys().cloned().collect();
    for key in &everything {
        order(source, key, &everything, &mut visited, &mut all);
    }
    for key in all.into_iter().rev() {
        let deleted_there = target.versions.get(&key).is_some_and(|v| v.deleted);
        if source.versions[&key].deleted && !deleted_there && !conflicting.contains(&key) {
            plan.deletes.push(key);
        }
    }
    // The source's scopes end as the source has them: a setting the target has there and the source has not
    // (an earlier run's IMPORT, say) is removed.
    for scope in source.scopes() {
        match (source.configs.get(&scope), target.configs.get(&scope)) {
            (Some(config), there) if !covers(there, config) => plan.configs.push((scope.clone(), Some(config.clone()))),
            (None, Some(_)) => plan.configs.push((scope.clone(), None)),
            _ => {}
        }
        if source.modes.get(&scope) != target.modes.get(&scope) {
            plan.modes.push((scope.clone(), source.modes.get(&scope).cloned()));
        }
    }
    if !covers(Some(&target.global_config), &source.global_config) {
        plan.global_config = Some(source.global_config.clone());
    }
    let written = plan.imports.iter().chain(&plan.deletes).map(|(subject, _)| subject.as_str());
    let written: BTreeSet<&str> = written.chain(plan.configs.iter().map(|(scope, _)| scope.as_str())).collect();
    for scope in written {
        let context = context_of(scope);
        if !context.is_empty() {
            plan.opened.insert(context.to_string());
        }
        if target.modes.get(scope).is_some_and(|mode| mode != "IMPORT") {
            plan.opened.insert(scope.to_string());
        }
    }
    plan
}

/// Whether two versions are the same registration: id, type, text and references.
fn same_schema(a: &Version, b: &Version) -> bool {
    a.id == b.id && a.schema_type == b.schema_type && a.schema == b.schema && a.references == b.references
}

/// Appends `start` to `out` after the subject's earlier versions and the versions it references (and theirs),
/// of those in `wanted` not yet `done`. Iterative: a subject's thousands of versions make a deep chain.
fn order(source: &Contents, start: &Key, wanted: &BTreeSet<Key>, done: &mut BTreeSet<Key>, out: &mut Vec<Key>) {
    let mut stack = vec![(start.clone(), false)];
    while let Some((key, needs_met)) = stack.pop() {
        if needs_met {
            out.push(key);
            continue;
        }
        if !wanted.contains(&key) || !done.insert(key.clone()) {
            continue;
        }
        stack.push((key.clone(), true));
        // Pushed after the key, so taken before it.
        let earlier = source.versions.range((key.0.clone(), 0)..key.clone()).next_back().map(|(k, _)| k.clone());
        stack.extend(earlier.map(|k| (k, false)));
        for reference in &source.versions[&key].references {
            let subject = referenced_subject(&key.0, reference);
            let number = match u32::try_from(reference.version) {
                Ok(number) => Some(number),
                // `-1`: the subject's newest version.
                Err(_) => source
                    .versions
                    .range((subject.clone(), 0)..=(subject.clone(), u32::MAX))
                    .next_back()
                    .map(|(k, _)| k.1),
            };
            stack.extend(number.map(|number| ((subject, number), false)));
        }
    }
}

fn registration(version: &Version, number: u32) -> Value {
    let mut body = json!({"schema": version.schema, "id": version.id, "version": number});
    if version.schema_type != "AVRO" {
        body["schemaType"] = json!(version.schema_type);
    }
    if !version.references.is_empty() {
        body["references"] = Value::Array(
            version
                .references
                .iter()
                .map(|r| json!({"name": r.name, "subject": r.subject, "version": r.version}))
                .collect(),
        );
    }
    if let Some(metadata) = &version.metadata {
        body["metadata"] = metadata.clone();
    }
    if let Some(rule_set) = &version.rule_set {
        body["ruleSet"] = rule_set.clone();
    }
    body
}

/// Carries out `plan`; the failures, each a line.
async fn apply(target: &Endpoint, source: &Contents, plan: &Plan) -> Vec<String> {
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(what);
    if plan.target_mode != "IMPORT"
        && let Err(e) = target.write(Method::PUT, "/mode?force=true", Some(&json!({"mode": "IMPORT"}))).await
    {
        fail(format!("cannot put the target in IMPORT mode: {e}"));
        return failures;
    }
    for scope in &plan.opened {
        let path = format!("/mode/{}?force=true", segment(scope));
        if let Err(e) = target.write(Method::PUT, &path, Some(&json!({"mode": "IMPORT"}))).await {
            fail(format!("cannot put {scope} in IMPORT mode: {e}"));
        }
    }
    let bar = progress(plan.imports.len() as u64, "importing");
    for (subject, number) in &plan.imports {
        let version = &source.versions[&(subject.clone(), *number)];
        let path = format!("/subjects/{}/versions?normalize=false", segment(subject));
        match target.write(Method::POST, &path, Some(&registration(version, *number))).await {
            Ok(answer) if answer.get("id").and_then(Value::as_u64).is_some_and(|id| id != version.id) => {
                fail(format!("{subject} version {number}: registered as id {}, not {}", answer["id"], version.id))
            }
            Ok(_) => {}
            Err(e) => fail(format!("{subject} version {number} (id {}): {e}", version.id)),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    for (subject, number) in &plan.deletes {
        let path = format!("/subjects/{}/versions/{number}", segment(subject));
        if let Err(e) = target.write(Method::DELETE, &path, None).await {
            fail(format!("{subject} version {number}: cannot soft-delete it: {e}"));
        }
    }
    for (scope, config) in &plan.configs {
        let path = format!("/config/{}", segment(scope));
        let outcome = match config {
            Some(config) => target.write(Method::PUT, &path, Some(config)).await,
            None => target.write(Method::DELETE, &path, None).await,
        };
        if let Err(e) = outcome {
            fail(format!("{scope}: cannot set its config: {e}"));
        }
    }
    // Every scope that changes mode, or was opened, ends with the source's mode (or none).
    let opened = plan.opened.iter().map(|scope| (scope.clone(), source.modes.get(scope).cloned()));
    let modes: BTreeMap<String, Option<String>> = plan.modes.iter().cloned().chain(opened).collect();
    for (scope, mode) in &modes {
        let outcome = match mode {
            Some(mode) => {
                let path = format!("/mode/{}?force=true", segment(scope));
                target.write(Method::PUT, &path, Some(&json!({"mode": mode}))).await
            }
            None => target.write(Method::DELETE, &format!("/mode/{}", segment(scope)), None).await,
        };
        if let Err(e) = outcome {
            fail(format!("{scope}: cannot set its mode {}: {e}", show(mode.as_ref())));
        }
    }
    if let Some(config) = &plan.global_config
        && let Err(e) = target.write(Method::PUT, "/config", Some(config)).await
    {
        fail(format!("cannot set the global config: {e}"));
    }
    if let Err(e) = target.write(Method::PUT, "/mode?force=true", Some(&json!({"mode": plan.global_mode}))).await {
        fail(format!("cannot set the global mode {}: {e}", plan.global_mode));
    }
    failures
}

/// The differences between what the source holds and the target holds after the run, each a line.
fn differences(source: &Contents, target: &Contents) -> Vec<String> {
    let mut out = Vec::new();
    for ((subject, number), version) in &source.versions {
        let Some(there) = target.versions.get(&(subject.clone(), *number)) else {
            out.push(format!("{subject} version {number}: missing on the target"));
            continue;
        };
        let mut what = Vec::new();
        if there.id != version.id {
            what.push(format!("id {} (source {})", there.id, version.id));
        }
        if there.schema_type != version.schema_type {
            what.push(format!("type {} (source {})", there.schema_type, version.schema_type));
        }
        if there.schema != version.schema {
            what.push("another schema text".to_string());
        }
        if there.references != version.references {
            what.push("other references".to_string());
        }
        if there.metadata != version.metadata || there.rule_set != version.rule_set {
            what.push("other metadata or rule set".to_string());
        }
        if there.deleted != version.deleted {
            what.push(
                if there.deleted { "soft-deleted (live on the source)" } else { "live (soft-deleted on the source)" }
                    .into(),
            );
        }
        if !what.is_empty() {
            out.push(format!("{subject} version {number}: {}", what.join(", ")));
        }
    }
    for scope in source.scopes() {
        let (config, there) = (source.configs.get(&scope), target.configs.get(&scope));
        let same = match config {
            Some(config) => covers(there, config),
            None => there.is_none(),
        };
        if !same {
            out.push(format!("{scope}: config {} on the target, {} on the source", show(there), show(config)));
        }
        let (mode, there) = (source.modes.get(&scope), target.modes.get(&scope));
        if mode != there {
            out.push(format!("{scope}: mode {} on the target, {} on the source", show(there), show(mode)));
        }
    }
    if !covers(Some(&target.global_config), &source.global_config) {
        out.push(format!(
            "global config {} on the target, {} on the source",
            target.global_config, source.global_config
        ));
    }
    if source.global_mode != target.global_mode {
        out.push(format!("global mode {} on the target, {} on the source", target.global_mode, source.global_mode));
    }
    out
}

fn show<T: std::fmt::Display>(value: Option<&T>) -> String {
    value.map_or_else(|| "none".to_string(), ToString::to_string)
}

/// Runs `migrate` from `args.from` into `target`; what it did is printed to stdout. An error when the source or
/// target cannot be read, or anything failed or differs at the end.
pub async fn run(args: &MigrateArgs, target: Endpoint) -> Result<(), String> {
    let source =
        Endpoint::remote(&args.from, args.from_basic.as_deref(), args.from_bearer.as_deref(), args.from_ca.as_deref())
            .map_err(|e| format!("--from: {e}"))?;
    let contents = read(&source, "reading", true).await.map_err(|e| format!("reading the source: {e}"))?;
    let deleted = contents.versions.values().filter(|v| v.deleted).count();
    println!(
        "source {}: {} subjects, {} versions ({deleted} soft-deleted), {} schema ids, {} subject configs, {} subject modes",
        source.name(),
        contents.subjects().len(),
        contents.versions.len(),
        contents.ids().len(),
        contents.configs.len(),
        contents.modes.len()
    );
    for note in &contents.notes {
        println!("note: {note}");
    }
    let before = read(&target, "target", false).await.map_err(|e| format!("reading the target: {e}"))?;
    println!("target {}: {} versions before", target.name(), before.versions.len());
    let plan = plan(&contents, &before);
    if args.dry_run {
        print!("{}", dry_run(&contents, &plan));
        println!("dry run: would {}; nothing was changed", summary(&plan, false));
        return Ok(());
    }
    let failures = apply(&target, &contents, &plan).await;
    println!("{}", summary(&plan, true));
    for conflict in &plan.conflicts {
        println!("conflict: {conflict} (left alone)");
    }
    for failure in &failures {
        println!("failed: {failure}");
    }
    let mut problems = plan.conflicts.len() + failures.len();
    if !args.no_verify {
        let after = read(&target, "verifying", false).await.map_err(|e| format!("reading the target again: {e}"))?;
        let differences = differences(&contents, &after);
        for difference in &differences {
            println!("differs: {difference}");
        }
        if differences.is_empty() {
            println!(
                "verified: {} versions, {} ids, {} subject configs, {} subject modes, the global config and mode equal on both sides",
                contents.versions.len(),
                contents.ids().len(),
                contents.configs.len(),
                contents.modes.len()
            );
        }
        problems += differences.len();
    }
    if problems > 0 {
        return Err(format!("the migration left {problems} problems (listed above)"));
    }
    Ok(())
}

fn summary(plan: &Plan, done: bool) -> String {
    let (import, delete) = if done { ("imported", "soft-deleted") } else { ("import", "soft-delete") };
    let mut summary = format!(
        "{import} {} versions ({} already there), {delete} {}, set {} subject configs and {} subject modes",
        plan.imports.len(),
        plan.present,
        plan.deletes.len(),
        plan.configs.len(),
        plan.modes.len()
    );
    if plan.global_config.is_some() {
        summary.push_str(", set the global config");
    }
    let _ = write!(summary, ", global mode {}", plan.global_mode);
    summary
}

fn dry_run(source: &Contents, plan: &Plan) -> String {
    let mut out = String::new();
    for (subject, number) in &plan.imports {
        let version = &source.versions[&(subject.clone(), *number)];
        let _ = writeln!(out, "would import {subject} version {number} (id {}, {})", version.id, version.schema_type);
    }
    for (subject, number) in &plan.deletes {
        let _ = writeln!(out, "would soft-delete {subject} version {number}");
    }
    for (scope, config) in &plan.configs {
        let _ = match config {
            Some(config) => writeln!(out, "would set {scope}'s config {config}"),
            None => writeln!(out, "would remove {scope}'s config"),
        };
    }
    for (scope, mode) in &plan.modes {
        let _ = match mode {
            Some(mode) => writeln!(out, "would set {scope}'s mode {mode}"),
            None => writeln!(out, "would remove {scope}'s mode"),
        };
    }
    if let Some(config) = &plan.global_config {
        let _ = writeln!(out, "would set the global config {config}");
    }
    for conflict in &plan.conflicts {
        let _ = writeln!(out, "conflict: {conflict} (would be left alone)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(id: u64, references: &[(&str, i64)], deleted: bool) -> Version {
        Version {
            id,
            schema_type: "AVRO".into(),
            schema: format!("\"s{id}\""),
            references: references
                .iter()
                .map(|(subject, version)| Reference {
                    name: subject.to_string(),
                    subject: subject.to_string(),
                    version: *version,
                })
                .collect(),
            metadata: None,
            rule_set: None,
            deleted,
        }
    }

    fn contents(versions: &[(&str, u32, Version)]) -> Contents {
        Contents {
            versions: versions.iter().map(|(s, n, v)| ((s.to_string(), *n), v.clone())).collect(),
            global_mode: "READWRITE".into(),
            ..Contents::default()
        }
    }

    fn position(order: &[Key], subject: &str, number: u32) -> usize {
        order
            .iter()
            .position(|k| k.0 == subject && k.1 == number)
            .unwrap_or_else(|| panic!("{subject} {number} not in {order:?}"))
    }

    /// Each version after its subject's earlier ones and after what it references (a number, or -1: the newest),
    /// across subjects and contexts; soft deletes referrers first; versions the target holds are skipped, or
    /// reported when they differ.
    #[test]
    fn a_plan_orders_imports_after_what_they_need_and_deletes_referrers_first() {
        let source = contents(&[
            ("a-ref", 1, version(1, &[], false)),
            ("a-ref", 3, version(2, &[], true)),
            ("b", 1, version(3, &[("a-ref", 3)], true)),
            ("b", 2, version(4, &[("c", -1)], false)),
            ("c", 1, version(5, &[], false)),
            ("c", 2, version(6, &[], true)),
            (":.team:d", 1, version(1, &[("e", 1)], false)),
            (":.team:e", 1, version(2, &[], false)),
        ]);
        let plan = plan(&source, &Contents { global_mode: "READWRITE".into(), ..Contents::default() });
        let order = &plan.imports;
        assert_eq!(order.len(), 8);
        assert!(position(order, "a-ref", 1) < position(order, "a-ref", 3));
        assert!(position(order, "a-ref", 3) < position(order, "b", 1));
        assert!(position(order, "b", 1) < position(order, "b", 2));
        assert!(position(order, "c", 2) < position(order, "b", 2), "-1 is the newest version");
        assert!(position(order, ":.team:e", 1) < position(order, ":.team:d", 1), "a reference stays in its context");
        assert_eq!(plan.deletes.len(), 3, "{:?}", plan.deletes);
        assert!(position(&plan.deletes, "b", 1) < position(&plan.deletes, "a-ref", 3), "the referrer first");
        let target = contents(&[("a-ref", 1, version(1, &[], false)), ("c", 1, version(9, &[], false))]);
        let again = super::plan(&source, &target);
        assert_eq!((again.imports.len(), again.present, again.conflicts.len()), (6, 1, 1), "{again:?}");
        assert!(again.conflicts[0].contains("c version 1: the target holds id 9"), "{:?}", again.conflicts);
        assert!(!again.imports.contains(&("c".to_string(), 1)), "a version the target holds otherwise is left alone");
    }

    /// The source's scopes end as the source has them: an IMPORT left by an interrupted run is removed, a
    /// READONLY subject the run writes to is opened (IMPORT) and closed again, a context the run writes to is
    /// opened, and a version the target holds otherwise is neither imported nor deleted.
    #[test]
    fn a_plan_makes_the_sources_scopes_as_the_source_has_them() {
        let mut source = contents(&[
            ("a", 1, version(1, &[], false)),
            ("a", 2, version(2, &[], false)),
            ("b", 1, version(3, &[], true)),
            (":.team:c", 1, version(1, &[], false)),
        ]);
        source.modes.insert("a".into(), "READONLY".into());
        source.configs.insert("b".into(), json!({"compatibility": "FULL"}));
        let mut target = contents(&[("a", 1, version(1, &[], false)), ("b", 1, version(7, &[], false))]);
        target.modes.insert("a".into(), "READONLY".into());
        target.modes.insert(":.team:".into(), "IMPORT".into());
        target.configs.insert("a".into(), json!({"compatibility": "NONE"}));
        target.configs.insert("b".into(), json!({"compatibility": "FULL", "normalize": false}));
        let plan = plan(&source, &target);
        assert_eq!(plan.imports, vec![(":.team:c".to_string(), 1), ("a".to_string(), 2)]);
        assert!(plan.deletes.is_empty(), "b 1 conflicts: not the source's to delete: {:?}", plan.deletes);
        assert_eq!(plan.conflicts.len(), 1);
        assert_eq!(plan.configs, vec![("a".to_string(), None)], "b's config covers the source's");
        assert_eq!(plan.modes, vec![(":.team:".to_string(), None)], "an earlier run's IMPORT is removed");
        assert_eq!(plan.opened, BTreeSet::from(["a".to_string(), ":.team:".to_string()]));
        assert!(covers(Some(&json!({"compatibility": "FULL", "x": 1})), &json!({"compatibility": "FULL"})));
        assert!(!covers(Some(&json!({"compatibility": "NONE"})), &json!({"compatibility": "FULL"})));
        assert!(!covers(None, &json!({})));
    }

    /// A registry that answers the global mode for every subject has no subject modes; one that says a subject
    /// has none keeps the others'.
    #[test]
    fn subject_modes_echoing_the_global_one_are_forgotten() {
        let mut echoing = contents(&[("a", 1, version(1, &[], false)), ("b", 1, version(2, &[], false))]);
        echoing.modes = BTreeMap::from([("a".into(), "READWRITE".into()), ("b".into(), "READWRITE".into())]);
        echoing.forget_echoed_modes();
        assert!(echoing.modes.is_empty() && echoing.notes.len() == 1, "{:?}", echoing.notes);
        let mut distinct = contents(&[("a", 1, version(1, &[], false)), ("b", 1, version(2, &[], false))]);
        distinct.modes = BTreeMap::from([("a".into(), "READWRITE".into())]);
        distinct.forget_echoed_modes();
        assert_eq!(distinct.modes.len(), 1);
        assert!(distinct.notes.is_empty());
    }

    #[test]
    fn contexts_and_segments() {
        assert_eq!(context_of(":.team:orders"), ":.team:");
        assert_eq!(context_of("orders"), "");
        assert_eq!(context_of(":.team:"), ":.team:");
        assert_eq!(segment(":.team:a b/c"), ":.team:a%20b%2Fc");
        let reference = Reference { name: "n".into(), subject: "e".into(), version: 1 };
        assert_eq!(referenced_subject(":.team:d", &reference), ":.team:e");
        let qualified = Reference { subject: ":.other:e".into(), ..reference };
        assert_eq!(referenced_subject(":.team:d", &qualified), ":.other:e");
    }

    #[test]
    fn config_answers_become_put_bodies() {
        let answer = json!({"compatibilityLevel": "FULL", "normalize": null, "alias": "x"});
        assert_eq!(config_body(&answer), json!({"compatibility": "FULL", "alias": "x"}));
    }
}
