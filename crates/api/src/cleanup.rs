//! Background upkeep of an API process: expired and idle sessions, old sign-in failures, old idempotency
//! keys, and receipt files no invoice points to any more (the `stale_receipts` protocol; see its
//! migration).

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use crm_db::stale_receipts;

use crate::error::ApiError;
use crate::state::AppState;

/// How long an upload's file may wait for its invoice row before the sweep removes it.
pub const UPLOAD_CLAIM_WINDOW: TimeDelta = TimeDelta::hours(1);
/// How long a sweep holds a key before another sweep may retry it.
const SWEEP_LEASE: TimeDelta = TimeDelta::minutes(10);
/// Keys taken per sweep round.
const SWEEP_BATCH: i32 = 100;
/// How often stale receipts are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How often expired sessions and old sign-in failures are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// What a sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    /// Files removed (or found gone already).
    pub removed: usize,
    /// Files the store would not remove; they are retried after the lease.
    pub failed: usize,
}

/// Records `key` for removal at `due` unless an invoice claims it first.
pub async fn schedule_removal(
    state: &AppState,
    key: &str,
    due: chrono::DateTime<Utc>,
) -> Result<(), ApiError> {
    let key = key.to_owned();
    state
        .db(move |conn| Ok(stale_receipts::schedule(conn, &key, due)?))
        .await
}

/// Removes the file under `key` now, when its removal is recorded already; whatever fails is
/// left to the sweep.
pub async fn remove_now(state: &AppState, key: &str) {
    if let Err(error) = remove(state, key).await {
        tracing::warn!(%key, %error, "receipt removal deferred to the sweep");
    }
}

/// Removes the file, then its record; unless an invoice points to it, or it is gone already.
async fn remove(state: &AppState, key: &str) -> Result<(), ApiError> {
    let owned = key.to_owned();
    let removable = state
        .db(move |conn| Ok(stale_receipts::removable(conn, &owned)?))
        .await?;
    if !removable {
        return Ok(());
    }
    state.receipts.delete(key).await?;
    let key = key.to_owned();
    state
        .db(move |conn| Ok(stale_receipts::forget(conn, &key)?))
        .await
}

/// Removes every due stale receipt file, in rounds of [`SWEEP_BATCH`].
pub async fn sweep_stale_receipts(state: &AppState) -> Result<Sweep, ApiError> {
    let mut sweep = Sweep::default();
    loop {
        let keys = state
            .db(|conn| {
                Ok(stale_receipts::take_due(
                    conn,
                    Utc::now(),
                    SWEEP_LEASE,
                    SWEEP_BATCH,
                )?)
            })
            .await?;
        let round = keys.len();
        for key in keys {
            match remove(state, &key).await {
                Ok(()) => sweep.removed += 1,
                Err(error) => {
                    sweep.failed += 1;
                    let message = error.to_string();
                    tracing::warn!(%key, error = %message, "stale receipt not removed yet");
                    // Best effort: the key stays due after its lease either way.
                    let _ = state
                        .db(move |conn| Ok(stale_receipts::record_failure(conn, &key, &message)?))
                        .await;
                }
            }
        }
        if round < usize::try_from(SWEEP_BATCH).unwrap_or(usize::MAX) || sweep.failed > 0 {
            return Ok(sweep);
        }
    }
}

/// Runs the upkeep for as long as the process lives.
pub fn spawn(state: AppState) {
    let sweeper = state.clone();
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(SWEEP_EVERY);
        loop {
            interval.tick().await;
            match sweep_stale_receipts(&sweeper).await {
                Ok(Sweep {
                    removed: 0,
                    failed: 0,
                }) => {}
                Ok(sweep) => tracing::info!(?sweep, "swept stale receipts"),
                Err(error) => tracing::warn!(%error, "stale receipt sweep skipped"),
            }
        }
    });
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(PRUNE_EVERY);
        loop {
            interval.tick().await;
            let forget_after = state.config.login_limit.forget_after;
            let idle = state.config.session_idle;
            let result = state
                .db(move |conn| {
                    let now = Utc::now();
                    let sessions = crm_db::sessions::delete_expired(conn, now, idle)?;
                    let failures = crm_db::login_attempts::prune(conn, now - forget_after)?;
                    crm_db::idempotency::prune(conn, now - crate::idempotency::KEEP_FOR)?;
                    crm_db::live::delete_before(conn, now - crate::live::KEEP_FOR)?;
                    Ok((sessions, failures))
                })
                .await;
            match result {
                Ok((sessions, failures)) => tracing::debug!(sessions, failures, "cleaned up"),
                Err(error) => tracing::warn!(%error, "clean-up skipped"),
            }
        }
    });
}
