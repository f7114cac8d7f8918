//! Personal API tokens.

use chrono::{DateTime, Utc};
use crm_domain::ApiTokenId;
use serde::{Deserialize, Serialize};

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 3))]
    pub id: ApiTokenId,
    #[cfg_attr(feature = "openapi", schema(example = "Invoice import script"))]
    pub name: String,
    /// The secret's first characters, to tell tokens apart.
    #[cfg_attr(feature = "openapi", schema(example = "crm_q8o2pV1c"))]
    pub prefix: String,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When the token was last used (to the minute); `null` if never.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(with = "crate::time::rfc3339::option")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When the token stops working; `null`: never.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(with = "crate::time::rfc3339::option")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new token, with its secret: shown this once and never again.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: TokenResponse,
    /// The secret: send as `Authorization: Bearer <token>`.
    #[serde(rename = "token")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "crm_q8o2pV1c7hJ2mX0aYb3Wz4nE5rT6uI7oP8aS9dF0gH1")
    )]
    pub secret: String,
}

// By hand: serde's derive would buffer the whole body to find the flattened fields.
impl<'de> Deserialize<'de> for CreatedToken {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The token's fields and its secret side by side, as they travel.
        #[derive(Deserialize)]
        struct Flat {
            id: ApiTokenId,
            name: String,
            prefix: String,
            #[serde(with = "crate::time::rfc3339")]
            created_at: DateTime<Utc>,
            #[serde(with = "crate::time::rfc3339::option")]
            last_used_at: Option<DateTime<Utc>>,
            #[serde(with = "crate::time::rfc3339::option")]
            expires_at: Option<DateTime<Utc>>,
            token: String,
        }
        let flat = Flat::deserialize(deserializer)?;
        Ok(Self {
            token: TokenResponse {
                id: flat.id,
                name: flat.name,
                prefix: flat.prefix,
                created_at: flat.created_at,
                last_used_at: flat.last_used_at,
                expires_at: flat.expires_at,
            },
            secret: flat.token,
        })
    }
}

/// The user's active tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenList {
    pub items: Vec<TokenResponse>,
}

/// A token to create.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Invoice import script", "current_password": "correct horse battery", "expires_in_days": 90})))]
pub struct CreateTokenRequest {
    /// What the token is for.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// Your password, asked again: a token acts as you until revoked.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, min_length = 1))]
    pub current_password: String,
    /// Days until the token stops working, 1 to 365; absent or `null`: it never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 365))]
    pub expires_in_days: Option<i64>,
}

impl CreateTokenRequest {
    /// The longest lifetime a token may be given, in days.
    pub const MAX_DAYS: i64 = 365;
}
