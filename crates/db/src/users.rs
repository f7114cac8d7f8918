//! Staff and admins.

use chrono::{DateTime, Utc};
use crm_contract::AuditEvent;
use crm_contract::activity::{AccountChanges, AccountCreated, Change, PasswordReset};
use crm_domain::{Role, UserId};
use diesel::prelude::*;

use crate::audit::{self, Trail};
use crate::lower;
use crate::schema::users;

/// A row of `users`.
#[derive(Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// The IANA zone the user's times are shown in; `None` until set (UTC meanwhile).
    pub timezone: Option<String>,
}

impl User {
    /// The event that records this account's creation.
    fn created_event(&self) -> AuditEvent {
        AuditEvent::UserCreated(AccountCreated {
            name: self.name.clone(),
            email: self.email.clone(),
            role: self.role,
        })
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A user to insert; the password is already hashed.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

/// Inserts a user; a duplicate email is a unique violation.
fn insert(conn: &mut PgConnection, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(conn)
}

/// Creates an account, recording it on the account's history (`actor` is `None` from the
/// command line); a duplicate email is a unique violation.
pub fn create(
    conn: &mut PgConnection,
    actor: Option<UserId>,
    new: &NewUser<'_>,
) -> QueryResult<User> {
    conn.transaction(|conn| {
        let user = insert(conn, new)?;
        audit::record(conn, actor, Trail::User(user.id), &user.created_event())?;
        Ok(user)
    })
}

/// Creates the first user (recorded as made by themselves), only while there is none; `None` when one already exists.
///
/// A transaction-scoped advisory lock makes concurrent first-run requests take turns, so
/// exactly one of them succeeds.
pub fn insert_first(conn: &mut PgConnection, new: &NewUser<'_>) -> QueryResult<Option<User>> {
    const FIRST_USER_LOCK: i64 = 0x6372_6d5f_7573_6572; // "crm_user"
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(FIRST_USER_LOCK)
            .execute(conn)?;
        if any_exist(conn)? {
            return Ok(None);
        }
        let user = insert(conn, new)?;
        audit::record(
            conn,
            Some(user.id),
            Trail::User(user.id),
            &user.created_event(),
        )?;
        Ok(Some(user))
    })
}

/// Whether any user exists (first-run setup is needed while none does).
pub fn any_exist(conn: &mut PgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.select(users::id))).get_result(conn)
}

/// The user with this id.
pub fn find(conn: &mut PgConnection, id: UserId) -> QueryResult<User> {
    users::table.find(id).select(User::as_select()).first(conn)
}

/// The user with this email address, compared case-insensitively.
pub fn find_by_email(conn: &mut PgConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(lower(users::email).eq(email.to_lowercase()))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Up to `limit` users with ids above `after`, oldest first.
pub fn list(conn: &mut PgConnection, after: Option<UserId>, limit: i64) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::id.gt(after.unwrap_or(UserId::new(0))))
        .order(users::id.asc())
        .limit(limit)
        .select(User::as_select())
        .load(conn)
}

/// How many users there are.
pub fn count(conn: &mut PgConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// Changes to a user; `None` leaves a column alone (`disabled_at: Some(None)` enables).
#[derive(Debug, Clone, Default, PartialEq, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub password_hash: Option<String>,
    pub disabled_at: Option<Option<DateTime<Utc>>>,
}

/// Applies `changes` and returns the user as they are now, provided at least one enabled admin
/// remains; `Ok(None)` (and nothing changed) when none would. Concurrent changes take turns on
/// a lock, so two admins can't demote each other at once.
fn update_keeping_an_admin(
    conn: &mut PgConnection,
    id: UserId,
    changes: &UserChanges,
) -> QueryResult<Option<User>> {
    const ADMINS_LOCK: i64 = 0x6372_6d5f_6164_6d6e; // "crm_admn"
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(ADMINS_LOCK)
            .execute(conn)?;
        let user = if *changes == UserChanges::default() {
            find(conn, id)?
        } else {
            diesel::update(users::table.find(id))
                .set(changes)
                .returning(User::as_returning())
                .get_result(conn)?
        };
        let admins: i64 = users::table
            .filter(users::role.eq(Role::Admin))
            .filter(users::disabled_at.is_null())
            .count()
            .get_result(conn)?;
        if admins == 0 {
            // Rolls the change back.
            return Err(diesel::result::Error::RollbackTransaction);
        }
        Ok(Some(user))
    })
    .or_else(|error| match error {
        diesel::result::Error::RollbackTransaction => Ok(None),
        other => Err(other),
    })
}

/// An admin's change to an account, recorded with what really changed (a password reset, never
/// the password); `Ok(None)` and nothing changed when no enabled admin would remain.
///
/// A password reset or a disable ends the account's sessions (all but `keep_session`, the
/// admin's own when they change their own account) and revokes its API tokens, recorded as
/// revoked by `actor`; enabling the account again brings none of them back.
pub fn change(
    conn: &mut PgConnection,
    actor: UserId,
    id: UserId,
    changes: &UserChanges,
    keep_session: Option<&[u8]>,
) -> QueryResult<Option<User>> {
    conn.transaction(|conn| {
        let before = find(conn, id)?;
        let Some(after) = update_keeping_an_admin(conn, id, changes)? else {
            return Ok(None);
        };
        let diff = AccountChanges {
            name: Change::between(before.name.clone(), after.name.clone()),
            role: Change::between(before.role, after.role),
            disabled: Change::between(before.disabled_at.is_some(), after.disabled_at.is_some()),
            password: changes.password_hash.as_ref().map(|_| PasswordReset::Reset),
        };
        if !diff.is_empty() {
            let event = AuditEvent::UserUpdated(diff);
            audit::record(conn, Some(actor), Trail::User(id), &event)?;
        }
        let disabled = matches!(changes.disabled_at, Some(Some(_)));
        if changes.password_hash.is_some() || disabled {
            crate::sessions::delete_others(conn, id, keep_session)?;
            crate::api_tokens::revoke_all(conn, actor, id, Utc::now())?;
        }
        Ok(Some(after))
    })
}

/// What a change of one's own password ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordChanged {
    /// Other sessions ended.
    pub sessions_ended: usize,
    /// API tokens revoked.
    pub tokens_revoked: usize,
}

/// A user's change of their own password: the new hash, every other session ended (all but
/// `keep_session`, the one that asked), their API tokens revoked when `revoke_tokens`, recorded
/// on their history.
pub fn change_own_password(
    conn: &mut PgConnection,
    id: UserId,
    hash: &str,
    keep_session: Option<&[u8]>,
    revoke_tokens: bool,
) -> QueryResult<PasswordChanged> {
    conn.transaction(|conn| {
        diesel::update(users::table.find(id))
            .set(users::password_hash.eq(hash))
            .execute(conn)?;
        let sessions_ended = crate::sessions::delete_others(conn, id, keep_session)?;
        audit::record(
            conn,
            Some(id),
            Trail::User(id),
            &AuditEvent::PasswordChanged {},
        )?;
        let tokens_revoked = if revoke_tokens {
            crate::api_tokens::revoke_all(conn, id, id, Utc::now())?
        } else {
            0
        };
        Ok(PasswordChanged {
            sessions_ended,
            tokens_revoked,
        })
    })
}

/// Sets the time zone `user`'s times are shown in (an IANA name, checked by the caller).
pub fn set_timezone(conn: &mut PgConnection, user: UserId, timezone: &str) -> QueryResult<User> {
    diesel::update(users::table.find(user))
        .set(users::timezone.eq(timezone))
        .returning(User::as_returning())
        .get_result(conn)
}
