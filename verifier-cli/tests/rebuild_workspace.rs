//! This repository's own code, rebuilt the way docs/rebuilding-glassbox.md rebuilds the
//! `glassbox` binary: `glassbox rebuild --vary` clones the commit being tested, builds
//! the crate `glassbox-core` in the sandbox twice — in two scratch directories, under
//! another time zone, locale, umask and hostname — and
//! the two libraries must be the same bytes. The crate is the workspace's smallest
//! with dependencies from the registry, so it bounds the run while going through
//! everything the whole binary does: the pinned toolchain read-only, the locked
//! dependency sources read-only and offline, the fixed build path.

mod common;
mod rebuild_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use rebuild_support::report;

/// The recipe docs/rebuilding-glassbox.md records, building `package`.
fn recipe(package: &str) -> String {
    format!(
        "mkdir -p \"$CARGO_HOME\" && ln -s \"$REGISTRY\" \"$CARGO_HOME/registry\" && \
         cargo build --release --locked --offline -p {package}"
    )
}

/// The registry the tests' own build filled (`$CARGO_HOME/registry`).
fn registry() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"));
    let registry = home.join("registry");
    assert!(
        registry.is_dir(),
        "no cargo registry at {}",
        registry.display()
    );
    registry
}

fn sysroot() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let out = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc --print sysroot");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn glassbox_core_from_this_repository_rebuilds_bit_identically() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo)
        .output()
        .expect("git rev-parse HEAD");
    assert!(head.status.success(), "the tests run from a git checkout");
    let head = String::from_utf8(head.stdout).unwrap().trim().to_owned();
    let (sysroot, registry) = (sysroot(), registry());
    let registry = registry.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .arg("rebuild")
        .arg("--source")
        .arg(repo)
        .args(["--rev", &head])
        .args(["--command", &recipe("glassbox-core")])
        .args(["--output-path", "target/release/libglassbox_core.rlib"])
        .args(["--sandbox-ro", &sysroot, "--sandbox-ro", registry])
        .args(["--env", &format!("PATH={sysroot}/bin:/usr/bin:/bin")])
        .args(["--env", "CARGO_HOME=/home/builder/.cargo"])
        .args(["--env", &format!("REGISTRY={registry}")])
        // libfaketime hangs rustc (linked with jemalloc): the clock is held.
        .args(["--vary", "--vary-keep-clock", "--json"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let json = report(&out, 0);
    assert_eq!(json["status"], "stable", "{json}");
    assert_eq!(json["first"]["output"], json["second"]["output"], "{json}");
    let varied = json["varied"].to_string();
    for what in ["scratch directory", "TZ", "umask"] {
        assert!(varied.contains(what), "{what} not varied: {varied}");
    }
}
