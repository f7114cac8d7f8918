//! Staff accounts, managed by admins: list, add, rename, change role, reset a password,
//! disable and enable again. A reset or a disable ends the user's sessions and revokes their
//! API tokens at once, for good.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::Utc;
use crm_contract::activity::ActivityPage;
use crm_contract::users::{NewStaffRequest, StaffPage, StaffResponse, UpdateStaffRequest};
use crm_contract::{ActivityEvent, Page, Problem, UserId};
use crm_db::audit::Trail;
use crm_db::users::{User, UserChanges};
use crm_domain::{EmailAddress, FieldErrors, Password, Role, UserName};
use serde::{Deserialize, Serialize};

use crate::auth::{Admin, AdminOrSelf, AuthMethod, password};
use crate::error::ApiError;
use crate::error::responses::{InvalidInput, NotFound, NotSignedIn, Unavailable, Write, WriteOne};
use crate::extract::JsonBody;
use crate::pagination::{PageParams, Paging};
use crate::routes::activity as trail;
use crate::state::AppState;

/// An account as admins see it.
fn response(user: User) -> StaffResponse {
    StaffResponse {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        created_at: user.created_at,
        disabled_at: user.disabled_at,
    }
}

/// A new account's checked fields, with the password hashed (shared with first-run setup and
/// the command line).
#[derive(Debug)]
pub struct NewAccount {
    name: UserName,
    email: EmailAddress,
    password_hash: String,
}

impl NewAccount {
    /// Checks the fields, recording each problem in `errors`; hashes the password only when
    /// every field (these and the caller's) is fine.
    pub async fn parse(
        name: &str,
        email: &str,
        password: &str,
        mut errors: FieldErrors,
    ) -> Result<Self, ApiError> {
        let name = errors.check("name", UserName::parse(name));
        let email = errors.check("email", EmailAddress::parse(email));
        let password = errors.check("password", Password::parse(password));
        let (Some(name), Some(email), Some(password), true) =
            (name, email, password, errors.is_empty())
        else {
            return Err(errors.into());
        };
        Ok(Self {
            name,
            email,
            password_hash: password::hash_off_thread(password).await?,
        })
    }

    /// The row to insert, with `role`.
    pub fn row(&self, role: Role) -> crm_db::users::NewUser<'_> {
        crm_db::users::NewUser {
            email: self.email.as_str(),
            name: self.name.as_str(),
            password_hash: &self.password_hash,
            role,
        }
    }
}

fn parse_role(errors: &mut FieldErrors, raw: Option<&str>) -> Option<Role> {
    let raw = raw?;
    errors.check(
        "role",
        Role::parse(raw.trim()).map_err(|_| "Must be staff or admin."),
    )
}

/// The checked changes of an account edit, the new password hashed.
async fn account_changes(body: UpdateStaffRequest) -> Result<UserChanges, ApiError> {
    let mut errors = FieldErrors::new();
    let name = body
        .name
        .as_deref()
        .and_then(|n| errors.check("name", UserName::parse(n)));
    let role = parse_role(&mut errors, body.role.as_deref());
    let password = body
        .password
        .as_deref()
        .and_then(|p| errors.check("password", Password::parse(p)));
    errors.into_result(|| ())?;
    let password_hash = match password {
        Some(password) => Some(password::hash_off_thread(password).await?),
        None => None,
    };
    Ok(UserChanges {
        name: name.map(UserName::into_inner),
        role,
        password_hash,
        disabled_at: body.disabled.map(|disabled| disabled.then(Utc::now)),
    })
}

/// Where a page of accounts ends (the opaque `cursor`).
#[derive(Debug, Serialize, Deserialize)]
struct StaffCursor {
    i: UserId,
}

/// Every account, oldest first (admins only).
#[utoipa::path(
    tag = "users",
    operation_id = "list_users",
    extensions(("x-required-role" = json!("admin"))),
    params(PageParams),
    responses(
        (status = 200, description = "A page of accounts", body = Page<StaffResponse>),
        (status = 400, response = crate::error::responses::Malformed),
        (status = 401, response = NotSignedIn),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/users")]
pub async fn list(
    _admin: Admin,
    state: web::Data<AppState>,
    paging: Paging<StaffCursor>,
) -> Result<web::Json<StaffPage>, ApiError> {
    let paging = paging.checked(FieldErrors::new())?;
    let (after, fetch) = (paging.after.as_ref().map(|c| c.i), paging.fetch());
    let (users, total) = state
        .db(move |conn| {
            Ok((
                crm_db::users::list(conn, after, fetch)?,
                crm_db::users::count(conn)?,
            ))
        })
        .await?;
    let position = |u: &User| StaffCursor { i: u.id };
    Ok(web::Json(paging.page(users, total, position, response)))
}

/// Adds an account (admins only).
#[utoipa::path(
    tag = "users",
    operation_id = "create_user",
    extensions(("x-required-role" = json!("admin"))),
    request_body = NewStaffRequest,
    responses((status = 201, description = "Created; `Location` names the account", body = StaffResponse), Write),
    security(("session" = []), ("bearer" = []))
)]
#[post("/users")]
pub async fn create(
    Admin(user): Admin,
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<NewStaffRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let role = parse_role(&mut errors, body.role.as_deref()).unwrap_or(Role::Staff);
    let account = NewAccount::parse(&body.name, &body.email, &body.password, errors).await?;
    let actor = user.id;
    let created = state
        .db(move |conn| {
            crm_db::users::create(conn, Some(actor), &account.row(role)).map_err(|e| {
                if crm_db::is_unique_violation(&e) {
                    ApiError::field("email", "An account with this email exists already.")
                } else {
                    e.into()
                }
            })
        })
        .await?;
    tracing::info!(
        user_id = created.id.get(),
        by = actor.get(),
        "account created"
    );
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", created.id)))
        .json(response(created)))
}

/// Renames, changes the role of, resets the password of, disables or enables an account
/// (admins only). At least one enabled admin always remains. A password reset or a disable
/// signs the account out everywhere and revokes its API tokens (an admin changing their own
/// account keeps the session that asked); enabling it again brings none of them back.
#[utoipa::path(
    tag = "users",
    operation_id = "update_user",
    extensions(("x-required-role" = json!("admin"))),
    params(("id" = i64, Path, description = "User id")),
    request_body = UpdateStaffRequest,
    responses(
        (status = 200, description = "The account as it is now", body = StaffResponse),
        (status = 409, description = "It would leave no enabled admin", body = Problem, content_type = "application/problem+json"),
        WriteOne,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn update(
    Admin(user): Admin,
    state: web::Data<AppState>,
    id: web::Path<UserId>,
    JsonBody(body): JsonBody<UpdateStaffRequest>,
) -> Result<web::Json<StaffResponse>, ApiError> {
    let id = id.into_inner();
    let changes = account_changes(body).await?;
    let actor = user.id;
    let keep = match user.method {
        AuthMethod::Session { token_hash, .. } if id == actor => Some(token_hash),
        _ => None,
    };
    let updated = state
        .db(move |conn| {
            let changed = crm_db::users::change(conn, actor, id, &changes, keep.as_deref());
            Ok(changed?)
        })
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(
                "At least one enabled admin must remain: make someone else an admin first.".into(),
            )
        })?;
    tracing::info!(user_id = id.get(), by = actor.get(), "account changed");
    Ok(web::Json(response(updated)))
}

/// An account's activity, newest first: created, changed (name, role, disabled, password
/// reset), own password changes, API tokens made and revoked. Admins see anyone's; others
/// their own.
#[utoipa::path(
    tag = "users",
    operation_id = "user_activity",
    extensions(("x-required-role" = json!("admin-or-self"))),
    params(("id" = i64, Path, description = "User id"), PageParams),
    responses(
        (status = 200, description = "A page of the account's activity", body = Page<ActivityEvent>),
        (status = 400, response = crate::error::responses::Malformed),
        (status = 401, response = NotSignedIn),
        (status = 403, description = "Another account's, and not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = NotFound),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/users/{id}/activity")]
pub async fn activity(
    _user: AdminOrSelf,
    state: web::Data<AppState>,
    id: web::Path<UserId>,
    paging: trail::ActivityPaging,
) -> Result<web::Json<ActivityPage>, ApiError> {
    let id = id.into_inner();
    trail::page(&state, Trail::User(id), paging, move |conn| {
        crm_db::users::find(conn, id).map(|_| ())
    })
    .await
}
