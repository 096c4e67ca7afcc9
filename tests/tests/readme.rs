//! The README's Quickstart block, executed as written against a fresh server, so the
//! walk-through cannot rot: only the server address and log vkey are substituted.

use std::path::Path;
use std::process::Command;

use glassbox_tests::bins::binaries;
use glassbox_tests::server::Server;

/// The marker line before the block.
const MARKER: &str = "<!-- quickstart: executed by tests/tests/readme.rs -->";

/// The shell block after [`MARKER`] in the README.
fn quickstart_block() -> String {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(&readme).expect("read README.md");
    let after = text
        .split_once(MARKER)
        .expect("README has the quickstart marker")
        .1;
    let body = after
        .trim_start()
        .strip_prefix("```sh\n")
        .expect("a ```sh block follows the marker");
    body.split_once("\n```")
        .expect("the block is closed")
        .0
        .to_string()
}

/// Replace the `NAME=…` assignment line of `script` with `NAME=value`.
fn set_variable(script: &str, name: &str, value: &str) -> String {
    let prefix = format!("{name}=");
    let mut found = false;
    let lines: Vec<String> = script
        .lines()
        .map(|line| {
            if line.starts_with(&prefix) && !found {
                found = true;
                format!("{name}='{value}'")
            } else {
                line.to_string()
            }
        })
        .collect();
    assert!(found, "the quickstart sets {name}");
    lines.join("\n") + "\n"
}

#[test]
fn the_readme_quickstart_runs_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let server = Server::start(&dir.join("glassbox-data"));
    assert_eq!(
        server.operator_key.as_deref(),
        Some(dir.join("glassbox-data/operator.pem").as_path()),
        "the quickstart operator key is where the README says"
    );

    let mut script = quickstart_block();
    script = set_variable(&script, "SERVER", &server.url);
    script = set_variable(&script, "LOG_VKEY", &server.vkey);
    let bin_dir = binaries().glassbox.parent().unwrap().to_path_buf();
    let home = dir.join(".home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new("sh")
        .args(["-e", "-x", "-c", &script])
        .current_dir(dir)
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display()),
        )
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the README quickstart failed ({:?}):\n--- stdout\n{}--- stderr (sh -x trace)\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
