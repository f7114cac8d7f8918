//! Sign-in back-off, one row per account and one per client: each attempt is counted under the
//! row's lock *before* its password is checked, so parallel guesses can't slip past a limit
//! that none of them has recorded yet. After the free attempts, each further one must wait a
//! delay that doubles, up to a maximum; a success resets the account.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;

use crate::schema::login_attempts;

const ACCOUNT: &str = "account";
const CLIENT: &str = "client";

/// How attempts are admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts one account may make without waiting.
    pub free_per_account: u32,
    /// Attempts one client (address) may make without waiting, across accounts.
    pub free_per_client: u32,
    /// The wait after the last free attempt; each further attempt doubles it.
    pub first_delay: TimeDelta,
    /// The longest wait.
    pub max_delay: TimeDelta,
    /// Quiet time after which an account's or client's attempts are forgotten.
    pub forget_after: TimeDelta,
}

impl Backoff {
    /// The wait before the next attempt once `attempts` have been counted and `free` are free:
    /// none within the free ones, then `first_delay`, doubling each time, capped at `max_delay`.
    pub fn delay(&self, attempts: u32, free: u32) -> TimeDelta {
        let Some(doublings) = attempts.checked_sub(free) else {
            return TimeDelta::zero();
        };
        let factor = 1_i32.checked_shl(doublings.min(30)).unwrap_or(i32::MAX);
        self.first_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    fn free(&self, scope: &str) -> u32 {
        if scope == ACCOUNT {
            self.free_per_account
        } else {
            self.free_per_client
        }
    }
}

/// Whether an attempt may check its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Counted: check the password.
    Admitted,
    /// Refused without checking: the account or the client must wait this long.
    Refused {
        /// Until the next attempt is admitted.
        retry_after: TimeDelta,
    },
}

/// Counts an attempt for `account` (an email, lower-cased here) from `client`, unless either
/// is still waiting out its delay. One transaction: concurrent attempts for the same account
/// or client queue on its row's lock, so no more than the free attempts are ever admitted.
/// `clock` is read again once the locks are held, so an attempt that queued behind others
/// measures its wait from when it was decided (its `Retry-After` never exceeds the delay).
pub fn admit(
    conn: &mut PgConnection,
    account: &str,
    client: &str,
    policy: &Backoff,
    clock: impl Fn() -> DateTime<Utc>,
) -> QueryResult<Admission> {
    let account = account.to_lowercase();
    conn.transaction(|conn| {
        let now = clock();
        // Account row first, then client row, in every transaction: no lock cycles.
        diesel::insert_into(login_attempts::table)
            .values(&vec![
                (
                    login_attempts::scope.eq(ACCOUNT),
                    login_attempts::key.eq(account.as_str()),
                    login_attempts::blocked_until.eq(now),
                ),
                (
                    login_attempts::scope.eq(CLIENT),
                    login_attempts::key.eq(client),
                    login_attempts::blocked_until.eq(now),
                ),
            ])
            .on_conflict_do_nothing()
            .execute(conn)?;
        let rows: Vec<(String, String, i32, DateTime<Utc>)> = login_attempts::table
            .filter(
                login_attempts::scope
                    .eq(ACCOUNT)
                    .and(login_attempts::key.eq(&account))
                    .or(login_attempts::scope
                        .eq(CLIENT)
                        .and(login_attempts::key.eq(client))),
            )
            .order((login_attempts::scope.asc(), login_attempts::key.asc()))
            .for_update()
            .load(conn)?;
        let now = clock();
        if let Some(until) = rows.iter().map(|row| row.3).filter(|at| *at > now).max() {
            return Ok(Admission::Refused {
                retry_after: until - now,
            });
        }
        for (scope, key, failures, blocked_until) in rows {
            let counted = if now - blocked_until > policy.forget_after {
                0
            } else {
                u32::try_from(failures).unwrap_or(0)
            };
            let attempts = counted.saturating_add(1);
            diesel::update(login_attempts::table.find((&scope, &key)))
                .set((
                    login_attempts::failures.eq(i32::try_from(attempts).unwrap_or(i32::MAX)),
                    login_attempts::blocked_until
                        .eq(now + policy.delay(attempts, policy.free(&scope))),
                ))
                .execute(conn)?;
        }
        Ok(Admission::Admitted)
    })
}

/// Records that an admitted attempt signed in: the account starts afresh, and the client gets
/// its attempt back (ending its wait if that brings it under its free attempts).
pub fn succeeded(
    conn: &mut PgConnection,
    account: &str,
    client: &str,
    policy: &Backoff,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let account = account.to_lowercase();
    conn.transaction(|conn| {
        diesel::update(login_attempts::table.find((ACCOUNT, &account)))
            .set((
                login_attempts::failures.eq(0),
                login_attempts::blocked_until.eq(now),
            ))
            .execute(conn)?;
        let row: Option<(i32, DateTime<Utc>)> = login_attempts::table
            .find((CLIENT, client))
            .select((login_attempts::failures, login_attempts::blocked_until))
            .for_update()
            .first(conn)
            .optional()?;
        let Some((failures, blocked_until)) = row else {
            return Ok(());
        };
        let failures = failures.saturating_sub(1).max(0);
        let free = i32::try_from(policy.free_per_client).unwrap_or(i32::MAX);
        let blocked_until = if failures < free {
            blocked_until.min(now)
        } else {
            blocked_until
        };
        diesel::update(login_attempts::table.find((CLIENT, client)))
            .set((
                login_attempts::failures.eq(failures),
                login_attempts::blocked_until.eq(blocked_until),
            ))
            .execute(conn)
            .map(|_| ())
    })
}

/// Deletes rows whose last wait ended before `before`: they no longer count (see
/// [`Backoff::forget_after`]).
pub fn prune(conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(login_attempts::table.filter(login_attempts::blocked_until.lt(before)))
        .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Backoff {
        Backoff {
            free_per_account: 5,
            free_per_client: 20,
            first_delay: TimeDelta::seconds(1),
            max_delay: TimeDelta::seconds(900),
            forget_after: TimeDelta::minutes(15),
        }
    }

    #[test]
    fn the_delay_doubles_after_the_free_attempts_up_to_the_maximum() {
        let delays: Vec<i64> = (0..=16)
            .map(|n| policy().delay(n, 5).num_seconds())
            .collect();
        assert_eq!(
            delays,
            [
                0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900
            ]
        );
        assert_eq!(policy().delay(u32::MAX, 5).num_seconds(), 900);
    }
}
