//! `Registry::copy_into` moves a registry between stores with everything that makes it the same registry: a
//! round trip embedded -> PostgreSQL -> embedded answers every read as the original does, and so does a copy
//! between two embedded stores. A target that is not empty is refused.

use registry_core::compat::CompatibilityLevel;
use registry_core::{SchemaId, SchemaReference, SchemaType, Subject, UnparsedSchema, Version, VersionSelector};
use registry_store::{
    DekAlgorithm, Deleted, Deletion, Mode, NewDek, NewKek, Registry, RegistryError, RegistryOptions, Scope,
};
use serde_json::{Value, json};

mod support;

fn subject(name: &str) -> Subject {
    Subject::new(name).unwrap()
}

fn record(name: &str, fields: &[&str]) -> UnparsedSchema {
    let fields: Vec<Value> = fields.iter().map(|f| json!({"name": f, "type": "int", "default": 0})).collect();
    UnparsedSchema::new(SchemaType::Avro, json!({"type": "record", "name": name, "fields": fields}).to_string())
}

/// A registry with a bit of everything: versions, soft and permanent deletes (an id left with no version),
/// references, settings at both scopes, and every format.
fn populated() -> Registry {
    let registry = Registry::in_memory(RegistryOptions::default()).unwrap();
    registry.set_config(Scope::Global, CompatibilityLevel::None).unwrap();
    let orders = subject("orders-value");
    for fields in [&["a"][..], &["a", "b"], &["a", "b", "c"]] {
        registry.register(&orders, &record("Order", fields)).unwrap();
    }
    registry.delete_version(&orders, VersionSelector::Number(Version::new(2).unwrap()), Deletion::Soft).unwrap();
    let gone = subject("gone");
    registry.register(&gone, &record("Gone", &["x"])).unwrap();
    registry.delete_subject(&gone, Deletion::Soft).unwrap();
    registry.delete_subject(&gone, Deletion::Permanent).unwrap();
    let hidden = subject("hidden");
    registry.register(&hidden, &record("Hidden", &["y"])).unwrap();
    registry.delete_subject(&hidden, Deletion::Soft).unwrap();
    let customer = subject("customer");
    registry.register(&customer, &record("Customer", &["id"])).unwrap();
    let with_reference = UnparsedSchema {
        schema_type: SchemaType::Avro,
        text: r#"{"type":"record","name":"Invoice","fields":[{"name":"customer","type":"Customer"}]}"#.into(),
        references: vec![SchemaReference {
            name: "Customer".into(),
            subject: customer.clone(),
            version: Version::new(1).unwrap(),
        }],
        contract: Default::default(),
        normalize: false,
    };
    registry.register(&subject("invoices"), &with_reference).unwrap();
    registry.register(&subject("shared-copy"), &record("Order", &["a"])).unwrap();
    let json = UnparsedSchema::new(SchemaType::Json, r#"{"type":"object","properties":{"n":{"type":"number"}}}"#);
    registry.register(&subject("json"), &json).unwrap();
    let proto = UnparsedSchema::new(SchemaType::Protobuf, "syntax = \"proto3\"; message M { int32 n = 1; }");
    registry.register(&subject("proto"), &proto).unwrap();
    registry.set_config(Scope::Subject(&orders), CompatibilityLevel::FullTransitive).unwrap();
    registry.set_mode(Scope::Subject(&customer), Mode::Readonly, false).unwrap();
    registry.set_mode(Scope::Global, Mode::Readwrite, false).unwrap();
    // The key registry: a live KEK with DEKs (one soft-deleted), and a soft-deleted KEK.
    let kek = |name: &str| NewKek {
        name: name.into(),
        kms_type: "local-kms".into(),
        kms_key_id: "k".into(),
        doc: Some("payments".into()),
        ..NewKek::default()
    };
    registry.create_kek(kek("kek1")).unwrap();
    registry.create_kek(kek("old")).unwrap();
    registry.delete_kek("old", false).unwrap();
    for version in [1, 2] {
        let dek = NewDek {
            subject: "orders-value".into(),
            version: Some(Version::new(version).unwrap()),
            encrypted_key_material: Some(format!("material-{version}")),
            ..NewDek::default()
        };
        registry.create_dek("kek1", dek).unwrap();
    }
    let one = Some(VersionSelector::Number(Version::FIRST));
    registry.delete_deks("kek1", "orders-value", one, DekAlgorithm::Aes256Gcm, false).unwrap();
    registry
}

fn outcome<T>(result: Result<T, RegistryError>, ok: impl FnOnce(T) -> Value) -> Value {
    match result {
        Ok(value) => ok(value),
        Err(e) => json!({"error": e.to_string()}),
    }
}

/// Every read the registry answers, as one document.
fn reads(registry: &Registry) -> Value {
    let mut out = serde_json::Map::new();
    for (name, deleted) in [("live", Deleted::Exclude), ("all", Deleted::Include), ("deleted", Deleted::Only)] {
        let subjects = registry.subjects("", deleted).unwrap();
        out.insert(format!("subjects/{name}"), json!(subjects.iter().map(Subject::as_str).collect::<Vec<_>>()));
    }
    for subject in registry.subjects("", Deleted::Include).unwrap() {
        let versions = registry.version_list(&subject, Deleted::Include).unwrap();
        for info in versions {
            let selector = VersionSelector::Number(info.version);
            let version = registry.version(&subject, selector, Deleted::Include).unwrap();
            out.insert(
                format!("{subject}/{}", info.version),
                json!({
                    "id": info.id.0, "semver": info.semver.to_string(), "deleted": info.deleted,
                    "text": version.schema.text, "type": version.schema.schema_type.as_str(),
                    "references": outcome(registry.referenced_by(&subject, selector), |ids| json!(ids.iter().map(|id| id.0).collect::<Vec<_>>())),
                }),
            );
        }
        let latest = registry.version(&subject, VersionSelector::Latest, Deleted::Exclude);
        out.insert(format!("{subject}/latest"), outcome(latest, |v| json!([v.version.get(), v.schema.id.0])));
        out.insert(format!("{subject}/config"), json!(registry.config(Scope::Subject(&subject)).unwrap()));
        out.insert(format!("{subject}/mode"), json!(registry.mode(Scope::Subject(&subject)).unwrap()));
        out.insert(
            format!("{subject}/effective"),
            json!([registry.effective_config(&subject).unwrap(), registry.effective_mode(&subject).unwrap()]),
        );
    }
    out.insert(
        "global".into(),
        json!([registry.config(Scope::Global).unwrap(), registry.mode(Scope::Global).unwrap()]),
    );
    for id in 1..=12 {
        let schema = outcome(registry.schema_by_id(SchemaId(id)), |s| json!([s.text, s.fingerprint.to_string()]));
        let uses = outcome(registry.versions_for_id(SchemaId(id), Deleted::Include), |uses| {
            json!(uses.iter().map(|u| format!("{}/{}", u.subject, u.version)).collect::<Vec<_>>())
        });
        out.insert(format!("id/{id}"), json!([schema, uses]));
    }
    let counts = registry.counts().unwrap();
    out.insert("counts".into(), json!([counts.subjects, counts.schemas]));
    for name in registry.kek_names(&[], true).unwrap() {
        let kek = registry.kek_with(&name, true).unwrap();
        let versions =
            outcome(registry.dek_versions(&name, "orders-value", DekAlgorithm::Aes256Gcm, true), |v| json!(v));
        let deks: Vec<Value> = [1u32, 2]
            .iter()
            .map(|v| {
                let selector = VersionSelector::Number(Version::new(*v).unwrap());
                let dek = registry.dek(&name, "orders-value", selector, DekAlgorithm::Aes256Gcm, true);
                outcome(dek, |d| json!([d.encrypted_key_material, d.deleted, d.ts]))
            })
            .collect();
        out.insert(format!("kek/{name}"), json!([kek.kms_type, kek.doc, kek.deleted, kek.ts, versions, deks]));
    }
    Value::Object(out)
}

/// What a registry answers to writes after the copy: the deleted schema gets its old id back, a new one a
/// new id (never one of the old ones), and the settings still apply.
fn writes(registry: &Registry) -> Value {
    let back = registry.register(&subject("gone"), &record("Gone", &["x"])).unwrap().id.0;
    let new = registry.register(&subject("fresh"), &record("Fresh", &["z"])).unwrap().id.0;
    let readonly =
        outcome(registry.register(&subject("customer"), &record("Customer", &["id", "more"])), |r| json!(r.id.0));
    json!({"back": back, "new": new, "readonly": readonly})
}

/// A copy of `source` in the registry `make` opens, checked to answer every read as the source does.
fn copied(source: &Registry, target: Registry) -> Registry {
    let copied = source.copy_into(&target, false).unwrap();
    assert!(copied.versions >= 9 && copied.ids > copied.schemas, "{copied:?}");
    assert_eq!(reads(&target), reads(source));
    target
}

#[test]
fn a_copy_between_embedded_stores_answers_every_read_alike() {
    let source = populated();
    let target = copied(&source, Registry::in_memory(RegistryOptions::default()).unwrap());
    assert_eq!(writes(&target), writes(&source));
}

#[cfg(feature = "postgres")]
#[test]
fn a_round_trip_through_postgres_answers_every_read_alike() {
    let source = populated();
    let shared = copied(&source, support::Backend::Postgres.registry(RegistryOptions::default()));
    let back = copied(&shared, Registry::in_memory(RegistryOptions::default()).unwrap());
    let expected = writes(&source);
    assert_eq!(writes(&shared), expected);
    assert_eq!(writes(&back), expected);
}

#[test]
fn a_target_that_is_not_empty_is_refused_unless_forced() {
    for backend in support::backends() {
        let source = populated();
        let target = backend.registry(RegistryOptions::default());
        target.register(&subject("orders-value"), &record("Order", &["a"])).unwrap();
        assert!(matches!(source.copy_into(&target, false), Err(RegistryError::TargetNotEmpty)), "{backend:?}");
        // Forced, the copy writes over the same schema at the same id and version, and all the rest.
        source.copy_into(&target, true).unwrap();
        assert_eq!(reads(&target), reads(&source), "{backend:?}");

        // A target whose ids mean other schemas is refused even when forced, and keeps what it had.
        let other = backend.registry(RegistryOptions::default());
        other.register(&subject("elsewhere"), &record("Elsewhere", &["q"])).unwrap();
        assert!(matches!(source.copy_into(&other, true), Err(RegistryError::IdTaken(_))), "{backend:?}");
        assert_eq!(other.subjects("", Deleted::Include).unwrap(), vec![subject("elsewhere")]);
    }
}
