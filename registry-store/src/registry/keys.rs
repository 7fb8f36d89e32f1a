//! The key registry for client-side field-level encryption, with Confluent's rules (`DekRegistryResource`):
//! KEKs by name, DEKs by (KEK, subject, algorithm, version), soft and permanent deletes, undeletes. Creates are not
//! idempotent: creating a live key again is `KeyExists`, and creating a soft-deleted one again with the same
//! content brings it back. The registry holds no KMS access, so a KEK cannot be `shared` (the registry would have
//! to unwrap DEKs for clients) and every DEK comes with its material encrypted by the client.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use registry_core::{Version, VersionSelector};

use super::Registry;
use crate::RegistryError;
use crate::keys::{Dek, DekAlgorithm, Kek};
use crate::store::{Lock, Result, Snapshot, Transaction, transact};

/// The most KEKs, and the most DEKs, the registry keeps (Confluent's `dek.registry.max.keys`), soft-deleted ones
/// counted.
pub const MAX_KEYS: usize = 20_000;

/// A KEK to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewKek {
    /// Its name.
    pub name: String,
    /// The KMS it is a key of.
    pub kms_type: String,
    /// Its id there.
    pub kms_key_id: String,
    /// Properties for the KMS client.
    pub kms_props: BTreeMap<String, String>,
    /// A description.
    pub doc: Option<String>,
    /// Whether the registry may unwrap DEKs with it: refused here.
    pub shared: bool,
    /// Create it soft-deleted (or, for one that exists soft-deleted, leave it so).
    pub deleted: bool,
}

/// A change to a KEK: per field, `None` keeps it, `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KekUpdate {
    /// New KMS properties (they replace the old ones whole).
    pub kms_props: Option<Option<BTreeMap<String, String>>>,
    /// A new description.
    pub doc: Option<Option<String>>,
    /// Whether it is shared: only `false` is accepted here.
    pub shared: Option<bool>,
}

/// A DEK to create under a KEK.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewDek {
    /// The subject it encrypts fields of.
    pub subject: String,
    /// Its version (default 1).
    pub version: Option<Version>,
    /// Its cipher (default AES256_GCM).
    pub algorithm: Option<DekAlgorithm>,
    /// The key, encrypted by the KEK in the client's KMS.
    pub encrypted_key_material: Option<String>,
    /// Create it soft-deleted.
    pub deleted: bool,
}

impl Registry {
    /// The names of the KEKs, soft-deleted ones too with `deleted`; with `subject_prefixes`, those of the KEKs that
    /// wrap a DEK of a subject starting with one of them (`deleted` then says which DEKs count), as Confluent lists.
    pub fn kek_names(&self, subject_prefixes: &[String], deleted: bool) -> Result<Vec<String>> {
        let snapshot = self.snapshot()?;
        let keks = snapshot.keks()?;
        if subject_prefixes.is_empty() {
            return Ok(keks.into_iter().filter(|k| deleted || !k.deleted).map(|k| k.name).collect());
        }
        let mut names = BTreeSet::new();
        for kek in keks {
            let deks = snapshot.deks(&kek.name, None)?;
            let wraps = deks.iter().any(|dek| {
                (deleted || !dek.deleted) && subject_prefixes.iter().any(|p| dek.subject.starts_with(p.as_str()))
            });
            if wraps {
                names.insert(kek.name);
            }
        }
        Ok(names.into_iter().collect())
    }

    /// The KEK named `name`; a soft-deleted one only with `deleted`.
    pub fn kek(&self, name: &str) -> Result<Kek> {
        self.kek_with(name, false)
    }

    /// [`Registry::kek`], soft-deleted ones included when `deleted`.
    pub fn kek_with(&self, name: &str, deleted: bool) -> Result<Kek> {
        check_kek_name(name)?;
        visible_kek(&*self.snapshot()?, name, deleted)
    }

    /// Creates a KEK. One of that name already, live, or with other content, is `KeyExists`; a soft-deleted one
    /// with the same content is brought back.
    pub fn create_kek(&self, new: NewKek) -> Result<Kek> {
        check_kek_name(&new.name)?;
        if new.kms_key_id.is_empty() {
            return Err(RegistryError::InvalidKey { field: "kmsKeyId", why: None });
        }
        refuse_shared(new.shared)?;
        let kek = Kek {
            name: new.name,
            kms_type: normalize_kms_type(&new.kms_type),
            kms_key_id: new.kms_key_id,
            kms_props: new.kms_props,
            doc: new.doc,
            shared: false,
            ts: now_ms(),
            deleted: new.deleted,
        };
        self.write_keys(|txn| {
            match txn.kek(&kek.name)? {
                Some(old) if old.deleted == kek.deleted || !old.is_equivalent(&kek) => {
                    return Err(RegistryError::KeyExists(kek.name.clone()));
                }
                Some(_) => {}
                None if txn.keks()?.len() >= MAX_KEYS => return Err(RegistryError::TooManyKeys(MAX_KEYS)),
                None => {}
            }
            txn.put_kek(&kek)?;
            Ok(kek.clone())
        })
    }

    /// Changes a live KEK's KMS properties, description or sharing.
    pub fn update_kek(&self, name: &str, update: KekUpdate) -> Result<Kek> {
        check_kek_name(name)?;
        refuse_shared(update.shared.unwrap_or(false))?;
        self.write_keys(|txn| {
            let old = visible_kek(&*txn, name, false)?;
            let mut kek = old.clone();
            if let Some(props) = update.kms_props {
                kek.kms_props = props.unwrap_or_default();
            }
            if let Some(doc) = update.doc {
                kek.doc = doc;
            }
            if kek.is_equivalent(&old) {
                return Ok(old);
            }
            kek.ts = now_ms();
            txn.put_kek(&kek)?;
            Ok(kek)
        })
    }

    /// Deletes a KEK: softly once no live DEK is wrapped with it, permanently once it is soft-deleted and no DEK
    /// is left at all.
    pub fn delete_kek(&self, name: &str, permanent: bool) -> Result<()> {
        check_kek_name(name)?;
        self.write_keys(|txn| {
            let mut kek = visible_kek(&*txn, name, true)?;
            let deks = txn.deks(name, None)?;
            if deks.iter().any(|dek| permanent || !dek.deleted) {
                return Err(RegistryError::KeyReferenced(name.to_string()));
            }
            if permanent {
                if !kek.deleted {
                    return Err(RegistryError::KeyNotSoftDeleted(name.to_string()));
                }
                return txn.remove_kek(name);
            }
            if !kek.deleted {
                kek.deleted = true;
                kek.ts = now_ms();
                txn.put_kek(&kek)?;
            }
            Ok(())
        })
    }

    /// Brings back a soft-deleted KEK (its DEKs stay as they are).
    pub fn undelete_kek(&self, name: &str) -> Result<()> {
        check_kek_name(name)?;
        self.write_keys(|txn| {
            let mut kek = visible_kek(&*txn, name, true)?;
            if kek.deleted {
                kek.deleted = false;
                kek.ts = now_ms();
                txn.put_kek(&kek)?;
            }
            Ok(())
        })
    }

    /// The subjects with a DEK wrapped with `kek` (soft-deleted ones too with `deleted`).
    pub fn dek_subjects(&self, kek: &str, deleted: bool) -> Result<Vec<String>> {
        check_kek_name(kek)?;
        let snapshot = self.snapshot()?;
        visible_kek(&*snapshot, kek, deleted)?;
        let deks = snapshot.deks(kek, None)?;
        let subjects: BTreeSet<String> =
            deks.into_iter().filter(|d| deleted || !d.deleted).map(|d| d.subject).collect();
        Ok(subjects.into_iter().collect())
    }

    /// Creates a DEK under `kek`, with the material the client's KMS encrypted. One at the same (subject,
    /// algorithm, version) already, live, or with other material, is `KeyExists`; a soft-deleted one with the same
    /// material is brought back.
    pub fn create_dek(&self, kek_name: &str, new: NewDek) -> Result<Dek> {
        check_kek_name(kek_name)?;
        check_subject(&new.subject)?;
        let material = new.encrypted_key_material.filter(|m| !m.is_empty());
        let Some(material) = material else {
            return Err(RegistryError::InvalidKey { field: "encryptedKeyMaterial", why: None });
        };
        let dek = Dek {
            kek_name: kek_name.to_string(),
            subject: new.subject,
            version: new.version.unwrap_or(Version::FIRST).get(),
            algorithm: new.algorithm.unwrap_or_default(),
            encrypted_key_material: Some(material),
            ts: now_ms(),
            deleted: new.deleted,
        };
        self.write_keys(|txn| {
            // A DEK goes under a soft-deleted KEK only when it is itself created soft-deleted.
            visible_kek(&*txn, kek_name, dek.deleted)?;
            let same = txn.deks(kek_name, Some(&dek.subject))?;
            let old = same.iter().find(|d| d.algorithm == dek.algorithm && d.version == dek.version);
            match old {
                Some(old) if old.deleted == dek.deleted || !old.is_equivalent(&dek) => {
                    return Err(RegistryError::KeyExists(dek.subject.clone()));
                }
                Some(_) => {}
                None if txn.dek_count()? >= MAX_KEYS as u64 => return Err(RegistryError::TooManyKeys(MAX_KEYS)),
                None => {}
            }
            txn.put_dek(&dek)?;
            Ok(dek.clone())
        })
    }

    /// A DEK of `subject` under `kek`: the version `version` names (`Latest`: the highest visible), of `algorithm`;
    /// soft-deleted ones (and a soft-deleted KEK) only with `deleted`.
    pub fn dek(
        &self,
        kek: &str,
        subject: &str,
        version: VersionSelector,
        algorithm: DekAlgorithm,
        deleted: bool,
    ) -> Result<Dek> {
        check_kek_name(kek)?;
        check_subject(subject)?;
        let snapshot = self.snapshot()?;
        visible_kek(&*snapshot, kek, deleted)?;
        let versions = of_algorithm(snapshot.deks(kek, Some(subject))?, algorithm);
        let mut visible = versions.into_iter().filter(|d| deleted || !d.deleted);
        let found = match version {
            VersionSelector::Latest => visible.next_back(),
            VersionSelector::Number(v) => visible.into_iter().find(|d| d.version == v.get()),
        };
        found.ok_or_else(|| RegistryError::KeyNotFound(subject.to_string()))
    }

    /// The versions of `subject`'s DEKs of `algorithm` under `kek`, ascending (soft-deleted ones with `deleted`).
    pub fn dek_versions(&self, kek: &str, subject: &str, algorithm: DekAlgorithm, deleted: bool) -> Result<Vec<u32>> {
        check_kek_name(kek)?;
        check_subject(subject)?;
        let snapshot = self.snapshot()?;
        visible_kek(&*snapshot, kek, deleted)?;
        let versions = of_algorithm(snapshot.deks(kek, Some(subject))?, algorithm);
        Ok(versions.into_iter().filter(|d| deleted || !d.deleted).map(|d| d.version).collect())
    }

    /// Deletes `subject`'s DEKs of `algorithm` under `kek`: one version, or all (`None`); softly, or permanently
    /// once soft-deleted.
    pub fn delete_deks(
        &self,
        kek: &str,
        subject: &str,
        version: Option<VersionSelector>,
        algorithm: DekAlgorithm,
        permanent: bool,
    ) -> Result<()> {
        check_kek_name(kek)?;
        check_subject(subject)?;
        self.write_keys(|txn| {
            visible_kek(&*txn, kek, true)?;
            let chosen = chosen_deks(&*txn, kek, subject, version, algorithm)?;
            if permanent && chosen.iter().any(|d| !d.deleted) {
                return Err(RegistryError::KeyNotSoftDeleted(subject.to_string()));
            }
            for mut dek in chosen {
                if permanent {
                    txn.remove_dek(&dek)?;
                } else if !dek.deleted {
                    dek.deleted = true;
                    dek.ts = now_ms();
                    txn.put_dek(&dek)?;
                }
            }
            Ok(())
        })
    }

    /// Brings back `subject`'s soft-deleted DEKs of `algorithm` under `kek`: one version, or all (`None`). The KEK
    /// must be live.
    pub fn undelete_deks(
        &self,
        kek: &str,
        subject: &str,
        version: Option<VersionSelector>,
        algorithm: DekAlgorithm,
    ) -> Result<()> {
        check_kek_name(kek)?;
        check_subject(subject)?;
        self.write_keys(|txn| {
            let wrapping = visible_kek(&*txn, kek, true)?;
            let chosen = chosen_deks(&*txn, kek, subject, version, algorithm)?;
            if wrapping.deleted {
                return Err(RegistryError::KekMustBeUndeleted(kek.to_string()));
            }
            for mut dek in chosen.into_iter().filter(|d| d.deleted) {
                dek.deleted = false;
                dek.ts = now_ms();
                txn.put_dek(&dek)?;
            }
            Ok(())
        })
    }

    /// Runs `work` in one write transaction holding the key registry's lock. Keys are not cached: nothing to
    /// tell other instances.
    fn write_keys<T>(&self, work: impl FnOnce(&mut dyn Transaction) -> Result<T>) -> Result<T> {
        transact(&*self.inner.store, &[Lock::Keys], work)
    }
}

/// The KEK named `name` in `snapshot`; a soft-deleted one only with `deleted`.
fn visible_kek(snapshot: &dyn Snapshot, name: &str, deleted: bool) -> Result<Kek> {
    match snapshot.kek(name)? {
        Some(kek) if deleted || !kek.deleted => Ok(kek),
        _ => Err(RegistryError::KeyNotFound(name.to_string())),
    }
}

/// The DEKs a delete or undelete names: one version (soft-deleted or not), or every version of the algorithm.
fn chosen_deks(
    snapshot: &dyn Snapshot,
    kek: &str,
    subject: &str,
    version: Option<VersionSelector>,
    algorithm: DekAlgorithm,
) -> Result<Vec<Dek>> {
    let versions = of_algorithm(snapshot.deks(kek, Some(subject))?, algorithm);
    let chosen: Vec<Dek> = match version {
        None => versions,
        Some(VersionSelector::Latest) => versions.into_iter().next_back().into_iter().collect(),
        Some(VersionSelector::Number(v)) => versions.into_iter().filter(|d| d.version == v.get()).collect(),
    };
    if chosen.is_empty() {
        return Err(RegistryError::KeyNotFound(subject.to_string()));
    }
    Ok(chosen)
}

/// The DEKs of `algorithm` among `deks`, by ascending version.
fn of_algorithm(deks: Vec<Dek>, algorithm: DekAlgorithm) -> Vec<Dek> {
    let mut deks: Vec<Dek> = deks.into_iter().filter(|d| d.algorithm == algorithm).collect();
    deks.sort_by_key(|d| d.version);
    deks
}

/// Confluent's KEK names: a letter or `_`, then letters, digits, `_` or `-`, 256 characters at most.
fn check_kek_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = name.chars().count() <= 256
        && chars.next().is_some_and(|first| first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if valid { Ok(()) } else { Err(RegistryError::InvalidKey { field: "name", why: None }) }
}

/// A DEK's subject: not empty, no control characters.
fn check_subject(subject: &str) -> Result<()> {
    if subject.is_empty() || subject.chars().any(char::is_control) {
        return Err(RegistryError::InvalidKey { field: "subject", why: None });
    }
    Ok(())
}

/// A shared KEK would have the registry unwrap DEKs for clients, which takes KMS access it never holds.
fn refuse_shared(shared: bool) -> Result<()> {
    if shared {
        let why = "this registry holds no KMS access, so it cannot unwrap keys for clients: create the KEK with \
                   shared false, and let clients wrap and unwrap DEKs with their KMS";
        return Err(RegistryError::InvalidKey { field: "shared", why: Some(why) });
    }
    Ok(())
}

/// Confluent's normalization of a KMS type: `aws...`, `azure...` and `gcp...` in any case are `aws-kms`,
/// `azure-kms` and `gcp-kms`; any other is kept as given.
fn normalize_kms_type(kms_type: &str) -> String {
    let lower = kms_type.to_ascii_lowercase();
    ["aws", "azure", "gcp"]
        .into_iter()
        .find(|prefix| lower.starts_with(prefix))
        .map_or_else(|| kms_type.to_string(), |prefix| format!("{prefix}-kms"))
}

/// Milliseconds since the epoch, now.
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
