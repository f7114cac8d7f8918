//! The Customer Manager web app: a Leptos client-side app served by `crm-api` at `/`.

mod api;
mod components;
mod pages;
mod state;
mod wall_clock;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use components::nav::Nav;
use components::toasts::ToastHost;
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
    provide_context(session);
    provide_context(toasts);
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

    view! {
        <ToastHost/>
        <Router>
            <Show when=move || session.checked.get()
                fallback=|| view! { <div class="container py-5 text-muted" role="status">"Loading…"</div> }>
                <Show when=move || session.user.with(Option::is_some)
                    fallback=|| view! { <pages::sign_in::SignIn/> }>
                    <Nav/>
                    <main class="container pb-5">
                        <Routes fallback=|| view! { <pages::NotFound/> }>
                            <Route path=path!("/") view=pages::customers::CustomersPage/>
                            <Route path=path!("/customers/:id") view=pages::customer_detail::CustomerDetailPage/>
                            <Route path=path!("/messages") view=pages::messages::MessagesPage/>
                            <Route path=path!("/settings") view=pages::settings::SettingsPage/>
                        </Routes>
                    </main>
                </Show>
            </Show>
        </Router>
    }
}
