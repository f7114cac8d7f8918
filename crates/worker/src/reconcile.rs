//! The reconciler: what makes PostgreSQL, not Redis, the truth.
//!
//! Every few seconds it (1) turns claims whose lease ran out (their worker died mid-send) into
//! `unknown`, and (2) gives a fresh job to every message that is due but whose job Redis no
//! longer holds (Redis was down when it was scheduled, or lost its data). Several workers may
//! run it at once: a duplicate job is harmless, because only one claim can succeed.

use std::time::Duration;

use chrono::Utc;
use crm_db::messages::{self, Message};
use crm_queue::{JobState, Storage};
use tokio_util::sync::CancellationToken;

use crate::{Db, DbError};

/// How late a message must be before its job is looked for: time for the API to push it.
const LATE: Duration = Duration::from_secs(3);
/// How far ahead each round keeps any second from holding more jobs than apalis can fetch at
/// once (see [`crm_queue::spread_due`]).
pub const SPREAD_AHEAD: Duration = Duration::from_secs(60);
/// How long after its time a message whose job a worker took may still be waiting for that
/// worker's claim before the job counts as abandoned (its worker was killed).
const ABANDONED: Duration = Duration::from_secs(30);
/// The most due messages looked at in one round.
const BATCH: i64 = 500;
/// How often finished jobs are forgotten in Redis, how long after they finished, and the most
/// forgotten at once.
const FORGET_EVERY: Duration = Duration::from_secs(60);
const FORGET_AFTER: Duration = Duration::from_secs(3600);
const FORGET_MAX: usize = 20_000;

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Claims whose lease ran out, now `unknown`.
    pub expired: usize,
    /// Due messages that got a fresh job.
    pub requeued: usize,
    /// Whether Redis failed during the round (the rest waits for the next one).
    pub redis_failed: bool,
}

/// Runs a round every `interval` until `shutdown`; errors are logged and the next round tries
/// again, so the loop never ends on its own.
pub async fn run(db: Db, storage: Storage, interval: Duration, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut forget = tokio::time::interval(FORGET_EVERY);
    forget.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                if let Err(error) = reconcile_once(&db, &storage).await {
                    tracing::warn!(error = %error, "reconciler: database unreachable; trying again later");
                }
            }
            _ = forget.tick() => {
                match crm_queue::forget_finished(&storage, FORGET_AFTER, FORGET_MAX).await {
                    Ok(0) => {}
                    Ok(count) => tracing::debug!(count, "forgot finished jobs in Redis"),
                    Err(error) => tracing::warn!(error = %error, "could not forget finished jobs; trying later"),
                }
            }
            () = shutdown.cancelled() => return,
        }
    }
}

/// One round: expire abandoned claims, then re-queue due messages that have no job.
pub async fn reconcile_once(db: &Db, storage: &Storage) -> Result<Reconciled, DbError> {
    let mut done = Reconciled::default();
    let expired = db.run(messages::expire_leases).await?;
    for message in &expired {
        tracing::warn!(
            message_id = %message.id,
            worker = message.claimed_by.as_deref().unwrap_or_default(),
            "a worker stopped while sending this message; it is now unknown"
        );
    }
    done.expired = expired.len();

    match crm_queue::spread_due(storage, SPREAD_AHEAD).await {
        Ok(0) => {}
        Ok(moved) => tracing::warn!(
            moved,
            "reconciler: spread jobs due together over the next seconds"
        ),
        Err(error) => {
            tracing::warn!(error = %error, "reconciler: Redis unreachable; trying again later");
            done.redis_failed = true;
        }
    }

    let late = chrono::Duration::from_std(LATE).unwrap_or_default();
    let overdue = db
        .run(move |conn| messages::overdue(conn, late, BATCH))
        .await?;
    for message in overdue {
        match requeue_if_jobless(db, storage, &message).await {
            Ok(requeued) => done.requeued += usize::from(requeued),
            Err(Requeue::Db(error)) => return Err(error),
            Err(Requeue::Redis(error)) => {
                // Every further message would wait for the same timeout: stop for this round.
                tracing::warn!(error = %error, "reconciler: Redis unreachable; trying again later");
                done.redis_failed = true;
                break;
            }
        }
    }
    Ok(done)
}

enum Requeue {
    Db(DbError),
    Redis(crm_queue::QueueError),
}

/// Pushes a fresh job for `message` unless Redis still holds its last one; whether it pushed.
async fn requeue_if_jobless(
    db: &Db,
    storage: &Storage,
    message: &Message,
) -> Result<bool, Requeue> {
    if let Some(job_id) = &message.job_id {
        let state = crm_queue::job_state(storage, job_id)
            .await
            .map_err(Requeue::Redis)?;
        // A job taken by a worker that was killed stays taken forever; a live worker claims a
        // taken message within moments, so one still scheduled long after is re-queued.
        let abandoned = Utc::now() - message.send_at
            > chrono::Duration::from_std(ABANDONED).unwrap_or_default();
        match state {
            JobState::Waiting => return Ok(false),
            JobState::Taken if !abandoned => return Ok(false),
            JobState::Broken => {
                crm_queue::discard(storage, job_id)
                    .await
                    .map_err(Requeue::Redis)?;
                tracing::warn!(
                    message_id = %message.id,
                    job = job_id.as_str(),
                    "took a job whose payload Redis lost out of the queue"
                );
            }
            JobState::Taken | JobState::Gone => {}
        }
    }
    let job = message.job();
    let now = Utc::now();
    let job_id = crm_queue::task_id(job, Some(now.timestamp_millis()));
    crm_queue::schedule(storage, job, now, &job_id)
        .await
        .map_err(Requeue::Redis)?;
    let noted = job_id.clone();
    db.run(move |conn| messages::set_job(conn, job, &noted))
        .await
        .map_err(Requeue::Db)?;
    tracing::info!(
        message_id = %message.id,
        version = message.version,
        previous_job = message.job_id.as_deref().unwrap_or_default(),
        job = job_id,
        "re-queued a due message whose job was missing"
    );
    Ok(true)
}
