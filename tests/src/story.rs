//! The Glassbox story, step by step, with the real binaries (docs/design.md §1, §6):
//! the operator accredits a reviewer, a vendor and an independent rebuilder; the
//! vendor submits a source commit; the reviewer reviews it; vendor and rebuilder each
//! build it and attest the artifact; the customer verifies the artifact.
//!
//! Every step is a method, so failure scenarios can leave one out or change it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::cli::{Glassbox, Run};
use crate::http;
use crate::repo::{self, BUILD_COMMAND, OUTPUT_PATH};
use crate::server::Server;

/// The repository URL every attestation names (the source itself is a local clone).
pub const REPOSITORY_URL: &str = "https://git.example.com/app.git";
/// Fixed timestamps keep the envelopes byte-identical between runs.
pub const SUBMITTED_AT: &str = "2025-01-02T00:00:00Z";
pub const REVIEWED_AT: &str = "2025-01-03T00:00:00Z";
pub const BUILT_AT: &str = "2025-01-04T00:00:00Z";

/// A participant: key file names relative to the story directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Reviewer,
    Vendor,
    Rebuilder,
    /// A second reviewer, registered only where a scenario needs one more entry.
    Auditor,
}

impl Who {
    pub fn key(self) -> &'static str {
        match self {
            Who::Reviewer => "reviewer.pem",
            Who::Vendor => "vendor.pem",
            Who::Rebuilder => "rebuilder.pem",
            Who::Auditor => "auditor.pem",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Who::Reviewer => "reviewer",
            Who::Vendor => "vendor",
            Who::Rebuilder => "rebuilder",
            Who::Auditor => "auditor",
        }
    }
    fn registration(self) -> (&'static str, &'static str, &'static str) {
        // (display name, organisation, roles)
        match self {
            Who::Reviewer => ("Rita Reviewer", "Independent Audit Ltd", "reviewer"),
            Who::Vendor => ("Vendor CI", "App Vendor Inc", "vendor"),
            Who::Rebuilder => ("Rebuilder", "Reproducible Rebuilds e.V.", "builder"),
            Who::Auditor => ("Andy Auditor", "Second Opinion GmbH", "reviewer"),
        }
    }
    fn builder_id(self) -> &'static str {
        match self {
            Who::Vendor => "https://ci.vendor.example/app",
            _ => "https://rebuild.example/app",
        }
    }
}

/// One run of the story in its own temporary directory.
pub struct Story {
    pub tmp: tempfile::TempDir,
    /// Working directory of every command; keys, envelopes and artifacts live here.
    pub dir: PathBuf,
    pub glassbox: Glassbox,
    pub server: Option<Server>,
    pub url: String,
    pub vkey: String,
    pub data: PathBuf,
    pub repo: PathBuf,
    /// The commit the vendor releases.
    pub commit: String,
    /// Every receipt the log returned, in submission order.
    pub receipts: Vec<serde_json::Value>,
    /// Every envelope file submitted, in order (to replay on another log).
    pub submitted: Vec<String>,
}

impl Story {
    /// A server on a fresh data dir, the three participants' keys registered by the
    /// quickstart operator, and the project repository (commit C).
    pub fn begin() -> Story {
        let mut story = Story::bare();
        for who in [Who::Reviewer, Who::Vendor, Who::Rebuilder] {
            story.register(who);
        }
        story
    }

    /// A server on a fresh data dir and the project repository (commit C); nobody
    /// registered but the quickstart operator.
    pub fn bare() -> Story {
        let tmp = tempfile::tempdir().expect("temporary directory");
        let dir = tmp.path().canonicalize().expect("canonical temp dir");
        let data = dir.join("data");
        let server = Server::start(&data);
        let repo_dir = dir.join("app");
        let commit = repo::make_project(&repo_dir);
        Story {
            glassbox: Glassbox::new(&dir),
            url: server.url.clone(),
            vkey: server.vkey.clone(),
            server: Some(server),
            data,
            repo: repo_dir,
            commit,
            receipts: Vec::new(),
            submitted: Vec::new(),
            dir,
            tmp,
        }
    }

    /// [`Story::begin`], then the whole happy path for commit C: source submitted,
    /// approved by the reviewer, built and attested by vendor and rebuilder.
    pub fn happy() -> Story {
        let mut story = Story::begin();
        story.release();
        story
    }

    /// The key ID of a key file in the story's directory, as `glassbox key id` prints it.
    pub fn key_id(&self, key: &str) -> String {
        self.glassbox
            .ok(["key", "id", key])
            .split_whitespace()
            .next()
            .expect("key id")
            .to_owned()
    }

    /// The happy path for commit C with whoever is registered: source submitted by the
    /// vendor, approved by the reviewer, built and attested by vendor and rebuilder.
    pub fn release(&mut self) {
        let commit = self.commit.clone();
        self.submit_source(&commit);
        self.review(Who::Reviewer, &commit, "approved", REVIEWED_AT);
        self.build(Who::Vendor, &commit);
        self.build(Who::Rebuilder, &commit);
    }

    /// The quickstart operator key of the data dir.
    pub fn operator_key(&self) -> String {
        self.data.join("operator.pem").display().to_string()
    }

    /// The operator registers `who` with its role.
    pub fn register(&mut self, who: Who) {
        let (name, org, roles) = who.registration();
        let operator = self.operator_key();
        self.register_key(who.key(), name, org, roles, &operator, None);
    }

    /// `operator` (a key file) registers the key file `key` (generated if missing) as
    /// `name` of organisation `org` with `roles` (comma-separated), signed at `time`
    /// (default: now).
    pub fn register_key(
        &mut self,
        key: &str,
        name: &str,
        org: &str,
        roles: &str,
        operator: &str,
        time: Option<&str>,
    ) {
        if !self.dir.join(key).exists() {
            self.glassbox.ok(["key", "generate", "--out", key]);
        }
        let out = format!("register-{}.dsse.json", key.trim_end_matches(".pem"));
        let public = format!("{key}.pub");
        let mut args = vec![
            "attest",
            "key",
            "--register",
            &public,
            "--name",
            name,
            "--organisation",
            org,
            "--roles",
            roles,
            "--key",
            operator,
            "-o",
            &out,
        ];
        if let Some(time) = time {
            args.extend(["--time", time]);
        }
        self.glassbox.ok(args);
        self.submit(&out);
    }

    /// The operator revokes `who`'s key, optionally as compromised since `since`.
    pub fn revoke(&mut self, who: Who, since: Option<&str>) {
        let operator = self.operator_key();
        self.revoke_key(who.key(), since, &operator);
    }

    /// `operator` revokes the key file `key`, optionally as compromised since `since`.
    pub fn revoke_key(&mut self, key: &str, since: Option<&str>, operator: &str) {
        let out = format!("revoke-{}.dsse.json", key.trim_end_matches(".pem"));
        let public = format!("{key}.pub");
        let mut args = vec![
            "attest",
            "key",
            "--revoke",
            &public,
            "--reason",
            "key compromised",
            "--key",
            operator,
            "-o",
            &out,
        ];
        if let Some(since) = since {
            args.extend(["--compromised-since", since]);
        }
        self.glassbox.ok(args);
        self.submit(&out);
    }

    /// The vendor submits `commit` as release 1.0.
    pub fn submit_source(&mut self, commit: &str) {
        let out = format!("source-{}.dsse.json", &commit[..12]);
        self.glassbox.ok([
            "attest",
            "source",
            "--repo",
            "app",
            "--rev",
            commit,
            "--repository-url",
            REPOSITORY_URL,
            "--product",
            "app",
            "--version",
            "1.0",
            "--time",
            SUBMITTED_AT,
            "--key",
            Who::Vendor.key(),
            "-o",
            &out,
        ]);
        self.submit(&out);
    }

    /// `who` reviews `commit` with `verdict` (approved, rejected, …) at `time`.
    pub fn review(&mut self, who: Who, commit: &str, verdict: &str, time: &str) {
        self.review_with(who.key(), commit, verdict, time, &[]);
    }

    /// The key file `key` reviews `commit` with `verdict` at `time`; `extra` are more
    /// `attest review` flags (`--scope PATH`). Returns the envelope file.
    pub fn review_with(
        &mut self,
        key: &str,
        commit: &str,
        verdict: &str,
        time: &str,
        extra: &[&str],
    ) -> String {
        let out = self.attest_review(key, commit, verdict, time, extra);
        self.submit(&out);
        out
    }

    /// Makes (without submitting) the review envelope of [`Story::review_with`].
    pub fn attest_review(
        &mut self,
        key: &str,
        commit: &str,
        verdict: &str,
        time: &str,
        extra: &[&str],
    ) -> String {
        let out = format!(
            "review-{}-{verdict}-{}-{}.dsse.json",
            key.trim_end_matches(".pem"),
            &commit[..12],
            self.submitted.len()
        );
        let mut args = vec![
            "attest",
            "review",
            "--repo",
            "app",
            "--rev",
            commit,
            "--repository-url",
            REPOSITORY_URL,
            "--verdict",
            verdict,
            "--time",
            time,
            "--key",
            key,
            "-o",
            &out,
        ];
        args.extend_from_slice(extra);
        self.glassbox.ok(args);
        out
    }

    /// `who` builds `commit` with the recorded recipe in a fresh checkout (through
    /// `glassbox rebuild`), keeps the artifact as `<who>-<commit>.bin` and attests it.
    /// Returns the artifact's path.
    pub fn build(&mut self, who: Who, commit: &str) -> PathBuf {
        let artifact = self.build_only(who, commit);
        self.attest_build(who, commit, &artifact);
        artifact
    }

    /// Build `commit` as [`Story::build`] does, without attesting; the artifact path.
    pub fn build_only(&mut self, who: Who, commit: &str) -> PathBuf {
        let artifact = self
            .dir
            .join(format!("{}-{}.bin", who.name(), &commit[..12]));
        let scratch = self
            .dir
            .join(format!("build-{}-{}", who.name(), &commit[..12]));
        self.glassbox.ok([
            "rebuild",
            "--source",
            "app",
            "--rev",
            commit,
            "--command",
            BUILD_COMMAND,
            "--output-path",
            OUTPUT_PATH,
            "--timeout",
            "60",
            "--scratch",
            scratch.to_str().expect("UTF-8 path"),
        ]);
        std::fs::copy(scratch.join("source").join(OUTPUT_PATH), &artifact)
            .expect("copy the built artifact");
        artifact
    }

    /// `who` attests that `artifact` was built from `commit` with the project recipe.
    pub fn attest_build(&mut self, who: Who, commit: &str, artifact: &Path) {
        self.attest_build_with(who.key(), who.builder_id(), commit, artifact);
    }

    /// The key file `key` attests, as builder `builder_id`, that `artifact` was built
    /// from `commit` with the project recipe.
    pub fn attest_build_with(
        &mut self,
        key: &str,
        builder_id: &str,
        commit: &str,
        artifact: &Path,
    ) {
        let out = format!(
            "build-{}-{}-{}.dsse.json",
            key.trim_end_matches(".pem"),
            &commit[..12],
            self.submitted.len()
        );
        self.glassbox.ok([
            "attest",
            "build",
            "--artifact",
            artifact.to_str().expect("UTF-8 path"),
            "--artifact-name",
            "app",
            "--repo",
            "app",
            "--rev",
            commit,
            "--repository-url",
            REPOSITORY_URL,
            "--command",
            BUILD_COMMAND,
            "--output-path",
            OUTPUT_PATH,
            "--builder-id",
            builder_id,
            "--time",
            BUILT_AT,
            "--key",
            key,
            "-o",
            &out,
        ]);
        self.submit(&out);
    }

    /// The vendor's artifact of the released commit.
    pub fn artifact(&self) -> PathBuf {
        self.dir.join(format!("vendor-{}.bin", &self.commit[..12]))
    }

    /// Submit an envelope file to the current server: with `glassbox submit` when this
    /// build has it, else straight over HTTP.
    pub fn submit(&mut self, envelope: &str) {
        let receipt = if submit_command_available() {
            let receipt_file = format!("{envelope}.{}.receipt.json", self.receipts.len());
            self.glassbox.ok([
                "submit",
                envelope,
                "--server",
                &self.url,
                "-o",
                &receipt_file,
            ]);
            let bytes = std::fs::read(self.dir.join(&receipt_file)).expect("receipt written");
            serde_json::from_slice(&bytes).expect("receipt is JSON")
        } else {
            http::submit_file(&self.url, &self.dir.join(envelope)).expect("submit")
        };
        self.receipts.push(receipt);
        self.submitted.push(envelope.to_string());
    }

    /// Submit envelope files made earlier again (to the current server).
    pub fn submit_again(&mut self, envelopes: &[String]) {
        for envelope in envelopes {
            self.submit(envelope);
        }
    }

    /// A second, independent log — its own log key, the same operator — that accepted
    /// every envelope this story submitted, in the same order.
    pub fn replay_on_another_log(&self) -> Server {
        let operator_pub = format!("{}.pub", self.operator_key());
        let other = Server::start_with(
            &self.dir.join("other-data"),
            &["--operator-key", &operator_pub],
        );
        self.glassbox.ok([
            "attest",
            "key",
            "--register",
            &operator_pub,
            "--name",
            "Operator",
            "--organisation",
            "Other Log",
            "--roles",
            "operator",
            "--self-signed",
            "--key",
            &self.operator_key(),
            "-o",
            "other-genesis.dsse.json",
        ]);
        let post = |file: &str| {
            http::submit_file(&other.url, &self.dir.join(file)).expect("replay on the other log")
        };
        post("other-genesis.dsse.json");
        for envelope in &self.submitted {
            post(envelope);
        }
        other
    }

    /// Write the customer's trust policy (log vkey from the server's startup output;
    /// any registered reviewer, one approval; two agreeing builders) as `name`.
    pub fn write_policy(&self, name: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, policy_toml(&self.vkey)).expect("write policy");
        path
    }

    /// `glassbox verify FILE --policy policy.toml --server URL --state state ARGS…`.
    pub fn verify_online(&self, artifact: &Path, extra: &[&str]) -> Run {
        self.write_policy("policy.toml");
        let mut args = vec![
            "verify".to_string(),
            artifact.display().to_string(),
            "--policy".into(),
            "policy.toml".into(),
            "--server".into(),
            self.url.clone(),
            "--state".into(),
            "state".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        self.glassbox.run(args)
    }

    /// `glassbox verify --policy policy.toml --state state --server URL ARGS…`: the
    /// items and flags of a release verification in ARGS, the policy written by
    /// [`Story::write_policy`].
    pub fn verify_items(&self, args: &[&str]) -> Run {
        let mut all = vec![
            "verify",
            "--policy",
            "policy.toml",
            "--state",
            "state",
            "--server",
            &self.url,
        ];
        all.extend_from_slice(args);
        self.glassbox.run(all)
    }

    /// `glassbox verify FILE --policy POLICY --state state ARGS…` with a policy file the
    /// caller wrote (ARGS give `--server` or `--bundle`).
    pub fn verify_with(&self, artifact: &Path, policy: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "verify".to_string(),
            artifact.display().to_string(),
            "--policy".into(),
            policy.into(),
            "--state".into(),
            "state".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        self.glassbox.run(args)
    }

    /// `glassbox verify FILE --policy policy.toml --bundle BUNDLE --state state ARGS…`.
    pub fn verify_bundle(&self, artifact: &Path, bundle: &str, extra: &[&str]) -> Run {
        self.write_policy("policy.toml");
        let mut args = vec![
            "verify".to_string(),
            artifact.display().to_string(),
            "--policy".into(),
            "policy.toml".into(),
            "--bundle".into(),
            bundle.into(),
            "--state".into(),
            "state".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        self.glassbox.run(args)
    }

    /// `glassbox bundle --artifact sha256:… --server URL -o NAME` for `artifact`.
    pub fn fetch_bundle(&self, artifact: &Path, name: &str) {
        self.fetch_bundle_from(&self.url, artifact, name)
    }

    /// As [`Story::fetch_bundle`], from the server at `url`.
    pub fn fetch_bundle_from(&self, url: &str, artifact: &Path, name: &str) {
        let digest = self
            .glassbox
            .ok(["hash", "file", artifact.to_str().expect("UTF-8")]);
        let digest = digest
            .split_whitespace()
            .next()
            .expect("digest")
            .to_string();
        self.glassbox
            .ok(["bundle", "--artifact", &digest, "--server", url, "-o", name]);
    }

    /// Stop the server (SIGKILL); later commands that need it fail.
    pub fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
    }

    /// Switch to another server (e.g. one started on a copy of the data dir).
    pub fn use_server(&mut self, server: Server) {
        self.url = server.url.clone();
        self.server = Some(server);
    }
}

/// The trust policy of docs/design.md §6 for a log with verifier key `vkey`.
pub fn policy_toml(vkey: &str) -> String {
    format!(
        "[log]\nvkey = \"{vkey}\"\n\n[witnesses]\nvkeys = []\nquorum = 0\n\n\
         [reviewers]\nkeys = [\"*\"]\nmin = 1\n\n[builders]\nkeys = [\"*\"]\nmin = 2\nindependent = 1\n"
    )
}

/// Whether this build of `glassbox` has the `submit` command.
pub fn submit_command_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        Glassbox::new(dir.path()).run(["submit", "--help"]).code == Some(0)
    })
}
