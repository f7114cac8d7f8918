//! Browser notifications for reminders: asked for only when the user clicks "Enable
//! notifications" in Settings, and the choice remembered in `localStorage`.

use wasm_bindgen::JsValue;

/// The `localStorage` key of the user's choice.
const STORAGE_KEY: &str = "crm.notifications";
/// The stored value that means "notify me".
const ON: &str = "on";
const OFF: &str = "off";

/// Where notifications stand in this browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationState {
    /// The browser has no notifications.
    Unsupported,
    /// The user (or the browser) refused them; only the browser's site settings undo that.
    Blocked,
    /// Allowed, and the user wants them.
    On,
    /// Not asked for, or turned off here.
    Off,
}

/// Whether the browser has the Notification API (calling it where it is missing throws).
fn supported() -> bool {
    web_sys::window().is_some_and(|window| {
        js_sys::Reflect::has(&window, &JsValue::from_str("Notification")).unwrap_or(false)
    })
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Whether the user turned notifications on here.
fn wanted() -> bool {
    storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .is_some_and(|value| value == ON)
}

/// Remembers the user's choice.
pub fn set_wanted(on: bool) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(STORAGE_KEY, if on { ON } else { OFF });
    }
}

/// Where notifications stand now.
pub fn state() -> NotificationState {
    if !supported() {
        return NotificationState::Unsupported;
    }
    match web_sys::Notification::permission() {
        web_sys::NotificationPermission::Denied => NotificationState::Blocked,
        web_sys::NotificationPermission::Granted if wanted() => NotificationState::On,
        _ => NotificationState::Off,
    }
}

/// Asks the browser for permission (it shows its own question) and remembers the answer;
/// where notifications stand afterwards. Only call it from a click.
pub async fn enable() -> NotificationState {
    if !supported() {
        return NotificationState::Unsupported;
    }
    let Ok(asked) = web_sys::Notification::request_permission() else {
        return state();
    };
    let answer = wasm_bindgen_futures::JsFuture::from(asked)
        .await
        .ok()
        .and_then(|answer| answer.as_string());
    set_wanted(answer.as_deref() == Some("granted"));
    state()
}

/// Shows a notification when the user turned them on and the browser allows them; `tag`
/// keeps one per reminder.
pub fn show(title: &str, body: &str, tag: &str) {
    if state() != NotificationState::On {
        return;
    }
    let options = web_sys::NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    // Some browsers (Chrome on Android) refuse notifications made outside a service worker.
    let _ = web_sys::Notification::new_with_options(title, &options);
}
