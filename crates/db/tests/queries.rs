//! The query functions the API's lists rely on, each test on a fresh database of its own:
//! customer search and the archived filter, keyset paging, a customer's invoices and their
//! totals per currency, and the audit trail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::NaiveDate;
use crm_contract::activity::{Actor, Change, CustomerChanges as ChangedFields, InvoiceAdded};
use crm_contract::{AuditEvent, Total};
use crm_db::PgPooledConnection;
use crm_db::audit::{self, Trail};
use crm_db::customers::{
    self, ArchivedFilter, ChangeError, Customer, CustomerChanges, CustomerQuery, ListPosition,
    NewCustomer,
};
use crm_db::invoices::{self, Invoice, NewInvoice, ReceiptColumns};
use crm_db::test_support::TestDatabase;
use crm_db::users::{self, NewUser};
use crm_domain::{
    AuditEventId, Currency, CustomerId, EmailAddress, InvoiceId, PhoneNumber, Role, UserId,
};
use diesel::PgConnection;

// ---------------------------------------------------------------------------------------------
// Ids. Every id a test compares goes through these, so they are the one place to adapt if the
// rows' id types change again.

fn customer_ids<'a>(rows: impl IntoIterator<Item = &'a Customer>) -> Vec<CustomerId> {
    rows.into_iter().map(|customer| customer.id).collect()
}

fn invoice_ids<'a>(rows: impl IntoIterator<Item = &'a Invoice>) -> Vec<InvoiceId> {
    rows.into_iter().map(|invoice| invoice.id).collect()
}

// ---------------------------------------------------------------------------------------------
// Set-up.

/// A fresh, migrated, empty database, a connection to it, and a staff member, Grace, to do
/// things (created from the command line, so with no actor). The database must outlive the
/// connection: bind it first (`let (_db, mut conn, grace) = fresh();`), so it is dropped last.
fn fresh() -> (TestDatabase, PgPooledConnection, UserId) {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let grace = add_user(&mut conn, None, "Grace", "grace@example.com");
    (db, conn, grace)
}

fn add_user(conn: &mut PgConnection, actor: Option<UserId>, name: &str, email: &str) -> UserId {
    let new = NewUser {
        email,
        name,
        password_hash: "not a real hash",
        role: Role::Staff,
    };
    users::create(conn, actor, &new).expect("create a user").id
}

/// A customer with only a name; fill in more with `NewCustomer { …, ..customer("…") }`.
fn customer(name: &str) -> NewCustomer {
    NewCustomer {
        name: name.to_owned(),
        email: None,
        phone: None,
        whatsapp: None,
        timezone: "UTC".to_owned(),
        notes: String::new(),
        sms_opt_out: false,
        whatsapp_opt_out: false,
    }
}

fn email(text: &str) -> Option<EmailAddress> {
    Some(EmailAddress::parse(text).expect("a valid email address"))
}

/// A number as stored, in E.164.
fn phone(e164: &str) -> Option<PhoneNumber> {
    Some(PhoneNumber::from_e164(e164.to_owned()).expect("an E.164 number"))
}

fn add(conn: &mut PgConnection, actor: UserId, new: NewCustomer) -> Customer {
    customers::create(conn, actor, &new).expect("create a customer")
}

fn add_named(conn: &mut PgConnection, actor: UserId, name: &str) -> Customer {
    add(conn, actor, customer(name))
}

fn archive(conn: &mut PgConnection, actor: UserId, id: CustomerId, archived: bool) -> Customer {
    customers::set_archived(conn, actor, id, archived).expect("archive or restore")
}

fn currency(code: &str) -> Currency {
    Currency::parse(code).expect("a known currency")
}

/// Adds an invoice of `customer`, with a made-up receipt.
fn add_invoice(
    conn: &mut PgConnection,
    actor: UserId,
    customer: CustomerId,
    number: &str,
    amount_minor: i64,
    currency_code: &str,
    issued_on: &str,
) -> Invoice {
    static RECEIPTS: AtomicU32 = AtomicU32::new(0);
    let receipt_key = format!("receipts/test-{}", RECEIPTS.fetch_add(1, Ordering::Relaxed));
    let issued_on: NaiveDate = issued_on.parse().expect("a date such as 2026-03-01");
    let new = NewInvoice {
        customer_id: customer,
        number,
        amount_minor,
        currency: currency(currency_code),
        issued_on,
        notes: "",
        receipt: ReceiptColumns {
            receipt_key: &receipt_key,
            receipt_sha256: &[7; 32],
            receipt_size: 1234,
            receipt_pages: 1,
            receipt_original_name: "receipt.pdf",
            receipt_original_type: "application/pdf",
        },
        created_by: Some(actor),
    };
    invoices::create(conn, &new).expect("create an invoice")
}

// ---------------------------------------------------------------------------------------------
// Reading customers.

/// The names the list shows for `search` (active customers), in list order; checks that the
/// count agrees.
fn names_found(conn: &mut PgConnection, search: &str) -> Vec<String> {
    let query = CustomerQuery {
        search: Some(search),
        archived: ArchivedFilter::Active,
    };
    let rows = customers::list(conn, &query, None, 100).expect("list customers");
    let total = customers::count(conn, &query).expect("count customers");
    assert_eq!(
        total,
        Total::Exact(rows.len() as i64),
        "the count for {search:?} matches the rows listed"
    );
    rows.into_iter().map(|c| c.name).collect()
}

/// Every page of `query`, `page_size` at a time, as the API walks them (each page starts after
/// the last row of the one before). Stops after far more pages than there can be, so a paging
/// bug that repeats a page fails the test instead of hanging it.
fn all_pages(
    conn: &mut PgConnection,
    query: &CustomerQuery<'_>,
    page_size: i64,
) -> Vec<Vec<Customer>> {
    let mut pages = Vec::new();
    let mut after: Option<ListPosition> = None;
    for _ in 0..50 {
        let page = customers::list(conn, query, after.as_ref(), page_size).expect("a page");
        let Some(last) = page.last() else {
            return pages;
        };
        after = Some(ListPosition::after(last));
        pages.push(page);
    }
    let names: Vec<Vec<&str>> = pages[..4]
        .iter()
        .map(|page| page.iter().map(|c| c.name.as_str()).collect())
        .collect();
    panic!("paging never ended; the first pages were {names:?}");
}

fn names<'a>(rows: impl IntoIterator<Item = &'a Customer>) -> Vec<&'a str> {
    rows.into_iter().map(|c| c.name.as_str()).collect()
}

/// The order the list promises: by name, case-insensitively, then by id.
fn in_list_order(mut rows: Vec<Customer>) -> Vec<CustomerId> {
    rows.sort_by_key(|c| (c.name.to_lowercase(), c.id));
    customer_ids(&rows)
}

// ---------------------------------------------------------------------------------------------
// Customer search.

#[test]
fn search_finds_customers_by_part_of_a_name_whatever_the_case() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    add_named(conn, grace, "Ada Lovelace");
    add_named(conn, grace, "Grace Hopper");
    add_named(conn, grace, "Adam Smith");

    assert_eq!(names_found(conn, "LOVE"), ["Ada Lovelace"]);
    assert_eq!(names_found(conn, "hopp"), ["Grace Hopper"]);
    assert_eq!(names_found(conn, "aDa"), ["Ada Lovelace", "Adam Smith"]);
    assert_eq!(
        names_found(conn, "  smith  "),
        ["Adam Smith"],
        "spaces around are ignored"
    );
    assert!(names_found(conn, "Babbage").is_empty());
}

#[test]
fn search_finds_customers_by_part_of_an_email_address() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let hopper = NewCustomer {
        email: email("grace@navy.example"),
        ..customer("Grace Hopper")
    };
    add(conn, grace, hopper);
    let lovelace = NewCustomer {
        email: email("ada@engines.example"),
        ..customer("Ada Lovelace")
    };
    add(conn, grace, lovelace);
    add_named(conn, grace, "No Email");

    assert_eq!(names_found(conn, "NAVY.ex"), ["Grace Hopper"]);
    assert_eq!(names_found(conn, "ada@"), ["Ada Lovelace"]);
    assert_eq!(
        names_found(conn, ".example"),
        ["Ada Lovelace", "Grace Hopper"],
        "customers without an email are simply not matched by it"
    );
}

#[test]
fn search_finds_customers_by_phone_digits_typed_with_spaces_and_punctuation() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let san_francisco = NewCustomer {
        phone: phone("+14155550123"),
        ..customer("San Francisco")
    };
    add(conn, grace, san_francisco);
    let london = NewCustomer {
        whatsapp: phone("+442079460958"),
        ..customer("London")
    };
    add(conn, grace, london);
    let berlin = NewCustomer {
        phone: phone("+4930123456"),
        ..customer("Berlin")
    };
    add(conn, grace, berlin);

    assert_eq!(names_found(conn, "(415) 555-01"), ["San Francisco"]);
    assert_eq!(names_found(conn, "+1 415.555"), ["San Francisco"]);
    assert_eq!(names_found(conn, "555 0123"), ["San Francisco"]);
    // A national number with its trunk zero finds the stored international one (WhatsApp too).
    assert_eq!(names_found(conn, "020 7946 0958"), ["London"]);
    assert_eq!(names_found(conn, "+44 20 7946"), ["London"]);
    assert_eq!(names_found(conn, "030 123 456"), ["Berlin"]);
    assert!(names_found(conn, "(999) 555").is_empty());
}

#[test]
fn search_treats_percent_and_underscore_as_plain_characters() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    for name in [
        "50% Discount Store",
        "500 Club",
        "snake_case Ltd",
        "snakeXcase Ltd",
    ] {
        add_named(conn, grace, name);
    }

    assert_eq!(names_found(conn, "50%"), ["50% Discount Store"]);
    assert_eq!(names_found(conn, "%"), ["50% Discount Store"]);
    assert_eq!(names_found(conn, "snake_case"), ["snake_case Ltd"]);
}

#[test]
fn a_page_and_its_total_agree_with_the_list_and_the_count_on_every_kind_of_page() {
    use diesel::RunQueryDsl;

    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    // More Olivias than the count's cap, a few other customers, and an archived Olivia.
    diesel::sql_query(format!(
        "INSERT INTO customers (name, timezone)
         SELECT 'Olivia ' || g, 'UTC' FROM generate_series(1, {}) AS g",
        customers::SEARCH_COUNT_CAP + 20
    ))
    .execute(conn)
    .unwrap();
    for name in ["Oliver Twist", "Ada Lovelace", "Bo", "Olive Oyl"] {
        add_named(conn, grace, name);
    }
    let archived = add_named(conn, grace, "Olivia Archived").id;
    archive(conn, grace, archived, true);

    let searches = [
        None,
        Some("Bo"),
        Some("oliv"),
        Some("Olive"),
        Some("Lovelace"),
        Some("nobody"),
    ];
    for search in searches {
        for archived in [
            ArchivedFilter::Active,
            ArchivedFilter::Archived,
            ArchivedFilter::All,
        ] {
            let query = CustomerQuery { search, archived };
            let listed = customers::list(conn, &query, None, 51).unwrap();
            let counted = customers::count(conn, &query).unwrap();
            let (rows, total) = customers::page(conn, &query, None, 51).unwrap();
            let what = format!("the first page of {search:?} ({archived:?})");
            assert_eq!(customer_ids(&rows), customer_ids(&listed), "{what}");
            assert_eq!(total, counted, "{what}");
            // A later page is the list's and says the same total.
            if let Some(last) = listed.get(24) {
                let after = ListPosition::after(last);
                let (later, later_total) = customers::page(conn, &query, Some(&after), 51).unwrap();
                let listed_later = customers::list(conn, &query, Some(&after), 51).unwrap();
                assert_eq!(
                    customer_ids(&later),
                    customer_ids(&listed_later),
                    "{what}, later"
                );
                assert_eq!(later_total, counted, "{what}, later");
            }
        }
    }
    // Past the last page of the plain list no row carries the kept total; the page still says it.
    let archived_only = CustomerQuery {
        search: None,
        archived: ArchivedFilter::Archived,
    };
    let (rows, total) = customers::page(conn, &archived_only, None, 51).unwrap();
    assert_eq!(customer_ids(&rows), [archived]);
    assert_eq!(total, Total::Exact(1));
    let past = ListPosition::after(&rows[0]);
    let (rest, rest_total) = customers::page(conn, &archived_only, Some(&past), 51).unwrap();
    assert!(rest.is_empty(), "nothing after the last customer");
    assert_eq!(rest_total, Total::Exact(1), "the total past the last page");

    let olivias = CustomerQuery {
        search: Some("oliv"),
        archived: ArchivedFilter::Active,
    };
    let (_, total) = customers::page(conn, &olivias, None, 51).unwrap();
    assert_eq!(
        total,
        Total::AtLeast(customers::SEARCH_COUNT_CAP),
        "capped as the count is"
    );
    let olives = CustomerQuery {
        search: Some("Olive"),
        archived: ArchivedFilter::All,
    };
    let (rows, total) = customers::page(conn, &olives, None, 51).unwrap();
    assert_eq!(total, Total::Exact(2), "Oliver and Olive");
    assert_eq!(rows.len(), 2);
}

#[test]
fn a_blank_search_lists_every_customer() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    add_named(conn, grace, "Bob");
    add_named(conn, grace, "alice");

    assert_eq!(names_found(conn, "   "), ["alice", "Bob"]);
    let no_search = CustomerQuery::default();
    assert_eq!(customers::count(conn, &no_search).unwrap(), Total::Exact(2));
}

// ---------------------------------------------------------------------------------------------
// The archived filter.

#[test]
fn the_archived_filter_shows_active_or_archived_or_all_customers_and_counts_them() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let ada = add_named(conn, grace, "Ada").id;
    let bob = add_named(conn, grace, "Bob").id;
    let carol = add_named(conn, grace, "Carol").id;
    archive(conn, grace, bob, true);

    let listed = |conn: &mut PgConnection, archived: ArchivedFilter, search: Option<&str>| {
        let query = CustomerQuery { search, archived };
        let rows = customers::list(conn, &query, None, 100).unwrap();
        let Total::Exact(total) = customers::count(conn, &query).unwrap() else {
            panic!("a count below the cap is exact");
        };
        (customer_ids(&rows), total)
    };

    assert_eq!(
        listed(conn, ArchivedFilter::Active, None),
        (vec![ada, carol], 2)
    );
    assert_eq!(listed(conn, ArchivedFilter::Archived, None), (vec![bob], 1));
    assert_eq!(
        listed(conn, ArchivedFilter::All, None),
        (vec![ada, bob, carol], 3)
    );
    assert_eq!(
        CustomerQuery::default().archived,
        ArchivedFilter::Active,
        "lists show active customers unless asked otherwise"
    );

    // The filter and a search both apply.
    assert_eq!(
        listed(conn, ArchivedFilter::Active, Some("bob")),
        (vec![], 0)
    );
    assert_eq!(
        listed(conn, ArchivedFilter::Archived, Some("bob")),
        (vec![bob], 1)
    );

    // Restoring brings the customer back to the active list.
    archive(conn, grace, bob, false);
    assert_eq!(listed(conn, ArchivedFilter::Active, None).1, 3);
    assert_eq!(listed(conn, ArchivedFilter::Archived, None), (vec![], 0));
}

// ---------------------------------------------------------------------------------------------
// Keyset paging over customers.

#[test]
fn pages_of_two_return_every_customer_exactly_once_in_name_then_id_order() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let mut added = Vec::new();
    for name in ["bob", "Alice", "Bob", "alice", "ALICE"] {
        added.push(add_named(conn, grace, name));
    }
    let query = CustomerQuery::default();

    let pages = all_pages(conn, &query, 2);

    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(customer_ids(pages.iter().flatten()), in_list_order(added));
    // Same-named customers come in the order they were added (by id).
    assert_eq!(
        names(pages.iter().flatten()),
        ["Alice", "alice", "ALICE", "bob", "Bob"]
    );
    assert_eq!(customers::count(conn, &query).unwrap(), Total::Exact(5));
}

#[test]
fn pages_of_search_results_return_every_match_exactly_once() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let mut matching = Vec::new();
    for name in [
        "Smith & Co",
        "smith",
        "Blacksmith",
        "SMITH",
        "Jones",
        "smithers",
    ] {
        let row = add_named(conn, grace, name);
        if name.to_lowercase().contains("smith") {
            matching.push(row);
        }
    }
    let query = CustomerQuery {
        search: Some("smith"),
        archived: ArchivedFilter::Active,
    };

    let pages = all_pages(conn, &query, 2);

    assert_eq!(
        customer_ids(pages.iter().flatten()),
        in_list_order(matching)
    );
    assert_eq!(customers::count(conn, &query).unwrap(), Total::Exact(5));
}

#[test]
fn a_customer_added_before_the_current_page_does_not_shift_the_next_page() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    for name in ["Bea", "Cleo", "Dora", "Ezra"] {
        add_named(conn, grace, name);
    }
    let query = CustomerQuery::default();
    let first = customers::list(conn, &query, None, 2).unwrap();
    let after = ListPosition::after(first.last().unwrap());

    add_named(conn, grace, "Aaron"); // sorts before everything already shown

    let second = customers::list(conn, &query, Some(&after), 2).unwrap();
    assert_eq!(
        names(first.iter().chain(&second)),
        ["Bea", "Cleo", "Dora", "Ezra"]
    );
}

/// `ListPosition::after` lowercases names in Rust, the list in SQL (`lower(name)`); where the
/// two disagree, paging goes wrong. Turkish dotted capital I: Rust gives "i̇" (i + U+0307),
/// PostgreSQL "i", so a page ending on "İlker" skips "Ilse" and "Ivan".
#[test]
fn paging_past_a_name_with_a_dotted_capital_i_skips_no_one() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    for name in ["İlker", "Ivan", "Ilse"] {
        add_named(conn, grace, name);
    }

    let pages = all_pages(conn, &CustomerQuery::default(), 1);

    assert_eq!(names(pages.iter().flatten()), ["İlker", "Ilse", "Ivan"]);
}

/// As above, with a Greek final sigma: Rust lowercases "ΟΔΟΣ" to "οδος", PostgreSQL to "οδοσ",
/// which sorts after it, so the page after "ΟΔΟΣ" starts with "ΟΔΟΣ" again, for ever.
#[test]
fn paging_past_a_name_ending_in_a_capital_sigma_does_not_repeat_it() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    add_named(conn, grace, "ΟΔΟΣ");
    add_named(conn, grace, "Zeta");

    let pages = all_pages(conn, &CustomerQuery::default(), 1);

    assert_eq!(names(pages.iter().flatten()), ["Zeta", "ΟΔΟΣ"]);
}

// ---------------------------------------------------------------------------------------------
// A customer's invoices: pages and totals.

#[test]
fn invoice_pages_are_newest_first_and_return_each_of_the_customers_invoices_once() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let ada = add_named(conn, grace, "Ada").id;
    let bob = add_named(conn, grace, "Bob").id;
    let jan = add_invoice(conn, grace, ada, "A-1", 100, "EUR", "2026-01-15");
    let mar_a = add_invoice(conn, grace, ada, "A-2", 200, "EUR", "2026-03-01");
    add_invoice(conn, grace, bob, "B-1", 999, "EUR", "2026-02-01");
    let feb = add_invoice(conn, grace, ada, "A-3", 300, "USD", "2026-02-10");
    let mar_b = add_invoice(conn, grace, ada, "A-4", 400, "EUR", "2026-03-01");
    let dec = add_invoice(conn, grace, ada, "A-5", 500, "EUR", "2025-12-31");

    let mut pages: Vec<Vec<Invoice>> = Vec::new();
    let mut after = None;
    loop {
        let page = invoices::list_for_customer(conn, ada, after, 2).unwrap();
        let Some(last) = page.last() else { break };
        after = Some(invoices::ListPosition::after(last));
        pages.push(page);
        assert!(pages.len() <= 10, "paging never ended: {pages:?}");
    }

    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1]);
    // Newest issue date first; of one day, the later-added first.
    assert_eq!(
        invoice_ids(pages.iter().flatten()),
        invoice_ids([&mar_b, &mar_a, &feb, &jan, &dec])
    );
    assert_eq!(invoices::count_for_customer(conn, ada).unwrap(), 5);
    assert_eq!(invoices::count_for_customer(conn, bob).unwrap(), 1);
}

#[test]
fn totals_are_exact_per_currency_over_all_of_the_customers_invoices_and_no_one_elses() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let ada = add_named(conn, grace, "Ada").id;
    let bob = add_named(conn, grace, "Bob").id;
    add_invoice(conn, grace, ada, "A-1", 1_050, "EUR", "2026-01-01"); // 10.50
    add_invoice(conn, grace, ada, "A-2", 2_025, "EUR", "2026-02-01"); // 20.25
    add_invoice(conn, grace, ada, "A-3", 999, "USD", "2026-03-01"); // 9.99
    add_invoice(conn, grace, bob, "B-1", 100_000, "EUR", "2026-01-01");
    add_invoice(conn, grace, bob, "B-2", 7, "GBP", "2026-01-01");

    // The API shows one page next to the totals; the totals still cover every invoice.
    let page = invoices::list_for_customer(conn, ada, None, 1).unwrap();
    assert_eq!(page.len(), 1);
    let totals = invoices::totals_for_customer(conn, ada).unwrap();

    assert_eq!(
        totals,
        [(currency("EUR"), 3_075), (currency("USD"), 999)],
        "30.75 EUR and 9.99 USD, in currency order"
    );
    assert_eq!(
        invoices::totals_for_customer(conn, bob).unwrap(),
        [(currency("EUR"), 100_000), (currency("GBP"), 7)]
    );
}

#[test]
fn totals_beyond_the_range_of_a_64_bit_integer_are_still_exact() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let ada = add_named(conn, grace, "Ada").id;
    add_invoice(conn, grace, ada, "A-1", i64::MAX, "JPY", "2026-01-01");
    add_invoice(conn, grace, ada, "A-2", i64::MAX, "JPY", "2026-01-02");
    add_invoice(conn, grace, ada, "A-3", 2, "JPY", "2026-01-03");

    let totals = invoices::totals_for_customer(conn, ada).unwrap();

    assert_eq!(totals, [(currency("JPY"), 2 * i128::from(i64::MAX) + 2)]);
}

#[test]
fn a_customer_without_invoices_has_no_totals_and_an_empty_first_page() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let ada = add_named(conn, grace, "Ada").id;
    let bob = add_named(conn, grace, "Bob").id;
    add_invoice(conn, grace, bob, "B-1", 500, "EUR", "2026-01-01");

    assert!(invoices::totals_for_customer(conn, ada).unwrap().is_empty());
    let first_page = invoices::list_for_customer(conn, ada, None, 10).unwrap();
    assert!(first_page.is_empty());
    assert_eq!(invoices::count_for_customer(conn, ada).unwrap(), 0);
}

// ---------------------------------------------------------------------------------------------
// The audit trail.

/// The actions of a trail's events, newest first, as `audit::list` gives them.
fn actions(conn: &mut PgConnection, trail: Trail) -> Vec<String> {
    audit::list(conn, trail, None, 100)
        .unwrap()
        .into_iter()
        .map(|event| event.event.to_parts().0)
        .collect()
}

#[test]
fn a_customers_trail_lists_its_own_and_its_invoices_events_newest_first_with_who_did_them() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let alan = add_user(conn, Some(grace), "Alan", "alan@example.com");
    let ada = add_named(conn, grace, "Ada").id;
    let bob = add_named(conn, alan, "Bob").id;
    let vip = CustomerChanges {
        notes: Some("VIP".to_owned()),
        ..CustomerChanges::default()
    };
    customers::change(conn, alan, ada, &vip).expect("change Ada's notes");
    let invoice = add_invoice(conn, grace, ada, "A-1", 1_050, "EUR", "2026-01-01");
    archive(conn, alan, ada, true);

    let events = audit::list(conn, Trail::Customer(ada), None, 50).unwrap();

    let shown: Vec<(String, Option<Actor>)> = events
        .iter()
        .map(|event| (event.event.to_parts().0, event.actor.clone()))
        .collect();
    let by = |id, name: &str| {
        Some(Actor {
            id,
            name: name.to_owned(),
        })
    };
    assert_eq!(
        shown,
        [
            ("customer.archived".to_owned(), by(alan, "Alan")),
            ("invoice.created".to_owned(), by(grace, "Grace")),
            ("customer.updated".to_owned(), by(alan, "Alan")),
            ("customer.created".to_owned(), by(grace, "Grace")),
        ]
    );
    let notes_changed = ChangedFields {
        notes: Change::between(String::new(), "VIP".to_owned()),
        ..ChangedFields::default()
    };
    assert_eq!(events[2].event, AuditEvent::CustomerUpdated(notes_changed));
    assert_eq!(
        events[1].event,
        AuditEvent::InvoiceCreated(InvoiceAdded {
            invoice_id: invoice.id,
            number: "A-1".to_owned(),
            amount: "10.50".to_owned(),
            currency: "EUR".to_owned(),
        })
    );
    assert_eq!(audit::count(conn, Trail::Customer(ada)).unwrap(), 4);
    assert_eq!(actions(conn, Trail::Customer(bob)), ["customer.created"]);
    assert_eq!(audit::count(conn, Trail::Customer(bob)).unwrap(), 1);
}

#[test]
fn audit_pages_before_an_id_return_every_event_exactly_once_and_the_count_is_the_total() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let ada = add_named(conn, grace, "Ada").id;
    let bob = add_named(conn, grace, "Bob").id;
    for archived in [true, false, true, false] {
        archive(conn, grace, ada, archived);
        // Another customer's events in between never show up in Ada's pages.
        archive(conn, grace, bob, archived);
    }

    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut before: Option<AuditEventId> = None;
    loop {
        let page = audit::list(conn, Trail::Customer(ada), before, 2).unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        pages.push(page.iter().map(|e| e.event.to_parts().0).collect());
        assert!(pages.len() <= 10, "paging never ended: {pages:?}");
    }

    assert_eq!(
        pages,
        [
            vec!["customer.restored", "customer.archived"],
            vec!["customer.restored", "customer.archived"],
            vec!["customer.created"],
        ]
    );
    assert_eq!(audit::count(conn, Trail::Customer(ada)).unwrap(), 5);
}

#[test]
fn an_event_by_a_user_who_was_deleted_later_shows_no_actor() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let gone = add_user(conn, Some(grace), "Gone", "gone@example.com");
    let ada = add_named(conn, gone, "Ada").id;
    let renamed = CustomerChanges {
        name: Some("Ada L.".to_owned()),
        ..CustomerChanges::default()
    };
    customers::change(conn, grace, ada, &renamed).unwrap();
    {
        use crm_db::schema::users::dsl;
        use diesel::prelude::*;
        diesel::delete(dsl::users.filter(dsl::id.eq(gone)))
            .execute(conn)
            .expect("delete a user");
    }

    let events = audit::list(conn, Trail::Customer(ada), None, 10).unwrap();

    let shown: Vec<(String, Option<&str>)> = events
        .iter()
        .map(|e| {
            (
                e.event.to_parts().0,
                e.actor.as_ref().map(|a| a.name.as_str()),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("customer.updated".to_owned(), Some("Grace")),
            ("customer.created".to_owned(), None),
        ]
    );
}

#[test]
fn changes_that_change_nothing_or_touch_an_archived_customer_record_nothing() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let ada = add(
        conn,
        grace,
        NewCustomer {
            notes: "VIP".to_owned(),
            ..customer("Ada")
        },
    )
    .id;
    let same_notes = CustomerChanges {
        notes: Some("VIP".to_owned()),
        ..CustomerChanges::default()
    };
    customers::change(conn, grace, ada, &same_notes).unwrap();
    customers::change(conn, grace, ada, &CustomerChanges::default()).unwrap();
    archive(conn, grace, ada, true);
    archive(conn, grace, ada, true); // already archived

    let refused = customers::change(
        conn,
        grace,
        ada,
        &CustomerChanges {
            name: Some("Ada L.".to_owned()),
            ..CustomerChanges::default()
        },
    );

    assert!(matches!(refused, Err(ChangeError::Archived)), "{refused:?}");
    assert_eq!(customers::find(conn, ada).unwrap().name, "Ada");
    assert_eq!(
        actions(conn, Trail::Customer(ada)),
        ["customer.archived", "customer.created"]
    );
}

#[test]
fn a_users_trail_lists_events_about_that_account_only() {
    let (_db, mut conn, grace) = fresh();
    let conn = &mut *conn;
    let alan = add_user(conn, Some(grace), "Alan", "alan@example.com");
    add_named(conn, grace, "Ada");
    audit::record(
        conn,
        Some(grace),
        Trail::User(grace),
        &AuditEvent::PasswordChanged {},
    )
    .unwrap();

    let events = audit::list(conn, Trail::User(grace), None, 10).unwrap();

    let shown: Vec<(String, Option<&str>)> = events
        .iter()
        .map(|e| {
            (
                e.event.to_parts().0,
                e.actor.as_ref().map(|a| a.name.as_str()),
            )
        })
        .collect();
    // Grace was created from the command line: no one did it.
    assert_eq!(
        shown,
        [
            ("user.password_changed".to_owned(), Some("Grace")),
            ("user.created".to_owned(), None),
        ]
    );
    assert_eq!(audit::count(conn, Trail::User(grace)).unwrap(), 2);
    assert_eq!(actions(conn, Trail::User(alan)), ["user.created"]);
}
