//! Sign-in, sign-out, own password, and who am I.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::Utc;
use crm_contract::auth::{
    LoginRequest, PasswordChange, PasswordChanged, SignedIn, UpdateMeRequest, UserResponse,
};
use crm_db::users::User;
use crm_domain::{FieldErrors, REQUIRED, TimeZone};

use crate::auth::{AuthMethod, CurrentUser, cookies, login_limit, password, secrets};
use crate::error::ApiError;
use crate::error::responses::{NotSignedIn, Unavailable, Write};
use crate::extract::JsonBody;
use crate::state::AppState;

/// A user as the API shows one.
pub fn user_response(user: &User) -> UserResponse {
    UserResponse {
        id: user.id,
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role,
        created_at: user.created_at,
        timezone: user.timezone.clone(),
    }
}

/// The signed-in user as the API shows them.
fn current_user_response(user: &CurrentUser) -> UserResponse {
    UserResponse {
        id: user.id,
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role,
        created_at: user.created_at,
        timezone: user.timezone.clone(),
    }
}

/// Signs in with email and password; sets the session and CSRF cookies.
///
/// After the free attempts for one account or from one client, each further attempt must wait
/// a delay that doubles (1 s, 2 s, 4 s… up to 15 min by default); meanwhile the answer is 429
/// with `Retry-After`, even for the right password, which is accepted once the delay is over.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; cookies `crm_session` and `crm_csrf` set", body = SignedIn),
        (status = 400, response = crate::error::responses::Malformed),
        (status = 401, description = "Wrong email or password", body = crm_contract::Problem, content_type = "application/problem+json"),
        (status = 422, response = crate::error::responses::InvalidInput),
        (status = 429, description = "Too many attempts: wait `Retry-After` seconds", body = crm_contract::Problem, content_type = "application/problem+json"),
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

    let user = login_limit::sign_in(&state, &req, &email, body.password).await?;
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
                    user_id: user_id.get(),
                    token_hash: &token_hash,
                    csrf_token_hash: &csrf_hash,
                    expires_at: Utc::now() + ttl,
                    user_agent: user_agent.as_deref(),
                },
            )?;
            Ok(())
        })
        .await?;
    let https = state.config.is_https();
    let secure = cookies::must_be_secure(req, https);
    for cookie in cookies::for_session(&session_secret, &csrf_token, ttl, secure, https) {
        response.cookie(cookie);
    }
    Ok(response.json(SignedIn {
        user: user_response(user),
        csrf_token,
    }))
}

/// Signs out: ends the session on the server at once and clears the cookies.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "Signed out"),
        crate::error::responses::ActOnSelf,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    if let AuthMethod::Session { token_hash, .. } = user.method {
        state
            .db(move |conn| Ok(crm_db::sessions::delete_by_token_hash(conn, &token_hash)?))
            .await?;
    }
    let https = state.config.is_https();
    let secure = cookies::must_be_secure(&req, https);
    let mut response = HttpResponse::NoContent();
    for cookie in cookies::cleared(secure, https) {
        response.cookie(cookie);
    }
    Ok(response.finish())
}

/// Changes the signed-in user's own password. Every other session of theirs ends (a session
/// someone else may have opened with the old password); this one stays. Their API tokens are
/// revoked too unless `revoke_tokens` is `false`.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; other sessions ended, tokens revoked as asked", body = PasswordChanged),
        (status = 429, description = "Too many wrong current passwords: wait `Retry-After` seconds", body = crm_contract::Problem, content_type = "application/problem+json"),
        Write,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/auth/password")]
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<web::Json<PasswordChanged>, ApiError> {
    let mut errors = FieldErrors::new();
    let new = errors.check(
        "new_password",
        crm_domain::Password::parse(&body.new_password),
    );
    check_current_password(&state, &req, &user, &body.current_password, &mut errors).await?;
    let (Some(new), true) = (new, errors.is_empty()) else {
        return Err(errors.into());
    };
    let hash = password::hash_off_thread(new).await?;
    let (id, revoke_tokens) = (user.id, body.revoke_tokens);
    let keep = match user.method {
        AuthMethod::Session { token_hash, .. } => Some(token_hash),
        AuthMethod::Token { .. } => None,
    };
    let ended = state
        .db(move |conn| {
            let own =
                crm_db::users::change_own_password(conn, id, &hash, keep.as_deref(), revoke_tokens);
            Ok(own?)
        })
        .await?;
    tracing::info!(
        user_id = id.get(),
        tokens_revoked = ended.tokens_revoked,
        "password changed"
    );
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(web::Json(PasswordChanged {
        sessions_ended: count(ended.sessions_ended),
        tokens_revoked: count(ended.tokens_revoked),
    }))
}

/// Checks that `password` is the signed-in user's own, adding a `current_password` error to
/// `errors` when it is missing or wrong; counted and delayed like sign-in
/// ([`login_limit::check_current_password`], 429 while waiting). Every check of the current
/// password goes through here.
pub(crate) async fn check_current_password(
    state: &AppState,
    req: &HttpRequest,
    user: &CurrentUser,
    password: &str,
    errors: &mut FieldErrors,
) -> Result<(), ApiError> {
    if password.is_empty() {
        errors.add("current_password", REQUIRED);
        return Ok(());
    }
    match login_limit::check_current_password(state, req, user, password).await {
        Ok(()) => Ok(()),
        Err(ApiError::Invalid(wrong)) => {
            errors.merge(wrong);
            Ok(())
        }
        Err(other) => Err(other),
    }
}

/// The signed-in user.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The signed-in user", body = UserResponse),
        (status = 401, response = NotSignedIn),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/auth/me")]
pub async fn me(user: CurrentUser) -> web::Json<UserResponse> {
    web::Json(current_user_response(&user))
}

/// Changes one's own account: the time zone times are shown in.
#[utoipa::path(
    tag = "auth",
    operation_id = "update_me",
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The signed-in user as they are now", body = UserResponse),
        Write,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[patch("/auth/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: JsonBody<UpdateMeRequest>,
) -> Result<web::Json<UserResponse>, ApiError> {
    let mut errors = FieldErrors::new();
    let zone = body
        .0
        .timezone
        .as_deref()
        .and_then(|name| errors.check("timezone", TimeZone::parse(name)));
    errors.into_result(|| ()).map_err(ApiError::from)?;
    let Some(zone) = zone else {
        return Ok(web::Json(current_user_response(&user)));
    };
    let updated = state
        .db(move |conn| Ok(crm_db::users::set_timezone(conn, user.id, zone.as_str())?))
        .await?;
    Ok(web::Json(user_response(&updated)))
}
