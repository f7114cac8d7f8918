//! The signed-in user's personal API tokens.

use crm_contract::ApiTokenId;
use crm_contract::tokens::{CreateTokenRequest, CreatedToken, TokenList};

use super::{ApiError, paths, transport};

/// `GET /tokens`: the user's active tokens.
pub async fn list() -> Result<TokenList, ApiError> {
    transport::get(&paths::tokens()).await
}

/// `POST /tokens`: a new token, with its secret (shown this once).
pub async fn create(body: &CreateTokenRequest) -> Result<CreatedToken, ApiError> {
    transport::post(&paths::tokens(), body).await
}

/// `DELETE /tokens/{id}`: revokes a token at once.
pub async fn revoke(id: ApiTokenId) -> Result<(), ApiError> {
    transport::delete(&paths::token(id)).await
}
