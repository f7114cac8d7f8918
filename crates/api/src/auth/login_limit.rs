//! The sign-in rate limit: failures are kept in PostgreSQL (so every API process sees them)
//! and counted per account and per client address within a sliding window.

use chrono::{DateTime, Utc};
use diesel::PgConnection;

use crate::config::LoginLimit;
use crate::error::ApiError;
use crate::state::AppState;

/// Refuses a sign-in with 429 while `email` or `client` has had too many recent failures;
/// `Retry-After` says when the oldest counted failure leaves the window.
pub fn check(
    conn: &mut PgConnection,
    limit: LoginLimit,
    email: &str,
    client: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let since = now - limit.window;
    let retry_after = |failures: Vec<DateTime<Utc>>, max: usize| {
        (failures.len() >= max).then(|| {
            let index = failures.len().saturating_sub(max);
            failures.get(index).map_or(1, |at| {
                u64::try_from((*at + limit.window - now).num_seconds().max(1)).unwrap_or(1)
            })
        })
    };
    let by_account = retry_after(
        crm_db::login_failures::for_email_since(conn, email, since)?,
        limit.per_account,
    );
    let by_client = retry_after(
        crm_db::login_failures::for_client_since(conn, client, since)?,
        limit.per_client,
    );
    match by_account.max(by_client) {
        Some(retry_after_secs) => Err(ApiError::RateLimited { retry_after_secs }),
        None => Ok(()),
    }
}

/// Counts a failed sign-in against `email` and `client`.
pub async fn record_failure(
    state: &AppState,
    email: String,
    client: String,
) -> Result<(), ApiError> {
    state
        .db(move |conn| {
            Ok(crm_db::login_failures::record(
                conn,
                &email,
                &client,
                Utc::now(),
            )?)
        })
        .await
}

/// Forgets an account's failures once it signs in.
pub async fn clear(state: &AppState, email: String) -> Result<(), ApiError> {
    state
        .db(move |conn| Ok(crm_db::login_failures::clear_for_email(conn, &email)?))
        .await
}
