//! The key registry's records: key encryption keys (KEKs) and the data encryption keys (DEKs) wrapped with them,
//! as Confluent's clients keep them for client-side field-level encryption. The registry stores what clients
//! send: a KEK names a key in the client's KMS, and a DEK's material is already encrypted by that KMS. No key in
//! the clear ever reaches the registry.
//!
//! The JSON shapes are Confluent's (`Kek`, `Dek`): stored as they are answered.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The cipher a DEK is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DekAlgorithm {
    /// AES-128 in GCM mode.
    #[serde(rename = "AES128_GCM")]
    Aes128Gcm,
    /// AES-256 in GCM mode (the default).
    #[default]
    #[serde(rename = "AES256_GCM")]
    Aes256Gcm,
    /// AES-256 in SIV mode (deterministic).
    #[serde(rename = "AES256_SIV")]
    Aes256Siv,
}

impl DekAlgorithm {
    /// Every algorithm.
    pub const ALL: [DekAlgorithm; 3] = [DekAlgorithm::Aes128Gcm, DekAlgorithm::Aes256Gcm, DekAlgorithm::Aes256Siv];

    /// Confluent's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DekAlgorithm::Aes128Gcm => "AES128_GCM",
            DekAlgorithm::Aes256Gcm => "AES256_GCM",
            DekAlgorithm::Aes256Siv => "AES256_SIV",
        }
    }
}

impl std::str::FromStr for DekAlgorithm {
    type Err = String;

    /// Confluent's spelling exactly (its query parameter is case-sensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DekAlgorithm::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| s.to_string())
    }
}

/// A key encryption key: a key in a client's KMS, by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kek {
    /// Its name (letters, digits, `_` and `-`, starting with a letter or `_`).
    pub name: String,
    /// The KMS: `aws-kms`, `azure-kms`, `gcp-kms`, `hcvault`, `local-kms`, ...
    pub kms_type: String,
    /// The key's id in that KMS.
    pub kms_key_id: String,
    /// Properties for the KMS client.
    #[serde(default)]
    pub kms_props: BTreeMap<String, String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Whether the registry may unwrap DEKs with it for clients: never here (the registry holds no KMS access).
    #[serde(default)]
    pub shared: bool,
    /// When it was last written, in milliseconds since the epoch.
    #[serde(default)]
    pub ts: u64,
    /// Whether it is soft-deleted (written only when it is).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl Kek {
    /// Whether it names the same key in the same way as `other` (Confluent's equivalence: not `ts` or `deleted`).
    pub fn is_equivalent(&self, other: &Kek) -> bool {
        (&self.name, &self.kms_type, &self.kms_key_id, &self.kms_props, &self.doc, self.shared)
            == (&other.name, &other.kms_type, &other.kms_key_id, &other.kms_props, &other.doc, other.shared)
    }
}

/// A data encryption key of one subject, wrapped with a KEK by the client's KMS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dek {
    /// The KEK that wraps it.
    pub kek_name: String,
    /// The subject it encrypts fields of.
    pub subject: String,
    /// Its version within (KEK, subject, algorithm): given by the client.
    pub version: u32,
    /// The cipher it is for.
    pub algorithm: DekAlgorithm,
    /// The key, encrypted by the KEK in the client's KMS (base64), kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_key_material: Option<String>,
    /// When it was last written, in milliseconds since the epoch.
    #[serde(default)]
    pub ts: u64,
    /// Whether it is soft-deleted (written only when it is).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl Dek {
    /// Whether it is the same key as `other` (Confluent's equivalence: not `ts` or `deleted`).
    pub fn is_equivalent(&self, other: &Dek) -> bool {
        (&self.kek_name, &self.subject, self.version, self.algorithm, &self.encrypted_key_material)
            == (&other.kek_name, &other.subject, other.version, other.algorithm, &other.encrypted_key_material)
    }
}
