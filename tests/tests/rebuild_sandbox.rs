//! The whole story for programs whose build path reaches their bytes: a C program
//! that prints `__FILE__`, compiled by absolute path, and GNU hello from Debian's
//! source archive (when .ci/hello-source has fetched it). The vendor and an independent
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

/// A recipe as both builders record it.
struct Recipe<'a> {
    command: &'a str,
    workdir: &'a str,
    output: &'a str,
    build_deps: &'a [&'a str],
    tools: &'a [&'a str],
}

const C_PROGRAM: Recipe = Recipe {
    command: BUILD,
    workdir: ".",
    output: "dist/app",
    build_deps: &["dpkg"],
    tools: &["cc"],
};

/// `who` builds `commit` with `recipe` in the scratch directory `scratch` (with
/// `glassbox rebuild`, so in the sandbox at /build/src) and attests the result with
/// the recorded environment; the artifact's path.
fn build_and_attest(
    story: &mut Story,
    who: Who,
    builder_id: &str,
    commit: &str,
    scratch: &str,
    recipe: &Recipe,
) -> PathBuf {
    let scratch = story.dir.join(scratch);
    let mut rebuild = vec![
        "rebuild",
        "--source",
        "app",
        "--rev",
        commit,
        "--command",
        recipe.command,
        "--workdir",
        recipe.workdir,
        "--output-path",
        recipe.output,
        "--timeout",
        "900",
    ];
    let mut recorded = vec!["--build-path", "/build/src"];
    for dep in recipe.build_deps {
        recorded.extend(["--build-dep", dep]);
    }
    rebuild.extend(&recorded);
    let scratch_arg = scratch.to_str().expect("UTF-8 path").to_owned();
    rebuild.extend(["--scratch", &scratch_arg]);
    story.glassbox.ok(rebuild);
    let artifact = story
        .dir
        .join(format!("{builder_id}.bin").replace(['/', ':'], "_"));
    std::fs::copy(scratch.join("source").join(recipe.output), &artifact)
        .expect("copy the artifact");
    let envelope = format!("build-{}.dsse.json", story.submitted.len());
    let artifact_arg = artifact.to_str().expect("UTF-8 path").to_owned();
    let mut attest = vec![
        "attest",
        "build",
        "--artifact",
        &artifact_arg,
        "--artifact-name",
        "app",
        "--repo",
        "app",
        "--rev",
        commit,
        "--repository-url",
        REPOSITORY_URL,
        "--command",
        recipe.command,
        "--workdir",
        recipe.workdir,
        "--output-path",
        recipe.output,
        "--builder-id",
        builder_id,
        "--time",
        BUILT_AT,
        "--key",
        who.key(),
        "-o",
        &envelope,
    ];
    attest.extend(&recorded);
    for tool in recipe.tools {
        attest.extend(["--tool", tool]);
    }
    story.glassbox.ok(attest);
    story.submit(&envelope);
    artifact
}

/// Submission and review of `commit`, builds by the vendor and the rebuilder in
/// scratch directories of different depths, and the customer's `verify --rebuild`;
/// the vendor's artifact and the verify report.
fn whole_story(story: &mut Story, commit: &str, recipe: &Recipe) -> (Vec<u8>, String) {
    story.submit_source(commit);
    story.review(Who::Reviewer, commit, "approved", REVIEWED_AT);
    let vendor = build_and_attest(
        story,
        Who::Vendor,
        "https://ci.vendor.example/app",
        commit,
        "vendor/some/deep/scratch",
        recipe,
    );
    let rebuilder = build_and_attest(
        story,
        Who::Rebuilder,
        "https://rebuild.example/app",
        commit,
        "rb",
        recipe,
    );
    let (vendor_bytes, rebuilder_bytes) = (read(&vendor), read(&rebuilder));
    assert!(
        vendor_bytes == rebuilder_bytes,
        "two scratch directories, two binaries"
    );
    let run = story.verify_online(&vendor, &["--rebuild", "--source", "app"]);
    let text = run.ok().to_owned();
    assert!(text.starts_with("VERIFIED\n"), "{text}");
    assert!(text.contains("reproduced"), "{text}");
    assert!(!text.contains("DIFFERS"), "{text}");
    (vendor_bytes, text)
}

#[test]
fn a_program_embedding_its_build_path_built_by_two_organisations_verifies_with_a_rebuild() {
    let mut story = Story::begin();
    let commit = repo::commit_change(&story.repo, "main.c", MAIN_C, "a C program");
    let (bytes, text) = whole_story(&mut story, &commit, &C_PROGRAM);
    let embedded = b"/build/src/main.c";
    assert!(bytes.windows(embedded.len()).any(|w| w == embedded));
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
}

/// Where the real-world test finds GNU hello's `.orig.tar.gz` (.ci/hello-source).
const HELLO_ORIG: &str = "GLASSBOX_TEST_HELLO_ORIG";

/// GNU hello as Debian ships its source, committed as it comes, built with the plain
/// recipe and its real build dependency: the checkout's times are the commit's, so
/// make leaves the generated files alone; the build path is the sandbox's, so two
/// organisations with their own scratch directories get the same binary.
#[test]
fn gnu_hello_from_debian_built_by_two_organisations_verifies_with_a_rebuild() {
    let Some(orig) = std::env::var_os(HELLO_ORIG) else {
        eprintln!("SKIPPED: {HELLO_ORIG} not set (source .ci/hello-source)");
        return;
    };
    let mut story = Story::begin();
    let status = std::process::Command::new("tar")
        .arg("xzf")
        .arg(&orig)
        .arg("-C")
        .arg(&story.repo)
        .status()
        .expect("run tar");
    assert!(status.success(), "tar xzf {orig:?} failed");
    let top = std::fs::read_dir(&story.repo)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|name| name.starts_with("hello-"))
        .expect("the tarball holds hello-VERSION/");
    repo::git(&story.repo, &["add", "-A"]);
    repo::git(&story.repo, &["commit", "-q", "-m", "GNU hello"]);
    let commit = repo::git(&story.repo, &["rev-parse", "HEAD"]);
    let output = format!("{top}/hello");
    let hello = Recipe {
        command: "./configure && make",
        workdir: &top,
        output: &output,
        build_deps: &["help2man"],
        tools: &["cc", "ld", "make"],
    };
    let (bytes, text) = whole_story(&mut story, &commit, &hello);
    let embedded = format!("/build/src/{top}");
    assert!(
        bytes
            .windows(embedded.len())
            .any(|w| w == embedded.as_bytes()),
        "the build path is in the binary, so agreeing needed the sandbox's"
    );
    assert!(text.contains("with help2man "), "{text}");
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read the artifact")
}
