//! How records are encoded on disk: one format-version byte, then postcard.
//!
//! The byte lets a later release read (or refuse, clearly) what an earlier one wrote.

use registry_core::SchemaId;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::RegistryError;
use crate::error::StorageError;
use crate::records::{Mode, SemVer};
use registry_core::compat::CompatibilityLevel;

/// The format this build writes, and the newest it reads.
pub(crate) const FORMAT_VERSION: u8 = 1;

/// One version of a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VersionRecord {
    pub id: SchemaId,
    pub deleted: bool,
    pub semver: SemVer,
}

/// The configuration of one scope (global or a subject).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ConfigRecord {
    pub compatibility: Option<CompatibilityLevel>,
    pub mode: Option<Mode>,
}

pub(crate) fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, RegistryError> {
    encode_sized(record, 32)
}

/// [`encode`] into a buffer made for about `size` bytes, so a large record is written without regrowing it.
pub(crate) fn encode_sized<T: Serialize>(record: &T, size: usize) -> Result<Vec<u8>, RegistryError> {
    let mut out = Vec::with_capacity(size);
    out.push(FORMAT_VERSION);
    postcard::to_io(record, &mut out).map_err(|e| RegistryError::Storage(StorageError::new("postcard", e)))?;
    Ok(out)
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RegistryError> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION, body)) => {
            postcard::from_bytes(body).map_err(|e| RegistryError::Corrupt(format!("a record cannot be decoded: {e}")))
        }
        Some((&version, _)) => {
            Err(RegistryError::UnsupportedFormat { found: version as u64, supported: FORMAT_VERSION as u64 })
        }
        None => Err(RegistryError::Corrupt("an empty record".into())),
    }
}
