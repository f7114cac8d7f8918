//! Live events for open web apps: one listener per API process fans the event log out to every
//! stream of `GET /api/v1/events`, and a timer announces reminders as they fall due.
//!
//! Why PostgreSQL `LISTEN/NOTIFY` and not Redis pub/sub: the events are written by triggers in
//! the transaction of the change (whether an API process, a worker or a webhook made it), and
//! NOTIFY is delivered at commit and only on commit. So an event exists exactly when its change
//! does, the log in PostgreSQL is what a reconnecting client resumes from, and the API needs no
//! Redis for it (Redis stays what ARCHITECTURE makes it: the queue of due message jobs, which the
//! API may run without). A notification only says "read the log"; a missed one is caught up by
//! a read every second, and a listener that lost its connection reconnects and reads on from
//! where it was.

use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use crm_db::live::{self, Cursor, Record};
use diesel::{Connection, PgConnection};
use secrecy::ExposeSecret;
use tokio::sync::broadcast;

use crate::state::AppState;

/// How long events are kept for clients that reconnect.
pub const KEEP_FOR: chrono::TimeDelta = chrono::TimeDelta::days(1);
/// How many events a stream may fall behind before it is told to resync.
const CHANNEL_CAPACITY: usize = 4096;
/// Events read from the log at once.
const BATCH: i64 = 500;
/// How often the listener looks at its connection for notifications.
const LISTEN_TICK: Duration = Duration::from_millis(25);
/// How often the log is read when no notification came (a missed one costs at most this).
const IDLE_READ: Duration = Duration::from_secs(1);
/// After a notification, the log is read this often until it yields the event (another
/// transaction still running may hold it back a few milliseconds)…
const EAGER_READ: Duration = Duration::from_millis(50);
/// …for this long.
const EAGER_FOR: Duration = Duration::from_secs(2);
/// How often the timer looks for reminders that fell due.
const DUE_TICK: Duration = Duration::from_millis(250);

/// The events of this process: where the log has been read to, and the channel every open
/// stream listens on.
#[derive(Debug)]
pub struct LiveHub {
    sender: broadcast::Sender<Arc<Record>>,
    /// The last event sent on the channel; `None` until the listener first read the log.
    cursor: Mutex<Option<Cursor>>,
    started: OnceLock<()>,
    /// Set when the process stops: every stream ends, so shutting down waits for none.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CHANNEL_CAPACITY).0,
            cursor: Mutex::new(None),
            started: OnceLock::new(),
            closing: tokio::sync::watch::Sender::new(false),
        }
    }
}

impl LiveHub {
    /// Ends every stream (the process is stopping; browsers reconnect to another one).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`LiveHub::close`] was called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            // An error means the hub is gone: closed all the same.
            let _ = closing.wait_for(|closed| *closed).await;
        }
    }

    /// A receiver of every event from now on, and the cursor of the last event before it;
    /// `None` while the listener has not reached the database yet.
    pub fn subscribe(&self) -> Option<(broadcast::Receiver<Arc<Record>>, Cursor)> {
        let cursor = self.cursor.lock().unwrap_or_else(PoisonError::into_inner);
        cursor.map(|at| (self.sender.subscribe(), at))
    }

    /// How many streams are open on this process.
    pub fn streams(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Sends `records` (read after the cursor, in order) to every stream.
    fn publish(&self, records: Vec<Record>) {
        let mut cursor = self.cursor.lock().unwrap_or_else(PoisonError::into_inner);
        for record in records {
            *cursor = Some(record.cursor());
            // No receiver is fine: nobody is watching.
            let _ = self.sender.send(Arc::new(record));
        }
    }

    fn start_at(&self, end: Cursor) {
        let mut cursor = self.cursor.lock().unwrap_or_else(PoisonError::into_inner);
        cursor.get_or_insert(end);
    }

    fn position(&self) -> Option<Cursor> {
        *self.cursor.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts the listener (a thread with its own connection) and the due-reminder timer of this
/// process, once. Both stop when the state's hub is dropped.
pub fn start(state: &AppState) {
    if state.live.started.set(()).is_err() {
        return;
    }
    let hub = Arc::downgrade(&state.live);
    let url = state.config.database_url.expose_secret().to_owned();
    let spawned = std::thread::Builder::new()
        .name("live-events".into())
        .spawn(move || listen(&url, &hub));
    if let Err(error) = spawned {
        tracing::error!(%error, "could not start the live-event listener");
    }
    let timer_state = state.clone();
    actix_web::rt::spawn(async move { announce_due(timer_state).await });
}

/// The listener: reconnects whenever its connection is lost, and reads on from the hub's
/// cursor, so nothing written meanwhile is missed.
fn listen(url: &str, hub: &Weak<LiveHub>) {
    let mut failures = 0u32;
    while hub.strong_count() > 0 {
        match PgConnection::establish(url) {
            Ok(mut conn) => {
                failures = 0;
                if let Err(error) = follow(&mut conn, hub) {
                    tracing::warn!(%error, "the live-event listener lost PostgreSQL; reconnecting");
                }
            }
            Err(error) => {
                failures += 1;
                if failures == 1 {
                    tracing::warn!(%error, "the live-event listener cannot reach PostgreSQL");
                }
            }
        }
        std::thread::sleep(Duration::from_millis(
            500 * u64::from(failures.min(10)) + 100,
        ));
    }
}

/// Follows the log on one connection until it fails or the hub is gone.
fn follow(conn: &mut PgConnection, hub: &Weak<LiveHub>) -> diesel::QueryResult<()> {
    live::listen(conn)?;
    if let Some(hub) = hub.upgrade() {
        hub.start_at(live::end(conn)?);
    }
    let mut next_read = Instant::now();
    let mut eager_until = Instant::now();
    loop {
        let Some(hub) = hub.upgrade() else {
            return Ok(());
        };
        let now = Instant::now();
        if live::notified(conn)? {
            eager_until = now + EAGER_FOR;
            next_read = now;
        }
        if now >= next_read {
            read_log(conn, &hub)?;
            let pause = if now < eager_until {
                EAGER_READ
            } else {
                IDLE_READ
            };
            next_read = now + pause;
        }
        drop(hub);
        std::thread::sleep(LISTEN_TICK);
    }
}

/// Reads everything new in the log and sends it to the streams.
fn read_log(conn: &mut PgConnection, hub: &LiveHub) -> diesel::QueryResult<()> {
    loop {
        let Some(cursor) = hub.position() else {
            return Ok(());
        };
        let records = live::after(conn, cursor, None, BATCH)?;
        let full = records.len() as i64 == BATCH;
        if !records.is_empty() {
            tracing::debug!(count = records.len(), streams = hub.streams(), from = %cursor, "live events read");
        }
        hub.publish(records);
        if !full {
            return Ok(());
        }
    }
}

/// Marks reminders that fell due as announced, which writes their `reminder.due` events;
/// every API process runs it, and each reminder is announced by one of them.
async fn announce_due(state: AppState) {
    let hub = Arc::downgrade(&state.live);
    let mut failing = false;
    let mut tick = actix_web::rt::time::interval(DUE_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while hub.strong_count() > 1 {
        tick.tick().await;
        match state
            .db(|conn| Ok(crm_db::reminders::announce_due(conn, BATCH)?))
            .await
        {
            Ok(count) => {
                failing = false;
                if count > 0 {
                    tracing::debug!(count, "reminders fell due");
                }
            }
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "cannot look for due reminders; retrying");
            }
            Err(_) => {}
        }
    }
}
