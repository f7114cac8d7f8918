//! Staff and admins.

use chrono::{DateTime, Utc};
use crm_domain::UserId;
use diesel::prelude::*;

use crate::lower;
use crate::schema::users;

/// A row of `users`.
#[derive(Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl User {
    /// The typed id.
    pub fn user_id(&self) -> UserId {
        UserId::new(self.id)
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
    pub role: &'a str,
}

/// Inserts a user; a duplicate email is a unique violation.
pub fn insert(conn: &mut PgConnection, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(conn)
}

/// Inserts the first user, only while there is none; `None` when one already exists.
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
        insert(conn, new).map(Some)
    })
}

/// Whether any user exists (first-run setup is needed while none does).
pub fn any_exist(conn: &mut PgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.select(users::id))).get_result(conn)
}

/// The user with this id.
pub fn find(conn: &mut PgConnection, id: UserId) -> QueryResult<User> {
    users::table
        .find(id.get())
        .select(User::as_select())
        .first(conn)
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
pub fn list(conn: &mut PgConnection, after: Option<i64>, limit: i64) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::id.gt(after.unwrap_or(0)))
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
    pub role: Option<String>,
    pub password_hash: Option<String>,
    pub disabled_at: Option<Option<DateTime<Utc>>>,
}

/// Applies `changes` and returns the user as they are now, provided at least one enabled admin
/// remains; `Ok(None)` (and nothing changed) when none would. Concurrent changes take turns on
/// a lock, so two admins can't demote each other at once.
pub fn update_keeping_an_admin(
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
            diesel::update(users::table.find(id.get()))
                .set(changes)
                .returning(User::as_returning())
                .get_result(conn)?
        };
        let admins: i64 = users::table
            .filter(users::role.eq("admin"))
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

/// Sets a user's password hash.
pub fn set_password_hash(conn: &mut PgConnection, id: UserId, hash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id.get()))
        .set(users::password_hash.eq(hash))
        .execute(conn)
        .map(|_| ())
}
