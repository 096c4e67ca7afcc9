//! Refusing a checkout whose symbolic links lead out of it, before the recipe runs.
//!
//! dirHash never follows or hashes a symbolic link (docs/design.md §2), so a tree that
//! reviewers approved may still hold `build.sh -> /home/builder/build.sh`: the recipe
//! would then run whatever the rebuilding machine has there, and the attested source
//! would not be what was built. A link is judged by where it leads in the *tree*,
//! not on this machine: an absolute target is refused whatever it names, and a
//! relative one is followed component by component — `..` climbs, links met on the
//! way inside the checkout are followed in turn — and refused as soon as it climbs
//! above the source root. Climbing out and back in (`../source/a`) is refused too:
//! the checkout's own directory name is not part of the tree.
//!
//! Following stops after [`MAX_LINKS`] links, the number Linux follows in one path
//! lookup before giving up with `ELOOP` (path_resolution(7)); a loop or a longer
//! chain is refused, since a recipe stepping through it one `cd` at a time could
//! still reach its end.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::RebuildError;

/// Links followed in one resolution before it is refused (Linux's `MAXSYMLINKS`).
pub const MAX_LINKS: usize = 40;

/// Why a symbolic link of the checkout is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkEscape {
    /// The target, or the target of a link it leads through, is an absolute path.
    Absolute,
    /// Following it climbs above the source root.
    Outside,
    /// Following it takes more than [`MAX_LINKS`] links (a loop, or a chain too long
    /// to judge).
    TooManyLinks,
}

impl LinkEscape {
    /// A stable machine-readable name.
    pub fn code(self) -> &'static str {
        match self {
            LinkEscape::Absolute => "absolute",
            LinkEscape::Outside => "outside",
            LinkEscape::TooManyLinks => "too_many_links",
        }
    }
}

impl std::fmt::Display for LinkEscape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkEscape::Absolute => write!(f, "it leads to an absolute path"),
            LinkEscape::Outside => write!(f, "it leads above the source root"),
            LinkEscape::TooManyLinks => {
                write!(f, "following it takes more than {MAX_LINKS} links")
            }
        }
    }
}

/// A symbolic link of the checkout that leads out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscapingLink {
    /// Path of the link relative to the source root, `/`-separated.
    pub path: String,
    /// The link's target as stored.
    pub target: String,
    /// Why it is refused.
    pub escape: LinkEscape,
}

/// The first symbolic link under `root` (in path order) that leads out of it. The
/// repository's own `.git` directory at the root is skipped: it is written by the
/// clone, not taken from the commit.
pub fn first_escaping(root: &Path) -> Result<Option<EscapingLink>, RebuildError> {
    let mut links = Vec::new();
    collect_links(root, Path::new(""), &mut links)?;
    links.sort();
    let mut lookup = |relative: &Path| read_link_at(root, relative);
    for link in links {
        let target = read_link_at(root, &link)?.ok_or_else(|| RebuildError::InspectSource {
            path: root.join(&link),
            source: io::Error::other("the symbolic link disappeared while being checked"),
        })?;
        let parent = link.parent().unwrap_or(Path::new(""));
        if let Err(escape) = resolve(parent, &target, &mut lookup)? {
            return Ok(Some(EscapingLink {
                path: to_slashes(&link),
                target: target.to_string_lossy().into_owned(),
                escape,
            }));
        }
    }
    Ok(None)
}

/// Every symbolic link under `root/relative`, as paths relative to `root`; symbolic
/// links to directories are listed, not entered.
fn collect_links(root: &Path, relative: &Path, out: &mut Vec<PathBuf>) -> Result<(), RebuildError> {
    let dir = root.join(relative);
    let err = |source| RebuildError::InspectSource {
        path: dir.clone(),
        source,
    };
    for entry in fs::read_dir(&dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let name = entry.file_name();
        if relative.as_os_str().is_empty() && name == ".git" {
            continue;
        }
        let kind = entry.file_type().map_err(err)?;
        let path = relative.join(&name);
        if kind.is_symlink() {
            out.push(path);
        } else if kind.is_dir() {
            collect_links(root, &path, out)?;
        }
    }
    Ok(())
}

/// The target of `root/relative` when it is a symbolic link; `None` when it is
/// anything else or nothing (a missing component, or a file used as a directory).
fn read_link_at(root: &Path, relative: &Path) -> Result<Option<PathBuf>, RebuildError> {
    let path = root.join(relative);
    match path.symlink_metadata() {
        Ok(meta) if meta.file_type().is_symlink() => fs::read_link(&path)
            .map(Some)
            .map_err(|source| RebuildError::InspectSource { path, source }),
        Ok(_) => Ok(None),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(source) => Err(RebuildError::InspectSource { path, source }),
    }
}

/// Follow `target`, read from a link in the directory `parent` (relative to the source
/// root), through the links `lookup` reports, without leaving the root.
///
/// The outer `Result` carries I/O errors of `lookup`; the inner one the verdict.
fn resolve<E>(
    parent: &Path,
    target: &Path,
    lookup: &mut impl FnMut(&Path) -> Result<Option<PathBuf>, E>,
) -> Result<Result<(), LinkEscape>, E> {
    let mut at: Vec<OsString> = parent
        .components()
        .map(|c| c.as_os_str().to_os_string())
        .collect();
    // Steps still to take, the next one last.
    let mut pending = steps(target);
    // The link being judged is the first one followed.
    let mut followed = 1;
    while let Some(step) = pending.pop() {
        match step {
            Step::Root => return Ok(Err(LinkEscape::Absolute)),
            Step::Up => {
                if at.pop().is_none() {
                    return Ok(Err(LinkEscape::Outside));
                }
            }
            Step::Down(name) => {
                at.push(name);
                let here: PathBuf = at.iter().collect();
                if let Some(next) = lookup(&here)? {
                    followed += 1;
                    if followed > MAX_LINKS {
                        return Ok(Err(LinkEscape::TooManyLinks));
                    }
                    // A link's target is relative to the directory holding it.
                    at.pop();
                    pending.extend(steps(&next));
                }
            }
        }
    }
    Ok(Ok(()))
}

/// One component of a link target, owned so that a target read on the way can be
/// taken before the rest of the one that led to it.
enum Step {
    Root,
    Up,
    Down(OsString),
}

/// The steps of `target`, last first (`.` dropped).
fn steps(target: &Path) -> Vec<Step> {
    target
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::RootDir | Component::Prefix(_) => Some(Step::Root),
            Component::ParentDir => Some(Step::Up),
            Component::Normal(name) => Some(Step::Down(name.to_os_string())),
            Component::CurDir => None,
        })
        .collect()
}

fn to_slashes(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::convert::Infallible;

    use super::*;

    /// Resolve the link at `link` in a tree whose only links are `links`.
    fn judge(links: &[(&str, &str)], link: &str) -> Result<(), LinkEscape> {
        let map: HashMap<PathBuf, PathBuf> = links
            .iter()
            .map(|(path, target)| (PathBuf::from(path), PathBuf::from(target)))
            .collect();
        let mut lookup = |p: &Path| Ok::<_, Infallible>(map.get(p).cloned());
        let link = Path::new(link);
        let target = map[link].clone();
        let parent = link.parent().unwrap_or(Path::new(""));
        match resolve(parent, &target, &mut lookup) {
            Ok(verdict) => verdict,
            Err(never) => match never {},
        }
    }

    #[test]
    fn targets_inside_the_tree_are_allowed() {
        for (link, target) in [
            ("a", "b"),
            ("d/a", "../b"),
            ("d/e/a", "../../b/./c"),
            ("a", "."),
            ("a", ""),
            ("d/a", "../d/../d/missing"),
        ] {
            assert_eq!(judge(&[(link, target)], link), Ok(()), "{link} -> {target}");
        }
    }

    #[test]
    fn absolute_targets_are_refused_whatever_they_name() {
        assert_eq!(
            judge(&[("a", "/etc/passwd")], "a"),
            Err(LinkEscape::Absolute)
        );
        assert_eq!(judge(&[("d/a", "/")], "d/a"), Err(LinkEscape::Absolute));
    }

    #[test]
    fn climbing_above_the_root_is_refused_even_to_come_back() {
        for (link, target) in [
            ("a", ".."),
            ("a", "../../outside"),
            ("d/a", "../../x"),
            ("d/a", "../d/../../x"),
            ("a", "../source/a"),
        ] {
            assert_eq!(
                judge(&[(link, target)], link),
                Err(LinkEscape::Outside),
                "{link} -> {target}"
            );
        }
    }

    #[test]
    fn links_on_the_way_are_followed() {
        // `up` is a directory link one level down; `..` after it climbs from where it
        // leads, not from where it sits.
        let tree = [("d/e/up", "../.."), ("d/e/x", "up/../y")];
        assert_eq!(judge(&tree, "d/e/x"), Err(LinkEscape::Outside));
        // An innocent-looking chain whose last link is absolute.
        let chain = [("a", "b/file"), ("b", "c"), ("c", "/etc")];
        assert_eq!(judge(&chain, "a"), Err(LinkEscape::Absolute));
        // And one that stays inside.
        let inside = [("a", "b/file"), ("b", "d/e"), ("d/e/file", "../f")];
        assert_eq!(judge(&inside, "a"), Ok(()));
    }

    #[test]
    fn loops_and_chains_longer_than_the_kernel_follows_are_refused() {
        assert_eq!(judge(&[("a", "a")], "a"), Err(LinkEscape::TooManyLinks));
        assert_eq!(
            judge(&[("a", "b"), ("b", "a")], "a"),
            Err(LinkEscape::TooManyLinks)
        );
        // l0 -> l1 -> … -> l(n-1) -> end: n links followed.
        let chain = |n: usize| -> Vec<(String, String)> {
            (0..n)
                .map(|i| {
                    let next = if i + 1 == n {
                        "end".to_owned()
                    } else {
                        format!("l{}", i + 1)
                    };
                    (format!("l{i}"), next)
                })
                .collect()
        };
        let judge_chain = |n: usize| {
            let links = chain(n);
            let pairs: Vec<(&str, &str)> = links
                .iter()
                .map(|(l, t)| (l.as_str(), t.as_str()))
                .collect();
            judge(&pairs, "l0")
        };
        assert_eq!(judge_chain(MAX_LINKS), Ok(()));
        assert_eq!(judge_chain(MAX_LINKS + 1), Err(LinkEscape::TooManyLinks));
    }

    #[test]
    fn a_target_that_doubles_at_every_link_is_cut_off_at_the_limit() {
        // Each link is 30 deep at most, within the limit, but followed naively l0
        // would visit l30 2^30 times: the count of links followed ends it.
        let links: Vec<(String, String)> = (0..30)
            .map(|i| (format!("l{i}"), format!("l{0}/../l{0}", i + 1)))
            .collect();
        let pairs: Vec<(&str, &str)> = links
            .iter()
            .map(|(l, t)| (l.as_str(), t.as_str()))
            .collect();
        assert_eq!(judge(&pairs, "l0"), Err(LinkEscape::TooManyLinks));
    }
}
