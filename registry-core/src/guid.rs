//! `SchemaGuid`: the content-derived UUID Confluent gives every schema, so a schema has the same GUID in every
//! registry that holds it.

use std::fmt;
use std::str::FromStr;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::SchemaReference;
use crate::contract::{Metadata, Rule, RuleSet};

/// A schema's GUID: the MD5 of its text, references, metadata and rule set, written as a UUID. Clients put it
/// in message headers in place of the numeric id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SchemaGuid(pub [u8; 16]);

impl SchemaGuid {
    /// The GUID of a schema whose text is `text`, as Confluent derives it: the text's UTF-8 bytes, each
    /// reference's name, subject and version (4 bytes, big-endian), then, when present, a 1 byte and the
    /// metadata (tags, properties, sensitive names, sorted), and a 1 byte and the rule set (each rule's fields in
    /// order, then `enableAt`).
    pub fn compute(
        text: &str,
        references: &[SchemaReference],
        metadata: Option<&Metadata>,
        rule_set: Option<&RuleSet>,
    ) -> Self {
        let mut md = Md5::new();
        md.update(text.as_bytes());
        for reference in references {
            md.update(reference.name.as_bytes());
            md.update(reference.subject.as_str().as_bytes());
            md.update((reference.version.get() as i32).to_be_bytes());
        }
        if let Some(metadata) = metadata {
            md.update([1u8]);
            for (path, tags) in &metadata.tags {
                md.update(path.as_bytes());
                tags.iter().for_each(|tag| md.update(tag.as_bytes()));
            }
            for (key, value) in &metadata.properties {
                md.update(key.as_bytes());
                md.update(value.as_bytes());
            }
            metadata.sensitive.iter().for_each(|name| md.update(name.as_bytes()));
        }
        if let Some(rule_set) = rule_set {
            md.update([1u8]);
            rule_set.rules().for_each(|rule| hash_rule(&mut md, rule));
            if let Some(environment) = rule_set.enable_at {
                md.update(environment.as_str().as_bytes());
            }
        }
        SchemaGuid(md.finalize().into())
    }
}

fn hash_rule(md: &mut Md5, rule: &Rule) {
    let text = |md: &mut Md5, value: &Option<String>| {
        if let Some(value) = value {
            md.update(value.as_bytes());
        }
    };
    text(md, &rule.name);
    text(md, &rule.doc);
    md.update(rule.kind.as_str().as_bytes());
    md.update(rule.mode.as_str().as_bytes());
    text(md, &rule.rule_type);
    rule.tags.iter().for_each(|tag| md.update(tag.as_bytes()));
    for (key, value) in &rule.params {
        md.update(key.as_bytes());
        md.update(value.as_bytes());
    }
    text(md, &rule.expr);
    text(md, &rule.on_success);
    text(md, &rule.on_failure);
    if rule.disabled {
        md.update([1u8]);
    }
}

impl fmt::Display for SchemaGuid {
    /// The UUID form: 8-4-4-4-12 lower-case hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SchemaGuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SchemaGuid({self})")
    }
}

/// A string that is neither a UUID nor 32 hex digits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a schema GUID (a UUID)")]
pub struct GuidError(pub String);

impl FromStr for SchemaGuid {
    type Err = GuidError;

    /// A UUID (`8-4-4-4-12` hex digits, either case) or, as Confluent also takes, 32 hex digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || GuidError(s.to_string());
        let dashed = s.len() == 36 && s.char_indices().all(|(i, c)| matches!(i, 8 | 13 | 18 | 23) == (c == '-'));
        let digits: Vec<u8> = if dashed || s.len() == 32 { s.bytes().filter(|b| *b != b'-').collect() } else { vec![] };
        if digits.len() != 32 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(bad());
        }
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| bad())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
        }
        Ok(SchemaGuid(bytes))
    }
}
