//! Request bodies turned into checked domain values: each function reads a contract type and
//! returns the values the `db` crate stores, or every field's error at once.

pub mod customers;
pub mod invoices;
pub mod messages;
pub mod reminders;

use crm_domain::FieldErrors;

/// Parses an optional text field: absent or blank is `None`; otherwise it must parse.
pub fn optional<T, E: std::fmt::Display>(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Option<T> {
    let raw = raw.filter(|r| !r.trim().is_empty())?;
    errors.check(field, parse(raw))
}
