//! The session and CSRF cookies.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};
use chrono::TimeDelta;

/// The session cookie: HttpOnly, so page scripts can't read it.
pub const SESSION_COOKIE: &str = "crm_session";
/// The CSRF cookie: readable, so the web app can echo it in `X-CSRF-Token`.
pub const CSRF_COOKIE: &str = "crm_csrf";
/// The header unsafe cookie-authenticated requests must carry.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// Both cookies for a new session.
pub fn for_session(
    session: &str,
    csrf: &str,
    ttl: TimeDelta,
    secure: bool,
) -> [Cookie<'static>; 2] {
    let max_age = time::Duration::seconds(ttl.num_seconds());
    [
        build(SESSION_COOKIE, session.to_owned(), true, secure, max_age),
        build(CSRF_COOKIE, csrf.to_owned(), false, secure, max_age),
    ]
}

/// Cookies that make the browser forget both.
pub fn cleared(secure: bool) -> [Cookie<'static>; 2] {
    [
        build(
            SESSION_COOKIE,
            String::new(),
            true,
            secure,
            time::Duration::ZERO,
        ),
        build(
            CSRF_COOKIE,
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
