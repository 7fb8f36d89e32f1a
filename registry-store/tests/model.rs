//! Property test: random sequences of register / delete / lookup against a `BTreeMap` model of subjects and
//! versions agree on ids, versions, deduplication and errors.

use std::collections::BTreeMap;

use proptest::prelude::*;
use registry_core::compat::CompatibilityLevel;
use registry_core::{SchemaId, SchemaType, Subject, UnparsedSchema, Version, VersionSelector};
use registry_store::{Deleted, Deletion, Registry, RegistryError, RegistryOptions, Scope};
use support::Backend;

mod support;

const SUBJECTS: usize = 3;
const SCHEMAS: usize = 5;

#[derive(Debug, Clone)]
enum Op {
    Register { subject: usize, schema: usize },
    Lookup { subject: usize, schema: usize },
    DeleteVersion { subject: usize, version: u32, permanent: bool },
    DeleteSubject { subject: usize, permanent: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..SUBJECTS, 0..SCHEMAS).prop_map(|(subject, schema)| Op::Register { subject, schema }),
        2 => (0..SUBJECTS, 0..SCHEMAS).prop_map(|(subject, schema)| Op::Lookup { subject, schema }),
        2 => (0..SUBJECTS, 1..6u32, any::<bool>()).prop_map(|(subject, version, permanent)| Op::DeleteVersion { subject, version, permanent }),
        1 => (0..SUBJECTS, any::<bool>()).prop_map(|(subject, permanent)| Op::DeleteSubject { subject, permanent }),
    ]
}

fn schema(i: usize) -> UnparsedSchema {
    UnparsedSchema::new(
        SchemaType::Avro,
        format!(r#"{{"type":"record","name":"R","fields":[{{"name":"f{i}","type":"long","default":{i}}}]}}"#),
    )
}

fn subject(i: usize) -> Subject {
    Subject::new(&format!("subject-{i}")).unwrap()
}

/// What the model says an operation answers: an `(id, version, deduplicated)`, a version list, or an error name.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Registered(u32, u32, bool),
    Found(u32, u32),
    Versions(Vec<u32>),
    Error(&'static str),
}

#[derive(Default)]
struct Model {
    ids: BTreeMap<usize, u32>,
    next_id: u32,
    subjects: BTreeMap<usize, BTreeMap<u32, (usize, bool)>>,
}

impl Model {
    fn apply(&mut self, op: &Op) -> Answer {
        match *op {
            Op::Register { subject, schema } => {
                let versions = self.subjects.entry(subject).or_default();
                if let Some((v, _)) = versions.iter().rev().find(|(_, (s, deleted))| *s == schema && !deleted) {
                    return Answer::Registered(self.ids[&schema], *v, true);
                }
                let version = versions.keys().next_back().map_or(1, |v| v + 1);
                let next_id = &mut self.next_id;
                let id = *self.ids.entry(schema).or_insert_with(|| {
                    *next_id += 1;
                    *next_id
                });
                versions.insert(version, (schema, false));
                Answer::Registered(id, version, false)
            }
            Op::Lookup { subject, schema } => {
                let versions = self.subjects.get(&subject);
                let live = || versions.into_iter().flatten().filter(|(_, (_, deleted))| !deleted);
                if live().next().is_none() {
                    return Answer::Error("SubjectNotFound");
                }
                match live().rfind(|(_, (s, _))| *s == schema) {
                    Some((v, _)) => Answer::Found(self.ids[&schema], *v),
                    None => Answer::Error("SchemaNotInSubject"),
                }
            }
            Op::DeleteVersion { subject, version, permanent } => {
                let Some(versions) = self.subjects.get_mut(&subject).filter(|v| !v.is_empty()) else {
                    return Answer::Error("SubjectNotFound");
                };
                let Some((_, deleted)) = versions.get_mut(&version) else {
                    return Answer::Error("VersionNotFound");
                };
                match (permanent, *deleted) {
                    (false, true) => Answer::Error("VersionSoftDeleted"),
                    (false, false) => {
                        *deleted = true;
                        Answer::Versions(vec![version])
                    }
                    (true, false) => Answer::Error("VersionNotSoftDeleted"),
                    (true, true) => {
                        versions.remove(&version);
                        Answer::Versions(vec![version])
                    }
                }
            }
            Op::DeleteSubject { subject, permanent } => {
                let Some(versions) = self.subjects.get_mut(&subject).filter(|v| !v.is_empty()) else {
                    return Answer::Error("SubjectNotFound");
                };
                let any_live = versions.values().any(|(_, deleted)| !deleted);
                match (permanent, any_live) {
                    (false, false) => Answer::Error("SubjectSoftDeleted"),
                    (true, true) => Answer::Error("SubjectNotSoftDeleted"),
                    (false, true) => {
                        let mut out = Vec::new();
                        for (v, (_, deleted)) in versions.iter_mut().filter(|(_, (_, d))| !d) {
                            *deleted = true;
                            out.push(*v);
                        }
                        Answer::Versions(out)
                    }
                    (true, false) => {
                        let out = versions.keys().copied().collect();
                        versions.clear();
                        Answer::Versions(out)
                    }
                }
            }
        }
    }

    fn live_versions(&self, subject: usize) -> Vec<u32> {
        let versions = self.subjects.get(&subject);
        versions.into_iter().flatten().filter(|(_, (_, d))| !d).map(|(v, _)| *v).collect()
    }
}

fn error_name(e: RegistryError) -> &'static str {
    match e {
        RegistryError::SubjectNotFound(_) => "SubjectNotFound",
        RegistryError::VersionNotFound { .. } => "VersionNotFound",
        RegistryError::SchemaNotInSubject(_) => "SchemaNotInSubject",
        RegistryError::SubjectSoftDeleted(_) => "SubjectSoftDeleted",
        RegistryError::SubjectNotSoftDeleted(_) => "SubjectNotSoftDeleted",
        RegistryError::VersionSoftDeleted { .. } => "VersionSoftDeleted",
        RegistryError::VersionNotSoftDeleted { .. } => "VersionNotSoftDeleted",
        other => panic!("the model never expects {other}"),
    }
}

fn apply(registry: &Registry, op: &Op) -> Answer {
    let how = |permanent: bool| if permanent { Deletion::Permanent } else { Deletion::Soft };
    let result = match *op {
        Op::Register { subject: s, schema: i } => registry
            .register(&subject(s), &schema(i))
            .map(|r| Answer::Registered(r.id.0, r.version.get(), r.deduplicated)),
        Op::Lookup { subject: s, schema: i } => registry
            .lookup(&subject(s), &schema(i), Deleted::Exclude)
            .map(|v| Answer::Found(v.schema.id.0, v.version.get())),
        Op::DeleteVersion { subject: s, version, permanent } => registry
            .delete_version(&subject(s), VersionSelector::Number(Version::new(version).unwrap()), how(permanent))
            .map(|v| Answer::Versions(vec![v.get()])),
        Op::DeleteSubject { subject: s, permanent } => registry
            .delete_subject(&subject(s), how(permanent))
            .map(|vs| Answer::Versions(vs.iter().map(|v| v.get()).collect())),
    };
    result.unwrap_or_else(|e| Answer::Error(error_name(e)))
}

/// Runs `ops` on a new registry on `backend` and on the model, and compares every answer.
fn agrees(backend: Backend, ops: &[Op]) -> Result<(), TestCaseError> {
    let registry = backend.registry(RegistryOptions::default());
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let mut model = Model::default();
    for op in ops {
        let expected = model.apply(op);
        let actual = apply(&registry, op);
        prop_assert_eq!(&actual, &expected, "after {:?}", op);
        for s in 0..SUBJECTS {
            let live: Vec<u32> = registry
                .versions(&subject(s), Deleted::Exclude)
                .map(|vs| vs.iter().map(|v| v.get()).collect())
                .unwrap_or_default();
            prop_assert_eq!(live, model.live_versions(s));
        }
    }
    for (schema, id) in &model.ids {
        let used = model.subjects.values().flat_map(|v| v.values()).any(|(s, _)| s == schema);
        let found = registry.schema_by_id(SchemaId(*id));
        prop_assert_eq!(found.is_ok(), used, "schema {} id {}", schema, id);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_embedded_store_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        agrees(Backend::Redb, &ops)?;
    }
}

#[cfg(feature = "postgres")]
proptest! {
    // Each case is a new schema in the test database: fewer cases, each as long.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_postgres_store_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        agrees(Backend::Postgres, &ops)?;
    }
}
