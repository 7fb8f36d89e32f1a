//! Every `RegistryError` variant pinned to the HTTP status and Confluent error code it answers with. The enum is
//! `#[non_exhaustive]`, so the mapping in `src/error.rs` needs a catch-all arm the compiler cannot check; this
//! test reads the variants declared in `registry-store/src/error.rs` and fails when one has no row here.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use registry_core::compat::{CompatError, CompatReport, CompatibilityLevel};
use registry_core::contract::RuleError;
use registry_core::{SchemaError, SchemaGuid, SchemaId, SchemaType, Subject, SubjectError, ValidateError, Version};
use registry_http::ApiError;
use registry_store::{InvalidSettings, RegistryError, SemVer, StorageError};

/// The source declaring `RegistryError`, read for its variant names.
const REGISTRY_ERROR_SOURCE: &str = include_str!("../../registry-store/src/error.rs");

/// One row per variant, and one per sub-case the mapping tells apart: the error, its status and its code.
fn table() -> Vec<(RegistryError, StatusCode, u32)> {
    use RegistryError as E;
    use StatusCode as S;
    let subject = Subject::new("orders-value").expect("a valid subject");
    let version = Version::new(2).expect("a valid version");
    let rule = || RuleError { rule: "checkName".into(), message: "rule kind is missing".into() };
    let guid: SchemaGuid = "9b9b5b6a-1f4e-4a0e-8d7e-3c2a1b0f9e8d".parse().expect("a valid GUID");
    vec![
        (E::SubjectNotFound(subject.clone()), S::NOT_FOUND, 40401),
        (E::VersionNotFound { subject: subject.clone(), version }, S::NOT_FOUND, 40402),
        (
            E::SemVerNotFound { subject: subject.clone(), semver: "1.2.3".parse().expect("a semver") },
            S::NOT_FOUND,
            40402,
        ),
        (E::SchemaNotFound(SchemaId(7)), S::NOT_FOUND, 40403),
        (E::SchemaNotInSubject(subject.clone()), S::NOT_FOUND, 40403),
        (E::GuidNotFound(guid), S::NOT_FOUND, 40403),
        (E::SubjectSoftDeleted(subject.clone()), S::NOT_FOUND, 40404),
        (E::SubjectNotSoftDeleted(subject.clone()), S::NOT_FOUND, 40405),
        (E::VersionSoftDeleted { subject: subject.clone(), version }, S::NOT_FOUND, 40406),
        (E::VersionNotSoftDeleted { subject: subject.clone(), version }, S::NOT_FOUND, 40407),
        (E::SubjectLevelNotConfigured(subject.clone()), S::NOT_FOUND, 40408),
        (E::SubjectModeNotConfigured(subject.clone()), S::NOT_FOUND, 40409),
        (E::KeyNotFound("kek".into()), S::NOT_FOUND, 40470),
        (E::KeyNotSoftDeleted("kek".into()), S::NOT_FOUND, 40471),
        (E::KekMustBeUndeleted("kek".into()), S::NOT_FOUND, 40472),
        (
            E::Incompatible {
                subject: subject.clone(),
                report: CompatReport {
                    level: CompatibilityLevel::Backward,
                    violations: Vec::new(),
                    reserved: Vec::new(),
                    validate_fields: false,
                },
            },
            S::CONFLICT,
            409,
        ),
        (E::KeyExists("kek".into()), S::CONFLICT, 40971),
        (E::TooManyKeys(10_000), S::CONFLICT, 40972),
        (E::InvalidSettings(InvalidSettings::Shape("compatibilityGroup is not a string".into())), S::BAD_REQUEST, 400),
        (E::InvalidSettings(InvalidSettings::RuleSet(rule())), S::UNPROCESSABLE_ENTITY, 42210),
        (E::InvalidSchema(SchemaError::Empty), S::UNPROCESSABLE_ENTITY, 42201),
        (E::InvalidSchema(SchemaError::TooLarge { size: 2, max: 1 }), S::UNPROCESSABLE_ENTITY, 42209),
        (E::InvalidSchema(SchemaError::InvalidRuleSet(rule())), S::UNPROCESSABLE_ENTITY, 42210),
        (E::VersionNotNext { subject: subject.clone(), given: version, next: version }, S::UNPROCESSABLE_ENTITY, 42201),
        (E::CompatibilityUnavailable(CompatError::Unsupported(SchemaType::Avro)), S::UNPROCESSABLE_ENTITY, 42201),
        (E::CannotValidate(ValidateError::NoMessage), S::UNPROCESSABLE_ENTITY, 422),
        (
            E::SemVerNotIncreasing { subject: subject.clone(), given: SemVer::FIRST, latest: SemVer::FIRST },
            S::UNPROCESSABLE_ENTITY,
            42202,
        ),
        (E::ReadOnly(subject.clone()), S::UNPROCESSABLE_ENTITY, 42205),
        (E::RegistryReadOnly, S::UNPROCESSABLE_ENTITY, 42205),
        (E::NotImportMode(subject.clone()), S::UNPROCESSABLE_ENTITY, 42205),
        (E::ImportNotEmpty, S::UNPROCESSABLE_ENTITY, 42205),
        (E::ContextNotEmpty(".ctx".into()), S::UNPROCESSABLE_ENTITY, 42211),
        (
            E::StateTransition {
                subject: subject.clone(),
                version,
                from: registry_store::VersionState::Draft,
                to: registry_store::VersionState::Deprecated,
                allowed: vec![registry_store::VersionState::Active],
            },
            S::CONFLICT,
            40910,
        ),
        (E::IdMismatch { given: SchemaId(7), known: SchemaId(8) }, S::UNPROCESSABLE_ENTITY, 42205),
        (E::IdTaken(SchemaId(7)), S::UNPROCESSABLE_ENTITY, 42205),
        (E::VersionExists { subject: subject.clone(), version }, S::UNPROCESSABLE_ENTITY, 42205),
        (E::VersionsExhausted(subject.clone()), S::UNPROCESSABLE_ENTITY, 42205),
        (
            E::ReferenceExists { subject: subject.clone(), version, referrers: vec![SchemaId(9)] },
            S::UNPROCESSABLE_ENTITY,
            42206,
        ),
        (
            E::InvalidSubject { subject: subject.clone(), reason: SubjectError::Reserved("__GLOBAL".into()) },
            S::UNPROCESSABLE_ENTITY,
            42208,
        ),
        (E::InvalidKey { field: "kmsType", why: None }, S::UNPROCESSABLE_ENTITY, 42271),
        (E::KeyReferenced("kek".into()), S::UNPROCESSABLE_ENTITY, 42272),
        (E::Storage(StorageError::message("redb", "disk full")), S::INTERNAL_SERVER_ERROR, 50001),
        (E::Corrupt("a record does not decode".into()), S::INTERNAL_SERVER_ERROR, 50001),
        (E::UnsupportedFormat { found: 99, supported: 4 }, S::INTERNAL_SERVER_ERROR, 50001),
        (E::IdsExhausted, S::INTERNAL_SERVER_ERROR, 50001),
        (E::Closing, S::INTERNAL_SERVER_ERROR, 50001),
        (E::TargetNotEmpty, S::INTERNAL_SERVER_ERROR, 50001),
        (E::InvalidStore("no such host".into()), S::INTERNAL_SERVER_ERROR, 50001),
        (E::InUse("registry.redb".into()), S::INTERNAL_SERVER_ERROR, 50001),
        (E::Storage(StorageError::down("postgres", "connection refused")), S::SERVICE_UNAVAILABLE, 50003),
        (E::SubjectMoving(subject), S::SERVICE_UNAVAILABLE, 50003),
    ]
}

/// A variant's name, from its `Debug` form: `SubjectNotFound(..)`, `VersionNotFound { .. }`, `Closing`.
fn variant_name(error: &RegistryError) -> String {
    format!("{error:?}").chars().take_while(char::is_ascii_alphanumeric).collect()
}

/// The variants `pub enum RegistryError` declares: the lines of its body indented once that start with a
/// capital letter (doc comments, attributes and fields do not).
fn declared_variants(source: &str) -> BTreeSet<String> {
    let (_, after) = source.split_once("pub enum RegistryError {").expect("registry-store declares RegistryError");
    let (body, _) = after.split_once("\n}\n").expect("the enum's body ends with a closing brace of its own");
    body.lines()
        .filter_map(|line| line.strip_prefix("    "))
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|rest| rest.chars().take_while(char::is_ascii_alphanumeric).collect())
        .collect()
}

#[test]
fn every_registry_error_variant_has_its_status_and_code() {
    let table = table();
    let mut wrong = Vec::new();
    for (error, status, code) in &table {
        let answer = ApiError::from(error.clone());
        if (answer.status, answer.code) != (*status, *code) {
            wrong.push(format!("{error:?}: expected {status} {code}, got {} {}", answer.status, answer.code));
        }
    }
    assert!(wrong.is_empty(), "errors answered with another status or code: {wrong:#?}");

    let pinned: BTreeSet<String> = table.iter().map(|(error, _, _)| variant_name(error)).collect();
    let declared = declared_variants(REGISTRY_ERROR_SOURCE);
    let unpinned: Vec<&String> = declared.difference(&pinned).collect();
    assert!(unpinned.is_empty(), "RegistryError variants with no row in the table (they answer 500): {unpinned:?}");
    let undeclared: Vec<&String> = pinned.difference(&declared).collect();
    assert!(undeclared.is_empty(), "rows the declaration scan did not find (is the scan out of date?): {undeclared:?}");
    // Too few would mean the scan or the table lost rows without either side noticing.
    assert!(declared.len() >= 44, "only {} variants found in registry-store/src/error.rs", declared.len());
}

/// 42205 is Confluent's "operation not permitted", the refusals `RegistryError::is_not_permitted` names: the
/// mapping lists those variants itself, so the two lists must not drift apart.
#[test]
fn not_permitted_errors_answer_42205() {
    for (error, _, code) in table() {
        assert_eq!(error.is_not_permitted(), code == 42205, "{error:?} answers {code}");
    }
}
