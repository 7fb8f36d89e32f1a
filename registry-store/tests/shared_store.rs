//! Several instances over one PostgreSQL: each hears the others' changes and drops what they made stale, a
//! cut notice connection never leaves an instance answering from a stale cache, and a database written by a
//! newer release is refused.

#![cfg(feature = "postgres")]

use std::time::{Duration, Instant};

use registry_core::compat::CompatibilityLevel;
use registry_core::{SchemaType, Subject, UnparsedSchema, VersionSelector};
use registry_store::{Deleted, Deletion, Mode, RegisterOptions, Registry, RegistryError, RegistryOptions, Scope};

mod support;

fn avro(field: &str) -> UnparsedSchema {
    let text = format!(r#"{{"type":"record","name":"R","fields":[{{"name":"{field}","type":"int","default":0}}]}}"#);
    UnparsedSchema::new(SchemaType::Avro, text)
}

/// The number of `subject`'s latest live version, as `registry` answers.
fn latest(registry: &Registry, subject: &Subject) -> u32 {
    registry.version(subject, VersionSelector::Latest, Deleted::Exclude).unwrap().version.get()
}

/// How long an instance may take to see another's change: the bound `docs/scaling.md` promises.
const BOUND: Duration = Duration::from_secs(1);

/// Polls `seen` until it holds or `BOUND` passes; returns whether it held.
fn within_bound(mut seen: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < BOUND {
        if seen() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    seen()
}

fn two() -> (Registry, Registry) {
    let url = support::postgres::fresh_namespace();
    let connect = || Registry::connect(&url, RegistryOptions::default()).expect("a PostgreSQL registry");
    (connect(), connect())
}

#[test]
fn a_new_version_through_one_instance_is_the_others_latest_within_a_second() {
    let (a, b) = two();
    assert!(a.store_name().starts_with("PostgreSQL at 127.0.0.1:"), "{}", a.store_name());
    assert!(!a.store_name().contains("registry:registry"), "no password in {}", a.store_name());
    let subject = Subject::new("orders").unwrap();
    a.register(&subject, &avro("x")).unwrap();
    // `b` caches the latest version, then `a` supersedes it.
    assert_eq!(latest(&b, &subject), 1);
    assert_eq!(latest(&b, &subject), 1);
    a.register(&subject, &avro("y")).unwrap();
    assert!(within_bound(|| latest(&b, &subject) == 2));
}

#[test]
fn a_setting_changed_through_one_instance_is_enforced_by_the_others() {
    let (a, b) = two();
    let subject = Subject::new("payments").unwrap();
    b.register(&subject, &avro("x")).unwrap();
    // `b` has the subject's settings and its fast path cached.
    assert_eq!(b.effective_mode(&subject).unwrap(), Mode::Readwrite);
    assert!(b.registered_already(&subject, &avro("x")).unwrap().is_some());
    a.set_mode(Scope::Subject(&subject), Mode::Readonly, false).unwrap();
    // The write itself re-reads the mode inside its transaction: refused at once.
    assert!(matches!(b.register(&subject, &avro("y")), Err(RegistryError::ReadOnly(_))));
    assert!(within_bound(|| b.effective_mode(&subject).unwrap() == Mode::Readonly));
    assert_eq!(b.registered_already(&subject, &avro("x")).unwrap(), None, "read-only: no answer from memory");

    a.set_mode(Scope::Subject(&subject), Mode::Readwrite, false).unwrap();
    a.set_config(Scope::Subject(&subject), CompatibilityLevel::Full).unwrap();
    assert!(within_bound(|| b.effective_config(&subject).unwrap() == CompatibilityLevel::Full));
}

/// Configured override metadata set through one instance is kept in the database and laid over the next
/// registration made through another, inside that registration's transaction.
#[test]
fn settings_set_through_one_instance_shape_the_others_registrations() {
    let (a, b) = two();
    let subject = Subject::new("orders").unwrap();
    b.register(&subject, &avro("x")).unwrap();
    let body = serde_json::json!({"overrideMetadata": {"properties": {"owner": "platform"}}, "normalize": true});
    let patch = registry_store::SettingsPatch::from_json(body.as_object().unwrap()).unwrap();
    let stored = a.update_scope_config(Scope::Subject(&subject), None, &patch).unwrap();
    assert_eq!(stored.settings.normalize, Some(true));
    // The registration re-reads the settings in its transaction, whatever `b` remembered.
    let registered = b.register(&subject, &avro("y")).unwrap();
    let metadata = b.schema_by_id(registered.id).unwrap().contract.metadata.clone().unwrap();
    assert_eq!(metadata.properties.get("owner").map(String::as_str), Some("platform"));
    assert!(within_bound(|| b.scope_config(Scope::Subject(&subject)).unwrap() == Some(stored.clone())));
    let removed = b.delete_scope_config(Scope::Subject(&subject)).unwrap();
    assert_eq!(removed, stored);
    assert!(within_bound(|| a.scope_config(Scope::Subject(&subject)).unwrap().is_none()));
}

#[test]
fn a_permanent_delete_through_one_instance_makes_the_id_disappear_from_the_others() {
    let (a, b) = two();
    let subject = Subject::new("gone").unwrap();
    let id = a.register(&subject, &avro("x")).unwrap().id;
    assert!(b.schema_by_id(id).is_ok(), "cached by b");
    let removals = b.removals();
    a.delete_subject(&subject, Deletion::Soft).unwrap();
    a.delete_subject(&subject, Deletion::Permanent).unwrap();
    assert!(within_bound(|| matches!(b.schema_by_id(id), Err(RegistryError::SchemaNotFound(_)))));
    assert!(b.removals() > removals, "the layer above learns that an id disappeared");
}

#[test]
fn a_change_made_while_the_notice_connection_is_cut_is_still_seen() {
    let url = support::postgres::fresh_namespace();
    let connect = || Registry::connect(&url, RegistryOptions::default()).expect("a PostgreSQL registry");
    let (a, b) = (connect(), connect());
    let subject = Subject::new("cut").unwrap();
    a.register(&subject, &avro("x")).unwrap();
    assert_eq!(latest(&b, &subject), 1);
    // Cut both instances' listening connections (this test's schema only); they reconnect by themselves.
    let schema = support::postgres::schema_of(&url);
    let cut = support::postgres::number(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE query = 'LISTEN \"registry_changes:{schema}\"'"
    ));
    assert_eq!(cut, 2, "each instance listens on a connection of its own");
    a.register(&subject, &avro("y")).unwrap();
    // Whether `b` heard it on a new connection or dropped its caches on reconnecting, it answers the truth.
    assert!(within_bound(|| latest(&b, &subject) == 2));
    // And it hears changes again afterwards.
    a.register(&subject, &avro("z")).unwrap();
    assert!(within_bound(|| latest(&b, &subject) == 3));
}

#[test]
fn the_same_schema_registered_through_two_instances_at_once_gets_one_id() {
    let (a, b) = two();
    a.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    for round in 0..20 {
        let schema = avro(&format!("f{round}"));
        let barrier = std::sync::Barrier::new(2);
        let ids: Vec<_> = std::thread::scope(|scope| {
            let racers: Vec<_> = [(&a, "left"), (&b, "right")]
                .into_iter()
                .map(|(registry, subject)| {
                    let (schema, barrier) = (&schema, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        registry.register(&Subject::new(&format!("{subject}-{round}")).unwrap(), schema).unwrap().id
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert_eq!(ids[0], ids[1], "round {round}");
    }
}

#[test]
fn a_database_written_by_a_newer_release_is_refused() {
    let url = support::postgres::fresh_namespace();
    drop(Registry::connect(&url, RegistryOptions::default()).unwrap());
    let schema = support::postgres::schema_of(&url);
    support::postgres::execute(&format!("INSERT INTO {schema}.registry_migrations (version) VALUES (999)"));
    match Registry::connect(&url, RegistryOptions::default()) {
        Err(RegistryError::UnsupportedFormat { found: 999, supported }) => assert!(supported < 999),
        other => panic!("expected UnsupportedFormat, got {other:?}"),
    }
}

/// A database migrated before the GUID column (migration 2): migration 3 gives every schema row its GUID.
#[test]
fn a_database_from_before_the_guid_index_is_indexed_by_its_migration() {
    use registry_core::contract::{DataContract, Metadata};
    let url = support::postgres::fresh_namespace();
    let registry = Registry::connect(&url, RegistryOptions::default()).unwrap();
    let subject = Subject::new("a").unwrap();
    let plain = UnparsedSchema::new(SchemaType::Avro, r#"{"type":"record","name":"A","fields":[]}"#);
    let metadata = Metadata { properties: [("owner".into(), "a".into())].into(), ..Metadata::default() };
    let owned = plain.clone().with_contract(DataContract { metadata: Some(metadata), rule_set: None });
    let ids = [registry.register(&subject, &plain).unwrap().id, registry.register(&subject, &owned).unwrap().id];
    let guids = ids.map(|id| registry.schema_by_id(id).unwrap().guid());
    drop(registry);

    let schema = support::postgres::schema_of(&url);
    support::postgres::execute(&format!(
        "DROP INDEX {schema}.registry_schemas_by_guid; ALTER TABLE {schema}.registry_schemas DROP COLUMN guid; \
         ALTER TABLE {schema}.registry_config DROP COLUMN settings; \
         DROP TABLE {schema}.registry_keks, {schema}.registry_deks; \
         DELETE FROM {schema}.registry_migrations WHERE version >= 3"
    ));
    let registry = Registry::connect(&url, RegistryOptions::default()).unwrap();
    for (guid, id) in guids.iter().zip(ids) {
        assert_eq!(registry.ids_by_guid(guid).unwrap(), vec![id]);
        assert_eq!(registry.schema_by_guid(guid).unwrap().id, id);
    }
    assert!(registry.check().unwrap().is_sound());
}

/// A database from before canonical texts (migration 5): rows hold texts as first sent and fingerprints over
/// sorted-key JSON. Migration 6 gives the Avro and JSON Schema rows Confluent's canonical texts, fingerprints and
/// GUIDs; of two ids that now share an identity, the one that held it keeps it and the other keeps its version.
#[test]
fn a_database_from_before_canonical_texts_is_rewritten_by_its_migration() {
    use registry_core::{Fingerprint, SchemaGuid};
    let url = support::postgres::fresh_namespace();
    let registry = Registry::connect(&url, RegistryOptions::default()).unwrap();
    registry.set_config(registry_store::Scope::Global, CompatibilityLevel::None).unwrap();
    let [a, b, d] = ["a", "b", "d"].map(|s| Subject::new(s).unwrap());
    let json = r#"{"type":"object","properties":{"b":{"type":"integer"},"a":{"type":"string"}}}"#;
    let rows = [
        (
            registry.register(&a, &UnparsedSchema::new(SchemaType::Avro, r#"{"type": "int"}"#)).unwrap().id,
            SchemaType::Avro,
            r#"{"type": "int"}"#,
        ),
        (
            registry.register(&b, &UnparsedSchema::new(SchemaType::Avro, r#""long""#)).unwrap().id,
            SchemaType::Avro,
            r#""int""#,
        ),
        (registry.register(&d, &UnparsedSchema::new(SchemaType::Json, json)).unwrap().id, SchemaType::Json, json),
    ];
    drop(registry);

    // As the release before left them: the text as sent, identity over its sorted-key JSON, GUID over the text.
    let schema = support::postgres::schema_of(&url);
    let mut sql = format!("DELETE FROM {schema}.registry_migrations WHERE version >= 6;");
    for (id, schema_type, text) in rows {
        let sorted = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(text).unwrap()).unwrap();
        let old = Fingerprint::compute(schema_type, sorted.as_bytes(), &[], &Default::default()).to_hex();
        let guid = hex(&SchemaGuid::compute(text, &[], None, None).0);
        let quoted = text.replace('\'', "''");
        sql.push_str(&format!(
            "UPDATE {schema}.registry_schemas SET schema = '{quoted}', fingerprint = '\\x{old}', guid = '\\x{guid}' \
             WHERE id = {id}; UPDATE {schema}.registry_ids SET fingerprint = '\\x{old}' WHERE id = {id};",
            id = id.0
        ));
    }
    support::postgres::execute(&sql);

    let registry = Registry::connect(&url, RegistryOptions::default()).unwrap();
    let report = registry.check().unwrap();
    assert!(report.is_sound(), "{report:?}");
    for (id, want) in [(rows[0].0, r#""int""#), (rows[1].0, r#""int""#), (rows[2].0, json)] {
        assert_eq!(registry.schema_by_id(id).unwrap().text, want);
        let guid = SchemaGuid::compute(want, &[], None, None);
        assert!(registry.ids_by_guid(&guid).unwrap().contains(&id), "the GUID of {id}");
    }
    let int = UnparsedSchema::new(SchemaType::Avro, r#"{"type":"int"}"#);
    let z = Subject::new("z").unwrap();
    assert_eq!(registry.register(&z, &int).unwrap().id, rows[1].0);
    let again = registry.register(&a, &int).unwrap();
    assert_eq!((again.id, again.version.get(), again.deduplicated), (rows[0].0, 1, true));
}

/// A database from before Protobuf texts were Confluent's printing (migration 10): Protobuf rows hold the texts as
/// sent, and a schema that declares a oneof among its plain fields an identity that saw them in declared order.
/// Migration 11 gives each its printed text and GUID, and that identity its new fingerprint, in a context too:
/// the texts as sent find their ids again. One registered with `normalize` (its identity the normalized one,
/// unchanged) takes the normalized printing.
#[test]
fn a_database_from_before_printed_protobuf_texts_is_rewritten_by_its_migration() {
    use registry_core::{Fingerprint, SchemaGuid};
    let url = support::postgres::fresh_namespace();
    let registry = Registry::connect(&url, RegistryOptions::default()).unwrap();
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let interleaved =
        "syntax = \"proto3\";\n// An order.\nmessage Order {\n  oneof by { string a = 2; }\n  int32 n = 1;\n}\n";
    let plain = "syntax = \"proto3\";\nmessage Plain { string a = 1; }\n";
    let in_context = "syntax = \"proto3\";\nmessage Ctx {\n  oneof by { string a = 2; }\n  int32 n = 1;\n}\n";
    // (subject, text, identity stale, registered with normalize)
    let cases = [
        ("p1", interleaved, true, false),
        ("p2", plain, false, false),
        (":.ctx:p3", in_context, true, false),
        ("p4", "syntax = \"proto3\";\nmessage Norm {\n  int32 b = 2;\n  int32 a = 1;\n}\n", false, true),
    ];
    let proto = |text: &str, normalize: bool| UnparsedSchema::new(SchemaType::Protobuf, text).normalized(normalize);
    let mut printed = Vec::new();
    for (subject, text, _, normalize) in cases {
        let subject = Subject::new(subject).unwrap();
        registry.register(&subject, &proto(text, normalize)).unwrap();
        let stored = registry.lookup(&subject, &proto(text, normalize), Deleted::Exclude);
        printed.push(stored.unwrap().schema.text.clone());
    }
    assert!(printed[0].starts_with("syntax = \"proto3\";\n\nmessage Order {\n  int32 n = 1;\n\n  oneof by {"));
    assert!(printed[3].contains("  int32 a = 1;\n  int32 b = 2;\n"), "{}", printed[3]);
    drop(registry);

    // As the release before left them: the text as sent and its GUID, a stale identity where the order mattered.
    let schema = support::postgres::schema_of(&url);
    let mut sql = format!("DELETE FROM {schema}.registry_migrations WHERE version >= 11;");
    for ((_, sent, stale, _), now) in cases.iter().zip(&printed) {
        let guid = hex(&SchemaGuid::compute(sent, &[], None, None).0);
        let row = format!("(SELECT id FROM {schema}.registry_schemas WHERE schema = '{}')", now.replace('\'', "''"));
        if *stale {
            let old = Fingerprint::compute(SchemaType::Protobuf, sent.as_bytes(), &[], &Default::default()).to_hex();
            sql.push_str(&format!(
                "UPDATE {schema}.registry_ids SET fingerprint = '\\x{old}' WHERE id = {row};
                 UPDATE {schema}.registry_schemas SET fingerprint = '\\x{old}' WHERE id = {row};"
            ));
        }
        sql.push_str(&format!(
            "UPDATE {schema}.registry_schemas SET schema = '{}', guid = '\\x{guid}' WHERE id = {row};",
            sent.replace('\'', "''")
        ));
    }
    support::postgres::execute(&sql);

    let registry = Registry::connect(&url, RegistryOptions::default()).unwrap();
    let report = registry.check().unwrap();
    assert!(report.is_sound(), "{report:?}");
    for ((subject, sent, _, normalize), now) in cases.iter().zip(&printed) {
        let subject = Subject::new(subject).unwrap();
        let sent = proto(sent, *normalize);
        let found = registry.lookup(&subject, &sent, Deleted::Exclude).unwrap();
        assert_eq!(&found.schema.text, now, "{subject}: the printed text");
        let guid = SchemaGuid::compute(now, &[], None, None);
        assert_eq!(registry.schema_by_guid(&guid).unwrap().text, *now, "{subject}: the GUID of the printed text");
        let again = registry.register(&subject, &sent).unwrap();
        assert_eq!((again.id, again.version.get(), again.deduplicated), (found.schema.id, 1, true), "{subject}");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn an_address_that_cannot_be_used_is_a_typed_error() {
    for url in ["postgres://", "not a url at all ="] {
        let outcome = Registry::connect(url, RegistryOptions::default());
        assert!(
            matches!(outcome, Err(RegistryError::InvalidStore(_) | RegistryError::Storage(_))),
            "{url}: {outcome:?}"
        );
    }
    // Nothing listens there: unavailable, after the one try the default options make.
    match Registry::connect("postgres://registry@127.0.0.1:1/registry", RegistryOptions::default()) {
        Err(RegistryError::Storage(e)) => {
            assert!(e.is_unavailable(), "{e}");
            assert!(e.to_string().contains("refused"), "the message names the cause: {e}");
            assert!(std::error::Error::source(&e).is_some(), "the driver's error is kept as the source");
        }
        other => panic!("expected an unavailable store, got {other:?}"),
    }
}

/// Runs `left` and `right` at the same moment on two threads and returns both outcomes.
fn race<A: Send, B: Send>(left: impl FnOnce() -> A + Send, right: impl FnOnce() -> B + Send) -> (A, B) {
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|scope| {
        let left = scope.spawn(|| {
            barrier.wait();
            left()
        });
        let right = scope.spawn(|| {
            barrier.wait();
            right()
        });
        (left.join().unwrap(), right.join().unwrap())
    })
}

#[test]
fn a_permanent_delete_racing_a_registration_of_the_same_schema_never_loses_its_record() {
    let (a, b) = two();
    a.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    for round in 0..20 {
        let (old, new) =
            (Subject::new(&format!("old-{round}")).unwrap(), Subject::new(&format!("new-{round}")).unwrap());
        let schema = avro(&format!("shared{round}"));
        let id = a.register(&old, &schema).unwrap().id;
        a.delete_subject(&old, Deletion::Soft).unwrap();
        let (deleted, registered) = race(|| a.delete_subject(&old, Deletion::Permanent), || b.register(&new, &schema));
        deleted.unwrap();
        assert_eq!(registered.unwrap().id, id, "round {round}: the schema keeps its id");
        for registry in [&a, &b] {
            let read = registry.version(&new, VersionSelector::Latest, Deleted::Exclude);
            assert_eq!(read.map(|v| v.schema.id).ok(), Some(id), "round {round}: the new version reads back");
            assert!(registry.schema_by_id(id).is_ok(), "round {round}: the id is still served");
        }
    }
}

#[test]
fn a_referenced_version_is_never_deleted_by_a_delete_racing_the_reference() {
    let (a, b) = two();
    a.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    for round in 0..20 {
        let base = Subject::new(&format!("base-{round}")).unwrap();
        a.register(&base, &avro(&format!("b{round}"))).unwrap();
        a.delete_subject(&base, Deletion::Soft).unwrap();
        let referring = UnparsedSchema {
            schema_type: SchemaType::Avro,
            text: r#"{"type":"record","name":"Holder","fields":[{"name":"r","type":"R"}]}"#.into(),
            references: vec![registry_core::SchemaReference {
                name: "R".into(),
                subject: base.clone(),
                version: registry_core::Version::new(1).unwrap(),
            }],
            contract: Default::default(),
            normalize: false,
        };
        let holder = Subject::new(&format!("holder-{round}")).unwrap();
        let (deleted, registered) =
            race(|| a.delete_subject(&base, Deletion::Permanent), || b.register(&holder, &referring));
        match (&deleted, &registered) {
            // The delete first: the registration finds the version gone, in its parse or in its transaction.
            (Ok(_), Err(RegistryError::InvalidSchema(_))) => {}
            (Err(RegistryError::ReferenceExists { .. }), Ok(_)) => {
                let found = b.version(&holder, VersionSelector::Latest, Deleted::Exclude).unwrap();
                assert!(b.parsed_by_id(found.schema.id).is_ok(), "round {round}: the reference still resolves");
            }
            other => panic!("round {round}: the delete and the reference both went through or both failed: {other:?}"),
        }
    }
}

#[test]
fn an_import_racing_an_allocation_of_the_same_id_never_binds_two_schemas_to_it() {
    let (a, b) = two();
    a.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    for round in 0..20u32 {
        let imports = Subject::new(&format!("imported-{round}")).unwrap();
        a.set_mode(Scope::Subject(&imports), Mode::Import, true).unwrap();
        // The next id to allocate is `contested`: an import of the id just below moves the counter there.
        let contested = registry_core::SchemaId(1000 * (round + 1));
        let anchor =
            RegisterOptions { id: Some(registry_core::SchemaId(contested.0 - 1)), ..RegisterOptions::default() };
        a.register_with(&imports, &avro(&format!("anchor{round}")), anchor).unwrap();
        let given = RegisterOptions { id: Some(contested), ..RegisterOptions::default() };
        let (imported, allocated) = race(
            || a.register_with(&imports, &avro(&format!("imported{round}")), given),
            || b.register(&Subject::new(&format!("allocated-{round}")).unwrap(), &avro(&format!("allocated{round}"))),
        );
        let allocated = allocated.unwrap();
        match imported {
            Ok(imported) => {
                assert_eq!(imported.id, contested);
                assert_ne!(allocated.id, contested, "round {round}: the allocation skipped the imported id");
            }
            Err(RegistryError::IdTaken(id)) => assert_eq!((id, allocated.id), (contested, contested), "round {round}"),
            Err(other) => panic!("round {round}: {other}"),
        }
        let text = b.schema_by_id(contested).unwrap().text.clone();
        let holder = if allocated.id == contested { format!("allocated{round}") } else { format!("imported{round}") };
        assert!(text.contains(&holder), "round {round}: id {contested} holds {text}");
    }
}
