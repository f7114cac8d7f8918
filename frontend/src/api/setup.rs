//! First-run setup: the first admin.

use crm_contract::auth::{SetupRequest, SetupStatus, SignedIn};

use super::{ApiError, paths, transport};

/// `GET /setup`: whether no user exists yet.
pub async fn status() -> Result<SetupStatus, ApiError> {
    transport::get(&paths::setup()).await
}

/// `POST /setup`: creates the first admin and signs them in.
pub async fn create_admin(body: &SetupRequest) -> Result<SignedIn, ApiError> {
    transport::post(&paths::setup(), body).await
}
