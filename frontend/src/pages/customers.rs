//! The customers page: search as you type, archived filter, pages, "Add customer", and a bell
//! by the customers with a reminder due.

use std::collections::HashSet;

use crm_contract::CustomerId;
use crm_contract::customers::{ArchivedFilter, CustomerPage, CustomerResponse};
use crm_contract::reminders::ReminderState;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::customers::CustomerQuery;
use crate::api::reminders::ReminderQuery;
use crate::api::{self, ApiError, Paging};
use crate::components::icons::BellIcon;
use crate::components::when::When;
use crate::live::use_live;
use crate::pages::customer_form::CustomerFormModal;
use crate::reactive::{Fetched, effect};
use crate::state::use_toasts;

/// How long typing must pause before the list is searched.
const SEARCH_DEBOUNCE_MS: u64 = 300;
const PAGE_SIZE: u32 = 20;
/// Due reminders looked at for the bells by the names.
const DUE_LIMIT: u32 = 100;

/// The customers with a reminder of the user's due.
async fn customers_with_due_reminders() -> Result<HashSet<CustomerId>, ApiError> {
    let query = ReminderQuery {
        state: ReminderState::Due,
        customer: None,
        paging: Paging::first(DUE_LIMIT),
    };
    let page = api::reminders::list(&query).await?;
    Ok(page.items.into_iter().map(|r| r.customer_id).collect())
}

/// The customers with a due reminder, kept up to date as reminders change.
fn due_customers() -> RwSignal<HashSet<CustomerId>> {
    let live = use_live();
    let due = RwSignal::new(HashSet::new());
    let fetched = Fetched::new(move || {
        live.reminders.track();
        customers_with_due_reminders()
    });
    effect(move || {
        if let Some(Ok(ids)) = fetched.get() {
            due.set(ids);
        }
    });
    due
}

/// The customer list.
#[component]
pub fn CustomersPage() -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let typed = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let archived = RwSignal::new(ArchivedFilter::False);
    // Cursors of the pages before the current one, and the current one's.
    let previous = RwSignal::new(Vec::<Option<String>>::new());
    let cursor = RwSignal::new(None::<String>);
    let adding = RwSignal::new(false);
    let reload = RwSignal::new(0u32);
    let debounce = StoredValue::new(None::<TimeoutHandle>);
    let due = due_customers();

    let page = Fetched::new(move || {
        let query = CustomerQuery {
            search: search.get(),
            archived: archived.get(),
            paging: Paging {
                limit: PAGE_SIZE,
                cursor: cursor.get(),
            },
        };
        reload.track();
        async move { api::customers::list(&query).await }
    });
    effect(move || match page.get() {
        // Most visits go on to a customer: fetch that page's code while the user reads the list.
        Some(Ok(_)) => super::lazy::preload_customer_page(),
        Some(Err(error)) => toasts.error(error.message()),
        None => {}
    });

    let restart = move || {
        previous.set(Vec::new());
        cursor.set(None);
    };
    let on_search = move |ev: leptos::ev::Event| {
        typed.set(event_target_value(&ev));
        if let Some(handle) = debounce.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                restart();
                search.set(typed.get_untracked().trim().to_owned());
            },
            std::time::Duration::from_millis(SEARCH_DEBOUNCE_MS),
        )
        .ok();
        debounce.set_value(handle);
    };
    let on_saved = Callback::new(move |customer: CustomerResponse| {
        adding.set(false);
        reload.update(|n| *n += 1);
        navigate(&format!("/customers/{}", customer.id), Default::default());
    });

    view! {
        <div class="d-flex flex-wrap align-items-center gap-2 mb-3">
            <h1 class="h3 me-auto mb-0">"Customers"</h1>
            <button type="button" class="btn btn-primary" on:click=move |_| adding.set(true)>"Add customer"</button>
        </div>
        <div class="row g-2 mb-3">
            <div class="col-sm-8">
                <label for="customer-search" class="visually-hidden">"Search customers"</label>
                <input id="customer-search" type="search" class="form-control"
                    placeholder="Search by name, email or phone"
                    prop:value=move || typed.get() on:input=on_search/>
            </div>
            <div class="col-sm-4">
                <label for="archived-filter" class="visually-hidden">"Which customers"</label>
                <select id="archived-filter" class="form-select"
                    on:change=move |ev| { restart(); archived.set(archived_filter(&event_target_value(&ev))); }>
                    <option value="false" selected>"Active customers"</option>
                    <option value="true">"Archived customers"</option>
                    <option value="all">"All customers"</option>
                </select>
            </div>
        </div>
        {move || page.get().map(|result| match result {
            Ok(page) => view! { <CustomerTable page=page due=due/> }.into_any(),
            Err(error) => view! {
                <div class="alert alert-warning" role="alert">
                    {error.message()}" "
                    <button type="button" class="btn btn-sm btn-outline-secondary"
                        on:click=move |_| reload.update(|n| *n += 1)>"Try again"</button>
                </div>
            }.into_any(),
        }).unwrap_or_else(|| view! { <p class="text-muted" role="status">"Loading customers…"</p> }.into_any())}
        <nav class="d-flex gap-2" aria-label="Pages">
            <button type="button" class="btn btn-outline-secondary"
                disabled=move || previous.with(Vec::is_empty)
                on:click=move |_| {
                    let mut stack = previous.get_untracked();
                    let back = stack.pop().flatten();
                    previous.set(stack);
                    cursor.set(back);
                }>"Previous"</button>
            <button type="button" class="btn btn-outline-secondary"
                disabled=move || !matches!(page.get(), Some(Ok(CustomerPage { next_cursor: Some(_), .. })))
                on:click=move |_| {
                    if let Some(Ok(CustomerPage { next_cursor: Some(next), .. })) = page.get_untracked() {
                        previous.update(|stack| stack.push(cursor.get_untracked()));
                        cursor.set(Some(next));
                    }
                }>"Next"</button>
        </nav>
        <When when=move || adding.get()>
            <CustomerFormModal existing=None on_close=Callback::new(move |()| adding.set(false)) on_saved=on_saved/>
        </When>
    }
}

/// A page of customers; `due` are those with a reminder due.
#[component]
fn CustomerTable(page: CustomerPage, due: RwSignal<HashSet<CustomerId>>) -> impl IntoView {
    if page.items.is_empty() {
        return view! {
            <div class="text-center text-muted border rounded p-5 mb-3">
                "No customers match. Add one with \u{201c}Add customer\u{201d}."
            </div>
        }
        .into_any();
    }
    let (total, exact) = (page.total, page.total_exact);
    view! {
        <div class="table-responsive">
            <table class="table table-hover align-middle" id="customers-table">
                <thead><tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Phone"</th>
                    <th scope="col" class="d-none d-md-table-cell">"Time zone"</th>
                </tr></thead>
                <tbody>
                    {page.items.into_iter().map(|c| {
                        let id = c.id;
                        view! {
                        <tr>
                            <td>
                                <A href=format!("/customers/{}", c.id)>{c.name.clone()}</A>
                                {move || due.with(|due| due.contains(&id)).then(|| view! {
                                    <span class="due-reminder badge text-bg-warning ms-2" title="A reminder is due">
                                        <BellIcon/>
                                        <span class="visually-hidden">"Reminder due"</span>
                                    </span>
                                })}
                                {c.archived_at.is_some().then(|| view! { <span class="badge text-bg-secondary ms-2">"Archived"</span> })}
                            </td>
                            <td>{c.email.clone().unwrap_or_default()}</td>
                            <td>{c.phone.clone().unwrap_or_default()}</td>
                            <td class="d-none d-md-table-cell">{c.timezone.clone()}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        </div>
        <p class="text-muted small" id="customers-total">{total_text(total, exact)}</p>
    }
    .into_any()
}

/// "1 customer", "25 customers", or "1000+ customers" where a search stopped counting.
fn total_text(total: i64, exact: bool) -> String {
    match (total, exact) {
        (1, true) => "1 customer".to_owned(),
        (_, true) => format!("{total} customers"),
        (_, false) => format!("{total}+ customers"),
    }
}

/// The filter of the "Which customers" choice.
fn archived_filter(value: &str) -> ArchivedFilter {
    match value {
        "true" => ArchivedFilter::True,
        "all" => ArchivedFilter::All,
        _ => ArchivedFilter::False,
    }
}
