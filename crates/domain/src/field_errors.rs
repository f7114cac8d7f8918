//! Field-by-field validation errors: the `errors` map of a 422 problem and of the web app's forms.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Messages per field, in a stable (sorted) order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a message for `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    /// Keeps the value of a successful parse, or records its error under `field`.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed.map_err(|e| self.add(field, e.to_string())).ok()
    }

    /// Adds every message of `other`.
    pub fn merge(&mut self, other: Self) {
        for (field, messages) in other.0 {
            self.0.entry(field).or_default().extend(messages);
        }
    }

    /// Whether no field has an error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages of one field.
    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.0.get(field).map(Vec::as_slice)
    }

    /// Every field with its messages.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// `Ok(value)` when there are no errors, otherwise the errors.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl<F: Into<String>, M: Into<String>> FromIterator<(F, M)> for FieldErrors {
    fn from_iter<I: IntoIterator<Item = (F, M)>>(iter: I) -> Self {
        let mut errors = Self::new();
        for (field, message) in iter {
            errors.add(field, message);
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_records_the_error_message_under_the_field() {
        let mut errors = FieldErrors::new();
        let ok: Option<u8> = errors.check("a", Ok::<u8, String>(1));
        let bad: Option<u8> = errors.check("b", Err::<u8, _>("nope"));
        assert_eq!(ok, Some(1));
        assert_eq!(bad, None);
        assert_eq!(errors.get("b"), Some(&["nope".to_owned()][..]));
        assert!(errors.get("a").is_none());
    }

    #[test]
    fn serializes_as_a_map_of_field_to_messages() {
        let errors: FieldErrors = [("name", "Too long."), ("name", "Odd."), ("email", "Bad.")]
            .into_iter()
            .collect();
        let json = serde_json::to_value(&errors).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"email": ["Bad."], "name": ["Too long.", "Odd."]})
        );
    }

    #[test]
    fn merge_keeps_both_sides_messages() {
        let mut errors: FieldErrors = [("amount", "Bad."), ("notes", "Long.")]
            .into_iter()
            .collect();
        errors.merge(
            [("amount", "Worse."), ("receipt", "Not a PDF.")]
                .into_iter()
                .collect(),
        );
        assert_eq!(
            errors.get("amount"),
            Some(&["Bad.".to_owned(), "Worse.".to_owned()][..])
        );
        assert_eq!(errors.iter().count(), 3);
    }

    #[test]
    fn into_result_is_ok_only_without_errors() {
        assert_eq!(FieldErrors::new().into_result(|| 3), Ok(3));
        let mut errors = FieldErrors::new();
        errors.add("x", "y");
        assert!(errors.into_result(|| 3).is_err());
    }
}
