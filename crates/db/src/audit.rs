//! The audit trail: who did what to which record, and when.
//!
//! Events are [`AuditEvent`]s of the contract, stored as their `action` and `changes`, and
//! recorded in the same transaction as the change they describe.

use chrono::{DateTime, Utc};
use crm_contract::{ActivityEvent, Actor, AuditEvent};
use crm_domain::{AuditEventId, CustomerId, UserId};
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::page::WrittenLimitDsl;
use crate::schema::{audit_events, users};

/// A row of `audit_events`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::pg::Pg))]
struct EventRow {
    id: AuditEventId,
    actor_user_id: Option<UserId>,
    action: String,
    changes: serde_json::Value,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
struct NewEventRow<'a> {
    actor_user_id: Option<UserId>,
    action: &'a str,
    entity_type: &'a str,
    entity_id: i64,
    customer_id: Option<CustomerId>,
    changes: serde_json::Value,
}

/// Whose trail an event belongs to, and whose trail to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trail {
    /// A customer's: the customer's own events and those of their invoices.
    Customer(CustomerId),
    /// A user account's: the account and its API tokens.
    User(UserId),
}

/// Records `event` on `trail`, done by `actor` (`None` from the command line). Call it in the
/// same transaction as the change.
pub fn record(
    conn: &mut PgConnection,
    actor: Option<UserId>,
    trail: Trail,
    event: &AuditEvent,
) -> QueryResult<()> {
    let (action, changes) = event.to_parts();
    let (entity_type, entity_id, customer_id) = match trail {
        Trail::Customer(customer) => ("customer", customer.get(), Some(customer)),
        Trail::User(user) => ("user", user.get(), None),
    };
    diesel::insert_into(audit_events::table)
        .values(NewEventRow {
            actor_user_id: actor,
            action: &action,
            entity_type,
            entity_id,
            customer_id,
            changes,
        })
        .execute(conn)
        .map(|_| ())
}

/// The events of `trail`, newest first, those older than `before` when given.
pub fn list(
    conn: &mut PgConnection,
    trail: Trail,
    before: Option<AuditEventId>,
    limit: i64,
) -> QueryResult<Vec<ActivityEvent>> {
    let mut query = audit_events::table
        .left_join(users::table)
        .order(audit_events::id.desc())
        .select((EventRow::as_select(), users::name.nullable()))
        .filter(in_trail(trail))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_events::id.lt(before));
    }
    let rows: Vec<(EventRow, Option<String>)> = query.written_limit(limit).load(conn)?;
    rows.into_iter()
        .map(|(row, actor_name)| {
            let event = AuditEvent::from_parts(&row.action, row.changes)
                .map_err(|error| diesel::result::Error::DeserializationError(Box::new(error)))?;
            Ok(ActivityEvent {
                id: row.id,
                event,
                actor: row
                    .actor_user_id
                    .zip(actor_name)
                    .map(|(id, name)| Actor { id, name }),
                created_at: row.created_at,
            })
        })
        .collect()
}

/// How many events `trail` has (PostgreSQL drops the join, whose columns it doesn't need).
pub fn count(conn: &mut PgConnection, trail: Trail) -> QueryResult<i64> {
    audit_events::table
        .left_join(users::table)
        .filter(in_trail(trail))
        .count()
        .get_result(conn)
}

/// Events with the user who did them, as [`list`] and [`count`] read them.
type WithActor = diesel::helper_types::LeftJoinQuerySource<audit_events::table, users::table>;

/// The condition that picks `trail`'s events.
fn in_trail(trail: Trail) -> Box<dyn BoxableExpression<WithActor, Pg, SqlType = Bool>> {
    match trail {
        // `customer_id = $1` either way; rows without a customer never match.
        Trail::Customer(customer) => {
            Box::new(audit_events::customer_id.assume_not_null().eq(customer))
        }
        Trail::User(user) => Box::new(
            audit_events::entity_type
                .eq("user")
                .and(audit_events::entity_id.eq(user.get())),
        ),
    }
}
