//! What the worker counts for Prometheus ([`WorkerMetrics`]), and the small HTTP listener that
//! serves it on `METRICS_ADDR` ([`serve`]), apart from the API: the worker has no other
//! HTTP server, and its address should be reachable only by the monitoring system.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crm_db::PgPool;
use crm_domain::Channel;
use crm_metrics::{Counter, Family, Histogram, PoolMetrics, PoolState, Text};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A message sent more than this after its `send_at` counts as late: people schedule to the
/// minute, so within a minute is on time. (Jobs are fetched every `WORKER_POLL_MS`; a message
/// whose job was lost is re-queued by the reconciler within `RECONCILE_SECS` + 3 s.)
pub const LATE_AFTER: Duration = Duration::from_secs(60);

/// How long a scrape may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The counters and histograms of one worker process.
#[derive(Debug)]
pub struct WorkerMetrics {
    sent: Family<Counter>,
    failed: Family<Counter>,
    unknown: Family<Counter>,
    late: Family<Counter>,
    jobs: Histogram,
    /// Waits for a PostgreSQL connection (recorded by the pool: see [`crm_db::PoolWatch`]).
    pub pool: Arc<PoolMetrics>,
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        let by_channel = || {
            let family = Family::counters(&["channel"]);
            for channel in [Channel::Sms, Channel::Whatsapp] {
                family.with(&[channel.as_str()], |_| ());
            }
            family
        };
        Self {
            sent: by_channel(),
            failed: by_channel(),
            unknown: by_channel(),
            late: by_channel(),
            jobs: Histogram::new(crm_metrics::SLOW_BUCKETS),
            pool: Arc::default(),
        }
    }
}

impl WorkerMetrics {
    /// Counts a message the provider accepted at `sent_at`.
    pub fn record_sent(&self, channel: Channel, send_at: DateTime<Utc>, sent_at: DateTime<Utc>) {
        self.sent.with(&[channel.as_str()], Counter::inc);
        if (sent_at - send_at)
            .to_std()
            .is_ok_and(|late| late > LATE_AFTER)
        {
            self.late.with(&[channel.as_str()], Counter::inc);
        }
    }

    /// Counts a message the provider refused for good (or never reached, after every attempt).
    pub fn record_failed(&self, channel: Channel) {
        self.failed.with(&[channel.as_str()], Counter::inc);
    }

    /// Counts a message whose outcome was lost.
    pub fn record_unknown(&self, channel: Channel) {
        self.unknown.with(&[channel.as_str()], Counter::inc);
    }

    /// Counts one run of a job, whatever it did.
    pub fn record_job(&self, took: Duration) {
        self.jobs.observe(took);
    }

    /// Messages sent on `channel` so far.
    pub fn sent(&self, channel: Channel) -> u64 {
        self.sent.get(&[channel.as_str()])
    }

    /// The Prometheus page, with `pool`'s state as it is now.
    pub fn render(&self, pool: &PgPool) -> String {
        let mut text = Text::new();
        text.counters(
            "messages_sent_total",
            "Messages the provider accepted, by channel.",
            &self.sent,
        );
        text.counters(
            "messages_failed_total",
            "Messages marked failed (refused by the provider, or unreachable after every attempt), by channel.",
            &self.failed,
        );
        text.counters(
            "messages_unknown_total",
            "Messages whose outcome was lost (marked unknown for a person to decide), by channel.",
            &self.unknown,
        );
        text.counters(
            "messages_late_total",
            "Messages sent more than 60 s after their send_at, by channel.",
            &self.late,
        );
        text.histogram(
            "job_duration_seconds",
            "Time to run a send job: claim, every attempt at the provider, record.",
            &self.jobs,
        );
        let state = pool.state();
        self.pool.write(
            &mut text,
            PoolState {
                size: pool.max_size(),
                connections: state.connections,
                idle: state.idle_connections,
            },
        );
        text.finish()
    }
}

/// Answers `GET /metrics` on `listener` with `metrics` until `shutdown`; anything else gets 404.
/// One short HTTP/1.1 exchange per connection, then it is closed.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<WorkerMetrics>,
    pool: PgPool,
    shutdown: CancellationToken,
) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "metrics listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => return,
        };
        let (metrics, pool) = (Arc::clone(&metrics), pool.clone());
        tokio::spawn(async move {
            if let Err(error) = answer(stream, &metrics, &pool).await {
                tracing::debug!(%error, "metrics listener: a scrape failed");
            }
        });
    }
}

async fn answer(
    mut stream: TcpStream,
    metrics: &WorkerMetrics,
    pool: &PgPool,
) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buffer = [0u8; 512];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
            let n = stream.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buffer[..n]);
        }
        std::io::Result::Ok(())
    };
    tokio::time::timeout(READ_TIMEOUT, read)
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let request_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut parts = request_line.split(|b| *b == b' ');
    let (method, target) = (parts.next(), parts.next());
    let path = target.map(|t| t.split(|b| *b == b'?').next().unwrap_or_default());
    let (status, content_type, body) = match (method, path) {
        (Some(b"GET"), Some(b"/metrics")) => {
            ("200 OK", crm_metrics::CONTENT_TYPE, metrics.render(pool))
        }
        _ => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "Not found: the metrics are at GET /metrics.\n".to_owned(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
