//! Failed sign-ins, kept for a while to rate-limit guessing per account and per client.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::schema::login_failures;

/// The most failures one look-up returns; more than any limit worth configuring.
const MAX_LOADED: i64 = 1000;

/// Records a failed sign-in for `email` (lower-cased) from `client_ip`.
pub fn record(
    conn: &mut PgConnection,
    email: &str,
    client_ip: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::email.eq(email.to_lowercase()),
            login_failures::client_ip.eq(client_ip),
            login_failures::failed_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// When the failures for `email` since `since` happened, oldest first.
pub fn for_email_since(
    conn: &mut PgConnection,
    email: &str,
    since: DateTime<Utc>,
) -> QueryResult<Vec<DateTime<Utc>>> {
    login_failures::table
        .filter(login_failures::email.eq(email.to_lowercase()))
        .filter(login_failures::failed_at.gt(since))
        .order(login_failures::failed_at.asc())
        .select(login_failures::failed_at)
        .limit(MAX_LOADED)
        .load(conn)
}

/// When the failures from `client_ip` since `since` happened, oldest first.
pub fn for_client_since(
    conn: &mut PgConnection,
    client_ip: &str,
    since: DateTime<Utc>,
) -> QueryResult<Vec<DateTime<Utc>>> {
    login_failures::table
        .filter(login_failures::client_ip.eq(client_ip))
        .filter(login_failures::failed_at.gt(since))
        .order(login_failures::failed_at.asc())
        .select(login_failures::failed_at)
        .limit(MAX_LOADED)
        .load(conn)
}

/// Forgets the failures of an account after it signs in successfully.
pub fn clear_for_email(conn: &mut PgConnection, email: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::email.eq(email.to_lowercase())))
        .execute(conn)
        .map(|_| ())
}

/// Deletes failures older than `before`; they no longer count towards any limit.
pub fn prune(conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.le(before))).execute(conn)
}
