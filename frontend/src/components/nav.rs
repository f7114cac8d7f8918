//! The navigation bar: the pages, the reminder bell, "offline" while live updates are cut
//! off, and sign-out.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::components::bell::ReminderBell;
use crate::components::when::When;
use crate::live::use_live;
use crate::reactive::Task;
use crate::state::{use_session, use_toasts};

/// Links to the pages, the user's name and sign-out.
#[component]
pub fn Nav() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let live = use_live();
    let sign_out = Task::new(move |_: &()| async move {
        match api::auth::logout().await {
            Ok(()) | Err(api::ApiError::Unauthorized) => {
                session.user.set(None);
                toasts.success("You are signed out.");
            }
            Err(error) => toasts.error(error.message()),
        }
    });
    view! {
        <nav class="navbar navbar-expand navbar-dark bg-dark mb-4">
            <div class="container flex-wrap gap-2">
                <A href="/" attr:class="navbar-brand me-2">"Customer Manager"</A>
                <ul class="navbar-nav flex-row flex-wrap column-gap-3 me-auto">
                    <li class="nav-item"><A href="/" attr:class="nav-link">"Customers"</A></li>
                    <li class="nav-item"><A href="/messages" attr:class="nav-link">"Messages"</A></li>
                    <li class="nav-item"><A href="/reminders" attr:class="nav-link">"Reminders"</A></li>
                    <li class="nav-item"><A href="/settings" attr:class="nav-link">"Settings"</A></li>
                </ul>
                <When when=move || !live.online.get()>
                    <span class="badge bg-warning text-dark" id="live-offline" role="status"
                        title="Live updates are cut off; reconnecting…">"offline"</span>
                </When>
                <ReminderBell/>
                <span class="navbar-text me-2 d-none d-md-inline">
                    {move || session.user.get().map(|u| u.name)}
                </span>
                <button type="button" class="btn btn-outline-light btn-sm"
                    on:click=move |_| { sign_out.dispatch(()); }>"Sign out"</button>
            </div>
        </nav>
    }
}
