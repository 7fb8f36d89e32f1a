//! The records the registry hands out: immutable, shared behind `Arc` on hot paths.

use std::fmt;
use std::sync::{Arc, OnceLock};

use registry_core::contract::{DataContract, Metadata, RuleSet};
use registry_core::{
    Fingerprint, ParsedSchema, SchemaGuid, SchemaId, SchemaReference, SchemaType, Subject, UnparsedSchema, Version,
};
use serde::{Deserialize, Serialize};

/// A registered schema, by its global id. Immutable: an id never changes meaning (nor, once its GUID is asked
/// for, are its fields to change: a changed record is a new one, [`StoredSchema::new`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredSchema {
    /// The global id.
    pub id: SchemaId,
    /// The format.
    pub schema_type: SchemaType,
    /// Its text: Confluent's canonical text for Avro and JSON Schema, its printing of a Protobuf file (each
    /// normalized if the registration asked; a Protobuf text that printing does not reproduce as first registered).
    pub text: String,
    /// The schemas it references.
    pub references: Vec<SchemaReference>,
    /// Its identity.
    pub fingerprint: Fingerprint,
    /// Its metadata and rules, as registered.
    #[serde(default)]
    pub contract: DataContract,
    /// Its GUID, once computed: a new version's is needed by the store's index and by the registration's answer.
    #[serde(skip)]
    guid: OnceLock<SchemaGuid>,
}

/// A copy computes its own GUID: a copy made to change a field (`StoredSchema { text, ..record.clone() }`) must not
/// carry the original's.
impl Clone for StoredSchema {
    fn clone(&self) -> Self {
        let (text, references, contract) = (self.text.clone(), self.references.clone(), self.contract.clone());
        Self::new(self.id, self.schema_type, text, references, self.fingerprint, contract)
    }
}

/// Records are equal by what they hold, whether or not either has computed its GUID.
impl PartialEq for StoredSchema {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.schema_type == other.schema_type
            && self.text == other.text
            && self.references == other.references
            && self.fingerprint == other.fingerprint
            && self.contract == other.contract
    }
}

impl Eq for StoredSchema {}

impl StoredSchema {
    /// The record of a schema.
    pub fn new(
        id: SchemaId,
        schema_type: SchemaType,
        text: String,
        references: Vec<SchemaReference>,
        fingerprint: Fingerprint,
        contract: DataContract,
    ) -> Self {
        Self { id, schema_type, text, references, fingerprint, contract, guid: OnceLock::new() }
    }

    /// Its GUID, as Confluent derives it: of its text, references and contract. Computed once.
    pub fn guid(&self) -> SchemaGuid {
        *self.guid.get_or_init(|| {
            let contract = &self.contract;
            SchemaGuid::compute(&self.text, &self.references, contract.metadata.as_ref(), contract.rule_set.as_ref())
        })
    }

    /// This record read as it was registered, `read(normalize)` parsing its text: plainly, unless that does not
    /// give its fingerprint and a normalized read does. A Protobuf schema registered with `normalize` has its
    /// normalized form's identity, which its text read plainly need not give (an Avro or JSON Schema text
    /// registered normalized is itself normalized). A failed normalized read counts as no match.
    pub(crate) fn read_as_registered<E>(
        &self,
        read: impl Fn(bool) -> Result<ParsedSchema, E>,
    ) -> Result<ParsedSchema, E> {
        let plain = read(false)?;
        if plain.fingerprint() == self.fingerprint || self.schema_type != SchemaType::Protobuf {
            return Ok(plain);
        }
        match read(true) {
            Ok(normalized) if normalized.fingerprint() == self.fingerprint => Ok(normalized),
            _ => Ok(plain),
        }
    }

    /// Whether this record holds `parsed`: the same format, text, references and contract. Two records can:
    /// schemas whose texts became one canonical text when a store was upgraded keep their ids
    /// (the store's canonical rewrite), though only one holds their identity.
    pub fn holds(&self, parsed: &ParsedSchema) -> bool {
        self.schema_type == parsed.schema_type()
            && self.text == parsed.text()
            && self.references == parsed.references()
            && self.contract == *parsed.contract()
    }

    /// Whether this record is one schema with `parsed` to Confluent's lookups within a subject though the texts
    /// differ: Avro texts whose custom properties, aliases or default members are in other orders
    /// ([`registry_core::avro_equivalence_key`], `key` being `parsed`'s), with the same references and contract.
    pub fn equivalent(&self, parsed: &ParsedSchema, key: Option<&str>) -> bool {
        let Some(key) = key else { return false };
        self.schema_type == SchemaType::Avro
            && parsed.schema_type() == SchemaType::Avro
            && self.references == parsed.references()
            && self.contract == *parsed.contract()
            // Another order of the same members is a text of the same length: a cheap test before the parse.
            && self.text.len() == parsed.text().len()
            && registry_core::avro_equivalence_key(&self.text).as_deref() == Some(key)
    }

    /// The schema as an `UnparsedSchema`, to parse or register again.
    pub fn to_unparsed(&self) -> UnparsedSchema {
        UnparsedSchema {
            schema_type: self.schema_type,
            text: self.text.clone(),
            references: self.references.clone(),
            contract: self.contract.clone(),
            normalize: false,
        }
    }
}

/// The outcome of a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The global id of the schema.
    pub id: SchemaId,
    /// The subject's version that holds it.
    pub version: Version,
    /// Its semantic version within the subject.
    pub semver: SemVer,
    /// True when the subject already had this schema and nothing was written.
    pub deduplicated: bool,
    /// True when the schema registered is not the request as sent: it took its text, metadata or rule set from the
    /// subject's newest version. The same request can then be answered otherwise once the subject has a newer
    /// version, so the answer is not one to remember by the request alone.
    pub inherited: bool,
}

/// A subject and one of its versions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SubjectVersion {
    /// The subject.
    pub subject: Subject,
    /// The version.
    pub version: Version,
    /// Its semantic version.
    pub semver: SemVer,
    /// Whether it is soft-deleted.
    pub deleted: bool,
}

/// One entry of a subject's version list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    /// The version number.
    pub version: Version,
    /// Its semantic version.
    pub semver: SemVer,
    /// The schema id it holds.
    pub id: SchemaId,
    /// Whether it is soft-deleted.
    pub deleted: bool,
    /// Its lifecycle state (ARCHIVED when soft-deleted).
    pub state: VersionState,
    /// When it was registered, in milliseconds since the Unix epoch; `None` for a version registered before
    /// registrations were timed.
    pub registered: Option<u64>,
}

impl VersionInfo {
    /// When it was registered, as RFC 3339 (UTC, milliseconds), if known.
    pub fn registered_rfc3339(&self) -> Option<String> {
        // RFC 3339 has four-digit years: a time past 9999 (a damaged record) is no time at all.
        const LAST_WRITABLE_MS: u64 = 253_402_300_799_999;
        let millis = self.registered.filter(|ms| *ms <= LAST_WRITABLE_MS)?;
        let time = std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_millis(millis))?;
        Some(humantime::format_rfc3339_millis(time).to_string())
    }
}

/// A semantic version of a subject's schema: the first is 1.0.0; a change of documentation alone bumps the patch,
/// a compatible change the minor, a change that breaks backward compatibility (possible only under NONE) the major.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SemVer {
    /// Breaking changes.
    pub major: u32,
    /// Compatible changes.
    pub minor: u32,
    /// Fixes.
    pub patch: u32,
}

impl SemVer {
    /// 1.0.0, every subject's first version.
    pub const FIRST: SemVer = SemVer { major: 1, minor: 0, patch: 0 };

    /// The next patch version: x.y.(z+1).
    pub fn bump_patch(self) -> SemVer {
        SemVer { major: self.major, minor: self.minor, patch: self.patch.saturating_add(1) }
    }

    /// The next minor version: x.(y+1).0.
    pub fn bump_minor(self) -> SemVer {
        SemVer { major: self.major, minor: self.minor.saturating_add(1), patch: 0 }
    }

    /// The next major version: (x+1).0.0.
    pub fn bump_major(self) -> SemVer {
        SemVer { major: self.major.saturating_add(1), minor: 0, patch: 0 }
    }
}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A semantic version that is not `MAJOR.MINOR.PATCH`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid semantic version '{0}': use MAJOR.MINOR.PATCH, e.g. 1.2.0")]
pub struct InvalidSemVer(pub String);

impl std::str::FromStr for SemVer {
    type Err = InvalidSemVer;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidSemVer(s.to_string());
        let mut parts = s.split('.').map(|p| p.parse::<u32>().map_err(|_| invalid()));
        let (Some(major), Some(minor), Some(patch), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        Ok(SemVer { major: major?, minor: minor?, patch: patch? })
    }
}

/// One version of a subject with its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaVersion {
    /// The subject.
    pub subject: Subject,
    /// The version number.
    pub version: Version,
    /// Its semantic version.
    pub semver: SemVer,
    /// Whether it is soft-deleted.
    pub deleted: bool,
    /// Its lifecycle state (ARCHIVED when soft-deleted).
    pub state: VersionState,
    /// The schema.
    pub schema: Arc<StoredSchema>,
}

/// What a scope's config holds beside its compatibility level and mode: Confluent's `Config` fields for data
/// contracts and schema handling. Each is unset until a `PUT /config` sets it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ScopeSettings {
    /// The metadata property whose value splits a subject's versions into groups checked only among themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatibility_group: Option<String>,
    /// Metadata a registration's own (or inherited) metadata is laid over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_metadata: Option<Metadata>,
    /// Metadata laid over a registration's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_metadata: Option<Metadata>,
    /// Rules a registration's own (or inherited) rule set is merged into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_rule_set: Option<RuleSet>,
    /// Rules merged over a registration's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_rule_set: Option<RuleSet>,
    /// Whether registrations and lookups normalize schemas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalize: Option<bool>,
    /// Whether field names are checked (and `confluent:reserved` honoured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validate_fields: Option<bool>,
    /// Whether new schemas are validated as new.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validate_new_schemas: Option<bool>,
    /// Whether clients are to validate rules (kept and returned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validate_rules: Option<bool>,
    /// `LOGICAL`, `STRICT` or `LENIENT` (kept and returned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatibility_policy: Option<String>,
    /// The subject this one is another name for (kept and returned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The subject whose encryption keys this one uses (kept and returned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_for_deks: Option<String>,
}

impl ScopeSettings {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == ScopeSettings::default()
    }

    /// Whether registrations in the scope have metadata or rules laid under or over theirs (Confluent then skips
    /// its fast path: the request as sent is not what registers).
    pub fn has_defaults_or_overrides(&self) -> bool {
        self.default_metadata.is_some()
            || self.override_metadata.is_some()
            || self.default_rule_set.is_some()
            || self.override_rule_set.is_some()
    }

    /// The settings in force for a subject whose own are `own` under the global `global`, as Confluent merges them:
    /// the flags, the policy and the group fall back to the global ones; the defaults, overrides and aliases are the
    /// subject's own alone.
    pub fn under(own: &ScopeSettings, global: &ScopeSettings) -> ScopeSettings {
        ScopeSettings {
            compatibility_group: own.compatibility_group.clone().or_else(|| global.compatibility_group.clone()),
            normalize: own.normalize.or(global.normalize),
            validate_fields: own.validate_fields.or(global.validate_fields),
            validate_new_schemas: own.validate_new_schemas.or(global.validate_new_schemas),
            validate_rules: own.validate_rules.or(global.validate_rules),
            compatibility_policy: own.compatibility_policy.clone().or_else(|| global.compatibility_policy.clone()),
            ..own.clone()
        }
    }
}

/// A change to a scope's settings, as a `PUT /config` body gives it: a field left out is kept, a field given as
/// `null` is cleared, a field given a value is set. Built with [`SettingsPatch::from_json`], which checks every
/// value's shape and every rule set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SettingsPatch {
    fields: serde_json::Map<String, serde_json::Value>,
}

/// A settings change that cannot be made: a field of the wrong shape, or a rule set Confluent refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSettings {
    /// A field's value has the wrong JSON shape.
    #[error("invalid config: {0}")]
    Shape(String),
    /// A default or override rule set is not well formed.
    #[error("{0}")]
    RuleSet(#[from] registry_core::contract::RuleError),
}

impl SettingsPatch {
    /// The settings fields of `body` (others, the level's among them, are not settings and are left out), checked:
    /// each value has its field's shape, and the default and override rule sets are well formed.
    pub fn from_json(body: &serde_json::Map<String, serde_json::Value>) -> Result<Self, InvalidSettings> {
        let mut fields = serde_json::Map::new();
        for (name, value) in body {
            if SETTINGS_FIELDS.contains(&name.as_str()) {
                fields.insert(name.clone(), value.clone());
            }
        }
        // An unknown policy is kept as none, as Confluent keeps it.
        if let Some(policy) = fields.get_mut("compatibilityPolicy")
            && policy.as_str().is_none_or(|p| registry_core::compat::CompatibilityPolicy::named(p).is_none())
            && !policy.is_null()
        {
            *policy = serde_json::Value::Null;
        }
        let patch = Self { fields };
        let probe = patch.apply(&ScopeSettings::default())?;
        for rule_set in [&probe.default_rule_set, &probe.override_rule_set].into_iter().flatten() {
            rule_set.validate()?;
        }
        Ok(patch)
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// `settings` with this change made.
    pub fn apply(&self, settings: &ScopeSettings) -> Result<ScopeSettings, InvalidSettings> {
        let shape = |e: serde_json::Error| InvalidSettings::Shape(e.to_string());
        let serde_json::Value::Object(mut merged) = serde_json::to_value(settings).map_err(shape)? else {
            return Err(InvalidSettings::Shape("settings are not an object".into()));
        };
        for (name, value) in &self.fields {
            if value.is_null() {
                merged.remove(name);
            } else {
                merged.insert(name.clone(), value.clone());
            }
        }
        let mut merged: ScopeSettings = serde_json::from_value(serde_json::Value::Object(merged)).map_err(shape)?;
        if let Some(policy) = &mut merged.compatibility_policy {
            *policy = policy.to_ascii_uppercase();
        }
        Ok(merged)
    }
}

/// The JSON names of [`ScopeSettings`]' fields.
const SETTINGS_FIELDS: [&str; 12] = [
    "compatibilityGroup",
    "defaultMetadata",
    "overrideMetadata",
    "defaultRuleSet",
    "overrideRuleSet",
    "normalize",
    "validateFields",
    "validateNewSchemas",
    "validateRules",
    "compatibilityPolicy",
    "alias",
    "aliasForDeks",
];

/// A scope's config as Confluent answers it: its level, if set, and its settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeConfig {
    /// The compatibility level set there.
    pub compatibility: Option<registry_core::compat::CompatibilityLevel>,
    /// Everything else set there.
    pub settings: ScopeSettings,
}

/// What writes a subject (or the whole registry) accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    /// Registrations and deletes are accepted (the default).
    #[default]
    Readwrite,
    /// Nothing is written.
    Readonly,
    /// Registrations may carry their own id and version, and are not checked for compatibility.
    Import,
    /// Nothing is written; set globally, it applies to every subject whatever mode the subject has of its own.
    ReadonlyOverride,
}

impl Mode {
    /// Every mode, in the order Confluent lists them.
    pub const ALL: [Mode; 4] = [Mode::Readwrite, Mode::Readonly, Mode::ReadonlyOverride, Mode::Import];

    /// Confluent's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Readwrite => "READWRITE",
            Mode::Readonly => "READONLY",
            Mode::Import => "IMPORT",
            Mode::ReadonlyOverride => "READONLY_OVERRIDE",
        }
    }

    /// Whether it refuses every write.
    pub fn is_read_only(self) -> bool {
        matches!(self, Mode::Readonly | Mode::ReadonlyOverride)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Mode {
    type Err = InvalidMode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| InvalidMode(s.to_string()))
    }
}

/// A mode name that is not READWRITE, READONLY, READONLY_OVERRIDE or IMPORT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid mode '{0}': use READWRITE, READONLY, READONLY_OVERRIDE or IMPORT")]
pub struct InvalidMode(pub String);

/// A version's place in its lifecycle. A version is ACTIVE when registered, unless registered as a DRAFT; a
/// soft-deleted version is ARCHIVED (Confluent's clients see it deleted), and kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VersionState {
    /// Registered, but not the latest for serializers nor checked against until it is activated.
    Draft,
    /// In use (the default).
    #[default]
    Active,
    /// Still served, and flagged (`x-schema-deprecated: true`): producers should move on.
    Deprecated,
    /// Soft-deleted for Confluent's clients, kept, and may be restored.
    Archived,
}

impl VersionState {
    /// Every state, in lifecycle order.
    pub const ALL: [VersionState; 4] =
        [VersionState::Draft, VersionState::Active, VersionState::Deprecated, VersionState::Archived];

    /// Its name in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Draft => "DRAFT",
            VersionState::Active => "ACTIVE",
            VersionState::Deprecated => "DEPRECATED",
            VersionState::Archived => "ARCHIVED",
        }
    }

    /// The states a version in this one may be moved to: a draft is activated (or archived unused); an active
    /// version is deprecated or archived; a deprecated one is archived, or active again; an archived one is
    /// restored as active or deprecated. A draft is never made again, nor anything else made one.
    pub fn allowed_next(self) -> &'static [VersionState] {
        use VersionState::*;
        match self {
            Draft => &[Active, Archived],
            Active => &[Deprecated, Archived],
            Deprecated => &[Active, Archived],
            Archived => &[Active, Deprecated],
        }
    }
}

impl fmt::Display for VersionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for VersionState {
    type Err = InvalidState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VersionState::ALL
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| InvalidState(s.to_string()))
    }
}

/// A state name that is not DRAFT, ACTIVE, DEPRECATED or ARCHIVED.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid state '{0}': use DRAFT, ACTIVE, DEPRECATED or ARCHIVED")]
pub struct InvalidState(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    /// A record's GUID, computed once, is its parts'; a copy changed in a field has the changed parts' GUID, and
    /// equality does not see whether a GUID was computed.
    #[test]
    fn a_kept_guid_is_the_records_own() {
        let record = StoredSchema::new(
            SchemaId(1),
            SchemaType::Avro,
            "\"int\"".into(),
            Vec::new(),
            Fingerprint([1; 32]),
            DataContract::default(),
        );
        let fresh = record.clone();
        let computed = SchemaGuid::compute(&record.text, &record.references, None, None);
        assert_eq!(record.guid(), computed);
        assert_eq!(record.guid(), computed, "asked again");
        assert_eq!(record, fresh, "one computed, the other not");
        let changed = StoredSchema { text: "\"long\"".into(), ..record.clone() };
        assert_eq!(changed.guid(), SchemaGuid::compute("\"long\"", &[], None, None));
        assert_ne!(changed.guid(), record.guid());
    }
}
