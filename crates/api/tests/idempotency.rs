//! `Idempotency-Key` on POST: retries get the first answer, once per credential and request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use diesel::prelude::*;
use serde_json::json;
use sha2::{Digest, Sha256};
use support::*;

const KEY: &str = "4f9c2a4e-8d1e-4c6b-9c55-0d9a1c2b3e4f";

fn customer_count(db: &crm_db::test_support::TestDatabase) -> i64 {
    crm_db::schema::customers::table
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

fn add_customer(token: &str, key: Option<&str>, body: serde_json::Value) -> TestRequest {
    let request = bearer(TestRequest::post().uri("/api/v1/customers"), token).set_json(body);
    match key {
        Some(key) => request.insert_header(("Idempotency-Key", key)),
        None => request,
    }
}

#[actix_web::test]
async fn a_retry_with_the_same_key_gets_the_first_answer_and_adds_nothing() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let token = create_token(&app, &session, "script").await;
    let body = json!({"name": "Grace Hopper", "email": "grace@example.com"});

    let first = send(&app, add_customer(&token, Some(KEY), body.clone())).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    let retry = send(&app, add_customer(&token, Some(KEY), body.clone())).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json, first.json, "the same customer, not a new one");
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("content-type"), Some("application/json"));
    assert_eq!(customer_count(&db), 1);

    // Without a key, or with a new one, a POST is a new request.
    send(&app, add_customer(&token, None, body.clone())).await;
    send(
        &app,
        add_customer(&token, Some("another-key"), body.clone()),
    )
    .await;
    assert_eq!(customer_count(&db), 3);

    // The key belongs to the credential: another token's request with it is its own.
    let other = create_token(&app, &session, "other script").await;
    let theirs = send(&app, add_customer(&other, Some(KEY), body)).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(theirs.json["id"], first.json["id"]);
    assert_eq!(customer_count(&db), 4);
}

#[actix_web::test]
async fn a_key_reused_for_another_request_or_malformed_is_a_field_error() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let token = create_token(&app, &session, "script").await;
    send(
        &app,
        add_customer(&token, Some(KEY), json!({"name": "Grace"})),
    )
    .await;

    let reused = send(
        &app,
        add_customer(&token, Some(KEY), json!({"name": "Ada"})),
    )
    .await;
    reused.assert_problem(422);
    assert_eq!(
        reused.field_errors("Idempotency-Key"),
        vec!["This key was used for a different request: use a new key for a new request."]
    );
    for bad in ["with space", &"k".repeat(256)] {
        let answer = send(
            &app,
            add_customer(&token, Some(bad), json!({"name": "Ada"})),
        )
        .await;
        answer.assert_problem(422);
        assert_eq!(answer.field_errors("Idempotency-Key").len(), 1, "{bad:?}");
    }
    assert_eq!(customer_count(&db), 1);
}

#[actix_web::test]
async fn refusals_are_replayed_and_a_request_still_running_gets_409() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let token = create_token(&app, &session, "script").await;

    let invalid = json!({"name": "", "phone": "12"});
    let first = send(&app, add_customer(&token, Some(KEY), invalid.clone())).await;
    first.assert_problem(422);
    let retry = send(&app, add_customer(&token, Some(KEY), invalid)).await;
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json, first.json);
    assert_eq!(
        retry.header("content-type"),
        Some("application/problem+json")
    );

    // Another process holds the key for the same request and has not answered yet.
    let body = json!({"name": "Grace"});
    let principal = Sha256::digest(format!("bearer\0Bearer {token}")).to_vec();
    let fingerprint = crm_api::idempotency::fingerprint(
        "POST",
        "/api/v1/customers",
        b"application/json",
        &serde_json::to_vec(&body).unwrap(),
    );
    let claimed =
        crm_db::idempotency::claim(&mut db.connection(), &principal, "running", &fingerprint)
            .unwrap();
    assert_eq!(claimed, crm_db::idempotency::Claim::Claimed);
    let busy = send(&app, add_customer(&token, Some("running"), body)).await;
    busy.assert_problem(409);
    assert_eq!(customer_count(&db), 0);
}

#[actix_web::test]
async fn a_cookie_request_without_its_csrf_token_never_gets_a_stored_answer() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let request = || {
        TestRequest::post()
            .uri("/api/v1/customers")
            .insert_header(("Idempotency-Key", KEY))
            .set_json(json!({"name": "Grace"}))
    };
    let first = send(&app, session.apply(request())).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let forged = send(&app, session.cookie_only(request())).await;
    forged.assert_problem(403);
    let retry = send(&app, session.apply(request())).await;
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(customer_count(&db), 1);
}

#[actix_web::test]
async fn an_upload_retried_with_its_key_stores_one_invoice_and_one_receipt() {
    let receipts = scratch_dir("receipts");
    let (db, state) = fresh(&[("RECEIPTS_DIR", receipts.to_str().unwrap())]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let token = create_token(&app, &session, "script").await;
    let customer = send(&app, add_customer(&token, None, json!({"name": "Grace"}))).await;
    let boundary = "----crm-idempotency";
    let png = fixture("rgb.png");
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n12.50\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"receipt\"; filename=\"r.png\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let upload = || {
        bearer(
            TestRequest::post().uri(&format!(
                "/api/v1/customers/{}/invoices",
                customer.json["id"]
            )),
            &token,
        )
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .insert_header(("Idempotency-Key", KEY))
        .set_payload(body.clone())
    };
    let first = send(&app, upload()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let retry = send(&app, upload()).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.json["id"], first.json["id"]);
    let invoices: i64 = crm_db::schema::invoices::table
        .count()
        .get_result(&mut db.connection())
        .unwrap();
    assert_eq!(invoices, 1);
    let files = std::fs::read_dir(receipts.join("receipts"))
        .unwrap()
        .count();
    assert_eq!(files, 1, "one receipt stored");
}
