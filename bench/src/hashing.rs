//! The CLI rows: `glassbox hash file`, `hash tree DIR`, `hash tree --repo` and
//! offline `verify`, each against its baseline in interleaved rounds.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::envelopes::{policy_toml, Cast};
use crate::measure::{compare, shell, Compared, Contender};
use crate::report::{ratio, Report, Target};
use crate::server::Server;
use crate::{gen, Ctx};

fn glassbox(ctx: &Ctx) -> impl Fn(&[&str]) -> Command + 'static {
    let bin = ctx.bin_dir.join("glassbox");
    move |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.args(args);
        c
    }
}

fn q(path: &Path) -> String {
    format!("'{}'", path.display())
}

/// Single-core SHA-256 speed of this build (sha2, in memory), bytes per second:
/// the best of three passes over a 64 MiB buffer.
pub fn sha256_bytes_per_sec() -> f64 {
    let buf = vec![0x5au8; 64 << 20];
    (0..3)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(Sha256::digest(&buf));
            buf.len() as f64 / t.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn first_hex(out: &[u8]) -> String {
    String::from_utf8_lossy(out)
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 64)
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn same_digest(results: &[Compared]) -> Result<String> {
    let digests: Vec<String> = results.iter().map(|r| first_hex(&r.stdout)).collect();
    if digests.iter().any(|d| d != &digests[0] || d.is_empty()) {
        bail!("contenders disagree on the digest: {digests:?}");
    }
    Ok(digests[0].clone())
}

/// `glassbox hash file` vs `openssl dgst -sha256` vs `sha256sum`.
pub fn hash_file(ctx: &Ctx, rep: &mut Report) -> Result<()> {
    let file = ctx.work.join("big.bin");
    gen::make_file(&file, ctx.scale.file_bytes, 1)?;
    let gb = glassbox(ctx);
    let f = file.clone();
    let f2 = file.clone();
    let f3 = file.clone();
    let mut contenders = vec![Contender::new(
        "glassbox hash file",
        format!("glassbox hash file {}", q(&file)),
        move || gb(&["hash", "file", f.to_str().unwrap_or_default()]),
    )];
    let have_openssl = Command::new("openssl").arg("version").output().is_ok();
    if have_openssl {
        contenders.push(Contender::new(
            "openssl dgst -sha256",
            format!("openssl dgst -sha256 {}", q(&file)),
            move || {
                let mut c = Command::new("openssl");
                c.args(["dgst", "-sha256"]).arg(&f2);
                c
            },
        ));
    } else {
        rep.note("`openssl` is not installed: its row is missing.");
    }
    contenders.push(Contender::new(
        "sha256sum",
        format!("sha256sum {}", q(&file)),
        move || {
            let mut c = Command::new("sha256sum");
            c.arg(&f3);
            c
        },
    ));
    let results = compare(&contenders, ctx.scale.rounds)?;
    same_digest(&results)?;
    let bytes = ctx.scale.file_bytes as f64;
    rep.timing_table(
        &format!(
            "hash file ({} warm in the page cache)",
            crate::report::size(bytes)
        ),
        &results,
        Some(bytes),
    );
    let (g, s) = (&results[0], &results[results.len() - 1]);
    if have_openssl {
        rep.target(Target::at_least(
            "hash file: speed vs openssl",
            results[1].median_secs / g.median_secs,
            1.0,
        ));
    }
    rep.target(Target::at_least(
        "hash file: speed vs sha256sum",
        s.median_secs / g.median_secs,
        4.0,
    ));
    Ok(())
}

/// `glassbox hash tree DIR` vs the dirHash pipeline and the all-cores limit, then
/// `glassbox hash tree --repo` vs `git archive`.
pub fn hash_tree(ctx: &Ctx, rep: &mut Report) -> Result<()> {
    let tree = ctx.work.join("tree");
    let bytes = gen::make_tree(&tree, ctx.scale.tree_files, ctx.scale.tree_bytes)? as f64;
    let gb = glassbox(ctx);
    let t = tree.clone();
    let pipeline = format!(
        "cd {} && find . -type f | cut -c3- | LC_ALL=C sort | xargs -r -d '\\n' sha256sum | sha256sum",
        q(&tree)
    );
    let p = pipeline.clone();
    let results = compare(
        &[
            Contender::new(
                "glassbox hash tree",
                format!("glassbox hash tree {}", q(&tree)),
                move || gb(&["hash", "tree", t.to_str().unwrap_or_default()]),
            ),
            Contender::new("find | sort | sha256sum", pipeline, move || shell(&p)),
        ],
        ctx.scale.rounds,
    )?;
    let dir_hash = same_digest(&results)?;
    let limit_secs = bytes / (ctx.sha256_bps * ctx.nproc as f64);
    rep.timing_table(
        &format!(
            "hash tree ({} files, {}; all-cores SHA-256 limit {:.3} s = bytes ÷ ({}/s × {} cores))",
            ctx.scale.tree_files,
            crate::report::size(bytes),
            limit_secs,
            crate::report::size(ctx.sha256_bps),
            ctx.nproc
        ),
        &results,
        Some(bytes),
    );
    let (g, p) = (&results[0], &results[1]);
    rep.target(Target::at_least(
        "hash tree: speed vs the pipeline",
        p.median_secs / g.median_secs,
        5.0,
    ));
    rep.target(Target::at_most(
        "hash tree: time ÷ all-cores SHA-256 limit",
        g.median_secs / limit_secs,
        1.3,
    ));
    rep.target(Target::at_most(
        "hash tree: peak RSS (MB)",
        g.max_rss_kib as f64 * 1024.0 / 1e6,
        100.0,
    ));

    let repo = ctx.work.join("repo.git");
    let t0 = Instant::now();
    gen::make_repo(&tree, &repo)?;
    rep.note(format!(
        "The git repository of the same tree was created in {:.1} s (not timed below).",
        t0.elapsed().as_secs_f64()
    ));
    let gb = glassbox(ctx);
    let r = repo.clone();
    let archive = format!("git -C {} archive HEAD > /dev/null", q(&repo));
    let a = archive.clone();
    let results = compare(
        &[
            Contender::new(
                "glassbox hash tree --repo",
                format!("glassbox hash tree --repo {} --rev HEAD", q(&repo)),
                move || {
                    gb(&[
                        "hash",
                        "tree",
                        "--repo",
                        r.to_str().unwrap_or_default(),
                        "--rev",
                        "HEAD",
                    ])
                },
            ),
            Contender::new("git archive", archive, move || shell(&a)),
        ],
        ctx.scale.rounds,
    )?;
    if first_hex(&results[0].stdout) != dir_hash {
        bail!("hash tree --repo disagrees with hash tree DIR");
    }
    rep.timing_table(
        "hash tree --repo (same content as a bare git repository)",
        &results,
        Some(bytes),
    );
    rep.target(Target::at_most(
        "hash tree --repo: time ÷ git archive",
        results[0].median_secs / results[1].median_secs,
        1.5,
    ));
    // Bound the scratch space: the server rows need several GB of their own.
    std::fs::remove_dir_all(&tree)?;
    std::fs::remove_dir_all(&repo)?;
    Ok(())
}

/// Offline `glassbox verify --bundle` vs `glassbox hash file`, small and large.
pub fn verify(ctx: &Ctx, rep: &mut Report) -> Result<()> {
    let small = ctx.work.join("small.bin");
    gen::make_file(&small, 64 * 1024, 2)?;
    let big = ctx.work.join("big.bin");
    if !big.exists() {
        gen::make_file(&big, ctx.scale.file_bytes, 1)?;
    }
    let data = ctx.work.join("verify-data");
    let server = Server::start(&ctx.bin_dir, &data, &[])?;
    let cast = Cast::new();
    for env in cast.registrations(&server.operator_key()?)? {
        server.submit(&env)?;
    }
    let digests = [sha256_of(&small)?, sha256_of(&big)?];
    for digest in digests {
        for env in cast.story(digest)? {
            server.submit(&env)?;
        }
    }
    // Both bundles against one checkpoint: the runs alternate between them with one
    // state directory, and a bundle older than the state's checkpoint is stale.
    let mut bundles = Vec::new();
    for (file, digest) in [&small, &big].into_iter().zip(digests) {
        let (_, body) = server
            .client
            .bundle(&digest.to_string())
            .with_context(|| format!("bundle for {digest}"))?;
        let path = file.with_extension("bundle.json");
        std::fs::write(&path, body)?;
        bundles.push(path);
    }
    let vkey = log_vkey(&server)?;
    server.stop()?;
    let policy = ctx.work.join("policy.toml");
    std::fs::write(&policy, policy_toml(&vkey))?;
    let state = ctx.work.join("verify-state");

    for (label, file, bundle) in [
        ("small (64 KiB)", &small, &bundles[0]),
        ("large", &big, &bundles[1]),
    ] {
        let gb = glassbox(ctx);
        let gb2 = glassbox(ctx);
        let (f, b, p, s) = (file.clone(), bundle.clone(), policy.clone(), state.clone());
        let f2 = file.clone();
        let verify_cmd = format!(
            "glassbox verify {} --policy {} --bundle {} --state {}",
            q(file),
            q(&policy),
            q(bundle),
            q(&state)
        );
        let results = compare(
            &[
                Contender::new("glassbox verify (offline)", verify_cmd, move || {
                    let mut c = gb(&["verify"]);
                    c.arg(&f)
                        .arg("--policy")
                        .arg(&p)
                        .arg("--bundle")
                        .arg(&b)
                        .arg("--state")
                        .arg(&s);
                    c
                }),
                Contender::new(
                    "glassbox hash file",
                    format!("glassbox hash file {}", q(file)),
                    move || {
                        let mut c = gb2(&["hash", "file"]);
                        c.arg(&f2);
                        c
                    },
                ),
            ],
            ctx.scale.rounds,
        )?;
        let bytes = std::fs::metadata(file)?.len() as f64;
        rep.timing_table(
            &format!("verify offline from a bundle, {label} artifact"),
            &results,
            Some(bytes),
        );
        if file == &small {
            rep.target(Target::at_most(
                "verify small artifact: whole process (ms)",
                results[0].median_secs * 1e3,
                50.0,
            ));
        } else {
            rep.target(Target::at_most(
                "verify 1 GiB: time ÷ hash file",
                ratio(results[0].median_secs, results[1].median_secs),
                1.1,
            ));
        }
    }
    Ok(())
}

pub fn sha256_of(path: &Path) -> Result<glassbox_core::digest::Sha256Digest> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(glassbox_core::digest::Sha256Digest(h.finalize().into()))
}

/// The log's verifier key, from the checkpoint's key name and the public key file.
pub fn log_vkey(server: &Server) -> Result<String> {
    let key = glassbox_keys::load_verifying_key(&server.data.join("log.pem"))
        .context("reading the log key")?;
    let cp = server.client.checkpoint()?;
    let origin = String::from_utf8_lossy(&cp)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    Ok(glassbox_keys::note_vkey(&origin, &key))
}
