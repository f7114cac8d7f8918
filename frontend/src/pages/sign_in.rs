//! Sign-in, or "Create the first admin" on an empty database.

use crm_contract::auth::{LoginRequest, SetupRequest, SetupStatus, SignedIn};
use crm_domain::{EmailAddress, FieldErrors, Password, REQUIRED, UserName};
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::field::{FormAlert, TextField, focus_first_invalid};
use crate::reactive::{Fetched, Task};
use crate::state::{Session, Toasts, use_session, use_toasts};

/// Shows the setup form while no user exists, else the sign-in form.
#[component]
pub fn SignIn() -> impl IntoView {
    let setup = Fetched::new(api::setup::status);
    view! {
        <main class="container py-5" style="max-width: 28rem">
            <h1 class="h3 mb-4 text-center">"Customer Manager"</h1>
            {move || setup.get().map(|status| match status {
                Ok(SetupStatus { needed: true, token_required }) => {
                    view! { <SetupForm token_required/> }.into_any()
                }
                Ok(_) => view! { <LoginForm/> }.into_any(),
                Err(error) => view! {
                    <div class="alert alert-danger" role="alert">{error.message()}</div>
                    <LoginForm/>
                }.into_any(),
            }).unwrap_or_else(|| view! { <p role="status">"Loading…"</p> }.into_any())}
        </main>
    }
}

/// Where a sign-in form shows what went wrong.
#[derive(Clone, Copy)]
struct SignInForm {
    id: &'static str,
    errors: RwSignal<FieldErrors>,
    alert: RwSignal<Option<String>>,
}

impl SignInForm {
    /// Takes the answer to the form: on success the user is signed in, else the errors are
    /// shown.
    fn answered(
        self,
        answer: Result<SignedIn, ApiError>,
        session: Session,
        toasts: Toasts,
        welcome: impl Fn(&str) -> String,
    ) {
        match answer {
            Ok(signed_in) => {
                toasts.success(welcome(&signed_in.user.name));
                session.user.set(Some(signed_in.user));
            }
            Err(ApiError::Invalid(field_errors)) => {
                self.errors.set(field_errors);
                focus_first_invalid(self.id);
            }
            Err(error) => {
                self.alert.set(Some(error.message()));
                toasts.error(error.message());
            }
        }
    }
}

#[component]
fn LoginForm() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);

    let submit = Task::new(move |_: &()| {
        let body = LoginRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        let form = SignInForm {
            id: "login-form",
            errors,
            alert,
        };
        async move {
            let answer = api::auth::login(&body).await;
            form.answered(answer, session, toasts, |name| format!("Welcome, {name}."))
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        alert.set(None);
        let mut found = FieldErrors::new();
        if email.get_untracked().trim().is_empty() {
            found.add("email", REQUIRED);
        }
        if password.get_untracked().is_empty() {
            found.add("password", REQUIRED);
        }
        let ok = found.is_empty();
        errors.set(found);
        if ok {
            submit.dispatch(());
        } else {
            focus_first_invalid("login-form");
        }
    };
    let pending = submit.pending();
    view! {
        <form id="login-form" class="card card-body shadow-sm" novalidate on:submit=on_submit>
            <h2 class="h5 mb-3">"Sign in"</h2>
            <FormAlert message=alert/>
            <TextField label="Email" name="email" value=email errors=errors input_type="email" autocomplete="username" required=true/>
            <TextField label="Password" name="password" value=password errors=errors input_type="password" autocomplete="current-password" required=true/>
            <button type="submit" class="btn btn-primary w-100" disabled=move || pending.get()>
                {move || if pending.get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}

/// The first admin's form; with `token_required`, it asks for the server's `SETUP_TOKEN` too.
#[component]
fn SetupForm(token_required: bool) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let setup_token = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);

    let submit = Task::new(move |_: &()| {
        let body = SetupRequest {
            name: name.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
            setup_token: token_required.then(|| setup_token.get_untracked().trim().to_owned()),
        };
        let form = SignInForm {
            id: "setup-form",
            errors,
            alert,
        };
        async move {
            let answer = api::setup::create_admin(&body).await;
            let welcome = |name: &str| format!("Welcome, {name}. Your admin account is ready.");
            form.answered(answer, session, toasts, welcome)
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        alert.set(None);
        let mut found = FieldErrors::new();
        if token_required && setup_token.get_untracked().trim().is_empty() {
            found.add("setup_token", REQUIRED);
        }
        found.check("name", UserName::parse(&name.get_untracked()));
        found.check("email", EmailAddress::parse(&email.get_untracked()));
        found.check("password", Password::parse(&password.get_untracked()));
        let ok = found.is_empty();
        errors.set(found);
        if ok {
            submit.dispatch(());
        } else {
            focus_first_invalid("setup-form");
        }
    };
    let pending = submit.pending();
    view! {
        <form id="setup-form" class="card card-body shadow-sm" novalidate on:submit=on_submit>
            <h2 class="h5">"Create the first admin"</h2>
            <p class="text-muted small">"No account exists yet. The first one manages the others."</p>
            <FormAlert message=alert/>
            {token_required.then(|| view! {
                <TextField label="Setup token" name="setup_token" value=setup_token errors=errors
                    input_type="password" autocomplete="off"
                    help="The SETUP_TOKEN this server was started with." required=true/>
            })}
            <TextField label="Your name" name="name" value=name errors=errors autocomplete="name" required=true/>
            <TextField label="Email" name="email" value=email errors=errors input_type="email" autocomplete="username" required=true/>
            <TextField label="Password" name="password" value=password errors=errors input_type="password"
                autocomplete="new-password" help="At least 10 characters." required=true/>
            <button type="submit" class="btn btn-primary w-100" disabled=move || pending.get()>
                {move || if pending.get() { "Creating…" } else { "Create admin and sign in" }}
            </button>
        </form>
    }
}
