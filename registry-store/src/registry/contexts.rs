//! Schema contexts: namespaces of subjects (`:.ctx:name`), each with ids of its own. The default context `.` is
//! the registry as it always was; every other context's ids name stored ids of their own
//! ([`crate::store::FIRST_CONTEXT_ID`]), and the ids of a schema in its answers are the context's.

use registry_core::{DEFAULT_CONTEXT, SchemaId, SchemaReference, Subject, qualify};

use super::audit::{self, AuditAction, Event};
use super::{Deleted, Registry};
use crate::RegistryError;
use crate::cache::Change;
use crate::records::SubjectVersion;
use crate::store::{FIRST_CONTEXT_ID, Lock, Result, Snapshot};

impl Registry {
    /// Every context: the default one (`.`) first, then the others by name, each listed from its first
    /// registration until it is deleted.
    pub fn contexts(&self) -> Result<Vec<String>> {
        let mut contexts = vec![DEFAULT_CONTEXT.to_string()];
        contexts.extend(self.snapshot()?.contexts()?);
        Ok(contexts)
    }

    /// Lists `context` no more. Refused (`ContextNotEmpty`) while any of its subjects has a version, soft-deleted
    /// ones included; the default context is never deleted. Its ids stay bound, never handed out again.
    pub fn delete_context(&self, context: &str) -> Result<()> {
        if context == DEFAULT_CONTEXT {
            return Err(RegistryError::ContextNotEmpty(DEFAULT_CONTEXT.to_string()));
        }
        let prefix = qualify(context, "");
        self.write(&[Lock::Global], |txn| {
            let mut any = false;
            txn.scan_versions(&prefix, &mut |_| {
                any = true;
                Ok(false)
            })?;
            if any {
                return Err(RegistryError::ContextNotEmpty(context.to_string()));
            }
            txn.remove_context(context)?;
            audit::append(txn, self.actor(), Event::new(AuditAction::DeleteContext).subject(&prefix))?;
            Ok(((), Change::Config { scope: prefix.clone() }))
        })
    }

    /// The stored id that id `id` of `context` names: itself in the default context; `None` where it names
    /// nothing.
    pub fn id_in_context(&self, context: &str, id: u32) -> Result<Option<SchemaId>> {
        if context == DEFAULT_CONTEXT {
            return Ok((id < FIRST_CONTEXT_ID).then_some(SchemaId(id)));
        }
        self.snapshot()?.context_id(context, id)
    }

    /// The stored id that id `id` names to a client that read it under `subject` (Confluent's rule for
    /// `GET /schemas/ids/{id}?subject=`): without a subject, the default context's; with a context alone
    /// (`:.ctx:`), that context's; with a qualified subject, the id as that subject holds it, else nothing; with a
    /// plain one, as it holds it, else as the first context (by name) whose subject of that name holds it, else
    /// the default context's. `None` when it names nothing there.
    pub fn resolve_id(&self, id: u32, subject: Option<&str>) -> Result<Option<SchemaId>> {
        let Some(subject) = subject else { return self.id_in_context(DEFAULT_CONTEXT, id) };
        let (context, name) = registry_core::split_qualified(subject);
        if name.is_empty() {
            return self.id_in_context(context, id);
        }
        let snapshot = self.snapshot()?;
        let held_by = |context: &str| -> Result<Option<SchemaId>> {
            let stored = match context {
                DEFAULT_CONTEXT => (id < FIRST_CONTEXT_ID).then_some(SchemaId(id)),
                _ => snapshot.context_id(context, id)?,
            };
            let Some(stored) = stored else { return Ok(None) };
            let holder = qualify(context, name);
            Ok(snapshot.uses(stored)?.iter().any(|(s, _)| s.as_str() == holder).then_some(stored))
        };
        if let Some(found) = held_by(context)? {
            return Ok(Some(found));
        }
        if context != DEFAULT_CONTEXT {
            return Ok(None);
        }
        for other in snapshot.contexts()? {
            if let Some(found) = held_by(&other)? {
                return Ok(Some(found));
            }
        }
        drop(snapshot);
        self.id_in_context(DEFAULT_CONTEXT, id)
    }

    /// The version holding stored id `id` that a reader's subject hint names ([`Registry::resolve_id`]): the
    /// subject of the hint's name, else any version holding it (a hint that names a context alone).
    pub fn version_holding(&self, id: SchemaId, subject: &str) -> Result<Option<SubjectVersion>> {
        let name = registry_core::split_qualified(subject).1;
        let uses = self.versions_for_id(id, Deleted::Include)?;
        let named = uses.iter().position(|u| !name.is_empty() && u.subject.name_in_context() == name);
        Ok(named.or((!uses.is_empty()).then_some(0)).map(|at| uses[at].clone()))
    }

    /// `read` of `subject`, and where a plain subject has no versions, of the subject of that name in each other
    /// context in turn, the first that has one answering (Confluent's reads by subject and version, and its
    /// lookups: a client that does not know a subject's context still finds it). A qualified subject is read
    /// where it says.
    pub fn in_any_context<T>(&self, subject: &Subject, read: impl Fn(&Subject) -> Result<T>) -> Result<T> {
        match read(subject) {
            Err(RegistryError::SubjectNotFound(_)) if subject.context() == DEFAULT_CONTEXT => {
                for context in self.snapshot()?.contexts()? {
                    let Ok(qualified) = Subject::new(&qualify(&context, subject.as_str())) else { continue };
                    match read(&qualified) {
                        Err(RegistryError::SubjectNotFound(_)) => continue,
                        found => return found,
                    }
                }
                Err(RegistryError::SubjectNotFound(subject.clone()))
            }
            found => found,
        }
    }

    /// The largest id given out or imported in `context` (Confluent's `maxId`).
    pub fn max_id_in(&self, context: &str) -> Result<u32> {
        let snapshot = self.snapshot()?;
        if context == DEFAULT_CONTEXT { snapshot.max_id() } else { snapshot.context_max_id(context) }
    }

    /// A stored id as its context names it: (`.`, itself) in the default context, else (the context, its id
    /// there).
    pub fn context_id_of(&self, id: SchemaId) -> Result<(String, SchemaId)> {
        if id.0 < FIRST_CONTEXT_ID {
            return Ok((DEFAULT_CONTEXT.to_string(), id));
        }
        let found = self.snapshot()?.id_context(id)?;
        found.map(|(context, id)| (context, SchemaId(id))).ok_or(RegistryError::SchemaNotFound(id))
    }

    /// The id a stored id has in its own context (the number a client sees).
    pub fn public_id(&self, id: SchemaId) -> Result<SchemaId> {
        Ok(self.context_id_of(id)?.1)
    }
}

/// The id a stored id has in its own context, as a snapshot or transaction sees it.
pub(super) fn public_id(snapshot: &dyn Snapshot, id: SchemaId) -> Result<SchemaId> {
    if id.0 < FIRST_CONTEXT_ID {
        return Ok(id);
    }
    Ok(snapshot.id_context(id)?.map_or(id, |(_, id)| SchemaId(id)))
}

/// `reference`, made by a schema of `subject`, with the subject it names written out
/// ([`Subject::referenced`]): what the referrer index and the checks of a registration key on.
pub(super) fn referenced(subject: &Subject, reference: &SchemaReference) -> SchemaReference {
    SchemaReference { subject: subject.referenced(&reference.subject), ..reference.clone() }
}
