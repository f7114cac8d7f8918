//! The customers API end to end: create, read, change, archive, search, page, audit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use diesel::prelude::*;
use serde_json::{Value, json};
use support::*;

fn post(uri: &str, body: Value) -> TestRequest {
    TestRequest::post().uri(uri).set_json(body)
}

fn patch(uri: &str, body: Value) -> TestRequest {
    TestRequest::patch().uri(uri).set_json(body)
}

fn get(uri: &str) -> TestRequest {
    TestRequest::get().uri(uri)
}

fn customer_count(db: &crm_db::test_support::TestDatabase) -> i64 {
    let mut conn = db.connection();
    crm_db::schema::customers::table
        .count()
        .get_result(&mut conn)
        .unwrap()
}

#[actix_web::test]
async fn a_customer_is_created_with_normalised_values_and_read_back() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;

    let created = send(
        &app,
        s.apply(post(
            "/api/v1/customers",
            json!({
                "name": "  Ada Lovelace ", "email": "Ada@Example.COM", "phone": "(415) 555-2671",
                "whatsapp": "+44 20 7946 0958", "timezone": "europe/london", "notes": "Prefers mornings.",
                "sms_opt_out": true
            }),
        )),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json["id"].as_i64().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/customers/{id}").as_str())
    );
    let expected = json!({
        "name": "Ada Lovelace", "email": "Ada@example.com", "phone": "+14155552671",
        "whatsapp": "+442079460958", "timezone": "Europe/London", "notes": "Prefers mornings.",
        "sms_opt_out": true, "whatsapp_opt_out": false, "archived_at": null
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&created.json[key], value, "{key}");
    }

    let read = send(&app, s.apply(get(&format!("/api/v1/customers/{id}")))).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json, created.json);
}

#[actix_web::test]
async fn only_the_name_is_required_and_blank_optional_fields_are_empty() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let created = send(
        &app,
        s.apply(post(
            "/api/v1/customers",
            json!({"name": "Grace", "email": "", "phone": " ", "timezone": ""}),
        )),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["email"], Value::Null);
    assert_eq!(created.json["phone"], Value::Null);
    assert_eq!(created.json["timezone"], "UTC");
    assert_eq!(created.json["notes"], "");
}

#[actix_web::test]
async fn invalid_fields_are_all_reported_and_nothing_is_saved() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let answer = send(
        &app,
        s.apply(post(
            "/api/v1/customers",
            json!({
                "name": "x".repeat(201), "email": "ada@", "phone": "555-CALL-NOW", "whatsapp": "12",
                "timezone": "Mars/Olympus", "notes": "n".repeat(5001)
            }),
        )),
    )
    .await;
    answer.assert_problem(422);
    assert_eq!(answer.json["title"], "Invalid input");
    assert_eq!(
        answer.field_errors("name"),
        vec!["Must be at most 200 characters."]
    );
    assert_eq!(
        answer.field_errors("email"),
        vec!["Enter a valid email address, such as name@example.com."]
    );
    assert_eq!(
        answer.field_errors("phone"),
        vec!["Enter a valid phone number, such as +14155550123."]
    );
    assert_eq!(
        answer.field_errors("whatsapp"),
        vec!["Enter a valid phone number, such as +14155550123."]
    );
    assert_eq!(
        answer.field_errors("timezone"),
        vec!["Unknown time zone: use an IANA name such as Europe/Berlin."]
    );
    assert_eq!(
        answer.field_errors("notes"),
        vec!["Must be at most 5000 characters."]
    );
    assert_eq!(customer_count(&db), 0);
}

#[actix_web::test]
async fn malformed_bodies_get_precise_4xx_answers() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let raw = |body: &'static str| {
        s.apply(
            TestRequest::post()
                .uri("/api/v1/customers")
                .insert_header(("Content-Type", "application/json"))
                .set_payload(body),
        )
    };

    let broken = send(&app, raw(r#"{"name": "Ada""#)).await;
    broken.assert_problem(400);
    assert!(
        broken.json["detail"]
            .as_str()
            .unwrap()
            .starts_with("Malformed JSON at line 1"),
        "{}",
        broken.text
    );
    send(&app, raw("")).await.assert_problem(400);
    send(&app, raw(r#"["Ada"]"#)).await.assert_problem(400);

    let wrong_type = send(&app, raw(r#"{"name": 42}"#)).await;
    wrong_type.assert_problem(422);
    assert!(
        wrong_type.field_errors("name")[0].contains("expected a string"),
        "{}",
        wrong_type.text
    );
    let wrong_bool = send(&app, raw(r#"{"name": "Ada", "sms_opt_out": "yes"}"#)).await;
    assert!(wrong_bool.field_errors("sms_opt_out")[0].contains("expected a boolean"));
    let missing = send(&app, raw(r#"{"email": "ada@example.com"}"#)).await;
    assert_eq!(
        missing.field_errors("name"),
        vec!["This field is required."]
    );
    let unknown = send(&app, raw(r#"{"name": "Ada", "nmae": "typo"}"#)).await;
    assert_eq!(unknown.field_errors("nmae"), vec!["Unknown field."]);

    let form = s.apply(
        TestRequest::post()
            .uri("/api/v1/customers")
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload("name=Ada"),
    );
    send(&app, form).await.assert_problem(415);

    let huge = format!(r#"{{"name": "{}"}}"#, "a".repeat(300 * 1024));
    let too_large = s.apply(
        TestRequest::post()
            .uri("/api/v1/customers")
            .insert_header(("Content-Type", "application/json"))
            .set_payload(huge),
    );
    send(&app, too_large).await.assert_problem(413);
    assert_eq!(customer_count(&db), 0);
}

#[actix_web::test]
async fn unknown_or_malformed_ids_are_404() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    for uri in [
        "/api/v1/customers/999999",
        "/api/v1/customers/abc",
        "/api/v1/customers/99999999999999999999999",
        "/api/v1/customers/999999/activity",
    ] {
        send(&app, s.apply(get(uri))).await.assert_problem(404);
    }
    send(
        &app,
        s.apply(patch("/api/v1/customers/999999", json!({"name": "X"}))),
    )
    .await
    .assert_problem(404);
    send(
        &app,
        s.apply(post("/api/v1/customers/999999/archive", json!({}))),
    )
    .await
    .assert_problem(404);
    send(&app, s.apply(get("/api/v1/nothing-here")))
        .await
        .assert_problem(404);
}

#[actix_web::test]
async fn patch_changes_only_the_given_fields_clears_with_null_and_records_the_difference() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let created = send(
        &app,
        s.apply(post(
            "/api/v1/customers",
            json!({"name": "Ada", "email": "ada@example.com", "notes": "VIP"}),
        )),
    )
    .await;
    let uri = format!("/api/v1/customers/{}", created.json["id"]);

    let updated = send(
        &app,
        s.apply(patch(&uri, json!({"phone": "415 555 2671", "email": null}))),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.json["phone"], "+14155552671");
    assert_eq!(updated.json["email"], Value::Null);
    assert_eq!(updated.json["name"], "Ada");
    assert_eq!(updated.json["notes"], "VIP");

    let activity = send(&app, s.apply(get(&format!("{uri}/activity")))).await;
    assert_eq!(activity.json["total"], 2);
    let latest = &activity.json["items"][0];
    assert_eq!(latest["action"], "customer.updated");
    assert_eq!(latest["actor"]["name"], "Ada Lovelace");
    assert_eq!(
        latest["changes"],
        json!({"email": {"from": "ada@example.com", "to": null}, "phone": {"from": null, "to": "+14155552671"}})
    );
    assert_eq!(activity.json["items"][1]["action"], "customer.created");

    // A PATCH that changes nothing writes no event.
    send(&app, s.apply(patch(&uri, json!({"name": "Ada"})))).await;
    let activity = send(&app, s.apply(get(&format!("{uri}/activity")))).await;
    assert_eq!(activity.json["total"], 2);
}

#[actix_web::test]
async fn an_invalid_patch_changes_nothing() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let created = send(
        &app,
        s.apply(post(
            "/api/v1/customers",
            json!({"name": "Ada", "phone": "+14155552671"}),
        )),
    )
    .await;
    let uri = format!("/api/v1/customers/{}", created.json["id"]);
    let answer = send(
        &app,
        s.apply(patch(
            &uri,
            json!({"name": null, "phone": "12", "email": "ada@example.com"}),
        )),
    )
    .await;
    answer.assert_problem(422);
    assert_eq!(answer.field_errors("name"), vec!["This field is required."]);
    assert_eq!(answer.field_errors("phone").len(), 1);
    let read = send(&app, s.apply(get(&uri))).await;
    assert_eq!(read.json, created.json);
}

#[actix_web::test]
async fn archived_customers_leave_the_list_keep_their_data_and_come_back_on_restore() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let ada = send(
        &app,
        s.apply(post("/api/v1/customers", json!({"name": "Ada"}))),
    )
    .await;
    send(
        &app,
        s.apply(post("/api/v1/customers", json!({"name": "Grace"}))),
    )
    .await;
    let uri = format!("/api/v1/customers/{}", ada.json["id"]);

    let archived = send(&app, s.apply(post(&format!("{uri}/archive"), json!({})))).await;
    assert_eq!(archived.status, StatusCode::OK);
    assert!(archived.json["archived_at"].is_string());
    let names = |answer: &Answer| -> Vec<String> {
        answer.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&send(&app, s.apply(get("/api/v1/customers"))).await),
        vec!["Grace"]
    );
    assert_eq!(
        names(&send(&app, s.apply(get("/api/v1/customers?archived=true"))).await),
        vec!["Ada"]
    );
    assert_eq!(
        names(&send(&app, s.apply(get("/api/v1/customers?archived=all"))).await),
        vec!["Ada", "Grace"]
    );
    send(&app, s.apply(get("/api/v1/customers?archived=maybe")))
        .await
        .assert_problem(422);

    // Still readable; not editable until restored; archiving twice is harmless.
    assert_eq!(send(&app, s.apply(get(&uri))).await.status, StatusCode::OK);
    send(&app, s.apply(patch(&uri, json!({"name": "Ada L."}))))
        .await
        .assert_problem(409);
    let again = send(&app, s.apply(post(&format!("{uri}/archive"), json!({})))).await;
    assert_eq!(again.json["archived_at"], archived.json["archived_at"]);

    let restored = send(&app, s.apply(post(&format!("{uri}/restore"), json!({})))).await;
    assert_eq!(restored.json["archived_at"], Value::Null);
    assert_eq!(
        names(&send(&app, s.apply(get("/api/v1/customers"))).await),
        vec!["Ada", "Grace"]
    );
    let activity = send(&app, s.apply(get(&format!("{uri}/activity")))).await;
    let actions: Vec<&str> = activity.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["customer.restored", "customer.archived", "customer.created"]
    );
}

#[actix_web::test]
async fn search_matches_name_email_and_phone_partially_and_case_insensitively() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    for body in [
        json!({"name": "Ada Lovelace", "email": "ada@analytical.example", "phone": "+14155552671"}),
        json!({"name": "Grace Hopper", "email": "grace@navy.example", "whatsapp": "+442079460958"}),
        json!({"name": "Alan Turing", "email": "alan@bletchley.example"}),
        json!({"name": "100% Real_Name"}),
    ] {
        assert_eq!(
            send(&app, s.apply(post("/api/v1/customers", body)))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let search = |q: &str| {
        let uri = format!("/api/v1/customers?q={}", url_encode(q));
        let app = &app;
        let s = s.clone();
        async move {
            let answer = send(app, s.apply(get(&uri))).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            let names: Vec<String> = answer.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(answer.json["total"], names.len());
            names
        }
    };
    assert_eq!(search("LOVE").await, vec!["Ada Lovelace"]);
    assert_eq!(search("navy.EX").await, vec!["Grace Hopper"]);
    assert_eq!(search("(415) 555").await, vec!["Ada Lovelace"]);
    assert_eq!(search("020 7946").await, vec!["Grace Hopper"]);
    assert_eq!(search("a").await.len(), 4);
    assert_eq!(search("%").await, vec!["100% Real_Name"]);
    assert_eq!(search("_").await, vec!["100% Real_Name"]);
    assert!(search("nobody").await.is_empty());
    let too_long = send(
        &app,
        s.apply(get(&format!("/api/v1/customers?q={}", "x".repeat(201)))),
    )
    .await;
    too_long.assert_problem(422);
    assert_eq!(
        too_long.field_errors("q"),
        vec!["Must be at most 200 characters."]
    );
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[actix_web::test]
async fn pages_follow_name_order_and_stay_correct_while_customers_are_added() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let token = create_token(&app, &s, "pager").await;
    let add = |name: String| bearer(post("/api/v1/customers", json!({"name": name})), &token);
    for n in [5, 3, 9, 1, 7, 2, 8, 4, 6, 0] {
        send(&app, add(format!("Customer {n}"))).await;
    }
    // Same name twice: the id breaks the tie.
    send(&app, add("customer 4".into())).await;

    let mut seen = Vec::new();
    let mut uri = "/api/v1/customers?limit=4".to_owned();
    let mut pages = 0;
    loop {
        let page = send(&app, bearer(get(&uri), &token)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        pages += 1;
        seen.extend(
            page.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned()),
        );
        if pages == 1 {
            // Rows added before and after the cursor while paging: none is skipped or repeated.
            send(&app, add("Customer 00 (new, before the cursor)".into())).await;
            send(&app, add("Customer 99 (new)".into())).await;
        }
        match page.json["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/api/v1/customers?limit=4&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<String> = [
        "Customer 0",
        "Customer 1",
        "Customer 2",
        "Customer 3",
        "Customer 4",
        "customer 4",
        "Customer 5",
        "Customer 6",
        "Customer 7",
        "Customer 8",
        "Customer 9",
        "Customer 99 (new)",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(seen, expected);
    assert_eq!(pages, 3);

    for bad in ["limit=0", "limit=101", "limit=x", "cursor=garbage"] {
        let answer = send(
            &app,
            bearer(get(&format!("/api/v1/customers?{bad}")), &token),
        )
        .await;
        answer.assert_problem(422);
    }
}

#[actix_web::test]
async fn activity_pages_newest_first() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let created = send(
        &app,
        s.apply(post("/api/v1/customers", json!({"name": "Ada"}))),
    )
    .await;
    let uri = format!("/api/v1/customers/{}", created.json["id"]);
    for n in 0..4 {
        send(
            &app,
            s.apply(patch(&uri, json!({"notes": format!("note {n}")}))),
        )
        .await;
    }
    let first = send(&app, s.apply(get(&format!("{uri}/activity?limit=3")))).await;
    assert_eq!(first.json["total"], 5);
    assert_eq!(first.json["items"].as_array().unwrap().len(), 3);
    assert_eq!(first.json["items"][0]["changes"]["notes"]["to"], "note 3");
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let second = send(
        &app,
        s.apply(get(&format!("{uri}/activity?limit=3&cursor={cursor}"))),
    )
    .await;
    let actions: Vec<&str> = second.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["customer.updated", "customer.created"]);
    assert_eq!(second.json["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn a_nul_character_in_a_field_or_the_query_is_a_field_error_not_a_server_error() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let nul = "Must not contain a NUL character (\\u0000).";

    let created = send(
        &app,
        admin.apply(post(
            "/api/v1/customers",
            json!({"name": "Ada\u{0}", "notes": "fine"}),
        )),
    )
    .await;
    created.assert_problem(422);
    assert_eq!(created.field_errors("name"), vec![nul]);

    let searched = send(&app, admin.apply(get("/api/v1/customers?q=a%00b&limit=5"))).await;
    searched.assert_problem(422);
    assert_eq!(searched.field_errors("q"), vec![nul]);

    // A backslash followed by "u0000" is text like any other.
    let literal = send(
        &app,
        admin.apply(post("/api/v1/customers", json!({"name": "C:\\u0000"}))),
    )
    .await;
    assert_eq!(literal.status, StatusCode::CREATED, "{}", literal.text);
    assert_eq!(literal.json["name"], "C:\\u0000");
}
