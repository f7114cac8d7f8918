//! Sign-in, sign-out, and who am I.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use crm_db::audit::NewAuditEvent;
use crm_db::users::User;
use crm_domain::{FieldErrors, REQUIRED, Role};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::{AuthMethod, CurrentUser, cookies, password, secrets};
use crate::error::responses::{CsrfRejected, InvalidInput, Malformed, NotSignedIn, Unavailable};
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, client_ip};
use crate::state::AppState;

/// A signed-in user, as the API shows one.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    #[schema(example = 1)]
    pub id: i64,
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
    /// `admin` or `staff`.
    #[schema(value_type = String, example = "admin")]
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl From<&CurrentUser> for UserResponse {
    fn from(user: &CurrentUser) -> Self {
        Self {
            id: user.id.get(),
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role,
            created_at: user.created_at,
        }
    }
}

impl TryFrom<&User> for UserResponse {
    type Error = ApiError;
    fn try_from(user: &User) -> Result<Self, ApiError> {
        Ok(Self {
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            role: Role::parse(&user.role).map_err(ApiError::internal)?,
            created_at: user.created_at,
        })
    }
}

/// The answer to a successful sign-in: the user, and the CSRF token to send in
/// `X-CSRF-Token` with unsafe requests (also set as the readable `crm_csrf` cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    pub user: UserResponse,
    #[schema(example = "q8o2pV1c7hJ2mX0aYb3Wz4nE5rT6uI7oP8aS9dF0gH1")]
    pub csrf_token: String,
}

/// Email and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Signs in with email and password; sets the session and CSRF cookies.
///
/// After too many failures for one account or from one client, answers 429 with
/// `Retry-After` until the oldest failure leaves the 15-minute window.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; cookies `crm_session` and `crm_csrf` set", body = SignedIn),
        (status = 400, response = Malformed),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidInput),
        (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let email = body.email.trim().to_owned();
    if email.is_empty() {
        errors.add("email", REQUIRED);
    }
    if body.password.is_empty() {
        errors.add("password", REQUIRED);
    }
    if email.chars().count() > 254
        || body.password.chars().count() > crm_domain::Password::MAX_CHARS
    {
        return Err(ApiError::BadCredentials);
    }
    errors.into_result(|| ())?;

    let ip = client_ip(&req);
    let limit = state.config.login_limit;
    let (check_email, check_ip) = (email.clone(), ip.clone());
    let user = state
        .db(move |conn| {
            let now = Utc::now();
            let since = now - limit.window;
            let retry_after = |failures: Vec<DateTime<Utc>>, max: usize| {
                // Sign-in opens again when enough failures have left the window.
                (failures.len() >= max).then(|| {
                    let index = failures.len().saturating_sub(max);
                    failures.get(index).map_or(1, |at| {
                        (*at + limit.window - now).num_seconds().max(1) as u64
                    })
                })
            };
            let by_account = retry_after(
                crm_db::login_failures::for_email_since(conn, &check_email, since)?,
                limit.per_account,
            );
            let by_client = retry_after(
                crm_db::login_failures::for_client_since(conn, &check_ip, since)?,
                limit.per_client,
            );
            if let Some(retry_after_secs) = by_account.max(by_client) {
                return Err(ApiError::RateLimited { retry_after_secs });
            }
            Ok(crm_db::users::find_by_email(conn, &check_email)?)
        })
        .await?;

    let password_text = body.password;
    let verified = web::block(move || match user {
        Some(user)
            if user.disabled_at.is_none()
                && password::verify(&password_text, &user.password_hash) =>
        {
            Some(user)
        }
        Some(_) => None,
        None => {
            password::verify_against_nothing(&password_text);
            None
        }
    })
    .await
    .map_err(ApiError::internal)?;

    let Some(user) = verified else {
        state
            .db(move |conn| {
                Ok(crm_db::login_failures::record(
                    conn,
                    &email,
                    &ip,
                    Utc::now(),
                )?)
            })
            .await?;
        return Err(ApiError::BadCredentials);
    };
    state
        .db(move |conn| Ok(crm_db::login_failures::clear_for_email(conn, &email)?))
        .await?;
    start_session(&req, &state, &user, HttpResponse::Ok()).await
}

/// Creates a session for `user` and answers with its cookies and a [`SignedIn`] body.
pub async fn start_session(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    mut response: actix_web::HttpResponseBuilder,
) -> Result<HttpResponse, ApiError> {
    let (session_secret, csrf_token) = (secrets::generate(), secrets::generate());
    let ttl = state.config.session_ttl;
    let (token_hash, csrf_hash) = (secrets::hash(&session_secret), secrets::hash(&csrf_token));
    let user_id = user.id;
    let user_agent: Option<String> = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(300).collect());
    state
        .db(move |conn| {
            crm_db::sessions::insert(
                conn,
                &crm_db::sessions::NewSession {
                    user_id,
                    token_hash: &token_hash,
                    csrf_token_hash: &csrf_hash,
                    expires_at: Utc::now() + ttl,
                    user_agent: user_agent.as_deref(),
                },
            )?;
            Ok(())
        })
        .await?;
    let secure = cookies::must_be_secure(req, state.config.is_https());
    for cookie in cookies::for_session(&session_secret, &csrf_token, ttl, secure) {
        response.cookie(cookie);
    }
    Ok(response.json(SignedIn {
        user: UserResponse::try_from(user)?,
        csrf_token,
    }))
}

/// Signs out: ends the session on the server at once and clears the cookies.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    if let AuthMethod::Session { token_hash } = user.method {
        state
            .db(move |conn| Ok(crm_db::sessions::delete_by_token_hash(conn, &token_hash)?))
            .await?;
    }
    let secure = cookies::must_be_secure(&req, state.config.is_https());
    let mut response = HttpResponse::NoContent();
    for cookie in cookies::cleared(secure) {
        response.cookie(cookie);
    }
    Ok(response.finish())
}

/// A change of one's own password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery", "new_password": "a new long passphrase"}))]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 10 characters.
    #[schema(min_length = 10, max_length = 256)]
    pub new_password: String,
}

/// Changes the signed-in user's own password. Every other session of theirs ends (a session
/// someone else may have opened with the old password); this one stays.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; other sessions ended"),
        (status = 400, response = Malformed),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let new = errors.check(
        "new_password",
        crm_domain::Password::parse(&body.new_password),
    );
    let id = user.id;
    let stored = state
        .db(move |conn| Ok(crm_db::users::find(conn, id)?.password_hash))
        .await?;
    let current = body.current_password.clone();
    let matches = web::block(move || password::verify(&current, &stored))
        .await
        .map_err(ApiError::internal)?;
    if !matches {
        errors.add("current_password", "This is not your current password.");
    }
    let (Some(new), true) = (new, errors.is_empty()) else {
        return Err(errors.into());
    };
    let hash = password::hash_off_thread(new).await?;
    let keep = match user.method {
        AuthMethod::Session { token_hash } => Some(token_hash),
        AuthMethod::Token { .. } => None,
    };
    state
        .db(move |conn| {
            conn.transaction(|conn| {
                crm_db::users::set_password_hash(conn, id, &hash)?;
                crm_db::sessions::delete_others(conn, id, keep.as_deref())?;
                let event =
                    NewAuditEvent::for_user(Some(id), id, "user.password_changed", json!({}));
                crm_db::audit::record(conn, &event)?;
                Ok::<_, diesel::result::Error>(())
            })
            .map_err(ApiError::from)
        })
        .await?;
    tracing::info!(user_id = id.get(), "password changed");
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, body = UserResponse),
        (status = 401, response = NotSignedIn),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/auth/me")]
pub async fn me(user: CurrentUser) -> web::Json<UserResponse> {
    web::Json(UserResponse::from(&user))
}
