//! Compatibility levels and modes, per subject and global, and the two rules every operation shares: what
//! applies to a subject (its own setting, else the global one, else the default) and what a mode admits.

use registry_core::compat::CompatibilityLevel;
use registry_core::{DEFAULT_CONTEXT, GLOBAL_CONTEXT, Subject, qualify};

use super::audit::{self, AuditAction, Event};
use super::options::GLOBAL_SCOPE;
use super::{RegisterOptions, Registry, Scope};
use crate::RegistryError;
use crate::cache::Change;
use crate::codec::ConfigRecord;
use crate::records::{Mode, ScopeConfig, ScopeSettings, SettingsPatch};
use crate::store::{Lock, Result, Snapshot};

/// The settings that apply to a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Effective {
    /// Its compatibility level.
    pub level: CompatibilityLevel,
    /// Its mode.
    pub mode: Mode,
}

/// The rule: a subject's own setting, else the global one, else the default (BACKWARD, READWRITE); a global
/// READONLY_OVERRIDE is every subject's mode.
fn resolve(own: &ConfigRecord, global: &ConfigRecord) -> Effective {
    let mode = match global.mode {
        Some(Mode::ReadonlyOverride) => Mode::ReadonlyOverride,
        global_mode => own.mode.or(global_mode).unwrap_or_default(),
    };
    Effective { level: own.compatibility.or(global.compatibility).unwrap_or_default(), mode }
}

/// The scope a subject's settings fall back to first: its context's (`:.ctx:`), the top level for the default
/// context's subjects.
pub(super) fn context_scope(subject: &Subject) -> String {
    match subject.context() {
        DEFAULT_CONTEXT => GLOBAL_SCOPE.to_string(),
        context => qualify(context, ""),
    }
}

/// The scope every context falls back to last (Confluent's `:.__GLOBAL:`).
pub(super) fn global_context_scope() -> String {
    qualify(GLOBAL_CONTEXT, "")
}

/// What a subject falls back to where its own record is silent, as Confluent chains them: its context's record
/// (the top level's in the default context), then the global context's, each field from the first that sets it.
fn fallback(read: impl Fn(&str) -> Result<ConfigRecord>, subject: &Subject) -> Result<ConfigRecord> {
    let first = read(&context_scope(subject))?;
    if first.compatibility.is_some() && first.mode.is_some() && first.settings.is_some() {
        return Ok(first);
    }
    let last = read(&global_context_scope())?;
    let settings = if first.has_config() { first.settings } else { last.settings };
    Ok(ConfigRecord {
        compatibility: first.compatibility.or(last.compatibility),
        mode: first.mode.or(last.mode),
        settings,
    })
}

/// The settings that apply to `subject` in a snapshot or transaction.
pub(super) fn effective_in(snapshot: &dyn Snapshot, subject: &Subject) -> Result<Effective> {
    Ok(resolve(&snapshot.config(subject.as_str())?, &fallback(|scope| snapshot.config(scope), subject)?))
}

/// What a mode admits of a registration: READONLY takes none, and an explicit id needs IMPORT.
pub(super) fn admit(subject: &Subject, mode: Mode, options: &RegisterOptions) -> Result<()> {
    admit_write(subject, mode)?;
    if options.id.is_some() && mode != Mode::Import {
        return Err(RegistryError::NotImportMode(subject.clone()));
    }
    Ok(())
}

/// The settings in force for a subject whose own record is `own`, under the global record `global`.
fn resolve_settings(own: &ConfigRecord, global: &ConfigRecord) -> ScopeSettings {
    if own.has_config() { ScopeSettings::under(own.settings(), global.settings()) } else { global.settings().clone() }
}

/// Everything in force for `subject` in a snapshot or transaction, from one read of its record and the global one:
/// the level and mode, and the settings beside them.
pub(super) fn in_force(snapshot: &dyn Snapshot, subject: &Subject) -> Result<(Effective, ScopeSettings)> {
    let (own, global) = (snapshot.config(subject.as_str())?, fallback(|scope| snapshot.config(scope), subject)?);
    Ok((resolve(&own, &global), resolve_settings(&own, &global)))
}

/// What a mode admits of a change to `scope`'s config, as the transaction sees it: none in a read-only mode (the
/// subject's, or the registry's for the global config). Modes themselves can always change.
fn admit_config_write(snapshot: &dyn Snapshot, scope: Scope<'_>) -> Result<()> {
    match scope {
        Scope::Subject(subject) => admit_write(subject, effective_in(snapshot, subject)?.mode),
        Scope::Global if snapshot.config(GLOBAL_SCOPE)?.mode.is_some_and(Mode::is_read_only) => {
            Err(RegistryError::RegistryReadOnly)
        }
        Scope::Global => Ok(()),
    }
}

/// A stored record's level and settings.
fn scope_config(record: &ConfigRecord) -> ScopeConfig {
    ScopeConfig { compatibility: record.compatibility, settings: record.settings().clone() }
}

/// What a mode admits of any write to a subject: READONLY takes none.
pub(super) fn admit_write(subject: &Subject, mode: Mode) -> Result<()> {
    if mode.is_read_only() {
        return Err(RegistryError::ReadOnly(subject.clone()));
    }
    Ok(())
}

impl Registry {
    /// The compatibility level set at `scope`, if any.
    pub fn config(&self, scope: Scope<'_>) -> Result<Option<CompatibilityLevel>> {
        Ok(self.config_record(scope.key())?.compatibility)
    }

    /// The level that applies to `subject`: its own, else the global one, else BACKWARD.
    pub fn effective_config(&self, subject: &Subject) -> Result<CompatibilityLevel> {
        Ok(self.effective(subject)?.level)
    }

    /// The global level, else BACKWARD.
    pub fn effective_config_global(&self) -> Result<CompatibilityLevel> {
        Ok(self.config(Scope::Global)?.unwrap_or_default())
    }

    /// Sets the compatibility level at `scope`.
    pub fn set_config(&self, scope: Scope<'_>, level: CompatibilityLevel) -> Result<()> {
        scope.writable()?;
        self.update_config(scope, Event::new(AuditAction::Config).detail(level.as_str()), |snapshot, record| {
            admit_config_write(snapshot, scope)?;
            record.compatibility = Some(level);
            Ok(())
        })
    }

    /// Removes the level set at `scope`, returning it; the global level falls back to BACKWARD.
    pub fn delete_config(&self, scope: Scope<'_>) -> Result<CompatibilityLevel> {
        self.update_config(scope, Event::new(AuditAction::Config).detail("level removed"), |snapshot, record| {
            admit_config_write(snapshot, scope)?;
            match (record.compatibility.take(), scope) {
                (Some(level), _) => Ok(level),
                (None, Scope::Global) => Ok(CompatibilityLevel::default()),
                (None, Scope::Subject(subject)) => Err(RegistryError::SubjectLevelNotConfigured(subject.clone())),
            }
        })
    }

    /// The config set at `scope` (its level and settings, not its mode); `None` for a subject that sets neither.
    /// The global scope always has one (empty when nothing is set).
    pub fn scope_config(&self, scope: Scope<'_>) -> Result<Option<ScopeConfig>> {
        let record = self.config_record(scope.key())?;
        Ok((record.has_config() || scope == Scope::Global).then(|| scope_config(&record)))
    }

    /// The settings in force for `subject`: its own over the global ones when it has a config of its own (the
    /// flags, policy and group fall back to the global ones; defaults, overrides and aliases do not), else the
    /// global ones, as Confluent resolves them.
    pub fn effective_settings(&self, subject: &Subject) -> Result<ScopeSettings> {
        let fallback = fallback(|scope| self.config_record(scope), subject)?;
        Ok(resolve_settings(&self.config_record(subject.as_str())?, &fallback))
    }

    /// The subject `subject` is another name for, by its own config (no fallback to the global one, as Confluent
    /// reads it): its `aliasForDeks` before its `alias` for the key registry (`for_keys`). Read from the cache
    /// without copying the rest of the config, for a server to ask on every request that names a subject.
    pub fn alias(&self, subject: &Subject, for_keys: bool) -> Result<Option<String>> {
        let record = self.config_record(subject.as_str())?;
        let settings = record.settings();
        let for_deks = settings.alias_for_deks.as_ref().filter(|alias| for_keys && !alias.is_empty());
        Ok(for_deks.or(settings.alias.as_ref()).filter(|alias| !alias.is_empty()).cloned())
    }

    /// Changes `scope`'s config in one transaction, as a `PUT /config` does: `level` sets the level (`Some(None)`
    /// clears it, `None` keeps it), `patch` changes the settings. Returns the config as stored after.
    pub fn update_scope_config(
        &self,
        scope: Scope<'_>,
        level: Option<Option<CompatibilityLevel>>,
        patch: &SettingsPatch,
    ) -> Result<ScopeConfig> {
        scope.writable()?;
        let detail = match level {
            Some(Some(level)) => format!("updated, level {level}"),
            Some(None) => "updated, level removed".to_string(),
            None => "updated".to_string(),
        };
        self.update_config(scope, Event::new(AuditAction::Config).detail(detail), |snapshot, record| {
            admit_config_write(snapshot, scope)?;
            if let Some(level) = level {
                record.compatibility = level;
            }
            let settings = patch.apply(record.settings()).map_err(RegistryError::InvalidSettings)?;
            *record = std::mem::take(record).with_settings(settings);
            Ok(scope_config(record))
        })
    }

    /// Removes `scope`'s config (its level and settings; its mode stays) and returns it. A subject without one is
    /// `SubjectLevelNotConfigured`; the global scope answers an empty one.
    pub fn delete_scope_config(&self, scope: Scope<'_>) -> Result<ScopeConfig> {
        self.update_config(scope, Event::new(AuditAction::Config).detail("removed"), |snapshot, record| {
            admit_config_write(snapshot, scope)?;
            if let Scope::Subject(subject) = scope
                && !record.has_config()
            {
                return Err(RegistryError::SubjectLevelNotConfigured(subject.clone()));
            }
            let removed = scope_config(record);
            record.compatibility = None;
            record.settings = None;
            Ok(removed)
        })
    }

    /// The mode set at `scope`, if any.
    pub fn mode(&self, scope: Scope<'_>) -> Result<Option<Mode>> {
        Ok(self.config_record(scope.key())?.mode)
    }

    /// The mode that applies to `subject`: its own, else the global one, else READWRITE.
    pub fn effective_mode(&self, subject: &Subject) -> Result<Mode> {
        Ok(self.effective(subject)?.mode)
    }

    /// The global mode, else READWRITE.
    pub fn effective_mode_global(&self) -> Result<Mode> {
        Ok(self.mode(Scope::Global)?.unwrap_or_default())
    }

    /// Sets the mode at `scope`. IMPORT is refused where schemas already exist, unless `force`.
    pub fn set_mode(&self, scope: Scope<'_>, mode: Mode, force: bool) -> Result<()> {
        scope.writable()?;
        self.update_config(scope, Event::new(AuditAction::Mode).detail(mode.as_str()), |snapshot, record| {
            if mode == Mode::Import && !force {
                let non_empty = match scope {
                    Scope::Global => {
                        let mut any = false;
                        snapshot.scan_versions("", &mut |_| {
                            any = true;
                            Ok(false)
                        })?;
                        any
                    }
                    // A context's (or the global context's) settings: any subject of the context (of any).
                    Scope::Subject(subject) if subject.name_in_context().is_empty() => {
                        let prefix = if subject.context() == GLOBAL_CONTEXT { "" } else { subject.as_str() };
                        let mut any = false;
                        snapshot.scan_versions(prefix, &mut |_| {
                            any = true;
                            Ok(false)
                        })?;
                        any
                    }
                    Scope::Subject(subject) => !snapshot.subject_versions(subject)?.is_empty(),
                };
                if non_empty {
                    return Err(RegistryError::ImportNotEmpty);
                }
            }
            record.mode = Some(mode);
            Ok(())
        })
    }

    /// Removes the mode set at `scope`, returning it; the global mode falls back to READWRITE.
    pub fn delete_mode(&self, scope: Scope<'_>) -> Result<Mode> {
        let event = Event::new(AuditAction::Mode).detail("removed");
        self.update_config(scope, event, |_, record| match (record.mode.take(), scope) {
            (Some(mode), _) => Ok(mode),
            (None, Scope::Global) => Ok(Mode::default()),
            (None, Scope::Subject(subject)) => Err(RegistryError::SubjectModeNotConfigured(subject.clone())),
        })
    }

    /// Removes the mode set at `scope` and at every subject under it (a context's `:.ctx:` and its subjects; the
    /// top level and the default context's subjects), as Confluent's recursive `DELETE /mode` does. Returns the
    /// scope's own mode, if it had one (the top level always has one: READWRITE when none is set).
    pub fn delete_modes_under(&self, scope: Scope<'_>) -> Result<Option<Mode>> {
        let key = scope.key().to_string();
        let under = |name: &str| match scope {
            Scope::Global => registry_core::split_qualified(name).0 == DEFAULT_CONTEXT,
            // A context's subjects; a subject has none under it.
            Scope::Subject(subject) => subject.name_in_context().is_empty() && name.starts_with(&key),
        };
        self.write(&[Lock::Global], |txn| {
            let own = txn.config(&key)?.mode.or((scope == Scope::Global).then_some(Mode::default()));
            for (name, mut record) in txn.configs()? {
                if (name == key || under(&name)) && record.mode.take().is_some() {
                    txn.put_config(&name, record)?;
                }
            }
            audit::append(
                txn,
                self.actor(),
                Event::new(AuditAction::Mode).subject(&key).detail("removed, recursively"),
            )?;
            // Many scopes at once: every cached setting is read again.
            Ok((own, Change::Unknown))
        })
    }

    /// The settings that apply to `subject`, from the cache.
    pub(super) fn effective(&self, subject: &Subject) -> Result<Effective> {
        Ok(resolve(&self.config_record(subject.as_str())?, &fallback(|scope| self.config_record(scope), subject)?))
    }

    /// The settings of one scope, from the cache, else from a snapshot.
    fn config_record(&self, scope: &str) -> Result<ConfigRecord> {
        let caches = self.caches();
        if let Some(record) = caches.config.get(scope) {
            return Ok(record);
        }
        let epoch = caches.epoch();
        let record = self.snapshot()?.config(scope)?;
        caches.fill(epoch, &caches.config, scope.to_string(), record.clone());
        Ok(record)
    }

    /// Changes the settings of `scope` in one transaction; `change` sees the transaction's reads.
    fn update_config<T>(
        &self,
        scope: Scope<'_>,
        event: Event,
        change: impl FnOnce(&dyn Snapshot, &mut ConfigRecord) -> Result<T>,
    ) -> Result<T> {
        let key = scope.key();
        // A context's settings are read by every registration in it, as the global ones by all.
        let locks = match scope {
            Scope::Subject(subject) if !subject.name_in_context().is_empty() => vec![Lock::Subject(subject)],
            _ => vec![Lock::Global],
        };
        self.write(&locks, |txn| {
            let mut record = txn.config(key)?;
            let answer = change(&*txn, &mut record)?;
            txn.put_config(key, record)?;
            audit::append(txn, self.actor(), event.subject(key))?;
            Ok((answer, Change::Config { scope: key.to_string() }))
        })
    }
}
