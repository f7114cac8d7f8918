//! Audit trails as the API shows them: a customer's (`/customers/{id}/activity`) and a user
//! account's (`/users/{id}/activity`), newest first, in pages.

use actix_web::web;
use chrono::{DateTime, Utc};
use crm_db::audit::{self, Trail};
use crm_domain::FieldErrors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::pagination::{PageParams, parse_cursor, parse_limit, split_page};
use crate::state::AppState;

/// Who did something.
#[derive(Debug, Serialize, ToSchema)]
pub struct Actor {
    pub id: i64,
    pub name: String,
}

/// One recorded change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityEvent {
    pub id: i64,
    /// What happened: `customer.created`, `customer.updated`, `customer.archived`,
    /// `customer.restored`, `invoice.created`, `invoice.updated`, `invoice.receipt_replaced`,
    /// `invoice.deleted`; for accounts `user.created`, `user.updated`,
    /// `user.password_changed`, `token.created`, `token.revoked`.
    #[schema(example = "customer.updated")]
    pub action: String,
    /// The user who did it; `null` once that user is deleted, or when done from the command line.
    pub actor: Option<Actor>,
    /// Details: for updates, each changed field's value before and after.
    #[schema(value_type = Object, example = json!({"phone": {"from": null, "to": "+14155552671"}}))]
    pub changes: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// A page of activity, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityPage {
    pub items: Vec<ActivityEvent>,
    pub next_cursor: Option<String>,
    pub total: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct ActivityCursor {
    i: i64,
}

/// A page of `trail` as `params` ask, once `exists` has found its record (a 404 otherwise).
pub(crate) async fn page(
    state: &AppState,
    trail: Trail,
    params: &PageParams,
    exists: impl FnOnce(&mut diesel::PgConnection) -> diesel::QueryResult<()> + Send + 'static,
) -> Result<web::Json<ActivityPage>, ApiError> {
    let mut errors = FieldErrors::new();
    let limit = parse_limit(params.limit.as_deref(), &mut errors);
    let cursor: Option<ActivityCursor> = parse_cursor(params.cursor.as_deref(), &mut errors);
    errors.into_result(|| ())?;
    let (events, total) = state
        .db(move |conn| {
            exists(conn)?;
            let events = audit::list(conn, trail, cursor.map(|c| c.i), limit + 1)?;
            Ok((events, audit::count(conn, trail)?))
        })
        .await?;
    let (events, next_cursor) =
        split_page(events, limit, |(event, _)| ActivityCursor { i: event.id });
    let items = events
        .into_iter()
        .map(|(event, actor_name)| ActivityEvent {
            id: event.id,
            action: event.action,
            actor: event
                .actor_user_id
                .zip(actor_name)
                .map(|(id, name)| Actor { id, name }),
            changes: event.changes,
            created_at: event.created_at,
        })
        .collect();
    Ok(web::Json(ActivityPage {
        items,
        next_cursor,
        total,
    }))
}
