//! Customers: create, read, change, archive and restore, search, and the activity trail.

use actix_web::{HttpResponse, get, patch, post, web};
use crm_contract::activity::ActivityPage;
use crm_contract::customers::{
    CreateCustomerRequest, CustomerPage, CustomerResponse, UpdateCustomerRequest,
};
use crm_contract::{ActivityEvent, CustomerId, Page, paths};
use crm_db::audit::Trail;
use crm_db::customers::{self as rows, ChangeError, Customer, CustomerQuery, ListPosition};
use crm_domain::FieldErrors;
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::input::customers::{CustomerFilter, customer_changes, new_customer};
use crate::pagination::{PageParams, Paging};
use crate::routes::activity as trail;
use crate::state::AppState;

/// The customer as the API shows it.
pub fn response(c: Customer) -> CustomerResponse {
    CustomerResponse {
        id: c.id,
        name: c.name,
        email: c.email.map(|e| e.into_inner()),
        phone: c.phone.map(|p| p.into_inner()),
        whatsapp: c.whatsapp.map(|p| p.into_inner()),
        timezone: c.timezone,
        notes: c.notes,
        sms_opt_out: c.sms_opt_out,
        whatsapp_opt_out: c.whatsapp_opt_out,
        created_at: c.created_at,
        updated_at: c.updated_at,
        archived_at: c.archived_at,
    }
}

/// Where a page of customers ends (the opaque `cursor`).
#[derive(Debug, Serialize, Deserialize)]
struct CustomerCursor {
    n: String,
    i: CustomerId,
}

/// Lists customers: search, archived filter, keyset pagination.
#[utoipa::path(
    tag = "customers",
    operation_id = "list_customers",
    params(CustomerFilter, PageParams),
    responses((status = 200, description = "A page of customers", body = Page<CustomerResponse>), crate::error::responses::ReadList),
    security(("session" = []), ("bearer" = []))
)]
#[get("/customers")]
pub async fn list(
    state: web::Data<AppState>,
    _user: CurrentUser,
    filter: web::Query<CustomerFilter>,
    paging: Paging<CustomerCursor>,
) -> Result<web::Json<CustomerPage>, ApiError> {
    let mut errors = FieldErrors::new();
    let (search, archived) = filter.into_inner().parse(&mut errors);
    let paging = paging.checked(errors)?;
    let after = paging.after.as_ref().map(|c| ListPosition {
        name_key: c.n.clone(),
        id: c.i,
    });
    let fetch = paging.fetch();
    let (customers, total) = state
        .db(move |conn| {
            let query = CustomerQuery {
                search: search.as_deref(),
                archived,
            };
            Ok(rows::page(conn, &query, after.as_ref(), fetch)?)
        })
        .await?;
    let position = |c: &Customer| {
        let position = ListPosition::after(c);
        CustomerCursor {
            n: position.name_key,
            i: position.id,
        }
    };
    Ok(web::Json(paging.page(customers, total, position, response)))
}

/// Adds a customer.
#[utoipa::path(
    tag = "customers",
    operation_id = "create_customer",
    request_body = CreateCustomerRequest,
    responses(
        (status = 201, description = "Created; `Location` names the new customer", body = CustomerResponse),
        crate::error::responses::Write,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/customers")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: crate::extract::JsonBody<CreateCustomerRequest>,
) -> Result<HttpResponse, ApiError> {
    let new = new_customer(body.0, state.config.default_region)?;
    let customer = state
        .db(move |conn| Ok(rows::create(conn, user.id, &new)?))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", paths::customer(customer.id)))
        .json(response(customer)))
}

/// One customer, archived or not.
#[utoipa::path(
    tag = "customers",
    operation_id = "get_customer",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, description = "The customer", body = CustomerResponse), crate::error::responses::ReadOne),
    security(("session" = []), ("bearer" = []))
)]
#[get("/customers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<CustomerId>,
) -> Result<web::Json<CustomerResponse>, ApiError> {
    let id = id.into_inner();
    let customer = state.db(move |conn| Ok(rows::find(conn, id)?)).await?;
    Ok(web::Json(response(customer)))
}

/// Changes some of a customer's fields. Archived customers must be restored first.
#[utoipa::path(
    tag = "customers",
    operation_id = "update_customer",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = UpdateCustomerRequest,
    responses(
        (status = 200, description = "The customer as it is now", body = CustomerResponse),
        (status = 409, description = "The customer is archived", body = crm_contract::Problem, content_type = "application/problem+json"),
        crate::error::responses::WriteOne,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[patch("/customers/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<CustomerId>,
    body: crate::extract::JsonBody<UpdateCustomerRequest>,
) -> Result<web::Json<CustomerResponse>, ApiError> {
    let id = id.into_inner();
    let changes = customer_changes(body.0, state.config.default_region)?;
    let customer = state
        .db(move |conn| {
            rows::change(conn, user.id, id, &changes).map_err(|error| match error {
                ChangeError::Archived => ApiError::Conflict(
                    "This customer is archived: restore it before making changes.".into(),
                ),
                ChangeError::Query(error) => error.into(),
            })
        })
        .await?;
    Ok(web::Json(response(customer)))
}

/// Archives a customer: hidden from lists, kept with all its history. Archiving twice is harmless.
#[utoipa::path(
    tag = "customers",
    operation_id = "archive_customer",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, description = "The customer as it is now", body = CustomerResponse), crate::error::responses::ActOnOne),
    security(("session" = []), ("bearer" = []))
)]
#[post("/customers/{id}/archive")]
pub async fn archive(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<CustomerId>,
) -> Result<web::Json<CustomerResponse>, ApiError> {
    set_archived(&state, &user, id.into_inner(), true).await
}

/// Restores an archived customer. Restoring an active one is harmless.
#[utoipa::path(
    tag = "customers",
    operation_id = "restore_customer",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, description = "The customer as it is now", body = CustomerResponse), crate::error::responses::ActOnOne),
    security(("session" = []), ("bearer" = []))
)]
#[post("/customers/{id}/restore")]
pub async fn restore(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<CustomerId>,
) -> Result<web::Json<CustomerResponse>, ApiError> {
    set_archived(&state, &user, id.into_inner(), false).await
}

/// The customer's audit trail, newest first.
#[utoipa::path(
    tag = "customers",
    operation_id = "customer_activity",
    params(("id" = i64, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "A page of the customer's activity", body = Page<ActivityEvent>), crate::error::responses::ReadListOf),
    security(("session" = []), ("bearer" = []))
)]
#[get("/customers/{id}/activity")]
pub async fn activity(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<CustomerId>,
    paging: trail::ActivityPaging,
) -> Result<web::Json<ActivityPage>, ApiError> {
    let id = id.into_inner();
    trail::page(&state, Trail::Customer(id), paging, move |conn| {
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
        .db(move |conn| Ok(rows::set_archived(conn, actor, id, archived)?))
        .await?;
    Ok(web::Json(response(customer)))
}
