//! Generated inputs: a large file, a tree of many files of mixed sizes, and a git
//! repository holding the same tree. Content is pseudo-random (incompressible, like
//! release binaries) and deterministic, so every run hashes the same bytes.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::measure::{run, shell};

/// xorshift64*: fast, deterministic filler; not for anything secret.
struct Filler(u64);

impl Filler {
    fn new(seed: u64) -> Filler {
        Filler(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Write `bytes` pseudo-random bytes to `path`.
pub fn make_file(path: &Path, bytes: u64, seed: u64) -> Result<()> {
    let mut f = BufWriter::with_capacity(
        1 << 20,
        File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    let mut rng = Filler::new(seed);
    let mut buf = vec![0u8; 8 << 20];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rng.fill(&mut buf[..n]);
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.flush()?;
    Ok(())
}

/// The sizes of `files` files totalling about `total` bytes: a heavy-tailed mix
/// (most files a few KiB, a few of several MiB), like a source tree with assets.
pub fn file_sizes(files: usize, total: u64) -> Vec<u64> {
    let mut rng = Filler::new(7);
    let weights: Vec<f64> = (0..files)
        .map(|_| {
            let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
            (u * 7.0).exp()
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    weights
        .iter()
        .map(|w| (w / sum * total as f64) as u64)
        .collect()
}

/// Create a tree of `files` files (about `total` bytes) under `root`, 500 per
/// directory in two levels. Returns the exact byte count.
pub fn make_tree(root: &Path, files: usize, total: u64) -> Result<u64> {
    let mut bytes = 0;
    let mut buf = Vec::new();
    let mut rng = Filler::new(11);
    for (i, size) in file_sizes(files, total).into_iter().enumerate() {
        let dir = root.join(format!("d{:03}/s{}", i / 500, (i / 50) % 10));
        if i % 50 == 0 {
            fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        buf.resize(size as usize, 0);
        rng.fill(&mut buf);
        fs::write(dir.join(format!("f{i}.dat")), &buf)?;
        bytes += size;
    }
    Ok(bytes)
}

/// A bare git repository at `repo` with one commit of the tree at `work`.
pub fn make_repo(work: &Path, repo: &Path) -> Result<()> {
    let (w, r) = (work.display(), repo.display());
    run(&mut shell(&format!(
        "set -e; git init -q --bare '{r}'; \
         export GIT_DIR='{r}' GIT_WORK_TREE='{w}'; \
         git add -A; \
         git -c user.name=bench -c user.email=bench@glassbox.invalid commit -q -m tree"
    )))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_add_up_to_about_the_total_and_vary() {
        let sizes = file_sizes(1000, 10_000_000);
        let sum: u64 = sizes.iter().sum();
        assert!(sum <= 10_000_000 && sum > 9_990_000, "{sum}");
        let max = *sizes.iter().max().unwrap();
        let min = *sizes.iter().min().unwrap();
        assert!(max > 50 * min.max(1), "{min}..{max}");
    }

    #[test]
    fn content_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        make_file(&dir.path().join("a"), 1000, 3).unwrap();
        make_file(&dir.path().join("b"), 1000, 3).unwrap();
        assert_eq!(
            fs::read(dir.path().join("a")).unwrap(),
            fs::read(dir.path().join("b")).unwrap()
        );
    }
}
