//! Settings: the user's personal API tokens, password, time zone and notifications, and (for
//! admins) the staff accounts.

use crm_contract::ApiTokenId;
use crm_contract::auth::PasswordChange;
use crm_contract::tokens::{CreateTokenRequest, CreatedToken};
use crm_domain::{FieldErrors, Password, Role, TokenName};
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::field::{
    CheckField, FormAlert, TextField, focus_first_invalid, passes_checks, show_save_error,
};
use crate::components::list_parts::{loading, not_loaded};
use crate::components::modal::confirm;
use crate::components::when::When;
use crate::pages::local_time;
use crate::pages::preferences::{NotificationSection, TimeZoneSection};
use crate::pages::staff::StaffSection;
use crate::reactive::{Fetched, Task};
use crate::state::{use_session, use_toasts};

/// The settings page.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let toasts = use_toasts();
    let reload = RwSignal::new(0u32);
    let tokens = Fetched::new(move || {
        reload.track();
        api::tokens::list()
    });
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let lifetime = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let created = RwSignal::new(None::<CreatedToken>);

    let create = Task::new(move |body: &CreateTokenRequest| {
        let body = body.clone();
        async move {
            match api::tokens::create(&body).await {
                Ok(created_token) => {
                    toasts.success(format!(
                        "Token \u{201c}{}\u{201d} created. Copy it now: it is shown only once.",
                        created_token.token.name
                    ));
                    name.set(String::new());
                    password.set(String::new());
                    created.set(Some(created_token));
                    reload.update(|n| *n += 1);
                }
                Err(ApiError::Invalid(found)) => {
                    errors.set(found);
                    focus_first_invalid("token-form");
                }
                Err(error) => toasts.error(error.message()),
            }
        }
    });
    let revoke = Task::new(move |(id, token_name): &(ApiTokenId, String)| {
        let (id, token_name) = (*id, token_name.clone());
        async move {
            match api::tokens::revoke(id).await {
                Ok(()) => {
                    toasts.success(format!("Token \u{201c}{token_name}\u{201d} revoked."));
                    reload.update(|n| *n += 1);
                }
                Err(error) => toasts.error(error.message()),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if create.pending().get_untracked() {
            return;
        }
        let mut found = FieldErrors::new();
        let parsed = found.check("name", TokenName::parse(&name.get_untracked()));
        if password.get_untracked().is_empty() {
            found.add("current_password", crm_domain::REQUIRED);
        }
        if let (Some(token_name), true) = (parsed, passes_checks(found, errors, "token-form")) {
            create.dispatch(CreateTokenRequest {
                name: token_name.into_inner(),
                current_password: password.get_untracked(),
                expires_in_days: lifetime.get_untracked().parse().ok(),
            });
        }
    };
    let pending = create.pending();
    let session = use_session();
    let is_admin = move || {
        session
            .user
            .with(|user| user.as_ref().is_some_and(|u| u.role == Role::Admin))
    };

    view! {
        <h1 class="h3 mb-3">"Settings"</h1>
        <section aria-labelledby="tokens-heading">
            <h2 class="h5" id="tokens-heading">"API tokens"</h2>
            <p class="text-muted">"Scripts and other programs use a token instead of your password: "
                <code>"Authorization: Bearer <token>"</code>"."</p>
            {move || created.get().map(|token| {
                let secret = token.secret.clone();
                view! {
                    <div class="alert alert-success" role="status" id="new-token">
                        <p class="mb-2">"Your new token. Copy it now: it will not be shown again."</p>
                        <div class="input-group">
                            <input class="form-control font-monospace" readonly aria-label="New token" value=token.secret.clone()/>
                            <button type="button" class="btn btn-outline-secondary" on:click=move |_| {
                                copy_to_clipboard(&secret);
                                toasts.success("Token copied.");
                            }>"Copy"</button>
                        </div>
                    </div>
                }
            })}
            <form id="token-form" class="row g-2 align-items-start mb-3" novalidate on:submit=on_submit>
                <div class="col-sm-4">
                    <TextField label="Token name" name="name" value=name errors=errors
                        help="What the token is for, e.g. \u{201c}invoice import script\u{201d}."/>
                </div>
                <div class="col-sm-3">
                    <LifetimeField value=lifetime errors=errors/>
                </div>
                <div class="col-sm-3">
                    <TextField label="Confirm with your password" name="current_password" scope="token"
                        value=password errors=errors input_type="password"
                        autocomplete="current-password" required=true/>
                </div>
                <div class="col-sm-2 pt-sm-4 mt-sm-2">
                    <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Creating…" } else { "Create token" }}
                    </button>
                </div>
            </form>
            {move || tokens.get().map(|result| match result {
                Ok(list) if list.items.is_empty() => view! { <p class="text-muted">"No tokens."</p> }.into_any(),
                Ok(list) => view! {
                    <ul class="list-group" id="tokens">
                        {list.items.into_iter().map(|token| {
                            let (id, token_name) = (token.id, token.name.clone());
                            view! {
                                <li class="list-group-item d-flex flex-wrap align-items-center gap-2">
                                    <div class="me-auto">
                                        <strong>{token.name.clone()}</strong>" "
                                        <code>{format!("{}…", token.prefix)}</code>
                                        <div class="small text-muted">
                                            {format!("Created {}", local_time(token.created_at))}
                                            {token.last_used_at.map(|t| format!(" · last used {}", local_time(t)))}
                                            {match token.expires_at {
                                                Some(t) => format!(" · expires {}", local_time(t)),
                                                None => " · never expires".to_owned(),
                                            }}
                                        </div>
                                    </div>
                                    <button type="button" class="btn btn-sm btn-outline-danger"
                                        on:click=move |_| {
                                            if confirm(&format!("Revoke the token \u{201c}{token_name}\u{201d}? Programs using it stop working at once.")) {
                                                revoke.dispatch((id, token_name.clone()));
                                            }
                                        }>"Revoke"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(error) => not_loaded(&error),
            }).unwrap_or_else(loading)}
        </section>
        <PasswordSection tokens_changed=reload/>
        <TimeZoneSection/>
        <NotificationSection/>
        <When when=is_admin>
            <StaffSection/>
        </When>
    }
}

/// How long a new token works: never, or a number of days.
#[component]
fn LifetimeField(value: RwSignal<String>, errors: RwSignal<FieldErrors>) -> impl IntoView {
    const FIELD: &str = "expires_in_days";
    let messages =
        move || errors.with(|e| e.get(FIELD).map(<[String]>::to_vec).unwrap_or_default());
    let class = move || {
        if messages().is_empty() {
            "form-select"
        } else {
            "form-select is-invalid"
        }
    };
    let choices = [
        ("", "Never"),
        ("30", "In 30 days"),
        ("90", "In 90 days"),
        ("365", "In 365 days"),
    ];
    view! {
        <div class="mb-3">
            <label for="field-expires_in_days" class="form-label">"Expires"</label>
            <select id="field-expires_in_days" name=FIELD class=class
                aria-describedby="field-expires_in_days-error"
                on:change=move |ev| value.set(event_target_value(&ev))>
                {choices.into_iter().map(|(days, label)| view! {
                    <option value=days selected=move || value.get() == days>{label}</option>
                }).collect_view()}
            </select>
            <div id="field-expires_in_days-error" class="invalid-feedback">
                {move || messages().into_iter().map(|m| view! { <div>{m}</div> }).collect_view()}
            </div>
        </div>
    }
}

/// Changing one's own password; `tokens_changed` is bumped when tokens were revoked with it.
#[component]
fn PasswordSection(tokens_changed: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let revoke_tokens = RwSignal::new(true);
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);
    let save = Task::new(move |body: &PasswordChange| {
        let body = body.clone();
        async move {
            match api::auth::change_password(&body).await {
                Ok(changed) => {
                    current.set(String::new());
                    new.set(String::new());
                    errors.set(FieldErrors::new());
                    toasts.success(match changed.tokens_revoked {
                        0 => "Password changed. Your other sessions are signed out.".to_owned(),
                        1 => "Password changed. Your other sessions are signed out and your API token is revoked.".to_owned(),
                        n => format!("Password changed. Your other sessions are signed out and your {n} API tokens are revoked."),
                    });
                    if changed.tokens_revoked > 0 {
                        tokens_changed.update(|n| *n += 1);
                    }
                }
                Err(error) => show_save_error(error, "password-form", errors, alert, toasts),
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
        if current.get_untracked().is_empty() {
            found.add("current_password", crm_domain::REQUIRED);
        }
        found.check("new_password", Password::parse(&new.get_untracked()));
        if passes_checks(found, errors, "password-form") {
            save.dispatch(PasswordChange {
                current_password: current.get_untracked(),
                new_password: new.get_untracked(),
                revoke_tokens: revoke_tokens.get_untracked(),
            });
        }
    };
    let pending = save.pending();
    view! {
        <section class="mt-5" aria-labelledby="password-heading">
            <h2 class="h5" id="password-heading">"Your password"</h2>
            <form id="password-form" class="row g-2 align-items-start" novalidate on:submit=on_submit>
                <FormAlert message=alert/>
                <div class="col-sm-4">
                    <TextField label="Current password" name="current_password" value=current errors=errors
                        input_type="password" autocomplete="current-password" required=true/>
                </div>
                <div class="col-sm-4">
                    <TextField label="New password" name="new_password" value=new errors=errors
                        input_type="password" autocomplete="new-password" required=true
                        help="At least 10 characters."/>
                </div>
                <div class="col-sm-4 pt-sm-4 mt-sm-2">
                    <CheckField label="Also revoke my API tokens" name="revoke_tokens" value=revoke_tokens/>
                    <button type="submit" class="btn btn-outline-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Changing…" } else { "Change password" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

fn copy_to_clipboard(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}
