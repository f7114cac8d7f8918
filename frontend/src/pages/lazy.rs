//! The pages a first visit does not need (a customer's page, messages, reminders, settings),
//! each compiled into a WebAssembly chunk of its own that the browser fetches the first time
//! the page opens. The first screen (sign-in, then the customers) downloads only what it
//! shows; `scripts/frontend.sh` cuts the chunks out of the built module with `wasm-split`.
//!
//! If a chunk cannot be fetched (the connection dropped), the page says so and offers to try
//! again instead of stopping the app.
//!
//! The `wasm_split` attribute writes the glue between the app and a chunk: the chunk's loader
//! imported from the JavaScript that `wasm-split` writes, and the page's entry point exported
//! under a unique name (`unsafe extern "C"`, `#[unsafe(no_mangle)]`). That generated glue is
//! the only unsafe code in the crate, and the reason this module allows it.
#![allow(unsafe_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};

use leptos::prelude::*;
use leptos::reactive::computed::ScopedFuture;
use leptos::wasm_split::{SplitLoaderError, wasm_split};

use crate::components::list_parts::loading;

/// Fetches a page's chunk (once) and makes the page's view.
type PageLoad = fn() -> Pin<Box<dyn Future<Output = Result<AnyView, SplitLoaderError>>>>;

/// Whether a page's chunk has arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Loading,
    Failed,
    Ready,
}

/// Defines a page component that shows `$page` from the chunk `$chunk`, and with `preload`
/// a function that fetches the chunk without showing the page.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $component:ident, $chunk:ident, $page:path $(, preload = $preload:ident)?) => {
        #[wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, fallible $(, preload($preload))?)]
        fn $chunk() -> Result<AnyView, SplitLoaderError> {
            Ok(view! { <$page/> }.into_any())
        }

        $(#[$doc])*
        #[component]
        pub fn $component() -> impl IntoView {
            chunked(|| Box::pin($chunk()))
        }
    };
}

lazy_page!(
    /// One customer with everything about them (`/customers/:id`).
    CustomerPage,
    customer_page,
    super::customer_detail::CustomerDetailPage,
    preload = fetch_customer_page
);
lazy_page!(
    /// Every scheduled and sent message (`/messages`).
    MessagesPage,
    messages_page,
    super::messages::MessagesPage
);
lazy_page!(
    /// The user's reminders (`/reminders`).
    RemindersPage,
    reminders_page,
    super::reminders::RemindersPage
);
lazy_page!(
    /// Preferences, staff and API tokens (`/settings`).
    SettingsPage,
    settings_page,
    super::settings::SettingsPage
);

/// Fetches the customer page's chunk once the browser is idle, so that opening a customer from
/// the list shows the page at once instead of waiting for its code. Called by the list when its
/// first page has arrived: the first screen never waits for it. Only the first call asks; the
/// list's later pages and searches do not. A failed fetch is not kept; opening a customer then
/// fetches the chunk again.
pub fn preload_customer_page() {
    static ASKED: AtomicBool = AtomicBool::new(false);
    if ASKED.swap(true, Ordering::Relaxed) {
        return;
    }
    request_idle_callback(|| {
        leptos::task::spawn_local(async {
            // A failure only means the page fetches its chunk when opened (and can retry then).
            let _ = fetch_customer_page().await;
        });
    });
}

/// Shows "Loading…" until the page's chunk has arrived, then the page; if the chunk could not
/// be fetched, a way to try again.
fn chunked(load: PageLoad) -> AnyView {
    // The page is made after the chunk arrives, under this component's owner: it reads the
    // router's parameters and the app's contexts from there, and goes when this goes.
    let owner = Owner::current().unwrap_or_default();
    let status = RwSignal::new(Chunk::Loading);
    let page = StoredValue::new_local(None::<AnyView>);
    let fetch = move || {
        status.set(Chunk::Loading);
        let made = owner.with(|| ScopedFuture::new_untracked(load()));
        leptos::task::spawn_local(async move {
            match made.await {
                Ok(view) => {
                    page.try_set_value(Some(view));
                    status.try_set(Chunk::Ready);
                }
                Err(_) => {
                    status.try_set(Chunk::Failed);
                }
            }
        });
    };
    fetch();
    (move || match status.get() {
        Chunk::Loading => loading(),
        Chunk::Ready => page
            .try_update_value(Option::take)
            .flatten()
            .unwrap_or_else(|| ().into_any()),
        Chunk::Failed => {
            let retry = fetch.clone();
            view! {
                <div class="alert alert-warning" role="alert">
                    "This page could not be loaded. Check the connection, then "
                    <button type="button" class="btn btn-link p-0 align-baseline"
                        on:click=move |_| retry()>"try again"</button>"."
                </div>
            }
            .into_any()
        }
    })
    .into_any()
}
