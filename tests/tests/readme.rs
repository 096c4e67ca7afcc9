//! The README's Quickstart block, executed as written against a fresh server, so the
//! walk-through cannot rot: nothing in it is substituted; the server's address and data
//! directory come from the two variables the README tells the reader to export.

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

/// Run the block verbatim with `sh -e` from `cwd`, as a person would after exporting
/// the two variables the README names.
fn run_block(script: &str, cwd: &Path, server: &Server, data: &Path, scratch: &Path) {
    let listen = server
        .url
        .strip_prefix("http://")
        .expect("the server prints an http:// address");
    let bin_dir = binaries().glassbox.parent().unwrap().to_path_buf();
    let home = scratch.join(".home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new("sh")
        .args(["-e", "-x", "-c", script])
        .current_dir(cwd)
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display()),
        )
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TMPDIR", scratch)
        .env("GLASSBOX_DATA", data)
        .env("GLASSBOX_LISTEN", listen)
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

#[test]
fn the_readme_quickstart_runs_as_written_from_anywhere_and_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The server runs elsewhere, on a port that is not the README's default.
    let data = dir.join("server/glassbox-data");
    let server = Server::start(&data);
    assert_eq!(
        server.operator_key.as_deref(),
        Some(data.join("operator.pem").as_path()),
        "the quickstart operator key is where the README says"
    );
    assert!(!server.url.ends_with(":8080"), "{}", server.url);
    let here = dir.join("here");
    let scratch = dir.join("tmp");
    std::fs::create_dir_all(&here).unwrap();
    std::fs::create_dir_all(&scratch).unwrap();

    let script = quickstart_block();
    run_block(&script, &here, &server, &data, &scratch);
    // Pasted again: a new directory, new keys, a new release, and it still passes.
    run_block(&script, &here, &server, &data, &scratch);

    assert_eq!(
        std::fs::read_dir(&here).unwrap().count(),
        0,
        "the quickstart wrote into the directory it was pasted in"
    );
    let runs = std::fs::read_dir(&scratch)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("glassbox-quickstart.")
        })
        .count();
    assert_eq!(runs, 2, "each run works in a directory of its own");
}
