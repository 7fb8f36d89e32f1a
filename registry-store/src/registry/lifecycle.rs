//! Lifecycle states of versions: DRAFT, ACTIVE, DEPRECATED, ARCHIVED, and the moves between them
//! ([`VersionState::allowed_next`]). Archiving is a soft delete (Confluent's clients see the version deleted) and
//! restoring undoes it; activating a draft checks it as a registration would be checked, against what is current
//! when it is activated.

use registry_core::{Subject, VersionSelector};

use super::audit::{self, AuditAction, Event};
use super::config::{admit_write, in_force};
use super::delete::{delete_one, refuse_if_referenced};
use super::{Deletion, Registry};
use crate::RegistryError;
use crate::cache::Change;
use crate::codec::VersionRecord;
use crate::records::{SchemaVersion, VersionState};
use crate::store::{Lock, Result};

impl Registry {
    /// Moves version `selector` of `subject` to lifecycle state `to` and answers it as it is after. A move
    /// [`VersionState::allowed_next`] does not name is `StateTransition`; a move to the state it is in changes
    /// nothing. To ARCHIVED it is soft-deleted (refused while a live version references it); from ARCHIVED it is
    /// restored; a DRAFT made ACTIVE must be compatible with the subject's current versions at its level.
    pub fn set_state(&self, subject: &Subject, selector: VersionSelector, to: VersionState) -> Result<SchemaVersion> {
        let version = self.version(subject, selector, super::Deleted::Include)?.version;
        // Parsed outside the transaction (an id's parse never changes), for the check a draft's activation makes.
        let record = self.snapshot()?.version(subject, version)?;
        let parsed = match record {
            Some(record) if record.state == VersionState::Draft && to == VersionState::Active => {
                Some(self.parsed_by_id(record.id)?)
            }
            _ => None,
        };
        let shared = &self.inner.shared;
        self.write(&[Lock::Subject(subject)], |txn| {
            let (effective, settings) = in_force(&*txn, subject)?;
            admit_write(subject, effective.mode)?;
            let versions = txn.subject_versions(subject)?;
            let Some(&(_, record)) = versions.iter().find(|(v, _)| *v == version) else {
                return Err(RegistryError::VersionNotFound { subject: subject.clone(), version });
            };
            let from = record.effective_state();
            if from == to {
                return Ok(((), Change::Registered { subject: subject.clone() }));
            }
            if !from.allowed_next().contains(&to) {
                let allowed = from.allowed_next().to_vec();
                return Err(RegistryError::StateTransition { subject: subject.clone(), version, from, to, allowed });
            }
            let change = match (from, to) {
                (_, VersionState::Archived) => {
                    refuse_if_referenced(&*txn, subject, [version], Deletion::Soft, false)?;
                    let touched = vec![delete_one(txn, subject, version, record, Deletion::Soft)?];
                    Change::Deleted { subject: subject.clone(), touched, settings_gone: false }
                }
                // A draft (archived or not) made active: checked as its registration would be now.
                (_, VersionState::Active) if record.state == VersionState::Draft => {
                    let parsed = parsed
                        .as_ref()
                        .ok_or_else(|| RegistryError::VersionNotFound { subject: subject.clone(), version })?;
                    let live = super::register::live_versions(&versions);
                    let judging = super::compat::Judging::of(&settings);
                    let report = shared.judge(parsed, effective.level, &judging, &live, &*txn, false)?;
                    if !report.is_compatible() {
                        return Err(RegistryError::Incompatible { subject: subject.clone(), report });
                    }
                    txn.put_version(subject, version, VersionRecord { deleted: false, state: to, ..record })?;
                    Change::Registered { subject: subject.clone() }
                }
                (_, to) => {
                    txn.put_version(subject, version, VersionRecord { deleted: false, state: to, ..record })?;
                    Change::Registered { subject: subject.clone() }
                }
            };
            let event = Event::new(AuditAction::State).subject(subject.as_str()).version(version);
            let event = event.id(&*txn, record.id)?.detail(format!("{from} -> {to}"));
            audit::append(txn, self.actor(), event)?;
            Ok(((), change))
        })?;
        self.version(subject, VersionSelector::Number(version), super::Deleted::Include)
    }
}
