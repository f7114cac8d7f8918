//! The customer list's queries on a table of realistic size, through `EXPLAIN` of the very
//! queries the list runs: a search by part of a name, an e-mail address or a phone number goes
//! through the trigram indexes, the plain list through its order index, and the total a page
//! shows never counts the table. A sequential scan of the customers fails the test: over
//! 100,000 customers it is what makes a list slow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crm_contract::Total;
use crm_db::PgPooledConnection;
use crm_db::audit::{self, Trail};
use crm_db::customers::{self, ArchivedFilter, CustomerQuery, ListPosition};
use crm_db::invoices;
use crm_db::test_support::TestDatabase;
use diesel::prelude::*;

/// Customers in the test's table, as many as the load benchmark's: on a small table a sequential
/// scan is cheap, and PostgreSQL rightly picks it.
const CUSTOMERS: i64 = 100_000;

/// A fresh database with `CUSTOMERS` customers (names and e-mail addresses of letters, phone
/// numbers of digits, all from a hash of their number, every tenth archived),
/// vacuumed and analysed.
fn seeded() -> (TestDatabase, PgPooledConnection) {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    // As a bulk import would: the trigram indexes take the rows through their pending lists,
    // which VACUUM merges (one by one, 100,000 rows take a minute).
    trigram_pending_lists(&mut conn, "on");
    diesel::sql_query(format!(
        "INSERT INTO customers (name, email, phone, whatsapp, archived_at)
         SELECT initcap(substr(h, 1, 7)) || ' ' || initcap(substr(h, 8, 9)),
                substr(h, 17, 8) || '@example.com',
                '+1' || (2000000000 + (hashint8(g) & 2147483647) % 7999999999)::text,
                CASE WHEN g % 3 = 0
                     THEN '+44' || (7000000000 + (hashint8(-g) & 2147483647) % 999999999)::text END,
                CASE WHEN g % 10 = 0 THEN now() END
         FROM generate_series(1, {CUSTOMERS}) AS g, 
              LATERAL (SELECT translate(md5(g::text), '0123456789', 'ghijklmnop') AS h) AS m"
    ))
    .execute(&mut conn)
    .expect("seed customers");
    // As autovacuum leaves a table: statistics, and the trigram indexes' pending entries merged.
    diesel::sql_query("VACUUM ANALYZE customers")
        .execute(&mut conn)
        .expect("vacuum");
    trigram_pending_lists(&mut conn, "off");
    (db, conn)
}

/// Turns the trigram indexes' pending lists `on` or `off` (`fastupdate`).
fn trigram_pending_lists(conn: &mut PgConnection, on_or_off: &str) {
    for column in ["name", "email", "phone", "whatsapp"] {
        diesel::sql_query(format!(
            "ALTER INDEX customers_{column}_trgm_idx SET (fastupdate = {on_or_off})"
        ))
        .execute(conn)
        .expect("set fastupdate");
    }
}

/// Part of a stored value of `column`: what a user would type to find that customer.
fn part_of(conn: &mut PgConnection, column: &str, from: usize, len: usize) -> String {
    #[derive(QueryableByName)]
    struct Part {
        #[diesel(sql_type = diesel::sql_types::Text)]
        part: String,
    }
    let part: Part = diesel::sql_query(format!(
        "SELECT substr({column}, {from}, {len}) AS part FROM customers
         WHERE {column} IS NOT NULL ORDER BY id LIMIT 1 OFFSET 4321"
    ))
    .get_result(conn)
    .expect("a stored value");
    part.part
}

fn active(search: Option<&str>) -> CustomerQuery<'_> {
    CustomerQuery {
        search,
        archived: ArchivedFilter::Active,
    }
}

/// Fails with the plan when it scans the customers table row by row.
fn assert_no_seq_scan(plan: &str, what: &str) {
    assert!(
        !plan.contains("Seq Scan on customers"),
        "{what} scans the whole customers table:\n{plan}"
    );
}

#[test]
fn searches_by_part_of_a_name_email_or_phone_use_the_trigram_indexes() {
    let (_db, mut conn) = seeded();
    let name = part_of(&mut conn, "name", 3, 4);
    let email = part_of(&mut conn, "email", 2, 5);
    let phone = part_of(&mut conn, "phone", 6, 5);
    for (what, search) in [("name", &name), ("e-mail", &email), ("phone", &phone)] {
        let query = active(Some(search));
        let page = customers::explain_list(&mut conn, &query, None, 51).unwrap();
        assert_no_seq_scan(&page, &format!("a page of the search by {what} {search:?}"));
        assert!(
            page.contains("customers_name_trgm_idx") && page.contains("customers_email_trgm_idx"),
            "the search by {what} {search:?} does not use the trigram indexes:\n{page}"
        );
        let count = customers::explain_count(&mut conn, &query).unwrap();
        assert_no_seq_scan(
            &count,
            &format!("the count of the search by {what} {search:?}"),
        );
        // The first page counts the matches it sorts, in the same query.
        let counted = customers::explain_page(&mut conn, &query, None, 51).unwrap();
        assert_no_seq_scan(&counted, &format!("the counted first page of {search:?}"));
        assert!(
            counted.contains("customers_name_trgm_idx") && counted.contains("WindowAgg"),
            "the first page of the search by {what} {search:?} is not counted over the trigram \
             matches:\n{counted}"
        );
        assert!(
            !customers::list(&mut conn, &query, None, 51)
                .unwrap()
                .is_empty(),
            "the search by {what} {search:?} finds its customer"
        );
    }
}

#[test]
fn the_plain_list_reads_its_order_index_and_its_total_without_counting_the_table() {
    let (_db, mut conn) = seeded();
    for archived in [ArchivedFilter::Active, ArchivedFilter::Archived] {
        let query = CustomerQuery {
            search: None,
            archived,
        };
        let page = customers::explain_list(&mut conn, &query, None, 51).unwrap();
        assert_no_seq_scan(&page, &format!("the {archived:?} list"));
        assert!(
            page.contains("order_idx"),
            "the {archived:?} list does not read its order index:\n{page}"
        );
        // A later page starts the index scan at its position instead of filtering from the
        // first row.
        let first = customers::list(&mut conn, &query, None, 1).unwrap();
        let position = ListPosition::after(&first[0]);
        let later = customers::explain_list(&mut conn, &query, Some(&position), 51).unwrap();
        assert!(
            later.contains("Index Cond: (lower(name) >="),
            "a later {archived:?} page scans its index from the start:\n{later}"
        );
        // The page the API runs reads the kept total in the same statement.
        let counted = customers::explain_page(&mut conn, &query, None, 51).unwrap();
        assert_no_seq_scan(&counted, &format!("the {archived:?} page with its total"));
        assert!(
            counted.contains("order_idx") && counted.contains("on customer_counts"),
            "the {archived:?} page does not read its order index and the kept total:\n{counted}"
        );
        let count = customers::explain_count(&mut conn, &query).unwrap();
        assert!(
            !count.contains("on customers"),
            "the {archived:?} total reads the customers table:\n{count}"
        );
    }
    let total = |conn: &mut PgConnection, archived| {
        customers::count(
            conn,
            &CustomerQuery {
                search: None,
                archived,
            },
        )
        .unwrap()
    };
    assert_eq!(
        total(&mut conn, ArchivedFilter::Active),
        Total::Exact(90_000)
    );
    assert_eq!(
        total(&mut conn, ArchivedFilter::Archived),
        Total::Exact(10_000)
    );
    assert_eq!(
        total(&mut conn, ArchivedFilter::All),
        Total::Exact(CUSTOMERS)
    );
}

#[test]
fn a_search_matching_more_than_the_cap_says_at_least_the_cap() {
    let (_db, mut conn) = seeded();
    // Every seeded e-mail address ends in example.com.
    let total = customers::count(&mut conn, &active(Some("example.com"))).unwrap();
    assert_eq!(total, Total::AtLeast(customers::SEARCH_COUNT_CAP));
    let one = part_of(&mut conn, "email", 1, 16);
    assert_eq!(
        customers::count(&mut conn, &active(Some(&one))).unwrap(),
        Total::Exact(1)
    );
}

#[test]
fn new_customers_go_straight_into_the_trigram_indexes() {
    // A search reads GIN's whole pending list: with it on, 8,000 new customers made a search
    // 25 times slower until autovacuum merged them.
    #[derive(QueryableByName)]
    struct Indexes {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        trigram: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        with_pending_list: i64,
    }
    let db = TestDatabase::new();
    let mut conn = db.connection();
    let indexes: Indexes = diesel::sql_query(
        "SELECT count(*) AS trigram,
                count(*) FILTER (WHERE NOT coalesce('fastupdate=off' = ANY (reloptions), false))
                    AS with_pending_list
         FROM pg_class WHERE relname LIKE 'customers\\_%\\_trgm\\_idx'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(indexes.trigram, 4, "name, email, phone and WhatsApp");
    assert_eq!(
        indexes.with_pending_list, 0,
        "a trigram index keeps a pending list"
    );
}

/// A statement PostgreSQL keeps for this connection, and how often it planned it.
#[derive(QueryableByName, Debug)]
struct Prepared {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    parameters: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    custom_plans: i64,
}

#[test]
fn postgresql_plans_each_kind_of_page_once_and_keeps_the_plan() {
    let (_db, mut conn) = seeded();
    let query = active(None);
    let (first, _) = customers::page(&mut conn, &query, None, 51).unwrap();
    let position = ListPosition::after(&first[50]);
    let customer = first[0].id;
    for _ in 0..20 {
        customers::page(&mut conn, &query, None, 51).unwrap();
        customers::page(&mut conn, &query, Some(&position), 51).unwrap();
        invoices::list_for_customer(&mut conn, customer, None, 51).unwrap();
        audit::list(&mut conn, Trail::Customer(customer), None, 51).unwrap();
    }
    // This connection's prepared statements: diesel prepares each query text once.
    let pages: Vec<Prepared> = diesel::sql_query(
        "SELECT name, statement, cardinality(parameter_types) AS parameters, generic_plans,
                custom_plans
         FROM pg_prepared_statements
         WHERE statement LIKE '%LIMIT 51%' ORDER BY statement",
    )
    .load(&mut conn)
    .unwrap();
    assert_eq!(
        pages.len(),
        4,
        "a first and a later page of customers, invoices, activity: {pages:#?}"
    );
    for page in &pages {
        // PostgreSQL tries custom plans five times before it compares them with a generic one;
        // with a bound LIMIT it kept planning (20 custom plans here).
        assert!(
            page.custom_plans <= 5 && page.generic_plans >= 15,
            "PostgreSQL plans this page on every execution ({} custom plans, {} generic): {}",
            page.custom_plans,
            page.generic_plans,
            page.statement
        );
    }
    // The plan kept for a later page of customers still starts at its position in the order
    // index: the generic plan, whatever the position.
    diesel::sql_query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut conn)
        .unwrap();
    for page in pages
        .iter()
        .filter(|p| p.statement.contains("FROM \"customers\""))
    {
        #[derive(QueryableByName)]
        struct Line {
            #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
            line: String,
        }
        // Any values: a generic plan does not depend on them.
        let execute = match usize::try_from(page.parameters).unwrap() {
            0 => format!("EXPLAIN EXECUTE {}", page.name),
            n => format!(
                "EXPLAIN EXECUTE {}({})",
                page.name,
                vec!["NULL"; n].join(", ")
            ),
        };
        let plan: Vec<Line> = diesel::sql_query(execute).load(&mut conn).unwrap();
        let plan = plan
            .into_iter()
            .map(|l| l.line)
            .collect::<Vec<_>>()
            .join("\n");
        assert_no_seq_scan(&plan, "the kept plan of a page of customers");
        let later = page.statement.contains(">=");
        assert!(
            plan.contains("order_idx") && (!later || plan.contains("Index Cond: (lower(name) >=")),
            "the kept plan of a page of customers does not start at its position in the order index:\n{plan}"
        );
    }
}
