//! What a pool reports while it works ([`PoolWatch`]): whether PostgreSQL was reachable at the
//! last connection attempt, so callers can answer at once while it is down; whether a
//! connection was lost lately, so the pool checks connections as they are taken only then
//! ([`Manager`]); and, optionally, how long each checkout waited, for metrics.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crm_metrics::PoolMetrics;
use diesel::PgConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::event::{AcquireEvent, CheckoutEvent, TimeoutEvent};
use diesel::r2d2::{ConnectionManager, HandleError, HandleEvent, ManageConnection, R2D2Connection};

/// How long an idle connection may stay in the pool before the pool closes it.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// How long after a lost connection or a failed connection attempt the pool checks each
/// connection as it is taken: long enough for every connection that was idle then to be either
/// taken (and checked) or closed as idle (r2d2's reaper runs every 30 s).
const DOUBT: Duration = IDLE_TIMEOUT.saturating_add(Duration::from_secs(60));

/// Watches a pool's connection attempts (and its checkouts, when it records waits).
/// Share it with `Arc`: the pool reports to it, callers ask it.
#[derive(Debug)]
pub struct PoolWatch {
    epoch: Instant,
    /// When the last connection attempt failed / succeeded, in milliseconds since `epoch`
    /// plus one (0: never).
    last_failure: AtomicU64,
    last_success: AtomicU64,
    /// When a connection was last found lost (PostgreSQL restarted or dropped it), the same way.
    last_lost: AtomicU64,
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
            last_lost: AtomicU64::new(0),
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

    /// Whether the pool should check connections as they are taken: a connection attempt
    /// failed or a connection was lost less than [`DOUBT`] ago, so idle connections may be
    /// dead too (PostgreSQL restarted). Otherwise connections are trusted, which saves a round
    /// trip per checkout.
    pub fn doubts_connections(&self) -> bool {
        let doubt = u64::try_from(DOUBT.as_millis()).unwrap_or(u64::MAX);
        let last = self
            .last_failure
            .load(Ordering::Relaxed)
            .max(self.last_lost.load(Ordering::Relaxed));
        last > 0 && self.now().saturating_sub(last) < doubt
    }

    /// To call when work on `conn` failed in a way that may mean PostgreSQL went away (a
    /// connection error, or an error the caller can no longer tell apart from one): checks the
    /// connection, and if it is dead, makes the pool drop it when it is returned and check
    /// every connection as it is taken for a while. Returns whether it was dead.
    pub fn check_after_failure(&self, conn: &mut PgConnection) -> bool {
        if conn.ping().is_ok() {
            return false;
        }
        AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
        self.last_lost.store(self.now(), Ordering::Relaxed);
        true
    }
}

/// The pool's connection manager: diesel's, except that a connection is checked (`SELECT 1`)
/// as it is taken only while its [`PoolWatch`] doubts connections. Connections found dead by
/// [`PoolWatch::check_after_failure`], or left in a failed transaction, are dropped when they
/// are returned.
#[derive(Debug)]
pub struct Manager {
    inner: ConnectionManager<PgConnection>,
    watch: Arc<PoolWatch>,
}

impl Manager {
    pub(crate) fn new(database_url: &str, watch: Arc<PoolWatch>) -> Self {
        let sslmode = std::env::var("PGSSLMODE").ok();
        Self {
            inner: ConnectionManager::new(loopback_without_tls(database_url, sslmode.as_deref())),
            watch,
        }
    }
}

/// The URL the pool connects with: `database_url`, with `sslmode=disable` added when it names
/// a server on this machine's loopback interface (`localhost`, `127.0.0.0/8`, `::1`) and
/// nothing says how to use TLS (no `sslmode` in the URL, `PGSSLMODE` unset: `env_sslmode`).
///
/// libpq's default, `prefer`, encrypts even a connection to 127.0.0.1 when the server offers
/// TLS, as Debian's PostgreSQL does. Over loopback that protects nothing (the bytes never leave
/// the machine, and whoever can read them there can read either process's memory), and it
/// costs a fifth of the API's throughput (docs/PERFORMANCE.md, "Second pass"). Any other URL —
/// another host, a Unix socket, a `host` parameter, several hosts, key=value settings — is
/// left exactly as written.
pub fn loopback_without_tls<'a>(database_url: &'a str, env_sslmode: Option<&str>) -> Cow<'a, str> {
    if env_sslmode.is_some_and(|mode| !mode.is_empty()) {
        return Cow::Borrowed(database_url);
    }
    let Ok(url) = url::Url::parse(database_url) else {
        return Cow::Borrowed(database_url);
    };
    // `postgres:` is not a scheme the URL standard knows, so an IPv4 address stays text.
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::from(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::from(ip).is_loopback(),
        None => false,
    };
    let says_more = url
        .query_pairs()
        .any(|(key, _)| matches!(&*key, "sslmode" | "requiressl" | "host" | "hostaddr"));
    if !matches!(url.scheme(), "postgres" | "postgresql") || !loopback || says_more {
        return Cow::Borrowed(database_url);
    }
    let mut url = url;
    url.query_pairs_mut().append_pair("sslmode", "disable");
    Cow::Owned(url.into())
}

impl ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        self.inner.connect()
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        if self.watch.doubts_connections() {
            self.inner.is_valid(conn)
        } else {
            Ok(())
        }
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        self.inner.has_broken(conn)
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

    #[test]
    fn connections_are_doubted_only_after_a_failure() {
        let watch = PoolWatch::default();
        assert!(!watch.doubts_connections());
        watch.connection_failed();
        assert!(watch.doubts_connections());
        watch.connection_opened();
        assert!(
            watch.doubts_connections(),
            "a success does not end the doubt"
        );
        // A watch whose last failure was at its start, `DOUBT` and a minute ago.
        let Some(epoch) = Instant::now().checked_sub(DOUBT + Duration::from_secs(60)) else {
            return; // the machine has not been up that long
        };
        let long_ago = PoolWatch {
            epoch,
            ..PoolWatch::default()
        };
        long_ago.last_lost.store(1, Ordering::Relaxed);
        assert!(!long_ago.doubts_connections());
    }

    #[test]
    fn only_a_loopback_url_that_says_nothing_of_tls_goes_without_it() {
        let plain = |url| loopback_without_tls(url, None).into_owned();
        for (url, expected) in [
            (
                "postgres://postgres@127.0.0.1:5432/crm",
                "postgres://postgres@127.0.0.1:5432/crm?sslmode=disable",
            ),
            (
                "postgresql://crm:secret@localhost/crm?connect_timeout=5",
                "postgresql://crm:secret@localhost/crm?connect_timeout=5&sslmode=disable",
            ),
            (
                "postgres://[::1]/crm",
                "postgres://[::1]/crm?sslmode=disable",
            ),
            (
                "postgres://127.0.0.2/crm",
                "postgres://127.0.0.2/crm?sslmode=disable",
            ),
        ] {
            assert_eq!(plain(url), expected, "{url}");
        }
        for unchanged in [
            "postgres://db.example.com/crm",
            "postgres://10.0.0.5:5432/crm",
            "postgres://127.0.0.1/crm?sslmode=require",
            "postgres://localhost/crm?sslmode=verify-full&sslrootcert=/etc/ca.pem",
            "postgres://localhost/crm?requiressl=1",
            "postgres:///crm?host=/var/run/postgresql",
            "postgres://localhost/crm?host=db.example.com",
            "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/crm",
            "postgres://h1.example.com,localhost/crm",
            "host=localhost dbname=crm",
            "mysql://127.0.0.1/crm",
        ] {
            assert_eq!(plain(unchanged), unchanged);
        }
        // PGSSLMODE decides for every URL that does not say.
        let url = "postgres://127.0.0.1/crm";
        assert_eq!(loopback_without_tls(url, Some("require")), url);
        assert_eq!(loopback_without_tls(url, Some("prefer")), url);
        assert_eq!(
            loopback_without_tls(url, Some("")),
            "postgres://127.0.0.1/crm?sslmode=disable"
        );
    }
}
