//! Personal API tokens. Only the SHA-256 of a token's secret is stored.

use chrono::{DateTime, TimeDelta, Utc};
use crm_contract::AuditEvent;
use crm_contract::activity::{TokenMade, TokenRef};
use crm_domain::{ApiTokenId, UserId};
use diesel::prelude::*;

use crate::audit::{self, Trail};
use crate::schema::{api_tokens, users};
use crate::users::User;

/// A row of `api_tokens`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub name: String,
    pub token_hash: Vec<u8>,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the token stops working; `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct NewApiToken<'a> {
    pub user_id: UserId,
    pub name: &'a str,
    pub token_hash: &'a [u8],
    pub prefix: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
}

/// How stale `last_used_at` may get before a use writes it again: spares a write per request.
const LAST_USED_PRECISION: TimeDelta = TimeDelta::minutes(1);

/// Makes a token, recording it on its owner's history.
pub fn create(conn: &mut PgConnection, new: &NewApiToken<'_>) -> QueryResult<ApiToken> {
    conn.transaction(|conn| {
        let token: ApiToken = diesel::insert_into(api_tokens::table)
            .values(new)
            .returning(ApiToken::as_returning())
            .get_result(conn)?;
        let event = AuditEvent::TokenCreated(TokenMade {
            token_id: token.id,
            name: token.name.clone(),
        });
        audit::record(
            conn,
            Some(token.user_id),
            Trail::User(token.user_id),
            &event,
        )?;
        Ok(token)
    })
}

/// Tokens that work at `now`: not revoked, not expired.
#[diesel::dsl::auto_type]
fn usable_at(now: DateTime<Utc>) -> _ {
    api_tokens::revoked_at.is_null().and(
        api_tokens::expires_at
            .is_null()
            .or(api_tokens::expires_at.gt(now)),
    )
}

/// The user's tokens that work at `now` (neither revoked nor expired), newest first.
pub fn list_active_for_user(
    conn: &mut PgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user))
        .filter(usable_at(now))
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(conn)
}

/// Revokes one of the user's tokens, recording it; `false` when the user has no such active
/// token.
pub fn revoke(
    conn: &mut PgConnection,
    user: UserId,
    id: ApiTokenId,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let revoked = diesel::update(
            api_tokens::table
                .filter(api_tokens::id.eq(id))
                .filter(api_tokens::user_id.eq(user))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(now))
        .execute(conn)?
            > 0;
        if revoked {
            let event = AuditEvent::TokenRevoked(TokenRef { token_id: id });
            audit::record(conn, Some(user), Trail::User(user), &event)?;
        }
        Ok(revoked)
    })
}

/// Revokes every working token of `user` (expired ones stay as they are), recording each on their history as
/// done by `actor` (themselves, or an admin); returns how many.
pub fn revoke_all(
    conn: &mut PgConnection,
    actor: UserId,
    user: UserId,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let revoked: Vec<ApiTokenId> = diesel::update(
            api_tokens::table
                .filter(api_tokens::user_id.eq(user))
                .filter(usable_at(now)),
        )
        .set(api_tokens::revoked_at.eq(now))
        .returning(api_tokens::id)
        .get_results(conn)?;
        for token_id in &revoked {
            let event = AuditEvent::TokenRevoked(TokenRef {
                token_id: *token_id,
            });
            audit::record(conn, Some(actor), Trail::User(user), &event)?;
        }
        Ok(revoked.len())
    })
}

/// The token with this hash, with its (enabled) user, when it works at `now`.
pub fn find_active(
    conn: &mut PgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Option<(ApiToken, User)>> {
    api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(usable_at(now))
        .filter(users::disabled_at.is_null())
        .select((ApiToken::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// Records a use of `token` (as [`find_active`] read it) at `now`, at most once a minute: a
/// token used within the minute costs no statement at all.
pub fn touch(conn: &mut PgConnection, token: &ApiToken, now: DateTime<Utc>) -> QueryResult<()> {
    if token
        .last_used_at
        .is_some_and(|used| used >= now - LAST_USED_PRECISION)
    {
        return Ok(());
    }
    diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(token.id))
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

/// Whether the token is still usable at `now`: not revoked, not expired, its user not disabled.
pub fn is_active(conn: &mut PgConnection, id: ApiTokenId, now: DateTime<Utc>) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        api_tokens::table
            .inner_join(users::table)
            .filter(api_tokens::id.eq(id))
            .filter(usable_at(now))
            .filter(users::disabled_at.is_null()),
    ))
    .get_result(conn)
}
