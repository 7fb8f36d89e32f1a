//! The audit log: every write appends an entry in its own transaction (who, what, when, on which subject,
//! version and id), chained to the entry before it by SHA-256, so that an entry changed or removed in the store
//! afterwards breaks the chain there and [`Registry::verify_audit`] names it.
//!
//! An entry's hash is over its fields (as a JSON array, in a fixed order) and the previous entry's hash; the first
//! entry's previous hash is 64 zeros.

use std::time::SystemTime;

use registry_core::{SchemaId, Subject, Version};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Registry;
use crate::RegistryError;
use crate::store::{Result, Snapshot, Transaction};

/// The hash before the first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The most entries one page of [`Registry::audit`] holds.
pub const MAX_AUDIT_PAGE: usize = 1000;

/// What a write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuditAction {
    /// A new version was registered.
    Register,
    /// A version was deleted, soft or permanently (`detail`).
    DeleteVersion,
    /// A subject was deleted, soft or permanently (`detail`).
    DeleteSubject,
    /// A level or settings were set or removed.
    Config,
    /// A mode was set or removed.
    Mode,
    /// A version moved to another lifecycle state (`detail`: from -> to).
    State,
    /// A context was deleted.
    DeleteContext,
}

/// One entry of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its place in the log, from 1, without gaps.
    pub seq: u64,
    /// When it was written (RFC 3339, UTC).
    pub time: String,
    /// Who did it: the caller's name (an API key's name), if the caller gave one.
    pub actor: Option<String>,
    /// What was done.
    pub action: AuditAction,
    /// The subject (or config or mode scope, `""` for the top level) it was done to.
    pub subject: Option<String>,
    /// The version, where one is concerned.
    pub version: Option<u32>,
    /// The schema id, as the subject's context names it, where one is concerned.
    pub id: Option<u32>,
    /// What else tells the write apart: `permanent`, `READONLY`, `ACTIVE -> DEPRECATED`, a level.
    pub detail: Option<String>,
    /// The previous entry's hash (hex).
    pub prev_hash: String,
    /// This entry's hash (hex): SHA-256 of its fields and `prev_hash`.
    pub hash: String,
}

impl AuditEntry {
    /// The hash its fields and `prev_hash` give.
    fn computed_hash(&self) -> String {
        let fields = (
            self.seq,
            &self.time,
            &self.actor,
            self.action,
            &self.subject,
            self.version,
            self.id,
            &self.detail,
            &self.prev_hash,
        );
        // Plain numbers, strings and options: serializing cannot fail.
        let bytes = serde_json::to_vec(&fields).unwrap_or_default();
        registry_core::hex(&Sha256::digest(bytes))
    }
}

/// A page of the audit log and where the next one starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditPage {
    /// The entries, in order.
    pub entries: Vec<AuditEntry>,
    /// The sequence number to ask from for the next page; `None` at the end of the log.
    pub next: Option<u64>,
}

/// What [`Registry::verify_audit`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every entry is as written: this many.
    Intact(u64),
    /// The chain breaks at entry `seq`: changed, missing, out of place, or not readable.
    Broken {
        /// The first entry that does not hold.
        seq: u64,
        /// Why.
        reason: String,
    },
}

/// A write's entry before it is chained: what was done, to what.
#[derive(Clone, Debug, Default)]
pub(crate) struct Event {
    action: Option<AuditAction>,
    subject: Option<String>,
    version: Option<u32>,
    id: Option<u32>,
    detail: Option<String>,
}

impl Event {
    /// An entry for `action`.
    pub fn new(action: AuditAction) -> Self {
        Self { action: Some(action), ..Self::default() }
    }

    /// Done to `subject` (or scope).
    pub fn subject(mut self, subject: &str) -> Self {
        self.subject = Some(subject.to_string());
        self
    }

    /// Concerning `version`.
    pub fn version(mut self, version: Version) -> Self {
        self.version = Some(version.get());
        self
    }

    /// Concerning schema id `id` (a stored id: written as its context names it).
    pub fn id(mut self, snapshot: &dyn Snapshot, id: SchemaId) -> Result<Self> {
        self.id = Some(super::contexts::public_id(snapshot, id)?.0);
        Ok(self)
    }

    /// With `detail`.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Appends `event`, done by `actor`, to the log in `txn`: after the head as the transaction sees it (held first, so
/// that two transactions cannot both append after one head).
pub(crate) fn append(txn: &mut dyn Transaction, actor: Option<&str>, event: Event) -> Result<()> {
    txn.hold_audit()?;
    let (seq, prev_hash) = match txn.audit_head()? {
        Some((seq, bytes)) => (seq + 1, entry_of(seq, &bytes)?.hash),
        None => (1, GENESIS.to_string()),
    };
    let action = event.action.ok_or_else(|| RegistryError::Corrupt("an audit event without an action".into()))?;
    let mut entry = AuditEntry {
        seq,
        time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
        actor: actor.map(str::to_string),
        action,
        subject: event.subject,
        version: event.version,
        id: event.id,
        detail: event.detail,
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry.computed_hash();
    let bytes = serde_json::to_vec(&entry).map_err(|e| RegistryError::Corrupt(format!("an audit entry: {e}")))?;
    txn.append_audit(seq, &bytes)
}

/// An entry as stored, read back.
fn entry_of(seq: u64, bytes: &[u8]) -> Result<AuditEntry> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::Corrupt(format!("audit entry {seq} cannot be read: {e}")))
}

impl Registry {
    /// This registry, with `actor` named in the audit entries of the writes made through it (a server names the
    /// API key of each request). Cheap: the clone shares everything else.
    pub fn acting_as(&self, actor: Option<&str>) -> Registry {
        Registry { actor: actor.map(std::sync::Arc::from), ..self.clone() }
    }

    /// The name this registry writes audit entries as.
    pub(super) fn actor(&self) -> Option<&str> {
        self.actor.as_deref()
    }

    /// Up to `limit` (at most [`MAX_AUDIT_PAGE`]) entries of the audit log from sequence number `since` on (the
    /// first is 1), those about `subject` alone if given.
    pub fn audit(&self, since: u64, limit: usize, subject: Option<&Subject>) -> Result<AuditPage> {
        let limit = limit.clamp(1, MAX_AUDIT_PAGE);
        let snapshot = self.snapshot()?;
        let mut entries = Vec::new();
        let mut from = since.max(1);
        loop {
            let rows = snapshot.audit_entries(from, limit)?;
            let Some(&(last, _)) = rows.last() else { return Ok(AuditPage { entries, next: None }) };
            for (seq, bytes) in &rows {
                let entry = entry_of(*seq, bytes)?;
                if subject.is_none_or(|s| entry.subject.as_deref() == Some(s.as_str())) {
                    entries.push(entry);
                    if entries.len() == limit {
                        return Ok(AuditPage { entries, next: Some(seq + 1) });
                    }
                }
            }
            if rows.len() < limit {
                return Ok(AuditPage { entries, next: None });
            }
            from = last + 1;
        }
    }

    /// Walks the whole audit log and checks its chain: each entry in place (sequence numbers from 1 without
    /// gaps), its hash that of its fields, its previous hash the hash of the entry before.
    pub fn verify_audit(&self) -> Result<AuditVerdict> {
        let snapshot = self.snapshot()?;
        let (mut expected_seq, mut prev) = (1u64, GENESIS.to_string());
        loop {
            let rows = snapshot.audit_entries(expected_seq, MAX_AUDIT_PAGE)?;
            if rows.is_empty() {
                return Ok(AuditVerdict::Intact(expected_seq - 1));
            }
            for (seq, bytes) in &rows {
                let broken = |reason: String| Ok(AuditVerdict::Broken { seq: expected_seq, reason });
                if *seq != expected_seq {
                    return broken(format!("entry {expected_seq} is missing (the next is {seq})"));
                }
                let entry = match entry_of(*seq, bytes) {
                    Ok(entry) => entry,
                    Err(e) => return broken(e.to_string()),
                };
                if entry.seq != *seq {
                    return broken(format!("it says it is entry {}", entry.seq));
                }
                if entry.prev_hash != prev {
                    return broken("its previous hash is not the hash of the entry before".into());
                }
                if entry.computed_hash() != entry.hash {
                    return broken("its fields are not those its hash was computed over".into());
                }
                prev = entry.hash;
                expected_seq += 1;
            }
        }
    }
}
