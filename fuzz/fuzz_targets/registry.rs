//! `Registry` against a `BTreeMap` model, over storage that fails on purpose (as redb's own `fuzz_redb` does):
//! the input is a sequence of registrations (plain and IMPORT), lookups, reads, deletes, config and mode changes,
//! interleaved with injected faults (a read, write, sync or growth failing after a countdown, a disk filling up),
//! heals, power cuts and reopenings of the memory disk.
//!
//! After every operation the registry must agree with the model: every answer (ids, versions, dedup, the
//! records' texts, the typed error a rule gives), and the whole observable state (every version of every subject,
//! every id's record, the listings, counts, levels and modes). A store failure is allowed only while an injected
//! fault has fired since the last heal, and only as `RegistryError::Storage`; a write that fails "outcome unknown"
//! may have landed or not, so the model keeps both worlds until a read tells them apart. After a power cut,
//! everything acknowledged is still there; after a heal the registry serves again by itself.

#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use registry_core::compat::{self, CompatibilityLevel};
use registry_core::{
    Limits, NoReferences, ParsedSchema, SchemaId, SchemaType, Subject, UnparsedSchema, Version, VersionSelector,
};
use registry_store::faults::{Faults, Operation};
use registry_store::{
    Deleted, Deletion, Mode, RegisterOptions, Registry, RegistryError, RegistryOptions, SchemaVersion, Scope,
};

/// Operations per input: enough for faults, deletes and re-registrations to interleave, few enough to stay fast.
const MAX_OPS: usize = 48;
/// How many worlds an unknown outcome may leave open before the input is given up as uninformative.
const MAX_WORLDS: usize = 64;

const SUBJECTS: [&str; 3] = ["s0", "s1", "s2"];

/// Schemas whose compatibility differs pairwise, plus one text that differs from the first only in spacing (the
/// same fingerprint, so the same id; the record holds the canonical text, that of its fingerprint class).
const SCHEMAS: [(SchemaType, &str); 8] = [
    (SchemaType::Avro, r#"{"type":"record","name":"R","fields":[{"name":"a","type":"long"}]}"#),
    (
        SchemaType::Avro,
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"b","type":"string","default":""}]}"#,
    ),
    (
        SchemaType::Avro,
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"c","type":"int"}]}"#,
    ),
    (SchemaType::Avro, r#"{"type":"record","name":"R","fields":[{"name":"b","type":"string"}]}"#),
    (SchemaType::Avro, r#"{ "type": "record", "name": "R", "fields": [ { "name": "a", "type": "long" } ] }"#),
    (SchemaType::Json, r#"{"type":"object","properties":{"a":{"type":"integer"}}}"#),
    (SchemaType::Json, r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#),
    (SchemaType::Avro, r#""string""#),
];

/// Ids an import may give: small ones that collide, and the last ones, after which no id is left to allocate.
const GIVEN_IDS: [u32; 8] = [0, 1, 2, 3, 5, 8, u32::MAX - 1, u32::MAX];
/// Versions an import may give, the last one after which a subject has no version number left.
const GIVEN_VERSIONS: [u32; 6] = [1, 2, 3, 5, 0x7fff_fffe, 0x7fff_ffff];

const MODES: [Mode; 3] = [Mode::Readwrite, Mode::Readonly, Mode::Import];

struct Fixture {
    subjects: Vec<Subject>,
    schemas: Vec<UnparsedSchema>,
    parsed: Vec<ParsedSchema>,
    /// Each schema's fingerprint class: the index of the first schema with the same fingerprint.
    class: Vec<usize>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let subjects = SUBJECTS.iter().map(|s| Subject::new(s).expect("a subject name")).collect();
        let schemas: Vec<UnparsedSchema> = SCHEMAS.iter().map(|(t, text)| UnparsedSchema::new(*t, *text)).collect();
        let parsed: Vec<ParsedSchema> = schemas
            .iter()
            .map(|s| registry_core::parse(s, &NoReferences, &Limits::default()).expect("a fixture schema parses"))
            .collect();
        let class = (0..parsed.len())
            .map(|i| (0..=i).find(|&j| parsed[j].fingerprint() == parsed[i].fingerprint()).expect("itself"))
            .collect();
        Fixture { subjects, schemas, parsed, class }
    })
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Op {
    Register {
        subject: u8,
        schema: u8,
    },
    Import {
        subject: u8,
        schema: u8,
        id: Option<u8>,
        version: Option<u8>,
    },
    Lookup {
        subject: u8,
        schema: u8,
        deleted: u8,
    },
    SchemaById {
        id: u8,
    },
    GetVersion {
        subject: u8,
        version: Option<u8>,
        deleted: u8,
    },
    ListVersions {
        subject: u8,
        deleted: u8,
    },
    ListSubjects {
        deleted: u8,
    },
    VersionsForId {
        id: u8,
        deleted: u8,
    },
    DeleteVersion {
        subject: u8,
        version: Option<u8>,
        permanent: bool,
    },
    DeleteSubject {
        subject: u8,
        permanent: bool,
    },
    SetConfig {
        scope: u8,
        level: u8,
    },
    DeleteConfig {
        scope: u8,
    },
    SetMode {
        scope: u8,
        mode: u8,
        force: bool,
    },
    DeleteMode {
        scope: u8,
    },
    /// After `after` more successful calls of the operation, the next `times` fail (255: until healed).
    Fail {
        operation: u8,
        after: u8,
        times: u8,
    },
    /// The disk has room for `room` × 256 bytes more than it holds now.
    FillDisk {
        room: u8,
    },
    /// Every fault stops; with `wait`, the registry must serve again by itself.
    Heal {
        wait: bool,
    },
    PowerCut,
    Reopen,
}

impl Op {
    fn is_write(self) -> bool {
        matches!(
            self,
            Op::Register { .. }
                | Op::Import { .. }
                | Op::DeleteVersion { .. }
                | Op::DeleteSubject { .. }
                | Op::SetConfig { .. }
                | Op::DeleteConfig { .. }
                | Op::SetMode { .. }
                | Op::DeleteMode { .. }
        )
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    caches: bool,
    ops: Vec<Op>,
}

fn pick<const N: usize, T: Copy>(items: &[T; N], i: u8) -> T {
    items[usize::from(i) % N]
}

fn subject_index(i: u8) -> usize {
    usize::from(i) % SUBJECTS.len()
}

fn schema_index(i: u8) -> usize {
    usize::from(i) % SCHEMAS.len()
}

/// The scope index: a subject's, or `SUBJECTS.len()` for the global scope.
fn scope_index(i: u8) -> usize {
    usize::from(i) % (SUBJECTS.len() + 1)
}

fn deleted(i: u8) -> Deleted {
    pick(&[Deleted::Exclude, Deleted::Include, Deleted::Only], i)
}

fn admits(deleted: Deleted, flag: bool) -> bool {
    match deleted {
        Deleted::Exclude => !flag,
        Deleted::Only => flag,
        _ => true,
    }
}

/// An operation's answer, as the model predicts it and as the registry gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Registered {
        id: u32,
        version: u32,
        deduplicated: bool,
    },
    /// A version: (version, id, soft-deleted, the text of its id's record).
    Found(u32, u32, bool, usize),
    Text(usize),
    Versions(Vec<(u32, u32, bool)>),
    Deleted(Vec<u32>),
    Subjects(Vec<usize>),
    Uses(Vec<(usize, u32, bool)>),
    Level(CompatibilityLevel),
    Mode(Mode),
    Done,
    Error(&'static str),
}

/// The whole state as the registry shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Observed {
    /// Every version of each subject: (version, id, soft-deleted).
    versions: Vec<Vec<(u32, u32, bool)>>,
    /// The subject listings with deleted excluded, included, only.
    listings: [Vec<usize>; 3],
    /// Each probed id's record text, if it has one.
    records: Vec<(u32, Option<usize>)>,
    levels: Vec<Option<CompatibilityLevel>>,
    modes: Vec<Option<Mode>>,
    counts: (u64, u64),
}

/// What the registry must hold: one possible world.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Model {
    next_id: u64,
    /// Fingerprint class -> id, forever: an id is never bound to another schema.
    bound: BTreeMap<usize, u32>,
    /// Id -> the text index its record holds; a record lives while a version (live or soft-deleted) uses the id.
    records: BTreeMap<u32, usize>,
    /// Per subject: version -> (id, soft-deleted).
    subjects: Vec<BTreeMap<u32, (u32, bool)>>,
    /// Per scope (the subjects', then the global one).
    levels: Vec<Option<CompatibilityLevel>>,
    modes: Vec<Option<Mode>>,
}

impl Model {
    fn new() -> Self {
        let scopes = SUBJECTS.len() + 1;
        Self {
            next_id: 1,
            bound: BTreeMap::new(),
            records: BTreeMap::new(),
            subjects: vec![BTreeMap::new(); SUBJECTS.len()],
            levels: vec![None; scopes],
            modes: vec![None; scopes],
        }
    }

    fn level(&self, s: usize) -> CompatibilityLevel {
        self.levels[s].or(self.levels[SUBJECTS.len()]).unwrap_or_default()
    }

    fn mode(&self, s: usize) -> Mode {
        self.modes[s].or(self.modes[SUBJECTS.len()]).unwrap_or_default()
    }

    /// A read-only mode refuses config changes: the subject's, or the registry's for the global config.
    fn config_refused(&self, scope: usize) -> Option<Answer> {
        match (scope == SUBJECTS.len(), self.mode(scope) == Mode::Readonly) {
            (_, false) => None,
            (true, true) => Some(Answer::Error("RegistryReadOnly")),
            (false, true) => Some(Answer::Error("ReadOnly")),
        }
    }

    fn id_in_use(&self, id: u32) -> bool {
        self.subjects.iter().any(|versions| versions.values().any(|(i, _)| *i == id))
    }

    /// Applies `op` to this world; returns its answer. A refused operation leaves the world as it was.
    fn apply(&mut self, op: Op) -> Answer {
        let f = fixture();
        match op {
            Op::Register { subject, schema } => self.register(subject_index(subject), schema_index(schema), None, None),
            Op::Import { subject, schema, id, version } => self.register(
                subject_index(subject),
                schema_index(schema),
                id.map(|i| pick(&GIVEN_IDS, i)),
                version.map(|v| pick(&GIVEN_VERSIONS, v)),
            ),
            Op::Lookup { subject, schema, deleted: d } => {
                let (s, i, d) = (subject_index(subject), schema_index(schema), deleted(d));
                let versions = &self.subjects[s];
                if !versions.values().any(|(_, flag)| admits(d, *flag)) {
                    return Answer::Error("SubjectNotFound");
                }
                let Some(&id) = self.bound.get(&f.class[i]) else { return Answer::Error("SchemaNotInSubject") };
                match versions.iter().rev().find(|(_, (i, flag))| *i == id && admits(d, *flag)) {
                    Some((v, (_, flag))) => Answer::Found(*v, id, *flag, self.records[&id]),
                    None => Answer::Error("SchemaNotInSubject"),
                }
            }
            Op::SchemaById { id } => match self.records.get(&pick(&GIVEN_IDS, id)) {
                Some(text) => Answer::Text(*text),
                None => Answer::Error("SchemaNotFound"),
            },
            Op::GetVersion { subject, version, deleted: d } => {
                let (s, d) = (subject_index(subject), deleted(d));
                let mut admitted = self.subjects[s].iter().filter(|(_, (_, flag))| admits(d, *flag));
                let found = match version {
                    None => admitted.next_back(),
                    Some(v) => admitted.find(|(version, _)| **version == pick(&GIVEN_VERSIONS, v)),
                };
                match found {
                    Some((v, (id, flag))) => Answer::Found(*v, *id, *flag, self.records[id]),
                    None if version.is_some() && self.subjects[s].values().any(|(_, flag)| admits(d, *flag)) => {
                        Answer::Error("VersionNotFound")
                    }
                    None => Answer::Error("SubjectNotFound"),
                }
            }
            Op::ListVersions { subject, deleted: d } => {
                let listed = self.version_list(subject_index(subject), deleted(d));
                if listed.is_empty() { Answer::Error("SubjectNotFound") } else { Answer::Versions(listed) }
            }
            Op::ListSubjects { deleted: d } => Answer::Subjects(self.listing(deleted(d))),
            Op::VersionsForId { id, deleted: d } => {
                let id = pick(&GIVEN_IDS, id);
                if !self.id_in_use(id) {
                    return Answer::Error("SchemaNotFound");
                }
                let mut uses = Vec::new();
                for (s, versions) in self.subjects.iter().enumerate() {
                    for (v, (i, flag)) in versions {
                        if *i == id && admits(deleted(d), *flag) {
                            uses.push((s, *v, *flag));
                        }
                    }
                }
                Answer::Uses(uses)
            }
            Op::DeleteVersion { subject, version, permanent } => {
                let s = subject_index(subject);
                if self.mode(s) == Mode::Readonly {
                    return Answer::Error("ReadOnly");
                }
                let versions = &mut self.subjects[s];
                if versions.is_empty() {
                    return Answer::Error("SubjectNotFound");
                }
                let found = match (version, permanent) {
                    (None, false) => versions.iter().rev().find(|(_, (_, flag))| !flag).map(|(v, _)| *v),
                    (None, true) => versions.keys().next_back().copied(),
                    (Some(v), _) => Some(pick(&GIVEN_VERSIONS, v)).filter(|v| versions.contains_key(v)),
                };
                let Some(v) = found else {
                    return Answer::Error(if version.is_some() { "VersionNotFound" } else { "SubjectNotFound" });
                };
                let (id, flag) = versions[&v];
                match (permanent, flag) {
                    (false, true) => Answer::Error("VersionSoftDeleted"),
                    (true, false) => Answer::Error("VersionNotSoftDeleted"),
                    (false, false) => {
                        versions.insert(v, (id, true));
                        Answer::Deleted(vec![v])
                    }
                    (true, true) => {
                        versions.remove(&v);
                        self.drop_unused(id);
                        Answer::Deleted(vec![v])
                    }
                }
            }
            Op::DeleteSubject { subject, permanent } => {
                let s = subject_index(subject);
                if self.mode(s) == Mode::Readonly {
                    return Answer::Error("ReadOnly");
                }
                let versions = &mut self.subjects[s];
                if versions.is_empty() {
                    return Answer::Error("SubjectNotFound");
                }
                let any_live = versions.values().any(|(_, flag)| !flag);
                match (permanent, any_live) {
                    (false, false) => Answer::Error("SubjectSoftDeleted"),
                    (true, true) => Answer::Error("SubjectNotSoftDeleted"),
                    (false, true) => {
                        let mut out = Vec::new();
                        for (v, (_, flag)) in versions.iter_mut().filter(|(_, (_, flag))| !flag) {
                            *flag = true;
                            out.push(*v);
                        }
                        Answer::Deleted(out)
                    }
                    (true, false) => {
                        let gone = std::mem::take(versions);
                        for (_, (id, _)) in &gone {
                            self.drop_unused(*id);
                        }
                        self.levels[s] = None;
                        self.modes[s] = None;
                        Answer::Deleted(gone.into_keys().collect())
                    }
                }
            }
            Op::SetConfig { scope, level } => {
                let scope = scope_index(scope);
                if let Some(refused) = self.config_refused(scope) {
                    return refused;
                }
                self.levels[scope] = Some(pick(&CompatibilityLevel::ALL, level));
                Answer::Done
            }
            Op::DeleteConfig { scope } => {
                let scope = scope_index(scope);
                if let Some(refused) = self.config_refused(scope) {
                    return refused;
                }
                match (self.levels[scope].take(), scope == SUBJECTS.len()) {
                    (Some(level), _) => Answer::Level(level),
                    (None, true) => Answer::Level(CompatibilityLevel::default()),
                    (None, false) => Answer::Error("SubjectLevelNotConfigured"),
                }
            }
            Op::SetMode { scope, mode, force } => {
                let (scope, mode) = (scope_index(scope), pick(&MODES, mode));
                let non_empty = match self.subjects.get(scope) {
                    Some(versions) => !versions.is_empty(),
                    None => self.subjects.iter().any(|versions| !versions.is_empty()),
                };
                if mode == Mode::Import && !force && non_empty {
                    return Answer::Error("ImportNotEmpty");
                }
                self.modes[scope] = Some(mode);
                Answer::Done
            }
            Op::DeleteMode { scope } => {
                let scope = scope_index(scope);
                match (self.modes[scope].take(), scope == SUBJECTS.len()) {
                    (Some(mode), _) => Answer::Mode(mode),
                    (None, true) => Answer::Mode(Mode::default()),
                    (None, false) => Answer::Error("SubjectModeNotConfigured"),
                }
            }
            Op::Fail { .. } | Op::FillDisk { .. } | Op::Heal { .. } | Op::PowerCut | Op::Reopen => Answer::Done,
        }
    }

    /// A registration, in the order of the registry's rules: the mode, dedup, the id, the version, compatibility.
    fn register(&mut self, s: usize, i: usize, given_id: Option<u32>, given_version: Option<u32>) -> Answer {
        let f = fixture();
        let mode = self.mode(s);
        if mode == Mode::Readonly {
            return Answer::Error("ReadOnly");
        }
        if given_id.is_some() && mode != Mode::Import {
            return Answer::Error("NotImportMode");
        }
        let class = f.class[i];
        let known = self.bound.get(&class).copied();
        let versions = &self.subjects[s];
        if let Some(known) = known
            && let Some((v, _)) = versions.iter().rev().find(|(_, (id, flag))| !flag && *id == known)
            && given_id.is_none_or(|given| given == known)
            && given_version.is_none_or(|given| given == *v)
        {
            return Answer::Registered { id: known, version: *v, deduplicated: true };
        }
        match (given_id, known) {
            (Some(given), Some(known)) if given != known => return Answer::Error("IdMismatch"),
            (Some(given), _) if self.bound.iter().any(|(c, id)| *id == given && *c != class) => {
                return Answer::Error("IdTaken");
            }
            _ => {}
        }
        let next = match versions.keys().next_back() {
            None => Ok(1),
            Some(&latest) if latest >= Version::MAX.get() => Err(Answer::Error("VersionsExhausted")),
            Some(&latest) => Ok(latest + 1),
        };
        // Outside IMPORT mode a version may be named only as the subject's next one.
        let version = match given_version {
            Some(given) if mode != Mode::Import => match next {
                Ok(next) if next == given => given,
                Ok(_) => return Answer::Error("VersionNotNext"),
                Err(exhausted) => return exhausted,
            },
            Some(given) if versions.contains_key(&given) => return Answer::Error("VersionExists"),
            Some(given) => given,
            None => match next {
                Ok(next) => next,
                Err(exhausted) => return exhausted,
            },
        };
        if mode != Mode::Import {
            let live: Vec<(Version, &ParsedSchema)> = versions
                .iter()
                .rev()
                .filter(|(_, (_, flag))| !flag)
                .map(|(v, (id, _))| (Version::new(*v).expect("a version"), &f.parsed[self.records[id]]))
                .collect();
            match compat::check(self.level(s), &f.parsed[i], &live) {
                Ok(report) if report.is_compatible() => {}
                Ok(_) => return Answer::Error("Incompatible"),
                Err(_) => return Answer::Error("CompatibilityUnavailable"),
            }
        }
        let id = match (given_id, known) {
            (Some(given), _) => {
                self.next_id = self.next_id.max(u64::from(given) + 1);
                given
            }
            (None, Some(known)) => known,
            (None, None) => {
                let Ok(id) = u32::try_from(self.next_id) else { return Answer::Error("IdsExhausted") };
                self.next_id += 1;
                id
            }
        };
        self.bound.insert(class, id);
        self.records.entry(id).or_insert(class);
        self.subjects[s].insert(version, (id, false));
        Answer::Registered { id, version, deduplicated: false }
    }

    /// A permanent delete took a use of `id` away: with none left its record goes (its binding stays).
    fn drop_unused(&mut self, id: u32) {
        if !self.id_in_use(id) {
            self.records.remove(&id);
        }
    }

    fn version_list(&self, s: usize, d: Deleted) -> Vec<(u32, u32, bool)> {
        self.subjects[s]
            .iter()
            .filter(|(_, (_, flag))| admits(d, *flag))
            .map(|(v, (id, flag))| (*v, *id, *flag))
            .collect()
    }

    fn listing(&self, d: Deleted) -> Vec<usize> {
        (0..SUBJECTS.len())
            .filter(|&s| {
                let versions = &self.subjects[s];
                let live = versions.values().any(|(_, flag)| !flag);
                let soft = versions.values().any(|(_, flag)| *flag);
                match d {
                    Deleted::Exclude => live,
                    Deleted::Only => soft && !live,
                    _ => live || soft,
                }
            })
            .collect()
    }

    fn observed(&self, probes: &[u32]) -> Observed {
        Observed {
            versions: (0..SUBJECTS.len()).map(|s| self.version_list(s, Deleted::Include)).collect(),
            listings: [Deleted::Exclude, Deleted::Include, Deleted::Only].map(|d| self.listing(d)),
            records: probes.iter().map(|id| (*id, self.records.get(id).copied())).collect(),
            levels: self.levels.clone(),
            modes: self.modes.clone(),
            counts: (self.listing(Deleted::Exclude).len() as u64, self.records.len() as u64),
        }
    }
}

/// The name of a typed error the model predicts; a store failure is not one.
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
        RegistryError::SubjectLevelNotConfigured(_) => "SubjectLevelNotConfigured",
        RegistryError::SubjectModeNotConfigured(_) => "SubjectModeNotConfigured",
        RegistryError::Incompatible { .. } => "Incompatible",
        RegistryError::CompatibilityUnavailable(_) => "CompatibilityUnavailable",
        RegistryError::ReadOnly(_) => "ReadOnly",
        RegistryError::RegistryReadOnly => "RegistryReadOnly",
        RegistryError::NotImportMode(_) => "NotImportMode",
        RegistryError::VersionNotNext { .. } => "VersionNotNext",
        RegistryError::ImportNotEmpty => "ImportNotEmpty",
        RegistryError::IdMismatch { .. } => "IdMismatch",
        RegistryError::IdTaken(_) => "IdTaken",
        RegistryError::VersionExists { .. } => "VersionExists",
        RegistryError::VersionsExhausted(_) => "VersionsExhausted",
        RegistryError::IdsExhausted => "IdsExhausted",
        other => panic!("an error no rule gives here: {other} ({other:?})"),
    }
}

/// The fingerprint class of a stored text: records hold the canonical text of what was registered.
fn text_index(text: &str) -> usize {
    let f = fixture();
    f.parsed
        .iter()
        .position(|parsed| parsed.text() == text)
        .map(|i| f.class[i])
        .unwrap_or_else(|| panic!("a record holds a text never registered: {text}"))
}

fn found(v: &SchemaVersion) -> Answer {
    Answer::Found(v.version.get(), v.schema.id.0, v.deleted, text_index(&v.schema.text))
}

fn scope(i: u8) -> Scope<'static> {
    match fixture().subjects.get(scope_index(i)) {
        Some(subject) => Scope::Subject(subject),
        None => Scope::Global,
    }
}

fn selector(version: Option<u8>) -> VersionSelector {
    match version {
        None => VersionSelector::Latest,
        Some(v) => VersionSelector::Number(Version::new(pick(&GIVEN_VERSIONS, v)).expect("a version")),
    }
}

fn how(permanent: bool) -> Deletion {
    if permanent { Deletion::Permanent } else { Deletion::Soft }
}

/// Runs `op` on the registry.
fn run(registry: &Registry, op: Op) -> Result<Answer, RegistryError> {
    let f = fixture();
    let subject = |i: u8| &f.subjects[subject_index(i)];
    let schema = |i: u8| &f.schemas[schema_index(i)];
    let registered = |r: registry_store::Registered| Answer::Registered {
        id: r.id.0,
        version: r.version.get(),
        deduplicated: r.deduplicated,
    };
    Ok(match op {
        Op::Register { subject: s, schema: i } => {
            // Half the registrations cache the record they write, as the server's do: a stale one would show as a
            // schema read by id after its delete.
            let options = RegisterOptions { cache_record: i % 2 == 0, ..RegisterOptions::default() };
            registered(registry.register_with(subject(s), schema(i), options)?)
        }
        Op::Import { subject: s, schema: i, id, version } => {
            let options = RegisterOptions {
                id: id.map(|i| SchemaId(pick(&GIVEN_IDS, i))),
                version: version.map(|v| Version::new(pick(&GIVEN_VERSIONS, v)).expect("a version")),
                ..RegisterOptions::default()
            };
            registered(registry.register_with(subject(s), schema(i), options)?)
        }
        Op::Lookup { subject: s, schema: i, deleted: d } => {
            found(&registry.lookup(subject(s), schema(i), deleted(d))?)
        }
        Op::SchemaById { id } => Answer::Text(text_index(&registry.schema_by_id(SchemaId(pick(&GIVEN_IDS, id)))?.text)),
        Op::GetVersion { subject: s, version, deleted: d } => {
            found(&registry.version(subject(s), selector(version), deleted(d))?)
        }
        Op::ListVersions { subject: s, deleted: d } => Answer::Versions(
            registry
                .version_list(subject(s), deleted(d))?
                .iter()
                .map(|v| (v.version.get(), v.id.0, v.deleted))
                .collect(),
        ),
        Op::ListSubjects { deleted: d } => {
            Answer::Subjects(registry.subjects("", deleted(d))?.iter().map(|s| subject_of(s.as_str())).collect())
        }
        Op::VersionsForId { id, deleted: d } => Answer::Uses(
            registry
                .versions_for_id(SchemaId(pick(&GIVEN_IDS, id)), deleted(d))?
                .iter()
                .map(|u| (subject_of(u.subject.as_str()), u.version.get(), u.deleted))
                .collect(),
        ),
        Op::DeleteVersion { subject: s, version, permanent } => {
            Answer::Deleted(vec![registry.delete_version(subject(s), selector(version), how(permanent))?.get()])
        }
        Op::DeleteSubject { subject: s, permanent } => {
            Answer::Deleted(registry.delete_subject(subject(s), how(permanent))?.iter().map(|v| v.get()).collect())
        }
        Op::SetConfig { scope: i, level } => {
            registry.set_config(scope(i), pick(&CompatibilityLevel::ALL, level))?;
            Answer::Done
        }
        Op::DeleteConfig { scope: i } => Answer::Level(registry.delete_config(scope(i))?),
        Op::SetMode { scope: i, mode, force } => {
            registry.set_mode(scope(i), pick(&MODES, mode), force)?;
            Answer::Done
        }
        Op::DeleteMode { scope: i } => Answer::Mode(registry.delete_mode(scope(i))?),
        Op::Fail { .. } | Op::FillDisk { .. } | Op::Heal { .. } | Op::PowerCut | Op::Reopen => Answer::Done,
    })
}

fn subject_of(name: &str) -> usize {
    SUBJECTS.iter().position(|s| *s == name).unwrap_or_else(|| panic!("a subject never written: {name}"))
}

/// Reads the whole state. `Err` only for a store failure; anything else that does not fit is a finding.
fn observe(registry: &Registry, probes: &[u32]) -> Result<Observed, RegistryError> {
    let f = fixture();
    let store_failure = |e: RegistryError| match e {
        RegistryError::Storage(_) => e,
        other => panic!("a read failed with a non-storage error: {other} ({other:?})"),
    };
    let mut versions = Vec::new();
    for subject in &f.subjects {
        versions.push(match registry.version_list(subject, Deleted::Include) {
            Ok(list) => list.iter().map(|v| (v.version.get(), v.id.0, v.deleted)).collect(),
            Err(RegistryError::SubjectNotFound(_)) => Vec::new(),
            Err(e) => return Err(store_failure(e)),
        });
    }
    let mut listings: [Vec<usize>; 3] = Default::default();
    for (listing, d) in listings.iter_mut().zip([Deleted::Exclude, Deleted::Include, Deleted::Only]) {
        *listing = registry.subjects("", d).map_err(store_failure)?.iter().map(|s| subject_of(s.as_str())).collect();
    }
    let mut records = Vec::new();
    for id in probes {
        records.push((
            *id,
            match registry.schema_by_id(SchemaId(*id)) {
                Ok(schema) => {
                    assert_eq!(schema.id.0, *id, "the record read for id {id} is another id's");
                    Some(text_index(&schema.text))
                }
                Err(RegistryError::SchemaNotFound(_)) => None,
                Err(e) => return Err(store_failure(e)),
            },
        ));
    }
    let scopes = || f.subjects.iter().map(Scope::Subject).chain([Scope::Global]);
    let levels = scopes().map(|s| registry.config(s)).collect::<Result<_, _>>().map_err(store_failure)?;
    let modes = scopes().map(|s| registry.mode(s)).collect::<Result<_, _>>().map_err(store_failure)?;
    let counts = registry.counts().map_err(store_failure)?;
    Ok(Observed { versions, listings, records, levels, modes, counts: (counts.subjects, counts.schemas) })
}

struct Harness {
    faults: Faults,
    options: RegistryOptions,
    registry: Option<Registry>,
    /// The worlds the registry may be in: more than one after a write whose outcome is unknown.
    worlds: Vec<Model>,
    /// Failures injected as of the last heal: a store failure is allowed only once more have been.
    injected_at_heal: u64,
    log: Vec<String>,
}

impl Harness {
    fn registry(&self) -> &Registry {
        self.registry.as_ref().expect("a registry is open")
    }

    fn faulted(&self) -> bool {
        self.faults.injected() > self.injected_at_heal
    }

    fn fail(&self, what: &str) -> ! {
        panic!("{what}\nworlds: {:#?}\nops so far:\n{}", self.worlds, self.log.join("\n"))
    }

    fn allow_store_failure(&self, what: &str, e: &RegistryError) {
        if !matches!(e, RegistryError::Storage(_)) {
            self.fail(&format!("{what} failed with {e} ({e:?})"));
        }
        if !self.faulted() {
            self.fail(&format!("{what} failed with a store failure though no fault has fired since the heal: {e}"));
        }
    }

    fn open(&self) -> Result<Registry, RegistryError> {
        Registry::open_with_faults(None, &self.faults, self.options.clone())
    }

    /// Stops every fault. The registry opens its database again by itself on its next operation, but after a
    /// failed try it waits a pause (200 ms) before the next one: with `wait` the heal waits for it to serve again by
    /// itself (at most 5 s), without it a registry in its pause is restarted instead, which keeps inputs fast.
    fn heal(&mut self, wait: bool) {
        self.faults.heal();
        let started = Instant::now();
        loop {
            match self.registry().health() {
                Ok(()) => break,
                Err(RegistryError::Storage(e)) if e.is_unavailable() && !wait => {
                    drop(self.registry.take());
                    let registry = self.open().unwrap_or_else(|e| self.fail(&format!("no restart once healed: {e}")));
                    self.registry = Some(registry);
                    break;
                }
                Err(RegistryError::Storage(e)) if e.is_unavailable() && started.elapsed() < Duration::from_secs(5) => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => self.fail(&format!("healed, the registry answers {e} ({e:?})")),
            }
        }
        self.injected_at_heal = self.faults.injected();
    }

    fn step(&mut self, op: Op) {
        self.log.push(format!("{op:?}"));
        match op {
            Op::Fail { operation, after, times } => {
                let times = if times == u8::MAX { u64::MAX } else { u64::from(times % 4) };
                self.faults.fail(pick(&Operation::ALL, operation), u64::from(after), times);
            }
            Op::FillDisk { room } => self.faults.limit_size(self.faults.disk_bytes() + u64::from(room) * 256),
            Op::Heal { wait } => self.heal(wait),
            Op::PowerCut => {
                // What was not synced is lost; what was acknowledged was synced, so it must all be there.
                self.faults.power_cut();
                drop(self.registry.take());
                self.faults.heal();
                self.registry = Some(self.open().unwrap_or_else(|e| self.fail(&format!("no reopen after a cut: {e}"))));
                self.injected_at_heal = self.faults.injected();
            }
            Op::Reopen => {
                // Closed and opened again with the faults still armed; opening may fail only on one of them.
                drop(self.registry.take());
                let registry = match self.open() {
                    Ok(registry) => registry,
                    Err(e) => {
                        self.allow_store_failure("opening again", &e);
                        self.faults.heal();
                        self.injected_at_heal = self.faults.injected();
                        self.open().unwrap_or_else(|e| self.fail(&format!("no reopen once healed: {e}")))
                    }
                };
                self.registry = Some(registry);
            }
            _ => self.operate(op),
        }
        self.reconcile();
    }

    fn operate(&mut self, op: Op) {
        let actual = run(self.registry(), op);
        match actual {
            Err(RegistryError::Storage(ref e)) => {
                self.allow_store_failure(&format!("{op:?}"), actual.as_ref().unwrap_err());
                if e.is_outcome_unknown() {
                    if !op.is_write() {
                        self.fail(&format!("{op:?}, a read, failed with an unknown outcome: {e}"));
                    }
                    // It landed or it did not: both worlds stay until a read tells them apart.
                    let mut worlds = Vec::new();
                    for world in &self.worlds {
                        let mut landed = world.clone();
                        if !matches!(landed.apply(op), Answer::Error(_)) && !worlds.contains(&landed) {
                            worlds.push(landed);
                        }
                        if !worlds.contains(world) {
                            worlds.push(world.clone());
                        }
                    }
                    self.worlds = worlds;
                }
            }
            answer => {
                let answer = answer.unwrap_or_else(|e| Answer::Error(error_name(&e)));
                let mut expected = Vec::new();
                let mut worlds = Vec::new();
                for world in &self.worlds {
                    let mut after = world.clone();
                    let predicted = after.apply(op);
                    if predicted == answer {
                        if !worlds.contains(&after) {
                            worlds.push(after);
                        }
                    } else {
                        expected.push(predicted);
                    }
                }
                if worlds.is_empty() {
                    self.fail(&format!("{op:?} answered {answer:?}; the model expected one of {expected:?}"));
                }
                self.worlds = worlds;
            }
        }
        self.log.push(format!("  -> {} world(s)", self.worlds.len()));
    }

    /// Reads the whole state and keeps the worlds it matches; at least one must.
    fn reconcile(&mut self) {
        let mut probes: Vec<u32> = GIVEN_IDS.to_vec();
        for world in &self.worlds {
            probes.extend(world.bound.values());
            probes.extend(world.next_id.checked_sub(1).and_then(|id| u32::try_from(id).ok()));
        }
        probes.sort_unstable();
        probes.dedup();
        let observed = match observe(self.registry(), &probes) {
            Ok(observed) => observed,
            Err(e) => {
                self.allow_store_failure("a read of the whole state", &e);
                return;
            }
        };
        let before = self.worlds.len();
        self.worlds.retain(|world| world.observed(&probes) == observed);
        if self.worlds.is_empty() {
            self.fail(&format!("the registry holds {observed:#?}, which none of the {before} world(s) does"));
        }
    }
}

fuzz_target!(|input: Input| {
    let options = if input.caches {
        RegistryOptions::default().with_cache_budget(1 << 20)
    } else {
        RegistryOptions { schema_cache_bytes: 0, store_cache_bytes: 0, ..RegistryOptions::default() }
    };
    let faults = Faults::new();
    let registry = Registry::open_with_faults(None, &faults, options.clone()).expect("a new memory disk opens");
    let mut harness = Harness {
        faults,
        options,
        registry: Some(registry),
        worlds: vec![Model::new()],
        injected_at_heal: 0,
        log: Vec::new(),
    };
    for op in input.ops.into_iter().take(MAX_OPS) {
        harness.step(op);
        if harness.worlds.len() > MAX_WORLDS {
            return;
        }
    }
    // Healed at the end, it serves, and holds one of the worlds.
    harness.heal(false);
    harness.reconcile();
});
