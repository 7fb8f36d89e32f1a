//! Copying a whole registry into another store, with everything that makes it the same registry: ids (those of
//! permanently deleted schemas too, so none is ever reused), versions and their semantic versions, soft deletes,
//! references, and every subject's and the global settings.

use std::collections::BTreeSet;
use std::path::Path;

use registry_core::{SchemaId, Subject, Version};

use super::Registry;
use crate::RegistryError;
use crate::cache::Change;
use crate::codec::VersionRecord;
use crate::store::{Lock, Result};

/// What a copy wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Copied {
    /// Subject versions, live and soft-deleted.
    pub versions: u64,
    /// Schema records (ids some version uses).
    pub schemas: u64,
    /// Ids bound to a schema, including those whose versions were all deleted permanently.
    pub ids: u64,
    /// Scopes with settings (the global one and subjects).
    pub settings: u64,
    /// KEKs and DEKs of the key registry.
    pub keys: u64,
}

impl Registry {
    /// Writes a backup of this registry, as of one snapshot, to a new redb file at `path`: a registry that
    /// [`Registry::open`] (or the server's `--store`) starts on. The file appears whole or not at all: it is
    /// written beside `path` under another name, synced, and renamed. An existing file is refused.
    pub fn backup_to(&self, path: &Path) -> Result<Copied> {
        if path.exists() {
            return Err(RegistryError::InvalidStore(format!(
                "{} exists already: back up to a new file",
                path.display()
            )));
        }
        let mut partial = path.as_os_str().to_owned();
        partial.push(format!(".partial-{}", std::process::id()));
        let partial = std::path::PathBuf::from(partial);
        let _ = std::fs::remove_file(&partial);
        let written = (|| {
            let target = Registry::open(&partial, super::RegistryOptions::default())?;
            let copied = self.copy_into(&target, false)?;
            // Dropping the only handle closes the file; the commit synced it already.
            drop(target);
            std::fs::rename(&partial, path)
                .and_then(|()| sync_parent(path))
                .map_err(|e| RegistryError::InvalidStore(format!("cannot write {}: {e}", path.display())))?;
            Ok(copied)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        written
    }

    /// Copies everything this registry holds into `target`, in one transaction of the target's store, as of one
    /// snapshot of this one. A target that already holds anything is refused with
    /// [`RegistryError::TargetNotEmpty`] unless `force`; even then an id or version the target binds differently is
    /// refused, and nothing is written.
    pub fn copy_into(&self, target: &Registry, force: bool) -> Result<Copied> {
        let source = self.snapshot()?;
        let bindings = source.bindings()?;
        let settings = source.configs()?;
        let mut versions: Vec<(Subject, Version, VersionRecord)> = Vec::new();
        source.scan_versions("", &mut |(name, version, record)| {
            let subject = Subject::new(name).map_err(|e| RegistryError::Corrupt(e.to_string()))?;
            let version = Version::new(version).map_err(|e| RegistryError::Corrupt(e.to_string()))?;
            versions.push((subject, version, record));
            Ok(true)
        })?;
        let used: BTreeSet<SchemaId> = versions.iter().map(|(_, _, record)| record.id).collect();
        let mut schemas = Vec::with_capacity(used.len());
        for id in &used {
            schemas.push(source.schema(*id)?.ok_or_else(|| {
                RegistryError::Corrupt(format!("a version refers to schema id {id}, which is not stored"))
            })?);
        }
        // The ids of the other contexts than the default one, as the source names them, and its contexts.
        let mut context_ids = std::collections::BTreeMap::new();
        for (id, _) in bindings.iter().filter(|(id, _)| id.0 >= crate::store::FIRST_CONTEXT_ID) {
            let named = source.id_context(*id)?;
            let named = named.ok_or_else(|| RegistryError::Corrupt(format!("stored id {id} has no context")))?;
            context_ids.insert(*id, named);
        }
        let contexts = source.contexts()?;
        // The audit log, entry by entry as stored, so that its chain still verifies in the copy.
        let mut audit: Vec<(u64, Vec<u8>)> = Vec::new();
        loop {
            let from = audit.last().map_or(1, |(seq, _)| *seq + 1);
            let page = source.audit_entries(from, super::MAX_AUDIT_PAGE)?;
            if page.is_empty() {
                break;
            }
            audit.extend(page);
        }
        let keks = source.keks()?;
        let mut deks = Vec::new();
        for kek in &keks {
            deks.extend(source.deks(&kek.name, None)?);
        }
        drop(source);

        let copied = Copied {
            versions: versions.len() as u64,
            schemas: schemas.len() as u64,
            ids: bindings.len() as u64,
            settings: settings.len() as u64,
            keys: (keks.len() + deks.len()) as u64,
        };
        target.write(&[Lock::Global], |txn| {
            if !force {
                let mut any = !txn.bindings()?.is_empty() || !txn.configs()?.is_empty() || !txn.keks()?.is_empty();
                txn.scan_versions("", &mut |_| {
                    any = true;
                    Ok(false)
                })?;
                if any {
                    return Err(RegistryError::TargetNotEmpty);
                }
            }
            for (id, fingerprint) in &bindings {
                match (txn.fingerprint_of(*id)?, txn.id_of(fingerprint)?) {
                    (Some(bound), _) if bound != *fingerprint => return Err(RegistryError::IdTaken(*id)),
                    (_, Some(known)) if known != *id => {
                        return Err(RegistryError::IdMismatch { given: *id, known });
                    }
                    _ => {}
                }
                txn.bind(fingerprint, *id)?;
                match context_ids.get(id) {
                    Some((context, in_context)) => txn.map_context_id(context, *in_context, *id)?,
                    None => txn.reserve_id(*id)?,
                }
            }
            for context in &contexts {
                txn.add_context(context)?;
            }
            for schema in &schemas {
                txn.put_schema(schema)?;
                let context = context_ids.get(&schema.id).map_or(registry_core::DEFAULT_CONTEXT, |(c, _)| c.as_str());
                for reference in &schema.references {
                    let named = registry_core::reference_target(context, &reference.subject);
                    txn.add_referrer(
                        &registry_core::SchemaReference { subject: named, ..reference.clone() },
                        schema.id,
                    )?;
                }
            }
            for (subject, version, record) in &versions {
                if txn.version(subject, *version)?.is_some_and(|existing| existing.id != record.id) {
                    return Err(RegistryError::VersionExists { subject: subject.clone(), version: *version });
                }
                txn.put_version(subject, *version, *record)?;
                txn.add_use(record.id, subject, *version)?;
            }
            for (scope, record) in &settings {
                txn.put_config(scope, record.clone())?;
            }
            for kek in &keks {
                txn.put_kek(kek)?;
            }
            for dek in &deks {
                txn.put_dek(dek)?;
            }
            // A target with a log of its own keeps it (a forced copy over it): the source's would not chain on.
            if txn.audit_head()?.is_none() {
                txn.hold_audit()?;
                for (seq, entry) in &audit {
                    txn.append_audit(*seq, entry)?;
                }
            }
            // Whatever the target's instances had cached about it is stale now.
            Ok((copied, Change::Unknown))
        })
    }
}

/// Makes a rename in `path`'s directory durable.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => std::fs::File::open(".")?.sync_all(),
    }
}
