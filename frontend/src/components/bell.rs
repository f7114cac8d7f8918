//! The reminder bell in the navigation bar: how many reminders are due, a list of them to
//! dismiss or snooze, and a toast (and a browser notification, when turned on) as each one
//! falls due.

use crm_contract::live::ReminderEvent;
use crm_contract::reminders::{ReminderPage, ReminderState};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;
use wasm_bindgen::JsCast;

use crate::api::reminders::ReminderQuery;
use crate::api::{self, Paging};
use crate::components::icons::BellIcon;
use crate::components::reminders::{ReminderActions, reminder_text, reminder_time};
use crate::components::when::When;
use crate::live::{Live, use_live};
use crate::notifications;
use crate::reactive::Fetched;
use crate::state::{Toasts, use_session, use_toasts};

/// Due reminders listed under the bell (the count is of all of them).
const BELL_LIMIT: u32 = 20;

/// The bell button, with the number of due reminders, and their list under it.
#[component]
pub fn ReminderBell() -> impl IntoView {
    let live = use_live();
    let open = RwSignal::new(false);
    let due = Fetched::new(move || {
        live.reminders.track();
        let query = ReminderQuery {
            state: ReminderState::Due,
            customer: None,
            paging: Paging::first(BELL_LIMIT),
        };
        async move { api::reminders::list(&query).await }
    });
    let count = move || due.get().and_then(Result::ok).map_or(0, |page| page.total);
    announce_due_reminders(live, use_toasts());
    let container = NodeRef::<leptos::html::Div>::new();
    close_when_leaving(open, container);
    view! {
        <div class="dropdown" node_ref=container
            on:keydown=move |ev| { if ev.key() == "Escape" { open.set(false); } }>
            <button id="reminder-bell" type="button" class="btn btn-outline-light btn-sm"
                aria-haspopup="true" aria-controls="reminder-dropdown"
                aria-expanded=move || open.get().to_string()
                title=move || format!("Reminders due: {}", count())
                on:click=move |_| open.update(|o| *o = !*o)>
                <BellIcon/>
                <span class="visually-hidden">"Reminders due"</span>
                <span id="reminder-count" class="badge rounded-pill text-bg-danger ms-1"
                    hidden=move || count() == 0>{count}</span>
            </button>
            <When when=move || open.get()>
                <div id="reminder-dropdown" class="dropdown-menu dropdown-menu-end show p-0 reminder-dropdown"
                    data-bs-popper="static">
                    {move || due.get().map(|result| match result {
                        Ok(page) => view! { <DueList page=page/> }.into_any(),
                        Err(error) => view! { <p class="dropdown-item-text text-muted mb-0">{error.message()}</p> }.into_any(),
                    }).unwrap_or_else(|| view! { <p class="dropdown-item-text text-muted mb-0">"Loading…"</p> }.into_any())}
                    <A href="/reminders" attr:class="dropdown-item text-center py-2" attr:id="all-reminders">"All reminders"</A>
                </div>
            </When>
        </div>
    }
}

/// The due reminders under the bell, soonest first.
#[component]
fn DueList(page: ReminderPage) -> impl IntoView {
    if page.items.is_empty() {
        return view! {
            <p class="dropdown-item-text text-muted mb-0 py-2" id="no-due-reminders">"No reminders due."</p>
        }
        .into_any();
    }
    let zone = use_session().zone();
    let more = page.total - page.items.len() as i64;
    view! {
        <ul class="list-unstyled mb-0" id="due-reminders">
            {page.items.into_iter().map(|reminder| {
                let text = reminder_text(&reminder);
                let excerpt = reminder.message_excerpt.clone().filter(|e| *e != text);
                let (name, when) = (reminder.customer_name.clone(), reminder_time(&reminder, &zone));
                view! {
                    <li class="dropdown-item-text border-bottom py-2 bell-reminder" id=format!("bell-reminder-{}", reminder.id)>
                        <div class="d-flex gap-2">
                            <A href=format!("/customers/{}", reminder.customer_id) attr:class="fw-semibold me-auto">
                                {name}
                            </A>
                            <small class="text-muted text-nowrap">{when}</small>
                        </div>
                        <div class="text-break">{text}</div>
                        {excerpt.map(|e| view! { <div class="small text-muted text-break">{e}</div> })}
                        <div class="mt-1"><ReminderActions id=reminder.id open=true deletable=false/></div>
                    </li>
                }
            }).collect_view()}
        </ul>
        {(more > 0).then(|| view! { <p class="dropdown-item-text small text-muted mb-0">{format!("And {more} more.")}</p> })}
    }
    .into_any()
}

/// Closes the list on a click elsewhere and when another page opens.
fn close_when_leaving(open: RwSignal<bool>, container: NodeRef<leptos::html::Div>) {
    let location = use_location();
    Effect::watch(
        move || location.pathname.get(),
        move |_, _, _| open.set(false),
        false,
    );
    let handle = window_event_listener(leptos::ev::click, move |ev| {
        if !open.get_untracked() {
            return;
        }
        let target = ev
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Node>().ok());
        let inside = container
            .get_untracked()
            .is_some_and(|element| element.contains(target.as_ref()));
        if !inside {
            open.set(false);
        }
    });
    on_cleanup(move || handle.remove());
}

/// Shows a toast, and a browser notification when the user turned them on, as each reminder
/// falls due.
fn announce_due_reminders(live: Live, toasts: Toasts) {
    live.on_reminder_due(move |event| {
        let event = event.clone();
        leptos::task::spawn_local(async move {
            let what = what_is_due(&event).await;
            toasts.info(due_text(&what, &event.customer_name));
            notifications::show(
                &format!("Reminder: {}", event.customer_name),
                &what,
                &format!("reminder-{}", event.reminder_id),
            );
        });
    });
}

/// The reminder's note, else the start of its message (which the event does not carry).
async fn what_is_due(event: &ReminderEvent) -> String {
    let note = event.note.trim();
    if !note.is_empty() || event.message_id.is_none() {
        return note.to_owned();
    }
    api::reminders::get(event.reminder_id)
        .await
        .ok()
        .and_then(|reminder| reminder.message_excerpt)
        .unwrap_or_default()
}

/// "Reminder: Call back about the repair — Grace Hopper".
fn due_text(what: &str, customer: &str) -> String {
    if what.is_empty() {
        format!("Reminder \u{2014} {customer}")
    } else {
        format!("Reminder: {what} \u{2014} {customer}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_due_reminder_is_said_with_its_note_and_customer() {
        assert_eq!(
            due_text("Call back", "Grace Hopper"),
            "Reminder: Call back \u{2014} Grace Hopper"
        );
        assert_eq!(
            due_text("", "Grace Hopper"),
            "Reminder \u{2014} Grace Hopper"
        );
    }
}
