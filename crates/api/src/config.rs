//! Typed configuration, read once at start-up from the environment (and `.env` when present).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::TimeDelta;
use crm_domain::{Currency, Region};
use secrecy::SecretString;

/// Everything the API process needs to know; see the README's configuration table.
#[derive(Debug, Clone)]
pub struct Config {
    /// PostgreSQL connection URL (may hold a password, hence secret).
    pub database_url: SecretString,
    /// Redis connection URL.
    pub redis_url: SecretString,
    /// Address and port to listen on.
    pub bind_addr: SocketAddr,
    /// The URL users reach the app at; an `https` URL makes cookies `Secure`.
    pub public_url: Option<url::Url>,
    /// Human-readable or JSON logs.
    pub log_format: LogFormat,
    /// Region for phone numbers written without a country code.
    pub default_region: Region,
    /// Most PostgreSQL connections held open (`DATABASE_POOL_SIZE`, by default
    /// [`default_pool_size`] of the HTTP workers).
    pub database_pool_size: u32,
    /// How long a request waits for a PostgreSQL connection before answering 503.
    pub database_timeout: Duration,
    /// How long a sign-in lasts.
    pub session_ttl: TimeDelta,
    /// How long a session may go unused before it ends (besides `session_ttl`).
    pub session_idle: TimeDelta,
    /// Sign-in back-off per account and per client address.
    pub login_limit: crm_db::login_attempts::Backoff,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// When set, first-run setup must present it (`SETUP_TOKEN`), so a public server can't be
    /// claimed by whoever finds it first.
    pub setup_token: Option<SecretString>,
    /// The built web app to serve at `/`, when it exists.
    pub web_dir: PathBuf,
    /// Where receipts (PDFs) are stored.
    pub receipt_storage: ReceiptStorage,
    /// The largest accepted upload, in bytes.
    pub max_upload_bytes: usize,
    /// The currency of invoices that don't name one.
    pub default_currency: Currency,
    /// Pixel and memory limits for receipt images.
    pub receipt_limits: crm_receipts::Limits,
    /// The Redis queue of message jobs (shared with `crm-worker`).
    pub message_queue: String,
    /// How far ahead a message may be scheduled.
    pub message_horizon: TimeDelta,
    /// Twilio's auth token, to check the signature of its status callbacks and inbound
    /// messages; without it the webhook refuses everything.
    pub twilio_auth_token: Option<SecretString>,
}

/// Where receipts are kept.
#[derive(Debug, Clone)]
pub enum ReceiptStorage {
    /// A local folder (`RECEIPTS_DIR`): one machine.
    Local(PathBuf),
    /// An S3 bucket, or a bucket of an S3-compatible server (`S3_BUCKET` and friends).
    S3(S3Storage),
}

/// An S3 or S3-compatible bucket.
#[derive(Debug, Clone)]
pub struct S3Storage {
    /// The bucket; it must exist.
    pub bucket: String,
    /// The server of an S3-compatible store (MinIO, Ceph, R2, ...); AWS itself when `None`.
    pub endpoint: Option<url::Url>,
    /// The bucket's region.
    pub region: String,
    /// Access key; when `None`, the usual AWS sources are used (`AWS_ACCESS_KEY_ID`, instance
    /// roles, ...).
    pub access_key_id: Option<String>,
    /// The access key's secret.
    pub secret_access_key: Option<SecretString>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A variable that is set but can't be used.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct ConfigError {
    name: &'static str,
    reason: String,
}

impl Config {
    /// Reads the process environment, after loading `.env` if there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`; unset ones take their documented defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let parsed = |name: &'static str, default: &str| -> Result<u64, ConfigError> {
            get(name)
                .as_deref()
                .unwrap_or(default)
                .trim()
                .parse()
                .map_err(|_| ConfigError::new(name, "must be a whole number"))
        };
        let public_url = get("PUBLIC_URL")
            .map(|v| url::Url::parse(&v))
            .transpose()
            .map_err(|e| ConfigError::new("PUBLIC_URL", e.to_string()))?;
        let log_format = match get("LOG_FORMAT").as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(ConfigError::new("LOG_FORMAT", "must be text or json")),
        };
        Ok(Self {
            database_url: get("DATABASE_URL")
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
                .into(),
            redis_url: get("REDIS_URL")
                .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned())
                .into(),
            bind_addr: get("BIND_ADDR")
                .as_deref()
                .unwrap_or("127.0.0.1:8080")
                .parse()
                .map_err(|_| ConfigError::new("BIND_ADDR", "must be an address:port"))?,
            public_url,
            log_format,
            default_region: Region::parse(get("DEFAULT_REGION").as_deref().unwrap_or("US"))
                .map_err(|e| ConfigError::new("DEFAULT_REGION", e.to_string()))?,
            database_pool_size: u32::try_from(parsed(
                "DATABASE_POOL_SIZE",
                &default_pool_size(http_workers()).to_string(),
            )?)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ConfigError::new("DATABASE_POOL_SIZE", "must be 1 or more"))?,
            database_timeout: Duration::from_secs(parsed("DATABASE_TIMEOUT_SECS", "5")?.max(1)),
            session_ttl: TimeDelta::hours(
                i64::try_from(parsed("SESSION_TTL_HOURS", "168")?.max(1))
                    .map_err(|_| ConfigError::new("SESSION_TTL_HOURS", "too large"))?,
            ),
            session_idle: TimeDelta::minutes(
                i64::try_from(parsed("SESSION_IDLE_MINUTES", "30")?.clamp(1, 525_600))
                    .unwrap_or(30),
            ),
            login_limit: login_backoff(&parsed)?,
            trusted_proxies: trusted_proxies(get("TRUSTED_PROXIES").as_deref())?,
            setup_token: get("SETUP_TOKEN").map(SecretString::from),
            web_dir: get("WEB_DIR")
                .unwrap_or_else(|| "frontend/dist".to_owned())
                .into(),
            receipt_storage: receipt_storage(&get)?,
            max_upload_bytes: usize::try_from(parsed("MAX_UPLOAD_BYTES", "10485760")?)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::new("MAX_UPLOAD_BYTES", "must be 1 or more"))?,
            default_currency: Currency::parse(get("DEFAULT_CURRENCY").as_deref().unwrap_or("USD"))
                .map_err(|e| ConfigError::new("DEFAULT_CURRENCY", e.to_string()))?,
            receipt_limits: crm_receipts::Limits {
                max_pixels: parsed("RECEIPT_MAX_MEGAPIXELS", "50")?
                    .clamp(1, 10_000)
                    .saturating_mul(1_000_000),
                max_decoded_bytes: parsed("RECEIPT_MAX_DECODED_MB", "512")?
                    .clamp(1, 65_536)
                    .saturating_mul(1024 * 1024),
            },
            message_queue: get("MESSAGE_QUEUE").unwrap_or_else(|| crm_queue::QUEUE.to_owned()),
            message_horizon: TimeDelta::days(
                i64::try_from(parsed("MESSAGE_HORIZON_DAYS", "365")?.clamp(1, 3650)).unwrap_or(365),
            ),
            twilio_auth_token: get("TWILIO_AUTH_TOKEN").map(SecretString::from),
        })
    }

    /// Whether cookies must be `Secure` whatever the request's scheme.
    pub fn is_https(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }
}

/// The HTTP workers `crm-api serve` starts: actix's default, one per CPU.
pub fn http_workers() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// `DATABASE_POOL_SIZE`'s default: eight connections per HTTP worker, from 4 to 32.
///
/// A request holds its connection not only while PostgreSQL works but through every hand-over
/// between threads and processes (blocking thread, PostgreSQL backend, back), and on a busy
/// machine each waits for a CPU: with too few connections the cores idle while requests queue.
/// Measured on 2 CPUs (docs/PERFORMANCE.md, one customer at 32 connections): 4 connections
/// 2,000 req/s, 8: 2,900, 16: 5,300. Requests wait for a connection in order, within
/// `DATABASE_TIMEOUT_SECS`; at most 32, within PostgreSQL's default of 100 connections with
/// room for workers and a second API process.
pub fn default_pool_size(workers: usize) -> u32 {
    u32::try_from(workers.saturating_mul(8))
        .unwrap_or(u32::MAX)
        .clamp(4, 32)
}

/// `LOGIN_MAX_FAILURES_PER_ACCOUNT` and `_PER_CLIENT` free attempts, then a wait of
/// `LOGIN_BACKOFF_FIRST_SECS` doubling up to `LOGIN_BACKOFF_MAX_SECS`.
fn login_backoff(
    parsed: &impl Fn(&'static str, &str) -> Result<u64, ConfigError>,
) -> Result<crm_db::login_attempts::Backoff, ConfigError> {
    let count = |name: &'static str, default: &str| -> Result<u32, ConfigError> {
        Ok(u32::try_from(parsed(name, default)?.max(1)).unwrap_or(u32::MAX))
    };
    let seconds = |name: &'static str, default: &str| -> Result<TimeDelta, ConfigError> {
        i64::try_from(parsed(name, default)?.clamp(1, 86_400))
            .map(TimeDelta::seconds)
            .map_err(|_| ConfigError::new(name, "too large"))
    };
    let first_delay = seconds("LOGIN_BACKOFF_FIRST_SECS", "1")?;
    Ok(crm_db::login_attempts::Backoff {
        free_per_account: count("LOGIN_MAX_FAILURES_PER_ACCOUNT", "5")?,
        free_per_client: count("LOGIN_MAX_FAILURES_PER_CLIENT", "20")?,
        first_delay,
        max_delay: seconds("LOGIN_BACKOFF_MAX_SECS", "900")?.max(first_delay),
        forget_after: TimeDelta::minutes(15),
    })
}

/// `TRUSTED_PROXIES`: comma-separated CIDRs (`10.0.0.0/8, ::1/128`); a bare address is one
/// host.
fn trusted_proxies(raw: Option<&str>) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<ipnet::IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        "TRUSTED_PROXIES",
                        format!("{part:?} is not an address or CIDR such as 10.0.0.0/8"),
                    )
                })
        })
        .collect()
}

/// `S3_BUCKET` selects S3 (with `S3_ENDPOINT`, `S3_REGION`, `S3_ACCESS_KEY_ID`,
/// `S3_SECRET_ACCESS_KEY`); otherwise receipts go to the folder `RECEIPTS_DIR`.
fn receipt_storage(get: &impl Fn(&str) -> Option<String>) -> Result<ReceiptStorage, ConfigError> {
    let Some(bucket) = get("S3_BUCKET") else {
        if let Some(name) = ["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]
            .into_iter()
            .find(|name| get(name).is_some())
        {
            return Err(ConfigError::new(
                "S3_BUCKET",
                format!(
                    "must be set when {name} is (or unset {name} to keep receipts in RECEIPTS_DIR)"
                ),
            ));
        }
        let dir = get("RECEIPTS_DIR").unwrap_or_else(|| ".data/receipts".to_owned());
        return Ok(ReceiptStorage::Local(dir.into()));
    };
    let endpoint = get("S3_ENDPOINT")
        .map(|raw| {
            url::Url::parse(&raw)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
                .ok_or_else(|| {
                    ConfigError::new(
                        "S3_ENDPOINT",
                        "must be an http(s) URL, e.g. http://127.0.0.1:9000",
                    )
                })
        })
        .transpose()?;
    let access_key_id = get("S3_ACCESS_KEY_ID");
    let secret_access_key = get("S3_SECRET_ACCESS_KEY").map(SecretString::from);
    if access_key_id.is_some() != secret_access_key.is_some() {
        return Err(ConfigError::new(
            "S3_ACCESS_KEY_ID",
            "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both or neither",
        ));
    }
    Ok(ReceiptStorage::S3(S3Storage {
        bucket,
        endpoint,
        region: get("S3_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
        access_key_id,
        secret_access_key,
    }))
}

/// Where `make run` and the tests expect PostgreSQL.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/customer_manager";
/// Where `make run` and the tests expect Redis.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

impl ConfigError {
    fn new(name: &'static str, reason: impl Into<String>) -> Self {
        Self {
            name,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_work_on_one_machine() {
        let config = config(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.database_url.expose_secret(), DEFAULT_DATABASE_URL);
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.session_idle, TimeDelta::minutes(30));
        assert_eq!(config.database_pool_size, default_pool_size(http_workers()));
        assert!(!config.is_https());
    }

    #[test]
    fn the_pool_has_eight_connections_per_worker_unless_set() {
        assert_eq!(default_pool_size(1), 8);
        assert_eq!(default_pool_size(2), 16);
        assert_eq!(default_pool_size(16), 32);
        let set = config(&[("DATABASE_POOL_SIZE", "3")]).map(|c| c.database_pool_size);
        assert_eq!(set.ok(), Some(3));
    }

    #[test]
    fn an_https_public_url_makes_cookies_secure() {
        let config = config(&[("PUBLIC_URL", "https://crm.example.com")]);
        assert!(config.is_ok_and(|c| c.is_https()));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let error = config(&[("LOG_FORMAT", "xml")])
            .err()
            .map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some("LOG_FORMAT: must be text or json"));
        assert!(config(&[("DEFAULT_REGION", "Atlantis")]).is_err());
        assert!(config(&[("DATABASE_POOL_SIZE", "0")]).is_err());
        assert!(config(&[("BIND_ADDR", "nowhere")]).is_err());
    }

    #[test]
    fn receipts_go_to_a_folder_unless_a_bucket_is_named() {
        let local = config(&[("RECEIPTS_DIR", "/srv/receipts")]).map(|c| c.receipt_storage);
        assert!(
            matches!(&local, Ok(ReceiptStorage::Local(dir)) if dir.as_path() == std::path::Path::new("/srv/receipts")),
            "{local:?}"
        );
        let s3 = config(&[
            ("S3_BUCKET", "receipts"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3_ACCESS_KEY_ID", "key"),
            ("S3_SECRET_ACCESS_KEY", "hunter2"),
        ]);
        let Ok(Config {
            receipt_storage: ReceiptStorage::S3(s3),
            ..
        }) = s3
        else {
            panic!("expected S3 storage: {s3:?}");
        };
        assert_eq!(s3.bucket, "receipts");
        assert_eq!(s3.region, "us-east-1");
        assert_eq!(
            s3.endpoint.map(String::from).as_deref(),
            Some("http://127.0.0.1:9000/")
        );
        assert!(!format!("{:?}", s3.secret_access_key).contains("hunter2"));
    }

    #[test]
    fn half_an_s3_setup_is_refused() {
        let message = |vars: &[(&str, &str)]| config(vars).err().map(|e| e.to_string());
        assert!(
            message(&[("S3_ENDPOINT", "http://127.0.0.1:9000")])
                .is_some_and(|m| m.starts_with("S3_BUCKET: must be set when S3_ENDPOINT is"))
        );
        assert!(
            message(&[("S3_BUCKET", "b"), ("S3_ACCESS_KEY_ID", "key")])
                .is_some_and(|m| m.starts_with("S3_ACCESS_KEY_ID:"))
        );
        assert!(
            message(&[("S3_BUCKET", "b"), ("S3_ENDPOINT", "ftp://files")])
                .is_some_and(|m| m.starts_with("S3_ENDPOINT:"))
        );
    }

    #[test]
    fn login_backoff_and_trusted_proxies_have_defaults_and_are_checked() {
        let defaults = config(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(defaults.login_limit.first_delay, TimeDelta::seconds(1));
        assert_eq!(defaults.login_limit.max_delay, TimeDelta::seconds(900));
        assert!(defaults.trusted_proxies.is_empty());
        assert!(defaults.setup_token.is_none());
        let proxies = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, ::1, 2001:db8::/32")])
            .map(|c| c.trusted_proxies.len());
        assert!(matches!(proxies, Ok(3)), "{proxies:?}");
        let error = config(&[("TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")])
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.starts_with("TRUSTED_PROXIES:")));
    }

    #[test]
    fn secrets_do_not_print() {
        let config = config(&[("DATABASE_URL", "postgres://u:hunter2@db/crm")]);
        assert!(config.is_ok_and(|c| !format!("{c:?}").contains("hunter2")));
    }
}
