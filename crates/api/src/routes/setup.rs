//! First-run setup: create the first admin while no user exists; when the server has a
//! `SETUP_TOKEN`, only someone who knows it may.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use crm_contract::Problem;
use crm_contract::auth::{SetupRequest, SetupStatus, SignedIn};
use crm_domain::{FieldErrors, Role};
use secrecy::ExposeSecret;

use crate::error::ApiError;
use crate::error::responses::{InvalidInput, Malformed, Unavailable};
use crate::extract::JsonBody;
use crate::routes::auth::start_session;
use crate::routes::users::NewAccount;
use crate::state::AppState;

/// Tells whether first-run setup is needed (no user exists yet).
#[utoipa::path(
    tag = "setup",
    operation_id = "setup_status",
    responses(
        (status = 200, description = "Whether setup is needed", body = SetupStatus),
        (status = 503, response = Unavailable),
    )
)]
#[get("/setup")]
pub async fn status(state: web::Data<AppState>) -> Result<web::Json<SetupStatus>, ApiError> {
    let any = state.db(|conn| Ok(crm_db::users::any_exist(conn)?)).await?;
    Ok(web::Json(SetupStatus {
        needed: !any,
        token_required: state.config.setup_token.is_some(),
    }))
}

/// The header that may carry the setup token (instead of the body's `setup_token`).
pub const SETUP_TOKEN_HEADER: &str = "X-Setup-Token";

/// Creates the first admin and signs them in. Works only while no user exists, and with the
/// server's `SETUP_TOKEN` (in `X-Setup-Token` or `setup_token`) when it has one.
#[utoipa::path(
    tag = "setup",
    operation_id = "create_first_admin",
    request_body = SetupRequest,
    responses(
        (status = 201, description = "Admin created and signed in", body = SignedIn),
        (status = 400, response = Malformed),
        (status = 403, description = "The server has a `SETUP_TOKEN` and it was missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Setup was already done", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    params(("X-Setup-Token" = Option<String>, Header, description = "The server's `SETUP_TOKEN`, when it has one"))
)]
#[post("/setup")]
pub async fn create_first_admin(
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<SetupRequest>,
) -> Result<HttpResponse, ApiError> {
    check_setup_token(&state, &req, body.setup_token.as_deref())?;
    let account =
        NewAccount::parse(&body.name, &body.email, &body.password, FieldErrors::new()).await?;
    let user = state
        .db(move |conn| {
            let new = account.row(Role::Admin);
            Ok(crm_db::users::insert_first(conn, &new)?)
        })
        .await?
        .ok_or_else(|| {
            ApiError::Conflict("Setup is done: an account exists already. Sign in instead.".into())
        })?;
    tracing::info!(user_id = user.id.get(), "first admin created");
    start_session(&req, &state, &user, HttpResponse::Created()).await
}

/// 403 unless the server has no `SETUP_TOKEN` or the request presents it (header or body).
fn check_setup_token(
    state: &AppState,
    req: &HttpRequest,
    in_body: Option<&str>,
) -> Result<(), ApiError> {
    let Some(expected) = &state.config.setup_token else {
        return Ok(());
    };
    let presented = req
        .headers()
        .get(SETUP_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .or(in_body)
        .map(str::trim)
        .unwrap_or_default();
    let expected = crate::auth::secrets::hash(expected.expose_secret().trim());
    if presented.is_empty() || !crate::auth::secrets::matches(presented, &expected) {
        return Err(ApiError::Forbidden(
            "This server needs its setup token (SETUP_TOKEN) to create the first admin.".into(),
        ));
    }
    Ok(())
}
