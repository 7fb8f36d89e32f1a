//! Every redb table, in one place. Keys are chosen so that each read is a point lookup or one range scan.

use redb::{Table, TableDefinition, TableError, WriteTransaction};

/// id -> encoded `StoredSchema`. Holds exactly the ids with at least one version (live or soft-deleted), so a
/// read by id is one lookup here.
pub(crate) const SCHEMAS: TableDefinition<u32, &[u8]> = TableDefinition::new("schemas");
/// id -> fingerprint. Never shrinks: an id stays bound to its schema after a hard delete, and is never reused.
pub(crate) const ID_BINDINGS: TableDefinition<u32, &[u8]> = TableDefinition::new("id_bindings");
/// fingerprint -> id. Never shrinks: a schema registered again after a hard delete gets its old id back.
pub(crate) const FINGERPRINTS: TableDefinition<&[u8], u32> = TableDefinition::new("fingerprints");
/// (subject, version) -> encoded `VersionRecord`.
pub(crate) const VERSIONS: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("versions");
/// (id, subject, version) -> (): where each id is used.
pub(crate) const ID_USES: TableDefinition<(u32, &str, u32), ()> = TableDefinition::new("id_uses");
/// (referenced subject, referenced version, referrer id) -> ().
pub(crate) const REFERENCED_BY: TableDefinition<(&str, u32, u32), ()> = TableDefinition::new("referenced_by");
/// scope ("" for global, else the subject) -> encoded `ConfigRecord`.
pub(crate) const CONFIG: TableDefinition<&str, &[u8]> = TableDefinition::new("config");
/// Counters and the on-disk format version.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// `META` key: the on-disk format version of the file.
pub(crate) const META_FORMAT_VERSION: &str = "format_version";
/// `META` key: the next schema id to allocate.
pub(crate) const META_NEXT_ID: &str = "next_id";
/// `CONFIG` key of the global scope (a subject is never empty).
pub(crate) const GLOBAL_SCOPE: &str = "";

/// The tables a registration reads and writes, opened once per group commit: each job of the batch uses them
/// in turn, and they are closed (their roots written back) once, before the commit.
pub(crate) struct WriteTables<'txn> {
    pub schemas: Table<'txn, u32, &'static [u8]>,
    pub id_bindings: Table<'txn, u32, &'static [u8]>,
    pub fingerprints: Table<'txn, &'static [u8], u32>,
    pub versions: Table<'txn, (&'static str, u32), &'static [u8]>,
    pub id_uses: Table<'txn, (u32, &'static str, u32), ()>,
    pub referenced_by: Table<'txn, (&'static str, u32, u32), ()>,
    pub config: Table<'txn, &'static str, &'static [u8]>,
    pub meta: Table<'txn, &'static str, u64>,
}

impl<'txn> WriteTables<'txn> {
    /// Opens every table of `txn` a registration touches.
    pub(crate) fn open(txn: &'txn WriteTransaction) -> Result<Self, TableError> {
        Ok(Self {
            schemas: txn.open_table(SCHEMAS)?,
            id_bindings: txn.open_table(ID_BINDINGS)?,
            fingerprints: txn.open_table(FINGERPRINTS)?,
            versions: txn.open_table(VERSIONS)?,
            id_uses: txn.open_table(ID_USES)?,
            referenced_by: txn.open_table(REFERENCED_BY)?,
            config: txn.open_table(CONFIG)?,
            meta: txn.open_table(META)?,
        })
    }
}
