//! Customers: create, read, change, archive and restore, search, and the activity trail.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use crm_db::audit::{self, NewAuditEvent, Trail};
use crm_db::customers::{
    self as rows, ArchivedFilter, Customer, CustomerChanges, CustomerQuery, ListPosition,
};
use crm_domain::{
    CustomerId, CustomerName, EmailAddress, FieldErrors, Notes, PhoneNumber, REQUIRED, Region,
    TimeZone,
};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::error::responses::{
    CsrfRejected, InvalidInput, Malformed, NotFound, NotSignedIn, Unavailable,
};
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, double_option};
use crate::pagination::{PageParams, parse_cursor, parse_limit, split_page};
use crate::routes::activity::{self as trail, ActivityPage};
use crate::state::AppState;

/// A customer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerResponse {
    #[schema(example = 42)]
    pub id: i64,
    #[schema(example = "Ada Lovelace")]
    pub name: String,
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    /// E.164.
    #[schema(example = "+14155552671")]
    pub phone: Option<String>,
    /// E.164.
    #[schema(example = "+14155552671")]
    pub whatsapp: Option<String>,
    /// IANA time zone.
    #[schema(example = "America/Los_Angeles")]
    pub timezone: String,
    pub notes: String,
    pub sms_opt_out: bool,
    pub whatsapp_opt_out: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set while the customer is archived.
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<Customer> for CustomerResponse {
    fn from(c: Customer) -> Self {
        Self {
            id: c.id,
            name: c.name,
            email: c.email,
            phone: c.phone,
            whatsapp: c.whatsapp,
            timezone: c.timezone,
            notes: c.notes,
            sms_opt_out: c.sms_opt_out,
            whatsapp_opt_out: c.whatsapp_opt_out,
            created_at: c.created_at,
            updated_at: c.updated_at,
            archived_at: c.archived_at,
        }
    }
}

/// A new customer. Only `name` is required; phone numbers may be written in national format
/// (read in the server's default region) and are stored in E.164.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Ada Lovelace", "email": "ada@example.com", "phone": "(415) 555-2671",
    "timezone": "America/Los_Angeles", "notes": "Prefers mornings."
}))]
pub struct CreateCustomerRequest {
    /// 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub whatsapp: Option<String>,
    /// IANA name; `UTC` when left out.
    #[serde(default)]
    pub timezone: Option<String>,
    /// At most 5000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub notes: Option<String>,
    #[serde(default)]
    pub sms_opt_out: bool,
    #[serde(default)]
    pub whatsapp_opt_out: bool,
}

/// Changes to a customer: fields left out stay as they are; `null` (or `""`) clears
/// `email`, `phone`, `whatsapp` and `notes`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": "+44 20 7946 0958", "email": null}))]
pub struct UpdateCustomerRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub whatsapp: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub timezone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    #[serde(default)]
    pub sms_opt_out: Option<bool>,
    #[serde(default)]
    pub whatsapp_opt_out: Option<bool>,
}

/// Search and paging of the customer list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCustomersParams {
    /// Case-insensitive partial match on name, email or phone numbers.
    #[param(example = "ada", max_length = 200)]
    pub q: Option<String>,
    /// `false` (default): active customers; `true`: archived ones only; `all`: both.
    #[param(example = "false", pattern = "^(false|true|all)$")]
    pub archived: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[param(value_type = Option<i64>, example = 25, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of customers, ordered by name then id.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub items: Vec<CustomerResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many customers match, over all pages.
    pub total: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct CustomerCursor {
    n: String,
    i: i64,
}

/// Longest accepted search text.
const MAX_SEARCH_CHARS: usize = 200;

/// Lists customers: search, archived filter, keyset pagination.
#[utoipa::path(
    tag = "customers",
    params(ListCustomersParams),
    responses(
        (status = 200, body = CustomerPage),
        (status = 400, response = Malformed),
        (status = 401, response = NotSignedIn),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/customers")]
pub async fn list(
    state: web::Data<AppState>,
    _user: CurrentUser,
    params: web::Query<ListCustomersParams>,
) -> Result<web::Json<CustomerPage>, ApiError> {
    let params = params.into_inner();
    let mut errors = FieldErrors::new();
    let limit = parse_limit(params.limit.as_deref(), &mut errors);
    let cursor: Option<CustomerCursor> = parse_cursor(params.cursor.as_deref(), &mut errors);
    let archived = match params.archived.as_deref().map(str::trim) {
        None | Some("" | "false") => ArchivedFilter::Active,
        Some("true") => ArchivedFilter::Archived,
        Some("all") => ArchivedFilter::All,
        Some(_) => {
            errors.add("archived", "Must be false, true or all.");
            ArchivedFilter::Active
        }
    };
    let search = params
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if search
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS)
    {
        errors.add(
            "q",
            format!("Must be at most {MAX_SEARCH_CHARS} characters."),
        );
    }
    errors.into_result(|| ())?;

    let (customers, total) = state
        .db(move |conn| {
            let query = CustomerQuery {
                search: search.as_deref(),
                archived,
            };
            let after = cursor.map(|c| ListPosition {
                name_key: c.n,
                id: c.i,
            });
            let rows = rows::list(conn, &query, after.as_ref(), limit + 1)?;
            Ok((rows, rows::count(conn, &query)?))
        })
        .await?;
    let (customers, next_cursor) = split_page(customers, limit, |c| {
        let position = ListPosition::after(c);
        CustomerCursor {
            n: position.name_key,
            i: position.id,
        }
    });
    Ok(web::Json(CustomerPage {
        items: customers.into_iter().map(Into::into).collect(),
        next_cursor,
        total,
    }))
}

/// Adds a customer.
#[utoipa::path(
    tag = "customers",
    request_body = CreateCustomerRequest,
    responses(
        (status = 201, description = "Created; `Location` names the new customer", body = CustomerResponse),
        (status = 400, response = Malformed),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/customers")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<CreateCustomerRequest>,
) -> Result<HttpResponse, ApiError> {
    let region = state.config.default_region;
    let mut errors = FieldErrors::new();
    let name = errors.check("name", CustomerName::parse(&body.name));
    let email = optional(
        &mut errors,
        "email",
        body.email.as_deref(),
        EmailAddress::parse,
    );
    let phone = optional(&mut errors, "phone", body.phone.as_deref(), |s| {
        PhoneNumber::parse(s, region)
    });
    let whatsapp = optional(&mut errors, "whatsapp", body.whatsapp.as_deref(), |s| {
        PhoneNumber::parse(s, region)
    });
    let timezone = optional(
        &mut errors,
        "timezone",
        body.timezone.as_deref(),
        TimeZone::parse,
    );
    let notes = errors.check(
        "notes",
        Notes::parse(body.notes.as_deref().unwrap_or_default()),
    );
    let (Some(name), Some(notes), true) = (name, notes, errors.is_empty()) else {
        return Err(errors.into());
    };
    let timezone = timezone.unwrap_or_else(TimeZone::utc);
    let customer = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let customer = rows::insert(
                    conn,
                    &rows::NewCustomer {
                        name: name.as_str(),
                        email: email.as_ref().map(EmailAddress::as_str),
                        phone: phone.as_ref().map(PhoneNumber::as_str),
                        whatsapp: whatsapp.as_ref().map(PhoneNumber::as_str),
                        timezone: timezone.as_str(),
                        notes: notes.as_str(),
                        sms_opt_out: body.sms_opt_out,
                        whatsapp_opt_out: body.whatsapp_opt_out,
                        created_by: Some(user.id.get()),
                    },
                )?;
                let snapshot = fields_of(&customer);
                audit::record(
                    conn,
                    &NewAuditEvent::for_customer(
                        user.id,
                        customer.customer_id(),
                        "customer.created",
                        snapshot,
                    ),
                )?;
                Ok::<_, diesel::result::Error>(customer)
            })
            .map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/customers/{}", customer.id)))
        .json(CustomerResponse::from(customer)))
}

/// One customer, archived or not.
#[utoipa::path(
    tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses(
        (status = 200, body = CustomerResponse),
        (status = 401, response = NotSignedIn),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/customers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<i64>,
) -> Result<web::Json<CustomerResponse>, ApiError> {
    let id = CustomerId::new(id.into_inner());
    let customer = state.db(move |conn| Ok(rows::find(conn, id)?)).await?;
    Ok(web::Json(customer.into()))
}

/// Changes some of a customer's fields. Archived customers must be restored first.
#[utoipa::path(
    tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = UpdateCustomerRequest,
    responses(
        (status = 200, body = CustomerResponse),
        (status = 400, response = Malformed),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 404, response = NotFound),
        (status = 409, description = "The customer is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[patch("/customers/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    JsonBody(body): JsonBody<UpdateCustomerRequest>,
) -> Result<web::Json<CustomerResponse>, ApiError> {
    let id = CustomerId::new(id.into_inner());
    let changes = parse_changes(body, state.config.default_region)?;
    let customer = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let before = rows::find_for_update(conn, id)?;
                if before.archived_at.is_some() {
                    return Err(ApiError::Conflict(
                        "This customer is archived: restore it before making changes.".into(),
                    ));
                }
                let after = rows::update(conn, id, &changes)?;
                let diff = changed_fields(&before, &after);
                if diff.as_object().is_some_and(|d| !d.is_empty()) {
                    audit::record(
                        conn,
                        &NewAuditEvent::for_customer(user.id, id, "customer.updated", diff),
                    )?;
                }
                Ok(after)
            })
        })
        .await?;
    Ok(web::Json(customer.into()))
}

/// Archives a customer: hidden from lists, kept with all its history. Archiving twice is harmless.
#[utoipa::path(
    tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses(
        (status = 200, body = CustomerResponse),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/customers/{id}/archive")]
pub async fn archive(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<web::Json<CustomerResponse>, ApiError> {
    set_archived(&state, &user, CustomerId::new(id.into_inner()), true).await
}

/// Restores an archived customer. Restoring an active one is harmless.
#[utoipa::path(
    tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses(
        (status = 200, body = CustomerResponse),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/customers/{id}/restore")]
pub async fn restore(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<web::Json<CustomerResponse>, ApiError> {
    set_archived(&state, &user, CustomerId::new(id.into_inner()), false).await
}

/// The customer's audit trail, newest first.
#[utoipa::path(
    tag = "customers",
    params(("id" = i64, Path, description = "Customer id"), PageParams),
    responses(
        (status = 200, body = ActivityPage),
        (status = 400, response = Malformed),
        (status = 401, response = NotSignedIn),
        (status = 404, response = NotFound),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/customers/{id}/activity")]
pub async fn activity(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<i64>,
    params: web::Query<PageParams>,
) -> Result<web::Json<ActivityPage>, ApiError> {
    let id = CustomerId::new(id.into_inner());
    trail::page(&state, Trail::Customer(id), &params, move |conn| {
        rows::find(conn, id).map(|_| ())
    })
    .await
}

async fn set_archived(
    state: &AppState,
    user: &CurrentUser,
    id: CustomerId,
    archived: bool,
) -> Result<web::Json<CustomerResponse>, ApiError> {
    let actor = user.id;
    let customer = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let before = rows::find_for_update(conn, id)?;
                if before.archived_at.is_some() == archived {
                    return Ok(before);
                }
                let after = rows::set_archived_at(conn, id, archived.then(Utc::now))?;
                let action = if archived {
                    "customer.archived"
                } else {
                    "customer.restored"
                };
                audit::record(
                    conn,
                    &NewAuditEvent::for_customer(actor, id, action, serde_json::json!({})),
                )?;
                Ok::<_, diesel::result::Error>(after)
            })
            .map_err(ApiError::from)
        })
        .await?;
    Ok(web::Json(customer.into()))
}

/// Parses an optional text field: absent or blank is `None`; otherwise it must parse.
fn optional<T, E: std::fmt::Display>(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Option<T> {
    let raw = raw.filter(|r| !r.trim().is_empty())?;
    errors.check(field, parse(raw))
}

/// Turns a PATCH body into column changes, or the field errors of every bad field.
fn parse_changes(body: UpdateCustomerRequest, region: Region) -> Result<CustomerChanges, ApiError> {
    let mut errors = FieldErrors::new();
    let mut changes = CustomerChanges {
        sms_opt_out: body.sms_opt_out,
        whatsapp_opt_out: body.whatsapp_opt_out,
        ..CustomerChanges::default()
    };
    let required =
        |errors: &mut FieldErrors, field: &str, value: Option<Option<String>>| match value {
            Some(None) => {
                errors.add(field, REQUIRED);
                None
            }
            other => other.flatten(),
        };
    if let Some(name) = required(&mut errors, "name", body.name) {
        changes.name = errors
            .check("name", CustomerName::parse(&name))
            .map(CustomerName::into_inner);
    }
    if let Some(zone) = required(&mut errors, "timezone", body.timezone) {
        changes.timezone = errors
            .check("timezone", TimeZone::parse(&zone))
            .map(TimeZone::into_inner);
    }
    if let Some(notes) = body.notes {
        let parsed = Notes::parse(notes.as_deref().unwrap_or_default());
        changes.notes = errors.check("notes", parsed).map(Notes::into_inner);
    }
    let clearable = |errors: &mut FieldErrors,
                     field: &str,
                     value: Option<Option<String>>,
                     parse: &dyn Fn(&str) -> Result<String, String>| {
        value.map(|v| optional(errors, field, v.as_deref(), parse))
    };
    changes.email = clearable(&mut errors, "email", body.email, &|s| {
        EmailAddress::parse(s)
            .map(EmailAddress::into_inner)
            .map_err(|e| e.to_string())
    });
    let phone = |s: &str| {
        PhoneNumber::parse(s, region)
            .map(PhoneNumber::into_inner)
            .map_err(|e| e.to_string())
    };
    changes.phone = clearable(&mut errors, "phone", body.phone, &phone);
    changes.whatsapp = clearable(&mut errors, "whatsapp", body.whatsapp, &phone);
    errors.into_result(|| changes).map_err(ApiError::from)
}

/// The customer's editable fields, as recorded when it is created.
fn fields_of(customer: &Customer) -> serde_json::Value {
    let mut value =
        serde_json::to_value(CustomerResponse::from(customer.clone())).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        for key in ["id", "created_at", "updated_at", "archived_at"] {
            map.remove(key);
        }
    }
    value
}

/// Each field that differs between `before` and `after`: `{"field": {"from": …, "to": …}}`.
fn changed_fields(before: &Customer, after: &Customer) -> serde_json::Value {
    let (before, after) = (fields_of(before), fields_of(after));
    let mut diff = serde_json::Map::new();
    if let (Some(before), Some(after)) = (before.as_object(), after.as_object()) {
        for (key, new) in after {
            let old = before.get(key).cloned().unwrap_or_default();
            if old != *new {
                diff.insert(key.clone(), serde_json::json!({"from": old, "to": new}));
            }
        }
    }
    serde_json::Value::Object(diff)
}
