//! A reminder as lists show it: what it is about, when, and its buttons (edit, dismiss,
//! snooze, delete).

use crm_contract::ReminderId;
use crm_contract::reminders::{ReminderResponse, SNOOZE_CHOICES};
use leptos::prelude::*;

use crate::api;
use crate::components::modal::confirm;
use crate::live::use_live;
use crate::reactive::Task;
use crate::state::{use_session, use_toasts};
use crate::wall_clock;

/// What a reminder says: its note, else the start of its message.
pub fn reminder_text(reminder: &ReminderResponse) -> String {
    let note = reminder.note.trim();
    if note.is_empty() {
        reminder.message_excerpt.clone().unwrap_or_default()
    } else {
        note.to_owned()
    }
}

/// When the reminder falls due, in the user's time zone.
pub fn reminder_time(reminder: &ReminderResponse, zone: &str) -> String {
    wall_clock::date_time_in(zone, reminder.remind_at.timestamp_millis() as f64)
}

/// What a reminder button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReminderAct {
    Dismiss,
    /// One of [`SNOOZE_CHOICES`].
    Snooze(&'static str),
    Delete,
}

/// A reminder's buttons: Edit when `on_edit` is given, Dismiss and Snooze while it is open,
/// Delete when `deletable`. Each of the last three says what it did in a toast, and every list
/// of reminders reloads.
#[component]
pub fn ReminderActions(
    id: ReminderId,
    /// Not dismissed: it can be dismissed or snoozed.
    open: bool,
    /// Offer Delete too.
    deletable: bool,
    /// Offer Edit, which calls this (the list's owner opens the form, so that it outlives the
    /// list's reloads).
    #[prop(optional)]
    on_edit: Option<Callback<()>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let live = use_live();
    let session = use_session();
    let act = Task::new(move |act: &ReminderAct| {
        let act = *act;
        async move {
            let done = match act {
                ReminderAct::Dismiss => api::reminders::dismiss(id)
                    .await
                    .map(|_| "Reminder dismissed.".to_owned()),
                ReminderAct::Snooze(choice) => api::reminders::snooze(id, choice).await.map(|r| {
                    format!(
                        "Reminder snoozed until {}.",
                        reminder_time(&r, &session.zone())
                    )
                }),
                ReminderAct::Delete => api::reminders::remove(id)
                    .await
                    .map(|()| "Reminder deleted.".to_owned()),
            };
            match done {
                Ok(done) => toasts.success(done),
                Err(error) => toasts.error(error.message()),
            }
            // Either way the lists show where the reminder is now.
            live.reminders_changed();
        }
    });
    let busy = move || act.pending().get();
    view! {
        <div class="d-flex flex-wrap gap-1 reminder-actions">
            {on_edit.map(|on_edit| view! {
                <button type="button" class="btn btn-sm btn-outline-secondary reminder-edit" disabled=busy
                    on:click=move |_| on_edit.run(())>"Edit"</button>
            })}
            {open.then(|| view! {
                <button type="button" class="btn btn-sm btn-outline-primary reminder-dismiss" disabled=busy
                    on:click=move |_| { act.dispatch(ReminderAct::Dismiss); }>"Dismiss"</button>
                <div class="btn-group btn-group-sm" role="group" aria-label="Snooze">
                    {SNOOZE_CHOICES.into_iter().map(|(choice, label)| view! {
                        <button type="button" class="btn btn-outline-secondary reminder-snooze"
                            data-snooze=choice title=format!("Snooze: {label}") disabled=busy
                            on:click=move |_| { act.dispatch(ReminderAct::Snooze(choice)); }>{label}</button>
                    }).collect_view()}
                </div>
            })}
            {deletable.then(|| view! {
                <button type="button" class="btn btn-sm btn-outline-danger reminder-delete" disabled=busy
                    on:click=move |_| {
                        if confirm("Delete this reminder?") {
                            act.dispatch(ReminderAct::Delete);
                        }
                    }>"Delete"</button>
            })}
        </div>
    }
}
