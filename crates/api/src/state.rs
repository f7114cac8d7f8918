//! Shared application state and the bridge from async handlers to blocking diesel calls.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crm_db::PgPool;
use diesel::PgConnection;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::error::ApiError;
use crate::live::LiveHub;
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
        let pool = crm_db::build_pool(
            config.database_url.expose_secret(),
            config.database_pool_size,
            config.database_timeout,
        );
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
        })
    }

    /// Runs `work` with a pooled connection on a blocking thread, so actix workers never block.
    /// No connection within the configured timeout is a 503.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool
                .get()
                .map_err(|e| ApiError::Unavailable(format!("PostgreSQL: {e}")))?;
            work(&mut conn)
        })
        .await
        .map_err(ApiError::internal)?
    }
}
