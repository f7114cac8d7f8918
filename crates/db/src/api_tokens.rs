//! Personal API tokens. Only the SHA-256 of a token's secret is stored.

use chrono::{DateTime, TimeDelta, Utc};
use crm_domain::{ApiTokenId, UserId};
use diesel::prelude::*;

use crate::schema::{api_tokens, users};
use crate::users::User;

/// A row of `api_tokens`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub token_hash: Vec<u8>,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct NewApiToken<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub token_hash: &'a [u8],
    pub prefix: &'a str,
}

/// How stale `last_used_at` may get before a use writes it again: spares a write per request.
const LAST_USED_PRECISION: TimeDelta = TimeDelta::minutes(1);

/// Inserts a token.
pub fn insert(conn: &mut PgConnection, new: &NewApiToken<'_>) -> QueryResult<ApiToken> {
    diesel::insert_into(api_tokens::table)
        .values(new)
        .returning(ApiToken::as_returning())
        .get_result(conn)
}

/// The user's tokens that are not revoked, newest first.
pub fn list_active_for_user(conn: &mut PgConnection, user: UserId) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user.get()))
        .filter(api_tokens::revoked_at.is_null())
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(conn)
}

/// Revokes one of the user's tokens; `false` when the user has no such active token.
pub fn revoke(
    conn: &mut PgConnection,
    user: UserId,
    id: ApiTokenId,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id.get()))
            .filter(api_tokens::user_id.eq(user.get()))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn)
    .map(|n| n > 0)
}

/// The active token with this hash, with its (enabled) user.
pub fn find_active(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> QueryResult<Option<(ApiToken, User)>> {
    api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .filter(users::disabled_at.is_null())
        .select((ApiToken::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// Records a use of the token, at most once a minute.
pub fn touch(conn: &mut PgConnection, id: ApiTokenId, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id.get()))
            .filter(
                api_tokens::last_used_at
                    .is_null()
                    .or(api_tokens::last_used_at.lt(now - LAST_USED_PRECISION)),
            ),
    )
    .set(api_tokens::last_used_at.eq(now))
    .execute(conn)
    .map(|_| ())
}
