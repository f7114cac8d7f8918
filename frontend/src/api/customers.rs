//! Customers and their activity.

use crm_contract::ActivityPage;
use crm_contract::CustomerId;
use crm_contract::customers::{
    ArchivedFilter, CreateCustomerRequest, CustomerPage, CustomerResponse, UpdateCustomerRequest,
};

use super::paths::{self, Query};
use super::{ApiError, Paging, transport};

/// Which customers a list shows, and which page of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerQuery {
    /// Words to find in the name, email or phone numbers; empty finds all.
    pub search: String,
    pub archived: ArchivedFilter,
    pub paging: Paging,
}

/// `GET /customers`: a page of the customers that match.
pub async fn list(query: &CustomerQuery) -> Result<CustomerPage, ApiError> {
    let search = Some(query.search.as_str()).filter(|q| !q.is_empty());
    let path = Query::default()
        .with("limit", &query.paging.limit.to_string())
        .with("archived", query.archived.as_str())
        .with_some("q", search)
        .with_some("cursor", query.paging.cursor.as_deref())
        .on(paths::customers());
    transport::get(&path).await
}

/// `GET /customers/{id}`.
pub async fn get(id: CustomerId) -> Result<CustomerResponse, ApiError> {
    transport::get(&paths::customer(id)).await
}

/// `POST /customers`: adds a customer.
pub async fn create(body: &CreateCustomerRequest) -> Result<CustomerResponse, ApiError> {
    transport::post(&paths::customers(), body).await
}

/// `PATCH /customers/{id}`: changes the fields the body has.
pub async fn update(
    id: CustomerId,
    body: &UpdateCustomerRequest,
) -> Result<CustomerResponse, ApiError> {
    transport::patch(&paths::customer(id), body).await
}

/// `POST /customers/{id}/archive`.
pub async fn archive(id: CustomerId) -> Result<CustomerResponse, ApiError> {
    transport::post_bodiless(&paths::customer_archive(id)).await
}

/// `POST /customers/{id}/restore`.
pub async fn restore(id: CustomerId) -> Result<CustomerResponse, ApiError> {
    transport::post_bodiless(&paths::customer_restore(id)).await
}

/// `GET /customers/{id}/activity`: the customer's audit trail, newest first.
pub async fn activity(id: CustomerId, paging: &Paging) -> Result<ActivityPage, ApiError> {
    let path = Query::default()
        .with_paging(paging)
        .on(paths::customer_activity(id));
    transport::get(&path).await
}
