//! Staff accounts, as admins manage them.

use chrono::{DateTime, Utc};
use crm_domain::{Role, UserId};
use serde::{Deserialize, Serialize};

use crate::Page;

/// A staff account as admins see it (never its password).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 2))]
    pub id: UserId,
    #[cfg_attr(feature = "openapi", schema(example = "grace@example.com"))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(example = "Grace Hopper"))]
    pub name: String,
    /// `admin` or `staff`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "staff"))]
    pub role: Role,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When the account was disabled; `null` while it can sign in.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(with = "crate::time::rfc3339::option")]
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A page of accounts, oldest first.
pub type StaffPage = Page<StaffResponse>;

/// A new account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Grace Hopper", "email": "grace@example.com", "password": "a long passphrase", "role": "staff"})))]
pub struct NewStaffRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(format = "email", max_length = 254))]
    pub email: String,
    /// At least 10 characters; tell it to the person, who can't change it themselves yet.
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 256))]
    pub password: String,
    /// `staff` (default) or `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(staff|admin)$", example = "staff")
    )]
    pub role: Option<String>,
}

/// Changes to an account; those left out stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"disabled": true})))]
pub struct UpdateStaffRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `staff` or `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(staff|admin)$", example = "admin")
    )]
    pub role: Option<String>,
    /// A new password (at least 10 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `true` disables the account (its sessions and tokens stop working at once); `false`
    /// enables it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}
