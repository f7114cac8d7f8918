//! Server-side sign-in sessions. Only hashes of the cookie's secret and CSRF token are stored.

use chrono::{DateTime, TimeDelta, Utc};
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
    /// The last request made with it (to the minute).
    pub last_seen_at: DateTime<Utc>,
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

/// How stale `last_seen_at` may get before a use writes it again: spares a write per request.
const LAST_SEEN_PRECISION: TimeDelta = TimeDelta::minutes(1);

/// The session with this token hash, with its (enabled) user, when it is neither expired nor
/// idle: used within `idle` of `now`.
pub fn find_active(
    conn: &mut PgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
    idle: TimeDelta,
) -> QueryResult<Option<(Session, User)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::last_seen_at.gt(now - idle))
        .filter(users::disabled_at.is_null())
        .select((Session::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// Records a use of `session` (as [`find_active`] read it) at `now`, which keeps it from
/// going `idle`; written at most once a minute (or a tenth of `idle`, when shorter, so that a
/// session in use never looks idle): a session used within that costs no statement at all.
pub fn touch(
    conn: &mut PgConnection,
    session: &Session,
    now: DateTime<Utc>,
    idle: TimeDelta,
) -> QueryResult<()> {
    let precision = LAST_SEEN_PRECISION.min(idle / 10);
    if session.last_seen_at >= now - precision {
        return Ok(());
    }
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(session.id))
            .filter(sessions::last_seen_at.lt(now - precision)),
    )
    .set(sessions::last_seen_at.eq(now))
    .execute(conn)
    .map(|_| ())
}

/// Ends the session with this token hash at once; returns whether there was one.
pub fn delete_by_token_hash(conn: &mut PgConnection, token_hash: &[u8]) -> QueryResult<bool> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash)))
        .execute(conn)
        .map(|n| n > 0)
}

/// Deletes sessions that expired before `now`, or were last used before `now - idle`;
/// returns how many.
pub fn delete_expired(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    idle: TimeDelta,
) -> QueryResult<usize> {
    diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .le(now)
                .or(sessions::last_seen_at.le(now - idle)),
        ),
    )
    .execute(conn)
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
