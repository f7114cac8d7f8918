//! Customers: insert, read, change, archive, and the searchable list. Every change is recorded
//! on the customer's activity in the same transaction.

use chrono::{DateTime, Utc};
use crm_contract::activity::{
    CancelReason, Change, CustomerChanges as ChangedFields, CustomerFields,
};
use crm_contract::{AuditEvent, Total};
use crm_domain::{Channel, CustomerId, EmailAddress, PhoneNumber, UserId};
use diesel::dsl::{AsSelect, sql, sum};
use diesel::expression::SqlLiteral;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

use crate::audit::{self, Trail};
use crate::page::{WrittenLimit, WrittenLimitDsl};
use crate::schema::{customer_counts, customers};
use crate::{explain, lower, messages};

/// A row of `customers`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = customers, check_for_backend(diesel::pg::Pg))]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
    pub whatsapp: Option<PhoneNumber>,
    pub timezone: String,
    pub notes: String,
    pub sms_opt_out: bool,
    pub whatsapp_opt_out: bool,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl Customer {
    /// The editable fields, as the activity records them.
    pub fn fields(&self) -> CustomerFields {
        CustomerFields {
            name: self.name.clone(),
            email: self.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: self.phone.as_ref().map(|p| p.as_str().to_owned()),
            whatsapp: self.whatsapp.as_ref().map(|p| p.as_str().to_owned()),
            timezone: self.timezone.clone(),
            notes: self.notes.clone(),
            sms_opt_out: self.sms_opt_out,
            whatsapp_opt_out: self.whatsapp_opt_out,
        }
    }
}

/// A customer to insert; every value already checked by `crm_domain`.
#[derive(Debug, Insertable)]
#[diesel(table_name = customers)]
pub struct NewCustomer {
    pub name: String,
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
    pub whatsapp: Option<PhoneNumber>,
    pub timezone: String,
    pub notes: String,
    pub sms_opt_out: bool,
    pub whatsapp_opt_out: bool,
}

/// Changes to a customer: `None` leaves a column alone; `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default, PartialEq, AsChangeset)]
#[diesel(table_name = customers)]
pub struct CustomerChanges {
    pub name: Option<String>,
    pub email: Option<Option<EmailAddress>>,
    pub phone: Option<Option<PhoneNumber>>,
    pub whatsapp: Option<Option<PhoneNumber>>,
    pub timezone: Option<String>,
    pub notes: Option<String>,
    pub sms_opt_out: Option<bool>,
    pub whatsapp_opt_out: Option<bool>,
}

impl CustomerChanges {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Why a change to a customer was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// Archived customers must be restored before they change.
    #[error("the customer is archived")]
    Archived,
    /// The query failed (a missing customer is `NotFound`).
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Adds a customer, recording it on the customer's activity.
pub fn create(conn: &mut PgConnection, actor: UserId, new: &NewCustomer) -> QueryResult<Customer> {
    conn.transaction(|conn| {
        let customer: Customer = diesel::insert_into(customers::table)
            .values((new, customers::created_by.eq(actor)))
            .returning(Customer::as_returning())
            .get_result(conn)?;
        let event = AuditEvent::CustomerCreated(customer.fields());
        audit::record(conn, Some(actor), Trail::Customer(customer.id), &event)?;
        Ok(customer)
    })
}

/// Applies `changes` to an active customer, recording the fields that really changed.
pub fn change(
    conn: &mut PgConnection,
    actor: UserId,
    id: CustomerId,
    changes: &CustomerChanges,
) -> Result<Customer, ChangeError> {
    conn.transaction(|conn| {
        let before = find_for_update(conn, id)?;
        if before.archived_at.is_some() {
            return Err(ChangeError::Archived);
        }
        let after = update(conn, id, changes)?;
        let diff = ChangedFields::between(&before.fields(), &after.fields());
        if !diff.is_empty() {
            let event = AuditEvent::CustomerUpdated(diff);
            audit::record(conn, Some(actor), Trail::Customer(id), &event)?;
        }
        Ok(after)
    })
}

/// Archives (`true`) or restores (`false`) a customer, recording it when the state changes.
pub fn set_archived(
    conn: &mut PgConnection,
    actor: UserId,
    id: CustomerId,
    archived: bool,
) -> QueryResult<Customer> {
    conn.transaction(|conn| {
        let before = find_for_update(conn, id)?;
        if before.archived_at.is_some() == archived {
            return Ok(before);
        }
        let after = set_archived_at(conn, id, archived.then(Utc::now))?;
        let event = if archived {
            AuditEvent::CustomerArchived {}
        } else {
            AuditEvent::CustomerRestored {}
        };
        audit::record(conn, Some(actor), Trail::Customer(id), &event)?;
        if archived {
            messages::cancel_all_of(conn, Some(actor), id, CancelReason::CustomerArchived)?;
        }
        Ok(after)
    })
}

/// Sets (a STOP arrived) or clears (START) the opt-out of `channel` of every customer whose
/// number for that channel is `number`, recording each change (by nobody: the customer did it).
/// Returns the customers that changed.
pub fn set_opt_out_by_number(
    conn: &mut PgConnection,
    number: &PhoneNumber,
    channel: Channel,
    opt_out: bool,
) -> QueryResult<Vec<Customer>> {
    conn.transaction(|conn| {
        let ids: Vec<CustomerId> = match channel {
            Channel::Sms => customers::table
                .filter(customers::phone.eq(number))
                .filter(customers::sms_opt_out.ne(opt_out))
                .select(customers::id)
                .for_update()
                .load(conn)?,
            Channel::Whatsapp => customers::table
                .filter(customers::whatsapp.eq(number))
                .filter(customers::whatsapp_opt_out.ne(opt_out))
                .select(customers::id)
                .for_update()
                .load(conn)?,
        };
        let (changes, recorded) = match channel {
            Channel::Sms => (
                CustomerChanges {
                    sms_opt_out: Some(opt_out),
                    ..CustomerChanges::default()
                },
                ChangedFields {
                    sms_opt_out: Change::between(!opt_out, opt_out),
                    ..ChangedFields::default()
                },
            ),
            Channel::Whatsapp => (
                CustomerChanges {
                    whatsapp_opt_out: Some(opt_out),
                    ..CustomerChanges::default()
                },
                ChangedFields {
                    whatsapp_opt_out: Change::between(!opt_out, opt_out),
                    ..ChangedFields::default()
                },
            ),
        };
        let mut changed = Vec::with_capacity(ids.len());
        for id in ids {
            changed.push(update(conn, id, &changes)?);
            let event = AuditEvent::CustomerUpdated(recorded.clone());
            audit::record(conn, None, Trail::Customer(id), &event)?;
        }
        Ok(changed)
    })
}

/// Which customers a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ArchivedFilter {
    /// Only customers that are not archived (the default).
    #[default]
    Active,
    /// Only archived customers.
    Archived,
    /// Both.
    All,
}

/// What to list: an optional search text and the archived filter.
#[derive(Debug, Clone, Default)]
pub struct CustomerQuery<'a> {
    pub search: Option<&'a str>,
    pub archived: ArchivedFilter,
}

/// Where the next page starts: the last row's sort key. Rows added meanwhile never shift pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPosition {
    /// The last row's name, as stored: compared through PostgreSQL's own `lower()`, so Rust's
    /// and PostgreSQL's case rules (dotted İ, final Σ) can't disagree and skip or repeat rows.
    pub name_key: String,
    pub id: CustomerId,
}

impl ListPosition {
    /// The position just after `customer`.
    pub fn after(customer: &Customer) -> Self {
        Self {
            name_key: customer.name.clone(),
            id: customer.id,
        }
    }
}

/// The customer with this id.
pub fn find(conn: &mut PgConnection, id: CustomerId) -> QueryResult<Customer> {
    customers::table
        .find(id)
        .select(Customer::as_select())
        .first(conn)
}

/// The customer with this id, locked until the transaction ends.
pub fn find_for_update(conn: &mut PgConnection, id: CustomerId) -> QueryResult<Customer> {
    customers::table
        .find(id)
        .select(Customer::as_select())
        .for_update()
        .first(conn)
}

/// Applies `changes`; with no changes it returns the row as it is.
fn update(
    conn: &mut PgConnection,
    id: CustomerId,
    changes: &CustomerChanges,
) -> QueryResult<Customer> {
    if changes.is_empty() {
        return find(conn, id);
    }
    diesel::update(customers::table.find(id))
        .set(changes)
        .returning(Customer::as_returning())
        .get_result(conn)
}

/// Archives (`Some(time)`) or restores (`None`) a customer.
fn set_archived_at(
    conn: &mut PgConnection,
    id: CustomerId,
    archived_at: Option<DateTime<Utc>>,
) -> QueryResult<Customer> {
    diesel::update(customers::table.find(id))
        .set(customers::archived_at.eq(archived_at))
        .returning(Customer::as_returning())
        .get_result(conn)
}

/// A page of customers matching `query`, ordered by name (case-insensitive) then id,
/// starting after `after`, and how many match over all pages: [`list`] and [`count`], in one
/// query where the page's own query reads every match anyway. That is the first page of a
/// search the trigram indexes answer: its matches are all found and sorted, so counting them
/// there costs next to nothing, where a second query would find them again (the benchmark's
/// searches: +21 to +27 % requests per second; docs/PERFORMANCE.md, "Fourth pass").
pub fn page(
    conn: &mut PgConnection,
    query: &CustomerQuery<'_>,
    after: Option<&ListPosition>,
    limit: i64,
) -> QueryResult<(Vec<Customer>, Total)> {
    if search_text(query).is_none() {
        let (customers, kept) =
            with_total::<Option<i64>>(page_with_kept_total(query, after, limit).load(conn)?);
        let total = match kept {
            Some(total) => Total::Exact(total.unwrap_or(0)),
            // Past the last page no row carries the total.
            None => count(conn, query)?,
        };
        return Ok((customers, total));
    }
    if counts_in_page(query, after) {
        let (customers, matches) = with_total::<i64>(counted_first_page(query, limit).load(conn)?);
        return Ok((customers, capped(matches.unwrap_or(0))));
    }
    Ok((list(conn, query, after, limit)?, count(conn, query)?))
}

/// The customers of a page whose rows each carry the total, and that total (`None` for an
/// empty page).
fn with_total<T: Copy>(rows: Vec<(Customer, T)>) -> (Vec<Customer>, Option<T>) {
    let total = rows.first().map(|&(_, total)| total);
    (
        rows.into_iter().map(|(customer, _)| customer).collect(),
        total,
    )
}

/// The plan of the query [`page`] runs for its rows.
pub fn explain_page(
    conn: &mut PgConnection,
    query: &CustomerQuery<'_>,
    after: Option<&ListPosition>,
    limit: i64,
) -> QueryResult<String> {
    if search_text(query).is_none() {
        explain::plan(conn, page_with_kept_total(query, after, limit))
    } else if counts_in_page(query, after) {
        explain::plan(conn, counted_first_page(query, limit))
    } else {
        explain_list(conn, query, after, limit)
    }
}

/// A page of customers matching `query`, ordered by name (case-insensitive) then id,
/// starting after `after`.
pub fn list(
    conn: &mut PgConnection,
    query: &CustomerQuery<'_>,
    after: Option<&ListPosition>,
    limit: i64,
) -> QueryResult<Vec<Customer>> {
    page_query(query, after, limit).load(conn)
}

/// The plan of [`list`]'s query.
pub fn explain_list(
    conn: &mut PgConnection,
    query: &CustomerQuery<'_>,
    after: Option<&ListPosition>,
    limit: i64,
) -> QueryResult<String> {
    explain::plan(conn, page_query(query, after, limit))
}

/// Whether [`page`] counts in the page's own query: on the first page of a search whose
/// matches are all found and sorted anyway.
fn counts_in_page(query: &CustomerQuery<'_>, after: Option<&ListPosition>) -> bool {
    after.is_none() && sorts_matches(query)
}

/// Whether a search is long enough for the trigram indexes: its matches are then found through
/// them and sorted, rather than by walking the name order index.
fn sorts_matches(query: &CustomerQuery<'_>) -> bool {
    search_text(query).is_some_and(|text| text.chars().count() >= 3)
}

/// The rows of `query` in the list's order, starting after `after`.
fn ordered<'a>(
    query: &CustomerQuery<'_>,
    after: Option<&ListPosition>,
) -> customers::BoxedQuery<'a, Pg> {
    let rows = filtered(query);
    let mut rows = if sorts_matches(query) {
        // Sorted by an expression no index holds (the same order), so that PostgreSQL finds the
        // matches through the trigram indexes and sorts them, instead of walking the name order
        // index and testing row after row until it has a page: it picks that walk from a guess
        // at how many rows match, and a search for "Oliv" then read 100,000 rows (150 ms
        // instead of 10; docs/PERFORMANCE.md). Shorter text has no trigram to look up.
        rows.order((lower(customers::name).concat("").asc(), customers::id.asc()))
    } else {
        rows.order((lower(customers::name).asc(), customers::id.asc()))
    };
    if let Some(position) = after {
        // (name, id) after the position's. The first condition alone starts the order index's
        // scan at the position; with only the second, PostgreSQL read the index from its start
        // and page 50 cost as much as the first 50 pages.
        let name_key = || lower(position.name_key.clone());
        rows = rows.filter(lower(customers::name).ge(name_key())).filter(
            lower(customers::name)
                .gt(name_key())
                .or(customers::id.gt(position.id)),
        );
    }
    rows
}

/// A page of customers, `selection` of each.
type Paged<'a, Selection> =
    WrittenLimit<diesel::helper_types::Select<customers::BoxedQuery<'a, Pg>, Selection>>;

/// The query of one page of [`list`].
fn page_query<'a>(
    query: &CustomerQuery<'_>,
    after: Option<&ListPosition>,
    limit: i64,
) -> Paged<'a, AsSelect<Customer, Pg>> {
    ordered(query, after)
        .select(Customer::as_select())
        .written_limit(limit)
}

/// The first page of a search with, on each row, how many customers match in all (a window
/// over every match, counted before the limit).
fn counted_first_page<'a>(
    query: &CustomerQuery<'_>,
    limit: i64,
) -> Paged<'a, (AsSelect<Customer, Pg>, SqlLiteral<BigInt>)> {
    ordered(query, None)
        .select((Customer::as_select(), sql::<BigInt>("count(*) OVER ()")))
        .written_limit(limit)
}

/// A page of the list without a search, each row with the total the database keeps: one
/// statement instead of a page and then its count (the subquery runs once per statement).
fn page_with_kept_total<'a>(
    query: &CustomerQuery<'_>,
    after: Option<&ListPosition>,
    limit: i64,
) -> Paged<'a, (AsSelect<Customer, Pg>, KeptTotal)> {
    ordered(query, after)
        .select((Customer::as_select(), kept_total(query.archived)))
        .written_limit(limit)
}

/// A search counts its matches up to this many, then says "at least": the count is over the
/// rows the trigram indexes find, and a short search can match most of the table.
pub const SEARCH_COUNT_CAP: i64 = 1_000;

/// How many customers match `query`, over all pages, without counting the table: the list
/// without a search reads the counts the database keeps (`customer_counts`, kept by triggers);
/// a search counts its matches up to [`SEARCH_COUNT_CAP`].
pub fn count(conn: &mut PgConnection, query: &CustomerQuery<'_>) -> QueryResult<Total> {
    if search_text(query).is_none() {
        let slots: Vec<i64> = kept_count(query.archived).load(conn)?;
        return Ok(Total::Exact(slots.into_iter().sum()));
    }
    let matches =
        i64::try_from(capped_matches(query).load::<CustomerId>(conn)?.len()).unwrap_or(i64::MAX);
    Ok(capped(matches))
}

/// The total of a search that found `matches`: exact up to [`SEARCH_COUNT_CAP`], then "at
/// least" that many, whichever query counted them (so every page of a search says the same).
fn capped(matches: i64) -> Total {
    if matches > SEARCH_COUNT_CAP {
        Total::AtLeast(SEARCH_COUNT_CAP)
    } else {
        Total::Exact(matches)
    }
}

/// The plan of [`count`]'s query.
pub fn explain_count(conn: &mut PgConnection, query: &CustomerQuery<'_>) -> QueryResult<String> {
    if search_text(query).is_none() {
        explain::plan(conn, kept_count(query.archived))
    } else {
        explain::plan(conn, capped_matches(query))
    }
}

/// The kept counts (one per slot, to be summed) of the customers `archived` selects. Summed by
/// the caller: `sum(n)` would be PostgreSQL's `numeric`, which diesel reads only through raw SQL
/// (parsed and planned again on every request) or, as in [`kept_total`], converted back.
fn kept_count(
    archived: ArchivedFilter,
) -> customer_counts::BoxedQuery<'static, Pg, diesel::sql_types::BigInt> {
    kept_slots(archived).select(customer_counts::n)
}

/// [`kept_count`]'s slots summed, as a value a query of customers can select.
type KeptTotal =
    diesel::dsl::SingleValue<customer_counts::BoxedQuery<'static, Pg, Nullable<BigInt>>>;

/// The total the database keeps of the customers `archived` selects (`NULL` without slots).
fn kept_total(archived: ArchivedFilter) -> KeptTotal {
    kept_slots(archived)
        .select(int8(sum(customer_counts::n)))
        .single_value()
}

/// The slots of the kept counts that `archived` selects.
fn kept_slots(archived: ArchivedFilter) -> customer_counts::BoxedQuery<'static, Pg> {
    let slots = customer_counts::table.into_boxed();
    match archived {
        ArchivedFilter::Active => slots.filter(customer_counts::archived.eq(false)),
        ArchivedFilter::Archived => slots.filter(customer_counts::archived.eq(true)),
        ArchivedFilter::All => slots,
    }
}

diesel::define_sql_function! {
    /// SQL `int8(numeric)`: a `sum` of `bigint`s (a `numeric` in PostgreSQL) as a `bigint`.
    #[sql_name = "int8"]
    fn int8(x: Nullable<diesel::sql_types::Numeric>) -> Nullable<BigInt>;
}

/// The ids of the first matches of a search, one more than the cap.
fn capped_matches<'a>(
    query: &CustomerQuery<'_>,
) -> customers::BoxedQuery<'a, Pg, diesel::sql_types::BigInt> {
    filtered(query)
        .select(customers::id)
        .limit(SEARCH_COUNT_CAP + 1)
}

/// The search text, trimmed; `None` when there is none or it is blank.
fn search_text<'a>(query: &CustomerQuery<'a>) -> Option<&'a str> {
    query.search.map(str::trim).filter(|s| !s.is_empty())
}

/// The customers a query selects, before ordering and paging.
fn filtered<'a>(query: &CustomerQuery<'_>) -> customers::BoxedQuery<'a, Pg> {
    let mut rows = customers::table.into_boxed();
    rows = match query.archived {
        ArchivedFilter::Active => rows.filter(customers::archived_at.is_null()),
        ArchivedFilter::Archived => rows.filter(customers::archived_at.is_not_null()),
        ArchivedFilter::All => rows,
    };
    let Some(search) = search_text(query) else {
        return rows;
    };
    let pattern = format!("%{}%", escape_like(search));
    match phone_digits(search) {
        Some(digits) => {
            let digits = format!("%{digits}%");
            rows.filter(
                customers::name
                    .ilike(pattern.clone())
                    .or(customers::email.ilike(pattern).assume_not_null())
                    .or(customers::phone.like(digits.clone()).assume_not_null())
                    .or(customers::whatsapp.like(digits).assume_not_null()),
            )
        }
        None => rows.filter(
            customers::name
                .ilike(pattern.clone())
                .or(customers::email.ilike(pattern).assume_not_null()),
        ),
    }
}

/// Escapes the `LIKE` wildcards of user input, so `50%` matches the text `50%`.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The digits of a search that looks like (part of) a phone number, as stored in E.164:
/// `(415) 555` -> `415555`, `020 7946` -> `207946` (national trunk zeros dropped).
fn phone_digits(search: &str) -> Option<String> {
    let is_phone_like = search
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '+' | '/'));
    let digits: String = search.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_start_matches('0');
    (is_phone_like && digits.len() >= 3).then(|| digits.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }

    #[test]
    fn phone_like_searches_become_digits() {
        assert_eq!(phone_digits("(415) 555"), Some("415555".to_owned()));
        assert_eq!(phone_digits("+44 20 7946"), Some("44207946".to_owned()));
        assert_eq!(phone_digits("020 7946"), Some("207946".to_owned()));
        assert_eq!(phone_digits("12"), None);
        assert_eq!(phone_digits("Ada 415"), None);
    }
}
