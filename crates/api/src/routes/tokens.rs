//! Personal API tokens of the signed-in user.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use crm_db::api_tokens::ApiToken;
use crm_db::audit::{self, NewAuditEvent};
use crm_domain::{ApiTokenId, FieldErrors, TokenName};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{CurrentUser, secrets};
use crate::error::responses::{CsrfRejected, InvalidInput, NotSignedIn, Unavailable};
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::state::AppState;

/// A token as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    #[schema(example = 3)]
    pub id: i64,
    #[schema(example = "Invoice import script")]
    pub name: String,
    /// The secret's first characters, to tell tokens apart.
    #[schema(example = "crm_q8o2pV1c")]
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenResponse {
    fn from(token: ApiToken) -> Self {
        Self {
            id: token.id,
            name: token.name,
            prefix: token.prefix,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
        }
    }
}

/// A new token, with its secret: shown this once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: TokenResponse,
    /// The secret: send as `Authorization: Bearer <token>`.
    #[serde(rename = "token")]
    #[schema(example = "crm_q8o2pV1c7hJ2mX0aYb3Wz4nE5rT6uI7oP8aS9dF0gH1")]
    pub secret: String,
}

/// The user's active tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenResponse>,
}

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Invoice import script"}))]
pub struct CreateTokenRequest {
    /// What the token is for.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

/// Characters of the secret kept visible in lists.
const PREFIX_CHARS: usize = 12;

/// Lists the signed-in user's active API tokens.
#[utoipa::path(
    tag = "tokens",
    responses(
        (status = 200, body = TokenList),
        (status = 401, response = NotSignedIn),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/tokens")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<web::Json<TokenList>, ApiError> {
    let tokens = state
        .db(move |conn| Ok(crm_db::api_tokens::list_active_for_user(conn, user.id)?))
        .await?;
    Ok(web::Json(TokenList {
        items: tokens.into_iter().map(TokenResponse::from).collect(),
    }))
}

/// Creates an API token; the answer holds its secret, shown this once.
#[utoipa::path(
    tag = "tokens",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, body = CreatedToken),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<CreateTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let Some(name) = errors.check("name", TokenName::parse(&body.name)) else {
        return Err(errors.into());
    };
    let secret = secrets::generate_api_token();
    let token_hash = secrets::hash(&secret);
    let prefix: String = secret.chars().take(PREFIX_CHARS).collect();
    let token = state
        .db(move |conn| {
            Ok(conn.transaction(|conn| {
                let token = crm_db::api_tokens::insert(
                    conn,
                    &crm_db::api_tokens::NewApiToken {
                        user_id: user.id.get(),
                        name: name.as_str(),
                        token_hash: &token_hash,
                        prefix: &prefix,
                    },
                )?;
                let details = serde_json::json!({"token_id": token.id, "name": token.name});
                let event =
                    NewAuditEvent::for_user(Some(user.id), user.id, "token.created", details);
                audit::record(conn, &event)?;
                Ok::<_, diesel::result::Error>(token)
            })?)
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedToken {
        token: token.into(),
        secret,
    }))
}

/// Revokes one of the signed-in user's tokens; it stops working at once.
#[utoipa::path(
    tag = "tokens",
    params(("id" = i64, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 404, description = "No such active token of yours", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[delete("/tokens/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = ApiTokenId::new(id.into_inner());
    let revoked = state
        .db(move |conn| {
            Ok(conn.transaction(|conn| {
                let revoked = crm_db::api_tokens::revoke(conn, user.id, id, Utc::now())?;
                if revoked {
                    let details = serde_json::json!({"token_id": id.get()});
                    let event =
                        NewAuditEvent::for_user(Some(user.id), user.id, "token.revoked", details);
                    audit::record(conn, &event)?;
                }
                Ok::<_, diesel::result::Error>(revoked)
            })?)
        })
        .await?;
    if revoked {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}
