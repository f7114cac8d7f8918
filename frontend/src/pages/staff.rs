//! Staff accounts, for admins: list, add, make admin or staff, disable and enable, and each
//! account's history.

use crm_contract::users::{NewStaffRequest, StaffResponse, UpdateStaffRequest};
use crm_domain::{EmailAddress, FieldErrors, Password, Role, UserName};
use leptos::prelude::*;

use crate::api::{self, Paging};
use crate::components::activity::ActivityList;
use crate::components::field::{FormAlert, TextField, passes_checks, show_save_error};
use crate::components::list_parts::{loading, not_loaded};
use crate::components::modal::Modal;
use crate::components::when::When;
use crate::reactive::{Fetched, Task};
use crate::state::use_toasts;

/// Accounts listed.
const ACCOUNTS: u32 = 100;
/// Events shown in an account's history.
const HISTORY_EVENTS: u32 = 50;

/// The staff section of the settings page (shown to admins).
#[component]
pub fn StaffSection() -> impl IntoView {
    let toasts = use_toasts();
    let reload = RwSignal::new(0u32);
    let adding = RwSignal::new(false);
    let history = RwSignal::new(None::<StaffResponse>);
    let accounts = Fetched::new(move || {
        reload.track();
        async move { api::users::list(&Paging::first(ACCOUNTS)).await }
    });
    let change = Task::new(
        move |(account, body, done): &(StaffResponse, UpdateStaffRequest, &'static str)| {
            let (account, body, done) = (account.clone(), body.clone(), *done);
            async move {
                match api::users::update(account.id, &body).await {
                    Ok(changed) => {
                        toasts.success(format!("{} {done}.", changed.name));
                        reload.update(|n| *n += 1);
                    }
                    Err(error) => toasts.error(error.message()),
                }
            }
        },
    );
    view! {
        <section class="mt-5" aria-labelledby="staff-heading">
            <div class="d-flex align-items-center gap-2 mb-2">
                <h2 class="h5 me-auto mb-0" id="staff-heading">"Staff"</h2>
                <button type="button" class="btn btn-sm btn-outline-primary"
                    on:click=move |_| adding.set(true)>"Add person"</button>
            </div>
            <p class="text-muted">"Staff do the daily work; admins also manage these accounts. \
                Disabling an account signs its owner out everywhere at once."</p>
            {move || accounts.get().map(|result| match result {
                Ok(page) => view! {
                    <ul class="list-group" id="staff">
                        {page.items.into_iter().map(|account| {
                            let disabled = account.disabled_at.is_some();
                            let admin = account.role == Role::Admin;
                            let (for_role, for_status, for_history) =
                                (account.clone(), account.clone(), account.clone());
                            view! {
                                <li class="list-group-item d-flex flex-wrap align-items-center gap-2">
                                    <div class="me-auto">
                                        <strong>{account.name.clone()}</strong>" "
                                        <span class="badge text-bg-light border">{account.role.as_str()}</span>
                                        {disabled.then(|| view! { <span class="badge text-bg-secondary ms-1">"Disabled"</span> })}
                                        <div class="small text-muted">{account.email.clone()}</div>
                                    </div>
                                    <button type="button" class="btn btn-sm btn-outline-secondary"
                                        on:click=move |_| history.set(Some(for_history.clone()))>"History"</button>
                                    <button type="button" class="btn btn-sm btn-outline-secondary"
                                        on:click=move |_| {
                                            let (role, done) = if admin { (Role::Staff, "is staff now") } else { (Role::Admin, "is an admin now") };
                                            let body = UpdateStaffRequest { role: Some(role.as_str().to_owned()), ..UpdateStaffRequest::default() };
                                            change.dispatch((for_role.clone(), body, done));
                                        }>{if admin { "Make staff" } else { "Make admin" }}</button>
                                    <button type="button" class="btn btn-sm btn-outline-danger"
                                        on:click=move |_| {
                                            let done = if disabled { "can sign in again" } else { "is disabled" };
                                            let body = UpdateStaffRequest { disabled: Some(!disabled), ..UpdateStaffRequest::default() };
                                            change.dispatch((for_status.clone(), body, done));
                                        }>{if disabled { "Enable" } else { "Disable" }}</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(error) => not_loaded(&error),
            }).unwrap_or_else(loading)}
        </section>
        {move || history.get().map(|account| view! {
            <HistoryModal account=account on_close=Callback::new(move |()| history.set(None))/>
        })}
        <When when=move || adding.get()>
            <AddPersonModal on_close=Callback::new(move |()| adding.set(false))
                on_saved=Callback::new(move |()| { adding.set(false); reload.update(|n| *n += 1); })/>
        </When>
    }
}

/// An account's history: created, changed, disabled, passwords and API tokens, newest first.
#[component]
fn HistoryModal(account: StaffResponse, on_close: Callback<()>) -> impl IntoView {
    let id = account.id;
    let trail = Fetched::new(move || async move {
        api::users::activity(id, &Paging::first(HISTORY_EVENTS)).await
    });
    view! {
        <Modal title=format!("History of {}", account.name) on_close=on_close>
            {move || trail.get().map(|result| match result {
                Ok(page) => {
                    let more = (page.total > i64::from(HISTORY_EVENTS))
                        .then(|| format!("The latest {HISTORY_EVENTS} of {} events.", page.total));
                    view! {
                        <ActivityList page=page/>
                        {more.map(|text| view! { <p class="small text-muted mt-2 mb-0">{text}</p> })}
                    }.into_any()
                }
                Err(error) => not_loaded(&error),
            }).unwrap_or_else(loading)}
        </Modal>
    }
}

/// The "Add person" form.
#[component]
fn AddPersonModal(on_close: Callback<()>, on_saved: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Staff);
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);
    let save = Task::new(move |body: &NewStaffRequest| {
        let body = body.clone();
        async move {
            match api::users::create(&body).await {
                Ok(account) => {
                    toasts.success(format!(
                        "{} can sign in now, as {}.",
                        account.name,
                        account.role.as_str()
                    ));
                    on_saved.run(());
                }
                Err(error) => show_save_error(error, "person-form", errors, alert, toasts),
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
        found.check("name", UserName::parse(&name.get_untracked()));
        found.check("email", EmailAddress::parse(&email.get_untracked()));
        found.check("password", Password::parse(&password.get_untracked()));
        if passes_checks(found, errors, "person-form") {
            save.dispatch(NewStaffRequest {
                name: name.get_untracked(),
                email: email.get_untracked(),
                password: password.get_untracked(),
                role: Some(role.get_untracked().as_str().to_owned()),
            });
        }
    };
    let pending = save.pending();
    view! {
        <Modal title="Add person".to_owned() on_close=on_close>
            <form id="person-form" novalidate on:submit=on_submit>
                <FormAlert message=alert/>
                <TextField label="Name" name="name" scope="person" value=name errors=errors required=true/>
                <TextField label="Email" name="email" scope="person" value=email errors=errors required=true input_type="email"/>
                <TextField label="Password" name="password" scope="person" value=password errors=errors required=true
                    input_type="password" autocomplete="new-password"
                    help="At least 10 characters. Tell it to them; they sign in with it."/>
                <div class="mb-3">
                    <label for="field-role" class="form-label">"Role"</label>
                    <select id="field-role" name="role" class="form-select"
                        on:change=move |ev| {
                            if let Ok(chosen) = Role::parse(&event_target_value(&ev)) {
                                role.set(chosen);
                            }
                        }>
                        <option value="staff" selected>"Staff"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                </div>
                <div class="d-flex justify-content-end gap-2">
                    <button type="button" class="btn btn-outline-secondary" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
