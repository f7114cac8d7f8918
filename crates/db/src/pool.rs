//! What a pool reports while it works ([`PoolWatch`]): whether PostgreSQL was reachable at the
//! last connection attempt, so callers can answer at once while it is down; and, optionally,
//! how long each checkout waited, for metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crm_metrics::PoolMetrics;
use diesel::r2d2::event::{AcquireEvent, CheckoutEvent, TimeoutEvent};
use diesel::r2d2::{HandleError, HandleEvent};

/// Watches a pool's connection attempts (and its checkouts, when it records waits).
/// Share it with `Arc`: the pool reports to it, callers ask it.
#[derive(Debug)]
pub struct PoolWatch {
    epoch: Instant,
    /// When the last connection attempt failed / succeeded, in milliseconds since `epoch`
    /// plus one (0: never).
    last_failure: AtomicU64,
    last_success: AtomicU64,
    /// Where checkout waits and timeouts go, when this pool's users don't record them
    /// themselves.
    waits: Option<Arc<PoolMetrics>>,
}

impl Default for PoolWatch {
    fn default() -> Self {
        Self::new(None)
    }
}

impl PoolWatch {
    /// A watch; with `waits`, every checkout's wait (and every timeout) is recorded there.
    pub fn new(waits: Option<Arc<PoolMetrics>>) -> Self {
        Self {
            epoch: Instant::now(),
            last_failure: AtomicU64::new(0),
            last_success: AtomicU64::new(0),
            waits,
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }

    /// Whether the last connection attempt failed, less than `within` ago, and none
    /// succeeded since: PostgreSQL is down (or refuses us) as far as the pool knows. While it
    /// is, the pool retries in the background at least every half connection timeout, so
    /// `within` of one connection timeout keeps this true for the whole outage and no longer.
    pub fn is_unreachable(&self, within: Duration) -> bool {
        let failure = self.last_failure.load(Ordering::Relaxed);
        let success = self.last_success.load(Ordering::Relaxed);
        let within = u64::try_from(within.as_millis()).unwrap_or(u64::MAX);
        failure > success && self.now().saturating_sub(failure) < within
    }

    /// Remembers a failed connection attempt (the pool reports its own; tests of callers
    /// may too).
    pub fn connection_failed(&self) {
        self.last_failure.store(self.now(), Ordering::Relaxed);
    }

    fn connection_opened(&self) {
        self.last_success.store(self.now(), Ordering::Relaxed);
    }
}

/// The pool's event handler: a [`PoolWatch`] behind an `Arc`.
#[derive(Debug)]
pub(crate) struct Events(pub(crate) Arc<PoolWatch>);

impl HandleEvent for Events {
    fn handle_acquire(&self, _: AcquireEvent) {
        self.0.connection_opened();
    }

    fn handle_checkout(&self, event: CheckoutEvent) {
        if let Some(waits) = &self.0.waits {
            waits.wait.observe(event.duration());
        }
    }

    fn handle_timeout(&self, event: TimeoutEvent) {
        if let Some(waits) = &self.0.waits {
            waits.wait.observe(event.timeout());
            waits.timeouts.inc();
        }
    }
}

/// The pool's error handler: logs, as r2d2's default does, and remembers the failure.
#[derive(Debug)]
pub(crate) struct Errors(pub(crate) Arc<PoolWatch>);

impl HandleError<diesel::r2d2::Error> for Errors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        self.0.connection_failed();
        tracing::warn!(%error, "PostgreSQL connection failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recent_failure_with_no_success_since_means_unreachable() {
        let watch = PoolWatch::default();
        assert!(!watch.is_unreachable(Duration::from_secs(5)));
        watch.connection_failed();
        assert!(watch.is_unreachable(Duration::from_secs(5)));
        assert!(!watch.is_unreachable(Duration::ZERO));
        std::thread::sleep(Duration::from_millis(3));
        watch.connection_opened();
        assert!(!watch.is_unreachable(Duration::from_secs(5)));
    }
}
