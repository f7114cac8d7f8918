//! Reusable pieces: form fields, modals, toasts, the navigation bar.

pub mod activity;
pub mod field;
pub mod modal;
pub mod nav;
pub mod toasts;
