//! `Registry::check` and `Registry::backup_to`: a sound registry checks clean and its backup opens as the same
//! registry; each kind of damage done to the file behind the registry's back is reported.

use std::path::Path;

use redb::{ReadableTable, TableDefinition};
use registry_core::compat::CompatibilityLevel;
use registry_core::{SchemaId, SchemaReference, SchemaType, Subject, UnparsedSchema, VersionSelector};
use registry_store::{Deleted, Deletion, Registry, RegistryError, RegistryOptions, Scope};

const SCHEMAS: TableDefinition<u32, &[u8]> = TableDefinition::new("schemas");
const FINGERPRINTS: TableDefinition<&[u8], u32> = TableDefinition::new("fingerprints");
const VERSIONS: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("versions");
const ID_USES: TableDefinition<(u32, &str, u32), ()> = TableDefinition::new("id_uses");
const REFERENCED_BY: TableDefinition<(&str, u32, u32), ()> = TableDefinition::new("referenced_by");
const GUIDS: TableDefinition<(&[u8], u32), ()> = TableDefinition::new("guids");

fn subject(name: &str) -> Subject {
    Subject::new(name).unwrap()
}

fn avro(name: &str) -> UnparsedSchema {
    UnparsedSchema::new(SchemaType::Avro, format!(r#"{{"type":"record","name":"{name}","fields":[]}}"#))
}

/// A registry with a bit of everything: versions, a reference, soft and permanent deletes, settings.
/// Ids: 1 Common (in `common`), 2 A1, 3 A2 (in `a`), 4 Uses (references common v1), 5 Gone (permanently deleted).
fn populate(path: &Path) {
    let registry = Registry::open(path, RegistryOptions::default()).unwrap();
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    registry.register(&subject("common"), &avro("Common")).unwrap();
    registry.register(&subject("a"), &avro("A1")).unwrap();
    registry.register(&subject("a"), &avro("A2")).unwrap();
    let uses = UnparsedSchema {
        schema_type: SchemaType::Avro,
        text: r#"{"type":"record","name":"Uses","fields":[{"name":"c","type":"Common"}]}"#.into(),
        references: vec![SchemaReference {
            name: "Common".into(),
            subject: subject("common"),
            version: 1.try_into().unwrap(),
        }],
        contract: Default::default(),
        normalize: false,
    };
    registry.register(&subject("b"), &uses).unwrap();
    registry.register(&subject("a"), &avro("Gone")).unwrap();
    let gone = VersionSelector::Number(3.try_into().unwrap());
    registry.delete_version(&subject("a"), gone, Deletion::Soft).unwrap();
    registry.delete_version(&subject("a"), gone, Deletion::Permanent).unwrap();
    registry.delete_version(&subject("a"), VersionSelector::Number(1.try_into().unwrap()), Deletion::Soft).unwrap();
    registry.set_config(Scope::Subject(&subject("a")), CompatibilityLevel::Full).unwrap();
}

#[test]
fn a_sound_registry_checks_clean_and_its_backup_is_the_same_registry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    populate(&path);
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    let report = registry.check().unwrap();
    assert!(report.is_sound(), "{:?}", report.problems);
    assert_eq!((report.subjects, report.versions, report.schemas, report.ids), (3, 4, 4, 5), "{report:?}");
    assert_eq!(report.subjects_with_gaps, 0, "a's last version was deleted, which leaves no gap");

    let backup = dir.path().join("backup.redb");
    let copied = registry.backup_to(&backup).unwrap();
    assert_eq!((copied.versions, copied.schemas, copied.ids), (4, 4, 5));
    let err = registry.backup_to(&backup).unwrap_err();
    assert!(matches!(err, RegistryError::InvalidStore(_)) && err.to_string().contains("exists already"), "{err}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains("partial"))
    );
    drop(registry);

    let restored = Registry::open(&backup, RegistryOptions::default()).unwrap();
    assert!(restored.check().unwrap().is_sound());
    let a = subject("a");
    let versions = |deleted| restored.versions(&a, deleted).unwrap().iter().map(|v| v.get()).collect::<Vec<_>>();
    assert_eq!((versions(Deleted::Exclude), versions(Deleted::Include)), (vec![2], vec![1, 2]));
    assert_eq!(restored.schema_by_id(SchemaId(4)).unwrap().references.len(), 1);
    assert_eq!(restored.config(Scope::Subject(&a)).unwrap(), Some(CompatibilityLevel::Full));
    // The permanently deleted schema's id stays taken: registered again, it gets its old id back.
    assert_eq!(restored.register(&subject("c"), &avro("Gone")).unwrap().id, SchemaId(5));
    assert_eq!(restored.register(&subject("c"), &avro("New")).unwrap().id, SchemaId(6));
}

/// Damage done to the file directly, and the words the check must report it with.
type Damage = fn(&redb::WriteTransaction);

#[test]
fn each_kind_of_damage_is_reported() {
    let cases: [(&str, Damage, &str); 8] = [
        (
            "a schema record of the right format that does not decode",
            |txn| {
                txn.open_table(SCHEMAS).unwrap().insert(2, [1_u8, 0xff, 0xff, 0xff].as_slice()).unwrap();
            },
            "schema id 2: Corrupt data",
        ),
        (
            "a schema record that does not decode",
            |txn| {
                txn.open_table(SCHEMAS).unwrap().insert(2, [0xff_u8, 0xff, 0xff].as_slice()).unwrap();
            },
            "schema id 2",
        ),
        (
            "a schema record under another id",
            |txn| {
                let mut schemas = txn.open_table(SCHEMAS).unwrap();
                let record = schemas.get(2).unwrap().unwrap().value().to_vec();
                schemas.insert(3, record.as_slice()).unwrap();
            },
            "schema id 3: its record says id 2",
        ),
        (
            "a text changed behind its fingerprint",
            |txn| {
                let mut schemas = txn.open_table(SCHEMAS).unwrap();
                let mut record = schemas.get(2).unwrap().unwrap().value().to_vec();
                let at = record.windows(2).position(|w| w == b"A1").unwrap();
                record[at + 1] = b'9';
                schemas.insert(2, record.as_slice()).unwrap();
            },
            "schema id 2: its fingerprint is not that of its canonical form",
        ),
        (
            "a use missing from the index",
            |txn| {
                txn.open_table(ID_USES).unwrap().remove((2, "a", 1)).unwrap();
            },
            "a version 1: the index of where id 2 is used misses it",
        ),
        (
            "a fingerprint no longer bound back",
            |txn| {
                let mut fingerprints = txn.open_table(FINGERPRINTS).unwrap();
                let key = fingerprints
                    .iter()
                    .unwrap()
                    .map(|e| e.unwrap())
                    .find(|(_, id)| id.value() == 1)
                    .unwrap()
                    .0
                    .value()
                    .to_vec();
                fingerprints.remove(key.as_slice()).unwrap();
            },
            "id 1: its fingerprint is not bound back to it",
        ),
        (
            "a schema missing from the GUID index",
            |txn| {
                let mut guids = txn.open_table(GUIDS).unwrap();
                let entry = guids.iter().unwrap().map(|e| e.unwrap()).find(|(key, _)| key.value().1 == 1).unwrap();
                let guid = entry.0.value().0.to_vec();
                drop(entry);
                guids.remove((guid.as_slice(), 1)).unwrap();
            },
            "schema id 1: the GUID index misses it",
        ),
        (
            "a referenced version gone, its referrer index too",
            |txn| {
                txn.open_table(VERSIONS).unwrap().remove(("common", 1)).unwrap();
                txn.open_table(REFERENCED_BY).unwrap().remove(("common", 1, 4)).unwrap();
            },
            "schema id 4: its reference to common version 1 does not resolve",
        ),
    ];
    for (name, damage, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.redb");
        populate(&path);
        {
            let db = redb::Database::open(&path).unwrap();
            let txn = db.begin_write().unwrap();
            damage(&txn);
            txn.commit().unwrap();
        }
        let report = Registry::open(&path, RegistryOptions::default()).unwrap().check().unwrap();
        assert!(
            report.problems.iter().any(|p| p.contains(expected)),
            "{name}: expected {expected:?} in {:?}",
            report.problems
        );
    }
}
