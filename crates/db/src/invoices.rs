//! Invoices and their receipts' metadata (the PDFs themselves live in the object store). Every
//! change is recorded on the customer's activity in the same transaction, and a receipt file is
//! claimed (or released for removal) in that transaction too.

use chrono::{DateTime, NaiveDate, Utc};
use crm_contract::AuditEvent;
use crm_contract::activity::{InvoiceAdded, InvoiceRef, ReceiptReplaced};
use crm_domain::{Amount, Currency, CustomerId, InvoiceId, UserId};
use diesel::pg::data_types::PgNumeric;
use diesel::prelude::*;

use crate::audit::{self, Trail};
use crate::page::WrittenLimitDsl;
use crate::schema::invoices;
use crate::stale_receipts;

/// A row of `invoices`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = invoices, check_for_backend(diesel::pg::Pg))]
pub struct Invoice {
    pub id: InvoiceId,
    pub customer_id: CustomerId,
    pub number: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub issued_on: NaiveDate,
    pub notes: String,
    pub receipt_key: String,
    pub receipt_sha256: Vec<u8>,
    pub receipt_size: i64,
    pub receipt_pages: i32,
    pub receipt_original_name: String,
    pub receipt_original_type: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Invoice {
    /// The exact amount.
    pub fn amount(&self) -> Amount {
        Amount::from_minor(self.amount_minor, self.currency)
    }
}

/// An invoice to insert; its receipt is already stored under `receipt_key`.
#[derive(Debug, Insertable)]
#[diesel(table_name = invoices)]
pub struct NewInvoice<'a> {
    pub customer_id: CustomerId,
    pub number: &'a str,
    pub amount_minor: i64,
    pub currency: Currency,
    pub issued_on: NaiveDate,
    pub notes: &'a str,
    #[diesel(embed)]
    pub receipt: ReceiptColumns<'a>,
    pub created_by: Option<UserId>,
}

/// Adds an invoice whose receipt is stored: the file is claimed and the invoice recorded on the
/// customer's activity, all in one transaction.
pub fn create(conn: &mut PgConnection, new: &NewInvoice<'_>) -> QueryResult<Invoice> {
    conn.transaction(|conn| {
        let invoice: Invoice = diesel::insert_into(invoices::table)
            .values(new)
            .returning(Invoice::as_returning())
            .get_result(conn)?;
        stale_receipts::forget(conn, new.receipt.receipt_key)?;
        let event = AuditEvent::InvoiceCreated(InvoiceAdded {
            invoice_id: invoice.id,
            number: invoice.number.clone(),
            amount: invoice.amount().to_string(),
            currency: invoice.currency.code().to_owned(),
        });
        audit::record(
            conn,
            new.created_by,
            Trail::Customer(invoice.customer_id),
            &event,
        )?;
        Ok(invoice)
    })
}

/// Deletes an invoice, releasing its receipt file for removal and recording it; returns the
/// invoice, so its file can be removed at once.
pub fn delete(conn: &mut PgConnection, actor: UserId, id: InvoiceId) -> QueryResult<Invoice> {
    conn.transaction(|conn| {
        let invoice: Invoice = diesel::delete(invoices::table.find(id))
            .returning(Invoice::as_returning())
            .get_result(conn)?;
        stale_receipts::schedule(conn, &invoice.receipt_key, Utc::now())?;
        let event = AuditEvent::InvoiceDeleted(InvoiceRef {
            invoice_id: invoice.id,
            number: invoice.number.clone(),
        });
        audit::record(
            conn,
            Some(actor),
            Trail::Customer(invoice.customer_id),
            &event,
        )?;
        Ok(invoice)
    })
}

/// Edits an invoice under a lock: `changes_of` turns the invoice as it is into the field changes
/// (or refuses), and `new_receipt`, when given, replaces the receipt (the new file claimed, the
/// old one released). Each is recorded. Returns the old receipt's key when it was replaced, and
/// the invoice as it is now.
pub fn edit<E: From<diesel::result::Error>>(
    conn: &mut PgConnection,
    actor: UserId,
    id: InvoiceId,
    changes_of: impl FnOnce(&Invoice) -> Result<InvoiceChanges, E>,
    new_receipt: Option<&ReceiptColumns<'_>>,
) -> Result<(Option<String>, Invoice), E> {
    conn.transaction(|conn| {
        let before = find_for_update(conn, id)?;
        let changes = changes_of(&before)?;
        let mut after = update(conn, id, &changes)?;
        let trail = Trail::Customer(after.customer_id);
        if changes != InvoiceChanges::default() {
            let event = AuditEvent::InvoiceUpdated(InvoiceRef {
                invoice_id: after.id,
                number: after.number.clone(),
            });
            audit::record(conn, Some(actor), trail, &event)?;
        }
        let Some(receipt) = new_receipt else {
            return Ok((None, after));
        };
        after = diesel::update(invoices::table.find(id))
            .set(receipt)
            .returning(Invoice::as_returning())
            .get_result(conn)?;
        stale_receipts::forget(conn, receipt.receipt_key)?;
        stale_receipts::schedule(conn, &before.receipt_key, Utc::now())?;
        let event = AuditEvent::InvoiceReceiptReplaced(ReceiptReplaced {
            invoice_id: after.id,
            original_name: after.receipt_original_name.clone(),
        });
        audit::record(conn, Some(actor), trail, &event)?;
        Ok((Some(before.receipt_key), after))
    })
}

/// The invoice with this id.
pub fn find(conn: &mut PgConnection, id: InvoiceId) -> QueryResult<Invoice> {
    invoices::table
        .find(id)
        .select(Invoice::as_select())
        .first(conn)
}

/// Where a page of a customer's invoices ends: the last row's issue date and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPosition {
    pub issued_on: NaiveDate,
    pub id: InvoiceId,
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
        .filter(invoices::customer_id.eq(customer))
        .order((invoices::issued_on.desc(), invoices::id.desc()))
        .select(Invoice::as_select())
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
    rows.written_limit(limit).load(conn)
}

/// How many invoices a customer has.
pub fn count_for_customer(conn: &mut PgConnection, customer: CustomerId) -> QueryResult<i64> {
    invoices::table
        .filter(invoices::customer_id.eq(customer))
        .count()
        .get_result(conn)
}

/// A customer's totals per currency, in minor units, by currency code.
pub fn totals_for_customer(
    conn: &mut PgConnection,
    customer: CustomerId,
) -> QueryResult<Vec<(Currency, i128)>> {
    // sum(bigint) is numeric in PostgreSQL, and may pass i64's range over enough invoices:
    // read in PostgreSQL's own numeric form and made an i128 here, rather than pull in a
    // decimal type or send raw SQL (which PostgreSQL would parse and plan on every request).
    let rows: Vec<(Currency, Option<PgNumeric>)> = invoices::table
        .filter(invoices::customer_id.eq(customer))
        .group_by(invoices::currency)
        .order(invoices::currency.asc())
        .select((invoices::currency, diesel::dsl::sum(invoices::amount_minor)))
        .load(conn)?;
    rows.into_iter()
        .map(|(currency, total)| {
            let total = total
                .as_ref()
                .map_or(Some(0), whole_number)
                .ok_or_else(|| {
                    diesel::result::Error::DeserializationError(
                        format!("the {currency} total is not a whole number in i128's range")
                            .into(),
                    )
                })?;
            Ok((currency, total))
        })
        .collect()
}

/// A numeric that holds a whole number, as an i128 (`None` for fractions, NaN or overflow).
fn whole_number(number: &PgNumeric) -> Option<i128> {
    let (negative, weight, digits) = match number {
        PgNumeric::Positive { weight, digits, .. } => (false, *weight, digits),
        PgNumeric::Negative { weight, digits, .. } => (true, *weight, digits),
        PgNumeric::NaN => return None,
    };
    // `digits` are base-10,000 digits; the first is worth 10,000^weight.
    let mut value: i128 = 0;
    for (position, &digit) in digits.iter().enumerate() {
        let power = i64::from(weight) - i64::try_from(position).ok()?;
        match u32::try_from(power) {
            Ok(power) => {
                let worth = i128::from(digit).checked_mul(10_000_i128.checked_pow(power)?)?;
                value = value.checked_add(worth)?;
            }
            Err(_) if digit == 0 => {}
            Err(_) => return None,
        }
    }
    Some(if negative { -value } else { value })
}

/// Changes to an invoice's fields; `None` leaves a column alone.
#[derive(Debug, Clone, Default, PartialEq, AsChangeset)]
#[diesel(table_name = invoices)]
pub struct InvoiceChanges {
    pub number: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<Currency>,
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
fn find_for_update(conn: &mut PgConnection, id: InvoiceId) -> QueryResult<Invoice> {
    invoices::table
        .find(id)
        .select(Invoice::as_select())
        .for_update()
        .first(conn)
}

/// Applies `changes`; with none it returns the row as it is.
fn update(
    conn: &mut PgConnection,
    id: InvoiceId,
    changes: &InvoiceChanges,
) -> QueryResult<Invoice> {
    if *changes == InvoiceChanges::default() {
        return find(conn, id);
    }
    diesel::update(invoices::table.find(id))
        .set(changes)
        .returning(Invoice::as_returning())
        .get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positive(weight: i16, digits: &[i16]) -> PgNumeric {
        PgNumeric::Positive {
            weight,
            scale: 0,
            digits: digits.to_vec(),
        }
    }

    #[test]
    fn whole_numerics_become_i128_and_fractions_do_not() {
        assert_eq!(whole_number(&positive(0, &[])), Some(0));
        assert_eq!(whole_number(&positive(0, &[1234])), Some(1_234));
        assert_eq!(whole_number(&positive(1, &[12, 3400])), Some(123_400));
        // Trailing zero digits are left out: 10,000² × 5.
        assert_eq!(whole_number(&positive(2, &[5])), Some(500_000_000));
        let negative = PgNumeric::Negative {
            weight: 4,
            scale: 0,
            digits: vec![9, 2233, 7203, 6854, 7758],
        };
        assert_eq!(whole_number(&negative), Some(-92_233_720_368_547_758));
        assert_eq!(whole_number(&positive(-1, &[5000])), None, "0.5");
        assert_eq!(whole_number(&positive(0, &[1, 5000])), None, "1.5");
        assert_eq!(whole_number(&positive(40, &[1])), None, "10^160");
        assert_eq!(whole_number(&PgNumeric::NaN), None);
    }
}
