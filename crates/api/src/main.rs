//! `crm-api`: serve the API (the default), migrate, create a user, back up and restore, or
//! write the OpenAPI spec.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use crm_api::config::{Config, LogFormat};
use crm_api::state::AppState;
use crm_domain::{EmailAddress, Password, Role, UserName};
use diesel::{Connection, PgConnection};
use secrecy::ExposeSecret;

/// jemalloc, with background threads that give pages unused for a few seconds back to the
/// system: with glibc's allocator the API kept what its busiest moment used (290 MiB after 256
/// receipt uploads at once) for as long as it ran.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Debug, Parser)]
#[command(name = "crm-api", version, about = "Customer Manager API server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database and serve the API and web app (the default).
    Serve,
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Create a user. The password is asked for, or read from the first line of standard input.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// `admin` or `staff`.
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// Offer a WhatsApp template (approved in Twilio's console) in the schedule form; a template
    /// of the same name is replaced.
    AddTemplate {
        /// What staff see, e.g. "Order ready".
        #[arg(long)]
        name: String,
        /// Twilio's content SID (`HX` and 32 hexadecimal digits).
        #[arg(long)]
        content_sid: String,
        /// The names of its variables in order ({{1}}, {{2}}, …), comma-separated.
        #[arg(long, value_delimiter = ',')]
        variables: Vec<String>,
    },
    /// Back up the database and every receipt into one zip archive (see the README's Backups).
    Backup {
        /// The archive to write, e.g. `crm-2026-01-31.zip`.
        archive: PathBuf,
    },
    /// Restore a backup archive into the database and receipts store of the configuration.
    /// Refuses a database that holds records, unless --force.
    Restore {
        /// The archive `crm-api backup` wrote.
        archive: PathBuf,
        /// Replace a database that holds records.
        #[arg(long)]
        force: bool,
    },
    /// Write the OpenAPI description (`-` for standard output).
    Openapi {
        #[arg(long, default_value = "openapi/openapi.json")]
        output: PathBuf,
    },
}

/// How long start-up waits for PostgreSQL to accept connections.
const STARTUP_WAIT: Duration = Duration::from_secs(30);

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi { output } = &command {
        return write_openapi(output);
    }
    let config = Config::from_env().context("invalid configuration")?;
    init_tracing(config.log_format);
    match command {
        Command::Serve => {
            migrate(&config)?;
            serve(config)
        }
        Command::Migrate => migrate(&config),
        Command::CreateUser { email, name, role } => create_user(&config, &email, &name, &role),
        Command::AddTemplate {
            name,
            content_sid,
            variables,
        } => add_template(&config, &name, &content_sid, &variables),
        Command::Backup { archive } => backup(&config, &archive),
        Command::Restore { archive, force } => restore(&config, &archive, force),
        Command::Openapi { .. } => Ok(()),
    }
}

fn add_template(
    config: &Config,
    name: &str,
    content_sid: &str,
    variables: &[String],
) -> anyhow::Result<()> {
    let name = name.trim();
    anyhow::ensure!(
        (1..=100).contains(&name.chars().count()),
        "--name: 1 to 100 characters"
    );
    let sid = crm_domain::TemplateSid::parse(content_sid)
        .map_err(|e| anyhow::anyhow!("--content-sid: {e}"))?;
    let variables: Vec<String> = variables
        .iter()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    migrate(config)?;
    let mut conn = PgConnection::establish(config.database_url.expose_secret())?;
    crm_db::messages::save_template(&mut conn, name, sid.as_str(), &variables)?;
    eprintln!("WhatsApp template {name:?} ({}) is offered", sid.as_str());
    Ok(())
}

fn backup(config: &Config, archive: &std::path::Path) -> anyhow::Result<()> {
    let manifest = crm_api::backup::create(config, archive)?;
    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    let counts = manifest.counts;
    eprintln!(
        "backed up {} customers, {} invoices, {} receipts, {} users ({} files, {bytes} bytes) to {}",
        counts.customers,
        counts.invoices,
        counts.receipts,
        counts.users,
        manifest.files.len(),
        archive.display()
    );
    Ok(())
}

fn restore(config: &Config, archive: &std::path::Path, force: bool) -> anyhow::Result<()> {
    let manifest = crm_api::backup::restore(config, archive, force)?;
    let counts = manifest.counts;
    eprintln!(
        "restored {} customers, {} invoices, {} receipts, {} users from {} (made {} by crm-api {})",
        counts.customers,
        counts.invoices,
        counts.receipts,
        counts.users,
        archive.display(),
        manifest.created_at.to_rfc3339(),
        manifest.app_version
    );
    Ok(())
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn write_openapi(output: &PathBuf) -> anyhow::Result<()> {
    let json = crm_api::openapi::to_json();
    if output.as_os_str() == "-" {
        std::io::stdout().write_all(json.as_bytes())?;
    } else {
        std::fs::write(output, json)
            .with_context(|| format!("cannot write {}", output.display()))?;
        eprintln!("wrote {}", output.display());
    }
    Ok(())
}

/// Creates the database when missing and applies pending migrations, waiting a while for
/// PostgreSQL to come up.
fn migrate(config: &Config) -> anyhow::Result<()> {
    let url = config.database_url.expose_secret();
    let deadline = std::time::Instant::now() + STARTUP_WAIT;
    let mut conn = loop {
        let attempt = crm_db::ensure_database_exists(url)
            .map_err(anyhow::Error::from)
            .and_then(|created| {
                if created {
                    tracing::info!("created the database");
                }
                PgConnection::establish(url).map_err(anyhow::Error::from)
            });
        match attempt {
            Ok(conn) => break conn,
            Err(error) if std::time::Instant::now() < deadline => {
                tracing::warn!(error = %error, "PostgreSQL not ready; retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(error) => return Err(error.context("cannot reach PostgreSQL (DATABASE_URL)")),
        }
    };
    let applied = crm_db::run_migrations(&mut conn)?;
    tracing::info!(applied = ?applied, "database is up to date");
    Ok(())
}

fn create_user(config: &Config, email: &str, name: &str, role: &str) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let name = UserName::parse(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let role = Role::parse(role).map_err(|e| anyhow::anyhow!("--role: {e}"))?;
    let password = read_password()?;
    let password = Password::parse(&password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    migrate(config)?;
    let hash = crm_api::auth::password::hash(&password)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    let mut conn = PgConnection::establish(config.database_url.expose_secret())?;
    let new = crm_db::users::NewUser {
        email: email.as_str(),
        name: name.as_str(),
        password_hash: &hash,
        role,
    };
    let inserted = crm_db::users::create(&mut conn, None, &new);
    match inserted {
        Ok(user) => {
            eprintln!(
                "created {} user {} (id {})",
                role.as_str(),
                user.email,
                user.id
            );
            Ok(())
        }
        Err(e) if crm_db::is_unique_violation(&e) => {
            bail!("a user with email {email} exists already")
        }
        Err(e) => Err(e.into()),
    }
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (10+ characters): ")?;
        let again = rpassword::prompt_password("Repeat it: ")?;
        if first != again {
            bail!("the passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[actix_web::main]
async fn serve(config: Config) -> anyhow::Result<()> {
    let bind = config.bind_addr;
    let state = AppState::new(config).context("cannot prepare the receipt store (RECEIPTS_DIR)")?;
    crm_api::cleanup::spawn(state.clone());
    crm_api::auth::password::warm_up();
    crm_api::live::start(&state);
    let server_state = state.clone();
    let live = std::sync::Arc::clone(&state.live);
    let server = actix_web::HttpServer::new(move || crm_api::app(server_state.clone()))
        .shutdown_signal(async move {
            stop_requested().await;
            // Open event streams would hold the graceful shutdown for its whole timeout.
            live.close();
        })
        .bind(bind)
        .with_context(|| format!("cannot listen on {bind} (BIND_ADDR)"))?
        .shutdown_timeout(10)
        .run();
    tracing::info!(url = %format!("http://{bind}"), "Customer Manager API listening");
    server.await.context("server failed")
}
