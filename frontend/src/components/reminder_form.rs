//! The "Remind me" form of a customer's page, in a modal: a note, and a date and time in the
//! user's time zone. The same form edits a reminder.

use chrono::{DateTime, Duration, Utc};
use crm_contract::reminders::{CreateReminderRequest, ReminderResponse, UpdateReminderRequest};
use crm_contract::{CustomerId, ReminderId};
use crm_domain::{FieldErrors, REQUIRED, ReminderNote, SendAtError, SendWindow};
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::field::{FormAlert, TextField, passes_checks, show_save_error};
use crate::components::modal::Modal;
use crate::components::reminders::reminder_time;
use crate::live::use_live;
use crate::reactive::Task;
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

/// The value of a date-and-time input showing `at` in `zone` (empty for a zone the browser
/// does not know).
fn input_time(zone: &str, at: DateTime<Utc>) -> String {
    wall_clock::wall_time_in(zone, at.timestamp_millis() as f64)
        .map(WallTime::send_at)
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

/// What the reminder form does.
#[derive(Debug, Clone, PartialEq)]
pub enum ReminderFormFor {
    /// Sets a new reminder about this customer.
    New(CustomerId),
    /// Changes this reminder's note or time.
    Edit(Box<ReminderResponse>),
}

/// What saving the form sends.
#[derive(Debug, Clone, PartialEq)]
enum Save {
    Create(CreateReminderRequest),
    Edit(ReminderId, UpdateReminderRequest),
}

/// The change an edit asks for: the note as typed, and the local time in `zone` only when the
/// user changed it, so a due reminder can get a new note without needing a new time.
fn edit_request(note: String, remind_at: Option<String>, zone: &str) -> UpdateReminderRequest {
    UpdateReminderRequest {
        timezone: remind_at.as_ref().map(|_| zone.to_owned()),
        remind_at,
        note: Some(note),
    }
}

/// The "Remind me" form: a new reminder, or a change of one (its note and its time shown in
/// the user's time zone). `on_saved` gets the reminder as the server has it.
#[component]
pub fn ReminderFormModal(
    form_for: ReminderFormFor,
    on_close: Callback<()>,
    on_saved: Callback<ReminderResponse>,
) -> impl IntoView {
    let toasts = use_toasts();
    let live = use_live();
    let zone = StoredValue::new(use_session().zone());
    let (editing, start_note, start_at) = match &form_for {
        ReminderFormFor::New(_) => (false, String::new(), an_hour_from_now(&zone.get_value())),
        ReminderFormFor::Edit(reminder) => (
            true,
            reminder.note.clone(),
            input_time(&zone.get_value(), reminder.remind_at),
        ),
    };
    // A reminder on a message may say nothing: the start of the message stands in for it.
    let note_needed =
        !matches!(&form_for, ReminderFormFor::Edit(reminder) if reminder.message_id.is_some());
    let form_for = StoredValue::new(form_for);
    let start_at = StoredValue::new(start_at);
    let note = RwSignal::new(start_note);
    let remind_at = RwSignal::new(start_at.get_value());
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);
    let save = Task::new(move |save: &Save| {
        let save = save.clone();
        async move {
            let saved = match &save {
                Save::Create(body) => api::reminders::create(body).await,
                Save::Edit(id, body) => api::reminders::edit(*id, body).await,
            };
            match saved {
                Ok(reminder) => {
                    toasts.success(match save {
                        Save::Create(_) => format!(
                            "Reminder set for {}.",
                            reminder_time(&reminder, &zone.get_value())
                        ),
                        Save::Edit(..) => "Reminder updated.".to_owned(),
                    });
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
        if note_needed && text.as_ref().is_some_and(|t| t.as_str().is_empty()) {
            found.add("note", NOTE_NEEDED);
        }
        // An edit keeps the stored time (even a past one) unless the user changed it.
        let typed_at = remind_at.get_untracked();
        let at = if editing && typed_at == start_at.get_value() {
            None
        } else {
            found.check("remind_at", check_remind_at(&typed_at, &zone.get_value()))
        };
        if !passes_checks(found, errors, FORM_ID) {
            return;
        }
        let note = text.map(ReminderNote::into_inner).unwrap_or_default();
        let request = match form_for.get_value() {
            ReminderFormFor::New(customer_id) => Save::Create(CreateReminderRequest {
                customer_id,
                message_id: None,
                remind_at: at,
                minutes_before: None,
                timezone: Some(zone.get_value()),
                note: Some(note),
            }),
            ReminderFormFor::Edit(reminder) => {
                Save::Edit(reminder.id, edit_request(note, at, &zone.get_value()))
            }
        };
        save.dispatch(request);
    };
    let pending = save.pending();
    let title = if editing {
        "Edit reminder"
    } else {
        "Remind me"
    };
    let help = if note_needed {
        "What to remember, e.g. \u{201c}Call back about the repair\u{201d}."
    } else {
        "What to remember; when empty, the start of the message shows instead."
    };
    view! {
        <Modal title=title.to_owned() on_close=on_close>
            <form id=FORM_ID novalidate on:submit=on_submit>
                <FormAlert message=alert/>
                <TextField label="Note" name="note" value=note errors=errors multiline=true
                    required=note_needed help=help/>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_sends_the_time_and_its_zone_only_when_the_time_changed() {
        let kept = edit_request("Call back after 14:00".into(), None, "Europe/London");
        assert_eq!(
            kept,
            UpdateReminderRequest {
                remind_at: None,
                timezone: None,
                note: Some("Call back after 14:00".into()),
            }
        );
        let moved = edit_request(
            String::new(),
            Some("2026-12-08T14:00".into()),
            "Europe/London",
        );
        assert_eq!(moved.remind_at.as_deref(), Some("2026-12-08T14:00"));
        assert_eq!(moved.timezone.as_deref(), Some("Europe/London"));
        assert_eq!(moved.note.as_deref(), Some(""));
    }
}
