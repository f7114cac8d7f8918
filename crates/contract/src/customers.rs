//! Customers.

use chrono::{DateTime, Utc};
use crm_domain::CustomerId;
use serde::{Deserialize, Serialize};

use crate::Page;

/// A customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 42))]
    pub id: CustomerId,
    #[cfg_attr(feature = "openapi", schema(example = "Ada Lovelace"))]
    pub name: String,
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, example = "ada@example.com")
    )]
    pub email: Option<String>,
    /// E.164.
    #[cfg_attr(feature = "openapi", schema(required = true, example = "+14155552671"))]
    pub phone: Option<String>,
    /// E.164.
    #[cfg_attr(feature = "openapi", schema(required = true, example = "+14155552671"))]
    pub whatsapp: Option<String>,
    /// IANA time zone.
    #[cfg_attr(feature = "openapi", schema(example = "America/Los_Angeles"))]
    pub timezone: String,
    pub notes: String,
    pub sms_opt_out: bool,
    pub whatsapp_opt_out: bool,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// Set while the customer is archived.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(with = "crate::time::rfc3339::option")]
    pub archived_at: Option<DateTime<Utc>>,
}

/// A page of customers, ordered by name then id.
pub type CustomerPage = Page<CustomerResponse>;

/// A new customer. Only `name` is required; phone numbers may be written in national format
/// (read in the server's default region) and are stored in E.164.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "name": "Ada Lovelace", "email": "ada@example.com", "phone": "(415) 555-2671",
    "timezone": "America/Los_Angeles", "notes": "Prefers mornings."
})))]
pub struct CreateCustomerRequest {
    /// 1 to 200 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<String>,
    /// IANA name; `UTC` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// At most 5000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 5000))]
    pub notes: Option<String>,
    #[serde(default)]
    pub sms_opt_out: bool,
    #[serde(default)]
    pub whatsapp_opt_out: bool,
}

/// Changes to a customer: fields left out stay as they are; `null` (or `""`) clears
/// `email`, `phone`, `whatsapp` and `notes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"phone": "+44 20 7946 0958", "email": null})))]
pub struct UpdateCustomerRequest {
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    /// May be left out, but not `null`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub name: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub email: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub phone: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub whatsapp: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    /// May be left out, but not `null`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub timezone: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub notes: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_opt_out: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_opt_out: Option<bool>,
}

/// Deserializes an optional field that may also be `null`: absent -> `None`,
/// `null` -> `Some(None)`, a value -> `Some(Some(value))`. For PATCH bodies.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Deserialize::deserialize(deserializer).map(Some)
}

/// Which customers a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchivedFilter {
    /// Active customers only (the default).
    #[default]
    False,
    /// Archived customers only.
    True,
    /// Both.
    All,
}

impl ArchivedFilter {
    /// The query-string spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::False => "false",
            Self::True => "true",
            Self::All => "all",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_sends_only_what_changes_and_null_to_clear() -> Result<(), serde_json::Error> {
        let update = UpdateCustomerRequest {
            email: Some(None),
            phone: Some(Some("+14155552671".into())),
            ..UpdateCustomerRequest::default()
        };
        let json = serde_json::to_value(&update)?;
        assert_eq!(
            json,
            serde_json::json!({"email": null, "phone": "+14155552671"})
        );
        let back: UpdateCustomerRequest = serde_json::from_value(json)?;
        assert_eq!(back, update);
        Ok(())
    }
}
