//! The Reminders page: the user's reminders that are due, upcoming or dismissed, a page at a
//! time, with edit, dismiss, snooze and delete.

use crm_contract::reminders::{ReminderResponse, ReminderState};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::reminders::ReminderQuery;
use crate::api::{self, Paging};
use crate::components::list_parts::{ListFooter, loading};
use crate::components::reminder_form::{ReminderFormFor, ReminderFormModal};
use crate::components::reminders::{ReminderActions, reminder_time};
use crate::live::use_live;
use crate::reactive::{Fetched, Task};
use crate::state::{use_session, use_toasts};

/// Reminders fetched per page.
const PAGE_SIZE: u32 = 25;

/// The tab's name.
fn tab_label(state: ReminderState) -> &'static str {
    match state {
        ReminderState::Due => "Due",
        ReminderState::Upcoming => "Upcoming",
        ReminderState::Dismissed => "Dismissed",
    }
}

/// What an empty tab says.
fn empty_text(state: ReminderState) -> &'static str {
    match state {
        ReminderState::Due => "No reminders due.",
        ReminderState::Upcoming => "No upcoming reminders.",
        ReminderState::Dismissed => "No dismissed reminders.",
    }
}

/// The reminders page; `?state=upcoming` opens that tab.
#[component]
pub fn RemindersPage() -> impl IntoView {
    let toasts = use_toasts();
    let live = use_live();
    let initial = use_query_map()
        .with_untracked(|q| q.get("state").and_then(|s| ReminderState::parse(&s)))
        .unwrap_or_default();
    let state = RwSignal::new(initial);
    let editing = RwSignal::new(None::<ReminderResponse>);
    // Reminders of the pages after the first, and where the next page starts.
    let later = RwSignal::new((Vec::<ReminderResponse>::new(), None::<String>));
    let query = move |paging: Paging| ReminderQuery {
        state: state.get_untracked(),
        customer: None,
        paging,
    };
    let first = Fetched::new(move || {
        state.track();
        live.reminders.track();
        later.set((Vec::new(), None));
        let query = query(Paging::first(PAGE_SIZE));
        async move { api::reminders::list(&query).await }
    });
    let show_more = Task::new(move |cursor: &String| {
        let query = query(Paging::after(PAGE_SIZE, cursor.clone()));
        async move {
            match api::reminders::list(&query).await {
                Ok(page) => later.update(|(items, next)| {
                    items.extend(page.items);
                    *next = page.next_cursor;
                }),
                Err(error) => toasts.error(error.message()),
            }
        }
    });
    let next_cursor = move || {
        let (items, next) = later.get();
        if items.is_empty() {
            first
                .get()
                .and_then(Result::ok)
                .and_then(|page| page.next_cursor)
        } else {
            next
        }
    };
    view! {
        <h1 class="h3 mb-3">"Reminders"</h1>
        <ul class="nav nav-tabs mb-3" role="tablist">
            {ReminderState::ALL.into_iter().map(|tab| view! {
                <li class="nav-item" role="presentation">
                    <button type="button" role="tab" id=format!("reminders-tab-{}", tab.as_str())
                        class=move || if state.get() == tab { "nav-link active" } else { "nav-link" }
                        aria-selected=move || (state.get() == tab).to_string()
                        on:click=move |_| state.set(tab)>{tab_label(tab)}</button>
                </li>
            }).collect_view()}
        </ul>
        {move || first.get().map(|result| match result {
            Ok(page) if page.items.is_empty() => view! {
                <p class="text-muted" id="no-reminders">{empty_text(state.get_untracked())}</p>
            }.into_any(),
            Ok(page) => {
                let total = page.total;
                let mut items = page.items;
                items.extend(later.get().0);
                let shown = items.len();
                view! {
                    <ReminderTable items=items editing=editing/>
                    <ListFooter shown=shown total=total next=next_cursor more=show_more/>
                }.into_any()
            }
            Err(error) => view! { <div class="alert alert-warning" role="alert">{error.message()}</div> }.into_any(),
        }).unwrap_or_else(loading)}
        {move || editing.get().map(|reminder| view! {
            <ReminderFormModal form_for=ReminderFormFor::Edit(Box::new(reminder))
                on_close=Callback::new(move |()| editing.set(None))
                on_saved=Callback::new(move |_| editing.set(None))/>
        })}
    }
}

/// The reminders of a tab, as a table; Edit puts the reminder in `editing`.
#[component]
fn ReminderTable(
    items: Vec<ReminderResponse>,
    editing: RwSignal<Option<ReminderResponse>>,
) -> impl IntoView {
    let zone = use_session().zone();
    view! {
        <div class="table-responsive">
            <table class="table table-sm align-middle mb-2" id="reminders-table">
                <thead><tr>
                    <th scope="col">"When"</th><th scope="col">"Customer"</th><th scope="col">"Note"</th>
                    <th scope="col">"Message"</th><th scope="col">"Status"</th><th scope="col"></th>
                </tr></thead>
                <tbody>
                    {items.into_iter().map(|reminder| {
                        let when = reminder_time(&reminder, &zone);
                        let status = reminder_status(&reminder, &zone);
                        let open = reminder.dismissed_at.is_none();
                        let edit = Callback::new({
                            let reminder = reminder.clone();
                            move |()| editing.set(Some(reminder.clone()))
                        });
                        view! {
                            <tr id=format!("reminder-{}", reminder.id)>
                                <td class="text-nowrap">{when}</td>
                                <td><A href=format!("/customers/{}", reminder.customer_id)>{reminder.customer_name.clone()}</A></td>
                                <td class="text-break" style="min-width: 10rem">{reminder.note.clone()}</td>
                                <td class="text-break small text-muted">{reminder.message_excerpt.clone().unwrap_or_default()}</td>
                                <td>{status}</td>
                                <td class="text-end"><ReminderActions id=reminder.id open=open deletable=true on_edit=edit/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// "Due", or when and why it was dismissed.
fn reminder_status(reminder: &ReminderResponse, zone: &str) -> AnyView {
    match reminder.dismissed_at {
        Some(at) => {
            let when = crate::wall_clock::date_time_in(zone, at.timestamp_millis() as f64);
            let reason = reminder.dismissed_reason.clone().filter(|r| !r.is_empty());
            view! {
                <span class="text-muted small">{format!("Dismissed {when}")}</span>
                {reason.map(|r| view! { <div class="small text-muted reminder-reason">{r}</div> })}
            }
            .into_any()
        }
        None if reminder.due => {
            view! { <span class="badge text-bg-danger">"Due"</span> }.into_any()
        }
        None => view! { <span class="badge text-bg-secondary">"Upcoming"</span> }.into_any(),
    }
}
