//! Checking a whole registry, as of one snapshot: every record decodes, every schema's fingerprint is that of
//! its canonical form, every id is bound both ways, every version's schema and index entries exist (the GUID
//! index's included), and every reference resolves. What is wrong is reported, not repaired.

use std::collections::{BTreeMap, BTreeSet};

use registry_core::{SchemaId, Subject, Version};

use super::Registry;
use crate::RegistryError;
use crate::store::{Resolver, Result, Snapshot};

/// What a check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Subjects with at least one version (live or soft-deleted).
    pub subjects: u64,
    /// Subject versions, live and soft-deleted.
    pub versions: u64,
    /// Schema records: ids some version uses.
    pub schemas: u64,
    /// Ids ever bound, including those whose versions were all deleted permanently.
    pub ids: u64,
    /// Subjects whose version numbers have gaps. Permanent deletes leave them, so they are not problems; they
    /// are counted to tell a reader what to expect.
    pub subjects_with_gaps: u64,
    /// Entries of the audit log (all of them, when its chain holds).
    pub audit_entries: u64,
    /// What is wrong, a line each; empty when the registry is sound.
    pub problems: Vec<String>,
}

impl CheckReport {
    /// Whether nothing is wrong.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Keeps checking past a record that cannot be read: a corrupt record is a problem to report; a store that fails
/// stops the check.
fn problem_or_stop<T>(
    problems: &mut Vec<String>,
    what: impl FnOnce() -> String,
    outcome: Result<T>,
) -> Result<Option<T>> {
    match outcome {
        Ok(value) => Ok(Some(value)),
        Err(e @ (RegistryError::Corrupt(_) | RegistryError::UnsupportedFormat { .. })) => {
            problems.push(format!("{}: {e}", what()));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

impl Registry {
    /// Checks the whole registry as of one snapshot and reports every problem found. An error is returned only
    /// when the store cannot be read at all; a record that cannot be decoded is a problem in the report.
    pub fn check(&self) -> Result<CheckReport> {
        let snapshot = self.snapshot()?;
        let snapshot: &dyn Snapshot = &*snapshot;
        let mut report = CheckReport::default();
        let problems = &mut report.problems;

        let bindings = problem_or_stop(problems, || "the id bindings".into(), snapshot.bindings())?.unwrap_or_default();
        report.ids = bindings.len() as u64;
        for (id, fingerprint) in &bindings {
            match snapshot.id_of(fingerprint) {
                Ok(Some(back)) if back == *id => {}
                Ok(Some(back)) => problems.push(format!("id {id}: its fingerprint is bound back to id {back}")),
                Ok(None) => problems.push(format!("id {id}: its fingerprint is not bound back to it")),
                Err(e) => drop(problem_or_stop::<()>(problems, || format!("id {id}'s fingerprint"), Err(e))?),
            }
        }

        let mut rows: Vec<(String, u32, SchemaId)> = Vec::new();
        let scanned = snapshot.scan_versions("", &mut |(subject, version, record)| {
            rows.push((subject.to_string(), version, record.id));
            Ok(true)
        });
        problem_or_stop(problems, || format!("the versions table, after {} versions", rows.len()), scanned)?;
        report.versions = rows.len() as u64;
        let bindings: BTreeMap<SchemaId, _> = bindings.into_iter().collect();
        let mut used = BTreeSet::new();
        let mut gapped = BTreeSet::new();
        let mut previous: Option<(&str, u32)> = None;
        for (name, version, id) in &rows {
            let expected = match previous {
                Some((last, number)) if last == name => number + 1,
                _ => {
                    report.subjects += 1;
                    1
                }
            };
            if *version != expected {
                gapped.insert(name.as_str());
            }
            previous = Some((name, *version));
            used.insert(*id);
            let (Ok(subject), Ok(number)) = (Subject::new(name), Version::new(*version)) else {
                problems.push(format!("subject {name:?} version {version}: not a valid subject name or version"));
                continue;
            };
            let uses = problem_or_stop(problems, || format!("the uses of id {id}"), snapshot.uses(*id))?;
            if uses.is_some_and(|uses| !uses.contains(&(subject.clone(), number))) {
                problems.push(format!("{name} version {version}: the index of where id {id} is used misses it"));
            }
            if !bindings.contains_key(id) {
                problems.push(format!("{name} version {version}: its id {id} is not bound to any schema"));
            }
        }
        report.subjects_with_gaps = gapped.len() as u64;

        report.schemas = used.len() as u64;
        let limits = &self.inner.shared.options.limits;
        for id in &used {
            let Some(stored) = problem_or_stop(problems, || format!("schema id {id}"), snapshot.schema(*id))? else {
                continue;
            };
            let Some(stored) = stored else {
                problems.push(format!("schema id {id}: used by a version but not stored"));
                continue;
            };
            if stored.id != *id {
                problems.push(format!("schema id {id}: its record says id {}", stored.id));
            }
            let guid = stored.guid();
            let indexed = problem_or_stop(problems, || format!("the ids of GUID {guid}"), snapshot.ids_by_guid(&guid))?;
            if indexed.is_some_and(|ids| !ids.contains(id)) {
                problems.push(format!("schema id {id}: the GUID index misses it ({guid})"));
            }
            match bindings.get(id) {
                Some(fingerprint) if *fingerprint != stored.fingerprint => {
                    problems
                        .push(format!("schema id {id}: its record's fingerprint is not the one its id is bound to"));
                }
                _ => {}
            }
            // A schema of another context than the default one resolves its references, and has its identity, there.
            let context = match id.0 {
                n if n < crate::store::FIRST_CONTEXT_ID => registry_core::DEFAULT_CONTEXT.to_string(),
                _ => match problem_or_stop(problems, || format!("the context of id {id}"), snapshot.id_context(*id))? {
                    Some(Some((context, _))) => context,
                    Some(None) => {
                        problems.push(format!("schema id {id}: its context is not recorded"));
                        continue;
                    }
                    None => continue,
                },
            };
            let referrer = Subject::new(&registry_core::qualify(&context, "_"))
                .map_err(|e| RegistryError::Corrupt(format!("context {context}: {e}")))?;
            let resolver = Resolver::in_context(snapshot, &context);
            let parse = |normalize: bool| {
                let unparsed = stored.to_unparsed().normalized(normalize);
                let parsed = resolver.outcome(registry_core::parse_stored(&unparsed, &resolver, limits));
                parsed.map(|parsed| parsed.in_context(&context))
            };
            match stored.read_as_registered(parse) {
                Ok(parsed) if parsed.fingerprint() != stored.fingerprint => {
                    // A schema whose identity another id took when texts became canonical keeps its old one.
                    let merged = snapshot.id_of(&parsed.fingerprint())?.is_some_and(|other| other != *id);
                    if !merged {
                        problems.push(format!(
                            "schema id {id}: its fingerprint is not that of its canonical form (the text or its \
                             references changed)"
                        ));
                    }
                }
                Ok(_) => {}
                Err(RegistryError::Storage(e)) => return Err(e.into()),
                Err(e) => problems.push(format!("schema id {id}: does not parse: {e}")),
            }
            for reference in &stored.references {
                let (subject, version) = (&referrer.referenced(&reference.subject), reference.version);
                let found = problem_or_stop(
                    problems,
                    || format!("{subject} version {version}"),
                    snapshot.version(subject, version),
                )?;
                if found.is_some_and(|record| record.is_none()) {
                    problems
                        .push(format!("schema id {id}: its reference to {subject} version {version} does not resolve"));
                    continue;
                }
                let referrers = problem_or_stop(
                    problems,
                    || format!("the referrers of {subject} version {version}"),
                    snapshot.referrers(subject, version),
                )?;
                if referrers.is_some_and(|referrers| !referrers.contains(id)) {
                    problems.push(format!(
                        "schema id {id}: the index of who references {subject} version {version} misses it"
                    ));
                }
            }
        }
        match self.verify_audit()? {
            super::AuditVerdict::Intact(entries) => report.audit_entries = entries,
            super::AuditVerdict::Broken { seq, reason } => {
                report.audit_entries = seq.saturating_sub(1);
                report.problems.push(format!("audit entry {seq}: {reason}"));
            }
        }
        Ok(report)
    }
}
