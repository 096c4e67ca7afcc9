//! What a release verification checks: each FILE given, every entry under each
//! directory given (depth first, in byte order of the names), and each `--digest`.
//!
//! Inside a directory regular files are hashed, and a symbolic link that leads to a
//! regular file inside the same directory counts as that file (what a customer runs
//! through it is the target's bytes). A link that leads out of the directory — to a
//! file that is not part of the release — is not followed, nor is anything else that
//! is not a regular file; both are listed so that nothing in the directory goes
//! unmentioned.
//! A FILE named on the command line is opened as given (the caller chose it).
//!
//! With `--contents`, each FILE given is an archive: its row is followed by one row
//! per member ([`archive`]), named `ARCHIVE!/MEMBER`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use glassbox_core::digest::Sha256Digest;

use crate::hash::progress_bar;
use glassbox_archive::{self as archive, Limits, MemberKind};

/// One row of the release report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The path as given or found under a directory given; `--digest` for a digest.
    pub label: String,
    /// For a file found under a directory: its path relative to that directory,
    /// `/`-separated, as `attest build --artifact DIR` names its subjects.
    pub relative: Option<String>,
    pub what: What,
    /// For a member of an archive: the index of the archive's own item.
    pub within: Option<usize>,
    /// For an archive read with `--contents`: the number of its member rows.
    pub members: Option<usize>,
}

impl Item {
    pub fn new(label: String, relative: Option<String>, what: What) -> Item {
        Item {
            label,
            relative,
            what,
            within: None,
            members: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A regular file to hash.
    File(PathBuf),
    /// A digest given with `--digest`.
    Digest(Sha256Digest),
    /// A member of an archive, hashed as it was read, or an image of an OCI layout
    /// by its manifest digest; `note` says how it was reached when it is not a file
    /// itself (a link to one), or what of an image was not checked.
    Member {
        digest: Sha256Digest,
        note: Option<String>,
    },
    /// A symbolic link under a directory that leads to a regular file inside it:
    /// hashed as that file, `note` naming the link.
    Linked { target: PathBuf, note: String },
    /// Found under a directory and not verified: why.
    NotFollowed(String),
}

impl What {
    /// How the item was reached when it is not a file itself (a link), or what of it
    /// was not checked (an image's absent blobs).
    pub fn note(&self) -> Option<&str> {
        match self {
            What::Member { note, .. } => note.as_deref(),
            What::Linked { note, .. } => Some(note),
            _ => None,
        }
    }
}

/// What `--contents` asks for: each FILE's members, within these limits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Contents {
    /// `--max-unpacked`: bytes one archive may unpack to, instead of the default.
    pub max_unpacked: Option<u64>,
}

/// How FILEs are read beyond their bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reading {
    /// `--contents`: each FILE is an archive whose members are items too.
    pub contents: Option<Contents>,
    /// `--oci`: each directory is an OCI image layout, its items its images.
    pub oci: bool,
}

/// The items of `files` (files and directories, in the order given), then `digests`;
/// with `--contents`, each FILE's members after it; with `--oci`, each directory's
/// images instead of its files.
pub fn collect(
    files: &[PathBuf],
    digests: &[Sha256Digest],
    reading: Reading,
) -> anyhow::Result<Vec<Item>> {
    let mut items = Vec::new();
    for path in files {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() && reading.oci {
            images(path, &mut items)?;
        } else if meta.is_dir() {
            if crate::oci::is_layout(path) {
                eprintln!(
                    "glassbox: {} is an OCI image layout: its files are verified one by one; \
                     add --oci to verify its images by their manifest digests",
                    path.display()
                );
            }
            let before = items.len();
            let root = std::fs::canonicalize(path)
                .with_context(|| format!("cannot read directory {}", path.display()))?;
            walk(path, &root, path, &mut items)?;
            if items.len() == before {
                bail!(
                    "{} holds no file to verify; give the directory the release was unpacked into",
                    path.display()
                );
            }
        } else if meta.is_file() {
            items.push(Item::new(
                path.display().to_string(),
                None,
                What::File(path.clone()),
            ));
            if let Some(contents) = reading.contents {
                unpack(path, meta.len(), contents, &mut items)?;
            }
        } else {
            bail!(
                "{} is neither a regular file nor a directory; give the artifact's file",
                path.display()
            );
        }
    }
    items.extend(
        digests
            .iter()
            .map(|digest| Item::new("--digest".to_owned(), None, What::Digest(*digest))),
    );
    Ok(items)
}

/// The images of the OCI image layout at `dir`, named `oci:DIR:REF` as skopeo names
/// them (`oci:DIR@sha256:HEX` for an image the layout does not name).
fn images(dir: &Path, items: &mut Vec<Item>) -> anyhow::Result<()> {
    for image in crate::oci::images(dir)? {
        let label = match &image.reference {
            Some(name) => format!("oci:{}:{name}", dir.display()),
            None => format!("oci:{}@{}", dir.display(), image.digest),
        };
        let note = (image.missing > 0).then(|| {
            format!(
                "{} of its blobs not in the layout (not checked, cannot be run from it)",
                image.missing
            )
        });
        items.push(Item::new(
            label,
            None,
            What::Member {
                digest: image.digest,
                note,
            },
        ));
    }
    Ok(())
}

/// The members of the archive at `path` (the last item), after it.
fn unpack(path: &Path, len: u64, contents: Contents, items: &mut Vec<Item>) -> anyhow::Result<()> {
    let Some(format) = archive::format_of(path)? else {
        return Err(archive::ArchiveError::NotAnArchive {
            path: path.display().to_string(),
        }
        .into());
    };
    let progress = progress_bar(len, "reading", true);
    let members = archive::members(
        path,
        format,
        Limits::for_archive(len, contents.max_unpacked),
        &progress,
    )?;
    progress.finish_and_clear();
    if members.is_empty() {
        bail!(
            "{} holds no file to verify; drop --contents to verify the archive itself",
            path.display()
        );
    }
    let at = items.len() - 1;
    items[at].members = Some(members.len());
    for member in members {
        let what = match member.kind {
            MemberKind::File(digest) => What::Member { digest, note: None },
            MemberKind::Link {
                hard,
                target,
                resolved,
            } => {
                let link = if hard { "hard link" } else { "symbolic link" };
                match resolved {
                    Ok(digest) => What::Member {
                        digest,
                        note: Some(format!("{link} to {target}")),
                    },
                    Err(why) => What::NotFollowed(format!("{link} to {target}: {why}")),
                }
            }
            MemberKind::Other(why) => What::NotFollowed(why),
        };
        let mut item = Item::new(
            format!("{}!/{}", path.display(), member.name),
            Some(member.name),
            what,
        );
        item.within = Some(at);
        items.push(item);
    }
    Ok(())
}

/// The entries under `dir` (a directory below `root`, which resolves to `real`),
/// sorted by name, recursively.
fn walk(root: &Path, real: &Path, dir: &Path, items: &mut Vec<Item>) -> anyhow::Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if kind.is_dir() {
            walk(root, real, &path, items)?;
            continue;
        }
        let what = if kind.is_file() {
            What::File(path.clone())
        } else if kind.is_symlink() {
            linked(real, &path)
        } else {
            What::NotFollowed("not a regular file (a device, socket or pipe)".to_owned())
        };
        items.push(Item::new(
            path.display().to_string(),
            Some(relative(root, &path)),
            what,
        ));
    }
    Ok(())
}

/// A symbolic link found under the directory that resolves to `real`: the file it
/// leads to when that is a regular file inside the directory (the bytes a customer
/// runs through the link, and a file of the release), else not followed, saying why.
fn linked(real: &Path, link: &Path) -> What {
    let shown = std::fs::read_link(link)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "an unreadable target".to_owned());
    match std::fs::canonicalize(link) {
        Ok(target) if target.starts_with(real) && target.is_file() => What::Linked {
            target,
            note: format!("symbolic link to {shown}"),
        },
        Ok(target) if target.starts_with(real) => What::NotFollowed(format!(
            "symbolic link to {shown}, not followed: it leads to no regular file"
        )),
        Ok(_) => What::NotFollowed(format!(
            "symbolic link to {shown}, not followed: it leads out of the directory; \
             verify the file it points to"
        )),
        Err(_) => What::NotFollowed(format!(
            "symbolic link to {shown}, not followed: it leads to nothing"
        )),
    }
}

/// `path` below `root`, its components joined by `/` whatever the platform.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_lists_files_depth_first_with_links_inside_followed_and_links_out_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::write(root.join("bin/tool"), b"t").unwrap();
        std::fs::write(root.join("README"), b"r").unwrap();
        std::fs::write(root.join("z"), b"z").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
        std::os::unix::fs::symlink("tool", root.join("bin/tool.1")).unwrap();
        std::os::unix::fs::symlink("../bin", root.join("bin/up")).unwrap();
        let items = collect(&[root.to_path_buf()], &[], Reading::default()).unwrap();
        let names: Vec<_> = items.iter().map(|i| i.relative.clone().unwrap()).collect();
        assert_eq!(
            names,
            ["README", "bin/tool", "bin/tool.1", "bin/up", "link", "z"]
        );
        assert!(
            matches!(&items[4].what, What::NotFollowed(why) if why.contains("/etc/passwd") && why.contains("leads out of the directory")),
            "{items:?}"
        );
        assert!(
            matches!(&items[2].what, What::Linked { target, .. } if target.ends_with("bin/tool")),
            "{items:?}"
        );
        assert!(
            matches!(&items[3].what, What::NotFollowed(why) if why.contains("no regular file")),
            "{items:?}"
        );
        assert_eq!(items[1].what, What::File(root.join("bin/tool")));
    }

    #[test]
    fn an_empty_directory_is_an_error_not_a_vacuous_success() {
        let dir = tempfile::tempdir().unwrap();
        let err = collect(&[dir.path().to_path_buf()], &[], Reading::default()).unwrap_err();
        assert!(err.to_string().contains("holds no file"), "{err}");
    }
}
