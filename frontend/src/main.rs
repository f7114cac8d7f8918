//! The Customer Manager web app: a Leptos client-side app served by `crm-api` at `/`.

mod api;
mod components;
mod live;
mod notifications;
mod pages;
mod reactive;
mod state;
mod wall_clock;

use crm_contract::auth::UpdateMeRequest;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use components::nav::Nav;
use components::toasts::ToastHost;
use components::when::When;
use live::Live;
use reactive::effect;
use state::{Session, Toasts};

fn main() {
    leptos::mount::mount_to_body(App);
}

/// The app: checks the session once, then shows the page of the address, or sign-in in its place.
#[component]
fn App() -> impl IntoView {
    let session = Session {
        user: RwSignal::new(None),
        checked: RwSignal::new(false),
    };
    let toasts = Toasts::new();
    let live = Live::new();
    provide_context(session);
    provide_context(toasts);
    provide_context(live);
    api::on_unauthorized(move || {
        if session.user.get_untracked().is_some() {
            session.user.set(None);
            toasts.error("Your session has ended. Sign in again to go on where you were.");
        }
    });
    leptos::task::spawn_local(async move {
        if let Ok(user) = api::auth::me().await {
            session.user.set(Some(user));
        }
        session.checked.set(true);
    });
    follow_the_signed_in_user(session, live);

    view! {
        <ToastHost/>
        <Router>
            <When when=move || session.checked.get()
                fallback=|| view! { <div class="container py-5 text-muted" role="status">"Loading…"</div> }>
                <When when=move || session.user.with(Option::is_some)
                    fallback=|| view! { <pages::sign_in::SignIn/> }>
                    <Nav/>
                    <main class="container pb-5">
                        <Routes fallback=|| view! { <pages::NotFound/> }>
                            <Route path=path!("/") view=pages::customers::CustomersPage/>
                            <Route path=path!("/customers/:id") view=pages::lazy::CustomerPage/>
                            <Route path=path!("/messages") view=pages::lazy::MessagesPage/>
                            <Route path=path!("/reminders") view=pages::lazy::RemindersPage/>
                            <Route path=path!("/settings") view=pages::lazy::SettingsPage/>
                        </Routes>
                    </main>
                </When>
            </When>
        </Router>
    }
}

/// While someone is signed in, live updates flow; and a user without a time zone gets the
/// browser's, so reminder times and "tomorrow 09:00" mean what they see.
fn follow_the_signed_in_user(session: Session, live: Live) {
    let user_id = Memo::new(move |_| session.user.with(|u| u.as_ref().map(|u| u.id)));
    effect(move || match user_id.get() {
        Some(_) => {
            live.connect();
            adopt_browser_zone(session);
        }
        None => live.disconnect(),
    });
}

/// Saves the browser's time zone as the user's when they have none yet.
fn adopt_browser_zone(session: Session) {
    let unset = session
        .user
        .with_untracked(|u| u.as_ref().is_some_and(|u| u.timezone.is_none()));
    let Some(zone) = wall_clock::browser_zone().filter(|_| unset) else {
        return;
    };
    leptos::task::spawn_local(async move {
        let body = UpdateMeRequest {
            timezone: Some(zone),
        };
        if let Ok(user) = api::auth::update_me(&body).await {
            session.user.update(|current| {
                if current.as_ref().is_some_and(|c| c.id == user.id) {
                    *current = Some(user);
                }
            });
        }
    });
}
