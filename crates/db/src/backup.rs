//! What a backup says about the database it holds, and whether a restore would overwrite
//! anything: counts of the records people care about.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

/// How many records of each kind a database holds (archived customers included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordCounts {
    /// Every customer, archived or not.
    pub customers: i64,
    /// Every invoice.
    pub invoices: i64,
    /// Every user account.
    pub users: i64,
}

/// The counts of a migrated database.
pub fn record_counts(conn: &mut PgConnection) -> QueryResult<RecordCounts> {
    use crate::schema::{customers, invoices, users};
    Ok(RecordCounts {
        customers: customers::table.count().get_result(conn)?,
        invoices: invoices::table.count().get_result(conn)?,
        users: users::table.count().get_result(conn)?,
    })
}

/// Whether the database holds any user, customer or invoice. A database without the tables
/// (never migrated) or with empty ones holds nothing a restore could destroy.
pub fn holds_records(conn: &mut PgConnection) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Migrated {
        #[diesel(sql_type = Bool)]
        migrated: bool,
    }
    let migrated = diesel::sql_query(
        "SELECT to_regclass('public.users') IS NOT NULL \
            AND to_regclass('public.customers') IS NOT NULL \
            AND to_regclass('public.invoices') IS NOT NULL AS migrated",
    )
    .get_result::<Migrated>(conn)?
    .migrated;
    if !migrated {
        // Some tables but not ours (or part of them): count any table as content.
        #[derive(QueryableByName)]
        struct Tables {
            #[diesel(sql_type = BigInt)]
            tables: i64,
        }
        let tables = diesel::sql_query(
            "SELECT count(*) AS tables FROM pg_catalog.pg_tables WHERE schemaname = 'public' \
                AND tablename <> '__diesel_schema_migrations'",
        )
        .get_result::<Tables>(conn)?
        .tables;
        return Ok(tables > 0);
    }
    let counts = record_counts(conn)?;
    Ok(counts.customers + counts.invoices + counts.users > 0)
}

/// Exports the transaction's snapshot for `pg_dump --snapshot`, so the dump sees exactly what
/// this transaction sees. Call it first in a `REPEATABLE READ` transaction, and keep the
/// transaction open until `pg_dump` has started.
pub fn export_snapshot(conn: &mut PgConnection) -> QueryResult<String> {
    #[derive(QueryableByName)]
    struct Snapshot {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    diesel::sql_query("SELECT pg_export_snapshot() AS id")
        .get_result::<Snapshot>(conn)
        .map(|row| row.id)
}

/// The storage keys of every invoice's receipt, in order.
pub fn receipt_keys(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    use crate::schema::invoices;
    invoices::table
        .select(invoices::receipt_key)
        .distinct()
        .order(invoices::receipt_key)
        .load(conn)
}
