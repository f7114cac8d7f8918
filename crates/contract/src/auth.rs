//! Sign-in, the signed-in user, first-run setup and one's own password.

use chrono::{DateTime, Utc};
use crm_domain::{Role, UserId};
use serde::{Deserialize, Serialize};

/// A signed-in user, as the API shows one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 1))]
    pub id: UserId,
    #[cfg_attr(feature = "openapi", schema(example = "ada@example.com"))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(example = "Ada Lovelace"))]
    pub name: String,
    /// `admin` or `staff`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "admin"))]
    pub role: Role,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// The IANA time zone the user's times are shown in and "tomorrow 09:00" means; `null`
    /// until set (UTC meanwhile; the web app sets the browser's at first sign-in).
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, example = "Europe/London")
    )]
    #[serde(default)]
    pub timezone: Option<String>,
}

/// Changes to one's own account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"timezone": "Europe/London"})))]
pub struct UpdateMeRequest {
    /// An IANA time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// The answer to a successful sign-in: the user, and the CSRF token to send in
/// `X-CSRF-Token` with unsafe requests (also set as the readable `crm_csrf` cookie).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedIn {
    pub user: UserResponse,
    #[cfg_attr(
        feature = "openapi",
        schema(example = "q8o2pV1c7hJ2mX0aYb3Wz4nE5rT6uI7oP8aS9dF0gH1")
    )]
    pub csrf_token: String,
}

/// Email and password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"})))]
pub struct LoginRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub password: String,
}

/// A change of one's own password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"current_password": "correct horse battery", "new_password": "a new long passphrase", "revoke_tokens": true})))]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 10 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 256))]
    pub new_password: String,
    /// Also revoke all your API tokens (default `true`): scripts need new ones.
    #[serde(default = "yes")]
    #[cfg_attr(feature = "openapi", schema(default = true))]
    pub revoke_tokens: bool,
}

fn yes() -> bool {
    true
}

/// What a change of one's own password ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"sessions_ended": 1, "tokens_revoked": 2})))]
pub struct PasswordChanged {
    /// Your other sessions, signed out (the one that asked stays).
    pub sessions_ended: u32,
    /// Your API tokens revoked (0 when `revoke_tokens` was `false`).
    pub tokens_revoked: u32,
}

/// Whether first-run setup is still needed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetupStatus {
    /// `true` while no user exists.
    pub needed: bool,
    /// `true` when the server was started with `SETUP_TOKEN`: setup must present it.
    #[serde(default)]
    pub token_required: bool,
}

/// The first admin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Ada Lovelace", "email": "ada@example.com", "password": "correct horse battery"})))]
pub struct SetupRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(format = "email", max_length = 254))]
    pub email: String,
    /// At least 10 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 256))]
    pub password: String,
    /// The server's `SETUP_TOKEN`, when it has one (or send it as `X-Setup-Token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_token: Option<String>,
}
