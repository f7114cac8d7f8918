//! HTTP handlers, one module per resource. Each handler: extract -> parse -> query -> respond.
//!
//! Routes are registered once, here, through `utoipa-actix-web`: registering a handler also
//! adds its `#[utoipa::path]` to the OpenAPI document, so the two cannot disagree.

pub mod activity;
pub mod auth;
pub mod customers;
pub mod docs;
pub mod events;
pub mod health;
pub mod invoices;
pub mod messages;
pub mod metrics;
pub mod reminders;
pub mod setup;
pub mod tokens;
pub mod users;
pub mod web_app;
pub mod webhooks;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every API route (and documents each in the OpenAPI document).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .map(|cfg| cfg.configure(docs::configure));
    cfg.service(
        scope::scope("/api/v1")
            // Run from the last added to the first: sign-in is checked before anything else,
            // then NUL characters in the query, then Idempotency-Key.
            .wrap(actix_web::middleware::from_fn(
                crate::idempotency::middleware,
            ))
            .wrap(actix_web::middleware::from_fn(
                crate::extract::refuse_nul_in_query,
            ))
            .wrap(actix_web::middleware::from_fn(
                crate::auth::required::middleware,
            ))
            // Not operations of the API: the document itself, and the multipart form of
            // `invoices::update` (documented there), which must match before the JSON one.
            .map(|scope| {
                scope
                    .service(docs::spec)
                    .service(invoices::update_with_receipt)
            })
            .service(setup::status)
            .service(setup::create_first_admin)
            .service(auth::login)
            .service(auth::logout)
            .service(auth::me)
            .service(auth::update_me)
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
            .service(invoices::receipt_pdf)
            .service(invoices::update)
            .service(invoices::replace_receipt)
            .service(invoices::remove)
            .service(messages::create)
            .service(messages::list_for_customer)
            .service(messages::list)
            .service(messages::templates)
            .service(messages::get)
            .service(messages::update)
            .service(messages::cancel)
            .service(messages::resend)
            .service(events::stream)
            .service(reminders::list)
            .service(reminders::create)
            .service(reminders::get)
            .service(reminders::update)
            .service(reminders::dismiss)
            .service(reminders::snooze)
            .service(reminders::remove)
            .service(webhooks::twilio_callback)
            .service(metrics::scrape),
    );
}
