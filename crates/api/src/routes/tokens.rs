//! Personal API tokens: list, create (the secret is shown once), revoke.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, TimeDelta, Utc};
use crm_contract::ApiTokenId;
use crm_contract::tokens::{CreateTokenRequest, CreatedToken, TokenList, TokenResponse};
use crm_db::api_tokens::{ApiToken, NewApiToken};
use crm_domain::{FieldErrors, TokenName};

use crate::auth::{CurrentUser, secrets};
use crate::error::ApiError;
use crate::error::responses::{ActOnOne, NotSignedIn, Unavailable, Write};
use crate::extract::JsonBody;
use crate::routes::auth::check_current_password;
use crate::state::AppState;

/// Characters of the secret kept visible in lists.
const PREFIX_CHARS: usize = 12;

/// A token as the API lists it: never its secret.
fn response(token: ApiToken) -> TokenResponse {
    TokenResponse {
        id: token.id,
        name: token.name,
        prefix: token.prefix,
        created_at: token.created_at,
        last_used_at: token.last_used_at,
        expires_at: token.expires_at,
    }
}

/// When a token made now for `days` expires: 1 to 365 days, or never (`None`).
fn expiry(
    errors: &mut FieldErrors,
    days: Option<i64>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let days = days?;
    if (1..=CreateTokenRequest::MAX_DAYS).contains(&days) {
        Some(now + TimeDelta::days(days))
    } else {
        errors.add(
            "expires_in_days",
            format!(
                "Must be between 1 and {} days, or left out for a token that never expires.",
                CreateTokenRequest::MAX_DAYS
            ),
        );
        None
    }
}

/// Lists the signed-in user's working API tokens (neither revoked nor expired).
#[utoipa::path(
    tag = "tokens",
    operation_id = "list_tokens",
    responses(
        (status = 200, description = "Your active tokens, newest first", body = TokenList),
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
        .db(move |conn| {
            Ok(crm_db::api_tokens::list_active_for_user(
                conn,
                user.id,
                Utc::now(),
            )?)
        })
        .await?;
    Ok(web::Json(TokenList {
        items: tokens.into_iter().map(response).collect(),
    }))
}

/// Creates an API token, optionally expiring; the answer holds its secret, shown this once.
///
/// Asks for the current password again (422 on `current_password` when missing or wrong):
/// a token acts as its owner until it is revoked or expires.
#[utoipa::path(
    tag = "tokens",
    operation_id = "create_token",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "Created; `token` is the secret, shown this once", body = CreatedToken),
        (status = 429, description = "Too many wrong current passwords: wait `Retry-After` seconds", body = crm_contract::Problem, content_type = "application/problem+json"),
        Write,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: CurrentUser,
    JsonBody(body): JsonBody<CreateTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let name = errors.check("name", TokenName::parse(&body.name));
    let expires_at = expiry(&mut errors, body.expires_in_days, Utc::now());
    check_current_password(&state, &req, &user, &body.current_password, &mut errors).await?;
    let (Some(name), true) = (name, errors.is_empty()) else {
        return Err(errors.into());
    };
    let secret = secrets::generate_api_token();
    let token_hash = secrets::hash(&secret);
    let prefix: String = secret.chars().take(PREFIX_CHARS).collect();
    let token = state
        .db(move |conn| {
            let new = NewApiToken {
                user_id: user.id,
                name: name.as_str(),
                token_hash: &token_hash,
                prefix: &prefix,
                expires_at,
            };
            Ok(crm_db::api_tokens::create(conn, &new)?)
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedToken {
        token: response(token),
        secret,
    }))
}

/// Revokes one of the signed-in user's tokens; it stops working at once.
#[utoipa::path(
    tag = "tokens",
    operation_id = "revoke_token",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), ActOnOne),
    security(("session" = []), ("bearer" = []))
)]
#[delete("/tokens/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<ApiTokenId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let revoked = state
        .db(move |conn| Ok(crm_db::api_tokens::revoke(conn, user.id, id, Utc::now())?))
        .await?;
    if revoked {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}
