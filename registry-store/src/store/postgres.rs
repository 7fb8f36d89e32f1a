//! The shared store: one PostgreSQL database that several registry instances use at once.
//!
//! Each instance keeps a pool of connections and its own tokio runtime: the registry's rules are synchronous, so
//! each statement is handed to that runtime and its answer waited for. A snapshot is a `REPEATABLE READ READ ONLY`
//! transaction; a write transaction (a whole group commit) first takes a transaction-level advisory lock per
//! subject and per fingerprint it names, in one order, so writers of a subject serialize across instances and
//! two instances cannot bind one schema to two ids. Ids come from a counter row that the allocating transaction
//! holds until it commits. Every committed change is announced with `NOTIFY` on a channel of the schema
//! (namespace) the tables live in; each instance listens on its own connection and drops what another's change
//! made stale. While that connection is down the caches of answers another instance can change are off.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime as PoolRuntime};
use registry_core::{Fingerprint, SchemaGuid, SchemaId, SchemaReference, SchemaType, Subject, Version};
use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Config, NoTls, Row};

use super::{Lock, Result, Snapshot, Store, Transaction, VersionRow, Work};
use crate::RegistryError;
use crate::cache::{Caches, Change};
use crate::codec::{ConfigRecord, VersionRecord, contract_from_json, settings_from_json};
use crate::error::StorageError;
use crate::keys::{Dek, Kek};
use crate::records::StoredSchema;
use crate::registry::StoreOptions;

const STORE: &str = "postgres";

/// The schema migrations, in order: each runs once, in a transaction, and is recorded in `registry_migrations`.
/// A database that records a version past the last one here was written by a newer release and is refused.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
    CREATE TABLE registry_meta (key text PRIMARY KEY, value bigint NOT NULL);
    INSERT INTO registry_meta (key, value) VALUES ('next_id', 1);
    CREATE TABLE registry_schemas (
        id bigint PRIMARY KEY,
        schema_type text NOT NULL,
        schema text NOT NULL,
        refs text NOT NULL,
        fingerprint bytea NOT NULL
    );
    CREATE TABLE registry_ids (id bigint PRIMARY KEY, fingerprint bytea NOT NULL UNIQUE);
    CREATE TABLE registry_versions (
        subject text COLLATE "C" NOT NULL,
        version bigint NOT NULL,
        id bigint NOT NULL,
        deleted boolean NOT NULL,
        semver text NOT NULL,
        PRIMARY KEY (subject, version)
    );
    CREATE INDEX registry_versions_by_id ON registry_versions (id);
    CREATE TABLE registry_references (
        subject text COLLATE "C" NOT NULL,
        version bigint NOT NULL,
        referrer bigint NOT NULL,
        PRIMARY KEY (subject, version, referrer)
    );
    CREATE TABLE registry_config (scope text COLLATE "C" PRIMARY KEY, compatibility text, mode text);
    "#,
    ),
    (
        2,
        // A schema's data contract (metadata and rules) as JSON; NULL for none.
        "ALTER TABLE registry_schemas ADD COLUMN contract text;",
    ),
    (
        3,
        // A schema's GUID (Confluent's content hash), indexed for `GET /schemas/guids/{guid}`; the rows written
        // before it are given theirs by `PgStore::index_guids` in the same transaction.
        "ALTER TABLE registry_schemas ADD COLUMN guid bytea; \
         CREATE INDEX registry_schemas_by_guid ON registry_schemas (guid);",
    ),
    (
        4,
        // A scope's settings beside its level and mode (data-contract defaults and overrides, the compatibility
        // group, ...) as JSON; NULL for none.
        "ALTER TABLE registry_config ADD COLUMN settings text;",
    ),
    (
        5,
        // The key registry: KEKs by name and DEKs by (KEK, subject, algorithm, version), each as its JSON.
        r#"
    CREATE TABLE registry_keks (name text COLLATE "C" PRIMARY KEY, record text NOT NULL);
    CREATE TABLE registry_deks (
        kek text COLLATE "C" NOT NULL,
        subject text COLLATE "C" NOT NULL,
        algorithm text COLLATE "C" NOT NULL,
        version bigint NOT NULL,
        record text NOT NULL,
        PRIMARY KEY (kek, subject, algorithm, version)
    );
    "#,
    ),
    (
        6,
        // Schema texts as Confluent stores them: the Avro and JSON Schema rows are given their canonical texts,
        // fingerprints and GUIDs by `canonicalize` in the same transaction.
        "COMMENT ON TABLE registry_schemas IS 'schema texts are canonical since migration 6';",
    ),
    (
        7,
        // Schema contexts other than the default one: those listed, the largest id of each (kept after its
        // listing ends), and the stored id each of their ids names (from 2^31 up, apart from the default's).
        r#"
    CREATE TABLE IF NOT EXISTS registry_contexts (name text COLLATE "C" PRIMARY KEY);
    CREATE TABLE IF NOT EXISTS registry_context_max_ids (name text COLLATE "C" PRIMARY KEY, max_id bigint NOT NULL);
    CREATE TABLE IF NOT EXISTS registry_context_ids (
        context text COLLATE "C" NOT NULL,
        id bigint NOT NULL,
        stored bigint NOT NULL UNIQUE,
        PRIMARY KEY (context, id)
    );
    INSERT INTO registry_meta (key, value) VALUES ('next_context_id', 2147483648) ON CONFLICT (key) DO NOTHING;
    "#,
    ),
    (
        8,
        // Each version's lifecycle state as set: DRAFT, ACTIVE or DEPRECATED (a deleted version is ARCHIVED).
        "ALTER TABLE registry_versions ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'ACTIVE';",
    ),
    (
        9,
        // The audit log: each write's entry as JSON, chained by the hash of the one before (`registry::audit`).
        // Its `audit` row in registry_meta is what appenders lock, in turn.
        r#"
    CREATE TABLE IF NOT EXISTS registry_audit (seq bigint PRIMARY KEY, entry text NOT NULL);
    INSERT INTO registry_meta (key, value) VALUES ('audit', 0) ON CONFLICT (key) DO NOTHING;
    "#,
    ),
    (
        10,
        // When each version was registered, in milliseconds since the Unix epoch (NULL for one registered before).
        "ALTER TABLE registry_versions ADD COLUMN IF NOT EXISTS registered bigint;",
    ),
    (
        11,
        // Protobuf source texts as Confluent stores them, its printing of the file: the Protobuf rows are given
        // those texts, their fingerprints and GUIDs by `canonicalize` in the same transaction.
        "COMMENT ON TABLE registry_schemas IS 'Protobuf source texts are Confluent''s printing since migration 11';",
    ),
];

/// The migration after which every schema row has its GUID.
const GUID_MIGRATION: i64 = 3;
/// The migration after which every Avro and JSON Schema row has its canonical text.
const CANONICAL_MIGRATION: i64 = 6;
/// The migration after which every Protobuf source row has Confluent's printing as its text.
const PROTOBUF_TEXT_MIGRATION: i64 = 11;

/// The advisory lock key that serializes migrations across instances starting at once.
const MIGRATION_LOCK: i64 = 0x7265_6769_7374_7279; // "registry"

/// A statement's parameters, owned, so the statement can run on the store's runtime.
type Params = Vec<Box<dyn ToSql + Send + Sync>>;

/// The registry in one PostgreSQL database (in the schema its connection's `search_path` names first).
pub(crate) struct PgStore {
    /// Shut down in the background when the store is dropped (possibly on an async worker).
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    pool: Pool,
    /// host:port/database, for messages: never the password.
    target: String,
    /// The schema the tables live in: it prefixes every lock key.
    namespace: String,
    /// The notice channel, named after the namespace.
    channel: String,
    /// Tells this instance's own notices from others'.
    origin: u64,
    listener: Option<tokio::task::JoinHandle<()>>,
}

/// What a committed transaction announces: who made it, and the changes.
#[derive(Serialize, Deserialize)]
struct Notice {
    origin: u64,
    changes: Vec<Change>,
}

/// The largest notice sent as is (PostgreSQL's limit is 8000 bytes); a larger one says `Change::Unknown`.
const MAX_NOTICE: usize = 7_900;

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL or a key=value string), waiting up to
    /// `options.connect_wait` for it to answer, applies the migrations it lacks, and starts listening for
    /// other instances' changes, which `caches` then drops.
    pub(crate) fn connect(url: &str, options: &StoreOptions, caches: Arc<Caches>) -> Result<Self> {
        let mut config: Config = url.parse().map_err(|e| RegistryError::InvalidStore(format!("{e}")))?;
        if let Some(password) = &options.password {
            config.password(password.as_bytes());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        // A peer that vanished (a host down, a dropped NAT entry) is found within about half a minute, not the
        // system's two hours: the notice connection goes blind, a waiting statement fails as unavailable.
        if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
            config.keepalives_idle(Duration::from_secs(15));
            config.keepalives_interval(Duration::from_secs(5));
            config.keepalives_retries(3);
        }
        #[cfg(target_os = "linux")]
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(Duration::from_secs(30));
        }
        let target = describe(&config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("registry-postgres")
            .enable_all()
            .build()
            .map_err(|e| StorageError::new(STORE, e))?;
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let timeout = Some(Duration::from_secs(5));
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(PoolRuntime::Tokio1)
            .wait_timeout(timeout)
            .create_timeout(timeout)
            .recycle_timeout(timeout)
            .build()
            .map_err(|e| RegistryError::InvalidStore(e.to_string()))?;
        let mut store = Self {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            pool,
            target,
            namespace: String::new(),
            channel: String::new(),
            origin: origin(),
            listener: None,
        };
        store.wait_for_database(options.connect_wait)?;
        store.namespace = store.migrate()?;
        store.channel = channel_of(&store.namespace);
        // Until the first LISTEN holds, this instance could miss a change: its caches start off.
        caches.set_blind(true);
        let (ready, heard) = std::sync::mpsc::sync_channel(1);
        let channel = store.channel.clone();
        store.listener = Some(store.handle.spawn(listen(config, channel, store.origin, caches, ready)));
        if heard.recv_timeout(Duration::from_secs(5)).is_err() {
            tracing::warn!(target = %store.target, "not yet listening for other instances' changes: caches stay off until then");
        }
        Ok(store)
    }

    /// Tries to reach the database until it answers or `wait` has passed, logging each failed try.
    fn wait_for_database(&self, wait: Duration) -> Result<()> {
        let started = Instant::now();
        for attempt in 1.. {
            match self.connection() {
                Ok(_) => return Ok(()),
                Err(e) if started.elapsed() < wait => {
                    tracing::warn!(target = %self.target, attempt, error = %e, "waiting for PostgreSQL");
                    std::thread::sleep(Duration::from_secs(1).min(wait.saturating_sub(started.elapsed())));
                }
                Err(e) => return Err(e),
            }
        }
        unreachable!("the attempts never run out")
    }

    /// Applies the migrations the database lacks, one instance at a time, and returns the schema the tables are in.
    fn migrate(&self) -> Result<String> {
        let conn = self.connection()?;
        conn.begin.set(Some("BEGIN"));
        let outcome = (|| {
            conn.query("SELECT pg_advisory_xact_lock($1)", vec![Box::new(MIGRATION_LOCK)])?;
            conn.batch(
                "CREATE TABLE IF NOT EXISTS registry_migrations \
                 (version bigint PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
            )?;
            let rows = conn.query("SELECT coalesce(max(version), 0) FROM registry_migrations", vec![])?;
            let found: i64 = get(&rows[0], 0)?;
            let supported = MIGRATIONS.last().map_or(0, |(version, _)| *version);
            if found > supported {
                return Err(RegistryError::UnsupportedFormat { found: found as u64, supported: supported as u64 });
            }
            for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > found) {
                tracing::info!(target = %self.target, version, "applying a schema migration");
                conn.batch(sql)?;
                if *version == GUID_MIGRATION {
                    index_guids(&conn)?;
                }
                if *version == CANONICAL_MIGRATION {
                    canonicalize(&conn, &[SchemaType::Avro, SchemaType::Json])?;
                }
                if *version == PROTOBUF_TEXT_MIGRATION {
                    canonicalize(&conn, &[SchemaType::Protobuf])?;
                }
                conn.queue("INSERT INTO registry_migrations (version) VALUES ($1)", vec![Box::new(*version)]);
            }
            get(&conn.query("SELECT current_schema()::text", vec![])?[0], 0)
        })();
        match outcome {
            Ok(namespace) => {
                conn.batch("COMMIT")?;
                Ok(namespace)
            }
            Err(e) => {
                conn.pending.take();
                let _ = conn.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// A pooled connection.
    fn connection(&self) -> Result<Conn<'_>> {
        let pool = self.pool.clone();
        let client = self.block(async move { pool.get().await.map_err(pool_error) })?;
        Ok(Conn {
            store: self,
            client: Arc::new(client),
            begin: Cell::new(None),
            pending: RefCell::default(),
            failed: RefCell::default(),
        })
    }

    /// Runs `future` on the store's runtime and waits for it, from any thread. On a worker of a multi-threaded
    /// tokio runtime (a server calling the registry from a handler) the wait is announced with `block_in_place`,
    /// so the worker's other tasks move to another thread instead of waiting behind the database.
    fn block<T: Send + 'static>(&self, future: impl Future<Output = Result<T>> + Send + 'static) -> Result<T> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = sender.send(future.await);
        });
        let wait = || receiver.recv();
        let answer = match tokio::runtime::Handle::try_current() {
            Ok(caller) if caller.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        };
        answer.unwrap_or_else(|_| Err(unavailable("the registry's database runtime has stopped")))
    }

    /// Takes `locks` (in one order, so two transactions never wait for each other), and in the same round trip
    /// reads what the locks protect: the versions of the subjects named and the ids of the fingerprints named,
    /// which no other transaction can change until this one ends, and the settings of those subjects and the
    /// global ones. The transaction's reads of them are answered from memory from then on.
    fn lock_and_prefetch(&self, txn: &mut PgTransaction<'_>, locks: &[Lock<'_>]) -> Result<()> {
        // The global key first, exclusive for a write that holds it alone, shared by every other: then the rest,
        // sorted.
        let global = self.lock_key(&Lock::Global);
        let global_lock = if locks.contains(&Lock::Global) {
            "SELECT pg_advisory_xact_lock($1)"
        } else {
            "SELECT pg_advisory_xact_lock_shared($1)"
        };
        let mut keys: Vec<i64> =
            locks.iter().filter(|lock| **lock != Lock::Global).map(|lock| self.lock_key(lock)).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut subjects = Vec::new();
        let mut fingerprints = Vec::new();
        for lock in locks {
            match lock {
                Lock::Subject(subject) => subjects.push(subject.as_str().to_string()),
                Lock::Fingerprint(fingerprint) => fingerprints.push(fingerprint.0.to_vec()),
                Lock::Global | Lock::Keys => {}
            }
        }
        let mut scopes = subjects.clone();
        scopes.push(String::new());
        let reads: Vec<(&'static str, Params)> = vec![
            (global_lock, vec![Box::new(global)]),
            ("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k", vec![Box::new(keys)]),
            (
                "SELECT subject, version, id, deleted, semver, state, registered FROM registry_versions WHERE subject = ANY($1) \
                 ORDER BY subject, version",
                vec![Box::new(subjects.clone())],
            ),
            (
                "SELECT scope, compatibility, mode, settings FROM registry_config WHERE scope = ANY($1)",
                vec![Box::new(scopes.clone())],
            ),
            (
                "SELECT fingerprint, id FROM registry_ids WHERE fingerprint = ANY($1)",
                vec![Box::new(fingerprints.clone())],
            ),
        ];
        let rows = txn.conn.send(reads, None)?;
        let [_, _, versions, settings, ids] =
            <[Vec<Row>; 5]>::try_from(rows).map_err(|_| corrupt("a prefetch lost a read"))?;
        let mut known = Prefetched::default();
        for subject in subjects {
            known.versions.insert(subject, Vec::new());
        }
        for row in &versions {
            let subject: &str = get(row, 0)?;
            let entry = known.versions.entry(subject.to_string()).or_default();
            entry.push((version(get(row, 1)?)?, version_record(row, 2)?));
        }
        for fingerprint in &fingerprints {
            known.ids.insert(fingerprint.clone(), None);
        }
        for row in &ids {
            known.ids.insert(get::<Vec<u8>>(row, 0)?, Some(id(get(row, 1)?)?));
        }
        let mut memo = txn.settings.borrow_mut();
        for scope in scopes {
            memo.insert(scope, ConfigRecord::default());
        }
        for row in &settings {
            memo.insert(get(row, 0)?, config_record(row, 1)?);
        }
        drop(memo);
        txn.known = Some(known);
        Ok(())
    }

    /// The advisory lock key of `lock`, in this store's namespace.
    fn lock_key(&self, lock: &Lock<'_>) -> i64 {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(self.namespace.as_bytes());
        match lock {
            Lock::Subject(subject) => {
                hasher.update(b"\0subject\0");
                hasher.update(subject.as_str().as_bytes());
            }
            Lock::Fingerprint(fingerprint) => {
                hasher.update(b"\0fingerprint\0");
                hasher.update(fingerprint.0);
            }
            Lock::Global => hasher.update(b"\0global\0"),
            Lock::Keys => hasher.update(b"\0keys\0"),
        }
        let digest = hasher.finalize();
        let mut key = [0u8; 8];
        key.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(key)
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.abort();
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Store for PgStore {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>> {
        let conn = self.connection()?;
        conn.begin.set(Some("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
        Ok(Box::new(PgTransaction::new(conn, true)))
    }

    fn write(&self, locks: &[Lock<'_>], work: Work<'_>) -> Result<()> {
        let conn = self.connection()?;
        conn.begin.set(Some("BEGIN"));
        let mut txn = PgTransaction::new(conn, false);
        let outcome = (|| {
            self.lock_and_prefetch(&mut txn, locks)?;
            work(&mut txn)?;
            if let Some(failure) = txn.conn.failure() {
                return Err(failure);
            }
            if let Some(Counter { next, dirty: true }) = txn.counter {
                txn.conn.queue("UPDATE registry_meta SET value = $1 WHERE key = 'next_id'", vec![Box::new(next)]);
            }
            if !txn.changes.is_empty() {
                let notice = notice(self.origin, std::mem::take(&mut txn.changes))?;
                txn.conn.queue("SELECT pg_notify($1, $2)", vec![Box::new(self.channel.clone()), Box::new(notice)]);
            }
            Ok(())
        })();
        match outcome {
            Ok(()) => {
                let started = Instant::now();
                txn.ended = true;
                txn.conn.batch("COMMIT").map_err(|e| match e {
                    // The connection went away with the COMMIT sent: it may have landed.
                    RegistryError::Storage(e) if e.is_unavailable() => RegistryError::Storage(e.outcome_unknown()),
                    other => other,
                })?;
                metrics::histogram!("registry_store_commit_seconds").record(started.elapsed().as_secs_f64());
                Ok(())
            }
            Err(e) => {
                txn.ended = true;
                txn.conn.pending.take();
                let _ = txn.conn.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn health(&self) -> Result<()> {
        self.connection()?.query("SELECT 1", vec![]).map(drop)
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("PostgreSQL at {}", self.target)
    }
}

/// One pooled connection. Statements go out pipelined: a transaction's writes wait in `pending` and are sent
/// with its next read, or with its `COMMIT` (one round trip for all of them); a snapshot's `BEGIN` goes with its
/// first query.
struct Conn<'s> {
    store: &'s PgStore,
    client: Arc<Object>,
    begin: Cell<Option<&'static str>>,
    pending: RefCell<Vec<(&'static str, Params)>>,
    /// The first statement that failed: PostgreSQL has aborted the transaction, so it must not be committed
    /// (its `COMMIT` would quietly roll back), whatever its work made of the error.
    failed: RefCell<Option<RegistryError>>,
}

impl Conn<'_> {
    /// Runs one statement (prepared once per connection), after what is pending, and returns its rows.
    fn query(&self, sql: &'static str, params: Params) -> Result<Vec<Row>> {
        Ok(self.send(vec![(sql, params)], None)?.pop().unwrap_or_default())
    }

    /// Queues a write, to be sent with the next query or the end of the transaction.
    fn queue(&self, sql: &'static str, params: Params) {
        self.pending.borrow_mut().push((sql, params));
    }

    /// Sends what is pending, then `sql` (statements with no parameters: transaction control, migrations).
    fn batch(&self, sql: &str) -> Result<()> {
        self.send(Vec::new(), Some(sql.to_string())).map(drop)
    }

    /// Sends the pending `BEGIN`, the pending writes, `reads` and `end`, in that order, pipelined; returns each
    /// read's rows.
    fn send(&self, reads: Vec<(&'static str, Params)>, end: Option<String>) -> Result<Vec<Vec<Row>>> {
        let (client, begin, writes) = (self.client.clone(), self.begin.take(), self.pending.take());
        let outcome = self.store.block(async move { pipeline(&client, begin, writes, reads, end).await });
        if let Err(e) = &outcome {
            self.failed.borrow_mut().get_or_insert_with(|| e.clone());
        }
        outcome
    }

    /// The first statement's failure, if one failed.
    fn failure(&self) -> Option<RegistryError> {
        self.failed.borrow().clone()
    }
}

/// Sends `begin`, `writes`, `reads` and `end` on one connection, in order, without waiting between them (one round
/// trip once the statements are prepared), and returns the rows of each read.
async fn pipeline(
    client: &Object,
    begin: Option<&'static str>,
    writes: Vec<(&'static str, Params)>,
    reads: Vec<(&'static str, Params)>,
    end: Option<String>,
) -> Result<Vec<Vec<Row>>> {
    fn arguments(params: &Params) -> Vec<&(dyn ToSql + Sync)> {
        params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect()
    }
    // Prepared first, each once per connection (no round trip once cached): a statement that had to be prepared
    // while the others were under way would be sent out of order.
    let mut statements = Vec::with_capacity(writes.len() + reads.len());
    for (sql, _) in writes.iter().chain(&reads) {
        statements.push(client.prepare_cached(sql).await.map_err(pg_error)?);
    }
    let write_arguments: Vec<_> = writes.iter().map(|(_, params)| arguments(params)).collect();
    let read_arguments: Vec<_> = reads.iter().map(|(_, params)| arguments(params)).collect();
    let (write_statements, read_statements) = statements.split_at(writes.len());
    let mut steps: Vec<Step<'_>> = Vec::with_capacity(writes.len() + reads.len() + 2);
    if let Some(begin) = begin {
        steps.push(Box::pin(async move { client.batch_execute(begin).await.map(|()| None) }));
    }
    for (args, statement) in write_arguments.iter().zip(write_statements) {
        steps.push(Box::pin(async move { client.execute(statement, args).await.map(|_| None) }));
    }
    for (args, statement) in read_arguments.iter().zip(read_statements) {
        steps.push(Box::pin(async move { client.query(statement, args).await.map(Some) }));
    }
    if let Some(end) = &end {
        steps.push(Box::pin(async move { client.batch_execute(end).await.map(|()| None) }));
    }
    let mut rows = Vec::with_capacity(reads.len());
    for outcome in in_order(steps).await {
        if let Some(read) = outcome.map_err(pg_error)? {
            rows.push(read);
        }
    }
    Ok(rows)
}

/// One statement under way: its rows if it is a read.
type Step<'a> = std::pin::Pin<Box<dyn Future<Output = Result<Option<Vec<Row>>, tokio_postgres::Error>> + Send + 'a>>;

/// Runs `steps` to completion and returns their outcomes in order. Every poll polls each unfinished step in order,
/// and a step sends its statement when first polled, so the statements go out in order, without waiting for each
/// other's answers (a general-purpose join may poll in another order, or stop early, and send a later `COMMIT` before
/// an earlier write).
async fn in_order<T>(mut steps: Vec<std::pin::Pin<Box<dyn Future<Output = T> + Send + '_>>>) -> Vec<T> {
    let mut outcomes: Vec<Option<T>> = steps.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (step, outcome) in steps.iter_mut().zip(outcomes.iter_mut()) {
            if outcome.is_none() {
                match step.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *outcome = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outcomes.into_iter().flatten().collect()
}

/// A transaction: a read snapshot (read-only, repeatable read, rolled back when dropped), or a write transaction
/// with the changes it will announce when it commits.
struct PgTransaction<'s> {
    conn: Conn<'s>,
    snapshot: bool,
    changes: Vec<Change>,
    /// The id counter, once this transaction has read it (and holds its row until it ends).
    counter: Option<Counter>,
    /// Settings read (or written) in this transaction, by scope: every registration of a group commit reads
    /// the global ones.
    settings: RefCell<HashMap<String, ConfigRecord>>,
    /// What the transaction's locks protect, read when it took them and kept up to date with its own writes.
    known: Option<Prefetched>,
    /// Whether a write transaction sent its `COMMIT` or `ROLLBACK`.
    ended: bool,
    /// Whether it holds the audit log's row.
    audit_held: bool,
}

/// The versions of the subjects, and the ids of the fingerprints, that a write transaction holds the locks of.
#[derive(Default)]
struct Prefetched {
    /// Subject name -> its versions, ascending (empty for a subject with none).
    versions: HashMap<String, Vec<(Version, VersionRecord)>>,
    /// Fingerprint bytes -> the id bound to it, if any.
    ids: HashMap<Vec<u8>, Option<SchemaId>>,
}

/// The next id to hand out, and whether this transaction moved it.
#[derive(Clone, Copy)]
struct Counter {
    next: i64,
    dirty: bool,
}

impl Drop for PgTransaction<'_> {
    fn drop(&mut self) {
        // A snapshot that ran a query has begun a transaction, and so has a write transaction that did not reach
        // its end (a panic in its work): neither goes back to the pool with its transaction open.
        if (self.snapshot || !self.ended) && self.conn.begin.get().is_none() {
            let client = self.conn.client.clone();
            self.conn.store.handle.spawn(async move {
                let _ = client.batch_execute("ROLLBACK").await;
            });
        }
    }
}

impl<'s> PgTransaction<'s> {
    fn new(conn: Conn<'s>, snapshot: bool) -> Self {
        Self {
            conn,
            snapshot,
            changes: Vec::new(),
            counter: None,
            settings: RefCell::default(),
            known: None,
            ended: false,
            audit_held: false,
        }
    }

    /// The versions of a subject this transaction holds the lock of.
    fn known_versions(&self, subject: &Subject) -> Option<&Vec<(Version, VersionRecord)>> {
        self.known.as_ref()?.versions.get(subject.as_str())
    }

    /// The versions of a subject this transaction holds the lock of, to change along with a write.
    fn known_versions_mut(&mut self, subject: &Subject) -> Option<&mut Vec<(Version, VersionRecord)>> {
        self.known.as_mut()?.versions.get_mut(subject.as_str())
    }

    /// The id counter, read and locked on first use.
    fn counter(&mut self) -> Result<&mut Counter> {
        if self.counter.is_none() {
            let rows = self.conn.query("SELECT value FROM registry_meta WHERE key = 'next_id' FOR UPDATE", vec![])?;
            let row = rows.first().ok_or_else(|| corrupt("registry_meta has no next_id row"))?;
            self.counter = Some(Counter { next: get(row, 0)?, dirty: false });
        }
        Ok(self.counter.get_or_insert(Counter { next: 1, dirty: false }))
    }
}

impl Snapshot for PgTransaction<'_> {
    fn subject_versions(&self, subject: &Subject) -> Result<Vec<(Version, VersionRecord)>> {
        if let Some(known) = self.known_versions(subject) {
            return Ok(known.clone());
        }
        let sql = "SELECT version, id, deleted, semver, state, registered FROM registry_versions WHERE subject = $1 ORDER BY version";
        let rows = self.conn.query(sql, vec![text(subject.as_str())])?;
        rows.iter().map(|row| Ok((version(get(row, 0)?)?, version_record(row, 1)?))).collect()
    }

    fn newest_live_version(&self, subject: &Subject) -> Result<Option<(Version, SchemaId)>> {
        if let Some(known) = self.known_versions(subject) {
            return Ok(known.iter().rev().find(|(_, r)| r.is_current()).map(|(v, r)| (*v, r.id)));
        }
        let sql = "SELECT version, id FROM registry_versions WHERE subject = $1 AND NOT deleted AND state <> 'DRAFT' \
                   ORDER BY version DESC LIMIT 1";
        let rows = self.conn.query(sql, vec![text(subject.as_str())])?;
        rows.first().map(|row| Ok((version(get(row, 0)?)?, id(get(row, 1)?)?))).transpose()
    }

    fn version(&self, subject: &Subject, version: Version) -> Result<Option<VersionRecord>> {
        if let Some(known) = self.known_versions(subject) {
            return Ok(known.iter().find(|(v, _)| *v == version).map(|(_, r)| *r));
        }
        let sql =
            "SELECT id, deleted, semver, state, registered FROM registry_versions WHERE subject = $1 AND version = $2";
        let rows = self.conn.query(sql, vec![text(subject.as_str()), Box::new(i64::from(version.get()))])?;
        rows.first().map(|row| version_record(row, 0)).transpose()
    }

    fn scan_versions(&self, prefix: &str, visit: &mut dyn FnMut(VersionRow<'_>) -> Result<bool>) -> Result<()> {
        let sql = "SELECT subject, version, id, deleted, semver, state, registered FROM registry_versions \
                   WHERE subject >= $1 AND starts_with(subject, $1) ORDER BY subject, version";
        for row in self.conn.query(sql, vec![text(prefix)])? {
            let name: &str = get(&row, 0)?;
            let number = u32::try_from(get::<i64>(&row, 1)?).map_err(corrupt)?;
            if !visit((name, number, version_record(&row, 2)?))? {
                break;
            }
        }
        Ok(())
    }

    fn schema(&self, id: SchemaId) -> Result<Option<StoredSchema>> {
        let sql = "SELECT schema_type, schema, refs, fingerprint, contract FROM registry_schemas WHERE id = $1";
        let rows = self.conn.query(sql, vec![Box::new(i64::from(id.0))])?;
        let Some(row) = rows.first() else { return Ok(None) };
        let references: Vec<SchemaReference> = serde_json::from_str(get(row, 2)?).map_err(corrupt)?;
        let schema_type = get::<&str>(row, 0)?.parse().map_err(corrupt)?;
        let contract = contract_from_json(get::<Option<&str>>(row, 4)?.unwrap_or_default())?;
        Ok(Some(StoredSchema::new(id, schema_type, get(row, 1)?, references, fingerprint(get(row, 3)?)?, contract)))
    }

    fn schema_count(&self) -> Result<u64> {
        let rows = self.conn.query("SELECT count(*) FROM registry_schemas", vec![])?;
        u64::try_from(get::<i64>(&rows[0], 0)?).map_err(corrupt)
    }

    fn id_of(&self, fingerprint: &Fingerprint) -> Result<Option<SchemaId>> {
        if let Some(known) = self.known.as_ref().and_then(|known| known.ids.get(fingerprint.0.as_slice())) {
            return Ok(*known);
        }
        let rows = self.conn.query("SELECT id FROM registry_ids WHERE fingerprint = $1", vec![bytes(fingerprint)])?;
        rows.first().map(|row| id(get(row, 0)?)).transpose()
    }

    fn fingerprint_of(&self, id: SchemaId) -> Result<Option<Fingerprint>> {
        let rows =
            self.conn.query("SELECT fingerprint FROM registry_ids WHERE id = $1", vec![Box::new(i64::from(id.0))])?;
        rows.first().map(|row| fingerprint(get(row, 0)?)).transpose()
    }

    fn uses(&self, id: SchemaId) -> Result<Vec<(Subject, Version)>> {
        let sql = "SELECT subject, version FROM registry_versions WHERE id = $1 ORDER BY subject, version";
        let rows = self.conn.query(sql, vec![Box::new(i64::from(id.0))])?;
        rows.iter().map(|row| Ok((Subject::new(get(row, 0)?).map_err(corrupt)?, version(get(row, 1)?)?))).collect()
    }

    fn referrers(&self, subject: &Subject, version: Version) -> Result<Vec<SchemaId>> {
        let sql = "SELECT referrer FROM registry_references WHERE subject = $1 AND version = $2 ORDER BY referrer";
        let rows = self.conn.query(sql, vec![text(subject.as_str()), Box::new(i64::from(version.get()))])?;
        rows.iter().map(|row| id(get(row, 0)?)).collect()
    }

    fn config(&self, scope: &str) -> Result<ConfigRecord> {
        if let Some(record) = self.settings.borrow().get(scope) {
            return Ok(record.clone());
        }
        let sql = "SELECT compatibility, mode, settings FROM registry_config WHERE scope = $1";
        let rows = self.conn.query(sql, vec![text(scope)])?;
        let record = rows.first().map(|row| config_record(row, 0)).transpose()?.unwrap_or_default();
        self.settings.borrow_mut().insert(scope.to_string(), record.clone());
        Ok(record)
    }

    fn configs(&self) -> Result<Vec<(String, ConfigRecord)>> {
        let rows = self
            .conn
            .query("SELECT scope, compatibility, mode, settings FROM registry_config ORDER BY scope", vec![])?;
        rows.iter().map(|row| Ok((get(row, 0)?, config_record(row, 1)?))).collect()
    }

    fn bindings(&self) -> Result<Vec<(SchemaId, Fingerprint)>> {
        let rows = self.conn.query("SELECT id, fingerprint FROM registry_ids ORDER BY id", vec![])?;
        rows.iter().map(|row| Ok((id(get(row, 0)?)?, fingerprint(get(row, 1)?)?))).collect()
    }

    fn ids_by_guid(&self, guid: &SchemaGuid) -> Result<Vec<SchemaId>> {
        let sql = "SELECT id FROM registry_schemas WHERE guid = $1 ORDER BY id";
        let rows = self.conn.query(sql, vec![Box::new(guid.0.to_vec())])?;
        rows.iter().map(|row| id(get(row, 0)?)).collect()
    }

    fn kek(&self, name: &str) -> Result<Option<Kek>> {
        let rows = self.conn.query("SELECT record FROM registry_keks WHERE name = $1", vec![text(name)])?;
        rows.first().map(|row| key_from_json(get(row, 0)?)).transpose()
    }

    fn keks(&self) -> Result<Vec<Kek>> {
        let rows = self.conn.query("SELECT record FROM registry_keks ORDER BY name", vec![])?;
        rows.iter().map(|row| key_from_json(get(row, 0)?)).collect()
    }

    fn deks(&self, kek: &str, subject: Option<&str>) -> Result<Vec<Dek>> {
        let rows = match subject {
            Some(subject) => self.conn.query(
                "SELECT record FROM registry_deks WHERE kek = $1 AND subject = $2 ORDER BY algorithm, version",
                vec![text(kek), text(subject)],
            )?,
            None => self.conn.query(
                "SELECT record FROM registry_deks WHERE kek = $1 ORDER BY subject, algorithm, version",
                vec![text(kek)],
            )?,
        };
        rows.iter().map(|row| key_from_json(get(row, 0)?)).collect()
    }

    fn dek_count(&self) -> Result<u64> {
        let rows = self.conn.query("SELECT count(*) FROM registry_deks", vec![])?;
        u64::try_from(get::<i64>(&rows[0], 0)?).map_err(corrupt)
    }

    fn contexts(&self) -> Result<Vec<String>> {
        let rows = self.conn.query("SELECT name FROM registry_contexts ORDER BY name", vec![])?;
        rows.iter().map(|row| get(row, 0)).collect()
    }

    fn context_id(&self, context: &str, id: u32) -> Result<Option<SchemaId>> {
        let sql = "SELECT stored FROM registry_context_ids WHERE context = $1 AND id = $2";
        let rows = self.conn.query(sql, vec![text(context), Box::new(i64::from(id))])?;
        rows.first().map(|row| self::id(get(row, 0)?)).transpose()
    }

    fn id_context(&self, id: SchemaId) -> Result<Option<(String, u32)>> {
        let sql = "SELECT context, id FROM registry_context_ids WHERE stored = $1";
        let rows = self.conn.query(sql, vec![Box::new(i64::from(id.0))])?;
        rows.first().map(|row| Ok((get(row, 0)?, self::id(get(row, 1)?)?.0))).transpose()
    }

    fn audit_entries(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        let sql = "SELECT seq, entry FROM registry_audit WHERE seq >= $1 ORDER BY seq LIMIT $2";
        let (from, limit) = (i64::try_from(from).unwrap_or(i64::MAX), i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = self.conn.query(sql, vec![Box::new(from), Box::new(limit)])?;
        rows.iter().map(audit_row).collect()
    }

    fn audit_head(&self) -> Result<Option<(u64, Vec<u8>)>> {
        let rows = self.conn.query("SELECT seq, entry FROM registry_audit ORDER BY seq DESC LIMIT 1", vec![])?;
        rows.first().map(audit_row).transpose()
    }

    fn max_id(&self) -> Result<u32> {
        let rows = self.conn.query("SELECT value FROM registry_meta WHERE key = 'next_id'", vec![])?;
        let next: i64 = rows.first().map_or(Ok(1), |row| get(row, 0))?;
        Ok(u32::try_from(next.saturating_sub(1)).unwrap_or(u32::MAX))
    }

    fn context_max_id(&self, context: &str) -> Result<u32> {
        let sql = "SELECT max_id FROM registry_context_max_ids WHERE name = $1";
        let rows = self.conn.query(sql, vec![text(context)])?;
        rows.first().map_or(Ok(0), |row| Ok(self::id(get(row, 0)?)?.0))
    }
}

/// Gives every schema row written before the GUID column its GUID (inside the migration's transaction).
fn index_guids(conn: &Conn<'_>) -> Result<()> {
    let rows = conn.query("SELECT id, schema, refs, contract FROM registry_schemas WHERE guid IS NULL", vec![])?;
    for row in &rows {
        let references: Vec<SchemaReference> = serde_json::from_str(get(row, 2)?).map_err(corrupt)?;
        let contract = contract_from_json(get::<Option<&str>>(row, 3)?.unwrap_or_default())?;
        let text: &str = get(row, 1)?;
        let guid = SchemaGuid::compute(text, &references, contract.metadata.as_ref(), contract.rule_set.as_ref());
        let params: Params = vec![Box::new(guid.0.to_vec()), Box::new(get::<i64>(row, 0)?)];
        conn.queue("UPDATE registry_schemas SET guid = $1 WHERE id = $2", params);
    }
    tracing::info!(schemas = rows.len(), "indexed the schemas' GUIDs");
    Ok(())
}

/// Gives the rows of `formats` their canonical texts, fingerprints and GUIDs (inside the migration's transaction;
/// [`super::canonical::rewrites`]).
fn canonicalize(conn: &Conn<'_>, formats: &[SchemaType]) -> Result<()> {
    let rows =
        conn.query("SELECT id, schema_type, schema, refs, fingerprint, contract FROM registry_schemas", vec![])?;
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        let id = SchemaId(u32::try_from(get::<i64>(row, 0)?).map_err(corrupt)?);
        let schema_type = get::<&str>(row, 1)?.parse().map_err(corrupt)?;
        let references = serde_json::from_str(get(row, 3)?).map_err(corrupt)?;
        let contract = contract_from_json(get::<Option<&str>>(row, 5)?.unwrap_or_default())?;
        records.push(StoredSchema::new(
            id,
            schema_type,
            get(row, 2)?,
            references,
            fingerprint(get(row, 4)?)?,
            contract,
        ));
    }
    let mut versions = HashMap::new();
    for row in &conn.query("SELECT subject, version, id FROM registry_versions", vec![])? {
        versions.insert((get::<String>(row, 0)?, get::<i64>(row, 1)?), get::<i64>(row, 2)?);
    }
    let mut holders = HashMap::new();
    for row in &conn.query("SELECT fingerprint, id FROM registry_ids", vec![])? {
        holders.insert(get::<Vec<u8>>(row, 0)?, SchemaId(u32::try_from(get::<i64>(row, 1)?).map_err(corrupt)?));
    }
    let by_id: HashMap<SchemaId, StoredSchema> = records.iter().map(|s| (s.id, s.clone())).collect();
    let text_of = |reference: &SchemaReference| -> Result<Option<StoredSchema>> {
        let key = (reference.subject.as_str().to_string(), i64::from(reference.version.get()));
        let id = versions.get(&key).and_then(|id| u32::try_from(*id).ok());
        Ok(id.and_then(|id| by_id.get(&SchemaId(id)).cloned()))
    };
    let holder = |fingerprint: &Fingerprint| Ok(holders.get(fingerprint.0.as_slice()).copied());
    let mut contexts = HashMap::new();
    // The table comes with migration 7: a database migrated from before it has no context yet.
    if conn
        .query("SELECT to_regclass('registry_context_ids') IS NOT NULL", vec![])?
        .first()
        .map(|row| get::<bool>(row, 0))
        .transpose()?
        == Some(true)
    {
        for row in &conn.query("SELECT stored, context FROM registry_context_ids", vec![])? {
            contexts.insert(u32::try_from(get::<i64>(row, 0)?).map_err(corrupt)?, get::<String>(row, 1)?);
        }
    }
    let context = |id: SchemaId| Ok(contexts.get(&id.0).cloned());
    let rewrites = super::canonical::rewrites(records, formats, &text_of, &holder, &context)?;
    for rewrite in &rewrites {
        let after = &rewrite.after;
        let params: Params = vec![
            text(&after.text),
            bytes(&after.fingerprint),
            Box::new(after.guid().0.to_vec()),
            Box::new(i64::from(after.id.0)),
        ];
        conn.queue("UPDATE registry_schemas SET schema = $1, fingerprint = $2, guid = $3 WHERE id = $4", params);
    }
    // Unbind every old identity before binding any new one: one id's old fingerprint may be another's new.
    for rewrite in rewrites.iter().filter(|r| r.rebind) {
        conn.queue("DELETE FROM registry_ids WHERE id = $1", vec![Box::new(i64::from(rewrite.before.id.0))]);
    }
    for rewrite in rewrites.iter().filter(|r| r.rebind) {
        let params: Params = vec![Box::new(i64::from(rewrite.before.id.0)), bytes(&rewrite.after.fingerprint)];
        conn.queue("INSERT INTO registry_ids (id, fingerprint) VALUES ($1, $2)", params);
    }
    tracing::info!(schemas = rewrites.len(), "gave the schemas their canonical texts");
    Ok(())
}

/// Settings from the row's columns `from..from + 3` (compatibility, mode, settings).
fn config_record(row: &Row, from: usize) -> Result<ConfigRecord> {
    let record = ConfigRecord {
        compatibility: get::<Option<&str>>(row, from)?.map(str::parse).transpose().map_err(corrupt)?,
        mode: get::<Option<&str>>(row, from + 1)?.map(str::parse).transpose().map_err(corrupt)?,
        settings: None,
    };
    Ok(record.with_settings(settings_from_json(get::<Option<&str>>(row, from + 2)?.unwrap_or_default())?))
}

impl Transaction for PgTransaction<'_> {
    fn put_version(&mut self, subject: &Subject, version: Version, record: VersionRecord) -> Result<()> {
        if let Some(known) = self.known_versions_mut(subject) {
            match known.binary_search_by_key(&version, |(v, _)| *v) {
                Ok(at) => known[at].1 = record,
                Err(at) => known.insert(at, (version, record)),
            }
        }
        let sql = "INSERT INTO registry_versions (subject, version, id, deleted, semver, state, registered) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (subject, version) DO UPDATE \
                   SET id = excluded.id, deleted = excluded.deleted, semver = excluded.semver, state = excluded.state, \
                   registered = excluded.registered";
        let params: Params = vec![
            text(subject.as_str()),
            Box::new(i64::from(version.get())),
            Box::new(i64::from(record.id.0)),
            Box::new(record.deleted),
            Box::new(record.semver.to_string()),
            Box::new(record.state.as_str()),
            Box::new(record.registered.and_then(|ms| i64::try_from(ms).ok())),
        ];
        self.conn.queue(sql, params);
        Ok(())
    }

    fn remove_version(&mut self, subject: &Subject, version: Version) -> Result<()> {
        if let Some(known) = self.known_versions_mut(subject) {
            known.retain(|(v, _)| *v != version);
        }
        let sql = "DELETE FROM registry_versions WHERE subject = $1 AND version = $2";
        self.conn.queue(sql, vec![text(subject.as_str()), Box::new(i64::from(version.get()))]);
        Ok(())
    }

    fn put_schema(&mut self, schema: &StoredSchema) -> Result<()> {
        let sql = "INSERT INTO registry_schemas (id, schema_type, schema, refs, fingerprint, contract, guid) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) \
                   ON CONFLICT (id) DO UPDATE SET schema_type = excluded.schema_type, schema = excluded.schema, \
                   refs = excluded.refs, fingerprint = excluded.fingerprint, contract = excluded.contract, \
                   guid = excluded.guid";
        let references = serde_json::to_string(&schema.references).map_err(|e| StorageError::new(STORE, e))?;
        let contract = match schema.contract.is_none() {
            true => None,
            false => Some(serde_json::to_string(&schema.contract).map_err(|e| StorageError::new(STORE, e))?),
        };
        let params: Params = vec![
            Box::new(i64::from(schema.id.0)),
            text(schema.schema_type.as_str()),
            Box::new(schema.text.clone()),
            Box::new(references),
            bytes(&schema.fingerprint),
            Box::new(contract),
            Box::new(schema.guid().0.to_vec()),
        ];
        self.conn.queue(sql, params);
        Ok(())
    }

    fn remove_schema(&mut self, id: SchemaId) -> Result<()> {
        self.conn.queue("DELETE FROM registry_schemas WHERE id = $1", vec![Box::new(i64::from(id.0))]);
        Ok(())
    }

    fn bind(&mut self, fingerprint: &Fingerprint, id: SchemaId) -> Result<()> {
        if let Some(known) = self.known.as_mut() {
            known.ids.insert(fingerprint.0.to_vec(), Some(id));
        }
        // A fingerprint bound to another id is a broken invariant, so only the id's conflict is expected.
        let sql = "INSERT INTO registry_ids (id, fingerprint) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING";
        self.conn.queue(sql, vec![Box::new(i64::from(id.0)), bytes(fingerprint)]);
        Ok(())
    }

    /// Uses are the versions table's rows, found through its index on ids: nothing to record.
    fn add_use(&mut self, _id: SchemaId, _subject: &Subject, _version: Version) -> Result<()> {
        Ok(())
    }

    fn remove_use(&mut self, _id: SchemaId, _subject: &Subject, _version: Version) -> Result<()> {
        Ok(())
    }

    fn add_referrer(&mut self, reference: &SchemaReference, referrer: SchemaId) -> Result<()> {
        let sql = "INSERT INTO registry_references (subject, version, referrer) VALUES ($1, $2, $3) \
                   ON CONFLICT DO NOTHING";
        self.conn.queue(sql, referrer_params(reference, referrer));
        Ok(())
    }

    fn remove_referrer(&mut self, reference: &SchemaReference, referrer: SchemaId) -> Result<()> {
        let sql = "DELETE FROM registry_references WHERE subject = $1 AND version = $2 AND referrer = $3";
        self.conn.queue(sql, referrer_params(reference, referrer));
        Ok(())
    }

    fn put_config(&mut self, scope: &str, record: ConfigRecord) -> Result<()> {
        self.settings.borrow_mut().insert(scope.to_string(), record.clone());
        if record == ConfigRecord::default() {
            self.conn.queue("DELETE FROM registry_config WHERE scope = $1", vec![text(scope)]);
            return Ok(());
        }
        let sql = "INSERT INTO registry_config (scope, compatibility, mode, settings) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (scope) DO UPDATE SET compatibility = excluded.compatibility, mode = excluded.mode, \
                   settings = excluded.settings";
        let settings = match &record.settings {
            None => None,
            Some(settings) => Some(serde_json::to_string(&**settings).map_err(|e| StorageError::new(STORE, e))?),
        };
        let params: Params = vec![
            text(scope),
            Box::new(record.compatibility.map(|level| level.as_str().to_string())),
            Box::new(record.mode.map(|mode| mode.as_str().to_string())),
            Box::new(settings),
        ];
        self.conn.queue(sql, params);
        Ok(())
    }

    fn put_kek(&mut self, kek: &Kek) -> Result<()> {
        let sql = "INSERT INTO registry_keks (name, record) VALUES ($1, $2) \
                   ON CONFLICT (name) DO UPDATE SET record = excluded.record";
        self.conn.queue(sql, vec![text(&kek.name), Box::new(key_to_json(kek)?)]);
        Ok(())
    }

    fn remove_kek(&mut self, name: &str) -> Result<()> {
        self.conn.queue("DELETE FROM registry_keks WHERE name = $1", vec![text(name)]);
        Ok(())
    }

    fn put_dek(&mut self, dek: &Dek) -> Result<()> {
        let sql = "INSERT INTO registry_deks (kek, subject, algorithm, version, record) VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (kek, subject, algorithm, version) DO UPDATE SET record = excluded.record";
        let mut params = dek_key(dek);
        params.push(Box::new(key_to_json(dek)?));
        self.conn.queue(sql, params);
        Ok(())
    }

    fn remove_dek(&mut self, dek: &Dek) -> Result<()> {
        let sql = "DELETE FROM registry_deks WHERE kek = $1 AND subject = $2 AND algorithm = $3 AND version = $4";
        self.conn.queue(sql, dek_key(dek));
        Ok(())
    }

    fn hold_schema(&mut self, id: SchemaId) -> Result<bool> {
        let sql = "SELECT 1 FROM registry_schemas WHERE id = $1 FOR UPDATE";
        Ok(!self.conn.query(sql, vec![Box::new(i64::from(id.0))])?.is_empty())
    }

    /// The id counter's row lock: every allocation and reservation takes it.
    fn hold_ids(&mut self) -> Result<()> {
        self.counter().map(drop)
    }

    fn allocate_id(&mut self) -> Result<SchemaId> {
        let counter = self.counter()?;
        let id = u32::try_from(counter.next)
            .ok()
            .filter(|id| *id < super::FIRST_CONTEXT_ID)
            .map(SchemaId)
            .ok_or(RegistryError::IdsExhausted)?;
        *counter = Counter { next: counter.next + 1, dirty: true };
        Ok(id)
    }

    fn reserve_id(&mut self, id: SchemaId) -> Result<()> {
        let counter = self.counter()?;
        if counter.next <= i64::from(id.0) {
            *counter = Counter { next: i64::from(id.0) + 1, dirty: true };
        }
        Ok(())
    }

    fn add_context(&mut self, context: &str) -> Result<()> {
        let sql = "INSERT INTO registry_contexts (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
        self.conn.queue(sql, vec![text(context)]);
        Ok(())
    }

    fn remove_context(&mut self, context: &str) -> Result<()> {
        self.conn.queue("DELETE FROM registry_contexts WHERE name = $1", vec![text(context)]);
        Ok(())
    }

    /// The context's row is locked first: two transactions allocating in one context take turns.
    fn allocate_in_context(&mut self, context: &str) -> Result<(SchemaId, u32)> {
        let sql = "INSERT INTO registry_context_max_ids (name, max_id) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING";
        self.conn.queue(sql, vec![text(context)]);
        let sql = "SELECT max_id FROM registry_context_max_ids WHERE name = $1 FOR UPDATE";
        let rows = self.conn.query(sql, vec![text(context)])?;
        let max: i64 = rows.first().map_or(Ok(0), |row| get(row, 0))?;
        let id = u32::try_from(max + 1).ok().filter(|id| *id <= i32::MAX as u32).ok_or(RegistryError::IdsExhausted)?;
        Ok((self.reserve_in_context(context, id)?, id))
    }

    fn reserve_in_context(&mut self, context: &str, id: u32) -> Result<SchemaId> {
        if let Some(stored) = self.context_id(context, id)? {
            return Ok(stored);
        }
        let sql = "UPDATE registry_meta SET value = value + 1 WHERE key = 'next_context_id' RETURNING value - 1";
        let rows = self.conn.query(sql, vec![])?;
        let row = rows.first().ok_or_else(|| corrupt("registry_meta has no next_context_id row"))?;
        let stored = u32::try_from(get::<i64>(row, 0)?).map(SchemaId).map_err(|_| RegistryError::IdsExhausted)?;
        self.map_context_id(context, id, stored)?;
        Ok(stored)
    }

    /// The audit log's row in `registry_meta`, locked until the transaction ends: appenders take turns.
    fn hold_audit(&mut self) -> Result<()> {
        if !self.audit_held {
            self.conn.query("SELECT value FROM registry_meta WHERE key = 'audit' FOR UPDATE", vec![])?;
            self.audit_held = true;
        }
        Ok(())
    }

    fn append_audit(&mut self, seq: u64, entry: &[u8]) -> Result<()> {
        let entry = std::str::from_utf8(entry).map_err(|e| StorageError::new(STORE, e))?.to_string();
        let seq = i64::try_from(seq).map_err(|e| StorageError::new(STORE, e))?;
        self.conn
            .queue("INSERT INTO registry_audit (seq, entry) VALUES ($1, $2)", vec![Box::new(seq), Box::new(entry)]);
        Ok(())
    }

    fn map_context_id(&mut self, context: &str, id: u32, stored: SchemaId) -> Result<()> {
        let sql = "INSERT INTO registry_context_ids (context, id, stored) VALUES ($1, $2, $3) \
                   ON CONFLICT (context, id) DO NOTHING";
        self.conn.queue(sql, vec![text(context), Box::new(i64::from(id)), Box::new(i64::from(stored.0))]);
        let sql = "INSERT INTO registry_context_max_ids (name, max_id) VALUES ($1, $2) \
                   ON CONFLICT (name) DO UPDATE SET max_id = greatest(registry_context_max_ids.max_id, excluded.max_id)";
        self.conn.queue(sql, vec![text(context), Box::new(i64::from(id))]);
        let sql = "UPDATE registry_meta SET value = greatest(value, $1) WHERE key = 'next_context_id'";
        self.conn.queue(sql, vec![Box::new(i64::from(stored.0) + 1)]);
        Ok(())
    }

    /// Each change once: a group commit of many versions of one subject announces it once.
    fn publish(&mut self, change: &Change) -> Result<()> {
        if !self.changes.contains(change) {
            self.changes.push(change.clone());
        }
        Ok(())
    }
}

/// A DEK's key columns: KEK, subject, algorithm, version.
fn dek_key(dek: &Dek) -> Params {
    vec![text(&dek.kek_name), text(&dek.subject), text(dek.algorithm.as_str()), Box::new(i64::from(dek.version))]
}

/// A KEK or DEK stored as JSON.
fn key_from_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| corrupt(format!("a stored key cannot be read: {e}")))
}

/// A KEK or DEK as stored.
fn key_to_json(key: &impl Serialize) -> Result<String> {
    serde_json::to_string(key).map_err(|e| StorageError::new(STORE, e).into())
}

/// An id read back from the database (a `bigint`; the registry's are `u32`).
fn id(value: i64) -> Result<SchemaId> {
    u32::try_from(value).map(SchemaId).map_err(corrupt)
}

fn version(value: i64) -> Result<Version> {
    Version::new(u32::try_from(value).map_err(corrupt)?).map_err(corrupt)
}

fn fingerprint(bytes: &[u8]) -> Result<Fingerprint> {
    Ok(Fingerprint(bytes.try_into().map_err(|_| corrupt("a fingerprint is not 32 bytes"))?))
}

/// A version record from the row's columns `from..from + 5` (id, deleted, semver, state, registered).
fn version_record(row: &Row, from: usize) -> Result<VersionRecord> {
    let registered: Option<i64> = get(row, from + 4)?;
    Ok(VersionRecord {
        id: id(get(row, from)?)?,
        deleted: get(row, from + 1)?,
        semver: get::<&str>(row, from + 2)?.parse().map_err(corrupt)?,
        state: get::<&str>(row, from + 3)?.parse().map_err(corrupt)?,
        registered: registered.map(|ms| u64::try_from(ms).map_err(corrupt)).transpose()?,
    })
}

/// An audit row: its sequence number and entry.
fn audit_row(row: &Row) -> Result<(u64, Vec<u8>)> {
    let seq = u64::try_from(get::<i64>(row, 0)?).map_err(corrupt)?;
    Ok((seq, get::<&str>(row, 1)?.as_bytes().to_vec()))
}

fn get<'r, T: tokio_postgres::types::FromSql<'r>>(row: &'r Row, column: usize) -> Result<T> {
    row.try_get(column).map_err(corrupt)
}

fn text(value: &str) -> Box<dyn ToSql + Send + Sync> {
    Box::new(value.to_string())
}

fn bytes(fingerprint: &Fingerprint) -> Box<dyn ToSql + Send + Sync> {
    Box::new(fingerprint.0.to_vec())
}

fn referrer_params(reference: &SchemaReference, referrer: SchemaId) -> Params {
    vec![
        text(reference.subject.as_str()),
        Box::new(i64::from(reference.version.get())),
        Box::new(i64::from(referrer.0)),
    ]
}

fn corrupt(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Corrupt(e.to_string())
}

fn unavailable(message: &'static str) -> RegistryError {
    StorageError::down(STORE, message).into()
}

/// A driver error: "unavailable" when the database could not be reached or went away (the operation may
/// succeed once it is back), a plain storage error otherwise.
fn pg_error(e: tokio_postgres::Error) -> RegistryError {
    let unreachable = e.is_closed()
        || std::error::Error::source(&e).is_some_and(|source| source.is::<std::io::Error>())
        || e.code().is_some_and(|code| {
            code.code().starts_with("08")
                || [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW].contains(code)
                || *code == SqlState::TOO_MANY_CONNECTIONS
        });
    if unreachable { StorageError::unavailable(STORE, e).into() } else { StorageError::new(STORE, e).into() }
}

fn pool_error(e: PoolError) -> RegistryError {
    match e {
        PoolError::Backend(e) => pg_error(e),
        other => StorageError::unavailable(STORE, other).into(),
    }
}

/// The notice a transaction's `changes` make, as JSON: `Change::Unknown` when the list is too long to send.
fn notice(origin: u64, changes: Vec<Change>) -> Result<String> {
    let encode =
        |notice: &Notice| serde_json::to_string(notice).map_err(|e| RegistryError::from(StorageError::new(STORE, e)));
    let full = encode(&Notice { origin, changes })?;
    if full.len() <= MAX_NOTICE { Ok(full) } else { encode(&Notice { origin, changes: vec![Change::Unknown] }) }
}

/// host:port/database of a connection's settings, without any password.
fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", config.get_dbname().unwrap_or(""))
}

/// The notice channel of the registry in schema `namespace`: one per schema, so registries in different schemas
/// of one database stay apart. A channel name is an identifier, 63 bytes at most: a long schema name is hashed.
fn channel_of(namespace: &str) -> String {
    if namespace.len() <= 40 {
        return format!("registry_changes:{namespace}");
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(namespace.as_bytes());
    format!("registry_changes:{}", registry_core::hex(&digest[..8]))
}

/// A number telling this process's notices from other instances'.
fn origin() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one((std::process::id(), Instant::now()))
}

/// Listens for other instances' notices on a connection of its own, for as long as the store lives: each one
/// drops from `caches` what its changes made stale. While the connection is down, the caches of answers
/// another instance can change are off (`Caches::set_blind`); once it is back, every cache is dropped, since
/// changes may have been missed meanwhile. `ready` hears of the first time it listens.
async fn listen(
    config: Config,
    channel: String,
    origin: u64,
    caches: Arc<Caches>,
    ready: std::sync::mpsc::SyncSender<()>,
) {
    let mut delay = Duration::from_millis(100);
    let mut listened = false;
    loop {
        if let Ok((client, mut connection)) = config.connect(NoTls).await {
            let (sender, mut notices) = tokio::sync::mpsc::unbounded_channel::<String>();
            let driver = tokio::spawn(async move {
                while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    match message {
                        Ok(AsyncMessage::Notification(notice)) => {
                            if sender.send(notice.payload().to_string()).is_err() {
                                break;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
            let quoted = format!("\"{}\"", channel.replace('"', "\"\""));
            if client.batch_execute(&format!("LISTEN {quoted}")).await.is_ok() {
                caches.set_blind(false);
                if !listened {
                    listened = true;
                    let _ = ready.try_send(());
                } else {
                    tracing::info!(channel, "listening for other instances' changes again: caches are back on");
                }
                delay = Duration::from_millis(100);
                while let Some(payload) = notices.recv().await {
                    hear(&caches, origin, &payload);
                }
            }
            driver.abort();
        }
        if listened {
            tracing::warn!(
                channel,
                "lost the connection that hears other instances' changes: caches are off until it is back"
            );
        }
        caches.set_blind(true);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Applies another instance's notice to the caches; one that cannot be read drops them all.
fn hear(caches: &Caches, origin: u64, payload: &str) {
    match serde_json::from_str::<Notice>(payload) {
        Ok(notice) if notice.origin == origin => {}
        Ok(notice) => notice.changes.iter().for_each(|change| caches.apply(change)),
        Err(e) => {
            tracing::warn!(error = %e, "a change notice cannot be read: dropping every cache");
            caches.apply(&Change::Unknown);
        }
    }
}
