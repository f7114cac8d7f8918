//! Audit trails as the API shows them: a customer's (`/customers/{id}/activity`) and a user
//! account's (`/users/{id}/activity`), newest first, in pages.

use actix_web::web;
use crm_contract::ActivityPage;
use crm_db::audit::{self, Trail};
use crm_domain::{AuditEventId, FieldErrors};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::pagination::Paging;
use crate::state::AppState;

/// Where a page of activity ends (the opaque `cursor`).
#[derive(Debug, Serialize, Deserialize)]
pub struct ActivityCursor {
    i: AuditEventId,
}

/// The paging of an activity list.
pub type ActivityPaging = Paging<ActivityCursor>;

/// A page of `trail`, once `exists` has found its record (a 404 otherwise).
pub(crate) async fn page(
    state: &AppState,
    trail: Trail,
    paging: ActivityPaging,
    exists: impl FnOnce(&mut diesel::PgConnection) -> diesel::QueryResult<()> + Send + 'static,
) -> Result<web::Json<ActivityPage>, ApiError> {
    let paging = paging.checked(FieldErrors::new())?;
    let before = paging.after.as_ref().map(|c| c.i);
    let fetch = paging.fetch();
    let (events, total) = state
        .db(move |conn| {
            exists(conn)?;
            let events = audit::list(conn, trail, before, fetch)?;
            Ok((events, audit::count(conn, trail)?))
        })
        .await?;
    let position = |event: &crm_contract::ActivityEvent| ActivityCursor { i: event.id };
    Ok(web::Json(paging.page(events, total, position, |e| e)))
}
