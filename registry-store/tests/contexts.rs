//! Schema contexts on every store: each context has ids of its own (from 1, dedup within it), its explicit
//! imported ids, its listing until it is deleted, references resolved in it; a copy keeps all of it, and the
//! integrity check finds it sound.

use std::collections::BTreeSet;

use registry_core::{SchemaId, SchemaReference, SchemaType, Subject, UnparsedSchema, Version};
use registry_store::{Deletion, Mode, RegisterOptions, Registry, RegistryError, RegistryOptions, Scope};

mod support;

fn subject(name: &str) -> Subject {
    Subject::new(name).unwrap()
}

fn avro(text: &str) -> UnparsedSchema {
    UnparsedSchema::new(SchemaType::Avro, text)
}

fn record(name: &str, field: &str) -> UnparsedSchema {
    avro(&format!(r#"{{"type":"record","name":"{name}","fields":[{{"name":"{field}","type":"int"}}]}}"#))
}

/// The id a registration answers, as its context names it.
fn public(registry: &Registry, subject: &Subject, schema: &UnparsedSchema) -> u32 {
    registry.public_id(registry.register(subject, schema).unwrap().id).unwrap().0
}

#[test]
fn each_context_has_ids_of_its_own() {
    support::backends().into_iter().for_each(each_context_has_ids_of_its_own_on);
}

fn each_context_has_ids_of_its_own_on(backend: support::Backend) {
    let registry = backend.registry(RegistryOptions::default());
    let (one, two, plain) = (subject(":.one:s"), subject(":.two:s"), subject("s"));
    assert_eq!(public(&registry, &plain, &avro(r#""long""#)), 1);
    assert_eq!(public(&registry, &one, &avro(r#""int""#)), 1, "a context's ids start at 1");
    assert_eq!(public(&registry, &two, &avro(r#""int""#)), 1, "the same schema, another context: its own id");
    assert_eq!(public(&registry, &subject(":.one:t"), &avro(r#""int""#)), 1, "one schema, one id in a context");
    registry.set_config(Scope::Subject(&subject(":.one:")), registry_core::compat::CompatibilityLevel::None).unwrap();
    assert_eq!(public(&registry, &one, &avro(r#""string""#)), 2);

    let in_one = registry.id_in_context(".one", 1).unwrap().expect("id 1 of .one");
    let in_two = registry.id_in_context(".two", 1).unwrap().expect("id 1 of .two");
    assert_ne!(in_one, in_two, "two contexts, two stored ids");
    assert_eq!(registry.schema_by_id(in_one).unwrap().guid(), registry.schema_by_id(in_two).unwrap().guid());
    assert_eq!(registry.context_id_of(in_two).unwrap(), (".two".to_string(), SchemaId(1)));
    assert_eq!(registry.schema_by_id(SchemaId(1)).unwrap().text, r#""long""#, "the default context as it was");
    assert_eq!(registry.id_in_context(".one", 3).unwrap(), None);
    assert_eq!(registry.resolve_id(1, Some(":.two:")).unwrap(), Some(in_two));
    assert_eq!(registry.resolve_id(1, Some(":.one:t")).unwrap(), Some(in_one));
    assert_eq!(registry.resolve_id(1, None).unwrap(), Some(SchemaId(1)));
    assert_eq!(registry.contexts().unwrap(), [".", ".one", ".two"]);

    let refused = registry.delete_context(".two").unwrap_err();
    assert!(matches!(refused, RegistryError::ContextNotEmpty(ref c) if c == ".two"), "{refused}");
    registry.delete_subject(&two, Deletion::Soft).unwrap();
    assert!(registry.delete_context(".two").is_err(), "a soft-deleted version still holds the context");
    registry.delete_subject(&two, Deletion::Permanent).unwrap();
    registry.delete_context(".two").unwrap();
    assert_eq!(registry.contexts().unwrap(), [".", ".one"]);
    // Its ids are not handed out again: the next is past the largest it ever had.
    assert_eq!(public(&registry, &two, &avro(r#""boolean""#)), 2);
    assert_eq!(registry.contexts().unwrap(), [".", ".one", ".two"]);
    let report = registry.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn an_import_gives_each_context_its_explicit_ids() {
    support::backends().into_iter().for_each(an_import_gives_each_context_its_explicit_ids_on);
}

fn an_import_gives_each_context_its_explicit_ids_on(backend: support::Backend) {
    let registry = backend.registry(RegistryOptions::default());
    let import = |name: &str, text: &str, id: u32| {
        let options = RegisterOptions { id: Some(SchemaId(id)), ..RegisterOptions::default() };
        registry.register_with(&subject(name), &avro(text), options)
    };
    for scope in [":.a:", ":.b:", "d"] {
        registry.set_mode(Scope::Subject(&subject(scope)), Mode::Import, false).unwrap();
    }
    let a = import(":.a:s", r#""int""#, 100).unwrap();
    let b = import(":.b:s", r#""string""#, 100).unwrap();
    let d = import("d", r#""boolean""#, 100).unwrap();
    assert_eq!([a.id, b.id, d.id].map(|id| registry.public_id(id).unwrap()), [SchemaId(100); 3]);
    assert_eq!(BTreeSet::from([a.id, b.id, d.id]).len(), 3, "three schemas, three stored ids");
    let taken = import(":.a:t", r#""string""#, 100).unwrap_err();
    assert!(matches!(taken, RegistryError::IdTaken(SchemaId(100))), "{taken}");
    let mismatch = import(":.a:u", r#""int""#, 7).unwrap_err();
    assert!(matches!(mismatch, RegistryError::IdMismatch { given: SchemaId(7), known: SchemaId(100) }), "{mismatch}");
    assert_eq!(import(":.a:u", r#""int""#, 100).unwrap().id, a.id, "the same schema, the same id");
    registry.set_mode(Scope::Subject(&subject(":.a:")), Mode::Readwrite, false).unwrap();
    let next = registry.register(&subject(":.a:v"), &avro(r#""bytes""#)).unwrap();
    assert_eq!(registry.public_id(next.id).unwrap(), SchemaId(101), "allocation follows the largest import");
}

#[test]
fn a_reference_names_a_subject_of_its_referrers_context() {
    support::backends().into_iter().for_each(a_reference_names_a_subject_of_its_referrers_context_on);
}

fn a_reference_names_a_subject_of_its_referrers_context_on(backend: support::Backend) {
    let registry = backend.registry(RegistryOptions::default());
    registry.register(&subject(":.c:base"), &record("Base", "x")).unwrap();
    registry.register(&subject("base"), &record("Base", "y")).unwrap();
    let user = UnparsedSchema {
        references: vec![SchemaReference {
            name: "Base".into(),
            subject: subject("base"),
            version: Version::new(1).unwrap(),
        }],
        ..avro(r#"{"type":"record","name":"User","fields":[{"name":"b","type":"Base"}]}"#)
    };
    let in_c = registry.register(&subject(":.c:user"), &user).unwrap();
    let plain = registry.register(&subject("user"), &user).unwrap();
    assert_ne!(in_c.id, plain.id);
    let resolved = |id| registry.resolved_text(&registry.schema_by_id(id).unwrap()).unwrap();
    assert!(resolved(in_c.id).contains(r#""name":"x""#), "{}", resolved(in_c.id));
    assert!(resolved(plain.id).contains(r#""name":"y""#), "{}", resolved(plain.id));
    let v1 = Version::new(1).unwrap();
    assert_eq!(
        registry.referenced_by(&subject(":.c:base"), registry_core::VersionSelector::Number(v1)).unwrap(),
        [in_c.id]
    );
    assert_eq!(
        registry.referenced_by(&subject("base"), registry_core::VersionSelector::Number(v1)).unwrap(),
        [plain.id]
    );
    registry.delete_subject(&subject(":.c:user"), Deletion::Soft).unwrap();
    registry.delete_subject(&subject(":.c:user"), Deletion::Permanent).unwrap();
    assert!(
        registry.referenced_by(&subject(":.c:base"), registry_core::VersionSelector::Number(v1)).unwrap().is_empty()
    );
    let report = registry.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn concurrent_registrations_in_one_context_get_distinct_ids() {
    support::backends().into_iter().for_each(concurrent_registrations_in_one_context_get_distinct_ids_on);
}

fn concurrent_registrations_in_one_context_get_distinct_ids_on(backend: support::Backend) {
    let registries = backend.instances(4, RegistryOptions::default());
    let ids: Vec<u32> = std::thread::scope(|scope| {
        let workers: Vec<_> = registries
            .iter()
            .enumerate()
            .map(|(worker, registry)| {
                scope.spawn(move || {
                    (0..10)
                        .map(|i| {
                            let schema = record(&format!("R{worker}x{i}"), "f");
                            public(registry, &subject(&format!(":.c:s{worker}-{i}")), &schema)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let distinct: BTreeSet<u32> = ids.iter().copied().collect();
    assert_eq!(distinct, (1..=40).collect::<BTreeSet<u32>>(), "ids {ids:?}");
}

#[test]
fn a_copy_keeps_every_context_and_its_ids() {
    let source = Registry::in_memory(RegistryOptions::default()).unwrap();
    source.register(&subject(":.c:a"), &avro(r#""int""#)).unwrap();
    source.register(&subject("a"), &avro(r#""long""#)).unwrap();
    source.register(&subject(":.d:a"), &avro(r#""string""#)).unwrap();
    for backend in support::backends() {
        let target = backend.registry(RegistryOptions::default());
        source.copy_into(&target, false).unwrap();
        assert_eq!(target.contexts().unwrap(), [".", ".c", ".d"]);
        for (context, text) in [(".c", r#""int""#), (".d", r#""string""#)] {
            let stored = target.id_in_context(context, 1).unwrap().expect("id 1 there");
            assert_eq!(target.schema_by_id(stored).unwrap().text, text);
        }
        // Allocation goes on past what was copied, in each context and in the stored ids.
        let next = target.register(&subject(":.c:b"), &avro(r#""bytes""#)).unwrap();
        assert_eq!(target.public_id(next.id).unwrap(), SchemaId(2));
        let fresh = target.register(&subject(":.e:a"), &avro(r#""bytes""#)).unwrap();
        assert_eq!(target.public_id(fresh.id).unwrap(), SchemaId(1));
        let report = target.check().unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }
}
