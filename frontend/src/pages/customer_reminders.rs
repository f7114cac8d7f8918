//! The Reminders card of a customer's page: the user's open reminders about the customer (due,
//! then upcoming), "Remind me", and editing one.

use crm_contract::CustomerId;
use crm_contract::reminders::{ReminderResponse, ReminderState};
use leptos::prelude::*;

use crate::api::reminders::ReminderQuery;
use crate::api::{self, ApiError, Paging};
use crate::components::list_parts::{loading, not_loaded};
use crate::components::reminder_form::{ReminderFormFor, ReminderFormModal};
use crate::components::reminders::{ReminderActions, reminder_time};
use crate::components::when::When;
use crate::live::use_live;
use crate::reactive::Fetched;
use crate::state::use_session;

/// Reminders of each state listed on the card.
const CARD_LIMIT: u32 = 50;

/// The customer's due and upcoming reminders, due first.
async fn open_reminders(customer: CustomerId) -> Result<Vec<ReminderResponse>, ApiError> {
    let mut items = Vec::new();
    for state in [ReminderState::Due, ReminderState::Upcoming] {
        let query = ReminderQuery {
            state,
            customer: Some(customer),
            paging: Paging::first(CARD_LIMIT),
        };
        items.extend(api::reminders::list(&query).await?.items);
    }
    Ok(items)
}

/// The reminders card; it reloads whenever reminders change.
#[component]
pub fn RemindersSection(customer_id: CustomerId) -> impl IntoView {
    let live = use_live();
    let adding = RwSignal::new(false);
    let editing = RwSignal::new(None::<ReminderResponse>);
    let reminders = Fetched::new(move || {
        live.reminders.track();
        open_reminders(customer_id)
    });
    view! {
        <section class="card mt-4" id="reminders-card" aria-labelledby="reminders-heading">
            <div class="card-body">
                <div class="d-flex align-items-center gap-2 mb-2">
                    <h2 class="h5 me-auto mb-0" id="reminders-heading">"Reminders"</h2>
                    <button type="button" class="btn btn-sm btn-outline-primary" id="remind-me"
                        on:click=move |_| adding.set(true)>"Remind me"</button>
                </div>
                {move || reminders.get().map(|result| match result {
                    Ok(items) if items.is_empty() => view! {
                        <p class="text-muted mb-0" id="no-customer-reminders">"No open reminders."</p>
                    }.into_any(),
                    Ok(items) => view! { <ReminderList items=items editing=editing/> }.into_any(),
                    Err(error) => not_loaded(&error),
                }).unwrap_or_else(loading)}
            </div>
        </section>
        <When when=move || adding.get()>
            <ReminderFormModal form_for=ReminderFormFor::New(customer_id)
                on_close=Callback::new(move |()| adding.set(false))
                on_saved=Callback::new(move |_| adding.set(false))/>
        </When>
        {move || editing.get().map(|reminder| view! {
            <ReminderFormModal form_for=ReminderFormFor::Edit(Box::new(reminder))
                on_close=Callback::new(move |()| editing.set(None))
                on_saved=Callback::new(move |_| editing.set(None))/>
        })}
    }
}

/// The open reminders, each with its buttons; Edit puts the reminder in `editing`.
#[component]
fn ReminderList(
    items: Vec<ReminderResponse>,
    editing: RwSignal<Option<ReminderResponse>>,
) -> impl IntoView {
    let zone = use_session().zone();
    view! {
        <ul class="list-group" id="customer-reminders">
            {items.into_iter().map(|reminder| {
                let excerpt = reminder.message_excerpt.clone().filter(|e| !e.is_empty());
                let edit = Callback::new({
                    let reminder = reminder.clone();
                    move |()| editing.set(Some(reminder.clone()))
                });
                view! {
                    <li class="list-group-item d-flex flex-wrap align-items-center gap-2" id=format!("reminder-{}", reminder.id)>
                        <div class="me-auto">
                            <div>
                                <span class="text-nowrap">{reminder_time(&reminder, &zone)}</span>
                                {reminder.due.then(|| view! { <span class="badge text-bg-danger ms-2">"Due"</span> })}
                            </div>
                            <div class="text-break">{reminder.note.clone()}</div>
                            {excerpt.map(|e| view! { <div class="small text-muted text-break">{e}</div> })}
                        </div>
                        <ReminderActions id=reminder.id open=true deletable=true on_edit=edit/>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
