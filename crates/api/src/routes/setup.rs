//! First-run setup: create the first admin while no user exists.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use crm_db::audit;
use crm_domain::{FieldErrors, Role};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::responses::{InvalidInput, Malformed, Unavailable};
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::routes::auth::{SignedIn, start_session};
use crate::routes::users::{NewAccount, created_event};
use crate::state::AppState;

/// Whether first-run setup is still needed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupStatus {
    /// `true` while no user exists.
    pub needed: bool,
}

/// The first admin.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ada Lovelace", "email": "ada@example.com", "password": "correct horse battery"}))]
pub struct SetupRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(format = "email", max_length = 254)]
    pub email: String,
    /// At least 10 characters.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
}

/// Tells whether first-run setup is needed (no user exists yet).
#[utoipa::path(
    tag = "setup",
    responses(
        (status = 200, body = SetupStatus),
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
            Ok(conn.transaction(|conn| {
                let created = crm_db::users::insert_first(conn, &new)?;
                if let Some(user) = &created {
                    audit::record(conn, &created_event(Some(user.user_id()), user))?;
                }
                Ok::<_, diesel::result::Error>(created)
            })?)
        })
        .await?
        .ok_or_else(|| {
            ApiError::Conflict("Setup is done: an account exists already. Sign in instead.".into())
        })?;
    tracing::info!(user_id = user.id, "first admin created");
    start_session(&req, &state, &user, HttpResponse::Created()).await
}
