//! Every redb table, in one place. Keys are chosen so that each read is a point lookup or one range scan.

use redb::TableDefinition;

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
