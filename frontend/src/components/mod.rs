//! Reusable pieces: form fields, modals, toasts, the navigation bar and its reminder bell.

pub mod activity;
pub mod bell;
pub mod field;
pub mod icons;
pub mod list_parts;
pub mod message_form;
pub mod message_status;
pub mod modal;
pub mod nav;
pub mod remind_me;
pub mod reminder_form;
pub mod reminders;
pub mod toasts;
pub mod when;
