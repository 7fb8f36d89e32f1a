//! The audit log on every store: each write appends one entry (action, subject, version, id, who), in order; the
//! log pages and filters; its hash chain verifies, and an entry changed or removed in the store is named by
//! `verify_audit` and `check`. A copy keeps the log, chain and all.

use redb::ReadableTable;
use registry_core::{SchemaType, Subject, UnparsedSchema, Version, VersionSelector};
use registry_store::{AuditAction, AuditVerdict, Deletion, Mode, Registry, RegistryOptions, Scope, VersionState};

mod support;

/// The audit table of a redb file, opened for writing.
type AuditTable<'t> = redb::Table<'t, u64, &'static [u8]>;

fn subject(name: &str) -> Subject {
    Subject::new(name).unwrap()
}

fn avro(text: &str) -> UnparsedSchema {
    UnparsedSchema::new(SchemaType::Avro, text)
}

/// A registry with one write of each kind, by `alice` but for the last two, and the actions in order.
fn written(registry: &Registry) -> Vec<AuditAction> {
    let alice = registry.acting_as(Some("alice"));
    let (a, b) = (subject("a"), subject(":.c:b"));
    alice.register(&a, &avro(r#""int""#)).unwrap();
    alice.register(&a, &avro(r#""int""#)).unwrap(); // the same schema again: nothing written, no entry
    alice.register(&b, &avro(r#""long""#)).unwrap();
    alice.set_config(Scope::Subject(&a), registry_core::compat::CompatibilityLevel::None).unwrap();
    alice.set_mode(Scope::Subject(&a), Mode::Readwrite, false).unwrap();
    alice.set_state(&a, VersionSelector::Number(Version::new(1).unwrap()), VersionState::Deprecated).unwrap();
    registry.delete_subject(&b, Deletion::Soft).unwrap();
    registry.delete_subject(&b, Deletion::Permanent).unwrap();
    let (register, delete) = (AuditAction::Register, AuditAction::DeleteSubject);
    vec![register, register, AuditAction::Config, AuditAction::Mode, AuditAction::State, delete, delete]
}

#[test]
fn every_write_appends_one_chained_entry() {
    support::backends().into_iter().for_each(every_write_appends_one_chained_entry_on);
}

fn every_write_appends_one_chained_entry_on(backend: support::Backend) {
    let registry = backend.registry(RegistryOptions::default());
    let actions = written(&registry);
    let page = registry.audit(1, 100, None).unwrap();
    assert_eq!(page.entries.iter().map(|e| e.action).collect::<Vec<_>>(), actions);
    assert_eq!(page.next, None);
    let first = &page.entries[0];
    assert_eq!((first.seq, first.actor.as_deref(), first.subject.as_deref()), (1, Some("alice"), Some("a")));
    assert_eq!((first.version, first.id), (Some(1), Some(1)));
    assert_eq!(first.prev_hash, "0".repeat(64));
    let in_context = &page.entries[1];
    assert_eq!((in_context.subject.as_deref(), in_context.id), (Some(":.c:b"), Some(1)), "the context's id");
    assert_eq!(page.entries[4].detail.as_deref(), Some("ACTIVE -> DEPRECATED"));
    assert_eq!(page.entries[6].actor, None, "a write made without a name");
    assert_eq!(page.entries[6].detail.as_deref(), Some("permanent"));
    for pair in page.entries.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash, "entry {} chains to {}", pair[1].seq, pair[0].seq);
        assert_eq!(pair[1].seq, pair[0].seq + 1);
    }
    assert_eq!(registry.verify_audit().unwrap(), AuditVerdict::Intact(7));
    // Pages, and a subject's entries alone.
    let two = registry.audit(1, 2, None).unwrap();
    assert_eq!((two.entries.len(), two.next), (2, Some(3)));
    let rest = registry.audit(3, 100, None).unwrap();
    assert_eq!(rest.entries.first().map(|e| e.seq), Some(3));
    let of_a = registry.audit(1, 100, Some(&subject("a"))).unwrap();
    assert_eq!(of_a.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 3, 4, 5]);
    let of_a = registry.audit(2, 1, Some(&subject("a"))).unwrap();
    assert_eq!((of_a.entries[0].seq, of_a.next), (3, Some(4)));
}

#[test]
fn concurrent_writers_keep_one_chain() {
    support::backends().into_iter().for_each(concurrent_writers_keep_one_chain_on);
}

fn concurrent_writers_keep_one_chain_on(backend: support::Backend) {
    let registries = backend.instances(4, RegistryOptions::default());
    std::thread::scope(|scope| {
        for (worker, registry) in registries.iter().enumerate() {
            scope.spawn(move || {
                for i in 0..10 {
                    let text = format!(r#"{{"type":"record","name":"R{worker}x{i}","fields":[]}}"#);
                    registry.register(&subject(&format!("s{worker}-{i}")), &avro(&text)).unwrap();
                }
            });
        }
    });
    assert_eq!(registries[0].verify_audit().unwrap(), AuditVerdict::Intact(40));
}

#[test]
fn an_entry_changed_in_the_file_breaks_the_chain_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.redb");
    {
        let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
        written(&registry);
        assert!(registry.check().unwrap().is_sound());
    }
    let audit = redb::TableDefinition::<u64, &[u8]>::new("audit");
    let rewrite = |change: &dyn Fn(&mut AuditTable<'_>)| {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        change(&mut txn.open_table(audit).unwrap());
        txn.commit().unwrap();
    };
    // Entry 3's actor rewritten, as someone covering their tracks would.
    rewrite(&|table| {
        let entry = String::from_utf8(table.get(3).unwrap().unwrap().value().to_vec()).unwrap();
        let forged = entry.replace(r#""actor":"alice""#, r#""actor":"bob""#);
        assert_ne!(entry, forged);
        table.insert(3, forged.as_bytes()).unwrap();
    });
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    match registry.verify_audit().unwrap() {
        AuditVerdict::Broken { seq, .. } => assert_eq!(seq, 3),
        other => panic!("{other:?}"),
    }
    let report = registry.check().unwrap();
    assert!(report.problems.iter().any(|p| p.starts_with("audit entry 3:")), "{:?}", report.problems);
    drop(registry);
    // Entry 3 put back as it was, and entry 5 removed: the chain holds to 4 and breaks where 5 was.
    rewrite(&|table| {
        let entry = String::from_utf8(table.get(3).unwrap().unwrap().value().to_vec()).unwrap();
        table.insert(3, entry.replace(r#""actor":"bob""#, r#""actor":"alice""#).as_bytes()).unwrap();
        drop(table.remove(5).unwrap());
    });
    let registry = Registry::open(&path, RegistryOptions::default()).unwrap();
    match registry.verify_audit().unwrap() {
        AuditVerdict::Broken { seq, reason } => assert_eq!((seq, reason.contains("missing")), (5, true), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[cfg(feature = "postgres")]
#[test]
fn an_entry_changed_in_the_database_breaks_the_chain_there() {
    let url = support::postgres::fresh_namespace();
    let registry = Registry::connect(&url, RegistryOptions::default()).unwrap();
    written(&registry);
    assert_eq!(registry.verify_audit().unwrap(), AuditVerdict::Intact(7));
    let schema = support::postgres::schema_of(&url);
    support::postgres::execute(&format!(
        "UPDATE {schema}.registry_audit SET entry = replace(entry, '\"subject\":\":.c:b\"', '\"subject\":\"x\"') \
         WHERE seq = 6"
    ));
    match registry.verify_audit().unwrap() {
        AuditVerdict::Broken { seq, .. } => assert_eq!(seq, 6),
        other => panic!("{other:?}"),
    }
    support::postgres::execute(&format!("DELETE FROM {schema}.registry_audit WHERE seq = 2"));
    assert!(matches!(registry.verify_audit().unwrap(), AuditVerdict::Broken { seq: 2, .. }));
}

#[test]
fn a_copy_keeps_the_log_and_its_chain() {
    let source = Registry::in_memory(RegistryOptions::default()).unwrap();
    written(&source);
    for backend in support::backends() {
        let target = backend.registry(RegistryOptions::default());
        source.copy_into(&target, false).unwrap();
        assert_eq!(target.verify_audit().unwrap(), AuditVerdict::Intact(7));
        assert_eq!(target.audit(1, 100, None).unwrap(), source.audit(1, 100, None).unwrap());
        // And goes on from there.
        target.register(&subject("z"), &avro(r#""bytes""#)).unwrap();
        assert_eq!(target.verify_audit().unwrap(), AuditVerdict::Intact(8));
    }
}
