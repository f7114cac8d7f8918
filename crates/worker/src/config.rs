//! Typed configuration, read once at start-up from the command line and the environment (and
//! `.env` when present). Every setting is an environment variable; the flags exist for trying
//! things out by hand.

use std::time::Duration;

use clap::{Parser, ValueEnum};
use secrecy::SecretString;
use url::Url;

use crate::provider::{LogProvider, Provider, TwilioConfig, TwilioProvider};
use crate::{RunOptions, SendPolicy};

/// Where the API takes Twilio's delivery reports, under `PUBLIC_URL`.
pub const TWILIO_WEBHOOK_PATH: &str = "/api/v1/webhooks/twilio";

/// How long apalis and the in-flight sends get to finish after SIGTERM, beyond one send.
const SHUTDOWN_MARGIN: Duration = Duration::from_secs(5);

/// Everything `crm-worker` needs to know; see the README's configuration table.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "crm-worker",
    version,
    about = "Customer Manager worker: sends scheduled SMS and WhatsApp messages when they are due"
)]
pub struct Config {
    /// PostgreSQL connection URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/customer_manager",
        hide_env_values = true,
        value_parser = secret
    )]
    pub database_url: SecretString,

    /// Most PostgreSQL connections held open; by default one per four concurrent sends (at
    /// most 16) plus one for the reconciler (see `Config::pool_size`).
    #[arg(long, env = "DATABASE_POOL_SIZE",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub database_pool_size: Option<u32>,

    /// Redis connection URL (the job queue).
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true,
        value_parser = secret
    )]
    pub redis_url: SecretString,

    /// The queue's name in Redis; the API must use the same.
    #[arg(long, env = "MESSAGE_QUEUE", default_value = crm_queue::QUEUE)]
    pub message_queue: String,

    /// Where messages go: `log` prints them (development), `twilio` sends them.
    #[arg(long, env = "MESSAGE_PROVIDER", value_enum, default_value_t = ProviderKind::Log)]
    pub message_provider: ProviderKind,

    /// Twilio's API base URL; tests point it at a local fake.
    #[arg(long, env = "TWILIO_API_URL", default_value = crate::provider::DEFAULT_API_URL)]
    pub twilio_api_url: Url,

    /// Twilio account SID (`AC…`); required with `MESSAGE_PROVIDER=twilio`.
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    pub twilio_account_sid: Option<String>,

    /// Twilio auth token; required with `MESSAGE_PROVIDER=twilio`.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true, value_parser = secret)]
    pub twilio_auth_token: Option<SecretString>,

    /// SMS sender: a Twilio number in E.164 form, a short code or an alphanumeric sender ID.
    #[arg(long, env = "TWILIO_FROM")]
    pub twilio_from: Option<String>,

    /// Messaging Service SID (`MG…`); when set it sends SMS instead of `TWILIO_FROM`, and
    /// WhatsApp when `TWILIO_WHATSAPP_FROM` is unset.
    #[arg(long, env = "TWILIO_MESSAGING_SERVICE_SID")]
    pub twilio_messaging_service_sid: Option<String>,

    /// WhatsApp sender number in E.164 form.
    #[arg(long, env = "TWILIO_WHATSAPP_FROM")]
    pub twilio_whatsapp_from: Option<String>,

    /// The URL users reach the app at; when set, Twilio reports deliveries to
    /// `PUBLIC_URL/api/v1/webhooks/twilio`.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<Url>,

    /// Most messages one worker process sends at once.
    #[arg(long, env = "WORKER_CONCURRENCY", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub worker_concurrency: u32,

    /// How often an idle worker asks Redis for due jobs, in milliseconds.
    #[arg(long, env = "WORKER_POLL_MS", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub worker_poll_ms: u64,

    /// Most jobs taken from Redis in one poll.
    #[arg(long, env = "WORKER_BATCH_SIZE", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub worker_batch_size: u32,

    /// How many times a send is tried while the provider is unreachable (timeouts before
    /// sending, 429, 5xx), waiting 1 s, 2 s, 4 s… in between.
    #[arg(long, env = "SEND_ATTEMPTS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=20))]
    pub send_attempts: u32,

    /// How long one request to the provider may take, in seconds.
    #[arg(long, env = "SEND_TIMEOUT_SECS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub send_timeout_secs: u64,

    /// How often the reconciler re-queues due messages that lost their job and resolves
    /// abandoned sends, in seconds.
    #[arg(long, env = "RECONCILE_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub reconcile_secs: u64,

    /// The start of this process's worker name; the rest (host, process id, random) keeps
    /// names unique across processes and restarts.
    #[arg(long, env = "WORKER_NAME", default_value = "crm-worker")]
    pub worker_name: String,

    /// Where to serve `GET /metrics` for Prometheus (e.g. `127.0.0.1:9187`); unset: no
    /// listener. Only the monitoring system should reach it.
    #[arg(long, env = "METRICS_ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,

    /// `text` for people, `json` for log collectors.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Which provider sends messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderKind {
    /// Print each message instead of sending it (development).
    Log,
    /// Send through Twilio's Messages API.
    Twilio,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A setting that is present but can't be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Twilio is selected but a credential is missing.
    #[error("MESSAGE_PROVIDER=twilio needs {0} (or use MESSAGE_PROVIDER=log)")]
    MissingTwilio(&'static str),
    /// Twilio's settings were refused.
    #[error("the Twilio settings (TWILIO_*) are wrong: {0}")]
    Twilio(#[from] crate::provider::TwilioConfigError),
    /// `PUBLIC_URL` can't carry a path for the webhook.
    #[error("PUBLIC_URL must be an http or https URL such as https://crm.example.com")]
    PublicUrl,
}

impl Config {
    /// Reads the command line and the environment, after loading `.env` if there is one;
    /// prints the problem and exits on a malformed value.
    pub fn load() -> Self {
        let _ = dotenvy::dotenv();
        Self::parse()
    }

    /// The configured provider, checked: fails when Twilio is selected without credentials.
    pub fn provider(&self) -> Result<Provider, ConfigError> {
        match self.message_provider {
            ProviderKind::Log => Ok(Provider::Log(LogProvider::new())),
            ProviderKind::Twilio => {
                let account_sid = self
                    .twilio_account_sid
                    .clone()
                    .ok_or(ConfigError::MissingTwilio("TWILIO_ACCOUNT_SID"))?;
                let auth_token = self
                    .twilio_auth_token
                    .clone()
                    .ok_or(ConfigError::MissingTwilio("TWILIO_AUTH_TOKEN"))?;
                if self.twilio_from.is_none()
                    && self.twilio_messaging_service_sid.is_none()
                    && self.twilio_whatsapp_from.is_none()
                {
                    return Err(ConfigError::MissingTwilio(
                        "a sender: TWILIO_FROM, TWILIO_MESSAGING_SERVICE_SID or TWILIO_WHATSAPP_FROM",
                    ));
                }
                let provider = TwilioProvider::new(TwilioConfig {
                    api_url: self.twilio_api_url.clone(),
                    account_sid,
                    auth_token,
                    from: self.twilio_from.clone(),
                    messaging_service_sid: self.twilio_messaging_service_sid.clone(),
                    whatsapp_from: self.twilio_whatsapp_from.clone(),
                    timeout: self.send_timeout(),
                })?;
                Ok(Provider::Twilio(provider))
            }
        }
    }

    /// Where the provider reports deliveries: `PUBLIC_URL` + [`TWILIO_WEBHOOK_PATH`], the URL
    /// the API checks Twilio's signature against.
    pub fn status_callback(&self) -> Result<Option<Url>, ConfigError> {
        let Some(public) = &self.public_url else {
            return Ok(None);
        };
        if !matches!(public.scheme(), "http" | "https") || !public.has_host() {
            return Err(ConfigError::PublicUrl);
        }
        let url = format!(
            "{}{TWILIO_WEBHOOK_PATH}",
            public.as_str().trim_end_matches('/')
        );
        Url::parse(&url)
            .map(Some)
            .map_err(|_| ConfigError::PublicUrl)
    }

    /// The pool's size: `DATABASE_POOL_SIZE`, or [`default_pool_size`] of the concurrency.
    pub fn pool_size(&self) -> u32 {
        self.database_pool_size
            .unwrap_or_else(|| default_pool_size(self.worker_concurrency))
    }

    /// How long one request to the provider may take.
    pub fn send_timeout(&self) -> Duration {
        Duration::from_secs(self.send_timeout_secs)
    }

    /// How sends are tried.
    pub fn send_policy(&self) -> SendPolicy {
        SendPolicy::new(self.send_attempts, self.send_timeout())
    }

    /// How the worker runs.
    pub fn run_options(&self) -> RunOptions {
        RunOptions {
            concurrency: self.worker_concurrency as usize,
            poll_interval: Duration::from_millis(self.worker_poll_ms),
            shutdown_timeout: self.send_timeout() + SHUTDOWN_MARGIN,
            reconcile_interval: Duration::from_secs(self.reconcile_secs),
        }
    }

    /// The queue's settings: this worker's batch size and a short heartbeat, so the jobs of a
    /// worker that died are taken over within 15 seconds.
    pub fn queue_config(&self) -> apalis_redis::Config {
        crate::queue_config(&self.message_queue, self.worker_batch_size as usize)
    }
}

/// The worker's pool size for `concurrency` sends at once: one connection per four sends, at
/// most 16, plus one for the reconciler. A send holds a connection only for its claim, a lease
/// extension and its record (milliseconds), never while the provider answers (hundreds of
/// milliseconds), so four sends rarely want one at the same moment. The default concurrency
/// of 32 gets 9.
pub fn default_pool_size(concurrency: u32) -> u32 {
    concurrency.div_ceil(4).clamp(1, 16) + 1
}

/// Wraps a secret so it never prints.
fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    /// The configuration from these flags alone (the process's environment may still fill in
    /// what they leave out, so each test sets what it checks).
    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from(std::iter::once("crm-worker").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn twilio_without_an_account_sid_is_refused_by_name() {
        let mut config = parse(&["--message-provider", "twilio"]);
        config.twilio_account_sid = None;
        let error = config.provider().err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("MESSAGE_PROVIDER=twilio needs TWILIO_ACCOUNT_SID (or use MESSAGE_PROVIDER=log)")
        );
    }

    #[test]
    fn twilio_without_a_token_or_sender_is_refused_by_name() {
        let mut config = parse(&[
            "--message-provider",
            "twilio",
            "--twilio-account-sid",
            "AC00000000000000000000000000000001",
        ]);
        config.twilio_auth_token = None;
        let error = config.provider().err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("TWILIO_AUTH_TOKEN")));

        config.twilio_auth_token = Some("token".into());
        (config.twilio_from, config.twilio_messaging_service_sid) = (None, None);
        config.twilio_whatsapp_from = None;
        let error = config.provider().err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("TWILIO_FROM")));
    }

    #[test]
    fn complete_twilio_settings_make_a_twilio_provider() {
        let config = parse(&[
            "--message-provider",
            "twilio",
            "--twilio-account-sid",
            "AC00000000000000000000000000000001",
            "--twilio-auth-token",
            "hunter2",
            "--twilio-from",
            "+15005550006",
        ]);
        assert_eq!(config.provider().map(|p| p.name()).ok(), Some("twilio"));
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn the_log_provider_needs_nothing() {
        let config = parse(&["--message-provider", "log"]);
        assert_eq!(config.provider().map(|p| p.name()).ok(), Some("log"));
    }

    #[test]
    fn the_status_callback_is_the_public_url_and_the_webhook_path() {
        let config = parse(&["--public-url", "https://crm.example.com/"]);
        assert_eq!(
            config
                .status_callback()
                .unwrap()
                .map(String::from)
                .as_deref(),
            Some("https://crm.example.com/api/v1/webhooks/twilio")
        );
        let config = parse(&["--public-url", "https://example.com/crm"]);
        assert_eq!(
            config
                .status_callback()
                .unwrap()
                .map(String::from)
                .as_deref(),
            Some("https://example.com/crm/api/v1/webhooks/twilio")
        );
    }

    #[test]
    fn the_pool_follows_the_concurrency_unless_set() {
        assert_eq!(default_pool_size(1), 2);
        assert_eq!(default_pool_size(32), 9);
        assert_eq!(default_pool_size(10_000), 17);
        let config = parse(&["--worker-concurrency", "8"]);
        assert_eq!(config.pool_size(), config.database_pool_size.unwrap_or(3));
        let config = parse(&["--database-pool-size", "5"]);
        assert_eq!(config.pool_size(), 5);
    }

    #[test]
    fn numbers_out_of_range_are_refused() {
        let refused = |args: &[&str]| {
            Config::try_parse_from(std::iter::once("crm-worker").chain(args.iter().copied()))
                .is_err()
        };
        assert!(refused(&["--worker-concurrency", "0"]));
        assert!(refused(&["--send-attempts", "0"]));
        assert!(refused(&["--worker-poll-ms", "1"]));
        assert!(refused(&["--message-provider", "carrier-pigeon"]));
    }

    #[test]
    fn the_shutdown_waits_for_one_send_and_a_margin() {
        let config = parse(&["--send-timeout-secs", "15"]);
        assert_eq!(
            config.run_options().shutdown_timeout,
            Duration::from_secs(20)
        );
        assert!(config.database_url.expose_secret().starts_with("postgres"));
    }
}
