//! A Bootstrap-styled modal dialog, without Bootstrap's JavaScript.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;

/// What Tab can reach in a dialog.
const FOCUSABLE: &str = "button:not([disabled]), input:not([disabled]), textarea:not([disabled]), select:not([disabled]), a[href]";

/// Wraps Tab from the last control to the first, and Shift+Tab from the first to the last.
fn keep_focus_inside(ev: &web_sys::KeyboardEvent) {
    let Ok(Some(dialog)) = document().query_selector(".modal") else {
        return;
    };
    let Ok(controls) = dialog.query_selector_all(FOCUSABLE) else {
        return;
    };
    let item = |i: u32| {
        controls
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
    };
    let (Some(first), Some(last)) = (item(0), item(controls.length().saturating_sub(1))) else {
        return;
    };
    let active = document().active_element();
    let at = |el: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == el.unchecked_ref::<web_sys::Element>())
    };
    let target = if ev.shift_key() && at(&first) {
        last
    } else if !ev.shift_key() && at(&last) {
        first
    } else {
        return;
    };
    ev.prevent_default();
    let _ = target.focus();
}

/// A dialog over the page; Escape or the close button calls `on_close`. Tab keeps the focus
/// inside it, and when it closes the focus returns to whatever opened it.
#[component]
pub fn Modal(
    /// The heading.
    title: String,
    /// Called to close the dialog.
    on_close: Callback<()>,
    /// As wide as the screen allows (for documents such as a PDF preview).
    #[prop(optional)]
    wide: bool,
    children: Children,
) -> impl IntoView {
    let opener = SendWrapper::new(document().active_element());
    on_cleanup(move || {
        if let Some(element) = opener
            .take()
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
    focus_first_control();
    let on_keydown = move |ev: web_sys::KeyboardEvent| match ev.key().as_str() {
        "Escape" => on_close.run(()),
        "Tab" => keep_focus_inside(&ev),
        _ => {}
    };
    view! {
        <div class="modal-backdrop fade show"></div>
        <div class="modal fade show d-block" tabindex="-1" role="dialog" aria-modal="true"
            aria-labelledby="modal-title"
            on:keydown=on_keydown>
            <div class=if wide {
                "modal-dialog modal-dialog-scrollable modal-xl"
            } else {
                "modal-dialog modal-dialog-scrollable"
            }>
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

/// Focuses the open dialog's first input (so keyboard users can type at once), or else its
/// first control, so Escape and Tab work at once.
fn focus_first_control() {
    request_animation_frame(|| {
        let find = |selector: &str| {
            document()
                .query_selector(selector)
                .ok()
                .flatten()
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        };
        let element = find(".modal input, .modal textarea").or_else(|| find(".modal button"));
        if let Some(element) = element {
            let _ = element.focus();
        }
    });
}

/// Asks the browser's own yes/no question; `false` when it can't be asked.
pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}
