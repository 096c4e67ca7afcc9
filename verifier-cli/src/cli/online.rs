//! Arguments of the commands that talk to a log server (docs/design.md §7): submit, bundle,
//! verify, history, monitor. Each struct carries its command's long help and examples.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use glassbox_core::digest::{DigestError, Sha256Digest};

pub const SUBMIT_LONG: &str = "\
Send DSSE envelopes to a log server and keep the receipts.

For each ENVELOPE the server checks every signature against its key registry and
answers, once the entry is durably logged, with a receipt: {index, entry, tlogProof}.
The receipt is saved as FILE (-o, one envelope only) or beside the envelope
(`x.dsse.json` → `x.receipt.json`), and one line per envelope is printed:

    logged ENVELOPE at index N (new|already logged) → RECEIPT

With --log-vkey or --policy, the receipt's tlog-proof is checked — the log's signature
on its checkpoint, and the inclusion of exactly the submitted envelope — and a
`tlog-proof verified` line follows; a receipt that does not verify exits 1. Without
them the line says `tlog-proof not checked`.";
pub const SUBMIT_EXAMPLES: &str = "\
EXAMPLES:
    glassbox submit review.dsse.json --server http://127.0.0.1:8080
    glassbox submit build.dsse.json --server https://log.example.com --policy policy.toml -o build.receipt.json
    glassbox submit genesis.dsse.json reviewer.dsse.json --server http://127.0.0.1:8080 --json";

pub const BUNDLE_LONG: &str = "\
Download everything needed to verify one artifact offline: the log's latest signed
checkpoint, every build naming the artifact, the submissions and reviews of the
sources those builds name, and every key event, each with its proof of inclusion.
Nothing is checked here; `glassbox verify FILE --bundle BUNDLE --policy P` does that
later without a network. With --release the bundle also proves every other subject of
the builds naming the artifact (a release attested with `attest build --artifact
DIR`), so `glassbox verify DIR --bundle BUNDLE` verifies the whole release.";
pub const BUNDLE_EXAMPLES: &str = "\
EXAMPLES:
    glassbox bundle --artifact sha256:3f2c...e0 --server http://127.0.0.1:8080 -o app.bundle.json
    glassbox bundle --artifact \"$(glassbox hash file app | cut -d' ' -f1)\" --server https://log.example.com -o app.bundle.json
    glassbox bundle --release --artifact sha256:3f2c...e0 --server https://log.example.com -o release.bundle.json";

pub const VERIFY_LONG: &str = "\
Decide whether FILE was reproducibly built from source that reviewers you trust
approved (docs/design.md §6), and print the chain of evidence or every reason it fails.

Steps: hash FILE; get its bundle (--server, or --bundle offline); check the log's
signature and witness cosignatures on the checkpoint, and with [log] max_age in the
policy that the witness quorum cosigned it recently; relate it to the newest
checkpoint this client verified before (kept in the state directory): an older one
fails as stale, a larger one must be proven consistent (online, a server that does
not prove it fails verification; offline it is a warning); check that the evidence is
in log order and every entry's inclusion proof, signatures and the signer's
registration, role and revocation at its log position (a statement logged twice
counts at its first position); apply the policy: builder and reviewer quorums count
distinct organisations, the vendor's own never counts as independent, a trusted
reviewer's rejection stands even if its key is revoked later, a trusted builder who got
other bytes from the same source and recipe fails it; with a version 2 bundle, check
against the log's index commitment that the evidence holds every entry about the
artifact, its sources and the key registry (an entry left out fails, naming it; a
version 1 bundle warns that completeness is unproven).

With --rebuild, when only the builder quorum is missing (or nothing is): fetch
--source, check its dirHash and gitTree against the attested ones, re-run the recorded
recipe of a counted build in a scratch directory and compare the output's sha256 with
FILE's. A reproduction counts as one independent builder (you); a divergence fails
verification and names where it happened (with diffoscope installed its report is
saved beside the result).

Output: the first line is exactly VERIFIED or NOT VERIFIED; each failure follows on a
line starting `  ✗ `; then the chain (artifact, built by, source, reviewed, log,
witnesses, complete); warnings start `  ! `. --json prints the verdict object instead.
docs/verification.md lists every failure and what to do about it.

Releases: with several FILEs, a directory (every regular file under it; a symbolic
link counts as the file it leads to inside the directory, and one leading out of it is
listed as failed, not followed) or --digest sha256:HEX (an artifact you cannot
hash here), every item is checked and one table is printed — PATH, SHA256 (first 12
hex digits), VERDICT (verified, failed, not covered), SOURCE, REVIEWERS, BUILDERS,
REASON (failure codes; `attested as NAME` when a file under a directory verifies by
its digest but the build names it otherwise) — then one line `N verified, M failed, K
not covered`. A file no build names is listed as not covered. Identical digests are
fetched and checked once: online, one release bundle is fetched and reused for every
file it proves. Offline, each item uses the --bundle made for its digest, else one
proving it, else the first: one `glassbox bundle --release` of any file of a release
verifies all its files. --json prints {results: [the verdict object of each item,
with path, status, attestedAs, relativePath and pathDiffers], summary: {verified,
failed, notCovered}}. --rebuild takes one FILE only.

Archives: with --contents, each FILE must be an archive — tar (plain, gzip, xz, zstd),
zip or a Debian package, told by its first bytes — and is followed by a row per member,
ARCHIVE!/MEMBER, hashed as it streams out (nothing is unpacked). An archive some build
names vouches for its members; one no build names (VERDICT `archive`) passes when
every member verifies by its own digest. A link counts as the member it leads to; one
leading out of the archive fails its row. A member that would unpack outside the
directory (absolute, `..`, under a symbolic link), more than 100,000 members, more
unpacked bytes than --max-unpacked (default 100 times the archive, at least 256MiB),
or data after a tar archive's end refuses the archive (exit 2).

Images: with --oci, each directory FILE is an OCI image layout; its rows are the images
its index.json lists, oci:DIR:REF, each verified by its manifest digest after every
blob under it was checked against its descriptor (an altered blob refuses the layout,
exit 2). Without a layout, verify the registry's digest with --digest.

State: the newest verified checkpoint per log is kept in --state DIR (default
$XDG_DATA_HOME/glassbox or ~/.local/share/glassbox), locked while a verification
uses it. If the log shows a history inconsistent with it (a split view), verification
fails and both checkpoints and the proof are saved under DIR/evidence/; the path is
printed on stderr.

Exit status: 0 verified (every item, for a release), 1 not verified, 2 usage or I/O
error.";
pub const VERIFY_EXAMPLES: &str = "\
EXAMPLES:
    glassbox verify ./app --policy policy.toml --server https://log.example.com
    # A whole installed release, one row per file:
    glassbox verify /opt/app --policy policy.toml --server https://log.example.com
    glassbox verify /opt/app --policy policy.toml --bundle release.bundle.json --json
    # An image you cannot hash here, by its manifest digest:
    glassbox verify --digest sha256:3f2c...e0 --policy policy.toml --server https://log.example.com
    # A container image from an OCI image layout, by its manifest digest:
    glassbox verify app-image --oci --policy policy.toml --server https://log.example.com
    # A release tarball or a package, member by member:
    glassbox verify app-2.0.tar.gz --contents --policy policy.toml --server https://log.example.com
    glassbox verify app_2.0_amd64.deb --contents --policy policy.toml --bundle app.bundle.json
    glassbox verify ./app --policy policy.toml --bundle app.bundle.json --json
    glassbox verify ./app --policy policy.toml --server http://127.0.0.1:8080 --state ./glassbox-state
    glassbox verify ./app --policy policy.toml --server https://log.example.com \\
        --rebuild --source https://example.com/app.git";

pub const HISTORY_LONG: &str = "\
List the log's attestation history matching every filter given (the search API of
docs/api.md), following pagination to the last entry, in log order.

table: a header naming the columns, then one line per entry — index, integration
time, kind, signers, subject, digest, detail.
json: an array of the export endpoint's rows (GET /api/v1/export): index, kind,
integratedTime, signers, subjects, artifacts, the sources' repositories, commits and
dirHashes, leafHash, `statement` — the statement decoded: kind, product, version,
verdict, scope, findings, builder, sources — and `entry`, the logged DSSE envelope.
csv: exactly the export endpoint's CSV, written by the same function: a header line,
then the columns index,integratedTime,kind,signers,subjects,artifacts,repositories,
commits,dirHashes,leafHash,product,version,verdict,scope,findings,builder; CRLF line
ends, fields quoted per RFC 4180 where needed, multi-valued cells one value per line,
and a field starting with = + - @ TAB or CR gets a leading ' so spreadsheets do not
run it as a formula (json keeps the exact values).

--signer is repeatable, and --organisation NAME names every key the key registry
registered under NAME (spelled exactly as registered; any role, revoked keys
included): the history is then the union of those keys' histories, in log order,
each entry once. --repository matches a URL with and without a trailing `/` and
`.git`.

A search result shows what the server chose to show. With --policy and exactly one of
--artifact, --dirhash, --signer (repeatable) or --organisation, the history is proven
complete: the log's index lists every entry filed under that artifact, source or key
(for a signer: what it signed, and the key events registering or revoking it), with a
proof against the log's index commitment, the last entry of a checkpoint signed by the
log and cosigned by the policy's witnesses; for several keys, each key's list is
proven. For --organisation, the index's `registry` list (every key event) is proven
too, and the organisation's keys are read from exactly those events. The checkpoint
must be consistent with the newest one this client verified (--state, as for verify)
and is remembered. An entry the index lists that the search left out fails the
command (exit 1), naming it; the table ends with one `complete as of log size N` line
per proven list.";
pub const HISTORY_EXAMPLES: &str = "\
EXAMPLES:
    glassbox history --server https://log.example.com --repository https://example.com/app.git
    glassbox history --server https://log.example.com --artifact sha256:3f2c...e0 --format json
    glassbox history --server https://log.example.com --kind source-review \\
        --since 2026-01-01 --until 2026-03-31 --format csv > q1-reviews.csv
    # Everything a vendor's key ever did, proven complete:
    glassbox history --server https://log.example.com --policy policy.toml \\
        --signer 4e47d138a39c3f5a...
    # Everything an organisation's keys did, proven complete; two keys by their short IDs:
    glassbox history --server https://log.example.com --policy policy.toml \\
        --organisation \"App Vendor Inc\"
    glassbox history --server https://log.example.com --signer 4e47d138a39c --signer 9b01c2d3e4f5";

pub const MONITOR_LONG: &str = "\
Follow the log from where this client last stopped: fetch the latest checkpoint,
check the log's signature (and witness quorum with --policy), prove it consistent with
the newest checkpoint this client verified before, fetch every new entry from the
tiles, recompute the tree to prove each is in it, and check each entry's DSSE
signatures against the key registry as it stood at the entry's position (the registry
is replayed from the log's first key event). Entries touching a watched repository or
key are printed, one line each:

    INDEX  KIND  SIGNERS  SUBJECT

(every new entry when nothing is watched). Each round also rebuilds the log's index
(which entries are about each artifact, source, signer and the registry;
docs/formats/index.md) from the entries it reads, and checks every index commitment
the log appended: signed by the log key alone, covering every entry before it, with
the rebuilt root. A wrong commitment is a problem, with evidence saved. The position
and the rebuilt index are saved in the state directory after each round. --once makes one round (for cron); otherwise a round runs
every --interval seconds.

Witnesses (--witness URL, repeatable): each round also reads every witness's latest
cosigned checkpoint of the log (GET URL/checkpoint/ORIGIN), checks the log's signature
on it and compares it with the log's: the same size with a different root — or with
the log's kept checkpoint of that size (/api/v1/checkpoints) — or a size the log cannot
prove consistent with its own, is proof that the log showed someone a different
history. Both signed notes are saved as evidence. One line per witness follows the
status line:

    witness URL: STATUS size N (cosigned at T)

STATUS is current, behind, ahead, stuck, split-view, empty or unavailable. A witness
whose checkpoint is smaller than the log's and older than --witness-max-age seconds is
reported as stuck (a warning: the witness is down, or the log stopped showing it new
checkpoints); an unreachable witness is a warning too. Warnings start `  ! `.
--json prints each round as one JSON object per line instead.

Exit status: 1 on a split view (evidence saved under DIR/evidence/), a tree that does
not match its checkpoint, an entry whose signatures or signers do not check out, or a
wrong index commitment (evidence saved too);
2 on usage or I/O errors.";
pub const MONITOR_EXAMPLES: &str = "\
EXAMPLES:
    glassbox monitor --server https://log.example.com --policy policy.toml --once
    glassbox monitor --server https://log.example.com --log-vkey 'log.example.com+1a2b3c4d+AU...' \\
        --watch-repository https://example.com/app.git --watch-key 3b7e...9f --interval 300
    glassbox monitor --server https://log.example.com --policy policy.toml --once --json \\
        --witness https://w1.example --witness https://w2.example";

/// Default seconds one HTTP request may take.
const TIMEOUT: &str = "60";

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// DSSE envelope files, submitted in this order.
    #[arg(value_name = "ENVELOPE", required = true)]
    pub envelopes: Vec<PathBuf>,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Write the receipt to FILE (only with one ENVELOPE).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite existing receipt files. Without it, a receipt already saved for
    /// the same statement is kept, and any other file there is an error.
    #[arg(long)]
    pub force: bool,
    /// The log's C2SP verifier key, to check receipts against.
    #[arg(long, value_name = "VKEY", conflicts_with = "policy")]
    pub log_vkey: Option<String>,
    /// Trust policy whose log key receipts are checked against.
    #[arg(long, value_name = "POLICY.toml")]
    pub policy: Option<PathBuf>,
    /// Print the receipts as a JSON array instead of one line each.
    #[arg(long)]
    pub json: bool,
}

/// The log server to talk to.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Base URL of the log server.
    #[arg(long = "server", value_name = "URL")]
    pub url: String,
    /// Seconds one HTTP request may take.
    #[arg(long, value_name = "SECS", default_value = TIMEOUT)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// Artifact digest, `sha256:<hex>` or bare hex.
    #[arg(long, value_name = "sha256:…")]
    pub artifact: String,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Where to write the bundle.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// A release bundle: also prove every other subject of the artifact's builds, so
    /// that `verify DIR --bundle FILE` verifies every file of the release.
    #[arg(long)]
    pub release: bool,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("evidence").required(true).args(["server", "bundle"]))]
#[command(group = clap::ArgGroup::new("items").required(true).multiple(true).args(["files", "digests"]))]
pub struct VerifyArgs {
    /// The artifacts to verify: files, or directories (every regular file under
    /// them; a symbolic link counts as the file it leads to inside the directory, and
    /// one leading out is listed, not followed).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// An artifact you cannot hash here, by its digest (an image manifest digest, a
    /// digest from an advisory); repeatable.
    #[arg(long = "digest", value_name = "sha256:HEX", value_parser = parse_digest)]
    pub digests: Vec<Sha256Digest>,
    /// Trust policy (TOML): log key, witnesses, trusted reviewers and builders.
    #[arg(long, value_name = "POLICY.toml")]
    pub policy: PathBuf,
    /// Log server to fetch the bundle and consistency proofs from.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Verify offline from a bundle file (`glassbox bundle`); repeatable. Each
    /// artifact is checked against the bundle made for its digest, else the first one
    /// (a release bundle, which proves every subject of the release's builds).
    #[arg(long, value_name = "FILE")]
    pub bundle: Vec<PathBuf>,
    /// State directory holding the newest verified checkpoint per log.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Seconds one HTTP request may take.
    #[arg(long, value_name = "SECS", default_value = TIMEOUT)]
    pub timeout: u64,
    /// Rebuild from --source with the recipe of a counted build and require FILE's
    /// bytes; a reproduction counts as one independent builder ("you"). Attempted
    /// when the builder quorum is all that is missing, or nothing is. One FILE only.
    #[arg(long, requires = "source")]
    pub rebuild: bool,
    /// Source for --rebuild: a local repository path, or an https:// or file:// git URL.
    #[arg(long, value_name = "PATH|URL", requires = "rebuild")]
    pub source: Option<String>,
    /// Run the --rebuild without the bubblewrap sandbox (as you, in a scratch
    /// directory, with your files and the network in reach, not at the recorded build
    /// path): only for recipes you trust, on a machine without bwrap.
    #[arg(long, requires = "rebuild")]
    pub no_sandbox: bool,
    /// Each directory FILE is an OCI image layout (oci-layout, index.json, blobs/):
    /// verify each image it holds by its manifest digest, after checking every blob
    /// under it against its digest.
    #[arg(long, conflicts_with = "rebuild")]
    pub oci: bool,
    /// Also verify every member of each archive FILE — tar (plain, .gz, .xz,
    /// .zst), zip, or Debian package (the files it installs, its control files as
    /// DEBIAN/…) — read as a stream, never unpacked. The archive passes when each
    /// member verifies, by a build naming it or by the archive's own build.
    #[arg(long, conflicts_with = "rebuild")]
    pub contents: bool,
    /// With --contents: bytes one archive may unpack to (a compression bomb stops
    /// there) [default: 100 times the archive's size, at least 256MiB]. Suffixes
    /// KiB, MiB, GiB (K, M, G mean the same).
    #[arg(long, value_name = "BYTES", requires = "contents", value_parser = parse_size)]
    pub max_unpacked: Option<u64>,
    /// Print the verdict as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--max-unpacked`: a byte count, with an optional binary suffix.
fn parse_size(text: &str) -> Result<u64, String> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let not_a_size = || format!("{text:?} is not a size: give bytes, e.g. 4GiB or 1073741824");
    if digits.is_empty() {
        return Err(not_a_size());
    }
    let shift = match &text[digits.len()..] {
        "" | "B" => 0,
        "K" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        "T" | "TiB" => 40,
        other => {
            return Err(format!(
                "unknown size suffix {other:?}; use KiB, MiB, GiB or TiB"
            ))
        }
    };
    let count: u64 = digits.parse().map_err(|_| not_a_size())?;
    count
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text} is too large"))
}

/// `--digest`: `sha256:<hex>` or bare hex.
fn parse_digest(text: &str) -> Result<Sha256Digest, String> {
    text.parse().map_err(|e: DigestError| e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Built artifact digest (build subjects).
    #[arg(long, value_name = "sha256:…")]
    pub artifact: Option<String>,
    /// Repository URL; a trailing `/` or `.git` does not matter
    /// (https://git.example/app matches https://git.example/app.git/).
    #[arg(long, value_name = "URL")]
    pub repository: Option<String>,
    /// Git commit ID of a source.
    #[arg(long, value_name = "COMMIT")]
    pub commit: Option<String>,
    /// dirHash of a source.
    #[arg(long, value_name = "HEX")]
    pub dirhash: Option<String>,
    /// Key ID of any signer (also matches key events about the key): all 64 hex
    /// digits, or the first few (as the tables print them) when they name one
    /// registered key. Repeatable: the union of the keys' histories.
    #[arg(long, value_name = "KEYID")]
    pub signer: Vec<String>,
    /// Organisation, spelled exactly as registered (see the log's /keys page):
    /// the histories of every key registered under it, any role, revoked ones
    /// included.
    #[arg(long, value_name = "NAME", conflicts_with = "signer")]
    pub organisation: Option<String>,
    /// Entry kind.
    #[arg(long, value_parser = ["source-submission", "source-review", "build", "key-event"])]
    pub kind: Option<String>,
    /// Integrated at or after this time: RFC 3339 (2026-12-03T09:30:00Z), a
    /// date-time read as UTC (2026-12-03T09:30:00) or a date (from its start, UTC).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Integrated at or before this time, as --since; a date includes the whole day.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: HistoryFormat,
    /// Prove the history complete with the log's index, trusting the log and
    /// witnesses of this policy: with exactly one of --artifact, --dirhash, --signer
    /// (repeatable) or --organisation, and no other filter. Each key's answer is
    /// checked as `verify` checks a bundle (signature, witness quorum, max_age,
    /// consistency with --state) and every entry the index lists must be in the
    /// result; for --organisation, the registry's list proves which key events the
    /// organisation's keys are read from.
    #[arg(long, value_name = "POLICY.toml")]
    pub policy: Option<PathBuf>,
    /// State directory (the newest checkpoint this client verified), with --policy.
    #[arg(long, value_name = "DIR", requires = "policy")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("trust").required(true).args(["policy", "log_vkey"]))]
pub struct MonitorArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// State directory (position, newest verified checkpoint).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// One round, then exit.
    #[arg(long)]
    pub once: bool,
    /// Print new entries about this repository URL (repeatable).
    #[arg(long, value_name = "URL")]
    pub watch_repository: Vec<String>,
    /// Print new entries signed by, or registering or revoking, this key ID (repeatable).
    #[arg(long, value_name = "KEYID")]
    pub watch_key: Vec<String>,
    /// Seconds between rounds.
    #[arg(long, value_name = "SECS", default_value = "60")]
    pub interval: u64,
    /// Trust policy: log key and witness quorum.
    #[arg(long, value_name = "POLICY.toml")]
    pub policy: Option<PathBuf>,
    /// The log's C2SP verifier key (instead of --policy).
    #[arg(long, value_name = "VKEY")]
    pub log_vkey: Option<String>,
    /// A witness of the log, to compare its latest cosigned checkpoint with the
    /// log's (repeatable).
    #[arg(long = "witness", value_name = "URL")]
    pub witnesses: Vec<String>,
    /// Seconds after which a witness lagging behind the log is reported as stuck.
    #[arg(long, value_name = "SECS", default_value = "3600")]
    pub witness_max_age: u64,
    /// Print each round as one JSON object per line.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_take_binary_suffixes_and_refuse_the_rest() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert!(parse_size("5GB")
            .unwrap_err()
            .contains("use KiB, MiB, GiB or TiB"));
        assert!(parse_size("lots").unwrap_err().contains("is not a size"));
        assert!(parse_size("99999999999TiB")
            .unwrap_err()
            .contains("too large"));
    }
}
