//! HTTP handlers, one module per resource. Each handler: extract -> parse -> query -> respond.

pub mod activity;
pub mod auth;
pub mod customers;
pub mod docs;
pub mod health;
pub mod invoices;
pub mod setup;
pub mod tokens;
pub mod users;
pub mod web_app;

use actix_web::web;

/// Registers every API route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .configure(docs::configure)
        .service(
            web::scope("/api/v1")
                .wrap(actix_web::middleware::from_fn(
                    crate::idempotency::middleware,
                ))
                .service(docs::spec)
                .service(setup::status)
                .service(setup::create_first_admin)
                .service(auth::login)
                .service(auth::logout)
                .service(auth::me)
                .service(auth::change_password)
                .service(tokens::list)
                .service(tokens::create)
                .service(tokens::revoke)
                .service(users::list)
                .service(users::create)
                .service(users::update)
                .service(users::activity)
                .service(customers::list)
                .service(customers::create)
                .service(customers::get)
                .service(customers::update)
                .service(customers::archive)
                .service(customers::restore)
                .service(customers::activity)
                .service(invoices::create)
                .service(invoices::list)
                .service(invoices::get)
                .service(invoices::receipt)
                // Before `update`, which takes JSON: this one answers multipart PATCHes.
                .service(invoices::update_with_receipt)
                .service(invoices::update)
                .service(invoices::replace_receipt)
                .service(invoices::remove),
        );
}
