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

/// The default schema context, where an unqualified name is.
pub const DEFAULT_CONTEXT: &str = ".";

/// The context that holds only a level and a mode: the last fallback of every context's settings.
pub const GLOBAL_CONTEXT: &str = ".__GLOBAL";

/// The context wildcard of listings (`:*:`), which names no context a schema can be in.
pub const WILDCARD_CONTEXT: &str = "*";

/// A name as Confluent reads a qualified subject (`QualifiedSubject`): `:.ctx:name` is `name` in context `.ctx`
/// (the closing colon optional, the name after it may hold colons), `:*:name` is `name` under the wildcard, and
/// anything else is a name in the default context `.`, whole. Returns (context, name).
pub fn split_qualified(name: &str) -> (&str, &str) {
    if let Some(rest) = name.strip_prefix(":*:") {
        return (WILDCARD_CONTEXT, rest);
    }
    let Some(qualified) = name.strip_prefix(':').filter(|rest| rest.starts_with('.')) else {
        return (DEFAULT_CONTEXT, name);
    };
    match qualified[1..].find(':') {
        Some(end) => (&qualified[..end + 1], &qualified[end + 2..]),
        None => (qualified, ""),
    }
}

/// The stored form of `name` in `context`: `name` in the default context, `:.ctx:name` in another.
pub fn qualify(context: &str, name: &str) -> String {
    if context == DEFAULT_CONTEXT { name.to_string() } else { format!(":{context}:{name}") }
}

/// The subject a reference made by a schema in context `context` names ([`Subject::referenced`]).
pub fn reference_target(context: &str, reference: &Subject) -> Subject {
    let (named, name) = split_qualified(reference.as_str());
    if named != DEFAULT_CONTEXT {
        return reference.clone();
    }
    if name != reference.as_str() {
        return Subject::new(name).unwrap_or_else(|_| reference.clone());
    }
    if context == DEFAULT_CONTEXT {
        return reference.clone();
    }
    Subject::new(&qualify(context, name)).unwrap_or_else(|_| reference.clone())
}

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

    /// A name as a request writes it, in its normalized qualified form ([`split_qualified`]): `:.:name` is
    /// `name`, `:.ctx` is `:.ctx:`; then validated as [`Subject::new`] does.
    pub fn qualified(name: &str) -> Result<Self, SubjectError> {
        let (context, bare) = split_qualified(name);
        match context {
            DEFAULT_CONTEXT => Self::new(bare),
            WILDCARD_CONTEXT => Self::new(name),
            _ => Self::new(&qualify(context, bare)),
        }
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The schema context the subject is in: `.` for a plain name, `.ctx` for `:.ctx:name`.
    pub fn context(&self) -> &str {
        split_qualified(&self.0).0
    }

    /// The name without its context.
    pub fn name_in_context(&self) -> &str {
        split_qualified(&self.0).1
    }

    /// The subject a reference made by a schema of this subject names (Confluent's `qualifySubjectWithParent`):
    /// a name qualified with another context stays there; a plain one is in this subject's context. `:.:name` is
    /// the default context's `name` from any context (where Confluent would look for a subject named `:.:name`
    /// in the referrer's context, which cannot exist).
    pub fn referenced(&self, reference: &Subject) -> Subject {
        reference_target(self.context(), reference)
    }

    /// This subject as a reference names it from a schema of any context: `:.:name` for the default context's
    /// `name`, the qualified name for another context's.
    pub fn absolute(&self) -> Subject {
        if self.context() == DEFAULT_CONTEXT {
            return Subject::new(&format!(":.:{}", self.0)).unwrap_or_else(|_| self.clone());
        }
        self.clone()
    }

    /// Refuses what no schema may be registered under: a name in the wildcard context (`:*:`) or in the context
    /// that holds only settings (`:.__GLOBAL:`), a context alone (`:.ctx:`, which names its settings), on top of
    /// [`Subject::check_writable`]'s reserved names.
    pub fn check_registrable(&self) -> Result<(), SubjectError> {
        self.check_writable()?;
        match self.context() {
            WILDCARD_CONTEXT | GLOBAL_CONTEXT => Err(SubjectError::Reserved(self.as_str().to_string())),
            _ if self.name_in_context().is_empty() => Err(SubjectError::Reserved(self.as_str().to_string())),
            _ => Ok(()),
        }
    }

    /// Refuses the names Confluent reserves (`__GLOBAL` for global permissions, `__EMPTY` for the empty name),
    /// which no schema, level or mode may be written to.
    pub fn check_writable(&self) -> Result<(), SubjectError> {
        match self.name_in_context() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// (as written, context, name in it, normalized): Confluent's `QualifiedSubjectTest` cases for the default
    /// tenant, and the normalizations its resources make.
    const CASES: &[(&str, &str, &str, &str)] = &[
        ("foo", ".", "foo", "foo"),
        (":.ctx1:subject1", ".ctx1", "subject1", ":.ctx1:subject1"),
        (":.ctx1:sub:ject1", ".ctx1", "sub:ject1", ":.ctx1:sub:ject1"),
        (":.ctx1:", ".ctx1", "", ":.ctx1:"),
        (":.ctx1", ".ctx1", "", ":.ctx1:"),
        (":.:foo", ".", "foo", "foo"),
        (":ctx1:subject1", ".", ":ctx1:subject1", ":ctx1:subject1"),
        ("::subject1", ".", "::subject1", "::subject1"),
        (":*:foo", "*", "foo", ":*:foo"),
        (":.a.b:x", ".a.b", "x", ":.a.b:x"),
        (":.__GLOBAL:", ".__GLOBAL", "", ":.__GLOBAL:"),
    ];

    #[test]
    fn qualified_names_split_and_normalize_as_confluent_reads_them() {
        for (written, context, name, normalized) in CASES {
            assert_eq!(split_qualified(written), (*context, *name), "{written}");
            let subject = Subject::qualified(written).expect("a valid name");
            assert_eq!(subject.as_str(), *normalized, "{written}");
            assert_eq!((subject.context(), subject.name_in_context()), (*context, *name), "{written}");
        }
        assert!(Subject::qualified(":.:").is_err(), "the default context alone names no subject");
    }

    #[test]
    fn a_reference_is_in_its_referrers_context_unless_it_names_another() {
        let subject = |name: &str| Subject::new(name).expect("a name");
        let in_ctx = subject(":.ctx:orders");
        let plain = subject("orders");
        // (referrer, reference as written, the subject it names)
        let cases = [
            (&in_ctx, "customer", ":.ctx:customer"),
            (&in_ctx, ":.other:customer", ":.other:customer"),
            (&in_ctx, ":.:customer", "customer"),
            (&plain, "customer", "customer"),
            (&plain, ":.:customer", "customer"),
            (&plain, ":.ctx:customer", ":.ctx:customer"),
        ];
        for (referrer, reference, named) in cases {
            assert_eq!(referrer.referenced(&subject(reference)).as_str(), named, "{referrer} -> {reference}");
        }
    }

    #[test]
    fn no_schema_is_registered_in_the_wildcard_or_the_settings_only_context() {
        for name in [":*:foo", ":.__GLOBAL:foo", ":.ctx:__GLOBAL", "__EMPTY", ":.ctx:"] {
            assert!(Subject::new(name).expect("a name").check_registrable().is_err(), "{name}");
        }
        assert!(Subject::new(":.ctx:foo").expect("a name").check_registrable().is_ok());
    }
}
