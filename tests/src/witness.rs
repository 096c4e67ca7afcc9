//! `glassbox-witness` as a child process for end-to-end tests: started on
//! 127.0.0.1:0, its vkey and address read from its startup lines, health polled with
//! a deadline, SIGKILLed on drop.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::note::Note;

use crate::bins::binaries;
use crate::http;

const DEADLINE: Duration = Duration::from_secs(30);

/// A `glassbox-witness` child process; SIGKILLed on drop.
pub struct WitnessProcess {
    child: Child,
    pub url: String,
    pub vkey: String,
}

impl WitnessProcess {
    /// Starts a witness of the log `log_vkey` named `name`, its key and data under `dir`
    /// (a key made on first start is reused on restart).
    pub fn start(dir: &Path, name: &str, log_vkey: &str) -> WitnessProcess {
        let key = dir.join(format!("{}.pem", name.replace('/', "_")));
        if !key.exists() {
            let out = Command::new(&binaries().glassbox)
                .args(["key", "generate", "--out"])
                .arg(&key)
                .output()
                .expect("run glassbox key generate");
            assert!(out.status.success(), "{out:?}");
        }
        let mut child = Command::new(&binaries().witness)
            .arg("--key")
            .arg(&key)
            .args(["--log", log_vkey, "--listen", "127.0.0.1:0", "--name", name])
            .arg("--data")
            .arg(dir.join(format!("{}-data", name.replace('/', "_"))))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn glassbox-witness");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut vkey, mut url) = (None, None);
        while url.is_none() {
            let line = lines
                .recv_timeout(DEADLINE)
                .unwrap_or_else(|_| panic!("witness {name} did not start"));
            if let Some(v) = line.strip_prefix("witness vkey: ") {
                vkey = Some(v.to_owned());
            } else if let Some(a) = line.strip_prefix("listening on ") {
                url = Some(a.to_owned());
            }
        }
        let witness = WitnessProcess {
            child,
            url: url.expect("address"),
            vkey: vkey.expect("the witness prints its vkey before listening"),
        };
        http::wait_healthy(&witness.url, DEADLINE).expect("witness healthy");
        witness
    }

    /// `--witness "URL VKEY"` for the server.
    pub fn flag(&self) -> String {
        format!("{} {}", self.url, self.vkey)
    }

    /// The witness's latest cosigned checkpoint of `origin`.
    pub fn latest(&self, origin: &str) -> Checkpoint {
        checkpoint_of(&http::get(&format!("{}/checkpoint/{origin}", self.url)).expect("latest"))
    }

    /// Polls the witness until it has cosigned a checkpoint of `size` for `origin`.
    pub fn wait_for(&self, origin: &str, size: u64) -> Checkpoint {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(note) = http::get(&format!("{}/checkpoint/{origin}", self.url)) {
                let cp = checkpoint_of(&note);
                if cp.size == size {
                    return cp;
                }
            }
            assert!(
                Instant::now() < deadline,
                "witness {} never cosigned size {size}",
                self.url
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Posts a C2SP tlog-witness add-checkpoint request; returns status and body.
    pub fn add_checkpoint(&self, old: u64, proof: &[String], checkpoint: &[u8]) -> (u16, String) {
        let mut body = format!("old {old}\n");
        for hash in proof {
            body.push_str(hash);
            body.push('\n');
        }
        body.push('\n');
        let mut body = body.into_bytes();
        body.extend_from_slice(checkpoint);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut resp = agent
            .post(&format!("{}/add-checkpoint", self.url))
            .send(&body[..])
            .expect("witness reachable");
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().unwrap_or_default())
    }

    /// SIGKILL, no chance to flush anything not already durable.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The checkpoint inside a signed note.
pub fn checkpoint_of(note: &[u8]) -> Checkpoint {
    let note = Note::parse(note).expect("a signed note");
    Checkpoint::parse(&note.text).expect("a checkpoint")
}
