//! The Redis job queue: where the API schedules [`SendMessage`] jobs and `crm-worker` takes
//! them (apalis on Redis).
//!
//! Both sides use this crate and neither depends on the other. PostgreSQL holds the messages;
//! a job only says "look at this message (at this version) now", so a lost job is re-pushed by
//! the worker's reconciler and a duplicate one does nothing.

use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskId, TaskSink};
use apalis_redis::{Config, ConnectionManager, RedisStorage};
use chrono::{DateTime, Utc};
pub use crm_contract::messages::SendMessage;

/// The queue's name in Redis unless `MESSAGE_QUEUE` names another (tests use one each).
/// Explicit: apalis would otherwise name it after the job type's Rust path, which differs
/// between crates.
pub const QUEUE: &str = "crm:send_message";

/// The queue, as the API and the worker see it.
pub type Storage = RedisStorage<SendMessage, ConnectionManager>;

/// Why a job could not be pushed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("pushing the job: {0}")]
    Push(String),
    #[error("Redis did not answer in time")]
    Timeout,
}

/// How long a push may take before the caller goes on without it (the reconciler catches up).
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens the queue at `url` without waiting for Redis: a Redis that is down makes pushes fail
/// quickly, and the connection comes back by itself.
pub fn open(url: &str, config: Config) -> Result<Storage, QueueError> {
    let manager = redis::aio::ConnectionManagerConfig::new()
        .set_number_of_retries(1)
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(2)));
    let connection = redis::Client::open(url)?.get_connection_manager_lazy(manager)?;
    Ok(RedisStorage::new(connection).with_config(config))
}

/// A handle on `storage`'s Redis connection, for commands apalis has no call for (apalis
/// lends its connection only through `&mut`). Cheap: the manager is shared.
pub fn connection(storage: &Storage) -> ConnectionManager {
    storage.clone().get_connection().clone()
}

/// The settings of the queue called `name`, everything else at apalis's defaults.
pub fn config(name: &str) -> Config {
    Config::default().queue(name)
}

/// The id of the job that sends `job`'s message at its version; `attempt` tells re-pushes
/// apart (apalis silently skips a push whose id it already holds).
pub fn task_id(job: SendMessage, attempt: Option<i64>) -> String {
    match attempt {
        None => format!("msg-{}-v{}", job.message_id, job.version),
        Some(n) => format!("msg-{}-v{}-r{n}", job.message_id, job.version),
    }
}

/// Schedules `job` to run at `at` (rounded up to the whole second: never early) under
/// `task_id`. Fails within [`PUSH_TIMEOUT`] when Redis is unreachable.
pub async fn schedule(
    storage: &Storage,
    job: SendMessage,
    at: DateTime<Utc>,
    task_id: &str,
) -> Result<(), QueueError> {
    let seconds = at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0);
    let task = TaskBuilder::new(job)
        .task_id(TaskId::from_string(task_id.to_owned()))
        .run_at_timestamp(u64::try_from(seconds).unwrap_or(0))
        .build();
    let mut storage = storage.clone();
    match tokio::time::timeout(PUSH_TIMEOUT, storage.push_task(task)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(QueueError::Push(error.to_string())),
        Err(_) => Err(QueueError::Timeout),
    }
}

/// Where a job is, as far as Redis knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Scheduled, or queued for the next free worker, with its payload: a worker will take it.
    Waiting,
    /// Neither scheduled nor queued, yet Redis still holds its status: a worker took it. If that
    /// worker was killed, apalis may never give it back; and a job whose place in the queue was
    /// lost while its status was kept (a partial loss of Redis data) looks the same.
    Taken,
    /// Scheduled or queued, but its payload is lost: the worker that fetches it fails (apalis
    /// cannot read it), so it must be taken out of the queue ([`discard`]).
    Broken,
    /// Done, dead, or unknown to Redis (lost with its data).
    Gone,
}

/// Where the job `task_id` is. Its status alone is not trusted: apalis leaves a fetched job
/// `Pending` until the worker locks it, and a status can outlive the job's place in the queue.
pub async fn job_state(storage: &Storage, task_id: &str) -> Result<JobState, QueueError> {
    let config = storage.get_config();
    let mut connection = connection(storage);
    let mut pipe = redis::pipe();
    pipe.zscore(config.scheduled_jobs_set(), task_id)
        .cmd("LPOS")
        .arg(config.active_jobs_list())
        .arg(task_id)
        .hexists(config.job_data_hash(), task_id)
        .hget(format!("{}:{task_id}", config.job_meta_hash()), "status");
    type Found = (Option<f64>, Option<i64>, bool, Option<String>);
    let (score, position, payload, status) =
        within(pipe.query_async::<Found>(&mut connection)).await?;
    let queued = score.is_some() || position.is_some();
    Ok(match (queued, payload, status.as_deref()) {
        (true, true, _) => JobState::Waiting,
        (true, false, _) => JobState::Broken,
        (false, _, Some("Pending" | "Queued" | "Running")) => JobState::Taken,
        (false, _, _) => JobState::Gone,
    })
}

/// Takes the job `task_id` out of the queue (scheduled and queued), so that no worker fetches
/// it; for a [`JobState::Broken`] job.
pub async fn discard(storage: &Storage, task_id: &str) -> Result<(), QueueError> {
    let config = storage.get_config();
    let mut connection = connection(storage);
    let mut pipe = redis::pipe();
    pipe.zrem(config.scheduled_jobs_set(), task_id)
        .ignore()
        .lrem(config.active_jobs_list(), 0, task_id)
        .ignore()
        .del(format!("{}:{task_id}", config.job_meta_hash()))
        .ignore();
    within(pipe.query_async::<()>(&mut connection)).await
}

/// Whether the job `task_id` is still waiting or taken.
pub async fn is_pending(storage: &Storage, task_id: &str) -> Result<bool, QueueError> {
    Ok(matches!(
        job_state(storage, task_id).await?,
        JobState::Waiting | JobState::Taken
    ))
}

/// The most jobs that may fall due in one second. apalis-redis 1.0 moves every due job with
/// one Lua `unpack`, which fails above about 8,000 ("too many results to unpack") and then
/// stops every worker, again at each restart.
pub const MAX_DUE_PER_SECOND: usize = 5_000;

/// Re-times jobs due now or within `ahead` so that no second holds more than
/// [`MAX_DUE_PER_SECOND`]: the excess moves to the following seconds, in order (those due
/// first stay first). Jobs a worker takes meanwhile are left alone (`ZADD XX`). Returns how
/// many were moved.
pub async fn spread_due(storage: &Storage, ahead: Duration) -> Result<usize, QueueError> {
    let set = storage.get_config().scheduled_jobs_set();
    let mut connection = connection(storage);
    let now = Utc::now().timestamp();
    let until = now + i64::try_from(ahead.as_secs()).unwrap_or(0);
    let mut range = redis::cmd("ZRANGEBYSCORE");
    range.arg(&set).arg("-inf").arg(until).arg("WITHSCORES");
    let due: Vec<(String, f64)> =
        tokio::time::timeout(PUSH_TIMEOUT * 5, range.query_async(&mut connection))
            .await
            .map_err(|_| QueueError::Timeout)??;
    let moves = spread(&due, now);
    for chunk in moves.chunks(1_000) {
        let mut pipe = redis::pipe();
        for (id, second) in chunk {
            pipe.cmd("ZADD")
                .arg(&set)
                .arg("XX")
                .arg(*second)
                .arg(id)
                .ignore();
        }
        tokio::time::timeout(PUSH_TIMEOUT, pipe.query_async::<()>(&mut connection))
            .await
            .map_err(|_| QueueError::Timeout)??;
    }
    Ok(moves.len())
}

/// The new second of each job in `due` (sorted by time, jobs already due counting as due at
/// `now`) that must move so that no second holds more than [`MAX_DUE_PER_SECOND`].
fn spread(due: &[(String, f64)], now: i64) -> Vec<(String, i64)> {
    let mut moves = Vec::new();
    let (mut second, mut taken) = (now, 0usize);
    for (id, score) in due {
        let wanted = (*score as i64).max(now);
        if wanted > second {
            (second, taken) = (wanted, 0);
        }
        if taken == MAX_DUE_PER_SECOND {
            (second, taken) = (second + 1, 0);
        }
        taken += 1;
        if second != *score as i64 {
            moves.push((id.clone(), second));
        }
    }
    moves
}

/// Forgets up to about `max` jobs that finished (done, or set aside as dead) more than
/// `older_than` ago: their payload, their status and their place in the finished set. apalis
/// keeps all of it forever, so Redis would otherwise grow with every message ever sent. The
/// message rows in PostgreSQL keep what happened. Returns how many were forgotten.
pub async fn forget_finished(
    storage: &Storage,
    older_than: Duration,
    max: usize,
) -> Result<usize, QueueError> {
    let config = storage.get_config();
    let (data, meta) = (config.job_data_hash(), config.job_meta_hash());
    let cutoff = Utc::now().timestamp() - i64::try_from(older_than.as_secs()).unwrap_or(0);
    let mut connection = connection(storage);
    let mut forgotten = 0;
    for set in [config.done_jobs_set(), config.dead_jobs_set()] {
        let mut cursor = 0u64;
        loop {
            let mut scan = redis::cmd("SSCAN");
            scan.arg(&set).arg(cursor).arg("COUNT").arg(FORGET_BATCH);
            let (next, ids): (u64, Vec<String>) = within(scan.query_async(&mut connection)).await?;
            if ids.is_empty() {
                if next == 0 {
                    break;
                }
                cursor = next;
                continue;
            }
            let mut ages = redis::pipe();
            for id in &ids {
                ages.hget(format!("{meta}:{id}"), "done_at");
            }
            let done_at: Vec<Option<i64>> = within(ages.query_async(&mut connection)).await?;
            let old: Vec<&String> = ids
                .iter()
                .zip(done_at)
                .filter_map(|(id, at)| at.is_some_and(|at| at <= cutoff).then_some(id))
                .collect();
            if !old.is_empty() {
                let mut forget = redis::pipe();
                for id in &old {
                    forget
                        .hdel(&data, *id)
                        .ignore()
                        .del(format!("{meta}:{id}"))
                        .ignore()
                        .srem(&set, *id)
                        .ignore();
                }
                within(forget.query_async::<()>(&mut connection)).await?;
                forgotten += old.len();
            }
            if next == 0 || forgotten >= max {
                break;
            }
            cursor = next;
        }
    }
    Ok(forgotten)
}

/// Jobs looked at per round trip by [`forget_finished`].
const FORGET_BATCH: usize = 500;

/// Waits for a Redis call at most [`PUSH_TIMEOUT`].
async fn within<T>(
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, QueueError> {
    Ok(tokio::time::timeout(PUSH_TIMEOUT, call)
        .await
        .map_err(|_| QueueError::Timeout)??)
}

/// Whether Redis answers.
pub async fn ping(storage: &Storage) -> bool {
    let mut connection = connection(storage);
    let command = redis::cmd("PING");
    let ping = command.query_async::<String>(&mut connection);
    matches!(tokio::time::timeout(PUSH_TIMEOUT, ping).await, Ok(Ok(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_second_gets_more_than_its_share_and_the_order_holds() {
        let now = 1_000;
        let mut due: Vec<(String, f64)> = (0..12_000)
            .map(|i| (format!("a{i}"), (now - 5) as f64))
            .collect();
        due.extend((0..100).map(|i| (format!("b{i}"), (now + 1) as f64)));
        due.extend((0..10).map(|i| (format!("c{i}"), (now + 9) as f64)));
        let moves: std::collections::HashMap<String, i64> = spread(&due, now).into_iter().collect();
        let second_of = |id: &str, score: f64| moves.get(id).copied().unwrap_or(score as i64);
        let mut per_second = std::collections::BTreeMap::<i64, usize>::new();
        for (id, score) in &due {
            *per_second.entry(second_of(id, *score)).or_default() += 1;
        }
        assert!(
            per_second.values().all(|n| *n <= MAX_DUE_PER_SECOND),
            "{per_second:?}"
        );
        assert_eq!(per_second.values().sum::<usize>(), due.len());
        assert_eq!(second_of("a0", 995.0), now, "the first due go at once");
        assert_eq!(second_of("a11999", 995.0), now + 2);
        assert_eq!(
            second_of("b0", 1001.0),
            now + 2,
            "after the backlog, never before its time"
        );
        assert_eq!(
            second_of("c0", 1009.0),
            now + 9,
            "later jobs keep their time"
        );
    }
}
