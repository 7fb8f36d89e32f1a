//! The stores the shared test files run against: the embedded one, and PostgreSQL when the `postgres` feature
//! is on (the workspace's tests turn it on; `scripts/test.sh` starts a server and names it in
//! `REGISTRY_TEST_POSTGRES`). Each PostgreSQL registry gets a schema of its own, so tests never see each other.

#![allow(dead_code)]

use registry_store::{Registry, RegistryOptions};

/// A store a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// redb, in memory.
    Redb,
    /// A fresh schema of the test PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres,
}

/// Every backend this build can test.
pub fn backends() -> Vec<Backend> {
    vec![
        Backend::Redb,
        #[cfg(feature = "postgres")]
        Backend::Postgres,
    ]
}

impl Backend {
    /// `n` registries over one new, empty store: clones of one registry on the embedded store (one process owns
    /// a redb file), separate instances with their own caches on PostgreSQL (as separate servers would be).
    pub fn instances(self, n: usize, options: RegistryOptions) -> Vec<Registry> {
        match self {
            Backend::Redb => vec![self.registry(options); n],
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let url = postgres::fresh_namespace();
                (0..n).map(|_| Registry::connect(&url, options.clone()).expect("a PostgreSQL registry")).collect()
            }
        }
    }

    /// A new, empty registry on this backend.
    pub fn registry(self, options: RegistryOptions) -> Registry {
        match self {
            Backend::Redb => Registry::in_memory(options).expect("an in-memory registry"),
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                Registry::connect(&postgres::fresh_namespace(), options).expect("a PostgreSQL registry")
            }
        }
    }
}

#[cfg(feature = "postgres")]
pub mod postgres {
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The test server's URL, from `scripts/test.sh`.
    pub fn base_url() -> String {
        std::env::var("REGISTRY_TEST_POSTGRES").expect(
            "REGISTRY_TEST_POSTGRES is not set: run ./scripts/test.sh, which starts PostgreSQL for the tests \
             (or point it at a database you own)",
        )
    }

    /// Runs SQL on the test server, as the test role.
    pub fn execute(sql: &str) {
        with_client(|client| async move { client.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")) });
    }

    /// The one `bigint` a query answers.
    pub fn number(sql: &str) -> i64 {
        with_client(|client| async move {
            client.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get::<_, i64>(0)
        })
    }

    fn with_client<T, F: std::future::Future<Output = T>>(work: impl FnOnce(tokio_postgres::Client) -> F) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async {
            let (client, connection) =
                tokio_postgres::connect(&base_url(), tokio_postgres::NoTls).await.expect("the test PostgreSQL answers");
            tokio::spawn(connection);
            work(client).await
        })
    }

    /// The schema a URL from [`fresh_namespace`] uses.
    pub fn schema_of(url: &str) -> &str {
        url.rsplit("search_path%3D").next().expect("a URL from fresh_namespace")
    }

    /// A URL whose connections use a new, empty schema of the test server.
    pub fn fresh_namespace() -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("t_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        execute(&format!("CREATE SCHEMA {name}"));
        let base = base_url();
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("{base}{separator}options=-csearch_path%3D{name}")
    }
}
