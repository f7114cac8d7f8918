//! A Bootstrap-styled modal dialog, without Bootstrap's JavaScript.

use leptos::prelude::*;

/// A dialog over the page; Escape or the close button calls `on_close`.
#[component]
pub fn Modal(
    /// The heading.
    title: String,
    /// Called to close the dialog.
    on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="modal-backdrop fade show"></div>
        <div class="modal fade show d-block" tabindex="-1" role="dialog" aria-modal="true"
            aria-labelledby="modal-title"
            on:keydown=move |ev| if ev.key() == "Escape" { on_close.run(()) }>
            <div class="modal-dialog modal-dialog-scrollable">
                <div class="modal-content">
                    <div class="modal-header">
                        <h2 class="modal-title fs-5" id="modal-title">{title}</h2>
                        <button type="button" class="btn-close" aria-label="Close"
                            on:click=move |_| on_close.run(())></button>
                    </div>
                    <div class="modal-body">{children()}</div>
                </div>
            </div>
        </div>
    }
}

/// Focuses the first input of the open dialog, so keyboard users can type at once.
pub fn focus_first_input() {
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        let element = document()
            .query_selector(".modal input, .modal textarea")
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(element) = element {
            let _ = element.focus();
        }
    });
}
