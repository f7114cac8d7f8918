//! Sign-in is checked before anything else looks at a request: the middleware authenticates
//! every documented operation under `/api/v1` that is not public, so a request without valid
//! credentials (or an unsafe cookie request without its CSRF token) gets its 401/403 before any
//! body, query or path is read and before any record is looked up.
//!
//! Which operations are public comes from the OpenAPI document ([`crate::openapi::is_public`]),
//! so an operation added later needs sign-in unless it is listed as public there.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Each documented path template, with the methods of its operations that need sign-in. Keyed
/// by the template alone so that a request is looked up without building a key of its own.
static PROTECTED: LazyLock<HashMap<String, Vec<&'static str>>> = LazyLock::new(|| {
    let document = crate::openapi::document();
    document
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let methods = crate::openapi::operations(item)
                .filter(|(_, operation)| !crate::openapi::is_public(operation))
                .map(|(method, _)| method)
                .collect();
            (path.clone(), methods)
        })
        .collect()
});

/// The middleware (`actix_web::middleware::from_fn`): authenticates the request when its route
/// needs sign-in and keeps the [`super::CurrentUser`] in the request's extensions for the handler.
/// A read (`GET`) hands the connection it was authenticated on to the handler
/// ([`crate::handover`]). Requests no route takes pass on, to get their 404 or 405.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let sign_in = needs_sign_in(&req);
    let hand_over = sign_in && req.method() == actix_web::http::Method::GET;
    let request = async move {
        // Remembered in the request's extensions for the handler's `CurrentUser`.
        if sign_in && let Err(error) = super::authenticate(req.request()).await {
            return Ok(req.error_response(error));
        }
        next.call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body)
    };
    if hand_over {
        crate::handover::scope(request).await
    } else {
        request.await
    }
}

fn needs_sign_in(req: &ServiceRequest) -> bool {
    let method = req.method().as_str();
    req.match_pattern().is_some_and(|pattern| {
        PROTECTED
            .get(&pattern)
            .is_some_and(|methods| methods.contains(&method))
    })
}
