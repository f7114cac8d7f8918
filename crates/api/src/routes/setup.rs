//! First-run setup: create the first admin while no user exists.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use crm_contract::Problem;
use crm_contract::auth::{SetupRequest, SetupStatus, SignedIn};
use crm_domain::{FieldErrors, Role};

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
    Ok(web::Json(SetupStatus { needed: !any }))
}

/// Creates the first admin and signs them in. Works only while no user exists.
#[utoipa::path(
    tag = "setup",
    operation_id = "create_first_admin",
    request_body = SetupRequest,
    responses(
        (status = 201, description = "Admin created and signed in", body = SignedIn),
        (status = 400, response = Malformed),
        (status = 409, description = "Setup was already done", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    )
)]
#[post("/setup")]
pub async fn create_first_admin(
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<SetupRequest>,
) -> Result<HttpResponse, ApiError> {
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
