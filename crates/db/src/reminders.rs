//! Reminders: set, listed by state (due, upcoming, dismissed), changed, dismissed, snoozed and
//! deleted; moved or dismissed with their message; announced when due.
//!
//! "Due" is decided here, by PostgreSQL's clock and a partial index: `remind_at <= now()` and
//! not dismissed. Every write fires the `reminder.changed` live event (a trigger, see the
//! migration); [`announce_due`] fires `reminder.due`.

use chrono::{DateTime, Duration, Utc};
use crm_contract::reminders::ReminderState;
use crm_domain::{CustomerId, MessageId, ReminderId, UserId};
use diesel::dsl::{InnerJoin, IntoBoxed, LeftJoin, now};
use diesel::pg::Pg;
use diesel::prelude::*;

use crate::page::WrittenLimitDsl;
use crate::schema::{customers, messages, reminders, users};

/// A row of `reminders`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = reminders, check_for_backend(diesel::pg::Pg))]
pub struct Reminder {
    pub id: ReminderId,
    pub owner_id: UserId,
    pub customer_id: CustomerId,
    pub message_id: Option<MessageId>,
    pub remind_at: DateTime<Utc>,
    pub note: String,
    pub dismissed_at: Option<DateTime<Utc>>,
    pub dismissed_reason: Option<String>,
    pub announced_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A reminder as lists show it: with its owner's and customer's names, its message's text,
/// and whether it is due now (by the database's clock).
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Listed {
    pub reminder: Reminder,
    pub owner_name: String,
    pub customer_name: String,
    pub message_body: Option<String>,
    pub message_template: Option<String>,
    pub due: bool,
}

/// A reminder to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = reminders)]
pub struct NewReminder<'a> {
    pub owner_id: UserId,
    pub customer_id: CustomerId,
    pub message_id: Option<MessageId>,
    pub remind_at: DateTime<Utc>,
    pub note: &'a str,
}

/// Which reminders a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderQuery {
    /// Only this user's (`None`: everyone's, for admins).
    pub owner: Option<UserId>,
    pub state: ReminderState,
    /// Only about this customer.
    pub customer: Option<CustomerId>,
}

/// Where the previous page ended: the time the list is ordered by, and the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPosition {
    pub at: DateTime<Utc>,
    pub id: ReminderId,
}

impl ListPosition {
    /// The position right after `reminder` in a list of `state`.
    pub fn after(reminder: &Reminder, state: ReminderState) -> Self {
        let at = match (state, reminder.dismissed_at) {
            (ReminderState::Dismissed, Some(dismissed)) => dismissed,
            _ => reminder.remind_at,
        };
        Self {
            at,
            id: reminder.id,
        }
    }
}

type Joined = LeftJoin<
    InnerJoin<InnerJoin<reminders::table, customers::table>, users::table>,
    messages::table,
>;

fn filtered(query: &ReminderQuery) -> IntoBoxed<'static, Joined, Pg> {
    let mut rows = reminders::table
        .inner_join(customers::table)
        .inner_join(users::table)
        .left_join(messages::table)
        .into_boxed();
    if let Some(owner) = query.owner {
        rows = rows.filter(reminders::owner_id.eq(owner));
    }
    if let Some(customer) = query.customer {
        rows = rows.filter(reminders::customer_id.eq(customer));
    }
    match query.state {
        ReminderState::Due => rows
            .filter(reminders::dismissed_at.is_null())
            .filter(reminders::remind_at.le(now)),
        ReminderState::Upcoming => rows
            .filter(reminders::dismissed_at.is_null())
            .filter(reminders::remind_at.gt(now)),
        ReminderState::Dismissed => rows.filter(reminders::dismissed_at.is_not_null()),
    }
}

/// A page of reminders matching `query`, starting after `after`: due and upcoming ones by
/// time (the longest waiting first), dismissed ones newest first.
pub fn list(
    conn: &mut PgConnection,
    query: &ReminderQuery,
    after: Option<ListPosition>,
    limit: i64,
) -> QueryResult<Vec<Listed>> {
    let mut rows = filtered(query);
    rows = match (query.state, after) {
        (ReminderState::Dismissed, Some(p)) => rows.filter(
            reminders::dismissed_at
                .lt(p.at)
                .or(reminders::dismissed_at.eq(p.at).and(reminders::id.lt(p.id))),
        ),
        (_, Some(p)) => rows.filter(
            reminders::remind_at
                .gt(p.at)
                .or(reminders::remind_at.eq(p.at).and(reminders::id.gt(p.id))),
        ),
        (_, None) => rows,
    };
    rows = match query.state {
        ReminderState::Dismissed => {
            rows.order((reminders::dismissed_at.desc(), reminders::id.desc()))
        }
        _ => rows.order((reminders::remind_at.asc(), reminders::id.asc())),
    };
    rows.select(listed_columns())
        .written_limit(limit)
        .load(conn)
}

/// How many reminders match `query`, over all pages.
pub fn count(conn: &mut PgConnection, query: &ReminderQuery) -> QueryResult<i64> {
    filtered(query).count().get_result(conn)
}

#[allow(clippy::type_complexity)]
fn listed_columns() -> (
    diesel::dsl::AsSelect<Reminder, Pg>,
    users::name,
    customers::name,
    diesel::dsl::Nullable<messages::body>,
    diesel::dsl::Nullable<messages::template_sid>,
    diesel::dsl::And<
        diesel::dsl::IsNull<reminders::dismissed_at>,
        diesel::dsl::LtEq<reminders::remind_at, now>,
    >,
) {
    (
        Reminder::as_select(),
        users::name,
        customers::name,
        messages::body.nullable(),
        messages::template_sid.nullable(),
        reminders::dismissed_at
            .is_null()
            .and(reminders::remind_at.le(now)),
    )
}

/// Sets a reminder.
pub fn create(conn: &mut PgConnection, new: &NewReminder<'_>) -> QueryResult<Reminder> {
    diesel::insert_into(reminders::table)
        .values(new)
        .returning(Reminder::as_returning())
        .get_result(conn)
}

/// The reminder with this id.
pub fn find(conn: &mut PgConnection, id: ReminderId) -> QueryResult<Reminder> {
    reminders::table
        .find(id)
        .select(Reminder::as_select())
        .first(conn)
}

/// The reminder with this id, as lists show it.
pub fn find_listed(conn: &mut PgConnection, id: ReminderId) -> QueryResult<Listed> {
    reminders::table
        .inner_join(customers::table)
        .inner_join(users::table)
        .left_join(messages::table)
        .filter(reminders::id.eq(id))
        .select(listed_columns())
        .first(conn)
}

/// A change to a reminder; `None` keeps a field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReminderEdit {
    pub remind_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// Changes a reminder. A new time opens it again (no longer dismissed) and makes it fall due
/// afresh.
pub fn edit(conn: &mut PgConnection, id: ReminderId, edit: &ReminderEdit) -> QueryResult<Reminder> {
    conn.transaction(|conn| {
        if let Some(note) = &edit.note {
            diesel::update(reminders::table.find(id))
                .set(reminders::note.eq(note))
                .execute(conn)?;
        }
        if let Some(at) = edit.remind_at {
            reschedule(conn, id, at)?;
        }
        find(conn, id)
    })
}

/// Puts a reminder off until `until` (open again, due afresh then).
pub fn snooze(
    conn: &mut PgConnection,
    id: ReminderId,
    until: DateTime<Utc>,
) -> QueryResult<Reminder> {
    reschedule(conn, id, until)
}

fn reschedule(conn: &mut PgConnection, id: ReminderId, at: DateTime<Utc>) -> QueryResult<Reminder> {
    diesel::update(reminders::table.find(id))
        .set((
            reminders::remind_at.eq(at),
            reminders::dismissed_at.eq(None::<DateTime<Utc>>),
            reminders::dismissed_reason.eq(None::<String>),
            reminders::announced_at.eq(None::<DateTime<Utc>>),
        ))
        .returning(Reminder::as_returning())
        .get_result(conn)
}

/// Dismisses a reminder (a reminder already dismissed stays as it was).
pub fn dismiss(conn: &mut PgConnection, id: ReminderId) -> QueryResult<Reminder> {
    let dismissed = diesel::update(reminders::table.find(id))
        .filter(reminders::dismissed_at.is_null())
        .set(reminders::dismissed_at.eq(now))
        .returning(Reminder::as_returning())
        .get_result(conn)
        .optional()?;
    match dismissed {
        Some(reminder) => Ok(reminder),
        None => find(conn, id),
    }
}

/// Deletes a reminder; whether there was one.
pub fn delete(conn: &mut PgConnection, id: ReminderId) -> QueryResult<bool> {
    diesel::delete(reminders::table.find(id))
        .execute(conn)
        .map(|n| n == 1)
}

/// Moves the open reminders of a message whose send time moved by `by` (call it in the
/// edit's transaction). One moved into the future falls due again.
pub fn follow_message_move(
    conn: &mut PgConnection,
    message: MessageId,
    by: Duration,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE reminders SET remind_at = remind_at + $2,
                announced_at = CASE WHEN remind_at + $2 > now() THEN NULL ELSE announced_at END
         WHERE message_id = $1 AND dismissed_at IS NULL",
    )
    .bind::<diesel::sql_types::BigInt, _>(message)
    .bind::<diesel::sql_types::Interval, _>(by)
    .execute(conn)
}

/// Dismisses the open reminders of a message that will not be sent, saying `why` (call it in
/// the cancelation's transaction).
pub fn follow_message_cancel(
    conn: &mut PgConnection,
    message: MessageId,
    why: &str,
) -> QueryResult<usize> {
    diesel::update(reminders::table)
        .filter(reminders::message_id.eq(message))
        .filter(reminders::dismissed_at.is_null())
        .set((
            reminders::dismissed_at.eq(now),
            reminders::dismissed_reason.eq(why),
        ))
        .execute(conn)
}

/// Marks up to `limit` reminders that fell due as announced, which publishes `reminder.due`
/// for each (the trigger). Several API processes may run it at once: each reminder is taken
/// by one of them (`SKIP LOCKED`), once per time it falls due.
pub fn announce_due(conn: &mut PgConnection, limit: i64) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE reminders SET announced_at = now()
         WHERE id IN (SELECT id FROM reminders
                      WHERE remind_at <= now() AND dismissed_at IS NULL AND announced_at IS NULL
                      ORDER BY remind_at LIMIT $1 FOR UPDATE SKIP LOCKED)",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
}

/// How many of `owner`'s reminders about each of `customers` are due now.
pub fn due_by_customer(
    conn: &mut PgConnection,
    owner: UserId,
    customers: &[CustomerId],
) -> QueryResult<Vec<(CustomerId, i64)>> {
    reminders::table
        .filter(reminders::owner_id.eq(owner))
        .filter(reminders::customer_id.eq_any(customers))
        .filter(reminders::dismissed_at.is_null())
        .filter(reminders::remind_at.le(now))
        .group_by(reminders::customer_id)
        .select((reminders::customer_id, diesel::dsl::count_star()))
        .load(conn)
}
