//! Extractors for operations only some users may call: [`Admin`] and [`AdminOrSelf`]. Both
//! answer 403 before the body, query or records are looked at (sign-in was checked before, by
//! [`super::required`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use crm_domain::UserId;

use super::CurrentUser;
use crate::error::ApiError;

/// The signed-in user, who is an admin (`x-required-role: admin` in the OpenAPI document).
/// Put it before the other extractors of the handler: staff get 403 before anything is read.
#[derive(Debug, Clone)]
pub struct Admin(pub CurrentUser);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            if user.is_admin() {
                Ok(Self(user))
            } else {
                Err(not_admin())
            }
        })
    }
}

/// The signed-in user, who is an admin or the user named by the path's `{id}`
/// (`x-required-role: admin-or-self`). A path `{id}` that is not an id is left to the path
/// extractor (404).
#[derive(Debug, Clone)]
pub struct AdminOrSelf(pub CurrentUser);

impl FromRequest for AdminOrSelf {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload);
        let id = req
            .match_info()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .map(UserId::new);
        Box::pin(async move {
            let user = user.await?;
            match id {
                Some(id) if id != user.id && !user.is_admin() => Err(not_admin()),
                _ => Ok(Self(user)),
            }
        })
    }
}

fn not_admin() -> ApiError {
    ApiError::Forbidden("Only admins may do this.".into())
}
