//! `is_connection_error` on real failures: connections ended by the server (as a restart of
//! PostgreSQL ends them) at each point of a request's work, each test on its own database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crm_db::is_connection_error;
use crm_db::test_support::TestDatabase;
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
    let pid = diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(&mut conn)
        .expect("backend pid")
        .pid;
    (conn, pid)
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
