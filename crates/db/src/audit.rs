//! The audit trail: who did what to which record, and when.

use chrono::{DateTime, Utc};
use crm_domain::{CustomerId, UserId};
use diesel::prelude::*;

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

/// A customer's events, newest first, those older than `before_id` when given.
pub fn list_for_customer(
    conn: &mut PgConnection,
    customer: CustomerId,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<EventWithActor>> {
    let mut query = audit_events::table
        .left_join(users::table)
        .filter(audit_events::customer_id.eq(customer.get()))
        .order(audit_events::id.desc())
        .select((AuditEvent::as_select(), users::name.nullable()))
        .limit(limit)
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(audit_events::id.lt(before));
    }
    query.load(conn)
}

/// How many events a customer has.
pub fn count_for_customer(conn: &mut PgConnection, customer: CustomerId) -> QueryResult<i64> {
    audit_events::table
        .filter(audit_events::customer_id.eq(customer.get()))
        .count()
        .get_result(conn)
}
