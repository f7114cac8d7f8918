//! The log of live events behind `GET /api/v1/events`.
//!
//! Triggers write the events (see the migration), in the transaction of the change, whoever
//! makes it: an API process, a worker, a webhook. At commit PostgreSQL notifies
//! [`CHANNEL`]; each API process listens and reads what is new with [`after`].
//!
//! The order is the writing transactions' ids, then the row ids, and [`after`] only returns
//! rows of transactions older than every transaction still running. A transaction that took
//! a lower id but commits later can therefore never land behind a cursor already handed out:
//! a reader that follows cursors sees every event once.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use crm_domain::UserId;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};

/// The channel PostgreSQL notifies when events were written.
pub const CHANNEL: &str = "crm_live_events";

/// A position in the log: everything up to and including it has been seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    /// The writing transaction.
    pub tx: i64,
    /// The row.
    pub id: i64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.tx, self.id)
    }
}

impl FromStr for Cursor {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (tx, id) = text.trim().split_once('-').ok_or(())?;
        Ok(Self {
            tx: tx.parse().map_err(|_| ())?,
            id: id.parse().map_err(|_| ())?,
        })
    }
}

/// One event of the log.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Record {
    #[diesel(sql_type = BigInt)]
    pub tx: i64,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Only this user may see it; `None`: every signed-in user.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub user_id: Option<UserId>,
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// The payload, JSON.
    #[diesel(sql_type = Text)]
    pub data: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl Record {
    /// Where this event is in the log.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            tx: self.tx,
            id: self.id,
        }
    }

    /// Whether `user` may see it.
    pub fn is_for(&self, user: UserId) -> bool {
        self.user_id.is_none_or(|owner| owner == user)
    }
}

/// Starts listening for [`CHANNEL`] on this connection (keep it for the listening only).
pub fn listen(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(conn)
        .map(|_| ())
}

/// Whether a notification arrived on a listening connection since the last call (reads what
/// the socket holds without waiting).
pub fn notified(conn: &mut PgConnection) -> QueryResult<bool> {
    let mut any = false;
    for notification in conn.notifications_iter() {
        notification?;
        any = true;
    }
    Ok(any)
}

/// Where the log ends now, as far as readers may go: new readers start here.
pub fn end(conn: &mut PgConnection) -> QueryResult<Cursor> {
    #[derive(QueryableByName)]
    struct End {
        #[diesel(sql_type = BigInt)]
        tx: i64,
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let end: Option<End> = diesel::sql_query(
        "SELECT tx, id FROM live_events
         WHERE tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
         ORDER BY tx DESC, id DESC LIMIT 1",
    )
    .get_result(conn)
    .optional()?;
    Ok(end.map_or_else(Cursor::default, |e| Cursor { tx: e.tx, id: e.id }))
}

/// Up to `limit` events after `cursor`, in order, of transactions that can no longer commit
/// behind them; only those `user` may see, when given.
pub fn after(
    conn: &mut PgConnection,
    cursor: Cursor,
    user: Option<UserId>,
    limit: i64,
) -> QueryResult<Vec<Record>> {
    diesel::sql_query(
        "SELECT tx, id, user_id, kind, data::text AS data, created_at FROM live_events
         WHERE (tx, id) > ($1, $2)
           AND tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
           AND ($3::bigint IS NULL OR user_id IS NULL OR user_id = $3)
         ORDER BY tx, id LIMIT $4",
    )
    .bind::<BigInt, _>(cursor.tx)
    .bind::<BigInt, _>(cursor.id)
    .bind::<Nullable<BigInt>, _>(user)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// The oldest event still kept (`None` when the log is empty): a client that last saw an
/// event before it has missed some.
pub fn first(conn: &mut PgConnection) -> QueryResult<Option<Cursor>> {
    use crate::schema::live_events;
    live_events::table
        .order((live_events::tx.asc(), live_events::id.asc()))
        .select((live_events::tx, live_events::id))
        .first::<(i64, i64)>(conn)
        .optional()
        .map(|row| row.map(|(tx, id)| Cursor { tx, id }))
}

/// Deletes events written before `cutoff`; how many.
pub fn delete_before(conn: &mut PgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    use crate::schema::live_events;
    diesel::delete(live_events::table.filter(live_events::created_at.lt(cutoff))).execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_written() {
        let cursor = Cursor { tx: 7_345, id: 12 };
        assert_eq!(cursor.to_string(), "7345-12");
        assert_eq!("7345-12".parse(), Ok(cursor));
        assert_eq!("7345".parse::<Cursor>(), Err(()));
        assert_eq!("a-1".parse::<Cursor>(), Err(()));
        assert!(Cursor { tx: 1, id: 9 } < Cursor { tx: 2, id: 1 });
    }
}
