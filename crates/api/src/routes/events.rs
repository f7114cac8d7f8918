//! `GET /api/v1/events`: Server-Sent Events for the signed-in user.
//!
//! A stream sends the events its user may see (their own reminders; messages and invoices,
//! which every user sees) as they are written, a comment every [`HEARTBEAT`] so proxies keep it
//! open, and after a reconnect with `Last-Event-ID` what was missed meanwhile. It ends when the
//! client goes (which frees everything it held) or when its session or token stops being
//! valid.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::Utc;
use crm_contract::live::RESYNC;
use crm_db::live::{self, Cursor, Record};
use crm_domain::UserId;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::auth::{AuthMethod, CurrentUser};
use crate::error::ApiError;
use crate::state::AppState;

/// How often a comment keeps an idle stream open (and the credential is checked again).
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// The most events sent to catch a reconnecting client up; beyond it, `resync`.
const MAX_BACKLOG: i64 = 1000;
/// How long the browser waits before reconnecting (the SSE `retry:` field).
const RETRY_MS: u32 = 2000;

/// Live events for the signed-in user (`text/event-stream`): `reminder.due`,
/// `reminder.changed`, `message.status`, `invoice.created`, `invoice.deleted` and `resync`,
/// each with `id:` (send it back as `Last-Event-ID` to resume) and a JSON `data:` line (see the
/// `ReminderEvent`, `MessageStatusEvent` and `InvoiceEvent` schemas).
#[utoipa::path(
    tag = "events",
    operation_id = "live_events",
    params(("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received, to get what was missed")),
    responses(
        (status = 200, description = "An endless stream of events", content_type = "text/event-stream", body = String),
        crate::error::responses::ReadOne,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/events")]
pub async fn stream(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (receiver, hub_at) = state.live.subscribe().ok_or_else(|| {
        ApiError::Unavailable("live events are starting; try again shortly".into())
    })?;
    let resume_from = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<Cursor>().ok());
    let start = match resume_from {
        Some(last) if last < hub_at => catch_up(&state, user.id, last, hub_at).await?,
        _ => Start::default(),
    };
    // Resuming, the stream goes on from the client's last event (the backlog up to the hub's,
    // then the hub's); otherwise from the hub's.
    let last = match resume_from {
        Some(last) if !start.resync => last,
        _ => hub_at,
    };
    let closed = Box::pin(state.live.closed());
    let events = EventStream {
        state: state.into_inner(),
        user,
        receiver,
        backlog: start.backlog,
        pending: start.resync.then(resync_frame).into_iter().collect(),
        last,
        heartbeat: tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT),
        closed,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events.into_stream()))
}

/// What a reconnecting stream starts with.
#[derive(Debug, Default)]
struct Start {
    backlog: VecDeque<Arc<Record>>,
    /// More was missed than can be caught up: the client should reload.
    resync: bool,
}

/// The events `user` missed after `last` up to `until` (what the hub had sent when the stream
/// subscribed; later ones come from the hub).
async fn catch_up(
    state: &AppState,
    user: UserId,
    last: Cursor,
    until: Cursor,
) -> Result<Start, ApiError> {
    state
        .db(move |conn| {
            let kept_from = live::first(conn)?;
            if kept_from.is_none_or(|first| last < first) {
                return Ok(Start {
                    backlog: VecDeque::new(),
                    resync: true,
                });
            }
            let records = live::after(conn, last, Some(user), MAX_BACKLOG)?;
            let resync = records.len() as i64 == MAX_BACKLOG;
            let backlog = records
                .into_iter()
                .filter(|record| record.cursor() <= until)
                .map(Arc::new)
                .collect();
            Ok(Start { backlog, resync })
        })
        .await
}

/// One open stream.
struct EventStream {
    state: Arc<AppState>,
    user: CurrentUser,
    receiver: broadcast::Receiver<Arc<Record>>,
    backlog: VecDeque<Arc<Record>>,
    /// Frames to send before anything else.
    pending: VecDeque<Bytes>,
    /// The last event sent (or skipped as not this user's).
    last: Cursor,
    heartbeat: tokio::time::Interval,
    /// Resolves when the process stops.
    closed: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

impl EventStream {
    fn into_stream(self) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
        let opening = Bytes::from(format!("retry: {RETRY_MS}\n: connected\n\n"));
        futures_util::stream::unfold((self, Some(opening)), |(mut events, opening)| async move {
            let frame = match opening {
                Some(frame) => Some(frame),
                None => events.next_frame().await,
            };
            frame.map(|frame| (Ok(frame), (events, None)))
        })
    }

    /// The next frame to send; `None` ends the stream.
    async fn next_frame(&mut self) -> Option<Bytes> {
        loop {
            if let Some(frame) = self.pending.pop_front() {
                return Some(frame);
            }
            if let Some(record) = self.backlog.pop_front() {
                if let Some(frame) = self.frame_of(&record) {
                    return Some(frame);
                }
                continue;
            }
            tokio::select! {
                received = self.receiver.recv() => match received {
                    Ok(record) => {
                        if let Some(frame) = self.frame_of(&record) {
                            return Some(frame);
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::info!(missed, user = %self.user.id, "a live stream fell behind; resync");
                        return Some(resync_frame());
                    }
                    Err(RecvError::Closed) => return None,
                },
                () = &mut self.closed => return None,
                _ = self.heartbeat.tick() => {
                    return still_signed_in(&self.state, &self.user)
                        .await
                        .then(|| Bytes::from_static(b": keep-alive\n\n"));
                }
            }
        }
    }

    /// The frame of `record` if it is new and this user may see it.
    fn frame_of(&mut self, record: &Record) -> Option<Bytes> {
        if record.cursor() <= self.last {
            return None;
        }
        self.last = record.cursor();
        record.is_for(self.user.id).then(|| {
            Bytes::from(format!(
                "id: {}\nevent: {}\ndata: {}\n\n",
                record.cursor(),
                record.kind,
                record.data
            ))
        })
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        // The receiver is still counted until the fields drop, after this.
        let open = self.state.live.streams().saturating_sub(1);
        tracing::debug!(user = %self.user.id, open, "live stream closed");
    }
}

fn resync_frame() -> Bytes {
    Bytes::from(format!("event: {RESYNC}\ndata: {{}}\n\n"))
}

/// Whether the credential the stream was opened with still holds (signed out, expired, idle,
/// revoked or disabled ends the stream; the open stream itself does not count as use). A database that cannot answer keeps it open.
async fn still_signed_in(state: &AppState, user: &CurrentUser) -> bool {
    let method = user.method.clone();
    let idle = state.config.session_idle;
    let checked = state
        .db(move |conn| {
            let now = Utc::now();
            Ok(match &method {
                AuthMethod::Session { token_hash, .. } => {
                    crm_db::sessions::find_active(conn, token_hash, now, idle)?.is_some()
                }
                AuthMethod::Token { id } => crm_db::api_tokens::is_active(conn, *id, now)?,
            })
        })
        .await;
    checked.unwrap_or(true)
}
