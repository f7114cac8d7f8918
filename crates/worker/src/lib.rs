//! The worker: takes due `SendMessage` jobs from Redis, claims the message in PostgreSQL and
//! sends it through the configured provider; a reconciler makes sure nothing is lost.
//!
//! PostgreSQL decides: a job only says "look at message M at version V now". The claim
//! ([`crm_db::messages::claim_for_sending`]) turns a stale, canceled or duplicate job into a
//! no-op, so jobs may be pushed twice, run twice or outlive an edit. Several worker processes
//! can share one Redis and one database.

pub mod config;
pub mod metrics;
pub mod provider;
pub mod reconcile;
pub mod send;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BackendExt, Event, Monitor, WorkerBuilder, WorkerBuilderExt};
use apalis_redis::{ConnectionManager, RedisStorage};
use crm_db::{PgPool, PoolWatch};
use crm_queue::Storage;
use diesel::PgConnection;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use url::Url;

use crate::metrics::WorkerMetrics;
use crate::provider::Provider;

/// What every send needs: the database, the provider, who this worker is and how to try.
/// Cheap to clone (everything is shared).
#[derive(Debug, Clone)]
pub struct WorkerState {
    db: Db,
    provider: Arc<Provider>,
    name: Arc<str>,
    policy: SendPolicy,
    status_callback: Option<Url>,
    /// Cancelled when the process is asked to stop: no new jobs are taken.
    shutdown: CancellationToken,
    /// Cancelled a little after `shutdown`: sends waiting to retry stop waiting.
    give_up_retries: CancellationToken,
    /// The sends under way, so stopping can wait for them.
    in_flight: TaskTracker,
    /// What the metrics listener shows.
    metrics: Arc<WorkerMetrics>,
}

impl WorkerState {
    /// A worker called `name` (unique per process: see [`worker_name`]) sending through
    /// `provider`.
    pub fn new(db: Db, provider: Provider, name: impl Into<Arc<str>>, policy: SendPolicy) -> Self {
        Self {
            db,
            provider: Arc::new(provider),
            name: name.into(),
            policy,
            status_callback: None,
            shutdown: CancellationToken::new(),
            give_up_retries: CancellationToken::new(),
            in_flight: TaskTracker::new(),
            metrics: Arc::default(),
        }
    }

    /// The same, counting into `metrics` (whose pool metrics the pool records into: see
    /// [`crm_db::PoolWatch::new`]).
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<WorkerMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// What this worker has counted.
    pub fn metrics(&self) -> &Arc<WorkerMetrics> {
        &self.metrics
    }

    /// The PostgreSQL pool.
    pub fn pool(&self) -> &PgPool {
        &self.db.pool
    }

    /// The same, asking the provider to report deliveries to `url`.
    #[must_use]
    pub fn with_status_callback(mut self, url: Option<Url>) -> Self {
        self.status_callback = url;
        self
    }

    /// The worker's name, as recorded on the messages it claims.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The provider's name (`log`, `twilio`).
    pub fn provider_name(&self) -> &'static str {
        self.provider.name()
    }

    /// Asks the worker to stop: [`run`] stops taking jobs, lets the sends under way finish and
    /// returns.
    pub fn shut_down(&self) {
        self.shutdown.cancel();
    }

    /// Sends waiting to retry stop waiting and give their claims back (the message is
    /// `scheduled` again, for another worker); [`run`] calls it a few seconds after
    /// [`WorkerState::shut_down`].
    pub fn stop_retrying(&self) {
        self.give_up_retries.cancel();
    }
}

/// How one message is sent: how often and how patiently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPolicy {
    /// How many requests a message gets while the provider is unreachable (at least 1).
    pub attempts: u32,
    /// How long one request may take.
    pub timeout: Duration,
    /// The wait before the second request; it doubles for each next one.
    pub first_backoff: Duration,
    /// The longest wait between requests, `Retry-After` included.
    pub max_backoff: Duration,
}

/// What a claim's lease adds to the time its sends may take: room for the database calls
/// around them, so a slow but alive worker never looks dead.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

impl SendPolicy {
    /// `attempts` requests of at most `timeout` each, 1 s apart, then 2 s, 4 s… up to a minute.
    pub fn new(attempts: u32, timeout: Duration) -> Self {
        Self {
            attempts: attempts.max(1),
            timeout,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }

    /// How long a claim lasts before the reconciler may think its worker died: every request
    /// timing out, plus a margin. Retries extend it before each wait.
    pub fn lease(&self) -> Duration {
        self.timeout.saturating_mul(self.attempts) + LEASE_MARGIN
    }

    /// How long to wait after the `failed`-th request failed, honouring the provider's
    /// `Retry-After` when it asks for longer.
    pub fn backoff(&self, failed: u32, retry_after: Option<Duration>) -> Duration {
        let doubled = self
            .first_backoff
            .saturating_mul(2u32.saturating_pow(failed.saturating_sub(1)));
        doubled
            .max(retry_after.unwrap_or_default())
            .min(self.max_backoff)
    }
}

/// How the worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Most messages sent at once.
    pub concurrency: usize,
    /// How often an idle worker asks Redis for due jobs.
    pub poll_interval: Duration,
    /// How long sends under way get to finish once asked to stop.
    pub shutdown_timeout: Duration,
    /// How often the reconciler runs.
    pub reconcile_interval: Duration,
}

/// The settings of the queue `name` with this worker's batch size and a 5-second heartbeat: the
/// jobs of a worker that died are handed to another after three missed beats (15 s, not
/// apalis's 300 s).
pub fn queue_config(name: &str, batch_size: usize) -> apalis_redis::Config {
    crm_queue::config(name)
        .batch_size(batch_size.max(1))
        .heartbeat_interval(Duration::from_secs(5))
        .missed_heartbeats(3)
}

/// A worker name unique to this process start: `prefix-host-pid-random`. apalis refuses a name
/// seen within the last heartbeats, so a restarted worker must not reuse its old one.
pub fn worker_name(prefix: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let random: u32 = rand::random();
    format!("{prefix}-{host}-{}-{random:08x}", std::process::id())
}

/// The queue as the worker reads it: each payload as plain JSON, turned into a job by
/// [`send::send_message`]. apalis ends a worker on a payload it cannot decode, and the payload
/// would then end the next worker too; read as JSON, a payload that is not a job is set aside
/// instead (apalis's dead set) and the worker goes on.
pub type Jobs = RedisStorage<serde_json::Value, ConnectionManager>;

/// The jobs of `storage`'s queue, over the same connection.
pub fn jobs_of(storage: &Storage) -> Jobs {
    RedisStorage::new(crm_queue::connection(storage)).with_config(storage.get_config().clone())
}

/// Why [`run`] ended without being asked to.
#[derive(Debug, thiserror::Error)]
#[error(
    "the queue worker stopped without being asked to (Redis unreachable?); exiting so that the \
     supervisor restarts it"
)]
pub struct WorkerStopped;

/// Runs the worker until [`WorkerState::shut_down`]: waits for Redis, then takes jobs from
/// `storage` and sends them, with the reconciler alongside. Returns an error when the queue
/// worker died on its own (apalis ends a worker on any Redis error), so that the process exits
/// non-zero and is restarted.
pub async fn run(
    storage: Storage,
    state: WorkerState,
    options: RunOptions,
) -> Result<(), WorkerStopped> {
    let shutdown = state.shutdown.clone();
    let reconciler = tokio::spawn(reconcile::run(
        state.db.clone(),
        storage.clone(),
        options.reconcile_interval,
        shutdown.clone(),
    ));
    // Once asked to stop, sends waiting to retry get a few seconds, then give up, so that
    // a request already started still fits in the shutdown timeout.
    let grace = options
        .shutdown_timeout
        .saturating_sub(state.policy.timeout);
    let give_up = state.give_up_retries.clone();
    let stopping = shutdown.clone();
    tokio::spawn(async move {
        stopping.cancelled().await;
        tokio::time::sleep(grace).await;
        give_up.cancel();
    });

    if wait_for_redis(&storage, &shutdown).await {
        // Before taking jobs: a backlog larger than apalis can fetch at once (a long outage, a
        // burst) would stop this worker at its first poll.
        match crm_queue::spread_due(&storage, reconcile::SPREAD_AHEAD).await {
            Ok(0) => {}
            Ok(moved) => {
                tracing::warn!(moved, "spread a backlog of due jobs over the next seconds")
            }
            Err(error) => tracing::warn!(%error, "could not check the backlog of due jobs"),
        }
        tracing::info!(
            worker = state.name(),
            provider = state.provider_name(),
            concurrency = options.concurrency,
            poll_ms = options.poll_interval.as_millis() as u64,
            queue = storage.get_config().queue.as_ref(),
            "worker started"
        );
        let name = state.name.to_string();
        let (jobs, worker_state) = (jobs_of(&storage), state.clone());
        let signal = {
            let shutdown = shutdown.clone();
            async move {
                shutdown.cancelled().await;
                Ok(())
            }
        };
        let result = Monitor::new()
            .register(move |_restarts| {
                WorkerBuilder::new(name.clone())
                    .backend(jobs.clone().poll_with_interval(options.poll_interval))
                    .data(worker_state.clone())
                    .concurrency(options.concurrency)
                    .build(send::send_message)
            })
            .on_event(|worker, event| {
                if let Event::Error(error) = event {
                    // `send_message` has logged why, with the message.
                    tracing::debug!(worker = worker.name(), error = %error, "job failed");
                }
            })
            .shutdown_timeout(options.shutdown_timeout)
            .run_with_signal(signal)
            .await;
        if let Err(error) = result {
            tracing::error!(error = %error, "the queue worker ended with an error");
        }
    }

    let asked = shutdown.is_cancelled();
    if !asked {
        tracing::error!(worker = state.name(), "the queue worker stopped on its own");
    }
    shutdown.cancel();
    state.in_flight.close();
    if tokio::time::timeout(options.shutdown_timeout, state.in_flight.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            sends = state.in_flight.len(),
            "stopping with sends under way; the reconciler will mark them unknown"
        );
    }
    let _ = reconciler.await;
    tracing::info!(worker = state.name(), "worker stopped");
    if asked { Ok(()) } else { Err(WorkerStopped) }
}

/// Waits until Redis answers (true) or the worker is asked to stop (false), saying so now and
/// then: a worker started before Redis waits for it instead of exiting.
async fn wait_for_redis(storage: &Storage, shutdown: &CancellationToken) -> bool {
    let mut wait = Duration::from_millis(250);
    let mut tries = 0u32;
    loop {
        if crm_queue::ping(storage).await {
            if tries > 0 {
                tracing::info!("Redis is reachable");
            }
            return true;
        }
        tries += 1;
        if tries == 1 || tries.is_multiple_of(10) {
            tracing::warn!(tries, "Redis is unreachable (REDIS_URL); waiting for it");
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown.cancelled() => return false,
        }
        wait = (wait * 2).min(Duration::from_secs(5));
    }
}

/// Why a database call failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection came from the pool in time (PostgreSQL down or overloaded).
    #[error("no database connection: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// The query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// The blocking thread running the query died.
    #[error("database call did not finish: {0}")]
    Blocking(#[from] tokio::task::JoinError),
}

/// The worker's PostgreSQL: the pool, and the watch it reports to.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
    watch: Arc<PoolWatch>,
}

impl Db {
    /// `pool`, built with `watch` ([`crm_db::build_pool`]).
    pub fn new(pool: PgPool, watch: Arc<PoolWatch>) -> Self {
        Self { pool, watch }
    }

    /// Runs `query` on a pooled connection, on a blocking thread (diesel blocks). The pool
    /// trusts its connections: when `query` fails, the connection is checked, and one
    /// PostgreSQL dropped (a restart) is thrown away and makes the pool check the others
    /// before it hands them out ([`PoolWatch::check_after_failure`]), instead of each failing a
    /// round of its own.
    pub(crate) async fn run<T, F>(&self, query: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection) -> diesel::QueryResult<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.pool.get()?;
            let result = query(&mut conn);
            if result.is_err() {
                db.watch.check_after_failure(&mut conn);
            }
            Ok(result?)
        })
        .await?
    }
}

/// Waits for `signal`, then asks `state` to stop. For `main`.
pub async fn stop_on<S: Future<Output = ()>>(signal: S, state: WorkerState) {
    signal.await;
    tracing::info!("asked to stop; finishing the sends under way");
    state.shut_down();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_honours_retry_after() {
        let policy = SendPolicy::new(5, Duration::from_secs(15));
        let waits: Vec<u64> = (1..=8).map(|n| policy.backoff(n, None).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(policy.backoff(1, Some(Duration::from_secs(7))).as_secs(), 7);
        assert_eq!(
            policy.backoff(1, Some(Duration::from_secs(3600))).as_secs(),
            60
        );
    }

    #[test]
    fn the_lease_covers_every_attempt_timing_out() {
        let policy = SendPolicy::new(5, Duration::from_secs(15));
        assert_eq!(policy.lease(), Duration::from_secs(5 * 15 + 30));
    }

    #[test]
    fn worker_names_differ_between_processes_and_starts() {
        let (a, b) = (worker_name("crm-worker"), worker_name("crm-worker"));
        assert!(a.starts_with("crm-worker-"), "{a}");
        assert!(a.contains(&format!("-{}-", std::process::id())), "{a}");
        assert_ne!(a, b);
    }
}
