//! Durability and the on-disk format: write, drop, reopen, everything is there; a file from a newer format
//! is refused with a clear error.

use redb::ReadableDatabase;
use registry_core::compat::CompatibilityLevel;
use registry_core::contract::{DataContract, Metadata};
use registry_core::{SchemaId, SchemaType, Subject, UnparsedSchema, VersionSelector};
use registry_store::{Deleted, Deletion, Mode, Registry, RegistryError, RegistryOptions, Scope};

fn avro(name: &str) -> UnparsedSchema {
    UnparsedSchema::new(SchemaType::Avro, format!(r#"{{"type":"record","name":"{name}","fields":[]}}"#))
}

#[test]
fn everything_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    let (a, b) = (Subject::new("a").unwrap(), Subject::new("b").unwrap());
    {
        let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
        registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
        registry.set_config(Scope::Subject(&b), CompatibilityLevel::Full).unwrap();
        registry.set_mode(Scope::Subject(&b), Mode::Readonly, false).unwrap();
        assert_eq!(registry.register(&a, &avro("A")).unwrap().id, SchemaId(1));
        assert_eq!(registry.register(&a, &avro("B")).unwrap().id, SchemaId(2));
        registry.delete_version(&a, VersionSelector::Number(1.try_into().unwrap()), Deletion::Soft).unwrap();
        let c = Subject::new("c").unwrap();
        registry.register(&c, &avro("C")).unwrap();
        registry.delete_subject(&c, Deletion::Soft).unwrap();
        registry.delete_subject(&c, Deletion::Permanent).unwrap();
    }
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    assert_eq!(registry.versions(&a, Deleted::Exclude).unwrap().iter().map(|v| v.get()).collect::<Vec<_>>(), [2]);
    assert_eq!(registry.versions(&a, Deleted::Include).unwrap().len(), 2);
    assert_eq!(registry.schema_by_id(SchemaId(2)).unwrap().text, avro("B").text);
    assert_eq!(registry.config(Scope::Global).unwrap(), Some(CompatibilityLevel::None));
    assert_eq!(registry.config(Scope::Subject(&b)).unwrap(), Some(CompatibilityLevel::Full));
    assert_eq!(registry.mode(Scope::Subject(&b)).unwrap(), Some(Mode::Readonly));
    // Ids are never reused: C had id 3 and was hard-deleted; the next new schema gets 4.
    assert_eq!(registry.register(&a, &avro("D")).unwrap().id, SchemaId(4));
    // And C registered again gets its old id back.
    assert_eq!(registry.register(&a, &avro("C")).unwrap().id, SchemaId(3));
}

#[test]
fn a_file_from_a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    drop(Registry::open(&path, RegistryOptions::default()).unwrap());
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("meta")).unwrap().insert("format_version", 99).unwrap();
        txn.commit().unwrap();
    }
    let err = Registry::open(&path, RegistryOptions::default()).unwrap_err();
    assert!(matches!(err, RegistryError::UnsupportedFormat { found: 99, supported: 8 }), "{err}");
    assert!(err.to_string().contains("upgrade"), "{err}");
}

/// A file written before the GUID index (format 1, or 2 with data contracts) is given the index when it is opened,
/// and marked the current format so that a release that predates the index refuses it rather than leave it incomplete.
#[test]
fn a_file_from_before_the_guid_index_is_indexed_when_opened() {
    let meta = redb::TableDefinition::<&str, u64>::new("meta");
    let format = |path: &std::path::Path| {
        let db = redb::Database::open(path).unwrap();
        let txn = db.begin_read().unwrap();
        txn.open_table(meta).unwrap().get("format_version").unwrap().unwrap().value()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    let a = Subject::new("a").unwrap();
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    let plain = registry.register(&a, &avro("A")).unwrap().id;
    let metadata = Metadata { properties: [("owner".into(), "a".into())].into(), ..Metadata::default() };
    let contract = DataContract { metadata: Some(metadata), rule_set: None };
    let with_contract = registry.register(&a, &avro("A").with_contract(contract.clone())).unwrap().id;
    let guids = [plain, with_contract].map(|id| registry.schema_by_id(id).unwrap().guid());
    drop(registry);
    assert_eq!(format(&path), 8);

    // As a release before the index left it: format 2, no GUID table.
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(meta).unwrap().insert("format_version", 2).unwrap();
        txn.delete_table(redb::TableDefinition::<(&[u8], u32), ()>::new("guids")).unwrap();
        txn.commit().unwrap();
    }
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    for (guid, id) in guids.iter().zip([plain, with_contract]) {
        assert_eq!(registry.ids_by_guid(guid).unwrap(), vec![id]);
        assert_eq!(registry.schema_by_guid(guid).unwrap().id, id);
    }
    assert_eq!(registry.schema_by_id(with_contract).unwrap().contract, contract);
    assert!(registry.check().unwrap().is_sound());
    drop(registry);
    assert_eq!(format(&path), 8);
}

#[test]
fn a_record_from_a_newer_format_is_refused_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    let a = Subject::new("a").unwrap();
    {
        let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
        registry.register(&a, &avro("A")).unwrap();
    }
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        let table = redb::TableDefinition::<(&str, u32), &[u8]>::new("versions");
        txn.open_table(table).unwrap().insert(("a", 1), [7u8, 1, 0].as_slice()).unwrap();
        txn.commit().unwrap();
    }
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    let err = registry.versions(&a, Deleted::Exclude).unwrap_err();
    assert!(matches!(err, RegistryError::UnsupportedFormat { found: 7, .. }), "{err}");
}

#[test]
fn group_committed_registrations_are_all_durable() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 25;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    let mut acknowledged = Vec::new();
    {
        let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
        registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let registry = registry.clone();
                    scope.spawn(move || {
                        (0..PER_THREAD)
                            .map(|i| {
                                let subject = Subject::new(&format!("s{t}-{i}")).unwrap();
                                let registered = registry.register(&subject, &avro(&format!("R{t}x{i}"))).unwrap();
                                (subject, registered.id)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                acknowledged.extend(handle.join().unwrap());
            }
        });
        let stats = registry.commit_stats();
        assert_eq!(stats.jobs, (THREADS * PER_THREAD) as u64);
        assert!(stats.commits >= 1 && stats.commits <= stats.jobs, "{stats:?}");
    }
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    for (subject, id) in &acknowledged {
        let found = registry.version(subject, VersionSelector::Latest, Deleted::Exclude).unwrap();
        assert_eq!(found.schema.id, *id, "{subject} lost after reopen");
    }
    let ids: std::collections::BTreeSet<_> = acknowledged.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids.len(), THREADS * PER_THREAD, "every new schema got its own id");
}

#[test]
fn a_file_open_in_another_registry_is_refused_as_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    let first = Registry::open(&path, RegistryOptions::default()).unwrap();
    let err = Registry::open(&path, RegistryOptions::default()).unwrap_err();
    assert!(matches!(&err, RegistryError::InUse(file) if file.ends_with("registry.redb")), "{err}");
    drop(first);
    Registry::open(&path, RegistryOptions::default()).expect("opens once the other is closed");
}

/// A file written by the release before canonical texts (format 3: texts as first sent, identity over sorted-key
/// JSON) gets Confluent's canonical texts, their fingerprints and GUIDs when it is opened. The fixture holds
/// `{"type": "int"}` (id 1, subject a) and `"int"` (id 2, b); a record named `x.N` (3) and the same record written
/// `N` in namespace `x` (4), both in c; a JSON Schema with unsorted keys (5, d); a record referencing c version 1
/// (6, e); a Protobuf schema (7, f); a record hard-deleted with g (8); a string with metadata (9, h).
#[test]
fn a_file_from_before_canonical_texts_is_rewritten_when_opened() {
    use registry_core::SchemaGuid;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format-3.redb"), &path).unwrap();
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    let text = |id: u32| registry.schema_by_id(SchemaId(id)).unwrap().text.clone();
    let expected = [
        (1, r#""int""#),
        (2, r#""int""#),
        (3, r#"{"type":"record","name":"N","namespace":"x","fields":[{"name":"f","type":"string"}]}"#),
        (4, r#"{"type":"record","name":"N","namespace":"x","fields":[{"name":"f","type":"string"}]}"#),
        (5, r#"{"type":"object","properties":{"b":{"type":"integer"},"a":{"type":"string"}}}"#),
        (6, r#"{"type":"record","name":"Holder","fields":[{"name":"n","type":"x.N"}]}"#),
        (7, "syntax = \"proto3\";\n\nmessage M {\n  string a = 1;\n}\n"),
        (9, r#""string""#),
    ];
    for (id, want) in expected {
        assert_eq!(text(id), want, "schema {id}");
        let stored = registry.schema_by_id(SchemaId(id)).unwrap();
        let guid = SchemaGuid::compute(want, &stored.references, stored.contract.metadata.as_ref(), None);
        assert!(registry.ids_by_guid(&guid).unwrap().contains(&SchemaId(id)), "the GUID of {id}");
    }
    let report = registry.check().unwrap();
    assert!(report.is_sound(), "{report:?}");
    // The identity of `"int"` stays with id 2, which held it; id 1 keeps its version in a, found by its text.
    let [a, b, c, z] = ["a", "b", "c", "z"].map(|s| Subject::new(s).unwrap());
    let int = UnparsedSchema::new(SchemaType::Avro, r#"{"type":"int"}"#);
    assert_eq!(registry.register(&z, &int).unwrap().id, SchemaId(2));
    let again = registry.register(&a, &int).unwrap();
    assert_eq!((again.id, again.version.get(), again.deduplicated), (SchemaId(1), 1, true));
    assert_eq!(registry.lookup(&a, &int, Deleted::Exclude).unwrap().schema.id, SchemaId(1));
    assert_eq!(registry.lookup(&b, &int, Deleted::Exclude).unwrap().schema.id, SchemaId(2));
    // The two spellings of x.N: the newer id takes the identity, both versions of c stay.
    let n = UnparsedSchema::new(
        SchemaType::Avro,
        r#"{"type":"record","name":"x.N","fields":[{"name":"f","type":"string"}]}"#,
    );
    assert_eq!(registry.register(&z, &n).unwrap().id, SchemaId(4));
    assert_eq!(registry.versions(&c, Deleted::Exclude).unwrap().len(), 2);
    // The hard-deleted id is not reused, and the next id follows the highest.
    let fresh = UnparsedSchema::new(SchemaType::Avro, r#"{"type":"record","name":"New","fields":[]}"#);
    assert_eq!(registry.register(&z, &fresh).unwrap().id, SchemaId(10));
    drop(registry);
    let db = redb::Database::open(&path).unwrap();
    let txn = db.begin_read().unwrap();
    let meta = redb::TableDefinition::<&str, u64>::new("meta");
    assert_eq!(txn.open_table(meta).unwrap().get("format_version").unwrap().unwrap().value(), 8);
}

/// A file written by the release before Protobuf texts were Confluent's printing (format 7: Protobuf texts as sent,
/// an identity that saw a message's fields in declared order). The fixture holds, as that release registered them
/// over HTTP: a message declaring a oneof before its plain field, with comments (id 1, p1); a plain message (2,
/// p2); the first kind in context `.ctx` (its id 1, p3); a message importing p2's file by reference (3, p4); a
/// `bytes` default, whose printing would not compile (4, p5); an Avro record (5, a). Opened, each Protobuf record
/// has its printed text and GUID (the last keeps its text), the texts as sent find their ids again, and the file
/// is format 8.
#[test]
fn a_file_from_before_printed_protobuf_texts_is_rewritten_when_opened() {
    use registry_core::{SchemaGuid, SchemaReference, Version};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format-7.redb"), &path).unwrap();
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    let order = "syntax = \"proto3\";\npackage shop;\n// An order.\nmessage Order {\n  oneof by { string card = 2; string iban = 3; }\n  int32 amount = 1; // in cents\n}\n";
    let money = "syntax = \"proto3\";\npackage shop;\nmessage Money { string currency = 1; int64 units = 2; }\n";
    let ctx = "syntax = \"proto3\";\nmessage Ctx {\n  oneof by { string a = 2; }\n  int32 n = 1;\n}\n";
    let price = "syntax = \"proto3\";\npackage shop;\nimport \"money.proto\";\nmessage Price { Money money = 1; }\n";
    let raw = "syntax = \"proto2\";\nmessage Raw { optional bytes raw = 1 [default = \"abc\"]; }\n";
    let record = r#"{"type":"record","name":"A","fields":[{"name":"f","type":"string"}]}"#;
    let expected = [
        (
            1,
            "syntax = \"proto3\";\npackage shop;\n\nmessage Order {\n  int32 amount = 1;\n\n  oneof by {\n    string card = 2;\n    string iban = 3;\n  }\n}\n",
        ),
        (2, "syntax = \"proto3\";\npackage shop;\n\nmessage Money {\n  string currency = 1;\n  int64 units = 2;\n}\n"),
        (
            3,
            "syntax = \"proto3\";\npackage shop;\n\nimport \"money.proto\";\n\nmessage Price {\n  Money money = 1;\n}\n",
        ),
        (4, raw),
        (5, record),
    ];
    for (id, want) in expected {
        let stored = registry.schema_by_id(SchemaId(id)).unwrap();
        assert_eq!(stored.text, want, "schema {id}");
        let guid = SchemaGuid::compute(want, &stored.references, None, None);
        assert!(registry.ids_by_guid(&guid).unwrap().contains(&SchemaId(id)), "the GUID of {id}");
    }
    let report = registry.check().unwrap();
    assert!(report.is_sound(), "{report:?}");
    let proto = |text: &str| UnparsedSchema::new(SchemaType::Protobuf, text);
    let reference = SchemaReference {
        name: "money.proto".into(),
        subject: Subject::new("p2").unwrap(),
        version: Version::new(1).unwrap(),
    };
    let cases = [
        ("p1", proto(order), 1),
        ("p2", proto(money), 2),
        // The library answers a context's schema by its stored id, the context's first.
        (":.ctx:p3", proto(ctx), 1 << 31),
        ("p4", proto(price).with_references(vec![reference]), 3),
        ("p5", proto(raw), 4),
    ];
    for (subject, schema, id) in cases {
        let again = registry.register(&Subject::new(subject).unwrap(), &schema).unwrap();
        assert_eq!((again.id, again.version.get(), again.deduplicated), (SchemaId(id), 1, true), "{subject}");
    }
    // In another subject the text as sent is the same schema, with the same id.
    assert_eq!(registry.register(&Subject::new("z").unwrap(), &proto(order)).unwrap().id, SchemaId(1));
    drop(registry);
    let db = redb::Database::open(&path).unwrap();
    let txn = db.begin_read().unwrap();
    let meta = redb::TableDefinition::<&str, u64>::new("meta");
    assert_eq!(txn.open_table(meta).unwrap().get("format_version").unwrap().unwrap().value(), 8);
}
