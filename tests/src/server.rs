//! A `glassbox-server` child process on a loopback port the kernel picks.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::bins::binaries;
use crate::http;

/// How long a server may take to print its address and become healthy.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server; killed (SIGKILL) and reaped on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The log's C2SP verifier key, from the `log vkey: ` startup line.
    pub vkey: String,
    /// The quickstart operator key, from the `operator key: ` line (absent when the
    /// server was configured with operator keys).
    pub operator_key: Option<PathBuf>,
    pub data: PathBuf,
    /// Everything the server wrote to stderr so far (`RUST_LOG=warn`: its warnings
    /// and errors), and the thread that reads it until the pipe closes.
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Start on `data` (created on first start) with a short batch interval.
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    /// Start with extra flags.
    pub fn start_with(data: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(&binaries().server)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--batch-interval-ms",
                "5",
                "--data",
            ])
            .arg(data)
            .args(extra)
            .env_remove("GLASSBOX_CONFIG")
            .env_remove("GLASSBOX_LISTEN")
            .env_remove("GLASSBOX_DATA")
            .env_remove("GLASSBOX_OPERATOR_KEYS")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn glassbox-server");

        // Read the startup lines on a thread so a silent server cannot hang the test.
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines_tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut vkey, mut operator_key, mut url) = (None, None, None);
        while url.is_none() {
            match lines.recv_timeout(START_TIMEOUT) {
                Ok(line) => {
                    if let Some(v) = line.strip_prefix("log vkey: ") {
                        vkey = Some(v.trim().to_string());
                    } else if let Some(p) = line.strip_prefix("operator key: ") {
                        operator_key = Some(PathBuf::from(p.trim()));
                    } else if let Some(a) = line.strip_prefix("listening on ") {
                        url = Some(a.trim().to_string());
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let mut err = String::new();
                    if let Some(mut stderr) = child.stderr.take() {
                        let _ = stderr.read_to_string(&mut err);
                    }
                    let _ = child.wait();
                    panic!(
                        "glassbox-server did not start on {}:\n{err}",
                        data.display()
                    );
                }
            }
        }
        // Keep stderr drained so a chatty server never blocks on a full pipe.
        let logged = Arc::new(Mutex::new(Vec::new()));
        let mut stderr_reader = None;
        if let Some(mut stderr) = child.stderr.take() {
            let logged = logged.clone();
            stderr_reader = Some(std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stderr.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut l) = logged.lock() {
                        l.extend_from_slice(&buf[..n]);
                    }
                }
            }));
        }
        let server = Server {
            child,
            url: url.expect("loop ends with an address"),
            vkey: vkey.expect("server printed its log vkey"),
            operator_key,
            data: data.to_path_buf(),
            stderr: logged,
            stderr_reader,
        };
        http::wait_healthy(&server.url, START_TIMEOUT).expect("server healthy");
        server
    }

    /// Stop the server now (SIGKILL) and return all it wrote to stderr: with
    /// `RUST_LOG=warn`, its warnings and errors. Complete, since the pipe is read
    /// to its end.
    pub fn stop_and_read_log(mut self) -> String {
        self.kill();
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        let bytes = self.stderr.lock().map(|l| l.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Stop the server now (SIGKILL) and wait for it.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Copy a stopped (or quiescent) server's data directory, log key included: a second
/// server started on the copy signs with the same key and can be made to fork.
pub fn copy_data_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_data_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
