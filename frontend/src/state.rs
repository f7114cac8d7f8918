//! App-wide state shared through context: who is signed in, and the toasts. (The live
//! updates are in `crate::live`.)

use crm_contract::auth::UserResponse;
use leptos::prelude::*;

/// The signed-in user; `None` shows the sign-in page in place of the current one, so after
/// signing in the user is back where they were.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub user: RwSignal<Option<UserResponse>>,
    /// Whether the first `GET /auth/me` has answered.
    pub checked: RwSignal<bool>,
}

impl Session {
    /// The IANA time zone the user's times are shown in: their own, else the browser's, else
    /// UTC. Not tracked: times are written when a list is drawn.
    pub fn zone(&self) -> String {
        self.user
            .with_untracked(|user| user.as_ref().and_then(|u| u.timezone.clone()))
            .or_else(crate::wall_clock::browser_zone)
            .unwrap_or_else(|| "UTC".to_owned())
    }
}

/// How a toast looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Error,
    /// News nobody asked for just now, such as a reminder falling due.
    Info,
}

/// One message in the corner.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub kind: ToastKind,
    pub text: String,
}

/// The toasts on screen; each goes away by itself after a few seconds.
#[derive(Debug, Clone, Copy)]
pub struct Toasts {
    pub items: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

const TOAST_MILLIS: u64 = 6000;

impl Toasts {
    pub fn new() -> Self {
        Self {
            items: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(0),
        }
    }

    /// Shows a success toast.
    pub fn success(&self, text: impl Into<String>) {
        self.push(ToastKind::Success, text.into());
    }

    /// Shows an error toast.
    pub fn error(&self, text: impl Into<String>) {
        self.push(ToastKind::Error, text.into());
    }

    /// Shows a toast with news, such as a reminder that fell due.
    pub fn info(&self, text: impl Into<String>) {
        self.push(ToastKind::Info, text.into());
    }

    /// Removes a toast.
    pub fn dismiss(&self, id: u64) {
        self.items.update(|items| items.retain(|t| t.id != id));
    }

    fn push(&self, kind: ToastKind, text: String) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.items
            .update(|items| items.push(Toast { id, kind, text }));
        let toasts = *self;
        set_timeout(
            move || toasts.dismiss(id),
            std::time::Duration::from_millis(TOAST_MILLIS),
        );
    }
}

impl Default for Toasts {
    fn default() -> Self {
        Self::new()
    }
}

/// The toasts of the app.
pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_default()
}

/// The session of the app.
pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or(Session {
        user: RwSignal::new(None),
        checked: RwSignal::new(false),
    })
}
