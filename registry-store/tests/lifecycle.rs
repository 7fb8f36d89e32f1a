//! Lifecycle states on every store: a draft is no one's latest and no check's until activated, a deprecated
//! version stays current, an archived one is soft-deleted and restored; the states survive a reopen.

use registry_core::{SchemaType, Subject, UnparsedSchema, Version, VersionSelector};
use registry_store::{Deleted, RegisterOptions, Registry, RegistryError, RegistryOptions, VersionState};

mod support;

/// A record of `fields`, each (name, type) with a default of 0 but the first.
fn record(fields: &[(&str, &str)]) -> UnparsedSchema {
    let fields: Vec<String> = fields
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| match i {
            0 => format!(r#"{{"name":"{name}","type":"{kind}"}}"#),
            _ => format!(r#"{{"name":"{name}","type":"{kind}","default":0}}"#),
        })
        .collect();
    UnparsedSchema::new(SchemaType::Avro, format!(r#"{{"type":"record","name":"R","fields":[{}]}}"#, fields.join(",")))
}

fn number(v: u32) -> VersionSelector {
    VersionSelector::Number(Version::new(v).unwrap())
}

#[test]
fn a_draft_is_current_only_once_activated() {
    support::backends().into_iter().for_each(a_draft_is_current_only_once_activated_on);
}

fn a_draft_is_current_only_once_activated_on(backend: support::Backend) {
    let registry = backend.registry(RegistryOptions::default());
    let subject = Subject::new("s").unwrap();
    registry.register(&subject, &record(&[("a", "int")])).unwrap();
    let draft = RegisterOptions { draft: true, ..RegisterOptions::default() };
    // A draft that breaks BACKWARD is refused as any registration is.
    let broken = registry.register_with(&subject, &record(&[("a", "string")]), draft).unwrap_err();
    assert!(matches!(broken, RegistryError::Incompatible { .. }), "{broken}");
    let v2 = registry.register_with(&subject, &record(&[("a", "int"), ("b", "long")]), draft).unwrap();
    let latest = registry.version(&subject, VersionSelector::Latest, Deleted::Exclude).unwrap();
    assert_eq!((latest.version.get(), latest.state), (1, VersionState::Active), "a draft is not the latest");
    assert_eq!(registry.version(&subject, number(2), Deleted::Exclude).unwrap().state, VersionState::Draft);
    // The next version is checked against the current one, not the draft.
    let v3 = registry.register(&subject, &record(&[("a", "long")])).unwrap();
    assert_eq!(v3.version.get(), 3);
    // Activated, the draft is checked against what is current then: its `a` (an int) cannot read version 3's long.
    let refused = registry.set_state(&subject, number(2), VersionState::Active).unwrap_err();
    assert!(matches!(refused, RegistryError::Incompatible { .. }), "{refused}");
    let moved = registry.set_state(&subject, number(3), VersionState::Deprecated).unwrap();
    assert_eq!(moved.state, VersionState::Deprecated);
    let latest = registry.version(&subject, VersionSelector::Latest, Deleted::Exclude).unwrap();
    assert_eq!((latest.version, latest.state), (v3.version, VersionState::Deprecated), "deprecated, still latest");
    let wrong = registry.set_state(&subject, number(2), VersionState::Deprecated).unwrap_err();
    match wrong {
        RegistryError::StateTransition { from, to, allowed, .. } => {
            assert_eq!((from, to), (VersionState::Draft, VersionState::Deprecated));
            assert_eq!(allowed, [VersionState::Active, VersionState::Archived]);
        }
        other => panic!("{other}"),
    }
    let archived = registry.set_state(&subject, number(3), VersionState::Archived).unwrap();
    assert!(archived.deleted && archived.state == VersionState::Archived);
    assert_eq!(registry.versions(&subject, Deleted::Exclude).unwrap().len(), 2, "archived is soft-deleted");
    // With version 3 archived the draft reads version 1's data: it can be activated now.
    let active = registry.set_state(&subject, number(2), VersionState::Active).unwrap();
    assert_eq!((active.version, active.state), (v2.version, VersionState::Active));
    assert_eq!(registry.version(&subject, VersionSelector::Latest, Deleted::Exclude).unwrap().version, v2.version);
    let restored = registry.set_state(&subject, number(3), VersionState::Deprecated).unwrap();
    assert!(!restored.deleted && restored.state == VersionState::Deprecated, "{restored:?}");
    let states: Vec<_> = registry.version_list(&subject, Deleted::Include).unwrap().iter().map(|v| v.state).collect();
    assert_eq!(states, [VersionState::Active, VersionState::Active, VersionState::Deprecated]);
}

#[test]
fn states_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    let subject = Subject::new("s").unwrap();
    {
        let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
        registry.register(&subject, &record(&[("a", "int")])).unwrap();
        let draft = RegisterOptions { draft: true, ..RegisterOptions::default() };
        registry.register_with(&subject, &record(&[("a", "int"), ("b", "long")]), draft).unwrap();
        registry.set_state(&subject, number(1), VersionState::Deprecated).unwrap();
    }
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    let states: Vec<_> = registry.version_list(&subject, Deleted::Include).unwrap().iter().map(|v| v.state).collect();
    assert_eq!(states, [VersionState::Deprecated, VersionState::Draft]);
    assert!(registry.check().unwrap().problems.is_empty());
}
