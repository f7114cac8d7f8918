//! Customers: insert, read, change, archive, and the searchable list.

use chrono::{DateTime, Utc};
use crm_domain::CustomerId;
use diesel::pg::Pg;
use diesel::prelude::*;

use crate::lower;
use crate::schema::customers;

/// A row of `customers`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = customers, check_for_backend(diesel::pg::Pg))]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub whatsapp: Option<String>,
    pub timezone: String,
    pub notes: String,
    pub sms_opt_out: bool,
    pub whatsapp_opt_out: bool,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl Customer {
    /// The typed id.
    pub fn customer_id(&self) -> CustomerId {
        CustomerId::new(self.id)
    }
}

/// A customer to insert; every value already checked by `crm_domain`.
#[derive(Debug, Insertable)]
#[diesel(table_name = customers)]
pub struct NewCustomer<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub whatsapp: Option<&'a str>,
    pub timezone: &'a str,
    pub notes: &'a str,
    pub sms_opt_out: bool,
    pub whatsapp_opt_out: bool,
    pub created_by: Option<i64>,
}

/// Changes to a customer: `None` leaves a column alone; `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default, PartialEq, AsChangeset)]
#[diesel(table_name = customers)]
pub struct CustomerChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub whatsapp: Option<Option<String>>,
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
    pub name_key: String,
    pub id: i64,
}

impl ListPosition {
    /// The position just after `customer`.
    pub fn after(customer: &Customer) -> Self {
        Self {
            name_key: customer.name.to_lowercase(),
            id: customer.id,
        }
    }
}

/// Inserts a customer.
pub fn insert(conn: &mut PgConnection, new: &NewCustomer<'_>) -> QueryResult<Customer> {
    diesel::insert_into(customers::table)
        .values(new)
        .returning(Customer::as_returning())
        .get_result(conn)
}

/// The customer with this id.
pub fn find(conn: &mut PgConnection, id: CustomerId) -> QueryResult<Customer> {
    customers::table
        .find(id.get())
        .select(Customer::as_select())
        .first(conn)
}

/// The customer with this id, locked until the transaction ends.
pub fn find_for_update(conn: &mut PgConnection, id: CustomerId) -> QueryResult<Customer> {
    customers::table
        .find(id.get())
        .select(Customer::as_select())
        .for_update()
        .first(conn)
}

/// Applies `changes`; with no changes it returns the row as it is.
pub fn update(
    conn: &mut PgConnection,
    id: CustomerId,
    changes: &CustomerChanges,
) -> QueryResult<Customer> {
    if changes.is_empty() {
        return find(conn, id);
    }
    diesel::update(customers::table.find(id.get()))
        .set(changes)
        .returning(Customer::as_returning())
        .get_result(conn)
}

/// Archives (`Some(time)`) or restores (`None`) a customer.
pub fn set_archived_at(
    conn: &mut PgConnection,
    id: CustomerId,
    archived_at: Option<DateTime<Utc>>,
) -> QueryResult<Customer> {
    diesel::update(customers::table.find(id.get()))
        .set(customers::archived_at.eq(archived_at))
        .returning(Customer::as_returning())
        .get_result(conn)
}

/// A page of customers matching `query`, ordered by name (case-insensitive) then id,
/// starting after `after`.
pub fn list(
    conn: &mut PgConnection,
    query: &CustomerQuery<'_>,
    after: Option<&ListPosition>,
    limit: i64,
) -> QueryResult<Vec<Customer>> {
    let mut rows = filtered(query)
        .order((lower(customers::name).asc(), customers::id.asc()))
        .select(Customer::as_select())
        .limit(limit);
    if let Some(position) = after {
        rows = rows.filter(
            lower(customers::name)
                .gt(position.name_key.clone())
                .or(lower(customers::name)
                    .eq(position.name_key.clone())
                    .and(customers::id.gt(position.id))),
        );
    }
    rows.load(conn)
}

/// How many customers match `query`, over all pages.
pub fn count(conn: &mut PgConnection, query: &CustomerQuery<'_>) -> QueryResult<i64> {
    filtered(query).count().get_result(conn)
}

/// The customers a query selects, before ordering and paging.
fn filtered<'a>(query: &CustomerQuery<'_>) -> customers::BoxedQuery<'a, Pg> {
    let mut rows = customers::table.into_boxed();
    rows = match query.archived {
        ArchivedFilter::Active => rows.filter(customers::archived_at.is_null()),
        ArchivedFilter::Archived => rows.filter(customers::archived_at.is_not_null()),
        ArchivedFilter::All => rows,
    };
    let Some(search) = query.search.map(str::trim).filter(|s| !s.is_empty()) else {
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
