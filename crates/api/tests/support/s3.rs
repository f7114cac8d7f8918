//! A real S3-compatible server for storage tests: moto's server mode (PyPI), one per test on a
//! free port of 127.0.0.1. `scripts/moto.sh` installs it (`make test` runs it first).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server, stopped when dropped.
pub struct S3Server {
    child: Child,
    port: u16,
}

impl S3Server {
    /// Starts a server on a free port and waits until it answers.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        Self::start_on(port)
    }

    /// Starts a server on `port` (a stopped server's, to bring it back) and waits until it
    /// answers.
    pub fn start_on(port: u16) -> Self {
        let binary = moto_binary();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.request("GET", "/").is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's URL, for `S3_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a bucket (moto takes unsigned requests).
    pub fn create_bucket(&self, bucket: &str) {
        let answer = self
            .request("PUT", &format!("/{bucket}"))
            .expect("create bucket");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    /// The keys stored in `bucket`.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let answer = self
            .request("GET", &format!("/{bucket}"))
            .expect("list bucket");
        answer
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }

    /// The configuration variables that point the API at `bucket` of this server.
    pub fn config(&self, bucket: &str) -> Vec<(&'static str, String)> {
        vec![
            ("S3_BUCKET", bucket.to_owned()),
            ("S3_ENDPOINT", self.endpoint()),
            ("S3_REGION", "us-east-1".to_owned()),
            ("S3_ACCESS_KEY_ID", "test".to_owned()),
            ("S3_SECRET_ACCESS_KEY", "test".to_owned()),
        ]
    }

    /// Stops the server now (as if the storage went down).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn connect(&self) -> std::io::Result<TcpStream> {
        let stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(stream)
    }

    /// A bodiless request; the whole answer as text.
    fn request(&self, method: &str, path: &str) -> std::io::Result<String> {
        let mut stream = self.connect()?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `MOTO_SERVER`, else the copy `scripts/moto.sh` installs.
fn moto_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return path.into();
    }
    let installed = super::manifest_dir().join("../../.tools/moto/bin/moto_server");
    assert!(
        installed.exists(),
        "moto_server is missing: run scripts/moto.sh (make test does), or set MOTO_SERVER"
    );
    installed
}
