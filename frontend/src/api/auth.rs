//! Signing in and out, the signed-in user, and one's own password.

use crm_contract::auth::{
    LoginRequest, PasswordChange, PasswordChanged, SignedIn, UpdateMeRequest, UserResponse,
};

use super::{ApiError, paths, transport};

/// `GET /auth/me`: who is signed in.
pub async fn me() -> Result<UserResponse, ApiError> {
    transport::get(&paths::me()).await
}

/// `PATCH /auth/me`: changes one's own account (the time zone).
pub async fn update_me(body: &UpdateMeRequest) -> Result<UserResponse, ApiError> {
    transport::patch(&paths::me(), body).await
}

/// `POST /auth/login`: signs in. A wrong password is an error here, not an ended session.
pub async fn login(body: &LoginRequest) -> Result<SignedIn, ApiError> {
    transport::post(&paths::login(), body).await
}

/// `POST /auth/logout`: signs out.
pub async fn logout() -> Result<(), ApiError> {
    transport::post_empty(&paths::logout()).await
}

/// `POST /auth/password`: changes one's own password (other sessions are signed out, API
/// tokens revoked as asked); says what ended.
pub async fn change_password(body: &PasswordChange) -> Result<PasswordChanged, ApiError> {
    transport::post(&paths::password(), body).await
}
