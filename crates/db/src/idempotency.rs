//! Stored answers to POST requests sent with an `Idempotency-Key`, each belonging to a user and
//! the credential (session or API token) the request was authenticated with (see the migration
//! `credential_life`).
//!
//! (Stored answers leave the table through [`claim`] only, so `StoredAnswer` is a plain struct:
//! its columns are nullable while a request is in progress.)

use chrono::{DateTime, Utc};
use crm_domain::{ApiTokenId, UserId};
use diesel::prelude::*;

use crate::schema::idempotency_keys;

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: i16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// What the key already stands for, when [`claim`] did not get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: the caller does the work, then [`complete`]s or [`release`]s it.
    Claimed,
    /// The same request was answered before: this is the answer.
    Answered(StoredAnswer),
    /// The same request is being worked on right now.
    InProgress,
    /// The key was used for a different request.
    OtherRequest,
}

/// The credential a request was authenticated with, which an idempotency key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A sign-in session (its row id): its keys go when it ends.
    Session(i64),
    /// A personal API token.
    Token(ApiTokenId),
}

/// Who owns a key: the user, and the credential the request proved it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub user: UserId,
    pub credential: Credential,
}

impl Owner {
    fn columns(&self) -> (i64, Option<i64>, Option<i64>) {
        match self.credential {
            Credential::Session(id) => (self.user.get(), Some(id), None),
            Credential::Token(id) => (self.user.get(), None, Some(id.get())),
        }
    }
}

/// The row of `owner`'s `key`.
#[diesel::dsl::auto_type(no_type_alias)]
fn owned<'a>(owner: &Owner, key: &'a str) -> _ {
    let (user, session, token): (i64, Option<i64>, Option<i64>) = owner.columns();
    idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user))
        .filter(idempotency_keys::session_id.is_not_distinct_from(session))
        .filter(idempotency_keys::api_token_id.is_not_distinct_from(token))
        .filter(idempotency_keys::key.eq(key))
}

/// Claims `key` for `owner`'s request with this `fingerprint`, or says what it stands for.
pub fn claim(
    conn: &mut PgConnection,
    owner: &Owner,
    key: &str,
    fingerprint: &[u8],
) -> QueryResult<Claim> {
    let (user, session, token) = owner.columns();
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user),
            idempotency_keys::session_id.eq(session),
            idempotency_keys::api_token_id.eq(token),
            idempotency_keys::key.eq(key),
            idempotency_keys::fingerprint.eq(fingerprint),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 1 {
        return Ok(Claim::Claimed);
    }
    type Row = (
        Vec<u8>,
        Option<i16>,
        Option<String>,
        Option<String>,
        Option<Vec<u8>>,
    );
    let found: Option<Row> = owned(owner, key)
        .select((
            idempotency_keys::fingerprint,
            idempotency_keys::status,
            idempotency_keys::content_type,
            idempotency_keys::location,
            idempotency_keys::body,
        ))
        .first(conn)
        .optional()?;
    Ok(match found {
        // Released between the insert and the read: the caller may try again.
        None => Claim::InProgress,
        Some((stored, _, _, _, _)) if stored != fingerprint => Claim::OtherRequest,
        Some((_, Some(status), content_type, location, body)) => Claim::Answered(StoredAnswer {
            status,
            content_type,
            location,
            body: body.unwrap_or_default(),
        }),
        Some((_, None, ..)) => Claim::InProgress,
    })
}

/// Stores the answer to a claimed key.
pub fn complete(
    conn: &mut PgConnection,
    owner: &Owner,
    key: &str,
    answer: &StoredAnswer,
) -> QueryResult<()> {
    diesel::update(owned(owner, key))
        .set((
            idempotency_keys::status.eq(answer.status),
            idempotency_keys::content_type.eq(&answer.content_type),
            idempotency_keys::location.eq(&answer.location),
            idempotency_keys::body.eq(&answer.body),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Lets go of a claimed key whose request had no answer worth keeping (a server error), so a
/// retry does the work.
pub fn release(conn: &mut PgConnection, owner: &Owner, key: &str) -> QueryResult<()> {
    diesel::delete(owned(owner, key).filter(idempotency_keys::status.is_null()))
        .execute(conn)
        .map(|_| ())
}

/// Deletes keys made before `cutoff`; returns how many.
pub fn prune(conn: &mut PgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff)))
        .execute(conn)
}
