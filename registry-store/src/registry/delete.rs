//! Deletes, of one version or a whole subject, soft first and then permanent, under one shared rule: a version
//! another schema references is never deleted.

use registry_core::{SchemaId, Subject, Version, VersionSelector};

use super::audit::{self, AuditAction, Event};
use super::config::{admit_write, effective_in};
use super::{Deletion, Registry};
use crate::RegistryError;
use crate::cache::{Change, Touched};
use crate::codec::VersionRecord;
use crate::store::{Lock, Result, Snapshot, Transaction};

impl Registry {
    /// Deletes one version: soft first, then permanently. Returns the version deleted.
    pub fn delete_version(&self, subject: &Subject, selector: VersionSelector, how: Deletion) -> Result<Version> {
        self.write(&[Lock::Subject(subject)], |txn| {
            admit_write(subject, effective_in(&*txn, subject)?.mode)?;
            let versions = txn.subject_versions(subject)?;
            if versions.is_empty() {
                return Err(RegistryError::SubjectNotFound(subject.clone()));
            }
            let found = match (selector, how) {
                (VersionSelector::Latest, Deletion::Soft) => versions.iter().rev().find(|(_, r)| !r.deleted),
                (VersionSelector::Latest, Deletion::Permanent) => versions.last(),
                (VersionSelector::Number(v), _) => versions.iter().find(|(version, _)| *version == v),
            };
            let Some(&(version, record)) = found else {
                return Err(match selector {
                    VersionSelector::Number(version) => {
                        RegistryError::VersionNotFound { subject: subject.clone(), version }
                    }
                    VersionSelector::Latest => RegistryError::SubjectNotFound(subject.clone()),
                });
            };
            refuse_if_referenced(&*txn, subject, [version], how, false)?;
            match how {
                Deletion::Soft if record.deleted => {
                    Err(RegistryError::VersionSoftDeleted { subject: subject.clone(), version })
                }
                Deletion::Permanent if !record.deleted => {
                    Err(RegistryError::VersionNotSoftDeleted { subject: subject.clone(), version })
                }
                _ => {
                    let event = Event::new(AuditAction::DeleteVersion).subject(subject.as_str()).version(version);
                    let event = event.id(&*txn, record.id)?.detail(how.as_str());
                    audit::append(txn, self.actor(), event)?;
                    let touched = vec![delete_one(txn, subject, version, record, how)?];
                    Ok((version, Change::Deleted { subject: subject.clone(), touched, settings_gone: false }))
                }
            }
        })
    }

    /// Deletes every version of a subject: soft first, then permanently (which also drops its config and
    /// mode). Returns the versions deleted.
    pub fn delete_subject(&self, subject: &Subject, how: Deletion) -> Result<Vec<Version>> {
        self.write(&[Lock::Subject(subject)], |txn| {
            admit_write(subject, effective_in(&*txn, subject)?.mode)?;
            let versions = txn.subject_versions(subject)?;
            if versions.is_empty() {
                return Err(RegistryError::SubjectNotFound(subject.clone()));
            }
            let any_live = versions.iter().any(|(_, r)| !r.deleted);
            match how {
                Deletion::Soft if !any_live => return Err(RegistryError::SubjectSoftDeleted(subject.clone())),
                Deletion::Permanent if any_live => return Err(RegistryError::SubjectNotSoftDeleted(subject.clone())),
                _ => {}
            }
            refuse_if_referenced(&*txn, subject, versions.iter().map(|(version, _)| *version), how, true)?;
            let mut deleted = Vec::new();
            let mut touched = Vec::new();
            // A soft delete leaves the versions already soft-deleted as they are.
            for (version, record) in versions.into_iter().filter(|(_, r)| how == Deletion::Permanent || !r.deleted) {
                touched.push(delete_one(txn, subject, version, record, how)?);
                deleted.push(version);
            }
            let event = Event::new(AuditAction::DeleteSubject).subject(subject.as_str()).detail(how.as_str());
            audit::append(txn, self.actor(), event)?;
            let settings_gone = how == Deletion::Permanent;
            if settings_gone {
                txn.put_config(subject.as_str(), Default::default())?;
            }
            Ok((deleted, Change::Deleted { subject: subject.clone(), touched, settings_gone }))
        })
    }
}

/// The rule both deletes share, in Confluent's terms: no version is soft-deleted while a live version references
/// it, nor deleted for good while any version (soft-deleted too) does; a subject deleted whole takes its own
/// references to itself with it (`whole`).
pub(super) fn refuse_if_referenced(
    snapshot: &dyn Snapshot,
    subject: &Subject,
    versions: impl IntoIterator<Item = Version>,
    how: Deletion,
    whole: bool,
) -> Result<()> {
    for version in versions {
        let mut referrers = Vec::new();
        for id in snapshot.referrers(subject, version)? {
            let mut holds = false;
            for (user, used) in snapshot.uses(id)? {
                if whole && user == *subject {
                    continue;
                }
                holds |= match how {
                    Deletion::Permanent => true,
                    Deletion::Soft => snapshot.version(&user, used)?.is_some_and(|record| !record.deleted),
                };
            }
            if holds {
                referrers.push(id);
            }
        }
        if !referrers.is_empty() {
            // Each as its own context names it.
            let referrers =
                referrers.iter().map(|id| super::contexts::public_id(snapshot, *id)).collect::<Result<_>>()?;
            return Err(RegistryError::ReferenceExists { subject: subject.clone(), version, referrers });
        }
    }
    Ok(())
}

/// Deletes one version, soft (flagged) or permanently (removed, with its use of its id).
pub(super) fn delete_one(
    txn: &mut dyn Transaction,
    subject: &Subject,
    version: Version,
    record: VersionRecord,
    how: Deletion,
) -> Result<Touched> {
    let orphaned = match how {
        Deletion::Soft => {
            txn.put_version(subject, version, VersionRecord { deleted: true, ..record })?;
            false
        }
        Deletion::Permanent => {
            txn.remove_version(subject, version)?;
            drop_use(txn, record.id, subject, version)?
        }
    };
    Ok(Touched { id: record.id, fingerprint: txn.fingerprint_of(record.id)?, orphaned })
}

/// Drops one use of `id`; when none is left, drops its record and the references it holds. Returns whether it is
/// orphaned.
fn drop_use(txn: &mut dyn Transaction, id: SchemaId, subject: &Subject, version: Version) -> Result<bool> {
    txn.remove_use(id, subject, version)?;
    // Held before the uses are counted: a registration reusing the record either committed its use first, and is
    // counted, or waits for this transaction and finds the record gone.
    let exists = txn.hold_schema(id)?;
    if !txn.uses(id)?.is_empty() {
        return Ok(false);
    }
    if exists && let Some(stored) = txn.schema(id)? {
        // The subject's context is its schemas': their references name subjects from there.
        for reference in &stored.references {
            txn.remove_referrer(&super::contexts::referenced(subject, reference), id)?;
        }
    }
    // The record goes; the id stays bound to its fingerprint, so it is never reused.
    txn.remove_schema(id)?;
    Ok(true)
}
