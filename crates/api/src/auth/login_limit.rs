//! Password checks under back-off (sign-in, and the current password when changing it): each
//! attempt is counted in PostgreSQL, per account and per client, *before* Argon2 runs, so
//! every API process sees it and parallel guesses can't pass together. After the free
//! attempts the next one waits a delay that doubles up to a maximum; a correct password is
//! accepted as soon as the delay has passed, so the owner is never locked out for long.

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use actix_web::{HttpRequest, web};
use chrono::Utc;
use crm_db::login_attempts::Admission;
use crm_db::users::User;

use crate::auth::{CurrentUser, password};
use crate::error::ApiError;
use crate::extract::client_ip;
use crate::state::AppState;

/// The message under `current_password` when it is wrong.
pub const WRONG_CURRENT_PASSWORD: &str = "This is not your current password.";

/// What the per-client limit counts: an IPv4 address, or the /64 network of an IPv6 one (one
/// subscriber usually holds a whole /64, so single addresses would be free to change).
pub fn client_key(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let network = u128::from(v6) & !((1_u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(network))
        }
        None => "unknown".to_owned(),
    }
}

/// The client key of a request, honouring `TRUSTED_PROXIES`.
fn client_of(state: &AppState, req: &HttpRequest) -> String {
    client_key(client_ip(req, &state.config.trusted_proxies))
}

/// Signs `email` in with `password`: counts the attempt (429 with `Retry-After` while the
/// account or the client must wait), then checks the password. Unknown emails and disabled
/// accounts are checked against a dummy hash, so they take as long as a wrong password and
/// get the same 401.
pub async fn sign_in(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
    password: String,
) -> Result<User, ApiError> {
    let (account, client) = (email.to_lowercase(), client_of(state, req));
    let user = admit(state, &account, &client, {
        let email = email.to_owned();
        move |conn| Ok(crm_db::users::find_by_email(conn, &email)?)
    })
    .await?
    .filter(|user| user.disabled_at.is_none());
    let stored = user.as_ref().map(|user| user.password_hash.clone());
    if !verify(state, password, stored).await? {
        return Err(ApiError::BadCredentials);
    }
    succeeded(state, account, client).await?;
    user.ok_or(ApiError::BadCredentials)
}

/// Checks that `password` is the signed-in `user`'s own, limited like sign-in (the same
/// account and client counts): 429 while waiting, a 422 on `current_password` when wrong.
pub async fn check_current_password(
    state: &AppState,
    req: &HttpRequest,
    user: &CurrentUser,
    password: &str,
) -> Result<(), ApiError> {
    let (account, client) = (user.email.to_lowercase(), client_of(state, req));
    let id = user.id;
    let stored = admit(state, &account, &client, move |conn| {
        Ok(crm_db::users::find(conn, id)?.password_hash)
    })
    .await?;
    if !verify(state, password.to_owned(), Some(stored)).await? {
        return Err(ApiError::field("current_password", WRONG_CURRENT_PASSWORD));
    }
    succeeded(state, account, client).await
}

/// Counts an attempt for `account` from `client` and, when it is admitted, runs `then` in the
/// same database call; 429 when it is not.
async fn admit<T, F>(state: &AppState, account: &str, client: &str, then: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut diesel::PgConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let policy = state.config.login_limit;
    let (account, client) = (account.to_owned(), client.to_owned());
    state
        .db(move |conn| {
            match crm_db::login_attempts::admit(conn, &account, &client, &policy, Utc::now)? {
                Admission::Admitted => then(conn),
                Admission::Refused { retry_after } => {
                    let millis = u64::try_from(retry_after.num_milliseconds()).unwrap_or(0);
                    Err(ApiError::RateLimited {
                        retry_after_secs: millis.div_ceil(1000).max(1),
                    })
                }
            }
        })
        .await
}

/// Checks `password` against `stored` (or the dummy hash) off the async workers, counting the
/// check in [`AppState::password_checks`].
async fn verify(
    state: &AppState,
    password: String,
    stored: Option<String>,
) -> Result<bool, ApiError> {
    state.password_checks.fetch_add(1, Ordering::Relaxed);
    web::block(move || password::verify_or_dummy(&password, stored.as_deref()))
        .await
        .map_err(ApiError::internal)
}

/// Resets the account's count after a correct password, and gives the client its attempt back.
async fn succeeded(state: &AppState, account: String, client: String) -> Result<(), ApiError> {
    let policy = state.config.login_limit;
    state
        .db(move |conn| {
            Ok(crm_db::login_attempts::succeeded(
                conn,
                &account,
                &client,
                &policy,
                Utc::now(),
            )?)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_clients_are_single_addresses_and_ipv6_clients_their_64() {
        let key = |text: &str| client_key(text.parse().ok());
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(client_key(None), "unknown");
    }
}
