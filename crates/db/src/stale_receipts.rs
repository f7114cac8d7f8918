//! Receipt files waiting to be removed from the object store (see the migration that makes
//! `stale_receipts` for the protocol): recorded before a file is written or when an invoice
//! lets go of it, claimed by the invoice that keeps it, swept when due.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Interval, Text, Timestamptz};

use crate::schema::stale_receipts;

/// Records that the file under `key` must be removed at `due_at` unless an invoice claims it
/// first. Recording a key again moves its due time.
pub fn schedule(conn: &mut PgConnection, key: &str, due_at: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(stale_receipts::table)
        .values((
            stale_receipts::key.eq(key),
            stale_receipts::due_at.eq(due_at),
        ))
        .on_conflict(stale_receipts::key)
        .do_update()
        .set(stale_receipts::due_at.eq(due_at))
        .execute(conn)
        .map(|_| ())
}

/// Claims the file under `key` for an invoice (or notes it is gone): it is no longer removed.
pub fn forget(conn: &mut PgConnection, key: &str) -> QueryResult<()> {
    diesel::delete(stale_receipts::table.find(key))
        .execute(conn)
        .map(|_| ())
}

/// Whether the file under `key` may be removed: its removal is recorded and no invoice points
/// to it. A key an invoice points to (a commit whose answer was lost, say) loses its record
/// instead, so it is never removed.
pub fn removable(conn: &mut PgConnection, key: &str) -> QueryResult<bool> {
    use crate::schema::invoices;
    use diesel::dsl::exists;
    conn.transaction(|conn| {
        let in_use: bool = diesel::select(exists(
            invoices::table.filter(invoices::receipt_key.eq(key)),
        ))
        .get_result(conn)?;
        if in_use {
            forget(conn, key)?;
            return Ok(false);
        }
        diesel::select(exists(stale_receipts::table.find(key))).get_result(conn)
    })
}

/// Takes up to `limit` keys that are due at `now`, pushing each one's due time `lease` later
/// so that a sweep that dies half-way is retried, and two API processes never take the same key
/// at once. Keys that an invoice points to (which the protocol never lets happen) are dropped
/// rather than returned, so a file in use is never removed.
pub fn take_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    lease: TimeDelta,
    limit: i32,
) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = Text)]
        key: String,
    }
    conn.transaction(|conn| {
        diesel::sql_query(
            "DELETE FROM stale_receipts s USING invoices i \
             WHERE s.key = i.receipt_key AND s.due_at <= $1",
        )
        .bind::<Timestamptz, _>(now)
        .execute(conn)?;
        let lease = diesel::pg::data_types::PgInterval::from_microseconds(
            lease.num_microseconds().unwrap_or(i64::MAX),
        );
        let keys: Vec<Key> = diesel::sql_query(
            "UPDATE stale_receipts SET due_at = $1 + $2, attempts = attempts + 1 \
             WHERE key IN (SELECT key FROM stale_receipts WHERE due_at <= $1 \
                           ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING key",
        )
        .bind::<Timestamptz, _>(now)
        .bind::<Interval, _>(lease)
        .bind::<Integer, _>(limit)
        .load(conn)?;
        Ok(keys.into_iter().map(|k| k.key).collect())
    })
}

/// Notes why removing the file under `key` failed (it stays due after its lease).
pub fn record_failure(conn: &mut PgConnection, key: &str, error: &str) -> QueryResult<()> {
    diesel::update(stale_receipts::table.find(key))
        .set(stale_receipts::last_error.eq(error))
        .execute(conn)
        .map(|_| ())
}

/// The keys waiting to be removed, soonest first (for tests and operators).
pub fn pending(conn: &mut PgConnection) -> QueryResult<Vec<(String, DateTime<Utc>)>> {
    stale_receipts::table
        .order((stale_receipts::due_at.asc(), stale_receipts::key.asc()))
        .select((stale_receipts::key, stale_receipts::due_at))
        .load(conn)
}
