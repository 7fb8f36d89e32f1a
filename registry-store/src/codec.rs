//! How records are encoded on disk: one format-version byte, then postcard.
//!
//! The byte lets a later release read (or refuse, clearly) what an earlier one wrote. Format 2 added the data
//! contract to schema records and the settings beside the level to config records. Only a schema record with a
//! contract, or a config record with settings, is written in format 2; a version record with its registration time
//! in format 4 (one an earlier release wrote without a time keeps format 3 if its lifecycle state is not ACTIVE,
//! else 1); every other record is written in format 1, as before.

use std::sync::Arc;

use registry_core::contract::DataContract;
use registry_core::{Fingerprint, SchemaId, SchemaReference, SchemaType};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::RegistryError;
use crate::error::StorageError;
use crate::records::{Mode, ScopeSettings, SemVer, StoredSchema, VersionState};
use registry_core::compat::CompatibilityLevel;

/// The newest format this build writes and reads.
pub(crate) const FORMAT_VERSION: u8 = 2;

/// The oldest format this build reads, and the one it writes every record in but a schema with a contract.
pub(crate) const OLDEST_FORMAT: u8 = 1;

/// One version of a subject. Its `state` is its lifecycle state as set (DRAFT, ACTIVE or DEPRECATED); a deleted
/// version is ARCHIVED whatever it says, and comes back to it when restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VersionRecord {
    pub id: SchemaId,
    pub deleted: bool,
    pub semver: SemVer,
    pub state: VersionState,
    /// When it was registered, in milliseconds since the Unix epoch; `None` for a version registered by a release
    /// that did not record it (or imported from a registry that does not say).
    pub registered: Option<u64>,
}

impl VersionRecord {
    /// A new, live version in `state`, registered now.
    pub fn new(id: SchemaId, semver: SemVer, state: VersionState) -> Self {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        let registered = now.ok().and_then(|since| u64::try_from(since.as_millis()).ok());
        Self { id, deleted: false, semver, state, registered }
    }

    /// Its lifecycle state as answered: ARCHIVED when soft-deleted.
    pub fn effective_state(&self) -> VersionState {
        if self.deleted { VersionState::Archived } else { self.state }
    }

    /// Whether it counts as the subject's current schema: live and not a draft (what `latest`, compatibility
    /// checks and inheritance read).
    pub fn is_current(&self) -> bool {
        !self.deleted && self.state != VersionState::Draft
    }
}

/// A version record as format 1 lays it out (every ACTIVE version is written so).
#[derive(Serialize, Deserialize)]
struct VersionRecordV1 {
    id: SchemaId,
    deleted: bool,
    semver: SemVer,
}

/// A version record with its lifecycle state: format [`VERSION_STATE_FORMAT`].
#[derive(Serialize, Deserialize)]
struct VersionRecordV3 {
    id: SchemaId,
    deleted: bool,
    semver: SemVer,
    state: VersionState,
}

/// The format of a version record whose state is not ACTIVE (its own byte: schema and config records have none
/// of this format).
const VERSION_STATE_FORMAT: u8 = 3;

/// A version record with its lifecycle state and registration time: format [`VERSION_TIME_FORMAT`].
#[derive(Serialize, Deserialize)]
struct VersionRecordV4 {
    id: SchemaId,
    deleted: bool,
    semver: SemVer,
    state: VersionState,
    registered: u64,
}

/// The format of a version record that knows when it was registered (every one registered since this format).
const VERSION_TIME_FORMAT: u8 = 4;

/// A version record as stored: format 4 with its state and registration time; without a time (a version an
/// earlier release registered), format 1 for an ACTIVE version, as every release wrote it, or 3 with its state.
pub(crate) fn encode_version(record: &VersionRecord) -> Result<Vec<u8>, RegistryError> {
    let VersionRecord { id, deleted, semver, state, registered } = *record;
    match registered {
        Some(registered) => {
            encode_as(VERSION_TIME_FORMAT, &VersionRecordV4 { id, deleted, semver, state, registered }, 40)
        }
        None if state == VersionState::Active => encode_as(OLDEST_FORMAT, &VersionRecordV1 { id, deleted, semver }, 32),
        None => encode_as(VERSION_STATE_FORMAT, &VersionRecordV3 { id, deleted, semver, state }, 32),
    }
}

/// A version record written by [`encode_version`] (or by any earlier release).
pub(crate) fn decode_version(bytes: &[u8]) -> Result<VersionRecord, RegistryError> {
    match bytes.split_first() {
        Some((&VERSION_TIME_FORMAT, body)) => {
            let VersionRecordV4 { id, deleted, semver, state, registered } =
                postcard::from_bytes(body).map_err(undecodable)?;
            Ok(VersionRecord { id, deleted, semver, state, registered: Some(registered) })
        }
        Some((&VERSION_STATE_FORMAT, body)) => {
            let VersionRecordV3 { id, deleted, semver, state } = postcard::from_bytes(body).map_err(undecodable)?;
            Ok(VersionRecord { id, deleted, semver, state, registered: None })
        }
        _ => {
            let VersionRecordV1 { id, deleted, semver } = decode(bytes)?;
            Ok(VersionRecord { id, deleted, semver, state: VersionState::Active, registered: None })
        }
    }
}

/// The configuration of one scope (global or a subject).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ConfigRecord {
    pub compatibility: Option<CompatibilityLevel>,
    pub mode: Option<Mode>,
    /// Everything else a Confluent config holds; `None` when nothing is set.
    pub settings: Option<Arc<ScopeSettings>>,
}

/// No settings at all.
const NO_SETTINGS: ScopeSettings = ScopeSettings {
    compatibility_group: None,
    default_metadata: None,
    override_metadata: None,
    default_rule_set: None,
    override_rule_set: None,
    normalize: None,
    validate_fields: None,
    validate_new_schemas: None,
    validate_rules: None,
    compatibility_policy: None,
    alias: None,
    alias_for_deks: None,
};

impl ConfigRecord {
    /// Its settings beside the level and mode (all unset when it has none).
    pub fn settings(&self) -> &ScopeSettings {
        self.settings.as_deref().unwrap_or(&NO_SETTINGS)
    }

    /// The same record with `settings`, kept as `None` when they set nothing.
    pub fn with_settings(mut self, settings: ScopeSettings) -> Self {
        self.settings = (!settings.is_empty()).then(|| Arc::new(settings));
        self
    }

    /// Whether it sets a level or any setting (Confluent's "the subject has a config"); the mode is apart.
    pub fn has_config(&self) -> bool {
        self.compatibility.is_some() || self.settings.is_some()
    }
}

/// A config record as format 1 lays it out: the level and the mode.
#[derive(Serialize, Deserialize)]
struct ConfigRecordV1 {
    compatibility: Option<CompatibilityLevel>,
    mode: Option<Mode>,
}

/// A config record as format 2 lays it out: format 1's fields, then the settings as JSON.
#[derive(Serialize, Deserialize)]
struct ConfigRecordV2 {
    record: ConfigRecordV1,
    settings: String,
}

/// Encodes a config record: in format 1 without settings (as a release before them wrote it), in format 2 with.
pub(crate) fn encode_config(config: &ConfigRecord) -> Result<Vec<u8>, RegistryError> {
    let record = ConfigRecordV1 { compatibility: config.compatibility, mode: config.mode };
    match &config.settings {
        None => encode_as(OLDEST_FORMAT, &record, 8),
        Some(settings) => {
            let settings = serde_json::to_string(&**settings)
                .map_err(|e| RegistryError::Corrupt(format!("config settings cannot be encoded: {e}")))?;
            let size = settings.len() + 16;
            encode_as(FORMAT_VERSION, &ConfigRecordV2 { record, settings }, size)
        }
    }
}

/// Decodes a config record of either format.
pub(crate) fn decode_config(bytes: &[u8]) -> Result<ConfigRecord, RegistryError> {
    let (record, settings) = match split_format(bytes)? {
        (1, body) => (postcard::from_bytes::<ConfigRecordV1>(body).map_err(undecodable)?, None),
        (_, body) => {
            let ConfigRecordV2 { record, settings } = postcard::from_bytes(body).map_err(undecodable)?;
            (record, Some(settings_from_json(&settings)?))
        }
    };
    let config = ConfigRecord { compatibility: record.compatibility, mode: record.mode, settings: None };
    Ok(config.with_settings(settings.unwrap_or_default()))
}

/// Settings stored as JSON (empty for none).
pub(crate) fn settings_from_json(json: &str) -> Result<ScopeSettings, RegistryError> {
    if json.is_empty() {
        return Ok(ScopeSettings::default());
    }
    serde_json::from_str(json)
        .map_err(|e| RegistryError::Corrupt(format!("stored config settings cannot be read: {e}")))
}

/// `record` in `format`, into a buffer made for about `size` bytes.
fn encode_as<T: Serialize>(format: u8, record: &T, size: usize) -> Result<Vec<u8>, RegistryError> {
    let mut out = Vec::with_capacity(size);
    out.push(format);
    postcard::to_io(record, &mut out).map_err(|e| RegistryError::Storage(StorageError::new("postcard", e)))?;
    Ok(out)
}

/// Decodes a record other than a schema record (see [`decode_schema`]).
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RegistryError> {
    let (_, body) = split_format(bytes)?;
    postcard::from_bytes(body).map_err(undecodable)
}

/// The format byte and the body after it, for a format this build reads.
fn split_format(bytes: &[u8]) -> Result<(u8, &[u8]), RegistryError> {
    match bytes.split_first() {
        Some((&version, body)) if (OLDEST_FORMAT..=FORMAT_VERSION).contains(&version) => Ok((version, body)),
        Some((&version, _)) => {
            Err(RegistryError::UnsupportedFormat { found: version as u64, supported: FORMAT_VERSION as u64 })
        }
        None => Err(RegistryError::Corrupt("an empty record".into())),
    }
}

fn undecodable(e: postcard::Error) -> RegistryError {
    RegistryError::Corrupt(format!("a record cannot be decoded: {e}"))
}

/// A schema record as format 1 lays it out: no data contract. Generic over how the text and references are held:
/// borrowed to encode, owned to decode (postcard writes both alike).
#[derive(Serialize, Deserialize)]
struct SchemaRecordV1<T, R> {
    id: SchemaId,
    schema_type: SchemaType,
    text: T,
    references: R,
    fingerprint: Fingerprint,
}

/// A schema record as format 2 lays it out: format 1's fields, then the contract as JSON (its JSON shape leaves
/// empty parts out, which postcard cannot follow). Postcard writes a nested struct as its fields in order.
#[derive(Serialize, Deserialize)]
struct SchemaRecordV2<T, R> {
    record: SchemaRecordV1<T, R>,
    contract: String,
}

impl SchemaRecordV1<String, Vec<SchemaReference>> {
    fn into_stored(self, contract: DataContract) -> StoredSchema {
        let Self { id, schema_type, text, references, fingerprint } = self;
        StoredSchema::new(id, schema_type, text, references, fingerprint, contract)
    }
}

/// Encodes a schema record: in format 1 without a contract (as a release before contracts wrote it, and can
/// read it), in format 2 with one.
pub(crate) fn encode_schema(schema: &StoredSchema) -> Result<Vec<u8>, RegistryError> {
    // The text, the contract and a few dozen bytes of id, type, fingerprint and references.
    let size = schema.text.len() + 64 + 64 * schema.references.len();
    let record = SchemaRecordV1 {
        id: schema.id,
        schema_type: schema.schema_type,
        text: schema.text.as_str(),
        references: schema.references.as_slice(),
        fingerprint: schema.fingerprint,
    };
    if schema.contract.is_none() {
        return encode_as(OLDEST_FORMAT, &record, size);
    }
    let contract = serde_json::to_string(&schema.contract)
        .map_err(|e| RegistryError::Corrupt(format!("a data contract cannot be encoded: {e}")))?;
    let size = size + contract.len();
    encode_as(FORMAT_VERSION, &SchemaRecordV2 { record, contract }, size)
}

/// Decodes a schema record of either format.
pub(crate) fn decode_schema(bytes: &[u8]) -> Result<StoredSchema, RegistryError> {
    match split_format(bytes)? {
        (1, body) => {
            let record: SchemaRecordV1<String, Vec<SchemaReference>> =
                postcard::from_bytes(body).map_err(undecodable)?;
            Ok(record.into_stored(DataContract::default()))
        }
        (_, body) => {
            let SchemaRecordV2 { record, contract } = postcard::from_bytes(body).map_err(undecodable)?;
            Ok(record.into_stored(contract_from_json(&contract)?))
        }
    }
}

/// A contract stored as JSON (empty for none).
pub(crate) fn contract_from_json(json: &str) -> Result<DataContract, RegistryError> {
    if json.is_empty() {
        return Ok(DataContract::default());
    }
    serde_json::from_str(json)
        .map_err(|e| RegistryError::Corrupt(format!("a stored data contract cannot be read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry_core::contract::Metadata;

    fn schema(contract: DataContract) -> StoredSchema {
        StoredSchema::new(SchemaId(7), SchemaType::Avro, "\"int\"".into(), Vec::new(), Fingerprint([3; 32]), contract)
    }

    /// The bytes format 1 gives a schema record, frozen: what releases before contracts wrote, and read.
    const FORMAT_1_RECORD: [u8; 42] = [
        1, // format
        7, // id (varint)
        0, // AVRO
        5, b'"', b'i', b'n', b't', b'"', // text
        0,    // no references
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, // fingerprint
    ];

    #[test]
    fn a_schema_without_a_contract_is_written_and_read_in_format_1_as_before() {
        let schema = schema(DataContract::default());
        assert_eq!(encode_schema(&schema).unwrap(), FORMAT_1_RECORD);
        assert_eq!(decode_schema(&FORMAT_1_RECORD).unwrap(), schema);
    }

    #[test]
    fn a_schema_record_of_format_1_reads_as_a_schema_without_a_contract() {
        // Format 1 wrote the record's five fields in order, as postcard writes a tuple of them.
        let mut bytes = vec![1u8];
        let fields = (SchemaId(7), SchemaType::Avro, "\"int\"".to_string(), Vec::<SchemaReference>::new(), [3u8; 32]);
        postcard::to_io(&fields, &mut bytes).unwrap();
        assert_eq!(decode_schema(&bytes).unwrap(), schema(DataContract::default()));
    }

    #[test]
    fn schema_records_keep_their_contract() {
        let metadata = Metadata { properties: [("owner".into(), "a".into())].into(), ..Metadata::default() };
        for contract in [
            DataContract::default(),
            DataContract { metadata: Some(metadata), rule_set: None },
            DataContract { metadata: Some(Metadata::default()), rule_set: Some(Default::default()) },
        ] {
            let bytes = encode_schema(&schema(contract.clone())).unwrap();
            // Format 1 (which releases before contracts read) unless there is a contract to keep.
            assert_eq!(bytes[0], if contract.is_none() { 1 } else { FORMAT_VERSION });
            assert_eq!(decode_schema(&bytes).unwrap(), schema(contract));
        }
    }

    #[test]
    fn a_record_of_a_newer_format_is_refused_by_name() {
        let mut bytes = encode_schema(&schema(DataContract::default())).unwrap();
        bytes[0] = FORMAT_VERSION + 1;
        assert!(matches!(decode_schema(&bytes), Err(RegistryError::UnsupportedFormat { found: 3, supported: 2 })));
        let untimed =
            VersionRecord { registered: None, ..VersionRecord::new(SchemaId(1), SemVer::FIRST, VersionState::Active) };
        let mut bytes = encode_version(&untimed).unwrap();
        assert_eq!(bytes[0], 1, "records without a contract are written as before");
        bytes[0] = FORMAT_VERSION + 1;
        assert!(matches!(decode_schema(&bytes), Err(RegistryError::UnsupportedFormat { found: 3, supported: 2 })));
        bytes[0] = VERSION_TIME_FORMAT + 1;
        assert!(matches!(decode_version(&bytes), Err(RegistryError::UnsupportedFormat { .. })));
        assert!(matches!(decode_schema(&[]), Err(RegistryError::Corrupt(_))));
    }

    #[test]
    fn a_version_record_keeps_its_state_and_an_active_one_is_written_as_before() {
        // Format 1 wrote the id, the deleted flag and the semver, as postcard writes a tuple of them.
        let mut before = vec![1u8];
        postcard::to_io(&(SchemaId(9), true, SemVer::FIRST), &mut before).unwrap();
        let active = VersionRecord {
            id: SchemaId(9),
            deleted: true,
            semver: SemVer::FIRST,
            state: VersionState::Active,
            registered: None,
        };
        assert_eq!(encode_version(&active).unwrap(), before);
        assert_eq!(decode_version(&before).unwrap(), active);
        for state in [VersionState::Draft, VersionState::Deprecated] {
            let record = VersionRecord { state, ..active };
            let bytes = encode_version(&record).unwrap();
            assert_eq!(bytes[0], VERSION_STATE_FORMAT);
            assert_eq!(decode_version(&bytes).unwrap(), record);
            assert_eq!(record.effective_state(), VersionState::Archived, "a deleted version is archived");
        }
    }

    #[test]
    fn a_new_version_record_keeps_its_registration_time() {
        let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        let record = VersionRecord::new(SchemaId(3), SemVer::FIRST, VersionState::Draft);
        let registered = record.registered.expect("a new version knows when it was registered");
        assert!(registered >= before && registered < before + 60_000, "{registered} vs {before}");
        let bytes = encode_version(&record).unwrap();
        assert_eq!(bytes[0], VERSION_TIME_FORMAT);
        assert_eq!(decode_version(&bytes).unwrap(), record);
        let deleted = VersionRecord { deleted: true, state: VersionState::Active, ..record };
        assert_eq!(decode_version(&encode_version(&deleted).unwrap()).unwrap(), deleted);
    }

    #[test]
    fn a_config_without_settings_is_written_and_read_in_format_1_as_before() {
        let record =
            ConfigRecord { compatibility: Some(CompatibilityLevel::Full), mode: Some(Mode::Import), settings: None };
        // Format 1 wrote the level and the mode, as postcard writes a pair of options.
        let mut before = vec![1u8];
        postcard::to_io(&(Some(CompatibilityLevel::Full), Some(Mode::Import)), &mut before).unwrap();
        assert_eq!(encode_config(&record).unwrap(), before);
        assert_eq!(decode_config(&before).unwrap(), record);
    }

    #[test]
    fn config_records_keep_their_settings() {
        let settings = ScopeSettings {
            compatibility_group: Some("application.major.version".into()),
            default_metadata: Some(Metadata {
                properties: [("owner".into(), "a".into())].into(),
                ..Metadata::default()
            }),
            normalize: Some(false),
            ..ScopeSettings::default()
        };
        let record =
            ConfigRecord { compatibility: None, mode: Some(Mode::Readonly), settings: None }.with_settings(settings);
        let bytes = encode_config(&record).unwrap();
        assert_eq!(bytes[0], FORMAT_VERSION);
        assert_eq!(decode_config(&bytes).unwrap(), record);
        let cleared = record.with_settings(ScopeSettings::default());
        assert_eq!(cleared.settings, None, "settings that set nothing are none");
        assert_eq!(encode_config(&cleared).unwrap()[0], 1);
    }
}
