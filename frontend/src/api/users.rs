//! Staff accounts, for admins.

use crm_contract::users::{NewStaffRequest, StaffPage, StaffResponse, UpdateStaffRequest};
use crm_contract::{ActivityPage, UserId};

use super::paths::{self, Query};
use super::{ApiError, Paging, transport};

/// `GET /users`: a page of accounts, oldest first.
pub async fn list(paging: &Paging) -> Result<StaffPage, ApiError> {
    let path = Query::default().with_paging(paging).on(paths::users());
    transport::get(&path).await
}

/// `POST /users`: adds an account.
pub async fn create(body: &NewStaffRequest) -> Result<StaffResponse, ApiError> {
    transport::post(&paths::users(), body).await
}

/// `PATCH /users/{id}`: changes what the body has (role, disabled…).
pub async fn update(id: UserId, body: &UpdateStaffRequest) -> Result<StaffResponse, ApiError> {
    transport::patch(&paths::user(id), body).await
}

/// `GET /users/{id}/activity`: the account's history, newest first.
pub async fn activity(id: UserId, paging: &Paging) -> Result<ActivityPage, ApiError> {
    let path = Query::default()
        .with_paging(paging)
        .on(paths::user_activity(id));
    transport::get(&path).await
}
