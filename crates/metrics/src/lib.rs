//! Metrics for Prometheus without a metrics framework: [`Counter`]s and fixed-bucket
//! [`Histogram`]s on atomics, [`Family`]s of them keyed by a few bounded labels, and [`Text`],
//! which writes them in Prometheus's text exposition format (version 0.0.4).
//!
//! Recording is a few relaxed atomic additions; a family adds a read lock and a map lookup
//! (its write lock is taken only the first time a label set is seen). Label values must come
//! from a bounded set (route patterns, methods, statuses), never from raw input.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The `Content-Type` of [`Text`].
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Buckets (seconds) for request latencies and similar: Prometheus's defaults.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets (seconds) for waits that are usually near zero: a connection from a pool.
pub const WAIT_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets (seconds) for slow work: a send with its retries, a large conversion.
pub const SLOW_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// A count that only goes up.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Durations counted into fixed buckets, with their sum and count.
#[derive(Debug)]
pub struct Histogram {
    /// Upper bounds in seconds, ascending; `+Inf` is implied.
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    buckets: Box<[AtomicU64]>,
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    /// An empty histogram with these upper bounds (seconds, ascending).
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Counts one observation.
    pub fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let bucket = self
            .bounds
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(self.bounds.len());
        if let Some(slot) = self.buckets.get(bucket) {
            slot.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// How many observations were counted.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// Metrics of one name told apart by labels, created on first use.
#[derive(Debug)]
pub struct Family<M> {
    labels: &'static [&'static str],
    make: fn() -> M,
    /// Keyed by the rendered label set (`route="/x",method="GET"`), which is also what
    /// [`Text`] writes.
    members: RwLock<HashMap<String, M>>,
}

impl<M> Family<M> {
    /// A family with these label names; `make` creates a member for a new label set.
    pub fn new(labels: &'static [&'static str], make: fn() -> M) -> Self {
        Self {
            labels,
            make,
            members: RwLock::new(HashMap::new()),
        }
    }

    /// Runs `record` on the member for `values` (one per label name, in order).
    pub fn with<R>(&self, values: &[&str], record: impl FnOnce(&M) -> R) -> R {
        let key = label_set(self.labels.iter().copied().zip(values.iter().copied()));
        if let Some(member) = self
            .members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return record(member);
        }
        let mut members = self
            .members
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        record(members.entry(key).or_insert_with(self.make))
    }

    /// Each member with its rendered label set, sorted, so the output is stable.
    fn each(&self, mut visit: impl FnMut(&str, &M)) {
        let members = self
            .members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut keys: Vec<&String> = members.keys().collect();
        keys.sort();
        for key in keys {
            if let Some(member) = members.get(key) {
                visit(key, member);
            }
        }
    }
}

impl Family<Counter> {
    /// A family of counters.
    pub fn counters(labels: &'static [&'static str]) -> Self {
        Self::new(labels, Counter::default)
    }

    /// The count of `values`' member (0 when it was never counted).
    pub fn get(&self, values: &[&str]) -> u64 {
        let key = label_set(self.labels.iter().copied().zip(values.iter().copied()));
        self.members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .map_or(0, Counter::get)
    }
}

/// `name="value",…` with the values escaped as the format wants.
fn label_set<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out
}

/// A scrape being written: call one method per metric name, then [`Text::finish`].
#[derive(Debug, Default)]
pub struct Text(String);

impl Text {
    /// An empty page.
    pub fn new() -> Self {
        Self::default()
    }

    fn header(&mut self, name: &str, help: &str, kind: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &str, value: impl std::fmt::Display) {
        if labels.is_empty() {
            let _ = writeln!(self.0, "{name} {value}");
        } else {
            let _ = writeln!(self.0, "{name}{{{labels}}} {value}");
        }
    }

    /// A counter without labels.
    pub fn counter(&mut self, name: &str, help: &str, counter: &Counter) {
        self.header(name, help, "counter");
        self.sample(name, "", counter.get());
    }

    /// A family of counters.
    pub fn counters(&mut self, name: &str, help: &str, family: &Family<Counter>) {
        self.header(name, help, "counter");
        family.each(|labels, counter| self.sample(name, labels, counter.get()));
    }

    /// A gauge with one sample per label set (`&[]` for none).
    pub fn gauge(&mut self, name: &str, help: &str, samples: &[(&[(&str, &str)], u64)]) {
        self.header(name, help, "gauge");
        for (labels, value) in samples {
            self.sample(name, &label_set(labels.iter().copied()), value);
        }
    }

    /// A histogram without labels.
    pub fn histogram(&mut self, name: &str, help: &str, histogram: &Histogram) {
        self.header(name, help, "histogram");
        self.histogram_samples(name, "", histogram);
    }

    /// A family of histograms.
    pub fn histograms(&mut self, name: &str, help: &str, family: &Family<Histogram>) {
        self.header(name, help, "histogram");
        family.each(|labels, histogram| self.histogram_samples(name, labels, histogram));
    }

    fn histogram_samples(&mut self, name: &str, labels: &str, histogram: &Histogram) {
        let bucket = format!("{name}_bucket");
        let prefix = if labels.is_empty() {
            String::new()
        } else {
            format!("{labels},")
        };
        let mut cumulative = 0u64;
        let bounds = histogram.bounds.iter().map(|b| b.to_string());
        for (le, count) in bounds
            .chain(std::iter::once("+Inf".to_owned()))
            .zip(histogram.buckets.iter())
        {
            cumulative += count.load(Ordering::Relaxed);
            self.sample(&bucket, &format!("{prefix}le=\"{le}\""), cumulative);
        }
        let sum = histogram.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, histogram.count());
    }

    /// The page.
    pub fn finish(self) -> String {
        self.0
    }
}

/// What a PostgreSQL pool's users record: how long each waited for a connection, and how many
/// gave up. The pool's size and connections are read from the pool when scraped.
#[derive(Debug)]
pub struct PoolMetrics {
    /// The time to get a connection (also of those that gave up).
    pub wait: Histogram,
    /// Waits that ended without a connection (timeout, or PostgreSQL known to be unreachable).
    pub timeouts: Counter,
}

impl Default for PoolMetrics {
    fn default() -> Self {
        Self {
            wait: Histogram::new(WAIT_BUCKETS),
            timeouts: Counter::default(),
        }
    }
}

/// A pool's state at a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// The most connections the pool opens.
    pub size: u32,
    /// Connections open now.
    pub connections: u32,
    /// Of those, the ones not lent out.
    pub idle: u32,
}

impl PoolMetrics {
    /// Writes `db_pool_size`, `db_pool_connections{state}`, `db_pool_wait_seconds` and
    /// `db_pool_timeouts_total`.
    pub fn write(&self, text: &mut Text, state: PoolState) {
        text.gauge(
            "db_pool_size",
            "Most PostgreSQL connections the pool opens.",
            &[(&[], u64::from(state.size))],
        );
        let in_use = state.connections.saturating_sub(state.idle);
        text.gauge(
            "db_pool_connections",
            "Open PostgreSQL connections, idle or lent out.",
            &[
                (&[("state", "idle")], u64::from(state.idle)),
                (&[("state", "in_use")], u64::from(in_use)),
            ],
        );
        text.histogram(
            "db_pool_wait_seconds",
            "Time to get a PostgreSQL connection from the pool.",
            &self.wait,
        );
        text.counter(
            "db_pool_timeouts_total",
            "Waits for a PostgreSQL connection that ended without one.",
            &self.timeouts,
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_written_cumulative_with_its_sum_and_count() {
        let histogram = Histogram::new(&[0.1, 1.0]);
        histogram.observe(Duration::from_millis(50));
        histogram.observe(Duration::from_millis(500));
        histogram.observe(Duration::from_secs(3));
        let mut text = Text::new();
        text.histogram("wait_seconds", "How long.", &histogram);
        assert_eq!(
            text.finish(),
            "# HELP wait_seconds How long.\n# TYPE wait_seconds histogram\n\
             wait_seconds_bucket{le=\"0.1\"} 1\nwait_seconds_bucket{le=\"1\"} 2\n\
             wait_seconds_bucket{le=\"+Inf\"} 3\nwait_seconds_sum 3.55\nwait_seconds_count 3\n"
        );
    }

    #[test]
    fn family_members_are_written_sorted_with_escaped_labels() {
        let family = Family::counters(&["route", "status"]);
        family.with(&["/b", "200"], Counter::inc);
        family.with(&["/a \"q\"", "404"], Counter::inc);
        family.with(&["/b", "200"], Counter::inc);
        assert_eq!(family.get(&["/b", "200"]), 2);
        assert_eq!(family.get(&["/c", "200"]), 0);
        let mut text = Text::new();
        text.counters("requests_total", "Requests.", &family);
        let page = text.finish();
        assert!(
            page.ends_with(
                "requests_total{route=\"/a \\\"q\\\"\",status=\"404\"} 1\n\
                 requests_total{route=\"/b\",status=\"200\"} 2\n"
            ),
            "{page}"
        );
    }

    #[test]
    fn labelled_histograms_put_le_last() {
        let family = Family::new(&["kind"], || Histogram::new(&[1.0]));
        family.with(&["png"], |h| h.observe(Duration::from_millis(10)));
        let mut text = Text::new();
        text.histograms("conversion_seconds", "Conversions.", &family);
        assert!(
            text.finish()
                .contains("conversion_seconds_bucket{kind=\"png\",le=\"1\"} 1\n")
        );
    }
}
