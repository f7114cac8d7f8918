//! `GET /api/v1/metrics`: what Prometheus scrapes, and who may read it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use serde_json::json;
use support::*;

/// The value of the sample `line` (`name{labels}`) in a scraped page.
fn sample(page: &str, line: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(line)?.strip_prefix(' ')?.parse().ok())
}

#[actix_web::test]
async fn requests_are_counted_by_route_pattern_method_and_status() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let token = create_token(&app, &admin, "prometheus").await;
    for _ in 0..2 {
        let missing = send(
            &app,
            bearer(TestRequest::get().uri("/api/v1/customers/424242"), &token),
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    }
    let created = send(
        &app,
        bearer(TestRequest::post().uri("/api/v1/customers"), &token)
            .set_json(json!({"name": "Grace Hopper"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    send(&app, TestRequest::get().uri("/no/such/page/8812")).await;

    let scraped = send(
        &app,
        bearer(TestRequest::get().uri("/api/v1/metrics"), &token),
    )
    .await;
    assert_eq!(scraped.status, StatusCode::OK, "{}", scraped.text);
    assert_eq!(
        scraped.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let page = &scraped.text;
    let count = |labels: &str| sample(page, &format!("http_requests_total{{{labels}}}"));
    assert_eq!(
        count(r#"route="/api/v1/customers/{id}",method="GET",status="404""#),
        Some(2.0),
        "{page}"
    );
    assert_eq!(
        count(r#"route="/api/v1/customers",method="POST",status="201""#),
        Some(1.0)
    );
    assert_eq!(
        sample(
            page,
            r#"http_request_duration_seconds_count{route="/api/v1/customers/{id}",method="GET"}"#
        ),
        Some(2.0)
    );
    assert!(
        page.lines().any(|l| l
            .starts_with("http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}")),
        "{page}"
    );
    assert!(
        !page.contains("424242") && !page.contains("8812"),
        "raw paths: {page}"
    );
    assert_eq!(sample(page, "db_pool_size"), Some(4.0));
    assert!(sample(page, "db_pool_wait_seconds_count").is_some_and(|n| n > 0.0));
    assert_eq!(sample(page, "db_pool_timeouts_total"), Some(0.0));
    assert!(sample(page, r#"db_pool_connections{state="idle"}"#).is_some());
    assert_eq!(
        sample(page, r#"receipt_conversion_seconds_count{kind="png"}"#),
        Some(0.0)
    );
}

#[actix_web::test]
async fn receipt_conversions_are_timed_by_their_type() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let token = create_token(&app, &admin, "uploads").await;
    let customer = send(
        &app,
        bearer(TestRequest::post().uri("/api/v1/customers"), &token)
            .set_json(json!({"name": "Grace Hopper"})),
    )
    .await
    .json["id"]
        .as_i64()
        .unwrap();
    let png = fixture("gray.png");
    let body = multipart(&[("amount", "5")], Some(("scan.png", &png)));
    let created = send(&app, bearer(upload(customer, body), &token)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);

    let page = send(
        &app,
        bearer(TestRequest::get().uri("/api/v1/metrics"), &token),
    )
    .await
    .text;
    assert_eq!(
        sample(&page, r#"receipt_conversion_seconds_count{kind="png"}"#),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(&page, r#"receipt_conversion_seconds_count{kind="jpeg"}"#),
        Some(0.0)
    );
}

#[actix_web::test]
async fn only_admins_read_the_metrics() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    add_staff(&app, &admin, "grace@example.com", "a long passphrase").await;
    let staff = session_of(&send(&app, login("grace@example.com", "a long passphrase")).await);

    let anonymous = send(&app, TestRequest::get().uri("/api/v1/metrics")).await;
    anonymous.assert_problem(401);
    let as_staff = send(&app, staff.apply(TestRequest::get().uri("/api/v1/metrics"))).await;
    as_staff.assert_problem(403);
    assert!(!as_staff.text.contains("http_requests_total"));
    let as_admin = send(&app, admin.apply(TestRequest::get().uri("/api/v1/metrics"))).await;
    assert_eq!(as_admin.status, StatusCode::OK);
}
