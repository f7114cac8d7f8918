//! Staff accounts, managed by admins: list, add, rename, change role, reset a password,
//! disable (which ends the user's sessions and tokens at once) and enable again.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use crm_db::audit::{self, NewAuditEvent, Trail};
use crm_db::users::{User, UserChanges};
use crm_domain::{EmailAddress, FieldErrors, Password, Role, UserId, UserName};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{CurrentUser, password};
use crate::error::responses::{
    CsrfRejected, InvalidInput, Malformed, NotFound, NotSignedIn, Unavailable,
};
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::pagination::{PageParams, parse_cursor, parse_limit, split_page};
use crate::routes::activity::{self as trail, ActivityPage};
use crate::state::AppState;

/// A staff account as admins see it (never its password).
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffResponse {
    #[schema(example = 2)]
    pub id: i64,
    #[schema(example = "grace@example.com")]
    pub email: String,
    #[schema(example = "Grace Hopper")]
    pub name: String,
    /// `admin` or `staff`.
    #[schema(example = "staff")]
    pub role: String,
    pub created_at: DateTime<Utc>,
    /// When the account was disabled; `null` while it can sign in.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<User> for StaffResponse {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
            created_at: user.created_at,
            disabled_at: user.disabled_at,
        }
    }
}

/// A page of accounts, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffPage {
    pub items: Vec<StaffResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many accounts there are.
    pub total: i64,
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Grace Hopper", "email": "grace@example.com", "password": "a long passphrase", "role": "staff"}))]
pub struct NewStaffRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(format = "email", max_length = 254)]
    pub email: String,
    /// At least 10 characters; tell it to the person, who can't change it themselves yet.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
    /// `staff` (default) or `admin`.
    #[serde(default)]
    pub role: Option<String>,
}

/// Changes to an account; those left out stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"disabled": true}))]
pub struct UpdateStaffRequest {
    #[serde(default)]
    pub name: Option<String>,
    /// `staff` or `admin`.
    #[serde(default)]
    pub role: Option<String>,
    /// A new password (at least 10 characters).
    #[serde(default)]
    pub password: Option<String>,
    /// `true` disables the account (its sessions and tokens stop working at once); `false`
    /// enables it again.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// A new account's checked fields, with the password hashed (shared with first-run setup).
pub(crate) struct NewAccount {
    name: UserName,
    email: EmailAddress,
    password_hash: String,
}

impl NewAccount {
    /// Checks the fields, recording each problem in `errors`; hashes the password only when
    /// every field (these and the caller's) is fine.
    pub(crate) async fn parse(
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
    pub(crate) fn row(&self, role: Role) -> crm_db::users::NewUser<'_> {
        crm_db::users::NewUser {
            email: self.email.as_str(),
            name: self.name.as_str(),
            password_hash: &self.password_hash,
            role: role.as_str(),
        }
    }
}

/// The activity event of a new account.
pub fn created_event(actor: Option<UserId>, user: &User) -> NewAuditEvent<'static> {
    NewAuditEvent::for_user(
        actor,
        user.user_id(),
        "user.created",
        serde_json::json!({"name": user.name, "email": user.email, "role": user.role}),
    )
}

/// What an update changed: each field's value before and after, and whether the password was
/// reset (never the password itself).
fn account_diff(before: &User, after: &User, password_reset: bool) -> serde_json::Value {
    let mut diff = serde_json::Map::new();
    let mut compare = |field: &str, from: serde_json::Value, to: serde_json::Value| {
        if from != to {
            diff.insert(
                field.to_owned(),
                serde_json::json!({"from": from, "to": to}),
            );
        }
    };
    compare(
        "name",
        before.name.as_str().into(),
        after.name.as_str().into(),
    );
    compare(
        "role",
        before.role.as_str().into(),
        after.role.as_str().into(),
    );
    compare(
        "disabled",
        before.disabled_at.is_some().into(),
        after.disabled_at.is_some().into(),
    );
    if password_reset {
        diff.insert("password".to_owned(), "reset".into());
    }
    serde_json::Value::Object(diff)
}

fn admin_only(user: &CurrentUser) -> Result<(), ApiError> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Only admins manage staff accounts.".into(),
        ))
    }
}

fn parse_role(errors: &mut FieldErrors, raw: Option<&str>) -> Option<Role> {
    let raw = raw?;
    errors.check(
        "role",
        Role::parse(raw.trim()).map_err(|_| "Must be staff or admin."),
    )
}

/// Where a page of accounts ends (the opaque `cursor`).
#[derive(Debug, Serialize, Deserialize)]
struct StaffCursor {
    i: i64,
}

/// Every account, oldest first (admins only).
#[utoipa::path(
    tag = "users",
    params(PageParams),
    responses(
        (status = 200, body = StaffPage),
        (status = 401, response = NotSignedIn),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    params: web::Query<PageParams>,
) -> Result<web::Json<StaffPage>, ApiError> {
    admin_only(&user)?;
    let mut errors = FieldErrors::new();
    let limit = parse_limit(params.limit.as_deref(), &mut errors);
    let cursor: Option<StaffCursor> = parse_cursor(params.cursor.as_deref(), &mut errors);
    errors.into_result(|| ())?;
    let (users, total) = state
        .db(move |conn| {
            Ok((
                crm_db::users::list(conn, cursor.map(|c| c.i), limit + 1)?,
                crm_db::users::count(conn)?,
            ))
        })
        .await?;
    let (users, next_cursor) = split_page(users, limit, |u| StaffCursor { i: u.id });
    Ok(web::Json(StaffPage {
        items: users.into_iter().map(Into::into).collect(),
        next_cursor,
        total,
    }))
}

/// Adds an account (admins only).
#[utoipa::path(
    tag = "users",
    request_body = NewStaffRequest,
    responses(
        (status = 201, body = StaffResponse),
        (status = 400, response = Malformed),
        (status = 401, response = NotSignedIn),
        (status = 403, description = "Not an admin, or no CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<NewStaffRequest>,
) -> Result<HttpResponse, ApiError> {
    admin_only(&user)?;
    let mut errors = FieldErrors::new();
    let role = parse_role(&mut errors, body.role.as_deref()).unwrap_or(Role::Staff);
    let account = NewAccount::parse(&body.name, &body.email, &body.password, errors).await?;
    let actor = user.id;
    let created = state
        .db(move |conn| {
            let new = account.row(role);
            conn.transaction(|conn| {
                let created = crm_db::users::insert(conn, &new)?;
                audit::record(conn, &created_event(Some(actor), &created))?;
                Ok(created)
            })
            .map_err(|e| {
                if crm_db::is_unique_violation(&e) {
                    ApiError::field("email", "An account with this email exists already.")
                } else {
                    e.into()
                }
            })
        })
        .await?;
    tracing::info!(user_id = created.id, by = user.id.get(), "account created");
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", created.id)))
        .json(StaffResponse::from(created)))
}

/// Renames, changes the role of, resets the password of, disables or enables an account
/// (admins only). At least one enabled admin always remains.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = UpdateStaffRequest,
    responses(
        (status = 200, body = StaffResponse),
        (status = 400, response = Malformed),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 404, response = NotFound),
        (status = 409, description = "It would leave no enabled admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    JsonBody(body): JsonBody<UpdateStaffRequest>,
) -> Result<web::Json<StaffResponse>, ApiError> {
    admin_only(&user)?;
    let id = UserId::new(id.into_inner());
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
    let changes = UserChanges {
        name: name.map(UserName::into_inner),
        role: role.map(|r| r.as_str().to_owned()),
        password_hash,
        disabled_at: body.disabled.map(|disabled| disabled.then(Utc::now)),
    };
    let actor = user.id;
    let updated = state
        .db(move |conn| {
            Ok(conn.transaction(|conn| {
                let before = crm_db::users::find(conn, id)?;
                let after = crm_db::users::update_keeping_an_admin(conn, id, &changes)?;
                if let Some(after) = &after {
                    let diff = account_diff(&before, after, changes.password_hash.is_some());
                    if diff.as_object().is_some_and(|d| !d.is_empty()) {
                        let event = NewAuditEvent::for_user(Some(actor), id, "user.updated", diff);
                        audit::record(conn, &event)?;
                    }
                }
                Ok::<_, diesel::result::Error>(after)
            })?)
        })
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(
                "At least one enabled admin must remain: make someone else an admin first.".into(),
            )
        })?;
    tracing::info!(user_id = updated.id, by = user.id.get(), "account changed");
    Ok(web::Json(updated.into()))
}

/// An account's activity, newest first: created, changed (name, role, disabled, password
/// reset), own password changes, API tokens made and revoked. Admins see anyone's; others
/// their own.
#[utoipa::path(
    tag = "users",
    params(("id" = i64, Path, description = "User id"), PageParams),
    responses(
        (status = 200, body = ActivityPage),
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
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    params: web::Query<PageParams>,
) -> Result<web::Json<ActivityPage>, ApiError> {
    let id = UserId::new(id.into_inner());
    if id != user.id {
        admin_only(&user)?;
    }
    trail::page(&state, Trail::User(id), &params, move |conn| {
        crm_db::users::find(conn, id).map(|_| ())
    })
    .await
}
