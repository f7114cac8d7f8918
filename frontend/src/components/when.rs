//! `When`: Leptos's `Show` without its type parameters.

use leptos::prelude::*;

/// Shows `children` while `when` is true, else `fallback` (nothing by default). Like Leptos's
/// `Show`, the children are built again only when the answer changes, not whenever a signal
/// behind it does; unlike `Show`, which is generic over its condition and children, this one
/// is a single function however many places use it (docs/PERFORMANCE.md, "Web app size").
#[component]
pub fn When(
    /// Whether the children show.
    #[prop(into)]
    when: Signal<bool>,
    /// What shows while `when` is false.
    #[prop(optional, into)]
    fallback: ViewFn,
    children: ChildrenFn,
) -> impl IntoView {
    let shown = Memo::new(move |_| when.get());
    move || {
        if shown.get() {
            children()
        } else {
            fallback.run()
        }
    }
}
