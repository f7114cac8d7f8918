//! The live-event stream, `GET /events`, read with the browser's `EventSource` (which sends
//! the session cookie, reconnects by itself and sends `Last-Event-ID`).

use std::rc::Rc;

use crm_contract::live::{KINDS, LiveEvent};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::paths;

/// How the stream stands, as its `open` and `error` events tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamState {
    /// Connected: events arrive.
    Open,
    /// Cut off; the browser is reconnecting by itself.
    Reconnecting,
    /// Given up (the server answered with an error): only a new stream goes on.
    Closed,
}

type Listener = Closure<dyn FnMut(web_sys::Event)>;

/// An open stream and its listeners; dropping it closes the stream.
pub struct EventStream {
    source: web_sys::EventSource,
    listeners: Vec<(&'static str, Listener)>,
}

impl EventStream {
    /// Opens the stream: `on_event` gets each event that reads as a [`LiveEvent`] (others are
    /// skipped), `on_state` each connection change. `None` when the browser can't open one.
    pub fn open(
        on_event: impl Fn(LiveEvent) + 'static,
        on_state: impl Fn(StreamState) + 'static,
    ) -> Option<Self> {
        let source = web_sys::EventSource::new(&paths::events()).ok()?;
        let mut stream = Self {
            source,
            listeners: Vec::new(),
        };
        let on_event = Rc::new(on_event);
        for kind in KINDS {
            let on_event = Rc::clone(&on_event);
            stream.listen(kind, move |event| {
                let data = event
                    .dyn_ref::<web_sys::MessageEvent>()
                    .and_then(|message| message.data().as_string())
                    .unwrap_or_default();
                if let Ok(event) = LiveEvent::parse(kind, &data) {
                    on_event(event);
                }
            });
        }
        let on_state = Rc::new(on_state);
        let opened = Rc::clone(&on_state);
        stream.listen("open", move |_| opened(StreamState::Open));
        stream.listen("error", move |event| {
            let closed = event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::EventSource>().ok())
                .is_none_or(|source| source.ready_state() == web_sys::EventSource::CLOSED);
            on_state(if closed {
                StreamState::Closed
            } else {
                StreamState::Reconnecting
            });
        });
        Some(stream)
    }

    fn listen(&mut self, kind: &'static str, handler: impl Fn(web_sys::Event) + 'static) {
        let listener = Listener::new(handler);
        let added = self
            .source
            .add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        if added.is_ok() {
            self.listeners.push((kind, listener));
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.source.close();
        for (kind, listener) in &self.listeners {
            let _ = self
                .source
                .remove_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        }
    }
}
