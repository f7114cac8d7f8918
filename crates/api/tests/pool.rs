//! Back-pressure at the PostgreSQL pool: a request waits at most `DATABASE_TIMEOUT_SECS` for a
//! connection, then gets 503 with `Retry-After` — never a hang, also when the blocking thread
//! pool is smaller than the crowd — and succeeds again once connections are free.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use support::*;

/// The timeout of these tests, and what an answer may take beyond it on a busy machine.
const TIMEOUT: Duration = Duration::from_secs(1);
const MARGIN: Duration = Duration::from_millis(700);

#[actix_web::test]
async fn with_every_connection_in_use_a_request_gets_503_in_time_then_succeeds_once_one_is_free() {
    let (_db, state) = fresh(&[("DATABASE_TIMEOUT_SECS", "1")]);
    let app = init_service(crm_api::app(state.clone())).await;
    let admin = setup_admin(&app).await;
    let customers = || admin.apply(TestRequest::get().uri("/api/v1/customers"));

    let held: Vec<_> = (0..4).map(|_| state.pool.get().unwrap()).collect();
    let started = Instant::now();
    let refused = send(&app, customers()).await;
    let took = started.elapsed();
    refused.assert_unavailable();
    assert_eq!(refused.header("retry-after"), Some("5"));
    assert!(took >= TIMEOUT - Duration::from_millis(50), "{took:?}");
    assert!(took < TIMEOUT + MARGIN, "{took:?}");

    drop(held);
    let served = send(&app, customers()).await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.text);
    let metrics = state.metrics.render(crm_metrics::PoolState {
        size: 4,
        connections: 0,
        idle: 0,
    });
    assert!(
        metrics.contains("\ndb_pool_timeouts_total 1\n"),
        "{metrics}"
    );
}

/// Twelve requests at once, all connections held, and a blocking thread pool of two threads:
/// if waiting for a connection took a blocking thread, the requests would wait for each
/// other's timeouts (six rounds of one second); they are all answered within one.
#[test]
fn a_crowd_larger_than_the_blocking_threads_is_answered_within_the_timeout() {
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(2)
            .build()
            .unwrap()
    };
    actix_web::rt::System::with_tokio_rt(runtime).block_on(async {
        let (_db, state) = fresh(&[("DATABASE_TIMEOUT_SECS", "1")]);
        let app = init_service(crm_api::app(state.clone())).await;
        let admin = setup_admin(&app).await;
        let held: Vec<_> = (0..4).map(|_| state.pool.get().unwrap()).collect();

        let started = Instant::now();
        let answers = futures_util::future::join_all((0..12).map(|_| {
            send(
                &app,
                admin.apply(TestRequest::get().uri("/api/v1/customers")),
            )
        }))
        .await;
        let took = started.elapsed();
        eprintln!("12 requests, 2 blocking threads, all connections held: {took:?}");
        for answer in &answers {
            answer.assert_unavailable();
        }
        assert!(took < TIMEOUT + MARGIN, "{took:?}");
        drop(held);
    });
}

#[actix_web::test]
async fn while_postgresql_is_unreachable_requests_are_refused_at_once() {
    // Nothing listens on port 9 (discard) here: every connection attempt is refused.
    let config = config_for(
        "postgres://postgres@127.0.0.1:9/crm_unreachable",
        &[("DATABASE_TIMEOUT_SECS", "1")],
    );
    let state = crm_api::state::AppState::new(config).unwrap();
    let app = init_service(crm_api::app(state)).await;
    let setup = || TestRequest::get().uri("/api/v1/setup");

    let first = send(&app, setup()).await;
    first.assert_unavailable();
    for _ in 0..3 {
        let started = Instant::now();
        let next = send(&app, setup()).await;
        let took = started.elapsed();
        next.assert_unavailable();
        assert!(took < Duration::from_millis(200), "{took:?}");
    }
}

/// How many connections requests have taken from the pool so far.
fn checkouts(state: &crm_api::state::AppState) -> u64 {
    let pool = crm_metrics::PoolState {
        size: 4,
        connections: 0,
        idle: 0,
    };
    let text = state.metrics.render(pool);
    text.lines()
        .find_map(|line| line.strip_prefix("db_pool_wait_seconds_count "))
        .map(|count| count.parse().unwrap())
        .unwrap_or_else(|| panic!("no checkout count in {text}"))
}

#[actix_web::test]
async fn a_signed_in_read_is_authenticated_and_answered_on_one_connection() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state.clone())).await;
    let admin = setup_admin(&app).await;
    let create = admin
        .apply(TestRequest::post().uri("/api/v1/customers"))
        .set_json(serde_json::json!({"name": "Ada Lovelace", "phone": "+14155550123"}));
    let created = send(&app, create).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json["id"].as_i64().unwrap();

    for uri in [
        "/api/v1/customers".to_owned(),
        format!("/api/v1/customers/{id}"),
    ] {
        let before = checkouts(&state);
        let answer = send(&app, admin.apply(TestRequest::get().uri(&uri))).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.text);
        assert_eq!(checkouts(&state) - before, 1, "{uri}");
    }
}

#[actix_web::test]
async fn after_postgresql_drops_every_connection_no_signed_in_request_fails() {
    for case in [
        "a read with a token",
        "a write with a token",
        "a read with a session",
    ] {
        let (db, state) = fresh(&[]);
        let app = init_service(crm_api::app(state.clone())).await;
        let admin = setup_admin(&app).await;
        let token = create_token(&app, &admin, "script").await;
        let list = || TestRequest::get().uri("/api/v1/customers");
        for _ in 0..3 {
            assert_eq!(
                send(&app, bearer(list(), &token)).await.status,
                StatusCode::OK
            );
        }
        assert!(
            state.pool.state().idle_connections >= 1,
            "{:?}",
            state.pool.state()
        );
        db.end_connections();

        // The pool trusts its idle connections (no check per checkout), so authentication
        // meets a dead one; it runs again on a new connection, and the request is served.
        let (request, status) = match case {
            "a read with a token" => (bearer(list(), &token), StatusCode::OK),
            "a write with a token" => (
                bearer(TestRequest::post().uri("/api/v1/customers"), &token)
                    .set_json(serde_json::json!({"name": "Grace Hopper"})),
                StatusCode::CREATED,
            ),
            _ => (admin.apply(list()), StatusCode::OK),
        };
        let answer = send(&app, request).await;
        assert_eq!(answer.status, status, "{case}: {}", answer.text);
        assert!(state.pool_watch.doubts_connections(), "{case}");
    }
}

#[actix_web::test]
async fn after_postgresql_drops_every_connection_a_public_request_may_fail_once() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state.clone())).await;
    let setup = || TestRequest::get().uri("/api/v1/setup");
    assert_eq!(send(&app, setup()).await.status, StatusCode::OK);
    db.end_connections();

    // Sign-in and first-run setup are not run twice: the first meets the dead connection and
    // gets a 503 the client may retry; the connection leaves the pool and the next is served.
    send(&app, setup()).await.assert_unavailable();
    let served = send(&app, setup()).await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.text);
}
