//! The HTTP API of Customer Manager: routes, authentication, errors and the OpenAPI
//! description, served by actix-web. The `crm-api` binary wraps it with a CLI.

pub mod auth;
pub mod backup;
pub mod cleanup;
pub mod config;
pub mod error;
pub mod extract;
mod handover;
pub mod idempotency;
pub mod input;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod receipt_files;
mod request_heads;
pub mod routes;
pub mod state;
pub mod storage;
pub mod twilio;
pub mod unmatched;
pub mod upload;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, Error, HttpRequest, HttpResponse, web};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;

use crate::error::ApiError;
use crate::state::AppState;

/// The Content-Security-Policy of every response: same-origin only, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
    frame-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The whole application, ready for `HttpServer::new` or actix's test service.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let web_app = routes::web_app::configure(&state.config.web_dir);
    let https = state.config.is_https();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            ApiError::BadRequest(format!("The query string could not be read: {error}.")).into()
        }))
        .into_utoipa_app()
        .configure(routes::configure)
        .into_app()
        .configure(web_app)
        .default_service(web::to(not_found))
        .wrap(security_headers(https))
        .wrap(actix_web::middleware::from_fn(metrics::middleware))
        .wrap(TracingLogger::default())
        .wrap(actix_web::middleware::from_fn(request_heads::own_headers))
}

/// Headers on every response; over https (an `https` `PUBLIC_URL`) also HSTS, so browsers
/// never try plain http again.
fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("Cache-Control", "no-store"));
    if https {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(unmatched::error_for(req.path()))
}
