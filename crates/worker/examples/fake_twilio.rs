//! Runs the tests' fake Twilio as a process, for the fault scripts and the benchmark:
//!
//! ```text
//! cargo run -p crm-worker --example fake_twilio -- --port 4010
//! ```
//!
//! Its first line on standard output is `listening on http://127.0.0.1:PORT`; then come the
//! settings to give the worker. It checks every request against the contract and is
//! controlled over HTTP (`GET /__received`, `GET /__violations`, `GET /__delivered`,
//! `POST /__behaviour`, `POST /__reset`: see `tests/support/fake_twilio.rs`). It stops on
//! Ctrl-C or SIGTERM.

#[path = "../tests/support/fake_twilio.rs"]
mod fake_twilio;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use clap::Parser;
use fake_twilio::FakeTwilio;

/// A fake of Twilio's Messages API that checks requests against the contract.
#[derive(Debug, Parser)]
struct Args {
    /// The port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// The account SID to expect in the path and the credentials.
    #[arg(long, default_value = fake_twilio::ACCOUNT_SID)]
    account_sid: String,
    /// The auth token to expect in the credentials.
    #[arg(long, default_value = fake_twilio::AUTH_TOKEN)]
    auth_token: String,
}

#[tokio::main]
#[expect(
    clippy::print_stdout,
    reason = "the address and settings are this program's output"
)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let fake = FakeTwilio::bind(
        SocketAddr::new(args.host, args.port),
        &args.account_sid,
        &args.auth_token,
    )
    .await?;
    let url = fake.base_url();
    println!("listening on {url}");
    println!("TWILIO_API_URL={url}");
    println!("TWILIO_ACCOUNT_SID={}", fake.account_sid());
    println!("TWILIO_AUTH_TOKEN={}", fake.auth_token());
    println!(
        "control: GET {url}/__received | GET {url}/__violations | GET {url}/__delivered | \
         POST {url}/__behaviour {{\"answer\":\"accept|hang|drop|...\"}} | POST {url}/__reset"
    );

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted?,
        _ = terminate.recv() => {}
    }
    Ok(())
}
