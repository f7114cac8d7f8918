//! `crm-api backup` and `crm-api restore`: the database (a `pg_dump` archive in custom format)
//! and every file of the receipts store in one zip, with a manifest that lists each file's
//! size and SHA-256.
//!
//! A backup is consistent: the counts, the list of receipts the invoices need and `pg_dump`
//! all read one snapshot of the database, and the backup fails when a receipt an invoice needs
//! is missing from the store. A restore checks the whole archive before it changes anything,
//! refuses a database that holds records unless forced, and checks the restored counts.
//!
//! `pg_dump` and `pg_restore` (PostgreSQL's client programs, of the server's major version or
//! newer) must be on `PATH`. A password in `DATABASE_URL` reaches them through `PGPASSWORD`,
//! never their command line.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, anyhow, bail, ensure};
use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::config::Config;
use crate::storage::ReceiptStore;

/// The archive format this version writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's name in the archive.
pub const MANIFEST: &str = "manifest.json";
/// The database dump's name in the archive.
pub const DATABASE_DUMP: &str = "database.pgdump";
/// The folder of the receipts store's files in the archive; each file keeps its key below it.
pub const STORE_FOLDER: &str = "receipts-store/";

/// What an archive holds, written as `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`] of the program that wrote it.
    pub format_version: u32,
    /// The version of `crm-api` that wrote it.
    pub app_version: String,
    /// When the database snapshot was taken.
    pub created_at: DateTime<Utc>,
    /// Records in the database dump.
    pub counts: Counts,
    /// Every other file of the archive, with its size and SHA-256.
    pub files: Vec<ManifestFile>,
}

/// How many records the archive's database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Customers, archived ones included.
    pub customers: i64,
    /// Invoices.
    pub invoices: i64,
    /// The receipts the invoices point to (all in the archive).
    pub receipts: i64,
    /// User accounts.
    pub users: i64,
}

/// One file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Its name in the archive.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, in lowercase hexadecimal.
    pub sha256: String,
}

/// Writes a backup of the configured database and receipts store to `archive` (through a
/// `.partial` file, renamed when complete).
pub fn create(config: &Config, archive: &Path) -> anyhow::Result<Manifest> {
    let runtime = runtime()?;
    let store = ReceiptStore::from_config(&config.receipt_storage)?;
    let database = DatabaseUrl::new(config.database_url.expose_secret())?;
    let mut conn = PgConnection::establish(config.database_url.expose_secret())
        .context("cannot reach PostgreSQL (DATABASE_URL)")?;
    let partial = partial_path(archive);
    let file =
        File::create(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
    let written = conn.build_transaction().repeatable_read().read_only().run(|conn| {
        let snapshot = crm_db::backup::export_snapshot(conn)?;
        let records = crm_db::backup::record_counts(conn)?;
        let needed = crm_db::backup::receipt_keys(conn)?;
        let mut zip = ZipWriter::new(file);
        let dump = write_dump(&mut zip, &database, &snapshot)?;
        let mut files = vec![dump];
        let stored = runtime.block_on(store.keys())?;
        let missing: Vec<&String> = needed.iter().filter(|k| !stored.contains(*k)).collect();
        ensure!(
            missing.is_empty(),
            "receipts that invoices need are missing from the store (deleted during the backup? \
             run it again): {missing:?}"
        );
        for key in &stored {
            let bytes = runtime.block_on(store.get(key))?;
            files.push(write_entry(&mut zip, &format!("{STORE_FOLDER}{key}"), &bytes)?);
        }
        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            created_at: Utc::now(),
            counts: Counts {
                customers: records.customers,
                invoices: records.invoices,
                receipts: i64::try_from(needed.len())?,
                users: records.users,
            },
            files,
        };
        zip.start_file(MANIFEST, options())?;
        serde_json::to_writer_pretty(&mut zip, &manifest)?;
        zip.finish()?.sync_all()?;
        Ok::<_, anyhow::Error>(manifest)
    });
    match written {
        Ok(manifest) => {
            std::fs::rename(&partial, archive)
                .with_context(|| format!("cannot write {}", archive.display()))?;
            Ok(manifest)
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// Restores `archive` into the configured database (created if missing) and receipts store.
/// Refuses a database that holds users, customers or invoices unless `force`, which replaces
/// its tables. Nothing changes unless the whole archive matches its manifest.
pub fn restore(config: &Config, archive: &Path, force: bool) -> anyhow::Result<Manifest> {
    let runtime = runtime()?;
    let store = ReceiptStore::from_config(&config.receipt_storage)?;
    let database = DatabaseUrl::new(config.database_url.expose_secret())?;
    let file = File::open(archive).with_context(|| format!("cannot read {}", archive.display()))?;
    let mut zip = ZipArchive::new(file).context("not a backup archive (not a zip file)")?;
    let manifest = verify(&mut zip)?;

    crm_db::ensure_database_exists(config.database_url.expose_secret())
        .context("cannot reach PostgreSQL (DATABASE_URL)")?;
    let mut conn = PgConnection::establish(config.database_url.expose_secret())
        .context("cannot reach PostgreSQL (DATABASE_URL)")?;
    if crm_db::backup::holds_records(&mut conn)? && !force {
        bail!(
            "the database holds records already; restoring would replace them all. Restore into \
             an empty database, or pass --force to replace it"
        );
    }
    for listed in &manifest.files {
        if let Some(key) = listed.path.strip_prefix(STORE_FOLDER) {
            let bytes = read_entry(&mut zip, &listed.path)?;
            runtime.block_on(store.put(key, bytes))?;
        }
    }
    let dump = zip.by_name(DATABASE_DUMP)?;
    run_pg_restore(dump, &database)?;

    let records = crm_db::backup::record_counts(&mut conn)?;
    let receipts = i64::try_from(crm_db::backup::receipt_keys(&mut conn)?.len())?;
    let restored = (records.customers, records.invoices, receipts, records.users);
    let expected = &manifest.counts;
    ensure!(
        restored
            == (
                expected.customers,
                expected.invoices,
                expected.receipts,
                expected.users
            ),
        "the restored database holds {restored:?} (customers, invoices, receipts, users), \
         the manifest says {expected:?}"
    );
    Ok(manifest)
}

/// Reads the manifest and checks every entry against it: the format version, each listed
/// file's presence, size and SHA-256, and no entry left unlisted.
pub fn verify<R: Read + io::Seek>(zip: &mut ZipArchive<R>) -> anyhow::Result<Manifest> {
    let manifest: Manifest = serde_json::from_reader(
        zip.by_name(MANIFEST)
            .context("not a backup archive: it has no manifest.json")?,
    )
    .context("the archive's manifest.json can't be read")?;
    ensure!(
        manifest.format_version <= FORMAT_VERSION,
        "the archive is of format {}, newer than this program's {FORMAT_VERSION}: restore it with \
         the crm-api that wrote it ({})",
        manifest.format_version,
        manifest.app_version
    );
    let listed: BTreeMap<&str, &ManifestFile> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    ensure!(
        listed.contains_key(DATABASE_DUMP),
        "the archive lists no {DATABASE_DUMP}"
    );
    let entries: BTreeSet<String> = zip
        .file_names()
        .map(|name| name.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .context("the archive's list of files can't be read")?;
    for name in &entries {
        ensure!(
            name == MANIFEST || listed.contains_key(name.as_str()),
            "the archive holds {name}, which its manifest does not list"
        );
    }
    for file in &manifest.files {
        if let Some(key) = file.path.strip_prefix(STORE_FOLDER) {
            object_store::path::Path::parse(key)
                .map_err(|_| anyhow!("the manifest lists a file with a bad name: {}", file.path))?;
        } else {
            ensure!(
                file.path == DATABASE_DUMP,
                "the manifest lists an unknown file: {}",
                file.path
            );
        }
        let entry = zip
            .by_name(&file.path)
            .with_context(|| format!("the archive lacks {}", file.path))?;
        let mut hashing = HashingWriter::new(io::sink());
        io::copy(&mut { entry }, &mut hashing)
            .with_context(|| format!("{} can't be read", file.path))?;
        let (size, sha256) = hashing.finish();
        ensure!(
            size == file.size && sha256 == file.sha256,
            "{} does not match the manifest (changed or damaged): refusing the archive",
            file.path
        );
    }
    Ok(manifest)
}

/// A single-threaded runtime for the receipts store's requests.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn partial_path(archive: &Path) -> PathBuf {
    let mut name = archive.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Entries are stored as they are: the dump and the PDFs are compressed already.
fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(true)
}

fn write_entry(
    zip: &mut ZipWriter<File>,
    path: &str,
    bytes: &[u8],
) -> anyhow::Result<ManifestFile> {
    zip.start_file(path, options())?;
    let mut hashing = HashingWriter::new(&mut *zip);
    hashing.write_all(bytes)?;
    let (size, sha256) = hashing.finish();
    Ok(ManifestFile {
        path: path.to_owned(),
        size,
        sha256,
    })
}

fn read_entry<R: Read + io::Seek>(zip: &mut ZipArchive<R>, path: &str) -> anyhow::Result<Vec<u8>> {
    let mut entry = zip.by_name(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
    entry.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Streams `pg_dump` of the exported snapshot into the archive.
fn write_dump(
    zip: &mut ZipWriter<File>,
    database: &DatabaseUrl,
    snapshot: &str,
) -> anyhow::Result<ManifestFile> {
    zip.start_file(DATABASE_DUMP, options())?;
    let child = database
        .command("pg_dump")
        .args(["--format=custom", "--snapshot", snapshot])
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run pg_dump (install PostgreSQL's client programs)")?;
    let mut hashing = HashingWriter::new(&mut *zip);
    finish_tool("pg_dump", child, |child| {
        let mut out = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("no pg_dump output"))?;
        io::copy(&mut out, &mut hashing)?;
        Ok(())
    })?;
    let (size, sha256) = hashing.finish();
    Ok(ManifestFile {
        path: DATABASE_DUMP.to_owned(),
        size,
        sha256,
    })
}

/// Feeds the dump to `pg_restore`, which replaces what the database holds in one transaction.
fn run_pg_restore(mut dump: impl Read, database: &DatabaseUrl) -> anyhow::Result<()> {
    let child = database
        .command("pg_restore")
        .args([
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .context("cannot run pg_restore (install PostgreSQL's client programs)")?;
    finish_tool("pg_restore", child, |child| {
        let mut input = child
            .stdin
            .take()
            .ok_or_else(|| anyhow!("no pg_restore input"))?;
        io::copy(&mut dump, &mut input)?;
        Ok(())
    })
}

/// Runs `feed` while the tool's messages are collected, then waits for it; a failure carries
/// what it said.
fn finish_tool(
    name: &str,
    mut child: Child,
    feed: impl FnOnce(&mut Child) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut stderr = child.stderr.take();
    let said = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    });
    let fed = feed(&mut child);
    let status = child.wait()?;
    let said = said.join().unwrap_or_default();
    if !status.success() {
        bail!("{name} failed ({status}): {}", said.trim());
    }
    fed.with_context(|| format!("{name}: {}", said.trim()))
}

/// `DATABASE_URL` split for PostgreSQL's client programs: the URL without its password, and
/// the password.
struct DatabaseUrl {
    url: String,
    password: Option<String>,
}

impl DatabaseUrl {
    fn new(database_url: &str) -> anyhow::Result<Self> {
        let mut url = url::Url::parse(database_url)
            .map_err(|_| anyhow!("DATABASE_URL is not a valid PostgreSQL URL"))?;
        let password = url.password().map(percent_decode);
        let _ = url.set_password(None);
        Ok(Self {
            url: url.to_string(),
            password,
        })
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .arg("--dbname")
            .arg(&self.url)
            .stdin(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password);
        }
        command
    }
}

/// Decodes `%XX` escapes, as libpq does for a URL's password.
fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Passes bytes through while counting them and computing their SHA-256.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// The size and lowercase hex SHA-256 of what went through.
    fn finish(self) -> (u64, String) {
        let digest = self.hasher.finalize();
        (
            self.size,
            digest.iter().map(|b| format!("{b:02x}")).collect(),
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.size += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
