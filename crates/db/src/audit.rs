//! The audit trail: who did what to which record, and when.

use chrono::{DateTime, Utc};
use crm_domain::{CustomerId, UserId};
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::schema::{audit_events, users};

/// A row of `audit_events`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::pg::Pg))]
pub struct AuditEvent {
    pub id: i64,
    pub actor_user_id: Option<i64>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub customer_id: Option<i64>,
    pub changes: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// An event to record.
#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub actor_user_id: Option<i64>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: i64,
    pub customer_id: Option<i64>,
    pub changes: serde_json::Value,
}

impl<'a> NewAuditEvent<'a> {
    /// An event about a customer, done by `actor`.
    pub fn for_customer(
        actor: UserId,
        customer: CustomerId,
        action: &'a str,
        changes: serde_json::Value,
    ) -> Self {
        Self {
            actor_user_id: Some(actor.get()),
            action,
            entity_type: "customer",
            entity_id: customer.get(),
            customer_id: Some(customer.get()),
            changes,
        }
    }

    /// An event about a user account (or its API tokens), done by `actor` (`None` from the
    /// command line).
    pub fn for_user(
        actor: Option<UserId>,
        user: UserId,
        action: &'a str,
        changes: serde_json::Value,
    ) -> Self {
        Self {
            actor_user_id: actor.map(UserId::get),
            action,
            entity_type: "user",
            entity_id: user.get(),
            customer_id: None,
            changes,
        }
    }
}

/// Whose trail to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trail {
    /// A customer's: the customer's own events and those of their invoices.
    Customer(CustomerId),
    /// A user account's: the account and its API tokens.
    User(UserId),
}

/// Records an event (call it in the same transaction as the change).
pub fn record(conn: &mut PgConnection, event: &NewAuditEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)
        .map(|_| ())
}

/// An event with the name of the user who did it (if that user still exists).
pub type EventWithActor = (AuditEvent, Option<String>);

/// The events of `trail`, newest first, those older than `before_id` when given.
pub fn list(
    conn: &mut PgConnection,
    trail: Trail,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<EventWithActor>> {
    let mut query = audit_events::table
        .left_join(users::table)
        .order(audit_events::id.desc())
        .select((AuditEvent::as_select(), users::name.nullable()))
        .filter(in_trail(trail))
        .limit(limit)
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(audit_events::id.lt(before));
    }
    query.load(conn)
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
        Trail::Customer(customer) => Box::new(
            audit_events::customer_id
                .assume_not_null()
                .eq(customer.get()),
        ),
        Trail::User(user) => Box::new(
            audit_events::entity_type
                .eq("user")
                .and(audit_events::entity_id.eq(user.get())),
        ),
    }
}
