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

/// Every move between the four states: (from, to, allowed). A move to the state it is in changes nothing.
const MOVES: &[(VersionState, VersionState, bool)] = {
    use VersionState::*;
    &[
        (Draft, Draft, true),
        (Draft, Active, true),
        (Draft, Deprecated, false),
        (Draft, Archived, true),
        (Active, Draft, false),
        (Active, Active, true),
        (Active, Deprecated, true),
        (Active, Archived, true),
        (Deprecated, Draft, false),
        (Deprecated, Active, true),
        (Deprecated, Deprecated, true),
        (Deprecated, Archived, true),
        (Archived, Draft, false),
        (Archived, Active, true),
        (Archived, Deprecated, true),
        (Archived, Archived, true),
    ]
};

#[test]
fn every_move_is_allowed_or_refused_as_the_table_says() {
    for &(from, to, allowed) in MOVES {
        let registry = Registry::in_memory(RegistryOptions::default()).unwrap();
        let subject = Subject::new("s").unwrap();
        let draft = RegisterOptions { draft: from == VersionState::Draft, ..RegisterOptions::default() };
        registry.register_with(&subject, &record(&[("a", "int")]), draft).unwrap();
        if !matches!(from, VersionState::Draft | VersionState::Active) {
            registry.set_state(&subject, number(1), from).unwrap();
        }
        assert_eq!(registry.version(&subject, number(1), Deleted::Include).unwrap().state, from);
        match registry.set_state(&subject, number(1), to) {
            Ok(moved) => {
                assert!(allowed, "{from} -> {to} was allowed");
                assert_eq!((moved.state, moved.deleted), (to, to == VersionState::Archived), "{from} -> {to}");
            }
            Err(RegistryError::StateTransition { from: was, to: asked, allowed: next, .. }) => {
                assert!(!allowed, "{from} -> {to} was refused");
                assert_eq!((was, asked), (from, to));
                let expected: Vec<_> =
                    MOVES.iter().filter(|(f, t, ok)| *f == from && *t != from && *ok).map(|(_, t, _)| *t).collect();
                assert_eq!(next, expected, "the allowed moves from {from}");
                assert_eq!(registry.version(&subject, number(1), Deleted::Include).unwrap().state, from, "unchanged");
            }
            Err(other) => panic!("{from} -> {to}: {other}"),
        }
    }
}

/// A version knows when it was registered, on every store, and keeps it through a state change, a soft delete
/// and its restoring, and a copy to another store.
#[test]
fn a_version_keeps_its_registration_time() {
    support::backends().into_iter().for_each(a_version_keeps_its_registration_time_on);
}

fn a_version_keeps_its_registration_time_on(backend: support::Backend) {
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let registry = backend.registry(RegistryOptions::default());
    let subject = Subject::new("timed").unwrap();
    let before = now();
    registry.register(&subject, &record(&[("a", "int")])).unwrap();
    let after = now();
    let first = registry.version_list(&subject, Deleted::Include).unwrap()[0];
    let registered = first.registered.expect("a registration is timed");
    assert!((before..=after).contains(&registered), "{registered} not in {before}..={after}");
    let shown = first.registered_rfc3339().unwrap();
    assert!(shown.starts_with("20") && shown.ends_with('Z') && shown.len() == 24, "{shown}");

    std::thread::sleep(std::time::Duration::from_millis(5));
    registry.register(&subject, &record(&[("a", "int"), ("b", "long")])).unwrap();
    registry.set_state(&subject, number(1), VersionState::Deprecated).unwrap();
    registry.set_state(&subject, number(1), VersionState::Archived).unwrap();
    registry.set_state(&subject, number(1), VersionState::Active).unwrap();
    let versions = registry.version_list(&subject, Deleted::Include).unwrap();
    assert_eq!(versions[0].registered, Some(registered), "moves through states keep the time");
    assert!(versions[1].registered.unwrap() > registered, "{versions:?}");

    let copy = Registry::in_memory(RegistryOptions::default()).unwrap();
    registry.copy_into(&copy, false).unwrap();
    let copied = copy.version_list(&subject, Deleted::Include).unwrap();
    assert_eq!(
        copied.iter().map(|v| v.registered).collect::<Vec<_>>(),
        versions.iter().map(|v| v.registered).collect::<Vec<_>>()
    );
}
