//! Where command output goes: stdout, or a file that is written whole or not at all.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{bail, Context};

/// Write `text` to stdout. A closed pipe (`glassbox … | head`) is not an error: the
/// reader has what it wanted.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

/// `value` as pretty JSON followed by a newline.
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value).context("encoding JSON")?;
    text.push('\n');
    print(&text)
}

/// Fail early, before any expensive work, if `path` exists and may not be replaced.
pub fn check_writable(path: &Path, force: bool) -> anyhow::Result<()> {
    if !force && path.symlink_metadata().is_ok() {
        bail!(
            "{} already exists (use --force to overwrite)",
            path.display()
        );
    }
    Ok(())
}

/// Write `bytes` to `path` through a temporary file in the same directory, so a reader
/// never sees half an envelope. Without `force` an existing file is never replaced,
/// even one created since [`check_writable`].
pub fn write_file(path: &Path, bytes: &[u8], force: bool) -> anyhow::Result<()> {
    check_writable(path, force)?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    // Temporary files are created 0600; what we write here is public data.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    if force {
        tmp.persist(path)
            .map_err(|e| e.error)
            .with_context(|| format!("writing {}", path.display()))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{} already exists (use --force to overwrite)",
                    path.display()
                )
            } else {
                anyhow::Error::new(e.error).context(format!("writing {}", path.display()))
            }
        })?;
    }
    Ok(())
}

/// Write `bytes` to `path` if given, else to stdout.
pub fn emit(path: Option<&Path>, bytes: &[u8], force: bool) -> anyhow::Result<()> {
    match path {
        Some(path) => write_file(path, bytes, force),
        None => print(&String::from_utf8_lossy(bytes)),
    }
}
