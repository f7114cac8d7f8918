//! The OpenAPI document and the Swagger UI that shows it.

use std::sync::LazyLock;

use actix_web::{HttpResponse, get, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::auth::CurrentUser;

/// Where the spec is served.
pub const SPEC_PATH: &str = "/api/v1/openapi.json";

/// The spec, like every endpoint but sign-in, setup and the probes, is for signed-in users (or
/// token holders): the Swagger UI page fetches it with the browser's session cookie.
#[get("/openapi.json")]
pub async fn spec(_user: CurrentUser) -> HttpResponse {
    static SPEC: LazyLock<String> = LazyLock::new(crate::openapi::to_json);
    HttpResponse::Ok()
        .content_type("application/json")
        .body(SPEC.as_str())
}

/// Swagger UI at `/api/docs/`, its files compiled into the binary (nothing is downloaded).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::redirect("/api/docs", "/api/docs/"))
        .service(SwaggerUi::new("/api/docs/{_:.*}").config(Config::from(SPEC_PATH)));
}
