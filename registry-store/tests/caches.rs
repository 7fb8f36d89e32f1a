//! The caches: registering an existing schema parses nothing and writes nothing; a new schema's record is cached
//! by reads, not by its registration, unless the registration asks (`cache_record`, for a caller that reads it
//! right after); the memo of parsed texts is
//! never stale; byte-bounded caches stay within their bounds; the count of removals moves exactly when an id
//! stops being found, the count of retractions with every delete and setting change and never with a registration.

use registry_core::compat::CompatibilityLevel;
use registry_core::{SchemaType, Subject, UnparsedSchema, Version, VersionSelector};
use registry_store::{Deleted, Deletion, Mode, RegisterOptions, Registry, RegistryOptions, Scope};
use support::Backend;

mod support;

fn avro(name: &str) -> UnparsedSchema {
    UnparsedSchema::new(SchemaType::Avro, format!(r#"{{"type":"record","name":"{name}","fields":[]}}"#))
}

#[test]
fn registering_an_existing_schema_parses_once_and_commits_nothing() {
    support::backends().into_iter().for_each(registering_an_existing_schema_parses_once_and_commits_nothing_on);
}

fn registering_an_existing_schema_parses_once_and_commits_nothing_on(backend: Backend) {
    let registry = backend.registry(RegistryOptions::default());
    let subject = Subject::new("s").unwrap();
    registry.register(&subject, &avro("A")).unwrap();
    let commits = registry.commit_stats().commits;
    for _ in 0..10 {
        assert!(registry.register(&subject, &avro("A")).unwrap().deduplicated);
    }
    let stats = registry.stats();
    assert_eq!(stats.text_fingerprints.hits, 10, "each repeat is answered from the text memo: {stats:?}");
    assert_eq!(stats.subject_fingerprints.hits, 10, "{stats:?}");
    assert_eq!(registry.commit_stats().commits, commits, "no write transaction for an existing schema");
}

#[test]
fn a_new_schema_record_is_cached_by_its_first_read_not_by_its_registration() {
    support::backends()
        .into_iter()
        .for_each(a_new_schema_record_is_cached_by_its_first_read_not_by_its_registration_on);
}

fn a_new_schema_record_is_cached_by_its_first_read_not_by_its_registration_on(backend: Backend) {
    let registry = backend.registry(RegistryOptions::default());
    let ids: Vec<_> = (0..20)
        .map(|i| registry.register(&Subject::new(&format!("s{i}")).unwrap(), &avro(&format!("R{i}"))).unwrap().id)
        .collect();
    for id in &ids {
        assert_eq!(registry.schema_by_id(*id).unwrap().id, *id);
    }
    let stats = registry.stats();
    assert_eq!((stats.schemas.hits, stats.schemas.misses), (0, 20), "the first read of each goes to the store");
    for id in &ids {
        registry.schema_by_id(*id).unwrap();
    }
    assert_eq!(registry.stats().schemas.hits, 20, "and fills the cache for the next");
}

#[test]
fn a_registration_that_asks_caches_its_new_record_as_the_store_holds_it() {
    support::backends().into_iter().for_each(a_registration_that_asks_caches_its_new_record_as_the_store_holds_it_on);
}

fn a_registration_that_asks_caches_its_new_record_as_the_store_holds_it_on(backend: Backend) {
    let (asking, plain) = (backend.registry(RegistryOptions::default()), backend.registry(RegistryOptions::default()));
    let options = RegisterOptions { cache_record: true, ..RegisterOptions::default() };
    for i in 0..10 {
        let subject = Subject::new(&format!("s{i}")).unwrap();
        let schema = avro(&format!("R{i}"));
        let registered = asking.register_with(&subject, &schema, options).unwrap();
        let cached = asking.schema_by_id(registered.id).unwrap();
        // The same schema registered without asking, read back from the store.
        let plain_id = plain.register(&subject, &schema).unwrap().id;
        let stored = plain.schema_by_id(plain_id).unwrap();
        let (text, references, contract) = (stored.text.clone(), stored.references.clone(), stored.contract.clone());
        let expected = registry_store::StoredSchema::new(
            registered.id,
            stored.schema_type,
            text,
            references,
            stored.fingerprint,
            contract,
        );
        assert_eq!(*cached, expected);
    }
    let stats = asking.stats();
    assert_eq!((stats.schemas.hits, stats.schemas.misses), (10, 0), "each first read found the record cached");
    // An existing schema writes no record, and a repeat caches nothing new.
    asking.register_with(&Subject::new("s0").unwrap(), &avro("R0"), options).unwrap();
    assert_eq!(asking.stats().schemas.misses, 0);
}

#[test]
fn the_parse_memo_survives_deletes_without_serving_stale_versions() {
    support::backends().into_iter().for_each(the_parse_memo_survives_deletes_without_serving_stale_versions_on);
}

fn the_parse_memo_survives_deletes_without_serving_stale_versions_on(backend: Backend) {
    let registry = backend.registry(RegistryOptions::default());
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let subject = Subject::new("s").unwrap();
    let first = registry.register(&subject, &avro("A")).unwrap();
    registry.delete_subject(&subject, Deletion::Soft).unwrap();
    registry.delete_subject(&subject, Deletion::Permanent).unwrap();
    registry.register(&subject, &avro("B")).unwrap();
    let again = registry.register(&subject, &avro("A")).unwrap();
    assert!(!again.deduplicated, "the deleted version must not be served from a cache");
    assert_eq!((again.id, again.version.get()), (first.id, 2));
    let latest = registry.version(&subject, VersionSelector::Latest, Deleted::Exclude).unwrap();
    assert_eq!(latest.schema.id, first.id);
}

/// An Avro record with `fields` optional int fields: each one more is a BACKWARD-compatible new version.
fn avro_fields(fields: usize) -> UnparsedSchema {
    let fields: Vec<String> = (0..fields).map(|i| format!(r#"{{"name":"f{i}","type":"int","default":0}}"#)).collect();
    UnparsedSchema::new(SchemaType::Avro, format!(r#"{{"type":"record","name":"R","fields":[{}]}}"#, fields.join(",")))
}

#[test]
fn a_new_version_takes_its_predecessors_parsed_room_unless_the_level_is_transitive() {
    support::backends()
        .into_iter()
        .for_each(a_new_version_takes_its_predecessors_parsed_room_unless_the_level_is_transitive_on);
}

fn a_new_version_takes_its_predecessors_parsed_room_unless_the_level_is_transitive_on(backend: Backend) {
    for (level, predecessor_kept) in [
        (CompatibilityLevel::Backward, false),
        (CompatibilityLevel::None, false),
        (CompatibilityLevel::BackwardTransitive, true),
    ] {
        let registry = backend.registry(RegistryOptions::default());
        registry.set_config(Scope::Global, level).unwrap();
        let subject = Subject::new("s").unwrap();
        let first = registry.register(&subject, &avro_fields(1)).unwrap().id;
        let second = registry.register(&subject, &avro_fields(2)).unwrap().id;

        // The next registration's check reads the newest version from the cache, parsing nothing again.
        let before = registry.stats().parsed;
        registry.parsed_by_id(second).unwrap();
        assert_eq!(registry.stats().parsed.hits, before.hits + 1, "{level}: the new version's tree is kept");

        let before = registry.stats().parsed;
        registry.parsed_by_id(first).unwrap();
        let after = registry.stats().parsed;
        assert_eq!(after.hits == before.hits + 1, predecessor_kept, "{level}: {before:?} -> {after:?}");
        assert_eq!(after.misses == before.misses + 1, !predecessor_kept, "{level}: {before:?} -> {after:?}");
    }
}

#[test]
fn a_registrations_check_caches_the_tree_it_parses_only_at_a_transitive_level() {
    for (level, kept) in [(CompatibilityLevel::Backward, false), (CompatibilityLevel::BackwardTransitive, true)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.redb");
        let subject = Subject::new("s").unwrap();
        let first = {
            let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
            registry.set_config(Scope::Global, level).unwrap();
            registry.register(&subject, &avro_fields(1)).unwrap().id
        };
        // Reopened, nothing is cached: the next registration's check parses version 1 from the store.
        let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
        // A field with no default: not BACKWARD-compatible, so version 1 stays the newest.
        let no_default = UnparsedSchema::new(
            SchemaType::Avro,
            r#"{"type":"record","name":"R","fields":[{"name":"f0","type":"int","default":0},{"name":"x","type":"int"}]}"#,
        );
        assert!(registry.register(&subject, &no_default).is_err(), "{level}: the candidate is incompatible");
        let before = registry.stats().parsed;
        registry.parsed_by_id(first).unwrap();
        let after = registry.stats().parsed;
        assert_eq!(after.hits == before.hits + 1, kept, "{level}: {before:?} -> {after:?}");
    }
}
#[test]
fn a_tiny_schema_cache_still_answers_every_read() {
    support::backends().into_iter().for_each(a_tiny_schema_cache_still_answers_every_read_on);
}

fn a_tiny_schema_cache_still_answers_every_read_on(backend: Backend) {
    let options = RegistryOptions { schema_cache_bytes: 300, parsed_cache_bytes: 300, ..RegistryOptions::default() };
    let registry = backend.registry(options);
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let ids: Vec<_> = (0..400)
        .map(|i| registry.register(&Subject::new(&format!("s{i}")).unwrap(), &avro(&format!("R{i}"))).unwrap().id)
        .collect();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(registry.schema_by_id(*id).unwrap().text, avro(&format!("R{i}")).text);
    }
    assert!(registry.stats().schemas.misses > 0, "a 300-byte cache cannot hold 400 schemas");
}

#[test]
fn caches_sized_zero_are_off_and_every_answer_still_comes() {
    support::backends().into_iter().for_each(caches_sized_zero_are_off_and_every_answer_still_comes_on);
}

fn caches_sized_zero_are_off_and_every_answer_still_comes_on(backend: Backend) {
    let options = RegistryOptions {
        cache_capacity: 0,
        schema_cache_bytes: 0,
        parsed_cache_bytes: 0,
        validator_cache_bytes: 0,
        ..RegistryOptions::default()
    };
    let registry = backend.registry(options);
    let subject = Subject::new("s").unwrap();
    let first = registry.register(&subject, &avro("A")).unwrap();
    for _ in 0..3 {
        let again = registry.register(&subject, &avro("A")).unwrap();
        assert_eq!((again.id, again.version, again.deduplicated), (first.id, first.version, true));
        assert_eq!(registry.schema_by_id(first.id).unwrap().text, avro("A").text);
        let latest = registry.version(&subject, VersionSelector::Latest, Deleted::Exclude).unwrap();
        assert_eq!((latest.version, latest.schema.id), (first.version, first.id));
    }
    let stats = registry.stats();
    assert_eq!(
        [stats.schemas.hits, stats.parsed.hits, stats.text_fingerprints.hits, stats.subject_fingerprints.hits],
        [0; 4],
        "nothing is kept: {stats:?}"
    );
    assert!(stats.schemas.misses >= 3, "{stats:?}");
}

#[test]
fn registered_already_answers_only_what_register_would_answer_from_memory() {
    support::backends().into_iter().for_each(registered_already_answers_only_what_register_would_answer_from_memory_on);
}

fn registered_already_answers_only_what_register_would_answer_from_memory_on(backend: Backend) {
    let registry = backend.registry(RegistryOptions::default());
    let subject = Subject::new("s").unwrap();
    assert_eq!(registry.registered_already(&subject, &avro("A")).unwrap(), None, "never seen");
    let registered = registry.register(&subject, &avro("A")).unwrap();
    let cached = registry.registered_already(&subject, &avro("A")).unwrap().expect("now in memory");
    assert_eq!((cached.id, cached.version, cached.deduplicated), (registered.id, registered.version, true));
    assert_eq!(registry.registered_already(&Subject::new("other").unwrap(), &avro("A")).unwrap(), None);
    registry.set_mode(Scope::Subject(&subject), registry_store::Mode::Readonly, false).unwrap();
    assert_eq!(registry.registered_already(&subject, &avro("A")).unwrap(), None, "read-only: register refuses");
    registry.delete_mode(Scope::Subject(&subject)).unwrap();
    registry.delete_version(&subject, VersionSelector::Latest, Deletion::Soft).unwrap();
    assert_eq!(registry.registered_already(&subject, &avro("A")).unwrap(), None, "soft-deleted: register writes anew");
}

#[test]
fn removals_count_only_the_deletes_that_make_an_id_disappear() {
    support::backends().into_iter().for_each(removals_count_only_the_deletes_that_make_an_id_disappear_on);
}

fn removals_count_only_the_deletes_that_make_an_id_disappear_on(backend: Backend) {
    let registry = backend.registry(RegistryOptions::default());
    // A shared store's instance counts one when it starts hearing other instances' changes.
    let start = registry.removals();
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let (a, b) = (Subject::new("a").unwrap(), Subject::new("b").unwrap());
    let shared = registry.register(&a, &avro("Shared")).unwrap().id;
    registry.register(&b, &avro("Shared")).unwrap();
    assert_eq!(registry.removals(), start);

    // Soft deletes hide versions, not ids.
    registry.delete_subject(&a, Deletion::Soft).unwrap();
    assert_eq!(registry.removals(), start);
    // The id is still used by `b`: it is still found.
    registry.delete_subject(&a, Deletion::Permanent).unwrap();
    assert_eq!(registry.removals(), start);
    assert!(registry.schema_by_id(shared).is_ok());

    // Its last use goes: now it disappears, and the count moves.
    registry.delete_version(&b, VersionSelector::Latest, Deletion::Soft).unwrap();
    registry.delete_version(&b, VersionSelector::Latest, Deletion::Permanent).unwrap();
    assert_eq!(registry.removals(), start + 1);
    assert!(registry.schema_by_id(shared).is_err());
}

#[test]
fn retractions_move_with_every_delete_and_setting_change_and_never_with_a_registration() {
    support::backends()
        .into_iter()
        .for_each(retractions_move_with_every_delete_and_setting_change_and_never_with_a_registration_on);
}

fn retractions_move_with_every_delete_and_setting_change_and_never_with_a_registration_on(backend: Backend) {
    let registry = backend.registry(RegistryOptions::default());
    let before = registry.retractions();
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let start = registry.retractions();
    assert_eq!(start, before + 1, "the config change counts");
    let subject = Subject::new("s").unwrap();
    registry.register(&subject, &avro("A")).unwrap();
    registry.register(&subject, &avro("B")).unwrap();
    registry.register(&subject, &avro("A")).unwrap();
    assert_eq!(registry.retractions(), start, "new versions and repeats take nothing back");

    type Change<'a> = (&'a str, Box<dyn Fn(&Registry)>);
    let s = subject.clone();
    let changes: Vec<Change> = vec![
        (
            "soft delete of a version",
            Box::new(move |r| {
                r.delete_version(&s, VersionSelector::Latest, Deletion::Soft).unwrap();
            }),
        ),
        (
            "subject mode",
            Box::new(|r| r.set_mode(Scope::Subject(&Subject::new("s").unwrap()), Mode::Readonly, false).unwrap()),
        ),
        (
            "subject mode removed",
            Box::new(|r| {
                r.delete_mode(Scope::Subject(&Subject::new("s").unwrap())).unwrap();
            }),
        ),
        ("global mode", Box::new(|r| r.set_mode(Scope::Global, Mode::Readwrite, false).unwrap())),
        (
            "subject level",
            Box::new(|r| r.set_config(Scope::Subject(&Subject::new("s").unwrap()), CompatibilityLevel::Full).unwrap()),
        ),
        (
            "soft delete of the subject",
            Box::new(|r| {
                r.delete_subject(&Subject::new("s").unwrap(), Deletion::Soft).unwrap();
            }),
        ),
        (
            "permanent delete of the subject",
            Box::new(|r| {
                r.delete_subject(&Subject::new("s").unwrap(), Deletion::Permanent).unwrap();
            }),
        ),
    ];
    for (what, change) in changes {
        let before = registry.retractions();
        change(&registry);
        assert_eq!(registry.retractions(), before + 1, "{what}");
    }

    // A refused change changes nothing, and takes nothing back.
    let before = registry.retractions();
    assert!(registry.delete_version(&subject, VersionSelector::Latest, Deletion::Soft).is_err());
    assert_eq!(registry.retractions(), before);
}

/// A caller that stops waiting for its registration (an async request dropped mid-way) does not stop the commit,
/// and must not leave the subject's cached latest version stale behind it.
#[test]
fn a_registration_nobody_waits_for_still_leaves_no_stale_latest_version() {
    support::backends().into_iter().for_each(a_registration_nobody_waits_for_still_leaves_no_stale_latest_version_on);
}

fn a_registration_nobody_waits_for_still_leaves_no_stale_latest_version_on(backend: Backend) {
    let registry = backend.registry(RegistryOptions::default());
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let subject = Subject::new("s").unwrap();
    registry.register(&subject, &avro("A")).unwrap();
    // Read once, so the latest version (1) is cached.
    assert_eq!(registry.version(&subject, VersionSelector::Latest, Deleted::Exclude).unwrap().version.get(), 1);
    drop(registry.begin_register(&subject, &avro("B"), Default::default()).unwrap());
    // A registration queued after it is answered only once the dropped one's commit is done.
    registry.register(&Subject::new("other").unwrap(), &avro("C")).unwrap();
    let latest = registry.version(&subject, VersionSelector::Latest, Deleted::Exclude).unwrap();
    assert_eq!((latest.version.get(), latest.schema.text.contains("\"B\"")), (2, true));
}

#[test]
fn counts_kept_between_changes_follow_every_change() {
    support::backends().into_iter().for_each(counts_kept_between_changes_follow_every_change_on);
}

fn counts_kept_between_changes_follow_every_change_on(backend: Backend) {
    let registry = backend.registry(RegistryOptions::default());
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let counts = |r: &Registry| {
        let c = r.counts().unwrap();
        (c.subjects, c.schemas)
    };
    assert_eq!(counts(&registry), (0, 0));
    assert_eq!(counts(&registry), (0, 0), "kept, and the same");
    let (a, b) = (Subject::new("a").unwrap(), Subject::new("b").unwrap());
    registry.register(&a, &avro("A")).unwrap();
    assert_eq!(counts(&registry), (1, 1));
    registry.register(&b, &avro("A")).unwrap();
    registry.register(&b, &avro("B")).unwrap();
    assert_eq!(counts(&registry), (2, 2));
    registry.delete_subject(&a, Deletion::Soft).unwrap();
    assert_eq!(counts(&registry), (1, 2), "a soft-deleted subject is not counted; its schema is still used");
    registry.delete_subject(&b, Deletion::Soft).unwrap();
    registry.delete_subject(&b, Deletion::Permanent).unwrap();
    assert_eq!(counts(&registry), (0, 1));
}

#[test]
fn a_new_version_is_its_subjects_cached_latest_as_it_lands() {
    support::backends().into_iter().for_each(a_new_version_is_its_subjects_cached_latest_as_it_lands_on);
}

fn a_new_version_is_its_subjects_cached_latest_as_it_lands_on(backend: Backend) {
    let registry = backend.registry(RegistryOptions::default());
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let subject = Subject::new("s").unwrap();
    let latest = |registry: &Registry| {
        let found = registry.version(&subject, VersionSelector::Latest, Deleted::Exclude).unwrap();
        (found.version.get(), found.schema.id)
    };
    // The latest version, and whether the cache answered it (the read counted a hit and no miss).
    let read = |registry: &Registry| {
        let before = registry.stats().latest;
        let found = latest(registry);
        let after = registry.stats().latest;
        (found, after.hits == before.hits + 1 && after.misses == before.misses)
    };
    let first = registry.register(&subject, &avro("A")).unwrap();
    assert_eq!(read(&registry), ((1, first.id), true), "read from the cache");
    let misses = registry.stats().latest.misses;
    let second = registry.register(&subject, &avro("B")).unwrap();
    assert_eq!(registry.stats().latest.misses, misses, "the registration found the newest version cached");
    assert_eq!(read(&registry), ((2, second.id), true), "the new version, from the cache");
    // A draft is no one's latest: the cache drops the subject's and the read finds version 2 in the store.
    let draft = RegisterOptions { draft: true, ..RegisterOptions::default() };
    registry.register_with(&subject, &avro("C"), draft).unwrap();
    assert_eq!(read(&registry), ((2, second.id), false));
    // A delete after it is not hidden by what the registration remembered.
    registry.delete_version(&subject, VersionSelector::Number(Version::new(2).unwrap()), Deletion::Soft).unwrap();
    assert_eq!(latest(&registry), (1, first.id));
    // An import below the newest version number leaves the newest the latest.
    let other = Subject::new("imported").unwrap();
    registry.set_mode(Scope::Subject(&other), Mode::Import, true).unwrap();
    let at = |version: u32, id: u32| RegisterOptions {
        id: Some(registry_core::SchemaId(id)),
        version: Some(Version::new(version).unwrap()),
        ..RegisterOptions::default()
    };
    registry.register_with(&other, &avro("X"), at(10, 100)).unwrap();
    registry.register_with(&other, &avro("Y"), at(5, 101)).unwrap();
    let found = registry.version(&other, VersionSelector::Latest, Deleted::Exclude).unwrap();
    assert_eq!((found.version.get(), found.schema.id.0), (10, 100));
}

#[test]
fn a_version_given_to_a_schema_the_subject_holds_is_what_its_next_registration_answers() {
    support::backends()
        .into_iter()
        .for_each(a_version_given_to_a_schema_the_subject_holds_is_what_its_next_registration_answers_on);
}

/// Found by the registry fuzz target: the fast path remembered the schema's first version and kept answering it
/// after a registration naming the next version number wrote the same schema again, as that newer version.
fn a_version_given_to_a_schema_the_subject_holds_is_what_its_next_registration_answers_on(backend: Backend) {
    let registry = backend.registry(RegistryOptions::default());
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let subject = Subject::new("s").unwrap();
    let first = registry.register(&subject, &avro("A")).unwrap();
    registry.register(&subject, &avro("B")).unwrap();
    // Remembered by the fast path: the first version.
    assert_eq!(registry.register(&subject, &avro("A")).unwrap().version.get(), 1);
    let given = RegisterOptions { version: Some(Version::new(3).unwrap()), ..RegisterOptions::default() };
    let third = registry.register_with(&subject, &avro("A"), given).unwrap();
    assert_eq!((third.id, third.version.get(), third.deduplicated), (first.id, 3, false));
    let again = registry.register(&subject, &avro("A")).unwrap();
    assert_eq!(
        (again.id, again.version.get(), again.deduplicated),
        (first.id, 3, true),
        "the newest version holding it"
    );
}
