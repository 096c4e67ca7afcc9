//! The command-line surface of `glassbox` (docs/design.md §7) as clap derive types.
//!
//! Only definitions live here: each command's `--help` text, with an EXAMPLES section,
//! and the parsed arguments handed to `commands::*`. A new command is one variant of
//! [`Command`] plus one module under `src/commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod online;
mod rebuild;
pub use online::*;
pub use rebuild::*;

/// Attest, submit, verify and rebuild against a Glassbox source-code transparency log.
#[derive(Debug, Parser)]
#[command(
    name = "glassbox",
    version,
    long_about = "\
glassbox is the client of a Glassbox source-code transparency log.

Vendors attest which source tree is a release, reviewers attest what they audited,
builders attest which binary they built from which source; each statement is a DSSE
envelope signed with an Ed25519 participant key and is made permanent in the log.

The offline commands (key, hash, attest, inspect, completions) need no server;
submit, bundle, verify --server, history and monitor talk to a log server.

Exit status: 0 success, 1 verification failed, 2 usage or I/O error (the cause is
printed on one line: `glassbox: error: <cause>`).",
    after_long_help = "\
EXAMPLES:
    glassbox key generate --out vendor.pem
    glassbox hash tree --repo . --rev v1.2.0
    glassbox attest source --repo . --rev v1.2.0 --repository-url https://example.com/app.git \\
        --product app --version 1.2.0 --key vendor.pem -o source.dsse.json
    glassbox inspect source.dsse.json --key vendor.pem.pub
    glassbox submit source.dsse.json --server http://127.0.0.1:8080
    glassbox verify ./app --policy policy.toml --server http://127.0.0.1:8080"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process; boxing the larger variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a participant key or print a key's ID.
    #[command(subcommand)]
    #[command(
        long_about = "\
Generate Ed25519 participant keys and print key IDs.

A key ID is the lowercase hex SHA-256 of the 32-byte public key; it is the DSSE
`keyid` of every signature the key makes and the name the log's key registry uses.",
        after_long_help = "\
EXAMPLES:
    glassbox key generate --out reviewer.pem
    glassbox key id reviewer.pem.pub"
    )]
    Key(KeyCommand),

    /// Compute artifact digests and source-tree identities.
    #[command(subcommand)]
    #[command(
        long_about = "\
Compute the digests attestations name: `sha256:<hex>` for artifacts, and the source
identity {gitCommit, gitTree, dirHash} for source trees.",
        after_long_help = "\
EXAMPLES:
    glassbox hash file target/release/app
    glassbox hash tree ./app-1.2.0
    glassbox hash tree --repo . --rev v1.2.0 --json"
    )]
    Hash(HashCommand),

    /// Create and sign an attestation (a DSSE envelope) offline.
    #[command(subcommand)]
    #[command(
        long_about = "\
Create an in-toto Statement, sign it into a DSSE envelope with your key, and write
the envelope to a file (-o) or stdout. Nothing is sent anywhere: submit the envelope
to a log afterwards.

Timestamps are the current time in UTC (RFC 3339, whole seconds); --time sets them
explicitly so the same inputs give byte-identical envelopes.",
        after_long_help = "\
EXAMPLES:
    glassbox attest source --repo . --rev v1.2.0 --repository-url https://example.com/app.git \\
        --product app --version 1.2.0 --key vendor.pem -o source.dsse.json
    glassbox attest review --repo . --rev v1.2.0 --repository-url https://example.com/app.git \\
        --verdict approved --report audit.pdf --key reviewer.pem -o review.dsse.json"
    )]
    Attest(AttestCommand),

    /// Show what an envelope, checkpoint, proof, receipt or bundle holds.
    #[command(
        long_about = "\
Detect what FILE is — a DSSE envelope, a signed note or checkpoint, a C2SP tlog-proof,
a receipt or a bundle — and print its contents in readable form.

With --key (participant public key, for envelopes) or --vkey (signed-note verifier
key, for checkpoints and proofs) it also says whether the signatures verify, and for
a receipt or bundle whether each entry's inclusion proof leads to the checkpoint. If
keys are given and nothing verifies, or any checked signature or proof fails, the
exit status is 1. inspect never contacts a log and applies no trust policy.",
        after_long_help = "\
EXAMPLES:
    glassbox inspect review.dsse.json --key reviewer.pem.pub
    glassbox inspect checkpoint.txt --vkey 'log.example.com+1a2b3c4d+AU...'
    glassbox inspect app.bundle.json --json"
    )]
    Inspect(InspectArgs),

    /// Print a shell completion script.
    #[command(
        long_about = "\
Print the completion script for SHELL on stdout. Load it from your shell's startup
file or install it where your shell looks for completions.",
        after_long_help = "\
EXAMPLES:
    glassbox completions bash > ~/.local/share/bash-completion/completions/glassbox
    glassbox completions zsh > ~/.zfunc/_glassbox
    glassbox completions fish > ~/.config/fish/completions/glassbox.fish"
    )]
    Completions(CompletionsArgs),

    /// Submit envelopes to a log and save the receipts.
    #[command(long_about = SUBMIT_LONG, after_long_help = SUBMIT_EXAMPLES)]
    Submit(SubmitArgs),

    /// Download the offline verification bundle of an artifact.
    #[command(long_about = BUNDLE_LONG, after_long_help = BUNDLE_EXAMPLES)]
    Bundle(BundleArgs),

    /// Verify an artifact against a trust policy (online or from a bundle).
    #[command(long_about = VERIFY_LONG, after_long_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),

    /// Query the log's attestation history (table, JSON or CSV).
    #[command(long_about = HISTORY_LONG, after_long_help = HISTORY_EXAMPLES)]
    History(HistoryArgs),

    /// Follow the log: prove consistency, check new entries, report watched ones.
    #[command(long_about = MONITOR_LONG, after_long_help = MONITOR_EXAMPLES)]
    Monitor(MonitorArgs),

    /// Rebuild a commit with a recipe in a sandbox and compare the output's sha256.
    #[command(
        long_about = "\
Clone the source (a local repository path, or an https:// or file:// git URL) into a
fresh scratch directory and check out REV detached (no hooks, no submodules, no
checkout filters). BEFORE running anything, check the checkout's dirHash against
--expect-dir-hash and the commit's root tree ID against --expect-git-tree (dirHash
covers regular files' paths and contents only; the tree also binds executable bits,
symbolic links and submodule pins), and refuse a checkout holding a symbolic link
that leads out of it (an absolute target, or one climbing above the source root).
Every file, directory and link then gets the commit time as its modification time,
so make-based builds see no generated file older than its input. Each --build-dep
must be installed at its version (dpkg-query), or nothing runs.

Then `/bin/sh -c CMD` runs in the bubblewrap sandbox (`bwrap`, Debian package
bubblewrap): the checkout at --build-path (default /build/src, the same on every
rebuilder, so a build path embedded in the output does not differ), the working
directory --workdir inside it, /usr, /etc, /opt and /bin, /sbin, /lib* read-only,
HOME=/home/builder, /tmp and /dev/shm writable but inside the scratch directory,
nothing else writable, no network (its own loopback only), its own PID, IPC and UTS
namespaces, a new session. Run as root, the command runs as an unprivileged user of
its own with no capabilities. The environment is only PATH=/usr/bin:/bin, HOME,
TMPDIR, SOURCE_DATE_EPOCH (the commit time) and the --env variables. Stdin is closed.
Limits: --timeout seconds, then everything is killed; no file larger than
--max-output-bytes; at most --max-processes processes; at most --max-disk-bytes in
the scratch directory, checked every 200 ms. Without bwrap the rebuild is refused;
--no-sandbox runs the command as you in <scratch>/source instead, with your files
and the network in reach — only for recipes you trust.

The output path must be relative, without `..`, and must resolve inside the checkout.
With --expect-tool NAME=SHA256 (as `attest build --tool` records it), the tool the
recipe's PATH finds here is compared; when the output differs and a tool differs too,
the report says so first (stage `toolchain`). When the output differs and --attested
FILE is given, diffoscope (if installed) writes a report into the scratch directory,
which is kept whenever the rebuild diverges.

--vary finds what leaks into the output before you attest it: it builds twice, the
second time in another scratch directory with TZ, LANG/LC_ALL, umask, hostname and
(with the faketime package installed, unless --vary-keep-clock: libfaketime hangs
jemalloc-linked programs such as rustc) the wall clock changed (anything the recipe
sets with --env is held, as are the build path and SOURCE_DATE_EPOCH), says what was
varied and held, and
whether the outputs agree (STABLE, exit 0) or not (VARIES, exit 1; with diffoscope
installed, a report of where). Both scratch directories are kept unless they agree.

Exit status: 0 reproduced (or built, without --expect), 1 diverged (the report says
where: source hash, source tree, source symlink, build dependencies, build exit
status, timeout, too many processes, disk full, output missing, output too large,
toolchain, output hash), 2 usage or I/O error (also: bwrap missing).",
        after_long_help = "\
EXAMPLES:
    glassbox rebuild --source https://example.com/app.git --rev 3f2a9c1e... \\
        --command 'make app' --output-path app --expect sha256:9f86d0...
    glassbox rebuild --source . --rev v1.2.0 --command 'cat a b > out' --output-path out \\
        --env LC_ALL=C --timeout 600 --json
    glassbox rebuild --source https://example.com/app.git --rev 3f2a9c1e... \\
        --expect-dir-hash 2165d5c0... --expect-git-tree 8e4b2f07... \\
        --command 'sh build.sh' --output-path dist/app --expect sha256:9f86d0...
    glassbox rebuild --source hello.git --rev v2.10 --command './configure && make' \\
        --output-path hello --build-path /build/src --build-dep help2man=1.49.3 \\
        --expect-tool cc=5d41402a... --expect sha256:9f86d0... --attested hello
    glassbox rebuild --source . --rev HEAD --command 'make' --output-path app --vary
    glassbox rebuild --source . --rev HEAD --command 'cargo build --release --offline' \\
        --output-path target/release/app --sandbox-ro /root/.cargo --sandbox-ro /root/.rustup \\
        --env PATH=/root/.cargo/bin:/usr/bin:/bin --max-processes 256 --max-disk-bytes 8000000000"
    )]
    Rebuild(RebuildArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a new Ed25519 key pair; print its key ID.
    #[command(
        long_about = "\
Create a new Ed25519 key: FILE receives the private key (PKCS#8 PEM, mode 0600) and
FILE.pub the public key (PEM SubjectPublicKeyInfo). Neither file may exist already.
Prints the key ID. Give FILE.pub to the log operator to have the key registered.",
        after_long_help = "\
EXAMPLES:
    glassbox key generate --out vendor.pem
    glassbox key generate --out builder.pem --json"
    )]
    Generate(KeyGenerateArgs),

    /// Print the key ID of a private or public key file.
    #[command(
        long_about = "\
Print the key ID (lowercase hex SHA-256 of the Ed25519 public key) of FILE, which may
hold a private key (PKCS#8 PEM) or a public key (PEM SubjectPublicKeyInfo).",
        after_long_help = "\
EXAMPLES:
    glassbox key id vendor.pem
    glassbox key id vendor.pem.pub --json"
    )]
    Id(KeyIdArgs),
}

#[derive(Debug, Args)]
pub struct KeyGenerateArgs {
    /// Private key file to create; the public key goes to FILE.pub (`-o` and
    /// `--output` as for every other command that writes a file).
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "out",
        value_name = "FILE"
    )]
    pub out: PathBuf,
    /// Print {"keyId", "privateKey", "publicKey"} as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct KeyIdArgs {
    /// Private or public key file (PEM).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print {"keyId"} as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum HashCommand {
    /// Print the SHA-256 digest of files.
    #[command(
        long_about = "\
Print `sha256:<hex>  FILE` for each FILE, in the order given; the digest is what build
attestations name as the artifact. Files are streamed and hashed in parallel.",
        after_long_help = "\
EXAMPLES:
    glassbox hash file target/release/app
    glassbox hash file dist/*.tar.gz --json"
    )]
    File(HashFileArgs),

    /// Print the source identity (dirHash, gitCommit, gitTree) of a tree.
    #[command(
        long_about = "\
Print the dirHash of a source tree (docs/design.md §2): SHA-256 over the lines
`<sha256 of file>  <path>` of every regular file, sorted by path bytes. It equals

    find . -type f | cut -c3- | LC_ALL=C sort | xargs -d '\\n' -r sha256sum | sha256sum

run in a checkout without its .git directory.

With DIR, walks the directory: regular files only (symbolic links are neither
followed nor hashed), and every entry named `.git` is skipped. Git can never track a
`.git` path, so a checkout hashes the same with or without its repository, and the
same as the commit it came from.

With --repo and --rev, reads the commit straight from the repository (no checkout, a
bare repository works): blobs of mode 100644/100755; symbolic links and submodules are
skipped. Also prints gitCommit and gitTree.

Paths are relative, with `/` separators; a path that is not UTF-8 or contains a
newline is an error.",
        after_long_help = "\
EXAMPLES:
    glassbox hash tree ./app-1.2.0
    glassbox hash tree --repo . --rev v1.2.0
    glassbox hash tree --repo /srv/git/app.git --rev 3f2c1e0 --json"
    )]
    Tree(HashTreeArgs),
}

#[derive(Debug, Args)]
pub struct HashFileArgs {
    /// Files to hash.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Print [{"path", "digest"}] as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("tree").required(true).args(["dir", "repo"]))]
pub struct HashTreeArgs {
    /// Directory to hash.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Git repository to read the commit from (working tree or bare).
    #[arg(long, value_name = "PATH", requires = "rev")]
    pub repo: Option<PathBuf>,
    /// Revision to hash: commit ID, tag, branch or any git revision expression.
    #[arg(long, value_name = "REV", requires = "repo")]
    pub rev: Option<String>,
    /// Print {"dirHash", "gitCommit", "gitTree"} as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// A vendor's claim: this source tree is release VERSION of PRODUCT.
    #[command(
        long_about = "\
Sign a source-submission attestation (predicate https://glassbox.dev/source-submission/v1):
the vendor's claim that the commit REV of the repository is the source of a release,
so that the log shows sources submitted but never reviewed. The subject is the
repository URL with the digest set {gitCommit, gitTree, dirHash}, computed from the
repository without a checkout. --scope and --notes say what reviewers are asked to
look at. Signed by a vendor key.",
        after_long_help = "\
EXAMPLES:
    glassbox attest source --repo . --rev v1.2.0 --repository-url https://example.com/app.git \\
        --product app --version 1.2.0 --key vendor.pem -o source.dsse.json
    glassbox attest source --repo . --rev v1.2.0 --repository-url https://example.com/app.git \\
        --product app --version 1.2.0 --scope src/crypto --scope src/net \\
        --time 2025-01-31T12:00:00Z --key vendor.pem > source.dsse.json"
    )]
    Source(AttestSourceArgs),

    /// A reviewer's verdict on a source tree.
    #[command(
        long_about = "\
Sign a source-review attestation (predicate https://glassbox.dev/source-review/v1): the
reviewer's verdict on the commit REV of the repository, the scope reviewed, a findings
summary and the SHA-256 of the review report. The subject is the repository URL with
the digest set {gitCommit, gitTree, dirHash}. Signed by a reviewer key.",
        after_long_help = "\
EXAMPLES:
    glassbox attest review --repo . --rev v1.2.0 --repository-url https://example.com/app.git \\
        --verdict approved --report audit.pdf --key reviewer.pem -o review.dsse.json
    glassbox attest review --repo . --rev v1.2.0 --repository-url https://example.com/app.git \\
        --verdict approved-with-findings --scope src/crypto --scope src/tls \\
        --findings '2 low-severity issues, see report' --key reviewer.pem -o review.dsse.json"
    )]
    Review(AttestReviewArgs),

    /// A builder's claim: this artifact was built from this source, this way.
    #[command(
        long_about = "\
Sign a build attestation (SLSA provenance v1, https://slsa.dev/provenance/v1). The
subject is the artifact's name with its sha256; --artifact DIR (a release) makes one
subject per regular file under DIR, named by its path relative to DIR (`/`-separated,
sorted), symbolic links left out and named on stderr; --artifact DIR --oci (an OCI
image layout) makes one subject per image of its index.json, its manifest digest named
by its ref name, after checking every blob under it. resolvedDependencies holds the source
(repository URL + {gitCommit, gitTree, dirHash}); externalParameters hold the recipe —
command, working directory, output path, toolchain, environment, build path
(--build-path) and Debian build dependencies with their versions (--build-dep) — so
anyone can re-run the build; internalParameters.toolchain records each --tool as the
recipe's PATH resolves it here (path, sha256, first line of --version), so a
rebuilder whose compiler differs learns it before comparing bytes;
runDetails.builder.id names the builder. Signed by a vendor or builder key.",
        after_long_help = "\
EXAMPLES:
    glassbox attest build --artifact target/release/app --repo . --rev v1.2.0 \\
        --repository-url https://example.com/app.git --command 'cargo build --release --locked' \\
        --output-path target/release/app --builder-id https://builder.example.com \\
        --toolchain rust:1.89 --env SOURCE_DATE_EPOCH=1700000000 --key builder.pem -o build.dsse.json
    glassbox attest build --artifact hello --repo . --rev v2.10 \\
        --repository-url https://example.com/hello.git --command './configure && make' \\
        --output-path hello --build-path /build/src --build-dep help2man --tool cc --tool ld \\
        --builder-id https://builder.example.com --key builder.pem -o build.dsse.json
    # A release: every file under dist/ in one envelope
    glassbox attest build --artifact dist --repo . --rev v1.2.0 \\
        --repository-url https://example.com/app.git --command 'make dist' --output-path dist \\
        --builder-id https://builder.example.com --key builder.pem -o release.dsse.json
    # A container image, by its manifest digest, from an OCI image layout
    glassbox attest build --artifact app-image --oci --repo . --rev v1.2.0 \
        --repository-url https://example.com/app.git --command 'make image' \
        --output-path app-image --builder-id https://builder.example.com --key builder.pem \
        -o image.dsse.json"
    )]
    Build(AttestBuildArgs),

    /// An operator's key event: register or revoke a participant key.
    #[command(
        long_about = "\
Sign a key event (predicate https://glassbox.dev/key-event/v1) with an operator key.

--register PUB accredits the key in PUB under a name, an organisation and roles
(vendor, reviewer, builder, operator). --revoke PUB withdraws it from its log position
on; --compromised-since additionally invalidates its earlier attestations whose own
timestamp is at or after that instant.

--self-signed makes the genesis registration: the log's first key event registers an
operator key signed by that same key (PUB must be the public half of --key and the
roles must include operator). Every later key event is signed by a registered operator.",
        after_long_help = "\
EXAMPLES:
    glassbox attest key --self-signed --register operator.pem.pub --name 'Log operator' \\
        --organisation 'Example Log' --roles operator --key operator.pem -o genesis.dsse.json
    glassbox attest key --register reviewer.pem.pub --name 'Alice Audit' \\
        --organisation 'Audit GmbH' --roles reviewer --key operator.pem -o register.dsse.json
    glassbox attest key --revoke reviewer.pem.pub --reason 'laptop stolen' \\
        --compromised-since 2025-03-01T00:00:00Z --key operator.pem -o revoke.dsse.json"
    )]
    Key(AttestKeyArgs),
}

/// The source tree an attestation names.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Git repository holding the source (working tree or bare; no checkout needed).
    #[arg(long, value_name = "PATH")]
    pub repo: PathBuf,
    /// Revision: commit ID, tag, branch or any git revision expression.
    #[arg(long, value_name = "REV")]
    pub rev: String,
    /// Public URL of the repository, recorded as the subject name.
    #[arg(long, value_name = "URL")]
    pub repository_url: String,
}

/// How an attestation is signed and where it goes.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Private key to sign with (PKCS#8 PEM).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Write the envelope to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite FILE if it exists.
    #[arg(long, requires = "output")]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct AttestSourceArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Product name.
    #[arg(long, value_name = "P")]
    pub product: String,
    /// Release version.
    #[arg(long, value_name = "V")]
    pub version: String,
    /// A path reviewers are asked to look at (repeatable); without it, the whole tree.
    #[arg(long, value_name = "PATH")]
    pub scope: Vec<String>,
    /// Notes for reviewers.
    #[arg(long, value_name = "TEXT")]
    pub notes: Option<String>,
    /// Timestamp to record instead of now (RFC 3339), for reproducible envelopes.
    #[arg(long, value_name = "RFC3339")]
    pub time: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VerdictArg {
    Approved,
    ApprovedWithFindings,
    Rejected,
}

#[derive(Debug, Args)]
pub struct AttestReviewArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The review's verdict.
    #[arg(long, value_enum)]
    pub verdict: VerdictArg,
    /// A path that was reviewed (repeatable); without it the scope is "full".
    #[arg(long, value_name = "PATH")]
    pub scope: Vec<String>,
    /// Summary of the findings.
    #[arg(long, value_name = "TEXT")]
    pub findings: Option<String>,
    /// Review report whose SHA-256 is recorded.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Timestamp to record instead of now (RFC 3339), for reproducible envelopes.
    #[arg(long, value_name = "RFC3339")]
    pub time: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Args)]
pub struct AttestBuildArgs {
    /// The built file, whose SHA-256 is the subject digest; or a build output
    /// directory, whose every regular file is a subject named by its path under it.
    #[arg(long, value_name = "FILE|DIR")]
    pub artifact: PathBuf,
    /// Subject name of the artifact [default: the file name of --artifact].
    #[arg(long, value_name = "NAME")]
    pub artifact_name: Option<String>,
    /// --artifact DIR is an OCI image layout (oci-layout, index.json, blobs/): one
    /// subject per image of its index.json, its manifest digest, named by its
    /// org.opencontainers.image.ref.name. Every blob under each image is checked
    /// against its digest first.
    #[arg(long)]
    pub oci: bool,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub recipe: RecipeArgs,
    /// Toolchain or container image the build ran in (e.g. a digest).
    #[arg(long, value_name = "ID")]
    pub toolchain: Option<String>,
    /// A tool the build ran (repeatable, e.g. cc, ld, rustc): found on the recipe's
    /// PATH here, recorded with its path, SHA-256 and `--version` line in
    /// internalParameters.toolchain.
    #[arg(long = "tool", value_name = "NAME")]
    pub tools: Vec<String>,
    /// URI naming the builder (runDetails.builder.id).
    #[arg(long, value_name = "ID")]
    pub builder_id: String,
    /// When the build finished (RFC 3339) instead of now: runDetails.metadata.finishedOn.
    #[arg(long, value_name = "RFC3339")]
    pub time: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("event").required(true).args(["register", "revoke"]))]
pub struct AttestKeyArgs {
    /// Public key file (or private key, whose public half is used) to register.
    #[arg(long, value_name = "PUB", requires_all = ["name", "organisation", "roles"])]
    pub register: Option<PathBuf>,
    /// Public key file (or private key) to revoke.
    #[arg(
        long,
        value_name = "PUB",
        requires = "reason",
        conflicts_with = "self_signed"
    )]
    pub revoke: Option<PathBuf>,
    /// Display name of the participant.
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// Organisation of the participant.
    #[arg(long, value_name = "O")]
    pub organisation: Option<String>,
    /// Roles granted, comma-separated: vendor, reviewer, builder, operator.
    #[arg(long, value_name = "ROLES", value_delimiter = ',', value_enum)]
    pub roles: Vec<RoleArg>,
    /// Why the key is revoked.
    #[arg(long, value_name = "R")]
    pub reason: Option<String>,
    /// The key is considered compromised from this instant (RFC 3339).
    #[arg(long, value_name = "RFC3339", requires = "revoke")]
    pub compromised_since: Option<String>,
    /// Genesis operator registration: PUB is the public half of --key.
    #[arg(long, requires = "register")]
    pub self_signed: bool,
    /// When the operator signs the event (RFC 3339) instead of now: `registeredAt` or
    /// `revokedAt`. A later compromise revocation of the operator's own key voids the
    /// registrations it signed at or after the compromise.
    #[arg(long, value_name = "RFC3339")]
    pub time: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Vendor,
    Reviewer,
    Builder,
    Operator,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Envelope, signed note, checkpoint, tlog-proof, receipt or bundle.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Participant public key to check DSSE signatures against (repeatable).
    #[arg(long, value_name = "PUB")]
    pub key: Vec<PathBuf>,
    /// Signed-note verifier key (name+hash+base64) to check note signatures (repeatable).
    #[arg(long, value_name = "VKEY")]
    pub vkey: Vec<String>,
    /// Print the decoded contents as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to generate completions for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_long_help_and_examples() {
        fn check(cmd: &clap::Command, path: &str) {
            let path = format!("{path} {}", cmd.get_name());
            assert!(cmd.get_long_about().is_some(), "{path}: no long_about");
            let examples = cmd.get_after_long_help().map(|s| s.to_string());
            assert!(
                examples.is_some_and(|s| s.starts_with("EXAMPLES:")),
                "{path}: no EXAMPLES"
            );
            for sub in cmd.get_subcommands() {
                check(sub, &path);
            }
        }
        check(&Cli::command(), "");
    }

    /// docs/cli.md has a section, `## glassbox <command>`, for every command that
    /// does something (not for groups like `key`, nor for `help`).
    #[test]
    fn every_command_has_a_section_in_the_cli_docs() {
        fn leaves(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name()).trim().to_owned();
            let subs: Vec<_> = cmd
                .get_subcommands()
                .filter(|s| s.get_name() != "help")
                .collect();
            for sub in &subs {
                leaves(sub, &path, out);
            }
            if subs.is_empty() {
                out.push(path);
            }
        }
        let docs = include_str!("../../docs/cli.md");
        let mut commands = Vec::new();
        leaves(&Cli::command(), "", &mut commands);
        assert!(commands.len() > 10, "{commands:?}");
        let missing: Vec<&String> = commands
            .iter()
            .filter(|c| !docs.lines().any(|l| l == format!("## {c}")))
            .collect();
        assert!(
            missing.is_empty(),
            "docs/cli.md has no section for {missing:?}"
        );
    }
}
