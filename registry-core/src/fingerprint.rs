//! `Fingerprint`: a schema's identity, the SHA-256 of (format, canonical form, references, data contract).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::contract::DataContract;
use crate::{SchemaReference, SchemaType};

/// The SHA-256 identity of a schema. Equal fingerprints mean the same schema and the same global id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The identity of a schema of `schema_type` whose canonical form is `canonical`, with `references` and
    /// `contract`. A schema without a contract hashes as it did before contracts existed, so stored fingerprints
    /// stay valid; a contract adds its JSON (sorted maps, empty parts left out).
    pub fn compute(
        schema_type: SchemaType,
        canonical: &[u8],
        references: &[SchemaReference],
        contract: &DataContract,
    ) -> Self {
        let mut hasher = Sha256::new();
        // Every part is length-prefixed, so no two different inputs hash the same bytes.
        let mut field = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        field(b"schema-registry/fingerprint/v1");
        field(schema_type.as_str().as_bytes());
        field(canonical);
        field(&(references.len() as u64).to_le_bytes());
        for reference in references {
            field(reference.name.as_bytes());
            field(reference.subject.as_str().as_bytes());
            field(&reference.version.get().to_le_bytes());
        }
        if !contract.is_none() {
            field(b"contract");
            // Serializing plain maps, strings and enums cannot fail.
            field(&serde_json::to_vec(contract).unwrap_or_default());
        }
        Fingerprint(hasher.finalize().into())
    }

    /// The identity of this schema in schema context `context` (`.ctx`, as [`crate::Subject::context`] names
    /// it): the same in the default context `.`, another in every other, so each context dedups within itself
    /// and gives a schema its own id there.
    pub fn in_context(self, context: &str) -> Self {
        if context == crate::subject::DEFAULT_CONTEXT {
            return self;
        }
        let mut hasher = Sha256::new();
        for part in [b"schema-registry/context/v1".as_slice(), context.as_bytes(), &self.0] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        Fingerprint(hasher.finalize().into())
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", &self.to_hex()[..16])
    }
}

/// `bytes` in lower-case hexadecimal, two digits a byte: how the registry writes digests (fingerprints, audit
/// hashes, key hashes, tags).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    /// Digests already written (fingerprints, the audit chain's hashes) are lowercase hex, two digits a byte: that
    /// must not change.
    #[test]
    fn hex_is_two_lowercase_digits_a_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff, 0x10]), "000fa5ff10");
        let all: Vec<u8> = (0..=255).collect();
        let expected: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(super::hex(&all), expected);
    }
}
