//! Server-side sign-in sessions. Only hashes of the cookie's secret and CSRF token are stored.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::schema::{sessions, users};
use crate::users::User;

/// A row of `sessions`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    pub token_hash: Vec<u8>,
    pub csrf_token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
}

/// A session to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub user_id: i64,
    pub token_hash: &'a [u8],
    pub csrf_token_hash: &'a [u8],
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<&'a str>,
}

/// Inserts a session.
pub fn insert(conn: &mut PgConnection, new: &NewSession<'_>) -> QueryResult<Session> {
    diesel::insert_into(sessions::table)
        .values(new)
        .returning(Session::as_returning())
        .get_result(conn)
}

/// The unexpired session with this token hash, with its (enabled) user.
pub fn find_active(
    conn: &mut PgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Option<(Session, User)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now))
        .filter(users::disabled_at.is_null())
        .select((Session::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// Ends the session with this token hash at once; returns whether there was one.
pub fn delete_by_token_hash(conn: &mut PgConnection, token_hash: &[u8]) -> QueryResult<bool> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash)))
        .execute(conn)
        .map(|n| n > 0)
}

/// Deletes sessions that expired before `now`; returns how many.
pub fn delete_expired(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)
}

/// Ends every session of `user` but the one with `keep` (the caller's own, if any); returns
/// how many ended.
pub fn delete_others(
    conn: &mut PgConnection,
    user: crm_domain::UserId,
    keep: Option<&[u8]>,
) -> QueryResult<usize> {
    let theirs = sessions::table.filter(sessions::user_id.eq(user.get()));
    match keep {
        Some(keep) => diesel::delete(theirs.filter(sessions::token_hash.ne(keep))).execute(conn),
        None => diesel::delete(theirs).execute(conn),
    }
}
