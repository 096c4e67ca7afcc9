//! The whole story for a program whose build path reaches its bytes: a C program that
//! prints `__FILE__`, compiled by absolute path. The vendor and an independent
//! rebuilder build it with `glassbox rebuild` in scratch directories of their own —
//! the sandbox places both checkouts at `/build/src` — attest it with the recorded
//! environment (build path, the compiler's package, the compiler's identity), and the
//! customer's `verify --rebuild` reproduces it in a third place. Needs bwrap (Debian's
//! bubblewrap) and a C compiler, as CI installs them.

use std::path::{Path, PathBuf};

use glassbox_tests::repo;
use glassbox_tests::story::{Story, Who, BUILT_AT, REPOSITORY_URL, REVIEWED_AT};

const MAIN_C: &str = "#include <stdio.h>\nint main(void) { puts(__FILE__); return 0; }\n";
const BUILD: &str = "mkdir -p dist && cc -O2 -o dist/app \"$(pwd)/main.c\"";

/// `who` builds `commit` in the scratch directory `scratch` and attests the result
/// with the recorded environment; the artifact's path.
fn build_and_attest(
    story: &mut Story,
    who: Who,
    builder_id: &str,
    commit: &str,
    scratch: &str,
) -> PathBuf {
    let scratch = story.dir.join(scratch);
    story.glassbox.ok([
        "rebuild",
        "--source",
        "app",
        "--rev",
        commit,
        "--command",
        BUILD,
        "--output-path",
        "dist/app",
        "--scratch",
        scratch.to_str().expect("UTF-8 path"),
    ]);
    let artifact = story
        .dir
        .join(format!("{builder_id}.bin").replace(['/', ':'], "_"));
    std::fs::copy(scratch.join("source/dist/app"), &artifact).expect("copy the artifact");
    let envelope = format!("build-{}.dsse.json", story.submitted.len());
    story.glassbox.ok([
        "attest",
        "build",
        "--artifact",
        artifact.to_str().expect("UTF-8 path"),
        "--artifact-name",
        "app",
        "--repo",
        "app",
        "--rev",
        commit,
        "--repository-url",
        REPOSITORY_URL,
        "--command",
        BUILD,
        "--output-path",
        "dist/app",
        "--build-path",
        "/build/src",
        "--build-dep",
        "dpkg",
        "--tool",
        "cc",
        "--builder-id",
        builder_id,
        "--time",
        BUILT_AT,
        "--key",
        who.key(),
        "-o",
        &envelope,
    ]);
    story.submit(&envelope);
    artifact
}

#[test]
fn a_program_embedding_its_build_path_built_by_two_organisations_verifies_with_a_rebuild() {
    let mut story = Story::begin();
    let commit = repo::commit_change(&story.repo, "main.c", MAIN_C, "a C program");
    story.submit_source(&commit);
    story.review(Who::Reviewer, &commit, "approved", REVIEWED_AT);
    let vendor = build_and_attest(
        &mut story,
        Who::Vendor,
        "https://ci.vendor.example/app",
        &commit,
        "vendor/some/deep/scratch",
    );
    let rebuilder = build_and_attest(
        &mut story,
        Who::Rebuilder,
        "https://rebuild.example/app",
        &commit,
        "rb",
    );
    let (vendor_bytes, rebuilder_bytes) = (read(&vendor), read(&rebuilder));
    assert_eq!(
        vendor_bytes, rebuilder_bytes,
        "two scratch directories, two binaries"
    );
    let embedded = b"/build/src/main.c";
    assert!(vendor_bytes.windows(embedded.len()).any(|w| w == embedded));

    let run = story.verify_online(&vendor, &["--rebuild", "--source", "app"]);
    let text = run.ok();
    assert!(text.starts_with("VERIFIED\n"), "{text}");
    assert!(text.contains("reproduced"), "{text}");
    let recorded: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  recorded"))
        .collect();
    assert_eq!(recorded.len(), 2, "{text}");
    for line in recorded {
        assert!(
            line.contains("built at /build/src")
                && line.contains("with dpkg ")
                && line.contains("toolchain cc = /"),
            "{line}"
        );
    }
    assert!(!text.contains("DIFFERS"), "{text}");
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read the artifact")
}
