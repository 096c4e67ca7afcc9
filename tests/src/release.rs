//! A release of several files for the scenarios: the project's build changed to write
//! a directory (`dist/app`, `dist/lib/libapp.so`, `dist/share/greeting.txt`), the
//! source submitted and approved, and vendor and rebuilder each building it in their
//! own clone and attesting the whole output directory in one envelope
//! (`glassbox attest build --artifact DIR`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::repo;
use crate::story::{Story, Who, BUILT_AT, REPOSITORY_URL, REVIEWED_AT};

/// The build of the release: three files from the sources alone.
pub const RELEASE_BUILD: &str = "#!/bin/sh\n# Deterministic: the output depends on the sources only.\nset -eu\nmkdir -p dist/lib dist/share\n{ printf 'APP\\0'; cat src/greeting.txt src/data.txt; } > dist/app\n{ printf 'LIB\\0'; cat src/data.txt; } > dist/lib/libapp.so\ncat src/greeting.txt > dist/share/greeting.txt\n";
/// Where [`RELEASE_BUILD`] writes the release, relative to the source root.
pub const RELEASE_OUTPUT: &str = "dist";
/// The subject names of the release, as `attest build --artifact DIR` writes them.
pub const RELEASE_FILES: [&str; 3] = ["app", "lib/libapp.so", "share/greeting.txt"];

impl Story {
    /// Commit the release build, submit and approve its source, and have vendor and
    /// rebuilder build and attest it. The commit and the vendor's release directory.
    pub fn release_directory(&mut self) -> (String, PathBuf) {
        let (commit, vendor, _) =
            self.release_built_by(RELEASE_BUILD, "app 2.0: a release of three files", &[]);
        (commit, vendor)
    }

    /// Commit `build` as `build.sh` (writing [`RELEASE_OUTPUT`]), submit and approve
    /// its source, and have vendor and rebuilder each build it and attest the output
    /// with `attest build --artifact DIR` and `extra` flags. The commit and the
    /// vendor's and rebuilder's output directories.
    pub fn release_built_by(
        &mut self,
        build: &str,
        message: &str,
        extra: &[&str],
    ) -> (String, PathBuf, PathBuf) {
        let commit = repo::commit_change(&self.repo, "build.sh", build, message);
        self.submit_source(&commit);
        self.review(Who::Reviewer, &commit, "approved", REVIEWED_AT);
        let vendor = self.build_release(Who::Vendor, &commit);
        let rebuilder = self.build_release(Who::Rebuilder, &commit);
        self.attest_release_with(Who::Vendor, &commit, &vendor, extra);
        self.attest_release_with(Who::Rebuilder, &commit, &rebuilder, extra);
        (commit, vendor, rebuilder)
    }

    /// `who` runs the release build of `commit` in a clone of its own; the output
    /// directory, copied to `<who>-release`.
    pub fn build_release(&self, who: Who, commit: &str) -> PathBuf {
        let name = who.key().trim_end_matches(".pem");
        let clone = self.dir.join(format!("clone-{name}"));
        repo::git(
            &self.dir,
            &[
                "clone",
                "-q",
                self.repo.to_str().expect("UTF-8"),
                clone.to_str().expect("UTF-8"),
            ],
        );
        repo::git(&clone, &["checkout", "-q", commit]);
        let status = Command::new("sh")
            .arg("build.sh")
            .current_dir(&clone)
            .status()
            .expect("spawn sh");
        assert!(status.success(), "the release build failed");
        let out = self.dir.join(format!("{name}-release"));
        copy_tree(&clone.join(RELEASE_OUTPUT), &out);
        out
    }

    /// `who` attests every file of the release directory `dir` as built from `commit`.
    pub fn attest_release(&mut self, who: Who, commit: &str, dir: &Path) -> String {
        self.attest_release_with(who, commit, dir, &[])
    }

    /// [`Story::attest_release`] with `extra` flags for `attest build` (`--oci`).
    pub fn attest_release_with(
        &mut self,
        who: Who,
        commit: &str,
        dir: &Path,
        extra: &[&str],
    ) -> String {
        let name = who.key().trim_end_matches(".pem");
        let out = format!("release-{name}-{}.dsse.json", &commit[..12]);
        let builder_id = match who {
            Who::Vendor => "https://ci.vendor.example/app",
            _ => "https://rebuild.example/app",
        };
        self.glassbox.ok([
            "attest",
            "build",
            "--artifact",
            dir.to_str().expect("UTF-8 path"),
            "--repo",
            "app",
            "--rev",
            commit,
            "--repository-url",
            REPOSITORY_URL,
            "--command",
            "sh build.sh",
            "--output-path",
            RELEASE_OUTPUT,
            "--builder-id",
            builder_id,
            "--time",
            BUILT_AT,
            "--key",
            who.key(),
            "-o",
            &out,
        ]
        .into_iter()
        .chain(extra.iter().copied()));
        self.submit(&out);
        out
    }
}

/// Copy the directory tree `from` (regular files and directories) to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the tree") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}
