//! Serves the built web app (`WEB_DIR`, default `frontend/dist`) at `/`, one origin with the API.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, ResponseError, web};

use crate::error::ApiError;

/// Registers the web app's files, with `index.html` for every other non-API address so the
/// app's own routes (`/customers/42`) load on reload; or, when it is not built, a page saying so.
pub fn configure(web_dir: &Path) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let web_dir = web_dir.to_path_buf();
    move |cfg| {
        let index = web_dir.join("index.html");
        if !index.is_file() {
            cfg.route("/", web::get().to(not_built));
            return;
        }
        cfg.service(
            web::scope("")
                .wrap(DefaultHeaders::new().add(("Cache-Control", "no-cache")))
                .service(
                    Files::new("/", &web_dir)
                        .index_file("index.html")
                        .default_handler(fn_service(move |req: ServiceRequest| {
                            let index = index.clone();
                            async move { Ok(app_shell(req, index).await) }
                        })),
                ),
        );
    }
}

async fn app_shell(req: ServiceRequest, index: PathBuf) -> ServiceResponse {
    let (req, _) = req.into_parts();
    let unmatched = crate::unmatched::error_for(req.path());
    let response = if req.path().starts_with("/api/")
        || req.path().contains('.')
        || !matches!(unmatched, ApiError::NotFound)
    {
        unmatched.error_response()
    } else {
        match NamedFile::open_async(&index).await {
            Ok(file) => file.into_response(&req),
            Err(error) => ApiError::internal(error).error_response(),
        }
    };
    ServiceResponse::new(req, response)
}

async fn not_built() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(
        "Customer Manager API is running. The web app is not built: run `make run` (or `make frontend`).\n\
         API documentation: /api/docs/\n",
    )
}
