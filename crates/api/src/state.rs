//! Shared application state and the bridge from async handlers to blocking diesel calls.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use crm_db::{PgPool, PgPooledConnection, PoolWatch};
use diesel::PgConnection;
use secrecy::ExposeSecret;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;
use crate::error::ApiError;
use crate::handover::{self, Lease};
use crate::live::LiveHub;
use crate::metrics::ApiMetrics;
use crate::storage::ReceiptStore;

/// What every handler can reach: configuration, the PostgreSQL pool, the Redis client.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub redis: Option<redis::Client>,
    /// The job queue messages are scheduled on (`None` if `REDIS_URL` is not a Redis URL).
    pub queue: Option<crm_queue::Storage>,
    pub receipts: ReceiptStore,
    /// Receipt conversions that may run at once: each may hold hundreds of megabytes, so
    /// concurrent uploads queue here rather than add up.
    pub conversions: Arc<tokio::sync::Semaphore>,
    /// Live events of this process (see [`crate::live::start`]).
    pub live: Arc<LiveHub>,
    /// Password verifications (Argon2) this process has run for sign-ins and current-password
    /// checks: what the back-off limits, and what tests count.
    pub password_checks: Arc<AtomicU64>,
    /// What `GET /api/v1/metrics` shows.
    pub metrics: Arc<ApiMetrics>,
    /// What the pool knows of PostgreSQL's reachability.
    pub pool_watch: Arc<PoolWatch>,
    /// One permit per pooled connection: [`AppState::db`] waits here, asynchronously, before
    /// it takes a blocking thread.
    db_slots: Arc<Semaphore>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Builds the state for `config`: a lazy pool (no connection until needed), a Redis client
    /// and the receipt store (its folder is created if missing).
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let pool_watch = Arc::new(PoolWatch::default());
        let pool = crm_db::build_pool(
            config.database_url.expose_secret(),
            config.database_pool_size,
            config.database_timeout,
            Arc::clone(&pool_watch),
        );
        let db_slots = Arc::new(Semaphore::new(config.database_pool_size as usize));
        let redis = redis::Client::open(config.redis_url.expose_secret()).ok();
        let queue = crm_queue::open(
            config.redis_url.expose_secret(),
            crm_queue::config(&config.message_queue),
        )
        .map_err(|error| tracing::warn!(%error, "the message queue is unavailable"))
        .ok();
        let receipts = ReceiptStore::from_config(&config.receipt_storage)?;
        let parallel = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Self {
            config: Arc::new(config),
            pool,
            redis,
            queue,
            receipts,
            conversions: Arc::new(tokio::sync::Semaphore::new(parallel)),
            live: Arc::new(LiveHub::default()),
            password_checks: Arc::new(AtomicU64::new(0)),
            metrics: Arc::new(ApiMetrics::default()),
            pool_watch,
            db_slots,
        })
    }

    /// Runs `work` with a pooled connection on a blocking thread, so actix workers never block.
    ///
    /// `DATABASE_TIMEOUT_SECS` bounds the whole wait for a connection: first for one of the
    /// pool's slots, asynchronously and in order, so that at most one blocking thread per
    /// connection ever waits on the pool (the blocking thread pool never becomes a queue of its
    /// own); then for the connection, with what is left of the time. No connection in time is a
    /// 503, and so is a request while PostgreSQL is known to be down (the pool's last
    /// connection attempt failed and it has no idle connection): it is answered at once.
    ///
    /// A read's authentication hands its connection to the handler's first call (see
    /// [`crate::handover`]). When `work` fails with a 503 or a 500, the connection is checked:
    /// one PostgreSQL dropped (a restart) leaves the pool, which then checks the others as they
    /// are taken.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(work).await.result
    }

    /// [`AppState::db`] for work that may run twice (reads, and writes that change nothing the
    /// second time): when it fails on a connection PostgreSQL had dropped (a restart), it runs
    /// once more on another. Authentication runs so, and it is the first database work of
    /// every request that needs sign-in: a restart of PostgreSQL fails none of them.
    pub async fn db_retried<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: Fn(&mut PgConnection) -> Result<T, ApiError> + Clone + Send + 'static,
        T: Send + 'static,
    {
        let first = self.run(work.clone()).await;
        if !first.lost {
            return first.result;
        }
        if first.keeping {
            handover::reopen();
        }
        self.run(work).await.result
    }

    async fn run<T, F>(&self, work: F) -> Ran<T>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let started = Instant::now();
        let (kept, keeping) = handover::take();
        let failed = |error| Ran {
            result: Err(error),
            lost: false,
            keeping,
        };
        let claim = match kept {
            Some(lease) => Claim::Kept(lease),
            None => match self.db_slot(started).await {
                Ok(slot) => Claim::Slot(slot),
                Err(error) => return failed(error),
            },
        };
        let (pool, metrics) = (self.pool.clone(), Arc::clone(&self.metrics));
        let watch = Arc::clone(&self.pool_watch);
        let deadline = started + self.config.database_timeout;
        let ran = actix_web::web::block(move || {
            let mut lease = match claim {
                Claim::Kept(lease) => lease,
                Claim::Slot(slot) => match lease(&pool, slot, deadline, started, &metrics) {
                    Ok(lease) => lease,
                    Err(error) => return (Err(error), false, None),
                },
            };
            let result = work(&mut lease.conn);
            // The pool trusts its connections; one PostgreSQL dropped shows up as failed work.
            let lost = matches!(
                &result,
                Err(ApiError::Unavailable(_) | ApiError::Internal(_))
            ) && watch.check_after_failure(&mut lease.conn);
            let kept = (keeping && result.is_ok()).then_some(lease);
            (result, lost, kept)
        })
        .await;
        let (result, lost, kept) = match ran {
            Ok(ran) => ran,
            Err(error) => return failed(ApiError::internal(error)),
        };
        if let Some(lease) = kept {
            handover::keep(lease);
        }
        Ran {
            result,
            lost,
            keeping,
        }
    }

    /// Waits for a slot of the pool within `DATABASE_TIMEOUT_SECS` of `started`.
    async fn db_slot(&self, started: Instant) -> Result<OwnedSemaphorePermit, ApiError> {
        let timeout = self.config.database_timeout;
        let unavailable = |why: String| {
            self.metrics.pool.wait.observe(started.elapsed());
            self.metrics.pool.timeouts.inc();
            ApiError::Unavailable(why)
        };
        if self.pool_watch.is_unreachable(timeout) && self.pool.state().idle_connections == 0 {
            return Err(unavailable(
                "PostgreSQL is unreachable (the last connection attempt failed)".into(),
            ));
        }
        let slot = Arc::clone(&self.db_slots).acquire_owned();
        match tokio::time::timeout(timeout, slot).await {
            Ok(Ok(slot)) => Ok(slot),
            Ok(Err(closed)) => Err(ApiError::internal(closed)),
            Err(_) => Err(unavailable(format!(
                "PostgreSQL: every connection stayed in use for {timeout:?}"
            ))),
        }
    }
}

/// What one run of database work came to.
struct Ran<T> {
    result: Result<T, ApiError>,
    /// The work failed on a connection PostgreSQL had dropped (and the pool now drops).
    lost: bool,
    /// The run was to keep its connection for the next call ([`handover`]).
    keeping: bool,
}

/// What a database call starts from: a connection kept for it, or a slot of the pool.
enum Claim {
    Kept(Lease),
    Slot(OwnedSemaphorePermit),
}

/// Takes a connection from `pool` under `slot` by `deadline`; a 503 when none comes in time.
fn lease(
    pool: &PgPool,
    slot: OwnedSemaphorePermit,
    deadline: Instant,
    started: Instant,
    metrics: &ApiMetrics,
) -> Result<Lease, ApiError> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let conn = pool.get_timeout(remaining);
    metrics.pool.wait.observe(started.elapsed());
    let conn: PgPooledConnection = conn.map_err(|e| {
        metrics.pool.timeouts.inc();
        ApiError::Unavailable(format!("PostgreSQL: {e}"))
    })?;
    Ok(Lease { _slot: slot, conn })
}
