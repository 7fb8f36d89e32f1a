//! Data validation through the `Registry`: validators compiled once per id (however many callers ask at
//! once), reports for single documents and batches, the Protobuf message option, Avro binary, unknown ids.

use std::sync::Barrier;

use registry_core::{SchemaId, SchemaType, Subject, UnparsedSchema, ValidateOptions};
use registry_store::{Deletion, Registry, RegistryError, RegistryOptions};
use support::Backend;

mod support;
use serde_json::json;

fn registry(backend: Backend) -> Registry {
    backend.registry(RegistryOptions::default())
}

fn register(registry: &Registry, subject: &str, schema_type: SchemaType, text: &str) -> SchemaId {
    let subject = Subject::new(subject).expect("subject");
    registry.register(&subject, &UnparsedSchema::new(schema_type, text)).expect("register").id
}

const ORDER_JSON: &str = r#"{"type":"object","required":["id"],"additionalProperties":false,
    "properties":{"id":{"type":"string"},"qty":{"type":"integer","minimum":1}}}"#;

#[test]
fn a_thousand_concurrent_callers_compile_one_validator() {
    support::backends().into_iter().for_each(a_thousand_concurrent_callers_compile_one_validator_on);
}

fn a_thousand_concurrent_callers_compile_one_validator_on(backend: Backend) {
    let registry = registry(backend);
    let id = register(&registry, "orders-value", SchemaType::Json, ORDER_JSON);
    let before = registry.stats();
    const CALLERS: usize = 1000;
    let barrier = Barrier::new(CALLERS);
    let valid = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CALLERS)
            .map(|i| {
                let (registry, barrier) = (&registry, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    registry.validate(id, &json!({"id": format!("o-{i}"), "qty": 1})).expect("validate").valid
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).filter(|valid| *valid).count()
    });
    assert_eq!(valid, CALLERS);
    let after = registry.stats();
    assert_eq!(after.validator_compiles - before.validator_compiles, 1, "one compile for one id");
    let lookups =
        (after.validators.hits + after.validators.misses) - (before.validators.hits + before.validators.misses);
    assert_eq!(lookups, CALLERS as u64);
    // Later callers hit the cache.
    registry.validate(id, &json!({"id": "x"})).expect("validate");
    assert_eq!(registry.stats().validator_compiles, after.validator_compiles);
    assert_eq!(registry.stats().validators.hits, after.validators.hits + 1);
}

#[test]
fn validate_and_validate_batch_report_every_error() {
    support::backends().into_iter().for_each(validate_and_validate_batch_report_every_error_on);
}

fn validate_and_validate_batch_report_every_error_on(backend: Backend) {
    let registry = registry(backend);
    let id = register(&registry, "orders-value", SchemaType::Json, ORDER_JSON);
    let report = registry.validate(id, &json!({"id": "o-1", "qty": 2})).expect("validate");
    assert!(report.valid && report.errors.is_empty());
    let report = registry.validate(id, &json!({"id": 1, "qty": 0, "extra": true})).expect("validate");
    assert!(!report.valid);
    let mut paths: Vec<&str> = report.errors.iter().map(|e| e.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["", "/id", "/qty"]);

    let items = [json!({"id": "a"}), json!({"qty": 1}), json!("x"), json!({"id": "b", "qty": 3})];
    let reports = registry.validate_batch(id, &items).expect("batch");
    assert_eq!(reports.iter().map(|r| r.valid).collect::<Vec<_>>(), [true, false, false, true]);
    assert_eq!(registry.stats().validator_compiles, 1, "one validator serves single documents and batches");
}

#[test]
fn unknown_id_is_schema_not_found() {
    support::backends().into_iter().for_each(unknown_id_is_schema_not_found_on);
}

fn unknown_id_is_schema_not_found_on(backend: Backend) {
    let registry = registry(backend);
    let unknown = SchemaId(42);
    assert!(matches!(registry.validate(unknown, &json!({})), Err(RegistryError::SchemaNotFound(id)) if id == unknown));
    assert!(matches!(registry.validate_batch(unknown, &[json!(1)]), Err(RegistryError::SchemaNotFound(_))));
    // A failed compile is not cached: a schema registered later under that id would be found.
    assert!(registry.validate(unknown, &json!({})).is_err());
    assert_eq!(registry.stats().validator_compiles, 3);
}

#[test]
fn permanently_deleted_id_no_longer_validates() {
    support::backends().into_iter().for_each(permanently_deleted_id_no_longer_validates_on);
}

fn permanently_deleted_id_no_longer_validates_on(backend: Backend) {
    let registry = registry(backend);
    let id = register(&registry, "gone-value", SchemaType::Json, ORDER_JSON);
    assert!(registry.validate(id, &json!({"id": "a"})).expect("validate").valid);
    let subject = Subject::new("gone-value").expect("subject");
    registry.delete_subject(&subject, Deletion::Soft).expect("soft delete");
    registry.delete_subject(&subject, Deletion::Permanent).expect("hard delete");
    assert!(matches!(registry.validate(id, &json!({"id": "a"})), Err(RegistryError::SchemaNotFound(_))));
}

#[test]
fn protobuf_message_option_and_avro_binary() {
    support::backends().into_iter().for_each(protobuf_message_option_and_avro_binary_on);
}

fn protobuf_message_option_and_avro_binary_on(backend: Backend) {
    let registry = registry(backend);
    let proto = "syntax = \"proto3\";\npackage shop;\nmessage Order { string id = 1; Line line = 2; }\nmessage Line { int32 qty = 1; }\n";
    let id = register(&registry, "orders-proto", SchemaType::Protobuf, proto);
    let report = registry.validate(id, &json!({"id": "o", "line": {"qty": "many"}})).expect("validate");
    assert_eq!(report.errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["/line/qty"]);
    let as_line = ValidateOptions::default().with_message("shop.Line");
    assert!(registry.validate_with(id, &json!({"qty": 3}), &as_line).expect("validate").valid);
    let unknown = ValidateOptions::default().with_message("shop.Nope");
    assert!(matches!(registry.validate_with(id, &json!({}), &unknown), Err(RegistryError::CannotValidate(_))));

    let avro = r#"{"type":"record","name":"Point","fields":[{"name":"x","type":"int"},{"name":"tag","type":["null","string"]}]}"#;
    let id = register(&registry, "points-value", SchemaType::Avro, avro);
    let options = ValidateOptions::default();
    assert!(registry.validate_avro_binary(id, &[0x02, 0x02, 0x02, b'a'], &options).expect("binary").valid);
    assert!(!registry.validate_avro_binary(id, &[0x02, 0x04], &options).expect("binary").valid);
    assert!(registry.validate(id, &json!({"x": 1, "tag": {"string": "a"}})).expect("json").valid);
    assert!(!registry.validate(id, &json!({"x": 1, "tag": "a"})).expect("json").valid);
}
