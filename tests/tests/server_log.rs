//! The server's log as an operator reads it: redirected to a file or a journal
//! (stderr not a terminal), it is plain text, with no colour escape codes.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use glassbox_tests::bins::binaries;

#[test]
fn a_redirected_server_log_has_no_colour_codes() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(&binaries().server)
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data.path().join("data"))
        .env_remove("GLASSBOX_CONFIG")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Serving: wait for the line it logs once it serves, then stop it.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    while !log.iter().any(|l: &String| l.contains("serving")) {
        match rx.recv_timeout(std::time::Duration::from_secs(120)) {
            Ok(line) => log.push(line),
            Err(_) => panic!("the server logged no `serving` line: {log:?}"),
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut rest = String::new();
    let _ = child.stdout.take().map(|mut o| o.read_to_string(&mut rest));
    let log = log.join("\n");
    assert!(log.contains("INFO"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log:?}");
}
