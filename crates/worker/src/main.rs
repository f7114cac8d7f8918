//! `crm-worker`: sends scheduled messages when they are due. Configured by environment
//! variables (see the README, or `crm-worker --help`); stops on SIGTERM or Ctrl-C after the
//! sends under way finish; exits non-zero when its queue worker dies, for a supervisor to
//! restart it.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use crm_worker::WorkerState;
use crm_worker::config::{Config, LogFormat};
use crm_worker::metrics::WorkerMetrics;
use secrecy::ExposeSecret;

/// How long a send waits for a database connection before the job is retried.
const DATABASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::load();
    init_tracing(config.log_format);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "crm-worker is exiting with an error"
            );
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let provider = config.provider().context("invalid configuration")?;
    let status_callback = config.status_callback().context("invalid configuration")?;

    let metrics = Arc::new(WorkerMetrics::default());
    let watch = Arc::new(crm_db::PoolWatch::new(Some(Arc::clone(&metrics.pool))));
    let pool = crm_db::build_pool(
        config.database_url.expose_secret(),
        config.pool_size(),
        DATABASE_TIMEOUT,
        Arc::clone(&watch),
    );
    let db = crm_worker::Db::new(pool, watch);
    let storage = crm_queue::open(config.redis_url.expose_secret(), config.queue_config())
        .context("REDIS_URL is not a valid Redis URL")?;
    let name = crm_worker::worker_name(&config.worker_name);
    let state = WorkerState::new(db, provider, name, config.send_policy())
        .with_status_callback(status_callback)
        .with_metrics(Arc::clone(&metrics));
    if let Some(addr) = config.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (METRICS_ADDR)"))?;
        tracing::info!(url = %format!("http://{addr}/metrics"), "metrics listening");
        // It answers as long as the process lives, through a graceful stop too.
        tokio::spawn(crm_worker::metrics::serve(
            listener,
            metrics,
            state.pool().clone(),
            tokio_util::sync::CancellationToken::new(),
        ));
    }

    tokio::spawn(crm_worker::stop_on(shutdown_signal(), state.clone()));
    crm_worker::run(storage, state, config.run_options()).await?;
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

/// SIGTERM (a supervisor stopping us) or Ctrl-C.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(error) => {
            tracing::warn!(error = %error, "cannot listen for SIGTERM; only Ctrl-C stops the worker");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
