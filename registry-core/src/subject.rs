//! `Subject`: the validated name a schema is registered under.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::SubjectError;

/// The longest subject name accepted, in bytes.
pub const MAX_SUBJECT_BYTES: usize = 255;

/// The subject name Confluent keeps for global permissions.
pub const RESERVED_GLOBAL: &str = "__GLOBAL";

/// The subject name Confluent uses for the empty name.
pub const RESERVED_EMPTY: &str = "__EMPTY";

/// A subject name: non-empty, at most 255 bytes, no control characters.
///
/// Cheap to clone: the name is shared.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Subject(Arc<str>);

impl Subject {
    /// Validates `name` and wraps it.
    pub fn new(name: &str) -> Result<Self, SubjectError> {
        if name.is_empty() {
            return Err(SubjectError::Empty);
        }
        if name.len() > MAX_SUBJECT_BYTES {
            return Err(SubjectError::TooLong { len: name.len(), max: MAX_SUBJECT_BYTES });
        }
        if let Some(position) = name.chars().position(char::is_control) {
            return Err(SubjectError::ControlCharacter { position });
        }
        Ok(Self(Arc::from(name)))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Refuses the names Confluent reserves (`__GLOBAL` for global permissions, `__EMPTY` for the empty name),
    /// which no schema, level or mode may be written to.
    pub fn check_writable(&self) -> Result<(), SubjectError> {
        match self.as_str() {
            name @ (RESERVED_GLOBAL | RESERVED_EMPTY) => Err(SubjectError::Reserved(name.to_string())),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::str::FromStr for Subject {
    type Err = SubjectError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Subject::new(&name).map_err(serde::de::Error::custom)
    }
}
