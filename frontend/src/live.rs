//! Live updates while signed in: one event stream, its events as signals the pages react to,
//! and "offline" while it is cut off. Nothing polls: a page reloads what an event touched.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use crm_contract::live::{InvoiceEvent, LiveEvent, MessageStatusEvent, ReminderEvent};
use leptos::prelude::*;

use crate::api::live::{EventStream, StreamState};
use crate::api::{self, ApiError};

/// How long a burst of events is gathered into one reload (a thousand messages sent at once
/// reload a list a few times, not a thousand).
const COALESCE_MILLIS: u64 = 250;
/// The first wait before a closed stream is opened again, in seconds; it doubles up to
/// [`MAX_RETRY_SECS`].
const FIRST_RETRY_SECS: u32 = 3;
const MAX_RETRY_SECS: u32 = 30;

/// What the stream has said, as signals. Counters go up by one per event (or local change) so
/// that whatever tracks them runs again.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    /// Whether the stream is connected; the navigation bar says "offline" while it is not.
    pub online: RwSignal<bool>,
    /// Bumped whenever the user's reminders may have changed: one fell due, was changed
    /// (here or elsewhere), or events were lost.
    pub reminders: RwSignal<u64>,
    /// The last reminder that fell due.
    pub reminder_due: RwSignal<Option<ReminderEvent>>,
    /// The last message status change.
    pub message_status: RwSignal<Option<MessageStatusEvent>>,
    /// The last invoice added or deleted.
    pub invoice: RwSignal<Option<InvoiceEvent>>,
    /// Bumped when events were lost: reload what is shown.
    pub resync: RwSignal<u64>,
}

/// The open stream, and what reopens it after the server closed it.
struct Connection {
    stream: Option<EventStream>,
    retry: Option<TimeoutHandle>,
    retry_secs: u32,
    /// Counts connects and disconnects, so a reopen planned before a sign-out does nothing.
    generation: u64,
}

thread_local! {
    static CONNECTION: RefCell<Connection> = const {
        RefCell::new(Connection { stream: None, retry: None, retry_secs: FIRST_RETRY_SECS, generation: 0 })
    };
}

impl Live {
    /// No events yet, and online until told otherwise.
    pub fn new() -> Self {
        Self {
            online: RwSignal::new(true),
            reminders: RwSignal::new(0),
            reminder_due: RwSignal::new(None),
            message_status: RwSignal::new(None),
            invoice: RwSignal::new(None),
            resync: RwSignal::new(0),
        }
    }

    /// Opens the stream (closing any other): at sign-in.
    pub fn connect(self) {
        let generation = self.stop();
        self.open(generation, false);
    }

    /// Closes the stream: at sign-out.
    pub fn disconnect(self) {
        self.stop();
        self.online.set(true);
    }

    /// Says that reminders changed here, so every list of them reloads now, without waiting
    /// for the event (which may not come while offline).
    pub fn reminders_changed(self) {
        self.reminders.update(|n| *n += 1);
    }

    /// Runs `f` on each `reminder.due` event, for as long as the calling component lives.
    pub fn on_reminder_due(self, f: impl Fn(&ReminderEvent) + 'static) {
        watch(Box::new(move || self.reminder_due.get()), Box::new(f));
    }

    /// Runs `f` on each `message.status` event, for as long as the calling component lives.
    pub fn on_message_status(self, f: impl Fn(&MessageStatusEvent) + 'static) {
        watch(Box::new(move || self.message_status.get()), Box::new(f));
    }

    /// Runs `f` on each `invoice.created` and `invoice.deleted` event.
    pub fn on_invoice(self, f: impl Fn(&InvoiceEvent) + 'static) {
        watch(Box::new(move || self.invoice.get()), Box::new(f));
    }

    /// Runs `f` on each `resync` (and after the stream was reopened, events may be lost).
    pub fn on_resync(self, f: impl Fn() + 'static) {
        watch(
            Box::new(move || Some(self.resync.get())),
            Box::new(move |_| f()),
        );
    }

    /// Closes the stream and cancels a planned reopen; the new generation.
    fn stop(self) -> u64 {
        let (stream, retry, generation) = CONNECTION.with_borrow_mut(|c| {
            c.generation += 1;
            c.retry_secs = FIRST_RETRY_SECS;
            (c.stream.take(), c.retry.take(), c.generation)
        });
        if let Some(retry) = retry {
            retry.clear();
        }
        drop(stream);
        generation
    }

    fn open(self, generation: u64, reopened: bool) {
        // A new stream does not carry the old one's last id: once open, it catches up.
        let catch_up = Cell::new(reopened);
        let stream = EventStream::open(
            move |event| self.receive(event),
            move |state| {
                let catch_up = state == StreamState::Open && catch_up.replace(false);
                self.stream_state(state, generation, catch_up);
            },
        );
        let old = CONNECTION.with_borrow_mut(|c| {
            if c.generation == generation {
                std::mem::replace(&mut c.stream, stream)
            } else {
                stream
            }
        });
        drop(old);
    }

    fn receive(self, event: LiveEvent) {
        match event {
            LiveEvent::ReminderDue(reminder) => {
                self.reminder_due.set(Some(reminder));
                self.reminders_changed();
            }
            LiveEvent::ReminderChanged(_) => self.reminders_changed(),
            LiveEvent::MessageStatus(status) => self.message_status.set(Some(status)),
            LiveEvent::InvoiceCreated(invoice) | LiveEvent::InvoiceDeleted(invoice) => {
                self.invoice.set(Some(invoice));
            }
            LiveEvent::Resync => self.resynced(),
        }
    }

    fn resynced(self) {
        self.resync.update(|n| *n += 1);
        self.reminders_changed();
    }

    fn stream_state(self, state: StreamState, generation: u64, catch_up: bool) {
        let current = CONNECTION.with_borrow(|c| c.generation == generation);
        if !current {
            return;
        }
        match state {
            StreamState::Open => {
                self.online.set(true);
                CONNECTION.with_borrow_mut(|c| c.retry_secs = FIRST_RETRY_SECS);
                if catch_up {
                    self.resynced();
                }
            }
            StreamState::Reconnecting => self.online.set(false),
            StreamState::Closed => {
                self.online.set(false);
                self.plan_reopen(generation);
            }
        }
    }

    /// Opens a new stream after a wait that doubles each time, so the app recovers by itself
    /// after a server restart. When the session has ended instead, asking who is signed in
    /// shows sign-in (and signing out stops the stream).
    fn plan_reopen(self, generation: u64) {
        let secs = CONNECTION.with_borrow_mut(|c| {
            let secs = c.retry_secs;
            c.retry_secs = next_retry_secs(secs);
            secs
        });
        let reopen = move || {
            leptos::task::spawn_local(async move {
                if api::auth::me().await == Err(ApiError::Unauthorized) {
                    return;
                }
                if CONNECTION.with_borrow(|c| c.generation == generation) {
                    self.open(generation, true);
                }
            });
        };
        let handle = set_timeout_with_handle(reopen, Duration::from_secs(u64::from(secs))).ok();
        CONNECTION.with_borrow_mut(|c| {
            if c.generation == generation {
                c.retry = handle;
            }
        });
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `f` with each new value of an event signal (not with the value it holds now). Boxed,
/// so each event type has one copy of Leptos's `Effect::watch`, not one per caller.
fn watch<T: Clone + 'static>(event: Box<dyn Fn() -> Option<T>>, f: Box<dyn Fn(&T)>) {
    Effect::watch(
        event,
        move |event, _, _| {
            if let Some(event) = event {
                f(event);
            }
        },
        false,
    );
}

/// The wait after `secs` before the next reopen.
fn next_retry_secs(secs: u32) -> u32 {
    secs.saturating_mul(2).min(MAX_RETRY_SECS)
}

/// A function that bumps `counter` once, shortly after its first call of a burst: for
/// reloading a list on events that come many at a time.
pub fn coalesced(counter: RwSignal<u32>) -> impl Fn() + Copy + 'static {
    let waiting = StoredValue::new(false);
    move || {
        if waiting.get_value() {
            return;
        }
        waiting.set_value(true);
        set_timeout(
            move || {
                waiting.try_set_value(false);
                counter.try_update(|n| *n += 1);
            },
            Duration::from_millis(COALESCE_MILLIS),
        );
    }
}

/// The live updates of the app.
pub fn use_live() -> Live {
    use_context::<Live>().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_before_reopening_doubles_up_to_thirty_seconds() {
        let waits: Vec<u32> =
            std::iter::successors(Some(FIRST_RETRY_SECS), |s| Some(next_retry_secs(*s)))
                .take(6)
                .collect();
        assert_eq!(waits, vec![3, 6, 12, 24, 30, 30]);
    }
}
