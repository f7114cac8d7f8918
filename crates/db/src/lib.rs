//! PostgreSQL access for Customer Manager: the diesel schema, row structs, one module of query
//! functions per table, the connection pool and the embedded migrations.
//!
//! Query functions take `&mut PgConnection` and return `QueryResult`; callers in async code run
//! them on a blocking thread (`actix_web::web::block`). No SQL lives outside this crate.

pub mod api_tokens;
pub mod audit;
pub mod backup;
pub mod customers;
pub mod explain;
pub mod idempotency;
pub mod invoices;
pub mod live;
pub mod login_attempts;
pub mod messages;
pub mod page;
pub mod pool;
pub mod reminders;
pub mod schema;
pub mod sessions;
pub mod stale_receipts;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use diesel::result::Error as QueryError;
pub use pool::PoolWatch;

/// The migrations of `migrations/`, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// A pool of PostgreSQL connections.
pub type PgPool = Pool<pool::Manager>;
/// One connection borrowed from the pool.
pub type PgPooledConnection = PooledConnection<pool::Manager>;

/// Errors of set-up work: connecting, creating the database, migrating.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The database URL could not be read.
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    BadUrl(String),
    /// The server did not accept a connection.
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[from] diesel::ConnectionError),
    /// A statement failed.
    #[error("PostgreSQL refused a set-up statement: {0}")]
    Query(#[from] diesel::result::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
}

/// Builds a pool without connecting: the first query connects, and fails within
/// `connect_timeout` when PostgreSQL is down, instead of hanging or failing start-up. The pool
/// reports to `watch`, and checks connections (`SELECT 1`) as they are taken only while `watch`
/// doubts them (see [`pool::Manager`]): callers report failed work with
/// [`PoolWatch::check_after_failure`] so that a connection left dead by a restart of
/// PostgreSQL is dropped, and the others are checked before they are used.
pub fn build_pool(
    database_url: &str,
    max_size: u32,
    connect_timeout: Duration,
    watch: Arc<PoolWatch>,
) -> PgPool {
    Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .idle_timeout(Some(pool::IDLE_TIMEOUT))
        .connection_timeout(connect_timeout)
        .test_on_check_out(true)
        .event_handler(Box::new(pool::Events(Arc::clone(&watch))))
        .error_handler(Box::new(pool::Errors(Arc::clone(&watch))))
        .build_unchecked(pool::Manager::new(database_url, watch))
}

/// Applies every pending migration; returns the versions applied.
pub fn run_migrations(conn: &mut PgConnection) -> Result<Vec<String>, SetupError> {
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| SetupError::Migration(e.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Creates the database named in `database_url` when it does not exist yet, by connecting to
/// the server's `postgres` maintenance database. Returns whether it was created.
pub fn ensure_database_exists(database_url: &str) -> Result<bool, SetupError> {
    let mut url = url::Url::parse(database_url).map_err(|e| SetupError::BadUrl(e.to_string()))?;
    let name = url.path().trim_start_matches('/').to_owned();
    if name.is_empty() {
        return Err(SetupError::BadUrl("it names no database".into()));
    }
    if PgConnection::establish(database_url).is_ok() {
        return Ok(false);
    }
    url.set_path("/postgres");
    let mut admin = PgConnection::establish(url.as_str())?;
    let exists = database_exists(&mut admin, &name)?;
    if exists {
        // The database is there; the first connection failed for another reason.
        PgConnection::establish(database_url)?;
        return Ok(false);
    }
    diesel::sql_query(format!("CREATE DATABASE {}", quote_identifier(&name)))
        .execute(&mut admin)?;
    Ok(true)
}

/// Whether the server has a database called `name`.
pub fn database_exists(conn: &mut PgConnection, name: &str) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Exists>(conn)
        .map(|row| row.exists)
}

/// Quotes an SQL identifier (a database name) for statements that can't bind one.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether an error means PostgreSQL is unreachable rather than that the query was wrong.
pub fn is_connection_error(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        error,
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ) | Error::BrokenTransactionManager
    )
}

/// Whether an error is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

diesel::define_sql_function! {
    /// SQL `lower(text)`, for case-insensitive comparison and ordering.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    /// SQL `lower(text)` for nullable columns.
    #[sql_name = "lower"]
    fn lower_nullable(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}
