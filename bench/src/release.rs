//! The release row: offline `glassbox verify DIR` of a whole release directory
//! (10,000 files at full scale) against hashing the same directory with `glassbox
//! hash tree DIR` and with `find | xargs sha256sum`, in interleaved rounds.
//!
//! The release is logged as `glassbox attest build --artifact` would log it: one
//! source submitted and approved, and a vendor and an independent rebuilder each
//! attesting every file, named by its path in the directory. One envelope holds
//! about 6,700 such subjects (155 bytes each in the base64 payload), so the release
//! is attested in parts of [`PART`] files, and verified offline from the release
//! bundle of each part, fetched once before the server stops.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use glassbox_cli::client::LogClient;
use glassbox_core::statement::ArtifactSubject;
use rayon::prelude::*;

use crate::envelopes::{policy_toml, Cast};
use crate::hashing::{log_vkey, sha256_of};
use crate::measure::{compare, shell, Contender};
use crate::report::{ratio, size, Report, Target};
use crate::server::Server;
use crate::{gen, Ctx};

/// Files per build attestation: a part's envelope stays well under the 1 MiB a log
/// accepts (773 kB with these names).
const PART: usize = 5_000;

fn q(path: &Path) -> String {
    format!("'{}'", path.display())
}

/// `glassbox verify DIR --bundle …` (offline) vs `glassbox hash tree DIR` vs
/// `find DIR -type f | xargs sha256sum`.
pub fn verify_release(ctx: &Ctx, rep: &mut Report) -> Result<()> {
    let files = ctx.scale.release_files;
    let dir = ctx.work.join("release");
    let bytes = gen::make_tree(&dir, files, ctx.scale.release_bytes)? as f64;
    let subjects = subjects(&dir)?;
    if subjects.len() != files {
        bail!(
            "{} holds {} files, not {files}",
            dir.display(),
            subjects.len()
        );
    }
    let parts: Vec<&[ArtifactSubject]> = subjects.chunks(PART).collect();

    let data = ctx.work.join("release-data");
    // The server's defaults, request timeout included: a release bundle proving
    // thousands of index keys must be answered within it.
    let server = Server::start(&ctx.bin_dir, &data, &[])?;
    let client = LogClient::new(&server.url, Duration::from_secs(30))?;
    let cast = Cast::new();
    for env in cast.registrations(&server.operator_key()?)? {
        server.submit(&env)?;
    }
    for env in cast.release_story(&parts)? {
        server.submit(&env)?;
    }
    // One release bundle per part, all against the checkpoint after the last
    // submission: a bundle older than the state's checkpoint would be stale.
    let mut bundles = Vec::new();
    let mut checkpoints = Vec::new();
    let mut bundle_bytes = 0;
    let mut fetch_secs = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let digest = part[0].sha256.to_string();
        let t = Instant::now();
        let (bundle, body) = client
            .release_bundle(&digest)
            .with_context(|| format!("release bundle for {digest}"))?;
        fetch_secs.push(format!("{:.1} s", t.elapsed().as_secs_f64()));
        checkpoints.push(bundle.checkpoint);
        bundle_bytes += body.len();
        let path = ctx.work.join(format!("release-{i}.bundle.json"));
        std::fs::write(&path, body)?;
        bundles.push(path);
    }
    if checkpoints.iter().any(|c| c != &checkpoints[0]) {
        bail!("the release bundles were made against different checkpoints");
    }
    let vkey = log_vkey(&server)?;
    let policy = ctx.work.join("release-policy.toml");
    std::fs::write(&policy, policy_toml(&vkey))?;
    // A new log (key) every run: the state of an earlier run in this work
    // directory would refuse it.
    let state = ctx.work.join("release-state");
    let online_state = ctx.work.join("release-state-online");
    for dir in [&state, &online_state] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
    }
    // Once online, as a customer without the bundles would: every part's release
    // bundle fetched and checked in the one run (not in the ratio: the server
    // shares these cores).
    let t = Instant::now();
    let online = Command::new(ctx.bin_dir.join("glassbox"))
        .arg("verify")
        .arg(&dir)
        .arg("--server")
        .arg(&server.url)
        .arg("--policy")
        .arg(&policy)
        .arg("--state")
        .arg(&online_state)
        .output()?;
    let online_secs = t.elapsed().as_secs_f64();
    if !online.status.success() {
        bail!(
            "glassbox verify DIR --server failed: {}",
            String::from_utf8_lossy(&online.stderr)
        );
    }
    server.stop()?;

    let bin = ctx.bin_dir.join("glassbox");
    let (b1, b2) = (bin.clone(), bin);
    let (d1, d2) = (dir.clone(), dir.clone());
    let (p, s, bs) = (policy.clone(), state.clone(), bundles.clone());
    let mut verify_cmd = format!("glassbox verify {}", q(&dir));
    for b in &bundles {
        verify_cmd.push_str(&format!(" --bundle {}", q(b)));
    }
    verify_cmd.push_str(&format!(" --policy {} --state {}", q(&policy), q(&state)));
    let sha256sum = format!(
        "find {} -type f -print0 | xargs -0 -r sha256sum > /dev/null",
        q(&dir)
    );
    let sha = sha256sum.clone();
    let results = compare(
        &[
            // `run` fails the bench on a non-zero exit: every file must verify.
            Contender::new("glassbox verify DIR (offline)", verify_cmd, move || {
                let mut c = Command::new(&b1);
                c.arg("verify").arg(&d1);
                for b in &bs {
                    c.arg("--bundle").arg(b);
                }
                c.arg("--policy").arg(&p).arg("--state").arg(&s);
                c
            }),
            Contender::new(
                "glassbox hash tree DIR",
                format!("glassbox hash tree {}", q(&dir)),
                move || {
                    let mut c = Command::new(&b2);
                    c.args(["hash", "tree"]).arg(&d2);
                    c
                },
            ),
            Contender::new("find | xargs sha256sum", sha256sum, move || shell(&sha)),
        ],
        ctx.scale.rounds,
    )?;
    let summary = format!("{files} verified, 0 failed, 0 not covered");
    if !String::from_utf8_lossy(&results[0].stdout).contains(&summary) {
        bail!("glassbox verify of the release did not print \"{summary}\"");
    }
    rep.timing_table(
        &format!(
            "verify a release directory ({files} files, {}, {} build attestations per builder, \
             {} of release bundles)",
            size(bytes),
            parts.len(),
            size(bundle_bytes as f64)
        ),
        &results,
        Some(bytes),
    );
    let (verify, hash) = (&results[0], &results[1]);
    rep.note(format!(
        "Verifying costs {:.0} µs per file beyond hashing it (the median difference ÷ {files} \
         files). Not timed: each part's release bundle was fetched once before the server \
         stopped (`GET /api/v1/bundle?release=true`: {}). Online, `glassbox verify DIR \
         --server` (fetching {}, the server on the same cores, one run) took \
         {online_secs:.2} s.",
        (verify.median_secs - hash.median_secs) / files as f64 * 1e6,
        fetch_secs.join(", "),
        match parts.len() {
            1 => "the release bundle".to_owned(),
            n => format!("the {n} release bundles"),
        }
    ));
    rep.target(Target::at_most(
        &format!("verify release ({files} files): time ÷ hash tree"),
        ratio(verify.median_secs, hash.median_secs),
        1.2,
    ));
    std::fs::remove_dir_all(&dir)?;
    std::fs::remove_dir_all(&data)?;
    Ok(())
}

/// Every file under `dir`, named by its `/`-separated path under it and hashed
/// (on every core), in byte order of the names: the subjects `glassbox attest
/// build --artifact DIR` makes.
fn subjects(dir: &Path) -> Result<Vec<ArtifactSubject>> {
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort();
    files
        .into_par_iter()
        .map(|(name, path)| {
            Ok(ArtifactSubject {
                name,
                sha256: sha256_of(&path)?,
            })
        })
        .collect()
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else {
            let name = path
                .strip_prefix(root)?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((name, path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use glassbox_core::digest::Sha256Digest;

    #[test]
    fn subjects_are_named_by_their_path_under_the_directory_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
        std::fs::write(dir.path().join("b/c/x"), b"x").unwrap();
        std::fs::write(dir.path().join("a"), b"a").unwrap();
        let got = subjects(dir.path()).unwrap();
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b/c/x"]);
        assert_eq!(got[0].sha256, Sha256Digest::of(b"a"));
    }
}
