//! `crm-api backup` and `crm-api restore`: a database with customers, invoices and receipts is
//! backed up, restored into a fresh database and a fresh receipts store (a folder, or an S3
//! bucket of moto's server), and every record and receipt is found again through the API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use crm_api::state::AppState;
use crm_db::test_support::TestDatabase;
use serde_json::{Value, json};
use support::*;

/// Runs `crm-api` on `database_url` with these receipt storage settings.
fn run_crm_api(args: &[&str], database_url: &str, storage: &[(&str, String)]) -> Output {
    crm_api(database_url)
        .envs(storage.iter().map(|(k, v)| (*k, v)))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn local_store(dir: &Path) -> Vec<(&'static str, String)> {
    vec![("RECEIPTS_DIR", dir.display().to_string())]
}

fn as_pairs<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// What a user would check after a restore: each customer and invoice as the API shows it,
/// and each receipt's bytes.
#[derive(Debug, PartialEq)]
struct Seen {
    customers: Vec<Value>,
    invoices: Vec<Value>,
    receipts: Vec<Vec<u8>>,
}

/// The records a filled database holds, by id.
struct Filled {
    token: String,
    customers: Vec<i64>,
    invoices: Vec<i64>,
}

/// Fills a fresh database through the API: an admin, three customers (one archived) and three
/// invoices whose receipts came as a PDF, a JPEG and a PNG.
async fn fill(state: &AppState) -> Filled {
    let app = init_service(crm_api::app(state.clone())).await;
    let session = setup_admin(&app).await;
    let token = create_token(&app, &session, "backup test").await;
    let mut customers = Vec::new();
    for (name, email) in [
        ("Grace Hopper", "grace@example.com"),
        ("Alan Turing", "alan@example.com"),
        ("Edsger Dijkstra", "edsger@example.com"),
    ] {
        let created = send(
            &app,
            bearer(TestRequest::post().uri("/api/v1/customers"), &token)
                .set_json(json!({"name": name, "email": email, "notes": "kept in the backup"})),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        customers.push(created.json["id"].as_i64().unwrap());
    }
    let archived = send(
        &app,
        bearer(
            TestRequest::post().uri(&format!("/api/v1/customers/{}/archive", customers[2])),
            &token,
        ),
    )
    .await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    let mut invoices = Vec::new();
    for (customer, amount, file) in [
        (customers[0], "120.50", "plain.pdf"),
        (customers[0], "9.99", "exif-rotated.jpg"),
        (customers[1], "1000", "rgb.png"),
    ] {
        let created = send(
            &app,
            bearer(
                upload(
                    customer,
                    multipart(&[("amount", amount)], Some((file, &fixture(file)))),
                ),
                &token,
            ),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        invoices.push(created.json["id"].as_i64().unwrap());
    }
    Filled {
        token,
        customers,
        invoices,
    }
}

/// Reads every filled record back through the API of `state`, with the filled token.
async fn look(state: &AppState, filled: &Filled) -> Seen {
    let app = init_service(crm_api::app(state.clone())).await;
    let get = |uri: String| bearer(TestRequest::get().uri(&uri), &filled.token);
    let mut seen = Seen {
        customers: Vec::new(),
        invoices: Vec::new(),
        receipts: Vec::new(),
    };
    for id in &filled.customers {
        let answer = send(&app, get(format!("/api/v1/customers/{id}"))).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "customer {id}: {}",
            answer.text
        );
        seen.customers.push(answer.json);
    }
    for id in &filled.invoices {
        let answer = send(&app, get(format!("/api/v1/invoices/{id}"))).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "invoice {id}: {}",
            answer.text
        );
        seen.invoices.push(answer.json);
        let pdf = actix_web::test::call_service(
            &app,
            get(format!("/api/v1/invoices/{id}/receipt")).to_request(),
        )
        .await;
        assert_eq!(pdf.status(), StatusCode::OK, "receipt of invoice {id}");
        seen.receipts
            .push(actix_web::test::read_body(pdf).await.to_vec());
    }
    seen
}

/// The archive's manifest.
fn manifest(archive: &Path) -> Value {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(archive).unwrap()).unwrap();
    let mut text = String::new();
    zip.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn customer_count(db: &TestDatabase) -> i64 {
    use diesel::prelude::*;
    crm_db::schema::customers::table
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found
}

/// A filled database and receipts folder, and their backup.
async fn backed_up() -> (TestDatabase, AppState, Filled, PathBuf, PathBuf) {
    let source_receipts = scratch_dir("backup-source");
    let (db, state) = fresh(&as_pairs(&local_store(&source_receipts)));
    let filled = fill(&state).await;
    let archive = scratch_dir("backup-archive").join("crm.zip");
    let output = run_crm_api(
        &["backup", archive.to_str().unwrap()],
        db.url(),
        &local_store(&source_receipts),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    (db, state, filled, source_receipts, archive)
}

#[actix_web::test]
async fn a_backup_restores_every_customer_invoice_and_receipt_into_a_fresh_database_and_folder() {
    let (_source_db, source, filled, _, archive) = backed_up().await;
    let before = look(&source, &filled).await;

    let manifest = manifest(&archive);
    assert_eq!(manifest["format_version"], 1);
    assert_eq!(
        manifest["counts"],
        json!({"customers": 3, "invoices": 3, "receipts": 3, "users": 1})
    );
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 4, "the dump and three receipts: {files:?}");
    assert!(
        files
            .iter()
            .all(|f| f["sha256"].as_str().unwrap().len() == 64)
    );

    let target = TestDatabase::new();
    let target_receipts = scratch_dir("backup-target");
    let output = run_crm_api(
        &["restore", archive.to_str().unwrap()],
        target.url(),
        &local_store(&target_receipts),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("restored 3 customers, 3 invoices, 3 receipts"),
        "{}",
        stderr(&output)
    );

    let restored = AppState::new(config_for(
        target.url(),
        &as_pairs(&local_store(&target_receipts)),
    ))
    .unwrap();
    let after = look(&restored, &filled).await;
    assert_eq!(after, before);
    assert_eq!(files_in(&target_receipts).len(), 3);
}

#[actix_web::test]
async fn a_tampered_archive_is_refused_and_nothing_is_restored() {
    let (_source_db, _, _, _, archive) = backed_up().await;
    // One byte of a receipt changed, the manifest left as it was.
    let tampered = archive.with_file_name("tampered.zip");
    {
        let mut original = zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
        let mut copy = zip::ZipWriter::new(std::fs::File::create(&tampered).unwrap());
        let mut changed = false;
        for i in 0..original.len() {
            let mut entry = original.by_index(i).unwrap();
            let name = entry.name().unwrap().into_owned();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            if name.starts_with("receipts-store/") && !changed {
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x01;
                changed = true;
            }
            copy.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
                .unwrap();
            copy.write_all(&bytes).unwrap();
        }
        assert!(changed);
        copy.finish().unwrap();
    }

    let target = TestDatabase::new();
    let target_receipts = scratch_dir("backup-target");
    let output = run_crm_api(
        &["restore", tampered.to_str().unwrap()],
        target.url(),
        &local_store(&target_receipts),
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("does not match the manifest"),
        "{}",
        stderr(&output)
    );
    assert_eq!(customer_count(&target), 0);
    assert!(files_in(&target_receipts).is_empty());
}

#[actix_web::test]
async fn restoring_over_a_database_that_holds_records_needs_force() {
    let (_source_db, source, filled, _, archive) = backed_up().await;
    let before = look(&source, &filled).await;

    // Another database in use: an admin and a customer of its own.
    let target_receipts = scratch_dir("backup-target");
    let (target, in_use) = fresh(&as_pairs(&local_store(&target_receipts)));
    let other = fill(&in_use).await;
    let refused = run_crm_api(
        &["restore", archive.to_str().unwrap()],
        target.url(),
        &local_store(&target_receipts),
    );
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert_eq!(
        look(&in_use, &other).await.customers.len(),
        3,
        "left as it was"
    );

    let forced = run_crm_api(
        &["restore", "--force", archive.to_str().unwrap()],
        target.url(),
        &local_store(&target_receipts),
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    let restored = AppState::new(config_for(
        target.url(),
        &as_pairs(&local_store(&target_receipts)),
    ))
    .unwrap();
    assert_eq!(look(&restored, &filled).await, before);
    assert_eq!(
        customer_count(&target),
        3,
        "the database's own records are replaced"
    );
}

#[actix_web::test]
async fn receipts_in_an_s3_bucket_are_backed_up_and_restored_into_another_bucket() {
    let s3 = s3::S3Server::start();
    s3.create_bucket("live");
    s3.create_bucket("restored");
    let live = s3.config("live");
    let (source_db, source) = fresh(&as_pairs(&live));
    let filled = fill(&source).await;
    let before = look(&source, &filled).await;
    let archive = scratch_dir("backup-archive").join("crm.zip");
    let output = run_crm_api(
        &["backup", archive.to_str().unwrap()],
        source_db.url(),
        &live,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(manifest(&archive)["files"].as_array().unwrap().len(), 4);

    let target = TestDatabase::new();
    let restored_bucket = s3.config("restored");
    let output = run_crm_api(
        &["restore", archive.to_str().unwrap()],
        target.url(),
        &restored_bucket,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(s3.keys("restored"), s3.keys("live"));
    let restored = AppState::new(config_for(target.url(), &as_pairs(&restored_bucket))).unwrap();
    assert_eq!(look(&restored, &filled).await, before);
}
