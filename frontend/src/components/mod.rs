//! Reusable pieces: form fields, modals, toasts, the navigation bar.

pub mod activity;
pub mod field;
pub mod message_form;
pub mod message_status;
pub mod modal;
pub mod nav;
pub mod toasts;
