//! SHA-256 of files: streamed (an artifact may not fit in memory), many files at once
//! on every core, with a progress bar on stderr only when a person is watching.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// A file that could not be hashed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    #[error("cannot read {}", path.display())]
    Read { path: PathBuf, source: io::Error },
}

/// Read size: large enough that syscalls are noise next to hashing, small enough
/// that the block the kernel copies out of the page cache is still in L2 when it
/// is hashed. 256 KiB did not on some hosts: a 1.07 GB file took 1.13 s to hash
/// there against 0.78 s in 64 KiB reads (docs/performance.md, "Hashing").
const BLOCK: usize = 64 * 1024;

thread_local! {
    /// One read buffer per thread, reused for every file: a tree of 50,000 small
    /// files would otherwise allocate and zero 50,000 fresh buffers.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// SHA-256 of the bytes of `path`, read in blocks; `progress` advances by bytes read.
pub fn sha256_file(path: &Path, progress: &ProgressBar) -> Result<[u8; 32], HashError> {
    with_buffer(|buf| sha256_file_with(path, progress, buf))
}

fn sha256_file_with(
    path: &Path,
    progress: &ProgressBar,
    buf: &mut [u8],
) -> Result<[u8; 32], HashError> {
    let file = File::open(path).map_err(|source| HashError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    sha256_open_file(file, progress, buf).map_err(|source| HashError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// SHA-256 of the rest of `file`, read in blocks of `buf.len()`.
///
/// A file that fills the first block is announced to the kernel as read
/// sequentially (doubling its read-ahead); smaller files, the common case in a source
/// tree, pay no extra syscall: they cost one `read` of their bytes and one that
/// returns 0 (a short read is not proof of end of file).
pub fn sha256_open_file(
    mut file: File,
    progress: &ProgressBar,
    buf: &mut [u8],
) -> io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut first = true;
    loop {
        let n = match file.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if first && n == buf.len() {
            advise_sequential(&file);
        }
        first = false;
        hasher.update(&buf[..n]);
        progress.inc(n as u64);
    }
    Ok(hasher.finalize().into())
}

/// Run `f` with this thread's reusable read buffer of [`BLOCK`] bytes.
pub fn with_buffer<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
    BUFFER.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.resize(BLOCK, 0);
        f(&mut buf)
    })
}

/// `POSIX_FADV_SEQUENTIAL` on the whole file: only a hint, so a failure is ignored.
fn advise_sequential(file: &File) {
    let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::Sequential);
}

/// SHA-256 of each of `paths`, in the same order, hashed in parallel. The first
/// failure (in input order) is returned.
pub fn sha256_files(paths: &[PathBuf]) -> Result<Vec<[u8; 32]>, HashError> {
    let mut total = 0u64;
    // The sizes only feed the progress bar: skip a stat per file when nobody sees it.
    let watched = io::stderr().is_terminal();
    for path in paths.iter().filter(|_| watched) {
        let meta = std::fs::metadata(path).map_err(|source| HashError::Read {
            path: path.clone(),
            source,
        })?;
        total = total.saturating_add(meta.len());
    }
    let progress = progress_bar(total, "hashing", true);
    let digests = paths
        .par_iter()
        .map(|path| sha256_file(path, &progress))
        .collect();
    progress.finish_and_clear();
    digests
}

/// A progress bar on stderr, or a hidden one when stderr is not a terminal so that
/// logs and pipes never receive escape sequences. `bytes` picks the unit.
pub fn progress_bar(total: u64, message: &'static str, bytes: bool) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let template = if bytes {
        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})"
    } else {
        "{msg} [{bar:30}] {pos}/{len} files"
    };
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
        .with_style(style)
        .with_message(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_known_content_matches_sha256sum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let got = sha256_files(&[path]).unwrap();
        assert_eq!(
            hex::encode(got[0]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = sha256_files(&[PathBuf::from("/nonexistent/glassbox")]).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/glassbox"), "{err}");
    }
}
