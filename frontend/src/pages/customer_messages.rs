//! A customer's scheduled messages: the list with live statuses, and schedule, edit, cancel,
//! resend and "Remind me".

use crm_contract::customers::CustomerResponse;
use crm_contract::messages::MessageResponse;
use crm_contract::reminders::CreateReminderRequest;
use crm_contract::{CustomerId, MessageId};
use leptos::prelude::*;

use crate::api::{self, Paging};
use crate::components::list_parts::{ListFooter, loading, not_loaded};
use crate::components::message_form::MessageFormModal;
use crate::components::message_status::{StatusBadge, channel_label, excerpt};
use crate::components::modal::confirm;
use crate::components::remind_me::reminder_error_text;
use crate::components::reminders::reminder_time;
use crate::components::when::When;
use crate::live::{coalesced, use_live};
use crate::reactive::{Fetched, Task};
use crate::state::{use_session, use_toasts};
use crate::wall_clock;

/// Messages fetched per page.
const PAGE_SIZE: u32 = 25;

/// Pages after the first, fetched with "Show more": their messages, and the cursor of the next.
#[derive(Debug, Clone, Default)]
struct LaterPages {
    items: Vec<MessageResponse>,
    next_cursor: Option<String>,
}

/// What a row's button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowAction {
    Cancel(MessageId),
    Resend(MessageId),
}

/// The messages section of a customer's page. `changed` is called after every change, so the
/// page can refresh its activity trail.
#[component]
pub fn MessagesSection(customer: CustomerResponse, changed: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let customer_id: CustomerId = customer.id;
    let archived = customer.archived_at.is_some();
    let customer = StoredValue::new(customer);
    let reload = RwSignal::new(0u32);
    let later = RwSignal::new(None::<LaterPages>);
    let adding = RwSignal::new(false);
    let editing = RwSignal::new(None::<MessageResponse>);
    let messages = Fetched::new(move || {
        reload.track();
        async move { api::messages::list_for_customer(customer_id, &Paging::first(PAGE_SIZE)).await }
    });
    // Template names for the list; without them a template shows as its SID.
    let templates = Fetched::new(api::messages::templates);
    let template_list = move || {
        templates
            .get()
            .and_then(Result::ok)
            .map(|list| list.items)
            .unwrap_or_default()
    };

    // Statuses change without a reload: the list is fetched again when the server says one of
    // the customer's messages changed (a burst of changes fetches it once).
    let live = use_live();
    let reload_soon = coalesced(reload);
    live.on_message_status(move |event| {
        if event.customer_id == customer_id {
            reload_soon();
        }
    });
    live.on_resync(reload_soon);

    // Back to the first page, fresh, after a change.
    let refresh = move || {
        later.set(None);
        reload.update(|n| *n += 1);
        changed.run(());
    };
    let next_cursor = move || match later.get() {
        Some(pages) => pages.next_cursor,
        None => messages
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.next_cursor),
    };
    let show_more = Task::new(move |cursor: &String| {
        let paging = Paging::after(PAGE_SIZE, cursor.clone());
        async move {
            match api::messages::list_for_customer(customer_id, &paging).await {
                Ok(list) => later.update(|pages| {
                    let pages = pages.get_or_insert_with(LaterPages::default);
                    pages.items.extend(list.items);
                    pages.next_cursor = list.next_cursor;
                }),
                Err(error) => toasts.error(error.message()),
            }
        }
    });
    // The latest version before editing, so the edit is not refused as stale.
    let open_edit = Task::new(move |id: &MessageId| {
        let id = *id;
        async move {
            match api::messages::get(id).await {
                Ok(message) if message.status.is_editable() => editing.set(Some(message)),
                Ok(_) => {
                    toasts.error("This message is no longer scheduled.");
                    refresh();
                }
                Err(error) => toasts.error(error.message()),
            }
        }
    });
    let act = Task::new(move |action: &RowAction| {
        let action = *action;
        async move {
            let (result, done) = match action {
                RowAction::Cancel(id) => (api::messages::cancel(id).await, "Message canceled."),
                RowAction::Resend(id) => (
                    api::messages::resend(id).await,
                    "Message is being sent again.",
                ),
            };
            match result {
                Ok(_) => toasts.success(done),
                Err(error) => toasts.error(error.message()),
            }
            // Either way the list shows where the message is now.
            refresh();
        }
    });
    // A reminder at the message's send time.
    let session = use_session();
    let remind = Task::new(move |id: &MessageId| {
        let request = CreateReminderRequest {
            customer_id,
            message_id: Some(*id),
            remind_at: None,
            minutes_before: None,
            timezone: None,
            note: None,
        };
        async move {
            match api::reminders::create(&request).await {
                Ok(reminder) => {
                    let when = reminder_time(&reminder, &session.zone());
                    toasts.success(format!("Reminder set for {when}."));
                    live.reminders_changed();
                }
                Err(error) => toasts.error(reminder_error_text(&error)),
            }
        }
    });
    let busy = move || act.pending().get() || open_edit.pending().get();

    let row = move |message: MessageResponse| {
        let id = message.id;
        let when = wall_clock::local_date_time(message.send_at.timestamp_millis() as f64);
        let summary = excerpt(&message, &template_list());
        let editable = message.status.is_editable();
        let resendable = message.status.is_resendable();
        view! {
            <tr>
                <td class="text-nowrap">{when}</td>
                <td>{channel_label(message.channel)}</td>
                <td class="text-break" style="min-width: 12rem">{summary}</td>
                <td><StatusBadge status=message.status reason=message.status_reason.clone()/></td>
                <td class="text-end text-nowrap">
                    {editable.then(|| view! {
                        <button type="button" class="btn btn-sm btn-outline-secondary me-1 message-remind"
                            title="A reminder at the send time"
                            disabled=move || remind.pending().get()
                            on:click=move |_| { remind.dispatch(id); }>"Remind me"</button>
                        <button type="button" class="btn btn-sm btn-outline-secondary me-1"
                            disabled=move || archived || busy()
                            on:click=move |_| { open_edit.dispatch(id); }>"Edit"</button>
                        <button type="button" class="btn btn-sm btn-outline-danger"
                            disabled=busy
                            on:click=move |_| {
                                if confirm("Cancel this message? It will not be sent.") {
                                    act.dispatch(RowAction::Cancel(id));
                                }
                            }>"Cancel"</button>
                    })}
                    {resendable.then(|| view! {
                        <button type="button" class="btn btn-sm btn-outline-primary"
                            disabled=move || archived || busy()
                            on:click=move |_| {
                                if confirm("Send this message again now?") {
                                    act.dispatch(RowAction::Resend(id));
                                }
                            }>"Resend"</button>
                    })}
                </td>
            </tr>
        }
    };

    view! {
        <section class="card mt-4" aria-labelledby="messages-heading">
            <div class="card-body">
                <div class="d-flex align-items-center gap-2 mb-2">
                    <h2 class="h5 me-auto mb-0" id="messages-heading">"Messages"</h2>
                    <button type="button" class="btn btn-sm btn-outline-primary" disabled=archived
                        title=if archived { "Restore the customer to message them" } else { "" }
                        on:click=move |_| adding.set(true)>"Schedule message"</button>
                </div>
                {move || messages.get().map(|result| match result {
                    Ok(list) if list.items.is_empty() => view! { <p class="text-muted mb-0">"No messages yet."</p> }.into_any(),
                    Ok(list) => {
                        let mut items = list.items;
                        if let Some(pages) = later.get() {
                            // A reload may have brought a later page's message onto the first.
                            items.extend(pages.items.into_iter().filter(|m| !items.iter().any(|i| i.id == m.id)).collect::<Vec<_>>());
                        }
                        let shown = items.len();
                        view! {
                            <div class="table-responsive">
                                <table class="table table-sm align-middle mb-2" id="messages-table">
                                    <thead><tr>
                                        <th scope="col">"Send time"</th><th scope="col">"Channel"</th>
                                        <th scope="col">"Message"</th><th scope="col">"Status"</th><th scope="col"></th>
                                    </tr></thead>
                                    <tbody>{items.into_iter().map(row).collect_view()}</tbody>
                                </table>
                            </div>
                            <ListFooter shown=shown total=list.total next=next_cursor more=show_more/>
                        }.into_any()
                    }
                    Err(error) => not_loaded(&error),
                }).unwrap_or_else(loading)}
            </div>
        </section>
        <When when=move || adding.get()>
            <MessageFormModal customer=customer.get_value() existing=None
                on_close=Callback::new(move |()| adding.set(false))
                on_saved=Callback::new(move |_| { adding.set(false); refresh(); })/>
        </When>
        {move || editing.get().map(|message| view! {
            <MessageFormModal customer=customer.get_value() existing=Some(message)
                on_close=Callback::new(move |()| editing.set(None))
                on_saved=Callback::new(move |_| { editing.set(None); refresh(); })/>
        })}
    }
}
