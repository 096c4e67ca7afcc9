//! Where a rebuild departed from the attestation: one variant per way it can, each
//! with what a person needs to look further.

use glassbox_core::digest::Sha256Digest;

use super::{LinkEscape, MissingDependency, ToolComparison};

/// Where a rebuild departed from the attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Divergence {
    /// The checkout is not the attested tree; the recipe was not run.
    SourceHash { expected: String, actual: String },
    /// The checked-out commit's root tree is not the attested gitTree — when the
    /// dirHash matched, a file mode, symbolic link or submodule pin differs; the
    /// recipe was not run.
    SourceTree { expected: String, actual: String },
    /// A symbolic link of the checkout leads, or may lead, out of it; the recipe was
    /// not run.
    SourceSymlink {
        path: String,
        target: String,
        escape: LinkEscape,
    },
    /// The recipe exited unsuccessfully (`status` is `None` when a signal ended it).
    BuildFailed {
        status: Option<i32>,
        stderr_tail: String,
    },
    /// The recipe ran past its time limit and was killed with its process group.
    TimedOut { seconds: u64 },
    /// The output, or a file the recipe wrote, passed the size limit.
    OutputTooLarge { limit: u64 },
    /// The recipe reached the process cap and was killed.
    TooManyProcesses { limit: u64 },
    /// The recipe's scratch directory grew past the disk limit and it was killed.
    DiskFull { limit: u64 },
    /// A declared build dependency is missing or at another version here; the recipe
    /// was not run.
    BuildDependencies { missing: Vec<MissingDependency> },
    /// No regular file at the recorded output path.
    OutputMissing { path: String },
    /// Built, not the attested bytes — and the toolchain is not the recorded one,
    /// which is named first because it is the likelier cause.
    Toolchain {
        differs: Vec<ToolComparison>,
        expected: Sha256Digest,
        actual: Sha256Digest,
    },
    /// Built, but not the attested bytes.
    OutputHash {
        expected: Sha256Digest,
        actual: Sha256Digest,
    },
}

impl Divergence {
    /// A stable machine-readable name of the stage that diverged.
    pub fn code(&self) -> &'static str {
        match self {
            Divergence::SourceHash { .. } => "source_hash",
            Divergence::SourceTree { .. } => "source_tree",
            Divergence::SourceSymlink { .. } => "source_symlink",
            Divergence::BuildFailed { .. } => "build_failed",
            Divergence::TimedOut { .. } => "timed_out",
            Divergence::OutputTooLarge { .. } => "output_too_large",
            Divergence::TooManyProcesses { .. } => "too_many_processes",
            Divergence::DiskFull { .. } => "disk_full",
            Divergence::BuildDependencies { .. } => "build_dependencies",
            Divergence::OutputMissing { .. } => "output_missing",
            Divergence::Toolchain { .. } => "toolchain",
            Divergence::OutputHash { .. } => "output_hash",
        }
    }
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Divergence::SourceHash { expected, actual } => write!(
                f,
                "source dirHash is {actual}, the attestation says {expected}; the recipe was not run"
            ),
            Divergence::SourceTree { expected, actual } => write!(
                f,
                "source gitTree is {actual}, the attestation says {expected} (gitTree also \
                 binds file modes, symbolic links and submodule pins, which dirHash omits); \
                 the recipe was not run"
            ),
            Divergence::SourceSymlink {
                path,
                target,
                escape,
            } => write!(
                f,
                "source symbolic link {path} -> {target} is refused: {escape}; \
                 the recipe was not run"
            ),
            Divergence::BuildFailed {
                status: Some(code),
                ..
            } => write!(f, "build command exited with status {code}"),
            Divergence::BuildFailed { status: None, .. } => {
                write!(f, "build command was killed by a signal")
            }
            Divergence::TimedOut { seconds } => write!(
                f,
                "build command ran longer than {seconds} s and was killed"
            ),
            Divergence::TooManyProcesses { limit } => write!(
                f,
                "build command reached the cap of {limit} processes and was killed"
            ),
            Divergence::DiskFull { limit } => write!(
                f,
                "build wrote more than the disk limit of {limit} bytes and was killed"
            ),
            Divergence::OutputTooLarge { limit } => {
                write!(f, "build output is larger than the limit of {limit} bytes")
            }
            Divergence::BuildDependencies { missing } => {
                write!(f, "the build environment is not the recorded one: ")?;
                for (i, m) in missing.iter().enumerate() {
                    write!(f, "{}{m}", if i == 0 { "" } else { "; " })?;
                }
                write!(f, "; the recipe was not run")
            }
            Divergence::Toolchain {
                differs,
                expected,
                actual,
            } => {
                write!(f, "the toolchain differs from the recorded one: ")?;
                for (i, t) in differs.iter().enumerate() {
                    write!(f, "{}{t}", if i == 0 { "" } else { "; " })?;
                }
                write!(
                    f,
                    "; and the build produced {actual}, the attestation says {expected}"
                )
            }
            Divergence::OutputMissing { path } => {
                write!(f, "build produced no regular file at {path}")
            }
            Divergence::OutputHash { expected, actual } => write!(
                f,
                "build produced {actual}, the attestation says {expected}"
            ),
        }
    }
}
