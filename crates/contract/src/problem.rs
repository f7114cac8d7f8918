//! RFC 9457 problem details: the body of every error answer.

use crm_domain::FieldErrors;
use serde::{Deserialize, Serialize};

/// An RFC 9457 problem details body (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "type": "/problems/invalid-input",
    "title": "Invalid input",
    "status": 422,
    "detail": "Some fields are not valid; see errors.",
    "errors": {"phone": ["Enter a valid phone number, such as +14155550123."]}
})))]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub detail: Option<String>,
    /// For invalid input: each field's messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<std::collections::BTreeMap<String, Vec<String>>>, nullable = false))]
    pub errors: Option<FieldErrors>,
}
