//! The toasts in the corner, announced to screen readers.

use leptos::prelude::*;

use crate::state::{ToastKind, use_toasts};

/// Shows every current toast.
#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toast-container position-fixed bottom-0 end-0 p-3" aria-live="polite" aria-atomic="false">
            <For each=move || toasts.items.get() key=|t| t.id let:toast>
                {
                    let class = match toast.kind {
                        ToastKind::Success => "toast show align-items-center text-bg-success border-0",
                        ToastKind::Error => "toast show align-items-center text-bg-danger border-0",
                        ToastKind::Info => "toast show align-items-center text-bg-primary border-0",
                    };
                    let role = if toast.kind == ToastKind::Error { "alert" } else { "status" };
                    let id = toast.id;
                    view! {
                        <div class=class role=role>
                            <div class="d-flex">
                                <div class="toast-body">{toast.text.clone()}</div>
                                <button type="button" class="btn-close btn-close-white me-2 m-auto"
                                    aria-label="Dismiss" on:click=move |_| toasts.dismiss(id)></button>
                            </div>
                        </div>
                    }
                }
            </For>
        </div>
    }
}
