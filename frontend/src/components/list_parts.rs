//! The parts every list of the app shares: what shows before its data arrives and when it
//! cannot load, and under a list that comes in pages, how much of it is shown and "Show
//! more".

use leptos::prelude::*;

use crate::api::ApiError;
use crate::reactive::Task;

/// "Loading…" in the place of a section's data.
pub fn loading() -> AnyView {
    view! { <p class="text-muted" role="status">"Loading…"</p> }.into_any()
}

/// Why a section's data could not be loaded, in its place.
pub fn not_loaded(error: &ApiError) -> AnyView {
    view! { <p class="text-muted mb-0">{error.message()}</p> }.into_any()
}

/// "Show more" while `next` has the cursor of a further page; dispatches `more` with it.
#[component]
pub fn ShowMore(
    /// The cursor of the next page, if there is one.
    #[prop(into)]
    next: Signal<Option<String>>,
    /// Fetches the page after a cursor and adds it to the list.
    more: Task<String>,
) -> impl IntoView {
    move || {
        next.get().map(|cursor| {
            view! {
                <button type="button" class="btn btn-sm btn-outline-secondary"
                    disabled=move || more.pending().get()
                    on:click=move |_| more.dispatch(cursor.clone())>"Show more"</button>
            }
        })
    }
}

/// Under a list of timed items that comes in pages: how many of how many are shown, and
/// "Show more".
#[component]
pub fn ListFooter(
    shown: usize,
    total: i64,
    #[prop(into)] next: Signal<Option<String>>,
    more: Task<String>,
) -> impl IntoView {
    view! {
        <div class="d-flex flex-wrap align-items-center gap-2">
            <p class="small text-muted me-auto mb-0">{format!("{shown} of {total} shown. Times are in your time zone.")}</p>
            <ShowMore next=next more=more/>
        </div>
    }
}
