//! One customer: their data, edit, archive/restore, the user's reminders about them, their
//! messages and invoices, and the activity trail.

use crm_contract::customers::CustomerResponse;
use crm_contract::{ActivityPage, CustomerId};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{self, Paging};
use crate::components::activity::ActivityList;
use crate::components::list_parts::{loading, not_loaded};
use crate::components::modal::confirm;
use crate::components::when::When;
use crate::live::use_live;
use crate::pages::customer_form::CustomerFormModal;
use crate::pages::customer_messages::MessagesSection;
use crate::pages::customer_reminders::RemindersSection;
use crate::pages::invoices::InvoicesSection;
use crate::pages::local_time;
use crate::reactive::{Fetched, Task};
use crate::state::use_toasts;

/// Activity events fetched at a time.
const ACTIVITY_PAGE: u32 = 25;

/// The customer detail page.
#[component]
pub fn CustomerDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params.with(|p| {
            p.get("id")
                .and_then(|id| id.parse::<CustomerId>().ok())
                .unwrap_or(CustomerId::new(0))
        })
    };
    let reload = RwSignal::new(0u32);
    let customer = Fetched::new(move || {
        let id = id();
        reload.track();
        async move { api::customers::get(id).await }
    });
    // Invoice changes show in the activity trail without reloading the customer.
    let activity_changed = RwSignal::new(0u32);
    // Events were lost: the trail may miss some (the sections reload themselves).
    use_live().on_resync(move || activity_changed.update(|n| *n += 1));
    let toasts = use_toasts();
    // Older events fetched with "Show older activity", and where the next ones start.
    let older = RwSignal::new(None::<ActivityPage>);
    let activity = Fetched::new(move || {
        let id = id();
        reload.track();
        activity_changed.track();
        older.set(None);
        async move { api::customers::activity(id, &Paging::first(ACTIVITY_PAGE)).await }
    });
    let show_older = Task::new(move |cursor: &String| {
        let (id, paging) = (id(), Paging::after(ACTIVITY_PAGE, cursor.clone()));
        async move {
            match api::customers::activity(id, &paging).await {
                Ok(page) => older.update(|pages| match pages {
                    Some(pages) => {
                        pages.items.extend(page.items);
                        pages.next_cursor = page.next_cursor;
                    }
                    None => *pages = Some(page),
                }),
                Err(error) => toasts.error(error.message()),
            }
        }
    });
    view! {
        <p><A href="/">"\u{2190} Customers"</A></p>
        {move || customer.get().map(|result| match result {
            Ok(c) => {
                let (customer_id, archived) = (c.id, c.archived_at.is_some());
                view! {
                    <CustomerCard customer=c.clone() reload=reload/>
                    <RemindersSection customer_id=customer_id/>
                    <MessagesSection customer=c
                        changed=Callback::new(move |()| activity_changed.update(|n| *n += 1))/>
                    <InvoicesSection customer_id=customer_id archived=archived
                        changed=Callback::new(move |()| activity_changed.update(|n| *n += 1))/>
                }.into_any()
            }
            Err(error) => view! { <div class="alert alert-warning" role="alert">{error.message()}</div> }.into_any(),
        }).unwrap_or_else(loading)}
        <section class="mt-4" aria-labelledby="activity-heading">
            <h2 class="h5" id="activity-heading">"Activity"</h2>
            {move || activity.get().map(|result| match result {
                Ok(mut page) => {
                    if let Some(more) = older.get() {
                        page.items.extend(more.items);
                        page.next_cursor = more.next_cursor;
                    }
                    let next = page.next_cursor.clone();
                    view! {
                        <ActivityList page=page/>
                        {next.map(|cursor| view! {
                            <button type="button" class="btn btn-sm btn-outline-secondary mt-2"
                                disabled=move || show_older.pending().get()
                                on:click=move |_| { show_older.dispatch(cursor.clone()); }>"Show older activity"</button>
                        })}
                    }.into_any()
                }
                Err(error) => not_loaded(&error),
            }).unwrap_or_else(loading)}
        </section>
    }
}

#[component]
fn CustomerCard(customer: CustomerResponse, reload: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let editing = RwSignal::new(false);
    let id = customer.id;
    let archived = customer.archived_at.is_some();
    let toggle = Task::new(move |_: &()| async move {
        let (result, done) = if archived {
            (api::customers::restore(id).await, "restored")
        } else {
            (api::customers::archive(id).await, "archived")
        };
        match result {
            Ok(c) => {
                toasts.success(format!("{} {done}.", c.name));
                reload.update(|n| *n += 1);
            }
            Err(error) => toasts.error(error.message()),
        }
    });
    let pending = toggle.pending();
    let on_saved = Callback::new(move |_: CustomerResponse| {
        editing.set(false);
        reload.update(|n| *n += 1);
    });
    let row = |label: &'static str, value: Option<String>| {
        view! {
            <dt class="col-sm-3">{label}</dt>
            <dd class="col-sm-9">{value.filter(|v| !v.is_empty()).unwrap_or_else(|| "\u{2014}".to_owned())}</dd>
        }
    };
    let opt_outs = match (customer.sms_opt_out, customer.whatsapp_opt_out) {
        (false, false) => "None".to_owned(),
        (true, false) => "SMS".to_owned(),
        (false, true) => "WhatsApp".to_owned(),
        (true, true) => "SMS and WhatsApp".to_owned(),
    };
    let stored = StoredValue::new(customer.clone());
    view! {
        <div class="d-flex flex-wrap align-items-center gap-2 mb-3">
            <h1 class="h3 me-auto mb-0">
                {customer.name.clone()}
                {archived.then(|| view! { <span class="badge text-bg-secondary ms-2 fs-6">"Archived"</span> })}
            </h1>
            <button type="button" class="btn btn-outline-primary" disabled=archived
                title=if archived { "Restore the customer to edit" } else { "" }
                on:click=move |_| editing.set(true)>"Edit"</button>
            <button type="button" class="btn btn-outline-secondary" disabled=move || pending.get()
                on:click=move |_| {
                    let question = "Archive this customer? Their scheduled messages will be \
                        canceled; everything else is kept and they can be restored.";
                    if archived || confirm(question) {
                        toggle.dispatch(());
                    }
                }>
                {if archived { "Restore" } else { "Archive" }}
            </button>
        </div>
        <dl class="row">
            {row("Email", customer.email.clone())}
            {row("Phone", customer.phone.clone())}
            {row("WhatsApp", customer.whatsapp.clone())}
            {row("Time zone", Some(customer.timezone.clone()))}
            {row("Opted out of", Some(opt_outs))}
            {row("Notes", Some(customer.notes.clone()))}
            {row("Added", Some(local_time(customer.created_at)))}
        </dl>
        <When when=move || editing.get()>
            <CustomerFormModal existing=Some(stored.get_value())
                on_close=Callback::new(move |()| editing.set(false)) on_saved=on_saved/>
        </When>
    }
}
