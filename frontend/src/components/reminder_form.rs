//! The "Remind me" form of a customer's page, in a modal: a note, and a date and time in the
//! user's time zone.

use chrono::{DateTime, Duration, Utc};
use crm_contract::CustomerId;
use crm_contract::reminders::{CreateReminderRequest, ReminderResponse};
use crm_domain::{FieldErrors, REQUIRED, ReminderNote, SendAtError, SendWindow};
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::field::{FormAlert, TextField, passes_checks, show_save_error};
use crate::components::modal::Modal;
use crate::components::reminders::reminder_time;
use crate::live::use_live;
use crate::state::{Toasts, use_session, use_toasts};
use crate::wall_clock::{self, WallTime};

/// The form's id, for focusing its first invalid field.
const FORM_ID: &str = "reminder-form";
/// How far ahead a reminder may be set (the server's rule).
const HORIZON_DAYS: i64 = 366;
/// The server's words for a reminder about nothing.
const NOTE_NEEDED: &str = "Say what to remember (or set the reminder on a message).";

/// Reads a date-and-time input in `zone` and checks it is neither past nor too far ahead; the
/// local time as the API takes it with a `timezone` (`YYYY-MM-DDTHH:MM`), or the message to
/// show under the field.
pub fn check_remind_at(text: &str, zone: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err(REQUIRED.to_owned());
    }
    let wall = WallTime::parse_date_time(text).ok_or_else(|| SendAtError::Invalid.to_string())?;
    let now = DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default();
    let at = wall_clock::moment_in(zone, wall)
        .and_then(|millis| DateTime::<Utc>::from_timestamp_millis(millis as i64));
    if let Some(at) = at {
        SendWindow::new(now)
            .with_horizon(Duration::days(HORIZON_DAYS))
            .check(at)
            .map_err(|error| error.to_string())?;
    }
    Ok(wall.send_at())
}

/// The default time of a new reminder in `zone`: an hour from now, up to the quarter hour.
pub fn an_hour_from_now(zone: &str) -> String {
    wall_clock::now_in(zone)
        .map(|now| WallTime::an_hour_after(now).send_at())
        .unwrap_or_default()
}

/// Shows why saving a reminder failed; field errors of fields this form does not show go
/// above it.
fn show_error(
    error: ApiError,
    errors: RwSignal<FieldErrors>,
    alert: RwSignal<Option<String>>,
    toasts: Toasts,
) {
    let stray = match &error {
        ApiError::Invalid(found) => found
            .iter()
            .filter(|(field, _)| !["note", "remind_at"].contains(field))
            .flat_map(|(_, messages)| messages.iter().cloned())
            .reduce(|all, message| format!("{all} {message}")),
        _ => None,
    };
    show_save_error(error, FORM_ID, errors, alert, toasts);
    if stray.is_some() {
        alert.set(stray);
    }
}

/// A new reminder about the customer `customer_id`; `on_saved` gets it as the server has it.
#[component]
pub fn ReminderFormModal(
    customer_id: CustomerId,
    on_close: Callback<()>,
    on_saved: Callback<ReminderResponse>,
) -> impl IntoView {
    let toasts = use_toasts();
    let live = use_live();
    let zone = StoredValue::new(use_session().zone());
    let note = RwSignal::new(String::new());
    let remind_at = RwSignal::new(an_hour_from_now(&zone.get_value()));
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);
    let save = Action::new_local(move |body: &CreateReminderRequest| {
        let body = body.clone();
        async move {
            match api::reminders::create(&body).await {
                Ok(reminder) => {
                    let when = reminder_time(&reminder, &zone.get_value());
                    toasts.success(format!("Reminder set for {when}."));
                    live.reminders_changed();
                    on_saved.run(reminder);
                }
                Err(error) => show_error(error, errors, alert, toasts),
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
        let text = found.check("note", ReminderNote::parse(&note.get_untracked()));
        if text.as_ref().is_some_and(|t| t.as_str().is_empty()) {
            found.add("note", NOTE_NEEDED);
        }
        let at = found.check(
            "remind_at",
            check_remind_at(&remind_at.get_untracked(), &zone.get_value()),
        );
        if !passes_checks(found, errors, FORM_ID) {
            return;
        }
        save.dispatch(CreateReminderRequest {
            customer_id,
            message_id: None,
            remind_at: at,
            minutes_before: None,
            timezone: Some(zone.get_value()),
            note: text.map(ReminderNote::into_inner),
        });
    };
    let pending = save.pending();
    view! {
        <Modal title="Remind me".to_owned() on_close=on_close>
            <form id=FORM_ID novalidate on:submit=on_submit>
                <FormAlert message=alert/>
                <TextField label="Note" name="note" value=note errors=errors multiline=true required=true
                    help="What to remember, e.g. \u{201c}Call back about the repair\u{201d}."/>
                <TextField label="When" name="remind_at" value=remind_at errors=errors
                    input_type="datetime-local" required=true/>
                <p class="form-text mt-n2 mb-3" id="reminder-zone">
                    {format!("In your time zone ({}).", zone.get_value())}
                </p>
                <div class="d-flex justify-content-end gap-2">
                    <button type="button" class="btn btn-outline-secondary" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Saving…" } else { "Save reminder" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
