//! Whether the pool's connections are encrypted: a server on the loopback interface is reached
//! without TLS unless the URL (or `PGSSLMODE`) asks for it ([`crm_db::pool::loopback_without_tls`]).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use crm_db::test_support::TestDatabase;
use crm_db::{PgPool, PoolWatch, build_pool};
use diesel::prelude::*;
use diesel::sql_types::Bool;

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

fn ask(pool: &PgPool, sql: &str) -> bool {
    let mut conn = pool.get().expect("a connection");
    diesel::sql_query(sql)
        .get_result::<Flag>(&mut conn)
        .expect(sql)
        .flag
}

fn pool(url: &str) -> PgPool {
    build_pool(
        url,
        1,
        Duration::from_secs(10),
        Arc::new(PoolWatch::default()),
    )
}

const ENCRYPTED: &str = "SELECT ssl AS flag FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

#[test]
fn a_pool_on_loopback_goes_without_tls_unless_the_url_asks_for_it() {
    let db = TestDatabase::new();
    let url = url::Url::parse(db.url()).expect("the test database's URL");
    let on_loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if !on_loopback || std::env::var_os("PGSSLMODE").is_some() || url.query().is_some() {
        eprintln!("skipped: TEST_DATABASE_URL is not a plain loopback URL, or PGSSLMODE is set");
        return;
    }
    let plain = pool(db.url());
    assert!(!ask(&plain, ENCRYPTED), "a loopback connection without TLS");

    if ask(&plain, "SELECT current_setting('ssl') = 'on' AS flag") {
        let asked = pool(&format!("{}?sslmode=require", db.url()));
        assert!(ask(&asked, ENCRYPTED), "TLS when the URL asks for it");
    } else {
        eprintln!("the server offers no TLS: only the plain connection was checked");
    }
}
