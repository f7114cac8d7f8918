//! `is_connection_error` on real failures: connections ended by the server (as a restart of
//! PostgreSQL ends them) at each point of a request's work; and what the pool does with such
//! connections. Each test on its own database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use crm_db::test_support::TestDatabase;
use crm_db::{PoolWatch, build_pool, is_connection_error};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

/// A connection of its own (not pooled) and its server process id.
fn connect(db: &TestDatabase) -> (PgConnection, i32) {
    let mut conn = PgConnection::establish(db.url()).expect("connect");
    let pid = backend_pid(&mut conn).expect("backend pid");
    (conn, pid)
}

fn backend_pid(conn: &mut PgConnection) -> QueryResult<i32> {
    diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(conn)
        .map(|row| row.pid)
}

/// Ends the server process behind a connection, as a fast shutdown of PostgreSQL does.
fn terminate(db: &TestDatabase, pid: i32) {
    diesel::sql_query("SELECT pg_terminate_backend($1)")
        .bind::<Integer, _>(pid)
        .execute(&mut db.connection())
        .expect("terminate the backend");
    // The server ends the process asynchronously; wait until it is gone.
    for _ in 0..100 {
        #[derive(QueryableByName)]
        struct Alive {
            #[diesel(sql_type = BigInt)]
            alive: i64,
        }
        let alive =
            diesel::sql_query("SELECT count(*) AS alive FROM pg_stat_activity WHERE pid = $1")
                .bind::<Integer, _>(pid)
                .get_result::<Alive>(&mut db.connection())
                .expect("look up the backend")
                .alive;
        if alive == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("backend {pid} did not end");
}

#[test]
fn a_query_on_a_connection_the_server_ended_is_a_connection_error() {
    let db = TestDatabase::new();
    let (mut conn, pid) = connect(&db);
    terminate(&db, pid);
    let error = diesel::sql_query("SELECT 1")
        .execute(&mut conn)
        .unwrap_err();
    assert!(is_connection_error(&error), "{error:?}");
}

#[test]
fn a_commit_that_fails_because_the_server_ended_the_connection_is_a_connection_error() {
    let db = TestDatabase::new();
    let (mut conn, pid) = connect(&db);
    let result = conn.transaction(|conn| {
        diesel::sql_query("CREATE TEMPORARY TABLE scratch (n int)").execute(conn)?;
        // The work is done; the server goes away before COMMIT.
        terminate(&db, pid);
        Ok::<_, diesel::result::Error>(())
    });
    let error = result.unwrap_err();
    assert!(is_connection_error(&error), "{error:?}");
}

#[test]
fn a_rollback_that_fails_because_the_server_ended_the_connection_is_a_connection_error() {
    let db = TestDatabase::new();
    let (mut conn, pid) = connect(&db);
    let result: Result<(), diesel::result::Error> = conn.transaction(|_| {
        terminate(&db, pid);
        Err(diesel::result::Error::RollbackTransaction)
    });
    let error = result.unwrap_err();
    assert!(is_connection_error(&error), "{error:?}");
}

#[test]
fn a_constraint_violation_is_not_a_connection_error() {
    let db = TestDatabase::new();
    let (mut conn, _) = connect(&db);
    let error = diesel::sql_query("SELECT 1 / 0")
        .execute(&mut conn)
        .unwrap_err();
    assert!(!is_connection_error(&error), "{error:?}");
}

#[test]
fn the_pool_trusts_its_connections_until_one_is_found_dead_then_checks_each_as_it_is_taken() {
    let db = TestDatabase::new();
    let watch = Arc::new(PoolWatch::default());
    let pool = build_pool(db.url(), 2, Duration::from_secs(5), Arc::clone(&watch));
    // Two idle connections, then PostgreSQL ends both (as a restart does).
    let (mut first, mut second) = (pool.get().unwrap(), pool.get().unwrap());
    let pids = [
        backend_pid(&mut first).unwrap(),
        backend_pid(&mut second).unwrap(),
    ];
    drop((first, second));
    pids.into_iter().for_each(|pid| terminate(&db, pid));

    // No check as it is taken: the pool hands out a dead connection (a round trip saved on
    // every healthy checkout), and the work on it fails with a connection error.
    let mut conn = pool.get().unwrap();
    let error = backend_pid(&mut conn).unwrap_err();
    assert!(is_connection_error(&error), "{error:?}");
    assert!(!watch.doubts_connections());
    assert!(
        watch.check_after_failure(&mut conn),
        "the connection is dead"
    );
    drop(conn);
    assert!(watch.doubts_connections());

    // The dead connection left the pool; the other dead one is checked as it is taken and
    // replaced: every later checkout works.
    for _ in 0..4 {
        let mut conn = pool.get().unwrap();
        let pid = backend_pid(&mut conn).expect("a working connection");
        assert!(!pids.contains(&pid));
    }
    assert_eq!(pool.state().connections, 1, "{:?}", pool.state());
}

#[test]
fn a_failure_on_a_live_connection_keeps_it_and_the_trust() {
    let db = TestDatabase::new();
    let watch = Arc::new(PoolWatch::default());
    let pool = build_pool(db.url(), 1, Duration::from_secs(5), Arc::clone(&watch));
    let mut conn = pool.get().unwrap();
    let pid = backend_pid(&mut conn).unwrap();
    diesel::sql_query("SELECT 1 / 0")
        .execute(&mut conn)
        .unwrap_err();
    assert!(
        !watch.check_after_failure(&mut conn),
        "the connection is alive"
    );
    drop(conn);
    assert!(!watch.doubts_connections());
    assert_eq!(backend_pid(&mut pool.get().unwrap()).unwrap(), pid);
}
