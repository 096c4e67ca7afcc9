//! The members of a tar (plain, gzip, xz or zstd), zip or Debian package, each
//! hashed as it streams out of the archive: what `glassbox verify --contents ARCHIVE`
//! reads (docs/cli.md "Archives"). A crate of its own so that it can be fuzzed
//! (fuzz/fuzz_targets/archive.rs) without the rest of the command.
//!
//! Nothing is unpacked: no member is ever written to disk, so a hostile archive has
//! nothing to write over, wherever its names point. What unpacking would do with the
//! archive is still judged, because that is what the customer is about to do:
//!
//! - a member whose name is absolute, climbs out with `..`, or lies under a
//!   symbolic link of the archive would land outside the directory it is unpacked
//!   into: the archive is refused, naming the member;
//! - more than [`MAX_MEMBERS`] members, or more unpacked bytes than [`Limits`]
//!   allows (a compression bomb), is refused before the limit is passed;
//! - a link is judged by the member it leads to (the bytes a customer runs through
//!   it); one that leads out of the archive, or to nothing in it, is a failing row;
//! - bytes after the end of a tar archive, other than its zero padding, are refused:
//!   a tool reading past the end marker would unpack members this verification
//!   never saw.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::{Component, Path};

use glassbox_core::digest::Sha256Digest;
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

/// Members one archive may have.
pub const MAX_MEMBERS: usize = 100_000;
/// Unpacked bytes always allowed, however small the archive.
const UNPACKED_FLOOR: u64 = 256 << 20;
/// Unpacked bytes allowed per byte of archive above the floor.
const UNPACKED_RATIO: u64 = 100;
/// Link hops followed before a link is called a loop.
const MAX_LINK_HOPS: usize = 40;

/// How much one archive may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_members: usize,
    pub max_unpacked: u64,
}

impl Limits {
    /// The default: [`UNPACKED_RATIO`] times the archive's size, at least
    /// [`UNPACKED_FLOOR`]; `explicit` (`--max-unpacked`) replaces it.
    pub fn for_archive(archive_bytes: u64, explicit: Option<u64>) -> Limits {
        Limits {
            max_members: MAX_MEMBERS,
            max_unpacked: explicit.unwrap_or_else(|| {
                archive_bytes
                    .saturating_mul(UNPACKED_RATIO)
                    .max(UNPACKED_FLOOR)
            }),
        }
    }
}

/// The archive formats read, told apart by their first bytes, not their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Tar(Compression),
    Zip,
    /// A Debian package: an ar archive whose first member is `debian-binary`.
    Deb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Xz,
    Zstd,
}

/// One member as the archive lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The path it unpacks to, relative to where the archive is unpacked,
    /// `/`-separated, without a leading `./`.
    pub name: String,
    pub kind: MemberKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberKind {
    /// A regular file and the SHA-256 of its bytes.
    File(Sha256Digest),
    /// A symbolic or hard link: where it points, and the digest of the file it
    /// leads to within the archive, if it leads to one.
    Link {
        hard: bool,
        target: String,
        resolved: Result<Sha256Digest, String>,
    },
    /// Something unpacking would create that has no bytes to verify (a device, a
    /// pipe), or a package part that is not read: why.
    Other(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(
        "{path} is not an archive glassbox reads (tar, tar.gz, tar.xz, tar.zst, zip or \
         deb); drop --contents to verify the file itself"
    )]
    NotAnArchive { path: String },
    #[error("{path}: {what} that does not hold a tar archive; drop --contents to verify the file itself")]
    NotTar { path: String, what: &'static str },
    #[error("{path}: an ar archive that is not a Debian package (its first member is not debian-binary)")]
    NotDeb { path: String },
    #[error(
        "{path}: member {member:?} would be unpacked outside the directory the archive \
         is unpacked into ({why}); refusing this archive"
    )]
    Escapes {
        path: String,
        member: String,
        why: &'static str,
    },
    #[error(
        "{path}: more than {limit} members; refusing an archive that large (a member \
         count bomb?)"
    )]
    TooManyMembers { path: String, limit: usize },
    #[error(
        "{path}: unpacks to more than {limit} bytes (a compression bomb?); if the \
         release really is that large, raise the limit with --max-unpacked BYTES"
    )]
    TooLarge { path: String, limit: u64 },
    #[error("{path}: member {member:?} is encrypted and cannot be verified")]
    Encrypted { path: String, member: String },
    #[error("{path}: bytes after the end of the tar archive; refusing it (a tool reading past the end would unpack members not verified here)")]
    TrailingData { path: String },
    #[error("{path}: {what}")]
    Corrupt {
        path: String,
        what: String,
        #[source]
        source: Option<io::Error>,
    },
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// The format of the file at `path` by its first bytes, `None` if it is none of them.
pub fn format_of(path: &Path) -> Result<Option<Format>, ArchiveError> {
    let read = |source| ArchiveError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut head = Vec::with_capacity(512);
    File::open(path)
        .map_err(read)?
        .take(512)
        .read_to_end(&mut head)
        .map_err(read)?;
    Ok(sniff(&head))
}

/// The format of an archive by its first bytes (512 of them, or all there are),
/// `None` if it is none of those read.
pub fn sniff(head: &[u8]) -> Option<Format> {
    Some(if head.starts_with(&[0x1f, 0x8b]) {
        Format::Tar(Compression::Gzip)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Format::Tar(Compression::Xz)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Format::Tar(Compression::Zstd)
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Format::Zip
    } else if head.starts_with(b"!<arch>\n") {
        Format::Deb
    } else if is_tar_header(head) {
        Format::Tar(Compression::None)
    } else {
        return None;
    })
}

/// A POSIX (`ustar\0`) or GNU (`ustar  `) tar header block.
fn is_tar_header(block: &[u8]) -> bool {
    block.len() >= 512 && &block[257..262] == b"ustar"
}

/// Every member of the archive at `path`, in archive order, links resolved;
/// `progress` advances by archive bytes read.
pub fn members(
    path: &Path,
    format: Format,
    limits: Limits,
    progress: &ProgressBar,
) -> Result<Vec<Member>, ArchiveError> {
    let label = path.display().to_string();
    let file = File::open(path).map_err(|source| ArchiveError::Read {
        path: label.clone(),
        source,
    })?;
    read_members(BufReader::new(file), &label, format, limits, progress)
}

/// [`members`] of an archive read from `input`, called `label` in errors.
pub fn read_members<R: BufRead + Seek>(
    input: R,
    label: &str,
    format: Format,
    limits: Limits,
    progress: &ProgressBar,
) -> Result<Vec<Member>, ArchiveError> {
    let mut reader = Reader {
        label: label.to_owned(),
        limits,
        members: Vec::new(),
        unpacked: 0,
        absolute_links_stay: format == Format::Deb,
    };
    match format {
        Format::Tar(compression) => {
            let input = BufReader::new(progress.wrap_read(input));
            let mut stream = decompress(input, compression, label)?;
            // A compressed file need not hold a tar archive (`app.gz`): say so, rather
            // than that a tar archive is damaged.
            let mut head = Vec::with_capacity(512);
            (&mut stream)
                .take(512)
                .read_to_end(&mut head)
                .map_err(|e| reader.corrupt("damaged compressed data", e))?;
            if !is_tar_header(&head) {
                return Err(ArchiveError::NotTar {
                    path: label.to_owned(),
                    what: match compression {
                        Compression::None => "a file",
                        Compression::Gzip => "gzip data",
                        Compression::Xz => "xz data",
                        Compression::Zstd => "zstd data",
                    },
                });
            }
            reader.tar(Box::new(io::Cursor::new(head).chain(stream)), "")?;
        }
        Format::Zip => reader.zip(input, progress)?,
        Format::Deb => reader.deb(progress.wrap_read(input))?,
    }
    reader.finish()
}

/// The decompressed stream of `input`.
fn decompress<'a, R: BufRead + 'a>(
    input: R,
    compression: Compression,
    label: &str,
) -> Result<Box<dyn Read + 'a>, ArchiveError> {
    Ok(match compression {
        Compression::None => Box::new(input),
        // Every gzip member, as gunzip reads them: a second member is as much the
        // archive as the first.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
        Compression::Xz => Box::new(lzma_rust2::XzReader::new(input, true)),
        Compression::Zstd => Box::new(ZstdFrames::new(input, label)?),
    })
}

/// Every zstd frame of a stream, one after another, as `zstd -d` reads them.
struct ZstdFrames<R: BufRead> {
    decoder: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(input: R, label: &str) -> Result<Self, ArchiveError> {
        let decoder =
            ruzstd::decoding::StreamingDecoder::new(input).map_err(|e| ArchiveError::Corrupt {
                path: label.to_owned(),
                what: format!("not a zstd stream: {e}"),
                source: None,
            })?;
        Ok(ZstdFrames {
            decoder: Some(decoder),
        })
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // This frame is done: another follows unless the input is.
            let Some(decoder) = self.decoder.take() else {
                return Ok(0);
            };
            let mut input = decoder.into_inner();
            if input.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.decoder = Some(
                ruzstd::decoding::StreamingDecoder::new(input)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?,
            );
        }
    }
}

/// The state of one archive's reading.
struct Reader {
    label: String,
    limits: Limits,
    members: Vec<Member>,
    unpacked: u64,
    /// Whether an absolute link target means a path in the archive (a package's
    /// files are unpacked at `/`) rather than outside it.
    absolute_links_stay: bool,
}

impl Reader {
    fn corrupt(&self, what: &str, source: io::Error) -> ArchiveError {
        ArchiveError::Corrupt {
            path: self.label.clone(),
            what: what.to_owned(),
            source: Some(source),
        }
    }

    fn push(&mut self, name: String, kind: MemberKind) -> Result<(), ArchiveError> {
        if self.members.len() >= self.limits.max_members {
            return Err(ArchiveError::TooManyMembers {
                path: self.label.clone(),
                limit: self.limits.max_members,
            });
        }
        self.members.push(Member { name, kind });
        Ok(())
    }

    /// SHA-256 of `input` to its end, counted against the unpacked-bytes limit.
    fn hash(&mut self, input: &mut dyn Read, member: &str) -> Result<Sha256Digest, ArchiveError> {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.corrupt(&format!("cannot read member {member:?}"), e)),
            };
            self.count(n as u64)?;
            hasher.update(&buf[..n]);
        }
        Ok(Sha256Digest(hasher.finalize().into()))
    }

    fn count(&mut self, bytes: u64) -> Result<(), ArchiveError> {
        self.unpacked = self.unpacked.saturating_add(bytes);
        if self.unpacked > self.limits.max_unpacked {
            return Err(ArchiveError::TooLarge {
                path: self.label.clone(),
                limit: self.limits.max_unpacked,
            });
        }
        Ok(())
    }

    /// The members of a tar stream, named under `prefix`.
    fn tar(&mut self, input: Box<dyn Read + '_>, prefix: &str) -> Result<(), ArchiveError> {
        let mut archive = tar::Archive::new(input);
        let entries = archive
            .entries()
            .map_err(|e| self.corrupt("not a tar archive", e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| self.corrupt("a damaged tar header", e))?;
            let kind = entry.header().entry_type();
            // Directories carry no bytes; pax headers are metadata of other entries
            // (`git archive` starts with a global one).
            if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
                continue;
            }
            let raw = entry
                .path()
                .map_err(|e| self.corrupt("a member name that is not a path", e))?
                .into_owned();
            let Some(name) = self.enclosed(&raw, prefix)? else {
                continue;
            };
            let member = if kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse() {
                MemberKind::File(self.hash(&mut entry, &name)?)
            } else if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name()
                    .map_err(|e| self.corrupt("a link target that is not a path", e))?
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                MemberKind::Link {
                    hard: kind.is_hard_link(),
                    target,
                    resolved: Err(String::new()),
                }
            } else if kind.is_character_special() || kind.is_block_special() {
                MemberKind::Other("a device file, not verified".to_owned())
            } else if kind.is_fifo() {
                MemberKind::Other("a named pipe, not verified".to_owned())
            } else {
                MemberKind::Other(format!(
                    "a tar entry of type {:?}, not verified",
                    kind.as_byte() as char
                ))
            };
            self.push(name, member)?;
        }
        // What follows the end marker must be padding, all zeros.
        let mut rest = archive.into_inner();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match rest.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.corrupt("damaged after the tar archive's end", e)),
            };
            self.count(n as u64)?;
            if buf[..n].iter().any(|&b| b != 0) {
                return Err(ArchiveError::TrailingData {
                    path: self.label.clone(),
                });
            }
        }
    }

    /// A zip archive, by its central directory (the list unzip reads).
    fn zip(&mut self, input: impl Read + Seek, progress: &ProgressBar) -> Result<(), ArchiveError> {
        // The zip reader seeks: to the central directory, then to each member.
        let mut archive = zip::ZipArchive::new(input).map_err(|e| ArchiveError::Corrupt {
            path: self.label.clone(),
            what: format!("not a readable zip archive: {e}"),
            source: None,
        })?;
        if archive.len() > self.limits.max_members {
            return Err(ArchiveError::TooManyMembers {
                path: self.label.clone(),
                limit: self.limits.max_members,
            });
        }
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).map_err(|e| ArchiveError::Corrupt {
                path: self.label.clone(),
                what: format!("member {i} cannot be read: {e}"),
                source: None,
            })?;
            let raw = file.name().map(|n| n.into_owned()).unwrap_or_default();
            if file.encrypted() {
                return Err(ArchiveError::Encrypted {
                    path: self.label.clone(),
                    member: raw,
                });
            }
            // Our own check of the name, not the reader's, so that the refusal says why.
            let Some(name) = self.enclosed(Path::new(&raw), "")? else {
                continue;
            };
            progress.inc(file.compressed_size());
            if file.is_dir() {
                continue;
            }
            let member = if file.is_symlink() {
                let mut target = Vec::new();
                (&mut file)
                    .take(4096)
                    .read_to_end(&mut target)
                    .map_err(|e| self.corrupt(&format!("cannot read member {raw:?}"), e))?;
                MemberKind::Link {
                    hard: false,
                    target: String::from_utf8_lossy(&target).into_owned(),
                    resolved: Err(String::new()),
                }
            } else {
                MemberKind::File(self.hash(&mut file, &name)?)
            };
            self.push(name, member)?;
        }
        Ok(())
    }

    /// A Debian package: its control files as `DEBIAN/…` (where `dpkg-deb --build`
    /// takes them from), the files it installs by their paths.
    fn deb(&mut self, input: impl Read) -> Result<(), ArchiveError> {
        let mut archive = ar::Archive::new(input);
        let mut first = true;
        while let Some(entry) = archive.next_entry() {
            let entry = entry.map_err(|e| self.corrupt("a damaged ar header", e))?;
            let id = String::from_utf8_lossy(entry.header().identifier()).into_owned();
            if first && id != "debian-binary" {
                return Err(ArchiveError::NotDeb {
                    path: self.label.clone(),
                });
            }
            first = false;
            let (stem, compression) = match id.rsplit_once(".tar") {
                Some((stem, "")) => (stem, Compression::None),
                Some((stem, ".gz")) => (stem, Compression::Gzip),
                Some((stem, ".xz")) => (stem, Compression::Xz),
                Some((stem, ".zst")) => (stem, Compression::Zstd),
                _ => (id.as_str(), Compression::None),
            };
            let prefix = match stem {
                "control" => "DEBIAN",
                "data" => "",
                // The format's version ("2.0"): framing, not content.
                "debian-binary" => continue,
                _ => {
                    let why = "a package member dpkg does not install, not verified";
                    self.push(id.clone(), MemberKind::Other(why.to_owned()))?;
                    continue;
                }
            };
            let label = format!("{}!{id}", self.label);
            let stream = decompress(BufReader::new(entry), compression, &label)?;
            self.tar(stream, prefix)?;
        }
        if first {
            return Err(ArchiveError::NotDeb {
                path: self.label.clone(),
            });
        }
        Ok(())
    }

    /// `raw` as a name inside the archive under `prefix`; `None` for the archive's
    /// root itself (`./`); an error if unpacking it would leave the archive.
    fn enclosed(&self, raw: &Path, prefix: &str) -> Result<Option<String>, ArchiveError> {
        let escapes = |why| ArchiveError::Escapes {
            path: self.label.clone(),
            member: raw.to_string_lossy().into_owned(),
            why,
        };
        let mut parts: Vec<String> = prefix
            .split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        let mut named = false;
        for component in raw.components() {
            match component {
                Component::Normal(part) => {
                    parts.push(part.to_string_lossy().into_owned());
                    named = true;
                }
                Component::CurDir => {}
                Component::ParentDir => return Err(escapes("it climbs out with ..")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(escapes("it is an absolute path"))
                }
            }
        }
        Ok(named.then(|| parts.join("/")))
    }

    /// The members with links resolved, after the checks that need them all.
    fn finish(mut self) -> Result<Vec<Member>, ArchiveError> {
        // A member under a symbolic link is written through it: wherever it points.
        let symlinks: BTreeSet<&str> = self
            .members
            .iter()
            .filter(|m| matches!(m.kind, MemberKind::Link { hard: false, .. }))
            .map(|m| m.name.as_str())
            .collect();
        for member in &self.members {
            let mut prefix = member.name.as_str();
            while let Some((parent, _)) = prefix.rsplit_once('/') {
                if symlinks.contains(parent) {
                    return Err(ArchiveError::Escapes {
                        path: self.label.clone(),
                        member: member.name.clone(),
                        why: "it lies under a symbolic link of the archive",
                    });
                }
                prefix = parent;
            }
        }
        let files: BTreeMap<String, usize> = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name.clone(), i))
            .collect();
        let resolved: Vec<Option<Result<Sha256Digest, String>>> = (0..self.members.len())
            .map(|i| {
                matches!(self.members[i].kind, MemberKind::Link { .. })
                    .then(|| resolve(&self.members, &files, i, self.absolute_links_stay))
            })
            .collect();
        for (member, outcome) in self.members.iter_mut().zip(resolved) {
            if let (MemberKind::Link { resolved, .. }, Some(outcome)) = (&mut member.kind, outcome)
            {
                *resolved = outcome;
            }
        }
        Ok(self.members)
    }
}

/// The digest of the file member `start` (a link) leads to, or why it leads to none.
fn resolve(
    members: &[Member],
    by_name: &BTreeMap<String, usize>,
    start: usize,
    absolute_stays: bool,
) -> Result<Sha256Digest, String> {
    let mut at = start;
    for _ in 0..MAX_LINK_HOPS {
        let member = &members[at];
        let target = match &member.kind {
            MemberKind::File(digest) => return Ok(*digest),
            MemberKind::Other(why) => return Err(format!("leads to {}, {why}", member.name)),
            MemberKind::Link { hard, target, .. } => {
                // A hard link names a member of the archive; a symbolic link is
                // relative to its own directory, or absolute.
                let base = if *hard {
                    ""
                } else {
                    member.name.rsplit_once('/').map_or("", |(dir, _)| dir)
                };
                lexical(base, target, absolute_stays)
                    .ok_or_else(|| format!("leads out of the archive ({target})"))?
            }
        };
        at = *by_name
            .get(&target)
            .ok_or_else(|| format!("leads to {target}, which is not a file of the archive"))?;
    }
    Err(format!("more than {MAX_LINK_HOPS} links in a row"))
}

/// `target` read from directory `base` of the archive, `..` taken lexically;
/// `None` if it leaves the archive.
fn lexical(base: &str, target: &str, absolute_stays: bool) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    if target.starts_with('/') {
        if !absolute_stays {
            return None;
        }
    } else {
        parts.extend(base.split('/').filter(|p| !p.is_empty()));
    }
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_first_bytes() {
        assert_eq!(
            sniff(&[0x1f, 0x8b, 8]),
            Some(Format::Tar(Compression::Gzip))
        );
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(Format::Zip));
        assert_eq!(sniff(b"!<arch>\ndebian-binary"), Some(Format::Deb));
        assert_eq!(sniff(b"\x7fELF"), None);
        let mut block = vec![0u8; 512];
        block[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(sniff(&block), Some(Format::Tar(Compression::None)));
    }

    #[test]
    fn link_targets_are_read_lexically_and_may_not_leave() {
        assert_eq!(
            lexical("usr/lib", "libx.so.1", false).unwrap(),
            "usr/lib/libx.so.1"
        );
        assert_eq!(lexical("usr/bin", "../lib/x", false).unwrap(), "usr/lib/x");
        assert_eq!(lexical("", "../x", false), None);
        assert_eq!(lexical("a", "/etc/passwd", false), None);
        assert_eq!(lexical("a", "/usr/bin/x", true).unwrap(), "usr/bin/x");
    }

    #[test]
    fn the_limit_grows_with_the_archive_above_a_floor() {
        assert_eq!(Limits::for_archive(1, None).max_unpacked, UNPACKED_FLOOR);
        assert_eq!(Limits::for_archive(10 << 20, None).max_unpacked, 1000 << 20);
        assert_eq!(Limits::for_archive(10 << 20, Some(5)).max_unpacked, 5);
    }

    /// A tar of two one-block files, `a` and `b`, split after `a`: what a second gzip
    /// member or zstd frame holds is as much the archive as the first.
    fn split_tar() -> (Vec<u8>, Vec<u8>) {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, bytes) in [("a", b"first"), ("b", b"later")] {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            builder.append_data(&mut header, name, &bytes[..]).unwrap();
        }
        let mut tar = builder.into_inner().unwrap();
        let rest = tar.split_off(1024);
        (tar, rest)
    }

    fn names(archive: &[u8]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("archive");
        std::fs::write(&path, archive).unwrap();
        let format = format_of(&path).unwrap().unwrap();
        members(
            &path,
            format,
            Limits::for_archive(1, None),
            &ProgressBar::hidden(),
        )
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect()
    }

    #[test]
    fn every_gzip_member_and_zstd_frame_is_read() {
        use std::io::Write;
        let (head, rest) = split_tar();
        let mut gz = Vec::new();
        for part in [&head, &rest] {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Default::default());
            encoder.write_all(part).unwrap();
            gz.extend(encoder.finish().unwrap());
        }
        assert_eq!(names(&gz), ["a", "b"]);

        let level = ruzstd::encoding::CompressionLevel::Fastest;
        let mut zst = ruzstd::encoding::compress_to_vec(&head[..], level);
        zst.extend(ruzstd::encoding::compress_to_vec(&rest[..], level));
        assert_eq!(names(&zst), ["a", "b"]);
    }
}
