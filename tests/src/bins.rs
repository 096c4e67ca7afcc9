//! Locating the binaries under test.
//!
//! `CARGO_BIN_EXE_*` only exists inside the binary's own package, so this crate
//! builds them itself: one `cargo build -p glassbox-server -p glassbox-cli
//! -p glassbox-witness` per test
//! process, into the target directory the test executable lives in
//! (`<target>/<profile>/deps/<test>`), so that the binaries are the ones of this tree
//! and this profile — never a stale install on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Paths of the binaries: the client, the log server and the witness.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub glassbox: PathBuf,
    pub server: PathBuf,
    pub witness: PathBuf,
}

/// Build (once) and return the binaries.
pub fn binaries() -> &'static Binaries {
    static BINARIES: OnceLock<Binaries> = OnceLock::new();
    BINARIES.get_or_init(build)
}

fn build() -> Binaries {
    let exe = std::env::current_exe().expect("test executable path");
    // <target>/<profile>/deps/<test-exe>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable is in <target>/<profile>/deps");
    let target_dir = profile_dir.parent().expect("<target>/<profile>");
    let profile = profile_dir
        .file_name()
        .and_then(|p| p.to_str())
        .expect("profile directory name");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--quiet",
        "-p",
        "glassbox-server",
        "-p",
        "glassbox-cli",
        "-p",
        "glassbox-witness",
    ])
    .arg("--target-dir")
    .arg(target_dir)
    .current_dir(env!("CARGO_MANIFEST_DIR"));
    match profile {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let status = cmd.status().expect("run cargo build");
    assert!(status.success(), "cargo build of the binaries failed");
    let bins = Binaries {
        glassbox: profile_dir.join("glassbox"),
        server: profile_dir.join("glassbox-server"),
        witness: profile_dir.join("glassbox-witness"),
    };
    for bin in [&bins.glassbox, &bins.server, &bins.witness] {
        assert!(bin.is_file(), "{} was not built", bin.display());
    }
    bins
}
