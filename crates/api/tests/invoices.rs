//! Invoices with receipts through the API: upload, convert, store, read, delete, refuse.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use diesel::prelude::*;
use serde_json::json;
use sha2::{Digest, Sha256};
use support::*;

fn stored_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path())
            } else {
                found.push(entry.path())
            }
        }
    }
    found
}

fn invoice_count(db: &crm_db::test_support::TestDatabase) -> i64 {
    crm_db::schema::invoices::table
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

struct Setup<S> {
    app: S,
    state: crm_api::state::AppState,
    db: crm_db::test_support::TestDatabase,
    token: String,
    customer: i64,
    receipts: std::path::PathBuf,
}

impl<S, B> Setup<S>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    /// Uploads a new invoice for the customer with the API token.
    async fn add_invoice(&self, fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Answer {
        send(
            &self.app,
            bearer(upload(self.customer, multipart(fields, file)), &self.token),
        )
        .await
    }

    /// Runs a sweep of stale receipts: `(removed, failed)`.
    async fn sweep(&self) -> (usize, usize) {
        let sweep = crm_api::cleanup::sweep_stale_receipts(&self.state)
            .await
            .unwrap();
        (sweep.removed, sweep.failed)
    }
}

/// A setup whose receipts go to `bucket` of the S3-compatible server.
async fn setup_s3(
    s3: &s3::S3Server,
    bucket: &str,
) -> Setup<
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody + use<>>,
        Error = actix_web::Error,
    > + use<>,
> {
    let vars = s3.config(bucket);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    setup(&vars).await
}

async fn setup(
    extra: &[(&str, &str)],
) -> Setup<
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody + use<>>,
        Error = actix_web::Error,
    > + use<>,
> {
    let receipts = scratch_dir("receipts");
    let mut vars = vec![("RECEIPTS_DIR", receipts.to_str().unwrap())];
    vars.extend_from_slice(extra);
    let (db, state) = fresh(&vars);
    let app = init_service(crm_api::app(state.clone())).await;
    let session = setup_admin(&app).await;
    let token = create_token(&app, &session, "uploads").await;
    let created = send(
        &app,
        bearer(TestRequest::post().uri("/api/v1/customers"), &token)
            .set_json(json!({"name": "Grace Hopper"})),
    )
    .await;
    let customer = created.json["id"].as_i64().unwrap();
    Setup {
        app,
        state,
        db,
        token,
        customer,
        receipts,
    }
}

#[actix_web::test]
async fn a_jpeg_receipt_is_stored_as_a_pdf_and_served_back() {
    let s = setup(&[]).await;
    let body = multipart(
        &[
            ("amount", "1234.5"),
            ("currency", "eur"),
            ("number", "2026-0042"),
            ("issued_on", "2026-11-20"),
        ],
        Some(("../../IMG 2043.jpg", &fixture("baseline.jpg"))),
    );
    let created = send(&s.app, bearer(upload(s.customer, body), &s.token)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["amount"], "1234.50");
    assert_eq!(created.json["currency"], "EUR");
    assert_eq!(created.json["issued_on"], "2026-11-20");
    assert_eq!(created.json["receipt"]["original_type"], "image/jpeg");
    assert_eq!(
        created.json["receipt"]["original_name"], "IMG 2043.jpg",
        "no folders from the client"
    );
    assert_eq!(created.json["receipt"]["pages"], 1);

    // The stored file has a generated name, not the uploaded one.
    let files = stored_files(&s.receipts);
    assert_eq!(files.len(), 1);
    assert!(!files[0].to_string_lossy().contains("IMG"), "{files:?}");

    let url = created.json["receipt"]["url"].as_str().unwrap().to_owned();
    let pdf = send(&s.app, bearer(TestRequest::get().uri(&url), &s.token)).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert_eq!(pdf.header("x-content-type-options"), Some("nosniff"));
    assert!(
        pdf.header("content-security-policy")
            .unwrap()
            .starts_with("sandbox")
    );
    assert_eq!(
        pdf.header("content-disposition"),
        Some("inline; filename=\"invoice-2026-0042.pdf\"")
    );
    let body = actix_web::test::call_and_read_body(
        &s.app,
        bearer(TestRequest::get().uri(&url), &s.token).to_request(),
    )
    .await;
    assert!(body.starts_with(b"%PDF-"));
    let sha = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    assert_eq!(created.json["receipt"]["sha256"], sha.as_str());
    assert_eq!(pdf.header("etag"), Some(format!("\"{sha}\"").as_str()));
    let cached = send(
        &s.app,
        bearer(
            TestRequest::get()
                .uri(&url)
                .insert_header(("If-None-Match", format!("\"{sha}\""))),
            &s.token,
        ),
    )
    .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
}

#[actix_web::test]
async fn a_pdf_receipt_is_kept_byte_for_byte_and_totals_add_up_per_currency() {
    let s = setup(&[("DEFAULT_CURRENCY", "EUR")]).await;
    let plain = fixture("plain.pdf");
    for (amount, currency) in [("10.10", None), ("0.20", None), ("1200", Some("JPY"))] {
        let mut fields = vec![("amount", amount)];
        if let Some(currency) = currency {
            fields.push(("currency", currency));
        }
        let created = s.add_invoice(&fields, Some(("scan.pdf", &plain))).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }
    let list = send(
        &s.app,
        bearer(
            TestRequest::get().uri(&format!("/api/v1/customers/{}/invoices", s.customer)),
            &s.token,
        ),
    )
    .await;
    assert_eq!(list.json["total"], 3);
    assert_eq!(
        list.json["totals"],
        json!([{"currency": "EUR", "amount": "10.30"}, {"currency": "JPY", "amount": "1200"}])
    );
    let url = list.json["items"][0]["receipt"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = actix_web::test::call_and_read_body(
        &s.app,
        bearer(TestRequest::get().uri(&url), &s.token).to_request(),
    )
    .await;
    assert_eq!(body.as_ref(), plain.as_slice());
}

#[actix_web::test]
async fn a_missing_receipt_is_a_field_error_and_nothing_is_saved() {
    let s = setup(&[]).await;
    let answer = s.add_invoice(&[("amount", "5")], None).await;
    answer.assert_problem(422);
    assert_eq!(
        answer.field_errors("receipt"),
        vec!["This field is required."]
    );
    assert_eq!(invoice_count(&s.db), 0);
    assert!(stored_files(&s.receipts).is_empty());
}

#[actix_web::test]
async fn only_pdf_jpeg_and_png_are_accepted_whatever_the_name() {
    let s = setup(&[]).await;
    for (name, bytes) in [
        ("photo.gif", fixture("image.gif")),
        ("notes.pdf", fixture("notes.txt")),
        ("setup.pdf", fixture("program.pdf")),
    ] {
        let answer = s
            .add_invoice(&[("amount", "5")], Some((name, &bytes)))
            .await;
        answer.assert_problem(422);
        assert_eq!(
            answer.field_errors("receipt"),
            vec!["Only PDF, JPEG or PNG files are allowed."],
            "{name}"
        );
    }
    assert_eq!(invoice_count(&s.db), 0);
    assert!(stored_files(&s.receipts).is_empty());
}

#[actix_web::test]
async fn unreadable_encrypted_scripted_empty_and_giant_files_are_refused_saying_why() {
    let s = setup(&[]).await;
    let plain = fixture("plain.pdf");
    let baseline = fixture("baseline.jpg");
    let cases: [(&str, &[u8], &str); 9] = [
        (
            "half.pdf",
            &plain[..plain.len() / 2],
            "The file is damaged or incomplete: it is not a readable PDF document.",
        ),
        (
            "cut.jpg",
            &baseline[..baseline.len() - 40],
            "The file is damaged or incomplete: it is not a readable JPEG image.",
        ),
        (
            "locked.pdf",
            &fixture("encrypted.pdf"),
            "The PDF is encrypted or password-protected; upload an unprotected copy.",
        ),
        (
            "owner-locked.pdf",
            &fixture("encrypted-empty-password.pdf"),
            "The PDF is encrypted or password-protected; upload an unprotected copy.",
        ),
        (
            "script.pdf",
            &fixture("javascript.pdf"),
            "The PDF contains JavaScript, which a receipt may not carry; upload a copy without it (a scan or a photo of the receipt will do).",
        ),
        (
            // Twelve object streams of 200 MB each: 2.4 GB from a 7 KB file.
            "bomb.pdf",
            &fixture("bomb-sum.pdf"),
            "The PDF is too large to check: its compressed parts unpack to more than 4 MiB.",
        ),
        (
            "nested.pdf",
            &fixture("bomb-nested.pdf"),
            "The file is damaged or incomplete: it is not a readable PDF document.",
        ),
        ("empty.pdf", b"", "The file is empty."),
        (
            "bomb.png",
            &fixture("bomb.png"),
            "The image is too large (100000 × 100000 pixels); the limit is 50 megapixels.",
        ),
    ];
    for (name, bytes, message) in cases {
        let answer = s.add_invoice(&[("amount", "5")], Some((name, bytes))).await;
        answer.assert_problem(422);
        assert_eq!(answer.field_errors("receipt"), vec![message], "{name}");
    }
    assert_eq!(invoice_count(&s.db), 0);
    assert!(stored_files(&s.receipts).is_empty());
}

#[actix_web::test]
async fn a_file_input_left_empty_in_a_browser_is_a_missing_receipt() {
    let s = setup(&[]).await;
    // What a browser sends for `<input type=file>` with nothing chosen.
    let answer = s.add_invoice(&[("amount", "5")], Some(("", b""))).await;
    assert_eq!(
        answer.field_errors("receipt"),
        vec!["This field is required."],
        "{}",
        answer.text
    );
}

#[actix_web::test]
async fn invoices_need_a_sign_in_and_cookie_requests_their_csrf_token() {
    let s = setup(&[]).await;
    let created = s
        .add_invoice(&[("amount", "5")], Some(("r.pdf", &fixture("plain.pdf"))))
        .await;
    let id = created.json["id"].as_i64().unwrap();
    let form = || multipart(&[("amount", "6")], Some(("r.pdf", &fixture("plain.pdf"))));
    let multipart_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let requests = || {
        [
            upload(s.customer, form()),
            TestRequest::get().uri(&format!("/api/v1/customers/{}/invoices", s.customer)),
            TestRequest::get().uri(&format!("/api/v1/invoices/{id}")),
            TestRequest::get().uri(&format!("/api/v1/invoices/{id}/receipt")),
            TestRequest::patch()
                .uri(&format!("/api/v1/invoices/{id}"))
                .set_json(json!({"notes": "x"})),
            TestRequest::put()
                .uri(&format!("/api/v1/invoices/{id}/receipt"))
                .insert_header(("Content-Type", multipart_type.clone()))
                .set_payload(form()),
            TestRequest::delete().uri(&format!("/api/v1/invoices/{id}")),
        ]
    };
    for request in requests() {
        send(&s.app, request).await.assert_problem(401);
    }
    // A signed-in browser's cookie alone (a cross-site request) changes nothing.
    let login = send(
        &s.app,
        TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
    )
    .await;
    let session = session_of(&login);
    // The unsafe ones: upload, edit, replace, delete.
    for (index, request) in requests().into_iter().enumerate() {
        if [0, 4, 5, 6].contains(&index) {
            send(&s.app, session.cookie_only(request))
                .await
                .assert_problem(403);
        }
    }
    assert_eq!(invoice_count(&s.db), 1);
    assert_eq!(stored_files(&s.receipts).len(), 1);
    let unchanged = send(
        &s.app,
        bearer(
            TestRequest::get().uri(&format!("/api/v1/invoices/{id}")),
            &s.token,
        ),
    )
    .await;
    assert_eq!(unchanged.json, created.json);
}

#[actix_web::test]
async fn when_the_invoice_row_cannot_be_written_its_stored_file_is_removed() {
    let s = setup(&[]).await;
    // PostgreSQL refuses the insert after the receipt is stored (as a full disk or a lost
    // connection would).
    diesel::connection::SimpleConnection::batch_execute(
        &mut s.db.connection(),
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'no space left'; END $$; \
         CREATE TRIGGER refuse BEFORE INSERT ON invoices FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .unwrap();
    let answer = s
        .add_invoice(&[("amount", "5")], Some(("r.pdf", &fixture("plain.pdf"))))
        .await;
    answer.assert_problem(500);
    assert!(
        !answer.text.contains("no space left"),
        "no internals: {}",
        answer.text
    );
    assert_eq!(invoice_count(&s.db), 0);
    assert!(
        stored_files(&s.receipts).is_empty(),
        "the file went with the row"
    );
    assert!(pending_removals(&s.db).is_empty());
}

#[actix_web::test]
async fn every_bad_field_is_reported_at_once() {
    let s = setup(&[]).await;
    let body = multipart(
        &[
            ("amount", "12,50"),
            ("currency", "EURO"),
            ("issued_on", "20/11/2026"),
            ("colour", "red"),
        ],
        Some(("x.gif", &fixture("image.gif"))),
    );
    let answer = send(&s.app, bearer(upload(s.customer, body), &s.token)).await;
    answer.assert_problem(422);
    for field in ["currency", "issued_on", "colour", "receipt"] {
        assert_eq!(
            answer.field_errors(field).len(),
            1,
            "{field}: {}",
            answer.text
        );
    }
    let answer = s
        .add_invoice(
            &[("amount", "1.001"), ("currency", "USD")],
            Some(("r.png", &fixture("rgb.png"))),
        )
        .await;
    assert_eq!(
        answer.field_errors("amount"),
        vec!["USD amounts have at most 2 decimal places."]
    );
    assert!(stored_files(&s.receipts).is_empty());
}

#[actix_web::test]
async fn uploads_over_the_limit_are_refused_with_413() {
    let s = setup(&[("MAX_UPLOAD_BYTES", "1000")]).await;
    let big = fixture("plain.pdf");
    assert!(big.len() > 1000);
    let answer = s
        .add_invoice(&[("amount", "5")], Some(("big.pdf", &big)))
        .await;
    answer.assert_problem(413);
    // With an Idempotency-Key the body is read before the handler; the answer is the same.
    let huge = vec![b'x'; 400 * 1024];
    let with_key = send(
        &s.app,
        bearer(
            upload(
                s.customer,
                multipart(&[("amount", "5")], Some(("big.pdf", &huge))),
            ),
            &s.token,
        )
        .insert_header(("Idempotency-Key", "upload-413")),
    )
    .await;
    with_key.assert_problem(413);
    assert_eq!(
        with_key.json["detail"], answer.json["detail"],
        "{}",
        answer.text
    );
    assert_eq!(invoice_count(&s.db), 0);
    assert!(stored_files(&s.receipts).is_empty());
}

#[actix_web::test]
async fn uploads_must_be_multipart_for_a_known_customer() {
    let s = setup(&[]).await;
    let json_body = bearer(
        TestRequest::post().uri(&format!("/api/v1/customers/{}/invoices", s.customer)),
        &s.token,
    )
    .set_json(json!({"amount": "5"}));
    send(&s.app, json_body).await.assert_problem(415);
    let body = multipart(&[("amount", "5")], Some(("r.png", &fixture("rgb.png"))));
    send(&s.app, bearer(upload(999_999, body), &s.token))
        .await
        .assert_problem(404);
    send(
        &s.app,
        bearer(
            TestRequest::get().uri("/api/v1/invoices/999999/receipt"),
            &s.token,
        ),
    )
    .await
    .assert_problem(404);
}

#[actix_web::test]
async fn deleting_an_invoice_deletes_its_receipt() {
    let s = setup(&[]).await;
    let created = s
        .add_invoice(&[("amount", "5")], Some(("r.png", &fixture("rgba.png"))))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(stored_files(&s.receipts).len(), 1);
    let uri = format!("/api/v1/invoices/{}", created.json["id"]);
    let deleted = send(&s.app, bearer(TestRequest::delete().uri(&uri), &s.token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(stored_files(&s.receipts).is_empty());
    send(&s.app, bearer(TestRequest::get().uri(&uri), &s.token))
        .await
        .assert_problem(404);
    let activity = send(
        &s.app,
        bearer(
            TestRequest::get().uri(&format!("/api/v1/customers/{}/activity", s.customer)),
            &s.token,
        ),
    )
    .await;
    assert_eq!(activity.json["items"][0]["action"], "invoice.deleted");
    assert_eq!(activity.json["items"][1]["action"], "invoice.created");
}

#[actix_web::test]
async fn invoice_fields_can_be_edited_with_the_same_rules() {
    let s = setup(&[]).await;
    let created = s
        .add_invoice(
            &[("amount", "5"), ("currency", "USD")],
            Some(("r.png", &fixture("rgb.png"))),
        )
        .await;
    let uri = format!("/api/v1/invoices/{}", created.json["id"]);
    let edit =
        |body: serde_json::Value| bearer(TestRequest::patch().uri(&uri), &s.token).set_json(body);

    let updated = send(&s.app, edit(json!({"amount": "99.90", "number": "A-1", "issued_on": "2026-01-31", "notes": "Paid by card."}))).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(
        (
            updated.json["amount"].as_str(),
            updated.json["number"].as_str()
        ),
        (Some("99.90"), Some("A-1"))
    );
    assert_eq!(
        updated.json["receipt"], created.json["receipt"],
        "the receipt is untouched"
    );

    let currency_alone = send(&s.app, edit(json!({"currency": "JPY"}))).await;
    assert_eq!(
        currency_alone.field_errors("amount"),
        vec!["Give the amount again when changing the currency."]
    );
    let yen = send(&s.app, edit(json!({"currency": "JPY", "amount": "1200"}))).await;
    assert_eq!(
        (yen.json["amount"].as_str(), yen.json["currency"].as_str()),
        (Some("1200"), Some("JPY"))
    );

    let bad = send(
        &s.app,
        edit(json!({"amount": "-1", "issued_on": "yesterday", "paid": true})),
    )
    .await;
    bad.assert_problem(422);
    assert_eq!(bad.field_errors("paid"), vec!["Unknown field."]);
    let bad = send(
        &s.app,
        edit(json!({"amount": "-1", "issued_on": "yesterday"})),
    )
    .await;
    assert_eq!(bad.field_errors("amount"), vec!["Must not be negative."]);
    assert_eq!(
        bad.field_errors("issued_on"),
        vec!["Enter a date from 1900 to 2999 as YYYY-MM-DD."]
    );
    // Text PostgreSQL would refuse (a NUL byte), or a date outside its range, is a field error
    // too, never a 500.
    let bad = send(&s.app, edit(json!({"number": "2026\u{0}"}))).await;
    assert_eq!(
        bad.field_errors("number"),
        vec!["Must not contain a NUL character (\\u0000)."]
    );
    let bad = send(&s.app, edit(json!({"issued_on": "-5000-01-01"}))).await;
    assert_eq!(bad.field_errors("issued_on").len(), 1);
    let read = send(&s.app, bearer(TestRequest::get().uri(&uri), &s.token)).await;
    assert_eq!(
        read.json["amount"], "1200",
        "a refused edit changes nothing"
    );
}

#[actix_web::test]
async fn replacing_a_receipt_stores_the_new_pdf_and_removes_the_old_one() {
    let s = setup(&[]).await;
    let created = s
        .add_invoice(&[("amount", "5")], Some(("first.png", &fixture("rgb.png"))))
        .await;
    let old_files = stored_files(&s.receipts);
    let uri = format!("/api/v1/invoices/{}/receipt", created.json["id"]);
    let put = |body: Vec<u8>| {
        bearer(TestRequest::put().uri(&uri), &s.token)
            .insert_header((
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(body)
    };

    let refused = send(
        &s.app,
        put(multipart(&[], Some(("x.gif", &fixture("image.gif"))))),
    )
    .await;
    assert_eq!(
        refused.field_errors("receipt"),
        vec!["Only PDF, JPEG or PNG files are allowed."]
    );
    assert_eq!(
        stored_files(&s.receipts),
        old_files,
        "a refused file changes nothing"
    );

    let replaced = send(
        &s.app,
        put(multipart(
            &[],
            Some(("second.jpg", &fixture("progressive.jpg"))),
        )),
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(replaced.json["receipt"]["original_name"], "second.jpg");
    assert_ne!(
        replaced.json["receipt"]["sha256"],
        created.json["receipt"]["sha256"]
    );
    let files = stored_files(&s.receipts);
    assert_eq!(files.len(), 1);
    assert_ne!(files, old_files, "the old PDF is gone");
    let body = actix_web::test::call_and_read_body(
        &s.app,
        bearer(TestRequest::get().uri(&uri), &s.token).to_request(),
    )
    .await;
    assert!(
        body.windows(4).any(|w| w == b"/DCT"),
        "the new receipt is the JPEG's PDF"
    );
}

#[actix_web::test]
async fn fields_and_a_new_receipt_are_saved_together_or_not_at_all() {
    let s = setup(&[]).await;
    let created = s
        .add_invoice(
            &[
                ("amount", "5"),
                ("currency", "EUR"),
                ("number", "A-1"),
                ("notes", "First."),
            ],
            Some(("first.png", &fixture("rgb.png"))),
        )
        .await;
    let uri = format!("/api/v1/invoices/{}", created.json["id"]);
    let edit = |fields: &[(&str, &str)], file: Option<(&str, &[u8])>| {
        bearer(TestRequest::patch().uri(&uri), &s.token)
            .insert_header((
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(multipart(fields, file))
    };
    let read = || async { send(&s.app, bearer(TestRequest::get().uri(&uri), &s.token)).await };
    let first_files = stored_files(&s.receipts);
    let activity = || {
        crm_db::schema::audit_events::table
            .filter(crm_db::schema::audit_events::action.like("invoice.%"))
            .count()
            .get_result::<i64>(&mut s.db.connection())
            .unwrap()
    };
    let events_before = activity();

    // A refused file: the fields, though fine, are not saved either, and no file is left.
    let refused = send(
        &s.app,
        edit(
            &[("amount", "99.9")],
            Some(("x.gif", &fixture("image.gif"))),
        ),
    )
    .await;
    refused.assert_problem(422);
    assert_eq!(
        refused.field_errors("receipt"),
        vec!["Only PDF, JPEG or PNG files are allowed."]
    );
    // A wrong field with a good file: every problem at once, the file never stored.
    let refused = send(
        &s.app,
        edit(
            &[("amount", "-1"), ("issued_on", "soon")],
            Some(("second.jpg", &fixture("progressive.jpg"))),
        ),
    )
    .await;
    assert_eq!(
        refused.field_errors("amount"),
        vec!["Must not be negative."]
    );
    assert_eq!(refused.field_errors("issued_on").len(), 1);
    assert!(refused.field_errors("receipt").is_empty());
    let unchanged = read().await;
    assert_eq!(
        (
            unchanged.json["amount"].as_str(),
            &unchanged.json["receipt"]
        ),
        (Some("5.00"), &created.json["receipt"])
    );
    assert_eq!(stored_files(&s.receipts), first_files);
    assert_eq!(activity(), events_before, "nothing recorded");

    // Both at once. Blank currency and date keep the invoice's own; fields left out stay.
    let saved = send(
        &s.app,
        edit(
            &[("amount", "99.9"), ("currency", ""), ("issued_on", " ")],
            Some(("second.jpg", &fixture("progressive.jpg"))),
        ),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(
        (
            saved.json["amount"].as_str(),
            saved.json["currency"].as_str(),
            saved.json["number"].as_str(),
            saved.json["notes"].as_str(),
            saved.json["issued_on"].as_str(),
        ),
        (
            Some("99.90"),
            Some("EUR"),
            Some("A-1"),
            Some("First."),
            created.json["issued_on"].as_str(),
        )
    );
    assert_eq!(saved.json["receipt"]["original_name"], "second.jpg");
    let files = stored_files(&s.receipts);
    assert_eq!(files.len(), 1);
    assert_ne!(files, first_files, "the old PDF is gone");
    assert_eq!(
        activity(),
        events_before + 2,
        "a change and a replaced receipt"
    );

    // Without a file, a form edits the fields alone; an empty notes field clears the notes.
    let saved = send(&s.app, edit(&[("notes", ""), ("number", " B-2 ")], None)).await;
    assert_eq!(
        (saved.json["notes"].as_str(), saved.json["number"].as_str()),
        (Some(""), Some("B-2"))
    );
    assert_eq!(saved.json["receipt"]["original_name"], "second.jpg");
}

fn pending_removals(db: &crm_db::test_support::TestDatabase) -> Vec<String> {
    crm_db::stale_receipts::pending(&mut db.connection())
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect()
}

#[actix_web::test]
async fn invoices_come_in_pages_newest_first_with_totals_over_all_pages() {
    let s = setup(&[]).await;
    let plain = fixture("plain.pdf");
    // Two invoices share a day: the newer id comes first, and paging keeps them apart cleanly.
    for (number, issued_on) in [
        ("A", "2026-01-05"),
        ("B", "2026-03-01"),
        ("C", "2026-03-01"),
        ("D", "2026-02-10"),
        ("E", "2025-12-31"),
    ] {
        let created = s
            .add_invoice(
                &[
                    ("amount", "1.25"),
                    ("number", number),
                    ("issued_on", issued_on),
                ],
                Some(("scan.pdf", &plain)),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }
    let mut numbers = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut uri = format!("/api/v1/customers/{}/invoices?limit=2", s.customer);
        if let Some(cursor) = &cursor {
            uri.push_str(&format!("&cursor={cursor}"));
        }
        let page = send(&s.app, bearer(TestRequest::get().uri(&uri), &s.token)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(page.json["total"], 5);
        assert_eq!(
            page.json["totals"],
            json!([{"currency": "USD", "amount": "6.25"}]),
            "totals cover every page"
        );
        numbers.extend(
            page.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["number"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(numbers, ["C", "B", "D", "A", "E"]);
    assert_eq!(pages, 3);

    for bad in ["limit=0", "limit=many", "cursor=not-a-cursor"] {
        let uri = format!("/api/v1/customers/{}/invoices?{bad}", s.customer);
        let answer = send(&s.app, bearer(TestRequest::get().uri(&uri), &s.token)).await;
        answer.assert_problem(422);
        let field = bad.split('=').next().unwrap();
        assert_eq!(
            answer.field_errors(field).len(),
            1,
            "{bad}: {}",
            answer.text
        );
    }
}

#[actix_web::test]
async fn a_receipt_whose_invoice_was_never_written_is_swept_and_one_in_use_never_is() {
    let s = setup(&[]).await;
    // An upload that died between writing its file and writing its row (a crash, a deploy):
    // its key was recorded first, due when the claim window ends.
    let orphan = crm_api::storage::ReceiptStore::new_key();
    crm_db::stale_receipts::schedule(
        &mut s.db.connection(),
        &orphan,
        chrono::Utc::now() + chrono::TimeDelta::hours(1),
    )
    .unwrap();
    s.state
        .receipts
        .put(&orphan, fixture("plain.pdf"))
        .await
        .unwrap();
    let kept = s
        .add_invoice(&[("amount", "5")], Some(("r.png", &fixture("rgb.png"))))
        .await;
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.text);
    assert_eq!(stored_files(&s.receipts).len(), 2);
    assert_eq!(
        pending_removals(&s.db),
        vec![orphan.clone()],
        "the invoice claimed its file"
    );

    // Not due yet: an upload in progress keeps its file.
    assert_eq!(s.sweep().await, (0, 0));
    assert_eq!(stored_files(&s.receipts).len(), 2);

    // Due: the orphan goes. A key that an invoice points to is never removed, even if it was
    // (wrongly) recorded as stale.
    let kept_key: String = crm_db::schema::invoices::table
        .select(crm_db::schema::invoices::receipt_key)
        .first(&mut s.db.connection())
        .unwrap();
    let past = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    for key in [&orphan, &kept_key] {
        crm_db::stale_receipts::schedule(&mut s.db.connection(), key, past).unwrap();
    }
    assert_eq!(s.sweep().await, (1, 0));
    assert!(pending_removals(&s.db).is_empty());
    let files = stored_files(&s.receipts);
    assert_eq!(files.len(), 1);
    assert!(
        files[0].ends_with(kept_key.trim_start_matches("receipts/")),
        "{files:?}"
    );
    let url = kept.json["receipt"]["url"].as_str().unwrap();
    let pdf = send(&s.app, bearer(TestRequest::get().uri(url), &s.token)).await;
    assert_eq!(pdf.status, StatusCode::OK);
}

#[actix_web::test]
async fn receipts_are_kept_in_an_s3_bucket_when_one_is_configured() {
    let s3 = s3::S3Server::start();
    s3.create_bucket("receipts");
    let s = setup_s3(&s3, "receipts").await;

    let ready = send(&s.app, TestRequest::get().uri("/readyz")).await;
    assert_eq!(ready.json["receipts"], "ok", "{}", ready.text);

    let created = s
        .add_invoice(
            &[("amount", "9.99")],
            Some(("IMG_1.jpg", &fixture("exif-rotated.jpg"))),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert!(
        stored_files(&s.receipts).is_empty(),
        "nothing in RECEIPTS_DIR"
    );
    let keys = s3.keys("receipts");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(
        keys[0].starts_with("receipts/") && !keys[0].contains("IMG"),
        "{keys:?}"
    );
    let in_bucket = s.state.receipts.get(&keys[0]).await.unwrap();
    let url = created.json["receipt"]["url"].as_str().unwrap().to_owned();
    let served = actix_web::test::call_and_read_body(
        &s.app,
        bearer(TestRequest::get().uri(&url), &s.token).to_request(),
    )
    .await;
    assert_eq!(served.as_ref(), in_bucket.as_slice());
    let sha: String = Sha256::digest(&in_bucket)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(created.json["receipt"]["sha256"], sha.as_str());

    let replaced = send(
        &s.app,
        bearer(TestRequest::put().uri(&url), &s.token)
            .insert_header((
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(multipart(&[], Some(("scan.pdf", &fixture("plain.pdf"))))),
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    let after = s3.keys("receipts");
    assert_eq!(after.len(), 1, "the old PDF is gone: {after:?}");
    assert_ne!(after, keys);
    assert_eq!(
        s.state.receipts.get(&after[0]).await.unwrap(),
        fixture("plain.pdf")
    );

    let uri = format!("/api/v1/invoices/{}", created.json["id"]);
    let deleted = send(&s.app, bearer(TestRequest::delete().uri(&uri), &s.token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(s3.keys("receipts").is_empty());
    assert!(pending_removals(&s.db).is_empty());
}

#[actix_web::test]
async fn when_the_bucket_is_unreachable_uploads_get_503_and_nothing_is_saved() {
    let s3 = s3::S3Server::start();
    // The server answers, but the bucket was never made.
    let s = setup_s3(&s3, "missing").await;
    let ready = send(&s.app, TestRequest::get().uri("/readyz")).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text
    );
    assert_eq!(ready.json["receipts"], "unavailable");

    let answer = s
        .add_invoice(&[("amount", "5")], Some(("r.png", &fixture("rgb.png"))))
        .await;
    answer.assert_unavailable();
    assert_eq!(invoice_count(&s.db), 0);
}

#[actix_web::test]
async fn a_receipt_left_behind_while_storage_was_down_is_removed_when_it_is_back() {
    let mut s3 = s3::S3Server::start();
    s3.create_bucket("receipts");
    let s = setup_s3(&s3, "receipts").await;
    let created = s
        .add_invoice(&[("amount", "5")], Some(("r.png", &fixture("rgb.png"))))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let key = s3.keys("receipts").remove(0);

    s3.stop();
    let uri = format!("/api/v1/invoices/{}", created.json["id"]);
    let deleted = send(&s.app, bearer(TestRequest::delete().uri(&uri), &s.token)).await;
    assert_eq!(
        deleted.status,
        StatusCode::NO_CONTENT,
        "the invoice is gone for the user"
    );
    assert_eq!(
        pending_removals(&s.db),
        vec![key.clone()],
        "its file is still owed"
    );
    assert_eq!(s.sweep().await, (0, 1));
    let last_error: Option<String> = crm_db::schema::stale_receipts::table
        .select(crm_db::schema::stale_receipts::last_error)
        .first(&mut s.db.connection())
        .unwrap();
    assert!(last_error.is_some());

    // Storage is back; once the lease of the failed attempt has passed, the sweep finishes.
    let back = s3::S3Server::start_on(s3.port());
    back.create_bucket("receipts");
    let now = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    crm_db::stale_receipts::schedule(&mut s.db.connection(), &key, now).unwrap();
    assert_eq!(s.sweep().await, (1, 0));
    assert!(pending_removals(&s.db).is_empty());
}
