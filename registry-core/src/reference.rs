//! Reference resolution: the caller's `ReferenceResolver` and the bounded walk over a schema's references.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Limits, SchemaError, SchemaReference, Subject, UnparsedSchema, Version};

/// Why a reference could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// Nothing is registered at that subject and version.
    #[error("no schema is registered at subject '{subject}' version {version}")]
    NotFound {
        /// The subject looked up.
        subject: Subject,
        /// The version looked up.
        version: Version,
    },
    /// The resolver failed for a reason of its own (storage, for instance).
    #[error("{0}")]
    Other(String),
}

/// Finds the schema a reference points at. Core does no I/O: the caller (the store) implements this.
pub trait ReferenceResolver {
    /// The schema registered at `reference.subject` / `reference.version`.
    fn resolve(&self, reference: &SchemaReference) -> Result<UnparsedSchema, ResolveError>;
}

/// A resolver for schemas without references: every lookup fails.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoReferences;

impl ReferenceResolver for NoReferences {
    fn resolve(&self, reference: &SchemaReference) -> Result<UnparsedSchema, ResolveError> {
        Err(ResolveError::NotFound { subject: reference.subject.clone(), version: reference.version })
    }
}

impl<F> ReferenceResolver for F
where
    F: Fn(&SchemaReference) -> Result<UnparsedSchema, ResolveError>,
{
    fn resolve(&self, reference: &SchemaReference) -> Result<UnparsedSchema, ResolveError> {
        self(reference)
    }
}

/// One schema pulled in through references, under the name its referrer imports it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedReference {
    /// The name the referrer uses.
    pub name: String,
    /// The referenced schema.
    pub schema: UnparsedSchema,
}

/// Resolves `root`'s references transitively, dependencies first, each (subject, version) once.
///
/// Fails on a missing reference, a cycle, a chain deeper than `limits.max_reference_depth`, more than
/// `limits.max_references` schemas, a reference of another format, or one name bound to two schemas.
pub(crate) fn resolve_all(
    root: &UnparsedSchema,
    resolver: &dyn ReferenceResolver,
    limits: &Limits,
) -> Result<Vec<ResolvedReference>, SchemaError> {
    let mut walk = Walk { resolver, limits, out: Vec::new(), done: BTreeSet::new(), names: BTreeMap::new() };
    let mut stack = Vec::new();
    walk.visit_all(root, &mut stack)?;
    Ok(walk.out)
}

struct Walk<'a> {
    resolver: &'a dyn ReferenceResolver,
    limits: &'a Limits,
    out: Vec<ResolvedReference>,
    done: BTreeSet<(Subject, Version)>,
    names: BTreeMap<String, (Subject, Version)>,
}

impl Walk<'_> {
    fn visit_all(&mut self, schema: &UnparsedSchema, stack: &mut Vec<(Subject, Version)>) -> Result<(), SchemaError> {
        for reference in &schema.references {
            self.visit(schema, reference, stack)?;
        }
        Ok(())
    }

    fn visit(
        &mut self,
        referrer: &UnparsedSchema,
        reference: &SchemaReference,
        stack: &mut Vec<(Subject, Version)>,
    ) -> Result<(), SchemaError> {
        let key = (reference.subject.clone(), reference.version);
        if reference.name.is_empty() {
            return Err(SchemaError::InvalidReference {
                name: reference.name.clone(),
                reason: "a reference needs a non-empty name".into(),
            });
        }
        match self.names.get(&reference.name) {
            Some(bound) if *bound != key => {
                return Err(SchemaError::InvalidReference {
                    name: reference.name.clone(),
                    reason: format!(
                        "the name is bound to both subject '{}' version {} and subject '{}' version {}",
                        bound.0, bound.1, key.0, key.1
                    ),
                });
            }
            _ => {}
        }
        self.names.insert(reference.name.clone(), key.clone());
        if stack.contains(&key) {
            let mut chain: Vec<String> = stack.iter().map(|(s, v)| format!("{s}/{v}")).collect();
            chain.push(format!("{}/{}", key.0, key.1));
            return Err(SchemaError::ReferenceCycle { chain: chain.join(" -> ") });
        }
        if self.done.contains(&key) {
            return Ok(());
        }
        if stack.len() >= self.limits.max_reference_depth {
            return Err(SchemaError::ReferencesTooDeep { max: self.limits.max_reference_depth });
        }
        if self.done.len() >= self.limits.max_references {
            return Err(SchemaError::TooManyReferences { max: self.limits.max_references });
        }
        let schema = self
            .resolver
            .resolve(reference)
            .map_err(|source| SchemaError::ReferenceNotResolved { name: reference.name.clone(), source })?;
        if schema.schema_type != referrer.schema_type {
            return Err(SchemaError::InvalidReference {
                name: reference.name.clone(),
                reason: format!("a {} schema cannot reference a {} schema", referrer.schema_type, schema.schema_type),
            });
        }
        stack.push(key.clone());
        self.visit_all(&schema, stack)?;
        stack.pop();
        self.done.insert(key);
        self.out.push(ResolvedReference { name: reference.name.clone(), schema });
        Ok(())
    }
}
