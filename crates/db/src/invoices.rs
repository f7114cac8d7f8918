//! Invoices and their receipts' metadata (the PDFs themselves live in the object store).

use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::{CustomerId, InvoiceId};
use diesel::prelude::*;

use crate::schema::invoices;

/// A row of `invoices`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = invoices, check_for_backend(diesel::pg::Pg))]
pub struct Invoice {
    pub id: i64,
    pub customer_id: i64,
    pub number: String,
    pub amount_minor: i64,
    pub currency: String,
    pub issued_on: NaiveDate,
    pub notes: String,
    pub receipt_key: String,
    pub receipt_sha256: Vec<u8>,
    pub receipt_size: i64,
    pub receipt_pages: i32,
    pub receipt_original_name: String,
    pub receipt_original_type: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An invoice to insert; its receipt is already stored under `receipt_key`.
#[derive(Debug, Insertable)]
#[diesel(table_name = invoices)]
pub struct NewInvoice<'a> {
    pub customer_id: i64,
    pub number: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub issued_on: NaiveDate,
    pub notes: &'a str,
    #[diesel(embed)]
    pub receipt: ReceiptColumns<'a>,
    pub created_by: Option<i64>,
}

/// Inserts an invoice.
pub fn insert(conn: &mut PgConnection, new: &NewInvoice<'_>) -> QueryResult<Invoice> {
    diesel::insert_into(invoices::table)
        .values(new)
        .returning(Invoice::as_returning())
        .get_result(conn)
}

/// The invoice with this id.
pub fn find(conn: &mut PgConnection, id: InvoiceId) -> QueryResult<Invoice> {
    invoices::table
        .find(id.get())
        .select(Invoice::as_select())
        .first(conn)
}

/// Where a page of a customer's invoices ends: the last row's issue date and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPosition {
    pub issued_on: NaiveDate,
    pub id: i64,
}

impl ListPosition {
    /// The position just after `invoice`.
    pub fn after(invoice: &Invoice) -> Self {
        Self {
            issued_on: invoice.issued_on,
            id: invoice.id,
        }
    }
}

/// Up to `limit` of a customer's invoices after `after`, newest issue date first (then newest
/// id first, so invoices of one day keep a stable order across pages).
pub fn list_for_customer(
    conn: &mut PgConnection,
    customer: CustomerId,
    after: Option<ListPosition>,
    limit: i64,
) -> QueryResult<Vec<Invoice>> {
    let mut rows = invoices::table
        .filter(invoices::customer_id.eq(customer.get()))
        .order((invoices::issued_on.desc(), invoices::id.desc()))
        .select(Invoice::as_select())
        .limit(limit)
        .into_boxed();
    if let Some(position) = after {
        rows = rows.filter(
            invoices::issued_on
                .lt(position.issued_on)
                .or(invoices::issued_on
                    .eq(position.issued_on)
                    .and(invoices::id.lt(position.id))),
        );
    }
    rows.load(conn)
}

/// How many invoices a customer has.
pub fn count_for_customer(conn: &mut PgConnection, customer: CustomerId) -> QueryResult<i64> {
    invoices::table
        .filter(invoices::customer_id.eq(customer.get()))
        .count()
        .get_result(conn)
}

/// A customer's totals per currency, in minor units, by currency code.
pub fn totals_for_customer(
    conn: &mut PgConnection,
    customer: CustomerId,
) -> QueryResult<Vec<(String, i128)>> {
    use diesel::sql_types::{Nullable, Text};
    // sum(bigint) is numeric in PostgreSQL, and may pass i64's range over enough invoices;
    // read it as text into an i128 rather than pull in a decimal type.
    let rows: Vec<(String, Option<String>)> = invoices::table
        .filter(invoices::customer_id.eq(customer.get()))
        .group_by(invoices::currency)
        .order(invoices::currency.asc())
        .select((
            invoices::currency,
            diesel::dsl::sql::<Nullable<Text>>("sum(amount_minor)::text"),
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(currency, total)| {
            let total = total
                .as_deref()
                .unwrap_or("0")
                .parse::<i128>()
                .map_err(|error| diesel::result::Error::DeserializationError(Box::new(error)))?;
            Ok((currency, total))
        })
        .collect()
}

/// Deletes an invoice; returns it, so its receipt can be removed from storage.
pub fn delete(conn: &mut PgConnection, id: InvoiceId) -> QueryResult<Invoice> {
    diesel::delete(invoices::table.find(id.get()))
        .returning(Invoice::as_returning())
        .get_result(conn)
}

/// Changes to an invoice's fields; `None` leaves a column alone.
#[derive(Debug, Clone, Default, PartialEq, AsChangeset)]
#[diesel(table_name = invoices)]
pub struct InvoiceChanges {
    pub number: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub notes: Option<String>,
}

/// The receipt columns: part of a new invoice, and the change that replaces a receipt.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = invoices)]
pub struct ReceiptColumns<'a> {
    pub receipt_key: &'a str,
    pub receipt_sha256: &'a [u8],
    pub receipt_size: i64,
    pub receipt_pages: i32,
    pub receipt_original_name: &'a str,
    pub receipt_original_type: &'a str,
}

/// The invoice with this id, locked until the transaction ends.
pub fn find_for_update(conn: &mut PgConnection, id: InvoiceId) -> QueryResult<Invoice> {
    invoices::table
        .find(id.get())
        .select(Invoice::as_select())
        .for_update()
        .first(conn)
}

/// Applies `changes`; with none it returns the row as it is.
pub fn update(
    conn: &mut PgConnection,
    id: InvoiceId,
    changes: &InvoiceChanges,
) -> QueryResult<Invoice> {
    if *changes == InvoiceChanges::default() {
        return find(conn, id);
    }
    diesel::update(invoices::table.find(id.get()))
        .set(changes)
        .returning(Invoice::as_returning())
        .get_result(conn)
}

/// Points the invoice at a new receipt.
pub fn replace_receipt(
    conn: &mut PgConnection,
    id: InvoiceId,
    receipt: &ReceiptColumns<'_>,
) -> QueryResult<Invoice> {
    diesel::update(invoices::table.find(id.get()))
        .set(receipt)
        .returning(Invoice::as_returning())
        .get_result(conn)
}
