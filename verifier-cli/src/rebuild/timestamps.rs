//! Giving every file of the checkout the commit time as its modification time.
//!
//! A checkout stamps each file with the moment it was written, in whatever order the
//! checkout wrote them. Build systems that compare modification times then see
//! generated files older than their inputs — autotools' `configure` older than
//! `configure.ac` — and try to regenerate them with tools a clean machine does not
//! have. Setting every file, directory and symbolic link to the committer time (the
//! build's `SOURCE_DATE_EPOCH`, reproducible-builds.org) makes them all equal, so
//! nothing looks out of date and every rebuilder starts from the same times.

use std::fs;
use std::io;
use std::path::Path;

use rustix::fs::{utimensat, AtFlags, Timespec, Timestamps, CWD};

/// Set the access and modification times of `root` and everything under it (symbolic
/// links themselves, never their targets) to `epoch` seconds.
pub fn set_all(root: &Path, epoch: i64) -> io::Result<()> {
    let at = Timespec {
        tv_sec: epoch,
        tv_nsec: 0,
    };
    let times = Timestamps {
        last_access: at,
        last_modification: at,
    };
    set_tree(root, &times)
}

/// Children first, then the directory: nothing written later changes its time.
fn set_tree(path: &Path, times: &Timestamps) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            set_tree(&entry?.path(), times)?;
        }
    }
    utimensat(CWD, path, times, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{symlink, MetadataExt};

    use super::*;

    #[test]
    fn files_directories_and_links_all_get_the_commit_time() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("src");
        fs::create_dir_all(root.join("sub/deeper")).unwrap();
        fs::write(root.join("sub/deeper/f"), b"x").unwrap();
        fs::write(root.join("top"), b"y").unwrap();
        symlink("missing-target", root.join("dangling")).unwrap();
        set_all(&root, 1_735_689_600).unwrap();
        for path in ["", "sub", "sub/deeper", "sub/deeper/f", "top", "dangling"] {
            let meta = fs::symlink_metadata(root.join(path)).unwrap();
            assert_eq!(meta.mtime(), 1_735_689_600, "{path:?}");
            assert_eq!(meta.mtime_nsec(), 0, "{path:?}");
        }
    }
}
