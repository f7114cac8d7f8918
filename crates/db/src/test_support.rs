//! Per-test databases, cloned from a migrated template (the crates.io approach).
//!
//! The template is built once per version of the migrations, by whichever test process gets
//! there first, under a PostgreSQL advisory lock; each test then gets its own database with
//! `CREATE DATABASE … TEMPLATE …` (fast: a file copy) and drops it when done, even on panic.
//! Tests therefore run in parallel, in any order, with no state shared between them.
//!
//! The server comes from `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! its user must be allowed to create databases.
#![allow(clippy::expect_used, clippy::panic)] // Set-up failures end the test, with their reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use diesel::prelude::*;
use rand::Rng;

use crate::{PgPool, PoolWatch, build_pool, database_exists, quote_identifier, run_migrations};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const TEMPLATE_LOCK: i64 = 0x6372_6d5f_746d_706c; // "crm_tmpl"

/// A database of one's own for one test; dropped when this value is.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
    pool: PgPool,
    watch: Arc<PoolWatch>,
}

impl TestDatabase {
    /// Creates a fresh, migrated, empty database.
    pub fn new() -> Self {
        let admin_url = admin_url();
        let template = ensure_template(&admin_url);
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "crm_test_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::thread_rng().r#gen::<u32>()
        );
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin_url}: {e}"));
        diesel::sql_query(format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_identifier(&name),
            quote_identifier(&template)
        ))
        .execute(&mut admin)
        .expect("create the test database from the template");
        let url = with_database(&admin_url, &name);
        let watch = Arc::new(PoolWatch::default());
        let pool = build_pool(&url, 8, Duration::from_secs(10), Arc::clone(&watch));
        Self {
            name,
            url,
            admin_url,
            pool,
            watch,
        }
    }

    /// The database's connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A pool of connections to it.
    pub fn pool(&self) -> PgPool {
        self.pool.clone()
    }

    /// The watch its pool reports to ([`build_pool`]).
    pub fn pool_watch(&self) -> Arc<PoolWatch> {
        Arc::clone(&self.watch)
    }

    /// Ends every connection to the database, its pool's included, as a restart of PostgreSQL
    /// would, and waits until their server processes are gone.
    pub fn end_connections(&self) {
        #[derive(QueryableByName)]
        struct Ended {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            ended: i64,
        }
        let mut admin = PgConnection::establish(&self.admin_url)
            .expect("reach the test PostgreSQL to end connections");
        for _ in 0..250 {
            let left: Ended = diesel::sql_query(
                "SELECT count(pg_terminate_backend(pid)) AS ended FROM pg_stat_activity
                 WHERE datname = $1",
            )
            .bind::<diesel::sql_types::Text, _>(&self.name)
            .get_result(&mut admin)
            .expect("end the connections");
            if left.ended == 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the connections to {} did not end", self.name);
    }

    /// One connection to it.
    pub fn connection(&self) -> crate::PgPooledConnection {
        self.pool.get().expect("a connection to the test database")
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_identifier(&self.name)
            ))
            .execute(&mut admin);
        }
    }
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

fn with_database(url: &str, database: &str) -> String {
    let mut url = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

/// Makes sure the template for the current migrations exists; returns its name.
fn ensure_template(admin_url: &str) -> String {
    let template = format!("crm_test_template_{}", env!("CRM_MIGRATIONS_HASH"));
    let mut admin = PgConnection::establish(admin_url)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin_url}: {e}"));
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<diesel::sql_types::BigInt, _>(TEMPLATE_LOCK)
        .execute(&mut admin)
        .expect("take the template lock");
    if !database_exists(&mut admin, &template).expect("look up the template") {
        // Built under another name and renamed when complete, so a crash never leaves a
        // half-migrated template behind.
        let building = format!("{template}_building");
        let quoted = quote_identifier(&building);
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            .execute(&mut admin)
            .expect("drop a half-built template");
        diesel::sql_query(format!("CREATE DATABASE {quoted}"))
            .execute(&mut admin)
            .expect("create the template");
        {
            let mut conn = PgConnection::establish(&with_database(admin_url, &building))
                .expect("connect to the template");
            run_migrations(&mut conn).expect("migrate the template");
        }
        diesel::sql_query(format!(
            "ALTER DATABASE {quoted} RENAME TO {}",
            quote_identifier(&template)
        ))
        .execute(&mut admin)
        .expect("name the template");
    }
    let _ = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<diesel::sql_types::BigInt, _>(TEMPLATE_LOCK)
        .execute(&mut admin);
    template
}
