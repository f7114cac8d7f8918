//! The session and CSRF cookies. Served over https (an `https` `PUBLIC_URL`), their names
//! carry the `__Host-` prefix: the browser then keeps them only if they are `Secure`, for
//! `Path=/` and without `Domain`, so a neighbouring subdomain can't plant or shadow them.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::{HttpRequest, web};
use chrono::TimeDelta;

use crate::state::AppState;

/// The session cookie: HttpOnly, so page scripts can't read it.
pub const SESSION_COOKIE: &str = "crm_session";
/// The CSRF cookie: readable, so the web app can echo it in `X-CSRF-Token`.
pub const CSRF_COOKIE: &str = "crm_csrf";
/// The session cookie's name over https.
pub const HOST_SESSION_COOKIE: &str = "__Host-crm_session";
/// The CSRF cookie's name over https.
pub const HOST_CSRF_COOKIE: &str = "__Host-crm_csrf";
/// The header unsafe cookie-authenticated requests must carry.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// The names of the session and CSRF cookies: `__Host-` ones when served over https.
pub fn names(https: bool) -> [&'static str; 2] {
    if https {
        [HOST_SESSION_COOKIE, HOST_CSRF_COOKIE]
    } else {
        [SESSION_COOKIE, CSRF_COOKIE]
    }
}

/// The request's session cookie, under the name this deployment uses.
pub fn session_of(req: &HttpRequest) -> Option<Cookie<'static>> {
    let https = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.config.is_https());
    req.cookie(names(https)[0])
}

/// Both cookies for a new session; `https` as [`names`] takes it.
pub fn for_session(
    session: &str,
    csrf: &str,
    ttl: TimeDelta,
    secure: bool,
    https: bool,
) -> [Cookie<'static>; 2] {
    let max_age = time::Duration::seconds(ttl.num_seconds());
    let [session_name, csrf_name] = names(https);
    [
        build(session_name, session.to_owned(), true, secure, max_age),
        build(csrf_name, csrf.to_owned(), false, secure, max_age),
    ]
}

/// Cookies that make the browser forget both.
pub fn cleared(secure: bool, https: bool) -> [Cookie<'static>; 2] {
    let [session_name, csrf_name] = names(https);
    [
        build(
            session_name,
            String::new(),
            true,
            secure,
            time::Duration::ZERO,
        ),
        build(
            csrf_name,
            String::new(),
            false,
            secure,
            time::Duration::ZERO,
        ),
    ]
}

fn build(
    name: &'static str,
    value: String,
    http_only: bool,
    secure: bool,
    max_age: time::Duration,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(http_only)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .finish()
}

/// Whether cookies for this request must be `Secure`: served over https, directly or as the
/// configured public URL says.
pub fn must_be_secure(req: &HttpRequest, configured_https: bool) -> bool {
    configured_https || req.connection_info().scheme() == "https"
}
