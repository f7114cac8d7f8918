//! The user's own preferences on the settings page: the time zone reminder times are shown in,
//! and browser notifications for reminders.

use crm_contract::auth::UpdateMeRequest;
use crm_domain::{FieldErrors, TimeZone, TimeZoneError};
use leptos::prelude::*;

use crate::api;
use crate::components::field::{FormAlert, TextField, passes_checks, show_save_error};
use crate::notifications::{self, NotificationState};
use crate::reactive::Task;
use crate::state::{use_session, use_toasts};
use crate::wall_clock;

/// The form's id, for focusing its field when invalid.
const FORM_ID: &str = "timezone-form";

/// Checks a time zone the way the server does as far as the browser can: its shape, and that
/// the browser knows it.
fn check_zone(name: &str) -> Result<TimeZone, TimeZoneError> {
    let zone = TimeZone::parse(name)?;
    if wall_clock::now_in(zone.as_str()).is_none() {
        return Err(TimeZoneError::Unknown);
    }
    Ok(zone)
}

/// The user's time zone, saved to their account.
#[component]
pub fn TimeZoneSection() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let browser_zone = wall_clock::browser_zone();
    let saved = session
        .user
        .with_untracked(|u| u.as_ref().and_then(|u| u.timezone.clone()));
    let zone = RwSignal::new(saved.or_else(|| browser_zone.clone()).unwrap_or_default());
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);
    let save = Task::new(move |body: &UpdateMeRequest| {
        let body = body.clone();
        async move {
            match api::auth::update_me(&body).await {
                Ok(user) => {
                    let name = user.timezone.clone().unwrap_or_default();
                    zone.set(name.clone());
                    session.user.set(Some(user));
                    toasts.success(format!("Time zone saved: {name}."));
                }
                Err(error) => show_save_error(error, FORM_ID, errors, alert, toasts),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if save.pending().get_untracked() {
            return;
        }
        alert.set(None);
        let mut found = FieldErrors::new();
        let checked = found.check("timezone", check_zone(&zone.get_untracked()));
        if passes_checks(found, errors, FORM_ID) {
            save.dispatch(UpdateMeRequest {
                timezone: checked.map(TimeZone::into_inner),
            });
        }
    };
    let pending = save.pending();
    view! {
        <section class="mt-5" aria-labelledby="timezone-heading">
            <h2 class="h5" id="timezone-heading">"Your time zone"</h2>
            <form id=FORM_ID class="row g-2 align-items-start" novalidate on:submit=on_submit>
                <FormAlert message=alert/>
                <div class="col-sm-8">
                    <TextField label="Time zone" name="timezone" value=zone errors=errors
                        help="An IANA name such as Europe/London. Reminder times are shown in it, and \u{201c}tomorrow 09:00\u{201d} means 09:00 there."/>
                    {browser_zone.map(|browser| {
                        let chosen = browser.clone();
                        view! {
                            <button type="button" class="btn btn-link btn-sm p-0 mt-n2 mb-2" id="timezone-use-browser"
                                on:click=move |_| zone.set(chosen.clone())>
                                {format!("Use this browser\u{2019}s ({browser})")}
                            </button>
                        }
                    })}
                </div>
                <div class="col-sm-4 pt-sm-4 mt-sm-2">
                    <button type="submit" class="btn btn-outline-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Saving…" } else { "Save time zone" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

/// What the notifications section says for `state`.
fn state_text(state: NotificationState) -> &'static str {
    match state {
        NotificationState::On => {
            "On: this browser shows a notification as each reminder falls due."
        }
        NotificationState::Off => "Off: due reminders show in the page only.",
        NotificationState::Blocked => {
            "Blocked by this browser: allow notifications for this site in its settings."
        }
        NotificationState::Unsupported => "This browser cannot show notifications.",
    }
}

/// Browser notifications for due reminders: asked for only on a click, remembered here.
#[component]
pub fn NotificationSection() -> impl IntoView {
    let toasts = use_toasts();
    let state = RwSignal::new(notifications::state());
    let enable = Task::new(move |_: &()| async move {
        let now = notifications::enable().await;
        state.set(now);
        match now {
            NotificationState::On => toasts.success("Notifications are on."),
            other => toasts.error(state_text(other)),
        }
    });
    let turn_off = move |_| {
        notifications::set_wanted(false);
        state.set(notifications::state());
        toasts.success("Notifications are off.");
    };
    view! {
        <section class="mt-5" aria-labelledby="notifications-heading">
            <h2 class="h5" id="notifications-heading">"Notifications"</h2>
            <p id="notifications-status">{move || state_text(state.get())}</p>
            {move || match state.get() {
                NotificationState::Off => view! {
                    <button type="button" class="btn btn-outline-primary" id="enable-notifications"
                        disabled=move || enable.pending().get()
                        on:click=move |_| { enable.dispatch(()); }>"Enable notifications"</button>
                }.into_any(),
                NotificationState::On => view! {
                    <button type="button" class="btn btn-outline-secondary" id="disable-notifications"
                        on:click=turn_off>"Turn notifications off"</button>
                }.into_any(),
                NotificationState::Blocked | NotificationState::Unsupported => ().into_any(),
            }}
        </section>
    }
}
