//! Staff accounts, for admins: list, add, make admin or staff, disable and enable, and each
//! account's history.

use crm_domain::{EmailAddress, FieldErrors, Password, UserName};
use leptos::prelude::*;
use serde_json::json;

use crate::api;
use crate::components::activity::ActivityList;
use crate::components::field::{FormAlert, TextField, passes_checks, show_save_error};
use crate::components::modal::Modal;
use crate::state::use_toasts;
use crate::types::{ActivityPage, StaffAccount, StaffPage};

/// Events shown in an account's history.
const HISTORY_EVENTS: u32 = 50;

/// The staff section of the settings page (shown to admins).
#[component]
pub fn StaffSection() -> impl IntoView {
    let toasts = use_toasts();
    let reload = RwSignal::new(0u32);
    let adding = RwSignal::new(false);
    let history = RwSignal::new(None::<StaffAccount>);
    let accounts = LocalResource::new(move || {
        reload.track();
        api::get::<StaffPage>("/users?limit=100")
    });
    let change = Action::new_local(
        move |(account, body, done): &(StaffAccount, serde_json::Value, &'static str)| {
            let (account, body, done) = (account.clone(), body.clone(), *done);
            async move {
                match api::patch::<_, StaffAccount>(&format!("/users/{}", account.id), &body).await
                {
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
            <Transition fallback=|| view! { <p class="text-muted">"Loading…"</p> }>
                {move || accounts.get().map(|result| match result {
                    Ok(page) => view! {
                        <ul class="list-group" id="staff">
                            {page.items.into_iter().map(|account| {
                                let disabled = account.disabled_at.is_some();
                                let admin = account.role == "admin";
                                let (for_role, for_status, for_history) =
                                    (account.clone(), account.clone(), account.clone());
                                view! {
                                    <li class="list-group-item d-flex flex-wrap align-items-center gap-2">
                                        <div class="me-auto">
                                            <strong>{account.name.clone()}</strong>" "
                                            <span class="badge text-bg-light border">{account.role.clone()}</span>
                                            {disabled.then(|| view! { <span class="badge text-bg-secondary ms-1">"Disabled"</span> })}
                                            <div class="small text-muted">{account.email.clone()}</div>
                                        </div>
                                        <button type="button" class="btn btn-sm btn-outline-secondary"
                                            on:click=move |_| history.set(Some(for_history.clone()))>"History"</button>
                                        <button type="button" class="btn btn-sm btn-outline-secondary"
                                            on:click=move |_| {
                                                let (role, done) = if admin { ("staff", "is staff now") } else { ("admin", "is an admin now") };
                                                change.dispatch((for_role.clone(), json!({"role": role}), done));
                                            }>{if admin { "Make staff" } else { "Make admin" }}</button>
                                        <button type="button" class="btn btn-sm btn-outline-danger"
                                            on:click=move |_| {
                                                let done = if disabled { "can sign in again" } else { "is disabled" };
                                                change.dispatch((for_status.clone(), json!({"disabled": !disabled}), done));
                                            }>{if disabled { "Enable" } else { "Disable" }}</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <p class="text-muted">{error.message()}</p> }.into_any(),
                })}
            </Transition>
        </section>
        {move || history.get().map(|account| view! {
            <HistoryModal account=account on_close=Callback::new(move |()| history.set(None))/>
        })}
        <Show when=move || adding.get()>
            <AddPersonModal on_close=Callback::new(move |()| adding.set(false))
                on_saved=Callback::new(move |()| { adding.set(false); reload.update(|n| *n += 1); })/>
        </Show>
    }
}

/// An account's history: created, changed, disabled, passwords and API tokens, newest first.
#[component]
fn HistoryModal(account: StaffAccount, on_close: Callback<()>) -> impl IntoView {
    let path = format!("/users/{}/activity?limit={HISTORY_EVENTS}", account.id);
    let trail = LocalResource::new(move || {
        let path = path.clone();
        async move { api::get::<ActivityPage>(&path).await }
    });
    view! {
        <Modal title=format!("History of {}", account.name) on_close=on_close>
            <Transition fallback=|| view! { <p class="text-muted" role="status">"Loading…"</p> }>
                {move || trail.get().map(|result| match result {
                    Ok(page) => {
                        let more = (page.total > i64::from(HISTORY_EVENTS))
                            .then(|| format!("The latest {HISTORY_EVENTS} of {} events.", page.total));
                        view! {
                            <ActivityList page=page/>
                            {more.map(|text| view! { <p class="small text-muted mt-2 mb-0">{text}</p> })}
                        }.into_any()
                    }
                    Err(error) => view! { <p class="text-muted">{error.message()}</p> }.into_any(),
                })}
            </Transition>
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
    let role = RwSignal::new("staff".to_owned());
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);
    let save = Action::new_local(move |body: &serde_json::Value| {
        let body = body.clone();
        async move {
            match api::post::<_, StaffAccount>("/users", &body).await {
                Ok(account) => {
                    toasts.success(format!(
                        "{} can sign in now, as {}.",
                        account.name, account.role
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
            save.dispatch(json!({
                "name": name.get_untracked(),
                "email": email.get_untracked(),
                "password": password.get_untracked(),
                "role": role.get_untracked(),
            }));
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
                        on:change=move |ev| role.set(event_target_value(&ev))>
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
