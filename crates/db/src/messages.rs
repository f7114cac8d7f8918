//! Scheduled messages: schedule, edit, cancel, resend (each recorded on the customer's activity
//! in the same transaction), the agenda, and the worker's side: claim, outcome, lease expiry.
//!
//! The row is the truth. A worker may only send a message it claimed in one statement that
//! checks the version, the status and the customer (archived, opted out) at once.

use chrono::{DateTime, Duration, Utc};
use crm_contract::AuditEvent;
use crm_contract::activity::{
    CancelReason, Change, MessageCanceled, MessageChanges, MessageResent, MessageScheduled,
};
use crm_contract::messages::{MessageStatus, SendMessage};
use crm_domain::{Channel, CustomerId, MessageId, PhoneNumber, UserId};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Interval, Text};

use crate::audit::{self, Trail};
use crate::page::WrittenLimitDsl;
use crate::reminders;
use crate::schema::{customers, message_templates, messages, webhook_deliveries};

/// A row of `messages`.
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = messages, check_for_backend(diesel::pg::Pg))]
pub struct Message {
    pub id: MessageId,
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub recipient: PhoneNumber,
    pub body: String,
    pub template_sid: Option<String>,
    pub template_variables: Option<serde_json::Value>,
    pub send_at: DateTime<Utc>,
    #[diesel(deserialize_as = StoredStatus)]
    pub status: MessageStatus,
    pub status_reason: Option<String>,
    pub status_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub provider_message_id: Option<String>,
    pub version: i32,
    pub job_id: Option<String>,
    pub claimed_by: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Message {
    /// The job that sends this message at its current version.
    pub fn job(&self) -> SendMessage {
        SendMessage {
            message_id: self.id,
            version: self.version,
        }
    }

    /// The template's variables as a map.
    pub fn variables(&self) -> Option<std::collections::BTreeMap<String, String>> {
        self.template_variables
            .as_ref()
            .and_then(|value| serde_json::from_value(value.clone()).ok())
    }
}

/// A status as stored: read back through [`MessageStatus::parse`]; anything else is an error,
/// never a silent fallback.
#[derive(Debug, FromSqlRow, AsExpression)]
#[diesel(sql_type = Text)]
pub struct StoredStatus(MessageStatus);

impl FromSql<Text, Pg> for StoredStatus {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        MessageStatus::parse(&text)
            .map(Self)
            .ok_or_else(|| format!("unknown message status {text:?}").into())
    }
}

impl From<StoredStatus> for MessageStatus {
    fn from(stored: StoredStatus) -> Self {
        stored.0
    }
}

/// A message with its customer's name, as lists show it.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Listed {
    pub message: Message,
    pub customer_name: String,
}

/// A message to schedule; every value already checked by `crm_domain`.
#[derive(Debug, Insertable)]
#[diesel(table_name = messages)]
pub struct NewMessage<'a> {
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub recipient: &'a PhoneNumber,
    pub body: &'a str,
    pub template_sid: Option<&'a str>,
    pub template_variables: Option<serde_json::Value>,
    pub send_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
}

/// New content or time for a scheduled message; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, AsChangeset)]
#[diesel(table_name = messages)]
pub struct MessageEdit {
    pub channel: Option<Channel>,
    pub recipient: Option<PhoneNumber>,
    pub body: Option<String>,
    pub template_sid: Option<Option<String>>,
    pub template_variables: Option<Option<serde_json::Value>>,
    pub send_at: Option<DateTime<Utc>>,
}

impl MessageEdit {
    /// The names of the fields that differ from `message` (`send_at` apart).
    fn changed_fields(&self, message: &Message) -> Vec<String> {
        let mut fields = Vec::new();
        let mut note = |name: &str, changed: bool| {
            if changed {
                fields.push(name.to_owned());
            }
        };
        note(
            "channel",
            self.channel.is_some_and(|c| c != message.channel),
        );
        note(
            "recipient",
            self.recipient
                .as_ref()
                .is_some_and(|r| *r != message.recipient),
        );
        note(
            "body",
            self.body.as_ref().is_some_and(|b| *b != message.body),
        );
        note(
            "template",
            self.template_sid
                .as_ref()
                .is_some_and(|t| *t != message.template_sid),
        );
        note(
            "variables",
            self.template_variables
                .as_ref()
                .is_some_and(|v| *v != message.template_variables),
        );
        fields
    }
}

/// Why a person's change to a message was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The message is no longer in a state that allows it (e.g. already sent).
    #[error("the message is {0:?}")]
    WrongStatus(MessageStatus),
    /// The message changed since the caller read it.
    #[error("the message is at version {current}")]
    StaleVersion { current: i32 },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Schedules a message and records it on the customer's activity, in one transaction.
pub fn create(conn: &mut PgConnection, new: &NewMessage<'_>) -> QueryResult<Message> {
    conn.transaction(|conn| {
        let message: Message = diesel::insert_into(messages::table)
            .values(new)
            .returning(Message::as_returning())
            .get_result(conn)?;
        let event = AuditEvent::MessageScheduled(MessageScheduled {
            message_id: message.id,
            channel: message.channel,
            recipient: message.recipient.as_str().to_owned(),
            send_at: message.send_at,
        });
        let trail = Trail::Customer(message.customer_id);
        audit::record(conn, new.created_by, trail, &event)?;
        Ok(message)
    })
}

/// The message with this id.
pub fn find(conn: &mut PgConnection, id: MessageId) -> QueryResult<Message> {
    messages::table
        .find(id)
        .select(Message::as_select())
        .first(conn)
}

/// The message with this id and its customer's name.
pub fn find_listed(conn: &mut PgConnection, id: MessageId) -> QueryResult<Listed> {
    messages::table
        .inner_join(customers::table)
        .filter(messages::id.eq(id))
        .select((Message::as_select(), customers::name))
        .first(conn)
}

/// Locks a message a person wants to change, checking its status (and `version` when given).
fn lock_for_change(
    conn: &mut PgConnection,
    id: MessageId,
    version: Option<i32>,
    allowed: fn(MessageStatus) -> bool,
) -> Result<Message, ChangeError> {
    let message: Message = messages::table
        .find(id)
        .select(Message::as_select())
        .for_update()
        .first(conn)?;
    if !allowed(message.status) {
        return Err(ChangeError::WrongStatus(message.status));
    }
    match version {
        Some(expected) if expected != message.version => Err(ChangeError::StaleVersion {
            current: message.version,
        }),
        _ => Ok(message),
    }
}

/// Edits a scheduled message at `version`: `edit_of` turns the message as it is (and the
/// connection, to read what it needs) into the edit, or refuses. The version is bumped (so its old job does nothing) and the change recorded.
pub fn edit<E: From<ChangeError> + From<diesel::result::Error>>(
    conn: &mut PgConnection,
    actor: UserId,
    id: MessageId,
    version: i32,
    edit_of: impl FnOnce(&mut PgConnection, &Message) -> Result<MessageEdit, E>,
) -> Result<Message, E> {
    conn.transaction(|conn| {
        let before = lock_for_change(conn, id, Some(version), MessageStatus::is_editable)?;
        let edit = edit_of(conn, &before)?;
        let fields = edit.changed_fields(&before);
        let send_at = edit
            .send_at
            .and_then(|at| Change::between(before.send_at, at))
            .map(|change| Change {
                from: change.from.to_rfc3339(),
                to: change.to.to_rfc3339(),
            });
        if fields.is_empty() && send_at.is_none() {
            return Ok(before);
        }
        let after: Message = diesel::update(messages::table.find(id))
            .set((
                &edit,
                messages::version.eq(messages::version + 1),
                messages::job_id.eq(None::<String>),
            ))
            .returning(Message::as_returning())
            .get_result(conn)
            .map_err(ChangeError::from)?;
        if after.send_at != before.send_at {
            reminders::follow_message_move(conn, id, after.send_at - before.send_at)
                .map_err(ChangeError::from)?;
        }
        let event = AuditEvent::MessageUpdated(MessageChanges {
            message_id: id,
            send_at,
            fields,
        });
        audit::record(
            conn,
            Some(actor),
            Trail::Customer(after.customer_id),
            &event,
        )
        .map_err(ChangeError::from)?;
        Ok(after)
    })
}

/// Cancels a scheduled message at a person's request, recording it.
pub fn cancel(
    conn: &mut PgConnection,
    actor: UserId,
    id: MessageId,
) -> Result<Message, ChangeError> {
    conn.transaction(|conn| {
        let before = lock_for_change(conn, id, None, MessageStatus::is_editable)?;
        let reason = CancelReason::Requested;
        let after = set_canceled(conn, id, reason.describe(before.channel))?;
        record_canceled(conn, Some(actor), &after, reason)?;
        Ok(after)
    })
}

/// Cancels every scheduled message of a customer (when the customer is archived), recording
/// each; call it inside the archiving transaction.
pub fn cancel_all_of(
    conn: &mut PgConnection,
    actor: Option<UserId>,
    customer: CustomerId,
    reason: CancelReason,
) -> QueryResult<Vec<Message>> {
    let scheduled: Vec<Message> = messages::table
        .filter(messages::customer_id.eq(customer))
        .filter(messages::status.eq(MessageStatus::Scheduled.as_str()))
        .select(Message::as_select())
        .for_update()
        .load(conn)?;
    let mut canceled = Vec::with_capacity(scheduled.len());
    for message in scheduled {
        let after = set_canceled(conn, message.id, reason.describe(message.channel))?;
        record_canceled(conn, actor, &after, reason)?;
        canceled.push(after);
    }
    Ok(canceled)
}

fn set_canceled(conn: &mut PgConnection, id: MessageId, reason: &str) -> QueryResult<Message> {
    diesel::update(messages::table.find(id))
        .set((
            messages::status.eq(MessageStatus::Canceled.as_str()),
            messages::status_reason.eq(reason),
            messages::version.eq(messages::version + 1),
        ))
        .returning(Message::as_returning())
        .get_result(conn)
}

fn record_canceled(
    conn: &mut PgConnection,
    actor: Option<UserId>,
    message: &Message,
    reason: CancelReason,
) -> QueryResult<()> {
    let why = format!(
        "Its message will not be sent. {}",
        reason.describe(message.channel)
    );
    reminders::follow_message_cancel(conn, message.id, &why)?;
    let event = AuditEvent::MessageCanceled(MessageCanceled {
        message_id: message.id,
        reason,
    });
    audit::record(conn, actor, Trail::Customer(message.customer_id), &event)
}

/// Schedules a `failed` or `unknown` message again, to go now, as a new attempt (new version);
/// recorded with the status it had.
pub fn resend(
    conn: &mut PgConnection,
    actor: UserId,
    id: MessageId,
) -> Result<Message, ChangeError> {
    conn.transaction(|conn| {
        let before = lock_for_change(conn, id, None, MessageStatus::is_resendable)?;
        let after: Message = diesel::update(messages::table.find(id))
            .set((
                messages::status.eq(MessageStatus::Scheduled.as_str()),
                messages::status_reason.eq(None::<String>),
                messages::status_at.eq(None::<DateTime<Utc>>),
                messages::send_at.eq(Utc::now()),
                messages::version.eq(messages::version + 1),
                messages::job_id.eq(None::<String>),
                messages::claimed_by.eq(None::<String>),
                messages::lease_until.eq(None::<DateTime<Utc>>),
                messages::provider_message_id.eq(None::<String>),
                messages::sent_at.eq(None::<DateTime<Utc>>),
            ))
            .returning(Message::as_returning())
            .get_result(conn)?;
        let event = AuditEvent::MessageResent(MessageResent {
            message_id: id,
            previous_status: before.status.as_str().to_owned(),
        });
        audit::record(
            conn,
            Some(actor),
            Trail::Customer(after.customer_id),
            &event,
        )?;
        Ok(after)
    })
}

/// Notes that job `job_id` was pushed for the message at `version` (ignored if it has moved on).
pub fn set_job(conn: &mut PgConnection, job: SendMessage, job_id: &str) -> QueryResult<()> {
    diesel::update(messages::table.find(job.message_id))
        .filter(messages::version.eq(job.version))
        .set(messages::job_id.eq(job_id))
        .execute(conn)
        .map(|_| ())
}

/// Which messages a list shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageQuery {
    pub customer: Option<CustomerId>,
    pub statuses: Vec<MessageStatus>,
    pub channel: Option<Channel>,
    /// Sent at or after.
    pub from: Option<DateTime<Utc>>,
    /// Sent before.
    pub to: Option<DateTime<Utc>>,
}

/// The order of a list: a customer's page shows the latest first, the agenda the soonest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    LatestFirst,
    SoonestFirst,
}

/// Where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPosition {
    pub send_at: DateTime<Utc>,
    pub id: MessageId,
}

impl ListPosition {
    /// The position right after `message`.
    pub fn after(message: &Message) -> Self {
        Self {
            send_at: message.send_at,
            id: message.id,
        }
    }
}

/// Messages with their customers, as lists read them.
type WithCustomers = diesel::dsl::InnerJoin<messages::table, customers::table>;

fn filtered(query: &MessageQuery) -> diesel::dsl::IntoBoxed<'static, WithCustomers, Pg> {
    let mut rows = messages::table.inner_join(customers::table).into_boxed();
    if let Some(customer) = query.customer {
        rows = rows.filter(messages::customer_id.eq(customer));
    }
    if !query.statuses.is_empty() {
        let statuses: Vec<&'static str> = query.statuses.iter().map(|s| s.as_str()).collect();
        rows = rows.filter(messages::status.eq_any(statuses));
    }
    if let Some(channel) = query.channel {
        rows = rows.filter(messages::channel.eq(channel));
    }
    if let Some(from) = query.from {
        rows = rows.filter(messages::send_at.ge(from));
    }
    if let Some(to) = query.to {
        rows = rows.filter(messages::send_at.lt(to));
    }
    rows
}

/// A page of messages matching `query` in `order`, starting after `after`.
pub fn list(
    conn: &mut PgConnection,
    query: &MessageQuery,
    order: Order,
    after: Option<ListPosition>,
    limit: i64,
) -> QueryResult<Vec<Listed>> {
    let mut rows = filtered(query);
    rows = match (order, after) {
        (Order::LatestFirst, Some(p)) => rows.filter(
            messages::send_at
                .lt(p.send_at)
                .or(messages::send_at.eq(p.send_at).and(messages::id.lt(p.id))),
        ),
        (Order::SoonestFirst, Some(p)) => rows.filter(
            messages::send_at
                .gt(p.send_at)
                .or(messages::send_at.eq(p.send_at).and(messages::id.gt(p.id))),
        ),
        (_, None) => rows,
    };
    rows = match order {
        Order::LatestFirst => rows.order((messages::send_at.desc(), messages::id.desc())),
        Order::SoonestFirst => rows.order((messages::send_at.asc(), messages::id.asc())),
    };
    rows.select((Message::as_select(), customers::name))
        .written_limit(limit)
        .load(conn)
}

/// How many messages match `query`, over all pages.
pub fn count(conn: &mut PgConnection, query: &MessageQuery) -> QueryResult<i64> {
    filtered(query).count().get_result(conn)
}

/// What a worker's claim found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The message is this worker's to send, until its lease ends.
    Send(Message),
    /// The customer can no longer receive it (archived, opted out): canceled, not sent.
    Canceled(Message),
    /// Nothing to do: the job is stale (edited, canceled, already sent) or a duplicate.
    Skip,
}

/// The claim: one statement that takes a due `scheduled` message at the job's version for
/// `worker` until `lease` from now, or cancels it if its customer was archived or opted out of
/// the channel since it was scheduled. Anything else (another version, another status, a
/// second copy of the job) claims nothing.
const CLAIM: &str = "
UPDATE messages m SET
    status = CASE WHEN c.archived_at IS NOT NULL OR m.channel = 'sms' AND c.sms_opt_out
                       OR m.channel = 'whatsapp' AND c.whatsapp_opt_out
                  THEN 'canceled' ELSE 'sending' END,
    status_reason = CASE WHEN c.archived_at IS NOT NULL THEN $4
                         WHEN m.channel = 'sms' AND c.sms_opt_out THEN $5
                         WHEN m.channel = 'whatsapp' AND c.whatsapp_opt_out THEN $6 END,
    attempts = m.attempts + 1,
    claimed_by = $3,
    lease_until = now() + $7
FROM customers c
WHERE m.id = $1 AND m.version = $2 AND m.status = 'scheduled' AND m.send_at <= now()
  AND c.id = m.customer_id
RETURNING m.*";

/// Claims the message of `job` for `worker` (see [`Claim`]); a cancelation is recorded on the
/// customer's activity in the same transaction.
pub fn claim_for_sending(
    conn: &mut PgConnection,
    job: SendMessage,
    worker: &str,
    lease: Duration,
) -> QueryResult<Claim> {
    conn.transaction(|conn| {
        let claimed: Option<Message> = diesel::sql_query(CLAIM)
            .bind::<BigInt, _>(job.message_id)
            .bind::<Integer, _>(job.version)
            .bind::<Text, _>(worker)
            .bind::<Text, _>(CancelReason::CustomerArchived.describe(Channel::Sms))
            .bind::<Text, _>(CancelReason::OptedOut.describe(Channel::Sms))
            .bind::<Text, _>(CancelReason::OptedOut.describe(Channel::Whatsapp))
            .bind::<Interval, _>(lease)
            .get_result(conn)
            .optional()?;
        let Some(message) = claimed else {
            return Ok(Claim::Skip);
        };
        if message.status != MessageStatus::Canceled {
            return Ok(Claim::Send(message));
        }
        let archived = message.status_reason.as_deref()
            == Some(CancelReason::CustomerArchived.describe(message.channel));
        let reason = if archived {
            CancelReason::CustomerArchived
        } else {
            CancelReason::OptedOut
        };
        record_canceled(conn, None, &message, reason)?;
        Ok(Claim::Canceled(message))
    })
}

/// Keeps `worker`'s claim for another `lease` (while it retries); false if it lost the claim.
pub fn extend_lease(
    conn: &mut PgConnection,
    id: MessageId,
    worker: &str,
    lease: Duration,
) -> QueryResult<bool> {
    diesel::update(messages::table.find(id))
        .filter(messages::status.eq(MessageStatus::Sending.as_str()))
        .filter(messages::claimed_by.eq(worker))
        .set(messages::lease_until.eq(Utc::now() + lease))
        .execute(conn)
        .map(|n| n == 1)
}

/// Gives `worker`'s claim back: the message is `scheduled` again, without a job (the
/// reconciler pushes a new one), for a message nothing was sent of. False if it was no longer
/// this worker's claim.
pub fn release_claim(conn: &mut PgConnection, id: MessageId, worker: &str) -> QueryResult<bool> {
    diesel::update(messages::table.find(id))
        .filter(messages::status.eq(MessageStatus::Sending.as_str()))
        .filter(messages::claimed_by.eq(worker))
        .set((
            messages::status.eq(MessageStatus::Scheduled.as_str()),
            messages::claimed_by.eq(None::<String>),
            messages::lease_until.eq(None::<DateTime<Utc>>),
            messages::job_id.eq(None::<String>),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// How a send ended, as the worker records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The provider accepted it under this id.
    Sent { provider_id: String },
    /// The provider refused it for good.
    Failed { reason: String },
    /// Nobody knows whether it went out; a person decides.
    Unknown { reason: String },
}

/// Records the outcome of `worker`'s send of `message` (at its claimed version). A claim that
/// expired meanwhile (the reconciler made it `unknown`) still gets the outcome the worker now
/// knows. Returns false when the message is no longer this worker's.
pub fn record_outcome(
    conn: &mut PgConnection,
    message: &Message,
    worker: &str,
    outcome: &Outcome,
) -> QueryResult<bool> {
    let now = Utc::now();
    let target = messages::table
        .find(message.id)
        .filter(messages::version.eq(message.version))
        .filter(messages::claimed_by.eq(worker))
        .filter(messages::status.eq_any([
            MessageStatus::Sending.as_str(),
            MessageStatus::Unknown.as_str(),
        ]));
    let done = (
        messages::lease_until.eq(None::<DateTime<Utc>>),
        messages::status_at.eq(now),
    );
    let updated = match outcome {
        Outcome::Sent { provider_id } => diesel::update(target)
            .set((
                done,
                messages::status.eq(MessageStatus::Sent.as_str()),
                messages::status_reason.eq(None::<String>),
                messages::provider_message_id.eq(provider_id),
                messages::sent_at.eq(now),
            ))
            .execute(conn)?,
        Outcome::Failed { reason } => diesel::update(target)
            .set((
                done,
                messages::status.eq(MessageStatus::Failed.as_str()),
                messages::status_reason.eq(reason),
            ))
            .execute(conn)?,
        Outcome::Unknown { reason } => diesel::update(target)
            .set((
                done,
                messages::status.eq(MessageStatus::Unknown.as_str()),
                messages::status_reason.eq(reason),
            ))
            .execute(conn)?,
    };
    Ok(updated == 1)
}

/// What the reconciler says of a claim whose worker went quiet.
pub const LEASE_EXPIRED: &str = "The worker stopped while sending it: it may or may not have gone out. Check with the customer before resending.";

/// Turns `sending` messages whose lease ended (their worker died mid-send) into `unknown`.
pub fn expire_leases(conn: &mut PgConnection) -> QueryResult<Vec<Message>> {
    diesel::update(messages::table)
        .filter(messages::status.eq(MessageStatus::Sending.as_str()))
        .filter(messages::lease_until.lt(Utc::now()))
        .set((
            messages::status.eq(MessageStatus::Unknown.as_str()),
            messages::status_reason.eq(LEASE_EXPIRED),
            messages::status_at.eq(Utc::now()),
        ))
        .returning(Message::as_returning())
        .get_results(conn)
}

/// Scheduled messages due at least `late` ago (oldest first, at most `limit`): the reconciler
/// checks whether Redis still holds their job.
pub fn overdue(conn: &mut PgConnection, late: Duration, limit: i64) -> QueryResult<Vec<Message>> {
    messages::table
        .filter(messages::status.eq(MessageStatus::Scheduled.as_str()))
        .filter(messages::send_at.le(Utc::now() - late))
        .order(messages::send_at.asc())
        .select(Message::as_select())
        .limit(limit)
        .load(conn)
}

/// Records what the provider reported about the message it knows as `provider_id`; moves only
/// forward (`sent` -> `delivered` -> `read`, or `undelivered`/`failed`). Returns the message
/// when it changed.
pub fn record_report(
    conn: &mut PgConnection,
    provider_id: &str,
    status: MessageStatus,
    reason: Option<&str>,
) -> QueryResult<Option<Message>> {
    let from: &[MessageStatus] = match status {
        MessageStatus::Delivered | MessageStatus::Undelivered | MessageStatus::Failed => &[
            MessageStatus::Sending,
            MessageStatus::Unknown,
            MessageStatus::Sent,
        ],
        MessageStatus::Read => &[
            MessageStatus::Sending,
            MessageStatus::Unknown,
            MessageStatus::Sent,
            MessageStatus::Delivered,
        ],
        MessageStatus::Sent => &[MessageStatus::Sending, MessageStatus::Unknown],
        _ => &[],
    };
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    diesel::update(messages::table)
        .filter(messages::provider_message_id.eq(provider_id))
        .filter(messages::status.eq_any(from))
        .set((
            messages::status.eq(status.as_str()),
            messages::status_reason.eq(reason),
            messages::status_at.eq(Utc::now()),
            messages::lease_until.eq(None::<DateTime<Utc>>),
        ))
        .returning(Message::as_returning())
        .get_result(conn)
        .optional()
}

/// Whether a provider callback with this idempotency token is new (and notes it if so).
pub fn first_delivery(conn: &mut PgConnection, token: &str) -> QueryResult<bool> {
    diesel::insert_into(webhook_deliveries::table)
        .values(webhook_deliveries::token.eq(token))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

/// A configured WhatsApp template.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = message_templates, check_for_backend(diesel::pg::Pg))]
pub struct Template {
    pub name: String,
    pub content_sid: String,
    pub variables: Vec<Option<String>>,
}

/// The configured WhatsApp templates, by name.
pub fn templates(conn: &mut PgConnection) -> QueryResult<Vec<Template>> {
    message_templates::table
        .order(message_templates::name.asc())
        .select(Template::as_select())
        .load(conn)
}

/// Adds (or, by name, replaces) a WhatsApp template.
pub fn save_template(
    conn: &mut PgConnection,
    name: &str,
    content_sid: &str,
    variables: &[String],
) -> QueryResult<()> {
    let variables: Vec<Option<&str>> = variables.iter().map(|v| Some(v.as_str())).collect();
    diesel::insert_into(message_templates::table)
        .values((
            message_templates::name.eq(name),
            message_templates::content_sid.eq(content_sid),
            message_templates::variables.eq(&variables),
        ))
        .on_conflict(message_templates::name)
        .do_update()
        .set((
            message_templates::content_sid.eq(content_sid),
            message_templates::variables.eq(&variables),
        ))
        .execute(conn)
        .map(|_| ())
}
